//! Who may call the API, and how often: API keys and rate limits.
//!
//! The guard is attached by router structure: every route of a guarded group of the route
//! table ([`crate::api::groups`]) gets it as a route layer ([`layer`]), so a new route is
//! guarded by being listed in its group, and no list of URL prefixes has to be kept. A
//! guarded request:
//! 1. The client address is the TCP peer, unless the peer is a configured trusted proxy, in
//!    which case it is the right-most address of `X-Forwarded-For` that is not itself a
//!    trusted proxy. Headers from anyone else are ignored: they are trivially forged.
//! 2. An `X-API-Key` header must name a live key; keys are required on the public read routes
//!    ([`Guard::PublicRead`]) when `[api] keys = "required"`, and on every route of the areas
//!    listed in `keys_required_for` (an area is the first path segment after `/api/v1/`).
//! 3. Requests with a key are limited per key, others per client address (token buckets);
//!    past the limit the answer is `429 rate_limited` with `Retry-After`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::MethodRouter;

use crate::error::ApiError;
use services::config::{ApiConfig, KeyPolicy, Rate};
use store::Store;

/// How a group of routes is guarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Not at all: health, pages, images.
    None,
    /// Public reads: keys required when `[api] keys = "required"` (or for the areas of
    /// `keys_required_for`); rate limited.
    PublicRead,
    /// Accounts, curation, administration and analytics: a key sent is checked, one is
    /// required only for the areas of `keys_required_for`; rate limited.
    Limited,
}

/// What the guard of one route knows: the state, the route's area and its group's guard.
#[derive(Clone)]
pub struct RouteGuard {
    access: Arc<Access>,
    store: Arc<Store>,
    area: &'static str,
    public_read: bool,
}

/// The area of an API path: its first segment after `/api/v1/` (`export`, `admin`, …).
pub fn area_of(path: &'static str) -> &'static str {
    path.strip_prefix("/api/v1/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("")
}

/// `handler` with the guard of `guard` (if any) as a route layer.
pub fn layer<S: Clone + Send + Sync + 'static>(
    access: &Arc<Access>,
    store: &Arc<Store>,
    guard: Guard,
    path: &'static str,
    handler: MethodRouter<S>,
) -> MethodRouter<S> {
    let public_read = match guard {
        Guard::None => return handler,
        Guard::PublicRead => true,
        Guard::Limited => false,
    };
    let route = RouteGuard {
        access: Arc::clone(access),
        store: Arc::clone(store),
        area: area_of(path),
        public_read,
    };
    handler.route_layer(axum::middleware::from_fn_with_state(route, self::guard))
}
/// Buckets idle this long are forgotten when the table grows large.
const IDLE: Duration = Duration::from_secs(600);
/// Table size past which idle buckets are swept.
const SWEEP_AT: usize = 50_000;

/// A token-bucket limiter keyed by client.
pub struct RateLimiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// A limiter allowing `rate` (with a burst of the whole per-period amount).
    pub fn new(rate: Rate) -> Self {
        RateLimiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how many seconds until one is free.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(self.rate.requests);
        let per_sec = capacity / self.rate.per.as_secs_f64();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > SWEEP_AT {
            buckets.retain(|_, (_, last)| now.duration_since(*last) < IDLE);
        }
        let (tokens, last) = buckets.entry(key.to_string()).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_sec).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// The API access policy with its limiters.
pub struct Access {
    config: ApiConfig,
    per_key: RateLimiter,
    per_ip: RateLimiter,
    per_ip_pages: RateLimiter,
    /// Purchase suggestions sent per client address (pages and API together).
    per_ip_suggestions: RateLimiter,
}

impl Access {
    /// The policy of `config`.
    pub fn new(config: ApiConfig) -> Self {
        Access {
            per_key: RateLimiter::new(config.rate_per_key),
            per_ip: RateLimiter::new(config.rate_per_ip),
            per_ip_pages: RateLimiter::new(config.rate_per_ip_pages),
            per_ip_suggestions: RateLimiter::new(services::config::SuggestionsConfig::default().rate_per_ip),
            config,
        }
    }

    /// This policy with `rate` for purchase suggestions per client address
    /// (`[suggestions] rate_per_ip`).
    pub fn with_suggestion_rate(mut self, rate: Rate) -> Self {
        self.per_ip_suggestions = RateLimiter::new(rate);
        self
    }

    /// Takes one purchase suggestion from `client`'s allowance, or answers `429
    /// rate_limited`. Counted apart from (and on top of) the request rates, because a
    /// suggestion is a write that anyone may make without an account.
    pub fn take_suggestion(&self, client: IpAddr) -> Result<(), ApiError> {
        self.per_ip_suggestions
            .take(&client.to_string(), Instant::now())
            .map_err(ApiError::rate_limited)
    }

    /// The client's address, trusting `X-Forwarded-For` only from trusted proxies.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.config.trusted_proxies.contains(&peer) {
            return peer;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !self.config.trusted_proxies.contains(ip))
            .unwrap_or(peer)
    }

    /// The client of `request`: its peer address, or the forwarded one behind a trusted proxy.
    fn client_of(&self, request: &Request) -> IpAddr {
        self.client_of_parts(request.extensions(), request.headers())
    }

    /// The client of a request with these extensions and headers.
    fn client_of_parts(&self, extensions: &axum::http::Extensions, headers: &HeaderMap) -> IpAddr {
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        self.client_ip(peer, headers)
    }

    fn key_required(&self, area: &str, public_read: bool) -> bool {
        self.config.keys_required_for.iter().any(|a| a.as_str() == area)
            || (self.config.keys == KeyPolicy::Required && public_read)
    }
}

