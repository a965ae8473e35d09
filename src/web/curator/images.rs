//! A record's images on its edit page: the upload form (file + required alt text, with a
//! script-drawn preview), and one form for the list that moves an image up or down,
//! changes alt texts or removes an image — each a submit button, so it works without
//! scripts.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use schemas::FieldError;
use tower_http::limit::RequestBodyLimitLayer;

use super::records::{EditView, edit_page, load, settle};
use super::{Curator, Failure, FormData, blocking, conflict, record_path, redirect, respond};
use crate::state::AppState;
use services::auth::secret;
use services::curate::images::{self, ImageError, ImageLimits, Variant};
use services::curate::{self, AuditAction, CurateError, IfMatch};
use store::curated::{CuratedImage, CuratedRow};

/// Room for the multipart framing and the small fields around the file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// The upload route, with its own body limits (see [`super::upload_router`]).
pub(super) fn upload_router(limits: &ImageLimits) -> Router<AppState> {
    let cap = limits.max_bytes + MULTIPART_OVERHEAD;
    Router::new()
        .route("/curator/records/{id}/images", post(upload))
        .layer(DefaultBodyLimit::max(cap))
        .layer(RequestBodyLimitLayer::new(cap))
}

fn field_error(field: &str, message_zh: String) -> FieldError {
    FieldError {
        field: field.into(),
        code: "invalid",
        message: message_zh.clone(),
        message_zh,
    }
}

fn error_of<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message_zh.as_str())
}

/// The images section of the edit page (`templates/curator/images.html`).
pub(super) struct ImagesView {
    pub(super) path: String,
    pub(super) csrf: String,
    pub(super) version: i64,
    /// Errors about the list itself (an image listed twice, or no longer on the record).
    pub(super) list_error: Option<String>,
    pub(super) items: Vec<ImageItem>,
    pub(super) file_hint: String,
    pub(super) file_error: Option<String>,
    pub(super) alt_error: Option<String>,
    pub(super) upload_alt: String,
    pub(super) max_bytes: usize,
    pub(super) max_alt_chars: usize,
}

/// One image of the list, with its alt text to edit and its buttons.
pub(super) struct ImageItem {
    pub(super) index: usize,
    /// `index + 1`, as people count.
    pub(super) n: usize,
    pub(super) thumb: String,
    pub(super) alt: String,
    pub(super) hash: String,
    pub(super) error: Option<String>,
    pub(super) first: bool,
    pub(super) last: bool,
}

impl ImagesView {
    /// The section for `row`. `errors` are of the upload form (`file`, `alt`) or of an
    /// image's alt text (`images[i].alt`).
    pub(super) fn new(
        curator: &Curator,
        limits: &ImageLimits,
        row: &CuratedRow,
        errors: &[FieldError],
        upload_alt: &str,
    ) -> ImagesView {
        let list = &row.state.images;
        let list_errors: Vec<&str> = errors
            .iter()
            .filter(|e| e.field.starts_with("images[") && e.field.ends_with("].hash"))
            .map(|e| e.message_zh.as_str())
            .collect();
        let megabytes = limits.max_bytes.div_ceil(1024 * 1024);
        ImagesView {
            path: record_path(&row.id),
            csrf: curator.csrf.clone(),
            version: row.version,
            list_error: (!list_errors.is_empty()).then(|| list_errors.join(" ")),
            items: list
                .iter()
                .enumerate()
                .map(|(i, image)| ImageItem {
                    index: i,
                    n: i + 1,
                    thumb: images::url(&image.hash, Variant::Thumb),
                    alt: image.alt.clone(),
                    hash: image.hash.clone(),
                    error: error_of(errors, &format!("images[{i}].alt")).map(str::to_string),
                    first: i == 0,
                    last: i + 1 == list.len(),
                })
                .collect(),
            file_hint: format!("JPEG、PNG 或 WebP，不超过 {megabytes} MB。上传后会去除拍摄地点等隐私信息。"),
            file_error: error_of(errors, "file").map(str::to_string),
            alt_error: error_of(errors, "alt").map(str::to_string),
            upload_alt: upload_alt.to_string(),
            max_bytes: limits.max_bytes,
            max_alt_chars: curate::MAX_ALT_CHARS,
        }
    }
}

