//! `/api/v1/curate/records…`: curated records (see [`services::curate`] for the rules), and
//! `/images/…`, their images.
//!
//! | method and path                                   | what                                   |
//! |---------------------------------------------------|----------------------------------------|
//! | `POST /api/v1/curate/records`                     | create (201, `Location`, `ETag`)       |
//! | `GET /api/v1/curate/records`                      | list own institutions' records: `q`, `institution`, `special_collection`, `brand`, `accessible_format`, `audience`, `status=live\|deleted\|all`, `page`, `page_size` |
//! | `GET /api/v1/curate/records/{id}`                 | one, with `ETag`                        |
//! | `PUT /api/v1/curate/records/{id}`                 | replace; `If-Match` required (412/428)  |
//! | `DELETE /api/v1/curate/records/{id}`              | soft delete (optional `If-Match`)       |
//! | `POST /api/v1/curate/records/{id}/restore`        | undo a soft delete                      |
//! | `POST /api/v1/curate/records/{id}/images`         | multipart upload: `file` + `alt`        |
//! | `PUT /api/v1/curate/records/{id}/images`          | reorder / re-caption / drop: `[{hash, alt}]` |
//! | `DELETE /api/v1/curate/records/{id}/images/{hash}`| remove one image                        |
//! | `GET /images/{hash}/{thumb\|display}.jpg`         | the image, public and immutable         |
//!
//! Every write commits to the store before answering and wakes the index follower; with
//! `?wait=true` it answers only once the change is searchable (or after 5 s, saying
//! `"indexed": false`).
//!
//! Images are served from this node's images directory; on a store shared by several nodes
//! an image this node lacks (uploaded or fetched on another node) is read from the store
//! and kept in the directory for the next request ([`ImageStorage::read`]).

use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ApiError;
use super::endpoint::{Content, Endpoint, RequestBody, Success, schema_of};
use crate::error::ErrorCode;
use crate::extract::{ApiQuery, Flag, Term, in_range};
use crate::state::AppState;
use services::auth::Principal;
use services::curate::images::{self, ImageError, ImageLimits, ImageStorage, Variant};
use services::curate::{self, AuditAction, CurateError, IfMatch};
use store::curated::{CommittedChange, CuratedImage, CuratedQuery, CuratedRow};

/// Longest a `?wait=true` write waits for the index.
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest page of the list.
const MAX_PAGE_SIZE: usize = 100;
/// Room for the multipart framing and the alt text around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// Errors every write can answer: its record's rules and its `If-Match`.
const WRITE_ERRORS: &[ErrorCode] = &[
    ErrorCode::Forbidden,
    ErrorCode::RecordNotFound,
    ErrorCode::PreconditionFailed,
    ErrorCode::ValidationFailed,
];

/// A curated record answered with its `ETag` (and `Location` on creation).
fn curated(status: u16, description: &'static str) -> Success {
    let mut headers = vec![("ETag", "The record's version, for `If-Match`")];
    if status == 201 {
        headers.push(("Location", "The record's URL"));
    }
    Success {
        status,
        description,
        content: vec![Content::Json(schema_of::<CuratedView>)],
        headers,
    }
}

/// A write: `?wait=true`, and `If-Match` (required where `required`).
fn write(endpoint: Endpoint, if_match_required: bool) -> Endpoint {
    let endpoint = endpoint.signed_in().query::<WaitQuery>().errors(WRITE_ERRORS);
    if if_match_required {
        endpoint
            .header("If-Match", "The record's current `ETag` (required)")
            .errors(&[ErrorCode::PreconditionRequired])
    } else {
        endpoint.header("If-Match", "The record's current `ETag` (optional)")
    }
}

