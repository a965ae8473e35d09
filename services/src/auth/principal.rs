//! [`Principal`]: the authenticated account behind a request, and what it may do.
//!
//! The HTTP face finds the principal (a session cookie or a bearer token, see the app's
//! extractor); every service that changes something takes it and asks it here.

use std::collections::BTreeSet;

use store::accounts::UserRow;

use super::accounts::Role;

/// How the request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A session cookie (its stored hash, for logging out).
    Session {
        /// SHA-256 of the session id.
        id_hash: String,
    },
    /// A bearer token.
    Token {
        /// The token's id.
        id: i64,
    },
}

/// The authenticated account behind a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Account row id.
    pub user_id: i64,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Institutions a curator may edit (empty for an admin, who may edit all).
    pub institutions: BTreeSet<String>,
    /// Session or token.
    pub method: AuthMethod,
}

/// Refusal of an action the principal's role does not allow (the HTTP face answers 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub &'static str);

impl Principal {
    /// The principal of a stored account; an error names a role this build does not know
    /// (a database written by another version).
    pub fn from_row(user: UserRow, method: AuthMethod) -> Result<Principal, String> {
        let role = user
            .role
            .parse()
            .map_err(|err: String| format!("user {}: {err}", user.id))?;
        Ok(Principal {
            user_id: user.id,
            username: user.username,
            role,
            institutions: user.institutions.into_iter().collect(),
            method,
        })
    }

    /// True for admins.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// True if this account may change the records of `institution`.
    pub fn may_curate(&self, institution: &str) -> bool {
        self.is_admin() || self.institutions.contains(institution)
    }

    /// The institutions this account sees: `None` for all (admins).
    pub fn visible_institutions(&self) -> Option<Vec<String>> {
        (!self.is_admin()).then(|| self.institutions.iter().cloned().collect())
    }

    /// [`Forbidden`] unless this is an admin.
    pub fn require_admin(&self) -> Result<(), Forbidden> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Forbidden("this needs an admin account"))
        }
    }
}
