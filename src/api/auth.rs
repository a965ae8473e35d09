//! `/api/v1/auth/…`: logging in and out, and bearer tokens for scripts.
//!
//! - `POST /auth/login` `{username, password}` → the session cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Secure` with `[curation] secure_cookies = true`) and the CSRF token, both
//!   in the body and in the `jincheng_csrf` cookie (double submit: pages echo it in
//!   `X-CSRF-Token`). A failure is always the same `401`, whether or not the username exists,
//!   and costs the same argon2 work; after 5 failures in 15 minutes the username answers
//!   `429 too_many_attempts` (with `Retry-After`) until the window has passed.
//! - `POST /auth/logout` ends the session.
//! - `GET /auth/me`: who am I.
//! - `POST /auth/tokens` `{name, expires_in_days?}` → a bearer token, shown this once;
//!   `GET /auth/tokens` lists one's tokens (never their secrets); `DELETE /auth/tokens/{id}`
//!   revokes one.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::endpoint::{Content, Endpoint, Success};
use crate::error::ErrorCode;
use crate::state::AppState;
use services::auth::login::{self, LoginError, NewSession};
use services::auth::secret::{Secret, TOKEN_PREFIX};
use services::auth::{
    AuthMethod, CSRF_COOKIE, Password, Principal, SESSION_COOKIE, SESSION_TTL_SECS, secure_cookies,
};
use store::accounts::{TokenRow, now};

/// Longest token lifetime one may ask for, in days.
const MAX_TOKEN_DAYS: u32 = 366;

/// The routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/auth/login", login)
            .summary("Log in: a session cookie and its CSRF token")
            .description(
                "Sets the `HttpOnly` session cookie and the `jincheng_csrf` cookie; echo the CSRF \
                 token in `X-CSRF-Token` on every unsafe request made with the cookie. A failure is \
                 the same `401` whether or not the username exists; after 5 failures in 15 minutes \
                 the username answers `429 too_many_attempts` until the window has passed.",
            )
            .json_body::<LoginRequest>()
            .respond(Success {
                status: 200,
                description: "Logged in",
                content: vec![Content::Json(super::endpoint::schema_of::<LoginResponse>)],
                headers: vec![("Set-Cookie", "The session and CSRF cookies")],
            })
            .errors(&[ErrorCode::Unauthorized, ErrorCode::TooManyAttempts]),
        Endpoint::post("/api/v1/auth/logout", logout)
            .summary("End the session")
            .signed_in()
            .respond(Success {
                status: 204,
                description: "Logged out; the cookies are cleared",
                content: vec![Content::Empty],
                headers: vec![("Set-Cookie", "Expired session and CSRF cookies")],
            }),
        Endpoint::get("/api/v1/auth/me", me)
            .summary("Who am I")
            .signed_in()
            .json::<Me>(200, "The account"),
        Endpoint::post("/api/v1/auth/tokens", create_token)
            .summary("A bearer token for scripts, shown this once")
            .signed_in()
            .json_body::<TokenRequest>()
            .json::<CreatedToken>(201, "The token")
            .errors(&[ErrorCode::ValidationFailed]),
        Endpoint::get("/api/v1/auth/tokens", list_tokens)
            .summary("One's tokens (never their secrets)")
            .signed_in()
            .json::<TokenList>(200, "The tokens"),
        Endpoint::delete("/api/v1/auth/tokens/{id}", revoke_token)
            .summary("Revoke one of one's tokens")
            .signed_in()
            .path_param("id", || serde_json::json!({"type": "integer"}), "The token's id")
            .respond(Success {
                status: 204,
                description: "Revoked",
                content: vec![Content::Empty],
                headers: Vec::new(),
            })
            .errors(&[ErrorCode::NotFound]),
    ]
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    username: String,
    #[schemars(with = "String")]
    password: Password,
}

/// Who is logged in.
#[derive(Serialize, schemars::JsonSchema)]
struct Me {
    username: String,
    /// `admin` or `curator`.
    role: &'static str,
    /// Institutions a curator curates (none for admins, who may curate all).
    institutions: Vec<String>,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Me {
        Me {
            username: p.username.clone(),
            role: p.role.as_str(),
            institutions: p.institutions.iter().cloned().collect(),
        }
    }
}

#[derive(Serialize, schemars::JsonSchema)]
struct LoginResponse {
    #[serde(flatten)]
    me: Me,
    /// Echo this in `X-CSRF-Token` on every unsafe request made with the session cookie.
    csrf_token: String,
    /// Unix time the session ends.
    expires_at: i64,
}

