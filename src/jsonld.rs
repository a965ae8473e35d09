//! Records as schema.org JSON-LD, for partners and search engines that speak linked data.
//!
//! The mapping keeps to schema.org terms that consumers understand: `Book`, `Periodical`,
//! `Manuscript`, `Map`, `VisualArtwork`, `Event`, `ImageObject`, `AudioObject`,
//! `VideoObject`, and `CreativeWork` for museum objects (schema.org has no artefact type);
//! the holding institution is a `Library`, `Museum` or `CivicStructure` (galleries and
//! cultural centres) placed in its district of Lanzhou.
//!
//! An institution's page carries its venue the same way ([`institution_to_jsonld`]):
//! `geo` (`GeoCoordinates`), `amenityFeature` (`LocationFeatureSpecification`s) and
//! `openingHoursSpecification` (the regular week, the seasons of the year asked about, and
//! the exceptions by date, a closure written as opening and closing at `00:00` as schema.org
//! says).

use schemas::{Institution, InstitutionType, OpeningHours, Record, ResourceType, Weekday, WeeklyHours};
use serde_json::{Map, Value, json};

/// The schema.org type of a record.
pub fn schema_type(resource_type: ResourceType) -> &'static str {
    match resource_type {
        ResourceType::Book | ResourceType::AncientBook => "Book",
        ResourceType::Periodical => "Periodical",
        ResourceType::Manuscript => "Manuscript",
        ResourceType::Map => "Map",
        ResourceType::Artwork | ResourceType::Rubbing => "VisualArtwork",
        ResourceType::Image => "ImageObject",
        ResourceType::Audio => "AudioObject",
        ResourceType::Video => "VideoObject",
        ResourceType::Event => "Event",
        ResourceType::Artefact | ResourceType::Other => "CreativeWork",
    }
}

fn institution_node(institution: &Institution) -> Value {
    let kind = match institution.institution_type {
        InstitutionType::Library => "Library",
        InstitutionType::Museum => "Museum",
        InstitutionType::ArtGallery | InstitutionType::CulturalCentre => "CivicStructure",
    };
    let mut node = json!({"@type": kind, "name": institution.name, "identifier": institution.id});
    if let Some(district) = institution.district {
        node["address"] = json!({
            "@type": "PostalAddress",
            "addressLocality": "兰州市",
            "addressRegion": district.label(),
            "addressCountry": "CN",
        });
    }
    node
}

/// schema.org's name of a weekday.
fn day_of_week(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "https://schema.org/Monday",
        Weekday::Tue => "https://schema.org/Tuesday",
        Weekday::Wed => "https://schema.org/Wednesday",
        Weekday::Thu => "https://schema.org/Thursday",
        Weekday::Fri => "https://schema.org/Friday",
        Weekday::Sat => "https://schema.org/Saturday",
        Weekday::Sun => "https://schema.org/Sunday",
    }
}

/// One `OpeningHoursSpecification` per day and interval of a week, valid between the
/// given dates when they are given.
fn week_specs(week: &WeeklyHours, valid: Option<(String, String)>, out: &mut Vec<Value>) {
    for day in Weekday::ALL {
        for interval in week.day(*day) {
            let Ok((opens, closes)) = schemas::parse_interval(interval) else {
                continue;
            };
            let mut spec = json!({
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": day_of_week(*day),
                "opens": schemas::format_clock(opens),
                "closes": schemas::format_clock(closes),
            });
            if let Some((from, through)) = &valid {
                spec["validFrom"] = json!(from);
                spec["validThrough"] = json!(through);
            }
            out.push(spec);
        }
    }
}

/// The `openingHoursSpecification` of `hours`; seasons are dated in `year`.
fn opening_hours_specification(hours: &OpeningHours, year: i32) -> Vec<Value> {
    let mut out = Vec::new();
    week_specs(&hours.weekly, None, &mut out);
    for season in &hours.seasons {
        // A season across the new year starts in the previous year.
        let wraps = season.from > season.until;
        let from = format!("{}-{}", if wraps { year - 1 } else { year }, season.from);
        let through = format!("{year}-{}", season.until);
        week_specs(&season.weekly, Some((from, through)), &mut out);
    }
    for exception in &hours.exceptions {
        let through = exception.until.clone().unwrap_or_else(|| exception.date.clone());
        let intervals: Vec<(u16, u16)> = exception
            .hours
            .iter()
            .filter_map(|i| schemas::parse_interval(i).ok())
            .collect();
        let intervals = if intervals.is_empty() {
            vec![(0, 0)]
        } else {
            intervals
        };
        for (opens, closes) in intervals {
            out.push(json!({
                "@type": "OpeningHoursSpecification",
                "opens": schemas::format_clock(opens),
                "closes": schemas::format_clock(closes),
                "validFrom": exception.date,
                "validThrough": through,
            }));
        }
    }
    out
}

