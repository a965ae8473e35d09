//! `GET /curator`: the curator's own records, newest change first, with a search box and
//! filters (live or deleted, resource type, and institution for curators of several). The
//! service restricts the list to the account's institutions; asking for another one is a
//! 403 page.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use schemas::ResourceType;

use super::{
    Curator, Failure, Who, blocking, done_message, institution_name, local_time, own_institutions,
    query_pairs, record_path, respond,
};
use crate::state::AppState;
use services::curate;
use store::curated::CuratedQuery;

/// Records per page.
const PAGE_SIZE: usize = 20;
/// Deepest page.
const MAX_PAGE: usize = 500;

/// One `<option>` of a filter.
struct Choice {
    value: String,
    text: String,
    selected: bool,
}

fn option(value: &str, text: &str, selected: &str) -> Choice {
    Choice {
        value: value.to_string(),
        text: text.to_string(),
        selected: value == selected,
    }
}

/// One of the curator's records.
struct Row {
    path: String,
    title: String,
    special: bool,
    kind: &'static str,
    institution: String,
    deleted: bool,
    updated_by: String,
    updated_at: String,
    version: i64,
}

/// `templates/curator/list.html`.
#[derive(Template)]
#[template(path = "curator/list.html")]
struct ListPage<'a> {
    title: &'static str,
    who: Option<Who>,
    csrf: &'a str,
    done: Option<&'static str>,
    q: &'a str,
    statuses: Vec<Choice>,
    types: Vec<Choice>,
    /// The institutions to choose from, for curators of more than one.
    institutions: Vec<Choice>,
    total: u64,
    rows: Vec<Row>,
    page_number: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
}

/// `GET /curator?q=&status=live|deleted|all&resource_type=&institution=&page=`
pub(super) async fn list(
    State(state): State<AppState>,
    curator: Curator,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    let params = query_pairs(raw.as_deref());
    let q = params.get("q").trim().to_string();
    if q.chars().count() > 256 {
        return Err(Failure::BadRequest("检索词太长了，请不超过 256 个字。".into()));
    }
    let status = match params.get("status") {
        "" | "live" => "live",
        "deleted" => "deleted",
        "all" => "all",
        _ => return Err(Failure::BadRequest("状态只能是“在用”“已删除”或“全部”。".into())),
    };
    let resource_type = match params.get("resource_type").trim() {
        "" => None,
        term => Some(
            term.parse::<ResourceType>()
                .map_err(|_| Failure::BadRequest("无法识别的资源类型。".into()))?,
        ),
    };
    let institution = params.get("institution").trim().to_string();
    let page_number = match params.get("page") {
        "" => 1,
        n => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| Failure::BadRequest(format!("页码须为 1 至 {MAX_PAGE}。")))?,
    };
    let query = CuratedQuery {
        institutions: (!institution.is_empty()).then(|| vec![institution.clone()]),
        q: (!q.is_empty()).then(|| q.clone()),
        resource_type: resource_type.map(|t| t.as_str().to_string()),
        deleted: match status {
            "live" => Some(false),
            "deleted" => Some(true),
            _ => None,
        },
        limit: PAGE_SIZE,
        offset: (page_number - 1) * PAGE_SIZE,
        ..CuratedQuery::default()
    };
    let store = state.store.clone();
    let principal = curator.principal.clone();
    let (rows, total) = blocking(move || curate::list(&store, &principal, query)).await??;
    let own = own_institutions(&state, &curator)?;
    let all_institutions = state.store.institutions()?;

    let chosen_type = resource_type.map_or("", |t| t.as_str());
    let mut types = vec![option("", "全部类型", chosen_type)];
    types.extend(
        ResourceType::ALL
            .iter()
            .map(|t| option(t.as_str(), t.label(), chosen_type)),
    );
    let mut institutions = Vec::new();
    if own.len() > 1 {
        institutions.push(option("", "全部机构", &institution));
        institutions.extend(own.iter().map(|i| option(&i.id, &i.name, &institution)));
    }
    let rows = rows
        .iter()
        .map(|row| {
            let record = &row.state.record;
            Row {
                path: record_path(&row.id),
                title: record.title.clone(),
                special: record.curation.as_ref().is_some_and(|c| c.special_collection),
                kind: record.resource_type.label(),
                institution: institution_name(&all_institutions, &row.state.institution),
                deleted: row.state.deleted,
                updated_by: row.updated_by.clone(),
                updated_at: local_time(&row.updated_at),
                version: row.version,
            }
        })
        .collect();
    // Paging.
    let pages = (total as usize).div_ceil(PAGE_SIZE).min(MAX_PAGE);
    let link = |n: usize| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("q", q.as_str()),
            ("status", status),
            ("resource_type", chosen_type),
            ("institution", institution.as_str()),
        ] {
            if !value.is_empty() {
                query.append_pair(key, value);
            }
        }
        query.append_pair("page", &n.to_string());
        format!("/curator?{}", query.finish())
    };
    let page = ListPage {
        title: "我的记录",
        who: curator.who(),
        csrf: &curator.csrf,
        done: done_message(params.get("done")),
        q: &q,
        statuses: vec![
            option("live", "在用", status),
            option("deleted", "已删除", status),
            option("all", "全部", status),
        ],
        types,
        institutions,
        total,
        rows,
        page_number,
        pages,
        previous: (page_number > 1).then(|| link(page_number - 1)),
        next: (page_number < pages).then(|| link(page_number + 1)),
    };
    Ok(respond(StatusCode::OK, &page))
}
