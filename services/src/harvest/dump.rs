//! Whole-dump runs: a MARC, CSV, LIDO or feed file (by URL or path), or every page of a JSON
//! API. Each run reads the whole dump; unchanged records are recognised by content hash, and
//! records of the source that are no longer in the dump are deleted — unless the dump held no
//! usable record at all, which is far more likely a broken export than an emptied collection.
//!
//! Files are streamed, whatever their size (issue #14): a remote dump is downloaded into a
//! temporary file first (capped by the source's `max_bytes`, 8 GiB by default; a local file
//! has no cap), then read by content — gzip, bzip2, xz, or a zip of one or more members
//! (each decompressed by its own content, and quarantined with the reason if it is not what
//! the source says) — and parsed on the blocking pool [`PAGE`] records at a time, at most two
//! pages ahead of the store. Deletion by absence holds nothing in memory either: every stored
//! page marks its ids as seen by the run in the store, in the same transaction, and the
//! store lists the source's live records the run did not see ([`store::Store::unseen`]).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use harvesters::{
    CsvOptions, FeedOptions, HarvestedItem, HttpLimits, ItemOutcome, JsonApiHarvester, JsonApiOptions,
    LidoOptions, MarcEncoding, MarcFormat, MarcOptions, Paging,
};
use schemas::record_id;

use super::{AfterPage, Progress, blocking, to_incoming};
use crate::config::{Location, MarcFlavour, PagingConfig, Protocol, SourceConfig};
use store::{BytesRead, Incoming, Store};

/// Items stored per transaction.
const PAGE: usize = 500;
/// Raw bytes stored per transaction at most (beyond one item): pages of large records (MARC
/// records run to 99,999 bytes) are cut shorter, so the pages in flight stay small.
const PAGE_BYTES: usize = 4 << 20;
/// Most pages one JSON API harvest fetches (a guard against APIs that never stop).
const MAX_JSON_PAGES: u32 = 100_000;
/// The largest remote dump downloaded when the source sets no `max_bytes`.
pub const DEFAULT_MAX_DUMP_BYTES: u64 = 8 << 30;
/// The most memory an xz dump's dictionary may ask for (`xz -9` asks 64 MiB).
const XZ_MEMORY_LIMIT_KIB: u32 = 256 * 1024;

/// One run over a dump: stores pages, marking what it saw.
struct DumpRun<'a> {
    store: &'a Arc<Store>,
    source: &'a SourceConfig,
    run_id: i64,
    /// Usable records seen (a dump without any deletes nothing).
    records: u64,
    progress: Progress,
}

