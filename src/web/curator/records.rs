//! Creating, editing, deleting and restoring a curated record from its pages.
//!
//! A saved change is committed by the curation service before the page answers; the
//! handler then waits (briefly) for the index, so that the record the curator is redirected
//! to is already findable in the citizen search.

use std::time::Duration;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use schemas::FieldError;

use super::form::{self, Control, FormContext, FormView, RecordForm};
use super::images::ImagesView;
use super::{
    Curator, Failure, FormData, Who, blocking, conflict, done_message, id_segment, institution_name,
    local_time, own_institutions, query_pairs, record_path, redirect, respond,
};
use crate::state::AppState;
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

/// `templates/curator/create.html`.
#[derive(Template)]
#[template(path = "curator/create.html")]
pub(super) struct CreatePage {
    title: &'static str,
    who: Option<Who>,
    form: FormView,
}

/// The create page, with `values` and `errors`.
fn create_page(
    curator: &Curator,
    institutions: &[schemas::Institution],
    values: &RecordForm,
    errors: &[FieldError],
) -> CreatePage {
    let options = institution_options(institutions);
    CreatePage {
        title: if errors.is_empty() {
            "新建记录"
        } else {
            "新建记录（有错误）"
        },
        who: curator.who(),
        form: form::view(
            values,
            &FormContext {
                action: "/curator/records",
                csrf: &curator.csrf,
                institutions: &options,
                fixed_institution: None,
                submit: "创建记录",
            },
            errors,
        ),
    }
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
    /// The record changed since the form was rendered from version `sent`.
    pub conflict: Option<Conflict>,
    /// `?done=…`
    pub done: &'a str,
    /// Errors of the image upload form, and the alt text entered there.
    pub upload_errors: &'a [FieldError],
    pub upload_alt: &'a str,
}

/// Who changed the record since the form was rendered, and when.
pub(super) struct Conflict {
    updated_by: String,
    updated_at: String,
    version: i64,
    /// The version the form was rendered from, or `?`.
    sent: String,
}

/// `templates/curator/edit.html`.
#[derive(Template)]
#[template(path = "curator/edit.html")]
pub(super) struct EditPage {
    title: String,
    who: Option<Who>,
    csrf: String,
    record_title: String,
    done: Option<&'static str>,
    institution: String,
    version: i64,
    updated_by: String,
    updated_at: String,
    path: String,
    /// The record's citizen page, unless it is deleted.
    public_href: Option<String>,
    conflict: Option<Conflict>,
    /// The record form; none for a deleted record, which can only be restored.
    form: Option<FormView>,
    images: ImagesView,
}

/// The edit page of `row`.
pub(super) fn edit_page(
    curator: &Curator,
    limits: &ImageLimits,
    institutions: &[schemas::Institution],
    row: &CuratedRow,
    view: EditView<'_>,
) -> EditPage {
    let record = &row.state.record;
    let institution = institution_name(institutions, &row.state.institution);
    let path = record_path(&row.id);
    let title = if row.state.deleted {
        format!("{}（已删除）", record.title)
    } else if view.errors.is_empty() && view.conflict.is_none() {
        format!("编辑：{}", record.title)
    } else {
        format!("编辑（有错误）：{}", record.title)
    };
    let form = (!row.state.deleted).then(|| {
        let values = view
            .values
            .unwrap_or_else(|| RecordForm::from_record(record, row.version));
        form::view(
            &values,
            &FormContext {
                action: &path,
                csrf: &curator.csrf,
                institutions: &[],
                fixed_institution: Some(&institution),
                submit: "保存修改",
            },
            view.errors,
        )
    });
    EditPage {
        title,
        who: curator.who(),
        csrf: curator.csrf.clone(),
        record_title: record.title.clone(),
        done: done_message(view.done),
        version: row.version,
        updated_by: row.updated_by.clone(),
        updated_at: local_time(&row.updated_at),
        public_href: (!row.state.deleted).then(|| format!("/records/{}", id_segment(&row.id))),
        conflict: view.conflict,
        form,
        images: ImagesView::new(curator, limits, row, view.upload_errors, view.upload_alt),
        institution,
        path,
    }
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
fn conflict_with(current: &CuratedRow, sent: Option<i64>) -> Conflict {
    Conflict {
        updated_by: current.updated_by.clone(),
        updated_at: local_time(&current.updated_at),
        version: current.version,
        sent: sent.map_or_else(|| "?".to_string(), |v| v.to_string()),
    }
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
    let refused =
        |row: &CuratedRow, status: StatusCode, errors: &[FieldError], conflict: Option<Conflict>| {
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
                        conflict,
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
            Some(conflict_with(&row, None)),
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
                Some(conflict_with(&current, values.version)),
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
        Err(CurateError::PreconditionFailed { .. }) => Ok(conflict(
            &curator,
            "未执行：记录已被修改",
            format!(
                "在您打开页面之后，这条记录又被修改过。为避免误操作，本次没有{}。",
                if deleted { "删除" } else { "恢复" }
            ),
            &id,
            "核对后再试。",
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
