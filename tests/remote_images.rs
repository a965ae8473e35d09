//! Harvested records' image links are fetched in the background, under the same limits as
//! curators' uploads and the harvest's address policy, and served as local thumbnails.
//!
//! A loopback "museum" serves a CSV export whose records link a real PNG, a decompression
//! bomb (a PNG header claiming 100000×100000 pixels), a text file named `.jpg` and a missing
//! file. No internet is used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::RunStatus;
use store::remote_images::ImageState;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

use jincheng::Instance;
use serde_json::Value;
use services::auth::{NewUser, Password, Role};
use services::config::Config;
use tower::ServiceExt;

/// A served file: content type and bytes, by name.
type Files = HashMap<String, (&'static str, Vec<u8>)>;

/// What the loopback museum serves, and how often each file was asked for.
#[derive(Clone, Default)]
struct Museum {
    files: Arc<Mutex<Files>>,
    /// Requests for `held.png` wait for this before they are answered.
    release: Arc<tokio::sync::Notify>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Museum {
    fn serve(&self, name: &str, content_type: &'static str, bytes: Vec<u8>) {
        self.files
            .lock()
            .unwrap()
            .insert(name.to_string(), (content_type, bytes));
    }

    fn hits(&self, name: &str) -> usize {
        self.hits.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

async fn museum_file(State(museum): State<Museum>, Path(name): Path<String>) -> Response {
    *museum.hits.lock().unwrap().entry(name.clone()).or_default() += 1;
    if name == "held.png" {
        museum.release.notified().await;
    }
    let file = museum.files.lock().unwrap().get(&name).cloned();
    match file {
        Some((content_type, bytes)) => ([(header::CONTENT_TYPE, content_type)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Starts the museum on a loopback port; returns its base URL.
async fn start_museum(museum: &Museum) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .route("/{name}", axum::routing::get(museum_file))
        .with_state(museum.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// A real 600×400 PNG.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A valid PNG header claiming 100000×100000 RGB pixels (30 GB decoded) over a few bytes.
fn png_bomb() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn config(data_dir: &std::path::Path, csv_url: &str, allow_internal: bool) -> Config {
    let mut config = Config::parse(&format!(
        r#"
[api]
rate_per_ip = "100000/s"

[curation.remote_images]
concurrency = 2
max_attempts = 3
allow_internal_addresses = {allow_internal}

[[institutions]]
id = "lzmuseum"
name = "兰州市博物馆"
type = "museum"

[[sources]]
id = "museum-csv"
institution = "lzmuseum"
protocol = "csv"
url = "{csv_url}"
id_field = "编号"
resource_type = "artefact"
[sources.mapping]
title = "名称"
images = "图片"
"#
    ))
    .unwrap();
    config.data_dir = data_dir.to_path_buf();
    config
}

async fn send(instance: &Instance, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = instance.router().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, body.to_vec())
}

async fn get(
    instance: &Instance,
    uri: &str,
    cookie: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(instance, request.body(Body::empty()).unwrap()).await
}

async fn get_json(instance: &Instance, uri: &str, cookie: Option<&str>) -> (StatusCode, Value) {
    let (status, _, body) = get(instance, uri, cookie).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Waits until the fetcher has nothing pending.
async fn wait_settled(instance: &Instance) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let counts = instance.store.remote_image_counts().unwrap();
        if counts.pending == 0 && counts.fetched + counts.failed > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "image links still pending: {counts:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An admin's session cookie.
async fn admin_cookie(instance: &Instance) -> String {
    services::auth::accounts::create_user(
        &instance.store,
        &NewUser {
            username: "admin".into(),
            password: Password::new("a long enough password"),
            role: Role::Admin,
            institutions: vec![],
        },
    )
    .unwrap();
    let request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"username": "admin", "password": "a long enough password"}"#,
        ))
        .unwrap();
    let (status, headers, _) = send(instance, request).await;
    assert_eq!(status, StatusCode::OK);
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("jincheng_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn harvested_image_links_become_local_thumbnails_and_bad_ones_are_reported() {
    let museum = Museum::default();
    let base = start_museum(&museum).await;
    let csv = format!(
        "编号,名称,图片\n\
         1,铜奔马,{base}/horse.png\n\
         2,炸弹图,{base}/bomb.png\n\
         3,伪装图,{base}/fake.jpg\n\
         4,遗失图,{base}/missing.jpg\n\
         5,无图藏品,\n\
         6,慢图,{base}/held.png\n"
    );
    museum.serve("objects.csv", "text/csv; charset=utf-8", csv.into_bytes());
    museum.serve("horse.png", "image/png", png(600, 400));
    museum.serve("bomb.png", "image/png", png_bomb());
    museum.serve("fake.jpg", "image/jpeg", b"<html>not an image</html>".to_vec());
    museum.serve("held.png", "image/png", png(32, 32));
    let csv_url = format!("{base}/objects.csv");
    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), &csv_url, true)).unwrap();
    let source = instance.config.sources[0].clone();

    // The harvest itself is unaffected by what the links hold.
    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(run.status, RunStatus::Complete, "{run:?}");
    assert_eq!((run.counts.added, run.counts.quarantined), (6, 0), "{run:?}");
    assert!(run.error.is_none());

    // While one image request hangs, harvests and searches go on undisturbed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while museum.hits("held.png") == 0 {
        assert!(Instant::now() < deadline, "held.png was never asked for");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let again = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!((again.status.as_str(), again.counts.unchanged), ("complete", 6));
    instance.wait_indexed(Duration::from_secs(30)).await.unwrap();
    let (status, search) = get_json(&instance, "/api/v1/search?q=%E6%85%A2%E5%9B%BE", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        search["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == "museum-csv:6"),
        "{search}"
    );
    let pending = instance
        .store
        .remote_images(Some(ImageState::Pending), 10, 0)
        .unwrap();
    assert!(
        pending.iter().any(|i| i.url.ends_with("/held.png")),
        "held.png is still in flight: {pending:?}"
    );
    museum.release.notify_one();

    wait_settled(&instance).await;
    instance.wait_indexed(Duration::from_secs(30)).await.unwrap();

    // The record keeps its original link and points at the local copies.
    let (status, record) = get_json(&instance, "/api/v1/records/museum-csv:1", None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let image = &record["images"][0];
    assert_eq!(image["url"], format!("{base}/horse.png"));
    let thumb_url = image["thumb_url"].as_str().expect("thumb_url").to_string();
    let display_url = image["display_url"].as_str().expect("display_url").to_string();
    assert!(thumb_url.starts_with("/images/") && thumb_url.ends_with("/thumb.jpg"));
    for (url, longest_side) in [(&thumb_url, 240), (&display_url, 600)] {
        let (status, headers, bytes) = get(&instance, url, None).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let etag = headers[header::ETAG].to_str().unwrap().to_string();
        let decoded = image::load_from_memory(&bytes).unwrap();
        assert_eq!(decoded.width().max(decoded.height()), longest_side, "{url}");
        let request = Request::get(url.as_str())
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&instance, request).await.0, StatusCode::NOT_MODIFIED);
    }
    // The records whose links failed keep them, without local copies.
    let (_, bomb) = get_json(&instance, "/api/v1/records/museum-csv:2", None).await;
    assert_eq!(bomb["images"][0]["url"], format!("{base}/bomb.png"));
    assert!(bomb["images"][0].get("thumb_url").is_none(), "{bomb}");

    // The search hit and the results page show the local thumbnail.
    let (status, search) = get_json(&instance, "/api/v1/search?q=%E9%93%9C%E5%A5%94%E9%A9%AC", None).await;
    assert_eq!(status, StatusCode::OK);
    let hit = search["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "museum-csv:1")
        .expect("the horse is found");
    assert_eq!(hit["thumbnail"]["thumb_url"], thumb_url.as_str());
    assert_eq!(hit["thumbnail"]["display_url"], display_url.as_str());
    let (_, search) = get_json(&instance, "/api/v1/search?q=%E5%A4%B1", None).await;
    assert!(
        search["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.get("thumbnail").is_none()),
        "{search}"
    );
    let (_, _, page) = get(&instance, "/search?q=%E9%93%9C%E5%A5%94%E9%A9%AC", None).await;
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains(&format!("src=\"{thumb_url}\"")),
        "results page uses the local thumbnail"
    );
    let (_, _, page) = get(&instance, "/records/museum-csv:1", None).await;
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains(&format!("src=\"{display_url}\"")),
        "record page uses the local copy"
    );

    // The admins see each failure with its reason.
    let (status, _) = get_json(&instance, "/api/v1/admin/images?state=failed", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let cookie = admin_cookie(&instance).await;
    let (status, failed) = get_json(&instance, "/api/v1/admin/images?state=failed", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK, "{failed}");
    assert_eq!(failed["counts"]["fetched"], 2, "{failed}");
    assert_eq!(failed["counts"]["failed"], 3, "{failed}");
    assert_eq!(failed["counts"]["pending"], 0, "{failed}");
    let reasons: HashMap<String, (String, String)> = failed["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                (
                    i["reason_code"].as_str().unwrap().to_string(),
                    i["record_id"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(reasons["bomb.png"].0, "too_large", "{failed}");
    assert_eq!(reasons["fake.jpg"].0, "not_an_image", "{failed}");
    assert_eq!(reasons["missing.jpg"].0, "not_found", "{failed}");
    assert_eq!(reasons["missing.jpg"].1, "museum-csv:4");
    let (status, _) = get_json(&instance, "/api/v1/admin/images?state=lost", Some(&cookie)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Final failures are not retried: each link was asked for once.
    for name in ["horse.png", "bomb.png", "fake.jpg", "missing.jpg", "held.png"] {
        assert_eq!(museum.hits(name), 1, "{name}");
    }

    // Another harvest of the same export fetches nothing again.
    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!((run.status.as_str(), run.counts.unchanged), ("complete", 6));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(museum.hits("horse.png"), 1);
    instance.indexing.shutdown();
}

#[tokio::test(flavor = "multi_thread")]
async fn links_to_internal_addresses_are_refused_by_default() {
    let museum = Museum::default();
    museum.serve("horse.png", "image/png", png(64, 64));
    let base = start_museum(&museum).await;
    let port = base.rsplit(':').next().unwrap().to_string();
    // The export itself is configured by an administrator and may be on the local network;
    // the links inside it are the source's data, and must not reach internal addresses.
    let export = tempfile::tempdir().unwrap();
    let csv_path = export.path().join("objects.csv");
    std::fs::write(
        &csv_path,
        format!(
            "编号,名称,图片\n1,环回地址,http://127.0.0.1:{port}/horse.png\n2,本机名,http://localhost:{port}/horse.png\n3,元数据地址,http://169.254.169.254/latest/meta-data\n"
        ),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), "http://unused.invalid/", false);
    config.sources[0].url = None;
    config.sources[0].path = Some(csv_path);
    let instance = Instance::open(config).unwrap();
    let source = instance.config.sources[0].clone();
    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(
        (run.status.as_str(), run.counts.added),
        ("complete", 3),
        "{run:?}"
    );

    wait_settled(&instance).await;
    let failed = instance
        .store
        .remote_images(Some(ImageState::Failed), 10, 0)
        .unwrap();
    assert_eq!(failed.len(), 3, "{failed:?}");
    for image in &failed {
        assert_eq!(image.reason_code.as_deref(), Some("address_refused"), "{image:?}");
        assert_eq!(image.attempts, 1, "a refusal is final: {image:?}");
    }
    assert_eq!(
        museum.hits("horse.png"),
        0,
        "no request reached the internal server"
    );
    let (_, record) = get_json(&instance, "/api/v1/records/museum-csv:1", None).await;
    assert_eq!(
        record["images"][0]["url"],
        format!("http://127.0.0.1:{port}/horse.png")
    );
    assert!(record["images"][0].get("thumb_url").is_none());
    instance.indexing.shutdown();
}

/// Two nodes on one PostgreSQL store (issue #17), each with its own data directory: a link
/// fetched by node A is served by node B, which never fetched it (its fetcher is off), from
/// the bytes A put in the store, and B keeps them as its own file.
#[tokio::test(flavor = "multi_thread")]
async fn a_link_fetched_on_one_node_is_served_by_another_sharing_the_store() {
    use services::curate::images::{Variant, variant_path};
    let museum = Museum::default();
    let base = start_museum(&museum).await;
    museum.serve(
        "objects.csv",
        "text/csv; charset=utf-8",
        format!("编号,名称,图片\n1,铜奔马,{base}/horse.png\n").into_bytes(),
    );
    museum.serve("horse.png", "image/png", png(600, 400));
    let csv_url = format!("{base}/objects.csv");
    let database = store::test_cluster::database();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut config_a = config(dir_a.path(), &csv_url, true);
    config_a.store.url = Some(database.clone());
    let node_a = Instance::open(config_a).unwrap();
    let mut config_b = config(dir_b.path(), &csv_url, true);
    config_b.store.url = Some(database);
    config_b.curation.remote_images.enabled = false;
    let node_b = Instance::open(config_b).unwrap();

    let source = node_a.config.sources[0].clone();
    let run = node_a.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(run.status, RunStatus::Complete, "{run:?}");
    wait_settled(&node_a).await;
    assert_eq!(museum.hits("horse.png"), 1);

    let (status, record) = get_json(&node_b, "/api/v1/records/museum-csv:1", None).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let image = &record["images"][0];
    for (variant, url) in [
        (Variant::Thumb, &image["thumb_url"]),
        (Variant::Display, &image["display_url"]),
    ] {
        let url = url.as_str().expect("B points at the local copy");
        let hash = url.split('/').nth(2).unwrap();
        let on_a = std::fs::read(variant_path(&dir_a.path().join("images"), hash, variant)).unwrap();
        let cached = variant_path(&dir_b.path().join("images"), hash, variant);
        assert!(!cached.exists(), "B has no file of {url} before it is asked");
        let (status, headers, bytes) = get(&node_b, url, None).await;
        assert_eq!(status, StatusCode::OK, "{url} on B");
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(bytes, on_a, "{url}: B serves A's bytes");
        assert_eq!(std::fs::read(&cached).unwrap(), on_a, "{url}: B keeps them");
    }
    assert_eq!(museum.hits("horse.png"), 1, "B fetched nothing itself");
    node_a.indexing.shutdown();
    node_b.indexing.shutdown();
}
