//! Faults, proven (issue 18). Each test injects one fault, checks that the state before it
//! stays intact and searchable while it lasts and that the error reaches whoever must know,
//! then clears the fault and checks that the work is retried or resumed to completion.
//!
//! - a record whose analysis panics, and a record that stops the tantivy writer (the
//!   indexer's record failpoints): each is quarantined alone and the follower goes on;
//! - a failed store commit in the middle of a harvest, as a full disk (`store::commit`): the
//!   run is marked failed with "disk full", the page before it and its checkpoint stay, and
//!   the next run resumes from that checkpoint;
//! - a failed index commit, as a full disk (`index::commit`): the follower's watermark does
//!   not move, searches answer from the last commit, the follower reports why and retries,
//!   and catches up once the fault is gone;
//! - a failed image write, as a full disk (`images::write`), and a failed commit of a curated
//!   change: the API answers `507 insufficient_storage`, no file, temporary file or image
//!   link is left behind, and the same request succeeds afterwards;
//! - the image-link fetcher on a full disk (`images::write`): the link stays pending with
//!   the reason `disk_full`, and is fetched once the fault is gone.
//!
//! Failpoints (the `fail` crate) are process-wide, so every test here holds a
//! [`FailScenario`] for its whole length: the tests of this binary run one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{Method, Request, StatusCode, header};
use fail::FailScenario;
use indexer::{FAILPOINT_KILL, FAILPOINT_PANIC};
use jincheng::Instance;
use schemas::Record;
use serde_json::{Value, json};
use services::auth::{NewUser, Password, Role};
use services::config::Config;
use services::search::SearchParams;
use store::RunStatus;
use tower::ServiceExt;

const CONFIG: &str = r#"
[api]
rate_per_ip = "100000/s"

[[institutions]]
id = "lzlib"
name = "兰州市图书馆"
type = "library"
"#;

/// Generous: the machines that run this are small and shared.
const DEADLINE: Duration = Duration::from_secs(120);

fn open(data_dir: &Path, extra: &str) -> Instance {
    let mut config = Config::parse(&format!("{CONFIG}{extra}")).unwrap();
    config.data_dir = data_dir.to_path_buf();
    Instance::open(config).unwrap()
}

fn record(n: u32, title: &str) -> Record {
    Record::new(format!("import:{n}"), "lzlib", title)
}

async fn total(instance: &Instance, query: &str) -> usize {
    let params = SearchParams::parse(Some(&format!("q={query}&page_size=0&collapse=false"))).unwrap();
    let search = instance.state().search;
    tokio::task::spawn_blocking(move || search.search(&params.request).unwrap().results.total)
        .await
        .unwrap()
}

/// Polls `check` until it holds, or panics with `what` after [`DEADLINE`].
async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < DEADLINE, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_are_quarantined_alone_and_the_follower_goes_on() {
    let _faults = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let instance = open(dir.path(), "");
    let store = &instance.store;

    // A committed batch first: it must survive the faults that follow.
    store.import_records(&[record(1, "黄河铁桥")]).unwrap();
    assert!(
        instance
            .indexing
            .wait_for(store.max_seq().unwrap(), Duration::from_secs(60))
            .await
    );

    // Then good records around a panicking one and a writer-killing one, in one batch.
    store
        .import_records(&[
            record(2, "兰州牛肉面"),
            record(3, &format!("{FAILPOINT_PANIC} 一")),
            record(4, "敦煌壁画"),
            record(5, &format!("{FAILPOINT_KILL} 二")),
            record(6, "丝绸之路"),
        ])
        .unwrap();
    let last = store.max_seq().unwrap();
    assert!(
        instance.indexing.wait_for(last, Duration::from_secs(60)).await,
        "the follower got past the poison records"
    );
    for query in ["黄河铁桥", "兰州牛肉面", "敦煌壁画", "丝绸之路"] {
        assert_eq!(total(&instance, query).await, 1, "{query}");
    }
    assert_eq!(instance.indexing.index().num_docs(), 4);
    let quarantined = store.quarantine(Some("index"), 10).unwrap();
    let mut reasons: Vec<(String, String)> = quarantined
        .iter()
        .map(|q| (q.local_id.clone(), q.reason.clone()))
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, "import:3");
    assert!(reasons[0].1.contains("panicked"), "{reasons:?}");
    assert_eq!(reasons[1].0, "import:5");
    assert!(reasons[1].1.contains("stopped the index writer"), "{reasons:?}");
    // Nothing is lost from the store.
    assert!(store.record("import:5").unwrap().is_some());

    // Mended at the source, the record is indexed like any other.
    store.import_records(&[record(5, "二十四节气")]).unwrap();
    assert!(
        instance
            .indexing
            .wait_for(store.max_seq().unwrap(), Duration::from_secs(60))
            .await
    );
    assert_eq!(total(&instance, "二十四节气").await, 1);
    assert_eq!(instance.indexing.index().num_docs(), 5);
}

