//! A small run of `jincheng bench load-during-harvest`, so the benchmark cannot rot: the
//! synthetic provider, the harvest through the real path, the searchers and the curator all
//! work together. No speed is asserted; only that every part did its job.

use std::time::Duration;

use jincheng::bench::load_during_harvest::{LoadOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_load_during_harvest_run_completes_with_sane_numbers() {
    let records = 5_000;
    let seed_records = 1_000;
    let report = run(&LoadOptions {
        records,
        seed_records,
        search_clients: 2,
        search_pause: Duration::from_millis(10),
        write_pause: Duration::from_millis(50),
        idle: Duration::from_millis(1500),
        data_dir: None,
    })
    .await
    .expect("the benchmark runs");
    println!("{report}");

    assert_eq!(report.harvest_status, "complete", "{report}");
    assert_eq!(report.harvested, records as u64, "{report}");
    assert_eq!(report.quarantined, 0, "{report}");
    assert_eq!(report.search_errors, 0, "{report}");
    assert_eq!(
        report.write_failures, 0,
        "every curated write became searchable: {report}"
    );
    let curated = report.write_to_searchable.harvest.len() as u64;
    assert!(curated > 0, "{report}");
    assert!(
        report.indexed_docs >= (records + seed_records) as u64 + curated,
        "harvested, seeded and curated records are all in the index: {report}"
    );
    for (phase, latencies) in [("idle", &report.search.idle), ("after", &report.search.after)] {
        assert!(!latencies.is_empty(), "searches in the {phase} phase: {report}");
        assert!(latencies.percentile(50.0) <= latencies.percentile(99.0));
    }
    assert!(report.search_p99_ratio().is_finite(), "{report}");
    assert!(report.harvest_time <= report.searchable_time, "{report}");
    assert!(report.to_string().contains("write→searchable"));
}
