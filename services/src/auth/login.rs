//! Logging in with a password, as a function of the store: the steps behind both
//! `POST /api/v1/auth/login` and the curator pages' login form (`/curator/login`).
//!
//! A failure is the same [`LoginError::WrongCredentials`] whether or not the username
//! exists, and costs the same argon2 work; a locked username answers
//! [`LoginError::Locked`] before any password is checked (see [`super::lockout`]). Every
//! attempt is counted before hashing, in the transaction that checks the lock.

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
    // Counted as a failure now, before any hashing; a success below clears it.
    if let Some(wait) = lockout::begin_attempt(store, &username)? {
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
        // The attempt is already counted. What was typed is not logged: it may be a
        // password typed into the wrong field, and it is attacker-controlled text.
        tracing::info!("failed login");
        return Err(LoginError::WrongCredentials);
    };
    lockout::record_success(store, &username)?;
    let session = Secret::generate("");
    let csrf = Secret::generate("");
    let expires_at = now() + SESSION_TTL_SECS;
    store.create_session(&session.stored_hash(), user.id, csrf.expose(), expires_at)?;
    // Debug formatting escapes control characters, so a name cannot forge a log line.
    tracing::info!(username = ?user.username, "logged in");
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::auth::{NewUser, Role};

    /// A log sink for one test.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(run: impl FnOnce()) -> String {
        let captured = Captured::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        let bytes = captured.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn typed_usernames_cannot_forge_log_lines() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jincheng.db")).unwrap();
        let password = Password::new("a long enough password");
        crate::auth::accounts::create_user(
            &store,
            &NewUser {
                username: "cur-a".into(),
                password: password.clone(),
                role: Role::Admin,
                institutions: Vec::new(),
            },
        )
        .unwrap();

        let forged = "x\n2026-01-01T00:00:00Z  INFO jincheng: logged in username=admin";
        let log = logged(|| {
            let outcome = log_in(&store, forged, &Password::new("wrong password!"));
            assert!(matches!(outcome, Err(LoginError::WrongCredentials)));
        });
        assert!(log.contains("failed login"), "{log}");
        assert!(
            !log.contains("username"),
            "a failed login logs no username: {log}"
        );
        assert_eq!(log.lines().count(), 1, "{log}");

        let log = logged(|| {
            assert!(log_in(&store, "cur-a", &password).is_ok());
        });
        assert!(log.contains("username=\"cur-a\""), "{log}");
    }
}
