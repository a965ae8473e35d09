//! Records as schema.org JSON-LD, for partners and search engines that speak linked data.
//!
//! The mapping keeps to schema.org terms that consumers understand: `Book`, `Periodical`,
//! `Manuscript`, `Map`, `VisualArtwork`, `Event`, `ImageObject`, `AudioObject`,
//! `VideoObject`, and `CreativeWork` for museum objects (schema.org has no artefact type);
//! the holding institution is a `Library`, `Museum` or `CivicStructure` (galleries and
//! cultural centres) placed in its district of Lanzhou.

use schemas::{Institution, InstitutionType, Record, ResourceType};
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
