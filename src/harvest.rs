//! Harvest runs: drive a harvester page by page and store each page with its checkpoint.
//!
//! A run resumes an interrupted list from its stored resumption token; if the provider has
//! forgotten the token (`badResumptionToken`), the run restarts the same list from the same
//! `from`, which re-delivers what was already stored as `unchanged`. A complete run sets the
//! next run's `from` to the provider's `responseDate` of the run's first page, so the next
//! run is incremental on the provider's clock, not ours.

use std::collections::HashSet;
use std::sync::Arc;

use harvesters::{HttpLimits, ItemOutcome, ListRequest, OaiPmhHarvester, OaiPmhSource, Page};
use schemas::record_id;

use crate::config::{Protocol, SourceConfig};
use crate::store::{Checkpoint, Counts, HarvestRun, Incoming, Store};

/// How many pages in a row may be empty while still carrying a token before we call the
/// provider broken (some providers page through deleted-and-filtered items this way).
const MAX_EMPTY_PAGES: u32 = 100;

/// Progress of a run, passed to the caller after every stored page.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Items received so far in this run.
    pub items: u64,
    /// Size of the whole list, when the provider says.
    pub total: Option<u64>,
    /// What storing them changed so far.
    pub counts: Counts,
}

/// Harvests one source once, to completion or to the first unrecoverable error.
///
/// `on_page` is called after each page is durable (the server wakes the indexer there).
/// The returned run says what happened; a failed run is an `Ok` with `status = "failed"`,
/// since its stored pages and checkpoint remain valid.
pub async fn run_source(
    store: Arc<Store>,
    source: &SourceConfig,
    limits: HttpLimits,
    mut on_page: impl FnMut(&Progress),
) -> anyhow::Result<HarvestRun> {
    let Protocol::OaiPmh = source.protocol;
    let harvester = OaiPmhHarvester::new(
        OaiPmhSource {
            source_id: source.id.clone(),
            institution: source.institution.clone(),
            base_url: source.url.clone(),
            metadata_prefix: source.metadata_prefix.clone(),
            set: source.set.clone(),
        },
        limits,
    )?;
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

    let result = harvest_pages(&store, source, &harvester, run_id, checkpoint, &mut on_page).await;
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

async fn harvest_pages(
    store: &Arc<Store>,
    source: &SourceConfig,
    harvester: &OaiPmhHarvester,
    run_id: i64,
    checkpoint: Checkpoint,
    on_page: &mut impl FnMut(&Progress),
) -> anyhow::Result<()> {
    let next_from = checkpoint.next_from.clone();
    let (run_from, mut run_response_date, mut request) = match checkpoint.resumption_token {
        Some(token) => (
            checkpoint.run_from,
            checkpoint.run_response_date,
            ListRequest::Resume { token },
        ),
        None => (
            next_from.clone(),
            None,
            ListRequest::Start {
                from: next_from.clone(),
                until: None,
            },
        ),
    };
    let mut progress = Progress {
        items: 0,
        total: None,
        counts: Counts::default(),
    };
    let mut seen_tokens = HashSet::new();
    let mut empty_pages = 0;
    let mut restarted = false;
    loop {
        let page: Page = match harvester.list_records(&request).await {
            Ok(page) => page,
            Err(harvesters::Error::Oai { code, .. })
                if code == "badResumptionToken"
                    && !restarted
                    && matches!(request, ListRequest::Resume { .. }) =>
            {
                tracing::warn!(
                    "{}: resumption token expired; restarting the list from {run_from:?}",
                    source.id
                );
                restarted = true;
                run_response_date = None;
                seen_tokens.clear();
                request = ListRequest::Start {
                    from: run_from.clone(),
                    until: None,
                };
                continue;
            }
            Err(err) => return Err(err.into()),
        };
        if run_response_date.is_none() {
            run_response_date = Some(page.response_date.clone());
        }
        let next_token = page.next_token.clone().filter(|t| !t.is_empty());
        if let Some(token) = &next_token {
            anyhow::ensure!(
                seen_tokens.insert(token.clone()),
                "the provider sent resumption token {token:?} twice: refusing to loop"
            );
            empty_pages = if page.items.is_empty() { empty_pages + 1 } else { 0 };
            anyhow::ensure!(
                empty_pages <= MAX_EMPTY_PAGES,
                "{MAX_EMPTY_PAGES} empty pages in a row: giving up"
            );
        }
        let checkpoint = match &next_token {
            Some(token) => Checkpoint {
                resumption_token: Some(token.clone()),
                run_from: run_from.clone(),
                run_response_date: run_response_date.clone(),
                next_from: next_from.clone(),
            },
            None => Checkpoint {
                next_from: run_response_date.clone(),
                ..Checkpoint::default()
            },
        };
        progress.items += page.items.len() as u64;
        progress.total = page.complete_list_size.or(progress.total);
        let items = to_incoming(&source.id, page);
        let counts = blocking(store, {
            let (source_id, institution) = (source.id.clone(), source.institution.clone());
            move |s| s.apply_page(run_id, &source_id, &institution, &items, &checkpoint)
        })
        .await?;
        progress.counts += counts;
        on_page(&progress);
        match next_token {
            Some(token) => request = ListRequest::Resume { token },
            None => return Ok(()),
        }
    }
}

fn to_incoming(source_id: &str, page: Page) -> Vec<Incoming> {
    page.items
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

/// Runs a store call off the async runtime's worker threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> anyhow::Result<T> {
    let store = Arc::clone(store);
    Ok(tokio::task::spawn_blocking(move || f(&store)).await??)
}
