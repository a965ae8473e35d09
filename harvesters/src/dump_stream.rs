//! Dumps of any size, read as streams (issue #14): a MARCXML, LIDO, feed or CSV file is cut
//! into small documents of at most [`RECORDS_PER_CHUNK`] records, each read by the same
//! whole-document reader as a small file (so the mapping, the leniency and the quarantine
//! reasons are those of [`read_marcxml`](crate::read_marcxml), [`read_lido`],
//! [`read_feed`] and [`read_csv`](crate::read_csv)), holding one chunk at a time whatever the
//! size of the file. ISO 2709 has its own framer ([`crate::read_iso2709_stream`]).
//!
//! - **XML**: a streaming quick-xml pass finds the record elements; each chunk is the
//!   document's beginning up to its first record (the XML declaration, the ancestors' start
//!   tags with their namespace declarations, an RSS channel's own elements), the records
//!   as they appear in the file, byte for byte, and the ancestors' end tags. A record whose
//!   XML breaks is cut at its end tag and quarantined by the reader, as in a whole file.
//! - **CSV**: rows are cut by the csv crate on the raw bytes (quotes, delimiters and line
//!   ends are ASCII, never inside a GB18030 or UTF-8 character); each chunk is the header
//!   row and the next rows, and reasons name the rows' lines in the whole file.
//!
//! What is per chunk rather than per file: a repeated CSV id or feed item is caught within
//! its chunk of [`RECORDS_PER_CHUNK`] records only (later repeats replace the stored record),
//! and a CSV file with no declared encoding has it detected per chunk.
//!
//! A run of more than [`MAX_RECORD_BYTES`] without a record ending (an unclosed quote, a
//! record element that never ends, a document with no record in its first 16 MiB) ends the
//! stream with an error, after everything before it was yielded.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

use quick_xml::events::Event;

use crate::csv_export::read_csv_lines;
use crate::marc::read_marcxml_from;
use crate::xml_text::check_depth;
use crate::{
    CsvOptions, Error, FeedOptions, HarvestedItem, LidoOptions, MarcOptions, Result, read_feed, read_lido,
};

/// Records per chunk: small enough to hold, large enough that the per-chunk work (the
/// document's head read again) does not show.
pub const RECORDS_PER_CHUNK: usize = 500;
/// The most bytes one record (or a document's head before its first record) may take.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// Reads a MARCXML document from a stream, one record at a time; see the module docs.
pub fn read_marcxml_stream<'a>(
    reader: impl BufRead + 'a,
    options: MarcOptions,
) -> impl Iterator<Item = Result<HarvestedItem>> {
    let mut first = 0;
    let chunks = XmlChunks::new(reader, |_, name| name == "record", "MARCXML");
    flatten(chunks, move |chunk| {
        let items: Vec<_> = read_marcxml_from(&chunk, &options, first).collect();
        first += items.len();
        Ok(items)
    })
}

/// Reads a LIDO file (`<lido:lidoWrap>`) from a stream; see the module docs.
pub fn read_lido_stream<'a>(
    reader: impl BufRead + 'a,
    options: LidoOptions,
) -> impl Iterator<Item = Result<HarvestedItem>> {
    let chunks = XmlChunks::new(
        reader,
        |ancestors, name| name == "lido" && ancestors.iter().all(|a| a == "lidoWrap" || a == "metadata"),
        "LIDO",
    );
    flatten(chunks, move |chunk| read_lido(&chunk, &options))
}

/// Reads an RSS or Atom feed from a stream; see the module docs.
pub fn read_feed_stream<'a>(
    reader: impl BufRead + 'a,
    options: FeedOptions,
) -> impl Iterator<Item = Result<HarvestedItem>> {
    let chunks = XmlChunks::new(
        reader,
        |ancestors, name| matches!(name, "item" | "entry") && (1..=2).contains(&ancestors.len()),
        "feed",
    );
    flatten(chunks, move |chunk| read_feed(&chunk, &options))
}

/// Reads a CSV export from a stream; see the module docs.
pub fn read_csv_stream<R: Read>(
    reader: R,
    options: CsvOptions,
) -> impl Iterator<Item = Result<HarvestedItem>> {
    let chunks = CsvChunks::new(reader, options.delimiter.unwrap_or(b','));
    flatten(chunks, move |(chunk, lines_before)| {
        read_csv_lines(&chunk, &options, lines_before).map(|harvest| harvest.items)
    })
}

