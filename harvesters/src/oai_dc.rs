//! Mapping of simple Dublin Core (`oai_dc`) into [`Record`], and the small normalisers it
//! needs (dates, ISBNs, languages, 中图法 classes).
//!
//! The normalisers are deliberately conservative: a value that is not understood is kept as
//! the source wrote it and nothing is inferred from it. A wrong year in a range filter is
//! worse than a missing one.

use schemas::{DateRange, Record, ResourceType, record_id};

/// The Dublin Core elements of one `oai_dc` record, each in source order, with values as
/// decoded from the XML (untrimmed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct DcFields {
    pub(crate) title: Vec<String>,
    pub(crate) creator: Vec<String>,
    pub(crate) contributor: Vec<String>,
    pub(crate) subject: Vec<String>,
    pub(crate) description: Vec<String>,
    pub(crate) publisher: Vec<String>,
    pub(crate) date: Vec<String>,
    pub(crate) r#type: Vec<String>,
    pub(crate) format: Vec<String>,
    pub(crate) identifier: Vec<String>,
    pub(crate) language: Vec<String>,
    pub(crate) coverage: Vec<String>,
    pub(crate) rights: Vec<String>,
}

impl DcFields {
    /// Adds the text of the DC element with local name `element`; elements that have no
    /// place in [`Record`] (`source`, `relation`) are ignored.
    pub(crate) fn push(&mut self, element: &str, value: String) {
        let list = match element {
            "title" => &mut self.title,
            "creator" => &mut self.creator,
            "contributor" => &mut self.contributor,
            "subject" => &mut self.subject,
            "description" => &mut self.description,
            "publisher" => &mut self.publisher,
            "date" => &mut self.date,
            "type" => &mut self.r#type,
            "format" => &mut self.format,
            "identifier" => &mut self.identifier,
            "language" => &mut self.language,
            "coverage" => &mut self.coverage,
            "rights" => &mut self.rights,
            _ => return,
        };
        list.push(value);
    }
}

/// Trimmed, non-empty values.
fn cleaned(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn joined(values: &[String], separator: &str) -> Option<String> {
    let parts: Vec<&str> = cleaned(values).collect();
    (!parts.is_empty()).then(|| parts.join(separator))
}

/// Maps one `oai_dc` record to a validated [`Record`], or explains why it cannot be one.
pub(crate) fn map_oai_dc(
    dc: &DcFields,
    source_id: &str,
    institution: &str,
    identifier: &str,
) -> Result<Record, String> {
    let mut titles = cleaned(&dc.title);
    let title = titles.next().ok_or("oai_dc record has no dc:title")?;
    let mut record = Record::new(record_id(source_id, identifier), institution, title);
    record.alternative_titles = titles.map(str::to_owned).collect();
    record.creators = cleaned(&dc.creator).map(str::to_owned).collect();
    record.contributors = cleaned(&dc.contributor).map(str::to_owned).collect();
    for subject in cleaned(&dc.subject) {
        if is_clc_class(subject) {
            record.classifications.push(subject.to_owned());
        } else {
            record.subjects.push(subject.to_owned());
        }
    }
    record.description = joined(&dc.description, "\n");
    record.publisher = joined(&dc.publisher, "; ");
    record.date = cleaned(&dc.date).next().map(normalize_date);

    // The first type term the vocabulary knows wins; if none is known the first term is
    // still kept as the original so nothing the source said is lost.
    let types: Vec<&str> = cleaned(&dc.r#type).collect();
    let known = types
        .iter()
        .find_map(|t| t.parse::<ResourceType>().ok().map(|rt| (rt, *t)));
    match (known, types.first()) {
        (Some((resource_type, original)), _) => {
            record.resource_type = resource_type;
            record.resource_type_original = Some(original.to_owned());
        }
        (None, Some(original)) => record.resource_type_original = Some((*original).to_owned()),
        (None, None) => {}
    }

    record.language = cleaned(&dc.language).next().map(normalize_language);
    for value in cleaned(&dc.identifier) {
        if let Some(candidate) = isbn_candidate(value)
            && let Some(isbn) = normalize_isbn(candidate)
        {
            if !record.isbns.contains(&isbn) {
                record.isbns.push(isbn);
            }
            continue;
        }
        let lower = value.to_ascii_lowercase();
        if (lower.starts_with("http://") || lower.starts_with("https://")) && record.source_url.is_none() {
            record.source_url = Some(value.to_owned());
        }
        record.identifiers.push(value.to_owned());
    }
    record.extent = joined(&dc.format, "; ");
    record.coverage = cleaned(&dc.coverage).map(str::to_owned).collect();
    record.rights = joined(&dc.rights, "; ");

    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

/// The ISBN part of an identifier written `ISBN 978-7-…`, `ISBN: 7-…` or `urn:isbn:…`,
/// without trailing qualifiers such as `(pbk.)` or `: CNY38.00`.
fn isbn_candidate(value: &str) -> Option<&str> {
    let lower = value.to_ascii_lowercase();
    let rest = if lower.starts_with("urn:isbn:") {
        value.get("urn:isbn:".len()..)?
    } else if lower.starts_with("isbn") {
        value.get("isbn".len()..)?
    } else {
        return None;
    };
    let rest = rest.trim_start_matches([' ', ':', '：', '\t']);
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, 'x' | 'X' | '-' | ' ')))
        .unwrap_or(rest.len());
    Some(rest.get(..end)?.trim())
}

