//! Reader purchase suggestions (读者荐购): what citizens ask a library to buy, the
//! requesters' count, the curators' answers, and the contacts some requesters leave for a
//! reply.
//!
//! Two tables:
//! - `suggestions`: one row per wanted item and library, with its public `code`, the
//!   normalised ISBN and title key it is de-duplicated by, the number of requesters, the
//!   status and the curator's public note. A merged suggestion keeps its row (its code still
//!   resolves) and points at the one it was merged into (`merged_into`).
//! - `suggestion_contacts`: a contact left, with consent, for a reply; each row carries the
//!   instant after which it is deleted (`delete_after`). Contacts are kept apart so that no
//!   query of the public status can read them.
//!
//! Times are Unix seconds. The rules (what is valid, who may answer, how long a contact is
//! kept) are the services'; this module stores what it is given, in one transaction each.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use super::{Result, Store, commit, write_transaction};
use crate::curated::{AuditAction, insert_audit};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS suggestions (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    institution TEXT NOT NULL,
    title TEXT NOT NULL,
    creator TEXT,
    isbn TEXT,
    reason TEXT,
    title_key TEXT NOT NULL,
    requesters INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT,
    merged_into INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS suggestions_by_isbn ON suggestions(institution, isbn);
CREATE INDEX IF NOT EXISTS suggestions_by_title ON suggestions(institution, title_key);
CREATE TABLE IF NOT EXISTS suggestion_contacts (
    id INTEGER PRIMARY KEY,
    suggestion INTEGER NOT NULL,
    contact TEXT NOT NULL,
    delete_after INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS suggestion_contacts_by_suggestion ON suggestion_contacts(suggestion);
";

/// Creates the tables (a store written before suggestions existed gains them when opened).
pub(super) fn init(c: &mut crate::db::Conn<'_>) -> Result<()> {
    c.execute_batch(SCHEMA)
}

/// Where a suggestion stands. Stored by its [`SuggestionStatus::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionStatus {
    /// Not answered yet.
    Open,
    /// The library has ordered it (已订购).
    Ordered,
    /// The library holds it already (已有馆藏).
    Held,
    /// The library will not buy it (不予采购).
    Declined,
}

impl SuggestionStatus {
    /// Every status, in the order above.
    pub const ALL: [SuggestionStatus; 4] = [
        SuggestionStatus::Open,
        SuggestionStatus::Ordered,
        SuggestionStatus::Held,
        SuggestionStatus::Declined,
    ];

    /// The stored (and serialised) name.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionStatus::Open => "open",
            SuggestionStatus::Ordered => "ordered",
            SuggestionStatus::Held => "held",
            SuggestionStatus::Declined => "declined",
        }
    }

    /// The status of a stored name.
    pub fn from_name(name: &str) -> Option<SuggestionStatus> {
        SuggestionStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The Chinese label citizens and curators read.
    pub fn label(self) -> &'static str {
        match self {
            SuggestionStatus::Open => "待处理",
            SuggestionStatus::Ordered => "已订购",
            SuggestionStatus::Held => "已有馆藏",
            SuggestionStatus::Declined => "不予采购",
        }
    }
}

impl rusqlite::types::FromSql for SuggestionStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        crate::stored_name(value, SuggestionStatus::from_name)
    }
}

/// A new suggestion, already validated and normalised by the service. Its `Debug` leaves
/// the contact out, so that no log can hold it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSuggestion {
    /// A fresh public code, used only if no existing suggestion matches.
    pub code: String,
    /// The library.
    pub institution: String,
    /// The title as typed (trimmed).
    pub title: String,
    /// The creator, if given.
    pub creator: Option<String>,
    /// The ISBN-13, if given.
    pub isbn: Option<String>,
    /// Why, if given.
    pub reason: Option<String>,
    /// The title folded for comparison (simplified, width, case, no punctuation).
    pub title_key: String,
    /// A contact for a reply (given with consent), and the Unix second it is deleted after.
    pub contact: Option<(String, i64)>,
    /// Now, in Unix seconds.
    pub at: i64,
}

