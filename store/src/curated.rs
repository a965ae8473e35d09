//! Curated records in the store: records that curators register directly, their images,
//! and the audit log of every change to them.
//!
//! A curated record lives in two places, always written in one transaction:
//! - `records`, like every record (with `source` NULL: no harvest owns it), so that it takes
//!   a change sequence number, is indexed by the follower, served by `/api/v1/records` and
//!   passed on to whoever harvests us; a soft delete is an ordinary tombstone there;
//! - `curated_records`, which adds what only curation needs: the version behind the ETag,
//!   the last content (kept while soft-deleted, so a restore brings it back), the ordered
//!   images with their alt text, and who created and last changed it.
//!
//! Harvests never touch these rows: a harvest writes only ids under its own source's prefix,
//! and a dump deletes only `records.source = its id` (`Store::live_ids`). The write here is
//! guarded the other way too: it refuses to overwrite a row that has a source.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};
use schemas::Record;
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, content_hash, next_seq};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS curated_records (
    id TEXT PRIMARY KEY,
    institution TEXT NOT NULL,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    record_json TEXT NOT NULL,
    images_json TEXT NOT NULL DEFAULT '[]',
    title TEXT NOT NULL,
    brand TEXT,
    special_collection INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS curated_by_institution ON curated_records(institution, updated_at);
CREATE TABLE IF NOT EXISTS curation_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor TEXT NOT NULL,
    institution TEXT,
    record_id TEXT,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX IF NOT EXISTS curation_audit_by_institution ON curation_audit(institution, id);
"#;

/// Creates the curation tables (called by [`Store::open`]).
pub(crate) fn init(c: &mut crate::db::Conn<'_>) -> Result<()> {
    c.execute_batch(SCHEMA)
}

/// One image of a curated record, as stored under `{data_dir}/images/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CuratedImage {
    /// SHA-256 (hex) of the uploaded bytes: the image's address.
    pub hash: String,
    /// What the image shows, for screen readers (required).
    pub alt: String,
    /// Width of the display size, in pixels.
    pub width: u32,
    /// Height of the display size, in pixels.
    pub height: u32,
}

/// What a curated record is, as the service decides it should be after a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CuratedState {
    /// The owning institution.
    pub institution: String,
    /// The record (its `images` rendered from `images`).
    pub record: Record,
    /// Soft-deleted (a tombstone in `records`; restorable).
    pub deleted: bool,
    /// The ordered images.
    pub images: Vec<CuratedImage>,
}

/// A curated record as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CuratedRow {
    /// Record id, `curated-{institution}:{uuid}`.
    pub id: String,
    /// Increases with every change; the ETag is made from it.
    pub version: i64,
    /// The content.
    #[serde(flatten)]
    pub state: CuratedState,
    /// Username of its creator.
    pub created_by: String,
    /// UTC creation time.
    pub created_at: String,
    /// Username of whoever changed it last.
    pub updated_by: String,
    /// UTC time of the last change.
    pub updated_at: String,
}

/// Who holds a record id, as far as curation is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOwner {
    /// No record has this id.
    Missing,
    /// A curated record of this institution.
    Curated {
        /// Owning institution.
        institution: String,
        /// Whether it is soft-deleted.
        deleted: bool,
    },
    /// A harvested record: owned by its harvest.
    Harvested {
        /// Source id.
        source: String,
        /// Holding institution.
        institution: String,
    },
    /// A record stored without a source that is not curated (a bulk import).
    Imported {
        /// Holding institution.
        institution: String,
    },
}

/// Which curated records to list.
#[derive(Debug, Clone, Default)]
pub struct CuratedQuery {
    /// Only these institutions (`None`: all).
    pub institutions: Option<Vec<String>>,
    /// Substring of the title, the brand or the id (case-insensitive for ASCII).
    pub q: Option<String>,
    /// Only special holdings (or only the others).
    pub special_collection: Option<bool>,
    /// Exact brand name.
    pub brand: Option<String>,
    /// Only records offering this accessible format (machine value).
    pub accessible_format: Option<String>,
    /// Only records for this audience (machine value).
    pub audience: Option<String>,
    /// Only records of this resource type (machine value).
    pub resource_type: Option<String>,
    /// `Some(true)`: only soft-deleted; `Some(false)`: only live; `None`: both.
    pub deleted: Option<bool>,
    /// Page size.
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// What an audit entry records. Stored by its [`AuditAction::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// A curated record was created.
    Create,
    /// A curated record's content was replaced.
    Update,
    /// A curated record was withdrawn (soft delete).
    Delete,
    /// A withdrawn curated record was restored.
    Restore,
    /// An image was added to a curated record.
    AddImage,
    /// A curated record's images were reordered or re-captioned.
    UpdateImages,
    /// An image was removed from a curated record.
    DeleteImage,
    /// An account was created.
    CreateUser,
    /// An account was disabled.
    DisableUser,
    /// An institution was created or changed.
    UpsertInstitution,
    /// An app's API key was issued.
    CreateApiKey,
    /// An app's API key was revoked.
    RevokeApiKey,
    /// A venue's hours or facilities were changed (by a curator or an admin).
    UpdateVenue,
    /// A mobile service's route was created or changed.
    UpsertMobileRoute,
    /// A reader's purchase suggestion was answered (ordered, held, declined).
    AnswerSuggestion,
    /// Two purchase suggestions were merged into one.
    MergeSuggestions,
    /// Daily service statistics were reported (stored or replaced).
    ReportStatistics,
}

