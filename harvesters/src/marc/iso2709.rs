//! Reading ISO 2709 (`.mrc`) files record by record.
//!
//! Two steps, so that one broken record costs only itself:
//!
//! 1. **Framing** cuts the file into records. A record ends at the record terminator (0x1D);
//!    the leader's five-digit length is used to check the cut and, when a terminator is
//!    missing but the next record's leader sits exactly where the length says, to cut there.
//!    A record whose length disagrees with its terminator (wrong leader, a record over the
//!    99,999 bytes the length field can express, characters counted instead of bytes) is
//!    still cut at its terminator, so the next record starts in the right place, and is
//!    quarantined. A file that ends without a terminator quarantines its last record.
//! 2. **Parsing** reads the leader, the directory and the fields of one framed record, all
//!    as bytes (directory lengths count bytes), checks every directory entry against the
//!    record, and only then decodes the fields' text in the record's charset.

use std::io::Read;

use crate::marc::{
    MarcEncoding, MarcFormat,
    charset::Charset,
    record::{Field, FieldContent, MarcRecord, Subfield, Tag, is_control_tag, tag_text},
};

pub(crate) const RECORD_TERMINATOR: u8 = 0x1D;
pub(crate) const FIELD_TERMINATOR: u8 = 0x1E;
pub(crate) const SUBFIELD_DELIMITER: u8 = 0x1F;
const LEADER_LENGTH: usize = 24;
/// The most bytes a five-digit record length can state.
const MAX_RECORD_LENGTH: usize = 99_999;

/// One record cut out of a file, with the framing problem that quarantines it, if any.
#[derive(Debug)]
pub(crate) struct FramedRecord<'a> {
    /// Byte offset of the record in the file.
    pub(crate) offset: usize,
    pub(crate) bytes: &'a [u8],
    pub(crate) problem: Option<String>,
}

/// Cuts a byte buffer into records.
#[derive(Debug)]
pub(crate) struct Framer<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Framer<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Framer { bytes, position: 0 }
    }
}

fn parse_digits(bytes: Option<&[u8]>) -> Option<usize> {
    let bytes = bytes?;
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0usize, |n, &b| {
        n.checked_mul(10)?.checked_add(usize::from(b - b'0'))
    })
}

/// True if `bytes` start like a leader: a five-digit length and a five-digit base address.
fn looks_like_leader(bytes: &[u8]) -> bool {
    parse_digits(bytes.get(0..5)).is_some() && parse_digits(bytes.get(12..17)).is_some()
}

impl<'a> Iterator for Framer<'a> {
    type Item = FramedRecord<'a>;

    fn next(&mut self) -> Option<FramedRecord<'a>> {
        self.position += separators(self.bytes.get(self.position..).unwrap_or_default());
        let offset = self.position;
        let rest = self.bytes.get(offset..).filter(|r| !r.is_empty())?;
        let (length, problem) = frame(rest);
        let bytes = rest.get(..length).unwrap_or(rest);
        self.position = offset + bytes.len();
        Some(FramedRecord {
            offset,
            bytes,
            problem,
        })
    }
}

/// How many bytes at the start of `bytes` lie between records: line breaks, NULs, spaces and
/// DOS end-of-file marks are not records.
pub(crate) fn separators(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| matches!(b, b'\n' | b'\r' | b'\0' | b' ' | b'\t' | 0x1A))
        .count()
}

/// Bytes after a record's start that [`frame`] may look at to decide where it ends, when its
/// terminator comes earlier: the longest length a leader can state and the next leader's
/// digits. A reader that holds this much (or the rest of the file) frames exactly as if it
/// held the whole file.
pub(crate) const FRAME_LOOKAHEAD: usize = MAX_RECORD_LENGTH + 17;

