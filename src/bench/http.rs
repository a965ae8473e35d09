//! `jincheng bench http`: the chinese-poetry corpus through the real path, then searches
//! over HTTP at 1, 4 and 16 connections, each beside its floor (issue #16).
//!
//! Everything runs in one process, over loopback sockets:
//!
//! 1. the corpus ([`Corpus::load`], or [`Corpus::synthetic`] for the tests) is served by an
//!    OAI-PMH provider ([`PoetryRepository`]), and a fresh instance harvests it into its store
//!    while its index follower builds the index, as under `jincheng serve`;
//! 2. the instance is served by the same router and accept loop as `jincheng serve`;
//! 3. a **query mix** of at least 5,000 distinct queries is drawn deterministically from the
//!    corpus, each tagged with its [`QueryClass`]; for each connection count, that many
//!    keep-alive clients (one connection each) send it for a fixed time, and every request
//!    is timed from send to the last byte of the body;
//! 4. the **floor**: the same queries, in the same process, as bare tantivy queries
//!    ([`indexer::Index::floor_search`]: term or phrase queries over the text fields, top 10,
//!    no filters, facets, collapsing, highlights or stored fields);
//! 5. the 20 **everyday queries** ([`EVERYDAY`]) at the highest connection count;
//! 6. **in process**: every query of the mix once more, one at a time, through the search
//!    service the API calls (everything but HTTP and JSON), beside its floor.
//!
//! CPU time per search is the process's user + system time over the level divided by the
//! searches: it includes the load generator, which runs in the same process.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use pinyin::ToPinyin;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::poetry::{Corpus, PAGE, PoetryRepository, is_punctuation};
use super::{Latencies, ms, synthetic_institutions};
use crate::Instance;
use services::config::Config;

/// The 20 everyday queries of issue #16: titles and first lines in simplified characters, a
/// title with its poet, pinyin, a traditional title, tunes of ci, poets.
pub const EVERYDAY: [&str; 20] = [
    "静夜思",
    "床前明月光",
    "春望",
    "将进酒",
    "登鹳雀楼",
    "早发白帝城",
    "静夜思 李白",
    "jingyesi",
    "chunwang",
    "zaofabaidicheng",
    "靜夜思",
    "春晓",
    "相思",
    "水调歌头",
    "明月几时有",
    "念奴娇 赤壁怀古",
    "李白",
    "杜甫",
    "望庐山瀑布",
    "黄鹤楼",
];

/// What to run.
#[derive(Debug, Clone)]
pub struct HttpBenchOptions {
    /// The unpacked `chinese-poetry` package (its folder, `package/` or `package/dist/`);
    /// `None` for [`Corpus::synthetic`] of `synthetic_poems` poems.
    pub corpus: Option<PathBuf>,
    /// Poems of the synthetic corpus when there is no `corpus`.
    pub synthetic_poems: usize,
    /// Connection counts, one measurement each.
    pub connections: Vec<usize>,
    /// How long each connection count is measured (and the everyday queries).
    pub duration: Duration,
    /// Distinct queries to draw for the mix (at least; fewer if the corpus is too small).
    pub mix_size: usize,
    /// Where to put the data; a fresh temporary directory (removed afterwards) when `None`.
    pub data_dir: Option<PathBuf>,
}

impl Default for HttpBenchOptions {
    fn default() -> Self {
        HttpBenchOptions {
            corpus: None,
            synthetic_poems: 300,
            connections: vec![1, 4, 16],
            duration: Duration::from_secs(20),
            mix_size: 6_000,
            data_dir: None,
        }
    }
}

/// The kinds of query in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QueryClass {
    /// A title folded to simplified characters.
    TitleSimplified,
    /// A title as the corpus has it (mostly traditional).
    TitleTraditional,
    /// The first clause of the first line, simplified.
    FirstLineSimplified,
    /// The first clause of the first line, as the corpus has it.
    FirstLineTraditional,
    /// A poet's name.
    Poet,
    /// A title and its poet.
    PoetTitle,
    /// The title's full pinyin, joined (`jingyesi`).
    Pinyin,
    /// The title's pinyin, syllables spaced (`jing ye si`).
    PinyinSpaced,
    /// The title's initials (`jys`).
    Initials,
    /// Two words from two lines.
    TwoWords,
    /// No query, one facet value as filter.
    BrowseFacet,
    /// A poet, sorted by date (ascending or descending).
    DateSort,
    /// A poet or a common word, page 50.
    Page50,
    /// One of the [`EVERYDAY`] queries.
    Everyday,
}

