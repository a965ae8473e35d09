//! Dumps read as streams give exactly what the whole-document readers give (issue #14): the
//! same items, raw text and quarantine reasons, over files of several chunks read through a
//! tiny buffer, with broken records in the middle.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::{BufReader, Cursor};

use jincheng_harvesters::{
    CsvOptions, FeedOptions, HarvestedItem, ItemOutcome, LidoOptions, MAX_RECORD_BYTES, MarcOptions,
    RECORDS_PER_CHUNK, Result, read_csv, read_csv_stream, read_feed, read_feed_stream, read_lido,
    read_lido_stream, read_marcxml, read_marcxml_stream,
};

fn demo_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../demo/files/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A reader that hands out a few bytes at a time, so that every boundary is crossed.
fn trickle(bytes: Vec<u8>) -> BufReader<Cursor<Vec<u8>>> {
    BufReader::with_capacity(7, Cursor::new(bytes))
}

fn collect(items: impl Iterator<Item = Result<HarvestedItem>>) -> Vec<HarvestedItem> {
    items.collect::<Result<Vec<_>>>().unwrap()
}

fn quarantined(items: &[HarvestedItem]) -> Vec<&str> {
    items
        .iter()
        .filter_map(|item| match &item.outcome {
            ItemOutcome::Quarantined { reason } => Some(reason.as_str()),
            _ => None,
        })
        .collect()
}

/// `document` with the part from the first `open` to the last `close` repeated `times`, each
/// copy's ids made unique by prefixing `id_mark` with the copy's number.
fn multiply(document: &str, open: &str, close: &str, id_mark: &str, times: usize) -> String {
    let start = document.find(open).unwrap();
    let end = document.rfind(close).unwrap() + close.len();
    let body: String = (0..times)
        .map(|k| document[start..end].replace(id_mark, &format!("{id_mark}{k}-")))
        .collect();
    format!("{}{body}{}", &document[..start], &document[end..])
}

#[test]
fn a_lido_stream_reads_as_the_whole_file_with_its_broken_records() {
    let file = multiply(
        &demo_file("lzmuseum_lido.xml"),
        "<lido:lido>",
        "</lido:lido>",
        "LZM-LIDO-",
        40,
    );
    // A record with broken XML and one without an id, in the middle of the second chunk.
    let broken = "<lido:lido><lido:lidoRecID>BROKEN-1</lido:lidoRecID><lido:x a=></lido:lido>\n\
                  <lido:lido><lido:descriptiveMetadata/></lido:lido>\n";
    let at = file
        .match_indices("<lido:lido>")
        .nth(RECORDS_PER_CHUNK + 7)
        .unwrap()
        .0;
    let file = format!("{}{broken}{}", &file[..at], &file[at..]);
    let options = LidoOptions {
        source_id: "lzm".into(),
        institution: "lzmuseum".into(),
    };
    let whole = read_lido(file.as_bytes(), &options).unwrap();
    let streamed = collect(read_lido_stream(trickle(file.into_bytes()), options));
    assert_eq!(whole.len(), 40 * 25 + 2);
    assert_eq!(quarantined(&whole).len(), 2, "{:?}", quarantined(&whole));
    assert_eq!(streamed, whole);
}

