//! The record model itself. These types are the wire format of the API and of the store's
//! `record_json` column, so every change here is a change of the published schema.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::vocab::{District, InstitutionType, Level, ResourceType};

/// A public cultural institution: a library, museum, art gallery or cultural centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Institution {
    /// Stable short id, e.g. `lzlib`: ASCII letters, digits, `-` and `_`.
    pub id: String,
    /// Official name, e.g. `兰州市图书馆`.
    pub name: String,
    /// What kind of institution it is.
    #[serde(rename = "type")]
    pub institution_type: InstitutionType,
    /// Where in Lanzhou it is, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<District>,
    /// Its administrative level.
    #[serde(default)]
    pub level: Level,
    /// Where it is, when it is open, what it offers, and its place in the service network.
    /// Stored apart from the institution (a change of hours re-indexes nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<crate::venue::Venue>,
}

/// A branch (分馆) of an institution and the district it is in.
///
/// Holdings name their branch as free text (`七里河分馆`); this is how the app tells the
/// index where such a branch is, so that a copy at a county branch is found under that
/// county's district rather than under the district of the institution's main building.
/// It is configuration, not part of a record: records only carry the branch's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Branch {
    /// Id of the institution the branch belongs to (`lzlib`).
    pub institution: String,
    /// The branch's name as holdings write it (`七里河分馆`). Compared folded: width, case,
    /// traditional characters, spaces and punctuation do not matter.
    pub name: String,
    /// Where the branch is.
    pub district: District,
}

/// One catalogue record: a book, an artefact, an artwork, an event, …
///
/// Fields that a format does not have stay empty; nothing is invented to fill them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    /// Globally unique id, `{source}:{local id}` (see [`record_id`]).
    pub id: String,
    /// Id of the institution that holds (or organises) it.
    pub institution: String,
    /// Controlled resource type.
    #[serde(default)]
    pub resource_type: ResourceType,
    /// The source's own type term, kept as given (e.g. `Text`, `拓片`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type_original: Option<String>,
    /// Main title, as displayed.
    pub title: String,
    /// Parallel, variant or romanised titles; searchable, not displayed as the title.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternative_titles: Vec<String>,
    /// Authors, artists, makers, organisers, in source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creators: Vec<String>,
    /// Secondary contributors (editors, translators, annotators).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<String>,
    /// Subject headings and keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// Classification numbers, e.g. 中图法 `I222.742`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classifications: Vec<String>,
    /// Abstract, summary or exhibit label text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Publisher, with place if the source gives it (`北京：中华书局`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Date of publication, creation or the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateRange>,
    /// Language as an ISO 639-1 code where one exists (`zh`, `en`), else ISO 639-2/3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// ISBNs, normalised to ISBN-13 without hyphens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub isbns: Vec<String>,
    /// Other identifiers as given (URIs, inventory numbers, call numbers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    /// Physical description: pages, size, materials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<String>,
    /// Temporal or spatial coverage (`明代`, `敦煌`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<String>,
    /// Rights statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// Link to the record in the source system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// Copies held, per branch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holdings: Vec<Holding>,
    /// When, where and by whom an event (a lecture, exhibition, performance) takes place.
    /// Only event records have it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventInfo>,
    /// Materials of an object, one term each, as the source names them (`陶`, `青铜`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<String>,
    /// Techniques used to make an object, one term each (`彩绘`, `铸造`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub techniques: Vec<String>,
    /// Measurements as displayed (`高34.5厘米，口径10.2厘米`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurements: Option<String>,
    /// Dynasty or period as the source writes it (`东汉`, `清晚期`); the years it spans go to
    /// [`Record::date`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Culture or people an object belongs to (`马家窑文化`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
    /// Where an object was made or found (`甘肃省武威市雷台`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The holding institution's inventory (accession) number, e.g. `GM-0001`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_number: Option<String>,
    /// Images of the item, in source order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageLink>,
    /// Edition statement of a book (`第2版`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edition: Option<String>,
    /// Curators' flags (special holding, brand, accessible formats, audiences); only curated
    /// records have them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curation: Option<crate::curation::Curation>,
}

/// The practical facts of an event. Times are ISO 8601 as the source gave them: a date
/// (`2025-03-08`), a local date-time in the institution's time zone (`2025-03-08T14:30`), or
/// one with an offset (`2025-03-08T14:30:00+08:00`). No time zone is invented.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventInfo {
    /// When it starts (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// When it ends (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Where it takes place (`兰州市文化馆三楼多功能厅`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// Who organises it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organiser: Option<String>,
    /// Where to watch it online (云直播).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_stream_url: Option<String>,
    /// Where to sign up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_url: Option<String>,
    /// Where to watch it again after it ended (回放).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_url: Option<String>,
    /// Whom it is meant for, when the source says so (少儿, 老年, 亲子…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<crate::Audience>,
    /// Free to attend (`true`), paid (`false`), or not said (absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free: Option<bool>,
}

impl EventInfo {
    /// True when the event says nothing at all, so it need not be kept.
    pub fn is_empty(&self) -> bool {
        *self == EventInfo::default()
    }

