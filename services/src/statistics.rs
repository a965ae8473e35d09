//! Service statistics in: institutions report loans, visits, event attendance and online
//! views per day, as a CSV file (a curator's upload, or the API with the institution's key)
//! or as JSON rows (the API), and the daily aggregates per institution and district that the
//! dashboard, the API and the provincial export read.
//!
//! # The columns
//!
//! A CSV file has a header row; each column may be named in English or in Chinese (case and
//! surrounding spaces do not matter). JSON rows use the same names as keys.
//!
//! | column             | also                         | value                                   |
//! |--------------------|------------------------------|-----------------------------------------|
//! | `date`             | `day`, `日期`                | `2026-12-01`, `2026/12/1`, `2026年12月1日` (a Lanzhou day, not in the future, from 2000) |
//! | `institution`      | `机构`, `机构代码`           | the institution's id; optional, the upload's institution if absent |
//! | `loans`            | `借阅量`, `外借`, `外借量`     | whole number ≥ 0, or empty (not reported) |
//! | `visits`           | `到馆人次`                   | 〃                                       |
//! | `event_attendance` | `活动参与人次`               | 〃                                       |
//! | `online_views`     | `线上访问量`                 | 〃                                       |
//!
//! The file may be UTF-8 (with or without a byte order mark, as Excel writes it) or GBK /
//! GB18030 (decoded as harvested CSV exports are: [`harvesters::decode_csv_text`]); it holds
//! at most [`MAX_UPLOAD_BYTES`] bytes and [`MAX_ROWS`] data rows.
//!
//! # Errors, row by row
//!
//! Each problem is a [`RowError`]: the row (in a CSV file, the line as a spreadsheet numbers
//! it, the header being row 1; in JSON, the position in `rows` from 1), the column, a stable
//! code and a message in English and Chinese. **Valid rows are stored even when other rows
//! fail**; a failing row stores nothing of itself. Problems with the file as a whole (an
//! unknown or repeated column, no date column, too many rows or bytes) store nothing, since
//! every row would be read wrongly: they are reported on row 1 (or 0 for size).
//!
//! | code                | meaning                                                     |
//! |---------------------|-------------------------------------------------------------|
//! | `unknown_column`    | a header (or JSON key) that is none of the columns above    |
//! | `duplicate_column`  | two headers name the same column                            |
//! | `missing_column`    | no `date` column                                            |
//! | `bad_date`          | not a date, or before 2000                                  |
//! | `future_date`       | a day after today (Lanzhou)                                 |
//! | `negative_number`   | a figure below zero                                         |
//! | `not_a_number`      | a figure that is not a whole number                         |
//! | `too_large`         | a figure above [`MAX_FIGURE`]                               |
//! | `no_figures`        | a dated row without any figure                              |
//! | `wrong_institution` | an institution the reporter may not report for (or unknown) |
//! | `duplicate_day`     | the same institution and day twice in one upload            |
//! | `too_many_rows`     | more than [`MAX_ROWS`] data rows                            |
//! | `too_large_file`    | more than [`MAX_UPLOAD_BYTES`] bytes                        |
//! | `malformed`         | a CSV line the reader cannot split                          |
//!
//! Reporting a day again replaces its figures ([`store::Store::put_service_days`]), so an
//! upload can be repeated safely; every write is audited.

use std::collections::{BTreeMap, HashSet};

use crate::auth::Principal;
use schemas::{District, Institution};
use serde::Serialize;
use serde_json::Value;
use store::{ServiceDay, Store, StoreError};
use time::Date;

/// Largest upload, in bytes (a year of daily rows is about 20 KiB).
pub const MAX_UPLOAD_BYTES: usize = 512 * 1024;
/// Most data rows in one upload (ten years of days).
pub const MAX_ROWS: usize = 3_660;
/// Largest figure accepted for one institution and day.
pub const MAX_FIGURE: u64 = 100_000_000;

/// One column of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Date,
    Institution,
    Loans,
    Visits,
    EventAttendance,
    OnlineViews,
}

/// Every column with the names it is known by; the first is the canonical name.
const COLUMNS: &[(Column, &[&str])] = &[
    (Column::Date, &["date", "day", "日期"]),
    (Column::Institution, &["institution", "机构", "机构代码"]),
    (Column::Loans, &["loans", "借阅量", "外借", "外借量"]),
    (Column::Visits, &["visits", "到馆人次"]),
    (Column::EventAttendance, &["event_attendance", "活动参与人次"]),
    (Column::OnlineViews, &["online_views", "线上访问量"]),
];

