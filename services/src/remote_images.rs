//! The background fetcher of harvested records' image links.
//!
//! Harvests only *record* image links: storing a record queues its `http`/`https` links in
//! the store ([`store::remote_images`]) within the page's transaction. This fetcher —
//! one tokio task per [`crate::Instance`], woken after every harvested page and polling
//! every few seconds — takes the due links and fetches at most `concurrency` at a time
//! through `harvesters::fetch_bytes`, so every fetch has the harvest's size cap, timeout and
//! [`AddressPolicy`] (public addresses only, checked after DNS resolution and on every
//! redirect, unless `[curation.remote_images] allow_internal_addresses` says otherwise).
//! The bytes then go through exactly the checks of a curator's upload
//! ([`crate::curate::images::process_and_store`]: size, sniffed format, header dimensions, bounded
//! decode, re-encode without metadata) and are stored content-addressed as `thumb.jpg` and
//! `display.jpg`, served by `GET /images/{hash}/{file}`: as files, and on a store shared by
//! several nodes in the store too ([`ImageStorage`]), before the link is marked fetched, so
//! every node can serve the local copy as soon as any node points at it.
//!
//! Failures are data, never a failed harvest: a final one (404, too large, a decompression
//! bomb, not an image, a refused address) marks the link `failed` with a stable reason code
//! at once; a temporary one (timeout, 5xx, network, `disk_full`) is retried with doubling
//! backoff (from `[curation.remote_images] retry_after`) until
//! `max_attempts`. Nothing here blocks a harvest or a search, and the record keeps its
//! original link whatever happens.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use harvesters::{AddressPolicy, HttpLimits};
use tokio::sync::Notify;

use crate::config::RemoteImagesConfig;
use crate::curate::images::{self, ImageError, ImageLimits, ImageStorage, Variant};
use store::Store;
use store::remote_images::{DueImage, FetchFailure, FetchedImage};

/// How often the fetcher looks for due links without being woken.
const POLL: Duration = Duration::from_secs(5);
/// Links taken from the store per round.
const BATCH: usize = 32;
/// Time allowed for fetching one image.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// The local copy of an image link, as the API and the pages point at it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct LocalImage {
    /// The 240 px JPEG (`/images/{hash}/thumb.jpg`).
    pub thumb_url: String,
    /// The 1200 px JPEG (`/images/{hash}/display.jpg`).
    pub display_url: String,
}

impl LocalImage {
    /// The served URLs of the image with this hash.
    pub fn of_hash(hash: &str) -> LocalImage {
        LocalImage {
            thumb_url: images::url(hash, Variant::Thumb),
            display_url: images::url(hash, Variant::Display),
        }
    }

    /// The local copy behind a record's image link: a curated image's own `/images/…` URL,
    /// or a fetched remote link (`fetched` as from [`Store::fetched_remote_images`]).
    pub fn of_link(
        url: &str,
        fetched: &std::collections::HashMap<String, FetchedImage>,
    ) -> Option<LocalImage> {
        if let Some(hash) = images::hash_of_url(url) {
            return Some(LocalImage::of_hash(hash));
        }
        fetched.get(url).map(|image| LocalImage::of_hash(&image.hash))
    }
}

/// Handle to the fetcher task. Cloning is cheap; the task ends soon after the last handle is
/// dropped.
#[derive(Clone)]
pub struct RemoteImageFetcher {
    wake: Arc<Notify>,
}

/// What the fetcher needs.
struct Fetcher {
    store: Arc<Store>,
    storage: ImageStorage,
    limits: ImageLimits,
    http: HttpLimits,
    max_attempts: u32,
    retry_after: Duration,
}