/// The items of every chunk in turn; an error (of the stream or of a chunk) is the last item.
fn flatten<C>(
    mut chunks: impl Iterator<Item = Result<C>>,
    mut read: impl FnMut(C) -> Result<Vec<HarvestedItem>>,
) -> impl Iterator<Item = Result<HarvestedItem>> {
    let mut pending: VecDeque<HarvestedItem> = VecDeque::new();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(item) = pending.pop_front() {
                return Some(Ok(item));
            }
            if done {
                return None;
            }
            match chunks.next().map(|chunk| chunk.and_then(&mut read)) {
                Some(Ok(items)) => pending.extend(items),
                Some(Err(e)) => {
                    done = true;
                    return Some(Err(e));
                }
                None => done = true,
            }
        }
    })
}

fn dump_error(what: &str, message: impl Into<String>) -> Error {
    Error::Dump {
        what: what.to_owned(),
        message: message.into(),
    }
}

/// A `BufRead` that keeps a copy of everything its reader consumes, up to
/// [`MAX_RECORD_BYTES`] beyond what the owner has taken away.
struct Recorder<R> {
    inner: R,
    kept: Vec<u8>,
    /// Bytes consumed since the start of the stream.
    consumed: u64,
}

impl<R> Recorder<R> {
    fn new(inner: R) -> Self {
        Recorder {
            inner,
            kept: Vec::new(),
            consumed: 0,
        }
    }
}

impl<R: BufRead> Read for Recorder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Recorder<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.kept.len() > MAX_RECORD_BYTES {
            return Err(io::Error::other(format!(
                "more than {MAX_RECORD_BYTES} bytes without the end of a record"
            )));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        // The inner buffer is still filled: this does no I/O.
        if let Ok(buffer) = self.inner.fill_buf() {
            self.kept.extend_from_slice(&buffer[..n.min(buffer.len())]);
        }
        self.inner.consume(n);
        self.consumed += n as u64;
    }
}

/// Cuts an XML document into small documents of whole records; see the module docs.
struct XmlChunks<'a> {
    reader: quick_xml::Reader<Recorder<Box<dyn BufRead + 'a>>>,
    is_record: fn(&[String], &str) -> bool,
    what: &'static str,
    /// Open elements outside records: qualified and local names.
    open: Vec<(String, String)>,
    /// The document up to its first record, and the end tags that close it.
    head: Option<(Vec<u8>, Vec<u8>)>,
    /// Where the recorder's `kept` starts in the stream.
    kept_from: u64,
    body: Vec<u8>,
    records: usize,
    buf: Vec<u8>,
    /// An error to yield after the chunk of the records read before it.
    pending_error: Option<Error>,
    done: bool,
}

impl<'a> XmlChunks<'a> {
    fn new(reader: impl BufRead + 'a, is_record: fn(&[String], &str) -> bool, what: &'static str) -> Self {
        XmlChunks {
            reader: parser(Recorder::new(Box::new(reader))),
            is_record,
            what,
            open: Vec::new(),
            head: None,
            kept_from: 0,
            body: Vec::new(),
            records: 0,
            buf: Vec::new(),
            pending_error: None,
            done: false,
        }
    }

