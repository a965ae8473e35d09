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
//! | `POST /admin/dictionaries/reload`            | admin: reload dictionaries, names, canon  |
//! | `POST /admin/api-keys` `{"name", "institution"?}` | admin: issue an app key, or an institution's (shown once) |
//! | `GET /admin/api-keys`                        | admin: issued keys, without secrets       |
//! | `DELETE /admin/api-keys/{id}`                | admin: revoke a key                       |

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use schemas::Institution;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ApiError;
use super::endpoint::{Content, Endpoint, Success};
use crate::error::ErrorCode;
use crate::extract::ApiQuery;
use crate::state::AppState;
use services::auth::Principal;
use services::auth::accounts::{self, AccountError, NewUser};
use store::remote_images::ImageState;

/// Largest page of the audit log and the reports.
const MAX_LIMIT: usize = 500;
/// Largest offset into the audit log and the image links.
const MAX_OFFSET: usize = 1_000_000;

fn no_content(description: &'static str) -> Success {
    Success {
        status: 204,
        description,
        content: vec![Content::Empty],
        headers: Vec::new(),
    }
}

/// The routes.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::post("/api/v1/admin/users", create_user)
            .summary("Create an account")
            .admin()
            .json_body::<NewUserBody>()
            .json::<UserView>(201, "The account")
            .errors(&[ErrorCode::ValidationFailed, ErrorCode::Conflict]),
        Endpoint::get("/api/v1/admin/users", list_users)
            .summary("Every account")
            .admin()
            .json::<UserList>(200, "The accounts"),
        Endpoint::post("/api/v1/admin/users/{username}/disable", disable_user)
            .summary("Disable an account (its sessions and tokens stop working)")
            .admin()
            .respond(no_content("Disabled"))
            .errors(&[ErrorCode::NotFound]),
        Endpoint::post("/api/v1/admin/institutions", upsert_institution)
            .summary("Add or update an institution (its records are re-indexed)")
            .signed_in()
            .json_body::<Institution>()
            .json::<Institution>(201, "The institution as stored")
            .errors(&[ErrorCode::Forbidden, ErrorCode::ValidationFailed]),
        Endpoint::get("/api/v1/admin/audit", audit)
            .summary("The audit log: admins see all, curators their own institutions")
            .signed_in()
            .query::<ReadQuery>()
            .json::<AuditList>(200, "Entries, newest first")
            .errors(&[ErrorCode::Forbidden]),
        Endpoint::get("/api/v1/admin/runs", runs)
            .summary("Harvest runs, newest first")
            .admin()
            .query::<ReadQuery>()
            .json::<RunList>(200, "Runs"),
        Endpoint::get("/api/v1/admin/quarantine", quarantine)
            .summary("Quarantined items, with their reasons and raw bytes")
            .admin()
            .query::<ReadQuery>()
            .json::<QuarantineList>(200, "Items"),
        Endpoint::get("/api/v1/admin/images", remote_images)
            .summary("Harvested image links and what became of fetching them, with counts per state")
            .admin()
            .query::<ImagesQuery>()
            .json::<ImageList>(200, "Counts and links"),
        Endpoint::post("/api/v1/admin/dictionaries/reload", reload_dictionaries)
            .summary("Reload the user dictionary, synonyms and names from the data directory")
            .admin()
            .json::<DictionaryStats>(200, "What was loaded")
            .errors(&[ErrorCode::InvalidBody]),
        Endpoint::post("/api/v1/admin/api-keys", create_api_key)
            .summary("Issue an API key (shown once)")
            .admin()
            .json_body::<NewApiKey>()
            .json::<CreatedApiKey>(201, "The key"),
        Endpoint::get("/api/v1/admin/api-keys", list_api_keys)
            .summary("Issued keys, without secrets")
            .admin()
            .json::<ApiKeyList>(200, "The keys"),
        Endpoint::delete("/api/v1/admin/api-keys/{id}", revoke_api_key)
            .summary("Revoke a key (at once)")
            .admin()
            .path_param("id", || json!({"type": "integer"}), "The key's id")
            .respond(no_content("Revoked"))
            .errors(&[ErrorCode::NotFound]),
    ]
}

