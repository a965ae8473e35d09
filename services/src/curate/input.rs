//! Turning a curator's JSON into a [`Record`], listing every invalid field at once.
//!
//! A body is checked field by field, so one mistyped field does not hide the others: each
//! top-level member is tried on its own against the record model (type errors), unknown
//! members are refused (a typo must not silently drop data), vocabulary terms may be given
//! by machine value or Chinese label (`盲文` → `braille`), and the assembled record then goes
//! through the schema's own validation ([`Record::validate`], [`schemas::Curation::validate`]).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use schemas::{AccessibleFormat, Audience, FieldError, Record, ResourceType, ValidationErrors};
use serde_json::{Map, Value, json};

/// Members the server sets itself and a client may not send.
const SERVER_SET: &[&str] = &["id", "images"];

fn error(field: impl Into<String>, code: &'static str, message: String, message_zh: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message,
        message_zh,
    }
}

/// The top-level members of the published record schema.
fn known_members() -> &'static BTreeSet<String> {
    static KNOWN: OnceLock<BTreeSet<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        schemas::record_json_schema()
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| props.keys().cloned().collect())
            .unwrap_or_default()
    })
}

/// Parses `body` into a record with id `id`, or lists every invalid field.
pub fn parse_record(body: Value, id: &str) -> Result<Record, ValidationErrors> {
    let mut errors = Vec::new();
    let Value::Object(mut members) = body else {
        errors.push(error(
            "",
            "invalid_type",
            "the body must be a JSON object".into(),
            "请求体必须是 JSON 对象".into(),
        ));
        return Err(ValidationErrors { errors });
    };
    for name in SERVER_SET {
        if members.remove(*name).is_some() {
            errors.push(error(
                *name,
                "not_allowed",
                format!("{name} is set by the server; leave it out"),
                format!("{name} 由服务器设置，请勿提交"),
            ));
        }
    }
    normalise_terms(&mut members, &mut errors);
    let known = known_members();
    let mut valid = Map::new();
    for (name, value) in members {
        if !known.contains(&name) {
            errors.push(error(
                name.clone(),
                "unknown_field",
                format!("{name} is not a record field"),
                format!("{name} 不是记录字段"),
            ));
            continue;
        }
        let mut probe = json!({"id": id, "institution": "probe", "title": "probe"});
        probe[&name] = value.clone();
        match serde_json::from_value::<Record>(probe) {
            Ok(_) => {
                valid.insert(name, value);
            }
            Err(err) => errors.push(error(
                name.clone(),
                "invalid_type",
                format!("{name}: {err}"),
                format!("{name} 的类型或取值不正确：{err}"),
            )),
        }
    }
    valid.insert("id".into(), Value::String(id.into()));
    for required in ["institution", "title"] {
        valid.entry(required).or_insert(Value::String(String::new()));
    }
    let record = match serde_json::from_value::<Record>(Value::Object(valid)) {
        Ok(record) => record,
        Err(err) => {
            // Every member passed on its own, so this is unexpected; report it as data.
            errors.push(error("", "invalid", err.to_string(), format!("记录无效：{err}")));
            return Err(ValidationErrors { errors });
        }
    };
    if let Err(invalid) = record.validate() {
        errors.extend(invalid.errors);
    }
    if let Some(curation) = &record.curation
        && let Err(invalid) = curation.validate()
    {
        errors.extend(invalid.errors);
    }
    check_event(&record, &mut errors);
    if errors.is_empty() {
        Ok(record)
    } else {
        Err(ValidationErrors { errors })
    }
}

/// The rules of a curated event: event details only on a record of type event, an end not
/// before the start (by day, as a reader's calendar shows it), and links that a browser
/// opens as web pages (`http` or `https`, no spaces).
fn check_event(record: &Record, errors: &mut Vec<FieldError>) {
    let Some(event) = &record.event else {
        return;
    };
    if record.resource_type != ResourceType::Event && !event.is_empty() {
        errors.push(error(
            "event",
            "not_an_event",
            "event details belong to records of type event; change the type or leave them out".into(),
            "只有资源类型为“活动”的记录才能填写活动信息。请把资源类型改为“活动”，或清空这些字段。".into(),
        ));
    }
    if let (Some(start), Some(end)) = (&event.start, &event.end)
        && end.get(..10) < start.get(..10)
    {
        errors.push(error(
            "event.end",
            "before_start",
            format!("the event ends ({end}) before it starts ({start})"),
            "结束时间早于开始时间。".into(),
        ));
    }
    for (field, url) in [
        ("event.live_stream_url", &event.live_stream_url),
        ("event.registration_url", &event.registration_url),
        ("event.replay_url", &event.replay_url),
    ] {
        let Some(url) = url else { continue };
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://"))
            || url.contains(char::is_whitespace)
        {
            errors.push(error(
                field,
                "invalid_url",
                format!("{url:?} is not an http(s) address"),
                "请填写以 https:// 或 http:// 开头的完整网址。".into(),
            ));
        }
    }
}

