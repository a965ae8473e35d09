//! Hostile nesting: documents with tens of thousands to a million nested elements, inside one
//! record and around the whole document, read on a thread with a tokio worker's 2 MiB stack.
//! A record nested too deeply is quarantined alone with the depth as its reason; a document
//! nested too deeply outside its records is refused; nothing overflows the stack or hangs.
//! (OAI-PMH pages are tested beside their reader, in `src/oai_response.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/worker_stack.rs"]
mod support;

use jincheng_harvesters::{
    FeedOptions, HarvestedItem, ItemOutcome, LidoOptions, MarcOptions, map_lido_record, read_feed,
    read_jincheng_record, read_lido, read_marcxml,
};
use support::{HOSTILE_DEPTHS, nested, on_worker_stack};

/// What every refusal says.
const TOO_DEEP: &str = "XML nested deeper than 256 elements";

/// Where the first element too deep starts when a document opens with the hostile nesting
/// of `<a>`s: the 257th `<a>`.
const FIRST_TOO_DEEP: &str = "at byte 768";

fn quarantine_reason(item: &HarvestedItem) -> &str {
    match &item.outcome {
        ItemOutcome::Quarantined { reason } => reason,
        other => panic!("{}: expected a quarantine, got {other:?}", item.local_id),
    }
}

fn title(item: &HarvestedItem) -> &str {
    match &item.outcome {
        ItemOutcome::Record(record) => &record.title,
        other => panic!("{}: expected a record, got {other:?}", item.local_id),
    }
}

fn feed_options() -> FeedOptions {
    FeedOptions {
        source_id: "feed".into(),
        institution: "lzwhg".into(),
    }
}

fn rss_item(id: &str, inner: &str) -> String {
    format!("<item><guid>{id}</guid><title>讲座 {id}</title>{inner}</item>")
}

#[test]
fn a_deep_feed_item_is_quarantined_alone() {
    for depth in HOSTILE_DEPTHS {
        let items = on_worker_stack(move || {
            let deep = rss_item("deep", &nested("a", depth, "x"));
            let rss = format!(
                "<rss version=\"2.0\"><channel><title>活动</title>{}{deep}{}</channel></rss>",
                rss_item("1", ""),
                rss_item("3", "")
            );
            read_feed(rss.as_bytes(), &feed_options())
        })
        .unwrap();
        assert_eq!(items.len(), 3, "{depth}");
        assert_eq!(title(&items[0]), "讲座 1");
        let reason = quarantine_reason(&items[1]);
        assert!(reason.contains(TOO_DEEP), "{depth}: {reason}");
        assert_eq!(title(&items[2]), "讲座 3");
    }
}

#[test]
fn a_deep_atom_entry_is_quarantined_alone() {
    for depth in HOSTILE_DEPTHS {
        let items = on_worker_stack(move || {
            let entry = |id: &str, inner: &str| {
                format!(
                    "<entry><id>{id}</id><title>展览 {id}</title>\
                     <link href=\"https://x.example.cn/{id}\"/>{inner}</entry>"
                )
            };
            let atom = format!(
                "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>活动</title>{}{}{}</feed>",
                entry("1", ""),
                entry("deep", &nested("div", depth, "")),
                entry("3", "")
            );
            read_feed(atom.as_bytes(), &feed_options())
        })
        .unwrap();
        assert_eq!(items.len(), 3, "{depth}");
        assert_eq!(title(&items[0]), "展览 1");
        let reason = quarantine_reason(&items[1]);
        assert!(reason.contains(TOO_DEEP), "{depth}: {reason}");
        assert_eq!(title(&items[2]), "展览 3");
    }
}