/// An account to create (the body of `POST /admin/users`).
#[derive(JsonSchema)]
#[schemars(rename = "NewUser")]
#[allow(dead_code)]
struct NewUserBody {
    /// Login name: 1–64 lowercase ASCII letters, digits, `.`, `-` or `_`.
    #[schemars(regex(pattern = r"^[a-z0-9._-]{1,64}$"))]
    username: String,
    /// The password (at least 10 characters).
    #[schemars(length(min = 10))]
    password: String,
    /// `admin` or `curator`.
    role: RoleName,
    /// Institutions it curates (a curator needs at least one; an admin has none).
    #[serde(default)]
    institutions: Vec<String>,
}

/// A role.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum RoleName {
    /// Everything.
    Admin,
    /// Their institutions' curated records.
    Curator,
}

/// An account, without its password hash.
#[derive(Serialize, JsonSchema)]
struct UserView {
    /// Row id.
    id: i64,
    /// Login name.
    username: String,
    /// `admin` or `curator`.
    role: String,
    /// Institutions a curator may edit (empty for admins, who may edit all).
    institutions: Vec<String>,
    /// A disabled account cannot log in.
    disabled: bool,
    /// UTC creation time.
    created_at: String,
}

impl From<store::accounts::UserRow> for UserView {
    fn from(row: store::accounts::UserRow) -> UserView {
        UserView {
            id: row.id,
            username: row.username,
            role: row.role,
            institutions: row.institutions,
            disabled: row.disabled,
            created_at: row.created_at,
        }
    }
}

/// Every account.
#[derive(Serialize, JsonSchema)]
struct UserList {
    users: Vec<UserView>,
}

/// One audit entry.
#[derive(Serialize, JsonSchema)]
struct AuditEntryView {
    /// Entry id (increasing).
    id: i64,
    /// UTC time, to the millisecond.
    at: String,
    /// Username of who made the change.
    actor: String,
    /// Institution concerned, if any.
    institution: Option<String>,
    /// Record concerned, if any.
    record_id: Option<String>,
    /// What was done (`create`, `update`, `delete`, …).
    #[schemars(with = "String")]
    action: store::curated::AuditAction,
    /// The state before (absent for a creation).
    before: Option<Value>,
    /// The state after.
    after: Option<Value>,
}

impl From<store::curated::AuditEntry> for AuditEntryView {
    fn from(entry: store::curated::AuditEntry) -> AuditEntryView {
        AuditEntryView {
            id: entry.id,
            at: entry.at,
            actor: entry.actor,
            institution: entry.institution,
            record_id: entry.record_id,
            action: entry.action,
            before: entry.before,
            after: entry.after,
        }
    }
}

/// A page of the audit log.
#[derive(Serialize, JsonSchema)]
struct AuditList {
    entries: Vec<AuditEntryView>,
}

/// A harvest run.
#[derive(Serialize, JsonSchema)]
struct RunView {
    /// Run id.
    id: i64,
    /// Source id.
    source: String,
    /// UTC start.
    started_at: String,
    /// UTC end, if finished.
    finished_at: Option<String>,
    /// `running`, `complete`, `failed` or `interrupted`.
    #[schemars(with = "String")]
    status: store::RunStatus,
    /// Whether it resumed an interrupted list.
    resumed: bool,
    /// Pages stored.
    pages: u64,
    /// Records new to the store (or back from deletion).
    added: u64,
    /// Records whose content changed.
    updated: u64,
    /// Records removed by a deletion.
    deleted: u64,
    /// Records that were already stored exactly so.
    unchanged: u64,
    /// Items quarantined.
    quarantined: u64,
    /// Why it failed.
    error: Option<String>,
    /// Bytes of its dump file read so far (whole-dump runs).
    bytes_read: Option<u64>,
    /// Size of its dump file, when known.
    bytes_total: Option<u64>,
    /// Seconds from its start to its end, or to now while it runs.
    elapsed_seconds: f64,
    /// Items stored per second so far.
    items_per_second: f64,
    /// While a dump run of known size runs: seconds it still needs at its pace so far.
    eta_seconds: Option<f64>,
}

