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

use schemas::Record;
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, content_hash, next_seq};
use crate::db::{Arg, Conn, ToArg, args};

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
pub(crate) fn init(c: &mut Conn<'_>) -> Result<()> {
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
    /// Substring of the title, the brand or the id (case-insensitive for ASCII letters; on
    /// PostgreSQL for all letters).
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

impl crate::db::FromValue for AuditAction {
    fn from_value(value: crate::db::Value<'_>) -> Result<Self, String> {
        crate::db::stored_name(value, AuditAction::from_name)
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
        self.db.read(|c| owner(c, id))
    }

    /// The curated record `id` (live or soft-deleted).
    pub fn curated(&self, id: &str) -> Result<Option<CuratedRow>> {
        self.db.read(|c| curated_row(c, id))
    }

    /// Changes one curated record in one transaction.
    ///
    /// `decide` sees the current row (`None` when `id` is new) and returns the new state, or
    /// an error that aborts the change (a failed precondition, a forbidden edit). The record,
    /// its curation row and the audit entry are then committed together, durable before this
    /// returns. Serialising the check and the write under the write lock makes `If-Match`
    /// races impossible: two updates of the same version cannot both succeed.
    pub fn change_curated<E: From<StoreError>>(
        &self,
        id: &str,
        actor: &str,
        action: AuditAction,
        decide: impl FnOnce(Option<&CuratedRow>) -> std::result::Result<CuratedState, E>,
    ) -> std::result::Result<CommittedChange, E> {
        // `decide`'s error is not a store error: it is kept here, and the transaction (which
        // has only read so far) is rolled back with a placeholder error.
        let mut refusal = None;
        let committed = self.db.write(|c| {
            let before = curated_row(c, id)?;
            if before.is_none() && owner(c, id)? != RecordOwner::Missing {
                return Err(not_curated(id));
            }
            let state = match decide(before.as_ref()) {
                Ok(state) => state,
                Err(e) => {
                    refusal = Some(e);
                    return Err(StoreError::Value("the change was refused".into()));
                }
            };
            let seq = write_curated(c, id, actor, before.as_ref(), &state)?;
            let before_json = before
                .as_ref()
                .map(|row| serde_json::to_string(&row.state))
                .transpose()?;
            let after_json = serde_json::to_string(&state)?;
            insert_audit(
                c,
                actor,
                Some(&state.institution),
                Some(id),
                action,
                before_json.as_deref(),
                Some(&after_json),
            )?;
            let row = curated_row(c, id)?.ok_or_else(|| not_curated(id))?;
            Ok(CommittedChange { row, seq })
        });
        match refusal {
            Some(e) => Err(e),
            None => committed.map_err(E::from),
        }
    }

    /// Curated records matching `query`, newest change first, and how many match in all.
    pub fn curated_list(&self, query: &CuratedQuery) -> Result<(Vec<CuratedRow>, u64)> {
        let mut clauses: Vec<String> = Vec::new();
        let mut values: Vec<Arg<'_>> = Vec::new();
        if let Some(institutions) = &query.institutions {
            if institutions.is_empty() {
                return Ok((Vec::new(), 0));
            }
            let marks = vec!["?"; institutions.len()].join(", ");
            clauses.push(format!("institution IN ({marks})"));
            values.extend(institutions.iter().map(|i| i.to_arg()));
        }
        if let Some(q) = query.q.as_ref().filter(|q| !q.is_empty()) {
            clauses.push(
                "(instr(lower(title), lower(?)) > 0 OR instr(lower(COALESCE(brand, '')), lower(?)) > 0 OR id = ?)"
                    .into(),
            );
            values.extend([q.to_arg(), q.to_arg(), q.to_arg()]);
        }
        if let Some(special) = &query.special_collection {
            clauses.push("special_collection = ?".into());
            values.push(special.to_arg());
        }
        if let Some(brand) = &query.brand {
            clauses.push("brand = ?".into());
            values.push(brand.to_arg());
        }
        for (path, value) in [
            ("$.curation.accessible_formats", &query.accessible_format),
            ("$.curation.audiences", &query.audience),
        ] {
            if let Some(value) = value {
                clauses.push(format!(
                    "EXISTS (SELECT 1 FROM json_each(record_json, '{path}') WHERE value = ?)"
                ));
                values.push(value.to_arg());
            }
        }
        if let Some(resource_type) = &query.resource_type {
            clauses.push("json_extract(record_json, '$.resource_type') = ?".into());
            values.push(resource_type.to_arg());
        }
        if let Some(deleted) = &query.deleted {
            clauses.push("deleted = ?".into());
            values.push(deleted.to_arg());
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        self.db.read(|c| {
            let total: u64 = c.query_row(
                &format!("SELECT COUNT(*) FROM curated_records {filter}"),
                &values,
                |r| r.get(0),
            )?;
            values.extend([query.limit.to_arg(), query.offset.to_arg()]);
            let ids: Vec<String> = c.query_map(
                &format!(
                    "SELECT id FROM curated_records {filter} ORDER BY updated_at DESC, id LIMIT ? OFFSET ?"
                ),
                &values,
                |r| r.get(0),
            )?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.extend(curated_row(c, &id)?);
            }
            Ok((rows, total))
        })
    }

    /// Notes an account or institution change in the audit log.
    pub fn audit(
        &self,
        actor: &str,
        institution: Option<&str>,
        action: AuditAction,
        after: &serde_json::Value,
    ) -> Result<()> {
        self.db.write(|c| {
            insert_audit(
                c,
                actor,
                institution,
                None,
                action,
                None,
                Some(&after.to_string()),
            )
        })
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
        let mut values: Vec<Arg<'_>> = Vec::new();
        if let Some(institutions) = institutions {
            if institutions.is_empty() {
                return Ok(Vec::new());
            }
            clauses.push(format!(
                "institution IN ({})",
                vec!["?"; institutions.len()].join(", ")
            ));
            values.extend(institutions.iter().map(|i| i.to_arg()));
        }
        if let Some(record_id) = &record_id {
            clauses.push("record_id = ?".into());
            values.push(record_id.to_arg());
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        values.extend([limit.to_arg(), offset.to_arg()]);
        let json = |text: Option<String>| -> serde_json::Result<Option<serde_json::Value>> {
            text.map(|j| serde_json::from_str(&j)).transpose()
        };
        self.db.read(|c| {
            c.query_map(
                &format!(
                    "SELECT id, at, actor, institution, record_id, action, before_json, after_json
                     FROM curation_audit {filter} ORDER BY id DESC LIMIT ? OFFSET ?"
                ),
                &values,
                |r| {
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        actor: r.get(2)?,
                        institution: r.get(3)?,
                        record_id: r.get(4)?,
                        action: r.get(5)?,
                        before: json(r.get(6)?)?,
                        after: json(r.get(7)?)?,
                    })
                },
            )
        })
    }
}

