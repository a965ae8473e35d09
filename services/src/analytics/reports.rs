//! The reports, as [`Table`]s: named columns and rows of cells, rendered as JSON, CSV or
//! NDJSON by the same code so every report has every format.
//!
//! | report          | rows                                                              |
//! |-----------------|-------------------------------------------------------------------|
//! | `volume`        | per day (`by=week`: per week from Monday): searches, zero results, clicks |
//! | `top_queries`   | queries by searches, with zero results, sessions, clicks          |
//! | `rising`        | queries searched more in the 7 days ending `to` than on average in the 4 weeks before |
//! | `zero_results`  | queries (normalised) with searches that found nothing             |
//! | `no_clicks`     | queries that found something but whose results nobody clicked     |
//! | `filters`       | every filter value used (facet usage)                             |
//! | `demand`        | demand by district (`region`), institution type, resource type    |
//! | `acquisitions`  | per library: recurring zero/low-result queries that look like a title, an author or an ISBN, and open purchase suggestions, ranked by demand (unmet searches + 3 per requester) |
//! | `seasonal`      | per month: demand by resource type (activities, exhibitions, …) and institution type, to plan programmes |
//! | `activities`    | per month: demand by activity type (lectures, courses, performances, heritage, …) read from the queries, for the cultural centres |
//! | `channels`      | searches per channel (`web`, `app`, `api`)                        |
//! | `status`        | the pipeline's counters (accepted, written, dropped, failed)      |

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::Date;

use super::activities::ACTIVITY_TYPES;
use super::{AnalyticsStats, format_day, parse_day};
use store::{Store, StoreError};

/// Most rows of a query report.
pub const MAX_ROWS: usize = 1_000;
/// A query needs this many zero- or low-result searches to be suggested for acquisition.
pub const MIN_UNMET_FOR_ACQUISITION: u64 = 2;

/// Every report name.
pub const REPORTS: &[&str] = &[
    "volume",
    "top_queries",
    "rising",
    "zero_results",
    "no_clicks",
    "filters",
    "demand",
    "acquisitions",
    "seasonal",
    "activities",
    "channels",
    "status",
];

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A count.
    Int(u64),
    /// A ratio or an average.
    Float(f64),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<u64> for Cell {
    fn from(n: u64) -> Cell {
        Cell::Int(n)
    }
}
impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::Float(x)
    }
}

impl Cell {
    fn to_json(&self) -> Value {
        match self {
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Int(n) => Value::from(*n),
            Cell::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        }
    }

    fn to_csv(&self) -> String {
        match self {
            Cell::Text(s) => {
                // A cell starting with one of these is a formula to a spreadsheet; queries are
                // typed by anyone, so they are defused with a leading apostrophe.
                let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    format!("'{s}")
                } else {
                    s.clone()
                };
                if s.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s
                }
            }
            Cell::Int(n) => n.to_string(),
            Cell::Float(x) => format!("{x:.2}"),
        }
    }
}

/// A report's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    fn new(columns: &[&'static str]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<Cell>) {
        self.rows.push(row);
    }

    /// Each row as a JSON object.
    pub fn objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = self
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| (c.to_string(), v.to_json()))
                    .collect();
                Value::Object(object)
            })
            .collect()
    }

    /// CSV with a header line (RFC 4180 quoting, CRLF line ends).
    pub fn to_csv(&self) -> String {
        let mut out = self.columns.join(",");
        out.push_str("\r\n");
        for row in &self.rows {
            out.push_str(&row.iter().map(Cell::to_csv).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// One JSON object per line.
    pub fn to_ndjson(&self) -> String {
        let mut out = String::new();
        for object in self.objects() {
            out.push_str(&object.to_string());
            out.push('\n');
        }
        out
    }
}

/// How a report groups days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One row per day.
    Day,
    /// One row per week (Monday to Sunday), named by its Monday.
    Week,
}

/// A report's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub from: Date,
    /// Last day (inclusive).
    pub to: Date,
    /// Grouping of `volume`.
    pub by: Period,
}

/// What a query that found too little looks like it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// An ISBN (valid check digit).
    Isbn,
    /// A personal name.
    Author,
    /// A title.
    Title,
}

impl Wanted {
    /// The name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Wanted::Isbn => "isbn",
            Wanted::Author => "author",
            Wanted::Title => "title",
        }
    }
}

/// The most common Chinese surnames: a two- or three-character query starting with one of
/// them is taken for a personal name.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤鲁";