/// The JSON routes (inside the server's general 1 MiB body limit).
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        write(Endpoint::post("/api/v1/curate/records", create), false)
            .summary("Create a curated record")
            .body(RequestBody::RecordInput)
            .respond(curated(201, "Created")),
        Endpoint::get("/api/v1/curate/records", list)
            .summary("List the curated records of one's institutions")
            .signed_in()
            .query::<ListQuery>()
            .json::<ListResponse>(200, "A page of records")
            .errors(&[
                ErrorCode::Forbidden,
                ErrorCode::QueryTooLong,
                ErrorCode::PageOutOfRange,
            ]),
        Endpoint::get("/api/v1/curate/records/{id}", read)
            .summary("One curated record, with its `ETag`")
            .signed_in()
            .respond(curated(200, "The record"))
            .errors(&[ErrorCode::Forbidden, ErrorCode::RecordNotFound]),
        write(Endpoint::put("/api/v1/curate/records/{id}", update), true)
            .summary("Replace a curated record")
            .body(RequestBody::RecordInput)
            .respond(curated(200, "Replaced")),
        write(Endpoint::delete("/api/v1/curate/records/{id}", remove), false)
            .summary("Soft-delete a curated record")
            .respond(curated(200, "Deleted (restorable)")),
        write(
            Endpoint::post("/api/v1/curate/records/{id}/restore", restore),
            false,
        )
        .summary("Undo a soft delete")
        .respond(curated(200, "Restored")),
    ]
}

/// The image routes. They are mounted outside the server's general body limit because
/// uploads are larger; their group caps the raw body at [`upload_cap`] instead (the
/// transport limit, not only the extractor's), and the file is capped again as it streams in.
pub fn upload_endpoints() -> Vec<Endpoint> {
    vec![
        write(
            Endpoint::post("/api/v1/curate/records/{id}/images", upload_image),
            false,
        )
        .summary("Upload an image (JPEG, PNG or WebP) with its alt text")
        .body(RequestBody::Multipart(&[
            ("file", "file", "The image"),
            (
                "alt",
                "string",
                "What the image shows, for people who cannot see it (required)",
            ),
        ]))
        .respond(curated(201, "The record with its new image"))
        .errors(&[ErrorCode::PayloadTooLarge, ErrorCode::UnsupportedMediaType]),
        write(
            Endpoint::put("/api/v1/curate/records/{id}/images", update_images),
            false,
        )
        .summary("Reorder, re-caption or drop images: the full list, in order")
        .json_body::<Vec<ImageOrderEntry>>()
        .respond(curated(200, "The record with its images")),
        write(
            Endpoint::delete("/api/v1/curate/records/{id}/images/{hash}", delete_image),
            false,
        )
        .summary("Remove one image")
        .respond(curated(200, "The record without the image")),
    ]
}

/// `/images/…`: public, immutable, outside the API's guard.
pub fn image_endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::get("/images/{hash}/{file}", serve_image)
            .summary("An image: `thumb.jpg` or `display.jpg`")
            .path_param(
                "file",
                || json!({"type": "string", "enum": ["thumb.jpg", "display.jpg"]}),
                "The size",
            )
            .header("If-None-Match", "The image's `ETag`: `304` if unchanged")
            .respond(Success {
                status: 200,
                description: "The JPEG (cached for a year: its URL names its content)",
                content: vec![Content::Other(
                    "image/jpeg",
                    || json!({"type": "string", "contentMediaType": "image/jpeg"}),
                )],
                headers: vec![("ETag", "The image's tag")],
            })
            .respond(Success {
                status: 304,
                description: "Not modified",
                content: vec![Content::Empty],
                headers: Vec::new(),
            })
            .errors(&[ErrorCode::NotFound]),
    ]
}

/// The largest raw body of an upload: the image and the multipart framing around it.
pub fn upload_cap(limits: &ImageLimits) -> usize {
    limits.max_bytes + MULTIPART_OVERHEAD
}

impl From<CurateError> for ApiError {
    fn from(err: CurateError) -> Self {
        match err {
            CurateError::Forbidden(message) => ApiError::forbidden(message),
            CurateError::NotFound(id) => ApiError::record_not_found(&id),
            err @ CurateError::PreconditionFailed { .. } => ApiError::precondition_failed(err.to_string()),
            err @ CurateError::PreconditionRequired => ApiError::precondition_required(err.to_string()),
            CurateError::Invalid(errors) => ApiError::validation_failed(errors),
            CurateError::Store(err) => err.into(),
        }
    }
}

