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

use schemas::Record;

use super::{Result, Store};
use crate::db::{Arg, Conn, Dialect, Row, ToArg, args};

/// Indexes the provider's queries need; created on first use.
const INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS records_oai_by_datestamp ON records(updated_at);
CREATE INDEX IF NOT EXISTS records_oai_by_institution ON records(institution, seq);
CREATE INDEX IF NOT EXISTS records_oai_by_type ON records(json_extract(record_json, '$.resource_type'), seq);
"#;

/// Creates the provider's indexes (idempotent). [`Store::oai_list`] creates them when they
/// are missing; calling this at open time instead only moves the cost.
pub(crate) fn init(c: &mut Conn<'_>) -> Result<()> {
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
    fn conditions<'a>(&'a self, params: &mut Vec<Arg<'a>>) -> String {
        let mut sql = String::new();
        if let Some(from) = &self.from {
            params.push(from.to_arg());
            sql.push_str(&format!(" AND updated_at >= ?{}", params.len()));
        }
        if let Some(until) = &self.until {
            params.push(until.to_arg());
            sql.push_str(&format!(" AND updated_at <= ?{}", params.len()));
        }
        let list = |values: &'a [String], params: &mut Vec<Arg<'a>>| -> String {
            let mut marks = Vec::new();
            for value in values {
                params.push(value.to_arg());
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

fn read_row(row: &Row<'_>) -> Result<OaiRow> {
    let json: Option<String> = row.get(5)?;
    Ok(OaiRow {
        id: row.get(0)?,
        institution: row.get(1)?,
        deleted: row.get(2)?,
        updated_at: row.get(3)?,
        seq: row.get(4)?,
        record: json.map(|json| serde_json::from_str(&json)).transpose()?,
    })
}

const COLUMNS: &str = "id, institution, deleted, updated_at, seq, record_json";

impl Store {
    /// Creates the indexes unless they exist (one cheap read when they do).
    fn oai_ensure_indexes(&self) -> Result<()> {
        let exists = self.db.read(|c| match c.dialect() {
            Dialect::Sqlite => c.exists(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'records_oai_by_type'",
                args![],
            ),
            Dialect::Postgres => c.exists(
                "SELECT 1 FROM pg_indexes
                 WHERE schemaname = current_schema() AND indexname = 'records_oai_by_type'",
                args![],
            ),
        })?;
        if !exists {
            self.db.write(init)?;
        }
        Ok(())
    }

    /// The record or tombstone with this id.
    pub fn oai_row(&self, id: &str) -> Result<Option<OaiRow>> {
        self.db.read(|c| {
            c.query_opt(
                &format!("SELECT {COLUMNS} FROM records WHERE id = ?1"),
                args![id],
                read_row,
            )
        })
    }

    /// The oldest datestamp of any record or tombstone.
    pub fn oai_earliest_datestamp(&self) -> Result<Option<String>> {
        self.db
            .read(|c| c.query_row("SELECT MIN(updated_at) FROM records", args![], |r| r.get(0)))
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
        let mut params = vec![after.to_arg(), snapshot.to_arg()];
        let conditions = filter.conditions(&mut params);
        params.push(limit.to_arg());
        let sql = format!(
            "SELECT {COLUMNS} FROM records WHERE seq > ?1 AND seq <= ?2{conditions} ORDER BY seq LIMIT ?{}",
            params.len()
        );
        self.db.read(|c| c.query_map(&sql, &params, read_row))
    }

    /// Number of rows of `filter` with `seq <= snapshot`.
    pub fn oai_count(&self, filter: &OaiFilter, snapshot: u64) -> Result<u64> {
        let mut params = vec![Arg::Int(0), snapshot.to_arg()];
        let conditions = filter.conditions(&mut params);
        let sql = format!("SELECT COUNT(*) FROM records WHERE seq > ?1 AND seq <= ?2{conditions}");
        self.db.read(|c| c.query_row(&sql, &params, |r| r.get(0)))
    }
}

#[cfg(test)]
mod tests {
    use schemas::ResourceType;

    use super::*;
    use crate::testing::each_backend;
    use crate::{Checkpoint, Incoming};

    fn record(id: &str, institution: &str, resource_type: ResourceType) -> Incoming {
        let mut record = Record::new(id, institution, "题");
        record.resource_type = resource_type;
        Incoming::Record {
            record: Box::new(record),
            datestamp: String::new(),
            raw: String::new(),
        }
    }

    fn deleted(id: &str) -> Incoming {
        Incoming::Deleted {
            id: id.into(),
            local_id: id.into(),
            datestamp: String::new(),
        }
    }

    #[test]
    fn lists_follow_the_sequence_within_the_snapshot_and_filter() {
        each_backend(|store| {
            let run = store.start_run("src", false).unwrap();
            let page = [
                record("src:1", "lib", ResourceType::Book),
                record("src:2", "lib", ResourceType::Map),
                record("src:3", "museum", ResourceType::Map),
                // A record once seen alive keeps its content as a tombstone; src:4 never had any.
                deleted("src:1"),
                deleted("src:4"),
            ];
            store
                .apply_page(run, "src", "lib", &page, &Checkpoint::default())
                .unwrap();
            store
                .db
                .write(|c| {
                    c.execute(
                        "UPDATE records SET updated_at = '2020-01-01T00:00:00Z' WHERE id = 'src:2'",
                        args![],
                    )
                })
                .unwrap();

            let tombstone = store.oai_row("src:1").unwrap().unwrap();
            assert!(tombstone.deleted);
            assert_eq!(tombstone.seq, 4);
            assert_eq!(tombstone.record.unwrap().resource_type, ResourceType::Book);
            assert_eq!(store.oai_row("src:4").unwrap().unwrap().record, None);
            assert_eq!(store.oai_row("src:5").unwrap(), None);
            assert_eq!(
                store.oai_earliest_datestamp().unwrap().as_deref(),
                Some("2020-01-01T00:00:00Z")
            );

            let ids = |filter: OaiFilter, after: u64, snapshot: u64, limit: usize| -> Vec<String> {
                let rows = store.oai_list(&filter, after, snapshot, limit).unwrap();
                rows.into_iter().map(|row| row.id).collect()
            };
            let all = OaiFilter::default();
            assert_eq!(ids(all.clone(), 0, 5, 10), ["src:2", "src:3", "src:1", "src:4"]);
            assert_eq!(ids(all.clone(), 2, 4, 10), ["src:3", "src:1"]);
            assert_eq!(ids(all.clone(), 0, 5, 2), ["src:2", "src:3"]);
            assert_eq!(store.oai_count(&all, 5).unwrap(), 4);
            assert_eq!(store.oai_count(&all, 3).unwrap(), 2);

            let from = OaiFilter {
                from: Some("2021-01-01T00:00:00Z".into()),
                ..OaiFilter::default()
            };
            assert_eq!(ids(from, 0, 5, 10), ["src:3", "src:1", "src:4"]);
            let until = OaiFilter {
                until: Some("2020-12-31T23:59:59Z".into()),
                ..OaiFilter::default()
            };
            assert_eq!(ids(until.clone(), 0, 5, 10), ["src:2"]);
            assert_eq!(store.oai_count(&until, 5).unwrap(), 1);
            let museum = OaiFilter {
                institutions: Some(vec!["museum".into()]),
                ..OaiFilter::default()
            };
            assert_eq!(ids(museum, 0, 5, 10), ["src:3"]);
            let books = OaiFilter {
                resource_types: Some(vec!["book".into()]),
                ..OaiFilter::default()
            };
            assert_eq!(ids(books, 0, 5, 10), ["src:1"]);
            let maps = OaiFilter {
                institutions: Some(vec!["lib".into(), "museum".into()]),
                resource_types: Some(vec!["map".into()]),
                ..OaiFilter::default()
            };
            assert_eq!(ids(maps.clone(), 0, 5, 10), ["src:2", "src:3"]);
            assert_eq!(store.oai_count(&maps, 5).unwrap(), 2);
            let coverage = OaiFilter {
                live_resource_types: Some(vec!["map".into()]),
                ..OaiFilter::default()
            };
            assert_eq!(ids(coverage, 0, 5, 10), ["src:2", "src:3", "src:1", "src:4"]);
            let coverage = OaiFilter {
                live_resource_types: Some(vec!["book".into()]),
                ..OaiFilter::default()
            };
            assert_eq!(ids(coverage, 0, 5, 10), ["src:1", "src:4"]);
        });
    }
}
