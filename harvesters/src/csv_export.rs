//! CSV exports with a declarative column mapping: which column is the id, which the title,
//! the creator, the date…, and which multi-valued columns split on what.
//!
//! The text encoding is detected: UTF-8 with or without a byte order mark, else GB18030
//! (which covers GBK and GB2312, what Chinese spreadsheet software writes); a source may
//! also name its encoding. Rows are mapped one by one through [`Record::set_field`], so
//! dates, languages and ISBNs get the same normalisation as every other format.
//!
//! A row with the wrong number of columns, without an id, with a duplicate id, with bytes
//! that are not valid in the file's encoding, or without a usable required field is
//! quarantined with its row number and raw text; the other rows go on.

use std::collections::{BTreeMap, HashSet};

use encoding_rs::{Encoding, GB18030, UTF_8};
use schemas::{FieldStatus, MAPPABLE_FIELDS, Record, ResourceType, record_id};

use crate::{Error, HarvestedItem, ItemOutcome, Result};

/// How to read one CSV export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Our id for the source; record ids are `{source_id}:{id column value}`.
    pub source_id: String,
    /// Id of the institution the records are attributed to.
    pub institution: String,
    /// Header of the column holding each row's stable id (`藏品编号`).
    pub id_column: String,
    /// Record field name (see [`schemas::MAPPABLE_FIELDS`]) → column header, e.g.
    /// `title` → `名称`, `date` → `年代`, `event.start` → `开始时间`.
    pub columns: BTreeMap<String, String>,
    /// Record field name → separator of its multiple values in one cell (`；`, `|`).
    pub separators: BTreeMap<String, String>,
    /// The field delimiter; `,` if not given.
    pub delimiter: Option<u8>,
    /// The text encoding (a WHATWG label: `utf-8`, `gbk`, `gb18030`); detected if not given.
    pub encoding: Option<String>,
    /// Fields a row must have, understood (a date with years, a valid ISBN, an event time),
    /// or it is quarantined. The title is always required.
    pub required: Vec<String>,
    /// The resource type of rows that do not say (a museum's export: `Artefact`).
    pub default_resource_type: Option<ResourceType>,
}

/// The encoding a CSV file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvEncoding {
    /// UTF-8 without a byte order mark.
    Utf8,
    /// UTF-8 with a byte order mark (as Excel writes it).
    Utf8Bom,
    /// GB18030 (a superset of GBK and GB2312), because the bytes were not UTF-8.
    Gb18030,
    /// The encoding the source's configuration names.
    Configured(&'static Encoding),
}

impl CsvEncoding {
    /// The encoding's name, for reports: `UTF-8`, `UTF-8 (BOM)`, `GB18030`, or the
    /// configured one's.
    pub fn name(self) -> &'static str {
        match self {
            CsvEncoding::Utf8 => "UTF-8",
            CsvEncoding::Utf8Bom => "UTF-8 (BOM)",
            CsvEncoding::Gb18030 => "GB18030",
            CsvEncoding::Configured(encoding) => encoding.name(),
        }
    }
}

/// A CSV file's rows, and the encoding it was read in.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvHarvest {
    /// One item per data row, in file order.
    pub items: Vec<HarvestedItem>,
    /// The encoding the file was decoded with.
    pub encoding: CsvEncoding,
}

/// Reads a CSV export into one [`HarvestedItem`] per data row.
///
/// Fails only when the whole file is unusable: an unknown configured encoding, an unknown
/// field name in the mapping, no header row, or a mapped column missing from the header
/// (the error names it).
///
/// ```
/// use std::collections::BTreeMap;
/// use jincheng_harvesters::{CsvOptions, ItemOutcome, read_csv};
/// let options = CsvOptions {
///     source_id: "gsm-csv".into(),
///     institution: "gsmuseum".into(),
///     id_column: "编号".into(),
///     columns: BTreeMap::from([("title".into(), "名称".into()), ("date".into(), "年代".into())]),
///     ..CsvOptions::default()
/// };
/// let items = read_csv("编号,名称,年代\nGM-1,铜奔马,东汉\n".as_bytes(), &options).unwrap();
/// let ItemOutcome::Record(record) = &items[0].outcome else { panic!() };
/// assert_eq!((record.title.as_str(), record.year()), ("铜奔马", Some(25)));
/// ```
pub fn read_csv(bytes: &[u8], options: &CsvOptions) -> Result<Vec<HarvestedItem>> {
    read_csv_report(bytes, options).map(|harvest| harvest.items)
}

