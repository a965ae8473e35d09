//! Whole-dump runs: a MARC, CSV, LIDO or feed file (by URL or path), or every page of a JSON
//! API. Each run reads the whole dump; unchanged records are recognised by content hash, and
//! records of the source that are no longer in the dump are deleted — unless the dump held no
//! usable record at all, which is far more likely a broken export than an emptied collection.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
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
        (Protocol::Marc, Some(Location::Path(path))) if !is_marcxml(path)? => {
            stream_marc(&mut run, source, path, after_page).await?;
        }
        _ => {
            let bytes = load(source, limits).await?;
            // Parsing a whole dump is CPU work: on the blocking pool, not the async workers
            // that answer searches.
            let dump_source = source.clone();
            let items = tokio::task::spawn_blocking(move || parse(&dump_source, &bytes)).await??;
            run.progress.total = Some(items.len() as u64);
            run.store(items, after_page).await?;
        }
    }
    run.delete_missing(after_page).await
}

/// Streams an ISO 2709 file (plain or gzip) into the store page by page: parsed on the
/// blocking pool, [`PAGE`] records at a time, at most two pages ahead of the store, so the
/// file's size does not matter (issue #14: a city library's whole export is hundreds of
/// megabytes). A read error fails the run after what was read before it is stored.
async fn stream_marc(
    run: &mut DumpRun<'_>,
    source: &SourceConfig,
    path: &Path,
    after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
) -> anyhow::Result<()> {
    let options = marc_options(source)?;
    let file = open_local(path)?;
    let name = path.display().to_string();
    let (pages, mut received) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<HarvestedItem>>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut page = Vec::with_capacity(PAGE);
        for item in harvesters::read_iso2709_stream(file, options) {
            match item {
                Ok(item) => page.push(item),
                Err(e) => {
                    let _ = pages.blocking_send(Ok(std::mem::take(&mut page)));
                    let _ = pages.blocking_send(Err(anyhow::anyhow!("reading {name}: {e}")));
                    return;
                }
            }
            // The receiver is gone only when the run failed: stop reading.
            if page.len() == PAGE && pages.blocking_send(Ok(std::mem::take(&mut page))).is_err() {
                return;
            }
        }
        let _ = pages.blocking_send(Ok(page));
    });
    while let Some(page) = received.recv().await {
        run.store(page?, after_page).await?;
    }
    reader.await?;
    Ok(())
}

/// A local dump, decompressed when its content is gzip (whatever its name: libraries send
/// `.mrc.gz`, and sometimes without the suffix).
fn open_local(path: &Path) -> anyhow::Result<BufReader<Box<dyn Read + Send>>> {
    let mut file = BufReader::new(
        std::fs::File::open(path).map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?,
    );
    let gzip = file.fill_buf()?.starts_with(&GZIP_MAGIC);
    let reader: Box<dyn Read + Send> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok(BufReader::new(reader))
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Is the local MARC dump MARCXML (its first non-blank character `<`) rather than ISO 2709?
fn is_marcxml(path: &Path) -> anyhow::Result<bool> {
    let mut reader = open_local(path)?;
    let head = reader.fill_buf()?;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    Ok(head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<'))
}

/// Reads the whole dump from its URL (with the harvest limits) or its path, decompressed
/// when it is gzip; at most the harvest's response limit either way (decompressed).
async fn load(source: &SourceConfig, limits: HttpLimits) -> anyhow::Result<Vec<u8>> {
    let max = limits.max_response_bytes;
    let reader: Box<dyn Read + Send> = match source.location() {
        Some(Location::Url(url)) => {
            let bytes = harvesters::fetch_bytes(url, limits).await?;
            if bytes.starts_with(&GZIP_MAGIC) {
                Box::new(flate2::read::MultiGzDecoder::new(std::io::Cursor::new(bytes)))
            } else {
                return Ok(bytes);
            }
        }
        Some(Location::Path(path)) => Box::new(open_local(path)?),
        None => anyhow::bail!("source {} has neither url nor path", source.id),
    };
    let what = match source.location() {
        Some(Location::Url(url)) => url.to_string(),
        Some(Location::Path(path)) => path.display().to_string(),
        None => String::new(),
    };
    tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
        anyhow::ensure!(
            bytes.len() as u64 <= max,
            "{what} is over the {max}-byte limit (decompressed)"
        );
        Ok(bytes)
    })
    .await?
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

/// How to read the source's MARC files.
fn marc_options(source: &SourceConfig) -> anyhow::Result<MarcOptions> {
    let encoding = match source.encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("auto") => MarcEncoding::Auto,
        Some("utf-8" | "utf8") => MarcEncoding::Utf8,
        Some("marc-8" | "marc8") => MarcEncoding::Marc8,
        Some("gb18030" | "gbk" | "gb2312") => MarcEncoding::Gb18030,
        Some(other) => anyhow::bail!("source {}: unknown MARC encoding {other:?}", source.id),
    };
    let format = match source.format {
        Some(MarcFlavour::Cnmarc) => MarcFormat::Cnmarc,
        _ => MarcFormat::Marc21,
    };
    Ok(MarcOptions {
        format,
        encoding,
        source_id: source.id.clone(),
        institution: source.institution.clone(),
    })
}

