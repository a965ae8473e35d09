//! The static files and the paged JSON API, through the real router.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;

async fn fetch(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let response = jincheng_demo::router()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, content_type, body.to_vec())
}

#[tokio::test]
async fn every_file_is_served_with_its_content_type() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, want_type) in [
        ("ydlib_cnmarc.mrc", "application/marc"),
        ("lzlib_marcxml.xml", "application/marcxml+xml"),
        ("lzmuseum_lido.xml", "application/xml"),
        ("lzhy_works.csv", "text/csv; charset=gbk"),
        ("qlhculture_events.rss", "application/rss+xml"),
    ] {
        let (status, content_type, body) = fetch(&format!("/demo/files/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert!(content_type.starts_with(want_type), "{name}: {content_type}");
        assert_eq!(
            body,
            std::fs::read(demo.join("files").join(name)).unwrap(),
            "{name}"
        );
    }
    let (status, _, _) = fetch("/demo/files/nothing.mrc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch("/demo/files/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_pages_through_all_works_then_answers_an_empty_page() {
    let mut ids = Vec::new();
    for page in 1.. {
        let (status, content_type, body) = fetch(&format!("/demo/api/works?page={page}&size=20")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("application/json"), "{content_type}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["total"], 45);
        let items = json["data"]["items"].as_array().unwrap();
        if items.is_empty() {
            assert_eq!(page, 4);
            break;
        }
        assert!(items.len() <= 20);
        ids.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
    }
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (45, 45));
    // Defaults: page 1, 20 items.
    let (_, _, body) = fetch("/demo/api/works").await;
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["data"]["items"].as_array().unwrap().len(), 20);
    assert_eq!(json["data"]["items"][0]["id"], ids[0]);
    for bad in ["page=0", "page=x", "size=-1"] {
        let (status, _, _) = fetch(&format!("/demo/api/works?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}
