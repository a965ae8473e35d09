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

use crate::web::html::escape;

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

    /// The summary at the top of the form: every error, linked to its field.
    pub(super) fn summary(&self) -> String {
        if self.errors.is_empty() {
            return String::new();
        }
        let mut out = format!(
            "<div class=\"error-summary\" role=\"alert\" id=\"error-summary\" tabindex=\"-1\">\
<h2>有 {} 处需要修改</h2><ul>",
            self.errors.len()
        );
        for error in self.errors {
            let key = form_key(&error.field).unwrap_or(match error.field.as_str() {
                "file" => "file",
                "alt" => "alt",
                _ => "",
            });
            if key.is_empty() {
                out.push_str(&format!("<li>{}</li>", escape(&message(error))));
            } else {
                out.push_str(&format!(
                    "<li><a href=\"#f-{key}\">{}：{}</a></li>",
                    label(key),
                    escape(&message(error))
                ));
            }
        }
        out.push_str("</ul></div>\n");
        out
    }
}

/// How one field is drawn.
enum Input<'a> {
    Line { kind: &'a str },
    Area { rows: u8 },
}

/// One labelled field with its hint and, if any, its error beside it.
fn field(
    key: &str,
    value: &str,
    input: Input<'_>,
    hint: &str,
    required: bool,
    errors: &FieldErrors<'_>,
) -> String {
    let error = errors.for_key(key);
    let mut described = Vec::new();
    let mut above = String::new();
    if !hint.is_empty() {
        described.push(format!("{key}-hint"));
        above.push_str(&format!(
            "<p class=\"hint\" id=\"{key}-hint\">{}</p>",
            escape(hint)
        ));
    }
    if let Some(message) = &error {
        described.push(format!("{key}-error"));
        above.push_str(&format!(
            "<p class=\"field-error\" id=\"{key}-error\">{}</p>",
            escape(message)
        ));
    }
    let mut attrs = String::new();
    if error.is_some() {
        attrs.push_str(" aria-invalid=\"true\"");
    }
    if !described.is_empty() {
        attrs.push_str(&format!(" aria-describedby=\"{}\"", described.join(" ")));
    }
    if required {
        attrs.push_str(" required aria-required=\"true\"");
    }
    let control = match input {
        Input::Line { kind } => format!(
            "<input id=\"f-{key}\" name=\"{key}\" type=\"{kind}\" value=\"{}\"{attrs}>",
            escape(value)
        ),
        Input::Area { rows } => format!(
            "<textarea id=\"f-{key}\" name=\"{key}\" rows=\"{rows}\"{attrs}>{}</textarea>",
            escape(value)
        ),
    };
    format!(
        "<div class=\"field{}\" id=\"field-{key}\"><label for=\"f-{key}\">{}{}</label>{above}{control}</div>\n",
        if error.is_some() { " invalid" } else { "" },
        label(key),
        if required {
            "<span class=\"req\">（必填）</span>"
        } else {
            ""
        },
    )
}

/// A `<select>` field.
fn select(key: &str, selected: &str, options: &[(String, String)], errors: &FieldErrors<'_>) -> String {
    let error = errors.for_key(key);
    let mut attrs = String::new();
    let mut above = String::new();
    if let Some(message) = &error {
        attrs.push_str(&format!(
            " aria-invalid=\"true\" aria-describedby=\"{key}-error\""
        ));
        above = format!(
            "<p class=\"field-error\" id=\"{key}-error\">{}</p>",
            escape(message)
        );
    }
    let mut out = format!(
        "<div class=\"field{}\" id=\"field-{key}\"><label for=\"f-{key}\">{}<span class=\"req\">（必填）</span></label>{above}\
<select id=\"f-{key}\" name=\"{key}\" required{attrs}>",
        if error.is_some() { " invalid" } else { "" },
        label(key),
    );
    for (value, text) in options {
        out.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>",
            escape(value),
            if value == selected { " selected" } else { "" },
            escape(text)
        ));
    }
    out.push_str("</select></div>\n");
    out
}

/// A group of checkboxes.
fn checkboxes(key: &str, checked: &[String], options: &[(&str, &str)], errors: &FieldErrors<'_>) -> String {
    let error = errors.for_key(key);
    let (cls, described, above, invalid) = match &error {
        Some(message) => (
            " invalid",
            format!(" aria-describedby=\"{key}-error\""),
            format!(
                "<p class=\"field-error\" id=\"{key}-error\">{}</p>",
                escape(message)
            ),
            " aria-invalid=\"true\"",
        ),
        None => ("", String::new(), String::new(), ""),
    };
    let mut out = format!(
        "<fieldset class=\"field choices{cls}\" id=\"field-{key}\"{described}><legend id=\"f-{key}\">{}</legend>{above}",
        label(key)
    );
    for (value, text) in options {
        out.push_str(&format!(
            "<label class=\"choice\"><input type=\"checkbox\" name=\"{key}\" value=\"{}\"{}{invalid}> {}</label>",
            escape(value),
            if checked.iter().any(|c| c == value) { " checked" } else { "" },
            escape(text)
        ));
    }
    out.push_str("</fieldset>\n");
    out
}

/// What the form needs besides its values.
pub(super) struct FormContext<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The hidden CSRF field.
    pub csrf_field: &'a str,
    /// The institutions one may choose (create) — `(id, name)`.
    pub institutions: &'a [(String, String)],
    /// The fixed institution's name (edit).
    pub fixed_institution: Option<&'a str>,
    /// The submit button's text.
    pub submit: &'a str,
}

