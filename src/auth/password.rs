//! Password hashing with argon2id (the `argon2` crate's default parameters: 19 MiB, 2
//! passes, 1 lane — OWASP's recommended minimum).
//!
//! At most [`MAX_CONCURRENT_HASHES`] hashes run at once, process-wide; the others wait for a
//! turn. Each costs ≈ 19 MiB and ≈ 100 ms of one core, so a burst of logins queues instead
//! of growing the process by 19 MiB per login.

use std::fmt;
use std::sync::{Condvar, Mutex, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::Deserialize;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in bytes (hashing cost grows with length).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password as received. Its `Debug` prints `[redacted]`, so it cannot leak into a log.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Password(password.into())
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// How many argon2 computations may run at once: the cores of the machines we deploy on (2).
/// More would not finish sooner, only hold more memory.
pub const MAX_CONCURRENT_HASHES: usize = 2;

/// Runs `work` once fewer than [`MAX_CONCURRENT_HASHES`] others are running. Blocking: call
/// it from a blocking thread (logins run in `spawn_blocking`).
fn with_hashing_turn<T>(work: impl FnOnce() -> T) -> T {
    static RUNNING: Mutex<usize> = Mutex::new(0);
    static FREED: Condvar = Condvar::new();
    /// Gives the turn back even if `work` panics.
    struct Turn;
    impl Drop for Turn {
        fn drop(&mut self) {
            let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
            *running = running.saturating_sub(1);
            FREED.notify_one();
        }
    }
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    while *running >= MAX_CONCURRENT_HASHES {
        running = FREED.wait(running).unwrap_or_else(|e| e.into_inner());
    }
    *running += 1;
    drop(running);
    let _turn = Turn;
    work()
}

/// Hashes a password into a PHC string (`$argon2id$v=19$…`) with a fresh random salt.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    with_hashing_turn(|| {
        Argon2::default()
            .hash_password(password.0.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| anyhow::anyhow!("hashing a password failed: {err}"))
    })
}

/// True if `password` matches the PHC string `stored`. An unreadable hash never matches.
pub fn verify(password: &Password, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => with_hashing_turn(|| {
            Argon2::default()
                .verify_password(password.0.as_bytes(), &parsed)
                .is_ok()
        }),
        Err(_) => false,
    }
}

/// Spends the same work as [`verify`] on a hash that matches nothing, so a login for a
/// username that does not exist takes as long as one with a wrong password.
pub fn verify_dummy(password: &Password) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy =
        DUMMY.get_or_init(|| hash(&Password::new(crate::auth::secret::random_hex(16))).unwrap_or_default());
    let _ = verify(password, dummy);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_debug_hides_the_password() {
        let password = Password::new("correct horse battery");
        let stored = hash(&password).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&password, &stored));
        assert!(!verify(&Password::new("wrong horse battery"), &stored));
        assert!(!verify(&password, "not a hash"));
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn no_more_than_the_bound_hash_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NOW: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    with_hashing_turn(|| {
                        let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
                        PEAK.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        NOW.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let peak = PEAK.load(Ordering::SeqCst);
        assert!((1..=MAX_CONCURRENT_HASHES).contains(&peak), "peak {peak}");
    }
}
