//! `/api/v1/admin/…`: accounts, institutions, the audit log and harvest reports.
//!
//! | method and path                              | who                                      |
//! |----------------------------------------------|------------------------------------------|
//! | `POST /admin/users`                          | admin: create an account (`NewUser`)     |
//! | `GET /admin/users`                           | admin: every account                      |
//! | `POST /admin/users/{username}/disable`       | admin: disable an account (ends sessions) |
//! | `POST /admin/institutions`                   | admin: add or update an institution      |
//! | `GET /admin/audit?institution=…&record=…`    | admin: any; curator: own institutions    |
//! | `GET /admin/runs?source=…&limit=…`           | admin: harvest runs                       |
//! | `GET /admin/quarantine?source=…&limit=…`     | admin: quarantined items                  |
//! | `GET /admin/images?state=…&limit=…&offset=…` | admin: harvested image links (`pending`, `fetched`, `failed` with reason) and counts |
//! | `POST /admin/dictionaries/reload`            | admin: reload user dictionary + synonyms  |
//! | `POST /admin/api-keys` `{"name"}`            | admin: issue an app key (shown once)      |
//! | `GET /admin/api-keys`                        | admin: issued keys, without secrets       |
//! | `DELETE /admin/api-keys/{id}`                | admin: revoke a key                       |

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use schemas::Institution;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;
use services::auth::Principal;
use services::auth::accounts::{self, AccountError, NewUser};
use store::accounts::UserRow;

/// Largest page of the audit log and the reports.
const MAX_LIMIT: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", post(create_user).get(list_users))
        .route("/admin/users/{username}/disable", post(disable_user))
        .route("/admin/institutions", post(upsert_institution))
        .route("/admin/audit", get(audit))
        .route("/admin/runs", get(runs))
        .route("/admin/quarantine", get(quarantine))
        .route("/admin/images", get(remote_images))
        .route("/admin/dictionaries/reload", post(reload_dictionaries))
        .route("/admin/api-keys", post(create_api_key).get(list_api_keys))
        .route("/admin/api-keys/{id}", axum::routing::delete(revoke_api_key))
}

async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<UserRow>), ApiError> {
    principal.require_admin()?;
    let Json(new) = body?;
    let store = state.store.clone();
    let user = tokio::task::spawn_blocking(move || {
        let user = accounts::create_user(&store, &new)?;
        store
            .audit(
                &principal.username,
                None,
                store::curated::AuditAction::CreateUser,
                &json!(user),
            )
            .map_err(|e| AccountError::Internal(e.into()))?;
        Ok::<_, AccountError>(user)
    })
    .await?
    .map_err(|err| match err {
        AccountError::Invalid(errors) => ApiError::validation_failed(errors),
        AccountError::Taken(name) => ApiError::conflict(format!("username {name:?} is taken")),
        AccountError::Internal(err) => ApiError::internal(format!("{err:#}")),
    })?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn list_users(State(state): State<AppState>, principal: Principal) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let store = state.store.clone();
    let users = tokio::task::spawn_blocking(move || store.users()).await??;
    Ok(Json(json!({ "users": users })))
}

async fn disable_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let username = accounts::normalise_username(&username);
    let store = state.store.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<bool, store::StoreError> {
        let found = store.set_user_disabled(&username, true)?;
        if found {
            store.audit(
                &principal.username,
                None,
                store::curated::AuditAction::DisableUser,
                &json!({ "username": username }),
            )?;
        }
        Ok(found)
    })
    .await??;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

async fn upsert_institution(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<Institution>, JsonRejection>,
) -> Result<(StatusCode, Json<Institution>), ApiError> {
    let Json(institution) = body?;
    let store = state.store.clone();
    let stored = institution.clone();
    tokio::task::spawn_blocking(move || services::institutions::upsert(&store, &principal, &stored))
        .await??;
    // Its records re-entered the change log: the index follows now, not at its next poll.
    state.indexing.wake();
    Ok((StatusCode::CREATED, Json(institution)))
}

/// `source`/`institution`/`record`, `limit` and `offset` of the read routes.
struct ReadParams {
    institutions: Vec<String>,
    source: Option<String>,
    record: Option<String>,
    limit: usize,
    offset: usize,
}

fn read_params(raw: Option<&str>) -> Result<ReadParams, ApiError> {
    let mut params = ReadParams {
        institutions: Vec::new(),
        source: None,
        record: None,
        limit: 100,
        offset: 0,
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let value = value.trim().to_string();
        let number = |max: usize| {
            value.parse::<usize>().ok().filter(|n| *n <= max).ok_or_else(|| {
                ApiError::invalid_parameter(format!("{key} must be a whole number up to {max}"))
            })
        };
        match key.as_ref() {
            "institution" => params.institutions.push(value.clone()),
            "source" => params.source = Some(value.clone()),
            "record" => params.record = Some(value.clone()),
            "limit" => params.limit = number(MAX_LIMIT)?.max(1),
            "offset" => params.offset = number(1_000_000)?,
            _ => {}
        }
    }
    Ok(params)
}

