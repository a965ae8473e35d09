//! `GET /api/v1/institutions`: every institution with its live record count.

use axum::Json;
use axum::extract::State;
use schemas::Institution;
use serde::Serialize;

use super::ApiError;
use super::endpoint::{Cache, Endpoint};
use crate::state::AppState;

/// The route.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/api/v1/institutions", institutions)
            .summary("Every institution with its live record count")
            .json::<Institutions>(200, "Institutions")
            .cache(Cache::Body),
    ]
}

/// One institution with its record count.
#[derive(Serialize, schemars::JsonSchema)]
pub(super) struct InstitutionEntry {
    #[serde(flatten)]
    institution: Institution,
    /// Chinese label of the type, for display.
    type_label: String,
    records: u64,
}

/// Every institution.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "InstitutionList")]
pub(super) struct Institutions {
    institutions: Vec<InstitutionEntry>,
}

async fn institutions(State(state): State<AppState>) -> Result<Json<Institutions>, ApiError> {
    let store = state.store.clone();
    let (list, counts) = tokio::task::spawn_blocking(move || {
        Ok::<_, ApiError>((store.institutions()?, store.records_per_institution()?))
    })
    .await??;
    let institutions = list
        .into_iter()
        .map(|institution| InstitutionEntry {
            type_label: institution.institution_type.label().to_string(),
            records: counts.get(&institution.id).copied().unwrap_or(0),
            institution,
        })
        .collect();
    Ok(Json(Institutions { institutions }))
}
