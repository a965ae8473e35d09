//! `jincheng bench load-during-harvest`: search and curation latency while a large harvest
//! runs through the real path (issue #18).
//!
//! Everything runs in one process, over loopback sockets:
//!
//! - a **synthetic OAI-PMH provider** ([`SyntheticRepository`] behind `jincheng-oai-provider`)
//!   generates `oai_dc` records on the fly from [`super::synthetic_record`] (Chinese titles,
//!   creators, years, subjects, publishers, descriptions, ISBNs), 100–500 a page with
//!   resumption tokens, deterministically, so a million records need no file;
//! - a **Jincheng instance** with that provider as its one source, served by the same router
//!   and accept loop as `jincheng serve` on a loopback socket; before the measurement its
//!   store and index get `seed_records` records, so searches have an index of some size to
//!   answer from even before the harvest (an empty index would make "idle" meaningless);
//! - **searchers**: a few clients issuing a mix of Chinese queries to `/api/v1/search` over
//!   keep-alive HTTP connections, continuously, with a short pause between requests;
//! - a **curator**: signs in over the API, then, during the harvest, creates a curated record
//!   with `?wait=true` every so often and times until a search over HTTP finds it.
//!
//! The run has three phases: *idle* (searchers and curator, nothing harvesting), *harvest*
//! (the harvest of `records` records runs, until the index has caught up with it), and
//! *after* (idle again, over the full index). Each request counts in the phase it started
//! and ended in; one that straddles a phase change is dropped.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use jincheng_oai_provider::{
    Datestamp, DeletedRecord, Header, ListPosition, ListQuery, ListSlice, MetadataFormat, Repository,
    RepositoryInfo, SetInfo, push_element,
};
use schemas::Institution;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{Latencies, ms, synthetic_institutions, synthetic_record};
use crate::Instance;
use services::config::Config;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Records the synthetic provider serves, all harvested during the measurement.
    pub records: usize,
    /// Records in the store and index before the measurement starts.
    pub seed_records: usize,
    /// Concurrent search clients.
    pub search_clients: usize,
    /// Pause of each search client between a response and its next request.
    pub search_pause: Duration,
    /// Pause of the curator between a write found by search and the next write.
    pub write_pause: Duration,
    /// Length of the idle phases before and after the harvest.
    pub idle: Duration,
    /// Where to put the data; a fresh temporary directory (removed afterwards) when `None`.
    pub data_dir: Option<PathBuf>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            records: 1_000_000,
            seed_records: 100_000,
            search_clients: 4,
            search_pause: Duration::from_millis(20),
            write_pause: Duration::from_millis(250),
            idle: Duration::from_secs(15),
            data_dir: None,
        }
    }
}

/// The three phases of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle = 0,
    Harvest = 1,
    After = 2,
    Stop = 3,
}

impl Phase {
    fn from_u8(value: u8) -> Phase {
        match value {
            0 => Phase::Idle,
            1 => Phase::Harvest,
            2 => Phase::After,
            _ => Phase::Stop,
        }
    }
}

/// Latencies by phase (idle, harvest, after).
#[derive(Debug, Clone, Default)]
pub struct ByPhase {
    /// Before the harvest.
    pub idle: Latencies,
    /// While the harvest runs and the index catches up with it.
    pub harvest: Latencies,
    /// After the harvest, over the full index.
    pub after: Latencies,
}

