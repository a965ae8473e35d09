//! Search analytics without watching anyone: what people look for, and what they do not find.
//!
//! The main types:
//! - [`Analytics`]: the handle the HTTP handlers share. [`Analytics::record_search`] and
//!   [`Analytics::record_click`] push an [`Event`] into a bounded in-memory channel with
//!   `try_send` and return at once; a background thread (the only writer of the analytics
//!   tables) writes the events in batches (up to [`BATCH_SIZE`] events or [`BATCH_INTERVAL`],
//!   whichever comes first), one SQLite transaction per batch, and once a day
//!   rolls raw events older than [`RAW_RETENTION_DAYS`] up into daily aggregates.
//! - [`SearchEvent`] and [`ClickEvent`]: what is kept of a search and of a click.
//! - [`reports`]: the reports (top, rising and zero-result queries, facet usage, demand,
//!   acquisition suggestions) as [`reports::Table`]s that render as JSON, CSV or NDJSON.
//!
//! # What is kept, and what is not
//!
//! A search is kept as its *normalised* query ([`normalize_query`]: width- and case-folded,
//! traditional to simplified; a query that looks like a phone, identity card number or e-mail
//! address is replaced by [`REDACTED`], see [`redact_personal`]), its filters, its result count, its time, its page and its
//! channel (`web`, `app` or `api`). No address, no user agent, no API key, no account. The
//! only link between two searches is [`SearchEvent::session`]: a truncated SHA-256 of the
//! client's address and user agent under a random salt that lives in memory for one day
//! (Lanzhou time) and is then replaced. Yesterday's salt is gone, so yesterday's hashes cannot
//! be recomputed from an address, and hashes of different days cannot be linked.
//!
//! # Why logging never slows search
//!
//! The request path does one `try_send` on a channel with room for [`CHANNEL_CAPACITY`]
//! events (a burst of that many searches is absorbed even while the writer waits for the
//! store). If the channel is ever full the event is dropped, counted in
//! [`AnalyticsStats::dropped`], and logged once: losing an analytics line is better than
//! slowing a reader's search.

pub mod activities;
pub mod reports;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};

use store::Store;
pub use store::analytics::{
    Channel, ClickEvent, Event, LANZHOU, LOW_RESULTS, SearchEvent, day_of, format_day,
};

/// Room in the event channel. An event is a few hundred bytes, so a full channel holds a few
/// megabytes; it absorbs a burst of this many searches while the writer is busy.
pub const CHANNEL_CAPACITY: usize = 65_536;
/// Most events written in one transaction.
pub const BATCH_SIZE: usize = 500;
/// How long the writer waits for more events before looking at the clock (retention).
const IDLE_TICK: Duration = Duration::from_secs(1);
/// How long the writer lets a batch fill before writing it: at most one transaction (and one
/// fsync) per this interval at ordinary loads, a full batch at once under a burst.
pub const BATCH_INTERVAL: Duration = Duration::from_secs(1);
pub use crate::config::RAW_RETENTION_DAYS;
/// Longest record id accepted in a click.
pub const MAX_RECORD_ID_CHARS: usize = 256;

/// The channel of a request, from its headers.
pub fn channel_of(headers: &HeaderMap) -> Channel {
    if headers.contains_key("x-api-key") {
        Channel::App
    } else if headers
        .get("x-jincheng-channel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("web"))
    {
        Channel::Web
    } else {
        Channel::Api
    }
}

/// What a search handler knows after searching.
#[derive(Debug, Clone)]
pub struct SearchLog<'a> {
    /// The query as sent (it is normalised before it is kept).
    pub query: &'a str,
    /// The filters.
    pub filters: &'a indexer::Filters,
    /// Number of matching records.
    pub results: u64,
    /// Time spent searching.
    pub took_ms: u64,
    /// Page asked for.
    pub page: usize,
}

/// Counters of the analytics pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AnalyticsStats {
    /// Events accepted into the channel.
    pub accepted: u64,
    /// Events written to the store.
    pub written: u64,
    /// Events lost because the channel was full.
    pub dropped: u64,
    /// Events lost because the store failed to write their batch.
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    warned_full: AtomicBool,
}

