//! Logging in with a password, as a function of the store: the steps behind both
//! `POST /api/v1/auth/login` and the curator pages' login form (`/curator/login`).
//!
//! A failure is the same [`LoginError::WrongCredentials`] whether or not the username
//! exists, and costs the same argon2 work; a locked username answers
//! [`LoginError::Locked`] before any password is checked (see [`super::lockout`]).

use super::accounts::normalise_username;
use super::password::{self, Password};
use super::secret::Secret;
use super::{SESSION_TTL_SECS, lockout};
use store::accounts::{UserRow, now};
use store::{Store, StoreError};

/// Longest username kept for the lockout rows, in bytes: hostile names stay short.
const MAX_LOCKOUT_NAME_BYTES: usize = 128;

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Too many recent failures for this username; retry after this many seconds.
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    Locked {
        /// Seconds until the lockout window has passed.
        retry_after_secs: u64,
    },
    /// Wrong username or password, or a disabled account (indistinguishable on purpose).
    #[error("wrong username or password")]
    WrongCredentials,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A session that was just created. Its secrets are shown to the client once, as cookies.
#[derive(Debug)]
pub struct NewSession {
    /// The account.
    pub user: UserRow,
    /// The session id (the `HttpOnly` cookie).
    pub session: Secret,
    /// The CSRF token bound to the session.
    pub csrf: Secret,
    /// Unix time the session ends.
    pub expires_at: i64,
}

/// Checks `username` and `password` and, if they are right, stores a new session.
pub fn log_in(store: &Store, username: &str, password: &Password) -> Result<NewSession, LoginError> {
    let mut username = normalise_username(username);
    if username.len() > MAX_LOCKOUT_NAME_BYTES {
        let mut cut = MAX_LOCKOUT_NAME_BYTES;
        while !username.is_char_boundary(cut) {
            cut -= 1;
        }
        username.truncate(cut);
    }
    if let Some(wait) = lockout::locked_for(store, &username)? {
        return Err(LoginError::Locked {
            retry_after_secs: wait,
        });
    }
    // No account has a name or password this long; refuse without hashing megabytes.
    let oversized = username.len() > 64 || password.expose().len() > password::MAX_PASSWORD_BYTES;
    let user = match store.user_credentials(&username)? {
        _ if oversized => None,
        Some((user, hash)) if password::verify(password, &hash) && !user.disabled => Some(user),
        Some(_) => None,
        None => {
            password::verify_dummy(password);
            None
        }
    };
    let Some(user) = user else {
        lockout::record_failure(store, &username)?;
        tracing::info!(username = %username, "failed login");
        return Err(LoginError::WrongCredentials);
    };
    lockout::record_success(store, &username)?;
    let session = Secret::generate("");
    let csrf = Secret::generate("");
    let expires_at = now() + SESSION_TTL_SECS;
    store.create_session(&session.stored_hash(), user.id, csrf.expose(), expires_at)?;
    tracing::info!(username = %username, "logged in");
    Ok(NewSession {
        user,
        session,
        csrf,
        expires_at,
    })
}

/// A `Set-Cookie` value for the session or CSRF cookie: `Path=/`, `SameSite=Strict`,
/// `Secure` when `secure` ([`super::secure_cookies`]); `max_age` 0 removes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: i64, http_only: bool, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; SameSite=Strict");
    if http_only {
        cookie.push_str("; HttpOnly");
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}