impl Column {
    fn of(header: &str) -> Option<Column> {
        let header = header.trim().to_lowercase();
        COLUMNS
            .iter()
            .find(|(_, names)| names.contains(&header.as_str()))
            .map(|(column, _)| *column)
    }

    fn name(self) -> &'static str {
        COLUMNS
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("", |(_, names)| names[0])
    }
}

/// A row's cells: the column's name as sent, the column, the text.
type Cells<'a> = Vec<(&'a str, Column, String)>;

/// One problem with one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// The row: in CSV, the line as a spreadsheet numbers it (header = 1); in JSON, the
    /// position from 1; 0 for the upload as a whole.
    pub row: usize,
    /// The column as sent (header or key), if the problem is in one.
    pub column: Option<String>,
    /// A stable code (see the module documentation).
    pub code: &'static str,
    /// For people, in English.
    pub message: String,
    /// For people, in Chinese.
    pub message_zh: String,
}

fn error(
    row: usize,
    column: Option<&str>,
    code: &'static str,
    message: String,
    message_zh: String,
) -> RowError {
    RowError {
        row,
        column: column.map(str::to_string),
        code,
        message,
        message_zh,
    }
}

/// Who reports, and for which institutions.
#[derive(Debug, Clone)]
pub struct Reporter {
    /// The institution of rows that do not name one (the upload's, or the key's).
    pub default_institution: Option<String>,
    /// The institutions this reporter may report for (an admin: every known one).
    pub allowed: Vec<String>,
}

impl Reporter {
    /// A signed-in account: an admin may report for every institution in `known`, a curator
    /// for their own. Rows that name no institution are `chosen`'s, or the only one allowed.
    pub fn account(principal: &Principal, known: &[Institution], chosen: Option<&str>) -> Reporter {
        let allowed: Vec<String> = known
            .iter()
            .filter(|i| principal.may_curate(&i.id))
            .map(|i| i.id.clone())
            .collect();
        let default_institution = match (chosen, allowed.as_slice()) {
            (Some(chosen), _) => Some(chosen.to_string()),
            (None, [only]) => Some(only.clone()),
            (None, _) => None,
        };
        Reporter {
            default_institution,
            allowed,
        }
    }

    /// An institution's API key: that institution only.
    pub fn institution_key(institution: &str) -> Reporter {
        Reporter {
            default_institution: Some(institution.to_string()),
            allowed: vec![institution.to_string()],
        }
    }

    /// Whether this reporter may report for `institution`.
    pub fn may_report(&self, institution: &str) -> bool {
        self.allowed.iter().any(|i| i == institution)
    }
}

/// An upload read and checked: the days to store and the problems found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Valid rows.
    pub days: Vec<ServiceDay>,
    /// Every problem, in row order.
    pub errors: Vec<RowError>,
    /// The text encoding of a CSV upload (`UTF-8`, `UTF-8 (BOM)`, `GB18030`).
    pub encoding: Option<&'static str>,
}

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Valid rows (stored, or already stored with the same figures).
    pub accepted: usize,
    /// Rows whose stored figures changed (new days, or corrected ones).
    pub changed: usize,
    /// Rows refused.
    pub rejected: usize,
    /// Every problem, in row order.
    pub errors: Vec<RowError>,
}

/// Reads and checks a CSV upload against `reporter`, with `today` the Lanzhou day.
pub fn read_csv(bytes: &[u8], reporter: &Reporter, today: Date) -> Checked {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return file_error(error(
            0,
            None,
            "too_large_file",
            format!("the file has more than {MAX_UPLOAD_BYTES} bytes"),
            format!("文件超过 {} KB", MAX_UPLOAD_BYTES / 1024),
        ));
    }
    let (text, encoding) = harvesters::decode_csv_text(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(err)) => return file_error(malformed(1, &err)),
        None => {
            return file_error(error(
                1,
                None,
                "missing_column",
                "the file is empty: it needs a header row with a date column".into(),
                "文件为空：需要有“日期”列的表头行".into(),
            ));
        }
    };
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    let columns = match header_columns(&headers) {
        Ok(columns) => columns,
        Err(errors) => {
            return Checked {
                errors,
                ..Checked::default()
            };
        }
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        if rows.len() >= MAX_ROWS {
            return file_error(error(
                row,
                None,
                "too_many_rows",
                format!("more than {MAX_ROWS} data rows: split the file"),
                format!("数据超过 {MAX_ROWS} 行，请分成几个文件上传"),
            ));
        }
        match record {
            Ok(record) => {
                let cells: Cells<'_> = columns
                    .iter()
                    .zip(headers.iter())
                    .enumerate()
                    .map(|(j, (column, name))| {
                        (name.as_str(), *column, record.get(j).unwrap_or("").to_string())
                    })
                    .collect();
                if cells.iter().all(|(_, _, v)| v.trim().is_empty()) {
                    continue; // Spreadsheets leave blank lines at the end.
                }
                rows.push((row, cells));
            }
            Err(err) => errors.push(malformed(row, &err)),
        }
    }
    let mut checked = check_rows(rows, reporter, today);
    checked.errors.extend(errors);
    checked.errors.sort_by_key(|e| e.row);
    checked.encoding = Some(encoding.name());
    checked
}