// ---------------------------------------------------------------------------------------
// The store commit: a harvest on a full disk.
// ---------------------------------------------------------------------------------------

/// The titles of the provider's two pages.
const PAGE_ONE: [&str; 3] = ["黄河铁桥", "白塔山公园", "五泉山"];
const PAGE_TWO: [&str; 3] = ["兰州牛肉面", "敦煌壁画", "丝绸之路"];

/// A two-page OAI-PMH provider; it notes every request's query.
#[derive(Clone, Default)]
struct Provider {
    requests: Arc<Mutex<Vec<String>>>,
}

fn oai_record(n: usize, title: &str) -> String {
    format!(
        r#"<record><header><identifier>oai:test:{n}</identifier><datestamp>2026-01-01T00:00:00Z</datestamp></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>{title}</dc:title><dc:type>图书</dc:type></oai_dc:dc></metadata></record>"#
    )
}

async fn list_records(
    State(provider): State<Provider>,
    Query(query): Query<Vec<(String, String)>>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    let token = query
        .iter()
        .find(|(k, _)| k == "resumptionToken")
        .map(|(_, v)| v.clone());
    provider.requests.lock().unwrap().push(format!("{query:?}"));
    let (records, next) = match token.as_deref() {
        None => (
            PAGE_ONE
                .iter()
                .enumerate()
                .map(|(i, t)| oai_record(i + 1, t))
                .collect::<String>(),
            r#"<resumptionToken completeListSize="6" cursor="0">page-two</resumptionToken>"#,
        ),
        Some(_) => (
            PAGE_TWO
                .iter()
                .enumerate()
                .map(|(i, t)| oai_record(i + 4, t))
                .collect::<String>(),
            r#"<resumptionToken completeListSize="6" cursor="3"/>"#,
        ),
    };
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-02T00:00:00Z</responseDate>
<request verb="ListRecords">http://127.0.0.1/oai</request><ListRecords>{records}{next}</ListRecords></OAI-PMH>"#
    );
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body)
}

