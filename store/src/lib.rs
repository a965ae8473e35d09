//! Jincheng's store of record: one SQLite database (WAL, `synchronous=FULL`), or one
//! PostgreSQL database that several nodes share.
//!
//! Everything the search index holds is derived from here, and the index can always be
//! rebuilt from it. This crate knows SQL and the stored shapes; it knows nothing of HTTP,
//! tantivy, harvesting protocols, or the rules of curation and analytics (those live in the
//! services crate, which calls it).
//!
//! The main types:
//! - [`Store`]: the database ([`Store::open`]); cheap to share behind an `Arc`.
//! - [`Incoming`], [`Checkpoint`], [`Counts`], [`HarvestRun`], [`QuarantinedItem`]: a harvest's
//!   pages, where it stands between runs, and what it did ([`Store::apply_page`]).
//! - [`Change`]: one entry of the change log the index follower tails
//!   ([`Store::changes_since`]).
//! - [`accounts`], [`api_keys`](ApiKey), [`curated`], [`analytics`], [`remote_images`], [`oai`]:
//!   the tables of curators and sessions, app keys, curated records with their audit, search
//!   events, harvested image links, and the OAI-PMH provider's view of the records.
//! - [`suggestions`]: readers' purchase suggestions (读者荐购), their answers and the
//!   contacts left for a reply (deleted when their time is up).
//! - Venues and mobile routes ([`Store::venues`], [`Store::update_venue`],
//!   [`Store::mobile_routes`]): opening hours, facilities and the service network, kept apart
//!   from the institutions so that a change of hours re-indexes nothing.
//! - Image files ([`Store::put_image_files`], [`Store::image_file`]): on a shared store, the
//!   bytes of every stored image size, so that every node can serve an image written on any.
//! - `test_cluster` (for tests, with the feature `test-cluster`): a private PostgreSQL server
//!   per test process and a fresh database per test (`test_cluster::database()`).
//!
//! # The change log
//!
//! Every change to `records` takes the next value of a monotonic change sequence (`seq`); the
//! index remembers the highest `seq` it has committed (its watermark), so after any crash it
//! re-indexes exactly what it lacks.
//!
//! A harvest applies one page per transaction, together with the source's checkpoint, so a
//! run interrupted anywhere resumes from the last page it stored and never duplicates.
//!
//! ```
//! use store::{Incoming, Store};
//! use schemas::Record;
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(&dir.path().join("jincheng.db"))?;
//! let record = Record::new("lzlib:1", "lzlib", "靜夜思");
//! store.import_records(&[record])?;
//! assert_eq!(store.live_records()?, 1);
//! assert_eq!(store.changes_since(0, 10)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod accounts;
pub mod analytics;
pub mod backup;
pub mod curated;
mod image_files;
mod leases;
pub mod remote_images;
mod service_stats;
pub mod suggestions;
#[cfg(any(test, feature = "test-cluster"))]
pub mod test_cluster;
mod venues;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

mod api_keys;
mod db;
mod export;
pub mod oai;

use db::{Conn, Db, Dialect, args};
use rusqlite::Connection;
use schemas::{Institution, Record};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use api_keys::ApiKey;
pub use export::ExportRow;
pub use service_stats::ServiceDay;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (corruption, an I/O error, locked beyond the busy timeout).
    #[error("store: {0}")]
    Sqlite(rusqlite::Error),
    /// PostgreSQL failed (the server is unreachable, a statement failed).
    #[error("store: {0}")]
    Postgres(#[source] tokio_postgres::Error),
    /// The database found the disk full (`SQLITE_FULL`, PostgreSQL's `disk_full`): the
    /// transaction was rolled back and nothing of it was written.
    #[error("store: disk full, nothing was written ({0})")]
    DiskFull(String),
    /// A stored value is not what the store expects where it found it.
    #[error("store: unexpected stored value: {0}")]
    Value(String),
    /// The store cannot be opened as configured (a PostgreSQL URL that does not parse).
    #[error("store: {0}")]
    Config(String),
    /// A stored JSON document could not be read back (written by an incompatible version).
    #[error("store: stored JSON is unreadable: {0}")]
    Json(#[from] serde_json::Error),
    /// A file could not be read or written (a backup, a restore).
    #[error("store: {0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// A database that is not a sound Jincheng store (a backup that fails its check).
    #[error("store: the database is not sound: {0}")]
    Corrupt(String),
    /// The database was written by a newer Jincheng.
    #[error("store: schema version {found} is newer than this program's {supported}")]
    TooNew {
        /// Version in the file.
        found: i64,
        /// Version this build understands.
        supported: i64,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        if err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::DiskFull(err.to_string())
        } else {
            StoreError::Sqlite(err)
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> Self {
        if err.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL) {
            StoreError::DiskFull(err.to_string())
        } else {
            StoreError::Postgres(err)
        }
    }
}

impl StoreError {
    /// True if the disk (or the file system holding the data directory) is full: the
    /// caller may say so, and try again once space is freed.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::DiskFull(_) => true,
            StoreError::Io(_, err) => err.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }
}

/// The store's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS institutions (
    id TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL,
    protocol TEXT NOT NULL,
    url TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    source TEXT,
    institution TEXT NOT NULL,
    local_id TEXT NOT NULL,
    datestamp TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    raw TEXT,
    record_json TEXT,
    content_hash TEXT,
    seq INTEGER NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE UNIQUE INDEX IF NOT EXISTS records_by_seq ON records(seq);
