//! `jincheng bench`: index N synthetic Chinese bibliographic records from the store and time
//! a fixed mix of Chinese queries with filters and facets.
//!
//! Everything runs in one process on a fresh temporary data directory, so the numbers compare
//! runs on the same machine: store import rate, index build rate (reading the store, JSON
//! decoding, analysis, tantivy), index size, per-query latency percentiles, and the cost of
//! search analytics: the same searches through the whole HTTP router with logging on and off
//! ([`logging_overhead`]).

pub mod dump;
pub mod http;
pub mod load_during_harvest;
pub mod oai_source;
pub mod poetry;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use indexer::{Filters, Index, SearchRequest};
use schemas::{DateRange, District, Holding, Institution, InstitutionType, Level, Record, ResourceType};

use crate::instance::store_path;
use services::indexing;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Records to generate.
    pub records: usize,
    /// Times each query of the mix is run (after one warm-up round).
    pub rounds: usize,
    /// Where to put the data; a temporary directory when `None`.
    pub data_dir: Option<PathBuf>,
}

/// A deterministic xorshift generator: the same records on every machine, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TOPICS: &[&str] = &[
    "黄河",
    "丝绸之路",
    "敦煌",
    "兰州",
    "唐诗",
    "宋词",
    "中国",
    "西北",
    "甘肃",
    "河西走廊",
    "彩陶",
    "石窟",
    "书法",
    "绘画",
    "考古",
    "民俗",
    "青铜器",
    "长城",
    "佛教艺术",
    "少数民族",
    "城市",
    "乡村",
    "教育",
    "经济",
    "生态",
    "水利",
    "文学",
    "戏曲",
    "音乐",
    "建筑",
];
const FORMS: &[&str] = &[
    "研究",
    "史话",
    "概论",
    "文集",
    "图录",
    "导论",
    "十讲",
    "通史",
    "论稿",
    "新编",
    "考察记",
    "与文化",
    "的故事",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "孙", "朱", "胡", "郭",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "霞", "建国", "志远",
];
const PUBLISHERS: &[&str] = &[
    "甘肃人民出版社",
    "读者出版社",
    "敦煌文艺出版社",
    "中华书局",
    "商务印书馆",
    "人民文学出版社",
    "文物出版社",
    "兰州大学出版社",
];
const PHRASES: &[&str] = &[
    "本书系统梳理了",
    "作者多年实地考察",
    "结合大量出土文物",
    "以通俗的语言介绍",
    "从历史与现实两个维度探讨",
    "收录珍贵图片数百幅",
    "是了解西北地区历史文化的重要读物",
    "对研究者和普通读者均有参考价值",
];

/// The institutions the synthetic records are spread over.
pub fn synthetic_institutions() -> Vec<Institution> {
    let make = |id: &str, name: &str, t, d, level| Institution {
        id: id.into(),
        name: name.into(),
        institution_type: t,
        district: Some(d),
        level,
        venue: None,
    };
    vec![
        make(
            "b-lzlib",
            "兰州市图书馆",
            InstitutionType::Library,
            District::Chengguan,
            Level::City,
        ),
        make(
            "b-qlhlib",
            "七里河区图书馆",
            InstitutionType::Library,
            District::Qilihe,
            Level::County,
        ),
        make(
            "b-yzlib",
            "榆中县图书馆",
            InstitutionType::Library,
            District::Yuzhong,
            Level::County,
        ),
        make(
            "b-xglib",
            "西固区图书馆",
            InstitutionType::Library,
            District::Xigu,
            Level::County,
        ),
        make(
            "b-museum",
            "兰州市博物馆",
            InstitutionType::Museum,
            District::Chengguan,
            Level::City,
        ),
        make(
            "b-gallery",
            "兰州美术馆",
            InstitutionType::ArtGallery,
            District::Anning,
            Level::City,
        ),
        make(
            "b-culture",
            "兰州市文化馆",
            InstitutionType::CulturalCentre,
            District::Chengguan,
            Level::City,
        ),
        make(
            "b-xqlib",
            "兰州新区图书馆",
            InstitutionType::Library,
            District::LanzhouNewArea,
            Level::County,
        ),
    ]
}

