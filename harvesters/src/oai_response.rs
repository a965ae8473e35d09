//! Reading OAI-PMH responses: the `Identify` answer and `ListRecords` pages.
//!
//! A `ListRecords` page is read in two layers, so that one broken record costs only itself:
//!
//! 1. The **envelope** (`OAI-PMH`, `responseDate`, `error`, `ListRecords`, `resumptionToken`)
//!    is read leniently: end tags close the nearest open element of the same name, stray end
//!    tags are ignored, and each `<record>` is only delimited, its byte span noted. If the XML
//!    inside a record is so broken that the reader fails, reading resumes after that record's
//!    closing tag with a fresh reader.
//! 2. Each **record span** is then parsed strictly on its own (well-formedness, entities,
//!    UTF-8) and mapped. Any failure turns that record into
//!    [`ItemOutcome::Quarantined`] with its raw text; the page goes on.
//!
//! Entities are never expanded: a `<!DOCTYPE>` is skipped, only XML's five predefined
//! entities and character references are resolved, and anything else is an error (for a
//! record, a quarantine reason).
//!
//! Both layers refuse nesting deeper than [`crate::xml_text::MAX_ELEMENT_DEPTH`] as they
//! read: too deep inside a record quarantines that record (both layers count from the
//! `<record>` element, so they agree); too deep in the envelope makes the page unreadable.

use quick_xml::{
    Reader,
    events::{BytesRef, BytesStart, Event},
};
use schemas::oai::ErrorCode;

use crate::xml_text::{
    check_depth, find_end_tag, read_splitting_event, resolve_reference, resolve_references,
};
use crate::{
    Granularity, HarvestedItem, Identify, ItemOutcome, Page,
    oai_dc::{DcFields, map_oai_dc},
};

/// Why a response could not be turned into a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResponseError {
    /// The repository answered with an OAI-PMH `<error>`.
    Oai { code: String, message: String },
    /// The response is not a readable OAI-PMH document.
    Unreadable(String),
}

/// What a record needs to become a [`schemas::Record`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct MappingContext<'a> {
    pub(crate) source_id: &'a str,
    pub(crate) institution: &'a str,
}

/// The page as text, plus where (in the text) bytes that were not UTF-8 were replaced.
struct DecodedPage {
    text: String,
    invalid_at: Vec<usize>,
}

/// Decodes the body as UTF-8 (which OAI-PMH requires), replacing invalid sequences with
/// U+FFFD and remembering where, so that only the records containing them are quarantined.
fn decode_page(body: &[u8]) -> DecodedPage {
    // The reader would skip a byte order mark itself, but then its positions would no longer
    // be offsets into our text, and record spans are cut by those positions.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut text = String::with_capacity(body.len());
    let mut invalid_at = Vec::new();
    for chunk in body.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            invalid_at.push(text.len());
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    DecodedPage { text, invalid_at }
}

fn local_name(qname: &str) -> &str {
    match qname.rfind(':') {
        Some(colon) => qname.get(colon + 1..).unwrap_or(qname),
        None => qname,
    }
}

fn local_name_of(start: &BytesStart<'_>) -> String {
    local_name(start.name().as_ref()).to_owned()
}

/// The value of the attribute with local name `name`, entity references resolved.
fn attribute(start: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("bad attribute: {e}"))?;
        if local_name(attr.key.as_ref()) == name {
            return resolve_references(&attr.value).map(Some);
        }
    }
    Ok(None)
}

fn append_reference(buffer: &mut String, reference: &BytesRef<'_>) -> Result<(), String> {
    buffer.push(resolve_reference(reference)?);
    Ok(())
}

