//! Creating, editing, deleting and restoring a curated record from its pages.
//!
//! A saved change is committed by the curation service before the page answers; the
//! handler then waits (briefly) for the index, so that the record the curator is redirected
//! to is already findable in the citizen search.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use schemas::FieldError;

use super::form::{self, FormContext, RecordForm};
use super::{
    Curator, Failure, FormData, blocking, done_block, id_segment, images, institution_name, local_time,
    own_institutions, page, query_pairs, record_path, redirect, respond,
};
use crate::state::AppState;
use crate::web::html::escape;
use services::curate::images::ImageLimits;
use services::curate::{self, CurateError, IfMatch};
use store::curated::CuratedRow;

/// Longest a saved page waits for its change to become searchable.
const INDEX_WAIT: Duration = Duration::from_secs(2);

/// Wakes the index follower and waits (briefly) until change `seq` is searchable.
pub(super) async fn settle(state: &AppState, seq: u64) {
    state.indexing.wake();
    state.indexing.wait_for(seq, INDEX_WAIT).await;
}

fn institution_options(institutions: &[schemas::Institution]) -> Vec<(String, String)> {
    institutions
        .iter()
        .map(|i| (i.id.clone(), i.name.clone()))
        .collect()
}

/// The create page, with `values` and `errors`.
fn create_page(
    curator: &Curator,
    institutions: &[schemas::Institution],
    values: &RecordForm,
    errors: &[FieldError],
) -> String {
    let options = institution_options(institutions);
    let csrf = curator.csrf_field();
    let form = form::render(
        values,
        &FormContext {
            action: "/curator/records",
            csrf_field: &csrf,
            institutions: &options,
            fixed_institution: None,
            submit: "创建记录",
        },
        errors,
    );
    page(
        if errors.is_empty() {
            "新建记录"
        } else {
            "新建记录（有错误）"
        },
        Some(curator),
        &format!(
            "<p class=\"crumbs\"><a href=\"/curator\">我的记录</a> › 新建</p>\n<h1>新建记录</h1>\n\
<p class=\"hint\">保存后即可上传图像。标有“必填”的项目必须填写。</p>\n{form}"
        ),
    )
}

/// `GET /curator/records/new`
pub(super) async fn new_form(State(state): State<AppState>, curator: Curator) -> Result<Response, Failure> {
    let institutions = own_institutions(&state, &curator)?;
    let values = RecordForm {
        resource_type: "other".into(),
        ..RecordForm::default()
    };
    Ok(respond(
        StatusCode::OK,
        &create_page(&curator, &institutions, &values, &[]),
    ))
}

/// The service's validation of `body` without writing anything (to list every error at once
/// when the form already found some of its own).
fn schema_errors(body: serde_json::Value) -> Vec<FieldError> {
    match curate::parse_record(body, "curated-form:check") {
        Ok(_) => Vec::new(),
        Err(invalid) => invalid.errors,
    }
}

/// `POST /curator/records`
pub(super) async fn create(
    State(state): State<AppState>,
    curator: Curator,
    body: Bytes,
) -> Result<Response, Failure> {
    let submitted = FormData::parse(&body);
    curator.check_csrf(&submitted)?;
    let values = RecordForm::from_form(&submitted);
    let institutions = own_institutions(&state, &curator)?;
    let (body, mut errors) = values.to_body(None);
    let chosen = values.institution.trim();
    if chosen.is_empty() {
        errors.push(FieldError {
            field: "institution".into(),
            code: "required",
            message: "choose an institution".into(),
            message_zh: "请选择所属机构。".into(),
        });
    } else if !institutions.iter().any(|i| i.id == chosen) {
        errors.push(FieldError {
            field: "institution".into(),
            code: "forbidden",
            message: "not one of your institutions".into(),
            message_zh: "只能为您负责的机构创建记录。".into(),
        });
    }
    let unprocessable = |curator: &Curator, errors: &[FieldError]| {
        respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            &create_page(curator, &institutions, &values, errors),
        )
    };
    if !errors.is_empty() {
        let page_found_institution = errors.iter().any(|e| e.field == "institution");
        errors.extend(
            schema_errors(body)
                .into_iter()
                .filter(|e| !(page_found_institution && e.field == "institution")),
        );
        return Ok(unprocessable(&curator, &errors));
    }
    let store = state.store.clone();
    let principal = curator.principal.clone();
    match blocking(move || curate::create(&store, &principal, body)).await? {
        Ok(change) => {
            settle(&state, change.seq).await;
            Ok(redirect(&format!("{}?done=created", record_path(&change.row.id))))
        }
        Err(CurateError::Invalid(invalid)) => Ok(unprocessable(&curator, &invalid.errors)),
        Err(other) => Err(other.into()),
    }
}