async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = read_params(raw.as_deref())?;
    let institutions = match principal.visible_institutions() {
        None if params.institutions.is_empty() => None,
        None => Some(params.institutions),
        Some(own) if params.institutions.is_empty() => Some(own),
        Some(own) => {
            if let Some(other) = params.institutions.iter().find(|i| !own.contains(i)) {
                return Err(ApiError::forbidden(format!(
                    "this account does not curate institution {other:?}"
                )));
            }
            Some(params.institutions)
        }
    };
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || {
        store.audit_log(
            institutions.as_deref(),
            params.record.as_deref(),
            params.limit,
            params.offset,
        )
    })
    .await??;
    Ok(Json(json!({ "entries": entries })))
}

async fn runs(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let params = read_params(raw.as_deref())?;
    let store = state.store.clone();
    let runs =
        tokio::task::spawn_blocking(move || store.runs(params.source.as_deref(), params.limit)).await??;
    Ok(Json(json!({ "runs": runs })))
}

async fn quarantine(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let params = read_params(raw.as_deref())?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || store.quarantine(params.source.as_deref(), params.limit))
        .await??;
    Ok(Json(json!({ "items": items })))
}

/// Harvested records' image links and what became of fetching them
/// ([`services::remote_images`]): `state` is `pending`, `fetched` or `failed` (else all).
async fn remote_images(
    State(state): State<AppState>,
    principal: Principal,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let params = read_params(raw.as_deref())?;
    let mut wanted = None;
    for (key, value) in form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()) {
        if key == "state" {
            let parsed = store::remote_images::ImageState::from_name(value.trim());
            wanted =
                Some(parsed.ok_or_else(|| {
                    ApiError::invalid_parameter("state must be pending, fetched or failed")
                })?);
        }
    }
    let store = state.store.clone();
    let (counts, images) = tokio::task::spawn_blocking(move || {
        let counts = store.remote_image_counts()?;
        let images = store.remote_images(wanted, params.limit, params.offset)?;
        Ok::<_, store::StoreError>((counts, images))
    })
    .await??;
    Ok(Json(json!({ "counts": counts, "images": images })))
}

/// Reloads `dictionaries/user_dict.txt` and `synonyms.txt` from the data directory; queries
/// use them at once, documents indexed from now on are segmented with them.
async fn reload_dictionaries(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let index = state.indexing.index().clone();
    let stats = tokio::task::spawn_blocking(move || index.reload_dictionaries())
        .await?
        .map_err(|err| match err {
            indexer::Error::Dictionary { .. } => ApiError::invalid_body(err.to_string()),
            other => ApiError::internal(other),
        })?;
    Ok(Json(json!({
        "user_words": stats.user_words,
        "synonym_groups": stats.synonym_groups,
        "skipped_lines": stats.skipped_lines,
        "user_dict_from_file": stats.user_dict_from_file,
        "synonyms_from_file": stats.synonyms_from_file,
    })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApiKey {
    name: String,
}

/// Issues an API key; the secret is in this response only.
async fn create_api_key(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<NewApiKey>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    principal.require_admin()?;
    let Json(new) = body?;
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_body("name must be 1 to 200 characters"));
    }
    let store = state.store.clone();
    let (id, key) = tokio::task::spawn_blocking(move || {
        let issued = store.create_api_key(&name)?;
        store.audit(
            &principal.username,
            None,
            store::curated::AuditAction::CreateApiKey,
            &json!({"id": issued.0, "name": name}),
        )?;
        Ok::<_, ApiError>(issued)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(json!({"id": id, "key": key}))))
}

async fn list_api_keys(State(state): State<AppState>, principal: Principal) -> Result<Json<Value>, ApiError> {
    principal.require_admin()?;
    let store = state.store.clone();
    let keys = tokio::task::spawn_blocking(move || store.api_keys()).await??;
    Ok(Json(json!({ "api_keys": keys })))
}

async fn revoke_api_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    principal.require_admin()?;
    let store = state.store.clone();
    let revoked = tokio::task::spawn_blocking(move || {
        let revoked = store.revoke_api_key(id)?;
        if revoked {
            store.audit(
                &principal.username,
                None,
                store::curated::AuditAction::RevokeApiKey,
                &json!({"id": id}),
            )?;
        }
        Ok::<_, ApiError>(revoked)
    })
    .await??;
    if revoked {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}