/// The edit page again, with errors in the images section (422).
async fn refused(
    state: &AppState,
    curator: &Curator,
    row: &CuratedRow,
    errors: &[FieldError],
    upload_alt: &str,
) -> Result<Response, Failure> {
    let institutions = state.store.institutions()?;
    let mut view = EditView {
        upload_errors: errors,
        upload_alt,
        ..EditView::default()
    };
    view.done = "";
    Ok(respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        &edit_page(curator, &state.curation.image_limits(), &institutions, row, view),
    ))
}

/// The answer to a change made on a stale page.
fn stale(curator: &Curator, id: &str) -> Response {
    conflict(
        curator,
        "未保存：记录已被修改",
        "在您打开页面之后，这条记录（或它的图像）又被修改过。为避免覆盖对方的修改，本次没有保存。"
            .to_string(),
        id,
        "后再试。",
    )
}

fn image_error_message(err: ImageError, megabytes: usize) -> Result<String, Failure> {
    Ok(match err {
        ImageError::TooLarge(_) => {
            format!("图像太大：文件不能超过 {megabytes} MB，像素尺寸也有上限。请缩小后再上传。")
        }
        ImageError::Unsupported(_) => "只支持 JPEG、PNG 和 WebP 格式的图像。".into(),
        ImageError::Invalid(_) => "图像无法读取（文件不完整或已损坏）。".into(),
        err @ (ImageError::Io(_) | ImageError::Store(_)) if err.is_disk_full() => {
            tracing::error!("curator upload: {err}");
            "服务器存储空间已满，图像没有保存。请稍后再试。".into()
        }
        err @ (ImageError::Io(_) | ImageError::Store(_)) => {
            tracing::error!("curator upload: storing the image failed: {err}");
            return Err(Failure::Internal);
        }
    })
}

