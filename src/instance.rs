//! One running Jincheng: a store, an index with its follower, the fetcher of harvested
//! image links, and the configured sources.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use harvesters::HttpLimits;
use indexer::{AnalysisOptions, Index};

use crate::access::Access;
use crate::metrics::Metrics;
use crate::server;
use crate::state::AppState;
use services::config::{Config, Location, SourceConfig};
use services::harvest::{self, Progress};
use services::indexing::IndexService;
use services::remote_images::RemoteImageFetcher;
use store::{HarvestRun, Store};

/// Store file name inside the data directory.
const STORE_FILE: &str = "jincheng.db";
/// Index folder inside the data directory.
const INDEX_DIR: &str = "index";
/// Folder of `user_dict.txt`, `synonyms.txt` and `names.txt` inside the data directory.
const DICTIONARY_DIR: &str = "dictionaries";

/// A store, its index follower and the configuration they serve.
#[derive(Clone)]
pub struct Instance {
    /// The configuration it was opened with.
    pub config: Arc<Config>,
    /// The store of record.
    pub store: Arc<Store>,
    /// The index follower.
    pub indexing: IndexService,
    /// API keys and rate limits, shared by every router made from this instance.
    access: Arc<Access>,
    /// Search analytics, shared by every router made from this instance.
    pub analytics: Arc<services::analytics::Analytics>,
    /// The background fetcher of harvested records' image links.
    pub remote_images: RemoteImageFetcher,
    /// This node's name in harvest leases.
    node: Arc<str>,
    /// The request metrics of `/metrics`, shared by every router made from this instance.
    metrics: Arc<Metrics>,
}

/// Another node holds the harvest lease of a source: it is harvesting it now.
#[derive(Debug, thiserror::Error)]
#[error("another node is harvesting {0} now")]
pub struct LeaseHeld(pub String);

/// Records whose clicks count in the ranking, at most (the most clicked).
pub const MAX_CLICKED_RECORDS: usize = 10_000;
/// How often the clicks counted in the ranking are read again.
pub const POPULARITY_REFRESH: Duration = Duration::from_secs(600);

/// Where the store file of `data_dir` is.
pub fn store_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join(STORE_FILE)
}

/// Where the index folder of `data_dir` is.
pub fn index_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join(INDEX_DIR)
}

/// Opens the store of a config: the PostgreSQL database of `[store] url`, or else the SQLite
/// file of the data directory (created if needed).
pub fn open_store(config: &Config) -> anyhow::Result<Store> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    Ok(match &config.store.url {
        Some(url) => Store::connect(url, config.store.password().as_deref(), config.store.connections)
            .context("connecting to the PostgreSQL store of [store] url")?,
        None => Store::open(&store_path(data_dir))?,
    })
}

/// Opens the index under `data_dir`, with the user dictionary, synonyms and names of
/// `data_dir/dictionaries/` (the built-in ones when absent); an index of an older schema is
/// removed, to be rebuilt from the store (which is always possible: the index holds nothing
/// the store lacks).
pub fn open_index(data_dir: &Path) -> anyhow::Result<Index> {
    let dir = index_path(data_dir);
    let options = AnalysisOptions {
        dictionary_dir: Some(data_dir.join(DICTIONARY_DIR)),
    };
    match Index::open_or_create_with(&dir, &options) {
        Err(indexer::Error::SchemaMismatch { .. }) => {
            tracing::warn!(
                "the index at {} has an older schema; rebuilding it from the store",
                dir.display()
            );
            std::fs::remove_dir_all(&dir)?;
            Ok(Index::open_or_create_with(&dir, &options)?)
        }
        other => Ok(other?),
    }
}