#[test]
fn a_marcxml_stream_counts_its_records_across_chunks() {
    let record = |i: usize| {
        format!(
            "<record><leader>00000nam a2200000 i 4500</leader>\
             <controlfield tag=\"001\">{i}</controlfield>\
             <datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">第{i}卷 &amp; 续</subfield></datafield></record>\n"
        )
    };
    let mut file =
        String::from("<?xml version=\"1.0\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n");
    for i in 0..2 * RECORDS_PER_CHUNK + 30 {
        if i == RECORDS_PER_CHUNK + 3 {
            file.push_str("<record><leader>00000nam a2200000 i 4500</leader><controlfield tag=\"001\">x</controlfield><datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">a&nbsp;b</subfield></datafield></record>\n");
        }
        file.push_str(&record(i));
    }
    file.push_str("</collection>\n");
    let options = MarcOptions {
        source_id: "x".into(),
        institution: "lzlib".into(),
        ..MarcOptions::default()
    };
    let whole: Vec<_> = read_marcxml(file.as_bytes(), &options).collect();
    let streamed = collect(read_marcxml_stream(trickle(file.into_bytes()), options));
    assert_eq!(whole.len(), 2 * RECORDS_PER_CHUNK + 31);
    let reasons = quarantined(&whole);
    assert!(
        reasons.len() == 1 && reasons[0].starts_with(&format!("MARCXML record {}:", RECORDS_PER_CHUNK + 4)),
        "{reasons:?}"
    );
    assert_eq!(streamed, whole);
}

#[test]
fn a_feed_stream_keeps_the_channel_around_each_chunk() {
    let file = multiply(
        &demo_file("qlhculture_events.rss"),
        "<item>",
        "</item>",
        "qlhwhg-event-",
        70,
    );
    let options = FeedOptions {
        source_id: "qlh".into(),
        institution: "qlhculture".into(),
    };
    let whole = read_feed(file.as_bytes(), &options).unwrap();
    let streamed = collect(read_feed_stream(trickle(file.into_bytes()), options));
    assert_eq!(whole.len(), 70 * 15);
    assert_eq!(streamed, whole);
}

#[test]
fn a_gbk_csv_stream_names_the_lines_of_the_whole_file() {
    let demo = std::fs::read(format!(
        "{}/../demo/files/lzhy_works.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let newline = demo.iter().position(|&b| b == b'\n').unwrap() + 1;
    let (header, rows) = demo.split_at(newline);
    let mut file = header.to_vec();
    for k in 0..40 {
        // Each copy's ids made unique (the ids are ASCII, so GBK is untouched).
        file.extend(replace_bytes(rows, b"LZHY-", format!("LZHY{k}-").as_bytes()));
        if k == 25 {
            // A row with a quoted cell over two lines, one with too few columns.
            file.extend_from_slice(b"Q-1,\"two\nlines\",x,2001,a,b,c,d,e,f\nSHORT-1,only\n");
        }
    }
    let options = CsvOptions {
        source_id: "lzhy".into(),
        institution: "lzart".into(),
        id_column: "作品编号".into(),
        columns: BTreeMap::from([
            ("title".into(), "作品名称".into()),
            ("date".into(), "创作年代".into()),
        ]),
        ..CsvOptions::default()
    };
    let whole = read_csv(&file, &options).unwrap();
    let streamed = collect(read_csv_stream(trickle(file), options));
    assert_eq!(whole.len(), 40 * 30 + 2);
    let reasons = quarantined(&whole);
    assert!(
        reasons.iter().any(|r| r.starts_with("row 784 has 2 columns")),
        "{reasons:?}"
    );
    assert_eq!(streamed, whole);
}

fn replace_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn a_record_that_never_ends_stops_the_stream_after_what_came_before() {
    let mut file = String::from("<collection>");
    for i in 0..3 {
        file.push_str(&format!(
            "<record><controlfield tag=\"001\">{i}</controlfield><datafield tag=\"245\"><subfield code=\"a\">t{i}</subfield></datafield></record>"
        ));
    }
    file.push_str("<record><datafield tag=\"245\"><subfield code=\"a\">");
    file.push_str(&"很长".repeat(MAX_RECORD_BYTES / 3));
    let items: Vec<_> = read_marcxml_stream(Cursor::new(file.into_bytes()), MarcOptions::default()).collect();
    assert_eq!(items.len(), 4);
    assert!(items[..3].iter().all(Result::is_ok));
    let error = items[3].as_ref().unwrap_err().to_string();
    assert!(error.contains("never ends"), "{error}");

    // An unclosed quote in a CSV file: the same.
    let mut csv = b"id,title\n1,a\n2,\"b".to_vec();
    csv.extend(std::iter::repeat_n(b'x', 2 * MAX_RECORD_BYTES + 10));
    let options = CsvOptions {
        source_id: "s".into(),
        id_column: "id".into(),
        columns: BTreeMap::from([("title".into(), "title".into())]),
        ..CsvOptions::default()
    };
    let items: Vec<_> = read_csv_stream(Cursor::new(csv), options).collect();
    assert_eq!(items.len(), 2);
    assert!(matches!(&items[0], Ok(item) if item.local_id == "1"));
    let error = items[1].as_ref().unwrap_err().to_string();
    assert!(error.contains("unclosed quote"), "{error}");
}