/// Normalises an ISBN-10 or ISBN-13 (hyphens and spaces allowed) to the 13 digits of its
/// ISBN-13, or `None` if it is not a valid ISBN (wrong length or check digit).
///
/// ```
/// use jincheng_harvesters::normalize_isbn;
/// assert_eq!(normalize_isbn("7-101-00001-0").as_deref(), Some("9787101000016"));
/// assert_eq!(normalize_isbn("978-7-5580-6440-1").as_deref(), Some("9787558064401"));
/// assert_eq!(normalize_isbn("978-7-5580-6440-2"), None);
/// ```
pub fn normalize_isbn(text: &str) -> Option<String> {
    let compact: Vec<char> = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    match compact.len() {
        10 => {
            let mut sum = 0;
            for (i, c) in compact.iter().enumerate() {
                let value = match c {
                    'x' | 'X' if i == 9 => 10,
                    c => c.to_digit(10)?,
                };
                sum += (10 - i as u32) * value;
            }
            if sum % 11 != 0 {
                return None;
            }
            let mut digits = String::from("978");
            digits.extend(compact.iter().take(9));
            let check = isbn13_check_digit(&digits)?;
            digits.push(char::from_digit(check, 10)?);
            Some(digits)
        }
        13 => {
            let digits: String = compact.iter().collect();
            if !(digits.starts_with("978") || digits.starts_with("979")) {
                return None;
            }
            let body = digits.get(..12)?;
            let last = compact.last()?.to_digit(10)?;
            (isbn13_check_digit(body)? == last).then_some(digits)
        }
        _ => None,
    }
}

/// The check digit of the first 12 digits of an ISBN-13.
fn isbn13_check_digit(first12: &str) -> Option<u32> {
    let mut sum = 0;
    for (i, c) in first12.chars().enumerate() {
        let weight = if i % 2 == 0 { 1 } else { 3 };
        sum += weight * c.to_digit(10)?;
    }
    Some((10 - sum % 10) % 10)
}

/// Turns a `dc:date` into a [`DateRange`], understanding only unambiguous forms: `2003`,
/// `2003-05`, `2003-05-01` (and ISO date-times), `1998-2003`, `1998/2003`, `2003年`,
/// `2003年5月1日`, and the approximate `约1930年`. Anything else keeps its display text and
/// gets no years: they are never guessed.
///
/// ```
/// use jincheng_harvesters::normalize_date;
/// let d = normalize_date("1998/2003");
/// assert_eq!((d.year_start, d.year_end), (Some(1998), Some(2003)));
/// assert_eq!(normalize_date("乾隆年间").year_start, None);
/// ```
pub fn normalize_date(text: &str) -> DateRange {
    let display = text.trim().to_owned();
    let (year_start, year_end) = match parse_years(&display) {
        Some((start, end)) => (Some(start), Some(end)),
        None => (None, None),
    };
    DateRange {
        display,
        year_start,
        year_end,
    }
}