CREATE INDEX IF NOT EXISTS records_by_source ON records(source);
CREATE TABLE IF NOT EXISTS harvest_runs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    resumed INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    bytes_read INTEGER,
    bytes_total INTEGER
);
CREATE TABLE IF NOT EXISTS checkpoints (
    source TEXT PRIMARY KEY,
    resumption_token TEXT,
    run_from TEXT,
    run_response_date TEXT,
    next_from TEXT
);
CREATE TABLE IF NOT EXISTS dump_seen (
    run_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY,
    run_id INTEGER,
    source TEXT NOT NULL,
    local_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
"#;

/// The store: a SQLite file ([`Store::open`]) or a PostgreSQL database
/// ([`Store::connect`]). Cheap to share behind an `Arc`; each call takes a short lock or a
/// pooled connection.
///
/// On SQLite, three connections: one for writes (SQLite has one writer anyway), one for the
/// API's reads and one for the index follower's change feed, so neither a long harvest
/// transaction nor a large catch-up read delays a request (WAL lets them all overlap).
pub struct Store {
    db: Db,
}

/// Where a harvest of one source stands between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// Token of an interrupted list: the next run resumes here.
    pub resumption_token: Option<String>,
    /// `from` of the run in progress (to restart it if its token expired).
    pub run_from: Option<String>,
    /// Provider's `responseDate` of the run in progress's first page.
    pub run_response_date: Option<String>,
    /// `from` for the next incremental run, set when a run completes.
    pub next_from: Option<String>,
}

/// How far a whole-dump run has read its file: bytes read (as stored or downloaded), of the
/// file's size when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BytesRead {
    /// Bytes read so far.
    pub bytes: u64,
    /// The file's size, when known.
    pub of: Option<u64>,
}

/// What is stored with a page beside its items, in its transaction.
struct Page<'a> {
    checkpoint: &'a Checkpoint,
    /// Ids a whole-dump run saw (see [`Store::unseen`]).
    seen: &'a [String],
    read: Option<BytesRead>,
}

/// One harvested item, ready to be stored.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// A live record.
    Record {
        /// The mapped record.
        record: Box<Record>,
        /// The source's datestamp.
        datestamp: String,
        /// The raw payload as harvested.
        raw: String,
    },
    /// The source says this record was deleted.
    Deleted {
        /// Record id.
        id: String,
        /// Source-local id.
        local_id: String,
        /// The source's datestamp.
        datestamp: String,
    },
    /// The record could not be understood; kept with its reason and raw bytes.
    Quarantined {
        /// Source-local id (or a position when there is none).
        local_id: String,
        /// Why.
        reason: String,
        /// The raw payload as harvested.
        raw: String,
    },
}

/// What storing some items changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Records new to the store (or back from deletion).
    pub added: u64,
    /// Records whose content changed.
    pub updated: u64,
    /// Records removed by a deletion.
    pub deleted: u64,
    /// Records that were already stored exactly so.
    pub unchanged: u64,
    /// Items quarantined.
    pub quarantined: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.added += other.added;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.quarantined += other.quarantined;
    }
}

/// A change for the indexer: the record as it now is, or its deletion.
#[derive(Debug, Clone)]
pub struct Change {
    /// Change sequence number.
    pub seq: u64,
    /// Record id.
    pub id: String,
    /// The record, `None` when deleted.
    pub record: Option<Record>,
}

/// A finished or running harvest, as reported by the CLI and the API.
#[derive(Debug, Clone, Serialize)]
pub struct HarvestRun {
    /// Run id.
    pub id: i64,
    /// Source id.
    pub source: String,
    /// UTC start.
    pub started_at: String,
    /// UTC end, if finished.
    pub finished_at: Option<String>,
    /// Where it stands ([`RunStatus::Interrupted`]: the process stopped during the run;
    /// marked when the data directory is next opened, see [`Store::mark_interrupted_runs`]).
    pub status: RunStatus,
    /// Whether it resumed an interrupted list.
    pub resumed: bool,
    /// Pages stored.
    pub pages: u64,
    /// What it changed.
    #[serde(flatten)]
    pub counts: Counts,
    /// Why it failed.
    pub error: Option<String>,
    /// Bytes of its dump read so far (whole-dump runs).
    pub bytes_read: Option<u64>,
    /// Size of its dump, when known.
    pub bytes_total: Option<u64>,
    /// Seconds from its start to its end, or to now while it runs.
    pub elapsed_seconds: f64,
}

impl HarvestRun {
    /// Items stored per second (each added, updated, unchanged, deleted or quarantined).
    pub fn items_per_second(&self) -> f64 {
        let c = &self.counts;
        let items = c.added + c.updated + c.unchanged + c.deleted + c.quarantined;
        items as f64 / self.elapsed_seconds.max(0.001)
    }

    /// While a dump run of known size runs: the seconds it still needs at its pace so far.
    pub fn eta_seconds(&self) -> Option<f64> {
        let (read, total) = (self.bytes_read?, self.bytes_total?);
        (self.status == RunStatus::Running && read > 0)
            .then(|| self.elapsed_seconds * total.saturating_sub(read) as f64 / read as f64)
    }
}

/// The harvest runs of one source that stand at one status, added up: for the metrics, which
/// read them from the store so that every node reports the same totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTotals {
    /// Source id.
    pub source: String,
    /// Where these runs stand.
    pub status: RunStatus,
    /// How many runs.
    pub runs: u64,
    /// What they changed, together.
    pub counts: Counts,
}

/// Where a harvest run stands. Stored by its [`RunStatus::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Under way (or its process died; see [`RunStatus::Interrupted`]).
    Running,
    /// Every page was stored.
    Complete,
    /// It stopped with an error (kept in [`HarvestRun::error`]); the next run resumes.
    Failed,
    /// Its process stopped before it finished; the next run resumes.
    Interrupted,
}

impl RunStatus {
    /// The stored (and serialised) name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Complete => "complete",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// The status of a stored name.
    pub fn from_name(name: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Complete,
            RunStatus::Failed,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|status| status.as_str() == name)
    }
}

