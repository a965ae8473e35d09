//! What curators add to a record by hand: whether it is a special holding, the brand or
//! programme it belongs to, the accessible formats it exists in and the audiences it serves.
//!
//! Harvested records never carry it; curated records (registered in Jincheng directly by an
//! institution's curators) may.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{FieldError, ValidationErrors};
use crate::vocab::{UnknownTerm, vocabulary};

/// Longest brand or programme name accepted.
const MAX_BRAND_CHARS: usize = 200;

/// Curators' flags on a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Curation {
    /// A special holding: 特色馆藏 (a library's local-history collection), 特质展品 (a
    /// museum's signature exhibit), 特有品牌 (a cultural centre's brand programme).
    #[serde(default)]
    pub special_collection: bool,
    /// The brand or programme it belongs to (`金城讲坛`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Accessible formats the item exists in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accessible_formats: Vec<AccessibleFormat>,
    /// Audiences it is meant for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<Audience>,
}

vocabulary! {
    /// A format that makes an item accessible.
    AccessibleFormat, "accessible format" {
        /// 盲文.
        Braille = "braille", "盲文";
        /// 大字版.
        LargePrint = "large_print", "大字版";
        /// 有声.
        Audio = "audio", "有声";
        /// 手语.
        SignLanguage = "sign_language", "手语";
    }
}

vocabulary! {
    /// Who an item or programme is meant for.
    Audience, "audience" {
        /// 少年儿童.
        Children = "children", "少年儿童";
        /// 青少年.
        Teenagers = "teenagers", "青少年";
        /// 老年人.
        Elderly = "elderly", "老年人";
        /// 残障人士.
        Disabled = "disabled", "残障人士";
        /// 家庭.
        Families = "families", "家庭";
        /// 学生.
        Students = "students", "学生";
        /// 研究者.
        Researchers = "researchers", "研究者";
    }
}

impl Curation {
    /// Checks the flags and lists every problem, with field paths under `curation.`.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = Vec::new();
        if let Some(brand) = &self.brand {
            let n = brand.trim().chars().count();
            if n == 0 {
                errors.push(FieldError {
                    field: "curation.brand".into(),
                    code: "blank",
                    message: "curation.brand is blank; leave it out instead".into(),
                    message_zh: "curation.brand 为空；不填请省略该字段".into(),
                });
            } else if n > MAX_BRAND_CHARS {
                errors.push(FieldError {
                    field: "curation.brand".into(),
                    code: "too_long",
                    message: format!("curation.brand has {n} characters; at most {MAX_BRAND_CHARS}"),
                    message_zh: format!("curation.brand 共 {n} 字，最多 {MAX_BRAND_CHARS} 字"),
                });
            }
        }
        duplicates(
            &mut errors,
            "curation.accessible_formats",
            &self.accessible_formats,
        );
        duplicates(&mut errors, "curation.audiences", &self.audiences);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors { errors })
        }
    }
}

fn duplicates<T: PartialEq + fmt::Display>(errors: &mut Vec<FieldError>, field: &str, values: &[T]) {
    for (i, value) in values.iter().enumerate() {
        if values[..i].contains(value) {
            errors.push(FieldError {
                field: format!("{field}[{i}]"),
                code: "duplicate",
                message: format!("{value} is listed twice"),
                message_zh: format!("{value} 重复"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_parse_from_value_and_label() {
        assert_eq!("large_print".parse(), Ok(AccessibleFormat::LargePrint));
        assert_eq!("盲文".parse(), Ok(AccessibleFormat::Braille));
        assert_eq!("老年人".parse(), Ok(Audience::Elderly));
        assert!("smell".parse::<AccessibleFormat>().is_err());
    }

    #[test]
    fn blank_brand_and_duplicates_are_listed() {
        let curation = Curation {
            special_collection: true,
            brand: Some(" ".into()),
            accessible_formats: vec![AccessibleFormat::Audio, AccessibleFormat::Audio],
            audiences: vec![Audience::Children],
        };
        let fields: Vec<String> = curation
            .validate()
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["curation.brand", "curation.accessible_formats[1]"]);
    }
}