impl DumpRun<'_> {
    async fn store(
        &mut self,
        mut items: Vec<HarvestedItem>,
        after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
    ) -> anyhow::Result<()> {
        while !items.is_empty() {
            let rest = items.split_off(items.len().min(PAGE));
            let mut chunk = std::mem::replace(&mut items, rest);
            self.quarantine_repeated_ids(&mut chunk).await?;
            // Quarantined items count as seen: a record that is broken in this dump keeps
            // its last good version rather than being deleted.
            let seen: Vec<String> = chunk
                .iter()
                .filter(|item| !item.local_id.is_empty())
                .map(|item| record_id(&self.source.id, &item.local_id))
                .collect();
            self.records += chunk
                .iter()
                .filter(|item| matches!(item.outcome, ItemOutcome::Record(_)))
                .count() as u64;
            self.progress.items += chunk.len() as u64;
            let incoming = to_incoming(&self.source.id, chunk);
            let (run_id, source, institution) = (
                self.run_id,
                self.source.id.clone(),
                self.source.institution.clone(),
            );
            let read = self.progress.bytes_read.map(|bytes| BytesRead {
                bytes,
                of: self.progress.bytes_total,
            });
            let counts = blocking(self.store, move |s| {
                s.apply_dump_page(run_id, &source, &institution, &incoming, &seen, read)
            })
            .await?;
            self.progress.counts += counts;
            after_page.stored(&self.progress).await;
        }
        Ok(())
    }

    /// Quarantines each record of `chunk` whose id came before in this dump (in this chunk, or
    /// marked as seen by an earlier page): the first one stands, as the store has it, and a
    /// later one with the same id is kept for review instead of silently replacing it.
    async fn quarantine_repeated_ids(&self, chunk: &mut [HarvestedItem]) -> anyhow::Result<()> {
        let ids: Vec<String> = chunk
            .iter()
            .filter_map(|item| match &item.outcome {
                ItemOutcome::Record(record) => Some(record.id.clone()),
                _ => None,
            })
            .collect();
        let run_id = self.run_id;
        let mut earlier = blocking(self.store, move |s| s.seen_by_run(run_id, &ids)).await?;
        for item in chunk.iter_mut() {
            let ItemOutcome::Record(record) = &item.outcome else {
                continue;
            };
            if !earlier.insert(record.id.clone()) {
                item.outcome = ItemOutcome::Quarantined {
                    reason: format!(
                        "the id {:?} occurs earlier in this dump; the first record with it is kept",
                        item.local_id
                    ),
                };
            }
        }
        Ok(())
    }

    /// Deletes the source's live records that this run did not see, a page at a time.
    async fn delete_unseen(
        &mut self,
        after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
    ) -> anyhow::Result<()> {
        let mut after = 0;
        loop {
            let (source, run_id) = (self.source.id.clone(), self.run_id);
            let unseen = blocking(self.store, move |s| s.unseen(&source, run_id, after, PAGE)).await?;
            let Some(last) = unseen.last() else {
                return Ok(());
            };
            after = last.0;
            anyhow::ensure!(
                self.records > 0,
                "the dump has no usable record; not deleting the records stored from it"
            );
            let deletions: Vec<Incoming> = unseen
                .into_iter()
                .map(|(_, id, local_id)| Incoming::Deleted {
                    id,
                    local_id,
                    datestamp: String::new(),
                })
                .collect();
            let (source, institution) = (self.source.id.clone(), self.source.institution.clone());
            let counts = blocking(self.store, move |s| {
                s.apply_dump_page(run_id, &source, &institution, &deletions, &[], None)
            })
            .await?;
            self.progress.counts += counts;
            after_page.stored(&self.progress).await;
        }
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
        records: 0,
        progress: Progress::default(),
    };
    if source.protocol == Protocol::Json && matches!(source.location(), Some(Location::Url(_))) {
        let mut api = JsonApiHarvester::new(json_options(source)?, limits)?;
        while let Some(page) = api.next_page().await? {
            run.store(page.items, after_page).await?;
        }
    } else {
        stream(&mut run, source, limits, after_page).await?;
    }
    run.delete_unseen(after_page).await
}

/// Streams a dump file into the store page by page (see the module docs). A read error fails
/// the run after what was read before it is stored.
async fn stream(
    run: &mut DumpRun<'_>,
    source: &SourceConfig,
    limits: HttpLimits,
    after_page: &mut AfterPage<'_, impl FnMut(&Progress)>,
) -> anyhow::Result<()> {
    let (file, name) = open_dump(source, limits).await?;
    let parser = DumpParser::for_source(source)?;
    run.progress.bytes_total = file.metadata().ok().map(|m| m.len());
    let position = Arc::new(AtomicU64::new(0));
    let (pages, mut received) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<HarvestedItem>>>(2);
    let reader = tokio::task::spawn_blocking({
        let position = Arc::clone(&position);
        move || {
            let mut page = Vec::with_capacity(PAGE);
            let mut page_bytes = 0;
            let file = Positioned { file, position };
            let result = read_dump(file, &parser, &mut |item| {
                page_bytes += item.raw.len();
                page.push(item);
                if page.len() < PAGE && page_bytes < PAGE_BYTES {
                    return true;
                }
                page_bytes = 0;
                // The receiver is gone only when the run failed: stop reading.
                pages.blocking_send(Ok(std::mem::take(&mut page))).is_ok()
            });
            let _ = pages.blocking_send(Ok(page));
            if let Err(e) = result {
                let _ = pages.blocking_send(Err(anyhow::anyhow!("reading {name}: {e:#}")));
            }
        }
    });
    while let Some(page) = received.recv().await {
        let page = page?;
        run.progress.bytes_read = Some(position.load(Ordering::Relaxed));
        if !page.is_empty() {
            run.store(page, after_page).await?;
        }
    }
    reader.await?;
    Ok(())
}