fn isbn13(rng: &mut Rng) -> String {
    let mut digits: Vec<u32> = vec![9, 7, 8, 7];
    for _ in 0..8 {
        digits.push((rng.next() % 10) as u32);
    }
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits
        .iter()
        .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
        .collect()
}

/// The `i`-th synthetic record (deterministic in `i`).
pub fn synthetic_record(i: usize, institutions: &[Institution]) -> Record {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D));
    let institution = &institutions[rng.below(institutions.len())];
    let (a, b) = (rng.pick(TOPICS), rng.pick(TOPICS));
    let title = if a == b {
        format!("{a}{}", rng.pick(FORMS))
    } else {
        format!("{a}与{b}{}", rng.pick(FORMS))
    };
    let creator = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
    let year = 1950 + rng.below(76) as i32;
    let resource_type = match institution.institution_type {
        InstitutionType::Library => {
            [ResourceType::Book, ResourceType::Book, ResourceType::AncientBook][rng.below(3)]
        }
        InstitutionType::Museum => ResourceType::Artefact,
        InstitutionType::ArtGallery => ResourceType::Artwork,
        InstitutionType::CulturalCentre => ResourceType::Event,
    };
    let description = format!(
        "{}{}{}，{}。",
        rng.pick(PHRASES),
        a,
        rng.pick(&["的历史", "的现状", "的源流", "的艺术特色"]),
        rng.pick(PHRASES)
    );
    Record {
        id: format!("bench:{i:07}"),
        institution: institution.id.clone(),
        resource_type,
        title,
        creators: vec![creator],
        subjects: vec![a.to_string(), b.to_string()],
        description: Some(description),
        publisher: Some(rng.pick(PUBLISHERS).to_string()),
        date: Some(DateRange {
            display: year.to_string(),
            year_start: Some(year),
            year_end: Some(year),
        }),
        language: Some("zh".into()),
        isbns: vec![isbn13(&mut rng)],
        holdings: vec![Holding {
            institution: institution.id.clone(),
            call_number: Some(format!("K{}/{}", rng.below(999), rng.below(99))),
            items: Some(1 + rng.below(5) as u32),
            ..Holding::default()
        }],
        ..Record::default()
    }
}

/// The fixed query mix: (label, request).
fn query_mix() -> Vec<(&'static str, SearchRequest)> {
    // As the API asks: first page, works collapsed across branches.
    let q = |text: &str, filters: Filters| SearchRequest {
        query: text.into(),
        filters,
        offset: 0,
        limit: 20,
        collapse: true,
        ..SearchRequest::default()
    };
    vec![
        ("黄河", q("黄河", Filters::default())),
        ("敦煌石窟", q("敦煌石窟", Filters::default())),
        ("丝绸之路研究", q("丝绸之路研究", Filters::default())),
        ("唐诗 宋词", q("唐诗 宋词", Filters::default())),
        (
            "兰州历史 +library",
            q(
                "兰州历史",
                Filters {
                    institution_types: vec![InstitutionType::Library],
                    ..Filters::default()
                },
            ),
        ),
        (
            "彩陶 +城关区",
            q(
                "彩陶",
                Filters {
                    regions: vec![District::Chengguan],
                    ..Filters::default()
                },
            ),
        ),
        (
            "考古 +1990-2010",
            q(
                "考古",
                Filters {
                    year_from: Some(1990),
                    year_to: Some(2010),
                    ..Filters::default()
                },
            ),
        ),
        ("王伟", q("王伟", Filters::default())),
        ("西北地区历史文化", q("西北地区历史文化", Filters::default())),
        ("甘肃人民出版社", q("甘肃人民出版社", Filters::default())),
        (
            "(browse) +2 institutions",
            q(
                "",
                Filters {
                    institutions: vec!["b-lzlib".into(), "b-yzlib".into()],
                    ..Filters::default()
                },
            ),
        ),
        ("(browse all)", q("", Filters::default())),
    ]
}

