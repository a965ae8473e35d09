//! Login lockout: after [`MAX_FAILURES`] failed logins within [`WINDOW_SECS`], a username
//! is refused until the oldest of them leaves the window.
//!
//! Failures are counted per username whether or not the account exists, so a lockout
//! reveals nothing about which usernames are real. They are kept in the store, so a restart
//! does not reset them. An attempt is counted *before* its password is hashed, in the
//! transaction that checks the lock ([`begin_attempt`]), so parallel guesses cannot all slip
//! past the check during the ≈ 100 ms of argon2; a successful login then clears the count.

use store::Store;
use store::StoreError;
use store::accounts::now;

/// Failed logins allowed within the window.
pub const MAX_FAILURES: u64 = 5;
/// The window, in seconds (15 minutes).
pub const WINDOW_SECS: i64 = 15 * 60;

/// Most attempts kept per username within the window: a locked name stays locked while
/// guesses go on, and a flood of them does not grow the table without bound.
pub const MAX_RECORDED: u64 = 100;

/// Counts a login attempt *before* its password is checked, in the same transaction as the
/// lockout check: `Some(seconds)` if `username` is locked (the attempt is counted all the
/// same, so guessing keeps the lock on), `None` if the password may be checked. The attempt
/// stays counted as a failure unless [`record_success`] clears it.
pub fn begin_attempt(store: &Store, username: &str) -> Result<Option<u64>, StoreError> {
    let now = now();
    let since = now - WINDOW_SECS;
    let lifts_at = store.begin_login_attempt(username, now, since, since, MAX_FAILURES, MAX_RECORDED)?;
    Ok(lifts_at.map(|at| (at + WINDOW_SECS - now).max(1) as u64))
}

/// Forgets the failures after a successful login.
pub fn record_success(store: &Store, username: &str) -> Result<(), StoreError> {
    store.clear_login_failures(username)
}
