//! Whole-dump runs: a MARC, CSV, LIDO or feed file (by URL or path), or every page of a JSON
//! API. Each run reads the whole dump; unchanged records are recognised by content hash, and
//! records of the source that are no longer in the dump are deleted — unless the dump held no
//! usable record at all, which is far more likely a broken export than an emptied collection.

use std::collections::HashSet;
use std::sync::Arc;

use harvesters::{
    CsvOptions, FeedOptions, HarvestedItem, HttpLimits, JsonApiHarvester, JsonApiOptions, LidoOptions,
    MarcEncoding, MarcFormat, MarcOptions, Paging,
};
use schemas::record_id;

use super::{AfterPage, Progress, store_page, to_incoming};
use crate::config::{Location, MarcFlavour, PagingConfig, Protocol, SourceConfig};
use store::{Checkpoint, Counts, Incoming, Store};

/// Items stored per transaction.
const PAGE: usize = 500;
/// Most pages one JSON API harvest fetches (a guard against APIs that never stop).
const MAX_JSON_PAGES: u32 = 100_000;

/// One run over a dump: stores pages and remembers which records it saw.
struct DumpRun<'a> {
    store: &'a Arc<Store>,
    source: &'a SourceConfig,
    run_id: i64,
    seen: HashSet<String>,
    records: u64,
    progress: Progress,
}

impl DumpRun<'_> {
    async fn store(
        &mut self,
        items: Vec<HarvestedItem>,
        after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
    ) -> anyhow::Result<()> {
        for chunk in items.chunks(PAGE) {
            for item in chunk {
                // Quarantined items count as seen: a record that is broken in this dump keeps
                // its last good version rather than being deleted.
                self.seen.insert(record_id(&self.source.id, &item.local_id));
                if matches!(item.outcome, harvesters::ItemOutcome::Record(_)) {
                    self.records += 1;
                }
            }
            self.progress.items += chunk.len() as u64;
            let incoming = to_incoming(&self.source.id, chunk.to_vec());
            let counts = store_page(
                self.store,
                self.source,
                self.run_id,
                incoming,
                Checkpoint::default(),
            )
            .await?;
            self.progress.counts += counts;
            after_page.stored(&self.progress).await;
        }
        Ok(())
    }

    /// Deletes the source's records that this dump no longer has.
    async fn delete_missing(
        &mut self,
        after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
    ) -> anyhow::Result<()> {
        let source_id = self.source.id.clone();
        let live = super::blocking(self.store, move |s| s.live_ids(&source_id)).await?;
        let missing: Vec<String> = live.into_iter().filter(|id| !self.seen.contains(id)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        anyhow::ensure!(
            self.records > 0,
            "the dump has no usable record; not deleting the {} records stored from it",
            missing.len()
        );
        let prefix = format!("{}:", self.source.id);
        let deletions = missing
            .into_iter()
            .map(|id| Incoming::Deleted {
                local_id: id.strip_prefix(&prefix).unwrap_or(&id).to_string(),
                id,
                datestamp: String::new(),
            })
            .collect();
        let counts: Counts = store_page(
            self.store,
            self.source,
            self.run_id,
            deletions,
            Checkpoint::default(),
        )
        .await?;
        self.progress.counts += counts;
        after_page.stored(&self.progress).await;
        Ok(())
    }
}

pub(super) async fn harvest(
    store: &Arc<Store>,
    source: &SourceConfig,
    limits: HttpLimits,
    run_id: i64,
    after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
) -> anyhow::Result<()> {
    let mut run = DumpRun {
        store,
        source,
        run_id,
        seen: HashSet::new(),
        records: 0,
        progress: Progress {
            items: 0,
            total: None,
            counts: Counts::default(),
        },
    };
    match (source.protocol, source.location()) {
        (Protocol::Json, Some(Location::Url(_))) => {
            let mut api = JsonApiHarvester::new(json_options(source)?, limits)?;
            while let Some(page) = api.next_page().await? {
                run.store(page.items, after_page).await?;
            }
        }
        _ => {
            let bytes = load(source, limits).await?;
            let items = parse(source, &bytes)?;
            run.progress.total = Some(items.len() as u64);
            run.store(items, after_page).await?;
        }
    }
    run.delete_missing(after_page).await
}