impl db::FromValue for RunStatus {
    fn from_value(value: db::Value<'_>) -> Result<Self, String> {
        db::stored_name(value, RunStatus::from_name)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A quarantined item.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantinedItem {
    /// Row id.
    pub id: i64,
    /// Harvest run that met it.
    pub run_id: Option<i64>,
    /// Source id.
    pub source: String,
    /// Source-local id.
    pub local_id: String,
    /// Why it was refused.
    pub reason: String,
    /// Raw payload.
    pub raw: String,
    /// UTC time.
    pub at: String,
}

fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a transaction acknowledged as committed survives power loss, which is the
    // promise the API makes for stored records.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Adds the columns that later versions gave existing tables (neither database rewrites
/// the table for it), so a store written by an earlier version opens as it is.
fn add_missing_columns(c: &mut Conn<'_>) -> Result<()> {
    const ADDED: [(&str, &str, &str); 3] = [
        ("harvest_runs", "bytes_read", "INTEGER"),
        ("harvest_runs", "bytes_total", "INTEGER"),
        // The institution a key reports service statistics for (none: an app's key).
        ("api_keys", "institution", "TEXT"),
    ];
    for (table, column, kind) in ADDED {
        let exists = match c.dialect() {
            Dialect::Sqlite => c.exists(
                "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2",
                args![table, column],
            )?,
            Dialect::Postgres => c.exists(
                "SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = ?1 AND column_name = ?2",
                args![table, column],
            )?,
        };
        if !exists {
            c.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    Ok(())
}

/// The schema version the database was last opened by (0 for a new one).
fn schema_version(c: &mut Conn<'_>) -> Result<i64> {
    match c.dialect() {
        Dialect::Sqlite => c.query_row("PRAGMA user_version", args![], |r| r.get(0)),
        Dialect::Postgres => {
            c.execute_batch(
                "CREATE TABLE IF NOT EXISTS jincheng_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
            )?;
            Ok(c.query_opt(
                "SELECT value FROM jincheng_meta WHERE key = 'schema_version'",
                args![],
                |r| r.get(0),
            )?
            .unwrap_or(0))
        }
    }
}

fn set_schema_version(c: &mut Conn<'_>, version: i64) -> Result<()> {
    match c.dialect() {
        Dialect::Sqlite => c.execute_batch(&format!("PRAGMA user_version = {version}")),
        Dialect::Postgres => c
            .execute(
                "INSERT INTO jincheng_meta (key, value) VALUES ('schema_version', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                args![version],
            )
            .map(drop),
    }
}

fn content_hash(json: &str) -> String {
    let digest = Sha256::digest(json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Seconds between two stored UTC times (`YYYY-MM-DDTHH:MM:SSZ`), to now when `to` is
/// `None`; 0 when one does not parse.
fn seconds_between(from: &str, to: Option<&str>) -> f64 {
    use time::format_description::well_known::Rfc3339;
    let parse = |s: &str| time::OffsetDateTime::parse(s, &Rfc3339).ok();
    let end = to.map_or(Some(time::OffsetDateTime::now_utc()), parse);
    match (parse(from), end) {
        (Some(from), Some(to)) => (to - from).as_seconds_f64().max(0.0),
        _ => 0.0,
    }
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let store = Store {
            db: Db::Sqlite {
                writer: Mutex::new(open_connection(path)?),
                reader: Mutex::new(open_connection(path)?),
                feed: Mutex::new(open_connection(path)?),
            },
        };
        store.migrate()?;
        Ok(store)
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user@host/db`), with
    /// `password` if given (else the URL's, if any), and up to `connections` connections,
    /// creating or upgrading its tables. Several nodes may share the database: each keeps
    /// its own connections.
    pub fn connect(url: &str, password: Option<&str>, connections: usize) -> Result<Store> {
        let store = Store {
            db: Db::Postgres(db::pg::Pool::connect(url, password, connections)?),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Whether this store is a PostgreSQL database (several nodes may share it).
    pub fn is_shared(&self) -> bool {
        self.db.dialect() == Dialect::Postgres
    }

    /// Creates the tables a new database lacks and upgrades an older one, in one
    /// transaction; refuses a database of a newer version.
    fn migrate(&self) -> Result<()> {
        self.db.write(|c| {
            let version = schema_version(c)?;
            if version > SCHEMA_VERSION {
                return Err(StoreError::TooNew {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            c.execute_batch(SCHEMA)?;
            c.execute_batch(api_keys::SCHEMA)?;
            c.execute_batch(leases::SCHEMA)?;
            c.execute_batch(image_files::SCHEMA)?;
            add_missing_columns(c)?;
            accounts::init(c)?;
            curated::init(c)?;
            analytics::init(c)?;
            remote_images::init(c)?;
            venues::init(c)?;
            suggestions::init(c)?;
            service_stats::init(c)?;
            set_schema_version(c, SCHEMA_VERSION)
        })
    }

    /// Adds or replaces institutions. Every indexed document carries its institution's name,
    /// type, district and level, so an institution that is new or changed re-enters each of
    /// its records into the change log (a new `seq`, and a new `updated_at` for the OAI-PMH
    /// provider, whose records show the institution) in the same transaction: the index
    /// follower re-indexes them, and records stored before their institution existed become
    /// searchable. An unchanged institution changes nothing (the server upserts the
    /// configured institutions at every start).
    ///
    /// An institution's venue is stored apart ([`Store::venues`]) and does not count as a
    /// change of the institution; one given replaces the stored venue, none keeps it.
    pub fn upsert_institutions(&self, institutions: &[Institution]) -> Result<()> {
        self.db.write(|c| {
            for institution in institutions {
                if let Some(venue) = &institution.venue {
                    venues::put_venue(c, &institution.id, venue)?;
                }
                let bare = Institution {
                    venue: None,
                    ..institution.clone()
                };
                let json = serde_json::to_string(&bare)?;
                let stored: Option<String> = c.query_opt(
                    "SELECT json FROM institutions WHERE id = ?1",
                    args![institution.id],
                    |r| r.get(0),
                )?;
                if stored.as_deref() == Some(json.as_str()) {
                    continue;
                }
                c.execute(
                    "INSERT INTO institutions (id, json) VALUES (?1, ?2)
                     ON CONFLICT(id) DO UPDATE SET json = excluded.json",
                    args![institution.id, json],
                )?;
                resequence_institution(c, &institution.id)?;
            }
            Ok(())
        })
    }

    /// Quarantines a stored record that the index cannot take (source `index`, the record's
    /// id as local id, `change {seq}` as raw): it stays in the store, out of the index.
    pub fn quarantine_unindexable(&self, record_id: &str, seq: u64, reason: &str) -> Result<()> {
        self.db.write(|c| {
            c.execute(
                "INSERT INTO quarantine (run_id, source, local_id, reason, raw) VALUES (NULL, 'index', ?1, ?2, ?3)",
                args![record_id, reason, format!("change {seq}")],
            )
            .map(drop)
        })
    }

    /// Every institution, by id, each with its venue.
    pub fn institutions(&self) -> Result<Vec<Institution>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT i.json, v.json FROM institutions i LEFT JOIN venues v ON v.institution = i.id
                 ORDER BY i.id",
                args![],
                |row| {
                    let mut institution: Institution = serde_json::from_str(&row.get::<String>(0)?)?;
                    let venue: Option<String> = row.get(1)?;
                    institution.venue = venue.map(|v| serde_json::from_str(&v)).transpose()?;
                    Ok(institution)
                },
            )
        })
    }

    /// Records a source (from the config).
    pub fn upsert_source(&self, id: &str, institution: &str, protocol: &str, url: &str) -> Result<()> {
        self.db.write(|c| {
            c.execute(
                "INSERT INTO sources (id, institution, protocol, url) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET institution = excluded.institution,
                     protocol = excluded.protocol, url = excluded.url",
                args![id, institution, protocol, url],
            )
            .map(drop)
        })
    }

    /// The source's checkpoint (default when it was never harvested).
    pub fn checkpoint(&self, source: &str) -> Result<Checkpoint> {
        let checkpoint = self.db.read(|c| {
            c.query_opt(
                "SELECT resumption_token, run_from, run_response_date, next_from
                 FROM checkpoints WHERE source = ?1",
                args![source],
                |row| {
                    Ok(Checkpoint {
                        resumption_token: row.get(0)?,
                        run_from: row.get(1)?,
                        run_response_date: row.get(2)?,
                        next_from: row.get(3)?,
                    })
                },
            )
        })?;
        Ok(checkpoint.unwrap_or_default())
    }

    /// Starts a harvest run and returns its id.
    pub fn start_run(&self, source: &str, resumed: bool) -> Result<i64> {
        self.db.write(|c| {
            c.execute(
                "DELETE FROM dump_seen WHERE run_id NOT IN (SELECT id FROM harvest_runs WHERE status = 'running')",
                args![],
            )?;
            c.query_row(
                "INSERT INTO harvest_runs (source, resumed) VALUES (?1, ?2) RETURNING id",
                args![source, resumed],
                |r| r.get(0),
            )
        })
    }

    /// Ends a harvest run.
    pub fn finish_run(&self, run_id: i64, error: Option<&str>) -> Result<()> {
        self.db.write(|c| {
            let status = if error.is_none() { "complete" } else { "failed" };
            c.execute(
                "UPDATE harvest_runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                     status = ?2, error = ?3
                 WHERE id = ?1",
                args![run_id, status, error],
            )?;
            // Marks left by a run that could not drop them go at the next run's start.
            c.execute("DELETE FROM dump_seen WHERE run_id = ?1", args![run_id])
                .map(drop)
        })
    }

    /// Stores one page of a whole-dump run, as [`Store::apply_page`], and marks every id in
    /// `seen` as seen by the run, in the same transaction; at the end of a complete run,
    /// [`Store::unseen`] lists the source's live records it did not see (deletion by
    /// absence with nothing held in memory: the marks are a table, dropped when the run
    /// finishes). `read`, when known, is how far the run has read its dump, recorded with
    /// the page for `jincheng report` and the admin API while the run goes on.
    pub fn apply_dump_page(
        &self,
        run_id: i64,
        source: &str,
        institution: &str,
        items: &[Incoming],
        seen: &[String],
        read: Option<BytesRead>,
    ) -> Result<Counts> {
        let page = Page {
            checkpoint: &Checkpoint::default(),
            seen,
            read,
        };
        self.apply(run_id, source, institution, items, page)
    }

    /// Which of `ids` run `run_id` has already marked as seen (see [`Store::apply_dump_page`]):
    /// a dump that holds one id twice, in pages far apart, is found out without a set of
    /// every id in memory.
    pub fn seen_by_run(&self, run_id: i64, ids: &[String]) -> Result<HashSet<String>> {
        self.db.read(|c| {
            let mut seen = HashSet::new();
            for id in ids {
                if c.exists(
                    "SELECT 1 FROM dump_seen WHERE run_id = ?1 AND id = ?2",
                    args![run_id, id],
                )? {
                    seen.insert(id.clone());
                }
            }
            Ok(seen)
        })
    }

    /// Up to `limit` live records of `source` that run `run_id` did not mark as seen, after
    /// the one at `after` (a position from the previous call; 0 to start): `(position, id,
    /// local id)`. The position is the record's change number, which a deletion moves past
    /// every position read so far.
    pub fn unseen(
        &self,
        source: &str,
        run_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String, String)>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT r.seq, r.id, r.local_id FROM records r
                 WHERE r.source = ?1 AND r.deleted = 0 AND r.seq > ?3
                   AND NOT EXISTS (SELECT 1 FROM dump_seen s WHERE s.run_id = ?2 AND s.id = r.id)
                 ORDER BY r.seq LIMIT ?4",
                args![source, run_id, after, limit],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
        })
    }

    /// Marks every run still `running` whose source no node holds a live harvest lease on
    /// (see [`Store::take_lease`]; `now` in milliseconds since the Unix epoch) as
    /// `interrupted`, with an end time and a reason, and returns how many. Called when a
    /// node starts, so a run left `running` by a crash or a kill does not stay `running`
    /// forever, while another node's run goes on. The next run resumes from the checkpoint
    /// as before.
    pub fn mark_interrupted_runs(&self, now: i64) -> Result<usize> {
        const ORPHANS: &str = "SELECT id FROM harvest_runs WHERE status = 'running'
             AND source NOT IN (SELECT source FROM harvest_leases WHERE expires_at > ?1)";
        self.db.write(|c| {
            c.execute(
                &format!("DELETE FROM dump_seen WHERE run_id IN ({ORPHANS})"),
                args![now],
            )?;
            c.execute(
                &format!(
                    "UPDATE harvest_runs SET status = 'interrupted',
                         finished_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
                         error = COALESCE(error, 'the process stopped during the run')
                     WHERE id IN ({ORPHANS})"
                ),
                args![now],
            )
        })
    }

    /// Stores one harvested page and the checkpoint that follows it, in one transaction:
    /// either both are durable or neither is.
    pub fn apply_page(
        &self,
        run_id: i64,
        source: &str,
        institution: &str,
        items: &[Incoming],
        checkpoint: &Checkpoint,
    ) -> Result<Counts> {
        let page = Page {
            checkpoint,
            seen: &[],
            read: None,
        };
        self.apply(run_id, source, institution, items, page)
    }

    fn apply(
        &self,
        run_id: i64,
        source: &str,
        institution: &str,
        items: &[Incoming],
        page: Page,
    ) -> Result<Counts> {
        let Page {
            checkpoint,
            seen,
            read,
        } = page;
        self.db.write(|c| {
            let mut counts = Counts::default();
            let mut seq = next_seq(c)?;
            for item in items {
                counts += apply_item(c, run_id, source, institution, item, &mut seq)?;
            }
            for id in seen {
                c.execute(
                    "INSERT INTO dump_seen (run_id, id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    args![run_id, id],
                )?;
            }
            c.execute(
                "INSERT INTO checkpoints (source, resumption_token, run_from, run_response_date, next_from)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(source) DO UPDATE SET resumption_token = excluded.resumption_token,
                     run_from = excluded.run_from, run_response_date = excluded.run_response_date,
                     next_from = excluded.next_from",
                args![
                    source,
                    checkpoint.resumption_token,
                    checkpoint.run_from,
                    checkpoint.run_response_date,
                    checkpoint.next_from
                ],
            )?;
            c.execute(
                "UPDATE harvest_runs SET pages = pages + 1, added = added + ?2, updated = updated + ?3,
                     deleted = deleted + ?4, unchanged = unchanged + ?5, quarantined = quarantined + ?6,
                     bytes_read = COALESCE(?7, bytes_read), bytes_total = COALESCE(?8, bytes_total)
                 WHERE id = ?1",
                args![
                    run_id,
                    counts.added,
                    counts.updated,
                    counts.deleted,
                    counts.unchanged,
                    counts.quarantined,
                    read.map(|r| r.bytes),
                    read.and_then(|r| r.of)
                ],
            )?;
            Ok(counts)
        })
    }

    /// Stores records that come from no harvest (bulk imports, benchmarks) in one transaction.
    pub fn import_records(&self, records: &[Record]) -> Result<Counts> {
        self.db.write(|c| {
            let mut counts = Counts::default();
            let mut seq = next_seq(c)?;
            for record in records {
                let item = Incoming::Record {
                    record: Box::new(record.clone()),
                    datestamp: String::new(),
                    raw: String::new(),
                };
                counts += apply_item(c, 0, "", &record.institution, &item, &mut seq)?;
            }
            Ok(counts)
        })
    }

    /// The highest change sequence number (0 for an empty store).
    pub fn max_seq(&self) -> Result<u64> {
        self.db
            .read(|c| c.query_row("SELECT COALESCE(MAX(seq), 0) FROM records", args![], |r| r.get(0)))
    }

    /// Up to `limit` changes after `after`, in sequence order.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
        self.db.feed(|c| {
            c.query_map(
                "SELECT seq, id, deleted, record_json FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                args![after, limit],
                |row| {
                    let json: Option<String> = row.get(3)?;
                    let record = match (row.get::<bool>(2)?, json) {
                        (false, Some(json)) => Some(serde_json::from_str(&json)?),
                        _ => None,
                    };
                    Ok(Change {
                        seq: row.get(0)?,
                        id: row.get(1)?,
                        record,
                    })
                },
            )
        })
    }

    /// The live record with this id.
    pub fn record(&self, id: &str) -> Result<Option<Record>> {
        let json: Option<String> = self
            .db
            .read(|c| {
                c.query_opt(
                    "SELECT record_json FROM records WHERE id = ?1 AND deleted = 0",
                    args![id],
                    |r| r.get(0),
                )
            })?
            .flatten();
        Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    /// Ids of the live records a source has delivered.
    pub fn live_ids(&self, source: &str) -> Result<Vec<String>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT id FROM records WHERE source = ?1 AND deleted = 0",
                args![source],
                |row| row.get(0),
            )
        })
    }

