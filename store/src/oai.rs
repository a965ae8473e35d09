//! The store's queries for the OAI-PMH provider (`src/oai.rs`).
//!
//! Lists are ordered by the change sequence `seq` and bounded by a snapshot (the highest
//! `seq` when the list started): a record changed during a paged harvest gets a new `seq`
//! beyond the snapshot, so it is neither repeated nor shifted, and the next incremental
//! harvest brings it (its `updated_at` is later than the harvest's start).
//!
//! Datestamps are `updated_at` (UTC, seconds), which every change — deletions included —
//! sets. Set membership by resource type reads `record_json`, which tombstones of records
//! once seen alive keep.

use rusqlite::{OptionalExtension, ToSql, params_from_iter};
use schemas::Record;

use super::{Result, Store};

/// Indexes the provider's queries need; created on first use.
const INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS records_oai_by_datestamp ON records(updated_at);
CREATE INDEX IF NOT EXISTS records_oai_by_institution ON records(institution, seq);
CREATE INDEX IF NOT EXISTS records_oai_by_type ON records(json_extract(record_json, '$.resource_type'), seq);
"#;

/// Creates the provider's indexes (idempotent). [`Store::oai_list`] creates them when they
/// are missing; calling this at open time instead only moves the cost.
pub(crate) fn init(c: &mut crate::db::Conn<'_>) -> Result<()> {
    c.execute_batch(INDEXES)
}

/// One row of `records` as the provider sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct OaiRow {
    /// Record id.
    pub id: String,
    /// Institution id.
    pub institution: String,
    /// Whether it is a tombstone.
    pub deleted: bool,
    /// `updated_at`: the OAI datestamp.
    pub updated_at: String,
    /// Change sequence number.
    pub seq: u64,
    /// The record (kept by tombstones of records once seen alive; `None` otherwise).
    pub record: Option<Record>,
}

/// Which rows a list selects. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OaiFilter {
    /// Earliest `updated_at` (inclusive).
    pub from: Option<String>,
    /// Latest `updated_at` (inclusive).
    pub until: Option<String>,
    /// Only these institutions.
    pub institutions: Option<Vec<String>>,
    /// Only these resource types (tombstones without a record never match).
    pub resource_types: Option<Vec<String>>,
    /// Only tombstones or live records of these resource types (a format's coverage).
    pub live_resource_types: Option<Vec<String>>,
}

impl OaiFilter {
    /// The WHERE conditions and their parameters, after `seq > ?1 AND seq <= ?2`.
    fn conditions(&self, params: &mut Vec<Box<dyn ToSql>>) -> String {
        let mut sql = String::new();
        if let Some(from) = &self.from {
            params.push(Box::new(from.clone()));
            sql.push_str(&format!(" AND updated_at >= ?{}", params.len()));
        }
        if let Some(until) = &self.until {
            params.push(Box::new(until.clone()));
            sql.push_str(&format!(" AND updated_at <= ?{}", params.len()));
        }
        let list = |values: &[String], params: &mut Vec<Box<dyn ToSql>>| -> String {
            let mut marks = Vec::new();
            for value in values {
                params.push(Box::new(value.clone()));
                marks.push(format!("?{}", params.len()));
            }
            marks.join(", ")
        };
        if let Some(institutions) = &self.institutions {
            sql.push_str(&format!(" AND institution IN ({})", list(institutions, params)));
        }
        if let Some(types) = &self.resource_types {
            sql.push_str(&format!(
                " AND json_extract(record_json, '$.resource_type') IN ({})",
                list(types, params)
            ));
        }
        if let Some(types) = &self.live_resource_types {
            sql.push_str(&format!(
                " AND (deleted = 1 OR json_extract(record_json, '$.resource_type') IN ({}))",
                list(types, params)
            ));
        }
        sql
    }
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(OaiRow, Option<String>)> {
    Ok((
        OaiRow {
            id: row.get(0)?,
            institution: row.get(1)?,
            deleted: row.get(2)?,
            updated_at: row.get(3)?,
            seq: row.get::<_, i64>(4)? as u64,
            record: None,
        },
        row.get(5)?,
    ))
}

fn with_record((mut row, json): (OaiRow, Option<String>)) -> Result<OaiRow> {
    if let Some(json) = json {
        row.record = Some(serde_json::from_str(&json)?);
    }
    Ok(row)
}

const COLUMNS: &str = "id, institution, deleted, updated_at, seq, record_json";

impl Store {
    /// Creates the indexes unless they exist (one cheap read when they do).
    fn oai_ensure_indexes(&self) -> Result<()> {
        let exists: bool = self.reader().query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'records_oai_by_type')",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            // Index creation writes, so it goes through the writer connection.
            init(&mut crate::db::Conn::Sqlite(&self.writer()))?;
        }
        Ok(())
    }

    /// The record or tombstone with this id.
    pub fn oai_row(&self, id: &str) -> Result<Option<OaiRow>> {
        let conn = self.reader();
        let row = conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM records WHERE id = ?1"))?
            .query_row([id], read_row)
            .optional()?;
        row.map(with_record).transpose()
    }

    /// The oldest datestamp of any record or tombstone.
    pub fn oai_earliest_datestamp(&self) -> Result<Option<String>> {
        Ok(self
            .reader()
            .query_row("SELECT MIN(updated_at) FROM records", [], |r| r.get(0))?)
    }

    /// Up to `limit` rows of `filter` with `after < seq <= snapshot`, in `seq` order.
    pub fn oai_list(
        &self,
        filter: &OaiFilter,
        after: u64,
        snapshot: u64,
        limit: usize,
    ) -> Result<Vec<OaiRow>> {
        self.oai_ensure_indexes()?;
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(after as i64), Box::new(snapshot as i64)];
        let conditions = filter.conditions(&mut params);
        params.push(Box::new(limit as i64));
        let sql = format!(
            "SELECT {COLUMNS} FROM records WHERE seq > ?1 AND seq <= ?2{conditions} ORDER BY seq LIMIT ?{}",
            params.len()
        );
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(params.iter()), read_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(with_record(row?)?);
        }
        Ok(out)
    }

    /// Number of rows of `filter` with `seq <= snapshot`.
    pub fn oai_count(&self, filter: &OaiFilter, snapshot: u64) -> Result<u64> {
        let mut params: Vec<Box<dyn ToSql>> = vec![Box::new(0i64), Box::new(snapshot as i64)];
        let conditions = filter.conditions(&mut params);
        let sql = format!("SELECT COUNT(*) FROM records WHERE seq > ?1 AND seq <= ?2{conditions}");
        let conn = self.reader();
        let n: i64 = conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(params.iter()), |r| r.get(0))?;
        Ok(n as u64)
    }
}