/// Latest year the record model accepts.
const MAX_YEAR: i32 = 2_100;

fn parse_years(text: &str) -> Option<(i32, i32)> {
    // A four-digit year and whatever follows it.
    fn year_prefix(s: &str) -> Option<(i32, &str)> {
        let digits = s.get(..4)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: i32 = digits.parse().ok()?;
        (year <= MAX_YEAR).then_some((year, s.get(4..)?))
    }
    fn two_digits(s: &str, max: u32) -> Option<&str> {
        let digits = s.get(..2)?;
        let n: u32 = digits.parse().ok()?;
        (digits.bytes().all(|b| b.is_ascii_digit()) && (1..=max).contains(&n))
            .then(|| s.get(2..))
            .flatten()
    }

    if let Some(years) = parse_cjk_year(text) {
        return Some(years);
    }
    let (first, rest) = year_prefix(text)?;
    let single = Some((first, first));
    if rest.is_empty() {
        return single;
    }
    // ISO: 2003-05, 2003-05-01, 2003-05-01T12:00:00Z.
    if let Some(month_part) = rest.strip_prefix('-')
        && let Some(after_month) = two_digits(month_part, 12)
    {
        if after_month.is_empty() {
            return single;
        }
        if let Some(after_day) = after_month.strip_prefix('-').and_then(|d| two_digits(d, 31))
            && (after_day.is_empty() || after_day.starts_with('T'))
        {
            return single;
        }
        return None;
    }
    // Ranges: 1998-2003, 1998/2003 (also with an en dash).
    for separator in ["-", "/", "–"] {
        if let Some(second) = rest.strip_prefix(separator)
            && let Some((last, "")) = year_prefix(second)
        {
            return (first <= last).then_some((first, last));
        }
    }
    None
}

/// `2003年`, `约1930年`, `2003年5月`, `2003年5月1日`.
fn parse_cjk_year(text: &str) -> Option<(i32, i32)> {
    let text = text.strip_prefix('约').unwrap_or(text);
    let digits = text.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = digits.parse().ok()?;
    let rest = text.get(4..)?.strip_prefix('年')?;
    if year > MAX_YEAR {
        return None;
    }
    if rest.is_empty() {
        return Some((year, year));
    }
    let month_end = rest.find('月')?;
    let month: u32 = rest.get(..month_end)?.parse().ok()?;
    if !(1..=2).contains(&month_end) || !(1..=12).contains(&month) {
        return None;
    }
    let rest = rest.get(month_end + '月'.len_utf8()..)?;
    if rest.is_empty() {
        return Some((year, year));
    }
    let day_end = rest.find('日')?;
    let day: u32 = rest.get(..day_end)?.parse().ok()?;
    let tail = rest.get(day_end + '日'.len_utf8()..)?;
    ((1..=2).contains(&day_end) && (1..=31).contains(&day) && tail.is_empty()).then_some((year, year))
}

/// Normalises a `dc:language` value: Chinese (`chi`, `zho`, `zh`, `中文`) → `zh`, English
/// (`eng`, `en`) → `en`; anything else is kept, lowercased.
pub fn normalize_language(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    match lower.as_str() {
        "chi" | "zho" | "zh" | "中文" | "汉语" | "chinese" => "zh".into(),
        "eng" | "en" | "英文" | "english" => "en".into(),
        _ => lower,
    }
}

