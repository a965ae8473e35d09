//! Login lockout: after [`MAX_FAILURES`] failed logins within [`WINDOW_SECS`], a username
//! is refused until the oldest of them leaves the window.
//!
//! Failures are counted per username whether or not the account exists, so a lockout
//! reveals nothing about which usernames are real. They are kept in the store, so a restart
//! does not reset them.

use store::Store;
use store::StoreError;
use store::accounts::now;

/// Failed logins allowed within the window.
pub const MAX_FAILURES: u64 = 5;
/// The window, in seconds (15 minutes).
pub const WINDOW_SECS: i64 = 15 * 60;

/// If `username` is locked, for how many more seconds.
pub fn locked_for(store: &Store, username: &str) -> Result<Option<u64>, StoreError> {
    let now = now();
    let since = now - WINDOW_SECS;
    if store.login_failures_since(username, since)? < MAX_FAILURES {
        return Ok(None);
    }
    let first = store.first_login_failure_since(username, since)?.unwrap_or(now);
    Ok(Some((first + WINDOW_SECS - now).max(1) as u64))
}

/// Notes a failed login.
pub fn record_failure(store: &Store, username: &str) -> Result<(), StoreError> {
    let now = now();
    store.record_login_failure(username, now, now - WINDOW_SECS)
}

/// Forgets the failures after a successful login.
pub fn record_success(store: &Store, username: &str) -> Result<(), StoreError> {
    store.clear_login_failures(username)
}