async fn start_provider(provider: &Provider) -> String {
    let app = Router::new()
        .route("/oai", axum::routing::get(list_records))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/oai")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_harvest_on_a_full_disk_fails_keeps_its_last_page_and_resumes_from_it() {
    let _faults = FailScenario::setup();
    let provider = Provider::default();
    let url = start_provider(&provider).await;
    let dir = tempfile::tempdir().unwrap();
    let instance = open(
        dir.path(),
        &format!(
            "\n[[sources]]\nid = \"test-oai\"\ninstitution = \"lzlib\"\nprotocol = \"oai-pmh\"\nurl = \"{url}\"\n"
        ),
    );
    let store = &instance.store;
    let source = instance.config.sources[0].clone();

    // The first page commits; the second finds the disk full. The fault is set once the first
    // page is stored (not by counting commits: background tasks commit too).
    let run = instance
        .harvest(&source, |_| fail::cfg("store::commit", "return(full)").unwrap())
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let reason = run.error.clone().unwrap_or_default();
    assert!(reason.contains("disk full"), "the run says why: {reason}");
    assert_eq!((run.pages, run.counts.added), (1, 3), "{run:?}");
    // Nothing of the second page is stored, and the checkpoint is the one after page one.
    let checkpoint = store.checkpoint("test-oai").unwrap();
    assert_eq!(checkpoint.resumption_token.as_deref(), Some("page-two"));
    for n in 1..=3 {
        assert!(
            store.record(&format!("test-oai:oai:test:{n}")).unwrap().is_some(),
            "{n}"
        );
    }
    for n in 4..=6 {
        assert!(
            store.record(&format!("test-oai:oai:test:{n}")).unwrap().is_none(),
            "{n}"
        );
    }
    // The first page is searchable while the disk is still full.
    instance.wait_indexed(DEADLINE).await.unwrap();
    for title in PAGE_ONE {
        assert_eq!(total(&instance, title).await, 1, "{title}");
    }
    let runs = store.runs(Some("test-oai"), 10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);

    // Space again: the next run resumes at page two (it does not start over) and completes.
    fail::remove("store::commit");
    let requests_before = provider.requests.lock().unwrap().len();
    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(run.status, RunStatus::Complete, "{run:?}");
    assert!(run.resumed, "{run:?}");
    assert_eq!((run.pages, run.counts.added), (1, 3), "{run:?}");
    let requests = provider.requests.lock().unwrap()[requests_before..].to_vec();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].contains("page-two"), "{requests:?}");
    assert_eq!(store.checkpoint("test-oai").unwrap().resumption_token, None);
    instance.wait_indexed(DEADLINE).await.unwrap();
    for title in PAGE_ONE.iter().chain(&PAGE_TWO) {
        assert_eq!(total(&instance, title).await, 1, "{title}");
    }
}

// ---------------------------------------------------------------------------------------
// The index commit.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_index_commit_keeps_the_old_index_answering_and_the_follower_catches_up() {
    let _faults = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let instance = open(dir.path(), "");
    let store = &instance.store;
    store.import_records(&[record(1, "黄河铁桥")]).unwrap();
    let before = store.max_seq().unwrap();
    assert!(instance.indexing.wait_for(before, DEADLINE).await);

    fail::cfg("index::commit", "return(full)").unwrap();
    store.import_records(&[record(2, "敦煌壁画")]).unwrap();
    let after = store.max_seq().unwrap();
    instance.indexing.wake();
    let indexing = instance.indexing.clone();
    eventually("the follower reports the failed commit", || {
        let failure = indexing.failure();
        async move { failure.is_some() }
    })
    .await;
    let failure = instance.indexing.failure().unwrap();
    assert!(failure.contains("no space left on device"), "{failure}");
    // The watermark did not move, in the follower or in the index's last commit, and the
    // index answers from that commit.
    assert_eq!(instance.indexing.watermark(), before);
    assert_eq!(instance.indexing.index().watermark().unwrap(), before);
    assert_eq!(total(&instance, "黄河铁桥").await, 1);
    assert_eq!(total(&instance, "敦煌壁画").await, 0);
    // The change is safe in the store.
    assert!(store.record("import:2").unwrap().is_some());

    // The fault clears: the follower retries by itself and catches up.
    fail::remove("index::commit");
    assert!(
        instance.indexing.wait_for(after, DEADLINE).await,
        "the follower caught up after the fault"
    );
    assert_eq!(instance.indexing.index().watermark().unwrap(), after);
    assert_eq!(total(&instance, "黄河铁桥").await, 1);
    assert_eq!(total(&instance, "敦煌壁画").await, 1);
    assert_eq!(instance.indexing.failure(), None);
}

// ---------------------------------------------------------------------------------------
// Curated records and their images on a full disk.
// ---------------------------------------------------------------------------------------

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Value, Vec<String>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        cookies,
    )
}

