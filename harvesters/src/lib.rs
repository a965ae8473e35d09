//! Protocol clients that fetch remote collections and map them into Jincheng's
//! [`schemas::Record`]s.
//!
//! This crate fetches and maps; it never stores. It knows nothing about tantivy or SQLite:
//! the application decides what to keep, where, and when to checkpoint.
//!
//! The main types:
//! - [`OaiPmhHarvester`]: an OAI-PMH 2.0 harvester for one [`OaiPmhSource`]. It answers
//!   [`identify`](OaiPmhHarvester::identify) and fetches one [`Page`] of `ListRecords` per
//!   [`ListRequest`]; [`Harvest`] follows resumption tokens to the end of a list.
//! - [`HarvestedItem`]: one record of a page with its header, its raw XML and its
//!   [`ItemOutcome`]: a mapped record, a deletion, or a quarantine with the reason. A broken
//!   record never fails the page.
//! - [`HttpLimits`] and [`AddressPolicy`]: retries, `Retry-After`, timeouts, a cap on
//!   decompressed body size, and which addresses may be contacted (SSRF protection for
//!   user-registered URLs).
//! - [`Error`]: why a request or a page failed.
//!
//! ```no_run
//! use jincheng_harvesters::{
//!     Harvest, HttpLimits, ItemOutcome, ListRequest, OaiPmhHarvester, OaiPmhSource,
//! };
//!
//! # async fn run() -> jincheng_harvesters::Result<()> {
//! let source = OaiPmhSource {
//!     source_id: "lzlib-oai".into(),
//!     institution: "lzlib".into(),
//!     base_url: "https://oai.lzlib.example/oai".parse().expect("a valid URL"),
//!     metadata_prefix: "oai_dc".into(),
//!     set: None,
//! };
//! let harvester = OaiPmhHarvester::new(source, HttpLimits::default())?;
//! let start = ListRequest::Start { from: Some("2024-01-01T00:00:00Z".into()), until: None };
//! let mut harvest = Harvest::new(&harvester, start);
//! while let Some(page) = harvest.next_page().await? {
//!     for item in &page.items {
//!         match &item.outcome {
//!             ItemOutcome::Record(record) => println!("{} {}", record.id, record.title),
//!             ItemOutcome::Deleted => println!("deleted {}", item.local_id),
//!             ItemOutcome::Quarantined { reason } => println!("{}: {reason}", item.local_id),
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The dates, ISBNs, languages and 中图法 classes of mapped records go through
//! [`normalize_date`], [`normalize_isbn`], [`normalize_language`] and [`is_clc_class`],
//! which other mappings can share.

mod address_policy;
mod csv_export;
mod dump_stream;
mod error;
mod feed;
mod http_fetch;
mod json_api;
mod lido;
mod marc;
mod native;
mod oai_dc;
mod oai_pmh;
mod oai_response;
mod xml_text;

/// The small-stack worker the tests read hostile documents on, shared with the integration
/// tests (`tests/deep_nesting.rs`).
#[cfg(test)]
#[path = "../tests/support/worker_stack.rs"]
mod worker_stack;

pub use schemas::{is_clc_class, normalize_date, normalize_isbn, normalize_language};

pub use crate::{
    address_policy::AddressPolicy,
    csv_export::{CsvEncoding, CsvHarvest, CsvOptions, decode_csv_text, read_csv, read_csv_report},
    dump_stream::{
        MAX_RECORD_BYTES, RECORDS_PER_CHUNK, read_csv_stream, read_feed_stream, read_lido_stream,
        read_marcxml_stream,
    },
    error::Error,
    feed::{FeedOptions, read_feed},
    http_fetch::{HttpLimits, download, fetch_bytes},
    json_api::{
        JsonApiHarvester, JsonApiOptions, JsonApiPage, MAX_JSON_DOCUMENT, Paging, read_json_records,
        read_json_stream,
    },
    lido::{LIDO_NAMESPACE, LidoOptions, map_lido_record, read_lido},
    marc::{
        MarcEncoding, MarcFormat, MarcOptions, read_iso2709, read_iso2709_stream, read_marc_file,
        read_marcxml, write_iso2709,
    },
    native::read_jincheng_record,
    oai_pmh::{
        Granularity, Harvest, HarvestedItem, Identify, ItemOutcome, ListRequest, OaiPmhHarvester,
        OaiPmhSource, Page, read_list_records,
    },
};

/// The result of a harvesting operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
