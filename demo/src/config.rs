//! The demo's configuration file: one institution and one OAI-PMH source per collection.

use std::fmt::Write as _;

use crate::samples::Collection;

/// The TOML config, minus `data_dir` and `[server]`, which the app sets itself.
pub(crate) fn config_toml(base_url: &str, collections: &[Collection]) -> String {
    let base = base_url.trim_end_matches('/');
    let mut toml = String::from(
        "# Jincheng demo: SAMPLE collections (fictional, for demonstration only),\n\
         # served by the demo's own OAI-PMH provider and harvested like any real source.\n",
    );
    for collection in collections {
        let i = &collection.institution;
        let _ = write!(
            toml,
            "\n[[institutions]]\nid = {}\nname = {}\ntype = {}\ndistrict = {}\nlevel = {}\n",
            quoted(&i.id),
            quoted(&i.name),
            quoted(&i.institution_type),
            quoted(&i.district),
            quoted(&i.level),
        );
        toml.push_str(&venue_of(&i.id));
    }
    for collection in collections {
        let id = &collection.institution.id;
        let _ = write!(
            toml,
            "\n[[sources]]\nid = {}\ninstitution = {}\nprotocol = \"oai-pmh\"\nurl = {}\nmetadata_prefix = \"oai_dc\"\n",
            quoted(&format!("{id}-oai")),
            quoted(id),
            quoted(&format!("{base}/demo/{id}/oai")),
        );
    }
    crate::files::config_toml(&mut toml, base, quoted);
    let _ = write!(
        toml,
        "\n# 甘肃省图书馆: its programme, dated relative to today (`programme.rs`).\n\
         [[sources]]\nid = \"gslib-events\"\ninstitution = \"gslib\"\nprotocol = \"feed\"\nurl = {}\n",
        quoted(&format!("{base}/demo/events/gslib.rss")),
    );
    toml.push_str(service_network());
    toml
}

/// The sample venues, service points and mobile routes (`demo/venues.toml`, invented data).
const VENUES: &str = include_str!("../venues.toml");

/// The `[venue.{id}]` sections of [`VENUES`], rewritten as the venue of an `[[institutions]]`
/// entry (`[institutions.venue]`, `[institutions.venue.hours]`, …); empty when it has none.
fn venue_of(id: &str) -> String {
    let prefix = format!("venue.{id}");
    let mut out = String::new();
    let mut inside = false;
    for line in VENUES.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            let double = trimmed.starts_with("[[");
            let name = trimmed.trim_matches(|c| c == '[' || c == ']');
            let rest = name
                .strip_prefix(&prefix)
                .filter(|r| r.is_empty() || r.starts_with('.'));
            inside = rest.is_some();
            if let Some(rest) = rest {
                let (open, close) = if double { ("[[", "]]") } else { ("[", "]") };
                let _ = writeln!(out, "{open}institutions.venue{rest}{close}");
            }
            continue;
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The part of [`VENUES`] that is config as it is: the sample service points (their own
/// `[[institutions]]`) and the mobile routes.
fn service_network() -> &'static str {
    VENUES.find("\n[[institutions]]").map_or("", |at| &VENUES[at..])
}

/// A TOML basic string.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_venues_are_valid_and_cover_the_issue() {
        #[derive(serde::Deserialize)]
        struct Demo {
            institutions: Vec<schemas::Institution>,
            mobile_routes: Vec<schemas::MobileRoute>,
        }
        let text = crate::config_toml("http://127.0.0.1:1");
        // Other sections (sources, branches) are not looked at here.
        let demo: Demo = toml::from_str(&text).unwrap();
        for institution in &demo.institutions {
            institution.validate().unwrap();
        }
        assert_eq!(schemas::network_problem(&demo.institutions), None);
        let venue = |id: &str| {
            demo.institutions
                .iter()
                .find(|i| i.id == id)
                .and_then(|i| i.venue.clone())
                .unwrap()
        };
        // Open late (夜间) to 21:00; a 24-hour 城市书吧; a village point under a county library.
        let lzlib = venue("lzlib").hours.unwrap();
        assert_eq!(lzlib.weekly.tue, ["09:00-21:00"]);
        assert!(
            venue("lzlib-bookbar")
                .facilities
                .contains(&schemas::Facility::Open24Hours)
        );
        let village = demo
            .institutions
            .iter()
            .find(|i| i.id == "yzlib-xiaokangying")
            .unwrap();
        assert_eq!(village.level, schemas::Level::Village);
        assert_eq!(venue("yzlib-xiaokangying").parent.as_deref(), Some("yzlib"));
        // A mobile library with stops in at least two districts, all marked as samples.
        let bus = &demo.mobile_routes[0];
        bus.validate().unwrap();
        let districts: std::collections::BTreeSet<_> = bus.stops.iter().map(|s| s.district).collect();
        assert!(districts.len() >= 2);
        assert!(bus.name.contains("示例"));
        // The province level, and a place in every one of the nine districts and counties.
        for id in ["gslib", "gsmuseum"] {
            let provincial = demo.institutions.iter().find(|i| i.id == id).unwrap();
            assert_eq!(provincial.level, schemas::Level::Province, "{id}");
        }
        let districts: std::collections::BTreeSet<_> = demo.institutions.iter().map(|i| i.district).collect();
        assert_eq!(districts.len(), 9, "{districts:?}");
    }

    #[test]
    fn quoting_survives_a_toml_parser() {
        let nasty = "a\"b\\c\nd\u{1}e 兰州";
        let doc: toml::Table = toml::from_str(&format!("x = {}", quoted(nasty))).unwrap();
        assert_eq!(doc["x"].as_str(), Some(nasty));
    }
}