impl From<ImageError> for ApiError {
    fn from(err: ImageError) -> Self {
        match err {
            ImageError::TooLarge(message) => ApiError::payload_too_large(message),
            ImageError::Unsupported(message) => ApiError::unsupported_media_type(message),
            ImageError::Invalid(message) => ApiError::validation_failed(schemas::ValidationErrors {
                errors: vec![schemas::FieldError {
                    field: "file".into(),
                    code: "corrupt",
                    message_zh: "图像无法解码（文件不完整或已损坏）".into(),
                    message,
                }],
            }),
            err @ ImageError::Io(_) if err.is_disk_full() => ApiError::insufficient_storage(err),
            ImageError::Io(err) => ApiError::internal(err),
            ImageError::Store(err) => err.into(),
        }
    }
}

/// One image as served.
#[derive(Serialize, schemars::JsonSchema)]
struct ImageView {
    hash: String,
    alt: String,
    width: u32,
    height: u32,
    thumb_url: String,
    display_url: String,
}

/// A curated record as served.
#[derive(Serialize, schemars::JsonSchema)]
struct CuratedView {
    id: String,
    institution: String,
    version: i64,
    etag: String,
    deleted: bool,
    record: schemas::Record,
    images: Vec<ImageView>,
    created_by: String,
    created_at: String,
    updated_by: String,
    updated_at: String,
    /// On writes: whether the change is already searchable.
    #[serde(skip_serializing_if = "Option::is_none")]
    indexed: Option<bool>,
}

fn view(row: CuratedRow, indexed: Option<bool>) -> CuratedView {
    let images = row
        .state
        .images
        .iter()
        .map(|image| ImageView {
            hash: image.hash.clone(),
            alt: image.alt.clone(),
            width: image.width,
            height: image.height,
            thumb_url: format!("/images/{}/{}", image.hash, Variant::Thumb.file_name()),
            display_url: format!("/images/{}/{}", image.hash, Variant::Display.file_name()),
        })
        .collect();
    CuratedView {
        etag: curate::etag(row.version),
        id: row.id,
        institution: row.state.institution,
        version: row.version,
        deleted: row.state.deleted,
        record: row.state.record,
        images,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_by: row.updated_by,
        updated_at: row.updated_at,
        indexed,
    }
}

/// A private response: an `ETag`, and never cached by shared caches.
fn respond(status: StatusCode, view: CuratedView) -> Response {
    let etag = HeaderValue::from_str(&view.etag).ok();
    let mut response = (status, Json(view)).into_response();
    let headers = response.headers_mut();
    if let Some(etag) = etag {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// The only query parameter of the write routes.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct WaitQuery {
    /// `true`: answer only once the change is searchable (or after 5 s, saying
    /// `"indexed": false`).
    #[serde(default)]
    wait: Flag,
}

fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>, ApiError> {
    headers
        .get(header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .map(IfMatch::parse)
                .map_err(|_| ApiError::invalid_parameter("If-Match is not valid text"))
        })
        .transpose()
}

/// Wakes the follower and, if asked, waits for the change to be searchable.
async fn finish(state: &AppState, change: CommittedChange, wait: bool, status: StatusCode) -> Response {
    state.indexing.wake();
    let indexed = if wait {
        Some(state.indexing.wait_for(change.seq, WAIT_TIMEOUT).await)
    } else {
        None
    };
    let location = HeaderValue::from_str(&format!("/api/v1/curate/records/{}", change.row.id)).ok();
    let mut response = respond(status, view(change.row, indexed));
    if status == StatusCode::CREATED
        && let Some(location) = location
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CurateError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let store = state.store.clone();
    let change = blocking(move || curate::create(&store, &principal, body)).await?;
    Ok(finish(&state, change, wait, StatusCode::CREATED).await)
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let row = blocking(move || curate::get(&store, &principal, &id)).await?;
    Ok(respond(StatusCode::OK, view(row, None)))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let condition = if_match(&headers)?;
    let Json(body) = body?;
    let store = state.store.clone();
    let change = blocking(move || curate::update(&store, &principal, &id, condition.as_ref(), body)).await?;
    Ok(finish(&state, change, wait, StatusCode::OK).await)
}

