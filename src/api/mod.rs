//! The HTTP API, laid out like its URL tree:
//!
//! - `/healthz`, `/readyz` — [`health`] (liveness; readiness by the index's lag)
//! - `/metrics` — [`metrics`] (Prometheus; loopback or a bearer token unless public)
//! - `/api/v1/search` — [`search`]
//! - `/api/v1/suggest` — [`suggest`]
//! - `/api/v1/records/{id}` — [`records`]
//! - `/api/v1/institutions`, `/api/v1/institutions/{id}`, `/api/v1/curate/institutions/{id}/venue`
//!   — [`institutions`] (the directory, venues, opening hours, the service network)
//! - `/api/v1/events` — [`events`] (cultural events, filtered; "now live")
//! - `/api/v1/mobile-routes`, `/api/v1/mobile-stops`, `/api/v1/admin/mobile-routes` — [`mobile`]
//! - `/api/v1/suggestions…`, `/api/v1/curate/suggestions…` — [`suggestions`] (readers'
//!   purchase suggestions and the curators' answers)
//! - `/api/v1/export` — [`export`]
//! - `/api/v1/openapi.json`, `/api/docs` — [`openapi`]
//! - `/api/v1/auth/…` — [`auth`] (login, sessions, tokens)
//! - `/api/v1/curate/…`, `/images/…` — [`curate`] (curated records and their images)
//! - `/api/v1/admin/…` — [`admin`] (accounts, institutions, audit, harvest reports)
//! - `/api/v1/analytics/…`, `/api/v1/admin/analytics/…`, `/admin/analytics` — [`analytics`]
//!   (click logging, search reports, the export for the provincial platform, the dashboard)
//! - `/api/v1/statistics` — [`statistics`] (daily service statistics in, and their aggregates)
//!
//! Every route is an [`Endpoint`] in one table, [`groups`], which both the router and the
//! OpenAPI document are built from. A route's layers come from where it is listed: its
//! group's [`Guard`] (API keys and rate limits, [`crate::access`]) and body limit, and its
//! own [`Cache`] (ETags, [`caching`]). A new route therefore gets the right layers, and its
//! documentation, by being added to its area's list.

mod admin;
mod analytics;
mod auth;
pub mod caching;
mod curate;
mod endpoint;
mod events;
mod export;
mod health;
mod institutions;
mod metrics;
mod mobile;
mod openapi;
mod records;
pub(crate) mod search;
mod statistics;
mod suggest;
mod suggestions;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower_http::limit::RequestBodyLimitLayer;

pub use crate::error::ApiError;
pub use endpoint::{Auth, Cache, Endpoint};
pub use openapi::document;

use crate::access::{self, Guard};
use crate::state::AppState;

/// Which body limit a group's routes are mounted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bodies {
    /// The server's general limit (1 MiB).
    General,
    /// Image uploads: their own, larger cap (the configured image size plus the multipart
    /// framing), outside the general limit.
    Images,
}

/// Routes that share their layers.
pub struct Group {
    /// What they are, for people.
    pub name: &'static str,
    /// Who may call them, and how often.
    pub guard: Guard,
    /// Their body limit.
    pub bodies: Bodies,
    /// The routes.
    pub endpoints: Vec<Endpoint>,
}

/// The route table: every API route, grouped by the layers it gets.
pub fn groups() -> Vec<Group> {
    vec![
        Group {
            name: "public reads",
            guard: Guard::PublicRead,
            bodies: Bodies::General,
            endpoints: [
                search::endpoints(),
                suggest::endpoints(),
                suggestions::endpoints(),
                records::endpoints(),
                institutions::endpoints(),
                events::endpoints(),
                mobile::endpoints(),
                export::endpoints(),
                openapi::endpoints(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
        Group {
            name: "accounts, curation, administration and analytics",
            guard: Guard::Limited,
            bodies: Bodies::General,
            endpoints: [
                auth::endpoints(),
                curate::endpoints(),
                institutions::curate_endpoints(),
                suggestions::curate_endpoints(),
                admin::endpoints(),
                mobile::admin_endpoints(),
                analytics::endpoints(),
                statistics::endpoints(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
        Group {
            name: "image uploads",
            guard: Guard::Limited,
            bodies: Bodies::Images,
            endpoints: curate::upload_endpoints(),
        },
        Group {
            name: "health, metrics, documentation, dashboard and images",
            guard: Guard::None,
            bodies: Bodies::General,
            endpoints: [
                health::endpoints(),
                metrics::endpoints(),
                openapi::page_endpoints(),
                analytics::page_endpoints(),
                curate::image_endpoints(),
            ]
            .into_iter()
            .flatten()
            .collect(),
        },
    ]
}

/// The routes of the groups with `bodies`, each with its layers.
fn build(state: &AppState, bodies: Bodies) -> Router<AppState> {
    let mut router = Router::new();
    for group in groups().into_iter().filter(|g| g.bodies == bodies) {
        for endpoint in group.endpoints {
            // The last layer added runs first: the guard, then the ETag, then the handler.
            let handler = caching::layer(state, endpoint.cache, endpoint.handler);
            let handler = access::layer(&state.access, &state.store, group.guard, endpoint.path, handler);
            router = router.route(endpoint.path, handler);
        }
    }
    router
}

/// Every API route under the server's general body limit.
pub fn router(state: &AppState) -> Router<AppState> {
    build(state, Bodies::General)
}

/// The image upload routes. They carry their own body limit (the raw body is capped here,
/// the transport limit and not only the extractor's `DefaultBodyLimit`, and the file again
/// as it streams in), so the server mounts them outside its general one.
pub fn upload_router(state: &AppState, limits: &services::curate::images::ImageLimits) -> Router<AppState> {
    let cap = curate::upload_cap(limits);
    build(state, Bodies::Images)
        .layer(DefaultBodyLimit::max(cap))
        .layer(RequestBodyLimitLayer::new(cap))
}
