//! The harvester's HTTP manners and limits, against small loopback servers that misbehave
//! on purpose: 503 with `Retry-After`, endless 503s, 403, oversize and gzip-bomb bodies,
//! slow answers, a name that resolves to loopback under `PublicOnly`, and repositories whose
//! lists never end (a repeated token, endless empty pages).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jincheng_harvesters::{
    AddressPolicy, Error, Harvest, HttpLimits, ItemOutcome, ListRequest, OaiPmhHarvester, OaiPmhSource,
};

const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
  <responseDate>2026-01-05T08:00:00Z</responseDate>
  <ListRecords>
    <record>
      <header><identifier>oai:test:1</identifier><datestamp>2024-01-01</datestamp></header>
      <metadata>
        <oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
          <dc:title>五泉山</dc:title>
        </oai_dc:dc>
      </metadata>
    </record>
  </ListRecords>
</OAI-PMH>"#;

const LIMIT: u64 = 1024 * 1024;

/// Requests seen per route.
#[derive(Clone, Default)]
struct Hits(Arc<[AtomicUsize; 10]>);

impl Hits {
    fn next(&self, route: usize) -> usize {
        self.0[route].fetch_add(1, Ordering::SeqCst) + 1
    }
    fn count(&self, route: usize) -> usize {
        self.0[route].load(Ordering::SeqCst)
    }
}

fn ok_page() -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], PAGE).into_response()
}

fn unavailable(retry_after: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, retry_after.to_owned())],
        "busy",
    )
        .into_response()
}

fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..32 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

fn app(hits: Hits) -> Router {
    Router::new()
        .route(
            "/retry-after",
            get(|State(h): State<Hits>| async move {
                if h.next(0) == 1 {
                    unavailable("2")
                } else {
                    ok_page()
                }
            }),
        )
        .route(
            "/always-503",
            get(|State(h): State<Hits>| async move {
                h.next(1);
                unavailable("0")
            }),
        )
        .route(
            "/forbidden",
            get(|State(h): State<Hits>| async move {
                h.next(2);
                (StatusCode::FORBIDDEN, "no").into_response()
            }),
        )
        .route(
            "/huge",
            get(|State(h): State<Hits>| async move {
                h.next(3);
                "x".repeat(2 * LIMIT as usize).into_response()
            }),
        )
        .route(
            "/gzip-bomb",
            get(|State(h): State<Hits>| async move {
                h.next(4);
                ([(header::CONTENT_ENCODING, "gzip")], gzip_bomb()).into_response()
            }),
        )
        .route(
            "/slow",
            get(|State(h): State<Hits>| async move {
                h.next(5);
                tokio::time::sleep(Duration::from_secs(5)).await;
                ok_page()
            }),
        )
        .route(
            "/server-error-once",
            get(|State(h): State<Hits>| async move {
                if h.next(6) == 1 {
                    (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
                } else {
                    ok_page()
                }
            }),
        )
        .route(
            "/long-retry-after",
            get(|State(h): State<Hits>| async move {
                if h.next(7) == 1 {
                    unavailable("3600")
                } else {
                    ok_page()
                }
            }),
        )
        .route(
            "/token-loop",
            get(|State(h): State<Hits>| async move {
                h.next(8);
                let page = PAGE.replace(
                    "</ListRecords>",
                    "<resumptionToken>same</resumptionToken></ListRecords>",
                );
                ([(header::CONTENT_TYPE, "text/xml")], page).into_response()
            }),
        )
        .route(
            "/empty-pages",
            get(|State(h): State<Hits>| async move {
                let n = h.next(9);
                let page = format!(
                    "<OAI-PMH><responseDate>2026-01-05T08:00:00Z</responseDate><ListRecords>\
                     <resumptionToken>t{n}</resumptionToken></ListRecords></OAI-PMH>"
                );
                ([(header::CONTENT_TYPE, "text/xml")], page).into_response()
            }),
        )
        .with_state(hits)
}

struct TestServer {
    port: u16,
    hits: Hits,
}

async fn serve() -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Hits::default();
    let router = app(hits.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    TestServer { port, hits }
}

fn limits() -> HttpLimits {
    HttpLimits {
        max_response_bytes: LIMIT,
        request_timeout: Duration::from_secs(10),
        max_retries: 2,
        max_retry_after: Duration::from_secs(5),
        backoff_base: Duration::from_millis(50),
        ..HttpLimits::default()
    }
}

fn harvester(base: &str, limits: HttpLimits) -> OaiPmhHarvester {
    let source = OaiPmhSource {
        source_id: "t".into(),
        institution: "lzlib".into(),
        base_url: base.parse().unwrap(),
        metadata_prefix: "oai_dc".into(),
        set: None,
    };
    OaiPmhHarvester::new(source, limits).unwrap()
}

async fn list(server: &TestServer, path: &str, limits: HttpLimits) -> Result<usize, Error> {
    let base = format!("http://127.0.0.1:{}{path}", server.port);
    let page = harvester(&base, limits)
        .list_records(&ListRequest::Start {
            from: None,
            until: None,
        })
        .await?;
    assert!(matches!(page.items[0].outcome, ItemOutcome::Record(_)));
    Ok(page.items.len())
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let server = serve().await;
    let started = Instant::now();
    assert_eq!(list(&server, "/retry-after", limits()).await.unwrap(), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.hits.count(0), 2);
}

#[tokio::test]
async fn retry_after_is_capped() {
    let server = serve().await;
    let started = Instant::now();
    let limits = HttpLimits {
        max_retry_after: Duration::from_secs(1),
        ..limits()
    };
    assert_eq!(list(&server, "/long-retry-after", limits).await.unwrap(), 1);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}

#[tokio::test]
async fn retries_are_capped() {
    let server = serve().await;
    let err = list(&server, "/always-503", limits()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Unavailable {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(server.hits.count(1), 3, "one attempt and max_retries = 2 retries");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let server = serve().await;
    assert_eq!(list(&server, "/server-error-once", limits()).await.unwrap(), 1);
    assert_eq!(server.hits.count(6), 2);
}

#[tokio::test]
async fn forbidden_stops_at_once() {
    let server = serve().await;
    let err = list(&server, "/forbidden", limits()).await.unwrap_err();
    assert!(matches!(err, Error::Status { status: 403, .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("/forbidden?verb=ListRecords") && message.contains("403"),
        "{message}"
    );
    assert_eq!(server.hits.count(2), 1);
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let server = serve().await;
    let err = list(&server, "/huge", limits()).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: LIMIT, .. }), "{err}");
    assert_eq!(server.hits.count(3), 1, "a too-large body is not retried");
}

#[tokio::test]
async fn gzip_bombs_are_measured_after_decompression() {
    // The compressed body is far under the limit; only its decompressed size is not.
    assert!((gzip_bomb().len() as u64) < LIMIT / 10);
    let server = serve().await;
    let err = list(&server, "/gzip-bomb", limits()).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: LIMIT, .. }), "{err}");
}

