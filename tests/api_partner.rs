//! What partners get: NDJSON bulk export with increments, and JSON-LD records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, header};
use jincheng::Instance;
use jincheng::bench::{synthetic_institutions, synthetic_record};
use serde_json::Value;
use services::config::Config;
use store::{Checkpoint, Incoming};
use tower::ServiceExt;

#[path = "support/http.rs"]
mod http;

fn instance(dir: &std::path::Path) -> Instance {
    let mut text = format!("data_dir = {:?}\n", dir.display().to_string());
    for i in synthetic_institutions() {
        text.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\ndistrict = {:?}\n",
            i.id,
            i.name,
            i.institution_type.as_str(),
            i.district.unwrap().as_str()
        ));
    }
    Instance::open(Config::parse(&text).unwrap()).unwrap()
}

async fn get(instance: &Instance, uri: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut request = Request::get(uri);
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response = instance
        .router()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, content_type, String::from_utf8(body.to_vec()).unwrap())
}

fn lines(body: &str) -> Vec<Value> {
    body.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ndjson_export_streams_everything_and_then_increments() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let institutions = synthetic_institutions();
    let records: Vec<_> = (0..2_500).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&records).unwrap();

    let (status, content_type, body) = get(&instance, "/api/v1/export", None).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/x-ndjson"));
    let all = lines(&body);
    assert_eq!(
        all.len(),
        2_500,
        "every record once, across several store batches"
    );
    assert_eq!(all[0]["record"], serde_json::to_value(&records[0]).unwrap());

    let museum = records.iter().filter(|r| r.institution == "b-museum").count();
    let (_, _, body) = get(&instance, "/api/v1/export?institution=b-museum", None).await;
    assert_eq!(lines(&body).len(), museum);
    let (_, _, body) = get(&instance, "/api/v1/export?resource_type=artefact", None).await;
    assert_eq!(
        lines(&body).len(),
        museum,
        "the museum's records are its artefacts"
    );

    // An increment: one deletion, seen only with `since`.
    let deletion = Incoming::Deleted {
        id: records[3].id.clone(),
        local_id: "3".into(),
        datestamp: String::new(),
    };
    let run = instance.store.start_run("bench", false).unwrap();
    instance
        .store
        .apply_page(
            run,
            "bench",
            &records[3].institution,
            &[deletion],
            &Checkpoint::default(),
        )
        .unwrap();
    let (_, _, body) = get(&instance, "/api/v1/export", None).await;
    assert_eq!(lines(&body).len(), 2_499);
    let (_, _, body) = get(&instance, "/api/v1/export?since=2000-01-01T00:00:00Z", None).await;
    let changes = lines(&body);
    let last = changes.last().unwrap();
    assert_eq!(
        (last["id"].as_str().unwrap(), &last["deleted"]),
        (records[3].id.as_str(), &Value::Bool(true))
    );
    let (_, _, body) = get(&instance, "/api/v1/export?since=2999-01-01T00:00:00Z", None).await;
    assert!(body.is_empty());

    let (status, _, body) = get(&instance, "/api/v1/export?since=yesterday", None).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn records_come_as_json_ld_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let institutions = synthetic_institutions();
    let book = (0..50)
        .map(|i| synthetic_record(i, &institutions))
        .find(|r| r.institution == "b-lzlib")
        .unwrap();
    instance
        .store
        .import_records(std::slice::from_ref(&book))
        .unwrap();
    let uri = format!("/api/v1/records/{}", book.id);

    let (status, content_type, body) = get(&instance, &uri, Some("application/ld+json")).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/ld+json");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["@context"], "https://schema.org");
    assert!(matches!(doc["@type"].as_str(), Some("Book")), "{doc}");
    assert_eq!(doc["name"], book.title.as_str());
    assert_eq!(doc["holdingArchive"]["name"], "兰州市图书馆");

    let (_, content_type, body) = get(&instance, &uri, Some("application/json")).await;
    assert!(content_type.starts_with("application/json"));
    let plain: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(plain["title"], book.title.as_str());
}

/// An export that matches nothing is a complete, empty 200 body, also compressed and over a
/// real socket (the stream used to be polled after its end there, and panicked), and the
/// server goes on answering.
#[tokio::test(flavor = "multi_thread")]
async fn an_empty_export_is_a_complete_empty_body() {
    let dir = tempfile::tempdir().unwrap();
    let instance = instance(dir.path());
    let institutions = synthetic_institutions();
    let records: Vec<_> = (0..30).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&records).unwrap();

    // Through the router, compressed.
    for uri in [
        "/api/v1/export?institution=&resource_type=book",
        "/api/v1/export?institution=nowhere",
    ] {
        let response = instance
            .router()
            .oneshot(
                Request::get(uri)
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{uri}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        assert!(body.is_ok(), "{uri}: the body did not end cleanly");
    }

    // Over loopback: reqwest asks for gzip and reads to the end.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(jincheng::server::serve(
        listener,
        instance.router(),
        std::future::pending(),
    ));
    let client = http::client();
    for _ in 0..3 {
        let response = client
            .get(format!("{base}/api/v1/export?institution=&resource_type=book"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body = response.text().await.expect("a complete body");
        assert_eq!(body, "", "nothing matches");
    }
    // A non-empty export still streams every line.
    let response = client.get(format!("{base}/api/v1/export")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("a complete body");
    assert_eq!(lines(&body).len(), 30);
    assert!(body.ends_with('\n'));
}