/// What the edit page shows besides the record.
#[derive(Default)]
pub(super) struct EditView<'a> {
    /// The form's values (the stored record's unless a submission was refused).
    pub values: Option<RecordForm>,
    /// Errors beside the record form's fields.
    pub errors: &'a [FieldError],
    /// A message about the whole form (a conflicting edit), as HTML.
    pub alert_html: Option<String>,
    /// `?done=…`
    pub done: &'a str,
    /// Errors of the image upload form, and the alt text entered there.
    pub upload_errors: &'a [FieldError],
    pub upload_alt: &'a str,
}

/// The edit page of `row`.
pub(super) fn edit_page(
    curator: &Curator,
    limits: &ImageLimits,
    institutions: &[schemas::Institution],
    row: &CuratedRow,
    view: EditView<'_>,
) -> String {
    let record = &row.state.record;
    let institution = institution_name(institutions, &row.state.institution);
    let path = record_path(&row.id);
    let mut main = format!(
        "<p class=\"crumbs\"><a href=\"/curator\">我的记录</a> › 编辑</p>\n<h1>{}</h1>\n{}\
<p class=\"meta\">{} · 第 {} 版 · 最后由 {} 修改于 {} · <a href=\"{path}/history\">修改历史</a>{}</p>\n",
        escape(&record.title),
        done_block(view.done),
        escape(&institution),
        row.version,
        escape(&row.updated_by),
        escape(&local_time(&row.updated_at)),
        if row.state.deleted {
            String::new()
        } else {
            format!(" · <a href=\"/records/{}\">公众页面</a>", id_segment(&row.id))
        },
    );
    if let Some(alert) = &view.alert_html {
        main.push_str(&format!(
            "<div class=\"error-summary conflict\" role=\"alert\" id=\"conflict\" tabindex=\"-1\">{alert}</div>\n"
        ));
    }
    if row.state.deleted {
        main.push_str(&format!(
            "<div class=\"notice\"><p>这条记录已删除，公众检索中不再显示。恢复后可继续编辑。</p>\
<form method=\"post\" action=\"{path}/restore\">{}<input type=\"hidden\" name=\"version\" value=\"{}\">\
<button type=\"submit\">恢复记录</button></form></div>\n",
            curator.csrf_field(),
            row.version
        ));
        return page(&format!("{}（已删除）", record.title), Some(curator), &main);
    }
    let values = view
        .values
        .unwrap_or_else(|| RecordForm::from_record(record, row.version));
    let csrf = curator.csrf_field();
    main.push_str("<section aria-labelledby=\"h-record\"><h2 id=\"h-record\">记录内容</h2>\n");
    main.push_str(&form::render(
        &values,
        &FormContext {
            action: &path,
            csrf_field: &csrf,
            institutions: &[],
            fixed_institution: Some(&institution),
            submit: "保存修改",
        },
        view.errors,
    ));
    main.push_str("</section>\n");
    main.push_str(&images::section(
        curator,
        limits,
        row,
        view.upload_errors,
        view.upload_alt,
    ));
    main.push_str(&format!(
        "<section class=\"danger\" aria-labelledby=\"h-delete\"><h2 id=\"h-delete\">删除记录</h2>\
<p>删除后记录从公众检索中消失，可随时在“已删除”列表中恢复。</p>\
<form method=\"post\" action=\"{path}/delete\" data-confirm=\"确定删除这条记录吗？\">{csrf}\
<input type=\"hidden\" name=\"version\" value=\"{}\"><button type=\"submit\" class=\"danger\">删除记录</button></form></section>\n",
        row.version
    ));
    let title = if view.errors.is_empty() && view.alert_html.is_none() {
        format!("编辑：{}", record.title)
    } else {
        format!("编辑（有错误）：{}", record.title)
    };
    page(&title, Some(curator), &main)
}

/// Reads the record `id` for `curator` (authorised by the service).
pub(super) async fn load(state: &AppState, curator: &Curator, id: String) -> Result<CuratedRow, Failure> {
    let store = state.store.clone();
    let principal = curator.principal.clone();
    Ok(blocking(move || curate::get(&store, &principal, &id)).await??)
}

/// `GET /curator/records/{id}`
pub(super) async fn edit(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let row = load(&state, &curator, id).await?;
    let institutions = state.store.institutions()?;
    let query = query_pairs(raw.as_deref());
    let view = EditView {
        done: query.get("done"),
        ..EditView::default()
    };
    Ok(respond(
        StatusCode::OK,
        &edit_page(
            &curator,
            &state.curation.image_limits(),
            &institutions,
            &row,
            view,
        ),
    ))
}