impl std::fmt::Debug for NewSuggestion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSuggestion")
            .field("code", &self.code)
            .field("institution", &self.institution)
            .field("title", &self.title)
            .field("isbn", &self.isbn)
            .field("contact", &self.contact.as_ref().map(|_| "[withheld]"))
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// A stored suggestion. It holds no contact: those are read only by
/// [`Store::suggestion_contacts`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestionRow {
    /// Row id.
    pub id: i64,
    /// The public code.
    pub code: String,
    /// The library.
    pub institution: String,
    /// Title.
    pub title: String,
    /// Creator.
    pub creator: Option<String>,
    /// ISBN-13.
    pub isbn: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// The folded title it is de-duplicated by.
    pub title_key: String,
    /// How many people asked for it.
    pub requesters: u64,
    /// Where it stands.
    pub status: SuggestionStatus,
    /// The curator's public note.
    pub note: Option<String>,
    /// The code of the suggestion it was merged into.
    pub merged_into: Option<String>,
    /// Unix seconds of the first request.
    pub created_at: i64,
    /// Unix seconds of the last change (a request, an answer, a merge).
    pub updated_at: i64,
}

/// What storing a suggestion did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The suggestion as it now is (the existing one for a duplicate).
    pub row: SuggestionRow,
    /// True if it matched an existing suggestion, whose requesters went up by one.
    pub duplicate: bool,
}

/// The order of a library's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionOrder {
    /// Newest first.
    Newest,
    /// Most requesters first (then newest).
    MostRequested,
}

const COLUMNS: &str = "s.id, s.code, s.institution, s.title, s.creator, s.isbn, s.reason, s.title_key,
    s.requesters, s.status, s.note, m.code, s.created_at, s.updated_at
    FROM suggestions s LEFT JOIN suggestions m ON m.id = s.merged_into";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SuggestionRow> {
    Ok(SuggestionRow {
        id: r.get(0)?,
        code: r.get(1)?,
        institution: r.get(2)?,
        title: r.get(3)?,
        creator: r.get(4)?,
        isbn: r.get(5)?,
        reason: r.get(6)?,
        title_key: r.get(7)?,
        requesters: u64::try_from(r.get::<_, i64>(8)?).unwrap_or(0),
        status: r.get(9)?,
        note: r.get(10)?,
        merged_into: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

fn by_code(conn: &Connection, code: &str) -> Result<Option<SuggestionRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} WHERE s.code = ?1"))?
        .query_row([code], row)
        .optional()?)
}

fn by_id(conn: &Connection, id: i64) -> Result<Option<SuggestionRow>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} WHERE s.id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

/// Deletes the contacts whose time is up (inside a write transaction).
fn sweep(tx: &Transaction<'_>, now: i64) -> Result<usize> {
    Ok(tx.execute("DELETE FROM suggestion_contacts WHERE delete_after <= ?1", [now])?)
}

/// A suggestion's audit entry (its public fields, never a contact).
fn audit(
    tx: &Transaction<'_>,
    actor: &str,
    action: AuditAction,
    before: &SuggestionRow,
    after: &SuggestionRow,
) -> Result<()> {
    insert_audit(
        &mut crate::db::Conn::Sqlite(tx),
        actor,
        Some(&after.institution),
        None,
        action,
        Some(&serde_json::to_string(before)?),
        Some(&serde_json::to_string(after)?),
    )
}

