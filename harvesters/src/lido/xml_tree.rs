//! A small, strict XML reader for record-sized documents, shared by the LIDO and feed
//! mappings: it splits a file into its records leniently, then reads each record strictly
//! into an [`Element`] tree, so one broken record costs only itself.
//!
//! Entities are never expanded: a `<!DOCTYPE>` is skipped, only XML's five predefined
//! entities and character references are resolved, and anything else is an error.
//!
//! Nesting is capped at [`MAX_ELEMENT_DEPTH`] while reading, so a tree is never deeper than
//! that: a record nested deeper is refused (alone), and so is a document nested deeper
//! outside its records.
//!
//! [`MAX_ELEMENT_DEPTH`]: crate::xml_text::MAX_ELEMENT_DEPTH
//!
//! (It lives under `lido/` because the LIDO mapping was its first user; the feed mapping
//! borrows it.)

use crate::xml_text::{
    check_depth, find_end_tag, read_splitting_event, resolve_reference, resolve_references,
};
use quick_xml::{
    NsReader, Reader,
    events::{BytesStart, Event},
    name::ResolveResult,
};

/// An element: its namespace and local name, attributes and children.
///
/// Elements come only from [`parse_record`], which refuses anything nested deeper than
/// [`crate::xml_text::MAX_ELEMENT_DEPTH`]. That bound is what makes the derived (and
/// recursive) `Drop`, `Clone`, `PartialEq` and `Debug` safe on a small stack: a few hundred
/// frames at most. The walks below are iterative all the same.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    /// The namespace URI, if the name is bound to one.
    pub(crate) namespace: Option<String>,
    /// The local name (without prefix).
    pub(crate) name: String,
    /// Attributes by local name (`xml:lang` is `lang`), with references resolved.
    pub(crate) attributes: Vec<(String, String)>,
    /// Child elements and text, in document order.
    pub(crate) children: Vec<Node>,
}

/// A child of an [`Element`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// A child element.
    Element(Element),
    /// Text or CDATA, references resolved.
    Text(String),
}

impl Element {
    /// The attribute with local name `name`.
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Child elements with local name `name`.
    pub(crate) fn children_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter_map(move |node| match node {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// All descendants with local name `name`, in document order.
    pub(crate) fn descendants<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        // Depth-first with an explicit stack (children pushed in reverse, so the first child
        // comes off first), rather than recursion.
        let mut pending: Vec<&'a Element> = Vec::new();
        push_child_elements(self, &mut pending);
        while let Some(element) = pending.pop() {
            if element.name == name {
                out.push(element);
            }
            push_child_elements(element, &mut pending);
        }
    }

    /// All the text inside, concatenated, with runs of whitespace collapsed and trimmed.
    pub(crate) fn text(&self) -> String {
        let mut raw = String::new();
        // One iterator per open element, innermost last, rather than recursion.
        let mut open = vec![self.children.iter()];
        while let Some(children) = open.last_mut() {
            match children.next() {
                Some(Node::Text(text)) => raw.push_str(text),
                Some(Node::Element(element)) => open.push(element.children.iter()),
                None => {
                    open.pop();
                }
            }
        }
        collapse_whitespace(&raw)
    }

    /// The trimmed text, or `None` if there is none.
    pub(crate) fn non_empty_text(&self) -> Option<String> {
        Some(self.text()).filter(|t| !t.is_empty())
    }
}

/// Pushes the child elements of `element` onto `pending`, last first.
fn push_child_elements<'a>(element: &'a Element, pending: &mut Vec<&'a Element>) {
    pending.extend(element.children.iter().rev().filter_map(|node| match node {
        Node::Element(e) => Some(e),
        Node::Text(_) => None,
    }));
}

/// Collapses runs of whitespace to one space and trims.
pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A document decoded to text. Bytes that could not be decoded became U+FFFD, which
/// quarantines the records holding them.
pub(crate) struct DecodedXml {
    /// The text (UTF-8), byte order mark removed.
    pub(crate) text: String,
}

