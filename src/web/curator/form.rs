//! The record form: its fields as submitted, turned into the JSON the curation service
//! takes, and rendered back with each validation message beside its field.
//!
//! Field errors come from two places, shown together: the service's own validation
//! ([`services::curate::parse_record`], the schema's rules with Chinese messages) and the few
//! things only the form knows about (a date or event time it cannot read, a link that is
//! not a web address, event details on a record that is not an event). Each error's field
//! path (`curation.brand`, `date.year_start`, `curation.audiences[1]`) is mapped to the form
//! field that shows it; anything unmapped still appears in the summary at the top.

use schemas::{AccessibleFormat, Audience, FieldError, Record, ResourceType};
use serde_json::{Map, Value};

/// Longest text accepted in a single-line field here, in characters (the schema has its own
/// limits for title and description).
const MAX_LINE_CHARS: usize = 500;

/// The form's values, as entered (so a refused form comes back exactly as typed).
#[derive(Debug, Clone, Default)]
pub(super) struct RecordForm {
    pub title: String,
    pub creators: String,
    pub resource_type: String,
    pub description: String,
    pub date: String,
    pub subjects: String,
    pub institution: String,
    pub special_collection: bool,
    pub brand: String,
    pub accessible_formats: Vec<String>,
    pub audiences: Vec<String>,
    pub publisher: String,
    pub period: String,
    pub place: String,
    pub inventory_number: String,
    pub event_start: String,
    pub event_end: String,
    pub event_venue: String,
    pub event_organiser: String,
    pub event_live_stream_url: String,
    pub event_registration_url: String,
    /// The version the form was rendered from (edit only).
    pub version: Option<i64>,
}

/// The single-line text fields besides the title, with their labels: `(key, label, hint)`.
const EXTRA_LINES: &[(&str, &str, &str)] = &[
    ("publisher", "出版者", "图书填写，如：兰州：甘肃人民出版社"),
    ("period", "时代", "文物填写，如：东汉、清晚期"),
    ("place", "出土地或产地", "如：甘肃省武威市雷台"),
    ("inventory_number", "藏品号或登记号", "如：GM-0001"),
];

/// The event fields: `(key, label, hint)`.
const EVENT_FIELDS: &[(&str, &str, &str)] = &[
    ("event_start", "开始时间", "如：2025-03-08 14:30"),
    ("event_end", "结束时间", "如：2025-03-08 16:30"),
    ("event_venue", "地点", "如：兰州市文化馆三楼多功能厅"),
    ("event_organiser", "主办方", ""),
    ("event_live_stream_url", "直播网址", "以 https:// 开头"),
    ("event_registration_url", "报名网址", "以 https:// 开头"),
];

