//! The analytics tables: raw search and click events, their daily aggregates, and the
//! queries behind the analytics service's reports.
//!
//! Raw events live in `analytics_searches` (with their filters in `analytics_search_filters`)
//! and `analytics_clicks`. [`Store::roll_up_analytics`] folds the raw events of old days into
//! `analytics_daily_*` and deletes them. Reports read through four views that add the raw
//! events (grouped by day) to the aggregates, so a report's numbers do not change when its
//! days are rolled up.
//!
//! No column holds an address, a user agent, a key or an account: see
//! the analytics service for what is kept.

use serde::Serialize;

use super::{Result, Store};
use crate::db::{Conn, Dialect, FromValue, Row, Value, args};
use time::{Date, OffsetDateTime, UtcOffset};

/// A search with at most this many results counts as a low-result search (the reports'
/// views are built with it).
pub const LOW_RESULTS: u64 = 3;

/// Lanzhou keeps China Standard Time; the stored days are Lanzhou days.
pub const LANZHOU: UtcOffset = time::macros::offset!(+8);

/// The Lanzhou day of `at`, as `YYYY-MM-DD`.
pub fn day_of(at: OffsetDateTime) -> String {
    format_day(at.to_offset(LANZHOU).date())
}

/// `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

/// How a search reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// The web page (it sends `X-Jincheng-Channel: web`).
    Web,
    /// An app, identified by an `X-API-Key` (the key itself is never kept).
    App,
    /// Anything else calling the API.
    Api,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Api => "api",
        }
    }
}

/// One search, as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchEvent {
    /// When it happened.
    pub at: OffsetDateTime,
    /// The normalised query (the analytics service's query normalisation); empty for browsing.
    pub query: String,
    /// The filters, as (kind, value) pairs: `institution`, `institution_type`,
    /// `resource_type`, `region`, `language`, `period`, `accessible_format`, `level`,
    /// `branch`, `brand`, `audience`, `special_collection`, `year_from`, `year_to`.
    pub filters: Vec<(&'static str, String)>,
    /// Number of matching records.
    pub results: u64,
    /// Time spent searching.
    pub took_ms: u64,
    /// Page asked for.
    pub page: u32,
    /// How it reached us.
    pub channel: Channel,
    /// The day's salted hash of the client (see the analytics service's documentation), if any.
    pub session: Option<String>,
}

impl SearchEvent {
    /// The single institution the search was limited to, or `""` (none or several): the
    /// library an acquisition suggestion is for.
    pub fn institution(&self) -> &str {
        let mut institutions = self.filters.iter().filter(|(k, _)| *k == "institution");
        match (institutions.next(), institutions.next()) {
            (Some((_, value)), None) => value,
            _ => "",
        }
    }
}

/// One click on a result, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClickEvent {
    /// When it happened.
    pub at: OffsetDateTime,
    /// The normalised query whose result was clicked.
    pub query: String,
    /// The clicked record.
    pub record_id: String,
    /// Its position in the results, from 1.
    pub position: u32,
}

/// An event for the writer.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A search.
    Search(SearchEvent),
    /// A click.
    Click(ClickEvent),
}

