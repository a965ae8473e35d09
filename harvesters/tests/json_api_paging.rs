//! JSON APIs over loopback: page numbers, offsets, next links, the loop guard and the page
//! cap; and a JSON file read directly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};

use axum::{Router, extract::Query, response::IntoResponse, routing::get};
use jincheng_harvesters::{
    Error, HttpLimits, ItemOutcome, JsonApiHarvester, JsonApiOptions, Paging, read_json_records,
};
use schemas::ResourceType;

fn fixture(n: u32) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/json/page{n}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn options(url: &str, paging: Paging) -> JsonApiOptions {
    JsonApiOptions {
        source_id: "lzwhg-api".into(),
        institution: "lzwhg".into(),
        url: url.parse().unwrap(),
        paging,
        records_path: "data.items".into(),
        id_path: "id".into(),
        fields: [
            ("title", "title"),
            ("event.start", "schedule.start"),
            ("event.venue", "schedule.venue.name"),
            ("subjects", "tags.name"),
            ("event.live_stream_url", "links.live"),
        ]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect::<BTreeMap<_, _>>(),
        required: vec!["title".into()],
        default_resource_type: Some(ResourceType::Event),
        max_pages: 10,
    }
}

/// Serves the fixture pages under every paging style.
async fn serve() -> String {
    async fn by_page(Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
        let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        assert_eq!(q.get("size").map(String::as_str), Some("2"));
        fixture(page.min(3))
    }
    async fn by_offset(Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
        let offset: u32 = q.get("offset").and_then(|p| p.parse().ok()).unwrap_or(0);
        match offset {
            0 => fixture(1),
            2 => fixture(2),
            _ => fixture(3),
        }
    }
    async fn linked(Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
        let page = q.get("p").map(String::as_str).unwrap_or("1");
        let mut body: serde_json::Value =
            serde_json::from_str(&fixture(if page == "1" { 1 } else { 2 })).unwrap();
        if page == "1" {
            body["links"] = serde_json::json!({"next": "/linked?p=2"});
        }
        body.to_string()
    }
    async fn looping() -> impl IntoResponse {
        let mut body: serde_json::Value = serde_json::from_str(&fixture(1)).unwrap();
        body["links"] = serde_json::json!({"next": "/looping"});
        body.to_string()
    }
    async fn not_json() -> impl IntoResponse {
        "<html>维护中</html>"
    }
    let app = Router::new()
        .route("/paged", get(by_page))
        .route("/offset", get(by_offset))
        .route("/linked", get(linked))
        .route("/looping", get(looping))
        .route("/broken", get(not_json));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

async fn harvest_all(options: JsonApiOptions) -> (Vec<jincheng_harvesters::JsonApiPage>, Result<(), Error>) {
    let mut harvester = JsonApiHarvester::new(options, HttpLimits::default()).unwrap();
    let mut pages = Vec::new();
    loop {
        match harvester.next_page().await {
            Ok(Some(page)) => pages.push(page),
            Ok(None) => return (pages, Ok(())),
            Err(e) => return (pages, Err(e)),
        }
    }
}

fn check_items(pages: &[jincheng_harvesters::JsonApiPage]) {
    let items: Vec<_> = pages.iter().flat_map(|p| &p.items).collect();
    assert_eq!(items.len(), 5);
    let ItemOutcome::Record(first) = &items[0].outcome else {
        panic!("{:?}", items[0].outcome)
    };
    assert_eq!(first.id, "lzwhg-api:ev-001");
    assert_eq!(first.title, "兰州太平鼓展演");
    assert_eq!(first.resource_type, ResourceType::Event);
    assert_eq!(first.subjects, ["民俗", "非遗"]);
    let event = first.event.as_ref().unwrap();
    assert_eq!(event.start.as_deref(), Some("2025-05-01T10:00:00+08:00"));
    assert_eq!(event.venue.as_deref(), Some("东方红广场"));
    assert_eq!(event.live_stream_url, None);
    let ItemOutcome::Record(second) = &items[1].outcome else {
        panic!()
    };
    assert_eq!(
        second.event.as_ref().unwrap().live_stream_url.as_deref(),
        Some("https://live.example.cn/2")
    );
    assert_eq!(
        second.event.as_ref().unwrap().start.as_deref(),
        Some("2025-05-03T19:00")
    );
    let ItemOutcome::Record(third) = &items[2].outcome else {
        panic!()
    };
    assert_eq!(
        third.event.as_ref().unwrap().start.as_deref(),
        Some("2025-05-10T15:00")
    );
    assert!(
        matches!(&items[3].outcome, ItemOutcome::Quarantined { reason } if reason == "record 1: required title (title) is empty")
    );
    assert_eq!(items[3].local_id, "ev-004");
    assert!(
        matches!(&items[4].outcome, ItemOutcome::Quarantined { reason } if reason == "record 2 has no id at \"id\"")
    );
}

#[tokio::test]
async fn page_numbers_offsets_and_next_links() {
    let base = serve().await;
    let paged = Paging::PageNumber {
        param: "page".into(),
        start: 1,
        size_param: Some("size".into()),
        size: 2,
    };
    let (pages, end) = harvest_all(options(&format!("{base}/paged?lang=zh"), paged)).await;
    end.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(
        pages[1].url.as_str(),
        format!("{base}/paged?lang=zh&page=2&size=2")
    );
    check_items(&pages);

    let offset = Paging::Offset {
        param: "offset".into(),
        size_param: Some("limit".into()),
        size: 2,
    };
    let (pages, end) = harvest_all(options(&format!("{base}/offset"), offset)).await;
    end.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[1].url.as_str(), format!("{base}/offset?offset=2&limit=2"));
    check_items(&pages);

    let linked = Paging::NextLink {
        path: "links.next".into(),
    };
    let (pages, end) = harvest_all(options(&format!("{base}/linked"), linked)).await;
    end.unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[0].next_url.as_ref().map(|u| u.as_str()),
        Some(format!("{base}/linked?p=2").as_str())
    );
    check_items(&pages);
}