/// Checks JSON rows (objects keyed by the column names; figures as numbers or strings).
pub fn read_json(rows: &[BTreeMap<String, Value>], reporter: &Reporter, today: Date) -> Checked {
    if rows.len() > MAX_ROWS {
        return file_error(error(
            MAX_ROWS + 1,
            None,
            "too_many_rows",
            format!("more than {MAX_ROWS} rows: send them in several requests"),
            format!("超过 {MAX_ROWS} 行，请分几次提交"),
        ));
    }
    let mut errors = Vec::new();
    let mut checked_rows = Vec::new();
    for (i, object) in rows.iter().enumerate() {
        let row = i + 1;
        let mut cells = Vec::new();
        let mut seen = HashSet::new();
        let mut ok = true;
        for (key, value) in object {
            let Some(column) = Column::of(key) else {
                errors.push(unknown_column(row, key));
                ok = false;
                continue;
            };
            if !seen.insert(column) {
                errors.push(duplicate_column(row, key));
                ok = false;
                continue;
            }
            let text = match value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => other.to_string(),
            };
            cells.push((key.as_str(), column, text));
        }
        if ok {
            checked_rows.push((row, cells));
        }
    }
    let mut checked = check_rows(checked_rows, reporter, today);
    checked.errors.extend(errors);
    checked.errors.sort_by_key(|e| e.row);
    checked
}

/// Stores the valid days of `checked` by `actor` (audited) and says what happened.
pub fn submit(store: &Store, actor: &str, checked: Checked) -> Result<Report, StoreError> {
    let changed = if checked.days.is_empty() {
        0
    } else {
        store.put_service_days(actor, &checked.days)?
    };
    let rejected: HashSet<usize> = checked.errors.iter().map(|e| e.row).filter(|r| *r > 1).collect();
    Ok(Report {
        accepted: checked.days.len(),
        changed,
        rejected: rejected.len(),
        errors: checked.errors,
    })
}

fn file_error(e: RowError) -> Checked {
    Checked {
        errors: vec![e],
        ..Checked::default()
    }
}

fn malformed(row: usize, err: &csv::Error) -> RowError {
    error(
        row,
        None,
        "malformed",
        format!("the line cannot be read as CSV: {err}"),
        "这一行不是有效的 CSV（引号不配对？）".into(),
    )
}

fn unknown_column(row: usize, name: &str) -> RowError {
    error(
        row,
        Some(name),
        "unknown_column",
        format!(
            "unknown column {name:?}: use date, institution, loans, visits, event_attendance, online_views"
        ),
        format!("无法识别的列“{name}”：可用 日期、机构、借阅量、到馆人次、活动参与人次、线上访问量"),
    )
}

fn duplicate_column(row: usize, name: &str) -> RowError {
    error(
        row,
        Some(name),
        "duplicate_column",
        format!("column {name:?} names a column given before"),
        format!("列“{name}”与前面的列重复"),
    )
}

