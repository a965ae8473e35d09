//! Polite, bounded HTTP GETs: retries with backoff, `Retry-After`, a per-request timeout, a
//! cap on the decompressed body, and the [`AddressPolicy`] enforced on every hop.

use std::time::Duration;

use reqwest::{StatusCode, header::HeaderMap, redirect};
use time::{OffsetDateTime, format_description::well_known::Rfc2822};
use url::Url;

use crate::{AddressPolicy, Error, Result, address_policy::PublicOnlyResolver};

/// Limits and manners for every HTTP request a harvester makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest response body accepted, counted *after* decompression while streaming, so a
    /// small gzip bomb cannot fill memory. Default 64 MiB.
    pub max_response_bytes: u64,
    /// Time allowed for one request, from connecting to the last body byte. Default 60 s.
    pub request_timeout: Duration,
    /// Retries after the first attempt for 503/429/5xx, timeouts and network errors.
    /// Default 5.
    pub max_retries: u32,
    /// Longest `Retry-After` honoured; longer requests are shortened to this. Default 120 s.
    pub max_retry_after: Duration,
    /// First backoff delay when the server gives no `Retry-After`; it doubles on each retry,
    /// up to `max_retry_after`. Deterministic (no jitter): harvests are sequential per source,
    /// so there is no herd to spread. Default 1 s.
    pub backoff_base: Duration,
    /// The `User-Agent` header, naming the harvester so repositories can reach us.
    pub user_agent: String,
    /// Which addresses may be contacted.
    pub address_policy: AddressPolicy,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_response_bytes: 64 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            max_retries: 5,
            max_retry_after: Duration::from_secs(120),
            backoff_base: Duration::from_secs(1),
            user_agent: concat!(
                "Jincheng-harvester/",
                env!("CARGO_PKG_VERSION"),
                " (OAI-PMH; Lanzhou public culture catalogue)"
            )
            .into(),
            address_policy: AddressPolicy::AllowAll,
        }
    }
}

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Fetches one whole document (a MARC file, a CSV export, a feed) under `limits`: the same
/// size cap, retries, `Retry-After` handling and address policy as every harvest request.
pub async fn fetch_bytes(url: &Url, limits: HttpLimits) -> Result<Vec<u8>> {
    HttpFetcher::new(limits)?.get(url).await
}

/// Downloads a dump of any size into `file` (from its start; a retry starts it again) under
/// `limits`, and returns its length. Unlike [`fetch_bytes`], `request_timeout` bounds each
/// read rather than the whole transfer (a dump of gigabytes takes minutes), and the body is
/// never in memory: `max_response_bytes` caps what is written, decompressed.
///
/// The writes are plain blocking writes of a few kilobytes each into the page cache; call
/// this from a task that may block that briefly.
pub async fn download(url: &Url, limits: HttpLimits, file: &mut std::fs::File) -> Result<u64> {
    use std::io::{Seek, Write};
    let fetcher = HttpFetcher::build(limits, false)?;
    let mut sink = |chunk: Option<&[u8]>| -> std::io::Result<()> {
        match chunk {
            None => {
                file.set_len(0)?;
                file.rewind()
            }
            Some(bytes) => file.write_all(bytes),
        }
    };
    fetcher.get_into(url, &mut sink).await?;
    file.flush()
        .and_then(|()| file.metadata())
        .map(|metadata| metadata.len())
        .map_err(|e| Error::Dump {
            what: "downloaded".into(),
            message: format!("writing {url} to disk: {e}"),
        })
}

/// An HTTP client bound to one set of [`HttpLimits`].
#[derive(Debug, Clone)]
pub(crate) struct HttpFetcher {
    client: reqwest::Client,
    limits: HttpLimits,
}

/// What one attempt produced, when it is worth trying again.
enum Retryable {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Timeout,
    Network(reqwest::Error),
}

impl HttpFetcher {
    pub(crate) fn new(limits: HttpLimits) -> Result<Self> {
        Self::build(limits, true)
    }