/// The error of a change to an id that a record curation does not own holds (a harvested or
/// imported record): such a record is never overwritten.
fn not_curated(id: &str) -> StoreError {
    StoreError::Value(format!("{id} is not a curated record"))
}

fn owner(c: &mut Conn<'_>, id: &str) -> Result<RecordOwner> {
    let curated: Option<(String, bool)> = c.query_opt(
        "SELECT institution, deleted FROM curated_records WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if let Some((institution, deleted)) = curated {
        return Ok(RecordOwner::Curated { institution, deleted });
    }
    let record: Option<(Option<String>, String)> = c.query_opt(
        "SELECT source, institution FROM records WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(match record {
        None => RecordOwner::Missing,
        Some((Some(source), institution)) => RecordOwner::Harvested { source, institution },
        Some((None, institution)) => RecordOwner::Imported { institution },
    })
}

fn curated_row(c: &mut Conn<'_>, id: &str) -> Result<Option<CuratedRow>> {
    c.query_opt(
        "SELECT institution, version, deleted, record_json, images_json, created_by, created_at,
                updated_by, updated_at
         FROM curated_records WHERE id = ?1",
        args![id],
        |r| {
            Ok(CuratedRow {
                id: id.to_string(),
                version: r.get(1)?,
                state: CuratedState {
                    institution: r.get(0)?,
                    record: serde_json::from_str(&r.get::<String>(3)?)?,
                    deleted: r.get(2)?,
                    images: serde_json::from_str(&r.get::<String>(4)?)?,
                },
                created_by: r.get(5)?,
                created_at: r.get(6)?,
                updated_by: r.get(7)?,
                updated_at: r.get(8)?,
            })
        },
    )
}

