//! Exact-match keys: ISBN-13s, classification codes and call numbers, title keys, work keys.
//!
//! These are matched whole (keyword fields), not through the Chinese analysis, because
//! segmentation would tear them apart (`I247.5` → `i247` + `5`).

use schemas::{Record, ResourceType};

use crate::normalize::normalize;

/// Longest classification code or call number indexed, in characters.
const MAX_CODE_CHARS: usize = 40;

/// The ISBN-13 for an ISBN-10 or ISBN-13 (hyphens and spaces ignored, an `ISBN` prefix
/// allowed), else `None`. ISBN-10s are converted, so either form finds the other.
pub(crate) fn isbn13(value: &str) -> Option<String> {
    let value = value.trim();
    let value = value
        .strip_prefix("ISBN")
        .or_else(|| value.strip_prefix("isbn"))
        .unwrap_or(value)
        .trim_start_matches([':', ' ']);
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '‐' | '－'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.is_ascii() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match compact.len() {
        13 if all_digits(&compact) && (compact.starts_with("978") || compact.starts_with("979")) => {
            Some(compact)
        }
        10 if all_digits(&compact[..9]) && (all_digits(&compact[9..]) || &compact[9..] == "X") => {
            let body = format!("978{}", &compact[..9]);
            let sum: u32 = body
                .bytes()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
                .sum();
            let check = (10 - sum % 10) % 10;
            Some(format!("{body}{check}"))
        }
        _ => None,
    }
}

/// Does `value` (normalised: lowercase, half-width) look like a CLC class or a call number:
/// one to three letters, then a digit, then digits, `.`, `/`, `-`, `:` or letters
/// (`i247.5`, `k872.42`, `ts938.1`, `i247.5/123`)?
pub(crate) fn looks_like_code(value: &str) -> bool {
    let bytes = value.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_lowercase()).count();
    (1..=3).contains(&letters)
        && bytes.len() <= MAX_CODE_CHARS
        && bytes.get(letters).is_some_and(u8::is_ascii_digit)
        && bytes[letters..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b':'))
}

/// The terms a classification code or call number is indexed under: the whole code and
/// every prefix that ends on a digit of its class part, so that `I247.5` is found by `I247.5`,
/// `I247` and `I24` (its broader classes in the CLC hierarchy), and the call number
/// `I247.5/123` by its class too. Codes that do not look like codes (`TS`, `地方文献`) are
/// indexed whole.
pub(crate) fn code_terms(value: &str) -> Vec<String> {
    let code: String = normalize(value.trim())
        .text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        return Vec::new();
    }
    let mut terms = vec![code.clone()];
    if looks_like_code(&code) {
        // The class part ends at the first separator of a call number.
        let class_end = code.find(['/', ':', '-']).unwrap_or(code.len());
        let class = &code[..class_end];
        for (i, c) in class.char_indices() {
            let end = i + c.len_utf8();
            if c.is_ascii_digit() && end < class.len() {
                terms.push(class[..end].to_string());
            }
        }
        if class_end < code.len() && !class.is_empty() {
            terms.push(class.to_string());
        }
    }
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// A text folded for exact comparison: simplified, lowercase, half-width, letters and digits
/// only (`《靜夜思》` → `静夜思`, `Gourd Carving: A Folk Art` → `gourdcarvingafolkart`).
pub(crate) fn text_key(value: &str) -> String {
    normalize(value)
        .text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// How records of a resource type may collapse into one hit (see [`work_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyKind {
    /// Published in copies: books, ancient books (an edition is printed in copies),
    /// periodicals, audio and video. Copies share a standard number, or else a title,
    /// creators, publisher and year.
    Published,
    /// Maybe published, maybe unique: maps (a printed atlas or a hand-drawn 舆图) and
    /// resources of no known type. Only a shared standard number shows they are copies.
    StandardNumberOnly,
    /// One of a kind: manuscripts, rubbings, images and photographs, artefacts, artworks,
    /// events. Never collapsed: two museum objects with one title are two objects.
    Unique,
}

impl CopyKind {
    /// The copy kind of a resource type.
    pub(crate) fn of(resource_type: ResourceType) -> CopyKind {
        use ResourceType::*;
        match resource_type {
            Book | AncientBook | Periodical | Audio | Video => CopyKind::Published,
            Map | Other => CopyKind::StandardNumberOnly,
            Manuscript | Rubbing | Image | Artefact | Artwork | Event => CopyKind::Unique,
        }
    }
}