/// The dump's file at its start, and its name for messages: the local file, or the remote
/// dump downloaded into a temporary file (deleted when closed).
async fn open_dump(source: &SourceConfig, limits: HttpLimits) -> anyhow::Result<(std::fs::File, String)> {
    match source.location() {
        Some(Location::Path(path)) => {
            let file =
                std::fs::File::open(path).map_err(|e| anyhow::anyhow!("opening {}: {e}", path.display()))?;
            Ok((file, path.display().to_string()))
        }
        Some(Location::Url(url)) => {
            let mut file = tempfile::tempfile()?;
            let limits = HttpLimits {
                max_response_bytes: source.max_bytes.unwrap_or(DEFAULT_MAX_DUMP_BYTES),
                ..limits
            };
            harvesters::download(url, limits, &mut file).await?;
            file.seek(SeekFrom::Start(0))?;
            Ok((file, url.to_string()))
        }
        None => anyhow::bail!("source {} has neither url nor path", source.id),
    }
}

/// A file that publishes how far into it reading has got, for the run's progress.
struct Positioned {
    file: std::fs::File,
    position: Arc<AtomicU64>,
}

impl Read for Positioned {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.position.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for Positioned {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let at = self.file.seek(to)?;
        self.position.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";

/// Reads a dump file, a zip of them, or either compressed, passing each item to `emit` until
/// it says stop.
fn read_dump(
    file: Positioned,
    parser: &DumpParser,
    emit: &mut dyn FnMut(HarvestedItem) -> bool,
) -> anyhow::Result<()> {
    let mut input = BufReader::new(file);
    if !input.fill_buf()?.starts_with(&ZIP_MAGIC) {
        parser.read(BufReader::new(decompressed(input)), emit)?;
        return Ok(());
    }
    let mut archive = zip::ZipArchive::new(input)?;
    for index in 0..archive.len() {
        let member = archive.by_index(index)?;
        if member.is_dir() {
            continue;
        }
        let name = member
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{index}"));
        let mut member = BufReader::new(decompressed(BufReader::new(member)));
        let head = member.fill_buf()?;
        if let Some(problem) = parser.refuses(head) {
            let raw = String::from_utf8_lossy(&head[..head.len().min(512)]).into_owned();
            let item = HarvestedItem {
                local_id: String::new(),
                datestamp: String::new(),
                sets: Vec::new(),
                raw,
                outcome: ItemOutcome::Quarantined {
                    reason: format!("zip member {name}: {problem}"),
                },
            };
            if !emit(item) {
                return Ok(());
            }
            continue;
        }
        if !parser
            .read(member, emit)
            .map_err(|e| anyhow::anyhow!("zip member {name}: {e:#}"))?
        {
            return Ok(());
        }
    }
    Ok(())
}

/// `input` decompressed by its content (gzip, bzip2 or xz, each possibly several streams
/// end to end), or as it is.
fn decompressed<'a>(mut input: impl BufRead + 'a) -> Box<dyn Read + 'a> {
    let head = input.fill_buf().unwrap_or_default();
    if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if head.starts_with(b"BZh") {
        Box::new(bzip2::bufread::MultiBzDecoder::new(input))
    } else if head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        Box::new(lzma_rust2::XzReader::new_mem_limit(
            input,
            true,
            XZ_MEMORY_LIMIT_KIB,
        ))
    } else {
        Box::new(input)
    }
}

/// How a source's dump is parsed.
enum DumpParser {
    Marc(MarcOptions),
    Csv(CsvOptions),
    Lido(LidoOptions),
    Feed(FeedOptions),
    Json(JsonApiOptions),
}

impl DumpParser {
    fn for_source(source: &SourceConfig) -> anyhow::Result<DumpParser> {
        let (source_id, institution) = (source.id.clone(), source.institution.clone());
        Ok(match source.protocol {
            Protocol::Marc => DumpParser::Marc(marc_options(source)?),
            Protocol::Csv => DumpParser::Csv(CsvOptions {
                source_id,
                institution,
                id_column: source.id_field.clone().unwrap_or_default(),
                columns: source.mapping.clone(),
                separators: source.separators.clone(),
                delimiter: source.delimiter.and_then(|c| u8::try_from(c).ok()),
                encoding: source.encoding.clone(),
                required: source.required.clone(),
                default_resource_type: source.resource_type,
            }),
            Protocol::Lido => DumpParser::Lido(LidoOptions {
                source_id,
                institution,
            }),
            Protocol::Feed => DumpParser::Feed(FeedOptions {
                source_id,
                institution,
            }),
            // A JSON file (a JSON API by URL is harvested page by page instead).
            Protocol::Json => DumpParser::Json(json_options(source)?),
            Protocol::OaiPmh => anyhow::bail!("OAI-PMH sources are harvested as lists, not dumps"),
        })
    }