/// [`read_csv`], also telling which encoding the file was read in.
pub fn read_csv_report(bytes: &[u8], options: &CsvOptions) -> Result<CsvHarvest> {
    read_csv_lines(bytes, options, 0)
}

/// [`read_csv_report`] of a part of a larger file (its header row, then some of its rows)
/// with `lines_before` lines of the file before those rows: reasons name the rows' lines in
/// the whole file.
pub(crate) fn read_csv_lines(bytes: &[u8], options: &CsvOptions, lines_before: usize) -> Result<CsvHarvest> {
    for field in options.columns.keys().chain(&options.required) {
        if !MAPPABLE_FIELDS.contains(&field.as_str()) {
            return Err(Error::InvalidSource(format!(
                "CSV mapping of {}: unknown record field {field:?}; expected one of: {}",
                options.source_id,
                MAPPABLE_FIELDS.join(", ")
            )));
        }
    }
    let (text, encoding) = decode(bytes, options)?;
    tracing::info!(source = %options.source_id, encoding = encoding.name(), "reading CSV");
    let delimiter = options.delimiter.unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());

    // Every row with where it starts, so each item can carry its raw text.
    let mut rows: Vec<(usize, u64, std::result::Result<csv::StringRecord, String>)> = Vec::new();
    // (The reader's line numbers are kept for nothing but its own errors.)
    let mut record = csv::StringRecord::new();
    loop {
        let start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => rows.push((start, line, Ok(record.clone()))),
            Ok(false) => break,
            Err(e) => {
                rows.push((start, line, Err(e.to_string())));
                // A reader error is not resumable in every case; stop rather than loop.
                if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    break;
                }
            }
        }
    }
    let raw_of = |i: usize| -> String {
        let start = rows.get(i).map_or(text.len(), |r| r.0);
        let end = rows.get(i + 1).map_or(text.len(), |r| r.0);
        text.get(start..end)
            .unwrap_or_default()
            .trim_matches(['\r', '\n'])
            .to_owned()
    };

    let Some((_, _, Ok(header))) = rows.first() else {
        return Err(Error::InvalidSource(format!(
            "CSV of {} has no readable header row",
            options.source_id
        )));
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let column = |name: &str| -> Result<usize> {
        header.iter().position(|h| h == name.trim()).ok_or_else(|| {
            Error::InvalidSource(format!(
                "CSV of {}: column {name:?} is not in the header ({})",
                options.source_id,
                header.join(", ")
            ))
        })
    };
    let id_index = column(&options.id_column)?;
    let mut mapped: Vec<(&str, &str, usize)> = Vec::new();
    for (field, name) in &options.columns {
        mapped.push((field.as_str(), name.as_str(), column(name)?));
    }

    let mut seen_ids = HashSet::new();
    let mut items = Vec::new();
    for (i, (start, _, row)) in rows.iter().enumerate().skip(1) {
        let raw = raw_of(i);
        // The line the row starts on (the reader's own count lags behind after CRLF).
        let skipped = text.get(*start..).unwrap_or_default().len().saturating_sub(
            text.get(*start..)
                .unwrap_or_default()
                .trim_start_matches(['\r', '\n'])
                .len(),
        );
        let line = 1
            + lines_before
            + text
                .get(..start + skipped)
                .unwrap_or_default()
                .bytes()
                .filter(|&b| b == b'\n')
                .count();
        let quarantine = |local_id: String, reason: String| HarvestedItem {
            local_id,
            datestamp: String::new(),
            sets: Vec::new(),
            raw: raw.clone(),
            outcome: ItemOutcome::Quarantined { reason },
        };
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                items.push(quarantine(
                    String::new(),
                    format!("row {line}: unreadable CSV: {e}"),
                ));
                continue;
            }
        };
        if row.len() == 1 && row.get(0).is_some_and(|cell| cell.trim().is_empty()) {
            continue; // a blank line
        }
        let local_id = row.get(id_index).unwrap_or_default().trim().to_owned();
        if row.len() != header.len() {
            let reason = format!(
                "row {line} has {} columns; the header has {}",
                row.len(),
                header.len()
            );
            items.push(quarantine(local_id, reason));
            continue;
        }
        if row.iter().any(|cell| cell.contains('\u{FFFD}')) {
            let reason = format!("row {line} has bytes that are not valid {}", encoding.name());
            items.push(quarantine(local_id, reason));
            continue;
        }
        if local_id.is_empty() {
            let reason = format!("row {line} has no id (column {:?})", options.id_column);
            items.push(quarantine(local_id, reason));
            continue;
        }
        if !seen_ids.insert(local_id.clone()) {
            let reason = format!("row {line} repeats id {local_id:?} of an earlier row");
            items.push(quarantine(local_id, reason));
            continue;
        }
        let cells = mapped.iter().map(|(field, name, index)| {
            let cell = row.get(*index).unwrap_or_default();
            let values = match options.separators.get(*field) {
                Some(separator) if !separator.is_empty() => {
                    cell.split(separator.as_str()).map(str::to_owned).collect()
                }
                _ => vec![cell.to_owned()],
            };
            (*field, *name, values)
        });
        match map_fields(
            &options.source_id,
            &options.institution,
            &local_id,
            cells,
            options,
        ) {
            Ok(record) => items.push(HarvestedItem {
                local_id,
                datestamp: String::new(),
                sets: Vec::new(),
                raw,
                outcome: ItemOutcome::Record(Box::new(record)),
            }),
            Err(reason) => items.push(quarantine(local_id, format!("row {line}: {reason}"))),
        }
    }
    Ok(CsvHarvest { items, encoding })
}

