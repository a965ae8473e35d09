//! Jincheng's demo: sample collections of Lanzhou's public cultural institutions and a small
//! OAI-PMH 2.0 data provider that serves them, plus one sample source of every other format
//! Jincheng harvests (CNMARC and MARCXML, LIDO, a GBK CSV export, a paged JSON API, an RSS
//! feed), so `jincheng demo` can harvest, index and search a realistic catalogue with no
//! outside system.
//!
//! **All of it is SAMPLE data**: invented records (books, artefacts, artworks, events) in
//! realistic Chinese, marked in every record's `dc:rights` as
//! `示例数据（虚构，仅供演示）Sample data for demonstration`.
//!
//! The public API is three functions:
//! - [`router`]: an axum [`Router`](axum::Router) serving every collection at
//!   `/demo/{collection}/oai` (OAI-PMH 2.0, GET and POST, `oai_dc` only), the sample files
//!   at `/demo/files/{name}` and the JSON API at `/demo/api/works?page=N&size=M`.
//! - [`config_toml`]: the demo's config file, each source pointing at that router.
//! - [`collections`]: the collection names.
//!
//! ```
//! let app: axum::Router = jincheng_demo::router();
//! let config = jincheng_demo::config_toml("http://127.0.0.1:8080/");
//! assert!(config.contains(r#"url = "http://127.0.0.1:8080/demo/lzlib/oai""#));
//! assert!(jincheng_demo::collections().contains(&"lzmuseum"));
//! # drop(app);
//! ```
//!
//! The data lives in `demo/institutions.json`, `demo/collections/*.jsonl` and `demo/files/`,
//! written by the deterministic `demo/generate.py` and compiled in with `include_str!` and
//! `include_bytes!`, so the binary works
//! from any directory. It is parsed once, when [`router`] (or any function here) is first
//! called; a unit test proves it parses, so that cannot fail at run time.
//!
//! The protocol itself (request parsing, errors, resumption tokens, response writing) is
//! the `jincheng-oai-provider` crate; this crate only implements its `Repository` over the
//! embedded collections. The data never changes while the process runs, so a list's
//! position is simply an offset. Lists are served in (datestamp, identifier) order, 100
//! items a page.
//!
//! Architecture invariant: this crate knows nothing of harvesting, storing or indexing. It
//! is a stand-in for a remote institution's system, and the app must treat it as one, over
//! HTTP.

mod config;
mod files;
mod programme;
mod provider;
mod samples;

/// Router serving every sample collection at `/demo/{collection}/oai` (OAI-PMH 2.0, GET and
/// POST), the sample files at `/demo/files/{name}` and the paged JSON API at
/// `/demo/api/works`. It has no state; an unknown collection or file is an HTTP 404.
///
/// Parses the embedded data now, so a broken build fails at startup, not on a request.
pub fn router() -> axum::Router {
    let _ = samples::all();
    let _ = files::works();
    provider::routes()
        .merge(files::routes())
        .route("/demo/events/gslib.rss", axum::routing::get(programme::serve))
}

/// The demo's config file (TOML): one `[[institutions]]` and one `[[sources]]` entry per
/// collection, each source's `url` being `{base_url}/demo/{collection}/oai`; then the
/// institutions that only have file sources and one source of each other format (`marc`
/// twice, `lido`, `csv`, `json`, `feed`), pointing at `{base_url}/demo/files/…` and
/// `{base_url}/demo/api/works`.
///
/// `data_dir` and `[server]` are left out: the app sets them. A trailing `/` on `base_url`
/// is ignored.
pub fn config_toml(base_url: &str) -> String {
    config::config_toml(base_url, samples::all())
}

/// The notice the demo shows on every citizen page: the holdings are invented.
pub const SAMPLE_NOTICE: &str = "演示数据：本站的馆藏、活动、开放时间与地址均为虚构的示例数据（机构名称取自真实机构），仅供演示，不代表各馆实际馆藏与服务。";

/// Names of the collections (also their institution ids), e.g. `["lzlib", "yzlib", …]`.
pub fn collections() -> Vec<&'static str> {
    samples::all().iter().map(|c| c.institution.id.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use schemas::Institution;

    use super::*;

    #[test]
    fn config_has_one_institution_and_one_source_per_collection() {
        let text = config_toml("http://127.0.0.1:9999/");
        let doc: toml::Table = toml::from_str(&text).unwrap();
        assert!(doc.get("data_dir").is_none() && doc.get("server").is_none());
        assert_eq!(
            doc.keys().collect::<Vec<_>>(),
            ["branches", "institutions", "mobile_routes", "sources"]
        );
        let institutions = doc["institutions"].as_array().unwrap();
        let sources = doc["sources"].as_array().unwrap();
        let names = collections();
        // The OAI-PMH collections first, then the institutions and sources of the other
        // formats, then the six venues of `venues.toml` that have no records.
        assert_eq!(institutions.len(), names.len() + 3 + 6);
        assert_eq!(sources.len(), names.len() + 7);
        for ((institution, source), name) in institutions.iter().zip(sources).zip(&names) {
            // The app reads institutions into the schema type, which denies unknown fields.
            let parsed: Institution = institution.clone().try_into().unwrap();
            assert!(parsed.validate().is_ok());
            assert_eq!(parsed.id, *name);
            let source = source.as_table().unwrap();
            let keys: Vec<&String> = source.keys().collect();
            assert_eq!(keys, ["id", "institution", "metadata_prefix", "protocol", "url"]);
            assert_eq!(source["id"].as_str(), Some(format!("{name}-oai").as_str()));
            assert_eq!(source["institution"].as_str(), Some(*name));
            assert_eq!(source["protocol"].as_str(), Some("oai-pmh"));
            assert_eq!(source["metadata_prefix"].as_str(), Some("oai_dc"));
            assert_eq!(
                source["url"].as_str(),
                Some(format!("http://127.0.0.1:9999/demo/{name}/oai").as_str())
            );
        }
        let ids: Vec<String> = institutions
            .iter()
            .map(|i| {
                let parsed: Institution = i.clone().try_into().unwrap();
                assert!(parsed.validate().is_ok(), "{parsed:?}");
                parsed.id
            })
            .collect();
        let protocols: Vec<&str> = sources[names.len()..]
            .iter()
            .map(|s| {
                let institution = s["institution"].as_str().unwrap();
                assert!(ids.iter().any(|id| id == institution), "{institution}");
                let url = s["url"].as_str().unwrap();
                assert!(url.starts_with("http://127.0.0.1:9999/demo/"), "{url}");
                s["protocol"].as_str().unwrap()
            })
            .collect();
        assert_eq!(protocols, ["marc", "marc", "lido", "csv", "json", "feed", "feed"]);
    }

    #[test]
    fn collections_are_listed_in_file_order() {
        assert_eq!(
            collections(),
            [
                "lzlib",
                "yzlib",
                "lzmuseum",
                "lzart",
                "lzculture",
                "xgculture",
                "liancheng",
                "gslib",
                "gsmuseum"
            ]
        );
    }
}
