//! Curated records: the holdings that no export covers, registered and edited by curators
//! directly — 特色馆藏 (a library's local-history collection), 特质展品 (a museum's
//! signature exhibits), 特有品牌 (a cultural centre's brand programmes).
//!
//! This module is the service behind `/api/v1/curate/…`; it knows nothing of HTTP. Every
//! function takes the [`Principal`] and enforces, before anything is written:
//!
//! - **object level**: a curator may act only on records of their own institutions. A live
//!   record of another institution answers [`CurateError::Forbidden`] (403: its existence is
//!   public anyway, through search); a soft-deleted one answers [`CurateError::NotFound`] (404:
//!   a withdrawn record's existence is not public). Harvested records are owned by their
//!   harvest: nobody, admins included, edits them here (an edit would be overwritten by the
//!   next harvest) — 403, as for records imported in bulk.
//! - **property level**: `institution` must be one of the curator's own; it is fixed at
//!   creation (the id embeds it); `id` and `images` are set by the server.
//! - **preconditions**: an update must name the version it changes (`If-Match`, from the
//!   `ETag`); the check and the write are one transaction, so concurrent edits cannot both win.
//!
//! Each change is committed — record, curation row, audit entry — in one SQLite
//! transaction before the caller answers, and the index follower is then woken by the API.

pub mod images;
mod input;

use schemas::{Record, ValidationErrors};
use serde_json::Value;

pub use self::input::parse_record;
use crate::auth::Principal;
use crate::auth::secret::random_hex;
use schemas::{FieldError, ImageLink};
pub use store::curated::AuditAction;
use store::curated::{CommittedChange, CuratedImage, CuratedQuery, CuratedRow, CuratedState, RecordOwner};
use store::{Store, StoreError};

/// Why a curation request was refused.
#[derive(Debug, thiserror::Error)]
pub enum CurateError {
    /// Not allowed for this account (403).
    #[error("{0}")]
    Forbidden(String),
    /// No curated record with that id that this account may see (404).
    #[error("no curated record {0:?}")]
    NotFound(String),
    /// `If-Match` names another version (412).
    #[error("the record has changed since you read it (it is now at {current}); reload and retry")]
    PreconditionFailed {
        /// The current ETag.
        current: String,
    },
    /// An update without `If-Match` (428).
    #[error("send If-Match with the ETag you read, so that concurrent edits are not lost")]
    PreconditionRequired,
    /// Invalid fields (422).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The strong ETag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// An `If-Match` header, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// A list of entity tags (as sent, quotes included).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Parses a header value.
    pub fn parse(value: &str) -> IfMatch {
        if value.trim() == "*" {
            return IfMatch::Any;
        }
        IfMatch::Tags(
            value
                .split(',')
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
        )
    }

    /// Strong comparison (RFC 9110 §13.1.1): weak tags never match.
    fn matches(&self, version: i64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| *t == etag(version)),
        }
    }
}

fn check_precondition(
    row: &CuratedRow,
    if_match: Option<&IfMatch>,
    required: bool,
) -> Result<(), CurateError> {
    match if_match {
        Some(condition) if !condition.matches(row.version) => Err(CurateError::PreconditionFailed {
            current: etag(row.version),
        }),
        None if required => Err(CurateError::PreconditionRequired),
        _ => Ok(()),
    }
}

/// Checks that `principal` may act on the record `id`; returns its curated institution.
fn authorize(store: &Store, principal: &Principal, id: &str) -> Result<String, CurateError> {
    match store.record_owner(id)? {
        RecordOwner::Missing => Err(CurateError::NotFound(id.to_string())),
        RecordOwner::Harvested { source, .. } => Err(CurateError::Forbidden(format!(
            "{id} is owned by its harvest ({source}); change it at the source"
        ))),
        RecordOwner::Imported { .. } => Err(CurateError::Forbidden(format!(
            "{id} is not a curated record; it cannot be edited here"
        ))),
        RecordOwner::Curated { institution, .. } if principal.may_curate(&institution) => Ok(institution),
        RecordOwner::Curated { deleted: true, .. } => Err(CurateError::NotFound(id.to_string())),
        RecordOwner::Curated { institution, .. } => Err(CurateError::Forbidden(format!(
            "{id} belongs to {institution}, which this account does not curate"
        ))),
    }
}

