//! The analytics tables: raw search and click events, their daily aggregates, and the
//! queries behind the reports of the analytics service's reports.
//!
//! Raw events live in `analytics_searches` (with their filters in `analytics_search_filters`)
//! and `analytics_clicks`. [`Store::roll_up_analytics`] folds the raw events of old days into
//! `analytics_daily_*` and deletes them. Reports read through three views that add the raw
//! events (grouped by day) to the aggregates, so a report's numbers do not change when its
//! days are rolled up.
//!
//! No column holds an address, a user agent, a key or an account: see
//! the analytics service for what is kept.

use rusqlite::params;

use super::{Result, Store};
use serde::Serialize;
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

pub(super) fn init(c: &mut crate::db::Conn<'_>) -> Result<()> {
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
        let mut conn = self.writer();
        let tx = super::write_transaction(&mut conn)?;
        {
            let mut search = tx.prepare_cached(
                "INSERT INTO analytics_searches
                 (day, at, query, institution, results, took_ms, page, channel, session)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut filter = tx.prepare_cached(
                "INSERT INTO analytics_search_filters (search_id, day, kind, value)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut click = tx.prepare_cached(
                "INSERT INTO analytics_clicks (day, at, query, record_id, position)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for event in events {
                match event {
                    Event::Search(s) => {
                        let day = day_of(s.at);
                        search.execute(params![
                            day,
                            s.at.unix_timestamp(),
                            s.query,
                            s.institution(),
                            i64::try_from(s.results).unwrap_or(i64::MAX),
                            i64::try_from(s.took_ms).unwrap_or(i64::MAX),
                            s.page,
                            s.channel.as_str(),
                            s.session
                        ])?;
                        let id = tx.last_insert_rowid();
                        for (kind, value) in &s.filters {
                            filter.execute(params![id, day, kind, value])?;
                        }
                    }
                    Event::Click(c) => {
                        click.execute(params![
                            day_of(c.at),
                            c.at.unix_timestamp(),
                            c.query,
                            c.record_id,
                            c.position
                        ])?;
                    }
                }
            }
        }
        crate::commit(tx)?;
        Ok(())
    }

    /// Folds the raw events of days before `before_day` (`YYYY-MM-DD`) into the daily
    /// aggregates and deletes them, in one transaction.
    pub fn roll_up_analytics(&self, before_day: &str) -> Result<RollUp> {
        let mut conn = self.writer();
        let tx = super::write_transaction(&mut conn)?;
        tx.execute(
            &format!(
                "INSERT INTO analytics_daily_queries
                 (day, query, institution, searches, zero_results, low_results, sessions)
                 SELECT day, query, institution, COUNT(*), SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END),
                        SUM(CASE WHEN results BETWEEN 1 AND {LOW_RESULTS} THEN 1 ELSE 0 END), COUNT(DISTINCT session)
                 FROM analytics_searches WHERE day < ?1
                 GROUP BY day, query, institution
                 ON CONFLICT (day, query, institution) DO UPDATE SET
                   searches = searches + excluded.searches,
                   zero_results = zero_results + excluded.zero_results,
                   low_results = low_results + excluded.low_results,
                   sessions = sessions + excluded.sessions"
            ),
            [before_day],
        )?;
        tx.execute(
            "INSERT INTO analytics_daily_channels (day, channel, searches)
             SELECT day, channel, COUNT(*) FROM analytics_searches WHERE day < ?1
             GROUP BY day, channel
             ON CONFLICT (day, channel) DO UPDATE SET searches = searches + excluded.searches",
            [before_day],
        )?;
        tx.execute(
            "INSERT INTO analytics_daily_filters (day, kind, value, uses)
             SELECT day, kind, value, COUNT(*) FROM analytics_search_filters WHERE day < ?1
             GROUP BY day, kind, value
             ON CONFLICT (day, kind, value) DO UPDATE SET uses = uses + excluded.uses",
            [before_day],
        )?;
        tx.execute(
            "INSERT INTO analytics_daily_clicks (day, query, clicks)
             SELECT day, query, COUNT(*) FROM analytics_clicks WHERE day < ?1
             GROUP BY day, query
             ON CONFLICT (day, query) DO UPDATE SET clicks = clicks + excluded.clicks",
            [before_day],
        )?;
        tx.execute(
            "DELETE FROM analytics_search_filters WHERE day < ?1",
            [before_day],
        )?;
        let searches = tx.execute("DELETE FROM analytics_searches WHERE day < ?1", [before_day])?;
        let clicks = tx.execute("DELETE FROM analytics_clicks WHERE day < ?1", [before_day])?;
        crate::commit(tx)?;
        Ok(RollUp {
            searches: searches as u64,
            clicks: clicks as u64,
        })
    }

    /// Totals per day from `from` to `to` (inclusive), days without searches or clicks left
    /// out.
    pub fn analytics_days(&self, from: &str, to: &str) -> Result<Vec<DayCounts>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT day, SUM(searches), SUM(zero_results), 0 FROM analytics_query_days
             WHERE day BETWEEN ?1 AND ?2 GROUP BY day
             UNION ALL
             SELECT day, 0, 0, SUM(clicks) FROM analytics_click_days
             WHERE day BETWEEN ?1 AND ?2 GROUP BY day",
        )?;
        let rows = stmt.query_map([from, to], |row| {
            Ok((
                row.get::<_, String>(0)?,
                u(row.get(1)?),
                u(row.get(2)?),
                u(row.get(3)?),
            ))
        })?;
        let mut days = std::collections::BTreeMap::<String, DayCounts>::new();
        for row in rows {
            let (day, searches, zero_results, clicks) = row?;
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
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT record_id, COUNT(*) AS clicks FROM analytics_clicks WHERE day >= ?1
             GROUP BY record_id ORDER BY clicks DESC, record_id LIMIT ?2",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(rusqlite::params![since_day, limit], |row| {
            Ok((row.get::<_, String>(0)?, u(row.get(1)?)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every non-empty query searched from `from` to `to`, with its counts and clicks,
    /// most searched first (ties by query).
    pub fn analytics_queries(&self, from: &str, to: &str) -> Result<Vec<QueryCounts>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
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
        )?;
        let rows = stmt.query_map([from, to], |row| {
            Ok(QueryCounts {
                query: row.get(0)?,
                searches: u(row.get(1)?),
                zero_results: u(row.get(2)?),
                low_results: u(row.get(3)?),
                sessions: u(row.get(4)?),
                clicks: u(row.get(5)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every non-empty query per month (`YYYY-MM`) from `from` to `to`, with its counts and
    /// clicks, ordered by month and query.
    pub fn analytics_queries_by_month(&self, from: &str, to: &str) -> Result<Vec<(String, QueryCounts)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
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
        )?;
        let rows = stmt.query_map([from, to], |row| {
            Ok((
                row.get(0)?,
                QueryCounts {
                    query: row.get(1)?,
                    searches: u(row.get(2)?),
                    zero_results: u(row.get(3)?),
                    low_results: u(row.get(4)?),
                    sessions: u(row.get(5)?),
                    clicks: u(row.get(6)?),
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Queries with their searches in the seven days ending `to` and in the 28 days before.
    pub fn analytics_weeks(
        &self,
        week_start: &str,
        four_weeks_start: &str,
        to: &str,
    ) -> Result<Vec<WeekCounts>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT query,
                    SUM(CASE WHEN day >= ?1 THEN searches ELSE 0 END),
                    SUM(CASE WHEN day < ?1 THEN searches ELSE 0 END)
             FROM analytics_query_days
             WHERE day BETWEEN ?2 AND ?3 AND query <> ''
             GROUP BY query ORDER BY query",
        )?;
        let rows = stmt.query_map([week_start, four_weeks_start, to], |row| {
            Ok(WeekCounts {
                query: row.get(0)?,
                this_week: u(row.get(1)?),
                previous_four_weeks: u(row.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Searches per channel from `from` to `to`, by channel name.
    pub fn analytics_channels(&self, from: &str, to: &str) -> Result<Vec<(String, u64)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT channel, SUM(searches) FROM analytics_channel_days
             WHERE day BETWEEN ?1 AND ?2 GROUP BY channel ORDER BY channel",
        )?;
        let rows = stmt.query_map([from, to], |row| Ok((row.get(0)?, u(row.get(1)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Filter uses of `kinds` per month (`YYYY-MM`) from `from` to `to`.
    pub fn analytics_filters_by_month(
        &self,
        from: &str,
        to: &str,
        kinds: &[&str],
    ) -> Result<Vec<(String, FilterUse)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT substr(day, 1, 7) AS month, kind, value, SUM(uses) AS total
             FROM analytics_filter_days WHERE day BETWEEN ?1 AND ?2
             GROUP BY month, kind, value ORDER BY month, kind, total DESC, value",
        )?;
        let rows = stmt.query_map([from, to], |row| {
            Ok((
                row.get::<_, String>(0)?,
                FilterUse {
                    kind: row.get(1)?,
                    value: row.get(2)?,
                    uses: u(row.get(3)?),
                },
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let row = row?;
            if kinds.contains(&row.1.kind.as_str()) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Filter values used from `from` to `to`, by kind, most used first.
    pub fn analytics_filters(&self, from: &str, to: &str) -> Result<Vec<FilterUse>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT kind, value, SUM(uses) AS total FROM analytics_filter_days
             WHERE day BETWEEN ?1 AND ?2 GROUP BY kind, value
             ORDER BY kind, total DESC, value",
        )?;
        let rows = stmt.query_map([from, to], |row| {
            Ok(FilterUse {
                kind: row.get(0)?,
                value: row.get(1)?,
                uses: u(row.get(2)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Queries per institution filter with at least `min_unmet` zero- or low-result
    /// searches, from `from` to `to`.
    pub fn analytics_unmet(&self, from: &str, to: &str, min_unmet: u64) -> Result<Vec<InstitutionQuery>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT institution, query, SUM(searches), SUM(zero_results), SUM(low_results),
                    SUM(sessions)
             FROM analytics_query_days WHERE day BETWEEN ?1 AND ?2 AND query <> ''
             GROUP BY institution, query
             HAVING SUM(zero_results) + SUM(low_results) >= ?3
             ORDER BY institution, SUM(zero_results) + SUM(low_results) DESC, query",
        )?;
        let min = i64::try_from(min_unmet).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![from, to, min], |row| {
            Ok(InstitutionQuery {
                institution: row.get(0)?,
                counts: QueryCounts {
                    query: row.get(1)?,
                    searches: u(row.get(2)?),
                    zero_results: u(row.get(3)?),
                    low_results: u(row.get(4)?),
                    sessions: u(row.get(5)?),
                    clicks: 0,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Per day and query from `since` up to (not including) `until`, for queries searched at
    /// least `min_searches` times that day; ordered by day and query.
    pub fn analytics_daily_export(
        &self,
        since: &str,
        until: &str,
        min_searches: u64,
    ) -> Result<Vec<DailyQuery>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT q.day, q.query, q.searches, q.zero_results, q.low_results, q.sessions,
                    COALESCE(c.clicks, 0)
             FROM (SELECT day, query, SUM(searches) AS searches, SUM(zero_results) AS zero_results,
                          SUM(low_results) AS low_results, SUM(sessions) AS sessions
                   FROM analytics_query_days WHERE day >= ?1 AND day < ?2
                   GROUP BY day, query HAVING SUM(searches) >= ?3) AS q
             LEFT JOIN (SELECT day, query, SUM(clicks) AS clicks FROM analytics_click_days
                        WHERE day >= ?1 AND day < ?2 GROUP BY day, query) AS c
             ON c.day = q.day AND c.query = q.query
             ORDER BY q.day, q.query",
        )?;
        let min = i64::try_from(min_searches).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![since, until, min], |row| {
            Ok(DailyQuery {
                day: row.get(0)?,
                counts: QueryCounts {
                    query: row.get(1)?,
                    searches: u(row.get(2)?),
                    zero_results: u(row.get(3)?),
                    low_results: u(row.get(4)?),
                    sessions: u(row.get(5)?),
                    clicks: u(row.get(6)?),
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every text and number in every analytics table, raw and aggregated, as text: for the
    /// test that no personal data is stored.
    pub fn analytics_dump(&self) -> Result<Vec<String>> {
        let conn = self.reader();
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
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}"))?;
            let columns = stmt.column_count();
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    out.push(match value {
                        rusqlite::types::Value::Null => String::new(),
                        rusqlite::types::Value::Integer(n) => n.to_string(),
                        rusqlite::types::Value::Real(x) => x.to_string(),
                        rusqlite::types::Value::Text(t) => t,
                        rusqlite::types::Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
                    });
                }
            }
        }
        Ok(out)
    }
}