/// Splits a list field: one item per line, or separated by `;`/`；`.
fn items(text: &str) -> Vec<String> {
    text.split(['\n', ';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn page_error(field: &str, code: &'static str, message_zh: String) -> FieldError {
    FieldError {
        field: field.into(),
        code,
        message: message_zh.clone(),
        message_zh,
    }
}

impl RecordForm {
    /// The values of a submitted form.
    pub(super) fn from_form(form: &super::FormData) -> RecordForm {
        let text = |name: &str| form.get(name).to_string();
        RecordForm {
            title: text("title"),
            creators: text("creators"),
            resource_type: text("resource_type"),
            description: text("description"),
            date: text("date"),
            subjects: text("subjects"),
            institution: text("institution"),
            special_collection: form.get("special_collection") == "true",
            brand: text("brand"),
            accessible_formats: form
                .all("accessible_formats")
                .into_iter()
                .map(str::to_string)
                .collect(),
            audiences: form.all("audiences").into_iter().map(str::to_string).collect(),
            publisher: text("publisher"),
            period: text("period"),
            place: text("place"),
            inventory_number: text("inventory_number"),
            event_start: text("event_start"),
            event_end: text("event_end"),
            event_venue: text("event_venue"),
            event_organiser: text("event_organiser"),
            event_live_stream_url: text("event_live_stream_url"),
            event_registration_url: text("event_registration_url"),
            version: form.get("version").trim().parse().ok(),
        }
    }

    /// The values of a stored record, for the edit form.
    pub(super) fn from_record(record: &Record, version: i64) -> RecordForm {
        let curation = record.curation.clone().unwrap_or_default();
        let event = record.event.clone().unwrap_or_default();
        RecordForm {
            title: record.title.clone(),
            creators: record.creators.join("\n"),
            resource_type: record.resource_type.as_str().to_string(),
            description: record.description.clone().unwrap_or_default(),
            date: record
                .date
                .as_ref()
                .map(|d| d.display.clone())
                .unwrap_or_default(),
            subjects: record.subjects.join("\n"),
            institution: record.institution.clone(),
            special_collection: curation.special_collection,
            brand: curation.brand.unwrap_or_default(),
            accessible_formats: curation
                .accessible_formats
                .iter()
                .map(|f| f.as_str().to_string())
                .collect(),
            audiences: curation
                .audiences
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            publisher: record.publisher.clone().unwrap_or_default(),
            period: record.period.clone().unwrap_or_default(),
            place: record.place.clone().unwrap_or_default(),
            inventory_number: record.inventory_number.clone().unwrap_or_default(),
            event_start: event.start.unwrap_or_default(),
            event_end: event.end.unwrap_or_default(),
            event_venue: event.venue.unwrap_or_default(),
            event_organiser: event.organiser.unwrap_or_default(),
            event_live_stream_url: event.live_stream_url.unwrap_or_default(),
            event_registration_url: event.registration_url.unwrap_or_default(),
            version: Some(version),
        }
    }

    fn line(&self, key: &str) -> &str {
        match key {
            "publisher" => &self.publisher,
            "period" => &self.period,
            "place" => &self.place,
            "inventory_number" => &self.inventory_number,
            "event_start" => &self.event_start,
            "event_end" => &self.event_end,
            "event_venue" => &self.event_venue,
            "event_organiser" => &self.event_organiser,
            "event_live_stream_url" => &self.event_live_stream_url,
            "event_registration_url" => &self.event_registration_url,
            _ => "",
        }
    }

    /// The JSON body for the curation service, and the problems only the form can see.
    ///
    /// `base` is the stored record when editing: the fields this form does not show (ISBNs,
    /// holdings, materials set through the API) are kept from it rather than dropped.
    pub(super) fn to_body(&self, base: Option<&Record>) -> (Value, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut body: Map<String, Value> = match base.map(serde_json::to_value) {
            Some(Ok(Value::Object(members))) => members,
            _ => Map::new(),
        };
        // Set by the server.
        body.remove("id");
        body.remove("images");
        let mut set = |key: &str, value: Option<Value>| match value {
            Some(value) => {
                body.insert(key.to_string(), value);
            }
            None => {
                body.remove(key);
            }
        };
        let text = |value: &str| {
            let value = value.trim();
            (!value.is_empty()).then(|| Value::String(value.to_string()))
        };
        let list = |value: &str| {
            let items = items(value);
            (!items.is_empty()).then(|| Value::from(items))
        };
        // The title always goes in, blank or not, so the schema reports it as required.
        set("title", Some(Value::String(self.title.trim().to_string())));
        if base.is_none() {
            set(
                "institution",
                Some(Value::String(self.institution.trim().to_string())),
            );
        }
        set("creators", list(&self.creators));
        set("subjects", list(&self.subjects));
        set(
            "resource_type",
            Some(Value::String(match self.resource_type.trim() {
                "" => "other".to_string(),
                other => other.to_string(),
            })),
        );
        set("description", text(&self.description));
        for (key, _, _) in EXTRA_LINES {
            let value = self.line(key);
            if value.chars().count() > MAX_LINE_CHARS {
                errors.push(page_error(key, "too_long", format!("最多 {MAX_LINE_CHARS} 字。")));
            }
            set(key, text(value));
        }
        // The date: understood into years, or refused (unless it is the stored one, unchanged).
        let date = self.date.trim();
        if date.is_empty() {
            set("date", None);
        } else {
            let range = schemas::normalize_date(date);
            let unchanged = base
                .and_then(|r| r.date.as_ref())
                .is_some_and(|d| d.display == date);
            if !range.is_understood() && !unchanged {
                errors.push(page_error(
                    "date",
                    "not_understood",
                    format!(
                        "无法识别日期“{date}”。请写成年份或朝代，如：2003、1956年5月、清乾隆年间、公元前221年、明清。"
                    ),
                ));
            }
            set("date", serde_json::to_value(range).ok());
        }
        // Curators' flags.
        let mut curation = Map::new();
        if self.special_collection {
            curation.insert("special_collection".into(), Value::Bool(true));
        }
        if let Some(brand) = text(&self.brand) {
            curation.insert("brand".into(), brand);
        } else if !self.brand.is_empty() {
            // Only spaces: let the schema say it is blank.
            curation.insert("brand".into(), Value::String(self.brand.clone()));
        }
        if !self.accessible_formats.is_empty() {
            curation.insert(
                "accessible_formats".into(),
                Value::from(self.accessible_formats.clone()),
            );
        }
        if !self.audiences.is_empty() {
            curation.insert("audiences".into(), Value::from(self.audiences.clone()));
        }
        set(
            "curation",
            (!curation.is_empty()).then_some(Value::Object(curation)),
        );
        // Event details.
        let mut event = Map::new();
        for (key, field) in [("event_start", "start"), ("event_end", "end")] {
            let value = self.line(key).trim();
            if value.is_empty() {
                continue;
            }
            match schemas::normalize_datetime(value) {
                Some(iso) => {
                    event.insert(field.into(), Value::String(iso));
                }
                None => {
                    errors.push(page_error(
                        key,
                        "not_understood",
                        format!(
                            "无法识别时间“{value}”。请写成如：2025-03-08 14:30 或 2025年3月8日 下午2:30。"
                        ),
                    ));
                }
            }
        }
        for (key, field) in [("event_venue", "venue"), ("event_organiser", "organiser")] {
            let value = self.line(key);
            if value.chars().count() > MAX_LINE_CHARS {
                errors.push(page_error(key, "too_long", format!("最多 {MAX_LINE_CHARS} 字。")));
            }
            if let Some(value) = text(value) {
                event.insert(field.into(), value);
            }
        }
        for (key, field) in [
            ("event_live_stream_url", "live_stream_url"),
            ("event_registration_url", "registration_url"),
        ] {
            let value = self.line(key).trim();
            if value.is_empty() {
                continue;
            }
            // The curation service checks the address (`invalid_url`), as for the API.
            event.insert(field.into(), Value::String(value.to_string()));
        }
        // Event details on a record of another type, an end before the start: the curation
        // service refuses them, for the pages and the API alike.
        set("event", (!event.is_empty()).then_some(Value::Object(event)));
        (Value::Object(body), errors)
    }
}

/// The form field that shows an error about `field` (a path in the record), or `None`.
pub(super) fn form_key(field: &str) -> Option<&'static str> {
    let head = field.split('[').next().unwrap_or(field);
    Some(match head {
        "title" => "title",
        "creators" => "creators",
        "resource_type" => "resource_type",
        "description" => "description",
        "subjects" => "subjects",
        "institution" => "institution",
        "publisher" => "publisher",
        "period" => "period",
        "place" => "place",
        "inventory_number" => "inventory_number",
        "curation.brand" => "brand",
        "curation.accessible_formats" => "accessible_formats",
        "curation.audiences" => "audiences",
        "curation" | "curation.special_collection" => "special_collection",
        "event.start" | "event_start" => "event_start",
        "event.end" | "event_end" => "event_end",
        "event.venue" | "event_venue" => "event_venue",
        "event.organiser" | "event_organiser" => "event_organiser",
        "event.live_stream_url" | "event_live_stream_url" => "event_live_stream_url",
        "event.registration_url" | "event_registration_url" => "event_registration_url",
        "event" => "event",
        _ if head == "date" || head.starts_with("date.") => "date",
        _ => return None,
    })
}

/// The Chinese label of a form field.
pub(super) fn label(key: &str) -> &'static str {
    match key {
        "title" => "题名",
        "creators" => "责任者",
        "resource_type" => "资源类型",
        "description" => "简介",
        "date" => "日期或年代",
        "subjects" => "主题词",
        "institution" => "所属机构",
        "special_collection" => "特色馆藏",
        "brand" => "品牌或项目名称",
        "accessible_formats" => "无障碍形式",
        "audiences" => "适用人群",
        "event" => "活动信息",
        "file" => "图像文件",
        "alt" => "替代文字",
        other => EXTRA_LINES
            .iter()
            .chain(EVENT_FIELDS)
            .find(|(key, _, _)| *key == other)
            .map_or("其他", |(_, label, _)| label),
    }
}