impl ByPhase {
    fn from_samples(samples: Vec<(Phase, Duration)>) -> ByPhase {
        let of = |phase: Phase| {
            Latencies::new(
                samples
                    .iter()
                    .filter(|(p, _)| *p == phase)
                    .map(|(_, d)| *d)
                    .collect(),
            )
        };
        ByPhase {
            idle: of(Phase::Idle),
            harvest: of(Phase::Harvest),
            after: of(Phase::After),
        }
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Records the provider served.
    pub records: usize,
    /// Records stored and indexed before the measurement.
    pub seed_records: usize,
    /// Records the harvest added to the store.
    pub harvested: u64,
    /// Items the harvest quarantined.
    pub quarantined: u64,
    /// The harvest's status as the store recorded it (`complete` when it went well).
    pub harvest_status: String,
    /// From the harvest's start until it had stored the last page.
    pub harvest_time: Duration,
    /// From the harvest's start until the index had caught up with it.
    pub searchable_time: Duration,
    /// Documents in the index at the end.
    pub indexed_docs: u64,
    /// Search latencies over HTTP, request sent to body read.
    pub search: ByPhase,
    /// Searches that failed (an error or a status other than 200).
    pub search_errors: usize,
    /// Curated create (`?wait=true`) sent until a search over HTTP finds the record.
    pub write_to_searchable: ByPhase,
    /// Curated writes that failed or were not found by search within 30 s.
    pub write_failures: usize,
    /// How far the index was behind the store during the harvest (changes stored but not
    /// yet committed to the index), sampled every 100 ms: the largest sample.
    pub max_index_lag: u64,
    /// The mean of those samples.
    pub mean_index_lag: f64,
    /// The whole run, seeding included.
    pub total_time: Duration,
}

impl LoadReport {
    /// Search p99 during the harvest over idle p99 (the target is at most 2).
    pub fn search_p99_ratio(&self) -> f64 {
        ratio(
            self.search.harvest.percentile(99.0),
            self.search.idle.percentile(99.0),
        )
    }
}

impl LoadReport {
    /// Search p99 during the harvest over p99 after it, when the index is at its largest
    /// and nothing writes: what the harvest itself costs searches, apart from the index's
    /// growth.
    pub fn search_p99_ratio_after(&self) -> f64 {
        ratio(
            self.search.harvest.percentile(99.0),
            self.search.after.percentile(99.0),
        )
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(f64::MIN_POSITIVE)
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let harvest_rate = self.harvested as f64 / self.harvest_time.as_secs_f64().max(1e-9);
        let searchable_rate = self.harvested as f64 / self.searchable_time.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "harvest: {} records over OAI-PMH ({} stored, {} quarantined, {}), {} seeded before",
            self.records, self.harvested, self.quarantined, self.harvest_status, self.seed_records
        )?;
        writeln!(
            f,
            "  stored in {:.1} s ({harvest_rate:.0} records/s); searchable in {:.1} s ({searchable_rate:.0} records/s); index {} docs",
            self.harvest_time.as_secs_f64(),
            self.searchable_time.as_secs_f64(),
            self.indexed_docs
        )?;
        writeln!(
            f,
            "  index behind the store during the harvest: mean {:.0}, max {} changes",
            self.mean_index_lag, self.max_index_lag
        )?;
        writeln!(
            f,
            "{:<30} {:>8} {:>10} {:>10} {:>10}",
            "", "samples", "p50 ms", "p99 ms", "max ms"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, label: &str, l: &Latencies| {
            writeln!(
                f,
                "{label:<30} {:>8} {:>10.1} {:>10.1} {:>10.1}",
                l.len(),
                ms(l.percentile(50.0)),
                ms(l.percentile(99.0)),
                ms(l.max())
            )
        };
        row(f, "search, idle (before)", &self.search.idle)?;
        row(f, "search, during harvest", &self.search.harvest)?;
        row(f, "search, after (full index)", &self.search.after)?;
        row(f, "write→searchable, harvest", &self.write_to_searchable.harvest)?;
        let ratio = self.search_p99_ratio();
        writeln!(
            f,
            "search p99 during harvest / idle p99: {ratio:.2} (target ≤ 2: {}); / after p99: {:.2}",
            verdict(ratio <= 2.0),
            self.search_p99_ratio_after()
        )?;
        let write_p99 = self.write_to_searchable.harvest.percentile(99.0);
        writeln!(
            f,
            "write→searchable p99 during harvest: {:.0} ms (target ≤ 1000 ms: {})",
            ms(write_p99),
            verdict(write_p99 <= Duration::from_secs(1))
        )?;
        writeln!(
            f,
            "search errors: {}, failed writes: {}; total time {:.1} s",
            self.search_errors,
            self.write_failures,
            self.total_time.as_secs_f64()
        )
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The institution the synthetic source belongs to.
const SOURCE_INSTITUTION: &str = "b-lzlib";
/// The synthetic source's id, and so the prefix of its record ids.
const SOURCE_ID: &str = "synthetic-oai";
/// Longest the curator looks for its record before counting the write as failed.
const FIND_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the benchmark; the caller prints the report.
pub async fn run(options: &LoadOptions) -> anyhow::Result<LoadReport> {
    let started = Instant::now();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = super::DataDir::new(options.data_dir.as_ref(), "load")?;
    measure(options, dir.path.clone(), started).await
}

async fn measure(options: &LoadOptions, data_dir: PathBuf, started: Instant) -> anyhow::Result<LoadReport> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let provider_addr = super::oai_source::start(
        SyntheticRepository::new(options.records),
        MAX_PAGE,
        stop_rx.clone(),
    )
    .await?;

    let config = Config::parse(&config_text(&data_dir, &provider_addr.to_string()))?;
    let instance = Instance::open(config)?;
    seed(&instance, options.seed_records).await?;

    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let limits = crate::server::ConnectionLimits::from(&instance.config.server);
    let server = tokio::spawn(crate::server::serve_with(listener, instance.router(), limits, {
        let mut stop = stop_rx.clone();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    }));

    let outcome = drive(options, &instance, &base).await;
    let _ = stop_tx.send(true);
    let _ = server.await;
    instance.indexing.shutdown();
    let mut report = outcome?;
    report.total_time = started.elapsed();
    Ok(report)
}

/// The seeded, searchers-and-curator part of a run, against the served instance at `base`.
async fn drive(options: &LoadOptions, instance: &Instance, base: &str) -> anyhow::Result<LoadReport> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.search_clients + 2)
        .build()?;
    let token = curator_token(instance, &client, base).await?;
    let phase = Arc::new(AtomicU8::new(Phase::Idle as u8));