#[test]
fn a_feed_nested_deeply_around_its_items_is_refused() {
    for depth in HOSTILE_DEPTHS {
        let error = on_worker_stack(move || {
            let rss = format!("<rss><channel>{}</channel></rss>", rss_item("1", ""));
            read_feed(nested("a", depth, &rss).as_bytes(), &feed_options())
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains(TOO_DEEP), "{depth}: {error}");
        assert!(error.contains(FIRST_TOO_DEEP), "{depth}: {error}");
    }
}

fn lido_options() -> LidoOptions {
    LidoOptions {
        source_id: "gsm".into(),
        institution: "gsmuseum".into(),
    }
}

fn lido_record(id: &str, inner: &str) -> String {
    format!(
        "<lido:lido><lido:lidoRecID>{id}</lido:lidoRecID><lido:descriptiveMetadata xml:lang=\"zh\">\
         <lido:objectIdentificationWrap><lido:titleWrap><lido:titleSet>\
         <lido:appellationValue>彩陶 {id}</lido:appellationValue></lido:titleSet></lido:titleWrap>\
         </lido:objectIdentificationWrap>{inner}</lido:descriptiveMetadata></lido:lido>"
    )
}

fn lido_wrap(records: &str) -> String {
    format!("<lido:lidoWrap xmlns:lido=\"http://www.lido-schema.org\">{records}</lido:lidoWrap>")
}

#[test]
fn a_deep_lido_record_is_quarantined_alone() {
    for depth in HOSTILE_DEPTHS {
        let items = on_worker_stack(move || {
            let records = [
                lido_record("GSM-1", ""),
                lido_record("GSM-DEEP", &nested("lido:note", depth, "深")),
                lido_record("GSM-3", ""),
            ];
            read_lido(lido_wrap(&records.concat()).as_bytes(), &lido_options())
        })
        .unwrap();
        assert_eq!(items.len(), 3, "{depth}");
        assert_eq!(title(&items[0]), "彩陶 GSM-1");
        assert_eq!(items[1].local_id, "GSM-DEEP");
        let reason = quarantine_reason(&items[1]);
        assert!(reason.contains(TOO_DEEP), "{depth}: {reason}");
        assert_eq!(title(&items[2]), "彩陶 GSM-3");
    }
}

#[test]
fn a_lido_file_nested_deeply_around_its_records_is_refused() {
    for depth in HOSTILE_DEPTHS {
        let error = on_worker_stack(move || {
            let file = nested("a", depth, &lido_wrap(&lido_record("GSM-1", "")));
            read_lido(file.as_bytes(), &lido_options())
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains(TOO_DEEP), "{depth}: {error}");
        assert!(error.contains(FIRST_TOO_DEEP), "{depth}: {error}");
    }
}

#[test]
fn a_deep_lido_record_from_oai_pmh_is_quarantined() {
    for depth in HOSTILE_DEPTHS {
        let item = on_worker_stack(move || {
            let xml = lido_record("GSM-DEEP", &nested("lido:note", depth, ""));
            map_lido_record(&xml, &lido_options())
        });
        assert_eq!(item.local_id, "GSM-DEEP");
        let reason = quarantine_reason(&item);
        assert!(reason.contains(TOO_DEEP), "{depth}: {reason}");
    }
    // The same record without the nesting maps: only the depth was wrong.
    let item = map_lido_record(&lido_record("GSM-DEEP", ""), &lido_options());
    assert_eq!(title(&item), "彩陶 GSM-DEEP");
}

fn marc_options() -> MarcOptions {
    MarcOptions {
        source_id: "marc".into(),
        institution: "lzlib".into(),
        ..MarcOptions::default()
    }
}

fn marc_record(id: &str, inner: &str) -> String {
    format!(
        "<record><leader>00000nam a2200000 i 4500</leader><controlfield tag=\"001\">{id}</controlfield>\
         <datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">诗集 {id}</subfield></datafield>\
         {inner}</record>"
    )
}

#[test]
fn a_deep_marcxml_record_is_quarantined_alone() {
    for depth in HOSTILE_DEPTHS {
        let items = on_worker_stack(move || {
            let xml = format!(
                "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">{}{}{}</collection>",
                marc_record("1", ""),
                marc_record("deep", &nested("a", depth, "")),
                marc_record("3", "")
            );
            read_marcxml(xml.as_bytes(), &marc_options()).collect::<Vec<_>>()
        });
        let outcomes: Vec<_> = items.iter().map(|i| &i.outcome).collect();
        assert_eq!(items.len(), 3, "{depth}: {outcomes:?}");
        assert_eq!(title(&items[0]), "诗集 1");
        let reason = quarantine_reason(&items[1]);
        assert!(reason.contains(TOO_DEEP), "{depth}: {reason}");
        assert_eq!(title(&items[2]), "诗集 3");
    }
}

#[test]
fn a_marcxml_file_nested_deeply_around_its_records_is_refused() {
    for depth in HOSTILE_DEPTHS {
        let items = on_worker_stack(move || {
            let collection = format!("<collection>{}</collection>", marc_record("1", ""));
            let xml = nested("a", depth, &collection);
            read_marcxml(xml.as_bytes(), &marc_options()).collect::<Vec<_>>()
        });
        // One report for the whole file, and nothing read from inside the nesting.
        assert_eq!(items.len(), 1, "{depth}");
        let reason = quarantine_reason(&items[0]);
        assert!(reason.contains(TOO_DEEP), "{depth}: {reason}");
        assert!(reason.contains(FIRST_TOO_DEEP), "{depth}: {reason}");
        assert!(reason.contains("outside any record"), "{depth}: {reason}");
    }
}

fn jincheng_record(inner: &str) -> String {
    format!(
        "<jincheng xmlns=\"urn:jincheng:record:1\"><id>a:1</id><institution>lzlib</institution>\
         <title>静夜思</title>{inner}</jincheng>"
    )
}

#[test]
fn a_deep_jincheng_record_is_refused() {
    for depth in HOSTILE_DEPTHS {
        let error = on_worker_stack(move || read_jincheng_record(&jincheng_record(&nested("a", depth, ""))))
            .unwrap_err();
        assert!(error.contains(TOO_DEEP), "{depth}: {error}");
    }
    // Without the nesting it reads.
    assert_eq!(
        read_jincheng_record(&jincheng_record("")).unwrap().title,
        "静夜思"
    );
}

#[test]
fn a_jincheng_record_nested_deeply_is_refused() {
    for depth in HOSTILE_DEPTHS {
        let error = on_worker_stack(move || read_jincheng_record(&nested("a", depth, &jincheng_record(""))))
            .unwrap_err();
        assert!(error.contains(TOO_DEEP), "{depth}: {error}");
        assert!(error.contains(FIRST_TOO_DEEP), "{depth}: {error}");
    }
}