    /// Why a zip member that starts with `head` is not a file of this kind, if it is not.
    fn refuses(&self, head: &[u8]) -> Option<String> {
        let start = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let first = start.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let (ok, what) = match self {
            DumpParser::Marc(_) => (
                first == Some(b'<') || (start.len() >= 5 && start[..5].iter().all(u8::is_ascii_digit)),
                "a MARC file (ISO 2709 or MARCXML)",
            ),
            DumpParser::Csv(_) => (!head.is_empty() && !head.contains(&0), "a CSV file"),
            DumpParser::Lido(_) => (first == Some(b'<'), "a LIDO (XML) file"),
            DumpParser::Feed(_) => (first == Some(b'<'), "an RSS or Atom (XML) feed"),
            DumpParser::Json(_) => (matches!(first, Some(b'[' | b'{')), "a JSON file"),
        };
        (!ok).then(|| format!("not {what}"))
    }

    /// Parses one file, passing each item to `emit`; false if `emit` said stop.
    fn read(
        &self,
        mut input: impl BufRead,
        emit: &mut dyn FnMut(HarvestedItem) -> bool,
    ) -> anyhow::Result<bool> {
        let items: Box<dyn Iterator<Item = anyhow::Result<HarvestedItem>> + '_> = match self {
            // The JSON reader pushes its items; the others are iterators.
            DumpParser::Json(options) => return read_json(input, options, emit),
            DumpParser::Marc(options) => {
                let head = input.fill_buf()?;
                let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
                if head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
                    Box::new(harvesters::read_marcxml_stream(input, options.clone()).map(|i| Ok(i?)))
                } else {
                    Box::new(harvesters::read_iso2709_stream(input, options.clone()).map(|i| Ok(i?)))
                }
            }
            DumpParser::Csv(options) => {
                Box::new(harvesters::read_csv_stream(input, options.clone()).map(|i| Ok(i?)))
            }
            DumpParser::Lido(options) => {
                Box::new(harvesters::read_lido_stream(input, options.clone()).map(|i| Ok(i?)))
            }
            DumpParser::Feed(options) => {
                Box::new(harvesters::read_feed_stream(input, options.clone()).map(|i| Ok(i?)))
            }
        };
        for item in items {
            if !emit(item?) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// [`DumpParser::read`] for JSON files.
fn read_json(
    input: impl BufRead,
    options: &JsonApiOptions,
    emit: &mut dyn FnMut(HarvestedItem) -> bool,
) -> anyhow::Result<bool> {
    let mut stopped = false;
    harvesters::read_json_stream(input, options, &mut |item| {
        stopped = !emit(item);
        !stopped
    })?;
    Ok(!stopped)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::*;
    use store::RunStatus;

    /// One ISO 2709 record with a control number and a title.
    fn marc(id: usize) -> Vec<u8> {
        let (id_field, title) = (format!("{id}"), format!("10\x1fa第{id}卷"));
        harvesters::write_iso2709(
            "nam a22   4500",
            &[("001", id_field.as_bytes()), ("245", title.as_bytes())],
        )
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

    fn csv_source(path: &Path) -> SourceConfig {
        toml::from_str(&format!(
            "id = \"csv\"\ninstitution = \"lzart\"\nprotocol = \"csv\"\nid_field = \"编号\"\n\
             path = {:?}\n[mapping]\ntitle = \"题名\"",
            path.display().to_string()
        ))
        .unwrap()
    }

    fn csv(ids: std::ops::Range<usize>) -> Vec<u8> {
        let rows: String = ids.map(|i| format!("C{i},作品{i}\n")).collect();
        format!("编号,题名\n{rows}").into_bytes()
    }

    async fn harvest(store: &Arc<Store>, path: &Path) -> store::HarvestRun {
        harvest_source(store, &source(path)).await
    }

    async fn harvest_source(store: &Arc<Store>, source: &SourceConfig) -> store::HarvestRun {
        // A response limit far below the file's size: local dumps are streamed, not loaded,
        // so no size limit applies to them.
        let limits = HttpLimits {
            max_response_bytes: 1_000,
            ..HttpLimits::default()
        };
        super::super::run_source(store.clone(), source, limits, None, |_| {})
            .await
            .unwrap()
    }

    fn bzip2(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = ::bzip2::write::BzEncoder::new(Vec::new(), ::bzip2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn xz(bytes: &[u8]) -> Vec<u8> {
        let mut encoder =
            lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = ::zip::write::SimpleFileOptions::default();
        for (name, bytes) in members {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[tokio::test]
    async fn compressed_marc_and_csv_exports_are_read_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        let marc_file = |ids: std::ops::Range<usize>| ids.flat_map(marc).collect::<Vec<u8>>();
        let cases: [(&str, Vec<u8>, Vec<u8>, usize); 4] = [
            ("gz", gzip(&marc_file(0..600)), gzip(&csv(0..600)), 600),
            ("bz2", bzip2(&marc_file(0..700)), bzip2(&csv(0..700)), 700),
            ("xz", xz(&marc_file(0..800)), xz(&csv(0..800)), 800),
            (
                // Two members of the right kind, and one that is not: quarantined, named.
                "zip",
                zip(&[
                    ("a.mrc", &marc_file(0..450)),
                    ("readme.txt", b"Exported by the ILS."),
                    ("b.mrc.gz", &gzip(&marc_file(450..900))),
                ]),
                zip(&[
                    ("a.csv", &csv(0..450)),
                    ("scan.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
                    ("b.csv", &csv(450..900)),
                ]),
                900,
            ),
        ];
        for (suffix, marc_bytes, csv_bytes, records) in cases {
            let path = dir.path().join(format!("catalogue.{suffix}"));
            std::fs::write(&path, &marc_bytes).unwrap();
            let run = harvest(&store, &path).await;
            assert_eq!(run.status, RunStatus::Complete, "{suffix}: {:?}", run.error);
            assert_eq!(store.live_ids("mrc").unwrap().len(), records, "{suffix}");

            let path = dir.path().join(format!("works.{suffix}"));
            std::fs::write(&path, &csv_bytes).unwrap();
            let run = harvest_source(&store, &csv_source(&path)).await;
            assert_eq!(run.status, RunStatus::Complete, "{suffix}: {:?}", run.error);
            assert_eq!(store.live_ids("csv").unwrap().len(), records, "{suffix}");
            let title = store
                .record(&format!("csv:C{}", records - 1))
                .unwrap()
                .unwrap()
                .title;
            assert_eq!(title, format!("作品{}", records - 1));
            // The progress reached the end of the file.
            assert_eq!(run.bytes_read, Some(csv_bytes.len() as u64), "{suffix}");
            assert_eq!(run.bytes_total, Some(csv_bytes.len() as u64), "{suffix}");
        }
        let reasons: Vec<String> = store
            .quarantine(None, 10)
            .unwrap()
            .into_iter()
            .map(|q| q.reason)
            .collect();
        assert!(
            reasons
                .iter()
                .any(|r| r == "zip member readme.txt: not a MARC file (ISO 2709 or MARCXML)"),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r == "zip member scan.png: not a CSV file"),
            "{reasons:?}"
        );
    }

    fn json_source(path: &Path, records_path: &str) -> SourceConfig {
        toml::from_str(&format!(
            "id = \"js\"\ninstitution = \"lzart\"\nprotocol = \"json\"\nid_field = \"id\"\n\
             records_path = {records_path:?}\npath = {:?}\n[mapping]\ntitle = \"title\"",
            path.display().to_string()
        ))
        .unwrap()
    }

    fn json_record(i: usize) -> String {
        format!("{{\"id\": \"J{i}\", \"title\": \"作品{i}\"}}")
    }

    #[tokio::test]
    async fn json_files_are_streamed_as_arrays_or_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        let path = dir.path().join("works.json");

        // A top-level array, longer than a page.
        let records: Vec<String> = (0..1_200).map(json_record).collect();
        std::fs::write(&path, format!("[\n{}\n]", records.join(",\n"))).unwrap();
        let run = harvest_source(&store, &json_source(&path, "")).await;
        assert_eq!(
            (run.status, run.counts.added),
            (RunStatus::Complete, 1_200),
            "{:?}",
            run.error
        );

        // JSON Lines, gzip-compressed, with a line that is not JSON: quarantined, the rest
        // read; J700 is no longer there and is deleted.
        let lines: Vec<String> = (0..1_300)
            .map(|i| {
                if i == 700 {
                    "{\"id\": \"J700\", oops".to_owned()
                } else {
                    json_record(i)
                }
            })
            .collect();
        std::fs::write(&path, gzip(lines.join("\n").as_bytes())).unwrap();
        let run = harvest_source(&store, &json_source(&path, "")).await;
        assert_eq!(run.status, RunStatus::Complete, "{:?}", run.error);
        let c = run.counts;
        assert_eq!(
            (c.added, c.unchanged, c.quarantined, c.deleted),
            (100, 1_199, 1, 1)
        );
        let reason = &store.quarantine(Some("js"), 1).unwrap()[0].reason;
        assert!(reason.starts_with("line 701 is not JSON"), "{reason}");

        // Records inside a document, at a path.
        let document = format!(
            "{{\"data\": {{\"items\": [{}, {}]}}}}",
            json_record(1),
            json_record(2)
        );
        std::fs::write(&path, document).unwrap();
        let run = harvest_source(&store, &json_source(&path, "data.items")).await;
        assert_eq!(run.status, RunStatus::Complete, "{:?}", run.error);
        assert_eq!((run.counts.unchanged, run.counts.deleted), (2, 1_297));

        // Not JSON at all: the run fails and deletes nothing.
        std::fs::write(&path, "[{\"id\": \"J1\", \"title\": \"x\"}, nonsense]").unwrap();
        let run = harvest_source(&store, &json_source(&path, "")).await;
        assert_eq!(run.status, RunStatus::Failed);
        assert!(
            run.error
                .as_deref()
                .unwrap_or_default()
                .contains("after record 1"),
            "{:?}",
            run.error
        );
        assert_eq!(store.live_ids("js").unwrap().len(), 2);
    }

    #[tokio::test]
    async fn records_absent_from_a_complete_dump_are_deleted_by_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        let path = dir.path().join("works.csv");
        std::fs::write(&path, csv(0..100_000)).unwrap();
        let run = harvest_source(&store, &csv_source(&path)).await;
        assert_eq!(
            (run.status, run.counts.added),
            (RunStatus::Complete, 100_000),
            "{:?}",
            run.error
        );

        // 1,000 rows removed here and there.
        let kept: String = (0..100_000)
            .filter(|i| i % 100 != 7)
            .map(|i| format!("C{i},作品{i}\n"))
            .collect();
        std::fs::write(&path, format!("编号,题名\n{kept}")).unwrap();
        let run = harvest_source(&store, &csv_source(&path)).await;
        assert_eq!(run.status, RunStatus::Complete, "{:?}", run.error);
        assert_eq!((run.counts.deleted, run.counts.unchanged), (1_000, 99_000));
        assert_eq!(store.live_ids("csv").unwrap().len(), 99_000);
        assert!(store.record("csv:C7").unwrap().is_none());
        assert!(store.record("csv:C8").unwrap().is_some());

        // A dump with a header and no usable row deletes nothing.
        std::fs::write(&path, "编号,题名\n,无编号\n").unwrap();
        let run = harvest_source(&store, &csv_source(&path)).await;
        assert_eq!(run.status, RunStatus::Failed);
        assert!(
            run.error
                .as_deref()
                .unwrap_or_default()
                .contains("no usable record"),
            "{:?}",
            run.error
        );
        assert_eq!(store.live_ids("csv").unwrap().len(), 99_000);
    }

    #[tokio::test]
    async fn a_repeated_id_is_quarantined_the_first_record_stands() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("store.db")).unwrap());
        let titled = |id: usize, title: &str| {
            let title = format!("10\x1fa{title}");
            harvesters::write_iso2709(
                "nam a22   4500",
                &[("001", id.to_string().as_bytes()), ("245", title.as_bytes())],
            )
        };
        // Record 3 again in the same page and in a page far after it.
        let mut file: Vec<u8> = (0..2 * PAGE).flat_map(marc).collect();
        file.extend(titled(3, "同页重复"));
        file.extend((2 * PAGE..3 * PAGE).flat_map(marc));
        file.extend(titled(3, "远处重复"));
        let path = dir.path().join("catalogue.mrc");
        std::fs::write(&path, &file).unwrap();

        let run = harvest(&store, &path).await;
        assert_eq!(run.status, RunStatus::Complete, "{:?}", run.error);
        assert_eq!((run.counts.added, run.counts.quarantined), (3 * PAGE as u64, 2));
        let stored = store.record("mrc:3").unwrap().unwrap();
        assert_eq!(stored.title, "第3卷", "the first record with the id stands");
        let quarantined = store.quarantine(Some("mrc"), 10).unwrap();
        assert_eq!(quarantined.len(), 2);
        for item in &quarantined {
            assert!(
                item.reason.contains("occurs earlier in this dump"),
                "{}",
                item.reason
            );
        }
        // The next run of the same file finds the marks of the previous run gone.
        let again = harvest(&store, &path).await;
        assert_eq!(
            (again.counts.unchanged, again.counts.quarantined),
            (3 * PAGE as u64, 2)
        );
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
