//! Our OAI-PMH provider at `/oai`: the independent conformance checker over loopback, and
//! Rust-level checks of what the checker cannot see (lists stable while records change,
//! persistent deletions, sets, formats, the lossless `jincheng` format).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/http.rs"]
mod http;
#[path = "support/peer.rs"]
mod peer;

use std::collections::{BTreeSet, HashSet};

use std::process::Command;
use std::sync::Arc;

use jincheng::Instance;
use jincheng::oai::{StoreRepository, write_jincheng};
use jincheng_oai_provider::Provider;
use schemas::{
    AccessibleFormat, Audience, Curation, DateRange, EventInfo, Holding, ImageLink, Institution,
    InstitutionType, Level, Record, ResourceType,
};
use services::config::Config;
use store::{Checkpoint, Incoming, Store};

// ---------------------------------------------------------------------------------------
// Helpers

fn args(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn ask(provider: &Provider<StoreRepository>, pairs: &[(&str, &str)]) -> String {
    provider
        .respond(
            "http://test.invalid/oai",
            &args(pairs),
            time::OffsetDateTime::now_utc(),
        )
        .unwrap()
}

/// Texts of every `<name>` element (no attributes), entity references resolved.
fn texts(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find(&close).unwrap();
        out.push(unescape(&after[..end]));
        rest = &after[end..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of a non-empty resumptionToken, if any.
fn token(xml: &str) -> Option<String> {
    let start = xml.find("<resumptionToken ")?;
    let tag_end = start + xml[start..].find('>')?;
    if xml[..tag_end].ends_with('/') {
        return None;
    }
    let end = tag_end + xml[tag_end..].find("</resumptionToken>")?;
    Some(unescape(&xml[tag_end + 1..end]))
}

fn error_code(xml: &str) -> Option<String> {
    let start = xml.find("<error code=\"")? + "<error code=\"".len();
    Some(xml[start..start + xml[start..].find('"')?].to_string())
}

fn institutions() -> Vec<Institution> {
    let make = |id: &str, name: &str, t, district: &str, level| Institution {
        id: id.into(),
        name: name.into(),
        institution_type: t,
        district: Some(district.parse().unwrap()),
        level,
        venue: None,
    };
    vec![
        make(
            "lzlib",
            "兰州市图书馆",
            InstitutionType::Library,
            "城关区",
            Level::City,
        ),
        make(
            "yzlib",
            "榆中县图书馆",
            InstitutionType::Library,
            "榆中县",
            Level::County,
        ),
        make(
            "lzmuseum",
            "兰州市博物馆",
            InstitutionType::Museum,
            "七里河区",
            Level::City,
        ),
    ]
}

fn store_with(institutions: &[Institution], records: &[Record]) -> (tempfile::TempDir, Arc<Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("jincheng.db")).unwrap();
    store.upsert_institutions(institutions).unwrap();
    store.import_records(records).unwrap();
    (dir, Arc::new(store))
}

fn delete(store: &Store, id: &str, institution: &str) {
    let run = store.start_run("", false).unwrap();
    let item = Incoming::Deleted {
        id: id.into(),
        local_id: id.into(),
        datestamp: String::new(),
    };
    store
        .apply_page(run, "", institution, &[item], &Checkpoint::default())
        .unwrap();
    store.finish_run(run, None).unwrap();
}

/// Records of every resource type, with odd text and every optional field varied.
fn varied_records(n: usize) -> Vec<Record> {
    let institutions = institutions();
    let odd = [
        "",
        " ",
        "a & b <c> \"d\" 'e'",
        "line\nbreak\r\nand\ttab",
        "𠮷野家 🏯",
        "靜夜思",
        "]]>",
    ];
    (0..n)
        .map(|i| {
            let mut r = jincheng::bench::synthetic_record(i, &institutions);
            r.id = format!("var:{i:05}");
            r.resource_type = ResourceType::ALL[i % ResourceType::ALL.len()];
            let pick = |k: usize| odd[(i + k) % odd.len()].to_string();
            if i % 2 == 0 {
                r.alternative_titles = vec![pick(1), format!("别名{i}")];
                r.resource_type_original = Some(pick(2));
                r.contributors = vec![pick(3)];
                r.classifications = vec!["I222.742".into()];
                r.isbns = vec!["9787101003048".into()];
                r.identifiers = vec![format!("urn:x:{i}"), pick(4)];
                r.extent = Some(pick(5));
                r.coverage = vec!["明代".into(), pick(6)];
                r.rights = Some("示例数据".into());
                r.source_url = Some(format!("https://example.invalid/r/{i}?a=1&b=2"));
            }
            r.date = match i % 4 {
                0 => None,
                1 => Some(DateRange {
                    display: "公元前221年".into(),
                    year_start: Some(-221),
                    year_end: None,
                }),
                2 => Some(DateRange {
                    display: pick(0),
                    year_start: None,
                    year_end: None,
                }),
                _ => r.date,
            };
            if i % 3 == 0 {
                r.description = None;
                r.publisher = Some(pick(2));
                r.language = None;
            }
            r.holdings = (0..i % 3)
                .map(|h| Holding {
                    institution: r.institution.clone(),
                    branch: (h == 0).then(|| "七里河分馆".to_string()),
                    call_number: Some(format!("I222/{h}")),
                    items: (h == 1).then_some(h as u32 * 7),
                    status: (h == 0).then(|| pick(h)),
                })
                .collect();
            // The fields of museum objects, events, editions and curation travel too.
            if i % 5 == 1 {
                r.event = Some(EventInfo {
                    start: Some("2026-03-08T14:30:00+08:00".into()),
                    end: (i % 2 == 0).then(|| "2026-03-08T16:00:00+08:00".into()),
                    venue: Some(pick(1)),
                    organiser: Some("兰州市文化馆".into()),
                    live_stream_url: Some(format!("https://live.example.invalid/{i}?x=1&y=2")),
                    registration_url: None,
                    replay_url: Some(format!("https://replay.example.invalid/{i}")),
                    audience: vec![schemas::Audience::Children, schemas::Audience::Families],
                    free: Some(i % 2 == 0),
                });
                r.materials = vec!["陶".into(), pick(2)];
                r.techniques = vec!["彩绘".into()];
                r.measurements = Some("高 32.5 厘米".into());
                r.period = Some("新石器时代".into());
                r.culture = Some("马家窑文化".into());
                r.place = Some(pick(3));
                r.inventory_number = Some(format!("LZM-{i:04}"));
                r.images = vec![
                    ImageLink {
                        url: format!("https://img.example.invalid/{i}.jpg"),
                        caption: Some(pick(4)),
                    },
                    ImageLink {
                        url: "https://img.example.invalid/b.png".into(),
                        caption: None,
                    },
                ];
                r.edition = Some("第2版".into());
                r.curation = Some(Curation {
                    special_collection: i % 2 == 1,
                    brand: Some(pick(5)),
                    accessible_formats: vec![AccessibleFormat::ALL[i % AccessibleFormat::ALL.len()]],
                    audiences: Audience::ALL.iter().take(2).copied().collect(),
                });
            }
            r
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The independent checker

#[tokio::test(flavor = "multi_thread")]
async fn the_independent_checker_passes_in_strict_mode() {
    let peers = peer::peers_dir();
    assert!(
        peers.join("oai_client_check.py").is_file(),
        "the peers are missing"
    );
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());

    // The whole demo catalogue (books, artefacts, artworks, events, in every format),
    // harvested over HTTP, with its deletions.
    let mut config = Config::parse(&jincheng_demo::config_toml(&base)).unwrap();
    config.data_dir = dir.path().join("data");
    // An odd page size, so the checker pages through many partial lists.
    config.oai.page_size = 37;
    let instance = Instance::open(config).unwrap();
    let router = instance.router().merge(jincheng_demo::router());
    let server = tokio::spawn(jincheng::server::serve(listener, router, std::future::pending()));
    for source in instance.config.sources.iter() {
        let run = instance.harvest(source, |_| {}).await.unwrap();
        assert_eq!(
            (run.status.as_str(), run.counts.quarantined),
            ("complete", 0),
            "{run:?}"
        );
    }
    assert!(instance.store.live_records().unwrap() > 200);

    let url = format!("{base}/oai");
    let output = tokio::task::spawn_blocking(move || {
        let python = peer::peer_python();
        Command::new(python)
            .arg(peers.join("oai_client_check.py"))
            .arg(&url)
            .arg("--strict")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        output.status.success() && summary.ends_with(" passed, 0 failed"),
        "checker failed: {summary}\n{stdout}\n{stderr}"
    );
    let passed: usize = summary.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 30, "{summary}");
    // `[oai] page_size` is what a page holds.
    let first_page = http::client()
        .get(format!("{base}/oai?verb=ListIdentifiers&metadataPrefix=oai_dc"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(first_page.matches("<header").count(), 37);
    assert!(first_page.contains("<resumptionToken"));
    server.abort();
    instance.indexing.shutdown();
}

// ---------------------------------------------------------------------------------------
// Stability, deletions, sets, formats

#[test]
fn paged_lists_neither_skip_nor_repeat_while_records_change() {
    let records: Vec<Record> = varied_records(260);
    let (_dir, store) = store_with(&institutions(), &records);
    let provider = StoreRepository::provider(Arc::clone(&store), 40).unwrap();

    let first = ask(
        &provider,
        &[("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc")],
    );
    let response_date = texts(&first, "responseDate")[0].clone();
    assert!(first.contains(r#"completeListSize="260" cursor="0""#), "{first}");
    assert!(first.contains("expirationDate=\""));
    let mut harvested: Vec<String> = texts(&first, "identifier");
    let mut next = token(&first);
    let mut page = 1;
    while let Some(t) = next {
        // Between pages: update records already sent and records not yet sent, delete one
        // of each, and add a new record.
        let touched: Vec<Record> = [page * 7, 250 - page * 3]
            .iter()
            .map(|&i| {
                let mut r = records[i].clone();
                r.title = format!("{}（第{page}次修订）", r.title);
                r
            })
            .collect();
        store.import_records(&touched).unwrap();
        delete(&store, &records[page * 11].id, &records[page * 11].institution);
        delete(&store, &records[255 - page].id, &records[255 - page].institution);
        let mut new = records[0].clone();
        new.id = format!("new:{page}");
        store.import_records(&[new]).unwrap();

        let xml = ask(&provider, &[("verb", "ListIdentifiers"), ("resumptionToken", &t)]);
        assert_eq!(error_code(&xml), None, "{xml}");
        assert!(xml.contains(&format!(r#"cursor="{}""#, harvested.len())), "{xml}");
        harvested.extend(texts(&xml, "identifier"));
        next = token(&xml);
        page += 1;
    }
    let unique: HashSet<&String> = harvested.iter().collect();
    assert_eq!(unique.len(), harvested.len(), "an identifier was repeated");

    // Whatever changed during the harvest comes with the next incremental harvest.
    let mut incremental = Vec::new();
    let mut xml = ask(
        &provider,
        &[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("from", &response_date),
        ],
    );
    loop {
        incremental.extend(texts(&xml, "identifier"));
        match token(&xml) {
            Some(t) => xml = ask(&provider, &[("verb", "ListIdentifiers"), ("resumptionToken", &t)]),
            None => break,
        }
    }
    let everything: BTreeSet<String> = harvested.iter().chain(&incremental).cloned().collect();
    let mut want: BTreeSet<String> = records.iter().map(|r| format!("oai:jincheng:{}", r.id)).collect();
    want.extend((1..page).map(|p| format!("oai:jincheng:new:{p}")));
    assert_eq!(everything, want, "a record was skipped by both harvests");
}

#[test]
fn deletions_persist_and_sets_and_formats_follow_the_record() {
    let mut book = Record::new("s:book", "lzlib", "兰州志");
    book.resource_type = ResourceType::Book;
    let mut bowl = Record::new("s:bowl", "lzmuseum", "彩陶盆");
    bowl.resource_type = ResourceType::Artefact;
    let mut gone = Record::new("s:gone", "yzlib", "旧书");
    gone.resource_type = ResourceType::AncientBook;
    let (_dir, store) = store_with(&institutions(), &[book, bowl, gone]);
    delete(&store, "s:gone", "yzlib");
    delete(&store, "s:never-seen", "yzlib");
    let provider = StoreRepository::provider(Arc::clone(&store), 100).unwrap();

    let identify = ask(&provider, &[("verb", "Identify")]);
    assert!(identify.contains("<deletedRecord>persistent</deletedRecord>"));
    assert!(identify.contains("<granularity>YYYY-MM-DDThh:mm:ssZ</granularity>"));

    let sets = ask(&provider, &[("verb", "ListSets")]);
    assert!(sets.contains("<setSpec>district:chengguan</setSpec><setName>区县：城关区</setName>"));
    assert!(sets.contains("<setSpec>institution:lzlib</setSpec><setName>兰州市图书馆</setName>"));
    for spec in texts(&sets, "setSpec") {
        assert!(jincheng_oai_provider::is_set_spec(&spec), "{spec}");
    }

    let list = |set: &str, prefix: &str| -> Vec<String> {
        let xml = ask(
            &provider,
            &[
                ("verb", "ListIdentifiers"),
                ("metadataPrefix", prefix),
                ("set", set),
            ],
        );
        texts(&xml, "identifier")
    };
    let id = |s: &str| format!("oai:jincheng:s:{s}");
    assert_eq!(list("institution:lzmuseum", "oai_dc"), [id("bowl")]);
    assert_eq!(
        list("institution_type:library", "oai_dc"),
        [id("book"), id("gone"), id("never-seen")]
    );
    assert_eq!(list("district:yuzhong", "oai_dc"), [id("gone"), id("never-seen")]);
    assert_eq!(
        list("resource_type:ancient_book", "oai_dc"),
        [id("gone")],
        "a tombstone keeps its type"
    );
    assert_eq!(list("resource_type", "oai_dc").len(), 3);
    assert_eq!(list("institution", "oai_dc").len(), 4);
    // marcxml lists the same items as oai_dc.
    assert_eq!(list("institution", "marcxml"), list("institution", "oai_dc"));
    let none = ask(
        &provider,
        &[
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "district:nowhere"),
        ],
    );
    assert_eq!(error_code(&none).as_deref(), Some("noRecordsMatch"));

    let get = |identifier: &str, prefix: &str| {
        ask(
            &provider,
            &[
                ("verb", "GetRecord"),
                ("identifier", identifier),
                ("metadataPrefix", prefix),
            ],
        )
    };
    let deleted = get(&id("gone"), "jincheng");
    assert!(
        deleted.contains(r#"<header status="deleted">"#) && !deleted.contains("<metadata>"),
        "{deleted}"
    );
    let bowl = get(&id("bowl"), "marcxml");
    assert!(
        bowl.contains("<marc:leader>00000nrm a2200000 i 4500</marc:leader>"),
        "an artefact is a three-dimensional artefact in MARC: {bowl}"
    );
    assert_eq!(
        error_code(&get(&id("bowl"), "mods")).as_deref(),
        Some("cannotDisseminateFormat")
    );
    assert_eq!(
        error_code(&get("s:bowl", "oai_dc")).as_deref(),
        Some("idDoesNotExist")
    );
    let marc = get(&id("book"), "marcxml");
    assert!(
        marc.contains("<marc:leader>00000nam a2200000 i 4500</marc:leader>"),
        "{marc}"
    );
    assert!(marc.contains(
        r#"<marc:datafield tag="245" ind1="0" ind2="0"><marc:subfield code="a">兰州志</marc:subfield>"#
    ));
    let native = get(&id("bowl"), "jincheng");
    assert!(native.contains(
        r#"xsi:schemaLocation="urn:jincheng:record:1 http://test.invalid/oai/schemas/jincheng.xsd""#
    ));
    let formats = ask(
        &provider,
        &[("verb", "ListMetadataFormats"), ("identifier", &id("bowl"))],
    );
    assert_eq!(
        texts(&formats, "metadataPrefix"),
        ["oai_dc", "marcxml", "jincheng"]
    );
}

#[test]
fn the_jincheng_format_round_trips_every_field() {
    for record in varied_records(400) {
        let mut xml = String::new();
        write_jincheng(&record, "http://x.invalid/oai/schemas/jincheng.xsd", &mut xml);
        let back = harvesters::read_jincheng_record(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert_eq!(back, record, "{xml}");
    }
}

#[test]
fn forged_or_expired_tokens_are_bad_resumption_tokens() {
    let (_dir, store) = store_with(&institutions(), &varied_records(30));
    let provider = StoreRepository::provider(Arc::clone(&store), 10).unwrap();
    let first = ask(
        &provider,
        &[("verb", "ListRecords"), ("metadataPrefix", "jincheng")],
    );
    let t = token(&first).unwrap();
    let expired = provider
        .respond(
            "http://test.invalid/oai",
            &args(&[("verb", "ListRecords"), ("resumptionToken", &t)]),
            time::OffsetDateTime::now_utc() + time::Duration::days(2),
        )
        .unwrap();
    assert_eq!(error_code(&expired).as_deref(), Some("badResumptionToken"));
    let forged = t.replacen("~10~", "~11~", 1);
    let xml = ask(
        &provider,
        &[("verb", "ListRecords"), ("resumptionToken", &forged)],
    );
    assert_eq!(error_code(&xml).as_deref(), Some("badResumptionToken"));
}