/// Reads the dump from its URL (with the harvest limits) or its path.
async fn load(source: &SourceConfig, limits: HttpLimits) -> anyhow::Result<Vec<u8>> {
    match source.location() {
        Some(Location::Url(url)) => Ok(harvesters::fetch_bytes(url, limits).await?),
        Some(Location::Path(path)) => {
            let max = limits.max_response_bytes;
            let size = tokio::fs::metadata(path).await?.len();
            anyhow::ensure!(
                size <= max,
                "{} is {size} bytes, over the {max}-byte limit",
                path.display()
            );
            Ok(tokio::fs::read(path).await?)
        }
        None => anyhow::bail!("source {} has neither url nor path", source.id),
    }
}

fn json_options(source: &SourceConfig) -> anyhow::Result<JsonApiOptions> {
    let url = match source.location() {
        Some(Location::Url(url)) => url.clone(),
        Some(Location::Path(path)) => url::Url::from_file_path(std::path::absolute(path)?)
            .map_err(|()| anyhow::anyhow!("{} cannot be named as a URL", path.display()))?,
        None => anyhow::bail!("source {} has neither url nor path", source.id),
    };
    let paging = match &source.paging {
        None => Paging::Single,
        Some(PagingConfig::PageNumber {
            param,
            start,
            size_param,
            size,
        }) => Paging::PageNumber {
            param: param.clone(),
            start: *start,
            size_param: size_param.clone(),
            size: *size,
        },
        Some(PagingConfig::Offset {
            param,
            size_param,
            size,
        }) => Paging::Offset {
            param: param.clone(),
            size_param: size_param.clone(),
            size: *size,
        },
        Some(PagingConfig::NextLink { path }) => Paging::NextLink { path: path.clone() },
    };
    Ok(JsonApiOptions {
        source_id: source.id.clone(),
        institution: source.institution.clone(),
        url,
        paging,
        records_path: source.records_path.clone().unwrap_or_default(),
        id_path: source.id_field.clone().unwrap_or_default(),
        fields: source.mapping.clone(),
        required: source.required.clone(),
        default_resource_type: source.resource_type,
        max_pages: MAX_JSON_PAGES,
    })
}

/// Parses a whole dump into items with the source's mapping.
fn parse(source: &SourceConfig, bytes: &[u8]) -> anyhow::Result<Vec<HarvestedItem>> {
    let (source_id, institution) = (source.id.clone(), source.institution.clone());
    Ok(match source.protocol {
        Protocol::Marc => {
            let encoding = match source.encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("auto") => MarcEncoding::Auto,
                Some("utf-8" | "utf8") => MarcEncoding::Utf8,
                Some("marc-8" | "marc8") => MarcEncoding::Marc8,
                Some("gb18030" | "gbk" | "gb2312") => MarcEncoding::Gb18030,
                Some(other) => anyhow::bail!("source {source_id}: unknown MARC encoding {other:?}"),
            };
            let format = match source.format {
                Some(MarcFlavour::Cnmarc) => MarcFormat::Cnmarc,
                _ => MarcFormat::Marc21,
            };
            harvesters::read_marc_file(
                bytes,
                &MarcOptions {
                    format,
                    encoding,
                    source_id,
                    institution,
                },
            )
            .collect()
        }
        Protocol::Csv => harvesters::read_csv(
            bytes,
            &CsvOptions {
                source_id,
                institution,
                id_column: source.id_field.clone().unwrap_or_default(),
                columns: source.mapping.clone(),
                separators: source.separators.clone(),
                delimiter: source.delimiter.and_then(|c| u8::try_from(c).ok()),
                encoding: source.encoding.clone(),
                required: source.required.clone(),
                default_resource_type: source.resource_type,
            },
        )?,
        Protocol::Json => harvesters::read_json_records(bytes, &json_options(source)?)?,
        Protocol::Feed => harvesters::read_feed(
            bytes,
            &FeedOptions {
                source_id,
                institution,
            },
        )?,
        Protocol::Lido => harvesters::read_lido(
            bytes,
            &LidoOptions {
                source_id,
                institution,
            },
        )?,
        Protocol::OaiPmh => anyhow::bail!("OAI-PMH sources are harvested as lists, not dumps"),
    })
}
