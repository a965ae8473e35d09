//! Institutions: who holds the collections. Every indexed record carries its institution's
//! name, type, district and level, so a change here reaches the index through the store's
//! change log (see `store::Store::upsert_institutions`): callers wake the index follower and
//! the records are found under the new name without a reindex.

use schemas::{Institution, ValidationErrors};
use store::curated::AuditAction;
use store::{Store, StoreError};

use crate::auth::{Forbidden, Principal};

/// Why an institution change was refused.
#[derive(Debug, thiserror::Error)]
pub enum InstitutionError {
    /// Only admins change institutions (403).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Invalid fields (422).
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Adds or changes an institution (admins only), with an audit entry.
pub fn upsert(
    store: &Store,
    principal: &Principal,
    institution: &Institution,
) -> Result<(), InstitutionError> {
    principal.require_admin()?;
    institution.validate().map_err(InstitutionError::Invalid)?;
    store.upsert_institutions(std::slice::from_ref(institution))?;
    store.audit(
        &principal.username,
        Some(&institution.id),
        AuditAction::UpsertInstitution,
        &serde_json::json!(institution),
    )?;
    Ok(())
}