    /// The database's size on disk in bytes: SQLite's pages (without its write-ahead log),
    /// or PostgreSQL's `pg_database_size`.
    pub fn disk_bytes(&self) -> Result<u64> {
        self.db.read(|c| match c.dialect() {
            Dialect::Sqlite => c.query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                args![],
                |r| r.get(0),
            ),
            Dialect::Postgres => c.query_row("SELECT pg_database_size(current_database())", args![], |r| {
                r.get(0)
            }),
        })
    }

    /// Number of live (not deleted) records.
    pub fn live_records(&self) -> Result<u64> {
        self.db.read(|c| {
            c.query_row("SELECT COUNT(*) FROM records WHERE deleted = 0", args![], |r| {
                r.get(0)
            })
        })
    }

    /// Live record counts per institution.
    pub fn records_per_institution(&self) -> Result<HashMap<String, u64>> {
        let rows = self.db.read(|c| {
            c.query_map(
                "SELECT institution, COUNT(*) FROM records WHERE deleted = 0 GROUP BY institution",
                args![],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })?;
        Ok(rows.into_iter().collect())
    }

    /// The most recent harvest runs, newest first.
    pub fn runs(&self, source: Option<&str>, limit: usize) -> Result<Vec<HarvestRun>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT id, source, started_at, finished_at, status, resumed, pages, added, updated,
                        deleted, unchanged, quarantined, error, bytes_read, bytes_total
                 FROM harvest_runs WHERE CAST(?1 AS TEXT) IS NULL OR source = ?1 ORDER BY id DESC LIMIT ?2",
                args![source, limit],
                |row| {
                    let started_at: String = row.get(2)?;
                    let finished_at: Option<String> = row.get(3)?;
                    Ok(HarvestRun {
                        id: row.get(0)?,
                        source: row.get(1)?,
                        elapsed_seconds: seconds_between(&started_at, finished_at.as_deref()),
                        started_at,
                        finished_at,
                        status: row.get(4)?,
                        resumed: row.get(5)?,
                        pages: row.get(6)?,
                        counts: Counts {
                            added: row.get(7)?,
                            updated: row.get(8)?,
                            deleted: row.get(9)?,
                            unchanged: row.get(10)?,
                            quarantined: row.get(11)?,
                        },
                        error: row.get(12)?,
                        bytes_read: row.get(13)?,
                        bytes_total: row.get(14)?,
                    })
                },
            )
        })
    }

    /// Every source's harvest runs, added up per status (sources in id order).
    pub fn run_totals(&self) -> Result<Vec<RunTotals>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT source, status, COUNT(*), SUM(added), SUM(updated), SUM(deleted),
                        SUM(unchanged), SUM(quarantined)
                 FROM harvest_runs GROUP BY source, status ORDER BY source, status",
                args![],
                |row| {
                    Ok(RunTotals {
                        source: row.get(0)?,
                        status: row.get(1)?,
                        runs: row.get(2)?,
                        counts: Counts {
                            added: row.get(3)?,
                            updated: row.get(4)?,
                            deleted: row.get(5)?,
                            unchanged: row.get(6)?,
                            quarantined: row.get(7)?,
                        },
                    })
                },
            )
        })
    }

    /// Quarantined items of a source (or all), newest first.
    pub fn quarantine(&self, source: Option<&str>, limit: usize) -> Result<Vec<QuarantinedItem>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT id, run_id, source, local_id, reason, raw, at FROM quarantine
                 WHERE CAST(?1 AS TEXT) IS NULL OR source = ?1 ORDER BY id DESC LIMIT ?2",
                args![source, limit],
                |row| {
                    Ok(QuarantinedItem {
                        id: row.get(0)?,
                        run_id: row.get(1)?,
                        source: row.get(2)?,
                        local_id: row.get(3)?,
                        reason: row.get(4)?,
                        raw: row.get(5)?,
                        at: row.get(6)?,
                    })
                },
            )
        })
    }
}