/// True for values shaped like a 中图法 (Chinese Library Classification) class number:
/// one main-class letter (two for the `T` industrial subclasses, e.g. `TU`), an optional
/// `-` (general subdivisions such as `TU-092.2`), digits, then only digits and the
/// notation's punctuation (`.`, `-`, `/`, `:`, `=`, `(`, `)`, `"`).
///
/// ```
/// use jincheng_harvesters::is_clc_class;
/// assert!(is_clc_class("I222.742"));
/// assert!(is_clc_class("TU-092.2"));
/// assert!(!is_clc_class("中国画-考证"));
/// assert!(!is_clc_class("PL2658")); // a Library of Congress class
/// ```
pub fn is_clc_class(text: &str) -> bool {
    const MAIN_CLASSES: &str = "ABCDEFGHIJKNOPQRSTUVXZ";
    const T_SUBCLASSES: &str = "BDEFGHJKLMNPQSUV";
    let mut chars = text.trim().chars().peekable();
    let Some(first) = chars.next() else {
        return false;
    };
    if !MAIN_CLASSES.contains(first) {
        return false;
    }
    if first == 'T'
        && let Some(&second) = chars.peek()
        && second.is_ascii_uppercase()
    {
        if !T_SUBCLASSES.contains(second) {
            return false;
        }
        chars.next();
    }
    if chars.peek() == Some(&'-') {
        chars.next();
    }
    if !chars.peek().is_some_and(char::is_ascii_digit) {
        return false;
    }
    chars.all(|c| c.is_ascii_digit() || ".-/:=()\"".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_understood_only_when_unambiguous() {
        let cases: &[(&str, Option<(i32, i32)>)] = &[
            ("2003", Some((2003, 2003))),
            (" 2003 ", Some((2003, 2003))),
            ("2003-05", Some((2003, 2003))),
            ("2003-05-01", Some((2003, 2003))),
            ("2003-05-01T08:00:00Z", Some((2003, 2003))),
            ("1998-2003", Some((1998, 2003))),
            ("1998/2003", Some((1998, 2003))),
            ("1998–2003", Some((1998, 2003))),
            ("2003-1998", None),
            ("约1930年", Some((1930, 1930))),
            ("2003年", Some((2003, 2003))),
            ("2003年5月", Some((2003, 2003))),
            ("2003年12月31日", Some((2003, 2003))),
            ("2003年13月", None),
            ("乾隆年间", None),
            ("清", None),
            ("[2003]", None),
            ("c2003", None),
            ("2003?", None),
            ("20030", None),
            ("203", None),
            ("9999", None),
            ("2003-13-01", None),
            ("1930年代", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = normalize_date(text);
            assert_eq!(got.display, text.trim(), "display of {text:?}");
            let years = got.year_start.zip(got.year_end);
            assert_eq!(years, *want, "years of {text:?}");
        }
    }

    #[test]
    fn isbns_are_checked_and_made_isbn13() {
        let cases: &[(&str, Option<&str>)] = &[
            ("978-7-5580-6440-1", Some("9787558064401")),
            ("9787558064401", Some("9787558064401")),
            ("978 7 5580 6440 1", Some("9787558064401")),
            ("978-7-5580-6440-2", None),
            ("7-101-00001-0", Some("9787101000016")),
            ("7-101-00001-2", None),
            ("0-306-40615-2", Some("9780306406157")),
            ("0-8044-2957-X", Some("9780804429573")),
            ("0-8044-2957-x", Some("9780804429573")),
            ("0-306-40615-3", None),
            ("X-306-40615-2", None),
            ("123-4-5678-9012-3", None),
            ("12345", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(normalize_isbn(text).as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn isbn_identifiers_lose_their_prefix_and_qualifiers() {
        assert_eq!(
            isbn_candidate("ISBN 978-7-5580-6440-1"),
            Some("978-7-5580-6440-1")
        );
        assert_eq!(
            isbn_candidate("ISBN: 7-101-00001-0 : CNY12.00"),
            Some("7-101-00001-0")
        );
        assert_eq!(isbn_candidate("isbn 7101000012 (pbk.)"), Some("7101000012"));
        assert_eq!(isbn_candidate("urn:isbn:9787558064401"), Some("9787558064401"));
        assert_eq!(isbn_candidate("https://example.org/isbn"), None);
    }

    #[test]
    fn languages_and_classes() {
        for (text, want) in [
            ("chi", "zh"),
            ("ZHO", "zh"),
            ("zh", "zh"),
            ("中文", "zh"),
            ("eng", "en"),
            ("EN", "en"),
            ("Tib", "tib"),
        ] {
            assert_eq!(normalize_language(text), want, "{text:?}");
        }
        for class in ["I222.742", "K876.3", "TU-092.2", "J212.05", "K879.34", "TP311.13"] {
            assert!(is_clc_class(class), "{class}");
        }
        for text in [
            "中国画-考证-中国-辽金",
            "PL2658",
            "L123",
            "T",
            "K",
            "Kx12",
            "2003",
            "TW12",
        ] {
            assert!(!is_clc_class(text), "{text}");
        }
    }

    fn sample() -> DcFields {
        let mut dc = DcFields::default();
        for (element, value) in [
            ("title", " 开封魏晋南北朝古典小说图录：以开封为中心 "),
            ("title", "Kaifeng illustrated"),
            ("title", "  "),
            ("creator", "梁春"),
            ("contributor", "王五"),
            ("subject", "古典小说-史料"),
            ("subject", "I242.4"),
            ("description", "第一段。"),
            ("description", "第二段。"),
            ("publisher", "南京：江苏凤凰美术出版社"),
            ("date", "2022"),
            ("type", "图书"),
            ("format", "890页；30cm"),
            ("identifier", "ISBN 978-7-5580-6440-1"),
            ("identifier", "ISBN 978-7-5580-6440-9"),
            ("identifier", "https://peer.example.org/item/000047"),
            ("identifier", "https://mirror.example.org/000047"),
            ("language", "chi"),
            ("coverage", "魏晋南北朝"),
            ("coverage", ""),
            ("rights", "CC0"),
            ("source", "浙江图书馆"),
        ] {
            dc.push(element, value.to_owned());
        }
        dc
    }

    #[test]
    fn oai_dc_maps_every_element() {
        let record = map_oai_dc(&sample(), "peer", "zjlib", "oai:x:1").unwrap();
        assert_eq!(record.id, "peer:oai:x:1");
        assert_eq!(record.institution, "zjlib");
        assert_eq!(record.title, "开封魏晋南北朝古典小说图录：以开封为中心");
        assert_eq!(record.alternative_titles, ["Kaifeng illustrated"]);
        assert_eq!(record.creators, ["梁春"]);
        assert_eq!(record.contributors, ["王五"]);
        assert_eq!(record.subjects, ["古典小说-史料"]);
        assert_eq!(record.classifications, ["I242.4"]);
        assert_eq!(record.description.as_deref(), Some("第一段。\n第二段。"));
        assert_eq!(record.publisher.as_deref(), Some("南京：江苏凤凰美术出版社"));
        assert_eq!(record.year(), Some(2022));
        assert_eq!(record.resource_type, ResourceType::Book);
        assert_eq!(record.resource_type_original.as_deref(), Some("图书"));
        assert_eq!(record.language.as_deref(), Some("zh"));
        assert_eq!(record.isbns, ["9787558064401"]);
        assert_eq!(
            record.identifiers,
            [
                "ISBN 978-7-5580-6440-9",
                "https://peer.example.org/item/000047",
                "https://mirror.example.org/000047"
            ]
        );
        assert_eq!(
            record.source_url.as_deref(),
            Some("https://peer.example.org/item/000047")
        );
        assert_eq!(record.extent.as_deref(), Some("890页；30cm"));
        assert_eq!(record.coverage, ["魏晋南北朝"]);
        assert_eq!(record.rights.as_deref(), Some("CC0"));
    }

    #[test]
    fn unknown_types_are_other_but_kept() {
        let mut dc = sample();
        dc.r#type = vec!["Dataset".into(), "  ".into()];
        let record = map_oai_dc(&dc, "peer", "zjlib", "1").unwrap();
        assert_eq!(record.resource_type, ResourceType::Other);
        assert_eq!(record.resource_type_original.as_deref(), Some("Dataset"));
    }

    #[test]
    fn records_without_a_usable_title_or_valid_fields_are_refused() {
        let mut dc = sample();
        dc.title = vec!["   ".into()];
        assert!(
            map_oai_dc(&dc, "peer", "zjlib", "1")
                .unwrap_err()
                .contains("title")
        );

        let mut dc = sample();
        dc.title = vec!["长".repeat(2_001)];
        let err = map_oai_dc(&dc, "peer", "zjlib", "1").unwrap_err();
        assert!(err.contains("title has 2001 characters"), "{err}");

        let err = map_oai_dc(&sample(), "peer", "not a slug", "1").unwrap_err();
        assert!(err.contains("institution"), "{err}");
    }
}
