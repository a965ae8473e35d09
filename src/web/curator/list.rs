//! `GET /curator`: the curator's own records, newest change first, with a search box and
//! filters (live or deleted, resource type, and institution for curators of several). The
//! service restricts the list to the account's institutions; asking for another one is a
//! 403 page.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use schemas::ResourceType;

use super::{
    Curator, Failure, blocking, done_block, institution_name, local_time, own_institutions, page,
    query_pairs, record_path, respond,
};
use crate::state::AppState;
use crate::web::html::escape;
use services::curate;
use store::curated::CuratedQuery;

/// Records per page.
const PAGE_SIZE: usize = 20;
/// Deepest page.
const MAX_PAGE: usize = 500;

fn option(value: &str, text: &str, selected: &str) -> String {
    format!(
        "<option value=\"{}\"{}>{}</option>",
        escape(value),
        if value == selected { " selected" } else { "" },
        escape(text)
    )
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

    let mut main = String::from("<h1>我的记录</h1>\n");
    main.push_str(&done_block(params.get("done")));
    main.push_str("<p><a class=\"button\" href=\"/curator/records/new\">新建记录</a></p>\n");
    // The filters.
    main.push_str(
        "<form class=\"filters\" method=\"get\" action=\"/curator\" role=\"search\" aria-label=\"筛选我的记录\">\n",
    );
    main.push_str(&format!(
        "<div class=\"field\"><label for=\"f-q\">检索（题名、品牌或记录号）</label>\
<input id=\"f-q\" name=\"q\" type=\"search\" value=\"{}\" maxlength=\"256\"></div>\n",
        escape(&q)
    ));
    main.push_str(&format!(
        "<div class=\"field\"><label for=\"f-status\">状态</label><select id=\"f-status\" name=\"status\">{}{}{}</select></div>\n",
        option("live", "在用", status),
        option("deleted", "已删除", status),
        option("all", "全部", status)
    ));
    let chosen_type = resource_type.map_or("", |t| t.as_str());
    let mut types = option("", "全部类型", chosen_type);
    for t in ResourceType::ALL {
        types.push_str(&option(t.as_str(), t.label(), chosen_type));
    }
    main.push_str(&format!(
        "<div class=\"field\"><label for=\"f-resource_type\">资源类型</label>\
<select id=\"f-resource_type\" name=\"resource_type\">{types}</select></div>\n"
    ));
    if own.len() > 1 {
        let mut options = option("", "全部机构", &institution);
        for i in &own {
            options.push_str(&option(&i.id, &i.name, &institution));
        }
        main.push_str(&format!(
            "<div class=\"field\"><label for=\"f-institution\">机构</label>\
<select id=\"f-institution\" name=\"institution\">{options}</select></div>\n"
        ));
    }
    main.push_str("<div class=\"actions\"><button type=\"submit\">筛选</button></div>\n</form>\n");
    // The records.
    main.push_str(&format!(
        "<p class=\"count\" role=\"status\">共 {total} 条{}</p>\n",
        if q.is_empty() {
            String::new()
        } else {
            format!("，检索“{}”", escape(&q))
        }
    ));
    if rows.is_empty() {
        main.push_str("<p>没有符合条件的记录。</p>\n");
    } else {
        main.push_str(
            "<div class=\"table-wrap\"><table class=\"records\"><caption class=\"sr\">我的记录</caption>\
<thead><tr><th scope=\"col\">题名</th><th scope=\"col\">类型</th><th scope=\"col\">机构</th>\
<th scope=\"col\">状态</th><th scope=\"col\">最后修改</th><th scope=\"col\">操作</th></tr></thead><tbody>\n",
        );
        for row in &rows {
            let record = &row.state.record;
            let path = record_path(&row.id);
            let mut flags = String::new();
            if record.curation.as_ref().is_some_and(|c| c.special_collection) {
                flags.push_str(" <span class=\"tag\">特色</span>");
            }
            let actions = if row.state.deleted {
                format!(
                    "<form method=\"post\" action=\"{path}/restore\">{}<input type=\"hidden\" name=\"version\" value=\"{}\">\
<button type=\"submit\">恢复</button></form> <a href=\"{path}/history\">历史</a>",
                    curator.csrf_field(),
                    row.version
                )
            } else {
                format!("<a href=\"{path}\">编辑</a> <a href=\"{path}/history\">历史</a>")
            };
            main.push_str(&format!(
                "<tr><td><a href=\"{path}\">{}</a>{flags}</td><td>{}</td><td>{}</td><td>{}</td><td>{} · {}</td><td>{actions}</td></tr>\n",
                escape(&record.title),
                escape(record.resource_type.label()),
                escape(&institution_name(&all_institutions, &row.state.institution)),
                if row.state.deleted { "已删除" } else { "在用" },
                escape(&row.updated_by),
                escape(&local_time(&row.updated_at)),
            ));
        }
        main.push_str("</tbody></table></div>\n");
    }
    // Paging.
    let pages = (total as usize).div_ceil(PAGE_SIZE).min(MAX_PAGE);
    if pages > 1 {
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
            escape(&format!("/curator?{}", query.finish()))
        };
        main.push_str("<nav class=\"pager\" aria-label=\"翻页\"><ul>");
        if page_number > 1 {
            main.push_str(&format!(
                "<li><a href=\"{}\">上一页</a></li>",
                link(page_number - 1)
            ));
        }
        main.push_str(&format!("<li>第 {page_number} / {pages} 页</li>"));
        if page_number < pages {
            main.push_str(&format!(
                "<li><a href=\"{}\">下一页</a></li>",
                link(page_number + 1)
            ));
        }
        main.push_str("</ul></nav>\n");
    }
    Ok(respond(StatusCode::OK, &page("我的记录", Some(&curator), &main)))
}
