//! The hierarchy for real: a county Jincheng with its own harvested source and curated
//! records, and a city Jincheng that harvests the county's `/oai` in the lossless
//! `jincheng` format through the real harvester.
//!
//! Provenance at the city level: the record id keeps the county's whole id
//! (`{city source}:oai:jincheng:{county record id}`), the record keeps the institution that
//! holds it, and the city's config declares that institution with its level (`county`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/http.rs"]
mod http;

use jincheng::Instance;
use schemas::{DateRange, Holding, Record, ResourceType};
use services::config::Config;
use store::RunStatus;
use store::{Checkpoint, Incoming};
use tokio::net::TcpListener;

const CITY_SOURCE: &str = "yuzhong-county";

fn curated(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| {
            let mut r = Record::new(format!("curated:{i:03}"), "yzlib", format!("榆中县志稿本第{i}卷"));
            r.resource_type = if i % 2 == 0 {
                ResourceType::AncientBook
            } else {
                ResourceType::Manuscript
            };
            r.resource_type_original = Some("古籍".into());
            r.alternative_titles = vec![format!("Yuzhong gazetteer vol. {i}")];
            r.creators = vec!["佚名".into()];
            r.subjects = vec!["地方志".into(), "榆中县".into()];
            r.classifications = vec!["K294.24".into()];
            r.description = Some(format!("清代稿本，第{i}卷。\n附 & <图>。"));
            r.date = Some(DateRange {
                display: "清乾隆年间".into(),
                year_start: Some(1736),
                year_end: Some(1795),
            });
            r.language = Some("zh".into());
            r.coverage = vec!["清代".into()];
            r.holdings = vec![Holding {
                institution: "yzlib".into(),
                branch: Some("古籍部".into()),
                call_number: Some(format!("地/{i}")),
                items: Some(1),
                status: Some("馆内阅览".into()),
            }];
            r
        })
        .collect()
}

async fn serve(
    instance: &Instance,
    with_demo: bool,
) -> (String, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut router = instance.router();
    if with_demo {
        router = router.merge(jincheng_demo::router());
    }
    (
        base,
        tokio::spawn(jincheng::server::serve(listener, router, std::future::pending())),
    )
}

/// Every live record of an instance, by id.
fn live(instance: &Instance) -> std::collections::BTreeMap<String, Record> {
    let mut out = std::collections::BTreeMap::new();
    for change in instance.store.changes_since(0, 1_000_000).unwrap() {
        match change.record {
            Some(record) => out.insert(change.id, record),
            None => out.remove(&change.id),
        };
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_city_harvests_a_county_losslessly_with_deletions_updates_and_provenance() {
    let dir = tempfile::tempdir().unwrap();

    // The county: Yuzhong's library (a demo collection harvested over HTTP) and curated
    // records imported directly.
    let county_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let county_base = format!("http://{}", county_listener.local_addr().unwrap());
    let mut county_config = Config::parse(&jincheng_demo::config_toml(&county_base)).unwrap();
    county_config.data_dir = dir.path().join("county");
    county_config.sources.retain(|s| s.institution == "yzlib");
    let county = Instance::open(county_config).unwrap();
    let router = county.router().merge(jincheng_demo::router());
    let county_server = tokio::spawn(jincheng::server::serve(
        county_listener,
        router,
        std::future::pending(),
    ));
    let run = county.harvest(&county.config.sources[0], |_| {}).await.unwrap();
    assert_eq!(run.status, RunStatus::Complete);
    let records = curated(12);
    county.store.import_records(&records).unwrap();
    let county_records = live(&county);
    assert!(county_records.len() > 80);

    // The city harvests the county's provider in the jincheng format.
    let city_toml = format!(
        r#"
[[institutions]]
id = "yzlib"
name = "榆中县图书馆"
type = "library"
district = "榆中县"
level = "county"

[[institutions]]
id = "yuzhong"
name = "榆中县公共文化服务平台"
type = "cultural_centre"
district = "榆中县"
level = "county"

[[sources]]
id = "{CITY_SOURCE}"
institution = "yuzhong"
protocol = "oai-pmh"
url = "{county_base}/oai"
metadata_prefix = "jincheng"
"#
    );
    let mut city_config = Config::parse(&city_toml).unwrap();
    city_config.data_dir = dir.path().join("city");
    let city = Instance::open(city_config).unwrap();
    let source = city.config.sources[0].clone();
    let run = city.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(
        (run.status.as_str(), run.counts.quarantined),
        ("complete", 0),
        "{run:?}"
    );
    assert_eq!(run.counts.added as usize, county_records.len(), "{run:?}");

    let city_id = |county_id: &str| format!("{CITY_SOURCE}:oai:jincheng:{county_id}");
    let check_all = |county_records: &std::collections::BTreeMap<String, Record>| {
        let city_records = live(&city);
        assert_eq!(city_records.len(), county_records.len());
        for (id, record) in county_records {
            let mut arrived = city_records
                .get(&city_id(id))
                .unwrap_or_else(|| panic!("{id} did not arrive"))
                .clone();
            assert_eq!(arrived.id, city_id(id));
            arrived.id = id.clone();
            assert_eq!(&arrived, record, "{id} changed on the way");
        }
    };
    check_all(&county_records);

    // The county updates one record and deletes another; the city's next (incremental)
    // harvest brings both.
    let mut changed = records[3].clone();
    changed.title = "榆中县志稿本（修订）".into();
    changed.holdings[0].status = Some("修复中".into());
    county
        .store
        .import_records(std::slice::from_ref(&changed))
        .unwrap();
    let doomed = county_records
        .keys()
        .find(|id| id.starts_with("yzlib-oai:"))
        .unwrap()
        .clone();
    let run_id = county.store.start_run("", false).unwrap();
    let deletion = Incoming::Deleted {
        id: doomed.clone(),
        local_id: doomed.clone(),
        datestamp: String::new(),
    };
    county
        .store
        .apply_page(run_id, "", "yzlib", &[deletion], &Checkpoint::default())
        .unwrap();
    let run = city.harvest(&source, |_| {}).await.unwrap();
    assert_eq!(run.status, RunStatus::Complete, "{run:?}");
    assert_eq!(
        (run.counts.updated, run.counts.deleted, run.counts.added),
        (1, 1, 0),
        "{run:?}"
    );
    let county_records = live(&county);
    check_all(&county_records);
    assert_eq!(city.store.record(&city_id(&doomed)).unwrap(), None);

    // Searchable at the city level, with provenance.
    city.wait_indexed(std::time::Duration::from_secs(120))
        .await
        .unwrap();
    let (city_base, city_server) = serve(&city, false).await;
    let (status, found) = http::get_json(&format!(
        "{city_base}/api/v1/search?q={}",
        http::encode("榆中县志稿本（修订）")
    ))
    .await;
    assert_eq!(status, 200, "{found}");
    let hit = &found["hits"][0];
    assert_eq!(hit["id"], city_id(&changed.id), "{found}");
    assert_eq!(hit["institution"]["id"], "yzlib", "{found}");
    let (_, institutions) = http::get_json(&format!("{city_base}/api/v1/institutions")).await;
    let yzlib = institutions["institutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "yzlib")
        .unwrap()
        .clone();
    assert_eq!(yzlib["level"], "county", "{yzlib}");

    city_server.abort();
    county_server.abort();
    city.indexing.shutdown();
    county.indexing.shutdown();
}