/// Where the record at the start of `rest` (the rest of the file, or at least
/// [`FRAME_LOOKAHEAD`] bytes and its terminator) ends, and the framing problem that
/// quarantines it, if any.
pub(crate) fn frame(rest: &[u8]) -> (usize, Option<String>) {
    let terminator = rest.iter().position(|&b| b == RECORD_TERMINATOR);
    let declared = parse_digits(rest.get(0..5));
    match (declared, terminator) {
        (Some(declared), Some(t)) if declared == t + 1 => (declared, None),
        // The terminator is missing but the leader's length ends the record on a field
        // terminator and the next record's leader follows: trust the length.
        (Some(declared), t)
            if declared > LEADER_LENGTH
                && t.is_none_or(|t| t + 1 > declared)
                && rest.get(declared - 1) == Some(&FIELD_TERMINATOR)
                && rest.get(declared..).is_some_and(looks_like_leader) =>
        {
            (
                declared,
                Some(format!(
                    "record has no record terminator (0x1D) after the {declared} bytes its leader states"
                )),
            )
        }
        (declared, Some(t)) => {
            let actual = t + 1;
            let reason = if actual > MAX_RECORD_LENGTH {
                format!(
                    "record is {actual} bytes, more than the {MAX_RECORD_LENGTH} bytes an ISO 2709 \
                     leader can state (leader says {})",
                    leader_length_text(rest)
                )
            } else {
                match declared {
                    Some(declared) => format!(
                        "leader states a record length of {declared} bytes but the record terminator \
                         ends it after {actual} bytes"
                    ),
                    None => format!(
                        "leader record length {} is not a number (record is {actual} bytes)",
                        leader_length_text(rest)
                    ),
                }
            };
            (actual, Some(reason))
        }
        (declared, None) => {
            let reason = match declared {
                Some(declared) if declared > rest.len() => format!(
                    "file ends after {} of the record's {declared} bytes (truncated)",
                    rest.len()
                ),
                _ => format!(
                    "file ends without a record terminator (0x1D) after {} bytes (truncated)",
                    rest.len()
                ),
            };
            (rest.len(), Some(reason))
        }
    }
}

/// Longest run of bytes without a record terminator that [`StreamFramer`] holds: a stream
/// that goes on longer without one is cut there (and the piece quarantined).
pub(crate) const MAX_UNTERMINATED: usize = 16 << 20;
/// Bytes read from the stream at a time.
const READ_CHUNK: usize = 256 << 10;

/// Cuts a stream into records as [`Framer`] cuts a buffer, holding one record and
/// [`FRAME_LOOKAHEAD`] bytes at a time, so a file of any size is read in constant memory.
pub(crate) struct StreamFramer<R> {
    reader: R,
    buffer: Vec<u8>,
    /// Where the unread records start in `buffer`, and the file offset of `buffer[0]`.
    start: usize,
    base: u64,
    eof: bool,
    /// The read error that ended the stream, reported after the records read before it.
    failed: Option<std::io::Error>,
}

/// A record cut out of a stream.
#[derive(Debug)]
pub(crate) struct OwnedFramedRecord {
    pub(crate) offset: u64,
    pub(crate) bytes: Vec<u8>,
    pub(crate) problem: Option<String>,
}

impl<R: Read> StreamFramer<R> {
    pub(crate) fn new(reader: R) -> Self {
        StreamFramer {
            reader,
            buffer: Vec::new(),
            start: 0,
            base: 0,
            eof: false,
            failed: None,
        }
    }

    /// Reads one more chunk (up to [`READ_CHUNK`] bytes); at the end of the stream, sets
    /// `eof`.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let read = (&mut self.reader)
            .take(READ_CHUNK as u64)
            .read_to_end(&mut self.buffer)?;
        self.eof = read == 0;
        Ok(())
    }
}

