//! The index follower: the one owner of the tantivy writer.
//!
//! It follows the store's change sequence. Whoever changes the store calls
//! [`IndexService::wake`]; the follower reads every change after the index's watermark,
//! applies it, and commits with the new watermark as the commit's payload. The index commit
//! and its watermark are therefore one atomic step: after a crash (even `kill -9` in the
//! middle of a batch) the follower restarts from the last committed watermark and re-applies
//! the rest, which is idempotent (upsert by id).
//!
//! It also polls the store every second, so changes written by another process (the
//! `jincheng harvest` command next to a running server) are picked up too.
//!
//! When a round fails (the index commit fails on a full disk, the store cannot be read),
//! nothing is lost: the watermark stays at the last commit, searches go on answering from
//! it, and the follower tries again from there after a pause that doubles with each failure
//! in a row (from [`RETRY_FIRST`] up to [`RETRY_MAX`]), so a full disk is not hammered by
//! every write. [`IndexService::failure`] says why while it keeps failing.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use indexer::{Index, RecordWriter};
use schemas::{Branch, Institution};
use tokio::sync::watch;

use store::Store;

/// How many changes one commit covers at most. Large enough for bulk speed, small enough that
/// a catch-up after a crash makes steady, visible progress.
const BATCH: usize = 20_000;
/// How many changes are read from the store (and held, decoded) at a time within a batch:
/// a batch of 20,000 decoded records held at once was a quarter of a bulk load's peak memory.
const READ: usize = 2_000;
/// How often the follower looks at the store without being woken.
const POLL: Duration = Duration::from_secs(1);
/// How often it looks when the store is shared with other nodes, whose writes wake nobody
/// here: a write on another node is then searchable here within this and one commit.
const SHARED_POLL: Duration = Duration::from_millis(100);
/// The pause after a first failed round.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest pause between failed rounds.
pub const RETRY_MAX: Duration = Duration::from_secs(30);

enum Command {
    Wake,
    Shutdown,
}