/// Sorted latencies (of one query class, one phase, one load level).
#[derive(Debug, Clone, Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    fn new(mut samples: Vec<Duration>) -> Latencies {
        samples.sort();
        Latencies(samples)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `p`-th percentile (nearest rank); zero without samples.
    pub fn percentile(&self, p: f64) -> Duration {
        percentile(&self.0, p)
    }

    /// The largest sample; zero without samples.
    pub fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the benchmark and prints its report to stdout.
pub fn run(options: &BenchOptions) -> anyhow::Result<()> {
    let dir = DataDir::new(options.data_dir.as_ref(), "bench")?;
    let data_dir = dir.path.clone();
    let store = store::Store::open(&store_path(&data_dir))?;
    let institutions = synthetic_institutions();
    store.upsert_institutions(&institutions)?;

    let started = Instant::now();
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..options.records {
        batch.push(synthetic_record(i, &institutions));
        if batch.len() == batch.capacity() {
            store.import_records(&batch)?;
            batch.clear();
        }
    }
    store.import_records(&batch)?;
    let import = started.elapsed();

    let index = Index::open_or_create(&data_dir.join("index"))?;
    let mut writer = index.writer()?;
    let started = Instant::now();
    indexing::catch_up(&store, &mut writer, 0, &mut Default::default(), |_| {})?;
    let build = started.elapsed();
    drop(writer);
    anyhow::ensure!(
        index.num_docs() == options.records as u64,
        "index has {} docs",
        index.num_docs()
    );

    println!("records: {}", options.records);
    println!(
        "store import: {:.2} s ({:.0} records/s)",
        import.as_secs_f64(),
        options.records as f64 / import.as_secs_f64()
    );
    println!(
        "index build from store: {:.2} s ({:.0} records/s), index size {:.1} MB",
        build.as_secs_f64(),
        options.records as f64 / build.as_secs_f64(),
        dir_size(&data_dir.join("index")) as f64 / 1e6
    );

    let mix = query_mix();
    for (_, request) in &mix {
        index.search(request)?;
    }
    let mut all = Vec::new();
    println!("{:<28} {:>8} {:>9} {:>9}", "query", "hits", "p50 ms", "p99 ms");
    for (label, request) in &mix {
        let mut times = Vec::with_capacity(options.rounds);
        let mut total = 0;
        for _ in 0..options.rounds {
            let started = Instant::now();
            total = index.search(request)?.total;
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "{label:<28} {total:>8} {:>9.3} {:>9.3}",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 99.0))
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "all queries ({} searches): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        all.len(),
        ms(percentile(&all, 50.0)),
        ms(percentile(&all, 99.0)),
        ms(all.last().copied().unwrap_or_default())
    );
    drop(index);
    logging_overhead(&data_dir, options.rounds)
}

/// Searches per block of the logging comparison.
const LOGGING_BLOCK: usize = 50;

