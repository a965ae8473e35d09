//! `GET`/`POST /curator/statistics`: a curator uploads a CSV file of daily service statistics
//! (loans, visits, event attendance, online views) for one of their institutions (admins:
//! any), checked row by row by [`services::statistics`]. The page shows what was stored and
//! every refused row with its column and reason; valid rows are stored even when others
//! fail, and a day uploaded again replaces its figures.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Curator, Failure, Who, blocking, own_institutions, respond};
use crate::state::AppState;
use services::analytics::today;
use services::auth::secret;
use services::statistics::{self, Report, Reporter};

/// An institution to choose.
struct Choice {
    id: String,
    name: String,
    selected: bool,
}

/// `templates/curator/statistics.html`.
#[derive(Template)]
#[template(path = "curator/statistics.html")]
struct StatisticsPage {
    title: &'static str,
    who: Option<Who>,
    csrf: String,
    choices: Vec<Choice>,
    max_kb: usize,
    max_rows: usize,
    /// The last upload's outcome, if this is its answer.
    report: Option<Report>,
    /// The encoding the file was read in.
    encoding: &'static str,
    /// Why the upload was not read at all.
    problem: Option<String>,
}

fn page(
    state: &AppState,
    curator: &Curator,
    chosen: &str,
    report: Option<Report>,
    encoding: &'static str,
    problem: Option<String>,
) -> Result<StatisticsPage, Failure> {
    let choices = own_institutions(state, curator)?
        .into_iter()
        .map(|i| Choice {
            selected: i.id == chosen,
            id: i.id,
            name: i.name,
        })
        .collect();
    Ok(StatisticsPage {
        title: "上传服务统计",
        who: curator.who(),
        csrf: curator.csrf.clone(),
        choices,
        max_kb: statistics::MAX_UPLOAD_BYTES / 1024,
        max_rows: statistics::MAX_ROWS,
        report,
        encoding,
        problem,
    })
}

/// `GET /curator/statistics`: the upload form.
pub(super) async fn form(State(state): State<AppState>, curator: Curator) -> Result<Response, Failure> {
    Ok(respond(
        StatusCode::OK,
        &page(&state, &curator, "", None, "", None)?,
    ))
}

/// `POST /curator/statistics`: `multipart/form-data` with `csrf`, `institution` and `file`,
/// in that order (no file is read for a forged request).
pub(super) async fn upload(
    State(state): State<AppState>,
    curator: Curator,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, Failure> {
    let mut multipart = multipart.map_err(|_| Failure::BadRequest("上传表单的格式不正确。".into()))?;
    let malformed = |_| Failure::BadRequest("上传中断或表单格式不正确，请重试。".into());
    let (mut csrf_ok, mut institution) = (false, String::new());
    let mut file: Option<Vec<u8>> = None;
    let mut too_large = false;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        match field.name() {
            Some("csrf") => csrf_ok = secret::equal(&field.text().await.map_err(malformed)?, &curator.csrf),
            Some("institution") => institution = field.text().await.map_err(malformed)?.trim().to_string(),
            Some("file") => {
                if !csrf_ok {
                    return Err(Failure::Csrf);
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    if bytes.len() + chunk.len() > statistics::MAX_UPLOAD_BYTES {
                        too_large = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some(bytes);
                if too_large {
                    break;
                }
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(Failure::Csrf);
    }
    let known = state.store.institutions()?;
    let reporter = Reporter::account(&curator.principal, &known, Some(&institution));
    if !reporter.may_report(&institution) {
        return Err(Failure::Forbidden);
    }
    let problem = if too_large {
        Some(format!(
            "文件超过 {} KB，没有保存任何数据。请分成几个文件上传。",
            statistics::MAX_UPLOAD_BYTES / 1024
        ))
    } else if file.as_ref().is_none_or(|f| f.is_empty()) {
        Some("请选择要上传的 CSV 文件。".into())
    } else {
        None
    };
    let bytes = match (problem, file) {
        (None, Some(bytes)) => bytes,
        (problem, _) => {
            let view = page(&state, &curator, &institution, None, "", problem)?;
            return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &view));
        }
    };
    let checked = statistics::read_csv(&bytes, &reporter, today());
    let encoding = checked.encoding.unwrap_or("");
    let store = state.store.clone();
    let actor = curator.principal.username.clone();
    let report = blocking(move || Ok(statistics::submit(&store, &actor, checked)?)).await??;
    let status = if report.errors.is_empty() || report.accepted > 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = page(&state, &curator, &institution, Some(report), encoding, None)?;
    Ok(respond(status, &view))
}