fn json_request(method: Method, path: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

/// A curator of `lzlib` and a bearer token for them.
async fn curator_token(instance: &Instance, router: &Router) -> String {
    services::auth::accounts::create_user(
        &instance.store,
        &NewUser {
            username: "curator".into(),
            password: Password::new("a long enough password"),
            role: Role::Curator,
            institutions: vec!["lzlib".into()],
        },
    )
    .unwrap();
    let login = json!({"username": "curator", "password": "a long enough password"});
    let (status, body, cookies) = send(
        router,
        json_request(Method::POST, "/api/v1/auth/login", None, &login),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("jincheng_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut request = json_request(
        Method::POST,
        "/api/v1/auth/tokens",
        None,
        &json!({"name": "faults"}),
    );
    request
        .headers_mut()
        .insert(header::COOKIE, cookie.parse().unwrap());
    request.headers_mut().insert(
        "x-csrf-token",
        body["csrf_token"].as_str().unwrap().parse().unwrap(),
    );
    let (status, body, _) = send(router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().unwrap().to_string()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

fn upload_request(id: &str, token: &str, file: &[u8]) -> Request<Body> {
    const BOUNDARY: &str = "jincheng-faults-boundary";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\n黄河铁桥的照片\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/curate/records/{id}/images"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body))
        .unwrap()
}

/// Every file under `dir` (none if it does not exist).
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path.display().to_string());
            }
        }
    }
    files.sort();
    files
}

