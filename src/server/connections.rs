//! The accept loop and what it guards against: connections that never send a request,
//! connections that stay open doing nothing, and more connections than file descriptors.
//!
//! - **A cap on connections** ([`ConnectionLimits::max_connections`]): a permit of a
//!   semaphore is taken at accept and held by the connection's task. Past the cap, the new
//!   connection is answered a minimal `HTTP/1.1 503` with the API's JSON error
//!   (`too_many_connections`) and `Connection: close`, written straight to the socket, and
//!   closed: a client learns why instead of waiting for a timeout.
//! - **A deadline for the first request** ([`ConnectionLimits::header_read_timeout`]):
//!   hyper-util's `auto::Builder` sniffs HTTP/1 against HTTP/2 before hyper's own header
//!   timeout starts, and the sniffing has no timeout: a socket that sends nothing, or half of
//!   the HTTP/2 preface, would be held forever. Each connection's task therefore drops the
//!   connection unless its first request has reached the service within the timeout.
//!   Between requests, hyper's HTTP/1 header timeout (the same value) closes idle
//!   keep-alive connections.
//! - **An idle limit** ([`ConnectionLimits::idle_timeout`]): a connection with no request in
//!   flight (a response counts until its body is sent) for that long is shut down
//!   gracefully; for HTTP/2 that is a `GOAWAY`. If it is still open a header timeout later
//!   with nothing in flight, it is dropped. HTTP/2 connections are also pinged
//!   ([`H2_KEEP_ALIVE_INTERVAL`]) and closed when the peer stops answering.
//!
//! The loop also counts its connections ([`ConnectionCounts`]: open now, accepted, refused)
//! and hands each request the counts of the server it came through, beside its peer
//! address, for `/metrics`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::response::IntoResponse;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::metrics::{ConnectionCounts, OpenConnection};
use services::config::ServerConfig;

/// How often an HTTP/2 connection is pinged.
pub const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// How long an HTTP/2 peer has to answer a ping before the connection is closed.
pub const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest request head (request line and headers) read, in bytes. Below 64 KiB, so hyper's
/// own bodyless `414` (for URIs over 65,534 bytes) cannot happen: a longer head is refused
/// with `431`, and URIs over the API's limit get its JSON `414`.
///
/// hyper answers a head over this size (or over [`MAX_REQUEST_HEAD_FIELDS`]) itself, while
/// parsing and before any service runs, with a bare `431` that has no body: its
/// `Conn::on_parse_error` writes only a status line. So this is set well above what the
/// response policy allows (`MAX_URI_BYTES` for the URL, `MAX_HEADER_BYTES` and
/// `MAX_HEADER_FIELDS` for the fields): every request between those limits and this one is
/// refused by our own check, with the JSON `431 headers_too_large` (or `414`).
pub const MAX_REQUEST_HEAD_BYTES: usize = 60 * 1024;
/// Most header fields hyper parses (HTTP/1); past the response policy's
/// `MAX_HEADER_FIELDS`, so the JSON `431` answers first.
pub const MAX_REQUEST_HEAD_FIELDS: usize = 256;
/// Refusals being written at once; past this, a connection over the cap is just closed.
const MAX_PENDING_REFUSALS: usize = 64;
/// Time a refusal may take to write and to see the client close.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(2);
/// Time open connections get to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The accept loop's limits: the `[server]` settings `max_connections`,
/// `header_read_timeout` and `idle_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Most connections open at once; more are refused with a `503`.
    pub max_connections: usize,
    /// Time from accept to the first request's headers, and between requests on an HTTP/1
    /// keep-alive connection.
    pub header_read_timeout: Duration,
    /// Time a connection may have no request in flight before it is shut down.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits::from(&ServerConfig::default())
    }
}

impl From<&ServerConfig> for ConnectionLimits {
    fn from(config: &ServerConfig) -> Self {
        ConnectionLimits {
            max_connections: config.max_connections.max(1),
            header_read_timeout: config.header_read_timeout,
            idle_timeout: config.idle_timeout,
        }
    }
}