/// What a declarative mapping needs besides the values: shared by CSV and JSON.
pub(crate) trait FieldRules {
    fn required(&self) -> &[String];
    fn default_resource_type(&self) -> Option<ResourceType>;
}

impl FieldRules for CsvOptions {
    fn required(&self) -> &[String] {
        &self.required
    }
    fn default_resource_type(&self) -> Option<ResourceType> {
        self.default_resource_type
    }
}

/// Builds a record from `(field, where it came from, values)` triples; a required field
/// that is empty or not understood, or a missing title, is an error.
pub(crate) fn map_fields<'a>(
    source_id: &str,
    institution: &str,
    local_id: &str,
    cells: impl Iterator<Item = (&'a str, &'a str, Vec<String>)>,
    rules: &impl FieldRules,
) -> std::result::Result<Record, String> {
    let mut record = Record::new(record_id(source_id, local_id), institution, "");
    let mut problems = Vec::new();
    let mut set_fields = HashSet::new();
    // Fields already reported, by name (not by searching the messages: `title` is inside
    // `alternative_titles`).
    let mut reported = HashSet::new();
    for (field, origin, values) in cells {
        let status = record.set_field(field, &values).map_err(|e| e.to_string())?;
        let required = rules.required().iter().any(|r| r == field);
        match status {
            FieldStatus::Set => {
                set_fields.insert(field);
            }
            FieldStatus::Empty if required => {
                reported.insert(field);
                problems.push(format!("required {field} ({origin}) is empty"));
            }
            FieldStatus::NotUnderstood(why) if required => {
                reported.insert(field);
                problems.push(format!("required {field} ({origin}): {why}"));
            }
            _ => {}
        }
    }
    for field in rules.required() {
        if !set_fields.contains(field.as_str()) && !reported.contains(field.as_str()) {
            reported.insert(field.as_str());
            problems.push(format!("required {field} is not mapped"));
        }
    }
    if record.title.trim().is_empty() && !reported.contains("title") {
        problems.push("no title".into());
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    // The source's own term (kept as the original) may be one the vocabulary lacks
    // (`青铜器`); the source's default type still says what kind of thing it is.
    if record.resource_type == ResourceType::Other
        && let Some(default) = rules.default_resource_type()
    {
        record.resource_type = default;
    }
    record.date_from_period();
    // An event learns whether it is free and whom it is for from its title, description and
    // subjects, as Dublin Core and feed events do ([`schemas::EventInfo::read_text`]).
    if let Some(event) = &mut record.event {
        for text in [Some(&record.title), record.description.as_ref()]
            .into_iter()
            .flatten()
            .chain(&record.subjects)
        {
            event.read_text(text);
        }
    }
    record.validate().map_err(|e| format!("invalid record: {e}"))?;
    Ok(record)
}

/// Decodes CSV bytes as a CSV export is: UTF-8 with or without a byte order mark, else
/// GB18030 (which covers GBK and GB2312). Also used for the service statistics that
/// institutions upload, which come from the same spreadsheets.
pub fn decode_csv_text(bytes: &[u8]) -> (String, CsvEncoding) {
    match decode(bytes, &CsvOptions::default()) {
        Ok(decoded) => decoded,
        // Without a configured encoding, decoding cannot fail; GB18030 decodes anything.
        Err(_) => (
            GB18030.decode_without_bom_handling(bytes).0.into_owned(),
            CsvEncoding::Gb18030,
        ),
    }
}

/// Decodes the file: the configured encoding, else UTF-8 (BOM or not), else GB18030.
fn decode(bytes: &[u8], options: &CsvOptions) -> Result<(String, CsvEncoding)> {
    if let Some(label) = &options.encoding {
        let encoding = Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            Error::InvalidSource(format!(
                "CSV of {}: unknown encoding {label:?}",
                options.source_id
            ))
        })?;
        let (text, _, _) = encoding.decode(bytes);
        return Ok((text.into_owned(), CsvEncoding::Configured(encoding)));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        let (text, _) = UTF_8.decode_without_bom_handling(rest);
        return Ok((text.into_owned(), CsvEncoding::Utf8Bom));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), CsvEncoding::Utf8));
    }
    let (text, _) = GB18030.decode_without_bom_handling(bytes);
    Ok((text.into_owned(), CsvEncoding::Gb18030))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_title_is_reported_beside_a_missing_alternative_title() {
        struct Rules(Vec<String>);
        impl FieldRules for Rules {
            fn required(&self) -> &[String] {
                &self.0
            }
            fn default_resource_type(&self) -> Option<ResourceType> {
                None
            }
        }
        let rules = Rules(vec!["alternative_titles".into()]);
        let cells = [("alternative_titles", "别名", Vec::new())];
        let err = map_fields("src", "inst", "1", cells.into_iter(), &rules).unwrap_err();
        assert!(
            err.contains("required alternative_titles (别名) is empty"),
            "{err}"
        );
        assert!(err.contains("no title"), "{err}");
    }

    #[test]
    fn a_mapped_event_reads_free_audience_and_replay_as_harvested_events_do() {
        struct Rules;
        impl FieldRules for Rules {
            fn required(&self) -> &[String] {
                &[]
            }
            fn default_resource_type(&self) -> Option<ResourceType> {
                Some(ResourceType::Event)
            }
        }
        let cell = |field, value: &str| (field, field, vec![value.to_owned()]);
        let cells = [
            cell("title", "少儿剪纸公益课"),
            cell("event.start", "2026年12月12日 10:00"),
            cell("event.replay_url", "https://live.example.cn/replay/1"),
        ];
        let record = map_fields("src", "inst", "1", cells.into_iter(), &Rules).unwrap();
        let event = record.event.unwrap();
        assert_eq!(event.start.as_deref(), Some("2026-12-12T10:00"));
        assert_eq!(event.free, Some(true));
        assert_eq!(event.audience, [schemas::Audience::Children]);
        assert_eq!(
            event.replay_url.as_deref(),
            Some("https://live.example.cn/replay/1")
        );
        // A record that is not an event gets no event facts from its text.
        let book = [cell("title", "免费读物")];
        assert_eq!(
            map_fields("src", "inst", "2", book.into_iter(), &Rules)
                .unwrap()
                .event,
            None
        );
    }

    #[test]
    fn encodings_are_detected() {
        let options = CsvOptions::default();
        let (gbk, _, _) = encoding_rs::GBK.encode("名称\n彩陶罐\n");
        assert_eq!(
            decode(&gbk, &options).unwrap(),
            ("名称\n彩陶罐\n".into(), CsvEncoding::Gb18030)
        );
        let bom = b"\xEF\xBB\xBFa\n".to_vec();
        assert_eq!(
            decode(&bom, &options).unwrap(),
            ("a\n".into(), CsvEncoding::Utf8Bom)
        );
        assert_eq!(decode(b"a\n", &options).unwrap().1, CsvEncoding::Utf8);
        let named = CsvOptions {
            encoding: Some("nonsense".into()),
            ..CsvOptions::default()
        };
        assert!(matches!(decode(b"a", &named), Err(Error::InvalidSource(_))));
    }
}
