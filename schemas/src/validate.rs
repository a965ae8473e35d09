//! Validation: every problem of a record at once, per field, in English and Chinese.

use std::fmt;

use serde::Serialize;

use crate::model::{Institution, Record};

/// Longest title we accept; longer ones are almost always a mapping mistake (a whole MARC
/// record or description landing in the title).
const MAX_TITLE_CHARS: usize = 2_000;
/// Longest description we accept.
const MAX_DESCRIPTION_CHARS: usize = 100_000;

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `title` or `holdings[2].institution`.
    pub field: String,
    /// Stable code, e.g. `required`, `too_long`, `invalid_range`.
    pub code: &'static str,
    /// English message.
    pub message: String,
    /// Chinese message.
    pub message_zh: String,
}

/// All the invalid fields of one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ValidationErrors {
    /// Every problem found, in field order.
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl ValidationErrors {
    fn push(&mut self, field: impl Into<String>, code: &'static str, message: String, message_zh: String) {
        self.errors.push(FieldError {
            field: field.into(),
            code,
            message,
            message_zh,
        });
    }

    fn required(&mut self, field: &str) {
        self.push(
            field,
            "required",
            format!("{field} is required"),
            format!("{field} 为必填项"),
        );
    }

    pub(crate) fn into_result(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// True for ids made of ASCII letters, digits, `-` and `_` (safe in URLs, paths and sets).
pub(crate) fn is_slug(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Record {
    /// Checks the record and lists every invalid field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors { errors: Vec::new() };
        if self.id.trim().is_empty() {
            errors.required("id");
        } else if self.id.len() > 512 || self.id.chars().any(char::is_control) {
            errors.push(
                "id",
                "invalid",
                "id must be at most 512 bytes without control characters".into(),
                "id 不得超过 512 字节且不得含控制字符".into(),
            );
        }
        if !is_slug(&self.institution) {
            errors.push(
                "institution",
                "invalid",
                "institution must be an institution id (letters, digits, - and _)".into(),
                "institution 必须是机构标识（字母、数字、- 和 _）".into(),
            );
        }
        let title_chars = self.title.trim().chars().count();
        if title_chars == 0 {
            errors.required("title");
        } else if title_chars > MAX_TITLE_CHARS {
            errors.push(
                "title",
                "too_long",
                format!("title has {title_chars} characters; at most {MAX_TITLE_CHARS}"),
                format!("title 共 {title_chars} 字，最多 {MAX_TITLE_CHARS} 字"),
            );
        }
        if let Some(description) = &self.description {
            let n = description.chars().count();
            if n > MAX_DESCRIPTION_CHARS {
                errors.push(
                    "description",
                    "too_long",
                    format!("description has {n} characters; at most {MAX_DESCRIPTION_CHARS}"),
                    format!("description 共 {n} 字，最多 {MAX_DESCRIPTION_CHARS} 字"),
                );
            }
        }
        if let Some(date) = &self.date {
            if let (Some(start), Some(end)) = (date.year_start, date.year_end)
                && start > end
            {
                errors.push(
                    "date",
                    "invalid_range",
                    format!("year_start {start} is after year_end {end}"),
                    format!("起始年 {start} 晚于结束年 {end}"),
                );
            }
            for (name, year) in [
                ("date.year_start", date.year_start),
                ("date.year_end", date.year_end),
            ] {
                if let Some(year) = year
                    && !(-10_000..=2_100).contains(&year)
                {
                    errors.push(
                        name,
                        "out_of_range",
                        format!("{name} {year} is outside -10000..=2100"),
                        format!("{name} {year} 超出 -10000 至 2100 的范围"),
                    );
                }
            }
        }
        for (i, holding) in self.holdings.iter().enumerate() {
            if !is_slug(&holding.institution) {
                errors.push(
                    format!("holdings[{i}].institution"),
                    "invalid",
                    "holding institution must be an institution id".into(),
                    "馆藏机构必须是机构标识".into(),
                );
            }
        }
        errors.into_result()
    }
}

impl Institution {
    /// Checks the institution's id and name, and its venue's every field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors { errors: Vec::new() };
        if !is_slug(&self.id) {
            errors.push(
                "id",
                "invalid",
                "id must be 1-64 ASCII letters, digits, - or _".into(),
                "id 必须是 1 至 64 个字母、数字、- 或 _".into(),
            );
        }
        if self.name.trim().is_empty() {
            errors.required("name");
        }
        if let Some(venue) = &self.venue {
            venue.check("venue", &self.id, &mut errors);
        }
        errors.into_result()
    }
}

/// The JSON Schema of [`Record`], as published in `schemas/record.schema.json`.
pub fn record_json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Record)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DateRange;

    #[test]
    fn every_invalid_field_is_listed() {
        let mut record = Record::new("", "bad id!", " ");
        record.date = Some(DateRange {
            display: "x".into(),
            year_start: Some(2000),
            year_end: Some(1990),
        });
        let errors = record.validate().unwrap_err().errors;
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "institution", "title", "date"]);
        assert!(errors.iter().all(|e| !e.message_zh.is_empty()));
    }

    #[test]
    fn published_schema_matches_the_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/record.schema.json");
        let generated = serde_json::to_string_pretty(&record_json_schema()).unwrap() + "\n";
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let published = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            published, generated,
            "schemas/record.schema.json is stale: rerun with UPDATE_SCHEMA=1"
        );
    }
}