    let searchers: Vec<_> = (0..options.search_clients.max(1))
        .map(|n| {
            tokio::spawn(search_loop(
                client.clone(),
                base.to_string(),
                Arc::clone(&phase),
                n,
                options.search_pause,
            ))
        })
        .collect();
    let curator = tokio::spawn(curator_loop(
        client.clone(),
        base.to_string(),
        token,
        Arc::clone(&phase),
        options.write_pause,
    ));

    tokio::time::sleep(options.idle).await;
    phase.store(Phase::Harvest as u8, Ordering::Release);
    let lag = tokio::spawn(lag_loop(instance.clone(), Arc::clone(&phase)));
    let harvest_started = Instant::now();
    let source = instance
        .config
        .sources
        .first()
        .context("the benchmark's config has its source")?
        .clone();
    let mut next_note = 100_000;
    let run = instance
        .harvest(&source, |progress| {
            if progress.items >= next_note {
                eprintln!(
                    "  … {} records harvested in {:.0} s",
                    progress.items,
                    harvest_started.elapsed().as_secs_f64()
                );
                next_note += 100_000;
            }
        })
        .await;
    let harvest_time = harvest_started.elapsed();
    let indexed = instance.wait_indexed(Duration::from_secs(3600)).await;
    let searchable_time = harvest_started.elapsed();
    phase.store(Phase::After as u8, Ordering::Release);
    if run.is_ok() && indexed.is_ok() {
        tokio::time::sleep(options.idle).await;
    }
    phase.store(Phase::Stop as u8, Ordering::Release);

    let mut search_samples = Vec::new();
    let mut search_errors = 0;
    for searcher in searchers {
        let (samples, errors) = searcher.await?;
        search_samples.extend(samples);
        search_errors += errors;
    }
    let (write_samples, write_failures) = curator.await?;
    let lags = lag.await?;
    let max_index_lag = lags.iter().copied().max().unwrap_or(0);
    let mean_index_lag = lags.iter().sum::<u64>() as f64 / lags.len().max(1) as f64;
    let run = run?;
    indexed?;
    Ok(LoadReport {
        records: options.records,
        seed_records: options.seed_records,
        harvested: run.counts.added,
        quarantined: run.counts.quarantined,
        harvest_status: run.status.to_string(),
        harvest_time,
        searchable_time,
        indexed_docs: instance.indexing.index().num_docs(),
        search: ByPhase::from_samples(search_samples),
        search_errors,
        write_to_searchable: ByPhase::from_samples(write_samples),
        write_failures,
        max_index_lag,
        mean_index_lag,
        total_time: Duration::ZERO,
    })
}

/// The instance's configuration: the synthetic institutions, the provider as the one source,
/// and no rate limit that the searchers would run into.
fn config_text(data_dir: &std::path::Path, provider: &str) -> String {
    let mut text = format!(
        "data_dir = {:?}\n[api]\nrate_per_ip = \"1000000000/min\"\nrate_per_key = \"1000000000/min\"\n",
        data_dir.display().to_string()
    );
    for institution in synthetic_institutions() {
        text.push_str(&institution_toml(&institution));
    }
    text.push_str(&format!(
        "[[sources]]\nid = \"{SOURCE_ID}\"\ninstitution = \"{SOURCE_INSTITUTION}\"\nprotocol = \"oai-pmh\"\nurl = \"http://{provider}/oai\"\n"
    ));
    text
}

