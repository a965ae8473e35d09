//! The provider against OAI-PMH 2.0, verb by verb, through the real router.

use std::collections::HashSet;

use axum::http::StatusCode;

use crate::oai_client::{Header, file_records, get, harvest, post, query};

const PAGE: usize = 100;

#[tokio::test]
async fn list_records_pages_reproduce_every_collection_file() {
    for collection in jincheng_demo::collections() {
        let want = file_records(collection);
        let pages = harvest(collection, "ListRecords", &[("metadataPrefix", "oai_dc")]).await;
        assert_eq!(pages.len(), want.len().div_ceil(PAGE), "{collection}: pages");
        let got: Vec<_> = pages.iter().flat_map(|p| p.records("ListRecords")).collect();
        assert_eq!(got.len(), want.len(), "{collection}");
        for (got, want) in got.iter().zip(&want) {
            // Field by field, text by text: this is where escaping must round-trip.
            assert_eq!(got, want, "{collection}");
        }
        let tokens: Vec<_> = pages.iter().filter_map(|p| p.token("ListRecords")).collect();
        if want.len() > PAGE {
            let last = tokens.last().unwrap();
            assert!(
                last.text.is_empty(),
                "{collection}: last page's token must be empty"
            );
            assert_eq!(last.complete_list_size, Some(want.len()));
        } else {
            assert!(tokens.is_empty(), "{collection}: a one-page list needs no token");
        }
    }
}

#[tokio::test]
async fn list_identifiers_gives_the_headers_of_list_records() {
    let want: Vec<Header> = file_records("lzlib").into_iter().map(|r| r.header).collect();
    let pages = harvest("lzlib", "ListIdentifiers", &[("metadataPrefix", "oai_dc")]).await;
    let got: Vec<Header> = pages.iter().flat_map(|p| p.headers()).collect();
    assert_eq!(got, want);
    assert_eq!(got.iter().filter(|h| h.deleted).count(), 3);
    assert!(pages[0].verb("ListIdentifiers").child("record").is_none());
}

#[tokio::test]
async fn identify_describes_the_repository_at_the_requested_address() {
    let oai = get("lzmuseum", "verb=Identify").await.oai();
    let identify = oai.verb("Identify");
    let base = "http://demo.test:8080/demo/lzmuseum/oai";
    assert_eq!(identify.text_of("baseURL"), Some(base));
    assert_eq!(oai.request().text, base);
    assert_eq!(
        oai.request().attrs,
        [("verb".to_string(), "Identify".to_string())]
    );
    assert_eq!(identify.text_of("protocolVersion"), Some("2.0"));
    assert_eq!(identify.text_of("granularity"), Some("YYYY-MM-DDThh:mm:ssZ"));
    assert_eq!(identify.text_of("deletedRecord"), Some("persistent"));
    assert!(identify.text_of("adminEmail").unwrap().contains('@'));
    assert!(
        identify
            .text_of("repositoryName")
            .unwrap()
            .contains("兰州市博物馆")
    );
    let earliest = file_records("lzmuseum")
        .iter()
        .map(|r| r.header.datestamp.clone())
        .min();
    assert_eq!(identify.text_of("earliestDatestamp"), earliest.as_deref());
    // Identify's children come in the order the schema's sequence demands.
    let order: Vec<&str> = identify.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        order,
        [
            "repositoryName",
            "baseURL",
            "protocolVersion",
            "adminEmail",
            "earliestDatestamp",
            "deletedRecord",
            "granularity"
        ]
    );
}

#[tokio::test]
async fn response_date_is_now_in_utc_seconds() {
    let oai = get("lzlib", "verb=Identify").await.oai();
    let date = oai.response_date();
    assert_eq!(date.len(), 20, "{date}");
    assert!(date.ends_with('Z') && date.as_bytes()[10] == b'T', "{date}");
    let now = time::OffsetDateTime::now_utc();
    assert!(date.starts_with(&format!("{:04}-", now.year())), "{date}");
}

