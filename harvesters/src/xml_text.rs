//! Small pieces of XML text handling shared by every reader in this crate (OAI-PMH pages,
//! MARCXML, LIDO): references resolved without ever expanding an entity a DTD declared, and
//! finding where an element ends when a record must be cut out of a broken document.

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
    fn end_tags_may_have_space_before_the_bracket() {
        let text = "<r><a>x</a ></r>";
        assert_eq!(find_end_tag(text, 0, "a"), Some(12));
        assert_eq!(find_end_tag(text, 0, "r"), Some(text.len()));
        assert_eq!(find_end_tag(text, 0, "b"), None);
    }
}
