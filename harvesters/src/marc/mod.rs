//! MARC files: ISO 2709 (`.mrc`) and MARCXML, in MARC21 or CNMARC/UNIMARC, mapped into
//! [`schemas::Record`]s.
//!
//! - [`read_iso2709`] reads a byte buffer record by record ([`iso2709`] frames and parses,
//!   [`charset`] decodes UTF-8, MARC-8 or GB18030).
//! - [`read_marcxml`] streams a MARCXML document record by record ([`marcxml`]).
//! - [`read_marc_file`] sniffs which of the two a file is.
//! - [`mapping`] turns a decoded record into a `Record`, for MARC21 or UNIMARC.
//!
//! Every reader yields one [`HarvestedItem`] per record, in file order: a mapped record, a
//! deletion (leader/05 = `d`), or a quarantine with the reason and the record's text. No
//! input makes a reader fail, panic or stop early: a broken record costs only itself.

mod charset;
mod iso2709;
mod mapping;
mod marcxml;
mod record;

pub use self::iso2709::write_iso2709;
use crate::{HarvestedItem, ItemOutcome};

use self::{
    charset::{Charset, raw_text},
    iso2709::{Framer, StreamFramer, decode_record, parse_structure, record_charset},
    mapping::{MappingContext, guess_format, map_record},
    marcxml::{XmlRecords, XmlText},
};

/// Which MARC flavour a file is in: it decides what each tag means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarcFormat {
    /// MARC 21 (Library of Congress), as most Western and some Chinese systems write.
    #[default]
    Marc21,
    /// CNMARC, the Chinese national format based on UNIMARC (and UNIMARC itself).
    Cnmarc,
}

/// The character encoding of an ISO 2709 file. MARCXML is always read as UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MarcEncoding {
    /// Per record, as the record declares: MARC21 leader/09 (`a` = UTF-8, blank = MARC-8,
    /// though valid multi-byte UTF-8 under a blank leader/09 is read as the UTF-8 it is);
    /// CNMARC `100$a` positions 26–29 (`50` = UTF-8, `20` in G0 or G1 = GB18030), else
    /// UTF-8 if the record is valid UTF-8 and GB18030 if not.
    #[default]
    Auto,
    /// UTF-8, whatever the records say.
    Utf8,
    /// MARC-8: ASCII, ANSEL diacritics and every set its escape sequences designate (CJK
    /// EACC, Cyrillic, Greek, Hebrew, Arabic, sub- and superscripts).
    Marc8,
    /// GB18030, which includes GBK and GB 2312.
    Gb18030,
}

/// How to read a MARC file and where its records belong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MarcOptions {
    /// MARC21 or CNMARC/UNIMARC.
    pub format: MarcFormat,
    /// The character encoding, or [`MarcEncoding::Auto`] to follow each record.
    pub encoding: MarcEncoding,
    /// Our id for the source; record ids are `{source_id}:{001}` (or the ISBN-13 when a
    /// record has no `001`).
    pub source_id: String,
    /// Id of the institution the records (and their holdings) are attributed to.
    pub institution: String,
}

impl MarcOptions {
    fn context(&self) -> MappingContext<'_> {
        MappingContext {
            source_id: &self.source_id,
            institution: &self.institution,
            local_id: None,
        }
    }
}

/// Reads the records of an ISO 2709 file, one [`HarvestedItem`] per record.
///
/// `local_id` is the control number (`001`, else the first valid ISBN); `datestamp` is the
/// `005` as `YYYY-MM-DDThh:mm:ssZ` (empty without one); `raw` is the record's bytes decoded
/// in its charset, bytes that do not decode written as `\xNN`. A truncated file, a leader
/// whose lengths are wrong, a record over 99,999 bytes, a directory entry outside the record,
/// bytes invalid in the record's encoding: each quarantines its own record, and reading goes
/// on with the next.
///
/// ```
/// use jincheng_harvesters::{ItemOutcome, MarcFormat, MarcOptions, read_iso2709};
/// let options = MarcOptions {
///     format: MarcFormat::Marc21,
///     source_id: "lzlib-marc".into(),
///     institution: "lzlib".into(),
///     ..MarcOptions::default()
/// };
/// let file = b"00064nam a2200049 i 4500001000300000245001100003\x1e42\x1e10\x1faPoems.\x1e\x1d";
/// let items: Vec<_> = read_iso2709(file, &options).collect();
/// match &items[0].outcome {
///     ItemOutcome::Record(record) => assert_eq!((record.id.as_str(), record.title.as_str()), ("lzlib-marc:42", "Poems")),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn read_iso2709(bytes: &[u8], options: &MarcOptions) -> impl Iterator<Item = HarvestedItem> {
    Framer::new(bytes).enumerate().map(move |(index, framed)| {
        framed_item(index, framed.offset as u64, framed.bytes, framed.problem, options)
    })
}