/// The analytics handle; see the module documentation.
pub struct Analytics {
    /// `None` when disabled (benchmarks measure search without logging).
    sender: Option<SyncSender<Event>>,
    counters: Arc<Counters>,
    /// The day (Julian day number) and its salt. Kept in memory only.
    salt: Mutex<(i32, [u8; 32])>,
}

impl std::fmt::Debug for Analytics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytics")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Today in Lanzhou.
pub fn today() -> Date {
    OffsetDateTime::now_utc().to_offset(LANZHOU).date()
}

/// Parses `YYYY-MM-DD`, for years 1000 to 9000: reports subtract weeks from dates and the
/// export adds a day, which must never overflow on a date from a request.
pub fn parse_day(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .ok()
        .filter(|day| (1000..=9000).contains(&day.year()))
}

/// The form queries are grouped by: full-width ASCII to half-width, lowercase, traditional to
/// simplified Chinese (`fast2s`), whitespace trimmed and runs of it collapsed to one space.
/// It follows the index's own folding, so queries the index treats alike are counted alike.
pub fn normalize_query(query: &str) -> String {
    // The index's own folding, so that the statistics count as one query what search finds
    // as one (`牀前明月光` and `床前明月光`); U+3000 is white space to `split_whitespace`.
    indexer::fold_text(query)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What replaces a query that looks like a personal identifier.
pub const REDACTED: &str = "[redacted]";

/// A normalised query, or [`REDACTED`] when it looks like a personal identifier rather than
/// something to read: an e-mail address, a mainland mobile number (11 digits from `1`), or a
/// resident identity card number (17 digits and a digit or `x`). People paste these into
/// search boxes by mistake; they must not end up in the statistics.
pub fn redact_personal(normalized: String) -> String {
    // Characters, not bytes: a query is any Unicode text.
    let compact: Vec<char> = normalized.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = |s: &[char]| s.iter().all(char::is_ascii_digit);
    let mobile = compact.len() == 11 && compact[0] == '1' && digits(&compact);
    let identity =
        compact.len() == 18 && digits(&compact[..17]) && (compact[17].is_ascii_digit() || compact[17] == 'x');
    let email = normalized.contains('@');
    if mobile || identity || email {
        REDACTED.to_string()
    } else {
        normalized
    }
}

fn random_salt() -> [u8; 32] {
    let mut salt = [0u8; 32];
    if getrandom::fill(&mut salt).is_err() {
        // No randomness: fall back to the clock's nanoseconds, still never stored.
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos().to_le_bytes();
        salt[..16].copy_from_slice(&nanos);
    }
    salt
}

impl Analytics {
    /// Starts the writer thread for `store`, keeping raw events `retention_days` days (then
    /// rolling them up into daily aggregates), and returns the handle. The thread ends when
    /// the handle is dropped, after writing what is queued.
    pub fn start(store: Arc<Store>, retention_days: u32) -> std::io::Result<Analytics> {
        let (sender, receiver) = mpsc::sync_channel(CHANNEL_CAPACITY);
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("analytics-writer".into())
            .spawn(move || write_loop(&store, &receiver, &thread_counters, retention_days))?;
        Ok(Analytics {
            sender: Some(sender),
            counters,
            salt: Mutex::new((today().to_julian_day(), random_salt())),
        })
    }

    /// A handle that records nothing.
    pub fn disabled() -> Analytics {
        Analytics {
            sender: None,
            counters: Arc::new(Counters::default()),
            salt: Mutex::new((0, [0; 32])),
        }
    }

    /// The counters.
    pub fn stats(&self) -> AnalyticsStats {
        let c = &self.counters;
        AnalyticsStats {
            accepted: c.accepted.load(Ordering::Acquire),
            written: c.written.load(Ordering::Acquire),
            dropped: c.dropped.load(Ordering::Acquire),
            failed: c.failed.load(Ordering::Acquire),
        }
    }

    /// The day's salted hash of a client: 16 hex digits of SHA-256(salt, address, user
    /// agent). Without an address or user agent the empty string stands in.
    pub fn session(&self, client: Option<IpAddr>, headers: &HeaderMap) -> String {
        let today = today().to_julian_day();
        let salt = {
            let mut salt = self.salt.lock().unwrap_or_else(|e| e.into_inner());
            if salt.0 != today {
                *salt = (today, random_salt());
            }
            salt.1
        };
        let mut hasher = Sha256::new();
        hasher.update(salt);
        hasher.update(client.map(|ip| ip.to_string()).unwrap_or_default());
        hasher.update([0]);
        hasher.update(
            headers
                .get(http::header::USER_AGENT)
                .map(|v| v.as_bytes())
                .unwrap_or_default(),
        );
        hasher.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Records a search made through the HTTP API (its channel read from `headers`, see
    /// [`channel_of`]); never blocks.
    pub fn record_search(&self, log: SearchLog<'_>, headers: &HeaderMap, client: Option<IpAddr>) {
        self.record_search_via(channel_of(headers), log, headers, client);
    }

    /// Records a search whose channel the caller knows (the web pages pass [`Channel::Web`]);
    /// `headers` and `client` only feed the day's session hash. Never blocks.
    pub fn record_search_via(
        &self,
        channel: Channel,
        log: SearchLog<'_>,
        headers: &HeaderMap,
        client: Option<IpAddr>,
    ) {
        if self.sender.is_none() {
            return;
        }
        let f = log.filters;
        let mut filters: Vec<(&'static str, String)> = Vec::new();
        filters.extend(f.institutions.iter().map(|v| ("institution", v.clone())));
        filters.extend(
            f.institution_types
                .iter()
                .map(|v| ("institution_type", v.as_str().to_string())),
        );
        filters.extend(
            f.resource_types
                .iter()
                .map(|v| ("resource_type", v.as_str().to_string())),
        );
        filters.extend(f.regions.iter().map(|v| ("region", v.as_str().to_string())));
        filters.extend(f.languages.iter().map(|v| ("language", v.clone())));
        filters.extend(f.periods.iter().map(|v| ("period", v.clone())));
        filters.extend(
            f.accessible_formats
                .iter()
                .map(|v| ("accessible_format", v.as_str().to_string())),
        );
        filters.extend(f.levels.iter().map(|v| ("level", v.as_str().to_string())));
        filters.extend(f.branches.iter().map(|v| ("branch", v.clone())));
        filters.extend(f.brands.iter().map(|v| ("brand", v.clone())));
        filters.extend(f.audiences.iter().map(|v| ("audience", v.as_str().to_string())));
        if f.special_collection {
            filters.push(("special_collection", "true".to_string()));
        }
        filters.extend(f.year_from.map(|y| ("year_from", y.to_string())));
        filters.extend(f.year_to.map(|y| ("year_to", y.to_string())));
        self.record(Event::Search(SearchEvent {
            at: OffsetDateTime::now_utc(),
            query: redact_personal(normalize_query(log.query)),
            filters,
            results: log.results,
            took_ms: log.took_ms,
            page: u32::try_from(log.page).unwrap_or(u32::MAX),
            channel,
            session: Some(self.session(client, headers)),
        }));
    }

    /// Records a click; never blocks.
    pub fn record_click(&self, query: &str, record_id: &str, position: u32) {
        self.record(Event::Click(ClickEvent {
            at: OffsetDateTime::now_utc(),
            query: redact_personal(normalize_query(query)),
            record_id: record_id.to_string(),
            position,
        }));
    }

    /// Queues any event (tests and imports give their own times); never blocks.
    pub fn record(&self, event: Event) {
        let Some(sender) = &self.sender else {
            return;
        };
        match sender.try_send(event) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::AcqRel);
            }
            Err(TrySendError::Full(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::AcqRel);
                if !self.counters.warned_full.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        "the analytics channel is full; search events are being dropped \
                         (counted in the analytics status report)"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.counters.failed.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// Waits until every accepted event has been written (or has failed). For tests and
    /// benchmarks; a server never needs it.
    pub async fn flush(&self) {
        loop {
            let c = &self.counters;
            let done = c.written.load(Ordering::Acquire) + c.failed.load(Ordering::Acquire);
            if done >= c.accepted.load(Ordering::Acquire) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// The writer thread: batches events into transactions and applies retention once a day.
fn write_loop(store: &Store, receiver: &Receiver<Event>, counters: &Counters, retention_days: u32) {
    let mut retained_on: Option<Date> = None;
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    loop {
        let today = today();
        if retained_on != Some(today) {
            retained_on = Some(today);
            let cutoff = today - time::Duration::days(i64::from(retention_days));
            match store.roll_up_analytics(&format_day(cutoff)) {
                Ok(rolled) if rolled.searches + rolled.clicks > 0 => tracing::info!(
                    "analytics: rolled {} searches and {} clicks before {} into daily aggregates",
                    rolled.searches,
                    rolled.clicks,
                    format_day(cutoff)
                ),
                Ok(_) => {}
                Err(err) => tracing::error!("analytics retention failed: {err}"),
            }
        }
        match receiver.recv_timeout(IDLE_TICK) {
            Ok(event) => batch.push(event),
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        }
        // Let the batch fill for up to BATCH_INTERVAL: one transaction per batch rather than
        // per event keeps the writer's fsyncs (and its wake-ups) off the searches' CPUs.
        let deadline = std::time::Instant::now() + BATCH_INTERVAL;
        let mut open = true;
        while batch.len() < BATCH_SIZE {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match receiver.recv_timeout(left) {
                Ok(event) => batch.push(event),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        let n = batch.len() as u64;
        match store.insert_analytics_events(&batch) {
            Ok(()) => counters.written.fetch_add(n, Ordering::AcqRel),
            Err(err) => {
                tracing::error!("analytics: a batch of {n} events was lost: {err}");
                counters.failed.fetch_add(n, Ordering::AcqRel)
            }
        };
        batch.clear();
        if !open {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_characters_are_one_query_as_in_search() {
        assert_eq!(normalize_query("牀前明月光"), normalize_query("床前明月光"));
        assert_eq!(normalize_query("　靜夜思　ＡＢ "), "静夜思 ab");
    }

    #[test]
    fn queries_fold_width_case_and_script() {
        assert_eq!(normalize_query("  靜夜思 "), "静夜思");
        assert_eq!(normalize_query("ＡＢＣ　Def"), "abc def");
        assert_eq!(normalize_query("黃河   文化"), "黄河 文化");
    }

    #[test]
    fn personal_identifiers_are_redacted() {
        for personal in ["13912345678", "139 1234 5678", "62010219900101123x", "a@b.cn"] {
            assert_eq!(redact_personal(normalize_query(personal)), REDACTED, "{personal}");
        }
        for kept in [
            "9787101000016",
            "2024",
            "黄河",
            "河西走廊长卷",
            "一二三四五六七八九十一",
        ] {
            assert_eq!(redact_personal(kept.to_string()), kept);
        }
    }

    #[test]
    fn channels() {
        let mut headers = HeaderMap::new();
        assert_eq!(channel_of(&headers), Channel::Api);
        headers.insert("x-jincheng-channel", "web".parse().unwrap());
        assert_eq!(channel_of(&headers), Channel::Web);
        headers.insert("x-api-key", "k".parse().unwrap());
        assert_eq!(channel_of(&headers), Channel::App);
    }

    #[test]
    fn days_are_lanzhou_days() {
        let at = time::macros::datetime!(2026-03-01 17:30 UTC);
        assert_eq!(day_of(at), "2026-03-02");
        assert_eq!(
            parse_day("2026-03-02").map(format_day).as_deref(),
            Some("2026-03-02")
        );
        assert_eq!(parse_day("2026-13-02"), None);
        assert_eq!(parse_day("-9999-01-01"), None);
        assert_eq!(parse_day("0001-01-01"), None);
    }
}