#[tokio::test]
async fn from_and_until_are_inclusive_at_both_granularities() {
    let all = file_records("lzlib");
    let stamps: Vec<&str> = all.iter().map(|r| r.header.datestamp.as_str()).collect();
    let mid = stamps[stamps.len() / 2];
    let from = lzlib_headers(&[("from", mid)]).await;
    assert_eq!(from.len(), stamps.iter().filter(|s| **s >= mid).count());
    assert!(from.iter().any(|h| h.datestamp == mid), "from is inclusive");
    let until = lzlib_headers(&[("until", mid)]).await;
    assert_eq!(until.len(), stamps.iter().filter(|s| **s <= mid).count());
    assert!(until.iter().any(|h| h.datestamp == mid), "until is inclusive");
    let both = lzlib_headers(&[("from", mid), ("until", mid)]).await;
    assert_eq!(both.len(), stamps.iter().filter(|s| **s == mid).count());

    let day = &mid[..10];
    let one_day = lzlib_headers(&[("from", day), ("until", day)]).await;
    assert_eq!(
        one_day.len(),
        stamps.iter().filter(|s| s.starts_with(day)).count()
    );
    assert!(!one_day.is_empty());

    // A selection longer than a page keeps its bounds across the resumption token.
    let first = &stamps[1][..10];
    let long = lzlib_headers(&[("from", first)]).await;
    assert!(long.len() > PAGE);
    assert_eq!(long.len(), stamps.iter().filter(|s| &s[..10] >= first).count());
}

/// Every header of lzlib's ListIdentifiers with these arguments besides metadataPrefix.
async fn lzlib_headers(args: &[(&str, &str)]) -> Vec<Header> {
    let args: Vec<(&str, &str)> = [&[("metadataPrefix", "oai_dc")], args].concat();
    let pages = harvest("lzlib", "ListIdentifiers", &args).await;
    pages.iter().flat_map(|p| p.headers()).collect()
}

#[tokio::test]
async fn sets_select_their_descendants_across_pages() {
    let all = file_records("lzlib");
    for spec in ["clc", "clc:I", "local", "ancient", "foreign"] {
        let want: Vec<&Header> = all
            .iter()
            .map(|r| &r.header)
            .filter(|h| {
                h.sets
                    .iter()
                    .any(|s| s == spec || s.starts_with(&format!("{spec}:")))
            })
            .collect();
        let pages = harvest(
            "lzlib",
            "ListIdentifiers",
            &[("metadataPrefix", "oai_dc"), ("set", spec)],
        )
        .await;
        let got: Vec<Header> = pages.iter().flat_map(|p| p.headers()).collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "set {spec}");
        if spec == "clc" {
            assert!(got.len() > PAGE && pages.len() == 2, "clc spans two pages");
        }
    }
    let none = get("lzlib", "verb=ListRecords&metadataPrefix=oai_dc&set=no:such:set")
        .await
        .oai();
    assert_eq!(none.errors(), ["noRecordsMatch"]);
}

#[tokio::test]
async fn list_sets_and_formats_describe_the_repository() {
    let oai = get("lzculture", "verb=ListSets").await.oai();
    let specs: Vec<&str> = oai
        .verb("ListSets")
        .all("set")
        .map(|s| s.text_of("setSpec").unwrap())
        .collect();
    assert!(
        specs.contains(&"ich") && specs.contains(&"ich:taipinggu"),
        "{specs:?}"
    );
    let used: HashSet<String> = file_records("lzculture")
        .into_iter()
        .flat_map(|r| r.header.sets)
        .collect();
    assert!(
        used.iter().all(|s| specs.contains(&s.as_str())),
        "every used set is listed"
    );

    for q in [
        "verb=ListMetadataFormats",
        "verb=ListMetadataFormats&identifier=oai:lzculture.example.invalid:00001",
    ] {
        let oai = get("lzculture", q).await.oai();
        let formats: Vec<_> = oai.verb("ListMetadataFormats").all("metadataFormat").collect();
        assert_eq!(formats.len(), 1);
        assert_eq!(formats[0].text_of("metadataPrefix"), Some("oai_dc"));
        assert_eq!(
            formats[0].text_of("metadataNamespace"),
            Some("http://www.openarchives.org/OAI/2.0/oai_dc/")
        );
    }
}