fn institution_toml(institution: &Institution) -> String {
    let mut text = format!(
        "[[institutions]]\nid = {:?}\nname = {:?}\ntype = {:?}\nlevel = {:?}\n",
        institution.id,
        institution.name,
        institution.institution_type.as_str(),
        institution.level.as_str()
    );
    if let Some(district) = institution.district {
        text.push_str(&format!("district = {:?}\n", district.label()));
    }
    text
}

/// Stores `count` synthetic records (ids `bench:…`, apart from the harvest's) and waits until
/// the index has them.
async fn seed(instance: &Instance, count: usize) -> anyhow::Result<()> {
    if count == 0 {
        return Ok(());
    }
    let store = Arc::clone(&instance.store);
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let institutions = synthetic_institutions();
        let mut batch = Vec::with_capacity(10_000);
        for i in 0..count {
            batch.push(synthetic_record(i, &institutions));
            if batch.len() == batch.capacity() {
                store.import_records(&batch)?;
                batch.clear();
            }
        }
        store.import_records(&batch)?;
        Ok(())
    })
    .await??;
    instance.indexing.wake();
    instance.wait_indexed(Duration::from_secs(3600)).await
}

/// Creates a curator of the source's institution, signs in over the API and returns a
/// bearer token.
async fn curator_token(instance: &Instance, client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    const USERNAME: &str = "load-curator";
    const PASSWORD: &str = "a long benchmark passphrase";
    let store = Arc::clone(&instance.store);
    tokio::task::spawn_blocking(move || {
        services::auth::accounts::create_user(
            &store,
            &services::auth::NewUser {
                username: USERNAME.into(),
                password: services::auth::Password::new(PASSWORD),
                role: services::auth::Role::Curator,
                institutions: vec![SOURCE_INSTITUTION.into()],
            },
        )
    })
    .await??;
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(json!({"username": USERNAME, "password": PASSWORD}).to_string())
        .send()
        .await?
        .error_for_status()?;
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("jincheng_session="))
        .and_then(|c| c.split(';').next())
        .context("the login set no session cookie")?
        .to_string();
    let login: Value = serde_json::from_slice(&login.bytes().await?)?;
    let csrf = login["csrf_token"]
        .as_str()
        .context("the login answer has no CSRF token")?;
    let body = client
        .post(format!("{base}/api/v1/auth/tokens"))
        .header("cookie", cookie)
        .header(services::auth::CSRF_HEADER, csrf)
        .header("content-type", "application/json")
        .body(json!({"name": "load benchmark"}).to_string())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let body: Value = serde_json::from_slice(&body)?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .context("the token answer has no token")
}

/// Chinese queries of the kind citizens type, some with filters.
const QUERIES: &[&str] = &[
    "q=黄河",
    "q=敦煌石窟",
    "q=丝绸之路研究",
    "q=唐诗+宋词",
    "q=兰州历史&institution_type=library",
    "q=彩陶",
    "q=考古&year_from=1990&year_to=2010",
    "q=王伟",
    "q=西北地区历史文化",
    "q=甘肃人民出版社",
    "q=河西走廊",
    "q=青铜器",
    "q=佛教艺术",
    "q=书法与绘画",
    "q=少数民族民俗",
    "q=生态+水利",
];

/// One search client: queries the mix in turn (each client from a different start) until
/// the run stops; returns its (phase, latency) samples and its error count.
async fn search_loop(
    client: reqwest::Client,
    base: String,
    phase: Arc<AtomicU8>,
    n: usize,
    pause: Duration,
) -> (Vec<(Phase, Duration)>, usize) {
    let urls: Vec<String> = QUERIES
        .iter()
        .map(|q| format!("{base}/api/v1/search?{q}"))
        .collect();
    let mut samples = Vec::new();
    let mut errors = 0;
    let mut i = n * 5;
    loop {
        let before = Phase::from_u8(phase.load(Ordering::Acquire));
        if before == Phase::Stop {
            break;
        }
        let url = &urls[i % urls.len()];
        i += 1;
        let sent = Instant::now();
        let ok = match client.get(url).send().await {
            Ok(response) if response.status() == reqwest::StatusCode::OK => response.bytes().await.is_ok(),
            _ => false,
        };
        let took = sent.elapsed();
        if !ok {
            errors += 1;
        } else if Phase::from_u8(phase.load(Ordering::Acquire)) == before {
            samples.push((before, took));
        }
        tokio::time::sleep(pause).await;
    }
    (samples, errors)
}