impl Instance {
    /// Opens the data directory, records the configured institutions and sources, and starts
    /// the index follower (which immediately indexes whatever the store has and the index
    /// lacks).
    pub fn open(config: Config) -> anyhow::Result<Instance> {
        let store = Arc::new(open_store(&config)?);
        store.upsert_institutions(&config.institutions)?;
        store.upsert_mobile_routes(&config.mobile_routes)?;
        for source in &config.sources {
            let location = match source.location() {
                Some(Location::Url(url)) => url.to_string(),
                Some(Location::Path(path)) => path.display().to_string(),
                None => String::new(),
            };
            store.upsert_source(
                &source.id,
                &source.institution,
                source.protocol.as_str(),
                &location,
            )?;
        }
        let index = open_index(&config.data_dir)?;
        let indexing = IndexService::start(Arc::clone(&store), index, &config.branches)?;
        // A run still `running` whose source no node holds a lease on was cut short by a
        // crash or a kill.
        let interrupted = store.mark_interrupted_runs(unix_millis())?;
        if interrupted > 0 {
            tracing::warn!("{interrupted} harvest run(s) were interrupted by the last stop");
        }
        let access =
            Arc::new(Access::new(config.api.clone()).with_suggestion_rate(config.suggestions.rate_per_ip));
        let analytics = Arc::new(services::analytics::Analytics::start(
            Arc::clone(&store),
            config.analytics.raw_retention_days,
        )?);
        let remote_images = RemoteImageFetcher::start(
            Arc::clone(&store),
            services::curate::images::ImageStorage::new(&config.data_dir, &store),
            &config.curation.remote_images,
            config.curation.image_limits(),
        );
        Ok(Instance {
            node: Arc::from(config.store.node_name()),
            config: Arc::new(config),
            store,
            indexing,
            access,
            analytics,
            remote_images,
            metrics: Arc::new(Metrics::default()),
        })
    }

    /// The state the HTTP handlers share.
    pub fn state(&self) -> AppState {
        AppState {
            store: Arc::clone(&self.store),
            indexing: self.indexing.clone(),
            search: services::search::SearchService::new(
                self.indexing.index().clone(),
                Arc::clone(&self.store),
            ),
            access: Arc::clone(&self.access),
            analytics: Arc::clone(&self.analytics),
            curation: Arc::new(self.config.curation.clone()),
            data_dir: Arc::from(self.config.data_dir.as_path()),
            oai: self.config.oai,
            notice: self.config.pages.notice.as_deref().map(Arc::from),
            suggestions: self.config.suggestions,
            metrics: Arc::clone(&self.metrics),
            metrics_access: Arc::new(self.config.metrics.clone()),
        }
    }

    /// The application router.
    pub fn router(&self) -> axum::Router {
        server::app(
            self.state(),
            self.config.server.request_timeout,
            &self.config.api.cors_origins,
        )
    }

    /// Harvests one source once; the index follower and the image fetcher are woken after
    /// every stored page, and the harvest waits for the index whenever it is more than
    /// [`harvest::MAX_INDEX_LAG`] changes behind, so curated writes stay quickly searchable.
    pub async fn harvest(
        &self,
        source: &SourceConfig,
        on_page: impl FnMut(&Progress),
    ) -> anyhow::Result<HarvestRun> {
        self.run_source(source, true, on_page).await
    }

    /// Harvests one source once without waiting for the index: for `jincheng harvest`,
    /// where nobody curates or searches meanwhile (the index writer's lock keeps a server
    /// off this data directory). The follower then indexes in batches of up to 20,000
    /// changes and commits far less often; paced, it commits about every 500 changes, and
    /// merging those small segments was half of a bulk load's work (`jincheng bench dump`,
    /// 250,000 records). [`Instance::wait_indexed`] waits for the index afterwards.
    ///
    /// From then on (the follower goes on indexing after the harvest returns) the index
    /// skips its background rebuilds of search tables after each commit
    /// ([`Index::set_bulk_loading`]): nobody searches it.
    pub async fn harvest_in_bulk(
        &self,
        source: &SourceConfig,
        on_page: impl FnMut(&Progress),
    ) -> anyhow::Result<HarvestRun> {
        self.indexing.index().set_bulk_loading(true);
        self.run_source(source, false, on_page).await
    }

