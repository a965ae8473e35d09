//! Jincheng's search index: tantivy with Chinese analysis, the single index writer, and
//! search with filters, facets and highlights.
//!
//! The main types:
//! - [`Index`]: opens or creates the index ([`Index::open_or_create`], [`Index::create_in_ram`])
//!   and searches it ([`Index::search`]); cheap to clone and share between threads.
//! - [`RecordWriter`]: the one writer ([`Index::writer`]). [`RecordWriter::upsert`] adds or
//!   replaces a [`schemas::Record`], [`RecordWriter::commit`] makes the changes durable and
//!   visible and stores a watermark with them ([`Index::watermark`] reads it back).
//! - [`SearchRequest`] with [`Filters`] in, [`SearchResults`] with [`Hit`]s and [`Facet`]s out.
//! - [`ChineseAnalyzer`]: the analysis shared by documents, queries and highlights.
//!
//! ```
//! use jincheng_indexer::{Index, SearchRequest};
//! use schemas::{Institution, InstitutionType, Level, Record};
//!
//! let index = Index::create_in_ram()?;
//! let library = Institution {
//!     id: "lzlib".into(),
//!     name: "兰州市图书馆".into(),
//!     institution_type: InstitutionType::Library,
//!     district: None,
//!     level: Level::City,
//!     venue: None,
//! };
//! let mut record = Record::new("lzlib:1", "lzlib", "靜夜思");
//! record.creators.push("李白".into());
//!
//! let mut writer = index.writer()?;
//! writer.upsert(&record, &library)?;
//! writer.commit(1)?;
//!
//! let request = SearchRequest { query: "静夜思".into(), limit: 10, ..Default::default() };
//! let results = index.search(&request)?;
//! assert_eq!(results.total, 1);
//! assert_eq!(results.hits[0].highlights[0].1, "<em>靜夜思</em>");
//! assert_eq!(index.watermark()?, 1);
//! # Ok::<(), jincheng_indexer::Error>(())
//! ```
//!
//! # Analysis
//!
//! Text is normalised character by character before segmentation: full-width ASCII to
//! half-width, lowercase, traditional to simplified (with the variant characters old editions
//! use, `牀`→`床`, `爲`→`为`), so `靜夜思` and `静夜思` are the same words. Documents are cut
//! with jieba's search mode (words and their parts), queries with its precise mode. A token's
//! position is the *character offset* of its start, so phrases are "these words at these
//! relative character offsets" and overlapping parts never break them (see
//! [`ChineseAnalyzer`]'s module for the details).
//!
//! # Queries
//!
//! Every query word must match in some field (title weighs most, description least); a word
//! also matches through its parts; `"…"` is a phrase; an ISBN matches exactly; if nothing
//! matches, any word will do. An empty query (or one with only punctuation) browses: every
//! record passing the filters, newest first. Facets count disjunctively: a facet's own filter
//! does not narrow its counts. Besides the keyword facets of the institution (id, type,
//! level) and the record, records are faceted by broad period (`唐`, `清`, `现代`, from their
//! years), by the branches holding copies and the districts they are in (see
//! [`RecordWriter::set_branches`]), and by the curators' flags: accessible format, audience,
//! brand and special holding (the brand and the special holding's names are searchable
//! too). Hits come by relevance or, with [`SortOrder`], by date (newest or oldest first).
//! Latin letters are also read as pinyin or as the initials of a run of characters of any
//! length (`jnmgqtqts` and its prefix `jnmg` for `江南民國青銅器通史`).
//!
//! # Ranking for the way people remember
//!
//! - **Near misses.** When no record has the query's words, or the best one has a clause of
//!   several words only scattered (`举头望明月` against `舉頭望山月`), the search is a near
//!   miss: the best records of a looser query (two of a clause's pairs of adjacent
//!   characters) are ranked by their *fit*, how much of the query they have in order and
//!   close together, in which field, and how little else the line holds (see the `near`
//!   module). [`SearchRequest::explain`] says so, with the characters found.
//! - **Pinyin as the characters it reads as.** A query of pinyin syllables (`jiangjinjiu`,
//!   `jing ye si`) is also searched as the title and the name whose whole pinyin it is, the
//!   ones most records have, so it ranks as the same query typed in characters.
//! - **The work more institutions hold first, for the same match.** A score is multiplied by
//!   a small popularity factor from the record's copies, the sources holding its work, its
//!   clicks ([`Index::set_clicks`]) and the canonical works of the dictionaries
//!   (`canonical.txt`) — at most 1.15: a tie-breaker, never above a better textual match.
//!
//! # Collapsing: one hit per work, never hiding one
//!
//! With [`SearchRequest::collapse`], records that are *copies* of one work come back as one
//! hit listing every copy ([`Hit::holdings`]). Copies are:
//! - records sharing an ISBN or an ISSN;
//! - for published types only (book, ancient book, periodical, audio, video), records of
//!   **different sources** (the part of the record id before `:`) that agree on the folded
//!   title, creators, publisher and year. Two records of one source never collapse without
//!   a shared standard number: when one source holds two such records, none of that group
//!   collapses, since we cannot tell which of them another source's record copies.
//!
//! Unique things — artefacts, artworks, manuscripts, rubbings, images, events — never
//! collapse: nine 织金锦残片 of one museum are nine hits. Maps and untyped records collapse
//! only by a shared standard number.
//!
//! When collapsing, [`SearchResults::total`] and every facet count works, and a facet count
//! is what a click on it shows: the total of the same search with that facet's filter set
//! to that value. A work held by two institutions counts under both.
//!
//! # What this crate does not know
//!
//! Nothing of HTTP, SQLite or harvesting: the app feeds it records and a watermark and maps
//! its errors to responses.

