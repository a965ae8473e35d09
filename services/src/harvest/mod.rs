//! Harvest runs: drive a harvester page by page and store each page with its checkpoint.
//!
//! Two kinds of source:
//! - [`oai`]: OAI-PMH lists, incremental and resumable (see that module).
//! - [`dump`]: whole dumps — a MARC, CSV, LIDO or feed file, or every page of a JSON API.
//!   Each run reads everything; unchanged records are recognised by content hash, and records
//!   of the source that are no longer in the dump are deleted.
//!
//! Either way every page is stored in one transaction, and one bad record is quarantined
//! without failing its page.
//!
//! A harvest given the index follower does not run ahead of the index: after each page it
//! waits until the index is at most [`MAX_INDEX_LAG`] changes behind the store. Without that,
//! a bulk harvest that stores faster than the follower indexes (they share the CPU) builds a
//! backlog, and a curator's write, which joins the change log behind it, waits for all of it
//! before it is searchable (measured: seconds; see `jincheng bench load-during-harvest`).

mod dump;
mod oai;

use std::sync::Arc;
use std::time::Duration;

use harvesters::{HarvestedItem, HttpLimits, ItemOutcome};
use schemas::record_id;

use crate::config::{Protocol, SourceConfig};
use crate::indexing::IndexService;
use store::{Checkpoint, Counts, HarvestRun, Incoming, Store};

/// Progress of a run, passed to the caller after every stored page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Items received so far in this run.
    pub items: u64,
    /// Size of the whole list, when the provider says.
    pub total: Option<u64>,
    /// What storing them changed so far.
    pub counts: Counts,
    /// How far into its file a dump run has read (bytes of the file as stored or
    /// downloaded, compressed or not).
    pub bytes_read: Option<u64>,
    /// The size of that file.
    pub bytes_total: Option<u64>,
}

/// How many stored changes the index may lag behind when a paced harvest fetches its next
/// page. With pages of up to a few hundred records, a curated write made during a bulk
/// harvest waits for about a thousand records to be indexed before its own.
pub const MAX_INDEX_LAG: u64 = 500;
/// Longest a paced harvest waits for the index after one page; then it goes on regardless,
/// so a stuck index never stops harvests (the store is the record).
const PACE_TIMEOUT: Duration = Duration::from_secs(30);

/// Harvests one source once, to completion or to the first unrecoverable error.
///
/// `on_page` is called after each page is durable (the server wakes the indexer there).
/// With `pace`, the harvest waits after each page until `pace`'s index is at most
/// [`MAX_INDEX_LAG`] changes behind the store.
/// The returned run says what happened; a failed run is an `Ok` with `status = "failed"`,
/// since its stored pages and checkpoint remain valid.
pub async fn run_source(
    store: Arc<Store>,
    source: &SourceConfig,
    limits: HttpLimits,
    pace: Option<&IndexService>,
    on_page: impl FnMut(&Progress),
) -> anyhow::Result<HarvestRun> {
    let checkpoint = blocking(&store, {
        let id = source.id.clone();
        move |s| s.checkpoint(&id)
    })
    .await?;
    let resumed = checkpoint.resumption_token.is_some();
    let run_id = blocking(&store, {
        let id = source.id.clone();
        move |s| s.start_run(&id, resumed)
    })
    .await?;

    let mut after_page = AfterPage {
        on_page,
        store: &store,
        pace,
    };
    let result = match source.protocol {
        Protocol::OaiPmh => oai::harvest(&store, source, limits, run_id, checkpoint, &mut after_page).await,
        _ => dump::harvest(&store, source, limits, run_id, &mut after_page).await,
    };
    let error = result.as_ref().err().map(|e| format!("{e:#}"));
    if let Some(error) = &error {
        tracing::warn!("harvest of {} failed: {error}", source.id);
    }
    blocking(&store, move |s| s.finish_run(run_id, error.as_deref())).await?;
    let runs = blocking(&store, {
        let id = source.id.clone();
        move |s| s.runs(Some(&id), 1)
    })
    .await?;
    runs.into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("harvest run {run_id} vanished from the store"))
}

/// Turns harvested items into what the store takes.
fn to_incoming(source_id: &str, items: Vec<HarvestedItem>) -> Vec<Incoming> {
    items
        .into_iter()
        .map(|item| match item.outcome {
            ItemOutcome::Record(record) => Incoming::Record {
                record,
                datestamp: item.datestamp,
                raw: item.raw,
            },
            ItemOutcome::Deleted => Incoming::Deleted {
                id: record_id(source_id, &item.local_id),
                local_id: item.local_id,
                datestamp: item.datestamp,
            },
            ItemOutcome::Quarantined { reason } => Incoming::Quarantined {
                local_id: item.local_id,
                reason,
                raw: item.raw,
            },
        })
        .collect()
}

/// What follows every stored page: the caller's `on_page`, then, for a paced harvest, the
/// wait for the index.
struct AfterPage<'a, F> {
    on_page: F,
    store: &'a Arc<Store>,
    pace: Option<&'a IndexService>,
}

impl<F: FnMut(&Progress)> AfterPage<'_, F> {
    async fn stored(&mut self, progress: &Progress) {
        (self.on_page)(progress);
        let Some(indexing) = self.pace else {
            return;
        };
        // A store error here shows again when the next page is stored.
        let Ok(stored) = blocking(self.store, |s| s.max_seq()).await else {
            return;
        };
        let target = stored.saturating_sub(MAX_INDEX_LAG);
        if indexing.watermark() < target && !indexing.wait_for(target, PACE_TIMEOUT).await {
            tracing::warn!("the index is far behind the store; harvesting on without waiting for it");
        }
    }
}

/// Runs a store call off the async runtime's worker threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, store::StoreError> + Send + 'static,
) -> anyhow::Result<T> {
    let store = Arc::clone(store);
    Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
}

/// Stores one page of items with the checkpoint that follows it.
async fn store_page(
    store: &Arc<Store>,
    source: &SourceConfig,
    run_id: i64,
    items: Vec<Incoming>,
    checkpoint: Checkpoint,
) -> anyhow::Result<Counts> {
    let (source_id, institution) = (source.id.clone(), source.institution.clone());
    blocking(store, move |s| {
        s.apply_page(run_id, &source_id, &institution, &items, &checkpoint)
    })
    .await
}
