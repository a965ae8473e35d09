//! Interoperability with an independent OAI-PMH provider: the pyoai test peer, over
//! loopback, checked against the peer's own ground truth.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../tests/support/peer.rs"]
mod peer;

use std::collections::{BTreeMap, BTreeSet};

use jincheng_harvesters::{
    Error, Harvest, HarvestedItem, HttpLimits, ItemOutcome, ListRequest, OaiPmhHarvester, OaiPmhSource, Page,
};
use peer::{PeerOptions, PeerServer, TruthRecord};

fn harvester(server: &PeerServer, set: Option<&str>) -> OaiPmhHarvester {
    let source = OaiPmhSource {
        source_id: "peer".into(),
        institution: "peer-lib".into(),
        base_url: server.base_url().parse().unwrap(),
        metadata_prefix: "oai_dc".into(),
        set: set.map(str::to_owned),
    };
    let limits = HttpLimits {
        max_retry_after: std::time::Duration::from_secs(2),
        ..HttpLimits::default()
    };
    OaiPmhHarvester::new(source, limits).unwrap()
}

/// Follows `request` to the end of the list; returns every item and the number of pages.
async fn harvest_all(harvester: &OaiPmhHarvester, request: ListRequest) -> (Vec<HarvestedItem>, usize) {
    let mut harvest = Harvest::new(harvester, request);
    let mut items = Vec::new();
    let mut pages = 0;
    while let Some(page) = harvest.next_page().await.unwrap() {
        pages += 1;
        assert!(pages <= 1000, "the list does not end");
        items.extend(page.items);
    }
    (items, pages)
}

/// Checks that `items` are exactly `expected`, header by header and title by title.
fn assert_matches_truth(items: &[HarvestedItem], expected: &[&TruthRecord]) {
    let by_id: BTreeMap<&str, &HarvestedItem> = items.iter().map(|i| (i.local_id.as_str(), i)).collect();
    assert_eq!(by_id.len(), items.len(), "duplicate identifiers in the harvest");
    let harvested: BTreeSet<&str> = by_id.keys().copied().collect();
    let wanted: BTreeSet<&str> = expected.iter().map(|t| t.identifier.as_str()).collect();
    assert_eq!(
        harvested.difference(&wanted).count() + wanted.difference(&harvested).count(),
        0,
        "extra: {:?}, missing: {:?}",
        harvested.difference(&wanted).take(5).collect::<Vec<_>>(),
        wanted.difference(&harvested).take(5).collect::<Vec<_>>()
    );
    for truth in expected {
        let item = by_id[truth.identifier.as_str()];
        assert_eq!(item.datestamp, truth.datestamp, "{}", truth.identifier);
        assert_eq!(item.sets, truth.sets, "{}", truth.identifier);
        match &item.outcome {
            ItemOutcome::Deleted => assert!(truth.deleted, "{} is not deleted", truth.identifier),
            ItemOutcome::Record(record) => {
                assert!(!truth.deleted, "{} should be deleted", truth.identifier);
                assert_eq!(record.id, format!("peer:{}", truth.identifier));
                assert_eq!(record.institution, "peer-lib");
                assert!(
                    record.title.starts_with(&truth.title),
                    "{}: {:?} does not start with {:?}",
                    truth.identifier,
                    record.title,
                    truth.title
                );
                assert_eq!(record.language.as_deref(), Some("zh"));
                assert!(record.source_url.is_some());
            }
            ItemOutcome::Quarantined { reason } => {
                panic!("{} quarantined: {reason}\n{}", truth.identifier, item.raw)
            }
        }
    }
}

#[tokio::test]
async fn full_harvest_follows_tokens_and_matches_the_ground_truth() {
    let server = PeerServer::start(2000);
    let harvester = harvester(&server, None);
    let identify = harvester.identify().await.unwrap();
    assert_eq!(identify.granularity, jincheng_harvesters::Granularity::Seconds);
    assert_eq!(identify.deleted_record, "persistent");

    let (items, pages) = harvest_all(
        &harvester,
        ListRequest::Start {
            from: None,
            until: None,
        },
    )
    .await;
    assert_eq!(pages, 40);
    assert_eq!(items.len(), 2000);
    let deleted = items.iter().filter(|i| i.outcome == ItemOutcome::Deleted).count();
    assert_eq!(deleted, 117);
    let expected: Vec<&TruthRecord> = server.truth().iter().collect();
    assert_eq!(expected.iter().filter(|t| t.deleted).count(), 117);
    assert_matches_truth(&items, &expected);

    // The mapping keeps what the peer sends: ISBNs normalised, CLC classes split out.
    let records: Vec<&schemas::Record> = items
        .iter()
        .filter_map(|i| match &i.outcome {
            ItemOutcome::Record(r) => Some(&**r),
            _ => None,
        })
        .collect();
    assert!(records.iter().any(|r| !r.isbns.is_empty()));
    assert!(records.iter().all(|r| r.isbns.iter().all(|i| i.len() == 13)));
    assert!(
        records.iter().all(|r| r.classifications.len() == 1),
        "one CLC class each"
    );
    assert!(records.iter().all(|r| r.year().is_some()));
}

