//! The [`Principal`] extractor: authentication for every protected route.

use std::collections::BTreeSet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use super::accounts::Role;
use super::secret::{self, Secret};
use super::{CSRF_HEADER, SESSION_COOKIE};
use crate::api::ApiError;
use crate::server::AppState;
use crate::store::accounts::UserRow;

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
///
/// Extracting it answers `401 unauthorized` without valid credentials and `403 csrf_failed`
/// for a cookie-authenticated unsafe request (anything but GET, HEAD and OPTIONS) whose
/// `X-CSRF-Token` header is missing or wrong. Bearer-token requests need no CSRF token: a
/// browser never attaches a bearer token by itself, so they cannot be forged cross-site.
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

impl Principal {
    fn from_row(user: UserRow, method: AuthMethod) -> Result<Principal, ApiError> {
        let role = user
            .role
            .parse()
            .map_err(|err: String| ApiError::internal(format!("user {}: {err}", user.id)))?;
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

    /// `403 forbidden` unless this is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs an admin account"))
        }
    }
}

impl Principal {
    /// The account behind the request's session cookie, with that session's CSRF token, or
    /// `None` when there is no live session. Unlike the extractor this checks no
    /// `X-CSRF-Token` header: the server-rendered curator forms carry the token in a hidden
    /// field (they work without scripts), and their handlers compare it themselves.
    pub async fn from_session_cookie(
        parts: &Parts,
        state: &AppState,
    ) -> Result<Option<(Principal, String)>, ApiError> {
        let Some(session) = cookie(parts, SESSION_COOKIE) else {
            return Ok(None);
        };
        let id_hash = Secret::from_client(session).stored_hash();
        let lookup = id_hash.clone();
        let store = state.store.clone();
        let found = tokio::task::spawn_blocking(move || store.session_user(&lookup)).await??;
        let Some((user, csrf)) = found else {
            return Ok(None);
        };
        Ok(Some((
            Principal::from_row(user, AuthMethod::Session { id_hash })?,
            csrf,
        )))
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(cached) = parts.extensions.get::<Principal>() {
            return Ok(cached.clone());
        }
        let store = state.store.clone();
        let principal = if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
            let hash = Secret::from_client(token).stored_hash();
            let found = tokio::task::spawn_blocking(move || store.token_user(&hash)).await??;
            let (user, id) =
                found.ok_or_else(|| ApiError::unauthorized("the token is invalid, expired or revoked"))?;
            Principal::from_row(user, AuthMethod::Token { id })?
        } else if let Some(session) = cookie(parts, SESSION_COOKIE) {
            let id_hash = Secret::from_client(session).stored_hash();
            let lookup = id_hash.clone();
            let found = tokio::task::spawn_blocking(move || store.session_user(&lookup)).await??;
            let (user, csrf) =
                found.ok_or_else(|| ApiError::unauthorized("the session has ended; log in again"))?;
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            if !safe {
                let sent = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !secret::equal(sent, &csrf) {
                    return Err(ApiError::csrf_failed());
                }
            }
            Principal::from_row(user, AuthMethod::Session { id_hash })?
        } else {
            return Err(ApiError::unauthorized(
                "log in (session cookie) or send `Authorization: Bearer <token>`",
            ));
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
