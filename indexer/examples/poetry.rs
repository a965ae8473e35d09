//! Indexes the `chinese-poetry` corpus (the Tang and Song shi, ≈ 345,000 poems in traditional
//! characters) with all of the analysis switched on, and reports index time, index size,
//! suggestion build time and query latencies. Not part of CI: it needs the npm package.
//!
//! ```text
//! cd /tmp && npm pack chinese-poetry && tar xzf chinese-poetry-*.tgz
//! cargo run --release -p jincheng-indexer --example poetry -- /tmp/package/dist/quantangshi /tmp/poetry-index
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use jincheng_indexer::{Index, SearchRequest};
use schemas::{Institution, InstitutionType, Level, Record};

fn main() {
    let mut args = std::env::args().skip(1);
    let source = PathBuf::from(args.next().expect("usage: poetry <quantangshi dir> <index dir>"));
    let target = PathBuf::from(args.next().expect("usage: poetry <quantangshi dir> <index dir>"));
    let _ = std::fs::remove_dir_all(&target);

    let started = Instant::now();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&source)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.starts_with("poet.") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    let mut records = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let dynasty = if name.contains(".song.") { "song" } else { "tang" };
        let poems: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
        for poem in poems {
            let id = poem["id"].as_str().unwrap_or_default();
            let title = poem["title"].as_str().unwrap_or_default().trim();
            let title = if title.is_empty() { "无题" } else { title };
            let mut record = Record::new(format!("poetry:{dynasty}:{id}"), "poetry", title);
            if let Some(author) = poem["author"].as_str().filter(|a| !a.trim().is_empty()) {
                record.creators.push(author.to_string());
            }
            let lines: Vec<&str> = poem["paragraphs"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            record.description = Some(lines.concat());
            record
                .subjects
                .push(if dynasty == "song" { "宋诗" } else { "唐诗" }.to_string());
            records.push(record);
        }
    }
    let read = started.elapsed();
    println!(
        "read {} poems from {} files in {:.1?}",
        records.len(),
        files.len(),
        read
    );

    let institution = Institution {
        id: "poetry".into(),
        name: "中华诗词".into(),
        institution_type: InstitutionType::Library,
        district: None,
        level: Level::City,
        venue: None,
    };
    let index = Index::open_or_create(&target).unwrap();
    let indexing = Instant::now();
    let mut writer = index.writer().unwrap();
    let mut rejected = 0;
    for record in &records {
        if writer.upsert(record, &institution).is_err() {
            rejected += 1;
        }
    }
    writer.commit(1).unwrap();
    let index_time = indexing.elapsed();
    drop(writer);
    let size: u64 = std::fs::read_dir(&target)
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "indexed {} poems ({rejected} rejected) in {:.1?} ({:.0} docs/s); index {:.0} MB",
        index.num_docs(),
        index_time,
        records.len() as f64 / index_time.as_secs_f64(),
        size as f64 / 1e6
    );

    let suggest_build = Instant::now();
    index.suggest("静", 10).unwrap();
    println!("suggestion table built in {:.1?}", suggest_build.elapsed());

    // A simplified query for a famous line must find the traditional poem.
    let checks = [
        ("静夜思", "靜夜思"),
        ("床前看月光", "靜夜思"),
        ("独在异乡为异客", "九月九日憶山東兄弟"),
        ("jingyesi", "靜夜思"),
    ];
    for (query, title) in checks {
        let results = index
            .search(&SearchRequest {
                query: query.into(),
                limit: 10,
                collapse: true,
                ..Default::default()
            })
            .unwrap();
        let found = results.hits.iter().position(|h| h.title.contains(title));
        println!(
            "{query:<12} → {title}: rank {:?} of {} works",
            found.map(|r| r + 1),
            results.total
        );
    }

    let queries = [
        "静夜思",
        "床前明月光",
        "李白",
        "杜甫 春望",
        "\"明月\"",
        "jingyesi",
        "jys",
        "黄河 -李白",
        "title:春晓",
        "长安 明月",
        "独在异乡为异客",
        "铜奔马",
        "江南",
        "libai",
        "蘇軾",
    ];
    let mut latencies = Vec::new();
    for round in 0..5 {
        for query in queries {
            let request = SearchRequest {
                query: query.into(),
                limit: 20,
                collapse: true,
                ..Default::default()
            };
            let t = Instant::now();
            let results = index.search(&request).unwrap();
            let took = t.elapsed();
            if round > 0 {
                latencies.push((took, query, results.total));
            }
        }
    }
    report(
        "search",
        &mut latencies.iter().map(|(t, _, _)| *t).collect::<Vec<_>>(),
    );
    for query in queries {
        let mut mine: Vec<Duration> = latencies.iter().filter(|l| l.1 == query).map(|l| l.0).collect();
        mine.sort();
        let total = latencies.iter().find(|l| l.1 == query).map_or(0, |l| l.2);
        println!(
            "  {query:<14} median {:>8.2?} ({total} works)",
            mine[mine.len() / 2]
        );
    }
    let prefixes = ["静", "j", "jing", "jy", "李", "li", "春", "chun", "床前", "s"];
    let mut times = Vec::new();
    for _ in 0..20 {
        for prefix in prefixes {
            let t = Instant::now();
            index.suggest(prefix, 10).unwrap();
            times.push(t.elapsed());
        }
    }
    report("suggest", &mut times);
}

fn report(name: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name}: {} runs, median {:.2?}, p99 {:.2?}, max {:.2?}",
        times.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