/// The ISSN in `value` (`ISSN 1000-0135`, `issn:10000135`, `urn:issn:1000-0135`), checked
/// by its check digit, as eight characters without the hyphen; else `None`. Only values
/// that say they are an ISSN are read: a bare eight-digit number may be anything.
pub(crate) fn issn(value: &str) -> Option<String> {
    let value = value.trim();
    let lower = value.to_ascii_lowercase();
    let start = ["urn:issn:", "issn"]
        .iter()
        .find_map(|prefix| lower.starts_with(prefix).then_some(prefix.len()))?;
    let compact: String = value
        .get(start..)?
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | ':' | '‐' | '－' | '：'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bytes = compact.as_bytes();
    if bytes.len() != 8 || !bytes[..7].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes[..7]
        .iter()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (8 - i as u32))
        .sum();
    let check = match (11 - sum % 11) % 11 {
        10 => b'X',
        digit => b'0' + digit as u8,
    };
    (bytes[7] == check).then_some(compact)
}

/// The source a record came from: its id up to the first `:` (`lzlib-oai` of
/// `lzlib-oai:0001`, `curated-lzlib` of a curated record). Ids are `{source}:{local id}`.
pub(crate) fn source_of(id: &str) -> &str {
    id.split_once(':').map_or(id, |(source, _)| source)
}

/// Prefix of the work keys that come from the title, creators, publisher and year.
pub(crate) const TITLE_KEY_PREFIX: &str = "t:";

