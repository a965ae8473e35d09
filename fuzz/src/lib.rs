//! The parser entry points every fuzz target calls, one function per parser, so that the
//! libFuzzer targets (`fuzz_targets/`) and the stable smoke test
//! (`harvesters/tests/fuzz_smoke.rs`, which runs the same calls over fixtures and mutated
//! inputs) exercise exactly the same code.
//!
//! Each function reads `data` to the end and drops the result: a parser may return an
//! error or quarantine everything, but it must not panic, hang or overflow.

use jincheng_harvesters::{
    CsvOptions, FeedOptions, JsonApiOptions, LidoOptions, MarcEncoding, MarcFormat, MarcOptions,
    OaiPmhSource, Paging, read_csv, read_feed, read_iso2709, read_jincheng_record, read_json_records,
    read_lido, read_list_records, read_marcxml,
};

/// ISO 2709 in both formats, with the encoding detected and forced to each charset.
pub fn marc_iso2709(data: &[u8]) {
    for format in [MarcFormat::Marc21, MarcFormat::Cnmarc] {
        for encoding in [MarcEncoding::Auto, MarcEncoding::Marc8, MarcEncoding::Gb18030] {
            let options = MarcOptions {
                format,
                encoding,
                source_id: "fuzz".into(),
                institution: "fuzz".into(),
            };
            read_iso2709(data, &options).for_each(drop);
        }
    }
}

/// MARCXML in both formats.
pub fn marcxml(data: &[u8]) {
    for format in [MarcFormat::Marc21, MarcFormat::Cnmarc] {
        let options = MarcOptions {
            format,
            source_id: "fuzz".into(),
            institution: "fuzz".into(),
            ..MarcOptions::default()
        };
        read_marcxml(data, &options).for_each(drop);
    }
}

/// CSV with a small column mapping.
pub fn csv(data: &[u8]) {
    let options = CsvOptions {
        source_id: "fuzz".into(),
        institution: "fuzz".into(),
        id_column: "id".into(),
        columns: [("title", "title"), ("creators", "creator"), ("date", "date")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..CsvOptions::default()
    };
    let _ = read_csv(data, &options);
}

/// RSS 2.0 or Atom.
pub fn feed(data: &[u8]) {
    let options = FeedOptions {
        source_id: "fuzz".into(),
        institution: "fuzz".into(),
    };
    let _ = read_feed(data, &options);
}

/// LIDO.
pub fn lido(data: &[u8]) {
    let options = LidoOptions {
        source_id: "fuzz".into(),
        institution: "fuzz".into(),
    };
    let _ = read_lido(data, &options);
}

/// A JSON API page with a small field mapping.
pub fn json(data: &[u8]) {
    let Ok(url) = url::Url::parse("http://127.0.0.1/api") else {
        return;
    };
    let options = JsonApiOptions {
        source_id: "fuzz".into(),
        institution: "fuzz".into(),
        url,
        paging: Paging::Single,
        records_path: "items".into(),
        id_path: "id".into(),
        fields: [("title", "title"), ("creators", "authors")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        required: Vec::new(),
        default_resource_type: None,
        max_pages: 1,
    };
    let _ = read_json_records(data, &options);
}

/// An OAI-PMH `ListRecords` page: the envelope, the resumption token, deletions, and each
/// record in whichever metadata format it carries (oai_dc, MARCXML, LIDO, `jincheng`).
pub fn oai_pmh(data: &[u8]) {
    let Ok(url) = url::Url::parse("http://127.0.0.1/oai") else {
        return;
    };
    let source = OaiPmhSource {
        source_id: "fuzz".into(),
        institution: "fuzz".into(),
        base_url: url.clone(),
        metadata_prefix: "oai_dc".into(),
        set: None,
    };
    let _ = read_list_records(data, &source, &url);
}

/// One record in Jincheng's own format (what our OAI-PMH provider serves to another Jincheng).
pub fn native(data: &[u8]) {
    let _ = read_jincheng_record(&String::from_utf8_lossy(data));
}