impl From<store::HarvestRun> for RunView {
    fn from(run: store::HarvestRun) -> RunView {
        let (items_per_second, eta_seconds) = (run.items_per_second(), run.eta_seconds());
        RunView {
            id: run.id,
            source: run.source,
            started_at: run.started_at,
            finished_at: run.finished_at,
            status: run.status,
            resumed: run.resumed,
            pages: run.pages,
            added: run.counts.added,
            updated: run.counts.updated,
            deleted: run.counts.deleted,
            unchanged: run.counts.unchanged,
            quarantined: run.counts.quarantined,
            error: run.error,
            bytes_read: run.bytes_read,
            bytes_total: run.bytes_total,
            elapsed_seconds: run.elapsed_seconds,
            items_per_second,
            eta_seconds,
        }
    }
}

/// Harvest runs.
#[derive(Serialize, JsonSchema)]
struct RunList {
    runs: Vec<RunView>,
}

/// A quarantined item.
#[derive(Serialize, JsonSchema)]
struct QuarantinedView {
    /// Row id.
    id: i64,
    /// Harvest run that met it.
    run_id: Option<i64>,
    /// Source id.
    source: String,
    /// Source-local id.
    local_id: String,
    /// Why it was refused.
    reason: String,
    /// Raw payload.
    raw: String,
    /// UTC time.
    at: String,
}

impl From<store::QuarantinedItem> for QuarantinedView {
    fn from(item: store::QuarantinedItem) -> QuarantinedView {
        QuarantinedView {
            id: item.id,
            run_id: item.run_id,
            source: item.source,
            local_id: item.local_id,
            reason: item.reason,
            raw: item.raw,
            at: item.at,
        }
    }
}

/// Quarantined items.
#[derive(Serialize, JsonSchema)]
struct QuarantineList {
    items: Vec<QuarantinedView>,
}

/// Where fetching an image link stands.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum ImageStateName {
    /// Waiting to be fetched (or retried).
    Pending,
    /// Fetched, with local copies.
    Fetched,
    /// Failed for good (the reason is kept).
    Failed,
}

/// A harvested image link.
#[derive(Serialize, JsonSchema)]
struct RemoteImageView {
    /// The link.
    url: String,
    /// Where fetching it stands.
    #[schemars(with = "ImageStateName")]
    state: ImageState,
    /// Local copy's hash, once fetched.
    hash: Option<String>,
    /// Why the last attempt failed (stable code), if it did.
    reason_code: Option<String>,
    /// Why the last attempt failed, for people.
    reason: Option<String>,
    /// Attempts made.
    attempts: u32,
    /// When the next attempt is due (Unix seconds), while pending.
    next_try: Option<i64>,
    /// A record that links it (the first by id), if any still does.
    record_id: Option<String>,
    /// UTC time of the last change.
    updated_at: String,
}

impl From<store::remote_images::RemoteImage> for RemoteImageView {
    fn from(image: store::remote_images::RemoteImage) -> RemoteImageView {
        RemoteImageView {
            url: image.url,
            state: image.state,
            hash: image.hash,
            reason_code: image.reason_code,
            reason: image.reason,
            attempts: image.attempts,
            next_try: image.next_try,
            record_id: image.record_id,
            updated_at: image.updated_at,
        }
    }
}

/// How many links are in each state.
#[derive(Serialize, JsonSchema)]
struct ImageCounts {
    pending: u64,
    fetched: u64,
    failed: u64,
}

/// Counts and a page of links.
#[derive(Serialize, JsonSchema)]
struct ImageList {
    counts: ImageCounts,
    images: Vec<RemoteImageView>,
}

/// What a dictionary reload loaded.
#[derive(Serialize, JsonSchema)]
struct DictionaryStats {
    user_words: usize,
    synonym_groups: usize,
    /// People in the name authority `names.txt`.
    name_groups: usize,
    skipped_lines: usize,
    /// Whether `user_dict.txt` was read (else the built-in one is used).
    user_dict_from_file: bool,
    /// Whether `synonyms.txt` was read (else the built-in one is used).
    synonyms_from_file: bool,
    /// Whether `names.txt` was read (else the built-in one is used).
    names_from_file: bool,
    /// Canonical works in `canonical.txt` (title / creator).
    canonical_works: usize,
    /// Whether `canonical.txt` was read (else the built-in one is used).
    canonical_from_file: bool,
}