/// Gives every record of `institution` a new change number, in their old order.
fn resequence_institution(c: &mut Conn<'_>, institution: &str) -> Result<()> {
    let ids: Vec<String> = c.query_map(
        "SELECT id FROM records WHERE institution = ?1 ORDER BY seq",
        args![institution],
        |r| r.get(0),
    )?;
    for (seq, id) in (next_seq(c)?..).zip(ids) {
        c.execute(
            "UPDATE records SET seq = ?1, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?2",
            args![seq, id],
        )?;
    }
    Ok(())
}

/// The next free change number. Only inside a write transaction, which holds the write
/// lock until it commits: the numbers are handed out in commit order.
fn next_seq(c: &mut Conn<'_>) -> Result<i64> {
    db::commit_failpoint()?;
    let max: i64 = c.query_row("SELECT COALESCE(MAX(seq), 0) FROM records", args![], |r| r.get(0))?;
    Ok(max + 1)
}

/// Stores one item; `seq` is the next free change number and advances when used.
fn apply_item(
    c: &mut Conn<'_>,
    run_id: i64,
    source: &str,
    institution: &str,
    item: &Incoming,
    seq: &mut i64,
) -> Result<Counts> {
    let mut counts = Counts::default();
    match item {
        Incoming::Record {
            record,
            datestamp,
            raw,
        } => {
            let json = serde_json::to_string(record)?;
            let hash = content_hash(&json);
            let existing: Option<(bool, Option<String>)> = c.query_opt(
                "SELECT deleted, content_hash FROM records WHERE id = ?1",
                args![record.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            match existing {
                Some((false, Some(old))) if old == hash => {
                    counts.unchanged += 1;
                    return Ok(counts);
                }
                Some((false, _)) => counts.updated += 1,
                _ => counts.added += 1,
            }
            let local_id = record
                .id
                .strip_prefix(&format!("{source}:"))
                .unwrap_or(&record.id);
            c.execute(
                "INSERT INTO records (id, source, institution, local_id, datestamp, deleted, raw,
                                      record_json, content_hash, seq)
                 VALUES (?1, NULLIF(?2, ''), ?3, ?4, NULLIF(?5, ''), 0, NULLIF(?6, ''), ?7, ?8, ?9)
                 ON CONFLICT(id) DO UPDATE SET source = excluded.source,
                     institution = excluded.institution, local_id = excluded.local_id,
                     datestamp = excluded.datestamp, deleted = 0, raw = excluded.raw,
                     record_json = excluded.record_json, content_hash = excluded.content_hash,
                     seq = excluded.seq,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                args![
                    record.id,
                    source,
                    record.institution,
                    local_id,
                    datestamp,
                    raw,
                    json,
                    hash,
                    *seq
                ],
            )?;
            *seq += 1;
            if !source.is_empty() {
                // Harvested image links are fetched in the background (crate::remote_images);
                // queued in this transaction, so a stored record's links are never missed.
                remote_images::link_record(c, &record.id, &record.images)?;
            }
        }
        Incoming::Deleted {
            id,
            local_id,
            datestamp,
        } => {
            let deleted: Option<bool> =
                c.query_opt("SELECT deleted FROM records WHERE id = ?1", args![id], |r| {
                    r.get(0)
                })?;
            if deleted == Some(true) {
                counts.unchanged += 1;
                return Ok(counts);
            }
            // A tombstone is kept even for a record never seen live, so the deletion can be
            // passed on to whoever harvests us.
            c.execute(
                "INSERT INTO records (id, source, institution, local_id, datestamp, deleted, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                 ON CONFLICT(id) DO UPDATE SET deleted = 1, datestamp = excluded.datestamp,
                     seq = excluded.seq, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                args![id, source, institution, local_id, datestamp, *seq],
            )?;
            *seq += 1;
            remote_images::unlink_record(c, id)?;
            counts.deleted += 1;
        }
        Incoming::Quarantined {
            local_id,
            reason,
            raw,
        } => {
            c.execute(
                "INSERT INTO quarantine (run_id, source, local_id, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![run_id, source, local_id, reason, raw],
            )?;
            counts.quarantined += 1;
        }
    }
    Ok(counts)
}

/// What the store's tests share: every test runs on both backends.
#[cfg(test)]
pub(crate) mod testing {
    use super::Store;

    /// Runs `test` on a new SQLite store, then on a new database of the tests' private
    /// PostgreSQL cluster ([`crate::test_cluster`]); the backend's name goes to stderr first,
    /// so a failure says which one failed.
    pub(crate) fn each_backend(test: impl Fn(&Store)) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        eprintln!("-- on SQLite");
        test(&Store::open(&dir.path().join("jincheng.db")).expect("a SQLite store"));
        eprintln!("-- on PostgreSQL");
        test(&Store::connect(&crate::test_cluster::database(), None, 4).expect("a PostgreSQL store"));
    }
}

