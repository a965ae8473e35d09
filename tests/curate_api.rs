//! Curator accounts and curated records (issue 5), end to end through the router
//! (`tower::ServiceExt::oneshot`, no socket) and, for the visibility measurement, through a
//! loopback server harvesting the bundled demo collections at the same time.
//!
//! Images are generated in code; the only crafted bytes are a PNG header (the bomb) and an
//! EXIF segment spliced into a JPEG.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::time::{Duration, Instant};
use store::RunStatus;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use jincheng::Instance;
use serde_json::{Value, json};
use services::auth::{NewUser, Password, Principal, Role};
use services::config::Config;
use store::curated::CuratedImage;
use store::{Checkpoint, Incoming};
use tower::ServiceExt;

const PASSWORD: &str = "a long enough password";
const MUSEUM: &str = "lzmuseum";
const LIBRARY: &str = "lzlib";
const HARVESTED: &str = "lzlib-oai:h1";

fn config(data_dir: &std::path::Path) -> Config {
    let mut config = Config::parse(&format!(
        r#"
[api]
rate_per_ip = "100000/s"

[[institutions]]
id = "{MUSEUM}"
name = "兰州市博物馆"
type = "museum"

[[institutions]]
id = "{LIBRARY}"
name = "兰州市图书馆"
type = "library"
"#
    ))
    .unwrap();
    config.data_dir = data_dir.to_path_buf();
    config
}

/// An instance with three accounts (curator of the museum, curator of the library, admin)
/// and one harvested record.
struct Harness {
    _dir: tempfile::TempDir,
    instance: Instance,
    router: Router,
}

impl Harness {
    fn new() -> Harness {
        Harness::with_timeout(None)
    }