#[tokio::test]
async fn get_record_serves_live_records_with_escaped_text() {
    let all = file_records("lzlib");
    let tricky = all
        .iter()
        .find(|r| {
            r.dc.as_ref()
                .is_some_and(|dc| dc["title"][0].starts_with("Silk & Clay"))
        })
        .unwrap();
    let reply = get(
        "lzlib",
        &query(&[
            ("verb", "GetRecord"),
            ("identifier", &tricky.header.identifier),
            ("metadataPrefix", "oai_dc"),
        ]),
    )
    .await;
    assert!(
        reply
            .body
            .contains("<dc:title>Silk &amp; Clay: Essays on the &lt;Gansu Corridor&gt;</dc:title>")
    );
    let records = reply.oai().records("GetRecord");
    assert_eq!(records, std::slice::from_ref(tricky));

    let poem = all
        .iter()
        .find(|r| r.dc.as_ref().is_some_and(|dc| dc["title"] == ["靜夜思"]))
        .unwrap();
    let q = query(&[
        ("verb", "GetRecord"),
        ("identifier", &poem.header.identifier),
        ("metadataPrefix", "oai_dc"),
    ]);
    let records = get("lzlib", &q).await.oai().records("GetRecord");
    assert_eq!(records[0].dc.as_ref().unwrap()["creator"], ["李白"]);
}