/// Guesses whether a normalised query names a book: an ISBN, an author or a title. `None`
/// for queries too short or too vague to buy anything by (one character, bare numbers).
pub fn classify(query: &str) -> Option<Wanted> {
    if query == super::REDACTED {
        return None;
    }
    if schemas::normalize_isbn(query).is_some() {
        return Some(Wanted::Isbn);
    }
    let chars: Vec<char> = query.chars().collect();
    let cjk = |c: &char| ('\u{4E00}'..='\u{9FFF}').contains(c);
    if chars.len() < 2 || !chars.iter().any(|c| cjk(c) || c.is_alphabetic()) {
        return None;
    }
    if (2..=3).contains(&chars.len()) && chars.iter().all(cjk) && SURNAMES.contains(chars[0]) {
        return Some(Wanted::Author);
    }
    Some(Wanted::Title)
}

/// The Monday of `day`'s week.
fn monday(day: Date) -> Date {
    day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()))
}

/// Runs report `name`; `None` for an unknown name.
pub fn run(
    store: &Store,
    name: &str,
    range: Range,
    stats: AnalyticsStats,
) -> Option<Result<Table, StoreError>> {
    let (from, to) = (format_day(range.from), format_day(range.to));
    let table = match name {
        "volume" => volume(store, &from, &to, range.by),
        "top_queries" => top_queries(store, &from, &to),
        "rising" => rising(store, range.to),
        "zero_results" => zero_results(store, &from, &to),
        "no_clicks" => no_clicks(store, &from, &to),
        "filters" => filters(store, &from, &to, None),
        "demand" => filters(
            store,
            &from,
            &to,
            Some(&["region", "institution_type", "resource_type"]),
        ),
        "acquisitions" => acquisitions(store, &from, &to),
        "seasonal" => store
            .analytics_filters_by_month(&from, &to, &["resource_type", "institution_type"])
            .map(|rows| {
                let mut t = Table::new(&["month", "kind", "value", "searches"]);
                for (month, f) in rows {
                    t.push(vec![month.into(), f.kind.into(), f.value.into(), f.uses.into()]);
                }
                t
            }),
        "activities" => activities(store, &from, &to),
        "channels" => store.analytics_channels(&from, &to).map(|channels| {
            let mut t = Table::new(&["channel", "searches"]);
            for (channel, searches) in channels {
                t.push(vec![channel.into(), searches.into()]);
            }
            t
        }),
        "status" => {
            let mut t = Table::new(&["accepted", "written", "dropped", "failed"]);
            t.push(vec![
                stats.accepted.into(),
                stats.written.into(),
                stats.dropped.into(),
                stats.failed.into(),
            ]);
            Ok(t)
        }
        _ => return None,
    };
    Some(table)
}

/// Per month and activity type: the searches whose query names that kind of activity, how
/// many found nothing, how many distinct queries and how many clicks. Busiest type first
/// within a month.
fn activities(store: &Store, from: &str, to: &str) -> Result<Table, StoreError> {
    #[derive(Default)]
    struct Demand {
        searches: u64,
        zero_results: u64,
        queries: u64,
        clicks: u64,
    }
    let mut months: BTreeMap<String, BTreeMap<usize, Demand>> = BTreeMap::new();
    for (month, counts) in store.analytics_queries_by_month(from, to)? {
        let kinds = ACTIVITY_TYPES
            .iter()
            .enumerate()
            .filter(|(_, t)| t.matches(&counts.query));
        for (order, _) in kinds {
            let demand = months.entry(month.clone()).or_default().entry(order).or_default();
            demand.searches += counts.searches;
            demand.zero_results += counts.zero_results;
            demand.queries += 1;
            demand.clicks += counts.clicks;
        }
    }
    let mut t = Table::new(&[
        "month",
        "activity",
        "label",
        "searches",
        "zero_results",
        "queries",
        "clicks",
    ]);
    for (month, kinds) in months {
        let mut kinds: Vec<_> = kinds.into_iter().collect();
        kinds.sort_by(|a, b| b.1.searches.cmp(&a.1.searches).then(a.0.cmp(&b.0)));
        for (order, d) in kinds {
            let Some(kind) = ACTIVITY_TYPES.get(order) else {
                continue;
            };
            t.push(vec![
                month.as_str().into(),
                kind.code.into(),
                kind.label.into(),
                d.searches.into(),
                d.zero_results.into(),
                d.queries.into(),
                d.clicks.into(),
            ]);
        }
    }
    Ok(t)
}

