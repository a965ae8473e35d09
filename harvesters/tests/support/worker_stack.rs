//! Running a reader the way the server does: on a thread with a tokio worker's stack.
//!
//! Shared by the unit tests (`src/lib.rs` includes this file under `cfg(test)`) and the
//! integration tests (`tests/deep_nesting.rs`), so both model the same worker.

use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

/// The stack of a tokio worker thread (tokio's default), on which harvests run.
const WORKER_STACK_BYTES: usize = 2 * 1024 * 1024;

/// How long a reader may take over one hostile document. Readers that walk deep nesting
/// quadratically hang rather than crash; this turns the hang into a failure.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs `work` on a new thread with [`WORKER_STACK_BYTES`] of stack, joins it and returns
/// what it returned. A panic on that thread is re-raised here; a stack overflow aborts the
/// test process, which fails the run just as surely.
pub fn on_worker_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = channel();
    let handle = std::thread::Builder::new()
        .name("small-stack-worker".into())
        .stack_size(WORKER_STACK_BYTES)
        .spawn(move || {
            // The receiver only goes away after a timeout, when nobody waits any more.
            let _ = sender.send(work());
        })
        .expect("a thread can be spawned");
    match receiver.recv_timeout(TIME_LIMIT) {
        Ok(value) => {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
            value
        }
        Err(RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the worker thread ended without an answer"),
        },
        Err(RecvTimeoutError::Timeout) => panic!("the reader took more than {TIME_LIMIT:?}"),
    }
}

/// `depth` nested `<name>` elements around `inner`, each closed again.
pub fn nested(name: &str, depth: usize, inner: &str) -> String {
    format!(
        "{}{inner}{}",
        format!("<{name}>").repeat(depth),
        format!("</{name}>").repeat(depth)
    )
}

/// The nestings of the hostile documents: 60,000 levels, as in the live crash (under
/// quick-xml's own limit of 65,535, over the ≈ 40,000 a recursive walk survives on a
/// worker's stack), and 1,000,000, far beyond every limit.
pub const HOSTILE_DEPTHS: [usize; 2] = [60_000, 1_000_000];