impl RemoteImageFetcher {
    /// Starts fetching due links on the current tokio runtime. Without a runtime (a
    /// command-line tool outside `async`), or when `settings.enabled` is off, nothing runs
    /// and the links wait in the store for a server to fetch them.
    pub fn start(
        store: Arc<Store>,
        storage: ImageStorage,
        settings: &RemoteImagesConfig,
        limits: ImageLimits,
    ) -> RemoteImageFetcher {
        let wake = Arc::new(Notify::new());
        let handle = RemoteImageFetcher {
            wake: Arc::clone(&wake),
        };
        if !settings.enabled {
            return handle;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::debug!("no async runtime: image links are not fetched by this process");
            return handle;
        };
        let fetcher = Fetcher {
            store,
            storage,
            limits,
            http: http_limits(&limits, settings.address_policy()),
            max_attempts: settings.max_attempts,
            retry_after: settings.retry_after,
        };
        let concurrency = settings.concurrency.max(1);
        runtime.spawn(run(fetcher, concurrency, Arc::downgrade(&wake)));
        handle
    }

    /// Tells the fetcher that new links may be waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The HTTP limits of one image fetch: the image size cap as the body cap, and no retries
/// inside the request (retries are spread out by the store's `next_try` instead).
fn http_limits(limits: &ImageLimits, address_policy: AddressPolicy) -> HttpLimits {
    HttpLimits {
        max_response_bytes: limits.max_bytes as u64,
        request_timeout: REQUEST_TIMEOUT,
        max_retries: 0,
        address_policy,
        ..HttpLimits::default()
    }
}

async fn run(fetcher: Fetcher, concurrency: usize, wake: Weak<Notify>) {
    let fetcher = Arc::new(fetcher);
    loop {
        let store = Arc::clone(&fetcher.store);
        let due = tokio::task::spawn_blocking(move || store.due_remote_images(unix_now(), BATCH)).await;
        let due = match due {
            Ok(Ok(due)) => due,
            Ok(Err(err)) => {
                tracing::error!("reading due image links: {err}");
                Vec::new()
            }
            Err(err) => {
                tracing::error!("reading due image links: {err}");
                Vec::new()
            }
        };
        let idle = due.is_empty();
        futures_util::stream::iter(due)
            .for_each_concurrent(concurrency, |item| {
                let fetcher = Arc::clone(&fetcher);
                async move { fetcher.fetch(item).await }
            })
            .await;
        if !idle {
            continue;
        }
        // Hold the handle only while waiting, so dropping the instance ends the task.
        let Some(wake) = wake.upgrade() else {
            return;
        };
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
        if Arc::strong_count(&wake) == 1 {
            return;
        }
    }
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    /// Stable code, for the admin list.
    code: &'static str,
    message: String,
    /// Whether another attempt could succeed.
    temporary: bool,
}

impl Failure {
    fn last(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            temporary: false,
        }
    }

    fn temporary(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
            temporary: true,
        }
    }
}

impl Fetcher {
    async fn fetch(&self, item: DueImage) {
        let outcome = self.fetch_and_store(&item.url).await;
        let store = Arc::clone(&self.store);
        let attempts = item.attempts.saturating_add(1);
        let max_attempts = self.max_attempts;
        let retry_after = self.retry_after;
        let url = item.url;
        let written = tokio::task::spawn_blocking(move || match outcome {
            Ok(image) => {
                tracing::debug!(%url, hash = %image.hash, "image link fetched");
                store.remote_image_fetched(&url, &image)
            }
            Err(failure) => {
                let last = !failure.temporary || attempts >= max_attempts;
                tracing::info!(%url, attempts, last, "image link not fetched: {}", failure.message);
                store.remote_image_failed(
                    &url,
                    &FetchFailure {
                        code: failure.code,
                        message: &failure.message,
                        last,
                        next_try: unix_now().saturating_add(backoff(retry_after, attempts).as_secs() as i64),
                    },
                )
            }
        })
        .await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!("recording an image fetch: {err}"),
            Err(err) => tracing::error!("recording an image fetch: {err}"),
        }
    }

    async fn fetch_and_store(&self, link: &str) -> Result<FetchedImage, Failure> {
        let url =
            url::Url::parse(link).map_err(|err| Failure::last("invalid_url", format!("not a URL: {err}")))?;
        let bytes = harvesters::fetch_bytes(&url, self.http.clone())
            .await
            .map_err(fetch_failure)?;
        let processed = images::process_and_store(bytes, self.limits, self.storage.clone())
            .await
            .map_err(image_failure)?;
        Ok(FetchedImage {
            hash: processed.hash,
            width: processed.width,
            height: processed.height,
        })
    }
}