pub(super) fn init(c: &mut Conn<'_>) -> Result<()> {
    c.execute_batch(&SCHEMA.replace("{LOW}", &LOW_RESULTS.to_string()))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS analytics_searches (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    at INTEGER NOT NULL,
    query TEXT NOT NULL,
    institution TEXT NOT NULL,
    results INTEGER NOT NULL,
    took_ms INTEGER NOT NULL,
    page INTEGER NOT NULL,
    channel TEXT NOT NULL,
    session TEXT
);
CREATE INDEX IF NOT EXISTS analytics_searches_by_day ON analytics_searches(day);
CREATE TABLE IF NOT EXISTS analytics_search_filters (
    search_id INTEGER NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS analytics_search_filters_by_day ON analytics_search_filters(day);
CREATE TABLE IF NOT EXISTS analytics_clicks (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    at INTEGER NOT NULL,
    query TEXT NOT NULL,
    record_id TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS analytics_clicks_by_day ON analytics_clicks(day);
CREATE TABLE IF NOT EXISTS analytics_daily_queries (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    institution TEXT NOT NULL,
    searches INTEGER NOT NULL,
    zero_results INTEGER NOT NULL,
    low_results INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    PRIMARY KEY (day, query, institution)
);
CREATE TABLE IF NOT EXISTS analytics_daily_channels (
    day TEXT NOT NULL,
    channel TEXT NOT NULL,
    searches INTEGER NOT NULL,
    PRIMARY KEY (day, channel)
);
CREATE TABLE IF NOT EXISTS analytics_daily_filters (
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    uses INTEGER NOT NULL,
    PRIMARY KEY (day, kind, value)
);
CREATE TABLE IF NOT EXISTS analytics_daily_clicks (
    day TEXT NOT NULL,
    query TEXT NOT NULL,
    clicks INTEGER NOT NULL,
    PRIMARY KEY (day, query)
);
DROP VIEW IF EXISTS analytics_query_days;
CREATE VIEW analytics_query_days AS
    SELECT day, query, institution, COUNT(*) AS searches,
           SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END) AS zero_results,
           SUM(CASE WHEN results BETWEEN 1 AND {LOW} THEN 1 ELSE 0 END) AS low_results,
           COUNT(DISTINCT session) AS sessions
    FROM analytics_searches GROUP BY day, query, institution
    UNION ALL
    SELECT day, query, institution, searches, zero_results, low_results, sessions
    FROM analytics_daily_queries;
DROP VIEW IF EXISTS analytics_channel_days;
CREATE VIEW analytics_channel_days AS
    SELECT day, channel, COUNT(*) AS searches FROM analytics_searches GROUP BY day, channel
    UNION ALL
    SELECT day, channel, searches FROM analytics_daily_channels;
DROP VIEW IF EXISTS analytics_filter_days;
CREATE VIEW analytics_filter_days AS
    SELECT day, kind, value, COUNT(*) AS uses
    FROM analytics_search_filters GROUP BY day, kind, value
    UNION ALL
    SELECT day, kind, value, uses FROM analytics_daily_filters;
DROP VIEW IF EXISTS analytics_click_days;
CREATE VIEW analytics_click_days AS
    SELECT day, query, COUNT(*) AS clicks FROM analytics_clicks GROUP BY day, query
    UNION ALL
    SELECT day, query, clicks FROM analytics_daily_clicks;
";

/// What a roll-up moved into the daily aggregates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollUp {
    /// Raw searches aggregated and removed.
    pub searches: u64,
    /// Raw clicks aggregated and removed.
    pub clicks: u64,
}

/// One query's numbers over a range of days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryCounts {
    /// The normalised query.
    pub query: String,
    /// Searches.
    pub searches: u64,
    /// Searches with no result.
    pub zero_results: u64,
    /// Searches with 1 to [`LOW_RESULTS`] results.
    pub low_results: u64,
    /// Distinct sessions, summed over days.
    pub sessions: u64,
    /// Clicks on results of the query.
    pub clicks: u64,
}

/// One day's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Searches.
    pub searches: u64,
    /// Searches with no result.
    pub zero_results: u64,
    /// Clicks.
    pub clicks: u64,
}

/// How often one filter value was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterUse {
    /// `region`, `institution_type`, …
    pub kind: String,
    /// The value.
    pub value: String,
    /// Searches that used it.
    pub uses: u64,
}

/// One query's searches in this week and the four before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekCounts {
    /// The normalised query.
    pub query: String,
    /// Searches in the last seven days.
    pub this_week: u64,
    /// Searches in the 28 days before.
    pub previous_four_weeks: u64,
}

/// A query's numbers for one library (`institution` is `""` for searches not limited to
/// one institution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstitutionQuery {
    /// The institution filter.
    pub institution: String,
    /// The counts.
    pub counts: QueryCounts,
}