mod analysis;
mod collector;
pub mod dictionary;
mod error;
mod floor;
mod generation;
mod highlight;
mod index;
mod keys;
mod near;
mod normalize;
mod pinyin;
pub mod query;
mod schema;
mod search;
mod suggest;
mod typo;
mod writer;

/// Failpoints, compiled only with the `failpoints` feature (the tests turn it on): a record
/// whose title starts with this makes [`RecordWriter::upsert`] panic…
#[cfg(feature = "failpoints")]
pub const FAILPOINT_PANIC: &str = "\u{2620}failpoint:panic";
/// …and with this, stop the tantivy writer (as a document that kills it would).
#[cfg(feature = "failpoints")]
pub const FAILPOINT_KILL: &str = "\u{2620}failpoint:kill";

/// The I/O error an injected fault stands for: `full` is a full disk (ENOSPC), anything else
/// a plain I/O error. Also used by the services' own failpoints (`images::write`).
#[cfg(feature = "failpoints")]
pub fn injected_io_error(arg: Option<String>) -> std::io::Error {
    match arg.as_deref() {
        Some("full") => std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "no space left on device (injected by a failpoint)",
        ),
        _ => std::io::Error::other("I/O error (injected by a failpoint)"),
    }
}

pub use crate::{
    analysis::{AnalyzedToken, ChineseAnalyzer, LOCAL_WORDS},
    collector::{CANONICAL_HOLDERS, CLICKS_PER_HOLDER},
    dictionary::{AnalysisOptions, DictionaryStats},
    error::{Error, Result},
    index::Index,
    normalize::fold_text,
    query::{MAX_QUERY_CHARS, MAX_QUERY_TOKENS},
    schema::SCHEMA_VERSION,
    search::{
        Facet, FacetValue, Filters, Hit, HitHolding, MAX_HOLDINGS_PER_HIT, MAX_RESULT_WINDOW, SearchRequest,
        SearchResults, SortOrder,
    },
    suggest::{MAX_SUGGEST_LIMIT, MAX_SUGGEST_PREFIX_CHARS, Suggestion},
    writer::RecordWriter,
};