/// The client address of a request, as the rate limits see it (the peer, or the forwarded
/// address behind a trusted proxy): an extractor for handlers that limit by it.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            state.access.client_of_parts(&parts.extensions, &parts.headers),
        ))
    }
}

/// The middleware; see the module documentation.
pub async fn guard(
    State(route): State<RouteGuard>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let access = &route.access;
    let ip = access.client_of(&request);
    let key = request
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let key_id = match key {
        Some(key) => {
            let store = route.store.clone();
            match tokio::task::spawn_blocking(move || store.verify_api_key(&key)).await?? {
                Some(id) => Some(id),
                None => return Err(ApiError::invalid_api_key()),
            }
        }
        None if access.key_required(route.area, route.public_read) => {
            return Err(ApiError::api_key_required());
        }
        None => None,
    };
    let now = Instant::now();
    let verdict = match key_id {
        Some(id) => access.per_key.take(&format!("key:{id}"), now),
        None => access.per_ip.take(&ip.to_string(), now),
    };
    if let Err(retry_after) = verdict {
        return Err(ApiError::rate_limited(retry_after));
    }
    Ok(next.run(request).await)
}

/// The middleware of the pages and `/oai`: a per-client rate (`[api] rate_per_ip_pages`),
/// no keys. Over the rate the answer is `429 rate_limited` with `Retry-After`, before any
/// page is built or any password hashed.
pub async fn page_guard(
    State(access): State<Arc<Access>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let ip = access.client_of(&request);
    if let Err(retry_after) = access.per_ip_pages.take(&ip.to_string(), Instant::now()) {
        return Err(ApiError::rate_limited(retry_after));
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(trusted: &[&str]) -> Access {
        Access::new(ApiConfig {
            trusted_proxies: trusted.iter().map(|t| t.parse().unwrap()).collect(),
            ..ApiConfig::default()
        })
    }

    #[test]
    fn buckets_refill_at_the_rate() {
        let limiter = RateLimiter::new(Rate {
            requests: 2,
            per: Duration::from_secs(10),
        });
        let t0 = Instant::now();
        assert_eq!(limiter.take("a", t0), Ok(()));
        assert_eq!(limiter.take("a", t0), Ok(()));
        assert_eq!(limiter.take("a", t0), Err(5), "one token every 5 s");
        assert_eq!(limiter.take("b", t0), Ok(()), "clients are separate");
        assert_eq!(limiter.take("a", t0 + Duration::from_secs(5)), Ok(()));
    }

    #[test]
    fn forwarded_for_is_trusted_only_from_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let client: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            access(&[]).client_ip(client, &headers),
            client,
            "a forged header is ignored"
        );
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let via_proxies = access(&["10.0.0.1", "10.0.0.2"]);
        assert_eq!(
            via_proxies.client_ip(proxy, &headers),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(via_proxies.client_ip(proxy, &HeaderMap::new()), proxy);
    }
}