impl rusqlite::types::FromSql for AuditAction {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        crate::stored_name(value, AuditAction::from_name)
    }
}

impl AuditAction {
    /// Every action, in the order above.
    pub const ALL: [AuditAction; 17] = [
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::Restore,
        AuditAction::AddImage,
        AuditAction::UpdateImages,
        AuditAction::DeleteImage,
        AuditAction::CreateUser,
        AuditAction::DisableUser,
        AuditAction::UpsertInstitution,
        AuditAction::CreateApiKey,
        AuditAction::RevokeApiKey,
        AuditAction::UpdateVenue,
        AuditAction::UpsertMobileRoute,
        AuditAction::AnswerSuggestion,
        AuditAction::MergeSuggestions,
        AuditAction::ReportStatistics,
    ];

    /// The stored (and serialised) name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::Restore => "restore",
            AuditAction::AddImage => "add_image",
            AuditAction::UpdateImages => "update_images",
            AuditAction::DeleteImage => "delete_image",
            AuditAction::CreateUser => "create_user",
            AuditAction::DisableUser => "disable_user",
            AuditAction::UpsertInstitution => "upsert_institution",
            AuditAction::CreateApiKey => "create_api_key",
            AuditAction::RevokeApiKey => "revoke_api_key",
            AuditAction::UpdateVenue => "update_venue",
            AuditAction::UpsertMobileRoute => "upsert_mobile_route",
            AuditAction::AnswerSuggestion => "answer_suggestion",
            AuditAction::MergeSuggestions => "merge_suggestions",
            AuditAction::ReportStatistics => "report_statistics",
        }
    }

    /// The action of a stored name.
    pub fn from_name(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Entry id (increasing).
    pub id: i64,
    /// UTC time, to the millisecond.
    pub at: String,
    /// Username of who made the change.
    pub actor: String,
    /// Institution concerned, if any.
    pub institution: Option<String>,
    /// Record concerned, if any.
    pub record_id: Option<String>,
    /// What was done.
    pub action: AuditAction,
    /// The state before (absent for a creation).
    pub before: Option<serde_json::Value>,
    /// The state after.
    pub after: Option<serde_json::Value>,
}

/// A change that was committed: the row as it now is and the change sequence it took.
#[derive(Debug, Clone)]
pub struct CommittedChange {
    /// The curated record after the change.
    pub row: CuratedRow,
    /// The change sequence number (wait for the index watermark to reach it).
    pub seq: u64,
}

impl Store {
    /// Who holds `id`.
    pub fn record_owner(&self, id: &str) -> Result<RecordOwner> {
        let conn = self.reader();
        owner(&conn, id)
    }

    /// The curated record `id` (live or soft-deleted).
    pub fn curated(&self, id: &str) -> Result<Option<CuratedRow>> {
        let conn = self.reader();
        curated_row(&conn, id)
    }