    fn recorder(&mut self) -> &mut Recorder<Box<dyn BufRead + 'a>> {
        self.reader.get_mut()
    }

    /// Drops what was kept before `to` (once the head is known, nothing outside records is).
    fn forget_until(&mut self, to: u64) {
        let from = self.kept_from;
        let recorder = self.recorder();
        let n = usize::try_from(to.saturating_sub(from))
            .unwrap_or(usize::MAX)
            .min(recorder.kept.len());
        recorder.kept.drain(..n);
        self.kept_from = from + n as u64;
    }

    /// The kept bytes from `from` to what is consumed now.
    fn kept_since(&mut self, from: u64) -> Vec<u8> {
        let start = usize::try_from(from.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        self.recorder().kept.get(start..).unwrap_or_default().to_vec()
    }

    /// A chunk of the records read so far, framed by the document's head.
    fn chunk(&mut self) -> Vec<u8> {
        let body = std::mem::take(&mut self.body);
        self.records = 0;
        match &self.head {
            Some((head, tail)) => [head.as_slice(), &body, tail].concat(),
            None => body,
        }
    }

    /// Reads a record's start tag at `start` to its end, adding it to the body; a record
    /// whose XML breaks is cut at its end tag (the chunk's reader quarantines it).
    fn read_record(&mut self, start: u64, qname: String, empty: bool) -> Result<()> {
        if self.head.is_none() {
            let head = self.kept_since(self.kept_from);
            let head = head[..usize::try_from(start.saturating_sub(self.kept_from))
                .unwrap_or(0)
                .min(head.len())]
                .to_vec();
            let tail: Vec<u8> = self
                .open
                .iter()
                .rev()
                .flat_map(|(name, _)| [b"</".as_slice(), name.as_bytes(), b">"].concat())
                .collect();
            self.head = Some((head, tail));
        }
        if !empty {
            let end = quick_xml::name::QName(&qname);
            let mut skipped = Vec::new();
            if let Err(e) = self.reader.read_to_end_into(end, &mut skipped) {
                if self.recorder().kept.len() > MAX_RECORD_BYTES {
                    return Err(dump_error(
                        self.what,
                        format!(
                            "a record at byte {start} is longer than {MAX_RECORD_BYTES} bytes or never ends"
                        ),
                    ));
                }
                tracing::debug!(what = self.what, start, "broken record: {e}");
                self.skip_past_end_tag(qname.as_bytes())?;
            }
        }
        let record = self.kept_since(start);
        self.body.extend_from_slice(&record);
        self.records += 1;
        let consumed = self.recorder().consumed;
        self.forget_until(consumed);
        Ok(())
    }

    /// After an XML error inside a record: reads on to just after `</qname>` (or the end of
    /// the stream), and starts a new parser there.
    fn skip_past_end_tag(&mut self, qname: &[u8]) -> Result<()> {
        let needle = [b"</".as_slice(), qname].concat();
        let mut matched = 0usize;
        let mut after_name = false;
        let what = self.what;
        let io_error = |e: io::Error| dump_error(what, e.to_string());
        loop {
            let recorder = self.recorder();
            let available = recorder.fill_buf().map_err(io_error)?;
            if available.is_empty() {
                return Ok(());
            }
            let mut used = 0;
            let mut found = false;
            for &byte in available {
                used += 1;
                if after_name {
                    if byte == b'>' {
                        found = true;
                        break;
                    }
                    if !byte.is_ascii_whitespace() {
                        after_name = false;
                        matched = 0;
                    }
                    continue;
                }
                matched = if byte == needle[matched] {
                    matched + 1
                } else {
                    usize::from(byte == needle[0])
                };
                if matched == needle.len() {
                    after_name = true;
                }
            }
            recorder.consume(used);
            if found {
                break;
            }
        }
        // A fresh parser from here: the broken one's state is not to be trusted.
        let recorder = std::mem::replace(&mut self.reader, parser(Recorder::new(Box::new(io::empty()))));
        self.reader = parser(recorder.into_inner());
        Ok(())
    }
}

/// A quick-xml reader as lenient as the whole-document readers: a mismatched end tag inside
/// a record is the record's reader's business.
fn parser<'a>(
    recorder: Recorder<Box<dyn BufRead + 'a>>,
) -> quick_xml::Reader<Recorder<Box<dyn BufRead + 'a>>> {
    let mut reader = quick_xml::Reader::from_reader(recorder);
    reader.config_mut().check_end_names = false;
    reader
}

impl Iterator for XmlChunks<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending_error.take() {
            return Some(Err(e));
        }
        while !self.done {
            let start = self.recorder().consumed;
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let event = self.reader.read_event_into(&mut buf);
            let step = match event {
                Err(e) => {
                    let at = self.recorder().consumed;
                    Err(dump_error(self.what, format!("malformed XML at byte {at}: {e}")))
                }
                Ok(Event::Start(ref tag) | Event::Empty(ref tag)) => {
                    let empty = matches!(event, Ok(Event::Empty(_)));
                    let qname = tag.name().as_ref().to_owned();
                    let local = tag.local_name().as_ref().to_owned();
                    let ancestors: Vec<String> = self.open.iter().map(|(_, local)| local.clone()).collect();
                    if (self.is_record)(&ancestors, &local) {
                        self.read_record(start, qname, empty)
                    } else if empty {
                        Ok(())
                    } else {
                        self.open.push((qname, local));
                        check_depth(self.open.len(), usize::try_from(start).unwrap_or(usize::MAX))
                            .map_err(|reason| dump_error(self.what, reason))
                    }
                }
                Ok(Event::End(ref tag)) => {
                    let local = tag.local_name();
                    if let Some(at) = self
                        .open
                        .iter()
                        .rposition(|(_, name)| name.as_str() == local.as_ref())
                    {
                        self.open.truncate(at);
                    }
                    Ok(())
                }
                Ok(Event::Eof) => {
                    self.done = true;
                    Ok(())
                }
                Ok(_) => Ok(()),
            };
            self.buf = buf;
            if let Err(e) = step {
                self.done = true;
                if self.records == 0 {
                    return Some(Err(e));
                }
                self.pending_error = Some(e);
                return Some(Ok(self.chunk()));
            }
            if self.head.is_some() {
                let consumed = self.recorder().consumed;
                self.forget_until(consumed);
            } else if self.recorder().kept.len() > MAX_RECORD_BYTES {
                self.done = true;
                return Some(Err(dump_error(
                    self.what,
                    format!("no record in the first {MAX_RECORD_BYTES} bytes"),
                )));
            }
            if self.records == RECORDS_PER_CHUNK {
                return Some(Ok(self.chunk()));
            }
        }
        if self.records > 0 {
            return Some(Ok(self.chunk()));
        }
        if self.head.is_none() {
            // No record at all: the whole (short) document, for the reader to say what it is.
            let kept = std::mem::take(&mut self.recorder().kept);
            self.head = Some((Vec::new(), Vec::new()));
            return Some(Ok(kept));
        }
        None
    }
}

