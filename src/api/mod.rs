//! The HTTP API, laid out like its URL tree:
//!
//! - `/healthz` — [`health`]
//! - `/api/v1/search` — [`search`]
//! - `/api/v1/records/{id}` — [`records`]
//! - `/api/v1/institutions` — [`institutions`]
//! - `/api/v1/export` — [`export`]
//! - `/api/v1/openapi.json`, `/api/docs` — [`openapi`]
//! - `/api/v1/auth/…` — [`auth`] (login, sessions, tokens)
//! - `/api/v1/curate/…`, `/images/…` — [`curate`] (curated records and their images)
//! - `/api/v1/admin/…` — [`admin`] (accounts, institutions, audit, harvest reports)
//! - `/api/v1/analytics/…`, `/api/v1/admin/analytics/…`, `/admin/analytics` — [`analytics`]
//!   (click logging, search reports, the export for the provincial platform, the dashboard)

mod admin;
mod analytics;
mod auth;
pub mod caching;
mod curate;
mod export;
mod health;
mod institutions;
mod openapi;
mod records;
pub(crate) mod search;
mod suggest;

use axum::Router;

pub use crate::error::ApiError;

use crate::state::AppState;

/// The image routes (upload under `/api/v1/curate/…`, serving under `/images/…`). They carry
/// their own body limits, so the server mounts them outside its general one.
pub fn upload_router(limits: &services::curate::images::ImageLimits) -> Router<AppState> {
    curate::upload_router(limits)
}

/// Every API route.
pub fn router() -> Router<AppState> {
    let v1 = Router::new()
        .merge(search::router())
        .merge(suggest::router())
        .merge(export::router())
        .merge(openapi::router())
        .merge(records::router())
        .merge(institutions::router())
        .merge(auth::router())
        .merge(curate::router())
        .merge(admin::router())
        .merge(analytics::router());
    Router::new()
        .nest("/api/v1", v1)
        .merge(health::router())
        .merge(analytics::page_router())
        .merge(openapi::docs_router())
}
