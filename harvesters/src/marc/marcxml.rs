//! Reading MARCXML (MARC21 slim, and UNIMARC written the same way) record by record.
//!
//! The document is streamed with quick-xml, one `<record>` at a time. Elements are matched
//! by local name when they are in the MARC21 slim namespace, in no namespace, in a namespace
//! whose URI mentions MARC (MARCXchange, UNIMARC slim), or under a prefix declared outside
//! the text being read (a `<metadata>` cut out of an OAI-PMH response): `marc:record` and a
//! default-namespace `record` both work. Entities are never expanded: only XML's five
//! predefined entities and character references are resolved; a DOCTYPE is skipped.
//!
//! A record whose XML is broken is quarantined with the reason and its text, and reading
//! goes on after its closing tag with a fresh reader; bytes that are not UTF-8 quarantine
//! only the records they are in. So is a record nested deeper than
//! [`crate::xml_text::MAX_ELEMENT_DEPTH`] (counted from its `<record>`); a document nested
//! deeper than that outside its records is refused from there on, with one quarantined item
//! saying so.

use std::borrow::Cow;

use quick_xml::{
    NsReader,
    events::{BytesStart, Event},
    name::ResolveResult,
};

use crate::marc::record::{Field, FieldContent, MarcRecord, Subfield, is_control_tag, parse_tag, tag_text};
use crate::xml_text::{check_depth, find_end_tag, resolve_reference, resolve_references};

const MARC21_SLIM: &str = "http://www.loc.gov/MARC21/slim";

/// One `<record>` element: where it is in the text, and what it held or why it is broken.
#[derive(Debug)]
pub(crate) struct XmlRecord {
    /// The record's text (its element, start to end tag).
    pub(crate) raw: String,
    /// The decoded record, or why it could not be read.
    pub(crate) record: Result<MarcRecord, String>,
}

/// The text of a MARCXML document, with the positions of bytes that were not UTF-8.
#[derive(Debug)]
pub(crate) struct XmlText<'a> {
    text: Cow<'a, str>,
    invalid_at: Vec<usize>,
}

impl<'a> XmlText<'a> {
    /// Decodes `bytes` as UTF-8, replacing invalid sequences with U+FFFD and remembering
    /// where, so that only the records containing them are quarantined. A BOM is dropped.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => XmlText {
                text: Cow::Borrowed(text),
                invalid_at: Vec::new(),
            },
            Err(_) => {
                let mut text = String::with_capacity(bytes.len() + 16);
                let mut invalid_at = Vec::new();
                for chunk in bytes.utf8_chunks() {
                    text.push_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        invalid_at.push(text.len());
                        text.push(char::REPLACEMENT_CHARACTER);
                    }
                }
                XmlText {
                    text: Cow::Owned(text),
                    invalid_at,
                }
            }
        }
    }

    /// Text that is already a `str` (an OAI-PMH `<metadata>`).
    pub(crate) fn from_str(text: &'a str) -> Self {
        XmlText {
            text: Cow::Borrowed(text),
            invalid_at: Vec::new(),
        }
    }
}

/// Iterates over the `<record>`s of a MARCXML document.
#[derive(Debug)]
pub(crate) struct XmlRecords<'a> {
    source: XmlText<'a>,
    /// Where the next reader starts.
    position: usize,
    /// Elements open outside records where the next reader starts (each record gets a fresh
    /// reader, so the reader's own count starts again at zero).
    outer_depth: usize,
    done: bool,
}

impl<'a> XmlRecords<'a> {
    pub(crate) fn new(source: XmlText<'a>) -> Self {
        XmlRecords {
            source,
            position: 0,
            outer_depth: 0,
            done: false,
        }
    }
}