    /// One harvest of `source` under its lease (a [`LeaseHeld`] error when another node
    /// holds it), waking the index follower and the image fetcher after every stored page;
    /// `paced`, it waits for the index whenever it falls behind. The lease is renewed every
    /// third of `[store] harvest_lease` while the run goes on; if it is lost all the same (this
    /// node stalled for longer than the lease, and another took the source over), the run
    /// stops at once with an error, and its stored pages stand.
    async fn run_source(
        &self,
        source: &SourceConfig,
        paced: bool,
        mut on_page: impl FnMut(&Progress),
    ) -> anyhow::Result<HarvestRun> {
        let ttl = self.config.store.harvest_lease;
        let until = move || unix_millis().saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let (until_first, now) = (until(), unix_millis());
        if !self
            .lease(source, move |s, id, node| {
                s.take_lease(id, node, now, until_first)
            })
            .await?
        {
            return Err(LeaseHeld(source.id.clone()).into());
        }
        let renewals = async {
            loop {
                tokio::time::sleep(ttl / 3).await;
                let until = until();
                match self
                    .lease(source, move |s, id, node| s.renew_lease(id, node, until))
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => anyhow::bail!("lost the harvest lease of {} to another node", source.id),
                    Err(err) => tracing::warn!("could not renew the harvest lease of {}: {err}", source.id),
                }
            }
        };
        let run = harvest::run_source(
            Arc::clone(&self.store),
            source,
            HttpLimits::default(),
            paced.then_some(&self.indexing),
            |p| {
                self.indexing.wake();
                self.remote_images.wake();
                on_page(p);
            },
        );
        let result = tokio::select! {
            run = run => run,
            lost = renewals => lost,
        };
        if let Err(err) = self.lease(source, |s, id, node| s.release_lease(id, node)).await {
            tracing::warn!("could not release the harvest lease of {}: {err:#}", source.id);
        }
        result
    }

    /// Waits until the index has caught up with everything stored so far.
    pub async fn wait_indexed(&self, timeout: Duration) -> anyhow::Result<()> {
        let target = self.store.max_seq()?;
        anyhow::ensure!(
            self.indexing.wait_for(target, timeout).await,
            "the index did not catch up with the store within {timeout:?}"
        );
        Ok(())
    }

    /// Gives the index the clicks per record of the search statistics (the raw events of the
    /// retention period, the [`MAX_CLICKED_RECORDS`] most clicked), which count in the
    /// popularity factor of the ranking ([`indexer::CLICKS_PER_HOLDER`]). Returns how many
    /// records have clicks.
    pub fn refresh_popularity(&self) -> anyhow::Result<usize> {
        let clicks = self.store.clicks_by_record("", MAX_CLICKED_RECORDS)?;
        let records = clicks.len();
        self.indexing.index().set_clicks(clicks.into_iter().collect());
        Ok(records)
    }

    /// Refreshes the popularity from the clicks now and every [`POPULARITY_REFRESH`], forever.
    pub fn spawn_popularity_refresh(&self) {
        let instance = self.clone();
        tokio::spawn(async move {
            loop {
                let refreshed = {
                    let instance = instance.clone();
                    tokio::task::spawn_blocking(move || instance.refresh_popularity()).await
                };
                match refreshed {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => tracing::warn!("could not read the clicks for the ranking: {err:#}"),
                    Err(err) => tracing::warn!("the clicks refresh failed: {err}"),
                }
                tokio::time::sleep(POPULARITY_REFRESH).await;
            }
        });
    }

    /// Deletes the contacts left with purchase suggestions once their time is up: now, then
    /// every hour, forever (writes to the suggestions sweep too; this covers quiet times).
    pub fn spawn_suggestion_contact_sweep(&self) {
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            loop {
                let store = Arc::clone(&store);
                let swept = tokio::task::spawn_blocking(move || {
                    services::suggestions::sweep_contacts(&store, time::OffsetDateTime::now_utc())
                })
                .await;
                match swept {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => tracing::warn!("could not delete expired suggestion contacts: {err}"),
                    Err(err) => tracing::warn!("the suggestion contact sweep failed: {err}"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        });
    }

    /// Harvests every source when it is due, forever: now, and again `interval` after
    /// the last complete run (sources without an interval: once, at start). Several nodes
    /// sharing a store share the schedule: a source is due when no node completed a run of
    /// it within its interval (or, without one, since this node started), and only the node
    /// holding its lease harvests it; the others look again every third of the lease, so
    /// one of them takes a dead node's source over once its lease expires.
    pub fn spawn_scheduled_harvests(&self) {
        for source in self.config.sources.iter().cloned() {
            let instance = self.clone();
            tokio::spawn(async move {
                let started = time::OffsetDateTime::now_utc();
                let look_again = instance.config.store.harvest_lease / 3;
                loop {
                    let last = match instance.last_complete_run(&source.id).await {
                        Ok(last) => last,
                        Err(err) => {
                            tracing::warn!("could not read the harvest runs of {}: {err:#}", source.id);
                            tokio::time::sleep(look_again).await;
                            continue;
                        }
                    };
                    let now = time::OffsetDateTime::now_utc();
                    let due = match (source.interval, last) {
                        (None, Some(last)) if last >= started => break,
                        (Some(interval), Some(last)) => last + interval,
                        _ => now,
                    };
                    if due > now {
                        tokio::time::sleep((due - now).try_into().unwrap_or(look_again)).await;
                        continue;
                    }
                    match instance.harvest(&source, |_| {}).await {
                        Ok(run) => tracing::info!(
                            "harvested {}: {} added, {} updated, {} deleted, {} unchanged, {} quarantined ({})",
                            source.id,
                            run.counts.added,
                            run.counts.updated,
                            run.counts.deleted,
                            run.counts.unchanged,
                            run.counts.quarantined,
                            run.status
                        ),
                        Err(err) if err.is::<LeaseHeld>() => {
                            tracing::debug!("{err}");
                            tokio::time::sleep(look_again).await;
                            continue;
                        }
                        Err(err) => tracing::error!("harvest of {} failed: {err:#}", source.id),
                    }
                    match source.interval {
                        Some(interval) => tokio::time::sleep(interval).await,
                        None => break,
                    }
                }
            });
        }
    }

    /// A call about this node's lease of `source`, off the async workers.
    async fn lease<T: Send + 'static>(
        &self,
        source: &SourceConfig,
        call: impl FnOnce(&Store, &str, &str) -> store::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let (store, id, node) = (Arc::clone(&self.store), source.id.clone(), Arc::clone(&self.node));
        Ok(tokio::task::spawn_blocking(move || call(&store, &id, &node)).await??)
    }

    /// When the last complete run of `source` finished, if one did.
    async fn last_complete_run(&self, source: &str) -> anyhow::Result<Option<time::OffsetDateTime>> {
        let (store, source) = (Arc::clone(&self.store), source.to_owned());
        let runs = tokio::task::spawn_blocking(move || store.runs(Some(&source), 50)).await??;
        Ok(runs
            .into_iter()
            .filter(|run| run.status == store::RunStatus::Complete)
            .find_map(|run| {
                let finished = run.finished_at?;
                time::OffsetDateTime::parse(&finished, &time::format_description::well_known::Rfc3339).ok()
            }))
    }
}

/// Now, in milliseconds since the Unix epoch (the clock of harvest leases).
fn unix_millis() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_cut_short_is_marked_interrupted_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let config = || {
            let mut config = Config::parse("").unwrap();
            config.data_dir = dir.path().to_path_buf();
            config
        };
        let instance = Instance::open(config()).unwrap();
        let done = instance.store.start_run("lzlib-oai", false).unwrap();
        instance.store.finish_run(done, None).unwrap();
        // The process dies here, during a run: nothing finishes it.
        let cut = instance.store.start_run("lzlib-oai", false).unwrap();
        assert_eq!(
            instance.store.runs(None, 10).unwrap()[0].status,
            store::RunStatus::Running
        );
        instance.indexing.shutdown();
        drop(instance);

        let instance = Instance::open(config()).unwrap();
        let runs = instance.store.runs(None, 10).unwrap();
        let status = |id| runs.iter().find(|r| r.id == id).map(|r| r.status.as_str());
        assert_eq!(status(cut), Some("interrupted"));
        assert!(
            runs[0].finished_at.is_some() && runs[0].error.is_some(),
            "{:?}",
            runs[0]
        );
        assert_eq!(status(done), Some("complete"), "finished runs are left alone");
        instance.indexing.shutdown();
    }
}