    /// Learns whether the event is free and whom it is for from its text (title,
    /// description, subjects), keeping what is already known. The rule, kept simple so a
    /// reader can predict it:
    ///
    /// - free: the text says 免费, 公益, 免票, 不收费 or "free admission" / "free of charge";
    ///   paid: it says 收费 or 票价 and none of those. Otherwise unknown (`None`): silence is
    ///   not taken to mean either.
    /// - audience: 少儿/儿童/小朋友 → children, 青少年 → teenagers, 老年/老人/长者 → elderly,
    ///   残障/残疾/视障/听障/盲人 → disabled, 亲子/家庭 → families, 学生 → students.
    pub fn read_text(&mut self, text: &str) {
        use crate::Audience;
        const FREE: [&str; 6] = [
            "免费",
            "公益",
            "免票",
            "不收费",
            "free admission",
            "free of charge",
        ];
        const PAID: [&str; 2] = ["收费", "票价"];
        const AUDIENCES: [(&str, Audience); 15] = [
            ("少儿", Audience::Children),
            ("儿童", Audience::Children),
            ("小朋友", Audience::Children),
            ("青少年", Audience::Teenagers),
            ("老年", Audience::Elderly),
            ("老人", Audience::Elderly),
            ("长者", Audience::Elderly),
            ("残障", Audience::Disabled),
            ("残疾", Audience::Disabled),
            ("视障", Audience::Disabled),
            ("听障", Audience::Disabled),
            ("盲人", Audience::Disabled),
            ("亲子", Audience::Families),
            ("家庭", Audience::Families),
            ("学生", Audience::Students),
        ];
        let lower = text.to_lowercase();
        if self.free.is_none() {
            if FREE.iter().any(|w| lower.contains(w)) {
                self.free = Some(true);
            } else if PAID.iter().any(|w| lower.contains(w)) {
                self.free = Some(false);
            }
        }
        for (word, audience) in AUDIENCES {
            if lower.contains(word) && !self.audience.contains(&audience) {
                self.audience.push(audience);
            }
        }
    }
}

/// A link to an image of the item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageLink {
    /// The image's URL, as the source gives it.
    pub url: String,
    /// What the image shows, if the source says (`正面`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
}

/// A date as the source wrote it, plus the years it covers (inclusive), for filtering.
/// Years before the common era are negative (`公元前221年` → -221).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DateRange {
    /// The text shown to people, e.g. `乾隆年间` or `2003`.
    pub display: String,
    /// First year covered, if the date could be understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_start: Option<i32>,
    /// Last year covered, if the date could be understood.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_end: Option<i32>,
}

impl DateRange {
    /// True when the years are known. A date that is not understood keeps its display text
    /// and has no years: this is how unparseable dates are reported (see
    /// [`Record::unparsed_date`]).
    pub fn is_understood(&self) -> bool {
        self.year_start.is_some() && self.year_end.is_some()
    }
}

/// One copy (or set of copies) of a work at one branch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Holding {
    /// Institution id that owns the copy.
    pub institution: String,
    /// Branch or location name, e.g. `七里河分馆`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Call number (索书号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_number: Option<String>,
    /// Number of items (barcodes) at this branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<u32>,
    /// Availability as the source states it (`在架`, `借出`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Record {
    /// A record with the required fields set and everything else empty.
    pub fn new(id: impl Into<String>, institution: impl Into<String>, title: impl Into<String>) -> Self {
        Record {
            id: id.into(),
            institution: institution.into(),
            title: title.into(),
            ..Record::default()
        }
    }

    /// The date's display text when the record has a date whose years are not understood:
    /// the report of an unparseable date (it is kept for display, never guessed).
    pub fn unparsed_date(&self) -> Option<&str> {
        self.date
            .as_ref()
            .filter(|d| !d.is_understood())
            .map(|d| d.display.as_str())
    }

    /// The first year covered, which is what results show and the year facet counts.
    pub fn year(&self) -> Option<i32> {
        self.date.as_ref().and_then(|d| d.year_start.or(d.year_end))
    }
}

/// The record id for a record whose source `source_id` calls it `local_id`.
///
/// Ids are stable across harvests, so re-harvesting updates rather than duplicates.
pub fn record_id(source_id: &str, local_id: &str) -> String {
    format!("{source_id}:{local_id}")
}

#[cfg(test)]
mod tests {
    use super::EventInfo;
    use crate::Audience;

    #[test]
    fn free_and_audience_are_read_from_text_and_silence_stays_unknown() {
        let mut event = EventInfo::default();
        event.read_text("少儿剪纸公益培训，亲子家庭欢迎");
        assert_eq!(event.free, Some(true));
        assert_eq!(event.audience, [Audience::Children, Audience::Families]);

        let mut paid = EventInfo::default();
        paid.read_text("票价 80 元，老年人半价");
        assert_eq!(paid.free, Some(false));
        assert_eq!(paid.audience, [Audience::Elderly]);

        let mut silent = EventInfo::default();
        silent.read_text("秦腔折子戏专场");
        assert_eq!(silent.free, None);
        assert!(silent.audience.is_empty());

        // What is known already is kept.
        let mut known = EventInfo {
            free: Some(false),
            ..EventInfo::default()
        };
        known.read_text("免费开放");
        assert_eq!(known.free, Some(false));
    }
}