/// An issued key; `key` is shown only now.
#[derive(Serialize, JsonSchema)]
struct CreatedApiKey {
    id: i64,
    /// Send it as `X-API-Key`.
    key: String,
}

/// An issued key, without its secret.
#[derive(Serialize, JsonSchema)]
struct ApiKeyView {
    /// Key id.
    id: i64,
    /// Who it is for.
    name: String,
    /// UTC creation time.
    created_at: String,
    /// UTC revocation time, if revoked.
    revoked_at: Option<String>,
    /// The institution it reports service statistics for, if any.
    institution: Option<String>,
}

impl From<store::ApiKey> for ApiKeyView {
    fn from(key: store::ApiKey) -> ApiKeyView {
        ApiKeyView {
            id: key.id,
            name: key.name,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
            institution: key.institution,
        }
    }
}

/// Issued keys.
#[derive(Serialize, JsonSchema)]
struct ApiKeyList {
    api_keys: Vec<ApiKeyView>,
}

async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(user.into())))
}

async fn list_users(State(state): State<AppState>, principal: Principal) -> Result<Json<UserList>, ApiError> {
    principal.require_admin()?;
    let store = state.store.clone();
    let users = tokio::task::spawn_blocking(move || store.users()).await??;
    Ok(Json(UserList {
        users: users.into_iter().map(UserView::from).collect(),
    }))
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

/// The parameters of the read routes (audit, runs, quarantine).
#[derive(Debug, Deserialize, JsonSchema)]
struct ReadQuery {
    /// Only these institutions (audit).
    #[serde(default)]
    institution: Vec<String>,
    /// Only this source (runs, quarantine).
    source: Option<String>,
    /// Only this record (audit).
    record: Option<String>,
    /// How many (0 counts as 1).
    #[serde(default = "default_limit")]
    #[schemars(range(max = MAX_LIMIT))]
    limit: usize,
    /// How many to skip (audit).
    #[serde(default)]
    #[schemars(range(max = MAX_OFFSET))]
    offset: usize,
}

fn default_limit() -> usize {
    100
}

/// [`ReadQuery`] checked.
struct ReadParams {
    institutions: Vec<String>,
    source: Option<String>,
    record: Option<String>,
    limit: usize,
    offset: usize,
}

fn read_params(query: ReadQuery) -> Result<ReadParams, ApiError> {
    let up_to = |name: &str, value: usize, max: usize| {
        if value <= max {
            Ok(value)
        } else {
            Err(ApiError::invalid_parameter(format!(
                "{name} must be a whole number up to {max}"
            )))
        }
    };
    Ok(ReadParams {
        limit: up_to("limit", query.limit, MAX_LIMIT)?.max(1),
        offset: up_to("offset", query.offset, MAX_OFFSET)?,
        institutions: query.institution,
        source: query.source,
        record: query.record,
    })
}

/// The parameters of the image links' list.
#[derive(Debug, Deserialize, JsonSchema)]
struct ImagesQuery {
    /// Only links in this state.
    #[schemars(with = "Option<ImageStateName>")]
    state: Option<ImageState>,
    /// How many (0 counts as 1).
    #[serde(default = "default_limit")]
    #[schemars(range(max = MAX_LIMIT))]
    limit: usize,
    /// How many to skip.
    #[serde(default)]
    #[schemars(range(max = MAX_OFFSET))]
    offset: usize,
}

async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let params = read_params(query)?;
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
    Ok(Json(AuditList {
        entries: entries.into_iter().map(AuditEntryView::from).collect(),
    }))
}

