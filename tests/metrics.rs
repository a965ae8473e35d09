//! `/metrics`, `/healthz` and `/readyz` (issue #17): requests counted per route template,
//! harvest totals read from the store, the index's lag, the accept loop's connections, and
//! who may read the metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/http.rs"]
mod http;
#[path = "support/router.rs"]
mod router;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, header};
use jincheng::Instance;
use jincheng::bench::{synthetic_institutions, synthetic_record};
use serde_json::Value;
use services::config::{Config, MetricsToken};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use router::send;

/// Generous: these tests wait for states, they never measure speed.
const DEADLINE: Duration = Duration::from_secs(60);
const TOKEN: &str = "metrics-token-for-tests";

/// Config text for a data directory with the synthetic institutions, plus `extra`.
fn config(dir: &std::path::Path, extra: &str) -> Config {
    let mut text = format!("data_dir = {:?}\n{extra}\n", dir.display().to_string());
    for i in synthetic_institutions() {
        text.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\ndistrict = {:?}\n",
            i.id,
            i.name,
            i.institution_type.as_str(),
            i.district.unwrap().as_str()
        ));
    }
    Config::parse(&text).unwrap()
}

/// A request for `uri` from `peer`, as the accept loop hands it to the router.
fn from(peer: &str, uri: &str) -> axum::http::request::Builder {
    let peer: SocketAddr = peer.parse().unwrap();
    let mut request = Request::get(uri);
    request.extensions_mut().unwrap().insert(ConnectInfo(peer));
    request
}

/// The status and body of `request`.
async fn answer(instance: &Instance, request: axum::http::request::Builder) -> (u16, String) {
    let (response, body) = send(instance, request.body(Body::empty()).unwrap()).await;
    (response.status().as_u16(), String::from_utf8(body).unwrap())
}

/// `/metrics` scraped from loopback.
async fn scrape(instance: &Instance) -> String {
    let (status, text) = answer(instance, from("127.0.0.1:40000", "/metrics")).await;
    assert_eq!(status, 200, "{text}");
    text
}