/// Whether an element resolved to `resolution` is one of MARCXML's.
fn is_marc_namespace(resolution: &ResolveResult<'_>) -> bool {
    match resolution {
        ResolveResult::Unbound | ResolveResult::Unknown(_) => true,
        ResolveResult::Bound(ns) => {
            let uri: &str = ns.as_ref();
            uri == MARC21_SLIM || uri.to_ascii_lowercase().contains("marc")
        }
    }
}

/// The element of MARCXML being read inside a record.
#[derive(Debug)]
enum Open {
    Leader,
    Control,
    Data,
    Subfield,
    /// Anything else (kept only to match its end tag).
    Other,
}

/// A record being assembled.
#[derive(Debug)]
struct Builder {
    /// Byte offset of the record's `<` in the text.
    start: usize,
    /// The record element's qualified name, to find its end when the XML inside breaks.
    qname: String,
    /// Qualified names of the open elements inside the record, with their kind.
    stack: Vec<(String, Open)>,
    leader: Option<String>,
    fields: Vec<Field>,
    text: String,
    /// The subfield code while a `<subfield>` is open.
    code: Option<char>,
}

impl Builder {
    fn start_child(&mut self, start: &BytesStart<'_>, local: &str, marc: bool) -> Result<Open, String> {
        let depth = self.stack.len();
        let in_data = matches!(self.stack.last(), Some((_, Open::Data)));
        let open = match (marc, depth, local) {
            (true, 0, "leader") => Open::Leader,
            (true, 0, "controlfield") => {
                let tag = required_tag(start, "controlfield")?;
                self.fields.push(Field {
                    tag,
                    content: FieldContent::Control(String::new()),
                });
                Open::Control
            }
            (true, 0, "datafield") => {
                let tag = required_tag(start, "datafield")?;
                if is_control_tag(&tag) {
                    return Err(format!("datafield has a control-field tag {}", tag_text(&tag)));
                }
                let indicator = |name| -> Result<char, String> {
                    Ok(attribute(start, name)?
                        .and_then(|v| v.chars().next())
                        .unwrap_or(' '))
                };
                let indicators = [indicator("ind1")?, indicator("ind2")?];
                self.fields.push(Field {
                    tag,
                    content: FieldContent::Data {
                        indicators,
                        subfields: Vec::new(),
                    },
                });
                Open::Data
            }
            (true, 1, "subfield") if in_data => {
                let code = attribute(start, "code")?
                    .and_then(|c| c.chars().next())
                    .ok_or("subfield without a code")?;
                self.code = Some(code);
                Open::Subfield
            }
            _ => Open::Other,
        };
        self.text.clear();
        Ok(open)
    }

    fn end_child(&mut self, open: &Open) {
        let text = std::mem::take(&mut self.text);
        match open {
            Open::Leader => self.leader = Some(text),
            Open::Control => {
                if let Some(Field {
                    content: FieldContent::Control(data),
                    ..
                }) = self.fields.last_mut()
                {
                    *data = text;
                }
            }
            Open::Subfield => {
                if let (
                    Some(code),
                    Some(Field {
                        content: FieldContent::Data { subfields, .. },
                        ..
                    }),
                ) = (self.code.take(), self.fields.last_mut())
                {
                    subfields.push(Subfield { code, value: text });
                }
            }
            Open::Data | Open::Other => {}
        }
    }

    fn finish(self) -> Result<MarcRecord, String> {
        let leader = self.leader.ok_or("record has no <leader>")?;
        let length = leader.chars().count();
        if length != 24 || !leader.is_ascii() {
            return Err(format!(
                "leader {leader:?} is {length} characters, not 24 ASCII characters"
            ));
        }
        Ok(MarcRecord {
            leader,
            fields: self.fields,
        })
    }
}

fn required_tag(start: &BytesStart<'_>, element: &str) -> Result<crate::marc::record::Tag, String> {
    let text = attribute(start, "tag")?.ok_or_else(|| format!("{element} without a tag"))?;
    parse_tag(&text).ok_or_else(|| format!("{element} has an invalid tag {text:?}"))
}