impl<R: Read> Iterator for StreamFramer<R> {
    type Item = std::io::Result<OwnedFramedRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        // Read until the record's end and the bytes after it that framing looks at are in.
        let (mut scanned, mut terminated) = (0usize, false);
        loop {
            let rest = self.buffer.get(self.start..).unwrap_or_default();
            let skip = separators(rest);
            self.start += skip;
            scanned = scanned.saturating_sub(skip);
            let rest = self.buffer.get(self.start..).unwrap_or_default();
            terminated |= rest
                .get(scanned..)
                .unwrap_or_default()
                .contains(&RECORD_TERMINATOR);
            scanned = rest.len();
            if self.eof || (terminated && rest.len() >= FRAME_LOOKAHEAD) || rest.len() >= MAX_UNTERMINATED {
                break;
            }
            if let Err(e) = self.fill() {
                self.eof = true;
                self.failed = Some(e);
            }
        }
        let Some(rest) = self.buffer.get(self.start..).filter(|r| !r.is_empty()) else {
            return self.failed.take().map(Err);
        };
        let (mut length, mut problem) = frame(rest);
        if !self.eof && length == rest.len() && !rest.contains(&RECORD_TERMINATOR) {
            length = rest.len().min(MAX_UNTERMINATED);
            problem = Some(format!(
                "no record terminator (0x1D) in the {length} bytes from here: cut and skipped"
            ));
        }
        let bytes = rest.get(..length).unwrap_or(rest).to_vec();
        let offset = self.base + self.start as u64;
        self.start += bytes.len();
        Some(Ok(OwnedFramedRecord {
            offset,
            bytes,
            problem,
        }))
    }
}

fn leader_length_text(record: &[u8]) -> String {
    format!(
        "{:?}",
        String::from_utf8_lossy(record.get(0..5).unwrap_or(record))
    )
}

/// A record's structure, before decoding: the leader and each field's bytes (without the
/// field terminator).
#[derive(Debug)]
pub(crate) struct RawRecord<'a> {
    pub(crate) leader: &'a [u8],
    pub(crate) fields: Vec<(Tag, &'a [u8])>,
}

/// Reads the leader and directory of one framed record and checks every entry.
pub(crate) fn parse_structure(record: &[u8]) -> Result<RawRecord<'_>, String> {
    let leader = record
        .get(..LEADER_LENGTH)
        .ok_or_else(|| format!("record is {} bytes, too short for a leader", record.len()))?;
    if !leader.is_ascii() {
        return Err("leader contains non-ASCII bytes".into());
    }
    let base = parse_digits(leader.get(12..17)).ok_or_else(|| {
        format!(
            "leader base address {:?} is not a number",
            String::from_utf8_lossy(leader.get(12..17).unwrap_or_default())
        )
    })?;
    // The directory ends with a field terminator right before the base address.
    let directory_end = record
        .iter()
        .skip(LEADER_LENGTH)
        .position(|&b| b == FIELD_TERMINATOR)
        .map(|p| p + LEADER_LENGTH)
        .ok_or("record has no directory terminator")?;
    if base != directory_end + 1 {
        return Err(format!(
            "leader base address {base} does not match the end of the directory (byte {})",
            directory_end + 1
        ));
    }
    let directory = record.get(LEADER_LENGTH..directory_end).unwrap_or_default();
    if directory.len() % 12 != 0 {
        return Err(format!(
            "directory is {} bytes, not a multiple of 12",
            directory.len()
        ));
    }
    // The data ends before the record terminator.
    let data_end = record.len().saturating_sub(1);
    let mut fields = Vec::with_capacity(directory.len() / 12);
    for (n, entry) in directory.chunks_exact(12).enumerate() {
        let tag: Tag = match entry {
            [a, b, c, ..] if [a, b, c].iter().all(|x| x.is_ascii_alphanumeric()) => [*a, *b, *c],
            _ => {
                return Err(format!(
                    "directory entry {n} has an invalid tag {:?}",
                    String::from_utf8_lossy(entry.get(..3).unwrap_or_default())
                ));
            }
        };
        let (Some(length), Some(start)) = (parse_digits(entry.get(3..7)), parse_digits(entry.get(7..12)))
        else {
            return Err(format!(
                "directory entry {n} (field {}) has a non-numeric length or start",
                tag_text(&tag)
            ));
        };
        let from = base + start;
        let to = from + length;
        if length == 0 || to > data_end {
            return Err(format!(
                "directory entry for field {} points outside the record (bytes {from}..{to} of {})",
                tag_text(&tag),
                record.len()
            ));
        }
        let data = record.get(from..to).unwrap_or_default();
        let Some((&FIELD_TERMINATOR, content)) = data.split_last() else {
            return Err(format!(
                "field {} (bytes {from}..{to}) does not end with a field terminator: the directory's \
                 lengths do not match the data (characters counted instead of bytes?)",
                tag_text(&tag)
            ));
        };
        fields.push((tag, content));
    }
    Ok(RawRecord { leader, fields })
}