/// The value of the sample named exactly `series` (name and labels), if it is there.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(name, _)| *name == series)
        .map(|(_, value)| value.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_are_counted_and_timed_per_route_template() {
    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), "")).unwrap();
    let records = r#"http_requests_total{route="/api/v1/records/{id}",method="GET",status="404"}"#;
    let timed = r#"http_request_duration_seconds_count{route="/api/v1/records/{id}",method="GET"}"#;
    let unmatched = r#"http_requests_total{route="unmatched",method="GET",status="404"}"#;
    let before = scrape(&instance).await;
    let count = |text: &str, series: &str| sample(text, series).unwrap_or(0.0);

    for id in ["a:1", "b:2", "c:3"] {
        let (status, _) = answer(&instance, Request::get(format!("/api/v1/records/{id}"))).await;
        assert_eq!(status, 404);
    }
    let (status, _) = answer(&instance, Request::get("/no/such/page")).await;
    assert_eq!(status, 404);

    let after = scrape(&instance).await;
    assert_eq!(count(&after, records), count(&before, records) + 3.0, "{after}");
    assert_eq!(count(&after, timed), count(&before, timed) + 3.0, "{after}");
    assert_eq!(
        count(&after, unmatched),
        count(&before, unmatched) + 1.0,
        "{after}"
    );
    assert!(
        after.contains("# TYPE http_request_duration_seconds histogram"),
        "{after}"
    );
    let every =
        r#"http_request_duration_seconds_bucket{route="/api/v1/records/{id}",method="GET",le="+Inf"}"#;
    assert_eq!(count(&after, every), count(&before, every) + 3.0, "{after}");
    // Labels are templates, never what a client typed.
    assert!(
        !after.contains("a:1") && !after.contains("/no/such/page"),
        "{after}"
    );
    // The scrape before this one is counted too.
    assert!(
        count(
            &after,
            r#"http_requests_total{route="/metrics",method="GET",status="200"}"#
        ) >= 1.0,
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_loopback_and_the_token_may_read_the_metrics_unless_public() {
    let dir = tempfile::tempdir().unwrap();
    let mut closed = config(dir.path(), "[api]\ntrusted_proxies = [\"127.0.0.1\"]");
    closed.metrics.token = MetricsToken::new(TOKEN.to_string());
    assert!(
        !format!("{closed:?}").contains(TOKEN),
        "a logged config shows no token"
    );
    let instance = Instance::open(closed).unwrap();
    let outsider = "203.0.113.7:40000";

    // Refused: the answer of a route that does not exist.
    let (status, body) = answer(&instance, from(outsider, "/metrics")).await;
    assert_eq!(status, 404);
    let (_, missing) = answer(&instance, from(outsider, "/no-such-route")).await;
    assert_eq!(body, missing, "a refusal looks like a missing route");
    let refused = [
        from(outsider, "/metrics").header(header::AUTHORIZATION, "Bearer wrong-token"),
        from(outsider, "/metrics").header(header::AUTHORIZATION, TOKEN),
        // A forged header from outside does not make a client local.
        from(outsider, "/metrics").header("x-forwarded-for", "127.0.0.1"),
        // Behind a trusted proxy on loopback, the forwarded client decides.
        from("127.0.0.1:40000", "/metrics").header("x-forwarded-for", "198.51.100.9"),
        // Without a peer address (no socket), nobody is local.
        Request::get("/metrics"),
    ];
    for request in refused {
        let (status, body) = answer(&instance, request).await;
        assert_eq!(status, 404, "{body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["error"]["code"], "not_found");
    }

    // Allowed: the token from anywhere, and loopback (IPv4, IPv6, IPv4-mapped).
    let allowed = [
        from(outsider, "/metrics").header(header::AUTHORIZATION, format!("Bearer {TOKEN}")),
        from("127.0.0.1:40000", "/metrics"),
        from("[::1]:40000", "/metrics"),
        from("[::ffff:127.0.0.1]:40000", "/metrics"),
    ];
    for request in allowed {
        let (response, body) = send(&instance, request.body(Body::empty()).unwrap()).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4"),
            "{:?}",
            response.headers()
        );
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains("jincheng_index_lag_changes")
        );
    }
    instance.indexing.shutdown();
    drop(instance);

    // No token configured: a bearer header opens nothing.
    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), "")).unwrap();
    let (status, _) = answer(
        &instance,
        from(outsider, "/metrics").header(header::AUTHORIZATION, "Bearer "),
    )
    .await;
    assert_eq!(status, 404);
    instance.indexing.shutdown();
    drop(instance);

    // Public: anyone.
    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), "[metrics]\npublic = true")).unwrap();
    let (status, body) = answer(&instance, from(outsider, "/metrics")).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn harvest_runs_and_items_per_source_come_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("museum.csv");
    // Two objects and one row without a title, which is quarantined.
    std::fs::write(&csv, "编号,名称\nM1,黄河铁桥\nM2,铜奔马\nM3,\n").unwrap();
    let institution = &synthetic_institutions()[0].id;
    let source = format!(
        "[[sources]]\nid = \"museum-csv\"\ninstitution = {institution:?}\nprotocol = \"csv\"\n\
         path = {:?}\nid_field = \"编号\"\nresource_type = \"artefact\"\n\
         [sources.mapping]\ntitle = \"名称\"\n",
        csv.display().to_string()
    );
    let config = config(&dir.path().join("data"), &source);
    let instance = Instance::open(config).unwrap();
    let source = instance.config.sources[0].clone();
    let item =
        |outcome: &str| format!(r#"jincheng_harvest_items_total{{source="museum-csv",outcome="{outcome}"}}"#);
    let complete = r#"jincheng_harvest_runs_total{source="museum-csv",status="complete"}"#;

    let before = scrape(&instance).await;
    assert_eq!(sample(&before, complete), None, "no run yet:\n{before}");

    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert_eq!((run.counts.added, run.counts.quarantined), (2, 1), "{run:?}");
    instance.wait_indexed(DEADLINE).await.unwrap();
    let text = scrape(&instance).await;
    assert_eq!(sample(&text, complete), Some(1.0), "{text}");
    assert_eq!(sample(&text, &item("added")), Some(2.0), "{text}");
    assert_eq!(sample(&text, &item("quarantined")), Some(1.0), "{text}");
    assert_eq!(sample(&text, &item("unchanged")), Some(0.0), "{text}");
    assert_eq!(sample(&text, "jincheng_index_lag_changes"), Some(0.0), "{text}");
    assert_eq!(sample(&text, "jincheng_index_documents"), Some(2.0), "{text}");
    assert!(
        sample(&text, "jincheng_store_size_bytes").unwrap() > 0.0,
        "{text}"
    );
    assert!(
        sample(&text, "jincheng_index_size_bytes").unwrap() > 0.0,
        "{text}"
    );

    // A second run of the same dump: the totals add up across runs.
    instance.harvest(&source, |_| {}).await.unwrap();
    let text = scrape(&instance).await;
    assert_eq!(sample(&text, complete), Some(2.0), "{text}");
    assert_eq!(sample(&text, &item("added")), Some(2.0), "{text}");
    assert_eq!(sample(&text, &item("unchanged")), Some(2.0), "{text}");
    assert_eq!(sample(&text, &item("quarantined")), Some(2.0), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_the_lag_and_readiness_waits_for_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), "")).unwrap();
    let institutions = synthetic_institutions();
    let first: Vec<_> = (0..20).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&first).unwrap();
    instance.wait_indexed(DEADLINE).await.unwrap();
    let (status, health) = router::get_json(&instance, "/readyz").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(
        (health["ready"].as_bool(), health["lag"].as_u64()),
        (Some(true), Some(0))
    );

    // With the follower stopped, changes pile up in the store: the node is alive but not
    // ready, and the metrics show the same lag.
    instance.indexing.shutdown();
    let more: Vec<_> = (20..5_100).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&more).unwrap();
    let (status, health) = router::get_json(&instance, "/healthz").await;
    assert_eq!(status, 200, "{health}");
    let lag = health["lag"].as_u64().unwrap();
    assert_eq!(
        lag,
        health["store_seq"].as_u64().unwrap() - health["indexed_seq"].as_u64().unwrap()
    );
    assert!(lag >= 5_080, "{health}");
    assert_eq!(health["status"], "indexing");
    assert_eq!(health["ready"], false);
    let (status, ready) = router::get_json(&instance, "/readyz").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["lag"], lag);
    let text = scrape(&instance).await;
    assert_eq!(
        sample(&text, "jincheng_index_lag_changes"),
        Some(lag as f64),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_accept_loop_counts_its_connections() {
    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), "")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(jincheng::server::serve(
        listener,
        instance.router(),
        std::future::pending(),
    ));
    let client = &http::client();
    let url = &format!("http://{address}/metrics");
    let scrape = move || async move {
        let response = client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    let open = |text: &str| sample(text, "jincheng_connections_open").unwrap();
    let accepted = |text: &str| sample(text, "jincheng_connections_accepted_total").unwrap();

    let first = scrape().await;
    assert!(open(&first) >= 1.0, "the scrape's own connection:\n{first}");

    // A second connection, held open after one answered request.
    let mut held = tokio::net::TcpStream::connect(address).await.unwrap();
    held.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 12];
    held.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let second = scrape().await;
    assert!(accepted(&second) >= accepted(&first) + 1.0, "{second}");
    assert!(open(&second) >= 2.0, "{second}");

    // Once it closes, it is no longer counted as open.
    drop(held);
    let started = Instant::now();
    loop {
        let now = scrape().await;
        if open(&now) < open(&second) {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "still counted open:\n{now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
