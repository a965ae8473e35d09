//! The HTTP API, laid out like its URL tree:
//!
//! - `/healthz` — [`health`]
//! - `/api/v1/search` — [`search`]
//! - `/api/v1/records/{id}` — [`records`]
//! - `/api/v1/institutions` — [`institutions`]

mod error;
mod health;
mod institutions;
mod records;
mod search;

use axum::Router;

pub use error::ApiError;

use crate::server::AppState;

/// Every API route.
pub fn router() -> Router<AppState> {
    let v1 = Router::new()
        .merge(search::router())
        .merge(records::router())
        .merge(institutions::router());
    Router::new()
        .nest("/api/v1", v1)
        .merge(health::router())
        .fallback(|| async { ApiError::not_found() })
}