fn volume(store: &Store, from: &str, to: &str, by: Period) -> Result<Table, StoreError> {
    let mut periods: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for day in store.analytics_days(from, to)? {
        let key = match by {
            Period::Day => day.day,
            Period::Week => parse_day(&day.day).map_or(day.day, |d| format_day(monday(d))),
        };
        let entry = periods.entry(key).or_default();
        entry.0 += day.searches;
        entry.1 += day.zero_results;
        entry.2 += day.clicks;
    }
    let mut t = Table::new(&[
        match by {
            Period::Day => "day",
            Period::Week => "week",
        },
        "searches",
        "zero_results",
        "clicks",
    ]);
    for (key, (searches, zero, clicks)) in periods {
        t.push(vec![key.into(), searches.into(), zero.into(), clicks.into()]);
    }
    Ok(t)
}

fn top_queries(store: &Store, from: &str, to: &str) -> Result<Table, StoreError> {
    let mut t = Table::new(&["query", "searches", "zero_results", "sessions", "clicks"]);
    for q in store.analytics_queries(from, to)?.into_iter().take(MAX_ROWS) {
        t.push(vec![
            q.query.into(),
            q.searches.into(),
            q.zero_results.into(),
            q.sessions.into(),
            q.clicks.into(),
        ]);
    }
    Ok(t)
}

fn zero_results(store: &Store, from: &str, to: &str) -> Result<Table, StoreError> {
    let mut queries: Vec<_> = store
        .analytics_queries(from, to)?
        .into_iter()
        .filter(|q| q.zero_results > 0)
        .collect();
    queries.sort_by(|a, b| b.zero_results.cmp(&a.zero_results).then(a.query.cmp(&b.query)));
    let mut t = Table::new(&["query", "zero_results", "searches"]);
    for q in queries.into_iter().take(MAX_ROWS) {
        t.push(vec![q.query.into(), q.zero_results.into(), q.searches.into()]);
    }
    Ok(t)
}

fn no_clicks(store: &Store, from: &str, to: &str) -> Result<Table, StoreError> {
    let mut queries: Vec<_> = store
        .analytics_queries(from, to)?
        .into_iter()
        .filter(|q| q.searches > q.zero_results && q.clicks == 0)
        .collect();
    queries.sort_by(|a, b| {
        (b.searches - b.zero_results)
            .cmp(&(a.searches - a.zero_results))
            .then(a.query.cmp(&b.query))
    });
    let mut t = Table::new(&["query", "searches_with_results"]);
    for q in queries.into_iter().take(MAX_ROWS) {
        t.push(vec![q.query.into(), (q.searches - q.zero_results).into()]);
    }
    Ok(t)
}

fn rising(store: &Store, to: Date) -> Result<Table, StoreError> {
    let week_start = to - time::Duration::days(6);
    let four_weeks_start = week_start - time::Duration::days(28);
    let mut rows: Vec<_> = store
        .analytics_weeks(
            &format_day(week_start),
            &format_day(four_weeks_start),
            &format_day(to),
        )?
        .into_iter()
        .filter_map(|w| {
            let average = w.previous_four_weeks as f64 / 4.0;
            let gain = w.this_week as f64 - average;
            (gain > 0.0).then_some((w, average, gain))
        })
        .collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.query.cmp(&b.0.query)));
    let mut t = Table::new(&["query", "this_week", "previous_weekly_average", "increase"]);
    for (w, average, gain) in rows.into_iter().take(MAX_ROWS) {
        t.push(vec![
            w.query.into(),
            w.this_week.into(),
            average.into(),
            gain.into(),
        ]);
    }
    Ok(t)
}

fn filters(store: &Store, from: &str, to: &str, kinds: Option<&[&str]>) -> Result<Table, StoreError> {
    let mut t = Table::new(&["kind", "value", "searches"]);
    for f in store.analytics_filters(from, to)? {
        if kinds.is_none_or(|kinds| kinds.contains(&f.kind.as_str())) {
            t.push(vec![f.kind.into(), f.value.into(), f.uses.into()]);
        }
    }
    Ok(t)
}

/// How many zero- or low-result searches one requester of an open purchase suggestion
/// weighs in the `acquisitions` report. A suggestion is a deliberate request (a form filled
/// in for one library), where a search that finds nothing may be a typo or a passing idea,
/// so it counts as three such searches.
pub const SUGGESTION_WEIGHT: u64 = 3;