impl Store {
    /// Stores a suggestion, or counts one more requester of the library's existing
    /// suggestion with the same ISBN or, failing that, the same title key (a merged
    /// suggestion is never matched: the one it was merged into is). A contact is kept with
    /// whichever suggestion it joins. Expired contacts are deleted in the same transaction.
    pub fn submit_suggestion(&self, new: &NewSuggestion) -> Result<Submitted> {
        let mut conn = self.writer();
        let tx = write_transaction(&mut conn)?;
        sweep(&tx, new.at)?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM suggestions
                 WHERE institution = ?1 AND merged_into IS NULL
                   AND ((CAST(?2 AS TEXT) IS NOT NULL AND isbn = ?2) OR title_key = ?3)
                 ORDER BY (CAST(?2 AS TEXT) IS NOT NULL AND isbn = ?2) DESC, id LIMIT 1",
                params![new.institution, new.isbn, new.title_key],
                |r| r.get(0),
            )
            .optional()?;
        let id = match existing {
            Some(id) => {
                tx.execute(
                    "UPDATE suggestions SET requesters = requesters + 1, updated_at = ?2 WHERE id = ?1",
                    params![id, new.at],
                )?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO suggestions (code, institution, title, creator, isbn, reason,
                         title_key, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                    params![
                        new.code,
                        new.institution,
                        new.title,
                        new.creator,
                        new.isbn,
                        new.reason,
                        new.title_key,
                        new.at
                    ],
                )?;
                tx.last_insert_rowid()
            }
        };
        if let Some((contact, delete_after)) = &new.contact {
            tx.execute(
                "INSERT INTO suggestion_contacts (suggestion, contact, delete_after) VALUES (?1, ?2, ?3)",
                params![id, contact, delete_after],
            )?;
        }
        let row = by_id(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
        commit(tx)?;
        Ok(Submitted {
            row,
            duplicate: existing.is_some(),
        })
    }

    /// The suggestion with public `code`, merged or not.
    pub fn suggestion(&self, code: &str) -> Result<Option<SuggestionRow>> {
        by_code(&self.reader(), code)
    }