    /// A harness whose server answers `503 timeout` after `request_timeout`.
    fn with_timeout(request_timeout: Option<Duration>) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        if let Some(timeout) = request_timeout {
            config.server.request_timeout = timeout;
        }
        Harness::with_config(dir, config)
    }

    /// A harness whose store is the PostgreSQL database at `url` (`[store] url`), which
    /// other instances may share; its data directory is its own.
    fn on_database(url: &str) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        config.store.url = Some(url.to_string());
        Harness::with_config(dir, config)
    }

    fn with_config(dir: tempfile::TempDir, config: Config) -> Harness {
        let instance = Instance::open(config).unwrap();
        for (username, role, institutions) in [
            ("cur-a", Role::Curator, vec![MUSEUM.to_string()]),
            ("cur-b", Role::Curator, vec![LIBRARY.to_string()]),
            ("admin", Role::Admin, vec![]),
        ] {
            services::auth::accounts::create_user(
                &instance.store,
                &NewUser {
                    username: username.into(),
                    password: Password::new(PASSWORD),
                    role,
                    institutions,
                },
            )
            .unwrap();
        }
        let store = &instance.store;
        let run = store.start_run("lzlib-oai", false).unwrap();
        let record = schemas::Record::new(HARVESTED, LIBRARY, "收获的记录");
        store
            .apply_page(
                run,
                "lzlib-oai",
                LIBRARY,
                &[Incoming::Record {
                    record: Box::new(record),
                    datestamp: "2024-01-01T00:00:00Z".into(),
                    raw: "<r/>".into(),
                }],
                &Checkpoint::default(),
            )
            .unwrap();
        store.finish_run(run, None).unwrap();
        let router = instance.router();
        Harness {
            _dir: dir,
            instance,
            router,
        }
    }

    /// The principal of `username`, for fixtures made through the service directly.
    fn principal(&self, username: &str) -> Principal {
        let (user, _) = self.instance.store.user_credentials(username).unwrap().unwrap();
        Principal {
            user_id: user.id,
            username: user.username,
            role: user.role.parse().unwrap(),
            institutions: user.institutions.into_iter().collect(),
            method: services::auth::AuthMethod::Token { id: 0 },
        }
    }

    /// A fresh curated record of `institution` with one (placeholder) image; returns its id.
    fn fixture(&self, institution: &str) -> String {
        let admin = self.principal("admin");
        let store = &self.instance.store;
        let created = services::curate::create(
            store,
            &admin,
            json!({"institution": institution, "title": "夹具记录", "resource_type": "artefact"}),
        )
        .unwrap();
        let id = created.row.id;
        let image = CuratedImage {
            hash: "ab".repeat(32),
            alt: "占位图".into(),
            width: 1,
            height: 1,
        };
        services::curate::add_image(store, &admin, &id, None, image).unwrap();
        self.instance.indexing.wake();
        id
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body.to_vec())
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        self.call_with(method, path, auth, body, &[]).await
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let mut builder = Request::builder().method(method).uri(path);
        builder = auth.apply(builder);
        for (name, value) in extra {
            builder = builder.header(*name, *value);
        }
        let request = match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => builder.body(Body::empty()),
        }
        .unwrap();
        let (status, headers, bytes) = self.send(request).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, json)
    }

    async fn login(&self, username: &str, password: &str) -> (StatusCode, HeaderMap, Value) {
        self.call(
            Method::POST,
            "/api/v1/auth/login",
            &Auth::Anonymous,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }

    /// Logs in and creates a bearer token.
    async fn token(&self, username: &str) -> Auth {
        let session = self.session(username).await;
        let (status, _, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/tokens",
                &session,
                Some(json!({"name": "tests"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        Auth::Bearer(body["token"].as_str().unwrap().to_string())
    }

    async fn session(&self, username: &str) -> Auth {
        let (status, headers, body) = self.login(username, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let cookies: Vec<&str> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("jincheng_session="))
            .unwrap();
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        let cookie = session.split(';').next().unwrap().to_string();
        Auth::Session {
            cookie,
            csrf: Some(body["csrf_token"].as_str().unwrap().to_string()),
        }
    }

    async fn etag_of(&self, id: &str, auth: &Auth) -> String {
        let (status, headers, body) = self
            .call(Method::GET, &format!("/api/v1/curate/records/{id}"), auth, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        headers[header::ETAG].to_str().unwrap().to_string()
    }
}

#[derive(Clone)]
enum Auth {
    Anonymous,
    Bearer(String),
    Session { cookie: String, csrf: Option<String> },
}

impl Auth {
    fn apply(&self, builder: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            Auth::Anonymous => builder,
            Auth::Bearer(token) => builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
            Auth::Session { cookie, csrf } => {
                let builder = builder.header(header::COOKIE, cookie.as_str());
                match csrf {
                    Some(csrf) => builder.header("x-csrf-token", csrf.as_str()),
                    None => builder,
                }
            }
        }
    }
}

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

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, 120, (y % 256) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

const BOUNDARY: &str = "jincheng-test-boundary";

fn multipart(file: &[u8], file_name: &str, content_type: &str, alt: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    if let Some(alt) = alt {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\n{alt}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl Harness {
    async fn upload(&self, id: &str, auth: &Auth, body: Vec<u8>) -> (StatusCode, Value) {
        let builder = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/curate/records/{id}/images"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header(header::CONTENT_LENGTH, body.len());
        let request = auth.apply(builder).body(Body::from(body)).unwrap();
        let (status, _, bytes) = self.send(request).await;
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

// ---------------------------------------------------------------------------------------
// The authorisation matrix: every route × role × owner.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Owner {
    A,
    B,
    Harvested,
}

/// Expected statuses for [anonymous, curator of A, curator of B, admin] × [A, B, harvested].
type Expectations = [[u16; 3]; 4];

/// Owner-bound routes: the same pattern for every one (2xx for who may, 403 otherwise;
/// harvested records are nobody's to edit here, admins included).
fn owner_bound(ok: u16) -> Expectations {
    [[401, 401, 401], [ok, 403, 403], [403, ok, 403], [ok, ok, 403]]
}

/// Routes scoped by an institution parameter (create, list, audit): the harvested column
/// uses the harvested record's institution (the library).
fn institution_bound(ok: u16) -> Expectations {
    [[401, 401, 401], [ok, 403, 403], [403, ok, ok], [ok, ok, ok]]
}

/// Admin-only routes, owner-independent.
fn admin_only(ok: u16) -> Expectations {
    [[401, 401, 401], [403, 403, 403], [403, 403, 403], [ok, ok, ok]]
}

#[tokio::test(flavor = "multi_thread")]
async fn authorisation_matrix() {
    let h = Harness::new();
    let roles = [
        ("anonymous", Auth::Anonymous),
        ("curator of A", h.token("cur-a").await),
        ("curator of B", h.token("cur-b").await),
        ("admin", h.token("admin").await),
    ];
    let small_png = png(8, 8);
    let routes: Vec<(&str, Expectations)> = vec![
        ("GET record", owner_bound(200)),
        ("PUT record", owner_bound(200)),
        ("DELETE record", owner_bound(200)),
        ("POST restore", owner_bound(200)),
        ("POST image", owner_bound(201)),
        ("PUT images", owner_bound(200)),
        ("DELETE image", owner_bound(200)),
        ("POST record", institution_bound(201)),
        ("GET records", institution_bound(200)),
        ("GET audit", institution_bound(200)),
        ("GET users", admin_only(200)),
        ("POST users", admin_only(201)),
        ("POST institutions", admin_only(201)),
        ("GET runs", admin_only(200)),
        ("GET quarantine", admin_only(200)),
    ];
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut new_users = 0;
    for (route, expectations) in &routes {
        for (role_index, (role, auth)) in roles.iter().enumerate() {
            for (owner_index, owner) in [Owner::A, Owner::B, Owner::Harvested].into_iter().enumerate() {
                cases += 1;
                let id = match owner {
                    Owner::A => h.fixture(MUSEUM),
                    Owner::B => h.fixture(LIBRARY),
                    Owner::Harvested => HARVESTED.to_string(),
                };
                let institution = match owner {
                    Owner::A => MUSEUM,
                    Owner::B | Owner::Harvested => LIBRARY,
                };
                let record_path = format!("/api/v1/curate/records/{id}");
                let status = match *route {
                    "GET record" => h.call(Method::GET, &record_path, auth, None).await.0,
                    "PUT record" => {
                        h.call_with(
                            Method::PUT,
                            &record_path,
                            auth,
                            Some(json!({"title": "改过的标题"})),
                            &[("if-match", "\"2\"")],
                        )
                        .await
                        .0
                    }
                    "DELETE record" => h.call(Method::DELETE, &record_path, auth, None).await.0,
                    "POST restore" => {
                        h.call(Method::POST, &format!("{record_path}/restore"), auth, None)
                            .await
                            .0
                    }
                    "POST image" => {
                        h.upload(
                            &id,
                            auth,
                            multipart(&small_png, "a.png", "image/png", Some("一张图")),
                        )
                        .await
                        .0
                    }
                    "PUT images" => {
                        h.call(
                            Method::PUT,
                            &format!("{record_path}/images"),
                            auth,
                            Some(json!([])),
                        )
                        .await
                        .0
                    }
                    "DELETE image" => {
                        h.call(
                            Method::DELETE,
                            &format!("{record_path}/images/{}", "ab".repeat(32)),
                            auth,
                            None,
                        )
                        .await
                        .0
                    }
                    "POST record" => {
                        h.call(
                            Method::POST,
                            "/api/v1/curate/records",
                            auth,
                            Some(json!({"institution": institution, "title": "新记录"})),
                        )
                        .await
                        .0
                    }
                    "GET records" => {
                        h.call(
                            Method::GET,
                            &format!("/api/v1/curate/records?institution={institution}"),
                            auth,
                            None,
                        )
                        .await
                        .0
                    }
                    "GET audit" => {
                        h.call(
                            Method::GET,
                            &format!("/api/v1/admin/audit?institution={institution}"),
                            auth,
                            None,
                        )
                        .await
                        .0
                    }
                    "GET users" => h.call(Method::GET, "/api/v1/admin/users", auth, None).await.0,
                    "POST users" => {
                        new_users += 1;
                        h.call(
                            Method::POST,
                            "/api/v1/admin/users",
                            auth,
                            Some(
                                json!({"username": format!("new-{new_users}"), "password": PASSWORD,
                                        "role": "curator", "institutions": [institution]}),
                            ),
                        )
                        .await
                        .0
                    }
                    "POST institutions" => {
                        h.call(
                            Method::POST,
                            "/api/v1/admin/institutions",
                            auth,
                            Some(json!({"id": "lzart", "name": "兰州美术馆", "type": "art_gallery"})),
                        )
                        .await
                        .0
                    }
                    "GET runs" => {
                        h.call(Method::GET, "/api/v1/admin/runs?source=lzlib-oai", auth, None)
                            .await
                            .0
                    }
                    "GET quarantine" => {
                        h.call(Method::GET, "/api/v1/admin/quarantine", auth, None)
                            .await
                            .0
                    }
                    other => unreachable!("{other}"),
                };
                let expected = expectations[role_index][owner_index];
                if status.as_u16() != expected {
                    failures.push(format!(
                        "{route} as {role} on {owner:?}: {status}, expected {expected}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Harvested records stay exactly as their harvest left them.
    let harvested = h.instance.store.record(HARVESTED).unwrap().unwrap();
    assert_eq!(harvested.title, "收获的记录");
}

#[tokio::test(flavor = "multi_thread")]
async fn property_level_rules_and_withdrawn_records() {
    let h = Harness::new();
    let a = h.token("cur-a").await;
    let b = h.token("cur-b").await;
    let id = h.fixture(MUSEUM);
    let path = format!("/api/v1/curate/records/{id}");
    let etag = h.etag_of(&id, &a).await;

    // A curator cannot move a record to an institution it does not curate…
    let (status, _, body) = h
        .call_with(
            Method::PUT,
            &path,
            &a,
            Some(json!({"institution": LIBRARY, "title": "x"})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // …nor set the server's members.
    let (status, _, body) = h
        .call_with(
            Method::PUT,
            &path,
            &a,
            Some(json!({"id": "curated-lzlib:mine", "title": "x", "images": []})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: Vec<&str> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["id", "images"]);

    // Live records of another institution are 403 (their existence is public through search);
    // withdrawn ones are 404 (it is not).
    assert_eq!(
        h.call(Method::GET, &path, &b, None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(h.call(Method::DELETE, &path, &a, None).await.0, StatusCode::OK);
    assert_eq!(
        h.call(Method::GET, &path, &b, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(h.call(Method::GET, &path, &a, None).await.0, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// Records: validation, preconditions, soft delete, visibility, audit.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn validation_lists_every_invalid_field_in_english_and_chinese() {
    let h = Harness::new();
    let admin = h.token("admin").await;
    let (status, _, body) = h
        .call(
            Method::POST,
            "/api/v1/curate/records",
            &admin,
            Some(json!({
                "institution": MUSEUM,
                "title": "  ",
                "creators": "not a list",
                "resource_type": "spaceship",
                "date": {"display": "x", "year_start": 2000, "year_end": 1900},
                "tittle": "a typo",
                "curation": {"special_collection": true, "brand": "",
                             "accessible_formats": ["braille", "smell"], "audiences": ["children", "martians"]}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let errors = body["error"]["errors"].as_array().unwrap();
    let fields: Vec<&str> = errors.iter().map(|e| e["field"].as_str().unwrap()).collect();
    for expected in [
        "title",
        "creators",
        "resource_type",
        "date",
        "tittle",
        "curation.brand",
        "curation.accessible_formats[1]",
        "curation.audiences[1]",
    ] {
        assert!(fields.contains(&expected), "{expected} not in {fields:?}");
    }
    for error in errors {
        assert!(!error["message"].as_str().unwrap().is_empty());
        assert!(!error["message_zh"].as_str().unwrap().is_empty(), "{error}");
    }
    // Malformed JSON is a 400 in the same error shape.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/curate/records");
    let request = admin
        .apply(request)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, _, bytes) = h.send(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "invalid_body");
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_need_the_current_etag() {
    let h = Harness::new();
    let a = h.token("cur-a").await;
    let (status, headers, body) = h
        .call(
            Method::POST,
            "/api/v1/curate/records",
            &a,
            Some(json!({"institution": MUSEUM, "title": "铜奔马复制品",
                        "curation": {"special_collection": true, "brand": "镇馆之宝"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("curated-lzmuseum:"), "{id}");
    assert_eq!(headers[header::ETAG], "\"1\"");
    assert_eq!(
        headers[header::LOCATION].to_str().unwrap(),
        format!("/api/v1/curate/records/{id}")
    );
    let path = format!("/api/v1/curate/records/{id}");
    let update = json!({"title": "铜奔马（复制品）", "curation": {"special_collection": true}});

    let (status, _, body) = h.call(Method::PUT, &path, &a, Some(update.clone())).await;
    assert_eq!(status, StatusCode::PRECONDITION_REQUIRED, "{body}");
    assert_eq!(body["error"]["code"], "precondition_required");
    let (status, _, body) = h
        .call_with(
            Method::PUT,
            &path,
            &a,
            Some(update.clone()),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (status, headers, body) = h
        .call_with(
            Method::PUT,
            &path,
            &a,
            Some(update.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::ETAG], "\"2\"");
    assert_eq!(body["record"]["title"], "铜奔马（复制品）");
    // A second writer holding the old ETag loses instead of overwriting.
    let (status, _, _) = h
        .call_with(Method::PUT, &path, &a, Some(update), &[("if-match", "\"1\"")])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);

    // The audit log has who, when, and before/after.
    let (status, _, body) = h
        .call(Method::GET, &format!("/api/v1/admin/audit?record={id}"), &a, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let entries = body["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["update", "create"]);
    assert_eq!(entries[0]["actor"], "cur-a");
    assert_eq!(entries[0]["before"]["record"]["title"], "铜奔马复制品");
    assert_eq!(entries[0]["after"]["record"]["title"], "铜奔马（复制品）");
    assert!(entries[0]["at"].as_str().unwrap().ends_with('Z'));
}

async fn search_ids(h: &Harness, q: &str) -> Vec<String> {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let (status, _, body) = h
        .call(
            Method::GET,
            &format!("/api/v1/search?q={q}"),
            &Auth::Anonymous,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn soft_delete_and_restore_with_wait_for_search() {
    let h = Harness::new();
    let b = h.token("cur-b").await;
    let (status, _, body) = h
        .call(
            Method::POST,
            "/api/v1/curate/records?wait=true",
            &b,
            Some(
                json!({"institution": LIBRARY, "title": "兰州黄河铁桥老照片专藏", "resource_type": "图像",
                        "curation": {"special_collection": true, "accessible_formats": ["盲文"],
                                     "audiences": ["elderly"]}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["indexed"], true);
    assert_eq!(body["record"]["resource_type"], "image");
    assert_eq!(body["record"]["curation"]["accessible_formats"][0], "braille");
    let id = body["id"].as_str().unwrap().to_string();
    assert!(
        search_ids(&h, "黄河铁桥").await.contains(&id),
        "searchable once ?wait=true returns"
    );
    let (status, _, _) = h
        .call(
            Method::GET,
            &format!("/api/v1/records/{id}"),
            &Auth::Anonymous,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let path = format!("/api/v1/curate/records/{id}");
    let (status, _, body) = h
        .call(Method::DELETE, &format!("{path}?wait=true"), &b, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], true);
    assert!(
        !search_ids(&h, "黄河铁桥").await.contains(&id),
        "withdrawn from search"
    );
    let (status, _, _) = h
        .call(
            Method::GET,
            &format!("/api/v1/records/{id}"),
            &Auth::Anonymous,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Listed among the deleted, not among the live.
    let list = |status: &'static str| format!("/api/v1/curate/records?status={status}&q=%E9%93%81%E6%A1%A5");
    let (_, _, live) = h.call(Method::GET, &list("live"), &b, None).await;
    let (_, _, deleted) = h.call(Method::GET, &list("deleted"), &b, None).await;
    assert_eq!(
        (live["total"].as_u64(), deleted["total"].as_u64()),
        (Some(0), Some(1))
    );

    let (status, _, body) = h
        .call(Method::POST, &format!("{path}/restore?wait=true"), &b, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], false);
    assert!(search_ids(&h, "黄河铁桥").await.contains(&id), "back in search");

    // Filters of the list.
    let (_, _, found) = h
        .call(
            Method::GET,
            "/api/v1/curate/records?special_collection=true&accessible_format=braille&audience=elderly",
            &b,
            None,
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");
    let (_, _, none) = h
        .call(Method::GET, "/api/v1/curate/records?audience=children", &b, None)
        .await;
    assert_eq!(none["total"], 0);
}

// ---------------------------------------------------------------------------------------
// Accounts: sessions, CSRF, tokens, lockout.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn cookie_sessions_need_the_csrf_token_and_tokens_can_be_revoked() {
    let h = Harness::new();
    let Auth::Session { cookie, csrf } = h.session("cur-a").await else {
        unreachable!()
    };
    let without_csrf = Auth::Session {
        cookie: cookie.clone(),
        csrf: None,
    };
    let with_csrf = Auth::Session {
        cookie: cookie.clone(),
        csrf: csrf.clone(),
    };
    let wrong_csrf = Auth::Session {
        cookie: cookie.clone(),
        csrf: Some("0".repeat(64)),
    };
    let new_record = json!({"institution": MUSEUM, "title": "彩陶罐"});
    // Reads need no CSRF token; writes do.
    assert_eq!(
        h.call(Method::GET, "/api/v1/auth/me", &without_csrf, None)
            .await
            .0,
        StatusCode::OK
    );
    for auth in [&without_csrf, &wrong_csrf] {
        let (status, _, body) = h
            .call(
                Method::POST,
                "/api/v1/curate/records",
                auth,
                Some(new_record.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "csrf_failed");
    }
    let (status, _, _) = h
        .call(
            Method::POST,
            "/api/v1/curate/records",
            &with_csrf,
            Some(new_record.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // A bearer token works without CSRF, and stops working once revoked.
    let (status, _, created) = h
        .call(
            Method::POST,
            "/api/v1/auth/tokens",
            &with_csrf,
            Some(json!({"name": "import script"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = Auth::Bearer(created["token"].as_str().unwrap().to_string());
    let (status, _, _) = h
        .call(
            Method::POST,
            "/api/v1/curate/records",
            &token,
            Some(new_record.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, _, listed) = h.call(Method::GET, "/api/v1/auth/tokens", &token, None).await;
    assert!(
        listed
            .to_string()
            .find(created["token"].as_str().unwrap())
            .is_none(),
        "secrets are never listed"
    );
    let token_id = created["id"].as_i64().unwrap();
    let (status, _, _) = h
        .call(
            Method::DELETE,
            &format!("/api/v1/auth/tokens/{token_id}"),
            &with_csrf,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = h
        .call(
            Method::POST,
            "/api/v1/curate/records",
            &token,
            Some(new_record.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Logging out ends the session.
    assert_eq!(
        h.call(Method::POST, "/api/v1/auth/logout", &with_csrf, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call(Method::GET, "/api/v1/auth/me", &with_csrf, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn five_failed_logins_lock_the_username_whether_or_not_it_exists() {
    let h = Harness::new();
    for username in ["cur-a", "nobody-here"] {
        for _ in 0..5 {
            let (status, _, body) = h.login(username, "wrong password!").await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert_eq!(
                body["error"]["message"], "wrong username or password",
                "the same answer for both"
            );
        }
        let (status, headers, body) = h.login(username, PASSWORD).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{username}: {body}");
        assert_eq!(body["error"]["code"], "too_many_attempts");
        let retry: u64 = headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 15 * 60);
    }
    // Other accounts are unaffected.
    assert_eq!(h.login("cur-b", PASSWORD).await.0, StatusCode::OK);
}

/// Parallel guesses cannot all slip past the lockout check while argon2 runs: each attempt
/// is counted before hashing, in the transaction that checks the lock.
#[tokio::test(flavor = "multi_thread")]
async fn parallel_wrong_passwords_are_counted_before_hashing() {
    let h = Harness::new();
    let attempts = (0..40).map(|_| h.login("cur-a", "wrong password!"));
    let outcomes = futures_util::future::join_all(attempts).await;
    let refused = outcomes
        .iter()
        .filter(|(status, _, _)| *status == StatusCode::UNAUTHORIZED)
        .count();
    let locked = outcomes
        .iter()
        .filter(|(status, _, body)| {
            *status == StatusCode::TOO_MANY_REQUESTS && body["error"]["code"] == "too_many_attempts"
        })
        .count();
    let limit = services::auth::lockout::MAX_FAILURES as usize;
    assert!(
        refused <= limit,
        "{refused} attempts checked a password, at most {limit} may"
    );
    assert_eq!(refused + locked, 40, "every other attempt is answered 429");
    assert_eq!(
        h.instance.store.login_failures_since("cur-a", 0).unwrap(),
        40,
        "every attempt is counted"
    );
    // The right password is locked out too, until the window has passed.
    assert_eq!(h.login("cur-a", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
}

/// What only a signed-in user sees is never stored by a cache, and the signed-in pages are
/// never framed by another site.
#[tokio::test(flavor = "multi_thread")]
async fn private_answers_are_never_cached_and_never_framed() {
    let h = Harness::new();
    let admin = h.token("admin").await;
    for path in [
        "/api/v1/auth/me",
        "/api/v1/auth/tokens",
        "/api/v1/admin/users",
        "/api/v1/admin/runs",
        "/api/v1/admin/analytics/volume",
        "/api/v1/analytics/export?since=2020-01-01",
        "/admin/analytics",
    ] {
        let (status, headers, body) = h.call(Method::GET, path, &admin, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let cache = headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("");
        assert!(cache.contains("no-store"), "{path}: Cache-Control {cache:?}");
    }
    // Anonymous answers under those routes too (a 401 names no one, but is not cached).
    let (status, headers, _) = h
        .call(Method::GET, "/api/v1/auth/me", &Auth::Anonymous, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    for (path, auth) in [("/curator/login", &Auth::Anonymous), ("/admin/analytics", &admin)] {
        let (status, headers, _) = h.call(Method::GET, path, auth, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("{path}: no Content-Security-Policy"));
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert!(!policy.contains("script-src 'unsafe"), "{path}: {policy}");
    }
    // A public answer stays cacheable.
    let (_, headers, _) = h
        .call(
            Method::GET,
            &format!("/api/v1/records/{HARVESTED}"),
            &Auth::Anonymous,
            None,
        )
        .await;
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=60");
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_create_accounts_over_the_api() {
    let h = Harness::new();
    let admin = h.token("admin").await;
    let new = json!({"username": "Curator-C", "password": PASSWORD, "role": "curator", "institutions": [MUSEUM, LIBRARY]});
    let (status, _, body) = h
        .call(Method::POST, "/api/v1/admin/users", &admin, Some(new.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "curator-c");
    assert!(body.get("password").is_none() && !body.to_string().contains("argon2"));
    assert_eq!(
        h.call(Method::POST, "/api/v1/admin/users", &admin, Some(new))
            .await
            .0,
        StatusCode::CONFLICT
    );
    let (status, _, body) = h
        .call(
            Method::POST,
            "/api/v1/admin/users",
            &admin,
            Some(json!({"username": "bad name!", "password": "short", "role": "curator", "institutions": ["zoo"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["errors"].as_array().unwrap().len(), 3, "{body}");
    // The new curator of both institutions may work in both.
    let c = h.token("curator-c").await;
    for institution in [MUSEUM, LIBRARY] {
        let (status, _, _) = h
            .call(
                Method::POST,
                "/api/v1/curate/records",
                &c,
                Some(json!({"institution": institution, "title": "两馆合办展览"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // Disabling ends its access at once.
    assert_eq!(
        h.call(
            Method::POST,
            "/api/v1/admin/users/curator-c/disable",
            &admin,
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call(Method::GET, "/api/v1/auth/me", &c, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

// ---------------------------------------------------------------------------------------
// Images.
// ---------------------------------------------------------------------------------------

/// A PNG whose header claims 60000×60000 pixels, followed by a tiny IDAT.
fn png_bomb_header() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
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
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A JPEG with an EXIF segment that carries a (fake) GPS position.
fn jpeg_with_gps() -> Vec<u8> {
    let plain = jpeg(64, 48);
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude=36.0611N;GPSLongitude=103.8343E;LANZHOU-SECRET-SPOT");
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn images_are_checked_stripped_resized_and_served_immutable() {
    let h = Harness::new();
    let a = h.token("cur-a").await;
    let id = h.fixture(MUSEUM);
    let path = format!("/api/v1/curate/records/{id}");
    // Start from no images.
    assert_eq!(
        h.call(Method::PUT, &format!("{path}/images"), &a, Some(json!([])))
            .await
            .0,
        StatusCode::OK
    );

    // Hostile uploads are refused with 4xx and leave the server fine.
    let mut truncated = jpeg(300, 200);
    truncated.truncate(truncated.len() / 3);
    let cases: Vec<(&str, Vec<u8>, &str, u16)> = vec![
        ("a 60000×60000 PNG header", png_bomb_header(), "bomb.png", 413),
        ("a truncated JPEG", truncated, "cut.jpg", 422),
        (
            "a text file named .jpg",
            b"just some words, not a picture".to_vec(),
            "photo.jpg",
            415,
        ),
    ];
    for (what, bytes, name, expected) in cases {
        let (status, body) = h
            .upload(&id, &a, multipart(&bytes, name, "image/jpeg", Some("说明")))
            .await;
        assert_eq!(status.as_u16(), expected, "{what}: {body}");
    }
    let (status, body) = h
        .upload(&id, &a, multipart(&png(4, 4), "a.png", "image/png", None))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "alt text is required: {body}"
    );
    let too_big = vec![0u8; 10 * 1024 * 1024 + 1];
    let (status, _) = h
        .upload(&id, &a, multipart(&too_big, "big.jpg", "image/jpeg", Some("大")))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        h.call(Method::GET, &path, &a, None).await.0,
        StatusCode::OK,
        "still serving"
    );

    // A JPEG with a GPS position comes back without it.
    let original = jpeg_with_gps();
    assert!(contains(&original, b"LANZHOU-SECRET-SPOT") && contains(&original, b"Exif"));
    let (status, body) = h
        .upload(
            &id,
            &a,
            multipart(&original, "gps.jpg", "image/jpeg", Some("带定位的照片")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let gps_hash = body["images"][0]["hash"].as_str().unwrap().to_string();
    for url in [&body["images"][0]["thumb_url"], &body["images"][0]["display_url"]] {
        let request = Request::builder()
            .uri(url.as_str().unwrap())
            .body(Body::empty())
            .unwrap();
        let (status, headers, bytes) = h.send(request).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        assert!(
            !contains(&bytes, b"LANZHOU-SECRET-SPOT") && !contains(&bytes, b"Exif"),
            "metadata stripped"
        );
        // Revalidation answers 304.
        let etag = headers[header::ETAG].clone();
        let request = Request::builder()
            .uri(url.as_str().unwrap())
            .header(header::IF_NONE_MATCH, etag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(h.send(request).await.0, StatusCode::NOT_MODIFIED);
    }

    // A large PNG is scaled to the display size; images are ordered, re-captioned, removed.
    let (status, body) = h
        .upload(
            &id,
            &a,
            multipart(&png(2400, 1600), "big.png", "image/png", Some("全景")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let big = &body["images"][1];
    assert_eq!(
        (big["width"].as_u64(), big["height"].as_u64()),
        (Some(1200), Some(800))
    );
    let big_hash = big["hash"].as_str().unwrap().to_string();
    assert_eq!(body["record"]["images"][1]["caption"], "全景");
    let reorder = json!([{"hash": big_hash, "alt": "兰州全景"}, {"hash": gps_hash, "alt": "一张照片"}]);
    let (status, _, body) = h
        .call(Method::PUT, &format!("{path}/images"), &a, Some(reorder))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["images"][0]["alt"], "兰州全景");
    assert_eq!(body["images"][1]["hash"], gps_hash.as_str());
    let (status, _, body) = h
        .call(Method::DELETE, &format!("{path}/images/{gps_hash}"), &a, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["images"].as_array().unwrap().len(), 1);
}

/// Several nodes on one PostgreSQL store (issue #17), each with its own data directory: an
/// image uploaded through node A is served by node B, which has never seen it, from the
/// store's bytes, and B keeps them as its own file from then on. An image neither has is
/// the usual `404`.
#[tokio::test(flavor = "multi_thread")]
async fn an_image_uploaded_on_one_node_is_served_by_another_sharing_the_store() {
    use services::curate::images::{Variant, variant_path};
    let database = store::test_cluster::database();
    let node_a = Harness::on_database(&database);
    let a = node_a.token("cur-a").await;
    let id = node_a.fixture(MUSEUM);
    let (status, body) = node_a
        .upload(
            &id,
            &a,
            multipart(
                &png(640, 480),
                "shared.png",
                "image/png",
                Some("两个节点都能看到"),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let uploaded = body["images"].as_array().unwrap().last().unwrap().clone();
    let hash = uploaded["hash"].as_str().unwrap().to_string();

    // Node B: the same database, another data directory, without the image's files.
    let dir_b = tempfile::tempdir().unwrap();
    let mut config_b = config(dir_b.path());
    config_b.store.url = Some(database.clone());
    let node_b = Instance::open(config_b).unwrap();
    assert!(node_a.instance.store.is_shared() && node_b.store.is_shared());
    let router_b = node_b.router();
    let get = |router: Router, uri: String| async move {
        let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
        let response = router.oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body.to_vec())
    };
    let images_a = node_a.instance.config.data_dir.join("images");
    let images_b = dir_b.path().join("images");

    // B's copy of the record points at the image (a token made on A works on B too).
    let (status, _, record) = node_a
        .call(Method::GET, &format!("/api/v1/curate/records/{id}"), &a, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    let request = a
        .apply(Request::builder().uri(format!("/api/v1/curate/records/{id}")))
        .body(Body::empty())
        .unwrap();
    let response = router_b.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let on_b: Value = serde_json::from_slice(
        &axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(on_b["images"], record["images"]);

    for (variant, url) in [
        (Variant::Thumb, &uploaded["thumb_url"]),
        (Variant::Display, &uploaded["display_url"]),
    ] {
        let url = url.as_str().unwrap().to_string();
        let on_a = std::fs::read(variant_path(&images_a, &hash, variant)).unwrap();
        let cached = variant_path(&images_b, &hash, variant);
        assert!(!cached.exists(), "B has no file of {url} before it is asked");
        let (status, headers, bytes) = get(router_b.clone(), url.clone()).await;
        assert_eq!(status, StatusCode::OK, "{url} on B");
        assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(bytes, on_a, "{url}: B serves A's bytes");
        assert_eq!(
            std::fs::read(&cached).unwrap(),
            on_a,
            "{url}: B keeps them as its own file"
        );
        // Only the file itself: the temporary file it was written as is gone.
        let beside: Vec<_> = std::fs::read_dir(cached.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert!(
            beside.iter().all(|name| !name.to_string_lossy().starts_with('.')),
            "{beside:?}"
        );
        let (status, _, again) = get(router_b.clone(), url.clone()).await;
        assert_eq!((status, again), (StatusCode::OK, on_a), "{url} again on B");
    }

    // An image that neither node nor the store has: the same 404 on both.
    let missing = format!("/images/{}/thumb.jpg", "ef".repeat(32));
    let (status_a, _, body_a) = get(node_a.router.clone(), missing.clone()).await;
    let (status_b, _, body_b) = get(router_b.clone(), missing).await;
    assert_eq!(status_a, StatusCode::NOT_FOUND);
    assert_eq!((status_b, body_b), (status_a, body_a));
    assert!(!variant_path(&images_b, &"ef".repeat(32), Variant::Thumb).exists());
}

// ---------------------------------------------------------------------------------------
// Durability: restarts and reindexing.
// ---------------------------------------------------------------------------------------

/// An upload that waits for a decode slot longer than the request timeout is answered
/// `503 timeout` in the API's JSON shape, and leaves the queue: it is never decoded, so the
/// slots, once free, serve the next upload.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_that_times_out_waiting_for_a_decode_slot_is_never_decoded() {
    use services::curate::images::{DecodeSlot, decode_counts};
    // Long enough for the request to reach the queue on a busy machine; it cannot finish
    // sooner, since every slot is held.
    let h = Harness::with_timeout(Some(Duration::from_secs(2)));
    let a = h.token("cur-a").await;
    let id = h.fixture(MUSEUM);
    let held = [DecodeSlot::acquire().await, DecodeSlot::acquire().await];
    let before = decode_counts();
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/curate/records/{id}/images"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        );
    let body = multipart(&png(31, 17), "late.png", "image/png", Some("迟到的图"));
    let request = a.apply(request).body(Body::from(body)).unwrap();
    let (status, headers, bytes) = h.send(request).await;
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    // The state reached: its wait was given up when its request was answered.
    assert_eq!(decode_counts().abandoned, before.abandoned + 1);
    drop(held);
    let (status, body) = h
        .upload(
            &id,
            &a,
            multipart(&png(40, 20), "next.png", "image/png", Some("下一张")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(decode_counts().started > before.started);
    // The late image was not stored; the next one was.
    let images = h.instance.config.data_dir.join("images");
    let stored = |bytes: &[u8]| {
        let hash = services::auth::secret::sha256_hex(bytes);
        images.join(&hash[..2]).join(&hash).exists()
    };
    assert!(stored(&png(40, 20)));
    assert!(!stored(&png(31, 17)));
}

#[tokio::test(flavor = "multi_thread")]
async fn curated_records_survive_a_restart_and_a_reindex() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, withdrawn) = {
        let instance = Instance::open(config(dir.path())).unwrap();
        services::auth::accounts::create_user(
            &instance.store,
            &NewUser {
                username: "cur-a".into(),
                password: Password::new(PASSWORD),
                role: Role::Curator,
                institutions: vec![MUSEUM.into()],
            },
        )
        .unwrap();
        let h = Harness {
            _dir: tempfile::tempdir().unwrap(),
            router: instance.router(),
            instance: instance.clone(),
        };
        let a = h.token("cur-a").await;
        let mut ids = Vec::new();
        for title in ["马家窑彩陶罐", "清代皮影戏人"] {
            let (status, _, body) = h
                .call(
                    Method::POST,
                    "/api/v1/curate/records",
                    &a,
                    Some(json!({"institution": MUSEUM, "title": title})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED);
            ids.push(body["id"].as_str().unwrap().to_string());
        }
        // Acknowledged means durable: no wait for the index before the "crash".
        assert_eq!(
            h.call(
                Method::DELETE,
                &format!("/api/v1/curate/records/{}", ids[1]),
                &a,
                None
            )
            .await
            .0,
            StatusCode::OK
        );
        instance.indexing.shutdown();
        (ids[0].clone(), ids[1].clone())
    };

    // Reindex from scratch, as `jincheng reindex` does.
    {
        let store = store::Store::open(&dir.path().join("jincheng.db")).unwrap();
        let index = indexer::Index::open_or_create(&dir.path().join("index")).unwrap();
        services::indexing::rebuild(&store, &index, &[]).unwrap();
    }

    let instance = Instance::open(config(dir.path())).unwrap();
    instance.wait_indexed(Duration::from_secs(30)).await.unwrap();
    let h = Harness {
        _dir: tempfile::tempdir().unwrap(),
        router: instance.router(),
        instance: instance.clone(),
    };
    let a = h.token("cur-a").await;
    let (status, _, body) = h
        .call(Method::GET, &format!("/api/v1/curate/records/{kept}"), &a, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["record"]["title"], "马家窑彩陶罐");
    let (_, _, body) = h
        .call(
            Method::GET,
            &format!("/api/v1/curate/records/{withdrawn}"),
            &a,
            None,
        )
        .await;
    assert_eq!(body["deleted"], true);
    assert!(search_ids(&h, "彩陶罐").await.contains(&kept));
    assert!(!search_ids(&h, "皮影").await.contains(&withdrawn));
    instance.indexing.shutdown();
}

// ---------------------------------------------------------------------------------------
// Write-to-searchable latency while a harvest runs.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn write_to_searchable_latency_under_a_concurrent_harvest() {
    // The demo collections, served over loopback, harvested while we write.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(jincheng::server::serve(
        listener,
        jincheng_demo::router(),
        async {
            let _ = stopped.await;
        },
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::parse(&format!(
        "{}\n[api]\nrate_per_ip = \"100000/s\"\n",
        jincheng_demo::config_toml(&base_url)
    ))
    .unwrap();
    config.data_dir = dir.path().to_path_buf();
    let institution = jincheng_demo::collections()[0].to_string();
    let instance = Instance::open(config).unwrap();
    services::auth::accounts::create_user(
        &instance.store,
        &NewUser {
            username: "curator".into(),
            password: Password::new(PASSWORD),
            role: Role::Curator,
            institutions: vec![institution.clone()],
        },
    )
    .unwrap();
    let h = Harness {
        _dir: tempfile::tempdir().unwrap(),
        router: instance.router(),
        instance: instance.clone(),
    };
    let token = h.token("curator").await;

    // Harvest every source again and again until the writes are done; each round after the
    // first starts over from an empty checkpoint, so it re-reads every page (a full harvest).
    let stop_harvesting = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let harvester = instance.clone();
    let stop_flag = stop_harvesting.clone();
    let harvest = tokio::spawn(async move {
        let (mut runs, mut items) = (0u64, 0u64);
        let started = Instant::now();
        while !stop_flag.load(std::sync::atomic::Ordering::Relaxed) {
            for source in harvester.config.sources.iter() {
                let store = &harvester.store;
                let reset = store.start_run(&source.id, false).unwrap();
                store
                    .apply_page(
                        reset,
                        &source.id,
                        &source.institution,
                        &[],
                        &Checkpoint::default(),
                    )
                    .unwrap();
                store.finish_run(reset, None).unwrap();
                let run = harvester.harvest(source, |_| {}).await.unwrap();
                assert_eq!(run.status, RunStatus::Complete);
                runs += 1;
                let c = run.counts;
                items += c.added + c.updated + c.unchanged + c.deleted;
            }
        }
        (runs, items, started.elapsed())
    });

    const WRITES: usize = 200;
    let mut latencies = Vec::with_capacity(WRITES);
    let mut during_harvest = 0;
    for i in 0..WRITES {
        let started = Instant::now();
        let (status, _, body) = h
            .call(
                Method::POST,
                "/api/v1/curate/records?wait=true",
                &token,
                Some(json!({"institution": institution, "title": format!("特色馆藏第{i}号 金城记忆")})),
            )
            .await;
        let elapsed = started.elapsed();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["indexed"], true, "searchable when ?wait=true returns");
        if !harvest.is_finished() {
            during_harvest += 1;
        }
        latencies.push(elapsed);
    }
    stop_harvesting.store(true, std::sync::atomic::Ordering::Relaxed);
    let (runs, items, harvest_time) = harvest.await.unwrap();
    latencies.sort();
    let pick =
        |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1];
    println!(
        "write-to-searchable latency over {WRITES} writes ({during_harvest} during a harvest: \
         {runs} runs, {items} items in {harvest_time:?}): p50 {:?}, p99 {:?}, max {:?}",
        pick(0.50),
        pick(0.99),
        latencies[latencies.len() - 1]
    );
    // The last write is findable by search, and the harvest left every curated record alone.
    let (rows, total) = instance
        .store
        .curated_list(&store::curated::CuratedQuery {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(total as usize, WRITES);
    assert!(rows[0].state.record.title.contains("金城记忆"));
    instance.indexing.shutdown();
    let _ = stop.send(());
    let _ = server.await;
}

// ---------------------------------------------------------------------------------------
// One search path, one set of curation rules, institutions that reach the index.
// ---------------------------------------------------------------------------------------

/// Searches until `done` holds for the response (the index follows the store
/// asynchronously), with a generous deadline.
async fn search_until(h: &Harness, query: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _, body) = h
            .call(
                Method::GET,
                &format!("/api/v1/search?{query}"),
                &Auth::Anonymous,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {query}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_curated_records_thumbnail_is_in_the_api_search() {
    let h = Harness::new();
    let id = h.fixture(MUSEUM);
    let hash = "ab".repeat(32);
    let body = search_until(&h, "q=%E5%A4%B9%E5%85%B7%E8%AE%B0%E5%BD%95", |b| b["total"] == 1).await;
    let hit = &body["hits"][0];
    assert_eq!(hit["id"], id.as_str());
    assert_eq!(
        hit["thumbnail"]["thumb_url"],
        format!("/images/{hash}/thumb.jpg"),
        "{hit}"
    );
    assert_eq!(
        hit["thumbnail"]["display_url"],
        format!("/images/{hash}/display.jpg")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_refuses_the_event_rules_the_page_refuses() {
    let h = Harness::new();
    let a = h.token("cur-a").await;
    let create = |body: Value| h.call(Method::POST, "/api/v1/curate/records", &a, Some(body));
    let (status, _, body) = create(json!({
        "institution": MUSEUM, "title": "刻葫芦公益培训", "resource_type": "event",
        "event": {"start": "2026-05-02T14:00:00+08:00", "end": "2026-05-01T16:00:00+08:00",
                  "live_stream_url": "javascript:alert(1)"}
    }))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let codes: Vec<(&str, &str)> = body["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert!(codes.contains(&("event.end", "before_start")), "{codes:?}");
    assert!(
        codes.contains(&("event.live_stream_url", "invalid_url")),
        "{codes:?}"
    );
    let (status, _, body) = create(json!({
        "institution": MUSEUM, "title": "铜奔马", "resource_type": "artefact",
        "event": {"venue": "一楼大厅"}
    }))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["errors"][0]["code"], "not_an_event", "{body}");
    // The same event, in order, is accepted.
    let (status, _, body) = create(json!({
        "institution": MUSEUM, "title": "刻葫芦公益培训", "resource_type": "event",
        "event": {"start": "2026-05-01T14:00:00+08:00", "end": "2026-05-01T16:00:00+08:00",
                  "live_stream_url": "https://live.example/kehulu"}
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_institution_change_reaches_the_index_without_a_reindex() {
    let h = Harness::new();
    let admin = h.token("admin").await;
    h.fixture(MUSEUM);
    let q = "q=%E5%A4%B9%E5%85%B7%E8%AE%B0%E5%BD%95";
    search_until(&h, q, |b| b["hits"][0]["institution"]["name"] == "兰州市博物馆").await;
    let (status, _, body) = h
        .call(
            Method::POST,
            "/api/v1/admin/institutions",
            &admin,
            Some(json!({"id": MUSEUM, "name": "兰州博物馆（新馆）", "type": "museum", "district": "城关区"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let body = search_until(&h, q, |b| {
        b["hits"][0]["institution"]["name"] == "兰州博物馆（新馆）"
    })
    .await;
    assert_eq!(body["total"], 1);
    // The district came with it: the region facet finds the record.
    search_until(&h, &format!("{q}&region=%E5%9F%8E%E5%85%B3%E5%8C%BA"), |b| {
        b["total"] == 1
    })
    .await;

    // A record stored before its institution existed is not searchable (it has no
    // institution to show), and becomes searchable when the institution is added.
    let store = &h.instance.store;
    let run = store.start_run("county-oai", false).unwrap();
    let record = schemas::Record::new("county-oai:1", "yuzhong", "榆中县志稿本");
    store
        .apply_page(
            run,
            "county-oai",
            "yuzhong",
            &[Incoming::Record {
                record: Box::new(record),
                datestamp: "2024-01-01T00:00:00Z".into(),
                raw: "<r/>".into(),
            }],
            &Checkpoint::default(),
        )
        .unwrap();
    store.finish_run(run, None).unwrap();
    let stored = store.max_seq().unwrap();
    assert!(
        h.instance
            .indexing
            .wait_for(stored, Duration::from_secs(30))
            .await
    );
    assert_eq!(search_ids(&h, "榆中县志稿本").await, Vec::<String>::new());
    let (status, _, body) = h
        .call(
            Method::POST,
            "/api/v1/admin/institutions",
            &admin,
            Some(json!({"id": "yuzhong", "name": "榆中县图书馆", "type": "library", "district": "榆中县"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let body = search_until(
        &h,
        "q=%E6%A6%86%E4%B8%AD%E5%8E%BF%E5%BF%97%E7%A8%BF%E6%9C%AC",
        |b| b["total"] == 1,
    )
    .await;
    assert_eq!(body["hits"][0]["institution"]["name"], "榆中县图书馆");
}
