//! End to end against the independent pyoai OAI-PMH provider (`../shared/peers`): harvest
//! over loopback into the store, index, and query our HTTP API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/http.rs"]
mod http;
#[path = "support/peer.rs"]
mod peer;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use store::RunStatus;

use jincheng::Instance;
use serde_json::Value;
use services::config::Config;

/// Two institutions, each harvesting one set of the same peer.
fn config(data_dir: &std::path::Path, base_url: &str) -> Config {
    let text = format!(
        r#"
data_dir = {data_dir:?}
[[institutions]]
id = "nlc"
name = "兰州市图书馆"
type = "library"
district = "城关区"
[[institutions]]
id = "dpm"
name = "兰州市博物馆"
type = "museum"
district = "七里河区"
[[sources]]
id = "peer-nlc"
institution = "nlc"
protocol = "oai-pmh"
url = "{base_url}"
set = "nlc"
[[sources]]
id = "peer-dpm"
institution = "dpm"
protocol = "oai-pmh"
url = "{base_url}"
set = "dpm"
"#,
        data_dir = data_dir.display().to_string()
    );
    Config::parse(&text).unwrap()
}

struct Api {
    base: String,
}

impl Api {
    async fn start(instance: &Instance) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(jincheng::server::serve(
            listener,
            instance.router(),
            std::future::pending(),
        ));
        Api { base }
    }

    async fn get(&self, path_and_query: &str) -> (u16, Value) {
        http::get_json(&format!("{}{path_and_query}", self.base)).await
    }
}

use http::encode;