#[tokio::test]
async fn slow_servers_time_out() {
    let server = serve().await;
    let limits = HttpLimits {
        request_timeout: Duration::from_millis(300),
        max_retries: 1,
        ..limits()
    };
    let started = Instant::now();
    let err = list(&server, "/slow", limits).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 2, .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.hits.count(5), 2);
}

#[tokio::test]
async fn public_only_refuses_names_that_resolve_to_loopback() {
    let server = serve().await;
    let limits = HttpLimits {
        address_policy: AddressPolicy::PublicOnly,
        ..limits()
    };
    // `localhost` passes the URL check (it is a name), so the refusal comes from the
    // resolver, after DNS, before any connection.
    let base = format!("http://localhost:{}/retry-after", server.port);
    let err = harvester(&base, limits)
        .list_records(&ListRequest::Start {
            from: None,
            until: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AddressRefused { .. }), "{err}");
    assert_eq!(server.hits.count(0), 0, "nothing reached the server");
}

async fn follow(server: &TestServer, path: &str) -> (usize, Error) {
    let harvester = harvester(&format!("http://127.0.0.1:{}{path}", server.port), limits());
    let mut harvest = Harvest::new(
        &harvester,
        ListRequest::Start {
            from: None,
            until: None,
        },
    );
    let mut pages = 0;
    loop {
        match harvest.next_page().await {
            Ok(Some(_)) => pages += 1,
            Ok(None) => panic!("{path}: the list ended after {pages} pages"),
            Err(err) => {
                // After the error the harvest is over, not stuck on the same request.
                assert!(harvest.resume_request().is_none());
                return (pages, err);
            }
        }
    }
}

#[tokio::test]
async fn a_repeated_token_stops_the_harvest() {
    let server = serve().await;
    let (pages, err) = follow(&server, "/token-loop").await;
    assert!(
        matches!(&err, Error::TokenLoop { token } if token == "same"),
        "{err}"
    );
    assert_eq!(pages, 1);
    assert_eq!(server.hits.count(8), 2);
}

#[tokio::test]
async fn endless_empty_pages_stop_the_harvest() {
    let server = serve().await;
    let (pages, err) = follow(&server, "/empty-pages").await;
    assert!(matches!(err, Error::NoProgress { pages: 20 }), "{err}");
    assert_eq!(pages, 19);
    assert_eq!(server.hits.count(9), 20);
}