/// Decodes an XML document: UTF-8 (with or without a byte order mark), or the encoding its
/// declaration names (`GBK`, `GB18030`, …), replacing undecodable bytes with U+FFFD.
pub(crate) fn decode_xml(bytes: &[u8]) -> DecodedXml {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let declared = declared_encoding(bytes)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .filter(|e| *e != encoding_rs::UTF_8);
    let encoding = declared.unwrap_or(encoding_rs::UTF_8);
    let (text, _) = encoding.decode_without_bom_handling(bytes);
    DecodedXml {
        text: text.into_owned(),
    }
}

/// The `encoding` of an `<?xml … ?>` declaration at the start.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(200))?;
    let head = String::from_utf8_lossy(head);
    let declaration = head.strip_prefix("<?xml")?;
    let declaration = declaration.get(..declaration.find("?>")?)?;
    let at = declaration.find("encoding")?;
    let rest = declaration.get(at + "encoding".len()..)?.trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let rest = rest.get(1..)?;
    Some(rest.get(..rest.find(quote)?)?.to_owned())
}

/// One record found in a document: its raw text and, if it could not be read, why.
pub(crate) struct RecordSpan {
    /// The record element's text as it appears in the document.
    pub(crate) raw: String,
    /// The record as a tree, or why it could not be read.
    pub(crate) element: Result<Element, String>,
}

/// Splits `text` into the elements that `is_record` picks (given the local names of the
/// open ancestors and the element's local name) and reads each strictly. The namespace
/// declarations of the ancestors apply inside each record.
///
/// The document outside the records is read leniently; if it cannot be read at all (not
/// XML, or nested deeper than [`crate::xml_text::MAX_ELEMENT_DEPTH`] outside any record),
/// the error says where. A record broken so badly that the lenient reader fails, or nested too deeply, is
/// skipped to its end tag, and one that never ends takes the rest of the document.
pub(crate) fn split_records(
    text: &str,
    is_record: impl Fn(&[String], &str) -> bool,
) -> Result<Vec<RecordSpan>, String> {
    struct Open {
        start: usize,
        qname: String,
        depth: usize,
    }
    let mut spans = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut declarations: Vec<(String, String)> = Vec::new();
    let mut open: Option<Open> = None;
    let mut saw_element = false;
    let mut base = 0usize;
    let mut reader = lenient_reader(text);
    loop {
        let event = read_splitting_event(&mut reader, base, stack.len(), open.as_ref().map(|r| r.depth));
        let (event_start, event) = match event {
            Ok(event) => event,
            Err((at, reason)) => {
                let Some(record) = open.take() else {
                    return Err(reason);
                };
                let end = find_end_tag(text, at, &record.qname).unwrap_or(text.len());
                let raw = text.get(record.start..end).unwrap_or_default().to_owned();
                spans.push(RecordSpan {
                    raw,
                    element: Err(reason),
                });
                stack.truncate(record.depth);
                base = end;
                reader = lenient_reader(text.get(end..).unwrap_or_default());
                continue;
            }
        };
        let position = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                saw_element = true;
                let local = local_name(start);
                let is_empty = matches!(event, Event::Empty(_));
                if open.is_none() {
                    if is_record(&stack, &local) {
                        open = Some(Open {
                            start: event_start,
                            qname: start.name().as_ref().to_owned(),
                            depth: stack.len(),
                        });
                    } else {
                        collect_declarations(start, &mut declarations);
                    }
                }
                if is_empty {
                    if let Some(record) = open.take_if(|r| r.depth == stack.len()) {
                        let raw = text.get(record.start..position).unwrap_or_default();
                        spans.push(read_span(raw, &declarations));
                    }
                } else {
                    stack.push(local);
                }
            }
            Event::End(ref end) => {
                let local = end.local_name().as_ref().to_owned();
                let floor = open.as_ref().map_or(0, |r| r.depth);
                let Some(at) = stack.iter().rposition(|name| *name == local) else {
                    continue;
                };
                if at < floor {
                    continue;
                }
                stack.truncate(at);
                if let Some(record) = open.take_if(|r| stack.len() <= r.depth) {
                    let raw = text.get(record.start..position).unwrap_or_default();
                    spans.push(read_span(raw, &declarations));
                }
            }
            Event::Eof => {
                if let Some(record) = open.take() {
                    let raw = text.get(record.start..).unwrap_or_default().to_owned();
                    spans.push(RecordSpan {
                        raw,
                        element: Err("the document ends inside this record (truncated)".into()),
                    });
                }
                break;
            }
            _ => {}
        }
    }
    if !saw_element {
        return Err("no XML element found".into());
    }
    Ok(spans)
}

