//! Faults in the index follower (issue 18), injected with the indexer's test-only failpoints:
//! a record whose analysis panics, and a record that stops the tantivy writer itself, are
//! each quarantined alone with their reason; the records around them are indexed, nothing
//! committed before is lost, and the follower goes on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use indexer::{FAILPOINT_KILL, FAILPOINT_PANIC};
use jincheng::Instance;
use schemas::Record;
use services::config::Config;
use services::search::SearchParams;

const CONFIG: &str = r#"
[[institutions]]
id = "lzlib"
name = "兰州市图书馆"
type = "library"
"#;

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

#[tokio::test(flavor = "multi_thread")]
async fn poison_records_are_quarantined_alone_and_the_follower_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::parse(CONFIG).unwrap();
    config.data_dir = dir.path().to_path_buf();
    let instance = Instance::open(config).unwrap();
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