fn assert_insufficient_storage(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_storage", "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("disk is full"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn curated_writes_on_a_full_disk_answer_507_leave_nothing_behind_and_succeed_when_retried() {
    let _faults = FailScenario::setup();
    let dir = tempfile::tempdir().unwrap();
    let instance = open(dir.path(), "");
    let router = instance.router();
    let token = curator_token(&instance, &router).await;
    let images_dir = services::curate::images::images_dir(dir.path());

    let create = json!({"institution": "lzlib", "title": "黄河铁桥", "resource_type": "artefact"});
    let (status, created, _) = send(
        &router,
        json_request(
            Method::POST,
            "/api/v1/curate/records?wait=true",
            Some(&token),
            &create,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    instance.wait_indexed(DEADLINE).await.unwrap();
    assert_eq!(total(&instance, "黄河铁桥").await, 1);

    // 1. A store commit on a full disk: a new record is refused with a clear 507, and nothing
    //    of it is stored.
    fail::cfg("store::commit", "return(full)").unwrap();
    let second = json!({"institution": "lzlib", "title": "白塔山公园", "resource_type": "artefact"});
    let seq_before = instance.store.max_seq().unwrap();
    let (status, body, _) = send(
        &router,
        json_request(Method::POST, "/api/v1/curate/records", Some(&token), &second),
    )
    .await;
    assert_insufficient_storage(status, &body);
    assert_eq!(
        instance.store.max_seq().unwrap(),
        seq_before,
        "nothing was written"
    );
    assert_eq!(
        total(&instance, "黄河铁桥").await,
        1,
        "the record before is still found"
    );
    fail::remove("store::commit");
    let (status, body, _) = send(
        &router,
        json_request(
            Method::POST,
            "/api/v1/curate/records?wait=true",
            Some(&token),
            &second,
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the same request succeeds later: {body}"
    );
    assert_eq!(total(&instance, "白塔山公园").await, 1);

    // 2. An image write on a full disk: the display size is written, the thumbnail finds the
    //    disk full. The curator gets a clear 507; no file, no temporary file and no image link
    //    is left.
    let picture = png(300, 200);
    fail::cfg("images::write", "1*off->return(full)").unwrap();
    let (status, body, _) = send(&router, upload_request(&id, &token, &picture)).await;
    assert_insufficient_storage(status, &body);
    assert_eq!(
        files_under(&images_dir),
        Vec::<String>::new(),
        "nothing is left behind"
    );
    let row = instance.store.curated(&id).unwrap().unwrap();
    assert!(row.state.images.is_empty(), "{:?}", row.state.images);
    assert_eq!(total(&instance, "黄河铁桥").await, 1, "the record is still found");

    // The fault clears: the same upload succeeds, and both sizes are in place.
    fail::remove("images::write");
    let (status, body, _) = send(&router, upload_request(&id, &token, &picture)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let row = instance.store.curated(&id).unwrap().unwrap();
    assert_eq!(row.state.images.len(), 1);
    let hash = &row.state.images[0].hash;
    let files = files_under(&images_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    for variant in [
        services::curate::images::Variant::Display,
        services::curate::images::Variant::Thumb,
    ] {
        let path = services::curate::images::variant_path(&images_dir, hash, variant);
        assert!(files.contains(&path.display().to_string()), "{files:?}");
    }
    for (uri, expected) in [
        (format!("/images/{hash}/display.jpg"), StatusCode::OK),
        (format!("/images/{hash}/thumb.jpg"), StatusCode::OK),
    ] {
        let response = router
            .clone()
            .oneshot(Request::builder().uri(&uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{uri}");
    }
}

// ---------------------------------------------------------------------------------------
// The image-link fetcher on a full disk.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn the_image_link_fetcher_on_a_full_disk_records_why_and_fetches_again_later() {
    let _faults = FailScenario::setup();
    let picture = png(300, 200);
    let hits = Arc::new(Mutex::new(0usize));
    let museum = {
        let hits = Arc::clone(&hits);
        Router::new()
            .route(
                "/a.png",
                axum::routing::get(move || {
                    let (hits, picture) = (Arc::clone(&hits), picture.clone());
                    async move {
                        *hits.lock().unwrap() += 1;
                        ([(header::CONTENT_TYPE, "image/png")], picture)
                    }
                }),
            )
            .route(
                "/records.csv",
                axum::routing::get(|State(base): State<String>| async move {
                    format!("编号,名称,图片\nM1,黄河铁桥,{base}/a.png\n")
                }),
            )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let museum = museum.with_state(base.clone());
    tokio::spawn(async move { axum::serve(listener, museum).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let instance = open(
        dir.path(),
        &format!(
            r#"
[curation.remote_images]
max_attempts = 5
retry_after = "1s"
allow_internal_addresses = true

[[sources]]
id = "museum-csv"
institution = "lzlib"
protocol = "csv"
url = "{base}/records.csv"
id_field = "编号"
resource_type = "artefact"
[sources.mapping]
title = "名称"
images = "图片"
"#
        ),
    );
    let images_dir = services::curate::images::images_dir(dir.path());
    let source = instance.config.sources[0].clone();

    fail::cfg("images::write", "return(full)").unwrap();
    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(
        run.status,
        RunStatus::Complete,
        "a link never fails a harvest: {run:?}"
    );
    let store = Arc::clone(&instance.store);
    eventually("the failed attempt is recorded", || {
        let links = store.remote_images(None, 10, 0).unwrap();
        async move { links.iter().any(|l| l.attempts > 0) }
    })
    .await;
    let links = instance.store.remote_images(None, 10, 0).unwrap();
    assert_eq!(links.len(), 1, "{links:?}");
    let link = &links[0];
    assert_eq!(link.state, store::remote_images::ImageState::Pending, "{link:?}");
    assert_eq!(link.reason_code.as_deref(), Some("disk_full"), "{link:?}");
    assert!(link.hash.is_none(), "{link:?}");
    assert_eq!(
        files_under(&images_dir),
        Vec::<String>::new(),
        "nothing is left behind"
    );
    instance.wait_indexed(DEADLINE).await.unwrap();
    assert_eq!(
        total(&instance, "黄河铁桥").await,
        1,
        "the record is found meanwhile"
    );

    // Space again: the next attempt fetches and stores both sizes.
    fail::remove("images::write");
    eventually("the link is fetched after the fault", || {
        let counts = store.remote_image_counts().unwrap();
        async move { counts.fetched == 1 }
    })
    .await;
    let link = instance.store.remote_images(None, 10, 0).unwrap().remove(0);
    assert_eq!(link.reason_code, None, "{link:?}");
    let hash = link.hash.unwrap();
    assert!(*hits.lock().unwrap() >= 2, "fetched again");
    for variant in [
        services::curate::images::Variant::Display,
        services::curate::images::Variant::Thumb,
    ] {
        assert!(services::curate::images::variant_path(&images_dir, &hash, variant).is_file());
    }
    assert_eq!(files_under(&images_dir).len(), 2);
}