impl QueryClass {
    /// The classes of the mix, in report order.
    pub const MIX: [QueryClass; 13] = [
        QueryClass::TitleSimplified,
        QueryClass::TitleTraditional,
        QueryClass::FirstLineSimplified,
        QueryClass::FirstLineTraditional,
        QueryClass::Poet,
        QueryClass::PoetTitle,
        QueryClass::Pinyin,
        QueryClass::PinyinSpaced,
        QueryClass::Initials,
        QueryClass::TwoWords,
        QueryClass::BrowseFacet,
        QueryClass::DateSort,
        QueryClass::Page50,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            QueryClass::TitleSimplified => "title (simplified)",
            QueryClass::TitleTraditional => "title (traditional)",
            QueryClass::FirstLineSimplified => "first line (simpl.)",
            QueryClass::FirstLineTraditional => "first line (trad.)",
            QueryClass::Poet => "poet",
            QueryClass::PoetTitle => "title + poet",
            QueryClass::Pinyin => "pinyin",
            QueryClass::PinyinSpaced => "pinyin, spaced",
            QueryClass::Initials => "initials",
            QueryClass::TwoWords => "two words",
            QueryClass::BrowseFacet => "browse + facet",
            QueryClass::DateSort => "date sort",
            QueryClass::Page50 => "page 50",
            QueryClass::Everyday => "everyday 20",
        }
    }
}

/// One query of a mix: its class, the text, and the rest of its URL query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchQuery {
    /// What kind of query it is.
    pub class: QueryClass,
    /// The `q` parameter (empty for a browse).
    pub text: String,
    /// Further parameters (`sort`, `page`, a facet filter).
    pub params: Vec<(String, String)>,
}

impl BenchQuery {
    fn new(class: QueryClass, text: impl Into<String>) -> BenchQuery {
        BenchQuery {
            class,
            text: text.into(),
            params: Vec::new(),
        }
    }

    fn with(mut self, key: &str, value: &str) -> BenchQuery {
        self.params.push((key.into(), value.into()));
        self
    }

    /// The URL query string.
    pub fn query_string(&self) -> String {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        serializer.append_pair("q", &self.text);
        for (key, value) in &self.params {
            serializer.append_pair(key, value);
        }
        serializer.finish()
    }

    /// The offset of its page in the floor's terms (the API's pages have 20 hits).
    fn floor_offset(&self) -> usize {
        self.params
            .iter()
            .find(|(k, _)| k == "page")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .map_or(0, |page| page.saturating_sub(1) * 20)
    }
}