/// `POST /curator/records/{id}/images`: `multipart/form-data` with `csrf`, `version`,
/// `file` and `alt`. The CSRF token must come before the file, so that no file is read
/// for a forged request.
pub(super) async fn upload(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Failure> {
    let row = load(&state, &curator, id.clone()).await?;
    if row.state.deleted {
        return Err(Failure::BadRequest("这条记录已删除，请先恢复再上传图像。".into()));
    }
    let mut multipart = multipart.map_err(|_| Failure::BadRequest("上传表单的格式不正确。".into()))?;
    let limits = state.curation.image_limits();
    let megabytes = limits.max_bytes.div_ceil(1024 * 1024);
    let malformed = |_| Failure::BadRequest("上传中断或表单格式不正确，请重试。".into());
    let (mut csrf_ok, mut version, mut alt) = (false, None::<i64>, String::new());
    let mut file: Option<Vec<u8>> = None;
    let mut errors = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("csrf") => {
                let sent = field.text().await.map_err(malformed)?;
                csrf_ok = secret::equal(&sent, &curator.csrf);
            }
            Some("version") => version = field.text().await.map_err(malformed)?.trim().parse().ok(),
            Some("alt") => alt = field.text().await.map_err(malformed)?,
            Some("file") => {
                if !csrf_ok {
                    return Err(Failure::Csrf);
                }
                let mut bytes = Vec::new();
                let mut too_large = false;
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    if bytes.len() + chunk.len() > limits.max_bytes {
                        too_large = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                if too_large {
                    errors.push(field_error(
                        "file",
                        format!("图像太大：文件不能超过 {megabytes} MB。"),
                    ));
                    break;
                }
                file = Some(bytes).filter(|b| !b.is_empty());
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Failure::Csrf);
    }
    let alt_checked = curate::check_alt(&alt, "alt");
    if let Err(error) = &alt_checked {
        errors.push(error.clone());
    }
    if file.is_none() && !errors.iter().any(|e| e.field == "file") {
        errors.push(field_error("file", "请选择要上传的图像文件。".into()));
    }
    let (Some(file), Ok(alt_text), true) = (file, alt_checked, errors.is_empty()) else {
        return refused(&state, &curator, &row, &errors, &alt).await;
    };
    let storage = images::ImageStorage::new(&state.data_dir, &state.store);
    let processed = match images::process_and_store(file, limits, storage).await {
        Ok(processed) => processed,
        Err(err) => {
            let errors = [field_error("file", image_error_message(err, megabytes)?)];
            return refused(&state, &curator, &row, &errors, &alt).await;
        }
    };
    let image = CuratedImage {
        hash: processed.hash,
        alt: alt_text,
        width: processed.width,
        height: processed.height,
    };
    let condition = version.map(|v| IfMatch::Tags(vec![curate::etag(v)]));
    let store = state.store.clone();
    let principal = curator.principal.clone();
    let target = id.clone();
    let outcome =
        blocking(move || curate::add_image(&store, &principal, &target, condition.as_ref(), image)).await?;
    match outcome {
        Ok(change) => {
            settle(&state, change.seq).await;
            Ok(redirect(&format!("{}?done=uploaded#h-images", record_path(&id))))
        }
        Err(CurateError::PreconditionFailed { .. }) => Ok(stale(&curator, &id)),
        Err(CurateError::Invalid(invalid)) => refused(&state, &curator, &row, &invalid.errors, &alt).await,
        Err(other) => Err(other.into()),
    }
}

/// `POST /curator/records/{id}/images/change`: the list as shown (`hash` and `alt`, in
/// order) and the button pressed (`action`: `up:{hash}`, `down:{hash}`, `delete:{hash}` or
/// `save`).
pub(super) async fn change(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, Failure> {
    let submitted = FormData::parse(&body);
    curator.check_csrf(&submitted)?;
    let row = load(&state, &curator, id.clone()).await?;
    let hashes = submitted.all("hash");
    let alts = submitted.all("alt");
    if hashes.len() != alts.len() {
        return Err(Failure::BadRequest("图像表单不完整，请刷新页面后重试。".into()));
    }
    let mut wanted: Vec<(String, String)> = hashes
        .iter()
        .zip(&alts)
        .map(|(hash, alt)| (hash.to_string(), alt.to_string()))
        .collect();
    let action = submitted.get("action");
    let (verb, target) = action.split_once(':').unwrap_or((action, ""));
    let position = wanted.iter().position(|(hash, _)| hash == target);
    let audit_action = match (verb, position) {
        ("save", _) => AuditAction::UpdateImages,
        ("up", Some(i)) if i > 0 => {
            wanted.swap(i, i - 1);
            AuditAction::UpdateImages
        }
        ("down", Some(i)) if i + 1 < wanted.len() => {
            wanted.swap(i, i + 1);
            AuditAction::UpdateImages
        }
        ("delete", Some(i)) => {
            wanted.remove(i);
            AuditAction::DeleteImage
        }
        ("up" | "down", Some(_)) => AuditAction::UpdateImages,
        _ => return Err(Failure::BadRequest("无法识别的操作，请刷新页面后重试。".into())),
    };
    let condition = submitted
        .get("version")
        .trim()
        .parse::<i64>()
        .ok()
        .map(|v| IfMatch::Tags(vec![curate::etag(v)]));
    let store = state.store.clone();
    let principal = curator.principal.clone();
    let target_id = id.clone();
    let outcome = blocking(move || {
        curate::set_images(
            &store,
            &principal,
            &target_id,
            condition.as_ref(),
            audit_action,
            wanted,
        )
    })
    .await?;
    match outcome {
        Ok(change) => {
            settle(&state, change.seq).await;
            Ok(redirect(&format!("{}?done=images#h-images", record_path(&id))))
        }
        Err(CurateError::PreconditionFailed { .. }) => Ok(stale(&curator, &id)),
        Err(CurateError::Invalid(invalid)) => {
            // The list as shown: `[i].alt` of the service is `images[i].alt` on the page.
            let errors: Vec<FieldError> = invalid
                .errors
                .into_iter()
                .map(|error| FieldError {
                    field: format!("images{}", error.field),
                    ..error
                })
                .collect();
            refused(&state, &curator, &row, &errors, "").await
        }
        Err(other) => Err(other.into()),
    }
}