/// [`read_iso2709`] over a stream (a file of any size, a decompressor): records are read
/// one at a time, holding one record and about 100 KB of what follows it, and framed exactly
/// as the whole file would be; a run of 16 MiB without a record terminator is cut there and
/// quarantined. An error reading the stream ends it, as its last item.
///
/// ```
/// use jincheng_harvesters::{ItemOutcome, MarcOptions, read_iso2709_stream};
/// let file: &[u8] = b"00064nam a2200049 i 4500001000300000245001100003\x1e42\x1e10\x1faPoems.\x1e\x1d";
/// let options = MarcOptions { source_id: "x".into(), institution: "lzlib".into(), ..MarcOptions::default() };
/// let item = read_iso2709_stream(file, options).next().unwrap().unwrap();
/// assert!(matches!(&item.outcome, ItemOutcome::Record(r) if r.title == "Poems"));
/// ```
pub fn read_iso2709_stream<R: std::io::Read>(
    reader: R,
    options: MarcOptions,
) -> impl Iterator<Item = std::io::Result<HarvestedItem>> {
    StreamFramer::new(reader).enumerate().map(move |(index, framed)| {
        let framed = framed?;
        Ok(framed_item(
            index,
            framed.offset,
            &framed.bytes,
            framed.problem,
            &options,
        ))
    })
}

/// The item of the `index`th record of a file, cut out at `offset`.
fn framed_item(
    index: usize,
    offset: u64,
    bytes: &[u8],
    problem: Option<String>,
    options: &MarcOptions,
) -> HarvestedItem {
    let at = format!("record {} at byte {offset}", index + 1);
    let structure = match problem {
        Some(problem) => Err(problem),
        None => parse_structure(bytes),
    };
    let raw = match structure {
        Err(reason) => {
            return quarantined(
                String::new(),
                String::new(),
                raw_text(bytes, Charset::Utf8),
                format!("{at}: {reason}"),
            );
        }
        Ok(raw) => raw,
    };
    let charset = record_charset(&raw, options.format, options.encoding);
    let text = raw_text(bytes, charset);
    match decode_record(&raw, charset) {
        Ok(record) => item(record, text, options.format, options.context()),
        Err(reason) => {
            // The control number is ASCII in practice: name the record if it decodes.
            let local_id = raw
                .fields
                .iter()
                .find(|(tag, _)| tag == b"001")
                .and_then(|(_, data)| std::str::from_utf8(data).ok())
                .map(|id| id.trim().to_owned())
                .unwrap_or_default();
            quarantined(local_id, String::new(), text, format!("{at}: {reason}"))
        }
    }
}

/// Reads the records of a MARCXML document (a `<collection>` or a single `<record>`), one
/// [`HarvestedItem`] per record; `raw` is the record's XML. Broken XML quarantines the
/// record it is in, and reading resumes after that record's end tag.
///
/// ```
/// use jincheng_harvesters::{ItemOutcome, MarcOptions, read_marcxml};
/// let xml = r#"<collection xmlns="http://www.loc.gov/MARC21/slim"><record>
///   <leader>00000nam a2200000 i 4500</leader>
///   <controlfield tag="001">42</controlfield>
///   <datafield tag="245" ind1="1" ind2="0"><subfield code="a">静夜思 /</subfield></datafield>
/// </record></collection>"#;
/// let options = MarcOptions { source_id: "x".into(), institution: "lzlib".into(), ..MarcOptions::default() };
/// let item = read_marcxml(xml.as_bytes(), &options).next().unwrap();
/// assert!(matches!(&item.outcome, ItemOutcome::Record(r) if r.title == "静夜思"));
/// ```
pub fn read_marcxml(bytes: &[u8], options: &MarcOptions) -> impl Iterator<Item = HarvestedItem> {
    read_marcxml_from(bytes, options, 0)
}

/// [`read_marcxml`] of a part of a larger document whose records before it were `first`:
/// quarantine reasons count records in the whole document.
pub(crate) fn read_marcxml_from(
    bytes: &[u8],
    options: &MarcOptions,
    first: usize,
) -> impl Iterator<Item = HarvestedItem> {
    XmlRecords::new(XmlText::new(bytes))
        .enumerate()
        .map(move |(index, xml)| (first + index, xml))
        .map(move |(index, xml)| match xml.record {
            Ok(record) => item(record, xml.raw, options.format, options.context()),
            Err(reason) => quarantined(
                String::new(),
                String::new(),
                xml.raw,
                format!("MARCXML record {}: {reason}", index + 1),
            ),
        })
}