#[cfg(test)]
mod tests {
    use super::testing::each_backend;
    use super::*;

    fn incoming(id: &str, title: &str) -> Incoming {
        Incoming::Record {
            record: Box::new(Record::new(format!("src:{id}"), "lib", title)),
            datestamp: "2024-01-01T00:00:00Z".into(),
            raw: format!("<record>{title}</record>"),
        }
    }

    #[test]
    fn run_totals_add_up_each_source_per_status() {
        each_backend(|store| {
            let quarantined = Incoming::Quarantined {
                local_id: "3".into(),
                reason: "no title".into(),
                raw: "<record/>".into(),
            };
            let first = store.start_run("src", false).unwrap();
            let page = [incoming("1", "甲"), incoming("2", "乙"), quarantined];
            store
                .apply_page(first, "src", "lib", &page, &Checkpoint::default())
                .unwrap();
            store.finish_run(first, None).unwrap();
            let second = store.start_run("src", false).unwrap();
            store
                .apply_page(
                    second,
                    "src",
                    "lib",
                    &[incoming("1", "甲一")],
                    &Checkpoint::default(),
                )
                .unwrap();
            store.finish_run(second, None).unwrap();
            let failed = store.start_run("src", true).unwrap();
            store.finish_run(failed, Some("boom")).unwrap();
            store.start_run("other", false).unwrap();

            let totals = store.run_totals().unwrap();
            let summary: Vec<_> = totals
                .iter()
                .map(|t| (t.source.as_str(), t.status, t.runs))
                .collect();
            assert_eq!(
                summary,
                [
                    ("other", RunStatus::Running, 1),
                    ("src", RunStatus::Complete, 2),
                    ("src", RunStatus::Failed, 1),
                ]
            );
            assert_eq!(
                totals[1].counts,
                Counts {
                    added: 2,
                    updated: 1,
                    deleted: 0,
                    unchanged: 0,
                    quarantined: 1,
                }
            );
            assert_eq!(totals[2].counts, Counts::default());
        });
    }