/// The charset of a record's fields, from the options, the leader (MARC21 leader/09) or
/// the CNMARC `100$a` positions 26–29.
pub(crate) fn record_charset(raw: &RawRecord<'_>, format: MarcFormat, encoding: MarcEncoding) -> Charset {
    match encoding {
        MarcEncoding::Utf8 => return Charset::Utf8,
        MarcEncoding::Marc8 => return Charset::Marc8,
        MarcEncoding::Gb18030 => return Charset::Gb18030,
        MarcEncoding::Auto => {}
    }
    let all_utf8_with_non_ascii = || {
        let mut non_ascii = false;
        for (_, data) in &raw.fields {
            match std::str::from_utf8(data) {
                Ok(text) => non_ascii |= !text.is_ascii(),
                Err(_) => return false,
            }
        }
        non_ascii
    };
    match format {
        MarcFormat::Marc21 => match raw.leader.get(9) {
            Some(b'a') => Charset::Utf8,
            // Leader/09 blank means MARC-8, but many exports write UTF-8 and forget to say
            // so: valid multi-byte UTF-8 is practically never valid MARC-8 text.
            _ if all_utf8_with_non_ascii() => Charset::Utf8,
            _ => Charset::Marc8,
        },
        MarcFormat::Cnmarc => {
            let declared = raw
                .fields
                .iter()
                .find(|(tag, _)| tag == b"100")
                .and_then(|(_, data)| unimarc_charset_positions(data));
            match declared.as_deref() {
                Some(sets) if sets.starts_with("50") => Charset::Utf8,
                // G0 or G1 designating the Chinese national sets (GB 2312 and its supersets
                // GBK and GB18030, as Chinese ILSs write them: "0120").
                Some(sets) if sets.get(0..2) == Some("20") || sets.get(2..4) == Some("20") => {
                    Charset::Gb18030
                }
                _ => {
                    if raw
                        .fields
                        .iter()
                        .all(|(_, data)| std::str::from_utf8(data).is_ok())
                    {
                        Charset::Utf8
                    } else {
                        Charset::Gb18030
                    }
                }
            }
        }
    }
}

/// `100$a` positions 26–29 (the character sets) of a UNIMARC `100` field's raw bytes.
fn unimarc_charset_positions(field: &[u8]) -> Option<String> {
    let start = field.iter().position(|&b| b == SUBFIELD_DELIMITER)?;
    let sub = field.get(start + 1..)?;
    if sub.first() != Some(&b'a') {
        return None;
    }
    let value = sub.get(1..)?;
    let end = value
        .iter()
        .position(|&b| b == SUBFIELD_DELIMITER)
        .unwrap_or(value.len());
    let positions = value.get(..end)?.get(26..30)?;
    positions
        .is_ascii()
        .then(|| String::from_utf8_lossy(positions).into_owned())
}