/// The version a form was rendered from, as `If-Match`.
fn if_match(form: &FormData) -> Option<IfMatch> {
    form.get("version")
        .trim()
        .parse::<i64>()
        .ok()
        .map(|v| IfMatch::Tags(vec![curate::etag(v)]))
}

/// The message shown when a form was rendered from an older version than the stored one.
fn conflict_html(current: &CuratedRow, sent: Option<i64>) -> String {
    format!(
        "<h2>未保存：这条记录已被修改</h2><p>在您编辑期间，{} 于 {} 修改了这条记录（现为第 {} 版，\
您的表单基于第 {} 版）。为避免覆盖对方的修改，本次没有保存。</p>\
<p>下面保留了您填写的内容。请<a href=\"{}\">打开最新版本</a>，核对后把您的修改重新填入再保存。</p>",
        escape(&current.updated_by),
        escape(&local_time(&current.updated_at)),
        current.version,
        sent.map_or_else(|| "?".to_string(), |v| v.to_string()),
        record_path(&current.id)
    )
}

/// `POST /curator/records/{id}`: saves the form (with the version it was rendered from).
pub(super) async fn update(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    let submitted = FormData::parse(&body);
    curator.check_csrf(&submitted)?;
    let row = load(&state, &curator, id.clone()).await?;
    if row.state.deleted {
        return Err(Failure::BadRequest("这条记录已删除，请先恢复再编辑。".into()));
    }
    let institutions = state.store.institutions()?;
    let limits = state.curation.image_limits();
    let values = RecordForm::from_form(&submitted);
    let (body, mut errors) = values.to_body(Some(&row.state.record));
    let condition = if_match(&submitted);
    let refused = |row: &CuratedRow, status: StatusCode, errors: &[FieldError], alert: Option<String>| {
        respond(
            status,
            &edit_page(
                &curator,
                &limits,
                &institutions,
                row,
                EditView {
                    values: Some(values.clone()),
                    errors,
                    alert_html: alert,
                    ..EditView::default()
                },
            ),
        )
    };
    if condition.is_none() {
        return Ok(refused(
            &row,
            StatusCode::CONFLICT,
            &[],
            Some(conflict_html(&row, None)),
        ));
    }
    if !errors.is_empty() {
        errors.extend(schema_errors(body));
        return Ok(refused(&row, StatusCode::UNPROCESSABLE_ENTITY, &errors, None));
    }
    let store = state.store.clone();
    let principal = curator.principal.clone();
    let outcome = blocking(move || curate::update(&store, &principal, &id, condition.as_ref(), body)).await?;
    match outcome {
        Ok(change) => {
            settle(&state, change.seq).await;
            Ok(redirect(&format!("{}?done=saved", record_path(&change.row.id))))
        }
        Err(CurateError::Invalid(invalid)) => Ok(refused(
            &row,
            StatusCode::UNPROCESSABLE_ENTITY,
            &invalid.errors,
            None,
        )),
        Err(CurateError::PreconditionFailed { .. }) => {
            let current = load(&state, &curator, row.id.clone()).await?;
            Ok(refused(
                &current,
                StatusCode::CONFLICT,
                &[],
                Some(conflict_html(&current, values.version)),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

async fn set_deleted(
    state: AppState,
    curator: Curator,
    id: String,
    body: Bytes,
    deleted: bool,
) -> Result<Response, Failure> {
    let submitted = FormData::parse(&body);
    curator.check_csrf(&submitted)?;
    let condition = if_match(&submitted);
    let store = state.store.clone();
    let principal = curator.principal.clone();
    let target = id.clone();
    let outcome =
        blocking(move || curate::set_deleted(&store, &principal, &target, condition.as_ref(), deleted))
            .await?;
    match outcome {
        Ok(change) => {
            settle(&state, change.seq).await;
            Ok(if deleted {
                redirect("/curator?done=deleted")
            } else {
                redirect(&format!("{}?done=restored", record_path(&change.row.id)))
            })
        }
        Err(CurateError::PreconditionFailed { .. }) => Ok(respond(
            StatusCode::CONFLICT,
            &page(
                "记录已被修改",
                Some(&curator),
                &format!(
                    "<div class=\"error-summary\" role=\"alert\"><h1>未执行：记录已被修改</h1>\
<p>在您打开页面之后，这条记录又被修改过。为避免误操作，本次没有{}。请<a href=\"{}\">打开最新版本</a>核对后再试。</p></div>",
                    if deleted { "删除" } else { "恢复" },
                    record_path(&id)
                ),
            ),
        )),
        Err(other) => Err(other.into()),
    }
}

/// `POST /curator/records/{id}/delete`
pub(super) async fn delete(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    set_deleted(state, curator, id, body, true).await
}

/// `POST /curator/records/{id}/restore`
pub(super) async fn restore(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Failure> {
    set_deleted(state, curator, id, body, false).await
}
