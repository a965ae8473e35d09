//! Filling a [`Record`] field by name, for declarative mappings (CSV columns, JSON paths)
//! whose configuration names the fields.
//!
//! Field names are the record's JSON names (`title`, `creators`, `date`, …), with
//! `event.start` and the like for [`EventInfo`]. Values pass through the same normalisers as
//! every other mapping, so a CSV's `光绪三年` gets the same years as a LIDO record's.

use crate::{
    model::{EventInfo, ImageLink, Record},
    normalize::{normalize_date, normalize_datetime, normalize_isbn, normalize_language},
    vocab::ResourceType,
};

/// Every field name [`Record::set_field`] accepts.
pub const MAPPABLE_FIELDS: &[&str] = &[
    "title",
    "alternative_titles",
    "creators",
    "contributors",
    "subjects",
    "classifications",
    "description",
    "publisher",
    "date",
    "language",
    "isbns",
    "identifiers",
    "extent",
    "coverage",
    "rights",
    "source_url",
    "resource_type",
    "materials",
    "techniques",
    "measurements",
    "period",
    "culture",
    "place",
    "inventory_number",
    "images",
    "edition",
    "event.start",
    "event.end",
    "event.venue",
    "event.organiser",
    "event.live_stream_url",
    "event.registration_url",
    "event.replay_url",
];

/// A field name that [`Record::set_field`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown record field {0:?}; expected one of: {list}", list = MAPPABLE_FIELDS.join(", "))]
pub struct UnknownField(pub String);

/// What became of the values given to [`Record::set_field`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldStatus {
    /// The field was set from the values.
    Set,
    /// There was no value (all empty or blank); the field is unchanged.
    Empty,
    /// The values were not understood. What could be kept was kept (a date's display text,
    /// an invalid ISBN among the identifiers, an unknown type as the original term); the
    /// reason says what failed. A mapping that requires the field quarantines the record.
    NotUnderstood(String),
}

impl Record {
    /// Sets the field called `field` from the source's `values` (already split into
    /// separate values; blank ones are skipped), normalising as the field needs: dates,
    /// languages, ISBNs, resource types and event times. Lists are extended; a text field
    /// takes the values joined with `; ` (`description` with line breaks); `title` takes the
    /// first value and makes the others alternative titles.
    ///
    /// ```
    /// use jincheng_schemas::{FieldStatus, Record};
    /// let mut record = Record::new("museum:1", "gsmuseum", "铜奔马");
    /// record.set_field("date", &["东汉".into()]).unwrap();
    /// assert_eq!(record.year(), Some(25));
    /// let status = record.set_field("isbns", &["12345".into()]).unwrap();
    /// assert!(matches!(status, FieldStatus::NotUnderstood(_)));
    /// assert_eq!(record.identifiers, ["12345"]);
    /// assert!(record.set_field("colour", &[]).is_err());
    /// ```
    pub fn set_field(&mut self, field: &str, values: &[String]) -> Result<FieldStatus, UnknownField> {
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if !MAPPABLE_FIELDS.contains(&field) {
            return Err(UnknownField(field.to_owned()));
        }
        let Some(first) = values.first().copied() else {
            return Ok(FieldStatus::Empty);
        };
        let owned = || values.iter().map(|v| (*v).to_owned());
        let joined = |separator: &str| Some(values.join(separator));
        match field {
            "title" => {
                first.clone_into(&mut self.title);
                self.alternative_titles.extend(owned().skip(1));
            }
            "alternative_titles" => self.alternative_titles.extend(owned()),
            "creators" => self.creators.extend(owned()),
            "contributors" => self.contributors.extend(owned()),
            "subjects" => self.subjects.extend(owned()),
            "classifications" => self.classifications.extend(owned()),
            "identifiers" => self.identifiers.extend(owned()),
            "coverage" => self.coverage.extend(owned()),
            "materials" => self.materials.extend(owned()),
            "techniques" => self.techniques.extend(owned()),
            "images" => self
                .images
                .extend(owned().map(|url| ImageLink { url, caption: None })),
            "description" => self.description = joined("\n"),
            "publisher" => self.publisher = joined("; "),
            "extent" => self.extent = joined("; "),
            "rights" => self.rights = joined("; "),
            "measurements" => self.measurements = joined("; "),
            "period" => self.period = joined("; "),
            "culture" => self.culture = joined("; "),
            "place" => self.place = joined("; "),
            "inventory_number" => self.inventory_number = joined("; "),
            "edition" => self.edition = joined("; "),
            "source_url" => self.source_url = Some(first.to_owned()),
            "language" => self.language = Some(normalize_language(first)),
            "date" => {
                let date = normalize_date(first);
                let understood = date.is_understood();
                self.date = Some(date);
                if !understood {
                    return Ok(FieldStatus::NotUnderstood(format!(
                        "date {first:?} is not understood"
                    )));
                }
            }
            "isbns" => {
                let mut invalid = Vec::new();
                for value in &values {
                    match normalize_isbn(value) {
                        Some(isbn) if !self.isbns.contains(&isbn) => self.isbns.push(isbn),
                        Some(_) => {}
                        None => {
                            self.identifiers.push((*value).to_owned());
                            invalid.push(*value);
                        }
                    }
                }
                if !invalid.is_empty() {
                    return Ok(FieldStatus::NotUnderstood(format!("invalid ISBN {invalid:?}")));
                }
            }
            "resource_type" => {
                // The first term the vocabulary knows wins; the first term is kept anyway.
                let known = values
                    .iter()
                    .find_map(|t| t.parse::<ResourceType>().ok().map(|rt| (rt, *t)));
                match known {
                    Some((resource_type, original)) => {
                        self.resource_type = resource_type;
                        self.resource_type_original = Some(original.to_owned());
                    }
                    None => {
                        self.resource_type_original = Some(first.to_owned());
                        return Ok(FieldStatus::NotUnderstood(format!(
                            "resource type {first:?} is not in the vocabulary"
                        )));
                    }
                }
            }
            event_field => {
                let event = self.event.get_or_insert_with(EventInfo::default);
                let text = Some(values.join("; "));
                match event_field {
                    "event.start" | "event.end" => {
                        let Some(time) = normalize_datetime(first) else {
                            if event.is_empty() {
                                self.event = None;
                            }
                            return Ok(FieldStatus::NotUnderstood(format!(
                                "{event_field} {first:?} is not a date or date-time"
                            )));
                        };
                        if event_field == "event.start" {
                            event.start = Some(time);
                        } else {
                            event.end = Some(time);
                        }
                    }
                    "event.venue" => event.venue = text,
                    "event.organiser" => event.organiser = text,
                    "event.live_stream_url" => event.live_stream_url = Some(first.to_owned()),
                    "event.replay_url" => event.replay_url = Some(first.to_owned()),
                    _ => event.registration_url = Some(first.to_owned()),
                }
            }
        }
        Ok(FieldStatus::Set)
    }

