//! The mobile services (流动图书车, 舞台车, 文化车):
//!
//! | route                                              | who     |
//! |----------------------------------------------------|---------|
//! | `GET /api/v1/mobile-routes`                        | anyone  |
//! | `GET /api/v1/mobile-stops?district=&kind=&at=&limit=` | anyone: the next visits, soonest first |
//! | `POST /api/v1/admin/mobile-routes`                 | admins (audited) |

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use schemas::{District, GeoPoint, MobileRoute, MobileServiceKind};
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::endpoint::{Cache, Endpoint};
use super::institutions::{instant, lanzhou_text};
use crate::error::ErrorCode;
use crate::extract::{ApiQuery, Term, in_range};
use crate::state::AppState;

/// How many days ahead the next stops are looked for.
const STOP_LOOKAHEAD_DAYS: u16 = 60;
/// The most stops one answer lists.
const MAX_STOPS: u32 = 100;

/// The public routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/mobile-routes", routes)
            .summary("Every mobile service route with its stops and schedule")
            .json::<MobileRoutes>(200, "The routes")
            .cache(Cache::Body),
        Endpoint::get("/api/v1/mobile-stops", next_stops)
            .summary("The next visits of the mobile services, soonest first (Lanzhou time, 60 days ahead)")
            .query::<StopsQuery>()
            .json::<NextStops>(200, "The coming visits")
            .cache(Cache::Body),
    ]
}

/// The administrators' route (accounts group).
pub fn admin_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/admin/mobile-routes", upsert_route)
            .summary("Add or replace a mobile service route")
            .signed_in()
            .json_body::<MobileRoute>()
            .json::<MobileRoute>(201, "The route as stored")
            .errors(&[ErrorCode::Forbidden, ErrorCode::ValidationFailed]),
    ]
}

/// Every route.
#[derive(Serialize, schemars::JsonSchema)]
struct MobileRoutes {
    routes: Vec<MobileRoute>,
}

/// Which visits to list.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct StopsQuery {
    /// Only stops in this district or county (`榆中县`).
    district: Option<Term<District>>,
    /// Only this kind of vehicle (`mobile_library`, `stage_truck`, `culture_truck`).
    kind: Option<Term<MobileServiceKind>>,
    /// From this instant (RFC 3339); now when absent. A visit under way is included.
    #[schemars(extend("format" = "date-time"))]
    at: Option<String>,
    /// How many, 1 to 100 (10 by default).
    limit: Option<u32>,
}

/// One coming visit.
#[derive(Serialize, schemars::JsonSchema)]
struct StopView {
    route: String,
    route_name: String,
    kind: MobileServiceKind,
    /// Chinese label of the kind.
    kind_label: String,
    institution: String,
    stop: String,
    district: District,
    #[serde(skip_serializing_if = "Option::is_none")]
    geo: Option<GeoPoint>,
    /// Arrival (Lanzhou time).
    #[schemars(extend("format" = "date-time"))]
    starts: String,
    /// Departure (Lanzhou time).
    #[schemars(extend("format" = "date-time"))]
    ends: String,
}

/// The coming visits.
#[derive(Serialize, schemars::JsonSchema)]
struct NextStops {
    stops: Vec<StopView>,
}

async fn routes(State(state): State<AppState>) -> Result<Json<MobileRoutes>, ApiError> {
    let store = state.store.clone();
    let routes = tokio::task::spawn_blocking(move || store.mobile_routes()).await??;
    Ok(Json(MobileRoutes { routes }))
}

async fn next_stops(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<StopsQuery>,
) -> Result<Json<NextStops>, ApiError> {
    let at = instant(query.at.as_deref())?;
    let limit = in_range("limit", query.limit.unwrap_or(10), 1..=MAX_STOPS)?;
    let store = state.store.clone();
    let routes = tokio::task::spawn_blocking(move || store.mobile_routes()).await??;
    let stops = schemas::next_stops(
        &routes,
        query.district.map(|Term(d)| d),
        query.kind.map(|Term(k)| k),
        at,
        STOP_LOOKAHEAD_DAYS,
        limit as usize,
    )
    .into_iter()
    .map(|visit| StopView {
        route: visit.route.id.clone(),
        route_name: visit.route.name.clone(),
        kind: visit.route.kind,
        kind_label: visit.route.kind.label().to_string(),
        institution: visit.route.institution.clone(),
        stop: visit.stop().name.clone(),
        district: visit.stop().district,
        geo: visit.stop().geo,
        starts: lanzhou_text(visit.starts),
        ends: lanzhou_text(visit.ends),
    })
    .collect();
    Ok(Json(NextStops { stops }))
}

async fn upsert_route(
    State(state): State<AppState>,
    principal: services::auth::Principal,
    body: Result<Json<MobileRoute>, JsonRejection>,
) -> Result<(StatusCode, Json<MobileRoute>), ApiError> {
    let Json(route) = body?;
    let store = state.store.clone();
    let stored = route.clone();
    tokio::task::spawn_blocking(move || {
        services::institutions::upsert_mobile_route(&store, &principal, &stored)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(route)))
}
