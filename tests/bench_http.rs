//! `jincheng bench http` on a small synthetic corpus (written by the test, no network): the
//! whole path (OAI-PMH harvest, index follower, HTTP server, load at two connection counts,
//! floor, everyday queries) completes and measures every class. No speed is asserted.

use std::time::Duration;

use jincheng::bench::http::{HttpBenchOptions, QueryClass, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_http_bench_measures_every_class() {
    let report = run(&HttpBenchOptions {
        corpus: None,
        synthetic_poems: 400,
        connections: vec![1, 4],
        duration: Duration::from_millis(1_500),
        mix_size: 1_000,
        data_dir: None,
    })
    .await
    .unwrap();
    assert_eq!(report.poems, 400);
    assert_eq!(report.harvested, 400);
    assert_eq!(report.indexed_docs, 400);
    assert_eq!(report.levels.len(), 3, "two mix levels and the everyday queries");
    for level in &report.levels {
        assert_eq!(level.errors, 0, "{} at {}", level.mix, level.connections);
        assert!(level.searches_per_second() > 0.0);
    }
    let mix_at_4 = &report.levels[1];
    for class in QueryClass::MIX {
        assert!(
            mix_at_4.by_class.get(&class).is_some_and(|l| !l.is_empty()),
            "{class:?} not measured:\n{report}"
        );
        assert!(
            report.floor.get(&class).is_some_and(|l| !l.is_empty()),
            "{class:?} has no floor"
        );
        assert_eq!(
            report.in_process.get(&class).map(|l| l.len()),
            report.mix_by_class.get(&class).copied(),
            "{class:?}: every query of the mix once in process"
        );
    }
    assert!(report.to_string().contains("in process, one query at a time"));
    assert!(report.levels[2].by_class.contains_key(&QueryClass::Everyday));
    assert!(report.to_string().contains("everyday 20"));
}