/// What a connection's task knows of its requests: how many have begun, how many are in
/// flight, and when the last one began or ended.
struct Activity {
    opened: Instant,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` of the last change.
    last_change_ms: AtomicU64,
    /// Woken when the first request begins and when the last one in flight ends, so the
    /// connection's task recomputes its deadline.
    changed: Notify,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            last_change_ms: AtomicU64::new(0),
            changed: Notify::new(),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_change_ms.store(ms, Ordering::Relaxed);
    }

    /// Marks a request as begun; it stays in flight until the guard is dropped.
    fn begin(self: &Arc<Self>) -> InFlight {
        let earlier = self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.touch();
        if earlier == 0 {
            self.changed.notify_one();
        }
        InFlight(Arc::clone(self))
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    fn has_begun(&self) -> bool {
        self.requests.load(Ordering::Relaxed) > 0
    }

    /// When the connection becomes idle for `idle_timeout` if nothing happens meanwhile.
    fn idle_deadline(&self, idle_timeout: Duration) -> Instant {
        if !self.is_idle() {
            return Instant::now() + idle_timeout;
        }
        let last = Duration::from_millis(self.last_change_ms.load(Ordering::Relaxed));
        self.opened + last + idle_timeout
    }
}

/// A request in flight (until its response body has been sent or dropped).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let before = self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.0.touch();
        if before == 1 {
            self.0.changed.notify_one();
        }
    }
}

/// A response body that keeps its request counted as in flight until it is finished.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` resolves; connections
/// that are open then are finished gracefully (for at most 10 seconds).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_REQUEST_HEAD_BYTES)
        .max_headers(MAX_REQUEST_HEAD_FIELDS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_REQUEST_HEAD_BYTES).unwrap_or(u32::MAX))
        .keep_alive_interval(H2_KEEP_ALIVE_INTERVAL)
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_PENDING_REFUSALS));
    let refusal = Bytes::from(refusal().await);
    let (stop, stopping) = watch::channel(false);
    let counts = Arc::new(ConnectionCounts::default());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(err) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!("accept failed: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
            counts.refuse();
            refuse(stream, &refusals, refusal.clone());
            continue;
        };
        let open = counts.accept();
        let activity = Activity::new();
        let requests = Arc::clone(&activity);
        let server_counts = Arc::clone(&counts);
        // Each request carries the peer address and the server's connection counts, and
        // counts as in flight until its response body is done.
        let service = router
            .clone()
            .map_request(move |req: Request<hyper::body::Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut().insert(Arc::clone(&server_counts));
                req
            })
            .map_future(move |response| {
                let in_flight = requests.begin();
                async move {
                    let response: Response = response.await?;
                    Ok::<_, std::convert::Infallible>(response.map(|inner| {
                        Body::new(TrackedBody {
                            inner,
                            _in_flight: in_flight,
                        })
                    }))
                }
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        tokio::spawn(drive(
            connection,
            |connection| connection.graceful_shutdown(),
            activity,
            limits,
            stopping.clone(),
            (permit, open),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection's task holds a permit until it ends.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, permits.acquire_many(all)).await;
    Ok(())
}

/// Where a connection is in its life, for [`drive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Serving requests (or waiting for the first one).
    Serving,
    /// Idle for too long: asked to shut down gracefully, and dropped at `by` unless a
    /// request is still in flight then (a peer that never acknowledges an HTTP/2 shutdown).
    Closing { by: Instant },
    /// The server is stopping: the connection finishes under the server's own grace period.
    Stopping,
}

/// Runs one connection: drops it if no request arrives within the header timeout, shuts it
/// down when idle or when the server stops, and gives its permit back (and stops counting
/// as open) at the end.
async fn drive<C: Future>(
    connection: C,
    shut_down: impl Fn(Pin<&mut C>),
    activity: Arc<Activity>,
    limits: ConnectionLimits,
    mut stopping: watch::Receiver<bool>,
    _held: (OwnedSemaphorePermit, OpenConnection),
) {
    let mut connection = std::pin::pin!(connection);
    let first_request_by = activity.opened + limits.header_read_timeout;
    let mut phase = Phase::Serving;
    if *stopping.borrow() {
        phase = Phase::Stopping;
        shut_down(connection.as_mut());
    }
    loop {
        let deadline = match phase {
            Phase::Serving if activity.has_begun() => activity.idle_deadline(limits.idle_timeout),
            Phase::Serving => first_request_by,
            Phase::Closing { by } => by,
            // Not used: the timer is off while stopping.
            Phase::Stopping => Instant::now() + limits.idle_timeout,
        };
        tokio::select! {
            _ = connection.as_mut() => return,
            // A request began or ended: compute the deadline again.
            () = activity.changed.notified(), if phase == Phase::Serving => {}
            _ = stopping.changed(), if phase != Phase::Stopping => {
                if phase == Phase::Serving {
                    shut_down(connection.as_mut());
                }
                phase = Phase::Stopping;
            }
            () = tokio::time::sleep_until(deadline), if phase != Phase::Stopping => match phase {
                // No request within the header timeout: drop it, closing the socket.
                Phase::Serving if !activity.has_begun() => return,
                Phase::Serving => {
                    if activity.idle_deadline(limits.idle_timeout) <= Instant::now() {
                        shut_down(connection.as_mut());
                        phase = Phase::Closing {
                            by: Instant::now() + limits.header_read_timeout,
                        };
                    }
                }
                Phase::Closing { .. } if activity.is_idle() => return,
                Phase::Closing { .. } => {
                    phase = Phase::Closing {
                        by: Instant::now() + limits.header_read_timeout,
                    };
                }
                Phase::Stopping => {}
            }
        }
    }
}

/// The answer to a connection over the cap: a complete HTTP/1.1 `503` with the API's JSON
/// error, `Connection: close`.
async fn refusal() -> Vec<u8> {
    let response = ApiError::too_many_connections().into_response();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Answers `refusal` on `stream` and closes it, in a task of its own (at most
/// [`MAX_PENDING_REFUSALS`] at once; past that the stream is just closed).
fn refuse(stream: TcpStream, pending: &Arc<Semaphore>, refusal: Bytes) {
    let Ok(permit) = Arc::clone(pending).try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _permit = permit;
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
            stream.write_all(&refusal).await?;
            stream.shutdown().await?;
            // Read what the client sent until it closes: closing a socket with unread
            // input resets it, and the client could lose the answer.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
    });
}