/// Reads the answer to `Identify`.
pub(crate) fn parse_identify(body: &[u8]) -> Result<Identify, ResponseError> {
    let page = decode_page(body);
    if !page.invalid_at.is_empty() {
        return Err(ResponseError::Unreadable("Identify response is not UTF-8".into()));
    }
    let mut reader = Reader::from_str(&page.text);
    let mut stack: Vec<String> = Vec::new();
    let mut buffer = String::new();
    let mut error_code: Option<String> = None;
    let mut error: Option<(String, String)> = None;
    let (mut name, mut granularity, mut earliest, mut deleted) = (None, None, None, None);
    loop {
        let unreadable = |e: String| ResponseError::Unreadable(e);
        let at = reader.buffer_position() as usize;
        let event = reader.read_event();
        if let Ok(Event::Start(_) | Event::Empty(_)) = event {
            check_depth(stack.len() + 1, at).map_err(unreadable)?;
        }
        match event {
            Err(e) => return Err(unreadable(format!("malformed XML: {e}"))),
            Ok(Event::Start(start)) => {
                let local = local_name_of(&start);
                if stack.is_empty() && local != "OAI-PMH" {
                    return Err(unreadable(format!("root element is <{local}>, not <OAI-PMH>")));
                }
                if stack.len() == 1 && local == "error" {
                    error_code = attribute(&start, "code").map_err(unreadable)?;
                }
                stack.push(local);
                buffer.clear();
            }
            Ok(Event::Empty(start)) => {
                if stack.len() == 1 && local_name_of(&start) == "error" && error.is_none() {
                    let code = attribute(&start, "code").map_err(unreadable)?;
                    error = Some((code.unwrap_or_default(), String::new()));
                }
            }
            Ok(Event::Text(text)) => buffer.push_str(&text.xml10_content()),
            Ok(Event::CData(text)) => buffer.push_str(&text.xml10_content()),
            Ok(Event::GeneralRef(reference)) => {
                append_reference(&mut buffer, &reference).map_err(unreadable)?;
            }
            Ok(Event::End(_)) => {
                let value = buffer.trim().to_owned();
                match (stack.len(), stack.get(1).map(String::as_str), stack.last()) {
                    (2, Some("error"), _) if error.is_none() => {
                        error = Some((error_code.take().unwrap_or_default(), value));
                    }
                    (3, Some("Identify"), Some(leaf)) => match leaf.as_str() {
                        "repositoryName" => name = Some(value),
                        "granularity" => granularity = Some(value),
                        "earliestDatestamp" => earliest = Some(value),
                        "deletedRecord" => deleted = Some(value),
                        _ => {}
                    },
                    _ => {}
                }
                stack.pop();
                buffer.clear();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
        }
    }
    if let Some((code, message)) = error {
        return Err(ResponseError::Oai { code, message });
    }
    let missing = |what: &str| ResponseError::Unreadable(format!("Identify has no {what}"));
    let granularity = granularity.ok_or_else(|| missing("granularity"))?;
    let granularity = Granularity::from_name(&granularity)
        .ok_or_else(|| ResponseError::Unreadable(format!("unknown granularity {granularity:?}")))?;
    Ok(Identify {
        repository_name: name.ok_or_else(|| missing("repositoryName"))?,
        granularity,
        earliest_datestamp: earliest.ok_or_else(|| missing("earliestDatestamp"))?,
        deleted_record: deleted.ok_or_else(|| missing("deletedRecord"))?,
    })
}

/// Which envelope text is being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnvelopeText {
    ResponseDate,
    Error,
    ResumptionToken,
}

/// A `<record>` whose end has not been seen yet.
struct OpenRecord {
    /// Byte offset of its `<` in the page text.
    start: usize,
    /// Its qualified name, to find its end tag when the XML inside it is broken.
    qname: String,
    /// Envelope depth outside it.
    depth: usize,
}

/// The envelope's own texts, as they are completed.
#[derive(Default)]
struct EnvelopeFields {
    response_date: String,
    /// The first `<error>`: code and message.
    error: Option<(String, String)>,
    token: Option<TokenInfo>,
    /// Code and token attributes seen on the element being collected.
    pending_error_code: Option<String>,
    pending_token: TokenInfo,
}

impl EnvelopeFields {
    fn finish(&mut self, kind: EnvelopeText, value: String) {
        match kind {
            EnvelopeText::ResponseDate => self.response_date = value.trim().to_owned(),
            EnvelopeText::Error => {
                let code = self.pending_error_code.take().unwrap_or_default();
                // The first error is the one reported; repositories may list several.
                if self.error.is_none() {
                    self.error = Some((code, value.trim().to_owned()));
                }
            }
            EnvelopeText::ResumptionToken => {
                let mut info = std::mem::take(&mut self.pending_token);
                info.token = value.trim().to_owned();
                self.token = Some(info);
            }
        }
    }
}

#[derive(Default)]
struct TokenInfo {
    token: String,
    complete_list_size: Option<u64>,
    cursor: Option<u64>,
}

fn envelope_reader(text: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    reader
}

