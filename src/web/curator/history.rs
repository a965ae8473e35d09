//! `GET /curator/records/{id}/history`: the audit log of one record — who, when, and what
//! changed, field by field (before → after), newest first.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use store::curated::AuditAction;

use super::records::load;
use super::{Curator, Failure, form, institution_name, local_time, page, record_path, respond};
use crate::state::AppState;
use crate::web::html::escape;
use store::curated::AuditEntry;

/// The record's fields in the order the form shows them.
const FIELD_ORDER: &[&str] = &[
    "title",
    "resource_type",
    "institution",
    "creators",
    "date",
    "subjects",
    "description",
    "publisher",
    "period",
    "place",
    "inventory_number",
    "curation",
    "event",
];

/// Most entries shown.
const MAX_ENTRIES: usize = 500;
/// Longest value shown in a change, in characters.
const MAX_VALUE_CHARS: usize = 200;

fn action_label(action: AuditAction) -> &'static str {
    match action {
        AuditAction::Create => "创建",
        AuditAction::Update => "修改内容",
        AuditAction::Delete => "删除",
        AuditAction::Restore => "恢复",
        AuditAction::AddImage => "上传图像",
        AuditAction::UpdateImages => "调整图像（顺序或替代文字）",
        AuditAction::DeleteImage => "删除图像",
        AuditAction::CreateUser => "创建账号",
        AuditAction::DisableUser => "停用账号",
        AuditAction::UpsertInstitution => "修改机构信息",
        AuditAction::CreateApiKey => "签发应用密钥",
        AuditAction::RevokeApiKey => "吊销应用密钥",
    }
}

/// A stored value as a short line of text.
fn show(path: &str, value: Option<&Value>, institutions: &[schemas::Institution]) -> String {
    let text = match value {
        None | Some(Value::Null) => return "（空）".into(),
        Some(Value::String(s)) if path == "institution" => institution_name(institutions, s),
        Some(Value::String(s)) if path == "resource_type" => s
            .parse::<schemas::ResourceType>()
            .map_or_else(|_| s.clone(), |t| t.label().to_string()),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => (if *b { "是" } else { "否" }).to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("；"),
        Some(Value::Object(members)) if path == "date" => members
            .get("display")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        Some(other) => other.to_string(),
    };
    let mut chars = text.chars();
    let short: String = chars.by_ref().take(MAX_VALUE_CHARS).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}

fn label(path: &str) -> String {
    form::form_key(path).map_or_else(|| path.to_string(), |key| form::label(key).to_string())
}

/// The changed fields between two stored states: `(label, before, after)`.
fn changes(
    before: Option<&Value>,
    after: Option<&Value>,
    institutions: &[schemas::Institution],
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let get = |state: Option<&Value>, key: &str| state.and_then(|s| s.get(key)).cloned();
    // Record fields, one level into the curation flags and the event.
    let before_record = get(before, "record").unwrap_or(Value::Null);
    let after_record = get(after, "record").unwrap_or(Value::Null);
    let mut keys: Vec<String> = Vec::new();
    for record in [&before_record, &after_record] {
        if let Value::Object(members) = record {
            for key in members.keys() {
                if !keys.contains(key) && key != "id" && key != "images" {
                    keys.push(key.clone());
                }
            }
        }
    }
    // In the form's order, then the rest alphabetically (serde_json's maps are sorted).
    keys.sort_by_key(|key| {
        FIELD_ORDER
            .iter()
            .position(|k| k == key)
            .unwrap_or(FIELD_ORDER.len())
    });
    for key in keys {
        let (old, new) = (before_record.get(&key), after_record.get(&key));
        if old == new {
            continue;
        }
        if matches!(key.as_str(), "curation" | "event") {
            let mut inner: Vec<String> = Vec::new();
            for value in [old, new].into_iter().flatten() {
                if let Value::Object(members) = value {
                    inner.extend(
                        members
                            .keys()
                            .filter(|k| !inner.contains(k))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                }
            }
            for sub in inner {
                let path = format!("{key}.{sub}");
                let (a, b) = (old.and_then(|v| v.get(&sub)), new.and_then(|v| v.get(&sub)));
                if a != b {
                    out.push((
                        label(&path),
                        show(&path, a, institutions),
                        show(&path, b, institutions),
                    ));
                }
            }
        } else {
            out.push((
                label(&key),
                show(&key, old, institutions),
                show(&key, new, institutions),
            ));
        }
    }
    let deleted = |state: Option<&Value>| state.and_then(|s| s.get("deleted")).and_then(Value::as_bool);
    if before.is_some() && deleted(before) != deleted(after) {
        let word = |d: Option<bool>| if d == Some(true) { "已删除" } else { "在用" };
        out.push((
            "状态".into(),
            word(deleted(before)).into(),
            word(deleted(after)).into(),
        ));
    }
    let alts = |state: Option<&Value>| -> Vec<String> {
        get(state, "images")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|image| image.get("alt").and_then(Value::as_str).unwrap_or("").to_string())
            .collect()
    };
    let (a, b) = (get(before, "images"), get(after, "images"));
    if a != b
        && (before.is_some()
            || b.as_ref()
                .and_then(Value::as_array)
                .is_some_and(|v| !v.is_empty()))
    {
        let describe = |list: Vec<String>| {
            if list.is_empty() {
                "（无）".to_string()
            } else {
                list.iter()
                    .enumerate()
                    .map(|(i, alt)| format!("{}. {alt}", i + 1))
                    .collect::<Vec<_>>()
                    .join("；")
            }
        };
        out.push(("图像".into(), describe(alts(before)), describe(alts(after))));
    }
    out
}

