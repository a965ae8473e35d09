//! The embedded demo: sample providers on our own server, harvested over HTTP, searchable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/http.rs"]
mod http;

use http::encode;
use serde_json::Value;

async fn get(base: &str, path: &str) -> Value {
    http::get_json(&format!("{base}{path}")).await.1
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_harvests_over_http_and_finds_the_poem_twice_over() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let demo = jincheng::demo::start(listener, dir.path().join("data"), async {
        let _ = stopped.await;
    })
    .await
    .unwrap();

    let added: u64 = demo.runs.iter().map(|r| r.counts.added).sum();
    assert!(added >= 500, "at least 500 sample records ({added})");
    assert!(
        demo.runs
            .iter()
            .all(|r| r.status == "complete" && r.counts.quarantined == 0),
        "{:?}",
        demo.runs
    );

    let institutions = get(&demo.base_url, "/api/v1/institutions").await;
    let types: std::collections::BTreeSet<&str> = institutions["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        ["art_gallery", "cultural_centre", "library", "museum"]
    );

    // Simplified and traditional queries both find the poem catalogued in traditional script.
    for query in ["静夜思", "靜夜思"] {
        let found = get(&demo.base_url, &format!("/api/v1/search?q={}", encode(query))).await;
        let first = &found["hits"][0];
        assert_eq!(first["title"], "靜夜思", "{query}: {found}");
        assert_eq!(first["creators"][0], "李白");
        assert_eq!(first["highlights"]["title"], "<em>靜夜思</em>");
    }
    // A line of the poem, in simplified characters, finds it through its description.
    let found = get(
        &demo.base_url,
        &format!("/api/v1/search?q={}", encode("床前明月光")),
    )
    .await;
    assert_eq!(found["hits"][0]["title"], "靜夜思", "{found}");

    let health = get(&demo.base_url, "/healthz").await;
    assert_eq!(health["status"], "ok");
    let _ = stop.send(());
    demo.server.await.unwrap().unwrap();
    demo.instance.indexing.shutdown();
    drop(demo.instance);

    // A second start on the same data directory harvests incrementally: nothing new.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let again = jincheng::demo::start(listener, dir.path().join("data"), std::future::pending())
        .await
        .unwrap();
    for run in &again.runs {
        assert_eq!(
            (run.counts.added, run.counts.updated, run.counts.deleted),
            (0, 0, 0),
            "{run:?}"
        );
    }
    assert_eq!(again.instance.store.live_records().unwrap(), added);
}