    /// Gives the record the years of its [`period`](Record::period) when it has no date of
    /// its own, as museum exports often have only a 朝代 column.
    pub fn date_from_period(&mut self) {
        if self.date.is_none()
            && let Some(period) = &self.period
        {
            self.date = Some(normalize_date(period));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(record: &mut Record, field: &str, values: &[&str]) -> FieldStatus {
        let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        record.set_field(field, &values).unwrap()
    }

    #[test]
    fn every_listed_field_is_accepted() {
        for field in MAPPABLE_FIELDS {
            let mut record = Record::new("s:1", "inst", "t");
            assert_eq!(record.set_field(field, &[]), Ok(FieldStatus::Empty), "{field}");
        }
        let mut record = Record::new("s:1", "inst", "t");
        assert!(record.set_field("holdings", &[]).is_err());
    }

    #[test]
    fn values_are_normalised() {
        let mut r = Record::new("s:1", "inst", "");
        assert_eq!(
            set(&mut r, "title", &[" 彩陶罐 ", "", "Painted jar"]),
            FieldStatus::Set
        );
        assert_eq!(r.title, "彩陶罐");
        assert_eq!(r.alternative_titles, ["Painted jar"]);
        set(&mut r, "language", &["汉语"]);
        assert_eq!(r.language.as_deref(), Some("zh"));
        set(&mut r, "isbns", &["7-101-00001-0", "978-7-101-00001-6"]);
        assert_eq!(r.isbns, ["9787101000016"]);
        set(&mut r, "resource_type", &["陶器", "文物"]);
        assert_eq!(r.resource_type, ResourceType::Artefact);
        assert_eq!(r.resource_type_original.as_deref(), Some("文物"));
        set(&mut r, "event.start", &["2025年3月8日 14:30"]);
        assert_eq!(
            r.event.as_ref().and_then(|e| e.start.as_deref()),
            Some("2025-03-08T14:30")
        );
        set(&mut r, "materials", &["陶", "颜料"]);
        assert_eq!(r.materials, ["陶", "颜料"]);
        set(&mut r, "period", &["马家窑文化"]);
        r.date_from_period();
        assert_eq!(r.year(), Some(-3300));
    }

    #[test]
    fn values_not_understood_are_kept_and_reported() {
        let mut r = Record::new("s:1", "inst", "t");
        assert!(matches!(
            set(&mut r, "date", &["年代不详"]),
            FieldStatus::NotUnderstood(_)
        ));
        assert_eq!(r.date.as_ref().map(|d| d.display.as_str()), Some("年代不详"));
        assert!(matches!(
            set(&mut r, "resource_type", &["陶器"]),
            FieldStatus::NotUnderstood(_)
        ));
        assert_eq!(r.resource_type_original.as_deref(), Some("陶器"));
        assert!(matches!(
            set(&mut r, "event.start", &["下周"]),
            FieldStatus::NotUnderstood(_)
        ));
        assert_eq!(r.event, None);
    }
}