#[tokio::test]
async fn deleted_records_are_headers_with_status_deleted_and_no_metadata() {
    for collection in jincheng_demo::collections() {
        let deleted: Vec<_> = file_records(collection)
            .into_iter()
            .filter(|r| r.header.deleted)
            .collect();
        assert!(deleted.len() >= 2, "{collection}");
        for record in deleted {
            let q = query(&[
                ("verb", "GetRecord"),
                ("identifier", &record.header.identifier),
                ("metadataPrefix", "oai_dc"),
            ]);
            let reply = get(collection, &q).await;
            assert!(reply.body.contains(r#"<header status="deleted">"#));
            let got = reply.oai().records("GetRecord");
            assert_eq!(got.len(), 1);
            assert!(got[0].header.deleted && got[0].dc.is_none());
            assert_eq!(got[0].header, record.header);
        }
    }
}

#[tokio::test]
async fn errors_are_reported_per_the_protocol() {
    let live = "oai:lzlib.example.invalid:00001";
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "badVerb"),
        (&[("verb", "NoSuchVerb")], "badVerb"),
        (&[("verb", "Identify"), ("verb", "Identify")], "badVerb"),
        (&[("verb", "Identify"), ("foo", "bar")], "badArgument"),
        (&[("verb", "ListRecords")], "badArgument"),
        (
            &[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", "oai_dc"),
                ("metadataPrefix", "oai_dc"),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("foo", "bar"),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", ""),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "yesterday"),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("until", "2025-02-30"),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "2020-01-01"),
                ("until", "2030-01-01T00:00:00Z"),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "2026-01-02"),
                ("until", "2026-01-01"),
            ],
            "badArgument",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("resumptionToken", "x"),
                ("metadataPrefix", "oai_dc"),
            ],
            "badArgument",
        ),
        (
            &[("verb", "GetRecord"), ("metadataPrefix", "oai_dc")],
            "badArgument",
        ),
        (&[("verb", "GetRecord"), ("identifier", live)], "badArgument"),
        (
            &[("verb", "ListRecords"), ("metadataPrefix", "no_such_fmt")],
            "cannotDisseminateFormat",
        ),
        (
            &[("verb", "ListIdentifiers"), ("metadataPrefix", "marcxml")],
            "cannotDisseminateFormat",
        ),
        (
            &[
                ("verb", "GetRecord"),
                ("identifier", live),
                ("metadataPrefix", "marcxml"),
            ],
            "cannotDisseminateFormat",
        ),
        (
            &[
                ("verb", "GetRecord"),
                ("identifier", "oai:nowhere:1"),
                ("metadataPrefix", "oai_dc"),
            ],
            "idDoesNotExist",
        ),
        (
            &[("verb", "ListMetadataFormats"), ("identifier", "oai:nowhere:1")],
            "idDoesNotExist",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", "2999-01-01"),
            ],
            "noRecordsMatch",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("until", "2000-01-01"),
            ],
            "noRecordsMatch",
        ),
        (
            &[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("set", "no:such:set"),
            ],
            "noRecordsMatch",
        ),
        (
            &[("verb", "ListRecords"), ("resumptionToken", "garbage-token-!!")],
            "badResumptionToken",
        ),
        (
            &[("verb", "ListRecords"), ("resumptionToken", "200|oai_dc|||")],
            "badResumptionToken",
        ),
        (
            &[("verb", "ListRecords"), ("resumptionToken", "50|oai_dc|||")],
            "badResumptionToken",
        ),
        (
            &[("verb", "ListRecords"), ("resumptionToken", "100|marcxml|||")],
            "badResumptionToken",
        ),
        (
            &[("verb", "ListRecords"), ("resumptionToken", "100|oai_dc|||local")],
            "badResumptionToken",
        ),
        (
            &[
                ("verb", "ListIdentifiers"),
                ("resumptionToken", "100|oai_dc|2999-01-01||"),
            ],
            "badResumptionToken",
        ),
        (
            &[("verb", "ListSets"), ("resumptionToken", "anything")],
            "badResumptionToken",
        ),
    ];
    for (args, code) in cases {
        for reply in [
            get("lzlib", &query(args)).await,
            post("lzlib", &query(args)).await,
        ] {
            let oai = reply.oai();
            assert_eq!(oai.errors(), [*code], "{args:?}");
            let request = oai.request();
            assert_eq!(request.text, "http://demo.test:8080/demo/lzlib/oai");
            if matches!(*code, "badVerb" | "badArgument") {
                assert!(request.attrs.is_empty(), "{args:?}: <request> must be bare");
            } else {
                let echoed: Vec<(&str, &str)> = request
                    .attrs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                assert_eq!(echoed, *args, "{args:?}: <request> echoes the arguments");
            }
            assert!(
                oai.root.children.iter().all(|c| !c.name.starts_with("List")),
                "{args:?}"
            );
        }
    }
}

#[tokio::test]
async fn post_answers_like_get() {
    let get_page = get("lzlib", "verb=ListIdentifiers&metadataPrefix=oai_dc")
        .await
        .oai();
    let token = get_page.token("ListIdentifiers").unwrap().text;
    let resume = query(&[("verb", "ListIdentifiers"), ("resumptionToken", &token)]);
    let by_get = get("lzlib", &resume).await.oai().headers();
    let by_post = post("lzlib", &resume).await.oai().headers();
    assert_eq!(by_get, by_post);
    assert_eq!(by_get.len(), file_records("lzlib").len() - PAGE);

    let identify = post("lzlib", "verb=Identify").await.oai();
    assert_eq!(
        identify.verb("Identify").text_of("baseURL"),
        Some("http://demo.test:8080/demo/lzlib/oai")
    );
}

#[tokio::test]
async fn a_second_harvest_from_the_last_response_date_finds_nothing() {
    for collection in jincheng_demo::collections() {
        let pages = harvest(collection, "ListRecords", &[("metadataPrefix", "oai_dc")]).await;
        let last = pages.last().unwrap().response_date();
        let again = get(
            collection,
            &query(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "oai_dc"),
                ("from", &last),
            ]),
        )
        .await
        .oai();
        assert_eq!(again.errors(), ["noRecordsMatch"], "{collection}");
    }
}

#[tokio::test]
async fn unknown_collections_and_paths_are_not_found() {
    let reply = get("nosuchlibrary", "verb=Identify").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("lzlib"), "the 404 lists the collections");
}