    #[test]
    fn pages_count_added_updated_unchanged_deleted_quarantined() {
        each_backend(|store| {
            let run = store.start_run("src", false).unwrap();
            let cp = Checkpoint {
                resumption_token: Some("t1".into()),
                ..Default::default()
            };
            let counts = store
                .apply_page(
                    run,
                    "src",
                    "lib",
                    &[incoming("1", "甲"), incoming("2", "乙")],
                    &cp,
                )
                .unwrap();
            assert_eq!((counts.added, counts.updated), (2, 0));
            assert_eq!(store.checkpoint("src").unwrap(), cp);

            let page = [
                incoming("1", "甲"),
                incoming("2", "乙二"),
                Incoming::Deleted {
                    id: "src:1".into(),
                    local_id: "1".into(),
                    datestamp: "2024-02-01T00:00:00Z".into(),
                },
                Incoming::Quarantined {
                    local_id: "3".into(),
                    reason: "no title".into(),
                    raw: "<record/>".into(),
                },
            ];
            let counts = store
                .apply_page(run, "src", "lib", &page, &Checkpoint::default())
                .unwrap();
            assert_eq!(
                counts,
                Counts {
                    added: 0,
                    updated: 1,
                    deleted: 1,
                    unchanged: 1,
                    quarantined: 1
                }
            );
            assert_eq!(store.live_records().unwrap(), 1);
            assert_eq!(store.record("src:1").unwrap(), None);
            assert_eq!(store.record("src:2").unwrap().unwrap().title, "乙二");
            assert_eq!(store.quarantine(Some("src"), 10).unwrap()[0].reason, "no title");

            let runs = store.runs(Some("src"), 10).unwrap();
            assert_eq!(runs[0].pages, 2);
            assert_eq!(runs[0].counts.added, 2);
            assert_eq!(runs[0].status, RunStatus::Running);
            store.finish_run(run, None).unwrap();
            let runs = store.runs(None, 10).unwrap();
            assert_eq!(runs[0].status, RunStatus::Complete);
            assert!(runs[0].finished_at.is_some() && runs[0].elapsed_seconds < 3600.0);
        });
    }

