//! Readers' purchase suggestions (读者荐购): a citizen asks a library to buy something, with
//! no account; the library's curators see, merge and answer the suggestions.
//!
//! The rules, each in one place for the JSON API and the pages alike:
//! - **Only libraries** (institution type `library`) take suggestions.
//! - **Input**: a title is required; creator, ISBN, reason and contact are optional; every
//!   field has a length limit ([`LIMITS`]). An ISBN must be valid (ISBN-10 or ISBN-13, with
//!   hyphens or spaces) and is stored as its ISBN-13 ([`schemas::normalize_isbn`]).
//! - **De-duplication**: per library, by the ISBN-13, else by the title's key — the title
//!   folded as the search index folds text ([`indexer::fold_text`]: traditional to
//!   simplified, full width to half width, case) with everything but letters and digits
//!   dropped, so `《紅樓夢》` and `红楼梦` are one suggestion. A duplicate counts one more
//!   requester of the existing suggestion, and its requester gets that suggestion's code.
//! - **Contacts**: stored only when the requester leaves one *and* ticks the consent box
//!   (without it the request is refused, so nobody believes a reply will come when none
//!   can); kept apart from the suggestion, shown only to that library's curators, never on
//!   the status page, in the API or in a log; deleted `contact_retention_days` after they
//!   were left ([`SuggestionsConfig`]). Expired contacts are deleted by every write to the
//!   suggestions (a submission, an answer) and by the server's hourly sweep, so they never
//!   outlive their time by more than an hour.
//! - **Curators** see, merge and answer the suggestions of their own libraries only
//!   (administrators: all). Answers and merges are audited.
//!
//! Every function takes the instant (`at`), so nothing here depends on the clock.

use schemas::{FieldError, InstitutionType, ValidationErrors};
use store::suggestions::{NewSuggestion, Submitted, SuggestionOrder, SuggestionRow, SuggestionStatus};
use store::{Store, StoreError};
use time::OffsetDateTime;

use crate::auth::{Forbidden, Principal};
pub use crate::config::SuggestionsConfig;

/// Length limits, in characters: title, creator, ISBN as typed, reason, contact, note.
pub const LIMITS: Limits = Limits {
    title: 300,
    creator: 200,
    isbn: 32,
    reason: 1000,
    contact: 200,
    note: 1000,
};

/// Most suggestions in a library's list.
pub const MAX_LISTED: usize = 500;

/// The length limits of [`LIMITS`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Title.
    pub title: usize,
    /// Creator.
    pub creator: usize,
    /// ISBN as typed.
    pub isbn: usize,
    /// Reason.
    pub reason: usize,
    /// Contact.
    pub contact: usize,
    /// A curator's public note.
    pub note: usize,
}

/// What a citizen sends. Its `Debug` leaves the contact out, so that no log can hold it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SuggestionInput {
    /// The library's id.
    pub library: String,
    /// Title (required).
    pub title: String,
    /// Creator.
    pub creator: String,
    /// ISBN.
    pub isbn: String,
    /// Why.
    pub reason: String,
    /// A contact for a reply (stored only with `consent`).
    pub contact: String,
    /// The requester agrees that the contact is kept for the retention time.
    pub consent: bool,
}

impl std::fmt::Debug for SuggestionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SuggestionInput")
            .field("library", &self.library)
            .field("title", &self.title)
            .field("creator", &self.creator)
            .field("isbn", &self.isbn)
            .field("reason", &self.reason)
            .field(
                "contact",
                &if self.contact.is_empty() { "" } else { "[withheld]" },
            )
            .field("consent", &self.consent)
            .finish()
    }
}

/// Why a suggestion could not be stored, listed, answered or merged.
#[derive(Debug, thiserror::Error)]
pub enum SuggestionError {
    /// Invalid fields, each with its message.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// No such suggestion, or no such library.
    #[error("not found: {0}")]
    NotFound(String),
    /// Not this account's library.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn field_error(field: &str, code: &'static str, message: String, message_zh: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message,
        message_zh,
    }
}

/// A trimmed optional field, or an error past `max` characters.
fn bounded(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > max {
        errors.push(field_error(
            field,
            "too_long",
            format!("at most {max} characters"),
            format!("最多 {max} 个字"),
        ));
        return None;
    }
    (!value.is_empty()).then(|| value.to_string())
}