/// The same searches through the application router (access guard, search, JSON, every
/// layer the server has) with analytics logging on and off, in one process over one index.
/// The two run in alternating blocks, the first of each pair swapped every time, so drift
/// and noise on a busy machine fall on both alike; the medians and their ratio are printed,
/// with the logger's counters, which show that every logged search was written.
fn logging_overhead(data_dir: &std::path::Path, rounds: usize) -> anyhow::Result<()> {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    let runtime = tokio::runtime::Handle::current();
    let config = services::config::Config::parse(&format!(
        "data_dir = {:?}\n[api]\nrate_per_ip = \"1000000000/min\"\n",
        data_dir.display().to_string()
    ))?;
    let instance = crate::Instance::open(config)?;
    runtime.block_on(instance.wait_indexed(Duration::from_secs(600)))?;
    let logged = instance.router();
    let mut state = instance.state();
    state.analytics = std::sync::Arc::new(services::analytics::Analytics::disabled());
    let unlogged = crate::server::app(
        state,
        instance.config.server.request_timeout,
        &instance.config.api.cors_origins,
    );
    let uris: Vec<String> = TOPICS
        .iter()
        .map(|q| {
            format!(
                "/api/v1/search?q={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            )
        })
        .collect();
    let client = std::net::SocketAddr::from(([127, 0, 0, 1], 40000));
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    let blocks = rounds.max(2);
    let mut wall = [Duration::ZERO; 2];
    runtime.block_on(async {
        for block in 0..blocks {
            for turn in 0..2 {
                let variant = (block + turn) % 2;
                let router = if variant == 0 { &unlogged } else { &logged };
                let block_started = Instant::now();
                for i in 0..LOGGING_BLOCK {
                    let uri = &uris[(block * LOGGING_BLOCK + i) % uris.len()];
                    let mut request = Request::get(uri.as_str()).body(Body::empty())?;
                    request.extensions_mut().insert(ConnectInfo(client));
                    let started = Instant::now();
                    let response = router.clone().oneshot(request).await?;
                    let status = response.status();
                    axum::body::to_bytes(response.into_body(), usize::MAX).await?;
                    times[variant].push(started.elapsed());
                    anyhow::ensure!(status == StatusCode::OK, "search answered {status}");
                }
                wall[variant] += block_started.elapsed();
            }
        }
        instance.analytics.flush().await;
        anyhow::Ok(())
    })?;
    let stats = instance.analytics.stats();
    for t in &mut times {
        t.sort();
    }
    let (off, on) = (percentile(&times[0], 50.0), percentile(&times[1], 50.0));
    println!(
        "search through the router, logging off vs on ({} searches each, alternating blocks):",
        times[0].len()
    );
    for (name, variant) in [("logging off", 0), ("logging on", 1)] {
        println!(
            "  {name:<12} p50 {:.3} ms, p99 {:.3} ms, {:.0} searches/s",
            ms(percentile(&times[variant], 50.0)),
            ms(percentile(&times[variant], 99.0)),
            times[variant].len() as f64 / wall[variant].as_secs_f64()
        );
    }
    println!(
        "  median ratio on/off {:.3}; logger: {} accepted, {} written, {} dropped",
        on.as_secs_f64() / off.as_secs_f64().max(f64::MIN_POSITIVE),
        stats.accepted,
        stats.written,
        stats.dropped
    );
    Ok(())
}

/// The data directory of a benchmark run: the one the user gave, kept, or a fresh one under
/// the system's temporary directory, removed when the run ends (also on an error).
struct DataDir {
    path: PathBuf,
    temporary: bool,
}

impl DataDir {
    fn new(given: Option<&PathBuf>, label: &str) -> anyhow::Result<DataDir> {
        let dir = match given {
            Some(path) => DataDir {
                path: path.clone(),
                temporary: false,
            },
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                let name = format!("jincheng-{label}-{}-{nanos}", std::process::id());
                DataDir {
                    path: std::env::temp_dir().join(name),
                    temporary: true,
                }
            }
        };
        std::fs::create_dir_all(&dir.path)?;
        Ok(dir)
    }
}

impl Drop for DataDir {
    /// Removes a temporary directory. tantivy's merge threads may still be writing into
    /// the index for a moment after the writer is gone (they stop when their files vanish),
    /// and `remove_dir_all` gives up at the first entry that reappears, leaving gigabytes of
    /// store behind: so it is tried again, for up to ten seconds.
    fn drop(&mut self) {
        if !self.temporary {
            return;
        }
        for _ in 0..100 {
            if std::fs::remove_dir_all(&self.path).is_ok() || !self.path.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        eprintln!("could not remove {}", self.path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_records_are_deterministic_and_valid() {
        let institutions = synthetic_institutions();
        for i in 0..200 {
            let record = synthetic_record(i, &institutions);
            assert_eq!(record, synthetic_record(i, &institutions));
            record.validate().unwrap();
            let isbn = &record.isbns[0];
            let sum: u32 = isbn
                .chars()
                .enumerate()
                .map(|(k, c)| c.to_digit(10).unwrap() * if k % 2 == 0 { 1 } else { 3 })
                .sum();
            assert_eq!(sum % 10, 0, "{isbn} has a valid check digit");
        }
    }

    #[test]
    fn percentiles_pick_ranks() {
        let times: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&times, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&times, 99.0), Duration::from_millis(99));
    }
}