    #[test]
    fn changes_follow_the_sequence() {
        each_backend(|store| {
            let run = store.start_run("src", false).unwrap();
            store
                .apply_page(
                    run,
                    "src",
                    "lib",
                    &[incoming("1", "甲"), incoming("2", "乙")],
                    &Checkpoint::default(),
                )
                .unwrap();
            let deleted = Incoming::Deleted {
                id: "src:1".into(),
                local_id: "1".into(),
                datestamp: String::new(),
            };
            store
                .apply_page(run, "src", "lib", &[deleted], &Checkpoint::default())
                .unwrap();
            assert_eq!(store.max_seq().unwrap(), 3);
            let changes = store.changes_since(1, 10).unwrap();
            assert_eq!(changes.len(), 2);
            assert_eq!(changes[0].id, "src:2");
            assert!(changes[1].record.is_none(), "the deletion comes last");
        });
    }

    #[test]
    fn institutions_sources_checkpoints_and_the_sweep_of_unseen_records() {
        each_backend(|store| {
            let mut institution: Institution = serde_json::from_value(
                serde_json::json!({"id": "lib", "name": "兰州图书馆", "type": "library"}),
            )
            .unwrap();
            store
                .upsert_institutions(std::slice::from_ref(&institution))
                .unwrap();
            store
                .upsert_source("src", "lib", "oai-pmh", "http://example.org/oai")
                .unwrap();
            let run = store.start_run("src", false).unwrap();
            let ids: Vec<String> = ["src:1", "src:2", "src:3"].map(String::from).to_vec();
            let items = [incoming("1", "甲"), incoming("2", "乙"), incoming("3", "丙")];
            store
                .apply_dump_page(run, "src", "lib", &items, &ids[..2], None)
                .unwrap();
            assert_eq!(
                store.seen_by_run(run, &ids).unwrap(),
                ids[..2].iter().cloned().collect()
            );
            let unseen = store.unseen("src", run, 0, 10).unwrap();
            assert_eq!(unseen.iter().map(|u| u.1.as_str()).collect::<Vec<_>>(), ["src:3"]);
            assert_eq!(store.live_ids("src").unwrap().len(), 3);
            assert_eq!(store.records_per_institution().unwrap()["lib"], 3);
            assert!(store.disk_bytes().unwrap() > 4096);

            // A changed institution re-enters its records into the change log.
            let before = store.max_seq().unwrap();
            institution.name = "兰州市图书馆".into();
            store
                .upsert_institutions(std::slice::from_ref(&institution))
                .unwrap();
            assert_eq!(store.max_seq().unwrap(), before + 3);
            assert_eq!(store.institutions().unwrap()[0].name, "兰州市图书馆");

            assert_eq!(store.mark_interrupted_runs(0).unwrap(), 1);
            assert_eq!(
                store.runs(Some("src"), 1).unwrap()[0].status,
                RunStatus::Interrupted
            );
            store.quarantine_unindexable("src:2", 7, "too long").unwrap();
            assert_eq!(store.quarantine(Some("index"), 10).unwrap()[0].raw, "change 7");
        });
    }

    /// Writers that take their change numbers and commit late, beside writers that commit at
    /// once, and a follower tailing `seq > watermark` all along: the follower misses nothing,
    /// because numbers are handed out under the write lock, held until commit.
    #[test]
    fn a_follower_misses_no_change_of_slow_and_fast_writers() {
        each_backend(|store| {
            const WRITERS: usize = 4;
            const EACH: usize = 12;
            let done = std::sync::atomic::AtomicUsize::new(0);
            let seen = std::thread::scope(|scope| {
                for writer in 0..WRITERS {
                    let done = &done;
                    scope.spawn(move || {
                        for n in 0..EACH {
                            let record = Record::new(format!("w{writer}:{n}"), "lib", "题");
                            store
                                .db
                                .write(|c| {
                                    let mut seq = next_seq(c)?;
                                    let item = Incoming::Record {
                                        record: Box::new(record),
                                        datestamp: String::new(),
                                        raw: String::new(),
                                    };
                                    apply_item(c, 0, "", "lib", &item, &mut seq)?;
                                    if writer % 2 == 0 {
                                        // A slow writer: its number is taken, its commit late.
                                        std::thread::sleep(std::time::Duration::from_millis(15));
                                    }
                                    Ok(())
                                })
                                .unwrap();
                        }
                        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    });
                }
                let follower = scope.spawn(|| {
                    let (mut watermark, mut seen) = (0, HashSet::new());
                    loop {
                        let finished = done.load(std::sync::atomic::Ordering::SeqCst) == WRITERS;
                        for change in store.changes_since(watermark, 5).unwrap() {
                            assert!(change.seq > watermark);
                            watermark = change.seq;
                            seen.insert(change.id);
                        }
                        if finished && store.max_seq().unwrap() == watermark {
                            return seen;
                        }
                    }
                });
                follower.join().unwrap()
            });
            assert_eq!(seen.len(), WRITERS * EACH, "every change was read by tailing");
        });
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jincheng.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