    /// The suggestions of `institution` that were not merged into another, in `order`, at
    /// most `limit`.
    pub fn suggestions_of(
        &self,
        institution: &str,
        order: SuggestionOrder,
        limit: usize,
    ) -> Result<Vec<SuggestionRow>> {
        let order = match order {
            SuggestionOrder::Newest => "s.created_at DESC, s.id DESC",
            SuggestionOrder::MostRequested => "s.requesters DESC, s.created_at DESC, s.id DESC",
        };
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} WHERE s.institution = ?1 AND s.merged_into IS NULL ORDER BY {order} LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![institution, limit], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every open suggestion that was not merged into another, by library (for the
    /// acquisitions report).
    pub fn open_suggestions(&self) -> Result<Vec<SuggestionRow>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} WHERE s.status = 'open' AND s.merged_into IS NULL
             ORDER BY s.institution, s.requesters DESC, s.id"
        ))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The contacts left for a reply to suggestion `code` (for its library's curators only).
    pub fn suggestion_contacts(&self, code: &str) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT c.contact FROM suggestion_contacts c JOIN suggestions s ON s.id = c.suggestion
             WHERE s.code = ?1 ORDER BY c.id",
        )?;
        let rows = stmt.query_map([code], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Deletes every contact whose time is up at `now` (Unix seconds); returns how many.
    pub fn sweep_suggestion_contacts(&self, now: i64) -> Result<usize> {
        let mut conn = self.writer();
        let tx = write_transaction(&mut conn)?;
        let deleted = sweep(&tx, now)?;
        commit(tx)?;
        Ok(deleted)
    }

    /// Sets the status and public note of suggestion `code` and audits it (by `actor`) in
    /// the same transaction. `check` sees the suggestion first and may refuse (the caller's
    /// rights); `None` if there is no such suggestion.
    pub fn answer_suggestion<E: From<crate::StoreError>>(
        &self,
        actor: &str,
        code: &str,
        status: SuggestionStatus,
        note: Option<&str>,
        at: i64,
        check: impl FnOnce(&SuggestionRow) -> Result<(), E>,
    ) -> Result<Option<SuggestionRow>, E> {
        let mut conn = self.writer();
        let tx = write_transaction(&mut conn).map_err(crate::StoreError::from)?;
        let Some(before) = by_code(&tx, code)? else {
            return Ok(None);
        };
        check(&before)?;
        tx.execute(
            "UPDATE suggestions SET status = ?2, note = ?3, updated_at = ?4 WHERE id = ?1",
            params![before.id, status.as_str(), note, at],
        )
        .map_err(crate::StoreError::from)?;
        let after = by_id(&tx, before.id)?.ok_or(crate::StoreError::Corrupt("suggestion vanished".into()))?;
        audit(&tx, actor, AuditAction::AnswerSuggestion, &before, &after)?;
        sweep(&tx, at)?;
        commit(tx)?;
        Ok(Some(after))
    }

    /// Merges suggestion `merged` into `kept` (their requesters add up, `merged` points at
    /// `kept`, its contacts move to `kept`) and audits it, in one transaction. `check` sees
    /// both first and may refuse (different libraries, one already merged, the caller's
    /// rights); `None` if either does not exist.
    pub fn merge_suggestions<E: From<crate::StoreError>>(
        &self,
        actor: &str,
        kept: &str,
        merged: &str,
        at: i64,
        check: impl FnOnce(&SuggestionRow, &SuggestionRow) -> Result<(), E>,
    ) -> Result<Option<SuggestionRow>, E> {
        let mut conn = self.writer();
        let tx = write_transaction(&mut conn).map_err(crate::StoreError::from)?;
        let (Some(keep), Some(gone)) = (by_code(&tx, kept)?, by_code(&tx, merged)?) else {
            return Ok(None);
        };
        check(&keep, &gone)?;
        let step = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> Result<usize> { Ok(tx.execute(sql, p)?) };
        step(
            "UPDATE suggestions SET requesters = requesters + ?2, updated_at = ?3 WHERE id = ?1",
            &[&keep.id, &i64::try_from(gone.requesters).unwrap_or(0), &at],
        )?;
        step(
            "UPDATE suggestions SET merged_into = ?2, updated_at = ?3 WHERE id = ?1",
            &[&gone.id, &keep.id, &at],
        )?;
        step(
            "UPDATE suggestion_contacts SET suggestion = ?2 WHERE suggestion = ?1",
            &[&gone.id, &keep.id],
        )?;
        let after = by_id(&tx, keep.id)?.ok_or(crate::StoreError::Corrupt("suggestion vanished".into()))?;
        audit(&tx, actor, AuditAction::MergeSuggestions, &gone, &after)?;
        commit(tx)?;
        Ok(Some(after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        (dir, store)
    }

    fn new(code: &str, title_key: &str, isbn: Option<&str>) -> NewSuggestion {
        NewSuggestion {
            code: code.into(),
            institution: "lib".into(),
            title: title_key.into(),
            creator: None,
            isbn: isbn.map(str::to_string),
            reason: None,
            title_key: title_key.into(),
            contact: None,
            at: 1_000,
        }
    }

    #[test]
    fn duplicates_count_requesters_by_isbn_then_title() {
        let (_dir, store) = store();
        let first = store
            .submit_suggestion(&new("A", "红楼梦", Some("9787101000016")))
            .unwrap();
        assert!(!first.duplicate);
        let by_isbn = store
            .submit_suggestion(&new("B", "石头记", Some("9787101000016")))
            .unwrap();
        assert!(by_isbn.duplicate);
        assert_eq!((by_isbn.row.code.as_str(), by_isbn.row.requesters), ("A", 2));
        let by_title = store.submit_suggestion(&new("C", "红楼梦", None)).unwrap();
        assert_eq!((by_title.row.code.as_str(), by_title.row.requesters), ("A", 3));
        let other_library = NewSuggestion {
            institution: "other".into(),
            ..new("D", "红楼梦", None)
        };
        assert!(!store.submit_suggestion(&other_library).unwrap().duplicate);
        assert!(
            store.suggestion("B").unwrap().is_none(),
            "a duplicate's code is never stored"
        );
    }

    #[test]
    fn contacts_are_kept_apart_and_swept_when_due() {
        let (_dir, store) = store();
        let with_contact = NewSuggestion {
            contact: Some(("reader@example.cn".into(), 2_000)),
            ..new("A", "红楼梦", None)
        };
        store.submit_suggestion(&with_contact).unwrap();
        assert_eq!(store.suggestion_contacts("A").unwrap(), ["reader@example.cn"]);
        assert_eq!(store.sweep_suggestion_contacts(1_999).unwrap(), 0);
        assert_eq!(store.sweep_suggestion_contacts(2_000).unwrap(), 1);
        assert!(store.suggestion_contacts("A").unwrap().is_empty());
        // A later submission sweeps too.
        store.submit_suggestion(&with_contact).unwrap();
        store
            .submit_suggestion(&NewSuggestion {
                at: 2_000,
                ..new("B", "三体", None)
            })
            .unwrap();
        assert!(store.suggestion_contacts("A").unwrap().is_empty());
    }

    #[test]
    fn merge_adds_requesters_moves_contacts_and_audits() {
        let (_dir, store) = store();
        store.submit_suggestion(&new("A", "三体", None)).unwrap();
        store.submit_suggestion(&new("A2", "三体", None)).unwrap();
        let other = NewSuggestion {
            contact: Some(("x@example.cn".into(), 9_000)),
            ..new("B", "三体全集", None)
        };
        store.submit_suggestion(&other).unwrap();
        let kept = store
            .merge_suggestions::<crate::StoreError>("cur", "A", "B", 1_500, |_, _| Ok(()))
            .unwrap()
            .unwrap();
        assert_eq!(kept.requesters, 3);
        let gone = store.suggestion("B").unwrap().unwrap();
        assert_eq!(gone.merged_into.as_deref(), Some("A"));
        assert_eq!(store.suggestion_contacts("A").unwrap(), ["x@example.cn"]);
        let listed = store
            .suggestions_of("lib", SuggestionOrder::MostRequested, 10)
            .unwrap();
        assert_eq!(listed.len(), 1, "a merged suggestion is not listed");
        // A new request for the merged title joins the kept one.
        let again = store.submit_suggestion(&new("C", "三体全集", None)).unwrap();
        assert!(!again.duplicate, "the merged row's key is not matched");
        let audit = store.audit_log(None, None, 10, 0).unwrap();
        assert_eq!(audit[0].action, AuditAction::MergeSuggestions);
    }

    #[test]
    fn answers_are_checked_stored_and_audited() {
        let (_dir, store) = store();
        store.submit_suggestion(&new("A", "三体", None)).unwrap();
        let refused = store.answer_suggestion("cur", "A", SuggestionStatus::Ordered, None, 2, |_| {
            Err(crate::StoreError::Corrupt("no".into()))
        });
        assert!(refused.is_err());
        assert_eq!(
            store.suggestion("A").unwrap().unwrap().status,
            SuggestionStatus::Open
        );
        let answered = store
            .answer_suggestion::<crate::StoreError>(
                "cur",
                "A",
                SuggestionStatus::Ordered,
                Some("下月到馆"),
                2,
                |_| Ok(()),
            )
            .unwrap()
            .unwrap();
        assert_eq!(answered.status, SuggestionStatus::Ordered);
        assert_eq!(answered.note.as_deref(), Some("下月到馆"));
        assert!(store.open_suggestions().unwrap().is_empty());
        let audit = store.audit_log(None, None, 10, 0).unwrap();
        assert_eq!(audit[0].action, AuditAction::AnswerSuggestion);
        assert_eq!(audit[0].institution.as_deref(), Some("lib"));
    }
}