/// The property-level rule on `institution`: only one's own.
fn authorize_institution(principal: &Principal, institution: &str) -> Result<(), CurateError> {
    if principal.may_curate(institution) {
        Ok(())
    } else {
        Err(CurateError::Forbidden(format!(
            "this account does not curate institution {institution:?}"
        )))
    }
}

/// Parses and validates a body, adding an unknown institution to the field errors.
fn validate(store: &Store, body: Value, id: &str, institution: &str) -> Result<Record, CurateError> {
    let parsed = parse_record(body, id);
    let mut errors = match &parsed {
        Ok(_) => Vec::new(),
        Err(invalid) => invalid.errors.clone(),
    };
    let known = store.institutions()?.iter().any(|i| i.id == institution);
    if !known && !institution.is_empty() && !errors.iter().any(|e| e.field == "institution") {
        errors.push(schemas::FieldError {
            field: "institution".into(),
            code: "unknown",
            message: format!("no institution {institution:?}"),
            message_zh: format!("机构 {institution:?} 不存在"),
        });
    }
    match parsed {
        Ok(record) if errors.is_empty() => Ok(record),
        _ => Err(CurateError::Invalid(ValidationErrors { errors })),
    }
}

/// A fresh id: `curated-{institution}:{uuid v4}`.
fn new_id(institution: &str) -> String {
    let mut hex = random_hex(16).into_bytes();
    hex[12] = b'4'; // version 4
    hex[16] = b"89ab"[usize::from(hex[16]) % 4]; // RFC 4122 variant
    let hex = String::from_utf8_lossy(&hex).into_owned();
    format!(
        "curated-{institution}:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The record as stored and served: the server-set members filled in.
fn render(mut record: Record, id: &str, institution: &str, images: &[CuratedImage]) -> Record {
    record.id = id.to_string();
    record.institution = institution.to_string();
    record.images = images
        .iter()
        .map(|image| ImageLink {
            url: images::url(&image.hash, images::Variant::Display),
            caption: Some(image.alt.clone()),
        })
        .collect();
    record
}

/// Where the institution named in a body is, before full validation (for authorisation).
fn body_institution(body: &Value) -> Option<&str> {
    body.get("institution").and_then(Value::as_str)
}

/// Creates a curated record from a JSON body.
pub fn create(store: &Store, principal: &Principal, body: Value) -> Result<CommittedChange, CurateError> {
    let institution = body_institution(&body).unwrap_or("").to_string();
    if !institution.is_empty() {
        authorize_institution(principal, &institution)?;
    }
    let id = new_id(&institution);
    let record = validate(store, body, &id, &institution)?;
    let state = CuratedState {
        institution: institution.clone(),
        record: render(record, &id, &institution, &[]),
        deleted: false,
        images: Vec::new(),
    };
    store.change_curated(
        &id,
        &principal.username,
        AuditAction::Create,
        |existing| match existing {
            None => Ok(state),
            // 128 random bits never collide in practice; refuse rather than overwrite.
            Some(_) => Err(CurateError::Forbidden("id collision; retry".into())),
        },
    )
}

/// One curated record.
pub fn get(store: &Store, principal: &Principal, id: &str) -> Result<CuratedRow, CurateError> {
    authorize(store, principal, id)?;
    store
        .curated(id)?
        .ok_or_else(|| CurateError::NotFound(id.to_string()))
}

/// Replaces a curated record's content (not its images) from a JSON body.
pub fn update(
    store: &Store,
    principal: &Principal,
    id: &str,
    if_match: Option<&IfMatch>,
    mut body: Value,
) -> Result<CommittedChange, CurateError> {
    let institution = authorize(store, principal, id)?;
    if let Value::Object(members) = &mut body {
        // The institution may be left out of an update: it cannot change anyway.
        members
            .entry("institution")
            .or_insert_with(|| Value::String(institution.clone()));
    }
    if let Some(wanted) = body_institution(&body)
        && wanted != institution
    {
        authorize_institution(principal, wanted)?;
        return Err(CurateError::Invalid(ValidationErrors {
            errors: vec![schemas::FieldError {
                field: "institution".into(),
                code: "immutable",
                message: "a record cannot move to another institution; create it there instead".into(),
                message_zh: "记录不能转移到其他机构；请在该机构下新建".into(),
            }],
        }));
    }
    let record = validate(store, body, id, &institution)?;
    store.change_curated(id, &principal.username, AuditAction::Update, |current| {
        let current = current.ok_or_else(|| CurateError::NotFound(id.to_string()))?;
        check_precondition(current, if_match, true)?;
        if current.state.deleted {
            return Err(CurateError::NotFound(id.to_string()));
        }
        Ok(CuratedState {
            institution: institution.clone(),
            record: render(record, id, &institution, &current.state.images),
            deleted: false,
            images: current.state.images.clone(),
        })
    })
}

/// Soft-deletes (`deleted = true`) or restores a curated record.
pub fn set_deleted(
    store: &Store,
    principal: &Principal,
    id: &str,
    if_match: Option<&IfMatch>,
    deleted: bool,
) -> Result<CommittedChange, CurateError> {
    authorize(store, principal, id)?;
    let action = if deleted {
        AuditAction::Delete
    } else {
        AuditAction::Restore
    };
    store.change_curated(id, &principal.username, action, |current| {
        let current = current.ok_or_else(|| CurateError::NotFound(id.to_string()))?;
        check_precondition(current, if_match, false)?;
        let mut state = current.state.clone();
        state.deleted = deleted;
        Ok(state)
    })
}

/// Lists the curated records the principal may see.
pub fn list(
    store: &Store,
    principal: &Principal,
    mut query: CuratedQuery,
) -> Result<(Vec<CuratedRow>, u64), CurateError> {
    match (&query.institutions, principal.visible_institutions()) {
        (Some(asked), Some(own)) => {
            if let Some(other) = asked.iter().find(|i| !own.contains(i)) {
                return Err(CurateError::Forbidden(format!(
                    "this account does not curate institution {other:?}"
                )));
            }
        }
        (None, own) => query.institutions = own,
        (Some(_), None) => {}
    }
    Ok(store.curated_list(&query)?)
}

/// Most images on one record.
pub const MAX_IMAGES: usize = 50;
/// Longest alt text, in characters.
pub const MAX_ALT_CHARS: usize = 1_000;

/// The alt text rule: required (it is what screen readers say), at most
/// [`MAX_ALT_CHARS`] characters. Returns the trimmed text, or the error for `field`.
pub fn check_alt(alt: &str, field: &str) -> Result<String, FieldError> {
    let alt = alt.trim();
    let refuse = |message: String, message_zh: String| FieldError {
        field: field.to_string(),
        code: "invalid",
        message,
        message_zh,
    };
    if alt.is_empty() {
        return Err(refuse(
            "alt text is required (it is what screen readers say)".into(),
            "请填写替代文字：用一句话说明图像内容，读屏软件会朗读它。".into(),
        ));
    }
    if alt.chars().count() > MAX_ALT_CHARS {
        return Err(refuse(
            format!("alt text is longer than {MAX_ALT_CHARS} characters"),
            format!("替代文字最多 {MAX_ALT_CHARS} 字。"),
        ));
    }
    Ok(alt.to_string())
}

/// Adds an uploaded image (already stored under its hash) to a live record, at the end; an
/// image the record has already moves to the end with the new alt text. A record that has
/// [`MAX_IMAGES`] images refuses more (field `file`, code `too_many`), checked in the
/// transaction that writes the list, so concurrent uploads cannot pass the cap together.
pub fn add_image(
    store: &Store,
    principal: &Principal,
    id: &str,
    if_match: Option<&IfMatch>,
    image: CuratedImage,
) -> Result<CommittedChange, CurateError> {
    change_images(store, principal, id, if_match, AuditAction::AddImage, |current| {
        let mut images: Vec<CuratedImage> =
            current.iter().filter(|i| i.hash != image.hash).cloned().collect();
        if images.len() >= MAX_IMAGES {
            return Err(CurateError::Invalid(ValidationErrors {
                errors: vec![FieldError {
                    field: "file".into(),
                    code: "too_many",
                    message: format!("a record has at most {MAX_IMAGES} images"),
                    message_zh: format!("每条记录最多 {MAX_IMAGES} 张图像；请先删除不需要的图像。"),
                }],
            }));
        }
        images.push(image);
        Ok(images)
    })
}

/// Replaces a live record's image list by `wanted`: `(hash, alt)` in the new order, each an
/// image the record has, each once (field `[i].hash`, code `unknown_image`, otherwise); an
/// image left out is removed. `action` says which it is, for the audit (reorder and
/// re-caption are [`AuditAction::UpdateImages`], a removal [`AuditAction::DeleteImage`]).
/// Alt texts are checked with [`check_alt`] (field `[i].alt`).
pub fn set_images(
    store: &Store,
    principal: &Principal,
    id: &str,
    if_match: Option<&IfMatch>,
    action: AuditAction,
    wanted: Vec<(String, String)>,
) -> Result<CommittedChange, CurateError> {
    let mut errors = Vec::new();
    let mut checked = Vec::with_capacity(wanted.len());
    for (i, (hash, alt)) in wanted.into_iter().enumerate() {
        match check_alt(&alt, &format!("[{i}].alt")) {
            Ok(alt) => checked.push((hash, alt)),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(CurateError::Invalid(ValidationErrors { errors }));
    }
    change_images(store, principal, id, if_match, action, |current| {
        let mut errors = Vec::new();
        let mut images: Vec<CuratedImage> = Vec::with_capacity(checked.len());
        for (i, (hash, alt)) in checked.into_iter().enumerate() {
            let listed_before = images.iter().any(|kept| kept.hash == hash);
            match current.iter().find(|image| image.hash == hash) {
                Some(image) if !listed_before => images.push(CuratedImage { alt, ..image.clone() }),
                _ => errors.push(FieldError {
                    field: format!("[{i}].hash"),
                    code: "unknown_image",
                    message: format!("{hash} is not an image of this record (or is listed twice)"),
                    message_zh: format!("{hash} 不是本记录的图像（或重复）"),
                }),
            }
        }
        if errors.is_empty() {
            Ok(images)
        } else {
            Err(CurateError::Invalid(ValidationErrors { errors }))
        }
    })
}

/// Removes one image from a live record ([`CurateError::NotFound`] if it has no such image).
pub fn remove_image(
    store: &Store,
    principal: &Principal,
    id: &str,
    if_match: Option<&IfMatch>,
    hash: &str,
) -> Result<CommittedChange, CurateError> {
    change_images(
        store,
        principal,
        id,
        if_match,
        AuditAction::DeleteImage,
        |current| {
            if !current.iter().any(|image| image.hash == hash) {
                return Err(CurateError::NotFound(format!("{id}/images/{hash}")));
            }
            Ok(current
                .iter()
                .filter(|image| image.hash != hash)
                .cloned()
                .collect())
        },
    )
}

/// Changes a live record's images: `change` gets the current list and returns the new one.
fn change_images(
    store: &Store,
    principal: &Principal,
    id: &str,
    if_match: Option<&IfMatch>,
    action: AuditAction,
    change: impl FnOnce(&[CuratedImage]) -> Result<Vec<CuratedImage>, CurateError>,
) -> Result<CommittedChange, CurateError> {
    authorize(store, principal, id)?;
    store.change_curated(id, &principal.username, action, |current| {
        let current = current.ok_or_else(|| CurateError::NotFound(id.to_string()))?;
        check_precondition(current, if_match, false)?;
        if current.state.deleted {
            return Err(CurateError::NotFound(id.to_string()));
        }
        let images = change(&current.state.images)?;
        let institution = current.state.institution.clone();
        Ok(CuratedState {
            record: render(current.state.record.clone(), id, &institution, &images),
            institution,
            deleted: false,
            images,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_if_match_is_strong() {
        let id = new_id("lzmuseum");
        let uuid = id.strip_prefix("curated-lzmuseum:").unwrap();
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4");
        assert!(IfMatch::parse("\"3\", \"4\"").matches(4));
        assert!(!IfMatch::parse("W/\"4\"").matches(4));
        assert!(IfMatch::parse("*").matches(9));
    }
}
