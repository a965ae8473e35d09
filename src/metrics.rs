//! The Prometheus metrics that `GET /metrics` serves (the route and who may read it are in
//! `api/metrics.rs`), made with the `prometheus-client` crate.
//!
//! Two kinds:
//! - **counted as requests are answered**: [`Metrics`] holds `http_requests_total` and the
//!   `http_request_duration_seconds` histogram, fed by the [`track`] middleware, which the
//!   server puts on every route;
//! - **read at scrape time** ([`Snapshot`]): harvest runs and items per source, summed from
//!   the store's runs table (so every node reports the same totals, whichever ran the
//!   harvest), the index's lag behind the store's change log and its documents, the store's
//!   and the index's size on disk, and the [`ConnectionCounts`] that the accept loop
//!   (`server::serve_with`) keeps and hands to each request.
//!
//! Each scrape encodes a registry made for it ([`Metrics::encode`]), so a value read at
//! scrape time is never stale and nothing is registered process-wide.
//!
//! Labels take few values: `route` is axum's route template (`/api/v1/records/{id}`, never
//! the raw path; `unmatched` when no route matched), `method` a standard method or `other`,
//! `source` a source id of the configuration, `status` a status code or a run status,
//! `outcome` one of five words.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

use crate::state::AppState;

/// The labels of `http_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

/// The labels of `http_request_duration_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

/// The labels of `jincheng_harvest_runs_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RunLabels {
    source: String,
    status: &'static str,
}

/// The labels of `jincheng_harvest_items_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ItemLabels {
    source: String,
    outcome: &'static str,
}

type Durations = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The request metrics, shared by every router of one [`crate::Instance`].
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: Durations,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(durations),
        }
    }
}

/// A latency histogram: 1 ms to 16 s, doubling (the default request timeout is 10 s).
fn durations() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// The middleware that counts every request and times it until its response head.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    metrics
        .durations
        .get_or_create(&RouteLabels {
            route: route.clone(),
            method,
        })
        .observe(seconds);
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// A method as a label: the standard ones by name, any other as `other` (methods are
/// arbitrary tokens, and a label must not take whatever a client sends).
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

/// The connections of one accept loop (`server::serve_with`), counted as they come and go.
/// Each request carries them in its extensions (an `Arc<ConnectionCounts>`), so `/metrics`
/// reports the server that answers it; a router driven without a socket (the tests'
/// `oneshot`) has none, and its scrape leaves the connection metrics out.
#[derive(Debug, Default)]
pub struct ConnectionCounts {
    open: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
}

impl ConnectionCounts {
    /// Connections open now (their task is running).
    pub fn open(&self) -> u64 {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections accepted and served since the server started.
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Connections refused since the server started, because `max_connections` were open.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Counts a connection as accepted and open until the guard is dropped.
    pub(crate) fn accept(self: &Arc<Self>) -> OpenConnection {
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(Arc::clone(self))
    }

    /// Counts a connection refused.
    pub(crate) fn refuse(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// A connection counted as open, until its task ends.
pub(crate) struct OpenConnection(Arc<ConnectionCounts>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What is read from the store, the index and the disk at each scrape.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Harvest runs added up per source and status.
    pub runs: Vec<store::RunTotals>,
    /// Highest change number in the store.
    pub store_seq: u64,
    /// Highest change number committed to the index.
    pub indexed_seq: u64,
    /// Documents in the index.
    pub index_documents: u64,
    /// Bytes of the store: SQLite's database with its write-ahead log and shared memory, or
    /// the PostgreSQL database's size.
    pub store_bytes: u64,
    /// Bytes of the index's files.
    pub index_bytes: u64,
}

impl Snapshot {
    /// Reads it. This blocks (the store and the file system): call it off the async workers.
    pub fn read(state: &AppState) -> store::Result<Snapshot> {
        let store_file = crate::store_path(&state.data_dir);
        let sqlite_logs: u64 = ["-wal", "-shm"]
            .iter()
            .map(|suffix| {
                let mut name = store_file.clone().into_os_string();
                name.push(suffix);
                std::fs::metadata(name).map_or(0, |m| m.len())
            })
            .sum();
        let store_bytes = state.store.disk_bytes()? + sqlite_logs;
        Ok(Snapshot {
            runs: state.store.run_totals()?,
            store_seq: state.store.max_seq()?,
            indexed_seq: state.indexing.watermark(),
            index_documents: state.indexing.index().num_docs(),
            store_bytes,
            index_bytes: dir_bytes(&crate::index_path(&state.data_dir)),
        })
    }

    /// Changes in the store that the index does not have yet.
    pub fn index_lag(&self) -> u64 {
        self.store_seq.saturating_sub(self.indexed_seq)
    }
}

/// Bytes of the files in `dir` (not of its subfolders: the index keeps none).
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

impl Metrics {
    /// Every metric in the Prometheus text format (version 0.0.4): the request metrics, what
    /// `snapshot` read, and the accept loop's `connections` when the scrape came through
    /// one.
    pub fn encode(&self, snapshot: &Snapshot, connections: Option<&ConnectionCounts>) -> String {
        let mut registry = Registry::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            self.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (until the response head), by route template and method",
            self.durations.clone(),
        );
        let jincheng = registry.sub_registry_with_prefix("jincheng");

        let runs = Family::<RunLabels, Counter>::default();
        let items = Family::<ItemLabels, Counter>::default();
        for totals in &snapshot.runs {
            runs.get_or_create(&RunLabels {
                source: totals.source.clone(),
                status: totals.status.as_str(),
            })
            .inc_by(totals.runs);
            let c = &totals.counts;
            for (outcome, n) in [
                ("added", c.added),
                ("updated", c.updated),
                ("deleted", c.deleted),
                ("unchanged", c.unchanged),
                ("quarantined", c.quarantined),
            ] {
                items
                    .get_or_create(&ItemLabels {
                        source: totals.source.clone(),
                        outcome,
                    })
                    .inc_by(n);
            }
        }
        jincheng.register(
            "harvest_runs",
            "Harvest runs stored, by source and status (running, complete, failed, interrupted)",
            runs,
        );
        jincheng.register(
            "harvest_items",
            "Items harvested, by source and outcome (added, updated, deleted, unchanged, quarantined)",
            items,
        );
        jincheng.register(
            "index_lag_changes",
            "Changes in the store's change log not yet committed to this node's index",
            ConstGauge::new(snapshot.index_lag()),
        );
        jincheng.register(
            "index_documents",
            "Documents in the index",
            ConstGauge::new(snapshot.index_documents),
        );
        jincheng.register(
            "store_size_bytes",
            "Size of the store on disk (database, write-ahead log, shared memory)",
            ConstGauge::new(snapshot.store_bytes),
        );
        jincheng.register(
            "index_size_bytes",
            "Size of the index on disk",
            ConstGauge::new(snapshot.index_bytes),
        );
        if let Some(connections) = connections {
            jincheng.register(
                "connections_open",
                "Connections open now",
                ConstGauge::new(connections.open()),
            );
            jincheng.register(
                "connections_accepted",
                "Connections accepted since the server started",
                ConstCounter::new(connections.accepted()),
            );
            jincheng.register(
                "connections_refused",
                "Connections refused since the server started (max_connections were open)",
                ConstCounter::new(connections.refused()),
            );
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