/// One line of the daily export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyQuery {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The counts.
    pub counts: QueryCounts,
}

fn u(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl Store {
    /// Writes a batch of events in one transaction.
    pub fn insert_analytics_events(&self, events: &[Event]) -> Result<()> {
        self.db.write(|c| {
            for event in events {
                match event {
                    Event::Search(s) => {
                        let day = day_of(s.at);
                        let id: i64 = c.query_row(
                            "INSERT INTO analytics_searches
                             (day, at, query, institution, results, took_ms, page, channel, session)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
                            args![
                                day,
                                s.at.unix_timestamp(),
                                s.query,
                                s.institution(),
                                s.results,
                                s.took_ms,
                                s.page,
                                s.channel.as_str(),
                                s.session
                            ],
                            |r| r.get(0),
                        )?;
                        for (kind, value) in &s.filters {
                            c.execute(
                                "INSERT INTO analytics_search_filters (search_id, day, kind, value)
                                 VALUES (?1, ?2, ?3, ?4)",
                                args![id, day, kind, value],
                            )?;
                        }
                    }
                    Event::Click(click) => {
                        c.execute(
                            "INSERT INTO analytics_clicks (day, at, query, record_id, position)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            args![
                                day_of(click.at),
                                click.at.unix_timestamp(),
                                click.query,
                                click.record_id,
                                click.position
                            ],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Folds the raw events of days before `before_day` (`YYYY-MM-DD`) into the daily
    /// aggregates and deletes them, in one transaction.
    pub fn roll_up_analytics(&self, before_day: &str) -> Result<RollUp> {
        // The target's columns are named by their table in `DO UPDATE SET`: PostgreSQL
        // finds a bare `searches` ambiguous beside `excluded.searches`.
        self.db.write(|c| {
            c.execute(
                &format!(
                    "INSERT INTO analytics_daily_queries
                     (day, query, institution, searches, zero_results, low_results, sessions)
                     SELECT day, query, institution, COUNT(*), SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END),
                            SUM(CASE WHEN results BETWEEN 1 AND {LOW_RESULTS} THEN 1 ELSE 0 END),
                            COUNT(DISTINCT session)
                     FROM analytics_searches WHERE day < ?1
                     GROUP BY day, query, institution
                     ON CONFLICT (day, query, institution) DO UPDATE SET
                       searches = analytics_daily_queries.searches + excluded.searches,
                       zero_results = analytics_daily_queries.zero_results + excluded.zero_results,
                       low_results = analytics_daily_queries.low_results + excluded.low_results,
                       sessions = analytics_daily_queries.sessions + excluded.sessions"
                ),
                args![before_day],
            )?;
            c.execute(
                "INSERT INTO analytics_daily_channels (day, channel, searches)
                 SELECT day, channel, COUNT(*) FROM analytics_searches WHERE day < ?1
                 GROUP BY day, channel
                 ON CONFLICT (day, channel) DO UPDATE SET
                   searches = analytics_daily_channels.searches + excluded.searches",
                args![before_day],
            )?;
            c.execute(
                "INSERT INTO analytics_daily_filters (day, kind, value, uses)
                 SELECT day, kind, value, COUNT(*) FROM analytics_search_filters WHERE day < ?1
                 GROUP BY day, kind, value
                 ON CONFLICT (day, kind, value) DO UPDATE SET
                   uses = analytics_daily_filters.uses + excluded.uses",
                args![before_day],
            )?;
            c.execute(
                "INSERT INTO analytics_daily_clicks (day, query, clicks)
                 SELECT day, query, COUNT(*) FROM analytics_clicks WHERE day < ?1
                 GROUP BY day, query
                 ON CONFLICT (day, query) DO UPDATE SET
                   clicks = analytics_daily_clicks.clicks + excluded.clicks",
                args![before_day],
            )?;
            c.execute(
                "DELETE FROM analytics_search_filters WHERE day < ?1",
                args![before_day],
            )?;
            let searches = c.execute("DELETE FROM analytics_searches WHERE day < ?1", args![before_day])?;
            let clicks = c.execute("DELETE FROM analytics_clicks WHERE day < ?1", args![before_day])?;
            Ok(RollUp {
                searches: searches as u64,
                clicks: clicks as u64,
            })
        })
    }

    /// Totals per day from `from` to `to` (inclusive), days without searches or clicks left
    /// out.
    pub fn analytics_days(&self, from: &str, to: &str) -> Result<Vec<DayCounts>> {
        let rows = self.db.read(|c| {
            c.query_map(
                "SELECT day, SUM(searches), SUM(zero_results), 0 FROM analytics_query_days
                 WHERE day BETWEEN ?1 AND ?2 GROUP BY day
                 UNION ALL
                 SELECT day, 0, 0, SUM(clicks) FROM analytics_click_days
                 WHERE day BETWEEN ?1 AND ?2 GROUP BY day",
                args![from, to],
                |row| {
                    Ok((
                        row.get::<String>(0)?,
                        u(row.get(1)?),
                        u(row.get(2)?),
                        u(row.get(3)?),
                    ))
                },
            )
        })?;
        let mut days = std::collections::BTreeMap::<String, DayCounts>::new();
        for (day, searches, zero_results, clicks) in rows {
            let entry = days.entry(day.clone()).or_insert_with(|| DayCounts {
                day,
                ..DayCounts::default()
            });
            entry.searches += searches;
            entry.zero_results += zero_results;
            entry.clicks += clicks;
        }
        Ok(days.into_values().collect())
    }

    /// Clicks per record on `since_day` (`YYYY-MM-DD`) and after, from the raw click events
    /// (kept for the retention period; the daily aggregates do not keep records), the most
    /// clicked first, at most `limit` records (the popularity signal of the search).
    pub fn clicks_by_record(&self, since_day: &str, limit: usize) -> Result<Vec<(String, u64)>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT record_id, COUNT(*) AS clicks FROM analytics_clicks WHERE day >= ?1
                 GROUP BY record_id ORDER BY clicks DESC, record_id LIMIT ?2",
                args![since_day, limit],
                |row| Ok((row.get(0)?, u(row.get(1)?))),
            )
        })
    }

    /// Every non-empty query searched from `from` to `to`, with its counts and clicks,
    /// most searched first (ties by query).
    pub fn analytics_queries(&self, from: &str, to: &str) -> Result<Vec<QueryCounts>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT q.query, q.searches, q.zero_results, q.low_results, q.sessions,
                        COALESCE(c.clicks, 0)
                 FROM (SELECT query, SUM(searches) AS searches, SUM(zero_results) AS zero_results,
                              SUM(low_results) AS low_results, SUM(sessions) AS sessions
                       FROM analytics_query_days WHERE day BETWEEN ?1 AND ?2 AND query <> ''
                       GROUP BY query) AS q
                 LEFT JOIN (SELECT query, SUM(clicks) AS clicks FROM analytics_click_days
                            WHERE day BETWEEN ?1 AND ?2 GROUP BY query) AS c
                 ON c.query = q.query
                 ORDER BY q.searches DESC, q.query",
                args![from, to],
                |row| query_counts(row, 0),
            )
        })
    }

    /// Every non-empty query per month (`YYYY-MM`) from `from` to `to`, with its counts and
    /// clicks, ordered by month and query.
    pub fn analytics_queries_by_month(&self, from: &str, to: &str) -> Result<Vec<(String, QueryCounts)>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT q.month, q.query, q.searches, q.zero_results, q.low_results, q.sessions,
                        COALESCE(c.clicks, 0)
                 FROM (SELECT substr(day, 1, 7) AS month, query, SUM(searches) AS searches,
                              SUM(zero_results) AS zero_results, SUM(low_results) AS low_results,
                              SUM(sessions) AS sessions
                       FROM analytics_query_days WHERE day BETWEEN ?1 AND ?2 AND query <> ''
                       GROUP BY month, query) AS q
                 LEFT JOIN (SELECT substr(day, 1, 7) AS month, query, SUM(clicks) AS clicks
                            FROM analytics_click_days WHERE day BETWEEN ?1 AND ?2
                            GROUP BY month, query) AS c
                 ON c.month = q.month AND c.query = q.query
                 ORDER BY q.month, q.query",
                args![from, to],
                |row| Ok((row.get(0)?, query_counts(row, 1)?)),
            )
        })
    }

    /// Queries with their searches in the seven days ending `to` and in the 28 days before.
    pub fn analytics_weeks(
        &self,
        week_start: &str,
        four_weeks_start: &str,
        to: &str,
    ) -> Result<Vec<WeekCounts>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT query,
                        SUM(CASE WHEN day >= ?1 THEN searches ELSE 0 END),
                        SUM(CASE WHEN day < ?1 THEN searches ELSE 0 END)
                 FROM analytics_query_days
                 WHERE day BETWEEN ?2 AND ?3 AND query <> ''
                 GROUP BY query ORDER BY query",
                args![week_start, four_weeks_start, to],
                |row| {
                    Ok(WeekCounts {
                        query: row.get(0)?,
                        this_week: u(row.get(1)?),
                        previous_four_weeks: u(row.get(2)?),
                    })
                },
            )
        })
    }

    /// Searches per channel from `from` to `to`, by channel name.
    pub fn analytics_channels(&self, from: &str, to: &str) -> Result<Vec<(String, u64)>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT channel, SUM(searches) FROM analytics_channel_days
                 WHERE day BETWEEN ?1 AND ?2 GROUP BY channel ORDER BY channel",
                args![from, to],
                |row| Ok((row.get(0)?, u(row.get(1)?))),
            )
        })
    }

    /// Filter uses of `kinds` per month (`YYYY-MM`) from `from` to `to`.
    pub fn analytics_filters_by_month(
        &self,
        from: &str,
        to: &str,
        kinds: &[&str],
    ) -> Result<Vec<(String, FilterUse)>> {
        let rows = self.db.read(|c| {
            c.query_map(
                "SELECT substr(day, 1, 7) AS month, kind, value, SUM(uses) AS total
                 FROM analytics_filter_days WHERE day BETWEEN ?1 AND ?2
                 GROUP BY month, kind, value ORDER BY month, kind, total DESC, value",
                args![from, to],
                |row| Ok((row.get::<String>(0)?, filter_use(row, 1)?)),
            )
        })?;
        Ok(rows
            .into_iter()
            .filter(|(_, filter)| kinds.contains(&filter.kind.as_str()))
            .collect())
    }

    /// Filter values used from `from` to `to`, by kind, most used first.
    pub fn analytics_filters(&self, from: &str, to: &str) -> Result<Vec<FilterUse>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT kind, value, SUM(uses) AS total FROM analytics_filter_days
                 WHERE day BETWEEN ?1 AND ?2 GROUP BY kind, value
                 ORDER BY kind, total DESC, value",
                args![from, to],
                |row| filter_use(row, 0),
            )
        })
    }

    /// Queries per institution filter with at least `min_unmet` zero- or low-result
    /// searches, from `from` to `to`.
    pub fn analytics_unmet(&self, from: &str, to: &str, min_unmet: u64) -> Result<Vec<InstitutionQuery>> {
        // `CAST(?3 AS INTEGER)`: PostgreSQL would take the parameter for the type of the
        // sums it is compared with (NUMERIC), which an integer cannot be sent as.
        self.db.read(|c| {
            c.query_map(
                "SELECT institution, query, SUM(searches), SUM(zero_results), SUM(low_results),
                        SUM(sessions), 0
                 FROM analytics_query_days WHERE day BETWEEN ?1 AND ?2 AND query <> ''
                 GROUP BY institution, query
                 HAVING SUM(zero_results) + SUM(low_results) >= CAST(?3 AS INTEGER)
                 ORDER BY institution, SUM(zero_results) + SUM(low_results) DESC, query",
                args![from, to, min_unmet],
                |row| {
                    Ok(InstitutionQuery {
                        institution: row.get(0)?,
                        counts: query_counts(row, 1)?,
                    })
                },
            )
        })
    }

    /// Per day and query from `since` up to (not including) `until`, for queries searched at
    /// least `min_searches` times that day; ordered by day and query.
    pub fn analytics_daily_export(
        &self,
        since: &str,
        until: &str,
        min_searches: u64,
    ) -> Result<Vec<DailyQuery>> {
        // `CAST(?3 AS INTEGER)`: see `analytics_unmet`.
        self.db.read(|c| {
            c.query_map(
                "SELECT q.day, q.query, q.searches, q.zero_results, q.low_results, q.sessions,
                        COALESCE(c.clicks, 0)
                 FROM (SELECT day, query, SUM(searches) AS searches, SUM(zero_results) AS zero_results,
                              SUM(low_results) AS low_results, SUM(sessions) AS sessions
                       FROM analytics_query_days WHERE day >= ?1 AND day < ?2
                       GROUP BY day, query HAVING SUM(searches) >= CAST(?3 AS INTEGER)) AS q
                 LEFT JOIN (SELECT day, query, SUM(clicks) AS clicks FROM analytics_click_days
                            WHERE day >= ?1 AND day < ?2 GROUP BY day, query) AS c
                 ON c.day = q.day AND c.query = q.query
                 ORDER BY q.day, q.query",
                args![since, until, min_searches],
                |row| {
                    Ok(DailyQuery {
                        day: row.get(0)?,
                        counts: query_counts(row, 1)?,
                    })
                },
            )
        })
    }

    /// Every text and number in every analytics table, raw and aggregated, as text: for the
    /// test that no personal data is stored.
    pub fn analytics_dump(&self) -> Result<Vec<String>> {
        self.db.read(|c| {
            let mut out = Vec::new();
            for table in [
                "analytics_searches",
                "analytics_search_filters",
                "analytics_clicks",
                "analytics_daily_queries",
                "analytics_daily_channels",
                "analytics_daily_filters",
                "analytics_daily_clicks",
            ] {
                // Every column the table has, so that a column added later is dumped too.
                let columns: Vec<String> = match c.dialect() {
                    Dialect::Sqlite => c.query_map(
                        "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
                        args![table],
                        |r| r.get(0),
                    )?,
                    Dialect::Postgres => c.query_map(
                        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
                         WHERE table_schema = current_schema() AND table_name = ?1
                         ORDER BY ordinal_position",
                        args![table],
                        |r| r.get(0),
                    )?,
                };
                let rows = c.query_map(
                    &format!("SELECT {} FROM {table}", columns.join(", ")),
                    args![],
                    |row| {
                        (0..columns.len())
                            .map(|i| row.get::<AsText>(i).map(|text| text.0))
                            .collect::<Result<Vec<_>>>()
                    },
                )?;
                out.extend(rows.into_iter().flatten());
            }
            Ok(out)
        })
    }
}

