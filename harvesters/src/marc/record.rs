//! The decoded MARC record both readers produce and both mappings consume: a leader and
//! fields in source order, with every value already turned into Unicode text.
//!
//! The model is deliberately format-neutral (MARC21 and UNIMARC share ISO 2709's shape);
//! what a tag *means* is the mappings' business.

/// A three-character field tag such as `245`. Tags are ASCII letters or digits.
pub(crate) type Tag = [u8; 3];

/// One MARC record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MarcRecord {
    /// The 24 leader positions (ASCII; checked by the readers).
    pub(crate) leader: String,
    /// Fields in source order.
    pub(crate) fields: Vec<Field>,
}

/// One variable field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) tag: Tag,
    pub(crate) content: FieldContent,
}

/// A control field's data, or a data field's indicators and subfields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldContent {
    Control(String),
    Data {
        indicators: [char; 2],
        subfields: Vec<Subfield>,
    },
}

/// One subfield: its code and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subfield {
    pub(crate) code: char,
    pub(crate) value: String,
}

/// True for a tag of the control-field range (`001`–`009`, and `00X` in general).
pub(crate) fn is_control_tag(tag: &Tag) -> bool {
    tag[0] == b'0' && tag[1] == b'0'
}

/// Parses a tag written as text (MARCXML's `tag` attribute).
pub(crate) fn parse_tag(text: &str) -> Option<Tag> {
    let bytes = text.trim().as_bytes();
    match bytes {
        [a, b, c] if bytes.iter().all(u8::is_ascii_alphanumeric) => Some([*a, *b, *c]),
        _ => None,
    }
}

/// A tag as text, for messages.
pub(crate) fn tag_text(tag: &Tag) -> String {
    String::from_utf8_lossy(tag).into_owned()
}

impl MarcRecord {
    /// The character at leader position `index`, or a space if the leader is short.
    pub(crate) fn leader_char(&self, index: usize) -> char {
        self.leader.as_bytes().get(index).map_or(' ', |&b| char::from(b))
    }

    /// The first field with tag `tag`.
    pub(crate) fn field(&self, tag: &Tag) -> Option<&Field> {
        self.fields.iter().find(|f| &f.tag == tag)
    }

    /// The data of the first control field `tag`, trimmed, if not empty.
    pub(crate) fn control(&self, tag: &Tag) -> Option<&str> {
        match &self.field(tag)?.content {
            FieldContent::Control(data) => Some(data.trim()).filter(|d| !d.is_empty()),
            FieldContent::Data { .. } => None,
        }
    }

    /// The control number (`001`), trimmed.
    pub(crate) fn control_number(&self) -> Option<&str> {
        self.control(b"001")
    }

    /// The `005` timestamp (`yyyymmddhhmmss.f`) as an ISO 8601 UTC datestamp, or as given if
    /// it is not shaped like one; empty without a `005`.
    pub(crate) fn datestamp(&self) -> String {
        let Some(raw) = self.control(b"005") else {
            return String::new();
        };
        let digits = raw.get(..14).filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        match digits {
            Some(d) => format!(
                "{}-{}-{}T{}:{}:{}Z",
                d.get(0..4).unwrap_or_default(),
                d.get(4..6).unwrap_or_default(),
                d.get(6..8).unwrap_or_default(),
                d.get(8..10).unwrap_or_default(),
                d.get(10..12).unwrap_or_default(),
                d.get(12..14).unwrap_or_default()
            ),
            None => raw.to_owned(),
        }
    }
}

impl Field {
    /// The subfields of a data field (none for a control field).
    pub(crate) fn subfields(&self) -> &[Subfield] {
        match &self.content {
            FieldContent::Data { subfields, .. } => subfields,
            FieldContent::Control(_) => &[],
        }
    }

    /// Values of every subfield `code`, in order.
    pub(crate) fn values(&self, code: char) -> impl Iterator<Item = &str> {
        self.subfields()
            .iter()
            .filter(move |s| s.code == code)
            .map(|s| s.value.as_str())
    }

    /// The first value of subfield `code`, if any.
    pub(crate) fn first(&self, code: char) -> Option<&str> {
        self.values(code).next()
    }

    /// Indicator 1 or 2 (`which` = 0 or 1); a space for control fields.
    pub(crate) fn indicator(&self, which: usize) -> char {
        match &self.content {
            FieldContent::Data { indicators, .. } => indicators.get(which).copied().unwrap_or(' '),
            FieldContent::Control(_) => ' ',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datestamps_come_from_005() {
        let mut record = MarcRecord {
            leader: "00000nam a2200000 i 4500".into(),
            fields: vec![Field {
                tag: *b"005",
                content: FieldContent::Control("20240519031842.0".into()),
            }],
        };
        assert_eq!(record.datestamp(), "2024-05-19T03:18:42Z");
        record.fields[0].content = FieldContent::Control("2024".into());
        assert_eq!(record.datestamp(), "2024");
        record.fields.clear();
        assert_eq!(record.datestamp(), "");
        assert_eq!(record.leader_char(6), 'a');
        assert_eq!(record.leader_char(99), ' ');
    }

    #[test]
    fn tags_are_three_ascii_alphanumerics() {
        assert_eq!(parse_tag("245"), Some(*b"245"));
        assert_eq!(parse_tag(" 88A "), Some(*b"88A"));
        assert_eq!(parse_tag("24"), None);
        assert_eq!(parse_tag("2 5"), None);
        assert_eq!(parse_tag("二四五"), None);
        assert!(is_control_tag(b"001") && !is_control_tag(b"010"));
    }
}