fn render_entry(entry: &AuditEntry, institutions: &[schemas::Institution]) -> String {
    let rows = changes(entry.before.as_ref(), entry.after.as_ref(), institutions);
    let mut out = format!(
        "<li class=\"entry\"><p class=\"who\"><time datetime=\"{}\">{}</time> · <strong class=\"actor\">{}</strong> · {}</p>\n",
        escape(&entry.at),
        escape(&local_time(&entry.at)),
        escape(&entry.actor),
        escape(action_label(entry.action)),
    );
    if rows.is_empty() {
        out.push_str("<p class=\"hint\">内容没有变化。</p>\n");
    } else {
        out.push_str(
            "<div class=\"table-wrap\"><table class=\"changes\"><thead><tr><th scope=\"col\">字段</th>\
<th scope=\"col\">修改前</th><th scope=\"col\">修改后</th></tr></thead><tbody>\n",
        );
        for (field, before, after) in rows {
            out.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>\n",
                escape(&field),
                escape(&before),
                escape(&after)
            ));
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</li>\n");
    out
}

/// `GET /curator/records/{id}/history`
pub(super) async fn history(
    State(state): State<AppState>,
    curator: Curator,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let row = load(&state, &curator, id).await?;
    let store = state.store.clone();
    let (institution, record_id) = (row.state.institution.clone(), row.id.clone());
    let entries = tokio::task::spawn_blocking(move || {
        store.audit_log(Some(&[institution]), Some(&record_id), MAX_ENTRIES, 0)
    })
    .await??;
    let mut main = format!(
        "<p class=\"crumbs\"><a href=\"/curator\">我的记录</a> › <a href=\"{}\">{}</a> › 修改历史</p>\n\
<h1>修改历史：{}</h1>\n<p class=\"meta\">共 {} 次修改，最新的在前。</p>\n<ol class=\"history\" reversed>\n",
        record_path(&row.id),
        escape(&row.state.record.title),
        escape(&row.state.record.title),
        entries.len()
    );
    let institutions = state.store.institutions()?;
    for entry in &entries {
        main.push_str(&render_entry(entry, &institutions));
    }
    main.push_str("</ol>\n");
    Ok(respond(
        StatusCode::OK,
        &page(
            &format!("修改历史：{}", row.state.record.title),
            Some(&curator),
            &main,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_are_listed_field_by_field() {
        let before = json!({"deleted": false, "images": [],
            "record": {"id": "x", "title": "旧", "curation": {"brand": "甲"}}});
        let after = json!({"deleted": true, "images": [{"alt": "正面"}],
            "record": {"id": "x", "title": "新", "curation": {"brand": "乙", "special_collection": true}}});
        let rows = changes(Some(&before), Some(&after), &[]);
        let fields: Vec<&str> = rows.iter().map(|(f, _, _)| f.as_str()).collect();
        assert_eq!(fields, ["题名", "品牌或项目名称", "特色馆藏", "状态", "图像"]);
        assert_eq!(rows[0], ("题名".into(), "旧".into(), "新".into()));
        assert_eq!(rows[4].2, "1. 正面");
    }
}