fn cookie(
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
    http_only: bool,
) -> Result<HeaderValue, ApiError> {
    let cookie = login::set_cookie(name, value, max_age, http_only, secure_cookies(&state.curation));
    HeaderValue::from_str(&cookie).map_err(ApiError::internal)
}

async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let store = state.store.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        login::log_in(&store, &request.username, &request.password).map_err(|err| match err {
            LoginError::Locked { retry_after_secs } => ApiError::too_many_attempts(retry_after_secs),
            LoginError::WrongCredentials => ApiError::unauthorized("wrong username or password"),
            LoginError::Store(err) => err.into(),
        })
    })
    .await??;
    let NewSession {
        user,
        session,
        csrf,
        expires_at,
    } = outcome;
    let body = LoginResponse {
        me: Me {
            username: user.username,
            role: if user.role == "admin" { "admin" } else { "curator" },
            institutions: user.institutions,
        },
        csrf_token: csrf.expose().to_string(),
        expires_at,
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie(&state, SESSION_COOKIE, session.expose(), SESSION_TTL_SECS, true)?,
    );
    headers.append(
        header::SET_COOKIE,
        cookie(&state, CSRF_COOKIE, csrf.expose(), SESSION_TTL_SECS, false)?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn logout(State(state): State<AppState>, principal: Principal) -> Result<Response, ApiError> {
    if let AuthMethod::Session { id_hash } = &principal.method {
        let store = state.store.clone();
        let id_hash = id_hash.clone();
        tokio::task::spawn_blocking(move || store.delete_session(&id_hash)).await??;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, cookie(&state, SESSION_COOKIE, "", 0, true)?);
    headers.append(header::SET_COOKIE, cookie(&state, CSRF_COOKIE, "", 0, false)?);
    Ok(response)
}

async fn me(principal: Principal) -> Json<Me> {
    Json(Me::from(&principal))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// What the token is for (`nightly import script`): 1 to 100 characters, not all spaces.
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    name: String,
    /// Lifetime in days; none for a token that lasts until revoked.
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// A bearer token as listed (never with its secret).
#[derive(Serialize, schemars::JsonSchema)]
struct TokenView {
    /// Token id (for revoking it).
    id: i64,
    /// The owner's name for it.
    name: String,
    /// UTC creation time.
    created_at: String,
    /// Unix time it stops working, if it expires.
    expires_at: Option<i64>,
    /// Whether it has been revoked.
    revoked: bool,
}

impl From<TokenRow> for TokenView {
    fn from(row: TokenRow) -> TokenView {
        TokenView {
            id: row.id,
            name: row.name,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked: row.revoked,
        }
    }
}

/// One's tokens.
#[derive(Serialize, schemars::JsonSchema)]
struct TokenList {
    tokens: Vec<TokenView>,
}

#[derive(Serialize, schemars::JsonSchema)]
struct CreatedToken {
    #[serde(flatten)]
    row: TokenView,
    /// The token itself: send it as `Authorization: Bearer <token>`. Shown only now.
    token: String,
}

async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let Json(request) = body?;
    let name = request.name.trim().to_string();
    let mut errors = Vec::new();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(schemas::FieldError {
            field: "name".into(),
            code: "invalid_length",
            message: "name must have 1-100 characters".into(),
            message_zh: "name 须为 1 至 100 个字符".into(),
        });
    }
    if request
        .expires_in_days
        .is_some_and(|d| d == 0 || d > MAX_TOKEN_DAYS)
    {
        errors.push(schemas::FieldError {
            field: "expires_in_days".into(),
            code: "out_of_range",
            message: format!("expires_in_days must be 1-{MAX_TOKEN_DAYS}"),
            message_zh: format!("expires_in_days 须为 1 至 {MAX_TOKEN_DAYS}"),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::validation_failed(schemas::ValidationErrors { errors }));
    }
    let token = Secret::generate(TOKEN_PREFIX);
    let expires_at = request.expires_in_days.map(|d| now() + i64::from(d) * 86_400);
    let store = state.store.clone();
    let hash = token.stored_hash();
    let row =
        tokio::task::spawn_blocking(move || store.create_token(&hash, principal.user_id, &name, expires_at))
            .await??;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            row: row.into(),
            token: token.expose().to_string(),
        }),
    ))
}

async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<TokenList>, ApiError> {
    let store = state.store.clone();
    let tokens = tokio::task::spawn_blocking(move || store.tokens(principal.user_id)).await??;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    // Someone else's token is "not found": token ids are not theirs to probe.
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let store = state.store.clone();
    if tokio::task::spawn_blocking(move || store.revoke_token(principal.user_id, id)).await?? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}