fn lenient_reader(text: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    config.allow_dangling_amp = true;
    reader
}

fn local_name(start: &BytesStart<'_>) -> String {
    start.local_name().as_ref().to_owned()
}

/// Remembers the `xmlns` and `xmlns:prefix` attributes of an ancestor element.
fn collect_declarations(start: &BytesStart<'_>, declarations: &mut Vec<(String, String)>) {
    for attribute in start.attributes().flatten() {
        let key = attribute.key.as_ref().to_owned();
        if key == "xmlns" || key.starts_with("xmlns:") {
            let value = attribute.value.clone().into_owned();
            declarations.retain(|(k, _)| *k != key);
            declarations.push((key, value));
        }
    }
}

fn read_span(raw: &str, declarations: &[(String, String)]) -> RecordSpan {
    RecordSpan {
        raw: raw.to_owned(),
        element: parse_record(raw, declarations),
    }
}

/// Reads one record strictly, with the namespace `declarations` of its ancestors in scope.
pub(crate) fn parse_record(raw: &str, declarations: &[(String, String)]) -> Result<Element, String> {
    let mut wrapped = String::from("<jincheng-record-wrapper");
    for (key, value) in declarations {
        wrapped.push_str(&format!(" {key}=\"{}\"", escape_attribute(value)));
    }
    wrapped.push('>');
    let wrapper_len = wrapped.len();
    wrapped.push_str(raw);
    wrapped.push_str("</jincheng-record-wrapper>");
    let root = parse_tree(&wrapped, Some(wrapper_len))?;
    root.children
        .into_iter()
        .find_map(|node| match node {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
        .ok_or_else(|| "no element in the record".to_string())
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// Reads `text` strictly into its root element. `wrapper` is the length of the start tag of
/// the element [`parse_record`] wraps a record in: that element does not count toward the
/// depth, and byte offsets in errors are counted from the record's own start.
fn parse_tree(text: &str, wrapper: Option<usize>) -> Result<Element, String> {
    let (levels_above, skipped) = wrapper.map_or((0, 0), |len| (1, len));
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let (namespace, event) = reader
            .read_resolved_event()
            .map_err(|e| format!("malformed XML: {e}"))?;
        let namespace = match namespace {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(format!("undeclared namespace prefix {prefix:?}"));
            }
        };
        if matches!(event, Event::Start(_) | Event::Empty(_)) {
            // Before the element is stored: the tree never holds a level too many.
            check_depth(
                (stack.len() + 1).saturating_sub(levels_above),
                at.saturating_sub(skipped),
            )?;
        }
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err("content after the root element".into());
            }
            Event::Start(start) => {
                stack.push(element(&start, namespace)?);
            }
            Event::Empty(start) => {
                let e = element(&start, namespace)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                let e = stack.pop().ok_or("unexpected end tag")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(e)),
                    None => root = Some(e),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::CData(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(reference) => {
                let name: &str = &reference;
                push_text(&mut stack, &resolve_reference(name)?.to_string())?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the XML ends before its elements are closed".into());
    }
    root.ok_or_else(|| "no XML element found".into())
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    if text.contains('\u{FFFD}') {
        return Err("text contains bytes that are not valid in the document's encoding".into());
    }
    match stack.last_mut() {
        Some(parent) => {
            if let Some(Node::Text(last)) = parent.children.last_mut() {
                last.push_str(text);
            } else {
                parent.children.push(Node::Text(text.to_owned()));
            }
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".into()),
    }
}

fn element(start: &BytesStart<'_>, namespace: Option<String>) -> Result<Element, String> {
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("bad attribute: {e}"))?;
        let key = attribute.key.local_name();
        let key = key.as_ref().to_owned();
        if attribute.key.as_ref().starts_with("xmlns") {
            continue;
        }
        let raw = attribute.value.clone().into_owned();
        attributes.push((key, resolve_references(&raw)?));
    }
    Ok(Element {
        namespace,
        name: local_name(start),
        attributes,
        children: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a whole (small) document strictly into its root element.
    fn parse_document(text: &str) -> Result<Element, String> {
        parse_tree(text, None)
    }

    #[test]
    fn records_are_split_and_read_one_by_one() {
        let text = r#"<?xml version="1.0"?>
<w:wrap xmlns:w="urn:w"><w:r id="1">a &amp; b</w:r><w:r id="2">&nbsp;</w:r><w:r id="3"><x></w:r><w:r id="4">ok</w:r></w:wrap>"#;
        let spans = split_records(text, |_, name| name == "r").unwrap();
        assert_eq!(spans.len(), 4);
        let first = spans[0].element.as_ref().unwrap();
        assert_eq!(first.namespace.as_deref(), Some("urn:w"));
        assert_eq!(first.attribute("id"), Some("1"));
        assert_eq!(first.text(), "a & b");
        assert!(spans[1].element.as_ref().unwrap_err().contains("nbsp"));
        assert!(spans[2].element.is_err());
        assert_eq!(spans[3].element.as_ref().unwrap().text(), "ok");
        assert_eq!(spans[3].raw, r#"<w:r id="4">ok</w:r>"#);
    }

    #[test]
    fn a_truncated_record_takes_the_rest() {
        let spans = split_records("<a><r>1</r><r>2", |_, name| name == "r").unwrap();
        assert_eq!(spans.len(), 2);
        assert!(spans[0].element.is_ok());
        assert!(spans[1].element.as_ref().unwrap_err().contains("truncated"));
        assert!(split_records("not xml at all", |_, _| true).is_err());
    }

    #[test]
    fn declared_encodings_are_decoded() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<?xml version=\"1.0\" encoding=\"GBK\"?><a>铜奔马</a>");
        let decoded = decode_xml(&gbk);
        assert_eq!(parse_document(&decoded.text).unwrap().text(), "铜奔马");
    }

    #[test]
    fn records_may_nest_exactly_to_the_limit() {
        // The record element is the first level; the tree is as deep as the record.
        let at_limit = format!("<r>{}</r>", crate::worker_stack::nested("a", 255, "x"));
        let past_limit = format!("<r>{}</r>", crate::worker_stack::nested("a", 256, "x"));
        let text = format!("<w>{at_limit}{past_limit}<r>ok</r></w>");
        let spans = split_records(&text, |_, name| name == "r").unwrap();
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].element.as_ref().unwrap().text(), "x");
        let reason = spans[1].element.as_ref().unwrap_err();
        // The 256th `<a>` is the 257th level; it starts after `<w>`, the first record, `<r>`
        // and 255 `<a>`s.
        let at = 3 + at_limit.len() + 3 + 255 * 3;
        assert_eq!(
            reason,
            &format!("XML nested deeper than 256 elements at byte {at}")
        );
        assert_eq!(spans[2].element.as_ref().unwrap().text(), "ok");
        assert!(parse_document(&at_limit).is_ok());
        assert!(
            parse_document(&past_limit)
                .unwrap_err()
                .contains("nested deeper than 256")
        );
    }

    #[test]
    fn walks_keep_document_order() {
        let root = parse_document(r#"<r>1<b n="1"><b n="2">2</b></b>3<a><b n="3"/>4</a></r>"#).unwrap();
        let mut found = Vec::new();
        root.descendants("b", &mut found);
        let order: Vec<_> = found.iter().filter_map(|b| b.attribute("n")).collect();
        assert_eq!(order, ["1", "2", "3"]);
        assert_eq!(root.text(), "1234");
    }
}