/// The column of each header, or the header's errors (row 1).
fn header_columns(headers: &[String]) -> Result<Vec<Column>, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut columns = Vec::new();
    for header in headers {
        let name = header.trim_start_matches('\u{feff}');
        match Column::of(name) {
            Some(column) if columns.contains(&column) => errors.push(duplicate_column(1, name)),
            Some(column) => columns.push(column),
            None => errors.push(unknown_column(1, name)),
        }
    }
    if !columns.contains(&Column::Date) {
        errors.push(error(
            1,
            None,
            "missing_column",
            "no date column (date or 日期)".into(),
            "缺少“日期”列".into(),
        ));
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// Parses a day as spreadsheets write it: `2026-12-01`, `2026/12/1`, `2026.12.1`,
/// `2026年12月1日`.
pub fn parse_report_day(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text
        .trim()
        .trim_end_matches('日')
        .split(['-', '/', '.', '年', '月'])
        .collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let year: i32 = year.trim().parse().ok()?;
    let month: u8 = month.trim().parse().ok()?;
    let day: u8 = day.trim().parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// Checks each row's cells: `(row number, [(name as sent, column, text)])`.
fn check_rows(rows: Vec<(usize, Cells<'_>)>, reporter: &Reporter, today: Date) -> Checked {
    let earliest = Date::from_calendar_date(2000, time::Month::January, 1).unwrap_or(Date::MIN);
    let mut days = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (row, cells) in rows {
        let before = errors.len();
        let mut day = ServiceDay::default();
        let mut date = None;
        let mut institution = reporter.default_institution.clone();
        let mut figures = 0;
        for (name, column, text) in cells.iter().map(|(n, c, t)| (*n, *c, t.trim())) {
            match column {
                Column::Date => match parse_report_day(text) {
                    Some(d) if d < earliest => errors.push(error(
                        row,
                        Some(name),
                        "bad_date",
                        format!("{text:?} is before 2000"),
                        format!("日期“{text}”早于 2000 年"),
                    )),
                    Some(d) if d > today => errors.push(error(
                        row,
                        Some(name),
                        "future_date",
                        format!("{text} is in the future"),
                        format!("日期 {text} 还没有到"),
                    )),
                    Some(d) => date = Some(d),
                    None => errors.push(error(
                        row,
                        Some(name),
                        "bad_date",
                        format!("{text:?} is not a date (write 2026-12-01)"),
                        format!("“{text}”不是日期（请写成 2026-12-01）"),
                    )),
                },
                Column::Institution if !text.is_empty() => institution = Some(text.to_string()),
                Column::Institution => {}
                figure => {
                    if text.is_empty() {
                        continue;
                    }
                    match parse_figure(text) {
                        Ok(n) => {
                            figures += 1;
                            let slot = match figure {
                                Column::Loans => &mut day.loans,
                                Column::Visits => &mut day.visits,
                                Column::EventAttendance => &mut day.event_attendance,
                                _ => &mut day.online_views,
                            };
                            *slot = Some(n);
                        }
                        Err((code, message, message_zh)) => {
                            errors.push(error(row, Some(name), code, message, message_zh))
                        }
                    }
                }
            }
        }
        if !cells.iter().any(|(_, c, _)| *c == Column::Date) {
            errors.push(error(
                row,
                Some(Column::Date.name()),
                "bad_date",
                "the row has no date".into(),
                "这一行没有日期".into(),
            ));
        }
        match &institution {
            Some(id) if reporter.allowed.contains(id) => {}
            Some(id) => errors.push(error(
                row,
                Some(Column::Institution.name()),
                "wrong_institution",
                format!("you may not report for institution {id:?} (unknown, or not yours)"),
                format!("无权为机构“{id}”报送（机构不存在或不归您负责）"),
            )),
            None => errors.push(error(
                row,
                Some(Column::Institution.name()),
                "wrong_institution",
                "the row names no institution, and the upload has none".into(),
                "这一行没有注明机构，上传时也未选择机构".into(),
            )),
        }
        if errors.len() > before {
            continue;
        }
        let (Some(date), Some(institution)) = (date, institution) else {
            continue;
        };
        if figures == 0 {
            errors.push(error(
                row,
                None,
                "no_figures",
                "the row has a date but no figure".into(),
                "这一行只有日期，没有任何数字".into(),
            ));
            continue;
        }
        day.day = store::analytics::format_day(date);
        day.institution = institution;
        if !seen.insert((day.institution.clone(), day.day.clone())) {
            errors.push(error(
                row,
                Some(Column::Date.name()),
                "duplicate_day",
                format!(
                    "{} is given twice for {} in this upload",
                    day.day, day.institution
                ),
                format!("本次上传中 {} 出现了两次", day.day),
            ));
            continue;
        }
        days.push(day);
    }
    Checked {
        days,
        errors,
        encoding: None,
    }
}

/// A figure: a whole number, thousands separators allowed.
fn parse_figure(text: &str) -> Result<u64, (&'static str, String, String)> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '_'))
        .collect();
    if let Some(rest) = digits.strip_prefix('-')
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return Err((
            "negative_number",
            format!("{text} is negative"),
            format!("{text} 是负数"),
        ));
    }
    match digits.parse::<u64>() {
        Ok(n) if n > MAX_FIGURE => Err((
            "too_large",
            format!("{text} is more than {MAX_FIGURE}"),
            format!("{text} 超过上限 {MAX_FIGURE}"),
        )),
        Ok(n) => Ok(n),
        Err(_) => Err((
            "not_a_number",
            format!("{text:?} is not a whole number"),
            format!("“{text}”不是整数"),
        )),
    }
}

/// Sums of the four figures (a figure not reported counts as nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Totals {
    /// Items lent.
    pub loans: u64,
    /// Visits.
    pub visits: u64,
    /// Event attendance.
    pub event_attendance: u64,
    /// Online views.
    pub online_views: u64,
    /// Institution-days reported.
    pub reports: u64,
}

impl Totals {
    fn add(&mut self, day: &ServiceDay) {
        self.loans += day.loans.unwrap_or(0);
        self.visits += day.visits.unwrap_or(0);
        self.event_attendance += day.event_attendance.unwrap_or(0);
        self.online_views += day.online_views.unwrap_or(0);
        self.reports += 1;
    }
}

/// Which days and institutions an aggregate covers.
#[derive(Debug, Clone)]
pub struct Selection {
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
    /// Only this institution.
    pub institution: Option<String>,
    /// Only institutions in this district.
    pub district: Option<District>,
}

/// One institution's day, with its district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct InstitutionDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Institution id.
    pub institution: String,
    /// Its district (Chinese name), if it has one.
    pub district: Option<String>,
    /// Items lent (absent: not reported).
    pub loans: Option<u64>,
    /// Visits.
    pub visits: Option<u64>,
    /// Event attendance.
    pub event_attendance: Option<u64>,
    /// Online views.
    pub online_views: Option<u64>,
}