async fn set_deleted(
    state: AppState,
    principal: Principal,
    id: String,
    wait: bool,
    headers: &HeaderMap,
    deleted: bool,
) -> Result<Response, ApiError> {
    let condition = if_match(headers)?;
    let store = state.store.clone();
    let change =
        blocking(move || curate::set_deleted(&store, &principal, &id, condition.as_ref(), deleted)).await?;
    Ok(finish(&state, change, wait, StatusCode::OK).await)
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    set_deleted(state, principal, id, wait, &headers, true).await
}

async fn restore(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    set_deleted(state, principal, id, wait, &headers, false).await
}

/// A page of curated records.
#[derive(Serialize, schemars::JsonSchema)]
struct ListResponse {
    total: u64,
    page: usize,
    page_size: usize,
    records: Vec<CuratedView>,
}

/// The list's parameters.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct ListQuery {
    /// A substring of the title, the brand or the id (at most 256 characters).
    #[schemars(length(max = 256))]
    q: Option<String>,
    /// Only these institutions (of one's own).
    #[serde(default)]
    institution: Vec<String>,
    /// Only special collections (`true`) or only the rest (`false`).
    special_collection: Option<Flag>,
    /// Only this brand.
    brand: Option<String>,
    /// Only records with this accessible format.
    accessible_format: Option<Term<schemas::AccessibleFormat>>,
    /// Only records for this audience.
    audience: Option<Term<schemas::Audience>>,
    /// Live records (the default), deleted ones, or all.
    #[serde(default)]
    status: Status,
    /// Page, from 1; `page × page_size` ≤ 10000.
    #[serde(default = "first_page")]
    #[schemars(range(min = 1, max = 10_000))]
    page: usize,
    /// Records per page.
    #[serde(default = "default_page_size")]
    #[schemars(range(min = 1, max = MAX_PAGE_SIZE))]
    page_size: usize,
}

fn first_page() -> usize {
    1
}

fn default_page_size() -> usize {
    20
}

/// Which records the list shows.
#[derive(Debug, Default, Clone, Copy, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// Not deleted.
    #[default]
    Live,
    /// Soft-deleted.
    Deleted,
    /// Both.
    All,
}