/// The value of the attribute with local name `name`, references resolved.
fn attribute(start: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        if attr.key.local_name().as_ref() == name {
            return resolve_references(&attr.value).map(Some);
        }
    }
    Ok(None)
}

/// The offset of the next `<record` or `<prefix:record` start tag at or after `from`.
fn find_record_start(text: &str, from: usize) -> Option<usize> {
    let mut search_from = from;
    loop {
        let lt = search_from + text.get(search_from..)?.find('<')?;
        let name_end = text
            .get(lt + 1..)?
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map(|n| lt + 1 + n)?;
        let name = text.get(lt + 1..name_end)?;
        if name == "record" || name.ends_with(":record") {
            return Some(lt);
        }
        search_from = lt + 1;
    }
}

fn reader(text: &str) -> NsReader<&[u8]> {
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    // End tags are checked against our own stack inside records; outside them (after a
    // restart in the middle of a collection) stray end tags are expected.
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    reader
}

impl Iterator for XmlRecords<'_> {
    type Item = XmlRecord;

    fn next(&mut self) -> Option<XmlRecord> {
        if self.done {
            return None;
        }
        let text: &str = &self.source.text;
        let base = self.position;
        let mut reader = reader(text.get(base..)?);
        let mut builder: Option<Builder> = None;
        loop {
            let event_start = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let event = reader.read_event();
            let position = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            let failure: Result<(), String> = match event {
                Err(e) => Err(format!(
                    "malformed XML at byte {}: {e}",
                    base + usize::try_from(reader.error_position()).unwrap_or_default()
                )),
                Ok(Event::Eof) => {
                    self.done = true;
                    let open = builder.take()?;
                    let raw = text.get(open.start..).unwrap_or_default().to_owned();
                    return Some(XmlRecord {
                        raw,
                        record: Err("document ends inside a <record> (truncated)".into()),
                    });
                }
                Ok(Event::Start(ref start)) | Ok(Event::Empty(ref start)) => {
                    let is_empty = matches!(event, Ok(Event::Empty(_)));
                    let (resolution, local) = reader.resolver().resolve_element(start.name());
                    let marc = is_marc_namespace(&resolution);
                    let local = local.as_ref().to_owned();
                    // Inside a record, depth counts from `<record>` (the record is 1, the
                    // new element 2 or deeper); outside, from the document's root.
                    let depth = match builder.as_ref() {
                        Some(open) => open.stack.len() + 2,
                        None => self.outer_depth + 1,
                    };
                    match (builder.as_mut(), check_depth(depth, event_start)) {
                        (None, Err(reason)) => return Some(self.refuse_rest(reason, event_start)),
                        (Some(_), Err(reason)) => Err(reason),
                        (None, Ok(())) if marc && local == "record" => {
                            if is_empty {
                                self.position = position;
                                return Some(XmlRecord {
                                    raw: text.get(event_start..position).unwrap_or_default().to_owned(),
                                    record: Err("empty <record/>".into()),
                                });
                            }
                            builder = Some(Builder {
                                start: event_start,
                                qname: start.name().as_ref().to_owned(),
                                stack: Vec::new(),
                                leader: None,
                                fields: Vec::new(),
                                text: String::new(),
                                code: None,
                            });
                            Ok(())
                        }
                        (None, Ok(())) => {
                            if !is_empty {
                                self.outer_depth += 1;
                            }
                            Ok(())
                        }
                        (Some(open), Ok(())) => match open.start_child(start, &local, marc) {
                            Ok(kind) => {
                                if is_empty {
                                    open.end_child(&kind);
                                } else {
                                    open.stack.push((start.name().as_ref().to_owned(), kind));
                                }
                                Ok(())
                            }
                            Err(e) => Err(e),
                        },
                    }
                }
                Ok(Event::End(ref end)) => match builder.as_mut() {
                    None => {
                        self.outer_depth = self.outer_depth.saturating_sub(1);
                        Ok(())
                    }
                    Some(open) => {
                        let name = end.name().as_ref().to_owned();
                        match open.stack.pop() {
                            Some((qname, kind)) if qname == name => {
                                open.end_child(&kind);
                                Ok(())
                            }
                            Some((qname, _)) => Err(format!("</{name}> closes <{qname}>")),
                            None if name == open.qname => {
                                let done = builder.take()?;
                                self.position = position;
                                let raw = text.get(done.start..position).unwrap_or_default().to_owned();
                                let invalid = self
                                    .source
                                    .invalid_at
                                    .iter()
                                    .any(|&at| (done.start..position).contains(&at));
                                let record = if invalid {
                                    Err("record contains bytes that are not UTF-8".into())
                                } else {
                                    done.finish()
                                };
                                return Some(XmlRecord { raw, record });
                            }
                            None => Err(format!("</{name}> closes <{}>", open.qname)),
                        }
                    }
                },
                Ok(Event::Text(ref t)) => {
                    if let Some(open) = builder.as_mut() {
                        open.text.push_str(&t.xml10_content());
                    }
                    Ok(())
                }
                Ok(Event::CData(ref t)) => {
                    if let Some(open) = builder.as_mut() {
                        open.text.push_str(&t.xml10_content());
                    }
                    Ok(())
                }
                Ok(Event::GeneralRef(ref reference)) => match resolve_reference(reference) {
                    Ok(c) => {
                        if let Some(open) = builder.as_mut() {
                            open.text.push(c);
                        }
                        Ok(())
                    }
                    Err(e) if builder.is_some() => Err(e),
                    // Outside records an unknown entity hides nothing we read.
                    Err(_) => Ok(()),
                },
                Ok(Event::DocType(_)) if builder.is_some() => Err("DOCTYPE inside a record".into()),
                Ok(_) => Ok(()),
            };
            if let Err(reason) = failure {
                // Never resume at or before the event that failed, or the same error would
                // come back forever.
                let error_at = position.max(event_start + 1);
                return Some(self.recover(builder.take(), reason, error_at));
            }
        }
    }
}