/// Reads one `ListRecords` page; records are mapped with `context`.
pub(crate) fn parse_list_records(body: &[u8], context: MappingContext<'_>) -> Result<Page, ResponseError> {
    let page = decode_page(body);
    let text = page.text.as_str();
    let unreadable = |m: String| ResponseError::Unreadable(m);

    let mut items = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut record: Option<OpenRecord> = None;
    // The envelope text being collected, and the depth of its element.
    let mut collecting: Option<(EnvelopeText, usize, String)> = None;
    let mut envelope = EnvelopeFields::default();
    let mut saw_list = false;
    let mut saw_root = false;

    // Where the current reader starts in `text`: readers are replaced after a broken record.
    let mut base = 0usize;
    let mut reader = envelope_reader(text);
    loop {
        let event = read_splitting_event(&mut reader, base, stack.len(), record.as_ref().map(|r| r.depth));
        let (event_start, event) = match event {
            Ok(event) => event,
            Err((at, reason)) => {
                let Some(open) = record.take() else {
                    return Err(unreadable(reason));
                };
                // Skip to the end of the broken record and go on with a fresh reader. The
                // strict pass finds the same fault in the record's text and reports it.
                let Some(end) = find_end_tag(text, at, &open.qname) else {
                    return Err(unreadable(format!("{reason}, in a record that never ends")));
                };
                let span = text.get(open.start..end).unwrap_or_default();
                items.push(record_item(span, context, spans_invalid(&page, open.start, end)));
                stack.truncate(open.depth);
                base = end;
                reader = envelope_reader(text.get(end..).unwrap_or_default());
                continue;
            }
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                let local = local_name_of(start);
                let mut starts_text = None;
                if record.is_none() {
                    if stack.is_empty() {
                        if local != "OAI-PMH" || saw_root {
                            return Err(unreadable(format!(
                                "not an OAI-PMH response (root element <{local}>)"
                            )));
                        }
                        saw_root = true;
                    }
                    let parent = stack.last().map(String::as_str);
                    match (stack.len(), parent, local.as_str()) {
                        (1, _, "responseDate") => starts_text = Some(EnvelopeText::ResponseDate),
                        (1, _, "error") => {
                            envelope.pending_error_code = attribute(start, "code").map_err(unreadable)?;
                            starts_text = Some(EnvelopeText::Error);
                        }
                        (1, _, "ListRecords") => saw_list = true,
                        (2, Some("ListRecords"), "record") => {
                            record = Some(OpenRecord {
                                start: event_start,
                                qname: start.name().as_ref().to_owned(),
                                depth: stack.len(),
                            });
                        }
                        (2, Some("ListRecords"), "resumptionToken") => {
                            envelope.pending_token = TokenInfo {
                                token: String::new(),
                                complete_list_size: number_attribute(start, "completeListSize")?,
                                cursor: number_attribute(start, "cursor")?,
                            };
                            starts_text = Some(EnvelopeText::ResumptionToken);
                        }
                        _ => {}
                    }
                }
                if is_empty {
                    // An empty element opens and closes at once.
                    if let Some(kind) = starts_text {
                        envelope.finish(kind, String::new());
                    }
                    if let Some(open) = record.take_if(|r| r.depth == stack.len()) {
                        let end = base + reader.buffer_position() as usize;
                        let span = text.get(open.start..end).unwrap_or_default();
                        let invalid = spans_invalid(&page, open.start, end);
                        items.push(record_item(span, context, invalid));
                    }
                } else {
                    if let Some(kind) = starts_text {
                        collecting = Some((kind, stack.len(), String::new()));
                    }
                    stack.push(local);
                }
            }
            Event::End(end_tag) => {
                let local = local_name(end_tag.name().as_ref()).to_owned();
                // Close the nearest open element of that name; ignore a stray end tag. Inside
                // a record, only the record's own elements can be closed.
                let floor = record.as_ref().map_or(0, |r| r.depth);
                let Some(position) = stack.iter().rposition(|open| *open == local) else {
                    continue;
                };
                if position < floor {
                    continue;
                }
                stack.truncate(position);
                if let Some(open) = record.take_if(|r| stack.len() <= r.depth) {
                    let end = base + reader.buffer_position() as usize;
                    let span = text.get(open.start..end).unwrap_or_default();
                    let invalid = spans_invalid(&page, open.start, end);
                    items.push(record_item(span, context, invalid));
                }
                if let Some((kind, _, value)) = collecting.take_if(|(_, depth, _)| stack.len() <= *depth) {
                    envelope.finish(kind, value);
                }
            }
            Event::Text(ref t) if record.is_none() => {
                if let Some((_, _, value)) = collecting.as_mut() {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::CData(ref t) if record.is_none() => {
                if let Some((_, _, value)) = collecting.as_mut() {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(ref reference) if record.is_none() => {
                if let Some((_, _, value)) = collecting.as_mut() {
                    append_reference(value, reference).map_err(unreadable)?;
                }
            }
            Event::Eof => break,
            // DOCTYPE (never expanded), comments, PIs, and everything inside records, which
            // the strict per-record pass reads.
            _ => {}
        }
    }

    let EnvelopeFields {
        response_date,
        error,
        token,
        ..
    } = envelope;
    if let Some((code, message)) = error {
        if ErrorCode::from_name(&code) == Some(ErrorCode::NoRecordsMatch) {
            return Ok(Page {
                response_date,
                items: Vec::new(),
                next_token: None,
                complete_list_size: Some(0),
                cursor: None,
            });
        }
        return Err(ResponseError::Oai { code, message });
    }
    if !saw_root {
        return Err(unreadable("empty response, no <OAI-PMH> element".into()));
    }
    if !saw_list {
        return Err(unreadable(
            "response has neither <ListRecords> nor <error>".into(),
        ));
    }
    if record.is_some() {
        return Err(unreadable("response ends inside a <record>".into()));
    }
    // A page cut off before its end is trusted only if it already said how the list goes on.
    if !stack.is_empty() && token.is_none() {
        return Err(unreadable(format!(
            "response is truncated (still inside <{}>)",
            stack.join("><")
        )));
    }
    let token = token.unwrap_or_default();
    Ok(Page {
        response_date,
        items,
        next_token: (!token.token.is_empty()).then_some(token.token),
        complete_list_size: token.complete_list_size,
        cursor: token.cursor,
    })
}

fn number_attribute(start: &BytesStart<'_>, name: &str) -> Result<Option<u64>, ResponseError> {
    match attribute(start, name).map_err(ResponseError::Unreadable)? {
        None => Ok(None),
        Some(value) => value.trim().parse().map(Some).map_err(|_| {
            ResponseError::Unreadable(format!("resumptionToken {name}={value:?} is not a number"))
        }),
    }
}

fn spans_invalid(page: &DecodedPage, start: usize, end: usize) -> bool {
    page.invalid_at.iter().any(|&at| (start..end).contains(&at))
}

/// What the strict pass found in one record, however far it got.
#[derive(Debug, Default)]
struct RecordParts {
    identifier: Option<String>,
    datestamp: Option<String>,
    sets: Vec<String>,
    deleted: bool,
    /// Local name of the element inside `<metadata>`, if any.
    metadata_format: Option<String>,
    /// Byte range of the content of `<metadata>` in the record span (MARCXML is mapped
    /// from its own text).
    metadata_span: Option<(usize, usize)>,
    dc: DcFields,
}

/// Which text of a record is being collected.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RecordText {
    Identifier,
    Datestamp,
    SetSpec,
    Dc(String),
}

/// Parses one record span strictly, filling `parts` as it goes so that even a broken
/// record can be reported under its identifier.
fn parse_record(span: &str, parts: &mut RecordParts) -> Result<(), String> {
    let mut reader = Reader::from_str(span);
    let mut stack: Vec<String> = Vec::new();
    let mut collecting: Option<(RecordText, usize, String)> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                check_depth(stack.len() + 1, before)?;
                let local = local_name_of(start);
                let path: Vec<&str> = stack.iter().map(String::as_str).collect();
                match (path.as_slice(), local.as_str()) {
                    ([], "record") => {}
                    ([], other) => return Err(format!("expected <record>, found <{other}>")),
                    (["record"], "header") => {
                        let status = attribute(start, "status")?;
                        parts.deleted = status.as_deref().map(str::trim) == Some("deleted");
                    }
                    (["record", "header"], leaf) => {
                        let kind = match leaf {
                            "identifier" => Some(RecordText::Identifier),
                            "datestamp" => Some(RecordText::Datestamp),
                            "setSpec" => Some(RecordText::SetSpec),
                            _ => None,
                        };
                        collecting = kind.map(|k| (k, stack.len(), String::new()));
                    }
                    (["record"], "metadata") => {
                        let start = reader.buffer_position() as usize;
                        parts.metadata_span = Some((start, start));
                    }
                    (["record", "metadata"], format) if parts.metadata_format.is_none() => {
                        parts.metadata_format = Some(format.to_owned());
                    }
                    (["record", "metadata", "dc"], element)
                        if parts.metadata_format.as_deref() == Some("dc") =>
                    {
                        let kind = RecordText::Dc(element.to_owned());
                        collecting = Some((kind, stack.len(), String::new()));
                    }
                    _ => {}
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(local);
                } else if let Some((kind, depth, value)) = collecting.take() {
                    if depth == stack.len() {
                        store_record_text(parts, kind, value);
                    } else {
                        collecting = Some((kind, depth, value));
                    }
                }
            }
            Event::End(_) => {
                if stack.len() == 2
                    && stack.last().map(String::as_str) == Some("metadata")
                    && let Some((start, _)) = parts.metadata_span
                {
                    parts.metadata_span = Some((start, before));
                }
                stack.pop();
                if let Some((kind, depth, value)) = collecting.take() {
                    if depth == stack.len() {
                        store_record_text(parts, kind, value);
                    } else {
                        collecting = Some((kind, depth, value));
                    }
                }
            }
            Event::Text(ref t) => {
                if let Some((_, _, value)) = collecting.as_mut() {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::CData(ref t) => {
                if let Some((_, _, value)) = collecting.as_mut() {
                    value.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(ref reference) => {
                // Resolve every reference, collected or not: an undefined entity anywhere
                // means the record is not well-formed XML.
                let c = resolve_reference(reference)?;
                if let Some((_, _, value)) = collecting.as_mut() {
                    value.push(c);
                }
            }
            Event::DocType(_) => return Err("DOCTYPE inside a record".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("element <{open}> is never closed"));
    }
    Ok(())
}

fn store_record_text(parts: &mut RecordParts, kind: RecordText, value: String) {
    match kind {
        RecordText::Identifier => parts.identifier = Some(value.trim().to_owned()),
        RecordText::Datestamp => parts.datestamp = Some(value.trim().to_owned()),
        RecordText::SetSpec => {
            let set = value.trim();
            if !set.is_empty() {
                parts.sets.push(set.to_owned());
            }
        }
        RecordText::Dc(element) => parts.dc.push(&element, value),
    }
}

/// Turns one record span into an item: mapped, deleted or quarantined.
fn record_item(span: &str, context: MappingContext<'_>, invalid_utf8: bool) -> HarvestedItem {
    let mut parts = RecordParts::default();
    let parsed = parse_record(span, &mut parts);
    let local_id = parts.identifier.clone().unwrap_or_default();
    let outcome = match outcome(&parts, parsed, invalid_utf8, context, span) {
        Ok(outcome) => outcome,
        Err(reason) => ItemOutcome::Quarantined { reason },
    };
    HarvestedItem {
        local_id,
        datestamp: parts.datestamp.unwrap_or_default(),
        sets: parts.sets,
        raw: span.to_owned(),
        outcome,
    }
}

fn outcome(
    parts: &RecordParts,
    parsed: Result<(), String>,
    invalid_utf8: bool,
    context: MappingContext<'_>,
    span: &str,
) -> Result<ItemOutcome, String> {
    if invalid_utf8 {
        return Err("record contains bytes that are not UTF-8".into());
    }
    parsed?;
    let identifier = parts
        .identifier
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or("record header has no identifier")?;
    if parts.datestamp.as_deref().is_none_or(str::is_empty) {
        return Err("record header has no datestamp".into());
    }
    if parts.deleted {
        return Ok(ItemOutcome::Deleted);
    }
    match parts.metadata_format.as_deref() {
        None => Err("record has no metadata and is not marked deleted".into()),
        Some("dc") => map_oai_dc(&parts.dc, context.source_id, context.institution, identifier)
            .map(|record| ItemOutcome::Record(Box::new(record))),
        Some("jincheng") => crate::native::map_jincheng(span, context.source_id, identifier)
            .map(|record| ItemOutcome::Record(Box::new(record))),
        Some("record") => {
            let (start, end) = parts.metadata_span.unwrap_or_default();
            let metadata = span.get(start..end).unwrap_or_default();
            crate::marc::map_oai_marcxml(metadata, context.source_id, context.institution, identifier)
        }
        Some(other) => Err(format!("metadata is <{other}>, not oai_dc")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker_stack::{HOSTILE_DEPTHS, nested, on_worker_stack};

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    const CONTEXT: MappingContext<'static> = MappingContext {
        source_id: "peer",
        institution: "lzlib",
    };

    fn page(name: &str) -> Page {
        parse_list_records(&fixture(name), CONTEXT).unwrap()
    }

    fn record(item: &HarvestedItem) -> &schemas::Record {
        match &item.outcome {
            ItemOutcome::Record(record) => record,
            other => panic!("{}: expected a record, got {other:?}", item.local_id),
        }
    }

    fn quarantine_reason(item: &HarvestedItem) -> &str {
        match &item.outcome {
            ItemOutcome::Quarantined { reason } => reason,
            other => panic!("{}: expected quarantine, got {other:?}", item.local_id),
        }
    }

    #[test]
    fn a_normal_page_maps_every_record() {
        let page = page("list_records_page1.xml");
        assert_eq!(page.response_date, "2026-01-05T08:00:00Z");
        assert_eq!(page.items.len(), 3);
        let first = &page.items[0];
        assert_eq!(first.local_id, "oai:peer.example.org:000095");
        assert_eq!(first.datestamp, "2020-01-30T06:14:36Z");
        assert_eq!(first.sets, ["pku", "type:book"]);
        assert!(first.raw.starts_with("<record>") && first.raw.ends_with("</record>"));
        assert!(first.raw.contains("大同辽金绘画研究"));
        let r = record(first);
        assert_eq!(r.id, "peer:oai:peer.example.org:000095");
        assert_eq!(r.institution, "lzlib");
        assert_eq!(r.title, "大同辽金绘画研究");
        assert_eq!(r.classifications, ["J212.05"]);
        assert_eq!(r.subjects, ["中国画-考证-中国-辽金", "大同-地方史"]);
        assert_eq!(r.year(), Some(1977));
        // Entities and character references in text are resolved.
        let second = record(&page.items[1]);
        assert_eq!(second.title, "开封 & 洛阳：以开封为中心");
        assert_eq!(second.isbns, ["9787558064401"]);
        assert_eq!(page.items[2].outcome, ItemOutcome::Deleted);
        assert_eq!(page.items[2].sets, ["shl", "type:book"]);
        assert_eq!(
            page.next_token.as_deref(),
            Some("metadataPrefix%3Doai_dc%26cursor%3D50")
        );
        assert_eq!(page.complete_list_size, Some(120));
        assert_eq!(page.cursor, Some(0));
    }

    #[test]
    fn an_empty_final_token_ends_the_list() {
        let page = page("list_records_last.xml");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_token, None);
        assert_eq!(page.complete_list_size, Some(120));
        assert_eq!(page.cursor, Some(100));
    }

    #[test]
    fn a_page_without_token_is_complete() {
        let page = page("list_records_single.xml");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.next_token, None);
        assert_eq!(page.complete_list_size, None);
    }

    #[test]
    fn oai_errors_are_errors_except_no_records_match() {
        let err = parse_list_records(&fixture("error_bad_resumption_token.xml"), CONTEXT);
        assert_eq!(
            err.unwrap_err(),
            ResponseError::Oai {
                code: "badResumptionToken".into(),
                message: "Unable to decode resumption token: xx".into()
            }
        );
        let page = page("error_no_records_match.xml");
        assert!(page.items.is_empty());
        assert_eq!(page.next_token, None);
    }

    #[test]
    fn a_broken_record_costs_only_itself() {
        let page = page("list_records_broken.xml");
        let ids: Vec<&str> = page.items.iter().map(|i| i.local_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "oai:x:good-1",
                "oai:x:mismatched",
                "oai:x:good-2",
                "oai:x:bad-entity",
                "oai:x:unclosed-comment",
                "oai:x:good-3",
                "",
                "oai:x:no-title",
                "oai:x:title-too-long",
                "oai:x:good-4",
            ]
        );
        for i in [0, 2, 5, 9] {
            assert!(record(&page.items[i]).title.starts_with("好记录"));
        }
        assert!(quarantine_reason(&page.items[1]).contains("malformed XML"));
        assert!(page.items[1].raw.contains("</dc:titel>"));
        assert!(quarantine_reason(&page.items[3]).contains("undefined entity &nbsp;"));
        assert!(quarantine_reason(&page.items[4]).contains("malformed XML"));
        assert!(quarantine_reason(&page.items[6]).contains("no identifier"));
        assert!(quarantine_reason(&page.items[7]).contains("no dc:title"));
        // A record the model refuses keeps the validation message.
        assert!(quarantine_reason(&page.items[8]).contains("title has 2001 characters"));
        assert_eq!(page.next_token.as_deref(), Some("next-page"));
    }

    #[test]
    fn invalid_utf8_quarantines_only_its_record() {
        let mut body = fixture("list_records_single.xml");
        let good = body.clone();
        let at = body.windows(3).position(|w| w == "大".as_bytes()).unwrap();
        body[at] = 0xff;
        let page = parse_list_records(&body, CONTEXT).unwrap();
        assert!(quarantine_reason(&page.items[0]).contains("UTF-8"));
        let page = parse_list_records(&good, CONTEXT).unwrap();
        assert!(matches!(page.items[0].outcome, ItemOutcome::Record(_)));
    }

    #[test]
    fn hostile_pages_expand_nothing() {
        let body = String::from_utf8(fixture("list_records_hostile.xml"))
            .unwrap()
            .replace("@@HUGE_TEXT@@", &"a".repeat(200_000));
        let page = parse_list_records(body.as_bytes(), CONTEXT).unwrap();
        assert_eq!(page.items.len(), 3);
        assert!(quarantine_reason(&page.items[0]).contains("undefined entity &xxe;"));
        assert!(quarantine_reason(&page.items[1]).contains("undefined entity &lol9;"));
        // A 200 000-character description is refused by validation, not truncated silently.
        assert!(quarantine_reason(&page.items[2]).contains("description has 200000"));
        assert!(page.items[2].raw.len() > 200_000);
    }

    #[test]
    fn unreadable_envelopes_are_errors() {
        let truncated = fixture("list_records_truncated.xml");
        let err = parse_list_records(&truncated, CONTEXT).unwrap_err();
        assert!(
            matches!(err, ResponseError::Unreadable(ref m) if m.contains("record")),
            "{err:?}"
        );
        // Cut right after a complete record, before any resumptionToken.
        let page1 = fixture("list_records_page1.xml");
        let text = std::str::from_utf8(&page1).unwrap();
        let cut = text.find("</record>").unwrap() + "</record>".len();
        let err = parse_list_records(&page1[..cut], CONTEXT).unwrap_err();
        assert!(
            matches!(err, ResponseError::Unreadable(ref m) if m.contains("truncated")),
            "{err:?}"
        );
        // Cut after the token: the page said how the list goes on, so it is usable.
        let cut = text.find("</resumptionToken>").unwrap() + "</resumptionToken>".len();
        let page = parse_list_records(&page1[..cut], CONTEXT).unwrap();
        assert_eq!(page.items.len(), 3);
        for body in [
            &b"<html><body>Oops</body></html>"[..],
            b"",
            b"not xml at all",
            b"<OAI-PMH><responseDate>x</responseDate></OAI-PMH>",
        ] {
            let err = parse_list_records(body, CONTEXT).unwrap_err();
            assert!(matches!(err, ResponseError::Unreadable(_)), "{err:?}");
        }
    }

    #[test]
    fn a_bom_and_prefixed_oai_elements_are_fine() {
        let body = "\u{FEFF}<?xml version=\"1.0\"?>\
            <oai:OAI-PMH xmlns:oai=\"http://www.openarchives.org/OAI/2.0/\">\
            <oai:responseDate>2026-01-01T00:00:00Z</oai:responseDate><oai:ListRecords>\
            <oai:record><oai:header><oai:identifier>oai:x:1</oai:identifier>\
            <oai:datestamp>2024-01-01</oai:datestamp></oai:header><oai:metadata>\
            <oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" \
            xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>白塔山</dc:title>\
            </oai_dc:dc></oai:metadata></oai:record>\
            <oai:resumptionToken cursor=\"0\">t2</oai:resumptionToken>\
            </oai:ListRecords></oai:OAI-PMH>";
        let page = parse_list_records(body.as_bytes(), CONTEXT).unwrap();
        assert_eq!(page.response_date, "2026-01-01T00:00:00Z");
        assert_eq!(record(&page.items[0]).title, "白塔山");
        assert_eq!(page.next_token.as_deref(), Some("t2"));
    }

    #[test]
    fn identify_is_read() {
        let identify = parse_identify(&fixture("identify.xml")).unwrap();
        assert_eq!(identify.repository_name, "测试文化遗产元数据库 (pyoai test peer)");
        assert_eq!(identify.granularity, Granularity::Seconds);
        assert_eq!(identify.earliest_datestamp, "2020-01-30T06:14:36Z");
        assert_eq!(identify.deleted_record, "persistent");
        let day = String::from_utf8(fixture("identify.xml"))
            .unwrap()
            .replace("YYYY-MM-DDThh:mm:ssZ", "YYYY-MM-DD");
        assert_eq!(
            parse_identify(day.as_bytes()).unwrap().granularity,
            Granularity::Day
        );
    }

    /// What every depth refusal says.
    const TOO_DEEP: &str = "XML nested deeper than 256 elements";

    fn oai_record(id: &str, metadata: &str) -> String {
        format!(
            "<record><header><identifier>{id}</identifier><datestamp>2024-01-01</datestamp></header>\
             <metadata>{metadata}</metadata></record>"
        )
    }

    fn list_records(records: &str) -> String {
        format!(
            "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\"><responseDate>2026-01-01T00:00:00Z</responseDate>\
             <ListRecords>{records}<resumptionToken>t2</resumptionToken></ListRecords></OAI-PMH>"
        )
    }

    /// Metadata of one format, given its title and more content.
    type MetadataOf = fn(&str, &str) -> String;

    fn oai_dc(title: &str, inner: &str) -> String {
        format!(
            "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" \
             xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{title}</dc:title>{inner}</oai_dc:dc>"
        )
    }

    fn marcxml(title: &str, inner: &str) -> String {
        format!(
            "<marc:record xmlns:marc=\"http://www.loc.gov/MARC21/slim\"><marc:leader>00000nam a2200000 i 4500</marc:leader>\
             <marc:datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><marc:subfield code=\"a\">{title}</marc:subfield>\
             </marc:datafield>{inner}</marc:record>"
        )
    }

    fn jincheng(title: &str, inner: &str) -> String {
        format!(
            "<jincheng xmlns=\"urn:jincheng:record:1\"><id>x:1</id><institution>lzlib</institution>\
             <title>{title}</title>{inner}</jincheng>"
        )
    }

    #[test]
    fn a_record_nested_too_deeply_is_quarantined_alone_in_every_format() {
        let formats: [(&str, MetadataOf); 3] =
            [("oai_dc", oai_dc), ("marcxml", marcxml), ("jincheng", jincheng)];
        for (format, metadata) in formats {
            for depth in HOSTILE_DEPTHS {
                let page = on_worker_stack(move || {
                    let records = [
                        oai_record("oai:x:1", &metadata("第一", "")),
                        oai_record("oai:x:deep", &metadata("深", &nested("a", depth, "x"))),
                        oai_record("oai:x:3", &metadata("第三", "")),
                    ]
                    .concat();
                    parse_list_records(list_records(&records).as_bytes(), CONTEXT)
                })
                .unwrap_or_else(|e| panic!("{format} {depth}: {e:?}"));
                let ids: Vec<&str> = page.items.iter().map(|i| i.local_id.as_str()).collect();
                assert_eq!(ids, ["oai:x:1", "oai:x:deep", "oai:x:3"], "{format} {depth}");
                assert_eq!(record(&page.items[0]).title, "第一", "{format}");
                let reason = quarantine_reason(&page.items[1]);
                assert!(reason.contains(TOO_DEEP), "{format} {depth}: {reason}");
                assert_eq!(record(&page.items[2]).title, "第三", "{format}");
                assert_eq!(page.next_token.as_deref(), Some("t2"), "{format}");
            }
        }
    }

    #[test]
    fn records_may_nest_exactly_to_the_limit() {
        // `<record><metadata><oai_dc:dc>` are the first three levels of the record.
        let at_limit = oai_record("oai:x:256", &oai_dc("到顶", &nested("a", 253, "")));
        let past_limit = oai_record("oai:x:257", &oai_dc("过深", &nested("a", 254, "")));
        let page = parse_list_records(list_records(&(at_limit + &past_limit)).as_bytes(), CONTEXT).unwrap();
        assert_eq!(record(&page.items[0]).title, "到顶");
        let reason = quarantine_reason(&page.items[1]);
        assert!(reason.contains(TOO_DEEP), "{reason}");
    }

    #[test]
    fn a_page_nested_too_deeply_outside_its_records_is_unreadable() {
        let head = "<OAI-PMH><responseDate>2026-01-01T00:00:00Z</responseDate>";
        // `<OAI-PMH>` is the first level: the 256th `<a>` is one too many.
        let at = format!("at byte {}", head.len() + 255 * "<a>".len());
        for depth in HOSTILE_DEPTHS {
            let error = on_worker_stack(move || {
                let records = oai_record("oai:x:1", &oai_dc("第一", ""));
                let list = format!("<ListRecords>{records}</ListRecords>");
                let body = format!("{head}{}</OAI-PMH>", nested("a", depth, &list));
                parse_list_records(body.as_bytes(), CONTEXT)
            })
            .unwrap_err();
            assert!(
                matches!(&error, ResponseError::Unreadable(m) if m.contains(TOO_DEEP) && m.contains(&at)),
                "{depth}: {error:?}"
            );
        }
    }

    #[test]
    fn an_identify_nested_too_deeply_is_unreadable() {
        for depth in HOSTILE_DEPTHS {
            let identify = String::from_utf8(fixture("identify.xml")).unwrap();
            let error = on_worker_stack(move || {
                let body = identify.replacen("<Identify>", &(nested("a", depth, "") + "<Identify>"), 1);
                parse_identify(body.as_bytes())
            })
            .unwrap_err();
            assert!(
                matches!(&error, ResponseError::Unreadable(m) if m.contains(TOO_DEEP)),
                "{depth}: {error:?}"
            );
        }
    }
}