#[tokio::test]
async fn loops_page_caps_and_non_json_pages_fail() {
    let base = serve().await;
    let linked = Paging::NextLink {
        path: "links.next".into(),
    };
    let (pages, end) = harvest_all(options(&format!("{base}/looping"), linked)).await;
    assert_eq!(pages.len(), 1);
    assert!(
        matches!(end, Err(Error::Protocol { ref message, .. }) if message.contains("loop")),
        "{end:?}"
    );

    let paged = Paging::PageNumber {
        param: "page".into(),
        start: 1,
        size_param: Some("size".into()),
        size: 2,
    };
    let mut capped = options(&format!("{base}/paged"), paged);
    capped.max_pages = 2;
    let (pages, end) = harvest_all(capped).await;
    assert_eq!(pages.len(), 2);
    assert!(
        matches!(end, Err(Error::Protocol { ref message, .. }) if message.contains("more than 2 pages")),
        "{end:?}"
    );

    let (pages, end) = harvest_all(options(&format!("{base}/broken"), Paging::Single)).await;
    assert!(pages.is_empty());
    assert!(
        matches!(end, Err(Error::Protocol { ref message, .. }) if message.starts_with("not JSON")),
        "{end:?}"
    );
}

#[test]
fn a_json_file_is_read_with_the_same_mapping() {
    let opts = options("http://127.0.0.1/unused", Paging::Single);
    let items = read_json_records(fixture(2).as_bytes(), &opts).unwrap();
    assert_eq!(items.len(), 3);
    assert!(matches!(items[0].outcome, ItemOutcome::Record(_)));
    assert!(read_json_records(b"{\"data\": {}}", &opts).is_err());
    assert!(read_json_records(b"not json", &opts).is_err());
    let mut bad = opts.clone();
    bad.fields.insert("colour".into(), "c".into());
    assert!(matches!(
        read_json_records(b"[]", &bad),
        Err(Error::InvalidSource(_))
    ));
}

#[tokio::test]
async fn relative_links_are_resolved_against_the_page() {
    async fn page() -> impl IntoResponse {
        serde_json::json!({"data": {"items": [
            {"id": "1", "title": "甲", "image": "/img/1.jpg", "link": "works/1"},
            {"id": "2", "title": "乙", "image": "https://cdn.example.cn/2.jpg", "link": "https://a.example.cn/2"},
            {"id": "3", "title": "丙", "image": ["../up/3.png", "http://[::1"]},
        ]}})
        .to_string()
    }
    let app = Router::new().route("/api/v2/list", get(page));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut options = options(&format!("http://{address}/api/v2/list"), Paging::Single);
    options.fields = [("title", "title"), ("images", "image"), ("source_url", "link")]
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    let (pages, result) = harvest_all(options).await;
    result.unwrap();
    let records: Vec<_> = pages[0]
        .items
        .iter()
        .map(|item| match &item.outcome {
            ItemOutcome::Record(record) => record,
            other => panic!("{other:?}"),
        })
        .collect();
    let images = |i: usize| {
        records[i]
            .images
            .iter()
            .map(|m| m.url.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(images(0), [format!("http://{address}/img/1.jpg")]);
    assert_eq!(
        records[0].source_url.as_deref(),
        Some(format!("http://{address}/api/v2/works/1").as_str())
    );
    assert_eq!(images(1), ["https://cdn.example.cn/2.jpg"]);
    assert_eq!(records[1].source_url.as_deref(), Some("https://a.example.cn/2"));
    // A broken absolute link is kept as it came, for the image fetcher to report.
    assert_eq!(
        images(2),
        [
            format!("http://{address}/api/up/3.png"),
            "http://[::1".to_string()
        ]
    );
}