/// Draws the mix: for poems taken at an even stride through the corpus, one query of each
/// text class in turn, until `size` distinct queries (or the corpus runs out), then a browse
/// for every facet value in `facets` (name, value) and the date sorts and deep pages.
pub fn query_mix(corpus: &Corpus, facets: &[(String, String)], size: usize) -> Vec<BenchQuery> {
    let mut seen = HashSet::new();
    let mut mix = Vec::new();
    for (name, value) in facets {
        let mut browse = BenchQuery::new(QueryClass::BrowseFacet, "").with(name, value);
        browse.text.clear();
        if seen.insert((String::new(), browse.params.clone())) {
            mix.push(browse);
        }
    }
    // A query longer than the API accepts is refused with 400 (the joined pinyin of the
    // longest titles is): such queries measure nothing and are left out.
    let mut push = |query: BenchQuery, mix: &mut Vec<BenchQuery>| {
        let text = query.text.trim();
        if !text.is_empty()
            && text.chars().count() <= indexer::MAX_QUERY_CHARS
            && seen.insert((query.text.clone(), query.params.clone()))
        {
            mix.push(query);
        }
    };
    let poems = &corpus.poems;
    if poems.is_empty() {
        return mix;
    }
    // Coprime stride through the corpus, so the draw covers every collection.
    let stride = (poems.len() / 1_000).max(1) * 2 + 1;
    let mut position = 0usize;
    for step in 0..poems.len() * 2 {
        if mix.len() >= size {
            break;
        }
        position = (position + stride) % poems.len();
        let poem = &poems[position];
        let next = &poems[(position + 1) % poems.len()];
        let simplified_title = indexer::fold_text(&poem.title);
        let first_clause = |line: Option<&String>| -> String {
            line.map(|l| l.chars().take_while(|c| !is_punctuation(*c)).collect())
                .unwrap_or_default()
        };
        let first = first_clause(poem.lines.first());
        let class = QueryClass::MIX[step % 12];
        let query = match class {
            QueryClass::TitleSimplified => BenchQuery::new(class, simplified_title.clone()),
            QueryClass::TitleTraditional => BenchQuery::new(class, poem.title.clone()),
            QueryClass::FirstLineSimplified => BenchQuery::new(class, indexer::fold_text(&first)),
            QueryClass::FirstLineTraditional => BenchQuery::new(class, first),
            QueryClass::Poet => BenchQuery::new(class, poem.author.clone().unwrap_or_default()),
            QueryClass::PoetTitle => match &poem.author {
                Some(author) => BenchQuery::new(class, format!("{simplified_title} {author}")),
                None => continue,
            },
            QueryClass::Pinyin => BenchQuery::new(class, syllables(&simplified_title).concat()),
            QueryClass::PinyinSpaced => BenchQuery::new(class, syllables(&simplified_title).join(" ")),
            QueryClass::Initials => BenchQuery::new(class, initials(&simplified_title)),
            QueryClass::TwoWords => {
                let word = |line: Option<&String>| -> String {
                    line.map(|l| l.chars().take_while(|c| !is_punctuation(*c)).take(2).collect())
                        .unwrap_or_default()
                };
                let (a, b) = (word(poem.lines.first()), word(next.lines.first()));
                if a.chars().count() < 2 || b.chars().count() < 2 {
                    continue;
                }
                BenchQuery::new(class, format!("{a} {b}"))
            }
            QueryClass::DateSort => match &poem.author {
                Some(author) => {
                    let order = if step % 24 < 12 { "date_asc" } else { "date_desc" };
                    BenchQuery::new(class, author.clone()).with("sort", order)
                }
                None => continue,
            },
            // Page 50 needs a query with 1,000 hits or more: a single common character.
            QueryClass::Page50 | QueryClass::BrowseFacet | QueryClass::Everyday => {
                match simplified_title.chars().next() {
                    Some(c) => BenchQuery::new(QueryClass::Page50, c.to_string()).with("page", "50"),
                    None => continue,
                }
            }
        };
        push(query, &mut mix);
    }
    mix
}

/// The plain pinyin syllables of the Chinese characters of `text` (others dropped).
fn syllables(text: &str) -> Vec<&'static str> {
    text.to_pinyin().flatten().map(|p| p.plain()).collect()
}

fn initials(text: &str) -> String {
    text.to_pinyin().flatten().map(|p| p.first_letter()).collect()
}

/// The everyday queries as a mix.
pub fn everyday_mix() -> Vec<BenchQuery> {
    EVERYDAY
        .iter()
        .map(|q| BenchQuery::new(QueryClass::Everyday, *q))
        .collect()
}

/// One load level: a mix sent over `connections` connections for a fixed time.
#[derive(Debug, Clone)]
pub struct LevelReport {
    /// Which mix (`mix` or `everyday`).
    pub mix: &'static str,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Measured time.
    pub elapsed: Duration,
    /// All successful searches.
    pub overall: Latencies,
    /// Successful searches by class.
    pub by_class: BTreeMap<QueryClass, Latencies>,
    /// Searches that failed (an error or a status other than 200).
    pub errors: usize,
    /// The failed searches by class.
    pub errors_by_class: BTreeMap<QueryClass, usize>,
    /// Process CPU time (user + system) over the level.
    pub cpu: Duration,
    /// Resident set size at the end of the level, in bytes.
    pub rss: u64,
}

