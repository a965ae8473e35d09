//! Extractors shared by the API and the pages.
//!
//! [`Principal`] (from the auth service) is extracted from a request: extracting it answers
//! `401 unauthorized` without valid credentials and `403 csrf_failed` for a
//! cookie-authenticated unsafe request (anything but GET, HEAD and OPTIONS) whose
//! `X-CSRF-Token` header is missing or wrong. Bearer-token requests need no CSRF token: a
//! browser never attaches a bearer token by itself, so they cannot be forged cross-site.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};

use services::auth::secret::{self, Secret};
use services::auth::{AuthMethod, CSRF_HEADER, Principal, SESSION_COOKIE};

use crate::error::ApiError;
use crate::state::AppState;

/// The account behind the request's session cookie, with that session's CSRF token, or
/// `None` when there is no live session. Unlike the extractor this checks no
/// `X-CSRF-Token` header: the server-rendered curator forms carry the token in a hidden
/// field (they work without scripts), and their handlers compare it themselves.
pub async fn session_principal(
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
    Ok(Some((principal(user, AuthMethod::Session { id_hash })?, csrf)))
}

fn principal(user: store::accounts::UserRow, method: AuthMethod) -> Result<Principal, ApiError> {
    Principal::from_row(user, method).map_err(ApiError::internal)
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
            principal(user, AuthMethod::Token { id })?
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
            principal(user, AuthMethod::Session { id_hash })?
        } else {
            return Err(ApiError::unauthorized(
                "log in (session cookie) or send `Authorization: Bearer <token>`",
            ));
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