/// An institution's page as a JSON-LD document: the institution with its venue (address,
/// `geo`, telephone, `amenityFeature`, `openingHoursSpecification` with seasons dated in
/// `year`) and its parent in the service network.
pub fn institution_to_jsonld(institution: &Institution, parent: Option<&Institution>, year: i32) -> Value {
    let mut doc = institution_node(institution);
    doc["@context"] = json!("https://schema.org");
    doc["@id"] = json!(format!("/institutions/{}", institution.id));
    if let Some(parent) = parent {
        doc["parentOrganization"] =
            json!({"@type": "Organization", "name": parent.name, "identifier": parent.id});
    }
    let Some(venue) = &institution.venue else {
        return doc;
    };
    if let Some(address) = &venue.address {
        doc["address"]["@type"] = json!("PostalAddress");
        doc["address"]["streetAddress"] = json!(address);
        doc["address"]["addressCountry"] = json!("CN");
    }
    if let Some(geo) = venue.geo {
        doc["geo"] = json!({"@type": "GeoCoordinates", "latitude": geo.lat, "longitude": geo.lon});
    }
    if let Some(phone) = &venue.phone {
        doc["telephone"] = json!(phone);
    }
    if let Some(website) = &venue.website {
        doc["url"] = json!(website);
    }
    if !venue.facilities.is_empty() {
        doc["amenityFeature"] = Value::Array(
            venue
                .facilities
                .iter()
                .map(|f| json!({"@type": "LocationFeatureSpecification", "name": f.label(), "value": true}))
                .collect(),
        );
    }
    if let Some(admission) = &venue.admission {
        doc["isAccessibleForFree"] = json!(admission.kind == schemas::AdmissionKind::Free);
    }
    if let Some(hours) = &venue.hours {
        doc["openingHoursSpecification"] = Value::Array(opening_hours_specification(hours, year));
    }
    doc
}

fn people(names: &[String]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| json!({"@type": "Person", "name": n}))
            .collect(),
    )
}