impl LevelReport {
    /// Successful searches per second.
    pub fn searches_per_second(&self) -> f64 {
        self.overall.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// CPU time per successful search.
    pub fn cpu_per_search(&self) -> Duration {
        self.cpu / u32::try_from(self.overall.len().max(1)).unwrap_or(u32::MAX)
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct HttpBenchReport {
    /// Poems read from the corpus.
    pub poems: usize,
    /// Corpus files read as poems.
    pub files: usize,
    /// Corpus files skipped (biographies, rankings, tone patterns).
    pub skipped_files: usize,
    /// Objects in poem files without lines.
    pub skipped_items: usize,
    /// Records the harvest stored.
    pub harvested: u64,
    /// Items the harvest quarantined.
    pub quarantined: u64,
    /// From the harvest's start until the index had everything.
    pub harvest_to_searchable: Duration,
    /// Documents in the index.
    pub indexed_docs: u64,
    /// The data directory's size after indexing, in bytes.
    pub data_bytes: u64,
    /// Distinct queries in the mix.
    pub mix_queries: usize,
    /// Distinct queries in the mix, by class.
    pub mix_by_class: BTreeMap<QueryClass, usize>,
    /// The mix at each connection count, then the everyday queries.
    pub levels: Vec<LevelReport>,
    /// The floor of each query of the mix (and of the everyday ones), by class.
    pub floor: ByClass,
    /// Each query of the mix (and the everyday ones) through [`services::search::SearchService::search`]
    /// in process, one at a time: everything a search costs but HTTP and JSON, by class.
    pub in_process: ByClass,
    /// Peak resident set size of the process, in bytes.
    pub peak_rss: u64,
}

impl fmt::Display for HttpBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "corpus: {} poems from {} files ({} files and {} items skipped); harvested {} ({} quarantined), searchable in {:.1} s ({:.0} records/s); index {} docs; data dir {:.0} MB",
            self.poems,
            self.files,
            self.skipped_files,
            self.skipped_items,
            self.harvested,
            self.quarantined,
            self.harvest_to_searchable.as_secs_f64(),
            self.harvested as f64 / self.harvest_to_searchable.as_secs_f64().max(1e-9),
            self.indexed_docs,
            self.data_bytes as f64 / 1e6
        )?;
        let classes: Vec<String> = self
            .mix_by_class
            .iter()
            .map(|(c, n)| format!("{} {n}", c.name()))
            .collect();
        writeln!(
            f,
            "mix: {} distinct queries ({})",
            self.mix_queries,
            classes.join(", ")
        )?;
        writeln!(
            f,
            "\n{:<10} {:>5} {:>10} {:>8} {:>8} {:>8} {:>12} {:>8} {:>7}",
            "mix", "conns", "searches/s", "p50 ms", "p99 ms", "max ms", "CPU ms/srch", "RSS MB", "errors"
        )?;
        for level in &self.levels {
            writeln!(
                f,
                "{:<10} {:>5} {:>10.0} {:>8.2} {:>8.2} {:>8.1} {:>12.3} {:>8.0} {:>7}",
                level.mix,
                level.connections,
                level.searches_per_second(),
                ms(level.overall.percentile(50.0)),
                ms(level.overall.percentile(99.0)),
                ms(level.overall.max()),
                ms(level.cpu_per_search()),
                level.rss as f64 / 1e6,
                level.errors
            )?;
        }
        for level in &self.levels {
            writeln!(
                f,
                "\nper class, {} at {} connections (floor: bare tantivy in process, one query at a time)",
                level.mix, level.connections
            )?;
            class_table(f, &level.by_class, &self.floor, Some(&level.errors_by_class))?;
        }
        writeln!(
            f,
            "\nin process, one query at a time (the search service: everything but HTTP and JSON), beside the floor"
        )?;
        class_table(f, &self.in_process, &self.floor, None)?;
        writeln!(f, "\npeak RSS {:.0} MB", self.peak_rss as f64 / 1e6)
    }
}