/// Rewrites vocabulary terms given by label or alias to their machine values; each unknown
/// term becomes its own field error (and is dropped, so the rest can still be checked).
fn normalise_terms(members: &mut Map<String, Value>, errors: &mut Vec<FieldError>) {
    if let Some(value) = members.get_mut("resource_type")
        && let Some(term) = value.as_str()
    {
        match term.parse::<ResourceType>() {
            Ok(parsed) => *value = Value::String(parsed.as_str().into()),
            Err(err) => {
                errors.push(unknown_term("resource_type", &err));
                members.remove("resource_type");
            }
        }
    }
    let Some(Value::Object(curation)) = members.get_mut("curation") else {
        return;
    };
    normalise_list(curation, "accessible_formats", errors, |t| {
        t.parse::<AccessibleFormat>().map(|f| f.as_str())
    });
    normalise_list(curation, "audiences", errors, |t| {
        t.parse::<Audience>().map(|a| a.as_str())
    });
}

fn normalise_list(
    curation: &mut Map<String, Value>,
    name: &str,
    errors: &mut Vec<FieldError>,
    parse: impl Fn(&str) -> Result<&'static str, schemas::UnknownTerm>,
) {
    let Some(Value::Array(items)) = curation.get_mut(name) else {
        return;
    };
    let mut kept = Vec::with_capacity(items.len());
    for (i, item) in items.drain(..).enumerate() {
        match item.as_str().map(&parse) {
            Some(Ok(term)) => kept.push(Value::String(term.into())),
            Some(Err(err)) => errors.push(unknown_term(&format!("curation.{name}[{i}]"), &err)),
            None => errors.push(error(
                format!("curation.{name}[{i}]"),
                "invalid_type",
                "must be a string".into(),
                "必须是字符串".into(),
            )),
        }
    }
    *items = kept;
}

fn unknown_term(field: &str, err: &schemas::UnknownTerm) -> FieldError {
    error(
        field,
        "unknown_term",
        err.to_string(),
        format!("{field}：未知取值 {:?}，可选：{}", err.term, err.expected),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: Value) -> Vec<String> {
        parse_record(body, "curated-x:1")
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn labels_become_machine_values() {
        let record = parse_record(
            json!({"institution": "lzlib", "title": "兰州地方志", "resource_type": "古籍",
                   "curation": {"special_collection": true, "accessible_formats": ["盲文", "audio"],
                                "audiences": ["老年人"]}}),
            "curated-lzlib:1",
        )
        .unwrap();
        assert_eq!(record.resource_type, ResourceType::AncientBook);
        let curation = record.curation.unwrap();
        assert_eq!(
            curation.accessible_formats,
            [AccessibleFormat::Braille, AccessibleFormat::Audio]
        );
        assert_eq!(curation.audiences, [Audience::Elderly]);
    }

    #[test]
    fn every_problem_is_listed() {
        let found = fields(json!({
            "id": "mine", "institution": "bad id!", "title": " ", "creators": "not a list",
            "tittle": "typo", "resource_type": "zoo",
            "curation": {"accessible_formats": ["smell", "braille", "braille"], "brand": ""}
        }));
        for expected in [
            "id",
            "resource_type",
            "curation.accessible_formats[0]",
            "creators",
            "tittle",
            "institution",
            "title",
            "curation.brand",
            "curation.accessible_formats[1]",
        ] {
            assert!(
                found.iter().any(|f| f == expected),
                "{expected} missing from {found:?}"
            );
        }
    }

    #[test]
    fn a_non_object_is_one_error() {
        assert_eq!(fields(json!([1, 2])), [""]);
    }
}