/// The record as a JSON-LD document; `institution` is its holder, when known.
pub fn record_to_jsonld(record: &Record, institution: Option<&Institution>) -> Value {
    let kind = schema_type(record.resource_type);
    let mut doc = Map::new();
    doc.insert("@context".into(), json!("https://schema.org"));
    doc.insert("@type".into(), json!(kind));
    doc.insert("@id".into(), json!(format!("/api/v1/records/{}", record.id)));
    doc.insert("identifier".into(), json!(record.id));
    doc.insert("name".into(), json!(record.title));
    let mut put = |key: &str, value: Value| {
        let empty = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
        if !empty {
            doc.insert(key.into(), value);
        }
    };
    put("alternateName", json!(record.alternative_titles));
    let creator_key = if kind == "Event" {
        "organizer"
    } else if kind == "Book" {
        "author"
    } else {
        "creator"
    };
    put(creator_key, people(&record.creators));
    put("contributor", people(&record.contributors));
    put("about", json!(record.subjects));
    put("description", json!(record.description));
    put(
        "publisher",
        record
            .publisher
            .as_ref()
            .map_or(Value::Null, |p| json!({"@type": "Organization", "name": p})),
    );
    if let Some(date) = &record.date {
        let key = match kind {
            "Book" | "Periodical" => "datePublished",
            "Event" => "startDate",
            _ => "dateCreated",
        };
        put(key, json!(date.display));
    }
    put("temporalCoverage", json!(record.coverage));
    put("inLanguage", json!(record.language));
    if kind == "Book" {
        put("isbn", json!(record.isbns));
    }
    put("url", json!(record.source_url));
    put("license", json!(record.rights));
    if let Some(institution) = institution {
        let key = if kind == "Event" {
            "location"
        } else {
            "holdingArchive"
        };
        put(key, institution_node(institution));
        put("provider", institution_node(institution));
    }
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{DateRange, District, Level};

    #[test]
    fn a_book_becomes_a_schema_org_book_held_by_a_library() {
        let mut record = Record::new("lzlib:1", "lzlib", "唐诗三百首");
        record.resource_type = ResourceType::Book;
        record.creators = vec!["蘅塘退士".into()];
        record.isbns = vec!["9787101000000".into()];
        record.date = Some(DateRange {
            display: "2009".into(),
            year_start: Some(2009),
            year_end: Some(2009),
        });
        let library = Institution {
            id: "lzlib".into(),
            name: "兰州市图书馆".into(),
            institution_type: InstitutionType::Library,
            district: Some(District::Chengguan),
            level: Level::City,
            venue: None,
        };
        let doc = record_to_jsonld(&record, Some(&library));
        assert_eq!(doc["@type"], "Book");
        assert_eq!(doc["author"][0]["name"], "蘅塘退士");
        assert_eq!(doc["datePublished"], "2009");
        assert_eq!(doc["isbn"][0], "9787101000000");
        assert_eq!(doc["holdingArchive"]["@type"], "Library");
        assert_eq!(doc["holdingArchive"]["address"]["addressRegion"], "城关区");
        assert!(doc.get("alternateName").is_none(), "empty fields are left out");
    }

    #[test]
    fn a_venue_has_geo_amenities_and_opening_hours() {
        let weekly = WeeklyHours {
            tue: vec!["09:00-12:00".into(), "14:00-21:00".into()],
            ..WeeklyHours::default()
        };
        let library = Institution {
            id: "lzlib".into(),
            name: "兰州市图书馆".into(),
            institution_type: InstitutionType::Library,
            district: Some(District::Chengguan),
            level: Level::City,
            venue: Some(schemas::Venue {
                geo: Some(schemas::GeoPoint {
                    lat: 36.06,
                    lon: 103.83,
                }),
                facilities: vec![schemas::Facility::BlindReadingSeats],
                hours: Some(OpeningHours {
                    weekly,
                    seasons: vec![schemas::SeasonalHours {
                        name: None,
                        from: "11-01".into(),
                        until: "02-28".into(),
                        weekly: WeeklyHours::every_day(&["10:00-16:00"]),
                    }],
                    exceptions: vec![schemas::HoursException {
                        date: "2026-10-01".into(),
                        until: Some("2026-10-07".into()),
                        hours: vec![],
                        note: None,
                    }],
                    note: None,
                }),
                ..schemas::Venue::default()
            }),
        };
        let doc = institution_to_jsonld(&library, None, 2027);
        assert_eq!(doc["@type"], "Library");
        assert_eq!(doc["geo"]["latitude"], 36.06);
        assert_eq!(doc["amenityFeature"][0]["name"], "盲人阅览坐席");
        let specs = doc["openingHoursSpecification"].as_array().unwrap();
        assert_eq!(specs[0]["dayOfWeek"], "https://schema.org/Tuesday");
        assert_eq!(specs[1]["closes"], "21:00");
        assert_eq!(specs[2]["validFrom"], "2026-11-01");
        assert_eq!(specs[2]["validThrough"], "2027-02-28");
        let closure = specs.last().unwrap();
        assert_eq!(
            (closure["opens"].as_str(), closure["closes"].as_str()),
            (Some("00:00"), Some("00:00"))
        );
        assert_eq!(closure["validThrough"], "2026-10-07");
    }

    #[test]
    fn events_and_objects_get_their_types() {
        assert_eq!(schema_type(ResourceType::Event), "Event");
        assert_eq!(schema_type(ResourceType::Artwork), "VisualArtwork");
        assert_eq!(schema_type(ResourceType::Artefact), "CreativeWork");
        let mut event = Record::new("c:1", "c", "非遗展演");
        event.resource_type = ResourceType::Event;
        event.creators = vec!["兰州市文化馆".into()];
        let doc = record_to_jsonld(&event, None);
        assert_eq!(doc["organizer"][0]["name"], "兰州市文化馆");
    }
}