fn check_list_query(list: ListQuery) -> Result<(CuratedQuery, usize, usize), ApiError> {
    if list.q.as_ref().is_some_and(|q| q.chars().count() > 256) {
        return Err(ApiError::query_too_long("q has more than 256 characters"));
    }
    let page = in_range("page", list.page, 1..=10_000)?;
    let page_size = in_range("page_size", list.page_size, 1..=MAX_PAGE_SIZE)?;
    if page * page_size > 10_000 {
        return Err(ApiError::page_out_of_range(
            "page × page_size goes past result 10000",
        ));
    }
    let query = CuratedQuery {
        q: list.q,
        institutions: (!list.institution.is_empty()).then_some(list.institution),
        special_collection: list.special_collection.map(|Flag(f)| f),
        brand: list.brand,
        accessible_format: list.accessible_format.map(|Term(f)| f.as_str().into()),
        audience: list.audience.map(|Term(a)| a.as_str().into()),
        deleted: match list.status {
            Status::Live => Some(false),
            Status::Deleted => Some(true),
            Status::All => None,
        },
        limit: page_size,
        offset: (page - 1) * page_size,
        ..CuratedQuery::default()
    };
    Ok((query, page, page_size))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(list): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let (query, page, page_size) = check_list_query(list)?;
    let store = state.store.clone();
    let (rows, total) = blocking(move || curate::list(&store, &principal, query)).await?;
    let body = ListResponse {
        total,
        page,
        page_size,
        records: rows.into_iter().map(|row| view(row, None)).collect(),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

fn alt_text(alt: &str) -> Result<String, ApiError> {
    curate::check_alt(alt, "alt")
        .map_err(|error| ApiError::validation_failed(schemas::ValidationErrors { errors: vec![error] }))
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large("the upload is larger than allowed")
    } else {
        ApiError::invalid_body(format!("malformed multipart body: {}", err.body_text()))
    }
}

async fn upload_image(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, ApiError> {
    let condition = if_match(&headers)?;
    // Authorise before reading a byte of the body.
    {
        let store = state.store.clone();
        let (principal, id) = (principal.clone(), id.clone());
        blocking(move || curate::get(&store, &principal, &id)).await?;
    }
    let mut multipart = multipart.map_err(|e| ApiError::unsupported_media_type(e.body_text()))?;
    let limits = state.curation.image_limits();
    let (mut file, mut alt) = (None::<Vec<u8>>, None::<String>);
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if bytes.len() + chunk.len() > limits.max_bytes {
                        return Err(ApiError::payload_too_large(format!(
                            "the image is larger than {} bytes",
                            limits.max_bytes
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
            }
            Some("alt") => {
                let text = field.text().await.map_err(multipart_error)?;
                alt = Some(text);
            }
            _ => {}
        }
    }
    let alt = alt_text(alt.as_deref().unwrap_or(""))?;
    let file = file.ok_or_else(|| {
        ApiError::validation_failed(schemas::ValidationErrors {
            errors: vec![schemas::FieldError {
                field: "file".into(),
                code: "required",
                message: "the multipart field `file` is required".into(),
                message_zh: "缺少 file 字段".into(),
            }],
        })
    })?;
    let store = state.store.clone();
    let storage = ImageStorage::new(&state.data_dir, &state.store);
    let processed = images::process_and_store(file, limits, storage).await?;
    let image = CuratedImage {
        hash: processed.hash.clone(),
        alt,
        width: processed.width,
        height: processed.height,
    };
    let change =
        blocking(move || curate::add_image(&store, &principal, &id, condition.as_ref(), image)).await?;
    Ok(finish(&state, change, wait, StatusCode::CREATED).await)
}

/// One image of the new list.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ImageOrderEntry {
    hash: String,
    alt: String,
}

async fn update_images(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    headers: HeaderMap,
    body: Result<Json<Vec<ImageOrderEntry>>, JsonRejection>,
) -> Result<Response, ApiError> {
    let condition = if_match(&headers)?;
    let Json(entries) = body?;
    let wanted = entries.into_iter().map(|entry| (entry.hash, entry.alt)).collect();
    let store = state.store.clone();
    let change = blocking(move || {
        curate::set_images(
            &store,
            &principal,
            &id,
            condition.as_ref(),
            AuditAction::UpdateImages,
            wanted,
        )
    })
    .await?;
    Ok(finish(&state, change, wait, StatusCode::OK).await)
}

async fn delete_image(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, hash)): Path<(String, String)>,
    ApiQuery(WaitQuery { wait: Flag(wait) }): ApiQuery<WaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let condition = if_match(&headers)?;
    let store = state.store.clone();
    let change =
        blocking(move || curate::remove_image(&store, &principal, &id, condition.as_ref(), &hash)).await?;
    Ok(finish(&state, change, wait, StatusCode::OK).await)
}

async fn serve_image(
    State(state): State<AppState>,
    Path((hash, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let variant = Variant::from_file_name(&file).ok_or_else(ApiError::not_found)?;
    if !images::is_hash(&hash) {
        return Err(ApiError::not_found());
    }
    let etag = format!("\"{hash}-{}\"", variant.file_name());
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, cache);
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        return Ok(response);
    }
    // The local file, or on a shared store the store's bytes (cached as the file from then
    // on): an image written on another node is served here too.
    let storage = ImageStorage::new(&state.data_dir, &state.store);
    let bytes = tokio::task::spawn_blocking(move || storage.read(&hash, variant))
        .await??
        .ok_or_else(ApiError::not_found)?;
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    Ok(response)
}