/// Decodes a parsed record's fields in `charset`.
pub(crate) fn decode_record(raw: &RawRecord<'_>, charset: Charset) -> Result<MarcRecord, String> {
    let leader = String::from_utf8_lossy(raw.leader).into_owned();
    let mut fields = Vec::with_capacity(raw.fields.len());
    for (tag, data) in &raw.fields {
        let text = charset
            .decode(data)
            .map_err(|e| format!("field {} {e} (record read as {})", tag_text(tag), charset.name()))?;
        let content = if is_control_tag(tag) {
            FieldContent::Control(text)
        } else {
            let mut parts = text.split('\u{1F}');
            let mut indicator_chars = parts.next().unwrap_or_default().chars();
            let indicators = [
                indicator_chars.next().unwrap_or(' '),
                indicator_chars.next().unwrap_or(' '),
            ];
            let subfields = parts
                .filter_map(|part| {
                    let mut chars = part.chars();
                    let code = chars.next()?;
                    Some(Subfield {
                        code,
                        value: chars.as_str().to_owned(),
                    })
                })
                .collect();
            FieldContent::Data {
                indicators,
                subfields,
            }
        };
        fields.push(Field { tag: *tag, content });
    }
    Ok(MarcRecord { leader, fields })
}

/// Writes one ISO 2709 record, for test data, benchmarks and the scale run: `leader_tail` is
/// the leader without its two numbers (`nam a22 i 4500`: positions 5–11, then 17–23), each
/// field is its tag and its content (indicators and `\x1f`-delimited subfields, or control
/// data); lengths, the base address and the directory are computed.
pub fn write_iso2709(leader_tail: &str, fields: &[(&str, &[u8])]) -> Vec<u8> {
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for (tag, content) in fields {
        let start = data.len();
        data.extend_from_slice(content);
        data.push(FIELD_TERMINATOR);
        directory.extend_from_slice(format!("{tag}{:04}{:05}", data.len() - start, start).as_bytes());
    }
    directory.push(FIELD_TERMINATOR);
    let base = LEADER_LENGTH + directory.len();
    let total = base + data.len() + 1;
    let split = leader_tail
        .char_indices()
        .nth(7)
        .map_or(leader_tail.len(), |(at, _)| at);
    let (before, after) = leader_tail.split_at(split);
    let mut out = format!("{total:05}{before}{base:05}{after}").into_bytes();
    out.extend_from_slice(&directory);
    out.extend_from_slice(&data);
    out.push(RECORD_TERMINATOR);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        write_iso2709(
            "nam a22 i 4500",
            &[
                ("001", b"X1"),
                ("245", b"10\x1fa\xe9\x9d\x99\xe5\xa4\x9c\xe6\x80\x9d"),
            ],
        )
    }

    /// Hands out its bytes a few at a time, as a pipe or a decompressor may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.step = self.step % 7 + 1;
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// Fails every read.
    struct Failing;

    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }

    fn framed_from_stream(file: &[u8]) -> Vec<(u64, Vec<u8>, Option<String>)> {
        StreamFramer::new(Trickle { bytes: file, step: 0 })
            .map(|r| {
                let r = r.unwrap();
                (r.offset, r.bytes, r.problem)
            })
            .collect()
    }

    #[test]
    fn a_stream_is_framed_as_the_whole_file_is() {
        let good = sample();
        let mut no_terminator = sample();
        no_terminator.pop();
        let mut wrong_length = sample();
        wrong_length[..5].copy_from_slice(b"00030");
        let mut files: Vec<Vec<u8>> = vec![
            [good.clone(), b"\r\n".to_vec(), good.clone()].concat(),
            [no_terminator.clone(), good.clone()].concat(),
            [wrong_length.clone(), good.clone(), b"garbage".to_vec()].concat(),
            [good.clone(), no_terminator.clone()].concat(),
            b"\n\n\x1a".to_vec(),
            Vec::new(),
        ];
        // A record over 99,999 bytes, and one long enough to need several reads.
        let long = write_iso2709("nam a22 i 4500", &[("001", b"L"), ("500", &vec![b'a'; 150_000])]);
        files.push([good.clone(), long, good.clone()].concat());
        for file in &files {
            let whole: Vec<(u64, Vec<u8>, Option<String>)> = Framer::new(file)
                .map(|r| (r.offset as u64, r.bytes.to_vec(), r.problem))
                .collect();
            assert_eq!(
                framed_from_stream(file),
                whole,
                "{:?}",
                String::from_utf8_lossy(file)
            );
        }
    }

    #[test]
    fn a_stream_without_terminators_is_cut_in_bounded_pieces() {
        let file = vec![b'x'; MAX_UNTERMINATED + 10];
        let framed = framed_from_stream(&file);
        assert_eq!(framed.len(), 2);
        assert_eq!(framed[0].1.len(), MAX_UNTERMINATED);
        assert!(
            framed[0]
                .2
                .as_deref()
                .unwrap_or_default()
                .contains("no record terminator")
        );
        assert_eq!((framed[1].0, framed[1].1.len()), (MAX_UNTERMINATED as u64, 10));
    }

    #[test]
    fn a_read_error_ends_the_stream_as_its_last_item() {
        let record = sample();
        let failing = record.as_slice().chain(Failing);
        let items: Vec<_> = StreamFramer::new(failing).collect();
        assert_eq!(items.len(), 2);
        assert!(
            items[0]
                .as_ref()
                .is_ok_and(|r| r.bytes == record && r.problem.is_none())
        );
        assert!(items[1].as_ref().is_err_and(|e| e.to_string() == "disk on fire"));
    }

    #[test]
    fn records_are_framed_by_terminator_and_length() {
        let one = sample();
        let mut file = one.clone();
        file.extend_from_slice(b"\r\n");
        file.extend_from_slice(&one);
        let framed: Vec<_> = Framer::new(&file).collect();
        assert_eq!(framed.len(), 2);
        assert!(framed.iter().all(|f| f.problem.is_none()));
        assert_eq!(framed[1].offset, one.len() + 2);

        // A missing terminator with the next leader exactly where the length says.
        let mut glued = one.clone();
        glued.pop();
        glued.push(FIELD_TERMINATOR);
        // (the record now ends with two field terminators; the length still fits)
        glued.extend_from_slice(&one);
        let framed: Vec<_> = Framer::new(&glued).collect();
        assert_eq!(framed.len(), 2, "{framed:?}");
        assert!(
            framed[0]
                .problem
                .as_deref()
                .unwrap_or_default()
                .contains("no record terminator")
        );
        assert!(framed[1].problem.is_none());
    }

    #[test]
    fn structure_and_text_are_checked() {
        let one = sample();
        let raw = parse_structure(&one).unwrap();
        let charset = record_charset(&raw, MarcFormat::Marc21, MarcEncoding::Auto);
        assert_eq!(charset, Charset::Utf8);
        let record = decode_record(&raw, charset).unwrap();
        assert_eq!(record.fields[1].first('a'), Some("静夜思"));
        assert_eq!(record.fields[1].indicator(0), '1');

        // A blank leader/09 says MARC-8, but valid multi-byte UTF-8 is read as UTF-8; bytes
        // that are not UTF-8 are MARC-8.
        let mislabelled = write_iso2709("nam  22 i 4500", &[("245", "10\x1fa静夜思".as_bytes())]);
        let raw = parse_structure(&mislabelled).unwrap();
        assert_eq!(
            record_charset(&raw, MarcFormat::Marc21, MarcEncoding::Auto),
            Charset::Utf8
        );
        let marc8 = write_iso2709("nam  22 i 4500", &[("245", b"10\x1faCaf\xe2e")]);
        let raw = parse_structure(&marc8).unwrap();
        assert_eq!(
            record_charset(&raw, MarcFormat::Marc21, MarcEncoding::Auto),
            Charset::Marc8
        );
        assert_eq!(
            decode_record(&raw, Charset::Marc8).unwrap().fields[0].first('a'),
            Some("Café")
        );

        let mut bad = one.clone();
        bad[12..17].copy_from_slice(b"00099");
        assert!(parse_structure(&bad).unwrap_err().contains("base address 99"));
        let mut outside = one.clone();
        // field 245's start moved past the end
        outside[24 + 12 + 7..24 + 12 + 12].copy_from_slice(b"00900");
        assert!(
            parse_structure(&outside)
                .unwrap_err()
                .contains("points outside the record")
        );
    }
}