/// Latencies by class beside the floor's, with an errors column when `errors` is given.
fn class_table(
    f: &mut fmt::Formatter<'_>,
    rows: &ByClass,
    floor: &ByClass,
    errors: Option<&BTreeMap<QueryClass, usize>>,
) -> fmt::Result {
    write!(
        f,
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10} {:>9} {:>9}",
        "class", "samples", "p50 ms", "p99 ms", "max ms", "floor p50", "floor p99", "p50/floor", "p99/floor"
    )?;
    writeln!(f, "{}", if errors.is_some() { "  errors" } else { "" })?;
    for (class, latencies) in rows {
        let floor = floor.get(class).cloned().unwrap_or_default();
        let (p50, p99) = (latencies.percentile(50.0), latencies.percentile(99.0));
        let (f50, f99) = (floor.percentile(50.0), floor.percentile(99.0));
        write!(
            f,
            "{:<22} {:>8} {:>8.3} {:>8.3} {:>8.1} {:>10.3} {:>10.3} {:>9.1} {:>9.1}",
            class.name(),
            latencies.len(),
            ms(p50),
            ms(p99),
            ms(latencies.max()),
            ms(f50),
            ms(f99),
            ratio(p50, f50),
            ratio(p99, f99)
        )?;
        match errors {
            Some(errors) => writeln!(f, " {:>7}", errors.get(class).copied().unwrap_or(0))?,
            None => writeln!(f)?,
        }
    }
    Ok(())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// The institution the poems are harvested for.
const SOURCE_ID: &str = "poetry";

/// Runs the benchmark; the caller prints the report.
pub async fn run(options: &HttpBenchOptions) -> anyhow::Result<HttpBenchReport> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = super::DataDir::new(options.data_dir.as_ref(), "bench-http")?;
    measure(options, dir.path.clone()).await
}

async fn measure(options: &HttpBenchOptions, data_dir: PathBuf) -> anyhow::Result<HttpBenchReport> {
    let corpus = match options.corpus.clone() {
        Some(dir) => tokio::task::spawn_blocking(move || Corpus::load(&dir)).await??,
        None => Corpus::synthetic(options.synthetic_poems),
    };
    let corpus = Arc::new(corpus);
    eprintln!(
        "corpus: {} poems ({} files skipped, {} items skipped)",
        corpus.poems.len(),
        corpus.skipped_files.len(),
        corpus.skipped_items
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let provider =
        super::oai_source::start(PoetryRepository::new(Arc::clone(&corpus)), PAGE, stop_rx.clone()).await?;
    let config = Config::parse(&config_text(&data_dir, &provider.to_string()))?;
    let instance = Instance::open(config)?;

    let outcome = async {
        let source = instance
            .config
            .sources
            .first()
            .context("the benchmark's config has its source")?
            .clone();
        let started = Instant::now();
        let mut next_note = 50_000;
        let run = instance
            .harvest(&source, |progress| {
                if progress.items >= next_note {
                    eprintln!(
                        "  … {} poems harvested in {:.0} s",
                        progress.items,
                        started.elapsed().as_secs_f64()
                    );
                    next_note += 50_000;
                }
            })
            .await?;
        instance.wait_indexed(Duration::from_secs(3600)).await?;
        let harvest_to_searchable = started.elapsed();
        eprintln!(
            "harvested and indexed in {:.1} s",
            harvest_to_searchable.as_secs_f64()
        );

        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let limits = crate::server::ConnectionLimits::from(&instance.config.server);
        let mut stop = stop_rx.clone();
        let server = tokio::spawn(crate::server::serve_with(
            listener,
            instance.router(),
            limits,
            async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            },
        ));
        let loaded = drive(options, &instance, &corpus, &base).await;
        let _ = stop_tx.send(true);
        let _ = server.await;
        let (levels, floor, in_process, mix) = loaded?;
        let mut mix_by_class = BTreeMap::new();
        for query in &mix {
            *mix_by_class.entry(query.class).or_insert(0) += 1;
        }
        Ok(HttpBenchReport {
            poems: corpus.poems.len(),
            files: corpus.files,
            skipped_files: corpus.skipped_files.len(),
            skipped_items: corpus.skipped_items,
            harvested: run.counts.added,
            quarantined: run.counts.quarantined,
            harvest_to_searchable,
            indexed_docs: instance.indexing.index().num_docs(),
            data_bytes: super::dir_size(&data_dir),
            mix_queries: mix.len(),
            mix_by_class,
            levels,
            floor,
            in_process,
            peak_rss: status_bytes("VmHWM:"),
        })
    }
    .await;
    let _ = stop_tx.send(true);
    instance.indexing.shutdown();
    outcome
}

type Driven = (Vec<LevelReport>, ByClass, ByClass, Vec<BenchQuery>);

