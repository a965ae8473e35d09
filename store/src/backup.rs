//! Online backup and restore of the store file, with SQLite's backup API.
//!
//! A backup copies every page of the database under one read transaction, so it is one
//! consistent state: every transaction committed before it began, none that committed after
//! (WAL mode lets harvests, curators and the index follower go on writing meanwhile). It is
//! written next to its destination and renamed into place once complete and checked, so a
//! destination file is never a half-written backup.

use std::path::{Path, PathBuf};

use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};

use crate::{Result, SCHEMA_VERSION, StoreError};

/// What a backup or a restore copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Database pages copied.
    pub pages: u64,
    /// Live records in the copy.
    pub records: u64,
    /// The copy's change sequence: its last change.
    pub last_change: u64,
}

/// Copies the store at `database` (it may be in use) into `destination`.
pub fn backup(database: &Path, destination: &Path) -> Result<Copied> {
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    copy_into(&source, destination)
}

/// Replaces the store at `database` by the backup at `backup` (checked first: it must be a
/// store this build can read). The caller makes sure no process has `database` open, and
/// rebuilds the index afterwards: the index of the old store describes other records.
pub fn restore(backup: &Path, database: &Path) -> Result<Copied> {
    let source = Connection::open_with_flags(backup, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    check_version(&source)?;
    let copied = copy_into(&source, database)?;
    // The old database's write-ahead log belongs to the old file.
    for suffix in ["-wal", "-shm"] {
        let stale = with_suffix(database, suffix);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| StoreError::Io(stale.display().to_string(), e))?;
        }
    }
    Ok(copied)
}

/// Copies `source` into a temporary file beside `destination`, checks it and renames it
/// into place.
fn copy_into(source: &Connection, destination: &Path) -> Result<Copied> {
    let partial = with_suffix(destination, ".partial");
    if partial.exists() {
        std::fs::remove_file(&partial).map_err(|e| StoreError::Io(partial.display().to_string(), e))?;
    }
    let mut copy = Connection::open(&partial)?;
    let pages = {
        let backup = Backup::new(source, &mut copy)?;
        // All pages in one step: one read transaction, so one consistent state.
        backup.step(-1)?;
        u64::try_from(backup.progress().pagecount).unwrap_or(0)
    };
    let check: String = copy.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(StoreError::Corrupt(check));
    }
    check_version(&copy)?;
    let records: i64 = copy.query_row("SELECT COUNT(*) FROM records WHERE deleted = 0", [], |r| r.get(0))?;
    let last_change: i64 = copy.query_row("SELECT COALESCE(MAX(seq), 0) FROM records", [], |r| r.get(0))?;
    // The copy is a plain database file, not in WAL mode: nothing else comes with it.
    copy.pragma_update(None, "journal_mode", "DELETE")?;
    drop(copy);
    std::fs::rename(&partial, destination)
        .map_err(|e| StoreError::Io(destination.display().to_string(), e))?;
    Ok(Copied {
        pages,
        records: u64::try_from(records).unwrap_or(0),
        last_change: u64::try_from(last_change).unwrap_or(0),
    })
}

/// Refuses a database that is not a store this build can read.
fn check_version(conn: &Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let has_records: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records')",
        [],
        |r| r.get(0),
    )?;
    if !has_records {
        return Err(StoreError::Corrupt(
            "not a Jincheng store (no records table)".into(),
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
