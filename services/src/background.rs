//! Background work (harvests, fetching harvested images) at a lower CPU priority than
//! searches.
//!
//! On a small machine (two cores) a harvest keeps the cores busy: fetching and parsing pages,
//! hashing and writing them to the store. At the same priority as the server, that work
//! takes its share from the searches (`jincheng bench load-during-harvest`). So it runs on
//! threads whose *nice* value is raised by [`NICE`] over the process's own: the kernel's
//! scheduler gives a search thread that wants a core about ten times the share of a
//! background thread, and background work still gets every cycle the searches leave idle.
//! Raising a nice value needs no privilege; it is never lowered again.
//!
//! - [`spawn`] runs a future on the background runtime: its worker and blocking threads
//!   start at the lower priority. The [`Task`] it returns is awaited like the future itself,
//!   and dropping it stops the future, as dropping the future would.
//! - [`lower_current_thread`] lowers the calling thread; on Linux the threads it creates
//!   afterwards inherit its priority.
//!
//! The index follower and tantivy's threads keep the normal priority, on purpose: lowered,
//! they fell behind whenever searches kept both cores busy, so a curated record took up to
//! two seconds to become searchable (the promise is one), and merges starved, leaving more
//! segments for every search to visit (measured with 300,000 records: search p50 after the
//! harvest 37 → 63 ms).
//!
//! Elsewhere than on Linux, nice is per process, not per thread: there, nothing is lowered.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use tokio::runtime::Runtime;
use tokio::task::{JoinError, JoinHandle};

/// How much background threads' nice value is raised over the process's (10: a weight of
/// 110 against 1,024 for a thread at the process's own priority).
pub const NICE: i32 = 10;

/// The runtime of background futures. It lives as long as the process: a harvest started
/// by one instance may outlive the task that awaits it, and a runtime that is never dropped
/// cannot be dropped inside another one.
static RUNTIME: LazyLock<Result<Runtime, String>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name("jincheng-background")
        .on_thread_start(lower_current_thread)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the background runtime: {e}"))
});

/// Runs `future` on the background runtime, at the lower priority.
pub fn spawn<F>(future: F) -> anyhow::Result<Task<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match &*RUNTIME {
        Ok(runtime) => Ok(Task(Some(runtime.spawn(future)))),
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

/// A future running on the background runtime: awaiting it gives the future's output (or
/// the panic it died of); dropping it aborts the future, unless it was [detached](Task::detach).
#[derive(Debug)]
pub struct Task<T>(Option<JoinHandle<T>>);

impl<T> Task<T> {
    /// Lets the future run to its end on its own.
    pub fn detach(mut self) {
        self.0 = None;
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            Some(handle) => Pin::new(handle).poll(cx),
            // Only `detach` empties a task, and it consumes it.
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if let Some(handle) = &self.0 {
            handle.abort();
        }
    }
}

/// Sets the calling thread's nice value to the process's (its main thread's) plus [`NICE`],
/// capped at 19, the lowest priority; a thread already that low is left alone (so a
/// background thread created by another one is not lowered twice). A failure is logged and
/// otherwise ignored: the work then runs at the normal priority.
pub fn lower_current_thread() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpid, getpriority_process, setpriority_process};
        let thread = Some(rustix::thread::gettid());
        let lowered = getpriority_process(Some(getpid())).and_then(|process| {
            let target = (process + NICE).min(19);
            match getpriority_process(thread)? < target {
                true => setpriority_process(thread, target),
                false => Ok(()),
            }
        });
        if let Err(e) = lowered {
            tracing::debug!("cannot lower the priority of a background thread: {e}");
        }
    }
}

/// The calling thread's nice value (Linux; 0 elsewhere).
pub fn current_thread_nice() -> i32 {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn background_futures_and_their_blocking_work_run_at_a_lower_priority() {
        let here = current_thread_nice();
        let process = std::thread::spawn(current_thread_nice).join().unwrap();
        let (worker, blocking) = spawn(async {
            let worker = current_thread_nice();
            let blocking = tokio::task::spawn_blocking(current_thread_nice).await.unwrap();
            (worker, blocking)
        })
        .unwrap()
        .await
        .unwrap();
        if cfg!(target_os = "linux") {
            let expected = (process + NICE).min(19);
            assert_eq!((worker, blocking), (expected, expected));
        }
        assert_eq!(current_thread_nice(), here, "the caller's thread is left alone");
    }

    #[tokio::test]
    async fn dropping_a_task_stops_its_future() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let task = spawn(async move {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            drop(tx);
        })
        .unwrap();
        drop(task);
        // The sender is dropped with the aborted future, long before the hour is up.
        let closed = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv()).await;
        assert_eq!(closed, Ok(None));
    }

    #[test]
    fn threads_created_by_a_lowered_thread_inherit_its_priority() {
        let (lowered, child) = std::thread::spawn(|| {
            lower_current_thread();
            let child = std::thread::spawn(current_thread_nice).join().unwrap();
            (current_thread_nice(), child)
        })
        .join()
        .unwrap();
        assert_eq!(child, lowered);
    }
}