/// A query's counts from column `first` on (query, searches, zero results, low results,
/// sessions, clicks).
fn query_counts(row: &Row<'_>, first: usize) -> Result<QueryCounts> {
    Ok(QueryCounts {
        query: row.get(first)?,
        searches: u(row.get(first + 1)?),
        zero_results: u(row.get(first + 2)?),
        low_results: u(row.get(first + 3)?),
        sessions: u(row.get(first + 4)?),
        clicks: u(row.get(first + 5)?),
    })
}

/// A filter's use from column `first` on (kind, value, uses).
fn filter_use(row: &Row<'_>, first: usize) -> Result<FilterUse> {
    Ok(FilterUse {
        kind: row.get(first)?,
        value: row.get(first + 1)?,
        uses: u(row.get(first + 2)?),
    })
}

/// Any stored value as text, for [`Store::analytics_dump`] (NULL as empty text).
struct AsText(String);

impl FromValue for AsText {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        Ok(AsText(match value {
            Value::Null => String::new(),
            Value::Int(n) => n.to_string(),
            Value::Real(x) => x.to_string(),
            Value::Text(t) => t.to_owned(),
            Value::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::each_backend;
    use time::macros::datetime;

    fn search(at: OffsetDateTime, query: &str, filter: Option<(&'static str, &str)>, results: u64) -> Event {
        Event::Search(SearchEvent {
            at,
            query: query.into(),
            filters: filter.map(|(k, v)| (k, v.to_string())).into_iter().collect(),
            results,
            took_ms: 5,
            page: 1,
            channel: match results {
                0 => Channel::Web,
                2 => Channel::App,
                _ => Channel::Api,
            },
            session: (!query.is_empty()).then(|| format!("s{}", at.hour() % 2)),
        })
    }

    fn click(at: OffsetDateTime, query: &str, record_id: &str) -> Event {
        Event::Click(ClickEvent {
            at,
            query: query.into(),
            record_id: record_id.into(),
            position: 1,
        })
    }

    fn counts(query: &str, [searches, zero_results, low_results, sessions, clicks]: [u64; 5]) -> QueryCounts {
        QueryCounts {
            query: query.into(),
            searches,
            zero_results,
            low_results,
            sessions,
            clicks,
        }
    }

    /// Every report over March 2024, for comparing before and after a roll-up.
    fn reports(store: &Store) -> String {
        let (from, to) = ("2024-03-01", "2024-03-31");
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            store.analytics_days(from, to).unwrap(),
            store.analytics_queries(from, to).unwrap(),
            store.analytics_queries_by_month(from, to).unwrap(),
            store
                .analytics_weeks("2024-03-02", "2024-02-01", "2024-03-08")
                .unwrap(),
            store.analytics_channels(from, to).unwrap(),
            store.analytics_filters(from, to).unwrap(),
            store.analytics_filters_by_month(from, to, &["region"]).unwrap(),
            store.analytics_unmet(from, to, 1).unwrap(),
            store.analytics_daily_export(from, "2024-04-01", 1).unwrap(),
        )
    }

    #[test]
    fn reports_count_raw_and_rolled_up_days_alike() {
        each_backend(|store| {
            let first = datetime!(2024-03-01 10:00 +8);
            let second = datetime!(2024-03-02 09:00 +8);
            let events = [
                search(first, "唐诗", Some(("institution", "lib")), 0),
                search(
                    first + time::Duration::hours(1),
                    "唐诗",
                    Some(("region", "城关区")),
                    2,
                ),
                search(second, "宋词", None, 10),
                search(second, "", None, 100),
                click(first, "唐诗", "r1"),
                click(second, "宋词", "r2"),
                click(second, "宋词", "r2"),
            ];
            store.insert_analytics_events(&events).unwrap();

            let days = store.analytics_days("2024-03-01", "2024-03-31").unwrap();
            let days: Vec<_> = days
                .iter()
                .map(|d| (d.day.as_str(), d.searches, d.zero_results, d.clicks))
                .collect();
            assert_eq!(days, [("2024-03-01", 2, 1, 1), ("2024-03-02", 2, 0, 2)]);
            assert_eq!(
                store.analytics_queries("2024-03-01", "2024-03-31").unwrap(),
                [counts("唐诗", [2, 1, 1, 2, 1]), counts("宋词", [1, 0, 0, 1, 2])]
            );
            assert_eq!(
                store
                    .analytics_queries_by_month("2024-03-01", "2024-03-31")
                    .unwrap(),
                [
                    ("2024-03".to_string(), counts("唐诗", [2, 1, 1, 2, 1])),
                    ("2024-03".to_string(), counts("宋词", [1, 0, 0, 1, 2]))
                ]
            );
            let weeks = store
                .analytics_weeks("2024-03-02", "2024-02-01", "2024-03-08")
                .unwrap();
            let weeks: Vec<_> = weeks
                .iter()
                .map(|w| (w.query.as_str(), w.this_week, w.previous_four_weeks))
                .collect();
            assert_eq!(weeks, [("唐诗", 0, 2), ("宋词", 1, 0)]);
            assert_eq!(
                store.analytics_channels("2024-03-01", "2024-03-31").unwrap(),
                [
                    ("api".to_string(), 2),
                    ("app".to_string(), 1),
                    ("web".to_string(), 1)
                ]
            );
            let filters = store.analytics_filters("2024-03-01", "2024-03-31").unwrap();
            let filters: Vec<_> = filters
                .iter()
                .map(|f| (f.kind.as_str(), f.value.as_str(), f.uses))
                .collect();
            assert_eq!(filters, [("institution", "lib", 1), ("region", "城关区", 1)]);
            let by_month = store
                .analytics_filters_by_month("2024-03-01", "2024-03-31", &["region"])
                .unwrap();
            assert_eq!(by_month.len(), 1);
            assert_eq!(
                (by_month[0].0.as_str(), by_month[0].1.value.as_str()),
                ("2024-03", "城关区")
            );
            let unmet = store.analytics_unmet("2024-03-01", "2024-03-31", 1).unwrap();
            assert_eq!(
                unmet,
                [
                    InstitutionQuery {
                        institution: String::new(),
                        counts: counts("唐诗", [1, 0, 1, 1, 0]),
                    },
                    InstitutionQuery {
                        institution: "lib".into(),
                        counts: counts("唐诗", [1, 1, 0, 1, 0]),
                    },
                ]
            );
            assert!(
                store
                    .analytics_unmet("2024-03-01", "2024-03-31", 2)
                    .unwrap()
                    .is_empty()
            );
            let export = store
                .analytics_daily_export("2024-03-01", "2024-03-03", 1)
                .unwrap();
            let export: Vec<_> = export
                .iter()
                .map(|d| (d.day.as_str(), d.counts.clone()))
                .collect();
            assert_eq!(
                export,
                [
                    ("2024-03-01", counts("唐诗", [2, 1, 1, 2, 1])),
                    ("2024-03-02", counts("", [1, 0, 0, 0, 0])),
                    ("2024-03-02", counts("宋词", [1, 0, 0, 1, 2])),
                ]
            );
            assert_eq!(
                store
                    .analytics_daily_export("2024-03-01", "2024-03-03", 2)
                    .unwrap()
                    .len(),
                1
            );
            assert_eq!(
                store.clicks_by_record("2024-03-01", 10).unwrap(),
                [("r2".to_string(), 2), ("r1".to_string(), 1)]
            );
            assert_eq!(store.clicks_by_record("2024-03-01", 1).unwrap().len(), 1);

            // Rolling up the first day changes no report.
            let before = reports(store);
            let rolled = store.roll_up_analytics("2024-03-02").unwrap();
            assert_eq!(
                rolled,
                RollUp {
                    searches: 2,
                    clicks: 1
                }
            );
            assert_eq!(reports(store), before);
            assert_eq!(
                store.clicks_by_record("2024-03-01", 10).unwrap(),
                [("r2".to_string(), 2)]
            );
            let dump = store.analytics_dump().unwrap();
            for text in ["唐诗", "宋词", "城关区", "r2", "100"] {
                assert!(dump.iter().any(|value| value == text), "{text} is in the dump");
            }

            // A late event of a rolled-up day adds to its aggregates.
            store.insert_analytics_events(&events[..1]).unwrap();
            let rolled = store.roll_up_analytics("2024-03-02").unwrap();
            assert_eq!(
                rolled,
                RollUp {
                    searches: 1,
                    clicks: 0
                }
            );
            assert_eq!(
                store.analytics_queries("2024-03-01", "2024-03-31").unwrap()[0],
                counts("唐诗", [3, 2, 1, 3, 1])
            );
            assert_eq!(
                store.analytics_filters("2024-03-01", "2024-03-31").unwrap()[0].uses,
                2
            );
            assert_eq!(
                store.analytics_channels("2024-03-01", "2024-03-31").unwrap()[2],
                ("web".to_string(), 2)
            );
        });
    }
}