impl XmlRecords<'_> {
    /// After broken XML: quarantine the record it is in (up to its end tag) and continue
    /// after it, or, outside a record, report the break and continue at the next record.
    fn recover(&mut self, open: Option<Builder>, reason: String, error_at: usize) -> XmlRecord {
        let text: &str = &self.source.text;
        match open {
            Some(open) => match find_end_tag(text, error_at, &open.qname) {
                Some(end) => {
                    self.position = end;
                    XmlRecord {
                        raw: text.get(open.start..end).unwrap_or_default().to_owned(),
                        record: Err(reason),
                    }
                }
                None => {
                    self.done = true;
                    XmlRecord {
                        raw: text.get(open.start..).unwrap_or_default().to_owned(),
                        record: Err(format!("{reason}; the record never ends")),
                    }
                }
            },
            None => {
                let resume = find_record_start(text, error_at).filter(|&at| at > self.position);
                let end = resume.unwrap_or(text.len());
                match resume {
                    Some(at) => self.position = at,
                    None => self.done = true,
                }
                XmlRecord {
                    raw: excerpt(text, error_at, end),
                    record: Err(format!("{reason} (outside any record)")),
                }
            }
        }
    }

    /// After nesting too deep outside any record: report it and read no further. Records
    /// inside such a document cannot be trusted to be where they seem, and skipping ahead
    /// would only meet the same nesting again.
    fn refuse_rest(&mut self, reason: String, at: usize) -> XmlRecord {
        self.done = true;
        let text: &str = &self.source.text;
        XmlRecord {
            raw: excerpt(text, at, text.len()),
            record: Err(format!("{reason} (outside any record)")),
        }
    }
}