/// An error's Chinese message, with the machine field name at its start replaced by the
/// field's label (`title 为必填项` → `题名为必填项`).
pub(super) fn message(error: &FieldError) -> String {
    let text = error.message_zh.trim();
    let key = form_key(&error.field);
    match (key, text.strip_prefix(error.field.as_str())) {
        (Some(key), Some(rest)) => format!("{}{}", label(key), rest.trim_start()),
        _ => text.to_string(),
    }
}

/// Errors grouped by the form field that shows them.
pub(super) struct FieldErrors<'a> {
    errors: &'a [FieldError],
}

impl<'a> FieldErrors<'a> {
    pub(super) fn new(errors: &'a [FieldError]) -> Self {
        FieldErrors { errors }
    }

    /// The messages for form field `key`, joined.
    pub(super) fn for_key(&self, key: &str) -> Option<String> {
        let messages: Vec<String> = self
            .errors
            .iter()
            .filter(|e| form_key(&e.field) == Some(key) || e.field == key)
            .map(message)
            .collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    /// The summary at the top of the form: every error, linked to its field when it has one.
    pub(super) fn summary(&self) -> Vec<SummaryItem> {
        self.errors
            .iter()
            .map(|error| {
                let key = form_key(&error.field).unwrap_or(match error.field.as_str() {
                    "file" => "file",
                    "alt" => "alt",
                    _ => "",
                });
                SummaryItem {
                    key,
                    label: label(key),
                    message: message(error),
                }
            })
            .collect()
    }
}

/// One error in the summary at the top of the form.
pub(super) struct SummaryItem {
    /// The form field it links to (`#f-{key}`), or empty.
    pub key: &'static str,
    pub label: &'static str,
    pub message: String,
}

/// One choice of a `<select>` or a group of checkboxes.
pub(super) struct Choice {
    pub value: String,
    pub text: String,
    /// Selected or checked.
    pub selected: bool,
}

/// How one field is drawn (`templates/curator/record_form.html`).
pub(super) enum Control {
    /// A one-line `<input>` of `kind` (`text`, `url`).
    Line { kind: &'static str, value: String },
    /// A `<textarea>`.
    Area { rows: u8, value: String },
    /// A required `<select>`.
    Select { options: Vec<Choice> },
    /// A value that cannot be changed, shown as text (the hint says why).
    Fixed { name: String },
    /// One checkbox, with the hint as its label.
    Check { checked: bool },
    /// A group of checkboxes.
    Choices { options: Vec<Choice> },
}

/// One labelled field with its hint and, if any, its error beside it.
pub(super) struct FieldView {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    pub hint: &'static str,
    pub error: Option<String>,
    pub control: Control,
}

impl FieldView {
    fn new(key: &'static str, control: Control, hint: &'static str, errors: &FieldErrors<'_>) -> FieldView {
        FieldView {
            key,
            label: label(key),
            required: false,
            hint,
            error: errors.for_key(key),
            control,
        }
    }