/// Reads an ISO 2709 or a MARCXML file, whichever `bytes` is: a document whose first
/// non-blank character is `<` is MARCXML.
pub fn read_marc_file(bytes: &[u8], options: &MarcOptions) -> impl Iterator<Item = HarvestedItem> {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let is_xml = start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    let (xml, iso) = if is_xml {
        (Some(read_marcxml(bytes, options)), None)
    } else {
        (None, Some(read_iso2709(bytes, options)))
    };
    xml.into_iter().flatten().chain(iso.into_iter().flatten())
}

/// Maps the MARCXML record inside an OAI-PMH `<metadata>` element (its content, as text),
/// under the OAI identifier. The format is MARC21 unless the record has a UNIMARC title
/// (`200`) and no MARC21 one (`245`).
pub(crate) fn map_oai_marcxml(
    metadata: &str,
    source_id: &str,
    institution: &str,
    identifier: &str,
) -> Result<ItemOutcome, String> {
    let xml = XmlRecords::new(XmlText::from_str(metadata))
        .next()
        .ok_or("metadata holds no MARCXML <record>")?;
    let record = xml.record?;
    let format = guess_format(&record);
    let context = MappingContext {
        source_id,
        institution,
        local_id: Some(identifier),
    };
    match map_record(record, format, context).1 {
        ItemOutcome::Quarantined { reason } => Err(reason),
        outcome => Ok(outcome),
    }
}

fn item(
    record: record::MarcRecord,
    raw: String,
    format: MarcFormat,
    context: MappingContext<'_>,
) -> HarvestedItem {
    let datestamp = record.datestamp();
    let (local_id, outcome) = map_record(record, format, context);
    HarvestedItem {
        local_id,
        datestamp,
        sets: Vec::new(),
        raw,
        outcome,
    }
}

/// The most text of a quarantined record kept in [`HarvestedItem::raw`]: enough to review
/// any real record, while a multi-megabyte file that is not MARC at all does not become one
/// multi-megabyte report entry.
const MAX_QUARANTINED_RAW: usize = 256 * 1024;

fn quarantined(local_id: String, datestamp: String, mut raw: String, reason: String) -> HarvestedItem {
    if raw.len() > MAX_QUARANTINED_RAW {
        let mut cut = MAX_QUARANTINED_RAW;
        while !raw.is_char_boundary(cut) {
            cut -= 1;
        }
        let dropped = raw.len() - cut;
        raw.truncate(cut);
        raw.push_str(&format!("… ({dropped} more bytes not kept)"));
    }
    HarvestedItem {
        local_id,
        datestamp,
        sets: Vec::new(),
        raw,
        outcome: ItemOutcome::Quarantined { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARC_RECORD: &str = r#"<marc:record><marc:leader>00000nam a2200000 i 4500</marc:leader><marc:controlfield tag="001">9</marc:controlfield><marc:datafield tag="245" ind1="1" ind2="0"><marc:subfield code="a">静夜思 /</marc:subfield></marc:datafield></marc:record>"#;

    #[test]
    fn oai_metadata_is_mapped_under_the_oai_identifier() {
        // The `marc:` prefix is declared on the OAI-PMH envelope, outside the text we get.
        let outcome = map_oai_marcxml(MARC_RECORD, "src", "lzlib", "oai:x:9").unwrap();
        match outcome {
            ItemOutcome::Record(record) => {
                assert_eq!(
                    (record.id.as_str(), record.title.as_str()),
                    ("src:oai:x:9", "静夜思")
                );
            }
            other => panic!("{other:?}"),
        }
        let unimarc = r#"<record><leader>00000nam0 2200000   450 </leader><datafield tag="200" ind1="1" ind2=" "><subfield code="a">兰亭序</subfield></datafield></record>"#;
        assert!(matches!(
            map_oai_marcxml(unimarc, "src", "lzlib", "oai:x:1"),
            Ok(ItemOutcome::Record(r)) if r.title == "兰亭序"
        ));
        assert!(
            map_oai_marcxml("", "src", "lzlib", "oai:x:1")
                .unwrap_err()
                .contains("no MARCXML")
        );
        let broken = map_oai_marcxml("<record><leader>x</leader></record>", "src", "lzlib", "i").unwrap_err();
        assert!(broken.contains("not 24"), "{broken}");
    }

    #[test]
    fn files_are_sniffed_even_behind_a_byte_order_mark() {
        let options = MarcOptions {
            source_id: "src".into(),
            institution: "lzlib".into(),
            ..MarcOptions::default()
        };
        let xml = format!(
            "\u{FEFF}\n  <collection xmlns:marc=\"http://www.loc.gov/MARC21/slim\">{MARC_RECORD}</collection>"
        );
        let items: Vec<_> = read_marc_file(xml.as_bytes(), &options).collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].local_id, "9");
        assert!(matches!(&items[0].outcome, ItemOutcome::Record(_)));
    }
}
