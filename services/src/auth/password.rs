//! Password hashing with argon2id (the `argon2` crate's default parameters: 19 MiB, 2
//! passes, 1 lane — OWASP's recommended minimum).
//!
//! Hashes run on [`MAX_CONCURRENT_HASHES`] dedicated threads, process-wide; other requests
//! wait for a turn. Each costs ≈ 19 MiB and ≈ 100 ms of one core, so a burst of logins
//! queues instead of growing the process by 19 MiB per login.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, mpsc};

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

/// Work handed to the hashing threads.
type Job = Box<dyn FnOnce() + Send>;

/// Runs `work` on one of [`MAX_CONCURRENT_HASHES`] long-lived hashing threads and waits for
/// its result (`None` if it panicked). Blocking: call it from a blocking thread (logins run
/// in `spawn_blocking`).
///
/// Fixed threads, not just a count of running hashes: the allocator keeps a freed 19 MiB
/// argon2 buffer in the arena of the thread that used it, so hashing on whichever of the
/// runtime's many blocking threads asked kept ≈ 19 MiB per thread (measured: 100 parallel
/// logins took the process from 95 MB to 1.9 GB although only two hashed at once).
fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    static JOBS: OnceLock<Option<Mutex<mpsc::Sender<Job>>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for i in 0..MAX_CONCURRENT_HASHES {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                            Ok(job) => job,
                            Err(_) => return,
                        };
                        // A panicking hash must not take the thread with it.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                });
            started += usize::from(spawned.is_ok());
        }
        (started > 0).then(|| Mutex::new(sender))
    });
    let (result, answer) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = result.send(work());
    });
    match jobs {
        Some(jobs) => {
            let sent = jobs.lock().unwrap_or_else(|e| e.into_inner()).send(job);
            if let Err(mpsc::SendError(job)) = sent {
                job();
            }
        }
        // No hashing thread could be started: hash here rather than never.
        None => job(),
    }
    answer.recv().ok()
}

/// Hashes a password into a PHC string (`$argon2id$v=19$…`) with a fresh random salt.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    let password = password.0.clone();
    on_hashing_thread(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| anyhow::anyhow!("hashing a password failed: {err}"))
    })
    .unwrap_or_else(|| Err(anyhow::anyhow!("hashing a password failed")))
}

/// True if `password` matches the PHC string `stored`. An unreadable hash never matches.
pub fn verify(password: &Password, stored: &str) -> bool {
    let (password, stored) = (password.0.clone(), stored.to_string());
    on_hashing_thread(move || match PasswordHash::new(&stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    })
    .unwrap_or(false)
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
                    on_hashing_thread(|| {
                        // Always the same few threads, so freed buffers are reused.
                        let name = std::thread::current().name().map(str::to_string);
                        assert!(
                            name.as_deref().is_some_and(|n| n.starts_with("argon2-")),
                            "{name:?}"
                        );
                        let n = NOW.fetch_add(1, Ordering::SeqCst) + 1;
                        PEAK.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        NOW.fetch_sub(1, Ordering::SeqCst);
                    })
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), Some(()), "the work ran");
        }
        let peak = PEAK.load(Ordering::SeqCst);
        assert!((1..=MAX_CONCURRENT_HASHES).contains(&peak), "peak {peak}");
    }
}