/// Facet `name` of a search response as value → count.
fn facet(response: &Value, name: &str) -> BTreeMap<String, u64> {
    response["facets"][name]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_string(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn harvest_index_and_search_the_peer() {
    let peer = peer::PeerServer::start(2000);
    let truth = peer.truth();
    assert_eq!(truth.len(), 2000);
    assert_eq!(
        truth.iter().filter(|r| r.deleted).count(),
        117,
        "the peer's ground truth"
    );
    let in_set = |set: &str| {
        truth
            .iter()
            .filter(|r| r.sets.iter().any(|s| s == set))
            .collect::<Vec<_>>()
    };

    let dir = tempfile::tempdir().unwrap();
    let instance = Instance::open(config(dir.path(), &peer.base_url())).unwrap();
    for source in instance.config.sources.clone() {
        let set = source.set.clone().unwrap();
        let expected = in_set(&set);
        let run = instance.harvest(&source, |_| {}).await.unwrap();
        assert_eq!(run.status, RunStatus::Complete, "{run:?}");
        let live = expected.iter().filter(|r| !r.deleted).count() as u64;
        assert_eq!(run.counts.added, live, "{set}: every live record added once");
        assert_eq!(
            run.counts.deleted,
            expected.len() as u64 - live,
            "{set}: deletions"
        );
        assert_eq!(run.counts.quarantined, 0);
        assert!(run.pages >= 2, "{set}: paged ({} pages)", run.pages);
    }
    instance.wait_indexed(Duration::from_secs(60)).await.unwrap();

    let nlc = in_set("nlc");
    let dpm = in_set("dpm");
    let live = |records: &[&peer::TruthRecord]| records.iter().filter(|r| !r.deleted).count() as u64;
    assert_eq!(instance.store.live_records().unwrap(), live(&nlc) + live(&dpm));

    let api = Api::start(&instance).await;

    // Browse: the totals and facet counts equal the ground truth.
    let (status, all) = api.get("/api/v1/search?page_size=5").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"].as_u64().unwrap(), live(&nlc) + live(&dpm));
    assert_eq!(
        facet(&all, "institution"),
        BTreeMap::from([("dpm".into(), live(&dpm)), ("nlc".into(), live(&nlc))])
    );
    assert_eq!(
        facet(&all, "institution_type"),
        BTreeMap::from([("library".into(), live(&nlc)), ("museum".into(), live(&dpm))])
    );
    assert_eq!(
        facet(&all, "region"),
        BTreeMap::from([("七里河区".into(), live(&dpm)), ("城关区".into(), live(&nlc))])
    );
    // The peer's type sets map onto our resource types.
    let mut by_type = BTreeMap::new();
    for record in nlc.iter().chain(dpm.iter()).filter(|r| !r.deleted) {
        let set = record.sets.iter().find(|s| s.starts_with("type:")).unwrap();
        let ours = match set.as_str() {
            "type:book" => "book",
            "type:ancient" => "ancient_book",
            "type:rubbing" => "rubbing",
            "type:image" => "image",
            other => panic!("unexpected set {other}"),
        };
        *by_type.entry(ours.to_string()).or_insert(0u64) += 1;
    }
    assert_eq!(facet(&all, "resource_type"), by_type);

    // A filter narrows, and its own facet still offers the other values.
    let (_, museum) = api
        .get("/api/v1/search?institution_type=museum&page_size=1")
        .await;
    assert_eq!(museum["total"].as_u64().unwrap(), live(&dpm));
    assert_eq!(facet(&museum, "institution_type")["library"], live(&nlc));
    let (_, both) = api
        .get("/api/v1/search?institution=nlc&institution=dpm&page_size=1")
        .await;
    assert_eq!(both["total"], all["total"]);

    // Exact hits: a live record found by its title, with the title highlighted.
    let target = nlc
        .iter()
        .find(|r| !r.deleted && r.title.chars().count() >= 4)
        .unwrap();
    let (_, found) = api
        .get(&format!(
            "/api/v1/search?q={}&page_size=100",
            encode(&target.title)
        ))
        .await;
    let expected_id = format!("peer-nlc:{}", target.identifier);
    let hit = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == expected_id.as_str());
    let hit =
        hit.unwrap_or_else(|| panic!("{} not found by its title {}: {found}", expected_id, target.title));
    assert!(hit["title"].as_str().unwrap().starts_with(&target.title));
    assert!(
        hit["highlights"]["title"].as_str().unwrap().contains("<em>"),
        "{hit}"
    );
    assert_eq!(hit["institution"]["name"], "兰州市图书馆");
    let first = found["hits"][0]["title"].as_str().unwrap();
    assert!(
        first.starts_with(&target.title),
        "a title match ranks first, not {first}"
    );

    // The full record, and deleted records are gone.
    let (status, record) = api
        .get(&format!("/api/v1/records/{}", encode(&expected_id)))
        .await;
    assert_eq!(status, 200);
    assert_eq!(record["institution"], "nlc");
    let gone = nlc.iter().find(|r| r.deleted).unwrap();
    let (status, error) = api
        .get(&format!(
            "/api/v1/records/{}",
            encode(&format!("peer-nlc:{}", gone.identifier))
        ))
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("record_not_found"))
    );

    // Institutions with their counts.
    let (_, institutions) = api.get("/api/v1/institutions").await;
    let counts: BTreeMap<String, u64> = institutions["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([("dpm".into(), live(&dpm)), ("nlc".into(), live(&nlc))])
    );

    // Bad input is a 400 with a code, never a 500.
    for (query, code) in [
        ("page=0", "invalid_parameter"),
        ("page=9999&page_size=100", "page_out_of_range"),
        ("region=北京", "invalid_parameter"),
        (&format!("q={}", encode(&"长".repeat(300))), "query_too_long"),
    ] {
        let (status, body) = api.get(&format!("/api/v1/search?{query}")).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }
    for hostile in ["\"", "-", "title:", "((((", "🙂", "\u{0}", "*", "OR AND NOT"] {
        let (status, _) = api.get(&format!("/api/v1/search?q={}", encode(hostile))).await;
        assert_eq!(status, 200, "{hostile:?}");
    }

    // The second harvest is incremental: the provider has nothing newer.
    for source in instance.config.sources.clone() {
        let run = instance.harvest(&source, |_| {}).await.unwrap();
        assert_eq!(run.status, RunStatus::Complete);
        assert_eq!(
            (run.counts.added, run.counts.updated, run.counts.deleted),
            (0, 0, 0),
            "{run:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flaky_provider_still_yields_a_complete_harvest() {
    let peer = peer::PeerServer::start_with(peer::PeerOptions {
        flaky: 3,
        ..peer::PeerOptions::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), &peer.base_url());
    config.sources.truncate(1);
    config.sources[0].set = None;
    let instance = Instance::open(config).unwrap();
    let run = instance
        .harvest(&instance.config.sources[0].clone(), |_| {})
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Complete, "{run:?}");
    assert_eq!((run.counts.added, run.counts.deleted), (1883, 117));
    assert_eq!(instance.store.live_records().unwrap(), 1883);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_harvest_resumes_without_duplicates() {
    let peer = peer::PeerServer::start(2000);
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path(), &peer.base_url());
    config.sources.truncate(1);
    config.sources[0].set = None;
    let instance = Instance::open(config).unwrap();
    let source = instance.config.sources[0].clone();

    // Interrupt the first run after a few pages, as a crash or a shutdown would.
    let (pages_tx, mut pages_rx) = tokio::sync::mpsc::unbounded_channel();
    let first = {
        let (instance, source) = (instance.clone(), source.clone());
        tokio::spawn(async move {
            instance
                .harvest(&source, move |p| {
                    let _ = pages_tx.send(p.items);
                })
                .await
        })
    };
    let mut seen = 0;
    while seen < 5 {
        pages_rx.recv().await.unwrap();
        seen += 1;
    }
    first.abort();
    let _ = first.await;
    let stored = instance.store.max_seq().unwrap();
    assert!(
        stored > 0 && stored < 2000,
        "interrupted part-way ({stored} stored)"
    );
    assert!(
        instance
            .store
            .checkpoint(&source.id)
            .unwrap()
            .resumption_token
            .is_some()
    );

    let run = instance.harvest(&source, |_| {}).await.unwrap();
    assert!(run.resumed);
    assert_eq!(run.status, RunStatus::Complete);
    assert_eq!(instance.store.live_records().unwrap(), 1883);
    assert_eq!(
        instance.store.max_seq().unwrap(),
        2000,
        "each record stored exactly once"
    );
    let ids: HashSet<String> = instance
        .store
        .changes_since(0, 5000)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids.len(), 2000);
}