/// A `Read` that keeps a copy of what it reads, up to [`MAX_RECORD_BYTES`] beyond what the
/// owner has taken away.
struct Tee<R> {
    inner: R,
    kept: Vec<u8>,
    /// Where `kept` starts in the stream.
    kept_from: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.kept.len() > 2 * MAX_RECORD_BYTES {
            return Err(io::Error::other(format!(
                "a CSV row longer than {MAX_RECORD_BYTES} bytes (an unclosed quote?)"
            )));
        }
        let n = self.inner.read(out)?;
        self.kept.extend_from_slice(&out[..n]);
        Ok(n)
    }
}

/// Cuts a CSV file into its header row plus [`RECORDS_PER_CHUNK`] rows at a time, each with
/// the number of lines of the file before its first row.
struct CsvChunks<R> {
    reader: csv::Reader<Tee<R>>,
    header: Option<Vec<u8>>,
    /// Line ends in the file before the next chunk's first row.
    lines_before: usize,
    row: csv::ByteRecord,
    /// Whether a chunk was yielded (a file of a header alone yields it once).
    emitted: bool,
    /// An error to yield after the chunk of the rows read before it.
    pending_error: Option<Error>,
    done: bool,
}

impl<R: Read> CsvChunks<R> {
    fn new(reader: R, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(Tee {
                inner: reader,
                kept: Vec::new(),
                kept_from: 0,
            });
        CsvChunks {
            reader,
            header: None,
            lines_before: 0,
            row: csv::ByteRecord::new(),
            emitted: false,
            pending_error: None,
            done: false,
        }
    }

    /// The kept bytes up to `to` (a row's start), taken away.
    fn take_until(&mut self, to: u64) -> Vec<u8> {
        let tee = self.reader.get_mut();
        let n = usize::try_from(to.saturating_sub(tee.kept_from))
            .unwrap_or(usize::MAX)
            .min(tee.kept.len());
        tee.kept_from += n as u64;
        tee.kept.drain(..n).collect()
    }
}

impl<R: Read> Iterator for CsvChunks<R> {
    type Item = Result<(Vec<u8>, usize)>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending_error.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        let mut rows = 0;
        let mut end = self.reader.position().byte();
        loop {
            let more = match self.reader.read_byte_record(&mut self.row) {
                Ok(more) => more,
                Err(e) => {
                    self.done = true;
                    let e = dump_error("CSV", e.to_string());
                    if rows == 0 {
                        return Some(Err(e));
                    }
                    self.pending_error = Some(e);
                    break;
                }
            };
            let at = self.reader.position().byte();
            if !more {
                self.done = true;
                break;
            }
            end = at;
            if self.header.is_none() {
                let header = self.take_until(at);
                self.lines_before = count_lines(&header);
                self.header = Some(header);
                continue;
            }
            rows += 1;
            if rows == RECORDS_PER_CHUNK {
                break;
            }
        }
        let rows_bytes = if self.done && self.pending_error.is_none() {
            let tee = self.reader.get_mut();
            tee.kept_from += tee.kept.len() as u64;
            std::mem::take(&mut tee.kept)
        } else {
            self.take_until(end)
        };
        if rows == 0 && self.emitted {
            return None; // nothing after the last full chunk but blank lines
        }
        self.emitted = true;
        let header = self.header.clone().unwrap_or_default();
        let header_lines = count_lines(&header);
        let lines_before = self.lines_before.saturating_sub(header_lines);
        self.lines_before += count_lines(&rows_bytes);
        Some(Ok(([header, rows_bytes].concat(), lines_before)))
    }
}

fn count_lines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}