/// Parses a whole dump into items with the source's mapping.
fn parse(source: &SourceConfig, bytes: &[u8]) -> anyhow::Result<Vec<HarvestedItem>> {
    let (source_id, institution) = (source.id.clone(), source.institution.clone());
    Ok(match source.protocol {
        Protocol::Marc => harvesters::read_marc_file(bytes, &marc_options(source)?).collect(),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;

    use super::*;
    use store::RunStatus;

    /// One ISO 2709 record with a control number and a title.
    fn marc(id: usize) -> Vec<u8> {
        let fields: [(&str, String); 2] = [("001", format!("{id}")), ("245", format!("10\x1fa第{id}卷"))];
        let mut directory = String::new();
        let mut data = Vec::new();
        for (tag, content) in &fields {
            let start = data.len();
            data.extend_from_slice(content.as_bytes());
            data.push(0x1E);
            directory.push_str(&format!("{tag}{:04}{:05}", data.len() - start, start));
        }
        directory.push('\x1e');
        let base = 24 + directory.len();
        let total = base + data.len() + 1;
        let mut record = format!("{total:05}nam a22{base:05}   4500{directory}").into_bytes();
        record.extend_from_slice(&data);
        record.push(0x1D);
        record
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn source(path: &Path) -> SourceConfig {
        toml::from_str(&format!(
            "id = \"mrc\"\ninstitution = \"lzlib\"\nprotocol = \"marc\"\npath = {:?}",
            path.display().to_string()
        ))
        .unwrap()
    }

    async fn harvest(store: &Arc<Store>, path: &Path) -> store::HarvestRun {
        // A response limit far below the file's size: local ISO 2709 dumps are streamed,
        // not loaded, so no size limit applies to them.
        let limits = HttpLimits {
            max_response_bytes: 1_000,
            ..HttpLimits::default()
        };
        super::super::run_source(store.clone(), &source(path), limits, None, |_| {})
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_gzip_marc_dump_is_streamed_and_a_truncated_last_record_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        let records = 2 * PAGE + 7;
        let mut file: Vec<u8> = (0..records).flat_map(marc).collect();
        let last = marc(records);
        file.extend_from_slice(&last[..last.len() / 2]);
        let path = dir.path().join("catalogue.mrc.gz");
        std::fs::write(&path, gzip(&file)).unwrap();

        let run = harvest(&store, &path).await;
        assert_eq!(run.status, RunStatus::Complete, "{:?}", run.error);
        assert_eq!((run.counts.added, run.counts.quarantined), (records as u64, 1));
        assert_eq!(store.live_ids("mrc").unwrap().len(), records);
        let quarantined = store.quarantine(Some("mrc"), 10).unwrap();
        assert!(
            quarantined[0].reason.contains("truncated"),
            "{}",
            quarantined[0].reason
        );

        // A dump whose gzip stream breaks off: what was read is stored, the run fails with
        // the reason, and nothing is deleted for being absent.
        let mut broken = gzip(&(0..PAGE + 3).flat_map(marc).collect::<Vec<u8>>());
        broken.truncate(broken.len() - 20);
        std::fs::write(&path, broken).unwrap();
        let run = harvest(&store, &path).await;
        assert_eq!(run.status, RunStatus::Failed);
        assert!(
            run.error
                .as_deref()
                .unwrap_or_default()
                .contains("catalogue.mrc.gz"),
            "{:?}",
            run.error
        );
        assert_eq!(run.counts.deleted, 0);
        assert_eq!(store.live_ids("mrc").unwrap().len(), records);
    }
}
