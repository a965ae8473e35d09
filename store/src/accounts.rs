//! Accounts in the store: users and the institutions they curate, login sessions, bearer
//! tokens and failed logins (for the lockout).
//!
//! Secrets are never stored: sessions and tokens are kept as the SHA-256 of their random
//! value, passwords as argon2id PHC strings. Times that are compared (expiry, the failure
//! window) are Unix seconds; times that are shown are ISO 8601 UTC text.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store};

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

/// Creates the account tables (called by [`Store::open`]).
pub(crate) fn init(c: &mut crate::db::Conn<'_>) -> Result<()> {
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
        let mut conn = self.writer();
        let tx = super::write_transaction(&mut conn).map_err(super::StoreError::from)?;
        let exists: Option<i64> = tx
            .query_row("SELECT id FROM users WHERE username = ?1", [username], |r| {
                r.get(0)
            })
            .optional()
            .map_err(super::StoreError::from)?;
        if exists.is_some() {
            return Err(CreateUserError::Taken(username.to_string()));
        }
        tx.execute(
            "INSERT INTO users (username, password_hash, role) VALUES (?1, ?2, ?3)",
            params![username, password_hash, role],
        )
        .map_err(super::StoreError::from)?;
        let id = tx.last_insert_rowid();
        for institution in institutions {
            tx.execute(
                "INSERT OR IGNORE INTO user_institutions (user_id, institution) VALUES (?1, ?2)",
                params![id, institution],
            )
            .map_err(super::StoreError::from)?;
        }
        crate::commit(tx)?;
        drop(conn);
        self.user_by_id(id)?
            .ok_or_else(|| CreateUserError::Store(rusqlite::Error::QueryReturnedNoRows.into()))
    }

    /// The account and its password hash, by username.
    pub fn user_credentials(&self, username: &str) -> Result<Option<(UserRow, String)>> {
        let hash_and_id: Option<(i64, String)> = self
            .reader()
            .query_row(
                "SELECT id, password_hash FROM users WHERE username = ?1",
                [username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((id, hash)) = hash_and_id else {
            return Ok(None);
        };
        Ok(self.user_by_id(id)?.map(|user| (user, hash)))
    }

    /// The account with this row id.
    pub fn user_by_id(&self, id: i64) -> Result<Option<UserRow>> {
        let conn = self.reader();
        user_row(&conn, id)
    }

    /// Every account, by username.
    pub fn users(&self) -> Result<Vec<UserRow>> {
        let conn = self.reader();
        let ids: Vec<i64> = conn
            .prepare_cached("SELECT id FROM users ORDER BY username")?
            .query_map([], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            out.extend(user_row(&conn, id)?);
        }
        Ok(out)
    }

    /// Disables (or re-enables) an account; disabling also ends its sessions. False if there
    /// is no such account.
    pub fn set_user_disabled(&self, username: &str, disabled: bool) -> Result<bool> {
        let mut conn = self.writer();
        let tx = super::write_transaction(&mut conn)?;
        let n = tx.execute(
            "UPDATE users SET disabled = ?2 WHERE username = ?1",
            params![username, disabled],
        )?;
        if disabled {
            tx.execute(
                "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)",
                [username],
            )?;
        }
        crate::commit(tx)?;
        Ok(n > 0)
    }

    /// Stores a new session (by the hash of its id).
    pub fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        let conn = self.writer();
        // Expired sessions are swept here rather than by a timer: logins are rare.
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now()])?;
        conn.execute(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![id_hash, user_id, csrf_token, expires_at],
        )?;
        Ok(())
    }

    /// The enabled account behind an unexpired session, and the session's CSRF token.
    pub fn session_user(&self, id_hash: &str) -> Result<Option<(UserRow, String)>> {
        let conn = self.reader();
        let found: Option<(i64, String)> = conn
            .query_row(
                "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
                params![id_hash, now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((user_id, csrf)) = found else {
            return Ok(None);
        };
        Ok(user_row(&conn, user_id)?.map(|u| (u, csrf)))
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.writer()
            .execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    /// Stores a new bearer token (by its hash) and returns its id.
    pub fn create_token(
        &self,
        token_hash: &str,
        user_id: i64,
        name: &str,
        expires_at: Option<i64>,
    ) -> Result<TokenRow> {
        let conn = self.writer();
        conn.execute(
            "INSERT INTO api_tokens (token_hash, user_id, name, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user_id, name, expires_at],
        )?;
        let id = conn.last_insert_rowid();
        Ok(conn.query_row(
            "SELECT id, name, created_at, expires_at, revoked FROM api_tokens WHERE id = ?1",
            [id],
            token_row,
        )?)
    }

    /// The enabled account behind a live (unrevoked, unexpired) token, and the token's id.
    pub fn token_user(&self, token_hash: &str) -> Result<Option<(UserRow, i64)>> {
        let conn = self.reader();
        let found: Option<(i64, i64)> = conn
            .query_row(
                "SELECT t.user_id, t.id FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = ?1 AND t.revoked = 0 AND u.disabled = 0
                   AND (t.expires_at IS NULL OR t.expires_at > ?2)",
                params![token_hash, now()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((user_id, token_id)) = found else {
            return Ok(None);
        };
        Ok(user_row(&conn, user_id)?.map(|u| (u, token_id)))
    }

    /// A user's tokens, newest first.
    pub fn tokens(&self, user_id: i64) -> Result<Vec<TokenRow>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, created_at, expires_at, revoked FROM api_tokens
             WHERE user_id = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([user_id], token_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Revokes one of a user's tokens; false if the user has no such token.
    pub fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<bool> {
        let n = self.writer().execute(
            "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND user_id = ?2",
            params![token_id, user_id],
        )?;
        Ok(n > 0)
    }

    /// Failed logins for `username` at or after Unix time `since`.
    pub fn login_failures_since(&self, username: &str, since: i64) -> Result<u64> {
        let n: i64 = self.reader().query_row(
            "SELECT COUNT(*) FROM login_failures WHERE username = ?1 AND at >= ?2",
            params![username, since],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Counts a login attempt for `username` before its password is checked, in one
    /// IMMEDIATE transaction with the lockout check, so parallel guesses cannot all pass the
    /// check before any of them is counted. Failures before `forget_before` are forgotten
    /// first. If `username` already has `max_failures` failures at or after `since`, the
    /// attempt is refused and the answer is when the lock lifts (Unix time): the attempt is
    /// still counted (so guessing keeps the lock on), up to `max_recorded` rows per username.
    /// Otherwise the attempt is counted as a failure until a successful login clears it.
    pub fn begin_login_attempt(
        &self,
        username: &str,
        at: i64,
        since: i64,
        forget_before: i64,
        max_failures: u64,
        max_recorded: u64,
    ) -> Result<Option<i64>> {
        let mut conn = self.writer();
        let tx = super::write_transaction(&mut conn)?;
        tx.execute("DELETE FROM login_failures WHERE at < ?1", [forget_before])?;
        let count: i64 = tx.query_row(
            "SELECT COUNT(*) FROM login_failures WHERE username = ?1 AND at >= ?2",
            params![username, since],
            |r| r.get(0),
        )?;
        let count = count.max(0) as u64;
        // The lock lifts when fewer than `max_failures` remain in the window, that is when
        // the `max_failures`-th newest failure leaves it.
        let lifts_at: Option<i64> = if count >= max_failures {
            tx.query_row(
                "SELECT at FROM login_failures WHERE username = ?1 AND at >= ?2
                 ORDER BY at DESC LIMIT 1 OFFSET ?3",
                params![username, since, max_failures.saturating_sub(1) as i64],
                |r| r.get(0),
            )
            .optional()?
        } else {
            None
        };
        if count < max_recorded {
            tx.execute(
                "INSERT INTO login_failures (username, at) VALUES (?1, ?2)",
                params![username, at],
            )?;
        }
        crate::commit(tx)?;
        Ok(if count >= max_failures {
            Some(lifts_at.unwrap_or(at))
        } else {
            None
        })
    }

    /// Forgets a username's failed logins (after a successful one).
    pub fn clear_login_failures(&self, username: &str) -> Result<()> {
        self.writer()
            .execute("DELETE FROM login_failures WHERE username = ?1", [username])?;
        Ok(())
    }
}

fn user_row(conn: &Connection, id: i64) -> Result<Option<UserRow>> {
    let row: Option<(String, String, bool, String)> = conn
        .prepare_cached("SELECT username, role, disabled, created_at FROM users WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((username, role, disabled, created_at)) = row else {
        return Ok(None);
    };
    let institutions = conn
        .prepare_cached("SELECT institution FROM user_institutions WHERE user_id = ?1 ORDER BY institution")?
        .query_map([id], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    Ok(Some(UserRow {
        id,
        username,
        role,
        institutions,
        disabled,
        created_at,
    }))
}

fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
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