#[tokio::test]
async fn selective_harvests_match_the_filtered_ground_truth() {
    let server = PeerServer::start(2000);
    let truth = server.truth();
    // Bounds taken from real datestamps, so inclusiveness is tested at both ends.
    let from = truth[500].datestamp.clone();
    let until = truth[1200].datestamp.clone();
    let harvester = harvester(&server, None);
    let request = ListRequest::Start {
        from: Some(from.clone()),
        until: Some(until.clone()),
    };
    let (items, _) = harvest_all(&harvester, request).await;
    let expected: Vec<&TruthRecord> = truth
        .iter()
        .filter(|t| t.datestamp >= from && t.datestamp <= until)
        .collect();
    assert!(expected.len() >= 701);
    assert_matches_truth(&items, &expected);

    let nlc = harvester_with_set(&server, "nlc");
    let (items, _) = harvest_all(
        &nlc,
        ListRequest::Start {
            from: None,
            until: None,
        },
    )
    .await;
    let expected: Vec<&TruthRecord> = truth
        .iter()
        .filter(|t| t.sets.iter().any(|s| s == "nlc"))
        .collect();
    assert!(!expected.is_empty() && expected.len() < truth.len());
    assert_matches_truth(&items, &expected);

    // A set and a date window together; `from` alone.
    let request = ListRequest::Start {
        from: Some(from.clone()),
        until: None,
    };
    let (items, _) = harvest_all(&nlc, request).await;
    let expected: Vec<&TruthRecord> = truth
        .iter()
        .filter(|t| t.datestamp >= from && t.sets.iter().any(|s| s == "nlc"))
        .collect();
    assert_matches_truth(&items, &expected);

    // An empty window is an empty, complete list, not an error.
    let request = ListRequest::Start {
        from: Some("2030-01-01T00:00:00Z".into()),
        until: None,
    };
    let page = harvester.list_records(&request).await.unwrap();
    assert!(page.items.is_empty());
    assert_eq!(page.next_token, None);
}

fn harvester_with_set(server: &PeerServer, set: &str) -> OaiPmhHarvester {
    harvester(server, Some(set))
}

#[tokio::test]
async fn a_flaky_peer_still_gives_every_record() {
    let server = PeerServer::start_with(PeerOptions {
        flaky: 3,
        ..PeerOptions::default()
    });
    let harvester = harvester(&server, None);
    let started = std::time::Instant::now();
    let (items, pages) = harvest_all(
        &harvester,
        ListRequest::Start {
            from: None,
            until: None,
        },
    )
    .await;
    assert_eq!(pages, 40);
    let expected: Vec<&TruthRecord> = server.truth().iter().collect();
    assert_matches_truth(&items, &expected);
    // Every third request was refused with `Retry-After: 1`, and we waited each time.
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_harvest_resumes_from_a_stored_token() {
    let server = PeerServer::start(2000);
    let first: Page = harvester(&server, None)
        .list_records(&ListRequest::Start {
            from: None,
            until: None,
        })
        .await
        .unwrap();
    let token = first.next_token.clone().expect("a token after page 1");
    assert_eq!(first.complete_list_size, Some(2000));
    assert_eq!(first.cursor, Some(0));

    // A new harvester (a restarted process) continues from the checkpoint.
    let resumed = harvester(&server, None);
    let (rest, pages) = harvest_all(&resumed, ListRequest::Resume { token }).await;
    assert_eq!(pages, 39);
    let mut all = first.items;
    all.extend(rest);
    let expected: Vec<&TruthRecord> = server.truth().iter().collect();
    assert_matches_truth(&all, &expected);

    // A token the peer never issued is an OAI error the app can restart from.
    let err = resumed
        .list_records(&ListRequest::Resume {
            token: "not-a-token".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Oai { code, .. } if code == "badResumptionToken"),
        "{err}"
    );
}
