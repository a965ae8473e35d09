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

use serde::Serialize;

use super::{Result, Store, StoreError};
use crate::curated::{AuditAction, insert_audit};
use crate::db::{Conn, FromValue, Row, Value, args, stored_name};

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
pub(super) fn init(c: &mut Conn<'_>) -> Result<()> {
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

impl FromValue for SuggestionStatus {
    fn from_value(value: Value<'_>) -> Result<Self, String> {
        stored_name(value, SuggestionStatus::from_name)
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

fn row(r: &Row<'_>) -> Result<SuggestionRow> {
    Ok(SuggestionRow {
        id: r.get(0)?,
        code: r.get(1)?,
        institution: r.get(2)?,
        title: r.get(3)?,
        creator: r.get(4)?,
        isbn: r.get(5)?,
        reason: r.get(6)?,
        title_key: r.get(7)?,
        requesters: u64::try_from(r.get::<i64>(8)?).unwrap_or(0),
        status: r.get(9)?,
        note: r.get(10)?,
        merged_into: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

fn by_code(c: &mut Conn<'_>, code: &str) -> Result<Option<SuggestionRow>> {
    c.query_opt(&format!("SELECT {COLUMNS} WHERE s.code = ?1"), args![code], row)
}

/// The suggestion with row id `id`, which the transaction has just read or written.
fn by_id(c: &mut Conn<'_>, id: i64) -> Result<SuggestionRow> {
    c.query_opt(&format!("SELECT {COLUMNS} WHERE s.id = ?1"), args![id], row)?
        .ok_or_else(|| StoreError::Corrupt("suggestion vanished".into()))
}

/// Deletes the contacts whose time is up (inside a write transaction).
fn sweep(c: &mut Conn<'_>, now: i64) -> Result<usize> {
    c.execute(
        "DELETE FROM suggestion_contacts WHERE delete_after <= ?1",
        args![now],
    )
}

/// A suggestion's audit entry (its public fields, never a contact).
fn audit(
    c: &mut Conn<'_>,
    actor: &str,
    action: AuditAction,
    before: &SuggestionRow,
    after: &SuggestionRow,
) -> Result<()> {
    insert_audit(
        c,
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
        self.db.write(|c| {
            sweep(c, new.at)?;
            // An ISBN match first: `isbn = ?2` is NULL, not false, where either is NULL, and
            // NULLs would sort apart on the two backends, so the order is by a plain 0 or 1.
            let existing: Option<i64> = c.query_opt(
                "SELECT id FROM suggestions
                 WHERE institution = ?1 AND merged_into IS NULL AND (isbn = ?2 OR title_key = ?3)
                 ORDER BY CASE WHEN isbn = ?2 THEN 0 ELSE 1 END, id LIMIT 1",
                args![new.institution, new.isbn, new.title_key],
                |r| r.get(0),
            )?;
            let id = match existing {
                Some(id) => {
                    c.execute(
                        "UPDATE suggestions SET requesters = requesters + 1, updated_at = ?2 WHERE id = ?1",
                        args![id, new.at],
                    )?;
                    id
                }
                None => c.query_row(
                    "INSERT INTO suggestions (code, institution, title, creator, isbn, reason,
                         title_key, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                     RETURNING id",
                    args![
                        new.code,
                        new.institution,
                        new.title,
                        new.creator,
                        new.isbn,
                        new.reason,
                        new.title_key,
                        new.at
                    ],
                    |r| r.get(0),
                )?,
            };
            if let Some((contact, delete_after)) = &new.contact {
                c.execute(
                    "INSERT INTO suggestion_contacts (suggestion, contact, delete_after) VALUES (?1, ?2, ?3)",
                    args![id, contact, delete_after],
                )?;
            }
            Ok(Submitted {
                row: by_id(c, id)?,
                duplicate: existing.is_some(),
            })
        })
    }

    /// The suggestion with public `code`, merged or not.
    pub fn suggestion(&self, code: &str) -> Result<Option<SuggestionRow>> {
        self.db.read(|c| by_code(c, code))
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
        self.db.read(|c| {
            c.query_map(
                &format!(
                    "SELECT {COLUMNS} WHERE s.institution = ?1 AND s.merged_into IS NULL
                     ORDER BY {order} LIMIT ?2"
                ),
                args![institution, limit],
                row,
            )
        })
    }

    /// Every open suggestion that was not merged into another, by library (for the
    /// acquisitions report).
    pub fn open_suggestions(&self) -> Result<Vec<SuggestionRow>> {
        self.db.read(|c| {
            c.query_map(
                &format!(
                    "SELECT {COLUMNS} WHERE s.status = 'open' AND s.merged_into IS NULL
                     ORDER BY s.institution, s.requesters DESC, s.id"
                ),
                args![],
                row,
            )
        })
    }

    /// The contacts left for a reply to suggestion `code` (for its library's curators only).
    pub fn suggestion_contacts(&self, code: &str) -> Result<Vec<String>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT c.contact FROM suggestion_contacts c JOIN suggestions s ON s.id = c.suggestion
                 WHERE s.code = ?1 ORDER BY c.id",
                args![code],
                |r| r.get(0),
            )
        })
    }

    /// Deletes every contact whose time is up at `now` (Unix seconds); returns how many.
    pub fn sweep_suggestion_contacts(&self, now: i64) -> Result<usize> {
        self.db.write(|c| sweep(c, now))
    }

    /// Sets the status and public note of suggestion `code` and audits it (by `actor`) in
    /// the same transaction. `check` sees the suggestion first and may refuse (the caller's
    /// rights); `None` if there is no such suggestion.
    pub fn answer_suggestion<E: From<StoreError>>(
        &self,
        actor: &str,
        code: &str,
        status: SuggestionStatus,
        note: Option<&str>,
        at: i64,
        check: impl FnOnce(&SuggestionRow) -> Result<(), E>,
    ) -> Result<Option<SuggestionRow>, E> {
        // A refusal commits nothing: `check` runs before anything is written.
        self.db.write(|c| {
            let Some(before) = by_code(c, code)? else {
                return Ok(Ok(None));
            };
            if let Err(refusal) = check(&before) {
                return Ok(Err(refusal));
            }
            c.execute(
                "UPDATE suggestions SET status = ?2, note = ?3, updated_at = ?4 WHERE id = ?1",
                args![before.id, status.as_str(), note, at],
            )?;
            let after = by_id(c, before.id)?;
            audit(c, actor, AuditAction::AnswerSuggestion, &before, &after)?;
            sweep(c, at)?;
            Ok(Ok(Some(after)))
        })?
    }

    /// Merges suggestion `merged` into `kept` (their requesters add up, `merged` points at
    /// `kept`, its contacts move to `kept`) and audits it, in one transaction. `check` sees
    /// both first and may refuse (different libraries, one already merged, the caller's
    /// rights); `None` if either does not exist.
    pub fn merge_suggestions<E: From<StoreError>>(
        &self,
        actor: &str,
        kept: &str,
        merged: &str,
        at: i64,
        check: impl FnOnce(&SuggestionRow, &SuggestionRow) -> Result<(), E>,
    ) -> Result<Option<SuggestionRow>, E> {
        // A refusal commits nothing: `check` runs before anything is written.
        self.db.write(|c| {
            let (Some(keep), Some(gone)) = (by_code(c, kept)?, by_code(c, merged)?) else {
                return Ok(Ok(None));
            };
            if let Err(refusal) = check(&keep, &gone) {
                return Ok(Err(refusal));
            }
            c.execute(
                "UPDATE suggestions SET requesters = requesters + ?2, updated_at = ?3 WHERE id = ?1",
                args![keep.id, gone.requesters, at],
            )?;
            c.execute(
                "UPDATE suggestions SET merged_into = ?2, updated_at = ?3 WHERE id = ?1",
                args![gone.id, keep.id, at],
            )?;
            c.execute(
                "UPDATE suggestion_contacts SET suggestion = ?2 WHERE suggestion = ?1",
                args![gone.id, keep.id],
            )?;
            let after = by_id(c, keep.id)?;
            audit(c, actor, AuditAction::MergeSuggestions, &gone, &after)?;
            Ok(Ok(Some(after)))
        })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::each_backend;
    use crate::venues::tests::audit_log;

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
        each_backend(|store| {
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
        });
    }

    /// A title match with no ISBN, stored first, gives way to an ISBN match: where the ISBN
    /// is NULL the comparison is NULL, which PostgreSQL would sort first in a descending order.
    #[test]
    fn an_isbn_match_wins_over_an_earlier_title_match() {
        each_backend(|store| {
            store.submit_suggestion(&new("A", "三体", None)).unwrap();
            store
                .submit_suggestion(&NewSuggestion {
                    at: 1_001,
                    ..new("B", "黑暗森林", Some("9787536692930"))
                })
                .unwrap();
            let both = store
                .submit_suggestion(&new("C", "三体", Some("9787536692930")))
                .unwrap();
            assert_eq!((both.row.code.as_str(), both.row.requesters), ("B", 2));
            let newest = store.suggestions_of("lib", SuggestionOrder::Newest, 10).unwrap();
            assert_eq!(
                newest.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
                ["B", "A"]
            );
            let most = store
                .suggestions_of("lib", SuggestionOrder::MostRequested, 1)
                .unwrap();
            assert_eq!(most[0].code, "B");
        });
    }

    #[test]
    fn contacts_are_kept_apart_and_swept_when_due() {
        each_backend(|store| {
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
        });
    }

    #[test]
    fn merge_adds_requesters_moves_contacts_and_audits() {
        each_backend(|store| {
            store.submit_suggestion(&new("A", "三体", None)).unwrap();
            store.submit_suggestion(&new("A2", "三体", None)).unwrap();
            let other = NewSuggestion {
                contact: Some(("x@example.cn".into(), 9_000)),
                ..new("B", "三体全集", None)
            };
            store.submit_suggestion(&other).unwrap();
            let kept = store
                .merge_suggestions::<StoreError>("cur", "A", "B", 1_500, |_, _| Ok(()))
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
            let audit = audit_log(store);
            assert_eq!(audit[0].action, AuditAction::MergeSuggestions);
        });
    }

    #[test]
    fn answers_are_checked_stored_and_audited() {
        each_backend(|store| {
            store.submit_suggestion(&new("A", "三体", None)).unwrap();
            let refused = store.answer_suggestion("cur", "A", SuggestionStatus::Ordered, None, 2, |_| {
                Err(StoreError::Corrupt("no".into()))
            });
            assert!(refused.is_err());
            assert_eq!(
                store.suggestion("A").unwrap().unwrap().status,
                SuggestionStatus::Open
            );
            let answered = store
                .answer_suggestion::<StoreError>(
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
            let audit = audit_log(store);
            assert_eq!(audit[0].action, AuditAction::AnswerSuggestion);
            assert_eq!(audit[0].institution.as_deref(), Some("lib"));
        });
    }
}