/// The curator, during the harvest: creates a record with `?wait=true`, then searches for
/// its unique word until the record is a hit; the time from sending the create to that hit
/// is one sample.
async fn curator_loop(
    client: reqwest::Client,
    base: String,
    token: String,
    phase: Arc<AtomicU8>,
    pause: Duration,
) -> (Vec<(Phase, Duration)>, usize) {
    let mut samples = Vec::new();
    let mut failures = 0;
    for n in 0.. {
        let before = Phase::from_u8(phase.load(Ordering::Acquire));
        match before {
            Phase::Stop => break,
            // Only during the harvest: a write's commit (and the rebuilds that follow a
            // commit) would disturb the idle searches.
            Phase::Idle | Phase::After => {
                tokio::time::sleep(pause).await;
                continue;
            }
            Phase::Harvest => {}
        }
        let sent = Instant::now();
        match write_and_find(&client, &base, &token, n).await {
            Ok(()) => {
                let took = sent.elapsed();
                if Phase::from_u8(phase.load(Ordering::Acquire)) == before {
                    samples.push((before, took));
                }
            }
            Err(err) => {
                tracing::warn!("curated write {n}: {err:#}");
                failures += 1;
            }
        }
        tokio::time::sleep(pause).await;
    }
    (samples, failures)
}