    /// The ids of the hint and the error, for `aria-describedby`.
    pub fn described(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.key));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.key));
        }
        ids.join(" ")
    }

    /// Whether a single checkbox is checked.
    pub fn is_checked(&self) -> bool {
        matches!(self.control, Control::Check { checked: true })
    }
}

/// What the form needs besides its values.
pub(super) struct FormContext<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The session's CSRF token, for the hidden field.
    pub csrf: &'a str,
    /// The institutions one may choose (create) — `(id, name)`.
    pub institutions: &'a [(String, String)],
    /// The fixed institution's name (edit).
    pub fixed_institution: Option<&'a str>,
    /// The submit button's text.
    pub submit: &'static str,
}

/// The whole form as `templates/curator/record_form.html` draws it.
pub(super) struct FormView {
    /// Every error, at the top.
    pub summary: Vec<SummaryItem>,
    pub action: String,
    pub csrf: String,
    pub version: Option<i64>,
    pub basic: Vec<FieldView>,
    pub services: Vec<FieldView>,
    /// An error about the event details as a whole.
    pub event_error: Option<String>,
    pub event: Vec<FieldView>,
    pub submit: &'static str,
}

fn choices(options: impl IntoIterator<Item = (String, String)>, chosen: &[&str]) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, text)| Choice {
            selected: chosen.contains(&value.as_str()),
            value,
            text,
        })
        .collect()
}

