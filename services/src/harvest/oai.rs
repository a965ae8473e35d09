//! OAI-PMH runs.
//!
//! A run resumes an interrupted list from its stored resumption token; if the provider has
//! forgotten the token (`badResumptionToken`), the run restarts the same list from the same
//! `from`, which re-delivers what was already stored as `unchanged`. A complete run sets the
//! next run's `from` to the provider's `responseDate` of the run's first page, so the next
//! run is incremental on the provider's clock, not ours.

use std::collections::HashSet;
use std::sync::Arc;

use harvesters::{HttpLimits, ListRequest, OaiPmhHarvester, OaiPmhSource, Page};
use schemas::oai::ErrorCode;

use super::{AfterPage, Progress, store_page, to_incoming};
use crate::config::SourceConfig;
use store::{Checkpoint, Store};

/// How many pages in a row may be empty while still carrying a token before we call the
/// provider broken (some providers page through deleted-and-filtered items this way).
const MAX_EMPTY_PAGES: u32 = 100;

pub(super) async fn harvest(
    store: &Arc<Store>,
    source: &SourceConfig,
    limits: HttpLimits,
    run_id: i64,
    checkpoint: Checkpoint,
    after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
) -> anyhow::Result<()> {
    let base_url = source
        .url
        .clone()
        .ok_or_else(|| anyhow::anyhow!("source {} has no url", source.id))?;
    let harvester = OaiPmhHarvester::new(
        OaiPmhSource {
            source_id: source.id.clone(),
            institution: source.institution.clone(),
            base_url,
            metadata_prefix: source.metadata_prefix.clone(),
            set: source.set.clone(),
        },
        limits,
    )?;
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
    let mut progress = Progress::default();
    let mut seen_tokens = HashSet::new();
    let mut empty_pages = 0;
    let mut restarted = false;
    loop {
        let page: Page = match harvester.list_records(&request).await {
            Ok(page) => page,
            Err(harvesters::Error::Oai { code, .. })
                if ErrorCode::from_name(&code) == Some(ErrorCode::BadResumptionToken)
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
        let items = to_incoming(&source.id, page.items);
        let counts = store_page(store, source, run_id, items, checkpoint).await?;
        progress.counts += counts;
        after_page.stored(&progress).await;
        match next_token {
            Some(token) => request = ListRequest::Resume { token },
            None => return Ok(()),
        }
    }
}