/// Sorts a fetch error into final and temporary failures.
fn fetch_failure(err: harvesters::Error) -> Failure {
    use harvesters::Error;
    let message = err.to_string();
    match err {
        Error::AddressRefused { .. } => Failure::last("address_refused", message),
        Error::TooLarge { .. } => Failure::last("too_large", message),
        Error::Status {
            status: 404 | 410, ..
        } => Failure::last("not_found", message),
        Error::Status { status: 408, .. } => Failure::temporary("http_status", message),
        Error::Status { .. } => Failure::last("http_status", message),
        Error::Unavailable { .. } => Failure::temporary("unavailable", message),
        Error::Timeout { .. } => Failure::temporary("timeout", message),
        Error::Connection { .. } => Failure::temporary("unreachable", message),
        _ => Failure::temporary("unreachable", message),
    }
}

/// Sorts an image check failure: only a failed write (`disk_full` when the disk is full) is
/// worth another attempt.
fn image_failure(err: ImageError) -> Failure {
    let message = err.to_string();
    match err {
        ImageError::TooLarge(_) => Failure::last("too_large", message),
        ImageError::Unsupported(_) => Failure::last("not_an_image", message),
        ImageError::Invalid(_) => Failure::last("corrupt", message),
        ref err @ (ImageError::Io(_) | ImageError::Store(_)) if err.is_disk_full() => {
            Failure::temporary("disk_full", message)
        }
        ImageError::Io(_) | ImageError::Store(_) => Failure::temporary("internal", message),
    }
}

/// The wait after `attempts` failed attempts, the first being `first`.
fn backoff(first: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
    first.saturating_mul(factor).min(MAX_BACKOFF)
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let waits: Vec<u64> = [1, 2, 3, 10, 40]
            .into_iter()
            .map(|a| backoff(Duration::from_secs(60), a).as_secs())
            .collect();
        assert_eq!(waits, [60, 120, 240, 6 * 3600, 6 * 3600]);
    }

    #[test]
    fn failures_are_sorted_into_final_and_temporary() {
        let status = |status| harvesters::Error::Status {
            url: "http://x/".into(),
            status,
        };
        assert_eq!(fetch_failure(status(404)).code, "not_found");
        assert!(!fetch_failure(status(404)).temporary);
        assert!(!fetch_failure(status(403)).temporary);
        let refused = harvesters::Error::AddressRefused {
            url: "http://127.0.0.1/".into(),
            reason: "loopback".into(),
        };
        assert_eq!(fetch_failure(refused).code, "address_refused");
        let busy = harvesters::Error::Unavailable {
            url: "http://x/".into(),
            status: 503,
            attempts: 1,
        };
        assert!(fetch_failure(busy).temporary);
        assert_eq!(
            image_failure(ImageError::Unsupported("x".into())).code,
            "not_an_image"
        );
        assert!(!image_failure(ImageError::TooLarge("x".into())).temporary);
    }

    #[test]
    fn local_images_come_from_curated_urls_or_fetched_links() {
        let hash = "cd".repeat(32);
        let curated = format!("/images/{hash}/display.jpg");
        let none = std::collections::HashMap::new();
        assert_eq!(
            LocalImage::of_link(&curated, &none),
            Some(LocalImage::of_hash(&hash))
        );
        assert_eq!(LocalImage::of_link("https://x.example/a.jpg", &none), None);
        let mut fetched = std::collections::HashMap::new();
        fetched.insert(
            "https://x.example/a.jpg".to_string(),
            FetchedImage {
                hash: hash.clone(),
                width: 1,
                height: 1,
            },
        );
        let local = LocalImage::of_link("https://x.example/a.jpg", &fetched).unwrap();
        assert_eq!(local.thumb_url, format!("/images/{hash}/thumb.jpg"));
    }
}
