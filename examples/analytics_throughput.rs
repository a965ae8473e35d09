//! Search throughput with and without analytics logging, in the same run.
//!
//! ```text
//! cargo run --release --example analytics_throughput -- [records] [searches per round]
//! ```
//!
//! Builds a temporary instance with synthetic records, then runs rounds of concurrent
//! searches through the real router (no socket), alternating a router whose analytics are
//! disabled and one that logs every search, and prints searches per second and latency
//! percentiles for each. Rounds alternate so that warm-up and machine noise fall on both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use jincheng::Instance;
use jincheng::bench::{synthetic_institutions, synthetic_record};
use services::analytics::Analytics;
use services::config::Config;
use tower::ServiceExt;

const QUERIES: &[&str] = &[
    "黄河",
    "兰州",
    "敦煌",
    "丝绸之路",
    "文化",
    "历史",
    "艺术",
    "民俗",
    "红楼梦",
    "李白",
];
const WORKERS: usize = 8;
const ROUNDS: usize = 3;

async fn round(router: &axum::Router, searches: usize) -> (f64, Duration, Duration) {
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..WORKERS {
        let router = router.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(searches / WORKERS);
            for i in 0..searches / WORKERS {
                let q = QUERIES[(worker + i) % QUERIES.len()];
                let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
                let request = Request::get(format!("/api/v1/search?q={q}&page={}", 1 + i % 3))
                    .body(Body::empty())
                    .unwrap();
                let t = Instant::now();
                let response = router.clone().oneshot(request).await.unwrap();
                assert!(response.status().is_success());
                let _ = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(searches);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p) as usize];
    (
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let records: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let searches: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let text = format!(
        "data_dir = {:?}\n[api]\nrate_per_ip = \"100000000/min\"\n",
        dir.path().display().to_string()
    );
    let instance = Instance::open(Config::parse(&text)?)?;
    let institutions = synthetic_institutions();
    instance.store.upsert_institutions(&institutions)?;
    let batch: Vec<_> = (0..records).map(|i| synthetic_record(i, &institutions)).collect();
    instance.store.import_records(&batch)?;
    instance.wait_indexed(Duration::from_secs(600)).await?;

    let logging = instance.router();
    let mut state = instance.state();
    state.analytics = Arc::new(Analytics::disabled());
    let silent = jincheng::server::app(state, Duration::from_secs(30), &[]);

    println!("{records} records, {searches} searches per round, {WORKERS} concurrent clients");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for r in 0..ROUNDS {
        let a = round(&silent, searches).await;
        let b = round(&logging, searches).await;
        println!(
            "round {}: without logging {:>8.0}/s p50 {:>6.2?} p99 {:>6.2?} | with logging {:>8.0}/s p50 {:>6.2?} p99 {:>6.2?}",
            r + 1,
            a.0,
            a.1,
            a.2,
            b.0,
            b.1,
            b.2
        );
        without.push(a.0);
        with.push(b.0);
    }
    // The request path's own share: normalising the query and hashing the session.
    let headers = axum::http::HeaderMap::new();
    let n = 100_000;
    let t = Instant::now();
    for i in 0..n {
        std::hint::black_box(services::analytics::normalize_query(QUERIES[i % QUERIES.len()]));
    }
    let normalize = t.elapsed() / n as u32;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(instance.analytics.session(None, &headers));
    }
    let session = t.elapsed() / n as u32;
    println!("request-path cost per search: normalise {normalize:?}, session hash {session:?}");
    let flush_started = Instant::now();
    instance.analytics.flush().await;
    let stats = instance.analytics.stats();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "mean: without logging {:.0}/s, with logging {:.0}/s ({:+.1}%); events written {}, dropped {}, \
         writer caught up {:?} after the last round",
        mean(&without),
        mean(&with),
        (mean(&with) / mean(&without) - 1.0) * 100.0,
        stats.written,
        stats.dropped,
        flush_started.elapsed()
    );
    Ok(())
}