async fn runs(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<RunList>, ApiError> {
    principal.require_admin()?;
    let params = read_params(query)?;
    let store = state.store.clone();
    let runs =
        tokio::task::spawn_blocking(move || store.runs(params.source.as_deref(), params.limit)).await??;
    Ok(Json(RunList {
        runs: runs.into_iter().map(RunView::from).collect(),
    }))
}

async fn quarantine(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<QuarantineList>, ApiError> {
    principal.require_admin()?;
    let params = read_params(query)?;
    let store = state.store.clone();
    let items = tokio::task::spawn_blocking(move || store.quarantine(params.source.as_deref(), params.limit))
        .await??;
    Ok(Json(QuarantineList {
        items: items.into_iter().map(QuarantinedView::from).collect(),
    }))
}

/// Harvested records' image links and what became of fetching them
/// ([`services::remote_images`]): `state` is `pending`, `fetched` or `failed` (else all).
async fn remote_images(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ImagesQuery>,
) -> Result<Json<ImageList>, ApiError> {
    principal.require_admin()?;
    let wanted = query.state;
    let params = read_params(ReadQuery {
        institution: Vec::new(),
        source: None,
        record: None,
        limit: query.limit,
        offset: query.offset,
    })?;
    let store = state.store.clone();
    let (counts, images) = tokio::task::spawn_blocking(move || {
        let counts = store.remote_image_counts()?;
        let images = store.remote_images(wanted, params.limit, params.offset)?;
        Ok::<_, store::StoreError>((counts, images))
    })
    .await??;
    Ok(Json(ImageList {
        counts: ImageCounts {
            pending: counts.pending,
            fetched: counts.fetched,
            failed: counts.failed,
        },
        images: images.into_iter().map(RemoteImageView::from).collect(),
    }))
}

/// Reloads `dictionaries/user_dict.txt`, `synonyms.txt`, `names.txt` and `canonical.txt` from the data
/// directory; queries use them at once, documents indexed from now on are segmented with them.
async fn reload_dictionaries(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<DictionaryStats>, ApiError> {
    principal.require_admin()?;
    let index = state.indexing.index().clone();
    let stats = tokio::task::spawn_blocking(move || index.reload_dictionaries())
        .await?
        .map_err(|err| match err {
            indexer::Error::Dictionary { .. } => ApiError::invalid_body(err.to_string()),
            other => ApiError::internal(other),
        })?;
    Ok(Json(DictionaryStats {
        user_words: stats.user_words,
        synonym_groups: stats.synonym_groups,
        name_groups: stats.name_groups,
        skipped_lines: stats.skipped_lines,
        user_dict_from_file: stats.user_dict_from_file,
        synonyms_from_file: stats.synonyms_from_file,
        names_from_file: stats.names_from_file,
        canonical_works: stats.canonical_works,
        canonical_from_file: stats.canonical_from_file,
    }))
}

/// The body of `POST /admin/api-keys`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewApiKey {
    /// Who it is for (1 to 200 characters, not all spaces).
    #[schemars(length(min = 1, max = 200), regex(pattern = r"\S"))]
    name: String,
    /// The institution whose service statistics the key reports (`POST
    /// /api/v1/statistics`); none for an app's key.
    #[serde(default)]
    institution: Option<String>,
}

/// Issues an API key; the secret is in this response only.
async fn create_api_key(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Json<NewApiKey>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    principal.require_admin()?;
    let Json(new) = body?;
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid_body("name must be 1 to 200 characters"));
    }
    let institution = new
        .institution
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty());
    let store = state.store.clone();
    let (id, key) = tokio::task::spawn_blocking(move || {
        if let Some(institution) = &institution
            && !store.institutions()?.iter().any(|i| i.id == *institution)
        {
            return Err(ApiError::invalid_body(format!("no institution {institution:?}")));
        }
        let issued = store.create_institution_api_key(&name, institution.as_deref())?;
        store.audit(
            &principal.username,
            institution.as_deref(),
            store::curated::AuditAction::CreateApiKey,
            &json!({"id": issued.0, "name": name, "institution": institution}),
        )?;
        Ok::<_, ApiError>(issued)
    })
    .await??;
    Ok((StatusCode::CREATED, Json(CreatedApiKey { id, key })))
}

async fn list_api_keys(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ApiKeyList>, ApiError> {
    principal.require_admin()?;
    let store = state.store.clone();
    let keys = tokio::task::spawn_blocking(move || store.api_keys()).await??;
    Ok(Json(ApiKeyList {
        api_keys: keys.into_iter().map(ApiKeyView::from).collect(),
    }))
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
