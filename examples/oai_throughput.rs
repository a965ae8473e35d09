//! OAI-PMH ListRecords throughput of our provider over a store of synthetic records, in
//! process (no socket), and the process's peak memory during a full harvest.
//!
//! ```text
//! cargo run --release --example oai_throughput -- [RECORDS]   # default 100000
//! ```

use std::sync::Arc;
use std::time::Instant;

use jincheng::oai::StoreRepository;
use store::Store;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(&dir.path().join("jincheng.db"))?);
    let institutions = jincheng::bench::synthetic_institutions();
    store.upsert_institutions(&institutions)?;
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let records: Vec<_> = chunk
            .iter()
            .map(|&i| jincheng::bench::synthetic_record(i, &institutions))
            .collect();
        store.import_records(&records)?;
    }
    println!(
        "imported {n} records in {:.1?}; peak RSS {:.0} MB",
        started.elapsed(),
        peak_rss_mb()
    );
    let provider = StoreRepository::provider(Arc::clone(&store), 100)?;
    for prefix in ["oai_dc", "marcxml", "jincheng"] {
        let started = Instant::now();
        let (mut records, mut bytes, mut pages) = (0usize, 0usize, 0usize);
        let mut arguments = vec![
            ("verb".to_string(), "ListRecords".to_string()),
            ("metadataPrefix".to_string(), prefix.to_string()),
        ];
        loop {
            let xml = provider.respond(
                "http://localhost/oai",
                &arguments,
                time::OffsetDateTime::now_utc(),
            )?;
            pages += 1;
            bytes += xml.len();
            records += xml.matches("<record>").count();
            let token = xml
                .find("cursor=\"")
                .and_then(|at| xml[at..].find('>').map(|end| at + end + 1))
                .and_then(|start| {
                    xml[start..]
                        .find("</resumptionToken>")
                        .map(|end| &xml[start..start + end])
                });
            match token {
                Some(token) if !token.is_empty() => {
                    arguments = vec![
                        ("verb".to_string(), "ListRecords".to_string()),
                        ("resumptionToken".to_string(), token.to_string()),
                    ];
                }
                _ => break,
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{prefix:>8}: {records} records, {pages} pages, {:.0} MB in {seconds:.1} s = {:.0} records/s; peak RSS {:.0} MB",
            bytes as f64 / 1e6,
            records as f64 / seconds,
            peak_rss_mb()
        );
    }
    Ok(())
}