/// The whole form, with `errors` beside their fields and in a summary at the top.
pub(super) fn render(values: &RecordForm, context: &FormContext<'_>, errors: &[FieldError]) -> String {
    let errors = FieldErrors::new(errors);
    let mut out = errors.summary();
    out.push_str(&format!(
        "<form class=\"record\" method=\"post\" action=\"{}\" novalidate>\n{}\n",
        escape(context.action),
        context.csrf_field
    ));
    if let Some(version) = values.version {
        out.push_str(&format!(
            "<input type=\"hidden\" name=\"version\" value=\"{version}\">\n"
        ));
    }
    out.push_str("<fieldset class=\"group\"><legend>基本信息</legend>\n");
    out.push_str(&field(
        "title",
        &values.title,
        Input::Line { kind: "text" },
        "",
        true,
        &errors,
    ));
    let mut types: Vec<(String, String)> = Vec::new();
    for t in ResourceType::ALL {
        types.push((t.as_str().to_string(), t.label().to_string()));
    }
    let selected_type = if values.resource_type.is_empty() {
        "other"
    } else {
        &values.resource_type
    };
    out.push_str(&select("resource_type", selected_type, &types, &errors));
    match context.fixed_institution {
        Some(name) => out.push_str(&format!(
            "<div class=\"field\" id=\"field-institution\"><span class=\"label\">所属机构</span>\
<p class=\"fixed\">{}</p><p class=\"hint\">记录创建后不能转移到其他机构。</p></div>\n",
            escape(name)
        )),
        None => {
            let selected = if values.institution.is_empty() && context.institutions.len() == 1 {
                context.institutions[0].0.as_str()
            } else {
                values.institution.as_str()
            };
            let mut options = Vec::new();
            if context.institutions.len() > 1 {
                options.push((String::new(), "请选择".to_string()));
            }
            options.extend(context.institutions.iter().cloned());
            out.push_str(&select("institution", selected, &options, &errors));
        }
    }
    out.push_str(&field(
        "creators",
        &values.creators,
        Input::Area { rows: 2 },
        "每行一位（或用分号隔开），如：李白",
        false,
        &errors,
    ));
    out.push_str(&field(
        "date",
        &values.date,
        Input::Line { kind: "text" },
        "如：2003、1956年5月、清乾隆年间、公元前221年",
        false,
        &errors,
    ));
    out.push_str(&field(
        "subjects",
        &values.subjects,
        Input::Area { rows: 2 },
        "每行一个（或用分号隔开），如：丝绸之路",
        false,
        &errors,
    ));
    out.push_str(&field(
        "description",
        &values.description,
        Input::Area { rows: 6 },
        "",
        false,
        &errors,
    ));
    for (key, _, hint) in EXTRA_LINES {
        out.push_str(&field(
            key,
            values.line(key),
            Input::Line { kind: "text" },
            hint,
            false,
            &errors,
        ));
    }
    out.push_str("</fieldset>\n<fieldset class=\"group\"><legend>特色与服务</legend>\n");
    let special_error = errors.for_key("special_collection");
    out.push_str(&format!(
        "<div class=\"field check{}\" id=\"field-special_collection\">{}<label><input id=\"f-special_collection\" \
type=\"checkbox\" name=\"special_collection\" value=\"true\"{}{}> 特色馆藏（特色馆藏、特质展品或特有品牌）</label></div>\n",
        if special_error.is_some() { " invalid" } else { "" },
        special_error.as_ref().map_or_else(String::new, |m| format!(
            "<p class=\"field-error\" id=\"special_collection-error\">{}</p>",
            escape(m)
        )),
        if values.special_collection { " checked" } else { "" },
        if special_error.is_some() {
            " aria-invalid=\"true\" aria-describedby=\"special_collection-error\""
        } else {
            ""
        },
    ));
    out.push_str(&field(
        "brand",
        &values.brand,
        Input::Line { kind: "text" },
        "如：金城讲坛（没有可不填）",
        false,
        &errors,
    ));
    let formats: Vec<(&str, &str)> = AccessibleFormat::ALL
        .iter()
        .map(|f| (f.as_str(), f.label()))
        .collect();
    out.push_str(&checkboxes(
        "accessible_formats",
        &values.accessible_formats,
        &formats,
        &errors,
    ));
    let audiences: Vec<(&str, &str)> = Audience::ALL.iter().map(|a| (a.as_str(), a.label())).collect();
    out.push_str(&checkboxes("audiences", &values.audiences, &audiences, &errors));
    out.push_str("</fieldset>\n");
    let event_error = errors.for_key("event");
    out.push_str(&format!(
        "<fieldset class=\"group event{}\" id=\"field-event\" data-event-fields{}><legend id=\"f-event\">活动信息（仅“活动”类记录填写）</legend>{}\n",
        if event_error.is_some() { " invalid" } else { "" },
        if event_error.is_some() { " aria-describedby=\"event-error\"" } else { "" },
        event_error.as_ref().map_or_else(String::new, |m| format!(
            "<p class=\"field-error\" id=\"event-error\">{}</p>",
            escape(m)
        )),
    ));
    for (key, _, hint) in EVENT_FIELDS {
        let kind = if key.ends_with("_url") { "url" } else { "text" };
        out.push_str(&field(
            key,
            values.line(key),
            Input::Line { kind },
            hint,
            false,
            &errors,
        ));
    }
    out.push_str("</fieldset>\n");
    out.push_str(&format!(
        "<div class=\"actions\"><button type=\"submit\">{}</button></div>\n</form>\n",
        escape(context.submit)
    ));
    out
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