/// Writes the record row and the curation row; returns the change sequence taken.
fn write_curated(
    c: &mut Conn<'_>,
    id: &str,
    actor: &str,
    before: Option<&CuratedRow>,
    state: &CuratedState,
) -> Result<u64> {
    let json = serde_json::to_string(&state.record)?;
    let hash = content_hash(&json);
    let seq = next_seq(c)?;
    let local_id = id.split_once(':').map_or(id, |(_, local)| local);
    let written = c.execute(
        "INSERT INTO records (id, source, institution, local_id, datestamp, deleted, raw,
                              record_json, content_hash, seq)
         VALUES (?1, NULL, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?4, NULL, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET institution = excluded.institution,
             datestamp = excluded.datestamp, deleted = excluded.deleted,
             record_json = excluded.record_json, content_hash = excluded.content_hash,
             seq = excluded.seq, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
         WHERE records.source IS NULL",
        args![id, state.institution, local_id, state.deleted, json, hash, seq],
    )?;
    if written != 1 {
        // Only reachable if a harvest somehow claimed this id: refuse rather than overwrite.
        return Err(not_curated(id));
    }
    let images = serde_json::to_string(&state.images)?;
    let brand = state.record.curation.as_ref().and_then(|c| c.brand.as_deref());
    let special = state
        .record
        .curation
        .as_ref()
        .is_some_and(|c| c.special_collection);
    let sql = match before {
        None => {
            "INSERT INTO curated_records (id, institution, version, deleted, record_json,
                 images_json, title, brand, special_collection, created_by, updated_by)
             VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)"
        }
        Some(_) => {
            "UPDATE curated_records SET institution = ?2, version = version + 1, deleted = ?3,
                 record_json = ?4, images_json = ?5, title = ?6, brand = ?7,
                 special_collection = ?8, updated_by = ?9,
                 updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
             WHERE id = ?1"
        }
    };
    c.execute(
        sql,
        args![
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
    Ok(seq as u64)
}

pub(crate) fn insert_audit(
    c: &mut Conn<'_>,
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
        args![actor, institution, record_id, action.as_str(), before, after],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use schemas::{AccessibleFormat, Audience, Curation, ResourceType};

    use super::*;
    use crate::db::args;
    use crate::testing::each_backend;
    use crate::{Checkpoint, Incoming};

    /// A refusal of `decide`, or a store error.
    #[derive(Debug, PartialEq)]
    struct Refused(String);

    impl From<StoreError> for Refused {
        fn from(err: StoreError) -> Self {
            Refused(err.to_string())
        }
    }

    fn state(id: &str, institution: &str, title: &str, curation: Curation) -> CuratedState {
        let mut record = Record::new(id, institution, title);
        record.curation = Some(curation);
        CuratedState {
            institution: institution.into(),
            record,
            deleted: false,
            images: Vec::new(),
        }
    }

    fn create(store: &Store, new: CuratedState) -> CommittedChange {
        let id = new.record.id.clone();
        store
            .change_curated(&id, "ann", AuditAction::Create, |before| {
                assert!(before.is_none());
                Ok::<_, Refused>(new)
            })
            .unwrap()
    }

    #[test]
    fn changes_are_versioned_audited_and_never_take_a_record_curation_does_not_own() {
        each_backend(|store| {
            let id = "curated-lib:1";
            assert_eq!(store.record_owner(id).unwrap(), RecordOwner::Missing);
            let created = create(store, state(id, "lib", "金城讲坛第一讲", Curation::default()));
            assert_eq!(created.row.version, 1);
            assert_eq!(created.row.created_by, "ann");
            assert_eq!(created.seq, store.max_seq().unwrap());
            assert_eq!(store.record(id).unwrap().unwrap().title, "金城讲坛第一讲");

            // A refusal writes nothing and comes back as it was given.
            let refused =
                store.change_curated(id, "bob", AuditAction::Update, |_| Err(Refused("stale".into())));
            assert_eq!(refused.unwrap_err(), Refused("stale".into()));
            assert_eq!(store.curated(id).unwrap().unwrap().version, 1);

            let deleted = store
                .change_curated(id, "bob", AuditAction::Delete, |before| {
                    let mut state = before.unwrap().state.clone();
                    state.deleted = true;
                    Ok::<_, Refused>(state)
                })
                .unwrap();
            assert_eq!((deleted.row.version, deleted.row.updated_by.as_str()), (2, "bob"));
            assert!(deleted.seq > created.seq);
            assert_eq!(store.record(id).unwrap(), None);
            assert_eq!(
                store.record_owner(id).unwrap(),
                RecordOwner::Curated {
                    institution: "lib".into(),
                    deleted: true
                }
            );

            // Harvested and imported records are someone else's.
            let run = store.start_run("src", false).unwrap();
            let harvested = Incoming::Record {
                record: Box::new(Record::new("src:1", "lib", "甲")),
                datestamp: String::new(),
                raw: String::new(),
            };
            store
                .apply_page(run, "src", "lib", &[harvested], &Checkpoint::default())
                .unwrap();
            store
                .import_records(&[Record::new("import:1", "lib", "乙")])
                .unwrap();
            assert!(matches!(
                store.record_owner("src:1").unwrap(),
                RecordOwner::Harvested { source, .. } if source == "src"
            ));
            assert_eq!(
                store.record_owner("import:1").unwrap(),
                RecordOwner::Imported {
                    institution: "lib".into()
                }
            );
            let taken = store.change_curated("src:1", "ann", AuditAction::Create, |_| {
                Ok::<_, Refused>(state("src:1", "lib", "丙", Curation::default()))
            });
            assert!(taken.unwrap_err().0.contains("not a curated record"));
            assert_eq!(store.record("src:1").unwrap().unwrap().title, "甲");

            store
                .audit(
                    "admin",
                    None,
                    AuditAction::CreateUser,
                    &serde_json::json!({"username": "ann"}),
                )
                .unwrap();
            let log = store.audit_log(None, None, 10, 0).unwrap();
            let actions: Vec<AuditAction> = log.iter().map(|e| e.action).collect();
            assert_eq!(
                actions,
                [AuditAction::CreateUser, AuditAction::Delete, AuditAction::Create]
            );
            assert_eq!(log[0].institution, None);
            assert_eq!(log[0].after, Some(serde_json::json!({"username": "ann"})));
            assert!(log[1].before.is_some() && log[2].before.is_none());
            // To the millisecond on both backends: `2024-01-01T00:00:00.000Z`.
            assert!(log.iter().all(|e| e.at.len() == 24 && e.at.ends_with('Z')));
            let of_record = store
                .audit_log(Some(&["lib".to_string()]), Some(id), 1, 1)
                .unwrap();
            assert_eq!(of_record.len(), 1);
            assert_eq!(of_record[0].action, AuditAction::Create);
            assert_eq!(of_record[0].record_id.as_deref(), Some(id));
            assert!(store.audit_log(Some(&[]), None, 10, 0).unwrap().is_empty());
        });
    }

    #[test]
    fn lists_filter_by_text_flags_json_fields_and_deletion() {
        each_backend(|store| {
            let mut a = state(
                "curated-lib:a",
                "lib",
                "Lanzhou Rubbings 兰州拓片",
                Curation {
                    special_collection: true,
                    brand: Some("金城讲坛".into()),
                    accessible_formats: vec![AccessibleFormat::Braille],
                    audiences: vec![Audience::Elderly],
                },
            );
            a.record.resource_type = ResourceType::Rubbing;
            let mut b = state(
                "curated-lib:b",
                "lib",
                "A Children's Map",
                Curation {
                    audiences: vec![Audience::Children],
                    ..Curation::default()
                },
            );
            b.record.resource_type = ResourceType::Map;
            let c = state("curated-museum:c", "museum", "青铜器", Curation::default());
            for new in [a, b, c] {
                create(store, new);
            }
            store
                .change_curated("curated-museum:c", "ann", AuditAction::Delete, |before| {
                    let mut state = before.unwrap().state.clone();
                    state.deleted = true;
                    Ok::<_, Refused>(state)
                })
                .unwrap();
            // Newest change first: a, b, c.
            for (id, at) in [
                ("curated-lib:a", "2030-01-03T00:00:00Z"),
                ("curated-lib:b", "2030-01-02T00:00:00Z"),
                ("curated-museum:c", "2030-01-01T00:00:00Z"),
            ] {
                store
                    .db
                    .write(|c| {
                        c.execute(
                            "UPDATE curated_records SET updated_at = ?1 WHERE id = ?2",
                            args![at, id],
                        )
                    })
                    .unwrap();
            }
            let list = |query: CuratedQuery| {
                let (rows, total) = store.curated_list(&CuratedQuery { limit: 10, ..query }).unwrap();
                let ids: Vec<String> = rows.into_iter().map(|r| r.id).collect();
                (ids, total)
            };
            let ids = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
            assert_eq!(
                list(CuratedQuery::default()),
                (ids(&["curated-lib:a", "curated-lib:b", "curated-museum:c"]), 3)
            );
            let page = store
                .curated_list(&CuratedQuery {
                    limit: 1,
                    offset: 1,
                    ..CuratedQuery::default()
                })
                .unwrap();
            assert_eq!((page.0[0].id.as_str(), page.1), ("curated-lib:b", 3));
            let query = |f: fn(&mut CuratedQuery)| {
                let mut query = CuratedQuery::default();
                f(&mut query);
                list(query).0
            };
            assert_eq!(
                query(|q| q.institutions = Some(vec!["museum".into()])),
                ids(&["curated-museum:c"])
            );
            assert_eq!(
                list(CuratedQuery {
                    institutions: Some(Vec::new()),
                    ..CuratedQuery::default()
                }),
                (Vec::new(), 0)
            );
            assert_eq!(query(|q| q.q = Some("RUBBINGS".into())), ids(&["curated-lib:a"]));
            assert_eq!(query(|q| q.q = Some("金城".into())), ids(&["curated-lib:a"]));
            assert_eq!(
                query(|q| q.q = Some("curated-lib:b".into())),
                ids(&["curated-lib:b"])
            );
            assert_eq!(
                query(|q| q.special_collection = Some(true)),
                ids(&["curated-lib:a"])
            );
            assert_eq!(
                query(|q| q.special_collection = Some(false)),
                ids(&["curated-lib:b", "curated-museum:c"])
            );
            assert_eq!(
                query(|q| q.brand = Some("金城讲坛".into())),
                ids(&["curated-lib:a"])
            );
            assert_eq!(
                query(|q| q.accessible_format = Some("braille".into())),
                ids(&["curated-lib:a"])
            );
            assert!(query(|q| q.accessible_format = Some("audio".into())).is_empty());
            assert_eq!(
                query(|q| q.audience = Some("children".into())),
                ids(&["curated-lib:b"])
            );
            assert_eq!(
                query(|q| q.resource_type = Some("map".into())),
                ids(&["curated-lib:b"])
            );
            assert_eq!(query(|q| q.deleted = Some(true)), ids(&["curated-museum:c"]));
            assert_eq!(
                query(|q| {
                    q.deleted = Some(false);
                    q.audience = Some("elderly".into());
                }),
                ids(&["curated-lib:a"])
            );
        });
    }
}