/// The whole form, with `errors` beside their fields and in a summary at the top.
pub(super) fn view(values: &RecordForm, context: &FormContext<'_>, errors: &[FieldError]) -> FormView {
    let errors = FieldErrors::new(errors);
    let line = |key: &'static str, value: &str, hint: &'static str| {
        let kind = if key.ends_with("_url") { "url" } else { "text" };
        FieldView::new(
            key,
            Control::Line {
                kind,
                value: value.to_string(),
            },
            hint,
            &errors,
        )
    };
    let area = |key: &'static str, value: &str, rows: u8, hint: &'static str| {
        FieldView::new(
            key,
            Control::Area {
                rows,
                value: value.to_string(),
            },
            hint,
            &errors,
        )
    };
    let mut basic = vec![FieldView {
        required: true,
        ..line("title", &values.title, "")
    }];
    let selected_type = if values.resource_type.is_empty() {
        "other"
    } else {
        &values.resource_type
    };
    basic.push(FieldView::new(
        "resource_type",
        Control::Select {
            options: choices(
                ResourceType::ALL
                    .iter()
                    .map(|t| (t.as_str().to_string(), t.label().to_string())),
                &[selected_type],
            ),
        },
        "",
        &errors,
    ));
    basic.push(match context.fixed_institution {
        Some(name) => FieldView {
            error: None,
            ..FieldView::new(
                "institution",
                Control::Fixed {
                    name: name.to_string(),
                },
                "记录创建后不能转移到其他机构。",
                &errors,
            )
        },
        None => {
            let selected = match context.institutions {
                [(only, _)] if values.institution.is_empty() => only.as_str(),
                _ => values.institution.as_str(),
            };
            let mut options = Vec::new();
            if context.institutions.len() > 1 {
                options.push((String::new(), "请选择".to_string()));
            }
            options.extend(context.institutions.iter().cloned());
            FieldView::new(
                "institution",
                Control::Select {
                    options: choices(options, &[selected]),
                },
                "",
                &errors,
            )
        }
    });
    basic.push(area(
        "creators",
        &values.creators,
        2,
        "每行一位（或用分号隔开），如：李白",
    ));
    basic.push(line(
        "date",
        &values.date,
        "如：2003、1956年5月、清乾隆年间、公元前221年",
    ));
    basic.push(area(
        "subjects",
        &values.subjects,
        2,
        "每行一个（或用分号隔开），如：丝绸之路",
    ));
    basic.push(area("description", &values.description, 6, ""));
    for &(key, _, hint) in EXTRA_LINES {
        basic.push(line(key, values.line(key), hint));
    }
    let services = vec![
        FieldView::new(
            "special_collection",
            Control::Check {
                checked: values.special_collection,
            },
            "特色馆藏（特色馆藏、特质展品或特有品牌）",
            &errors,
        ),
        line("brand", &values.brand, "如：金城讲坛（没有可不填）"),
        FieldView::new(
            "accessible_formats",
            Control::Choices {
                options: choices(
                    AccessibleFormat::ALL
                        .iter()
                        .map(|f| (f.as_str().to_string(), f.label().to_string())),
                    &values
                        .accessible_formats
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                ),
            },
            "",
            &errors,
        ),
        FieldView::new(
            "audiences",
            Control::Choices {
                options: choices(
                    Audience::ALL
                        .iter()
                        .map(|a| (a.as_str().to_string(), a.label().to_string())),
                    &values.audiences.iter().map(String::as_str).collect::<Vec<_>>(),
                ),
            },
            "",
            &errors,
        ),
    ];
    let event = EVENT_FIELDS
        .iter()
        .map(|&(key, _, hint)| line(key, values.line(key), hint))
        .collect();
    FormView {
        summary: errors.summary(),
        action: context.action.to_string(),
        csrf: context.csrf.to_string(),
        version: values.version,
        basic,
        services,
        event_error: errors.for_key("event"),
        event,
        submit: context.submit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_paths_find_their_fields() {
        assert_eq!(form_key("curation.audiences[1]"), Some("audiences"));
        assert_eq!(form_key("date.year_start"), Some("date"));
        assert_eq!(form_key("event.start"), Some("event_start"));
        assert_eq!(form_key("holdings[0].institution"), None);
        let error = FieldError {
            field: "title".into(),
            code: "required",
            message: String::new(),
            message_zh: "title 为必填项".into(),
        };
        assert_eq!(message(&error), "题名为必填项");
    }

    #[test]
    fn edits_keep_what_the_form_does_not_show() {
        let mut base = Record::new("curated-a:1", "a", "旧题名");
        base.isbns = vec!["9787101000001".into()];
        base.subjects = vec!["旧主题".into()];
        let mut form = RecordForm::from_record(&base, 3);
        form.title = "新题名".into();
        form.subjects = String::new();
        let (body, errors) = form.to_body(Some(&base));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(body["title"], "新题名");
        assert_eq!(body["isbns"][0], "9787101000001");
        assert!(body.get("subjects").is_none());
        assert!(body.get("id").is_none());
    }
}