/// The key titles are de-duplicated by: folded as the index folds text, letters and
/// digits only.
pub fn title_key(title: &str) -> String {
    indexer::fold_text(title)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// A fresh public code: ten hexadecimal digits (40 random bits), upper case.
pub fn new_code() -> String {
    crate::auth::secret::random_hex(5).to_uppercase()
}

/// A code as typed (case and surrounding spaces ignored), or `None` if it cannot be one.
pub fn parse_code(code: &str) -> Option<String> {
    let code = code.trim().to_uppercase();
    (code.len() == 10 && code.bytes().all(|b| b.is_ascii_hexdigit())).then_some(code)
}

/// True if `institution` is a library that takes suggestions.
pub fn is_library(store: &Store, institution: &str) -> Result<bool, StoreError> {
    Ok(store
        .institutions()?
        .iter()
        .any(|i| i.id == institution && i.institution_type == InstitutionType::Library))
}

/// Validates and stores a suggestion (or counts a requester of its duplicate) at `at`.
pub fn submit(
    store: &Store,
    config: &SuggestionsConfig,
    input: &SuggestionInput,
    at: OffsetDateTime,
) -> Result<Submitted, SuggestionError> {
    let mut errors = Vec::new();
    let title = bounded("title", &input.title, LIMITS.title, &mut errors);
    let title_key = title.as_deref().map(title_key).unwrap_or_default();
    if errors.is_empty() && title_key.is_empty() {
        errors.push(field_error(
            "title",
            "required",
            "a title is required".into(),
            "请填写题名".into(),
        ));
    }
    let creator = bounded("creator", &input.creator, LIMITS.creator, &mut errors);
    let isbn = match bounded("isbn", &input.isbn, LIMITS.isbn, &mut errors) {
        Some(isbn) => {
            let normalised = schemas::normalize_isbn(&isbn);
            if normalised.is_none() {
                errors.push(field_error(
                    "isbn",
                    "invalid_isbn",
                    "not a valid ISBN-10 or ISBN-13 (check the digits)".into(),
                    "不是有效的 ISBN（请核对各位数字）".into(),
                ));
            }
            normalised
        }
        None => None,
    };
    let reason = bounded("reason", &input.reason, LIMITS.reason, &mut errors);
    let contact = bounded("contact", &input.contact, LIMITS.contact, &mut errors);
    if contact.is_some() && !input.consent {
        errors.push(field_error(
            "consent",
            "consent_required",
            "tick the consent box to leave a contact, or leave the contact empty".into(),
            "留下联系方式须勾选同意；不需要回复可不填".into(),
        ));
    }
    if !is_library(store, input.library.trim())? {
        errors.push(field_error(
            "library",
            "not_a_library",
            "choose one of the libraries".into(),
            "请选择一家图书馆".into(),
        ));
    }
    if !errors.is_empty() {
        return Err(SuggestionError::Invalid(ValidationErrors { errors }));
    }
    let now = at.unix_timestamp();
    let retention = i64::from(config.contact_retention_days) * 86_400;
    let new = NewSuggestion {
        code: new_code(),
        institution: input.library.trim().to_string(),
        title: title.unwrap_or_default(),
        creator,
        isbn,
        reason,
        title_key,
        contact: contact.map(|c| (c, now.saturating_add(retention))),
        at: now,
    };
    Ok(store.submit_suggestion(&new)?)
}

/// The public view of suggestion `code`: the suggestion itself, or, when it was merged, the
/// one it was merged into (followed to the end), with the code that was asked for.
pub fn public(store: &Store, code: &str) -> Result<Option<(SuggestionRow, Option<String>)>, StoreError> {
    let Some(code) = parse_code(code) else {
        return Ok(None);
    };
    let Some(mut row) = store.suggestion(&code)? else {
        return Ok(None);
    };
    let asked = row.merged_into.is_some().then(|| code.clone());
    // Merges form chains at most as long as the library's suggestions; a bound keeps a
    // damaged store from looping.
    for _ in 0..64 {
        let Some(next) = row.merged_into.clone() else {
            break;
        };
        match store.suggestion(&next)? {
            Some(next) => row = next,
            None => break,
        }
    }
    Ok(Some((row, asked)))
}

/// [`Forbidden`] unless `principal` curates `institution`.
fn require_curator(principal: &Principal, institution: &str) -> Result<(), Forbidden> {
    if principal.may_curate(institution) {
        Ok(())
    } else {
        Err(Forbidden("these suggestions are another library's"))
    }
}

/// The suggestions of `library` (not merged ones) in `order`, for its curators.
pub fn list(
    store: &Store,
    principal: &Principal,
    library: &str,
    order: SuggestionOrder,
) -> Result<Vec<SuggestionRow>, SuggestionError> {
    require_curator(principal, library)?;
    if !is_library(store, library)? {
        return Err(SuggestionError::NotFound(library.to_string()));
    }
    Ok(store.suggestions_of(library, order, MAX_LISTED)?)
}

/// Answers suggestion `code`: `status` (not `open`) with an optional public note.
pub fn answer(
    store: &Store,
    principal: &Principal,
    code: &str,
    status: SuggestionStatus,
    note: &str,
    at: OffsetDateTime,
) -> Result<SuggestionRow, SuggestionError> {
    let mut errors = Vec::new();
    let note = bounded("note", note, LIMITS.note, &mut errors);
    if status == SuggestionStatus::Open {
        errors.push(field_error(
            "status",
            "invalid",
            "an answer is ordered, held or declined".into(),
            "答复须为已订购、已有馆藏或不予采购".into(),
        ));
    }
    if !errors.is_empty() {
        return Err(SuggestionError::Invalid(ValidationErrors { errors }));
    }
    let not_found = || SuggestionError::NotFound(code.to_string());
    let code = parse_code(code).ok_or_else(not_found)?;
    store
        .answer_suggestion(
            &principal.username,
            &code,
            status,
            note.as_deref(),
            at.unix_timestamp(),
            |row| {
                require_curator(principal, &row.institution)?;
                if row.merged_into.is_some() {
                    return Err(merged_error(
                        "code",
                        "this suggestion was merged into another: answer that one",
                    ));
                }
                Ok(())
            },
        )?
        .ok_or_else(not_found)
}

fn merged_error(field: &str, message: &str) -> SuggestionError {
    SuggestionError::Invalid(ValidationErrors {
        errors: vec![field_error(
            field,
            "merged",
            message.into(),
            "该荐购已合并到另一条".into(),
        )],
    })
}

/// Merges suggestion `merged` into `kept`: both of one library the principal curates,
/// neither merged already, not the same one.
pub fn merge(
    store: &Store,
    principal: &Principal,
    kept: &str,
    merged: &str,
    at: OffsetDateTime,
) -> Result<SuggestionRow, SuggestionError> {
    let not_found = || SuggestionError::NotFound(format!("{kept} or {merged}"));
    let (kept, merged) = (
        parse_code(kept).ok_or_else(not_found)?,
        parse_code(merged).ok_or_else(not_found)?,
    );
    store
        .merge_suggestions(
            &principal.username,
            &kept,
            &merged,
            at.unix_timestamp(),
            |k, m| {
                require_curator(principal, &k.institution)?;
                require_curator(principal, &m.institution)?;
                if k.institution != m.institution {
                    return Err(merged_error(
                        "merge",
                        "only suggestions of one library can be merged",
                    ));
                }
                if k.id == m.id || k.merged_into.is_some() || m.merged_into.is_some() {
                    return Err(merged_error(
                        "merge",
                        "a suggestion cannot be merged with itself or twice",
                    ));
                }
                Ok(())
            },
        )?
        .ok_or_else(not_found)
}

/// Deletes the contacts whose time is up at `at`; returns how many.
pub fn sweep_contacts(store: &Store, at: OffsetDateTime) -> Result<usize, StoreError> {
    store.sweep_suggestion_contacts(at.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_fold_like_the_index() {
        assert_eq!(title_key("《紅樓夢》"), title_key("红楼梦"));
        assert_eq!(title_key("Ｔｈｅ Three-Body Problem!"), "thethreebodyproblem");
        assert_eq!(title_key("《》、"), "");
    }

    #[test]
    fn contacts_stay_out_of_debug_output() {
        let input = SuggestionInput {
            contact: "13800000000".into(),
            ..SuggestionInput::default()
        };
        assert!(!format!("{input:?}").contains("13800000000"));
    }

    #[test]
    fn codes_are_ten_hex_digits() {
        let code = new_code();
        assert_eq!(parse_code(&code.to_lowercase()), Some(code));
        assert_eq!(parse_code("../etc"), None);
        assert_eq!(parse_code("ABCDEFGHIJ"), None);
    }
}