async fn drive(
    options: &HttpBenchOptions,
    instance: &Instance,
    corpus: &Corpus,
    base: &str,
) -> anyhow::Result<Driven> {
    let facets = facet_values(base).await?;
    let mix = Arc::new(query_mix(corpus, &facets, options.mix_size));
    let everyday = Arc::new(everyday_mix());
    eprintln!("mix: {} distinct queries", mix.len());

    // One pass over every query first: warms the caches the same way for every level.
    run_level("warm-up", base, Arc::clone(&mix), 4, None).await?;
    let mut levels = Vec::new();
    for &connections in &options.connections {
        let level = run_level("mix", base, Arc::clone(&mix), connections, Some(options.duration)).await?;
        eprintln!(
            "  mix at {connections}: {:.0} searches/s",
            level.searches_per_second()
        );
        levels.push(level);
    }
    let top = options.connections.iter().copied().max().unwrap_or(16);
    levels.push(
        run_level(
            "everyday",
            base,
            Arc::clone(&everyday),
            top,
            Some(options.duration),
        )
        .await?,
    );

    let index = instance.indexing.index().clone();
    let search = instance.state().search;
    let queries: Vec<BenchQuery> = mix.iter().chain(everyday.iter()).cloned().collect();
    let (floor, in_process) = tokio::task::spawn_blocking(move || -> anyhow::Result<(ByClass, ByClass)> {
        for query in queries.iter().take(500) {
            index.floor_search(&query.text, query.floor_offset())?;
        }
        let mut floor: BTreeMap<QueryClass, Vec<Duration>> = BTreeMap::new();
        let mut in_process: BTreeMap<QueryClass, Vec<Duration>> = BTreeMap::new();
        for query in &queries {
            let started = Instant::now();
            index.floor_search(&query.text, query.floor_offset())?;
            floor.entry(query.class).or_default().push(started.elapsed());
            let params = services::search::SearchParams::parse(Some(&query.query_string()))?;
            let started = Instant::now();
            search.search(&params.request)?;
            in_process.entry(query.class).or_default().push(started.elapsed());
        }
        let by_class = |samples: BTreeMap<QueryClass, Vec<Duration>>| -> ByClass {
            samples.into_iter().map(|(c, s)| (c, Latencies::new(s))).collect()
        };
        Ok((by_class(floor), by_class(in_process)))
    })
    .await??;
    let mix = Arc::try_unwrap(mix).unwrap_or_else(|shared| (*shared).clone());
    Ok((levels, floor, in_process, mix))
}

type ByClass = BTreeMap<QueryClass, Latencies>;