    /// With `whole`, `request_timeout` bounds each request from connecting to the last body
    /// byte; without, each read (for downloads of any length).
    fn build(limits: HttpLimits, whole: bool) -> Result<Self> {
        // reqwest is built without a bundled crypto provider; installing ring is idempotent
        // and harmless when someone else already installed one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = limits.address_policy;
        let mut builder = reqwest::Client::builder()
            .user_agent(limits.user_agent.clone())
            .connect_timeout(limits.request_timeout)
            .redirect(redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                }
                match policy.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(reason) => {
                        let reason = format!("redirect to {}: {reason}", attempt.url());
                        attempt.error(RedirectRefused(reason))
                    }
                }
            }));
        builder = if whole {
            builder.timeout(limits.request_timeout)
        } else {
            builder.read_timeout(limits.request_timeout)
        };
        if policy == AddressPolicy::PublicOnly {
            // A proxy would resolve names itself, out of the resolver's sight.
            builder = builder.no_proxy().dns_resolver(PublicOnlyResolver);
        }
        let client = builder.build().map_err(Error::Client)?;
        Ok(HttpFetcher { client, limits })
    }

    /// GETs `url` and returns its (decompressed) body, retrying what retrying can fix.
    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        let mut sink = |chunk: Option<&[u8]>| -> std::io::Result<()> {
            match chunk {
                None => body.clear(),
                Some(bytes) => body.extend_from_slice(bytes),
            }
            Ok(())
        };
        self.get_into(url, &mut sink).await?;
        Ok(body)
    }

    /// GETs `url` into `sink` (called with `None` before each attempt's body, to start
    /// again), retrying what retrying can fix.
    async fn get_into(
        &self,
        url: &Url,
        sink: &mut (dyn FnMut(Option<&[u8]>) -> std::io::Result<()> + Send),
    ) -> Result<()> {
        let refused = |reason: String| Error::AddressRefused {
            url: url.to_string(),
            reason,
        };
        self.limits.address_policy.check_url(url).map_err(refused)?;
        let attempts_allowed = self.limits.max_retries.saturating_add(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self.attempt(url, sink).await? {
                Ok(()) => return Ok(()),
                Err(failure) => failure,
            };
            if attempt >= attempts_allowed {
                return Err(match failure {
                    Retryable::Status { status, .. } => Error::Unavailable {
                        url: url.to_string(),
                        status,
                        attempts: attempt,
                    },
                    Retryable::Timeout => Error::Timeout {
                        url: url.to_string(),
                        timeout: self.limits.request_timeout,
                        attempts: attempt,
                    },
                    Retryable::Network(source) => Error::Connection {
                        url: url.to_string(),
                        attempts: attempt,
                        source,
                    },
                });
            }
            let backoff = self.backoff(attempt);
            let delay = match &failure {
                Retryable::Status {
                    retry_after: Some(wait),
                    ..
                } => (*wait).min(self.limits.max_retry_after),
                _ => backoff,
            };
            let what = match &failure {
                Retryable::Status { status, .. } => format!("HTTP {status}"),
                Retryable::Timeout => "timeout".into(),
                Retryable::Network(e) => e.to_string(),
            };
            tracing::warn!(%url, attempt, ?delay, "{what}; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// The deterministic backoff before retry number `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.limits
            .backoff_base
            .saturating_mul(factor)
            .min(self.limits.max_retry_after)
    }

    /// One request. The outer `Result` is final (stop now); the inner one says whether the
    /// attempt succeeded or may be retried.
    async fn attempt(
        &self,
        url: &Url,
        sink: &mut (dyn FnMut(Option<&[u8]>) -> std::io::Result<()> + Send),
    ) -> Result<Result<(), Retryable>> {
        let response = match self.client.get(url.clone()).send().await {
            Ok(response) => response,
            Err(e) => return self.classify(url, e).map(Err),
        };
        let status = response.status();
        if status.is_success() {
            return match self.read_capped(url, response, sink).await {
                Ok(()) => Ok(Ok(())),
                Err(BodyError::TooLarge) => Err(Error::TooLarge {
                    url: url.to_string(),
                    limit: self.limits.max_response_bytes,
                }),
                Err(BodyError::Http(e)) => self.classify(url, e).map(Err),
                Err(BodyError::Io(e)) => Err(Error::Dump {
                    what: "downloaded".into(),
                    message: format!("writing {url} to disk: {e}"),
                }),
            };
        }
        if status == StatusCode::SERVICE_UNAVAILABLE
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
        {
            let retry_after = retry_after(response.headers(), OffsetDateTime::now_utc());
            return Ok(Err(Retryable::Status {
                status: status.as_u16(),
                retry_after,
            }));
        }
        Err(Error::Status {
            url: url.to_string(),
            status: status.as_u16(),
        })
    }

    /// Sorts a reqwest error into final (policy refusals) and retryable ones.
    fn classify(&self, url: &Url, error: reqwest::Error) -> Result<Retryable> {
        if let Some(reason) = refusal_in_chain(&error) {
            return Err(Error::AddressRefused {
                url: url.to_string(),
                reason,
            });
        }
        if error.is_redirect() {
            // Too many redirects: retrying would loop again.
            return Err(Error::Connection {
                url: url.to_string(),
                attempts: 1,
                source: error,
            });
        }
        if error.is_timeout() {
            return Ok(Retryable::Timeout);
        }
        Ok(Retryable::Network(error))
    }

    /// Streams the body into `sink`, stopping as soon as it passes the limit.
    async fn read_capped(
        &self,
        url: &Url,
        mut response: reqwest::Response,
        sink: &mut (dyn FnMut(Option<&[u8]>) -> std::io::Result<()> + Send),
    ) -> Result<(), BodyError> {
        let limit = self.limits.max_response_bytes;
        sink(None).map_err(BodyError::Io)?;
        let mut length = 0u64;
        while let Some(chunk) = response.chunk().await.map_err(BodyError::Http)? {
            length += chunk.len() as u64;
            if length > limit {
                tracing::warn!(%url, limit, "response body over the limit; dropped");
                return Err(BodyError::TooLarge);
            }
            sink(Some(&chunk)).map_err(BodyError::Io)?;
        }
        Ok(())
    }
}

enum BodyError {
    TooLarge,
    Http(reqwest::Error),
    Io(std::io::Error),
}

/// Marks a redirect refused by the address policy in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedirectRefused(String);

/// The policy refusal behind a reqwest error, if that is what it is.
fn refusal_in_chain(error: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<crate::address_policy::RefusedAddress>() {
            return Some(refused.to_string());
        }
        if let Some(refused) = e.downcast_ref::<RedirectRefused>() {
            return Some(refused.0.clone());
        }
        source = e.source();
    }
    None
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP-date (a date in the
/// past means "now").
fn retry_after(headers: &HeaderMap, now: OffsetDateTime) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    let wait = date - now;
    Some(wait.try_into().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    use time::macros::datetime;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        let now = datetime!(2015-10-21 07:28:00 UTC);
        assert_eq!(retry_after(&headers("7"), now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:00:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let fetcher = HttpFetcher::new(HttpLimits {
            backoff_base: Duration::from_secs(1),
            max_retry_after: Duration::from_secs(5),
            ..HttpLimits::default()
        })
        .unwrap();
        let delays: Vec<u64> = (1..=5).map(|a| fetcher.backoff(a).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 5, 5]);
    }
}