/// One row of the `acquisitions` report: a wanted item of one library, from its unmet
/// searches, its open suggestion, or both.
struct Demand {
    institution: String,
    query: String,
    looks_like: &'static str,
    zero_results: u64,
    low_results: u64,
    searches: u64,
    suggestion: String,
    requesters: u64,
}

impl Demand {
    /// Unmet searches plus [`SUGGESTION_WEIGHT`] per requester.
    fn weight(&self) -> u64 {
        self.zero_results + self.low_results + SUGGESTION_WEIGHT * self.requesters
    }

    /// True if `suggestion` asks for what this row's query looked for: the same ISBN, or
    /// the same title key (see [`crate::suggestions::title_key`]).
    fn matches(&self, suggestion: &store::suggestions::SuggestionRow) -> bool {
        if self.institution != suggestion.institution || !self.suggestion.is_empty() {
            return false;
        }
        match schemas::normalize_isbn(&self.query) {
            Some(isbn) => suggestion.isbn.as_deref() == Some(isbn.as_str()),
            None => crate::suggestions::title_key(&self.query) == suggestion.title_key,
        }
    }
}

/// Per library, its unmet demand: the recurring zero- and low-result queries that look like
/// a title, an author or an ISBN (searches limited to no single institution are under
/// `all`), and the open purchase suggestions (all that are open now, whatever the range),
/// joined where a suggestion asks for what a query looked for. Ranked within each library
/// by `demand`: unmet searches plus [`SUGGESTION_WEIGHT`] per requester.
fn acquisitions(store: &Store, from: &str, to: &str) -> Result<Table, StoreError> {
    let mut rows = Vec::new();
    for row in store.analytics_unmet(from, to, MIN_UNMET_FOR_ACQUISITION)? {
        let Some(wanted) = classify(&row.counts.query) else {
            continue;
        };
        rows.push(Demand {
            institution: if row.institution.is_empty() {
                "all".to_string()
            } else {
                row.institution
            },
            query: row.counts.query,
            looks_like: wanted.as_str(),
            zero_results: row.counts.zero_results,
            low_results: row.counts.low_results,
            searches: row.counts.searches,
            suggestion: String::new(),
            requesters: 0,
        });
    }
    for suggestion in store.open_suggestions()? {
        match rows.iter_mut().find(|d| d.matches(&suggestion)) {
            Some(demand) => {
                demand.suggestion = suggestion.code;
                demand.requesters = suggestion.requesters;
            }
            None => rows.push(Demand {
                institution: suggestion.institution,
                query: suggestion.title,
                looks_like: if suggestion.isbn.is_some() {
                    Wanted::Isbn.as_str()
                } else {
                    Wanted::Title.as_str()
                },
                zero_results: 0,
                low_results: 0,
                searches: 0,
                suggestion: suggestion.code,
                requesters: suggestion.requesters,
            }),
        }
    }
    rows.sort_by(|a, b| {
        a.institution
            .cmp(&b.institution)
            .then(b.weight().cmp(&a.weight()))
            .then(a.query.cmp(&b.query))
    });
    let mut t = Table::new(&[
        "institution",
        "query",
        "looks_like",
        "zero_results",
        "low_results",
        "searches",
        "suggestion",
        "requesters",
        "demand",
    ]);
    for d in rows {
        let weight = d.weight();
        t.push(vec![
            d.institution.into(),
            d.query.into(),
            d.looks_like.into(),
            d.zero_results.into(),
            d.low_results.into(),
            d.searches.into(),
            d.suggestion.into(),
            d.requesters.into(),
            weight.into(),
        ]);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_query_looks_like() {
        assert_eq!(classify("9787101000016"), Some(Wanted::Isbn));
        assert_eq!(classify("7-101-00001-0"), Some(Wanted::Isbn));
        assert_eq!(classify("李白"), Some(Wanted::Author));
        assert_eq!(classify("红楼梦"), Some(Wanted::Title));
        assert_eq!(classify("the three-body problem"), Some(Wanted::Title));
        assert_eq!(classify("书"), None);
        assert_eq!(classify("2024"), None);
        assert_eq!(classify(super::super::REDACTED), None);
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut t = Table::new(&["query", "n"]);
        t.push(vec!["a,\"b\"".into(), 1u64.into()]);
        t.push(vec!["=cmd()".into(), 2u64.into()]);
        assert_eq!(t.to_csv(), "query,n\r\n\"a,\"\"b\"\"\",1\r\n'=cmd(),2\r\n");
    }
}
