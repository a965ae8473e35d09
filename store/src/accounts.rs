//! Accounts in the store: users and the institutions they curate, login sessions, bearer
//! tokens and failed logins (for the lockout).
//!
//! Secrets are never stored: sessions and tokens are kept as the SHA-256 of their random
//! value, passwords as argon2id PHC strings. Times that are compared (expiry, the failure
//! window) are Unix seconds; times that are shown are ISO 8601 UTC text.

use serde::Serialize;

use super::{Result, Store};
use crate::db::{Conn, Row, args};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'curator')),
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS user_institutions (
    user_id INTEGER NOT NULL REFERENCES users(id),
    institution TEXT NOT NULL,
    PRIMARY KEY (user_id, institution)
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    expires_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE IF NOT EXISTS login_failures (
    username TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_by_user ON login_failures(username, at);
"#;

/// Creates the account tables (called when the store is opened).
pub(crate) fn init(c: &mut Conn<'_>) -> Result<()> {
    c.execute_batch(SCHEMA)
}

/// An account as stored, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// `admin` or `curator`.
    pub role: String,
    /// Institutions a curator may edit (empty for admins, who may edit all).
    pub institutions: Vec<String>,
    /// A disabled account cannot log in, and its sessions and tokens stop working.
    pub disabled: bool,
    /// UTC creation time.
    pub created_at: String,
}

/// A bearer token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    /// Token id (for revoking it).
    pub id: i64,
    /// The owner's name for it.
    pub name: String,
    /// UTC creation time.
    pub created_at: String,
    /// Unix time it stops working, if it expires.
    pub expires_at: Option<i64>,
    /// Whether it has been revoked.
    pub revoked: bool,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username is taken.
    #[error("username {0:?} is taken")]
    Taken(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl Store {
    /// Creates an account; `password_hash` is an argon2 PHC string.
    pub fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        institutions: &[String],
    ) -> std::result::Result<UserRow, CreateUserError> {
        let created = self.db.write(|c| {
            if c.exists("SELECT 1 FROM users WHERE username = ?1", args![username])? {
                return Ok(None);
            }
            let id: i64 = c.query_row(
                "INSERT INTO users (username, password_hash, role) VALUES (?1, ?2, ?3) RETURNING id",
                args![username, password_hash, role],
                |r| r.get(0),
            )?;
            for institution in institutions {
                c.execute(
                    "INSERT INTO user_institutions (user_id, institution) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                    args![id, institution],
                )?;
            }
            user_row(c, id)
        })?;
        created.ok_or_else(|| CreateUserError::Taken(username.to_string()))
    }

    /// The account and its password hash, by username.
    pub fn user_credentials(&self, username: &str) -> Result<Option<(UserRow, String)>> {
        self.db.read(|c| {
            let found: Option<(i64, String)> = c.query_opt(
                "SELECT id, password_hash FROM users WHERE username = ?1",
                args![username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((id, hash)) = found else {
                return Ok(None);
            };
            Ok(user_row(c, id)?.map(|user| (user, hash)))
        })
    }

    /// The account with this row id.
    pub fn user_by_id(&self, id: i64) -> Result<Option<UserRow>> {
        self.db.read(|c| user_row(c, id))
    }

    /// Every account, by username.
    pub fn users(&self) -> Result<Vec<UserRow>> {
        self.db.read(|c| {
            let ids: Vec<i64> =
                c.query_map("SELECT id FROM users ORDER BY username", args![], |r| r.get(0))?;
            let mut out = Vec::new();
            for id in ids {
                out.extend(user_row(c, id)?);
            }
            Ok(out)
        })
    }

    /// Disables (or re-enables) an account; disabling also ends its sessions. False if there
    /// is no such account.
    pub fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        self.db.write(|c| {
            let n = c.execute(
                "UPDATE users SET disabled = ?2 WHERE username = ?1",
                args![username, disabled],
            )?;
            if disabled {
                c.execute(
                    "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)",
                    args![username],
                )?;
            }
            Ok(n > 0)
        })
    }

    /// Stores a new session (by the hash of its id).
    pub fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.db.write(|c| {
            // Expired sessions are swept here rather than by a timer: logins are rare.
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", args![now()])?;
            c.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES (?1, ?2, ?3, ?4)",
                args![id_hash, user_id, csrf_token, expires_at],
            )
            .map(drop)
        })
    }

    /// The enabled account behind an unexpired session, and the session's CSRF token.
    pub fn session_user(&self, id_hash: &str) -> Result<Option<(UserRow, String)>> {
        self.db.read(|c| {
            let found: Option<(i64, String)> = c.query_opt(
                "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
                args![id_hash, now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((user_id, csrf)) = found else {
                return Ok(None);
            };
            Ok(user_row(c, user_id)?.map(|u| (u, csrf)))
        })
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.db.write(|c| {
            c.execute("DELETE FROM sessions WHERE id_hash = ?1", args![id_hash])
                .map(drop)
        })
    }

    /// Stores a new bearer token (by its hash) and returns its id.
    pub fn create_token(
        &self,
        token_hash: &str,
        user_id: i64,
        name: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRow> {
        self.db.write(|c| {
            c.query_row(
                "INSERT INTO api_tokens (token_hash, user_id, name, expires_at) VALUES (?1, ?2, ?3, ?4)
                 RETURNING id, name, created_at, expires_at, revoked",
                args![token_hash, user_id, name, expires_at],
                token_row,
            )
        })
    }

    /// The enabled account behind a live (unrevoked, unexpired) token, and the token's id.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<(UserRow, i64)>> {
        self.db.read(|c| {
            let found: Option<(i64, i64)> = c.query_opt(
                "SELECT t.user_id, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = ?1 AND t.revoked = 0 AND u.disabled = 0
                   AND (t.expires_at IS NULL OR t.expires_at > ?2)",
                args![token_hash, now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let Some((user_id, token_id)) = found else {
                return Ok(None);
            };
            Ok(user_row(c, user_id)?.map(|u| (u, token_id)))
        })
    }

    /// A user's tokens, newest first.
    pub fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT id, name, created_at, expires_at, revoked FROM api_tokens
                 WHERE user_id = ?1 ORDER BY id DESC",
                args![user_id],
                token_row,
            )
        })
    }

    /// Revokes one of a user's tokens; false if the user has no such token.
    pub fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        let n = self.db.write(|c| {
            c.execute(
                "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND user_id = ?2",
                args![token_id, user_id],
            )
        })?;
        Ok(n > 0)
    }

    /// Failed logins for `username` at or after Unix time `since`.
    pub fn login_failures_since(&self, username: &str, since: i64) -> Result<u64> {
        self.db.read(|c| failures_since(c, username, since))
    }

    /// Counts a login attempt for `username` before its password is checked, in one write
    /// transaction with the lockout check (write transactions run one at a time), so
    /// parallel guesses cannot all pass the check before any of them is counted. Failures
    /// before `forget_before` are forgotten first. If `username` already has `max_failures`
    /// failures at or after `since`, the attempt is refused and the answer is when the lock
    /// lifts (Unix time): the attempt is still counted (so guessing keeps the lock on), up to
    /// `max_recorded` rows per username. Otherwise the attempt is counted as a failure until
    /// a successful login clears it.
    pub fn begin_login_attempt(
        &self,
        username: &str,
        at: i64,
        since: i64,
        forget_before: i64,
        max_failures: u64,
        max_recorded: u64,
    ) -> Result<Option<i64>> {
        self.db.write(|c| {
            c.execute("DELETE FROM login_failures WHERE at < ?1", args![forget_before])?;
            let count = failures_since(c, username, since)?;
            // The lock lifts when fewer than `max_failures` remain in the window, that is
            // when the `max_failures`-th newest failure leaves it.
            let lifts_at: Option<i64> = if count >= max_failures {
                c.query_opt(
                    "SELECT at FROM login_failures WHERE username = ?1 AND at >= ?2
                     ORDER BY at DESC LIMIT 1 OFFSET ?3",
                    args![username, since, max_failures.saturating_sub(1)],
                    |r| r.get(0),
                )?
            } else {
                None
            };
            if count < max_recorded {
                c.execute(
                    "INSERT INTO login_failures (username, at) VALUES (?1, ?2)",
                    args![username, at],
                )?;
            }
            Ok((count >= max_failures).then(|| lifts_at.unwrap_or(at)))
        })
    }

    /// Forgets a username's failed logins (after a successful one).
    pub fn clear_login_failures(&self, username: &str) -> Result<()> {
        self.db.write(|c| {
            c.execute("DELETE FROM login_failures WHERE username = ?1", args![username])
                .map(drop)
        })
    }
}

