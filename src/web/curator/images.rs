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
use super::{Curator, Failure, FormData, blocking, page, record_path, redirect, respond};
use crate::state::AppState;
use crate::web::html::escape;
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

/// The images section of the edit page. `errors` are of the upload form (`file`, `alt`) or
/// of an image's alt text (`images[i].alt`).
pub(super) fn section(
    curator: &Curator,
    limits: &ImageLimits,
    row: &CuratedRow,
    errors: &[FieldError],
    upload_alt: &str,
) -> String {
    let path = record_path(&row.id);
    let csrf = curator.csrf_field();
    let version = format!(
        "<input type=\"hidden\" name=\"version\" value=\"{}\">",
        row.version
    );
    let mut out = String::from(
        "<section class=\"images\" aria-labelledby=\"h-images\"><h2 id=\"h-images\">图像</h2>\n",
    );
    let list = &row.state.images;
    // Errors about the list itself (an image listed twice, or no longer on the record).
    let list_errors: Vec<&str> = errors
        .iter()
        .filter(|e| e.field.starts_with("images[") && e.field.ends_with("].hash"))
        .map(|e| e.message_zh.as_str())
        .collect();
    if !list_errors.is_empty() {
        out.push_str(&format!(
            "<div class=\"error-summary\" role=\"alert\" id=\"images-error\"><p>{}</p></div>\n",
            escape(&list_errors.join(" "))
        ));
    }
    if list.is_empty() {
        out.push_str("<p>还没有图像。</p>\n");
    } else {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{path}/images/change\">{csrf}{version}\n<ol class=\"image-list\">\n"
        ));
        for (i, image) in list.iter().enumerate() {
            let key = format!("images[{i}].alt");
            let error = error_of(errors, &key);
            let (invalid, message) = match error {
                Some(m) => (
                    format!(" aria-invalid=\"true\" aria-describedby=\"alt-{i}-error\""),
                    format!("<p class=\"field-error\" id=\"alt-{i}-error\">{}</p>", escape(m)),
                ),
                None => (String::new(), String::new()),
            };
            let n = i + 1;
            out.push_str(&format!(
                "<li class=\"image-item\"><img src=\"{thumb}\" alt=\"{alt}\" loading=\"lazy\">\
<div class=\"field{cls}\"><label for=\"alt-{i}\">第 {n} 张的替代文字<span class=\"req\">（必填）</span></label>{message}\
<input id=\"alt-{i}\" name=\"alt\" type=\"text\" value=\"{alt}\" required{invalid}>\
<input type=\"hidden\" name=\"hash\" value=\"{hash}\"></div>\
<div class=\"image-actions\">\
<button type=\"submit\" name=\"action\" value=\"up:{hash}\" aria-label=\"第 {n} 张上移\"{first}>上移</button>\
<button type=\"submit\" name=\"action\" value=\"down:{hash}\" aria-label=\"第 {n} 张下移\"{last}>下移</button>\
<button type=\"submit\" name=\"action\" value=\"delete:{hash}\" class=\"danger\" aria-label=\"删除第 {n} 张\" \
data-confirm=\"确定删除这张图像吗？\">删除</button></div></li>\n",
                thumb = escape(&images::url(&image.hash, Variant::Thumb)),
                alt = escape(&image.alt),
                hash = escape(&image.hash),
                cls = if error.is_some() { " invalid" } else { "" },
                first = if i == 0 { " disabled" } else { "" },
                last = if n == list.len() { " disabled" } else { "" },
            ));
        }
        out.push_str(
            "</ol>\n<div class=\"actions\"><button type=\"submit\" name=\"action\" value=\"save\">保存替代文字</button></div>\n</form>\n",
        );
    }
    let megabytes = limits.max_bytes.div_ceil(1024 * 1024);
    let upload_field = |key: &str, label: &str, hint: &str, control: &str| {
        let error = error_of(errors, key);
        let described = match error {
            Some(_) => format!("{key}-hint {key}-error"),
            None => format!("{key}-hint"),
        };
        let control = control.replace("{described}", &described).replace(
            "{invalid}",
            if error.is_some() {
                " aria-invalid=\"true\""
            } else {
                ""
            },
        );
        format!(
            "<div class=\"field{}\" id=\"field-{key}\"><label for=\"f-{key}\">{label}<span class=\"req\">（必填）</span></label>\
<p class=\"hint\" id=\"{key}-hint\">{}</p>{}{control}</div>\n",
            if error.is_some() { " invalid" } else { "" },
            escape(hint),
            error.map_or_else(String::new, |m| format!(
                "<p class=\"field-error\" id=\"{key}-error\">{}</p>",
                escape(m)
            )),
        )
    };
    out.push_str(&format!(
        "<h3 id=\"h-upload\">上传图像</h3>\n<form class=\"upload\" method=\"post\" action=\"{path}/images\" \
enctype=\"multipart/form-data\" aria-labelledby=\"h-upload\">{csrf}{version}\n"
    ));
    out.push_str(&upload_field(
        "file",
        "图像文件",
        &format!("JPEG、PNG 或 WebP，不超过 {megabytes} MB。上传后会去除拍摄地点等隐私信息。"),
        &format!(
            "<input id=\"f-file\" name=\"file\" type=\"file\" accept=\"image/jpeg,image/png,image/webp\" required \
data-max-bytes=\"{}\" data-preview=\"upload-preview\" aria-describedby=\"{{described}}\"{{invalid}}>",
            limits.max_bytes
        ),
    ));
    out.push_str(
        "<figure class=\"preview\" id=\"upload-preview-box\" hidden><img id=\"upload-preview\" alt=\"\">\
<figcaption>预览（尚未上传）</figcaption></figure>\n",
    );
    out.push_str(&upload_field(
        "alt",
        "替代文字",
        "用一句话说明图像内容，供看不见图像的读者使用，如：铜奔马侧面，昂首嘶鸣，右后蹄踏飞燕。",
        &format!(
            "<input id=\"f-alt\" name=\"alt\" type=\"text\" maxlength=\"{}\" value=\"{}\" required \
aria-describedby=\"{{described}}\"{{invalid}}>",
            curate::MAX_ALT_CHARS,
            escape(upload_alt)
        ),
    ));
    out.push_str(
        "<div class=\"actions\"><button type=\"submit\">上传图像</button></div>\n</form>\n</section>\n",
    );
    out
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
fn conflict(curator: &Curator, id: &str) -> Response {
    respond(
        StatusCode::CONFLICT,
        &page(
            "记录已被修改",
            Some(curator),
            &format!(
                "<div class=\"error-summary\" role=\"alert\"><h1>未保存：记录已被修改</h1>\
<p>在您打开页面之后，这条记录（或它的图像）又被修改过。为避免覆盖对方的修改，本次没有保存。\
请<a href=\"{}\">打开最新版本</a>后再试。</p></div>",
                record_path(id)
            ),
        ),
    )
}

fn image_error_message(err: ImageError, megabytes: usize) -> Result<String, Failure> {
    Ok(match err {
        ImageError::TooLarge(_) => {
            format!("图像太大：文件不能超过 {megabytes} MB，像素尺寸也有上限。请缩小后再上传。")
        }
        ImageError::Unsupported(_) => "只支持 JPEG、PNG 和 WebP 格式的图像。".into(),
        ImageError::Invalid(_) => "图像无法读取（文件不完整或已损坏）。".into(),
        ImageError::Io(err) => {
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
    let dir = images::images_dir(&state.data_dir);
    let processed = tokio::task::spawn_blocking(move || -> Result<_, ImageError> {
        let processed = images::process(&file, &limits)?;
        images::store(&dir, &processed)?;
        Ok(processed)
    })
    .await?;
    let processed = match processed {
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
        Err(CurateError::PreconditionFailed { .. }) => Ok(conflict(&curator, &id)),
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
        Err(CurateError::PreconditionFailed { .. }) => Ok(conflict(&curator, &id)),
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