/// Handle to the follower thread. Cloning is cheap; the thread stops when the last handle is
/// dropped or [`IndexService::shutdown`] is called.
#[derive(Clone)]
pub struct IndexService {
    index: Index,
    commands: mpsc::Sender<Command>,
    watermark: watch::Receiver<u64>,
    failure: Arc<Mutex<Option<String>>>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl IndexService {
    /// Takes the index's writer and starts following `store`; holdings at `branches` are
    /// indexed under the branch's district.
    pub fn start(store: Arc<Store>, index: Index, branches: &[Branch]) -> anyhow::Result<IndexService> {
        let mut writer = index.writer().context(
            "cannot take the index writer: is another jincheng process using this data directory?",
        )?;
        writer.set_branches(branches);
        let start = index.watermark()?;
        let (commands, inbox) = mpsc::channel();
        let (publish, watermark) = watch::channel(start);
        let failure = Arc::new(Mutex::new(None));
        let follower = Follower {
            store,
            writer,
            inbox,
            publish,
            failure: Arc::clone(&failure),
        };
        let thread = std::thread::Builder::new()
            .name("index-follower".into())
            .spawn(move || follower.follow(start))?;
        Ok(IndexService {
            index,
            commands,
            watermark,
            failure,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The index, for searching.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// Tells the follower that the store has changed.
    pub fn wake(&self) {
        let _ = self.commands.send(Command::Wake);
    }

    /// The highest store sequence number the index has committed.
    pub fn watermark(&self) -> u64 {
        *self.watermark.borrow()
    }

    /// Why indexing is failing (the last failed round's error), while it fails; `None` once a
    /// round succeeds again.
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the index has committed `seq` (or `timeout` passes); true if it has.
    pub async fn wait_for(&self, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.watermark.clone();
        self.wake();
        matches!(
            tokio::time::timeout(timeout, rx.wait_for(|w| *w >= seq)).await,
            Ok(Ok(_))
        )
    }

    /// Stops the follower after its current batch and waits until it has released the
    /// index writer (so another instance may open the same data directory).
    pub fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// The follower thread's side.
struct Follower {
    store: Arc<Store>,
    writer: RecordWriter,
    inbox: mpsc::Receiver<Command>,
    publish: watch::Sender<u64>,
    failure: Arc<Mutex<Option<String>>>,
}

impl Follower {
    fn follow(mut self, mut watermark: u64) {
        let mut poisoned = HashSet::new();
        let mut retry = RETRY_FIRST;
        loop {
            let poisoned_before = poisoned.len();
            let publish = &self.publish;
            match catch_up(&self.store, &mut self.writer, watermark, &mut poisoned, |w| {
                publish.send_replace(w);
            }) {
                Ok(w) => {
                    watermark = w;
                    retry = RETRY_FIRST;
                    self.set_failure(None);
                }
                Err(err) if poisoned.len() > poisoned_before => {
                    // A record stopped the writer and is quarantined now: that is progress,
                    // so the batch is redone from the last committed watermark at once.
                    watermark = *self.publish.borrow();
                    tracing::warn!("{err:#}");
                    continue;
                }
                Err(err) => {
                    // Nothing is lost: the store still has every change after the last
                    // committed watermark, and the index still answers from that commit.
                    watermark = *self.publish.borrow();
                    let reason = format!("{err:#}");
                    tracing::error!("indexing failed at change {watermark}; retrying in {retry:?}: {reason}");
                    self.set_failure(Some(reason));
                    if !self.pause(retry) {
                        return;
                    }
                    retry = (retry * 2).min(RETRY_MAX);
                    continue;
                }
            }
            let poll = if self.store.is_shared() { SHARED_POLL } else { POLL };
            match self.inbox.recv_timeout(poll) {
                Ok(Command::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
            }
            // Coalesce a burst of wake-ups into one round.
            while let Ok(command) = self.inbox.try_recv() {
                if matches!(command, Command::Shutdown) {
                    return;
                }
            }
        }
    }

    /// Waits `pause` after a failure; wake-ups do not cut it short (every write wakes the
    /// follower, and a failing disk should not be retried at that rate), a shutdown does.
    /// False if the follower is to stop.
    fn pause(&self, pause: Duration) -> bool {
        let until = Instant::now() + pause;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            match self.inbox.recv_timeout(left) {
                Ok(Command::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    fn set_failure(&self, failure: Option<String>) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = failure;
    }
}

/// Applies every change after `watermark`, committing each batch and reporting each new
/// watermark to `committed`; returns the final watermark.
///
/// A record that cannot be indexed (an error, or a panic in the analysis) is quarantined
/// with its reason (source `index` in the store's quarantine) and left out of the index; the
/// rest of the batch goes on. A record that stops the tantivy writer itself takes the batch's
/// uncommitted work with it: it is quarantined, and this returns an error so that the caller
/// resumes from the last committed watermark without it. Quarantined records are noted in
/// `poisoned` (by id and change), so a batch done again neither retries nor re-reports them.
/// The record stays in the store; a later change to it is tried again.
pub fn catch_up(
    store: &Store,
    writer: &mut RecordWriter,
    mut watermark: u64,
    poisoned: &mut HashSet<(String, u64)>,
    mut committed: impl FnMut(u64),
) -> anyhow::Result<u64> {
    loop {
        let mut applied = 0;
        let mut read_to = watermark;
        while applied < BATCH {
            let changes = store.changes_since(read_to, READ)?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                break;
            };
            apply_changes(store, writer, &changes, watermark, poisoned)?;
            applied += changes.len();
            read_to = last;
            if changes.len() < READ {
                break;
            }
        }
        if read_to == watermark {
            return Ok(watermark);
        }
        writer.commit(read_to)?;
        watermark = read_to;
        committed(watermark);
        tracing::debug!("indexed up to change {watermark}");
    }
}

/// Applies `changes` (read after the committed `watermark`) to the writer; see [`catch_up`].
fn apply_changes(
    store: &Store,
    writer: &mut RecordWriter,
    changes: &[store::Change],
    watermark: u64,
    poisoned: &mut HashSet<(String, u64)>,
) -> anyhow::Result<()> {
    {
        // Read after the changes: an institution's change re-enters its records into the
        // change log in the same transaction, so these changes never predate the
        // institutions they are indexed with.
        let institutions: HashMap<String, Institution> = store
            .institutions()?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        for change in changes {
            let institution = change
                .record
                .as_ref()
                .and_then(|r| institutions.get(&r.institution));
            if poisoned.contains(&(change.id.clone(), change.seq)) {
                // Quarantined already (a batch redone after a writer stopped): left out until
                // it changes again.
                writer.delete(&change.id)?;
                continue;
            }
            match (&change.record, institution) {
                (Some(record), Some(institution)) => {
                    let upserted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        writer.upsert(record, institution)
                    }));
                    match upserted {
                        Ok(Ok(())) => {}
                        Ok(Err(indexer::Error::WriterRestarted(reason))) => {
                            // Everything since the last commit went with the old writer: this
                            // record is set aside, and the batch is redone from the watermark.
                            store.quarantine_unindexable(
                                &change.id,
                                change.seq,
                                &format!("it stopped the index writer: {reason}"),
                            )?;
                            poisoned.insert((change.id.clone(), change.seq));
                            anyhow::bail!(
                                "record {} stopped the index writer ({reason}); it is quarantined and indexing resumes from change {watermark}",
                                change.id
                            );
                        }
                        Ok(Err(err)) => {
                            // The record stays in the store; only this one is missing from
                            // search, with its reason in the quarantine.
                            tracing::error!("record {} cannot be indexed: {err}", change.id);
                            store.quarantine_unindexable(&change.id, change.seq, &err.to_string())?;
                            poisoned.insert((change.id.clone(), change.seq));
                            writer.delete(&change.id)?;
                        }
                        Err(panic) => {
                            let reason = panic
                                .downcast_ref::<&str>()
                                .map(|s| (*s).to_string())
                                .or_else(|| panic.downcast_ref::<String>().cloned())
                                .unwrap_or_else(|| "a panic".into());
                            tracing::error!("record {} made the indexer panic: {reason}", change.id);
                            store.quarantine_unindexable(
                                &change.id,
                                change.seq,
                                &format!("the indexer panicked: {reason}"),
                            )?;
                            poisoned.insert((change.id.clone(), change.seq));
                            writer.delete(&change.id)?;
                        }
                    }
                }
                (Some(record), None) => {
                    tracing::error!(
                        "record {} names unknown institution {:?}",
                        change.id,
                        record.institution
                    );
                    writer.delete(&change.id)?;
                }
                (None, _) => writer.delete(&change.id)?,
            }
        }
    }
    Ok(())
}

/// Rebuilds the index from the store, from scratch (`jincheng reindex`).
pub fn rebuild(store: &Store, index: &Index, branches: &[Branch]) -> anyhow::Result<u64> {
    let mut writer = index
        .writer()
        .context("cannot take the index writer: stop the server using this data directory first")?;
    rebuild_with(store, &mut writer, branches)
}

/// [`rebuild`] with a writer the caller already holds (`jincheng restore` takes it first, to
/// be sure no server uses the data directory while the store is replaced).
pub fn rebuild_with(store: &Store, writer: &mut RecordWriter, branches: &[Branch]) -> anyhow::Result<u64> {
    writer.set_branches(branches);
    writer.delete_all()?;
    writer.commit(0)?;
    let mut poisoned = HashSet::new();
    loop {
        match catch_up(store, writer, 0, &mut poisoned, |_| {}) {
            Ok(watermark) => return Ok(watermark),
            // A record stopped the writer: it is in `poisoned` now; start again.
            Err(err) if !poisoned.is_empty() && poisoned.len() <= MAX_POISONED => {
                tracing::warn!("{err:#}");
                writer.delete_all()?;
                writer.commit(0)?;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Most records set aside for stopping the writer in one rebuild before it gives up (each
/// one costs a restart of the rebuild).
const MAX_POISONED: usize = 100;
