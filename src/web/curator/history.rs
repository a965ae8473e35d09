//! `GET /curator/records/{id}/history`: the audit log of one record — who, when, and what
//! changed, field by field (before → after), newest first.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use store::curated::AuditAction;

use super::records::load;
use super::{Curator, Failure, Who, form, institution_name, local_time, record_path, respond};
use crate::state::AppState;

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
        AuditAction::UpdateVenue => "修改开放时间与设施",
        AuditAction::UpsertMobileRoute => "修改流动服务线路",
        AuditAction::AnswerSuggestion => "答复读者荐购",
        AuditAction::MergeSuggestions => "合并读者荐购",
        AuditAction::ReportStatistics => "报送服务统计",
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

/// `templates/curator/history.html`.
#[derive(Template)]
#[template(path = "curator/history.html")]
struct HistoryPage {
    title: String,
    who: Option<Who>,
    path: String,
    record_title: String,
    entries: Vec<EntryView>,
}

/// One audit entry: who did what, when, and the changed fields.
struct EntryView {
    at: String,
    local_at: String,
    actor: String,
    action: &'static str,
    /// `(label, before, after)`.
    changes: Vec<(String, String, String)>,
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
    let institutions = state.store.institutions()?;
    let title = &row.state.record.title;
    let page = HistoryPage {
        title: format!("修改历史：{title}"),
        who: curator.who(),
        path: record_path(&row.id),
        record_title: title.clone(),
        entries: entries
            .iter()
            .map(|entry| EntryView {
                at: entry.at.clone(),
                local_at: local_time(&entry.at),
                actor: entry.actor.clone(),
                action: action_label(entry.action),
                changes: changes(entry.before.as_ref(), entry.after.as_ref(), &institutions),
            })
            .collect(),
    };
    Ok(respond(StatusCode::OK, &page))
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