/// The work a record is a copy of, if it may be collapsed with other records at all.
///
/// # The collapse rule
///
/// Collapsing must never hide a work: it merges only records that are *copies* of one
/// published thing.
///
/// - **A shared standard number** collapses: `isbn:` + the first valid ISBN-13, else
///   `issn:` + the first valid ISSN (from [`Record::identifiers`]). This holds for every
///   type but the unique ones, and for records of one source too (a catalogue that
///   describes one ISBN twice).
/// - **Without a standard number**, only [`CopyKind::Published`] types get a key:
///   `t:` + title | creators | publisher | year, each folded with [`text_key`], and only
///   when the year and a creator or publisher are known (a bare title is too weak a sign).
///   Such a key is shared by records that agree on all four, but they collapse only when
///   they come from *different sources* ([`source_of`]). That part cannot be decided for
///   one record at index time, so it is decided per index state: the collector's work
///   numbering (`collector::WorkNumbers`) counts, for every `t:` key, the live records of
///   each source, and a key held by two records of one source is *ambiguous*: its records
///   are not collapsed at all, each is a hit of its own. (With two records of source A and
///   one of source B we cannot tell which of A's records B's record copies, so we guess
///   neither: nothing is hidden, at the price of showing B's copy beside them.) The nine
///   织金锦残片 of one museum and the sixteen 無題 of one poet's collection stay apart for
///   this reason even if they were typed as books.
/// - **Unique types** ([`CopyKind::Unique`]) and [`CopyKind::StandardNumberOnly`] types
///   without a standard number get no key: every record is a work of its own.
///
/// The key is computed from the record alone, so the writer needs no lookups.
pub(crate) fn work_key(record: &Record) -> Option<String> {
    let kind = CopyKind::of(record.resource_type);
    if kind == CopyKind::Unique {
        return None;
    }
    if let Some(isbn) = record.isbns.iter().find_map(|i| isbn13(i)) {
        return Some(format!("isbn:{isbn}"));
    }
    if let Some(issn) = record.identifiers.iter().find_map(|i| issn(i)) {
        return Some(format!("issn:{issn}"));
    }
    if kind != CopyKind::Published {
        return None;
    }
    let creators: Vec<String> = record
        .creators
        .iter()
        .map(|c| text_key(c))
        .filter(|c| !c.is_empty())
        .collect();
    let publisher = record.publisher.as_deref().map(text_key).unwrap_or_default();
    let title = text_key(&record.title);
    let year = record.year()?;
    if title.is_empty() || (creators.is_empty() && publisher.is_empty()) {
        return None;
    }
    Some(format!(
        "{TITLE_KEY_PREFIX}{title}|{}|{publisher}|{year}",
        creators.join(",")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns_normalise_to_isbn13() {
        assert_eq!(isbn13("978-7-101-00304-8").as_deref(), Some("9787101003048"));
        assert_eq!(isbn13("7101003044").as_deref(), Some("9787101003048"));
        assert_eq!(isbn13("080442957X").as_deref(), Some("9780804429573"));
        assert_eq!(isbn13("ISBN 9787549053124").as_deref(), Some("9787549053124"));
        assert_eq!(isbn13("12345"), None);
        assert_eq!(isbn13("１２３"), None);
    }

    #[test]
    fn codes_are_indexed_with_their_broader_classes() {
        assert_eq!(code_terms("I247.5"), ["i2", "i24", "i247", "i247.5"]);
        assert_eq!(
            code_terms("I247.5/123"),
            ["i2", "i24", "i247", "i247.5", "i247.5/123"]
        );
        assert_eq!(code_terms("ＴＳ９３８"), ["ts9", "ts93", "ts938"]);
        assert_eq!(code_terms("地方文献"), ["地方文献"]);
        assert!(looks_like_code("k872.42"));
        assert!(!looks_like_code("abc"));
        assert!(!looks_like_code("9787"));
    }

    fn book(id: &str, title: &str, creator: &str, publisher: &str, year: i32) -> Record {
        let mut record = Record::new(id, id.split(':').next().unwrap_or_default(), title);
        record.resource_type = ResourceType::Book;
        record.creators.push(creator.into());
        record.publisher = Some(publisher.into());
        record.date = Some(schemas::DateRange {
            display: year.to_string(),
            year_start: Some(year),
            year_end: Some(year),
        });
        record
    }

    #[test]
    fn work_keys_prefer_the_standard_number_and_fold_the_rest() {
        let a = book("a:1", "《靜夜思》", "李白", "中華書局", 1998);
        let mut b = book("b:9", "静夜思", "李 白", "中华书局", 1998);
        assert_eq!(work_key(&a), work_key(&b));
        assert_eq!(work_key(&a).as_deref(), Some("t:静夜思|李白|中华书局|1998"));
        b.identifiers.push("ISSN 0378-5955".into());
        assert_eq!(work_key(&b).as_deref(), Some("issn:03785955"));
        b.isbns.push("7101003044".into());
        assert_eq!(work_key(&b).as_deref(), Some("isbn:9787101003048"));
    }

    #[test]
    fn other_years_and_weak_or_unique_records_get_other_keys_or_none() {
        let first = book("a:1", "齐家文化论集", "陈燕", "甘肃文化出版社", 2001);
        let second = book("b:1", "齐家文化论集", "陈燕", "甘肃文化出版社", 2010);
        assert_ne!(work_key(&first), work_key(&second));
        let mut undated = first.clone();
        undated.date = None;
        assert_eq!(work_key(&undated), None);
        let mut anonymous = first.clone();
        anonymous.creators.clear();
        anonymous.publisher = None;
        assert_eq!(work_key(&anonymous), None);
        for kind in [
            ResourceType::Artefact,
            ResourceType::Artwork,
            ResourceType::Manuscript,
        ] {
            let mut unique = first.clone();
            unique.resource_type = kind;
            unique.isbns.push("9787101003048".into());
            assert_eq!(work_key(&unique), None, "{kind}");
        }
        let mut map = first.clone();
        map.resource_type = ResourceType::Map;
        assert_eq!(work_key(&map), None);
        map.isbns.push("9787101003048".into());
        assert_eq!(work_key(&map).as_deref(), Some("isbn:9787101003048"));
    }

    #[test]
    fn issns_are_read_only_when_labelled_and_checked() {
        assert_eq!(issn("ISSN 0378-5955").as_deref(), Some("03785955"));
        assert_eq!(issn("urn:issn:2049-3630").as_deref(), Some("20493630"));
        assert_eq!(issn("issn:1000-0135").as_deref(), Some("10000135"));
        assert_eq!(issn("ISSN 1000-0136"), None, "wrong check digit");
        assert_eq!(issn("0378-5955"), None, "not labelled");
        assert_eq!(issn("ISSN 0378-595"), None);
        assert_eq!(source_of("lzlib-oai:0001"), "lzlib-oai");
        assert_eq!(source_of("curated-lzlib:ab-cd"), "curated-lzlib");
        assert_eq!(source_of("plain"), "plain");
    }
}