/// The aggregates of a [`Selection`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Aggregates {
    /// Every reported institution-day, by day and institution.
    pub rows: Vec<InstitutionDay>,
    /// Per day, summed over the selected institutions.
    pub days: Vec<(String, Totals)>,
    /// Per institution `(id, name, district)`, summed over the days; busiest (by visits) first.
    pub institutions: Vec<(String, String, String, Totals)>,
    /// Per district, summed; busiest first. Institutions without a district are under `""`.
    pub districts: Vec<(String, Totals)>,
    /// Everything summed.
    pub total: Totals,
}

/// The daily aggregates of `selection`.
pub fn aggregates(store: &Store, selection: &Selection) -> Result<Aggregates, StoreError> {
    let institutions = store.institutions()?;
    let by_id: BTreeMap<&str, &Institution> = institutions.iter().map(|i| (i.id.as_str(), i)).collect();
    let district_of = |id: &str| by_id.get(id).and_then(|i| i.district);
    let from = store::analytics::format_day(selection.from);
    let to = store::analytics::format_day(selection.to);
    let mut out = Aggregates::default();
    let mut days: BTreeMap<String, Totals> = BTreeMap::new();
    let mut per_institution: BTreeMap<String, Totals> = BTreeMap::new();
    let mut per_district: BTreeMap<String, Totals> = BTreeMap::new();
    for day in store.service_days(&from, &to, None)? {
        let district = district_of(&day.institution);
        if selection
            .institution
            .as_ref()
            .is_some_and(|i| *i != day.institution)
            || selection.district.is_some_and(|d| Some(d) != district)
        {
            continue;
        }
        let district_name = district.map(|d| d.as_str().to_string());
        days.entry(day.day.clone()).or_default().add(&day);
        per_institution
            .entry(day.institution.clone())
            .or_default()
            .add(&day);
        per_district
            .entry(district_name.clone().unwrap_or_default())
            .or_default()
            .add(&day);
        out.total.add(&day);
        out.rows.push(InstitutionDay {
            day: day.day,
            institution: day.institution,
            district: district_name,
            loans: day.loans,
            visits: day.visits,
            event_attendance: day.event_attendance,
            online_views: day.online_views,
        });
    }
    out.days = days.into_iter().collect();
    out.institutions = per_institution
        .into_iter()
        .map(|(id, totals)| {
            let (name, district) = by_id.get(id.as_str()).map_or((id.clone(), String::new()), |i| {
                (
                    i.name.clone(),
                    i.district.map(|d| d.as_str().to_string()).unwrap_or_default(),
                )
            });
            (id, name, district, totals)
        })
        .collect();
    out.institutions
        .sort_by(|a, b| b.3.visits.cmp(&a.3.visits).then(a.0.cmp(&b.0)));
    out.districts = per_district.into_iter().collect();
    out.districts
        .sort_by(|a, b| b.1.visits.cmp(&a.1.visits).then(a.0.cmp(&b.0)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn reporter() -> Reporter {
        Reporter {
            default_institution: Some("lib".into()),
            allowed: vec!["lib".into()],
        }
    }

    #[test]
    fn chinese_headers_and_dates_as_spreadsheets_write_them() {
        let csv = "\u{feff}日期,外借,到馆人次,活动参与人次,线上访问量\n2026/12/1,10,\"1,200\",,5\n2026年12月2日,3,4,5,6\n,,,,\n";
        let checked = read_csv(csv.as_bytes(), &reporter(), date!(2026 - 12 - 07));
        assert_eq!(checked.errors, vec![]);
        assert_eq!(checked.encoding, Some("UTF-8 (BOM)"));
        assert_eq!(checked.days.len(), 2);
        assert_eq!(checked.days[0].day, "2026-12-01");
        assert_eq!(checked.days[0].visits, Some(1200));
        assert_eq!(
            checked.days[0].event_attendance, None,
            "empty is not reported, not zero"
        );
        assert_eq!(checked.days[1].day, "2026-12-02");
    }

    #[test]
    fn every_bad_row_is_reported_and_the_good_ones_kept() {
        let csv = "date,institution,loans,visits\n\
                   2026-12-01,lib,1,2\n\
                   2026-13-01,lib,1,2\n\
                   2026-12-09,lib,1,2\n\
                   2026-12-02,lib,-4,2\n\
                   2026-12-03,mus,1,2\n\
                   2026-12-01,lib,5,5\n\
                   2026-12-04,lib,x,\n\
                   2026-12-05,,,\n";
        let checked = read_csv(csv.as_bytes(), &reporter(), date!(2026 - 12 - 07));
        let codes: Vec<(usize, &str)> = checked.errors.iter().map(|e| (e.row, e.code)).collect();
        assert_eq!(
            codes,
            vec![
                (3, "bad_date"),
                (4, "future_date"),
                (5, "negative_number"),
                (6, "wrong_institution"),
                (7, "duplicate_day"),
                (8, "not_a_number"),
                (9, "no_figures"),
            ]
        );
        assert_eq!(checked.errors[2].column.as_deref(), Some("loans"));
        assert_eq!(checked.days.len(), 1);
    }

    #[test]
    fn a_wrong_header_stores_nothing() {
        let csv = "日期,到馆人数,visits,到馆人次\n2026-12-01,1,2,3\n";
        let checked = read_csv(csv.as_bytes(), &reporter(), date!(2026 - 12 - 07));
        let codes: Vec<&str> = checked.errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["unknown_column", "duplicate_column"]);
        assert_eq!(checked.errors[0].column.as_deref(), Some("到馆人数"));
        assert!(checked.days.is_empty());
    }

    #[test]
    fn gbk_is_read() {
        let (gbk, _, _) = encoding_rs::GBK.encode("日期,到馆人次,外借\n2026-12-01,42,7\n");
        let checked = read_csv(&gbk, &reporter(), date!(2026 - 12 - 07));
        assert_eq!(checked.errors, vec![]);
        assert_eq!(checked.encoding, Some("GB18030"));
        assert_eq!(checked.days[0].visits, Some(42));
        assert_eq!(checked.days[0].loans, Some(7));
    }

    #[test]
    fn json_rows_take_the_same_checks() {
        let rows: Vec<BTreeMap<String, Value>> = serde_json::from_str(
            r#"[{"date": "2026-12-01", "visits": 3, "借阅量": "4"},
                {"date": "2026-12-02", "visits": -1},
                {"date": "2026-12-03", "visitors": 1}]"#,
        )
        .unwrap();
        let checked = read_json(&rows, &reporter(), date!(2026 - 12 - 07));
        let codes: Vec<(usize, &str)> = checked.errors.iter().map(|e| (e.row, e.code)).collect();
        assert_eq!(codes, vec![(2, "negative_number"), (3, "unknown_column")]);
        assert_eq!(checked.days[0].loans, Some(4));
    }
}