fn failures_since(c: &mut Conn<'_>, username: &str, since: i64) -> Result<u64> {
    let n: i64 = c.query_row(
        "SELECT COUNT(*) FROM login_failures WHERE username = ?1 AND at >= ?2",
        args![username, since],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

fn user_row(c: &mut Conn<'_>, id: i64) -> Result<Option<UserRow>> {
    let row: Option<(String, String, bool, String)> = c.query_opt(
        "SELECT username, role, disabled, created_at FROM users WHERE id = ?1",
        args![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let Some((username, role, disabled, created_at)) = row else {
        return Ok(None);
    };
    let institutions = c.query_map(
        "SELECT institution FROM user_institutions WHERE user_id = ?1 ORDER BY institution",
        args![id],
        |r| r.get(0),
    )?;
    Ok(Some(UserRow {
        id,
        username,
        role,
        institutions,
        disabled,
        created_at,
    }))
}

fn token_row(r: &Row<'_>) -> Result<TokenRow> {
    Ok(TokenRow {
        id: r.get(0)?,
        name: r.get(1)?,
        created_at: r.get(2)?,
        expires_at: r.get(3)?,
        revoked: r.get(4)?,
    })
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::each_backend;

    #[test]
    fn users_are_created_once_with_their_institutions() {
        each_backend(|store| {
            let admin = store.create_user("admin", "h1", "admin", &[]).unwrap();
            let institutions = ["lib2", "lib1", "lib1"].map(String::from);
            let curator = store.create_user("cur", "h2", "curator", &institutions).unwrap();
            assert_ne!(admin.id, curator.id);
            assert_eq!(curator.institutions, ["lib1", "lib2"], "sorted, once each");
            assert!(!curator.disabled && curator.created_at.ends_with('Z'));
            assert!(matches!(
                store.create_user("cur", "h3", "admin", &[]),
                Err(CreateUserError::Taken(name)) if name == "cur"
            ));
            assert_eq!(
                store.user_credentials("cur").unwrap(),
                Some((curator.clone(), "h2".to_string()))
            );
            assert_eq!(store.user_credentials("nobody").unwrap(), None);
            assert_eq!(store.user_by_id(admin.id).unwrap(), Some(admin.clone()));
            assert_eq!(store.users().unwrap(), [admin, curator]);
        });
    }

    #[test]
    fn sessions_end_when_they_expire_or_their_user_is_disabled() {
        each_backend(|store| {
            let user = store.create_user("cur", "h", "curator", &[]).unwrap();
            store.create_session("old", user.id, "x", now() - 1).unwrap();
            assert_eq!(store.session_user("old").unwrap(), None);
            store.create_session("s1", user.id, "csrf", now() + 3600).unwrap();
            assert_eq!(
                store.session_user("s1").unwrap(),
                Some((user.clone(), "csrf".to_string()))
            );
            let sessions: i64 = store
                .db
                .read(|c| c.query_row("SELECT COUNT(*) FROM sessions", args![], |r| r.get(0)))
                .unwrap();
            assert_eq!(sessions, 1, "the expired session was swept");

            assert!(store.set_user_disabled("cur", true).unwrap());
            assert!(!store.set_user_disabled("nobody", true).unwrap());
            assert!(store.user_by_id(user.id).unwrap().unwrap().disabled);
            assert!(store.set_user_disabled("cur", false).unwrap());
            assert_eq!(store.session_user("s1").unwrap(), None, "disabling ended it");

            store.create_session("s2", user.id, "c2", now() + 3600).unwrap();
            store.delete_session("s2").unwrap();
            assert_eq!(store.session_user("s2").unwrap(), None);
        });
    }

    #[test]
    fn tokens_work_until_revoked_or_expired() {
        each_backend(|store| {
            let user = store.create_user("cur", "h", "curator", &[]).unwrap();
            let other = store.create_user("other", "h", "curator", &[]).unwrap();
            let token = store.create_token("t1", user.id, "脚本", None).unwrap();
            assert_eq!(
                (token.name.as_str(), token.expires_at, token.revoked),
                ("脚本", None, false)
            );
            assert!(token.created_at.ends_with('Z'));
            assert_eq!(store.token_user("t1").unwrap(), Some((user.clone(), token.id)));
            let expired = store.create_token("t2", user.id, "old", Some(now() - 1)).unwrap();
            assert!(expired.expires_at.is_some_and(|at| at < now() + 1));
            assert_eq!(store.token_user("t2").unwrap(), None);
            let names: Vec<String> = store
                .tokens(user.id)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            assert_eq!(names, ["old", "脚本"], "newest first");

            assert!(!store.revoke_token(other.id, token.id).unwrap());
            assert!(store.revoke_token(user.id, token.id).unwrap());
            assert_eq!(store.token_user("t1").unwrap(), None);
            assert!(store.tokens(user.id).unwrap()[1].revoked);
        });
    }

    #[test]
    fn login_attempts_lock_after_too_many_failures() {
        each_backend(|store| {
            let attempt = |at: i64, forget_before: i64| {
                store
                    .begin_login_attempt("cur", at, 0, forget_before, 3, 5)
                    .unwrap()
            };
            for at in 1000..1003 {
                assert_eq!(attempt(at, 0), None);
            }
            // The lock lifts when the third newest failure leaves the window.
            assert_eq!(attempt(1003, 0), Some(1000));
            assert_eq!(attempt(1004, 0), Some(1001));
            assert_eq!(store.login_failures_since("cur", 0).unwrap(), 5);
            assert_eq!(attempt(1005, 0), Some(1002));
            assert_eq!(
                store.login_failures_since("cur", 0).unwrap(),
                5,
                "no more than five are recorded"
            );
            assert_eq!(store.login_failures_since("cur", 1003).unwrap(), 2);
            // Failures before 1003 are forgotten: two remain, and this attempt is let through.
            assert_eq!(attempt(1006, 1003), None);
            store.clear_login_failures("cur").unwrap();
            assert_eq!(store.login_failures_since("cur", 0).unwrap(), 0);
        });
    }
}