/// The text around `at` (from a little before it, up to `end` but no more than 2,000
/// bytes), to show in a report about something outside any record.
fn excerpt(text: &str, at: usize, end: usize) -> String {
    let from = floor_char_boundary(text, at.saturating_sub(200));
    text.get(from..end.min(from + 2000).max(from))
        .map(str::to_owned)
        .unwrap_or_default()
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Vec<XmlRecord> {
        XmlRecords::new(XmlText::new(xml.as_bytes())).collect()
    }

    const GOOD: &str = r#"<record><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">R1</controlfield><datafield tag="245" ind1="1" ind2="0"><subfield code="a">静夜思 &amp; &#x4E2D;</subfield></datafield></record>"#;

    #[test]
    fn prefixed_and_default_namespaces_are_read() {
        let prefixed = r#"<?xml version="1.0"?><marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim"><marc:record><marc:leader>00000nam a2200000 i 4500</marc:leader><marc:datafield tag="245" ind1="1" ind2="0"><marc:subfield code="a">A</marc:subfield></marc:datafield></marc:record></marc:collection>"#;
        let records = read(prefixed);
        assert_eq!(records.len(), 1);
        let record = records[0].record.as_ref().unwrap();
        assert_eq!(record.fields[0].first('a'), Some("A"));

        let default =
            format!(r#"<collection xmlns="http://www.loc.gov/MARC21/slim">{GOOD}{GOOD}</collection>"#);
        let records = read(&default);
        assert_eq!(records.len(), 2);
        let record = records[1].record.as_ref().unwrap();
        assert_eq!(record.control_number(), Some("R1"));
        assert_eq!(record.fields[1].first('a'), Some("静夜思 & 中"));
        assert_eq!(record.fields[1].indicator(0), '1');
    }

    #[test]
    fn elements_of_other_namespaces_are_not_marc() {
        let xml = format!(r#"<x:record xmlns:x="urn:other"><x:leader>y</x:leader>{GOOD}</x:record>"#);
        let records = read(&xml);
        assert_eq!(records.len(), 1);
        assert!(records[0].record.is_ok());
    }

    #[test]
    fn broken_records_are_quarantined_and_reading_goes_on() {
        let broken = r#"<record><leader>00000nam a2200000 i 4500</leader><datafield tag="245"><subfield code="a">x</datafield></subfield></record>"#;
        let entity = r#"<record><leader>00000nam a2200000 i 4500</leader><controlfield tag="001">&xxe;</controlfield></record>"#;
        let xml = format!("<collection>{GOOD}{broken}{entity}{GOOD}<record><leader>");
        let records = read(&xml);
        let outcomes: Vec<_> = records.iter().map(|r| r.record.as_ref().err().cloned()).collect();
        assert_eq!(records.len(), 5, "{outcomes:?}");
        assert!(outcomes[0].is_none() && outcomes[3].is_none(), "{outcomes:?}");
        assert!(outcomes[1].as_deref().unwrap().contains("closes"), "{outcomes:?}");
        assert!(
            outcomes[2].as_deref().unwrap().contains("undefined entity &xxe;"),
            "{outcomes:?}"
        );
        assert!(
            outcomes[4].as_deref().unwrap().contains("truncated"),
            "{outcomes:?}"
        );
        assert_eq!(records[1].raw, broken);
    }

    #[test]
    fn invalid_utf8_quarantines_only_its_record() {
        let mut bytes = format!("<collection>{GOOD}").into_bytes();
        bytes.extend_from_slice(b"<record><leader>00000nam a2200000 i 4500</leader><controlfield tag=\"001\">\xff</controlfield></record>");
        bytes.extend_from_slice(format!("{GOOD}</collection>").as_bytes());
        let records: Vec<_> = XmlRecords::new(XmlText::new(&bytes)).collect();
        assert_eq!(records.len(), 3);
        assert!(records[0].record.is_ok() && records[2].record.is_ok());
        assert!(records[1].record.as_ref().unwrap_err().contains("not UTF-8"));
    }
}