/// Every (facet, value) of the unfiltered browse, as filter parameters.
async fn facet_values(base: &str) -> anyhow::Result<Vec<(String, String)>> {
    let body = reqwest::Client::new()
        .get(format!("{base}/api/v1/search?q="))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let body: Value = serde_json::from_slice(&body)?;
    let mut values = Vec::new();
    // `facets` is an object: facet name → [{"value", "count", …}].
    for (name, facet_values) in body["facets"].as_object().into_iter().flatten() {
        // Years are a range filter (`year_from`/`year_to`), not a value filter.
        if name == "year" {
            continue;
        }
        for value in facet_values.as_array().into_iter().flatten() {
            let value = match &value["value"] {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            values.push((name.clone(), value));
        }
    }
    Ok(values)
}

/// Sends `queries` over `connections` keep-alive connections, each starting at its own
/// place in the list, for `duration` (or, with `None`, until the list has been sent once).
async fn run_level(
    mix: &'static str,
    base: &str,
    queries: Arc<Vec<BenchQuery>>,
    connections: usize,
    duration: Option<Duration>,
) -> anyhow::Result<LevelReport> {
    let connections = connections.max(1);
    let urls: Arc<Vec<(QueryClass, String)>> = Arc::new(
        queries
            .iter()
            .map(|q| (q.class, format!("{base}/api/v1/search?{}", q.query_string())))
            .collect(),
    );
    let cpu_before = process_cpu();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let urls = Arc::clone(&urls);
        // No compression asked for, like wrk: the figures compare with other engines'.
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .http1_only()
            .no_gzip()
            .build()?;
        tasks.push(tokio::spawn(async move {
            let len = urls.len().max(1);
            let (start, count) = match duration {
                Some(_) => (c * len / connections, usize::MAX),
                None => (
                    c * len / connections,
                    (c + 1) * len / connections - c * len / connections,
                ),
            };
            let deadline = duration.map(|d| started + d);
            let mut samples = Vec::new();
            let mut errors: Vec<QueryClass> = Vec::new();
            for i in 0..count {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let Some((class, url)) = urls.get((start + i) % len) else {
                    break;
                };
                let sent = Instant::now();
                let failure = match client.get(url).send().await {
                    Ok(response) if response.status() == reqwest::StatusCode::OK => {
                        response.bytes().await.err().map(|e| e.to_string())
                    }
                    Ok(response) => Some(response.status().to_string()),
                    Err(err) => Some(err.to_string()),
                };
                match failure {
                    None => samples.push((*class, sent.elapsed())),
                    Some(why) => {
                        // The first failure of each connection, so a broken query is seen.
                        if errors.is_empty() {
                            eprintln!("  failed: {url}: {why}");
                        }
                        errors.push(*class);
                    }
                }
            }
            (samples, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors_by_class: BTreeMap<QueryClass, usize> = BTreeMap::new();
    for task in tasks {
        let (samples, failed) = task.await?;
        all.extend(samples);
        for class in failed {
            *errors_by_class.entry(class).or_insert(0) += 1;
        }
    }
    let errors = errors_by_class.values().sum();
    let elapsed = started.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    let mut by_class: BTreeMap<QueryClass, Vec<Duration>> = BTreeMap::new();
    for (class, took) in &all {
        by_class.entry(*class).or_default().push(*took);
    }
    Ok(LevelReport {
        mix,
        connections,
        elapsed,
        overall: Latencies::new(all.into_iter().map(|(_, d)| d).collect()),
        by_class: by_class
            .into_iter()
            .map(|(c, s)| (c, Latencies::new(s)))
            .collect(),
        errors,
        errors_by_class,
        cpu,
        rss: status_bytes("VmRSS:"),
    })
}

/// User + system CPU time of this process so far (Linux; zero elsewhere). `/proc` counts in
/// clock ticks, which are 1/100 s on every Linux this runs on.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The command name may contain spaces: the fields that follow start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // Fields 14 and 15 of proc(5), utime and stime; the state (field 3) is at index 0.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// A `kB` line of `/proc/self/status` (`VmRSS:`, `VmHWM:` for the peak) in bytes; zero if
/// unknown (not Linux).
pub fn status_bytes(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The instance's configuration: one institution, the poetry provider as its one source,
/// and no rate limit that the load would run into.
fn config_text(data_dir: &std::path::Path, provider: &str) -> String {
    let mut text = format!(
        "data_dir = {:?}\n[api]\nrate_per_ip = \"1000000000/min\"\nrate_per_key = \"1000000000/min\"\n",
        data_dir.display().to_string()
    );
    let institutions = synthetic_institutions();
    let institution = institutions.first().map_or("b-lzlib", |i| i.id.as_str());
    for institution in &institutions {
        text.push_str(&format!(
            "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\nlevel = {:?}\n",
            institution.id,
            institution.name,
            institution.institution_type.as_str(),
            institution.level.as_str()
        ));
        if let Some(district) = institution.district {
            text.push_str(&format!("district = {:?}\n", district.label()));
        }
    }
    text.push_str(&format!(
        "[[sources]]\nid = \"{SOURCE_ID}\"\ninstitution = \"{institution}\"\nprotocol = \"oai-pmh\"\nurl = \"http://{provider}/oai\"\n"
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_deterministic_distinct_and_has_every_class() {
        let corpus = Corpus::synthetic(2_000);
        let facets = vec![("period".to_string(), "唐".to_string())];
        let mix = query_mix(&corpus, &facets, 1_000);
        assert_eq!(mix, query_mix(&corpus, &facets, 1_000));
        let distinct: HashSet<String> = mix.iter().map(BenchQuery::query_string).collect();
        assert_eq!(distinct.len(), mix.len());
        for class in QueryClass::MIX {
            assert!(mix.iter().any(|q| q.class == class), "no {class:?}");
        }
        assert!(
            mix.iter()
                .any(|q| q.class == QueryClass::Pinyin && q.text.is_ascii())
        );
    }
}