    /// Changes one curated record in one transaction.
    ///
    /// `decide` sees the current row (`None` when `id` is new) and returns the new state, or
    /// an error that aborts the change (a failed precondition, a forbidden edit). The record,
    /// its curation row and the audit entry are then committed together, durable
    /// (`synchronous=FULL`) before this returns. Serialising the check and the write under the
    /// writer lock makes `If-Match` races impossible: two updates of the same version cannot
    /// both succeed.
    pub fn change_curated<E: From<StoreError>>(
        &self,
        id: &str,
        actor: &str,
        action: AuditAction,
        decide: impl FnOnce(Option<&CuratedRow>) -> std::result::Result<CuratedState, E>,
    ) -> std::result::Result<CommittedChange, E> {
        let mut conn = self.writer();
        let tx = super::write_transaction(&mut conn).map_err(StoreError::from)?;
        let before = curated_row(&tx, id)?;
        if before.is_none() && owner(&tx, id)? != RecordOwner::Missing {
            // The id is held by a record curation does not own; never overwrite it.
            return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows).into());
        }
        let state = decide(before.as_ref())?;
        let seq = write_curated(&tx, id, actor, before.as_ref(), &state)?;
        let before_json = before
            .as_ref()
            .map(|row| serde_json::to_string(&row.state))
            .transpose()
            .map_err(StoreError::from)?;
        let after_json = serde_json::to_string(&state).map_err(StoreError::from)?;
        insert_audit(
            &mut crate::db::Conn::Sqlite(&tx),
            actor,
            Some(&state.institution),
            Some(id),
            action,
            before_json.as_deref(),
            Some(&after_json),
        )?;
        let row = curated_row(&tx, id)?.ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))?;
        crate::commit(tx)?;
        Ok(CommittedChange { row, seq })
    }

    /// Curated records matching `query`, newest change first, and how many match in all.
    pub fn curated_list(&self, query: &CuratedQuery) -> Result<(Vec<CuratedRow>, u64)> {
        let mut clauses: Vec<String> = Vec::new();
        let mut values: Vec<SqlValue> = Vec::new();
        if let Some(institutions) = &query.institutions {
            if institutions.is_empty() {
                return Ok((Vec::new(), 0));
            }
            let marks = vec!["?"; institutions.len()].join(", ");
            clauses.push(format!("institution IN ({marks})"));
            values.extend(institutions.iter().map(|i| SqlValue::Text(i.clone())));
        }
        if let Some(q) = query.q.as_ref().filter(|q| !q.is_empty()) {
            clauses.push(
                "(instr(lower(title), lower(?)) > 0 OR instr(lower(IFNULL(brand, '')), lower(?)) > 0 OR id = ?)"
                    .into(),
            );
            for _ in 0..3 {
                values.push(SqlValue::Text(q.clone()));
            }
        }
        if let Some(special) = query.special_collection {
            clauses.push("special_collection = ?".into());
            values.push(SqlValue::Integer(special.into()));
        }
        if let Some(brand) = &query.brand {
            clauses.push("brand = ?".into());
            values.push(SqlValue::Text(brand.clone()));
        }
        for (path, value) in [
            ("$.curation.accessible_formats", &query.accessible_format),
            ("$.curation.audiences", &query.audience),
        ] {
            if let Some(value) = value {
                clauses.push(format!(
                    "EXISTS (SELECT 1 FROM json_each(record_json, '{path}') WHERE value = ?)"
                ));
                values.push(SqlValue::Text(value.clone()));
            }
        }
        if let Some(resource_type) = &query.resource_type {
            clauses.push("json_extract(record_json, '$.resource_type') = ?".into());
            values.push(SqlValue::Text(resource_type.clone()));
        }
        if let Some(deleted) = query.deleted {
            clauses.push("deleted = ?".into());
            values.push(SqlValue::Integer(deleted.into()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let conn = self.reader();
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM curated_records {filter}"),
            params_from_iter(values.iter()),
            |r| r.get(0),
        )?;
        let mut page_values = values;
        page_values.push(SqlValue::Integer(query.limit as i64));
        page_values.push(SqlValue::Integer(query.offset as i64));
        let ids: Vec<String> = conn
            .prepare(&format!(
                "SELECT id FROM curated_records {filter} ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
            ))?
            .query_map(params_from_iter(page_values.iter()), |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            rows.extend(curated_row(&conn, &id)?);
        }
        Ok((rows, total as u64))
    }

    /// Notes an account or institution change in the audit log.
    pub fn audit(
        &self,
        actor: &str,
        institution: Option<&str>,
        action: AuditAction,
        after: &serde_json::Value,
    ) -> Result<()> {
        let conn = self.writer();
        insert_audit(
            &mut crate::db::Conn::Sqlite(&conn),
            actor,
            institution,
            None,
            action,
            None,
            Some(&after.to_string()),
        )
    }

    /// Audit entries, newest first: of these institutions (`None`: all, including entries
    /// without an institution), optionally of one record.
    pub fn audit_log(
        &self,
        institutions: Option<&[String]>,
        record_id: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<AuditEntry>> {
        let mut clauses = Vec::new();
        let mut values: Vec<SqlValue> = Vec::new();
        if let Some(institutions) = institutions {
            if institutions.is_empty() {
                return Ok(Vec::new());
            }
            clauses.push(format!(
                "institution IN ({})",
                vec!["?"; institutions.len()].join(", ")
            ));
            values.extend(institutions.iter().map(|i| SqlValue::Text(i.clone())));
        }
        if let Some(record_id) = record_id {
            clauses.push("record_id = ?".into());
            values.push(SqlValue::Text(record_id.into()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        values.push(SqlValue::Integer(limit as i64));
        values.push(SqlValue::Integer(offset as i64));
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!(
            "SELECT id, at, actor, institution, record_id, action, before_json, after_json
             FROM curation_audit {filter} ORDER BY id DESC LIMIT ? OFFSET ?"
        ))?;
        let rows = stmt.query_map(params_from_iter(values.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, AuditAction>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, at, actor, institution, record_id, action, before, after) = row?;
            out.push(AuditEntry {
                id,
                at,
                actor,
                institution,
                record_id,
                action,
                before: before.map(|j| serde_json::from_str(&j)).transpose()?,
                after: after.map(|j| serde_json::from_str(&j)).transpose()?,
            });
        }
        Ok(out)
    }
}

fn owner(conn: &Connection, id: &str) -> Result<RecordOwner> {
    let curated: Option<(String, bool)> = conn
        .prepare_cached("SELECT institution, deleted FROM curated_records WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((institution, deleted)) = curated {
        return Ok(RecordOwner::Curated { institution, deleted });
    }
    let record: Option<(Option<String>, String)> = conn
        .prepare_cached("SELECT source, institution FROM records WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match record {
        None => RecordOwner::Missing,
        Some((Some(source), institution)) => RecordOwner::Harvested { source, institution },
        Some((None, institution)) => RecordOwner::Imported { institution },
    })
}

fn curated_row(conn: &Connection, id: &str) -> Result<Option<CuratedRow>> {
    type Raw = (String, i64, bool, String, String, String, String, String, String);
    let raw: Option<Raw> = conn
        .prepare_cached(
            "SELECT institution, version, deleted, record_json, images_json, created_by, created_at,
                    updated_by, updated_at
             FROM curated_records WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .optional()?;
    let Some((
        institution,
        version,
        deleted,
        record_json,
        images_json,
        created_by,
        created_at,
        updated_by,
        updated_at,
    )) = raw
    else {
        return Ok(None);
    };
    Ok(Some(CuratedRow {
        id: id.to_string(),
        version,
        state: CuratedState {
            institution,
            record: serde_json::from_str(&record_json)?,
            deleted,
            images: serde_json::from_str(&images_json)?,
        },
        created_by,
        created_at,
        updated_by,
        updated_at,
    }))
}

/// Writes the record row and the curation row; returns the change sequence taken.
fn write_curated(
    tx: &Transaction<'_>,
    id: &str,
    actor: &str,
    before: Option<&CuratedRow>,
    state: &CuratedState,
) -> Result<u64> {
    let json = serde_json::to_string(&state.record)?;
    let hash = content_hash(&json);
    let seq = next_seq(&mut crate::db::Conn::Sqlite(tx))?;
    let local_id = id.split_once(':').map_or(id, |(_, local)| local);
    let written = tx
        .prepare_cached(
            "INSERT INTO records (id, source, institution, local_id, datestamp, deleted, raw,
                                  record_json, content_hash, seq)
             VALUES (?1, NULL, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?4, NULL, ?5, ?6, ?7)
             ON CONFLICT(id) DO UPDATE SET institution = excluded.institution,
                 datestamp = excluded.datestamp, deleted = excluded.deleted,
                 record_json = excluded.record_json, content_hash = excluded.content_hash,
                 seq = excluded.seq, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE records.source IS NULL",
        )?
        .execute(params![
            id,
            state.institution,
            local_id,
            state.deleted,
            json,
            hash,
            seq
        ])?;
    if written != 1 {
        // Only reachable if a harvest somehow claimed this id: refuse rather than overwrite.
        return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows));
    }
    let images = serde_json::to_string(&state.images)?;
    let brand = state.record.curation.as_ref().and_then(|c| c.brand.clone());
    let special = state
        .record
        .curation
        .as_ref()
        .is_some_and(|c| c.special_collection);
    match before {
        None => {
            tx.execute(
                "INSERT INTO curated_records (id, institution, version, deleted, record_json,
                     images_json, title, brand, special_collection, created_by, updated_by)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    id,
                    state.institution,
                    state.deleted,
                    json,
                    images,
                    state.record.title,
                    brand,
                    special,
                    actor
                ],
            )?;
        }
        Some(_) => {
            tx.execute(
                "UPDATE curated_records SET institution = ?2, version = version + 1, deleted = ?3,
                     record_json = ?4, images_json = ?5, title = ?6, brand = ?7,
                     special_collection = ?8, updated_by = ?9,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                 WHERE id = ?1",
                params![
                    id,
                    state.institution,
                    state.deleted,
                    json,
                    images,
                    state.record.title,
                    brand,
                    special,
                    actor
                ],
            )?;
        }
    }
    Ok(seq as u64)
}

pub(crate) fn insert_audit(
    c: &mut crate::db::Conn<'_>,
    actor: &str,
    institution: Option<&str>,
    record_id: Option<&str>,
    action: AuditAction,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<()> {
    c.execute(
        "INSERT INTO curation_audit (actor, institution, record_id, action, before_json, after_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        crate::db::args![actor, institution, record_id, action.as_str(), before, after],
    )?;
    Ok(())
}
