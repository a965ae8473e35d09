//! Small pieces of XML text handling shared by every reader in this crate (OAI-PMH pages,
//! MARCXML, LIDO, feeds, the native format): references resolved without ever expanding an
//! entity a DTD declared, finding where an element ends when a record must be cut out of a
//! broken document, and the one limit on how deeply elements may nest.

/// The deepest an element may be nested: the outermost element of the text being read is at
/// depth 1, its children at 2, and so on.
///
/// Real records are shallow: a LIDO event actor's name sits about a dozen levels into its
/// record, MARCXML subfields at three, and an OAI-PMH envelope adds four; 256 leaves more
/// than ten times that, and is libxml2's default limit too. Hostile documents are not:
/// a feed of 280 KB can nest 40,000 elements, and quick-xml's own limit (65,535 levels, and
/// none at all without namespaces) is far more than a recursive walk survives on a tokio
/// worker's 2 MiB stack. Every reader refuses an element deeper than this *while streaming*
/// (with [`check_depth`]), before it stores anything for that level, so no tree, stack of
/// open elements or recursive walk (a tree's `Drop` included) is ever deeper than this.
///
/// A record read on its own counts from its own element, and so does the lenient pass that
/// cuts it out of a document: the two always agree on whether a record is too deep. The
/// document around the records is held to the same limit, counted from its root.
pub(crate) const MAX_ELEMENT_DEPTH: usize = 256;

/// Refuses an element that would be open at `depth` (itself and its open ancestors, counted
/// as [`MAX_ELEMENT_DEPTH`] says) if that is deeper than the limit; `at` is the byte offset
/// of its start tag, for the message. A reader calls this before it pushes an element.
pub(crate) fn check_depth(depth: usize, at: usize) -> Result<(), String> {
    if depth > MAX_ELEMENT_DEPTH {
        return Err(format!(
            "XML nested deeper than {MAX_ELEMENT_DEPTH} elements at byte {at}"
        ));
    }
    Ok(())
}

/// The next event of a pass that cuts records out of a document, with the element depth
/// checked: `open` is the number of elements open before this event, and `record_depth` the
/// depth of the record element being cut out, if any (inside a record depth counts from the
/// record's element, as a reader of the record alone counts it; outside, from the root).
/// `base` is the byte offset of `reader`'s text in the document. An error is the byte
/// offset it concerns and the reason.
pub(crate) fn read_splitting_event<'a>(
    reader: &mut quick_xml::Reader<&'a [u8]>,
    base: usize,
    open: usize,
    record_depth: Option<usize>,
) -> Result<(usize, quick_xml::events::Event<'a>), (usize, String)> {
    let offset = |position: u64| base.saturating_add(usize::try_from(position).unwrap_or(usize::MAX));
    let event_start = offset(reader.buffer_position());
    let event = reader.read_event().map_err(|e| {
        let at = offset(reader.error_position());
        (at, format!("malformed XML at byte {at}: {e}"))
    })?;
    if let quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_) = event {
        let depth = match record_depth {
            Some(record) => (open + 1).saturating_sub(record),
            None => open + 1,
        };
        check_depth(depth, event_start).map_err(|reason| (event_start, reason))?;
    }
    Ok((event_start, event))
}

/// Resolves an entity or character reference (`amp`, `#x4E2D`, …) without expanding any
/// entity a DTD may have declared; a reference to a character XML forbids is an error.
pub(crate) fn resolve_reference(name: &str) -> Result<char, String> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => number.parse(),
        }
        .map_err(|_| format!("bad character reference &{name};"))?;
        return char::from_u32(code)
            .filter(|&c| is_xml_char(c))
            .ok_or_else(|| format!("character reference &{name}; is not an XML character"));
    }
    match name {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        _ => Err(format!(
            "undefined entity &{name}; (DTD entities are not expanded)"
        )),
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// Resolves the references inside an attribute value.
pub(crate) fn resolve_references(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let semi = after.find(';').ok_or("unterminated reference in attribute")?;
        out.push(resolve_reference(after.get(..semi).unwrap_or_default())?);
        rest = after.get(semi + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

/// The byte offset just after the first `</qname>` (optionally with whitespace before `>`)
/// at or after `from`.
pub(crate) fn find_end_tag(text: &str, from: usize, qname: &str) -> Option<usize> {
    let needle = format!("</{qname}");
    let mut search_from = from;
    loop {
        let found = search_from + text.get(search_from..)?.find(&needle)?;
        let after = found + needle.len();
        let rest = text.get(after..)?;
        let trimmed = rest.trim_start();
        if trimmed.starts_with('>') {
            return Some(after + (rest.len() - trimmed.len()) + 1);
        }
        search_from = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_but_entities_never_expand() {
        assert_eq!(resolve_reference("amp"), Ok('&'));
        assert_eq!(resolve_reference("#x4E2D"), Ok('中'));
        assert_eq!(resolve_reference("#20013"), Ok('中'));
        assert!(resolve_reference("#0").is_err());
        assert!(resolve_reference("#xD800").is_err());
        assert!(resolve_reference("nbsp").is_err());
        assert_eq!(resolve_references("a&amp;b&#x41;").as_deref(), Ok("a&bA"));
        assert!(resolve_references("a&b").is_err());
    }

    #[test]
    fn depth_is_checked_against_the_limit() {
        assert_eq!(check_depth(1, 0), Ok(()));
        assert_eq!(check_depth(MAX_ELEMENT_DEPTH, 10), Ok(()));
        assert_eq!(
            check_depth(MAX_ELEMENT_DEPTH + 1, 42),
            Err("XML nested deeper than 256 elements at byte 42".into())
        );
    }

    #[test]
    fn end_tags_may_have_space_before_the_bracket() {
        let text = "<r><a>x</a ></r>";
        assert_eq!(find_end_tag(text, 0, "a"), Some(12));
        assert_eq!(find_end_tag(text, 0, "r"), Some(text.len()));
        assert_eq!(find_end_tag(text, 0, "b"), None);
    }
}