async fn write_and_find(client: &reqwest::Client, base: &str, token: &str, n: u64) -> anyhow::Result<()> {
    // A word no other record has, so the search finds this record only once it is indexed.
    let word = format!("loadprobe{n:07}");
    let body = json!({
        "institution": SOURCE_INSTITUTION,
        "title": format!("兰州黄河铁桥老照片 {word}"),
        "creators": ["兰州市图书馆"],
        "resource_type": "图像",
        "subjects": ["黄河", "兰州"],
    });
    let created = client
        .post(format!("{base}/api/v1/curate/records?wait=true"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let created: Value = serde_json::from_slice(&created)?;
    let id = created["id"].as_str().context("the create answer has no id")?;
    let url = format!("{base}/api/v1/search?q={word}");
    let deadline = Instant::now() + FIND_TIMEOUT;
    loop {
        let found = client.get(&url).send().await?.error_for_status()?.bytes().await?;
        let found: Value = serde_json::from_slice(&found)?;
        let hit = found["hits"]
            .as_array()
            .is_some_and(|hits| hits.iter().any(|h| h["id"].as_str() == Some(id)));
        if hit {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{id} not found by search within {FIND_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Samples how far the index is behind the store, every 100 ms of the harvest phase.
async fn lag_loop(instance: Instance, phase: Arc<AtomicU8>) -> Vec<u64> {
    let mut lags = Vec::new();
    while Phase::from_u8(phase.load(Ordering::Acquire)) == Phase::Harvest {
        let store = Arc::clone(&instance.store);
        if let Ok(Ok(stored)) = tokio::task::spawn_blocking(move || store.max_seq()).await {
            lags.push(stored.saturating_sub(instance.indexing.watermark()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    lags
}

/// Most records a page of the synthetic provider has; pages vary from [`MIN_PAGE`] to this.
const MAX_PAGE: usize = 500;
/// Fewest records a page (other than the last) has.
const MIN_PAGE: usize = 100;

/// An OAI-PMH repository of `records` synthetic records, made on demand from their number:
/// record `i` is `oai:synthetic.jincheng:{i}`, with the content of
/// [`super::synthetic_record`]`(i)` as `oai_dc`, all with the same datestamp.
pub struct SyntheticRepository {
    records: usize,
    institutions: Vec<Institution>,
    datestamp: Datestamp,
}

const IDENTIFIER_PREFIX: &str = "oai:synthetic.jincheng:";

const OAI_DC_OPEN: &str = concat!(
    r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" "#,
    r#"xmlns:dc="http://purl.org/dc/elements/1.1/">"#,
);

impl SyntheticRepository {
    /// A repository of `records` records.
    pub fn new(records: usize) -> SyntheticRepository {
        SyntheticRepository {
            records,
            institutions: synthetic_institutions(),
            datestamp: Datestamp::from_time(time::macros::datetime!(2025-06-01 08:00:00 UTC)),
        }
    }

    /// How many records the page starting at record `start` has: 100 to 500, the same on
    /// every run.
    fn page_len(start: usize) -> usize {
        let mixed = (start as u64 ^ 0x5DEE_CE66).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33;
        MIN_PAGE + (mixed % (MAX_PAGE - MIN_PAGE + 1) as u64) as usize
    }
}

impl Repository for SyntheticRepository {
    type Item = usize;
    type Error = std::convert::Infallible;

    fn info(&self) -> Result<RepositoryInfo, Self::Error> {
        Ok(RepositoryInfo {
            repository_name: "Synthetic catalogue (jincheng bench)".into(),
            admin_emails: vec!["bench@synthetic.jincheng.invalid".into()],
            earliest_datestamp: self.datestamp.clone(),
            deleted_record: DeletedRecord::No,
        })
    }

    fn formats(&self, _base_url: &str) -> Vec<MetadataFormat> {
        vec![MetadataFormat::oai_dc()]
    }

    fn supports(&self, _item: &usize, prefix: &str) -> bool {
        prefix == "oai_dc"
    }

    fn sets(&self) -> Result<Vec<SetInfo>, Self::Error> {
        Ok(Vec::new())
    }

    fn get(&self, identifier: &str) -> Result<Option<usize>, Self::Error> {
        Ok(identifier
            .strip_prefix(IDENTIFIER_PREFIX)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n < self.records))
    }

    fn header(&self, item: &usize) -> Header {
        Header {
            identifier: format!("{IDENTIFIER_PREFIX}{item}"),
            datestamp: self.datestamp.clone(),
            deleted: false,
            sets: Vec::new(),
        }
    }

    fn list(
        &self,
        query: &ListQuery,
        resume: Option<&ListPosition>,
        limit: usize,
    ) -> Result<ListSlice<usize>, Self::Error> {
        let everything = query.set.is_none() && query.covers(&self.datestamp);
        let total = if everything { self.records } else { 0 };
        let start: usize = resume.and_then(|p| p.after.parse().ok()).unwrap_or(0).min(total);
        let end = start
            .saturating_add(Self::page_len(start).min(limit.max(1)))
            .min(total);
        Ok(ListSlice {
            items: (start..end).collect(),
            complete_list_size: total as u64,
            snapshot: String::new(),
            next: (end < total).then(|| end.to_string()),
        })
    }

    fn valid_position(&self, position: &ListPosition) -> bool {
        position.snapshot.is_empty() && position.after.parse::<usize>().is_ok_and(|n| n <= self.records)
    }

    fn write_metadata(
        &self,
        item: &usize,
        _prefix: &str,
        _base_url: &str,
        out: &mut String,
    ) -> Result<(), Self::Error> {
        let record = synthetic_record(*item, &self.institutions);
        out.push_str(OAI_DC_OPEN);
        push_element(out, "dc:title", &record.title);
        for creator in &record.creators {
            push_element(out, "dc:creator", creator);
        }
        for subject in &record.subjects {
            push_element(out, "dc:subject", subject);
        }
        if let Some(description) = &record.description {
            push_element(out, "dc:description", description);
        }
        if let Some(publisher) = &record.publisher {
            push_element(out, "dc:publisher", publisher);
        }
        if let Some(date) = &record.date {
            push_element(out, "dc:date", &date.display);
        }
        push_element(out, "dc:type", record.resource_type.label());
        for isbn in &record.isbns {
            push_element(out, "dc:identifier", &format!("ISBN {isbn}"));
        }
        push_element(out, "dc:language", "chi");
        out.push_str("</oai_dc:dc>");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_vary_within_bounds_and_cover_every_record_once() {
        let repository = SyntheticRepository::new(2_345);
        let query = ListQuery {
            metadata_prefix: "oai_dc".into(),
            from: None,
            until: None,
            set: None,
        };
        let mut seen = Vec::new();
        let mut resume: Option<ListPosition> = None;
        loop {
            let slice = repository.list(&query, resume.as_ref(), MAX_PAGE).unwrap();
            assert!(slice.items.len() <= MAX_PAGE);
            if slice.next.is_some() {
                assert!(slice.items.len() >= MIN_PAGE);
            }
            seen.extend(slice.items);
            match slice.next {
                Some(after) => {
                    resume = Some(ListPosition {
                        snapshot: slice.snapshot,
                        after,
                    })
                }
                None => break,
            }
        }
        assert_eq!(seen, (0..2_345).collect::<Vec<_>>());
    }
}
