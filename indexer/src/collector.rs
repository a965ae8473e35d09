//! One pass over the documents matching the query: filters, the page, the total and the
//! facet counts together.
//!
//! The query itself carries no filter. For each matching document the collector reads the
//! keyword fields' term ordinals (several per document for the multi-valued ones: a document
//! passes a filter when any of its values is accepted, and counts under each of its values) and the years from the fast fields and checks every filter.
//! A document passing all filters counts in the total, every facet and the page; a document
//! failing exactly one filter counts only in that filter's facet (the disjunctive
//! convention: a facet's own filter does not narrow its counts, so the user sees what adding
//! another value would bring); a document failing two filters counts nowhere. Counting works
//! on ordinals in per-segment arrays; strings are looked up once per segment at the end, and
//! no stored document is read.
//!
//! Collapsing (one hit per work) keeps, per segment, the best document of every matching
//! work that has several records in a dense array indexed by the work key's term ordinal;
//! a record that is its work's only one (most records) competes for the page like any
//! record, without the table. Works are told apart across
//! segments by numbers shared by all segments of the searcher ([`WorkNumbering`], built
//! once per searcher), so no work key string is read while searching; each segment turns
//! just its best `window` works into [`Candidate`]s (see [`SegmentWorks`] for why that is
//! enough).

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::Hasher;
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::generation::{MANY_VALUES, NO_VALUE, NO_YEAR, PopularDocs, SegmentColumns};
use crate::keys::TITLE_KEY_PREFIX;
use crate::schema::names;
use crate::search::SortOrder;

/// The keyword facets, in the order they are reported: (facet name, field name).
pub(crate) const KEYWORD_FACETS: [(&str, &str); 12] = [
    ("institution", names::INSTITUTION),
    ("institution_type", names::INSTITUTION_TYPE),
    ("resource_type", names::RESOURCE_TYPE),
    ("region", names::REGION),
    ("language", names::LANGUAGE),
    ("period", names::PERIOD),
    ("accessible_format", names::ACCESSIBLE_FORMAT),
    ("level", names::LEVEL),
    ("branch", names::BRANCH),
    ("brand", names::BRAND),
    ("audience", names::AUDIENCE),
    ("special_collection", names::SPECIAL_COLLECTION),
];
pub(crate) const KEYWORDS: usize = KEYWORD_FACETS.len();
/// Index of the year filter in the "which filter failed" bookkeeping.
const YEAR: usize = KEYWORDS;

/// What to collect.
pub(crate) struct SearchCollector {
    /// Accepted values per keyword facet; empty means no filter.
    pub(crate) keyword_filters: [Vec<String>; KEYWORDS],
    /// Inclusive year range the record's years must overlap.
    pub(crate) years: Option<(i64, i64)>,
    /// Best documents to keep: offset + limit.
    pub(crate) window: usize,
    /// Order by score (a query) or by year and id (browsing).
    pub(crate) scoring: bool,
    /// Relevance, or a date order that comes before the score.
    pub(crate) sort: SortOrder,
    /// One candidate per work (the best record of each work key); the total counts works.
    pub(crate) collapse: bool,
    /// The searcher's work numbering, needed when collapsing.
    pub(crate) work_numbers: Option<Arc<WorkNumbering>>,
    /// The searcher's segments' columns, by segment ordinal (opened on the spot if missing).
    pub(crate) columns: Vec<Arc<SegmentColumns>>,
    /// When scoring: the documents popularity lifts, by segment ordinal.
    pub(crate) popular: Option<Vec<Arc<PopularDocs>>>,
}

/// Works numbered across the segments of one searcher: the same work key gets the same
/// number in every segment, so collapsing counts and compares works by number, without
/// reading a work key while searching.
pub(crate) struct WorkNumbering {
    generation: u64,
    /// Per segment ordinal: the work number of each work key ordinal, [`AMBIGUOUS`] for a
    /// title key that two live records of one source share (see `keys::work_key`): its
    /// records are not collapsed.
    segments: Vec<Arc<[u32]>>,
    /// Number of distinct work keys in the searcher.
    works: usize,
    /// Per work number: does the work have several live records? Only those can be counted
    /// twice under one facet value, so only their facet counts are de-duplicated.
    shared: Arc<[bool]>,
    /// Per segment ordinal: the holders of the work of each work key ordinal, ambiguous title
    /// keys included (the popularity signal: see [`popularity`]).
    holders_by_ord: Vec<Arc<[u32]>>,
}

impl WorkNumbering {
    /// The holders of the work of work key ordinal `ord` in segment `segment` (see
    /// [`popularity`]; 1 when unknown).
    pub(crate) fn holders_of(&self, segment: SegmentOrdinal, ord: u64) -> u32 {
        self.holders_by_ord
            .get(segment as usize)
            .and_then(|records| records.get(usize::try_from(ord).ok()?))
            .copied()
            .unwrap_or(1)
    }
}

/// The holders of each document's work in one segment.
struct WorkHolders {
    /// Each document's work key ordinal.
    keys: Arc<[u32]>,
    /// The holders of the work of each ordinal.
    holders: Arc<[u32]>,
}

impl WorkHolders {
    fn of(&self, doc: DocId) -> u32 {
        self.keys
            .get(doc as usize)
            .and_then(|ord| self.holders.get(*ord as usize))
            .copied()
            .unwrap_or(1)
    }
}

/// The work number of a title key whose records must not collapse.
pub(crate) const AMBIGUOUS: u32 = u32::MAX;

/// What the numbering needs to know of one segment's live documents.
struct SegmentWorkStats {
    /// Live documents per work key ordinal.
    docs: Vec<u32>,
    /// (work key ordinal, source hash) of every live document with a title key.
    title_sources: Vec<(u32, u64)>,
}

/// Builds and keeps the [`WorkNumbering`] of the latest searcher.
///
/// Keys are matched across segments by a 64-bit hash, computed once per segment (a segment
/// never changes) in one pass over its work key dictionary. Two different keys with the same
/// hash would be taken for one work; among 10⁶ works the chance that any two collide is
/// about 3·10⁻⁸.
///
/// It also reads, once per segment and number of deleted documents, every live document's
/// work key and source (two fast-field lookups per document), to count the records of
/// each work and to find the ambiguous title keys. A segment's live documents change only
/// with deletions, so the cache is keyed by both.
#[derive(Default)]
pub(crate) struct WorkNumbers {
    /// Per segment: the hash of each work key, by term ordinal.
    hashes: Mutex<HashMap<SegmentId, Arc<[u64]>>>,
    /// Per segment and number of deleted documents: its live documents' works and sources.
    stats: Mutex<HashMap<(SegmentId, u32), Arc<SegmentWorkStats>>>,
    latest: Mutex<Option<Arc<WorkNumbering>>>,
}

impl WorkNumbers {
    /// The numbering of `searcher`'s works, built if it is not the latest one's.
    pub(crate) fn numbering(&self, searcher: &Searcher) -> tantivy::Result<Arc<WorkNumbering>> {
        let generation = searcher.generation().generation_id();
        if let Some(latest) = lock(&self.latest).as_ref()
            && latest.generation == generation
        {
            return Ok(latest.clone());
        }
        let readers = searcher.segment_readers();
        let live: Vec<(SegmentId, u32)> = readers
            .iter()
            .map(|r| (r.segment_id(), r.num_deleted_docs()))
            .collect();
        lock(&self.hashes).retain(|id, _| live.iter().any(|(live, _)| live == id));
        lock(&self.stats).retain(|key, _| live.contains(key));
        let mut numbers: HashMap<u64, u32> = HashMap::new();
        let mut segments: Vec<Vec<u32>> = Vec::with_capacity(readers.len());
        let mut stats = Vec::with_capacity(readers.len());
        for reader in readers {
            let hashes = self.hashes_of(reader)?;
            let segment: Vec<u32> = hashes
                .iter()
                .map(|hash| {
                    let next = numbers.len() as u32;
                    *numbers.entry(*hash).or_insert(next)
                })
                .collect();
            segments.push(segment);
            stats.push(self.stats_of(reader)?);
        }
        let works = numbers.len();
        let mut records = vec![0u32; works];
        let mut ambiguous = vec![false; works];
        let mut sources: HashSet<(u32, u64)> = HashSet::new();
        let mut title_sources = vec![0u32; works];
        for (segment, stats) in segments.iter().zip(&stats) {
            for (number, docs) in segment.iter().zip(&stats.docs) {
                if let Some(count) = records.get_mut(*number as usize) {
                    *count = count.saturating_add(*docs);
                }
            }
            for (ord, source) in &stats.title_sources {
                let Some(&number) = segment.get(*ord as usize) else {
                    continue;
                };
                if sources.insert((number, *source)) {
                    if let Some(count) = title_sources.get_mut(number as usize) {
                        *count += 1;
                    }
                } else if let Some(flag) = ambiguous.get_mut(number as usize) {
                    *flag = true;
                }
            }
        }
        // The popularity signal: how many sources hold a work of a title key (two poems of
        // one collection that share a title are not two holdings), how many records share a
        // standard number.
        let holders: Vec<u32> = records
            .iter()
            .zip(&title_sources)
            .map(|(records, sources)| if *sources > 0 { *sources } else { *records })
            .collect();
        let holders_by_ord = segments
            .iter()
            .map(|segment| {
                segment
                    .iter()
                    .map(|number| holders.get(*number as usize).copied().unwrap_or(1))
                    .collect()
            })
            .collect();
        let shared: Arc<[bool]> = records
            .iter()
            .zip(&ambiguous)
            .map(|(records, ambiguous)| *records > 1 && !ambiguous)
            .collect();
        let segments = segments
            .into_iter()
            .map(|mut segment| {
                for number in &mut segment {
                    if ambiguous.get(*number as usize).copied().unwrap_or(false) {
                        *number = AMBIGUOUS;
                    }
                }
                Arc::from(segment)
            })
            .collect();
        let numbering = Arc::new(WorkNumbering {
            generation,
            segments,
            works,
            shared,
            holders_by_ord,
        });
        let mut latest = lock(&self.latest);
        if latest.as_ref().is_none_or(|l| l.generation < generation) {
            *latest = Some(numbering.clone());
        }
        Ok(numbering)
    }

    /// The hashes of `reader`'s segment, computed if not known yet.
    fn hashes_of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<[u64]>> {
        let id = reader.segment_id();
        if let Some(hashes) = lock(&self.hashes).get(&id) {
            return Ok(hashes.clone());
        }
        let hashes: Arc<[u64]> = match reader.fast_fields().str(names::WORK_KEY)? {
            Some(column) => {
                let mut hashes = Vec::with_capacity(column.num_terms());
                let mut keys = column.dictionary().stream()?;
                while keys.advance() {
                    hashes.push(hash_key(keys.key()));
                }
                hashes.into()
            }
            None => Arc::from([]),
        };
        lock(&self.hashes).insert(id, hashes.clone());
        Ok(hashes)
    }

    /// The work statistics of `reader`'s live documents, computed if not known yet.
    fn stats_of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentWorkStats>> {
        let id = (reader.segment_id(), reader.num_deleted_docs());
        if let Some(stats) = lock(&self.stats).get(&id) {
            return Ok(stats.clone());
        }
        let fast = reader.fast_fields();
        let mut stats = SegmentWorkStats {
            docs: Vec::new(),
            title_sources: Vec::new(),
        };
        if let Some(keys) = fast.str(names::WORK_KEY)? {
            let mut title_key = Vec::with_capacity(keys.num_terms());
            let mut stream = keys.dictionary().stream()?;
            while stream.advance() {
                title_key.push(stream.key().starts_with(TITLE_KEY_PREFIX.as_bytes()));
            }
            let sources = fast.str(names::SOURCE)?;
            let mut source_hashes = Vec::new();
            if let Some(sources) = &sources {
                let mut stream = sources.dictionary().stream()?;
                while stream.advance() {
                    source_hashes.push(hash_key(stream.key()));
                }
            }
            stats.docs = vec![0; keys.num_terms()];
            let alive = reader.alive_bitset();
            for doc in 0..reader.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(doc)) {
                    continue;
                }
                let Some(ord) = keys.ords().first(doc) else {
                    continue;
                };
                if let Some(count) = stats.docs.get_mut(ord as usize) {
                    *count += 1;
                }
                if title_key.get(ord as usize).copied().unwrap_or(false) {
                    // A record without a source (none are written so) is its own source.
                    let source = sources
                        .as_ref()
                        .and_then(|c| c.ords().first(doc))
                        .and_then(|o| source_hashes.get(o as usize).copied())
                        .unwrap_or_else(|| hash_key(&doc.to_le_bytes()));
                    stats.title_sources.push((ord as u32, source));
                }
            }
        }
        let stats = Arc::new(stats);
        lock(&self.stats).insert(id, stats.clone());
        Ok(stats)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A work key's hash (std's default hasher with its fixed keys: the same for every segment).
fn hash_key(key: &[u8]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(key);
    hasher.finish()
}

/// Weight of the popularity signal: a document's score is multiplied by
/// `1 + POPULARITY_WEIGHT × ln(holdings)`, with `ln(holdings)` capped at [`MAX_POPULARITY_LN`],
/// where `holdings` is the largest of the record's copies, the number of holders of its
/// work in the whole catalogue (see [`crate::keys::work_key`]: the sources, catalogues
/// harvested or curated, with a record of the same folded title, creators, publisher and
/// year, or the records with the same ISBN or ISSN), the record's clicks in the search
/// statistics over [`CLICKS_PER_HOLDER`] ([`crate::Index::set_clicks`]), and, for a
/// canonical work listed in the dictionaries' `canonical.txt`, [`CANONICAL_HOLDERS`]. This is
/// the one place where the weight of popularity is set.
///
/// Why copies: a library buys more copies of what is borrowed more, and a reader is better
/// served by the edition they can actually get. Why holders of the work: a work that many
/// institutions hold is the one most readers mean when several share a title: 孟浩然's 春曉
/// before the fifty others called 春曉. Two records of one source with the same title key
/// (two poems of one poet called 春曉) are one holder. Why this small: the factor is at most
/// `1 + 0.05 × 3 = 1.15` (reached at about 20 copies), while the field weights differ by 1.5×
/// to 4× and an exact title adds 16×: popularity breaks near-ties between equally relevant
/// records, it never lifts a description match over a title match.
pub(crate) const POPULARITY_WEIGHT: f32 = 0.05;
/// The holders a canonical work counts as (`canonical.txt`, see [`crate::dictionary`]): enough
/// for the factor's cap, `ln(20)` ≈ [`MAX_POPULARITY_LN`].
pub const CANONICAL_HOLDERS: u32 = 20;
/// Clicks on a record in the search statistics that count as one more holder: a record
/// clicked 200 times in the statistics' window counts as 20 holders, the factor's cap.
pub const CLICKS_PER_HOLDER: u64 = 10;

/// The holders a record's clicks count as (see [`CLICKS_PER_HOLDER`]).
pub(crate) fn holders_of_clicks(clicks: u64) -> u32 {
    u32::try_from(clicks / CLICKS_PER_HOLDER)
        .unwrap_or(u32::MAX)
        .min(CANONICAL_HOLDERS)
}

/// Cap of `ln(copies)` in the popularity factor.
pub(crate) const MAX_POPULARITY_LN: f32 = 3.0;

/// The popularity factor of a record with `holdings` copies or records of its work.
pub(crate) fn popularity(holdings: u64) -> f32 {
    1.0 + POPULARITY_WEIGHT * (holdings.max(1) as f32).ln().min(MAX_POPULARITY_LN)
}

/// The sort key that comes before the score: 0 for every document when ordering by
/// relevance; the year (newest first) or the negated year (oldest first) when ordering by
/// date, with documents without a year last either way.
fn date_key(sort: SortOrder, year: Option<i64>) -> i64 {
    match (sort, year) {
        (SortOrder::Relevance, _) => 0,
        (_, None) => i64::MIN,
        (SortOrder::DateDesc, Some(year)) => year,
        (SortOrder::DateAsc, Some(year)) => year.saturating_neg(),
    }
}

/// One document of the result window.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// [`date_key`]: greater is first.
    pub(crate) key: i64,
    pub(crate) score: Score,
    /// `i64::MIN` for documents without a year, so they come last when browsing.
    pub(crate) year: i64,
    /// The record id; empty until [`SearchCollector::merge_fruits`] looks it up, and only
    /// there for the candidates that can still reach the window and tie with another on
    /// everything before the id.
    pub(crate) id: String,
    /// The id's term ordinal in its segment (`u64::MAX`: no id).
    id_ord: u64,
    pub(crate) address: DocAddress,
    /// The work's number, when collapsing (`None`: a record without a key).
    pub(crate) work: Option<u32>,
}

/// Order of results: the date key (see [`date_key`]), score, then newest year, then id.
fn result_order(a: &Candidate, b: &Candidate) -> Ordering {
    b.key
        .cmp(&a.key)
        .then(b.score.total_cmp(&a.score))
        .then(b.year.cmp(&a.year))
        .then_with(|| a.id.cmp(&b.id))
        .then(a.address.cmp(&b.address))
}

/// What the collector found.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub(crate) total: usize,
    /// Best first, at most `window`.
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) keyword_counts: [HashMap<String, u64>; KEYWORDS],
    pub(crate) year_counts: HashMap<i64, u64>,
    /// When collapsing: what each segment found, merged by [`SearchCollector::merge_fruits`].
    pub(crate) works: Vec<SegmentWorks>,
    /// When collapsing: the facet values of the records of works with several records, to
    /// be counted once per work and value at the merge (see
    /// `SegmentSearchCollector::shared`).
    shared: Option<SharedValues>,
    /// The id column of each segment, to look up the candidates' ids.
    id_columns: Vec<(SegmentOrdinal, Arc<SegmentColumns>)>,
}

/// The (facet value, work) pairs of one segment's records of shared works, each pair once.
#[derive(Debug, Default)]
pub(crate) struct SharedValues {
    /// The segment's distinct values: (facet index, or [`YEAR`]; the value's text).
    values: Vec<(usize, String)>,
    /// (index into `values`, work number), sorted, without duplicates.
    pairs: Vec<(u32, u32)>,
}

impl SharedValues {
    /// Adds the distinct (value, work) pairs of several segments to the counts: a work
    /// counts once under each of its values, whichever segments its records are in.
    /// Values are numbered across segments once each, so the pairs are merged as integers.
    fn count(
        segments: Vec<SharedValues>,
        keyword_counts: &mut [HashMap<String, u64>; KEYWORDS],
        year_counts: &mut HashMap<i64, u64>,
    ) {
        let mut numbers: HashMap<(usize, String), u32> = HashMap::new();
        let mut values: Vec<(usize, String)> = Vec::new();
        let mut pairs: Vec<u64> = Vec::new();
        for segment in segments {
            let global: Vec<u32> = segment
                .values
                .into_iter()
                .map(|value| {
                    let next = values.len() as u32;
                    *numbers.entry(value.clone()).or_insert_with(|| {
                        values.push(value);
                        next
                    })
                })
                .collect();
            pairs.extend(segment.pairs.iter().filter_map(|(value, work)| {
                let value = *global.get(*value as usize)?;
                Some(u64::from(value) << 32 | u64::from(*work))
            }));
        }
        pairs.sort_unstable();
        pairs.dedup();
        for pair in pairs {
            let Some((facet, value)) = values.get((pair >> 32) as usize) else {
                continue;
            };
            if *facet == YEAR {
                if let Ok(year) = value.parse::<i64>() {
                    *year_counts.entry(year).or_default() += 1;
                }
            } else if let Some(counts) = keyword_counts.get_mut(*facet) {
                *counts.entry(value.clone()).or_default() += 1;
            }
        }
    }
}

/// The matching works of one segment, when collapsing.
///
/// Only the segment's best `window` works (by their best record) become [`Candidate`]s. That
/// loses nothing: a work's best record overall is the best of its per-segment bests, so if a
/// work `w` is among the `window` best works overall, its best record `c` lies in some
/// segment `s` and is `w`'s best there. Were `w` not among the `window` best works of `s`,
/// `window` other works would have a record in `s` better than `c`, so `window` other works
/// would beat `w` overall — a contradiction. Hence the best works overall are all in the union
/// of the per-segment lists, each with its true best record; a work that appears there with
/// a worse record than its true best (its best segment left it out) is outside the best
/// `window` anyway, and its understated rank only moves it further down. The order within a
/// segment (date key, score, year, id ordinal, document) agrees with [`result_order`] since id
/// ordinals sort like the ids.
///
/// The total must count every work once even when its records are spread over segments, so
/// the segment also keeps the numbers of all its matching works.
pub(crate) struct SegmentWorks {
    /// The numbers of every matching work of the segment.
    numbers: Vec<u32>,
    /// Number of works in the searcher's numbering.
    works: usize,
    /// Matching records without a key: works of their own.
    unkeyed: usize,
    /// The segment's best `window` works, best first, with their keys.
    top: Vec<Candidate>,
}

impl std::fmt::Debug for SegmentWorks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWorks")
            .field("works", &self.numbers.len())
            .field("unkeyed", &self.unkeyed)
            .field("top", &self.top)
            .finish_non_exhaustive()
    }
}

/// A candidate inside one segment: the id as its term ordinal, which sorts like the id.
#[derive(Debug, Clone, Copy)]
struct SegmentCandidate {
    key: i64,
    score: Score,
    year: i64,
    id_ord: u64,
    doc: DocId,
}

impl SegmentCandidate {
    /// [`SegmentCandidate::rank`] before the id.
    fn coarse(&self, other: &Self) -> Ordering {
        self.key
            .cmp(&other.key)
            .then(self.score.total_cmp(&other.score))
            .then(self.year.cmp(&other.year))
    }

    /// Greater is better.
    fn rank(&self, other: &Self) -> Ordering {
        self.coarse(other)
            .then(other.id_ord.cmp(&self.id_ord))
            .then(other.doc.cmp(&self.doc))
    }
}

impl PartialEq for SegmentCandidate {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other) == Ordering::Equal
    }
}
impl Eq for SegmentCandidate {}
impl PartialOrd for SegmentCandidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SegmentCandidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank(other)
    }
}

/// A keyword fast field of one segment.
struct KeywordColumn {
    column: Option<StrColumn>,
    /// The column as one ordinal per document (see [`SegmentColumns::dense_keywords`]).
    dense: Option<Arc<[u32]>>,
    /// Per term ordinal: does the filter accept it? `None` without a filter.
    accepted: Option<Vec<bool>>,
    counts: Vec<u64>,
}

pub(crate) struct SegmentSearchCollector {
    segment: SegmentOrdinal,
    keywords: [KeywordColumn; KEYWORDS],
    /// The keywords with a filter, and those with any value in the segment (the only ones
    /// a document can count in): most catalogues leave most facets empty.
    filtered: Vec<usize>,
    valued: Vec<usize>,
    ids: Option<StrColumn>,
    year_start: Option<Column<i64>>,
    year_end: Option<Column<i64>>,
    years: Option<(i64, i64)>,
    /// Counts per year, indexed by `year - year_base` (dense: years span at most ~12,000).
    year_counts: Vec<u64>,
    year_base: i64,
    window: usize,
    heap: BinaryHeap<Reverse<SegmentCandidate>>,
    total: usize,
    scoring: bool,
    sort: SortOrder,
    copies: Option<Column<u64>>,
    /// When scoring: the holders of each document's work (see [`popularity`]).
    work_holders: Option<WorkHolders>,
    /// When scoring: the segment's documents that popularity lifts.
    popular: Option<Arc<PopularDocs>>,
    /// Work keys and the best candidate per work, when collapsing.
    work_keys: Option<StrColumn>,
    /// `year_start` and `work_keys` as arrays (see [`SegmentColumns::dense_years`]).
    dense_years: Option<Arc<[i32]>>,
    dense_work_keys: Option<Arc<[u32]>>,
    works: Option<WorkTable>,
    /// The work number of each work key ordinal, and how many works there are, when
    /// collapsing.
    work_numbers: Arc<[u32]>,
    num_works: usize,
    /// Per work number: does the work have several records ([`WorkNumbering::shared`])?
    shared_works: Arc<[bool]>,
    /// When collapsing, facets count works: a work counts once under a value however many
    /// of its records have it. Records of works with a single record are counted directly;
    /// those of shared works are noted here as (facet, value ordinal or year slot, work
    /// number) and counted once per work at the merge (a work's records may be in several
    /// segments).
    shared: Vec<(u32, u64, u32)>,
    /// The segment's columns, which lend the work table its slots.
    columns: Arc<SegmentColumns>,
    /// When collapsing: matching records that are works of their own (they go to `heap`).
    single_works: usize,
}

/// The best candidate of every matching work of a segment.
struct WorkTable {
    /// Per work key ordinal: its index in `best`, or `u32::MAX` while none matched.
    slot: Vec<u32>,
    /// (work key ordinal, best candidate); [`NO_KEY`] for records without a key.
    best: Vec<(u64, SegmentCandidate)>,
}

/// Work key ordinal of records without a key.
const NO_KEY: u64 = u64::MAX;

/// Calls `f` with each value ordinal of `doc` in a keyword column, from its dense array
/// where it has one.
fn for_each_ord(column: Option<&StrColumn>, dense: Option<&Arc<[u32]>>, doc: DocId, mut f: impl FnMut(u64)) {
    match dense.and_then(|d| d.get(doc as usize)) {
        Some(&NO_VALUE) => {}
        Some(&MANY_VALUES) | None => {
            if let Some(column) = column {
                column.ords().values_for_doc(doc).for_each(f);
            }
        }
        Some(&ord) => f(u64::from(ord)),
    }
}

impl KeywordColumn {
    /// Does the filter accept one of `doc`'s values? (`true` without a filter.)
    fn accepts(&self, doc: DocId) -> bool {
        let Some(accepted) = &self.accepted else {
            return true;
        };
        let mut pass = false;
        for_each_ord(self.column.as_ref(), self.dense.as_ref(), doc, |o| {
            pass |= accepted.get(o as usize).copied().unwrap_or(false);
        });
        pass
    }
}

impl Collector for SearchCollector {
    type Fruit = Collected;
    type Child = SegmentSearchCollector;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let columns = match self.columns.get(segment as usize) {
            Some(columns) => columns.clone(),
            None => Arc::new(SegmentColumns::open(reader)?),
        };
        let mut keywords = Vec::with_capacity(KEYWORDS);
        let dense = columns.dense_keywords();
        for (i, (column, accepted_values)) in columns.keywords.iter().zip(&self.keyword_filters).enumerate() {
            let num_terms = column.as_ref().map_or(0, |c| c.num_terms());
            let accepted = if accepted_values.is_empty() {
                None
            } else {
                let mut accepted = vec![false; num_terms];
                if let Some(column) = column {
                    for value in accepted_values {
                        if let Some(ord) = column.dictionary().term_ord(value.as_bytes())?
                            && let Some(slot) = accepted.get_mut(ord as usize)
                        {
                            *slot = true;
                        }
                    }
                }
                Some(accepted)
            };
            keywords.push(KeywordColumn {
                column: column.clone(),
                dense: dense.get(i).cloned().flatten(),
                accepted,
                counts: vec![0; num_terms],
            });
        }
        let keywords: [KeywordColumn; KEYWORDS] = keywords
            .try_into()
            .map_err(|_| tantivy::TantivyError::InternalError("keyword facet count".into()))?;
        let year_start = columns.year_start.clone();
        let work_keys = if self.collapse {
            columns.work_keys.clone()
        } else {
            None
        };
        let (year_base, year_slots) = match &year_start {
            // Years are validated to -10000..=2100; anything wider is not counted.
            Some(c) if c.max_value() >= c.min_value() && c.max_value() - c.min_value() < 100_000 => {
                (c.min_value(), (c.max_value() - c.min_value() + 1) as usize)
            }
            _ => (0, 0),
        };
        let filtered = (0..KEYWORDS)
            .filter(|i| keywords[*i].accepted.is_some())
            .collect();
        let valued = (0..KEYWORDS)
            .filter(|i| !keywords[*i].counts.is_empty())
            .collect();
        Ok(SegmentSearchCollector {
            segment,
            keywords,
            filtered,
            valued,
            ids: columns.ids.clone(),
            year_start,
            year_end: columns.year_end.clone(),
            years: self.years,
            year_counts: vec![0; year_slots],
            year_base,
            window: self.window,
            heap: BinaryHeap::with_capacity(self.window.min(1024) + 1),
            total: 0,
            scoring: self.scoring,
            sort: self.sort,
            copies: columns.copies.clone(),
            work_holders: match (self.scoring, &self.work_numbers) {
                (true, Some(numbers)) => columns
                    .dense_work_keys()
                    .cloned()
                    .zip(numbers.holders_by_ord.get(segment as usize).cloned())
                    .map(|(keys, holders)| WorkHolders { keys, holders }),
                _ => None,
            },
            popular: self
                .popular
                .as_ref()
                .filter(|_| self.scoring)
                .and_then(|docs| docs.get(segment as usize).cloned()),
            works: self.collapse.then(|| WorkTable {
                slot: columns.take_slots(),
                best: Vec::new(),
            }),
            dense_years: columns.dense_years().cloned(),
            dense_work_keys: if self.collapse {
                columns.dense_work_keys().cloned()
            } else {
                None
            },
            work_keys,
            work_numbers: self
                .work_numbers
                .as_ref()
                .and_then(|n| n.segments.get(segment as usize).cloned())
                .unwrap_or_else(|| Arc::from([])),
            num_works: self.work_numbers.as_ref().map_or(0, |n| n.works),
            shared_works: self
                .work_numbers
                .as_ref()
                .map_or_else(|| Arc::from([]), |n| n.shared.clone()),
            shared: Vec::new(),
            columns,
            single_works: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<Collected>) -> tantivy::Result<Collected> {
        let mut merged = Collected::default();
        let mut shared = Vec::new();
        for fruit in fruits {
            shared.extend(fruit.shared);
            merged.total += fruit.total;
            merged.candidates.extend(fruit.candidates);
            merged.works.extend(fruit.works);
            merged.id_columns.extend(fruit.id_columns);
            for (into, from) in merged.keyword_counts.iter_mut().zip(fruit.keyword_counts) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
            for (year, count) in fruit.year_counts {
                *merged.year_counts.entry(year).or_default() += count;
            }
        }
        SharedValues::count(shared, &mut merged.keyword_counts, &mut merged.year_counts);
        if self.collapse {
            let works = std::mem::take(&mut merged.works);
            merged.total = count_works(&works);
            merged.candidates = works.into_iter().flat_map(|w| w.top).collect();
        }
        let mut candidates = std::mem::take(&mut merged.candidates);
        drop_beyond_window(&mut candidates, self.window);
        resolve_ids(&mut candidates, &merged.id_columns);
        if self.collapse {
            // The best record of each work among the segments' lists (see SegmentWorks).
            let mut best: HashMap<u32, Candidate> = HashMap::new();
            for candidate in candidates {
                let Some(key) = candidate.work else {
                    merged.candidates.push(candidate);
                    continue;
                };
                match best.get(&key) {
                    Some(kept) if result_order(kept, &candidate) != Ordering::Greater => {}
                    _ => {
                        best.insert(key, candidate);
                    }
                }
            }
            merged.candidates.extend(best.into_values());
        } else {
            merged.candidates = candidates;
        }
        merged.candidates.sort_by(result_order);
        merged.candidates.truncate(self.window);
        Ok(merged)
    }
}

impl SegmentCollector for SegmentSearchCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        let mut failed = 0;
        let mut failed_filter = usize::MAX;
        for &i in &self.filtered {
            if !self.keywords[i].accepts(doc) {
                failed += 1;
                failed_filter = i;
            }
        }
        let year = match &self.dense_years {
            Some(years) => years
                .get(doc as usize)
                .filter(|y| **y != NO_YEAR)
                .map(|y| i64::from(*y)),
            None => self.year_start.as_ref().and_then(|c| c.first(doc)),
        };
        if let Some((from, to)) = self.years {
            let end = self.year_end.as_ref().and_then(|c| c.first(doc));
            let overlaps = year.is_some_and(|start| start <= to) && end.is_some_and(|end| end >= from);
            if !overlaps {
                failed += 1;
                failed_filter = YEAR;
            }
        }
        if failed > 1 {
            return;
        }
        // The record's work, when collapsing: `None` for records that are works of their
        // own (no key, or an ambiguous title key).
        let key = if self.works.is_some() {
            match &self.dense_work_keys {
                Some(keys) => keys
                    .get(doc as usize)
                    .filter(|k| **k != NO_VALUE)
                    .map(|k| u64::from(*k)),
                None => self.work_keys.as_ref().and_then(|c| c.ords().first(doc)),
            }
        } else {
            None
        };
        let number = key
            .and_then(|k| self.work_numbers.get(k as usize).copied())
            .filter(|n| *n != AMBIGUOUS);
        let key = key.filter(|_| number.is_some());
        let shared = number.filter(|n| self.shared_works.get(*n as usize).copied().unwrap_or(false));
        for &i in &self.valued {
            if failed == 0 || failed_filter == i {
                let KeywordColumn {
                    column,
                    dense,
                    counts,
                    ..
                } = &mut self.keywords[i];
                let count = |ord: u64| match shared {
                    Some(work) => self.shared.push((i as u32, ord, work)),
                    None => {
                        if let Some(count) = counts.get_mut(ord as usize) {
                            *count += 1;
                        }
                    }
                };
                for_each_ord(column.as_ref(), dense.as_ref(), doc, count);
            }
        }
        if (failed == 0 || failed_filter == YEAR)
            && let Some(slot) = year.and_then(|y| usize::try_from(y - self.year_base).ok())
            && slot < self.year_counts.len()
        {
            match shared {
                Some(work) => self.shared.push((YEAR as u32, slot as u64, work)),
                None => self.year_counts[slot] += 1,
            }
        }
        if failed > 0 {
            return;
        }
        self.total += 1;
        let score = if self.scoring {
            let copies = self.copies.as_ref().and_then(|c| c.first(doc)).unwrap_or(1);
            let mut holders = self.work_holders.as_ref().map_or(1, |w| w.of(doc));
            if let Some(lifted) = self.popular.as_ref().and_then(|p| p.holders(doc)) {
                holders = holders.max(lifted);
            }
            score * popularity(copies.max(u64::from(holders)))
        } else {
            score
        };
        let ids = &self.ids;
        let id_ord = || ids.as_ref().and_then(|c| c.ords().first(doc)).unwrap_or(u64::MAX);
        // The id is read only where it may decide (most documents lose on the rest).
        let mut candidate = SegmentCandidate {
            key: date_key(self.sort, year),
            score,
            year: year.unwrap_or(i64::MIN),
            id_ord: u64::MAX,
            doc,
        };
        if let Some(works) = &mut self.works
            && shared.is_some()
        {
            candidate.id_ord = id_ord();
            // A work with several records: keep its best record.
            match key.and_then(|k| works.slot.get_mut(k as usize)) {
                Some(slot) if *slot != u32::MAX => {
                    if let Some((_, best)) = works.best.get_mut(*slot as usize)
                        && candidate > *best
                    {
                        *best = candidate;
                    }
                }
                Some(slot) => {
                    *slot = works.best.len() as u32;
                    works.best.push((key.unwrap_or(NO_KEY), candidate));
                }
                None => works.best.push((NO_KEY, candidate)),
            }
            return;
        }
        if self.works.is_some() {
            // A record that is a work of its own (no key, an ambiguous one, or its work's
            // only record) needs no work table: it competes for the page like any record.
            self.single_works += 1;
        }
        if self.window == 0 {
            return;
        }
        if self.heap.len() < self.window {
            candidate.id_ord = id_ord();
            self.heap.push(Reverse(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate.coarse(&worst.0) != Ordering::Less
        {
            candidate.id_ord = id_ord();
            if candidate > worst.0 {
                *worst = Reverse(candidate);
            }
        }
    }

    fn harvest(mut self) -> Collected {
        let mut collected = Collected {
            total: self.total,
            year_counts: self
                .year_counts
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(|(slot, count)| (self.year_base + slot as i64, *count))
                .collect(),
            ..Collected::default()
        };
        let mut text = String::new();
        let mut shared = std::mem::take(&mut self.shared);
        shared.sort_unstable();
        shared.dedup();
        if !shared.is_empty() {
            // Sorted by facet and value, so each value's text is looked up once.
            let mut values = SharedValues::default();
            let mut current: Option<(u32, u64, Option<u32>)> = None;
            for (facet, ord, work) in shared {
                if current.is_none_or(|(f, o, _)| (f, o) != (facet, ord)) {
                    let value = if facet as usize == YEAR {
                        Some((self.year_base + ord as i64).to_string())
                    } else {
                        let column = self.keywords.get(facet as usize).and_then(|k| k.column.as_ref());
                        column
                            .is_some_and(|c| matches!(c.ord_to_str(ord, &mut text), Ok(true)))
                            .then(|| text.clone())
                    };
                    let index = value.map(|value| {
                        values.values.push((facet as usize, value));
                        (values.values.len() - 1) as u32
                    });
                    current = Some((facet, ord, index));
                }
                if let Some((_, _, Some(index))) = current {
                    values.pairs.push((index, work));
                }
            }
            collected.shared = Some(values);
        }
        for (keyword, counts) in self.keywords.into_iter().zip(collected.keyword_counts.iter_mut()) {
            let Some(column) = keyword.column else { continue };
            for (ord, &count) in keyword.counts.iter().enumerate() {
                if count > 0 && matches!(column.ord_to_str(ord as u64, &mut text), Ok(true)) {
                    counts.insert(text.clone(), count);
                }
            }
        }
        let segment = self.segment;
        collected.id_columns.push((segment, self.columns.clone()));
        let to_candidates = |best: Vec<(Option<u32>, SegmentCandidate)>| {
            best.into_iter()
                .map(|(work, c)| Candidate {
                    key: c.key,
                    score: c.score,
                    year: c.year,
                    id: String::new(),
                    id_ord: c.id_ord,
                    address: DocAddress::new(segment, c.doc),
                    work,
                })
                .collect::<Vec<Candidate>>()
        };
        if let Some(works) = self.works {
            let number = |ord: u64| {
                (ord != NO_KEY)
                    .then(|| self.work_numbers.get(ord as usize).copied())
                    .flatten()
            };
            let mut best = works.best;
            self.columns
                .return_slots(works.slot, best.iter().map(|(ord, _)| *ord));
            let numbers: Vec<u32> = best.iter().filter_map(|(ord, _)| number(*ord)).collect();
            let unkeyed = self.single_works + best.len() - numbers.len();
            best.extend(self.heap.into_iter().map(|Reverse(c)| (NO_KEY, c)));
            // The best `window` works, best first.
            let by_rank = |a: &(u64, SegmentCandidate), b: &(u64, SegmentCandidate)| b.1.cmp(&a.1);
            if best.len() > self.window {
                if self.window > 0 {
                    best.select_nth_unstable_by(self.window - 1, by_rank);
                }
                best.truncate(self.window);
            }
            best.sort_unstable_by(by_rank);
            let top = to_candidates(best.into_iter().map(|(ord, c)| (number(ord), c)).collect());
            collected.works.push(SegmentWorks {
                numbers,
                works: self.num_works,
                unkeyed,
                top,
            });
            return collected;
        }
        let mut candidates: Vec<SegmentCandidate> = self.heap.into_iter().map(|Reverse(c)| c).collect();
        candidates.sort_by(|a, b| b.cmp(a));
        collected.candidates = to_candidates(candidates.into_iter().map(|c| (None, c)).collect());
        collected
    }
}

/// Drops the candidates that cannot reach the best `window`: those ranked, by date key, score
/// and year alone, below the candidate at which `window` distinct works (records, when not
/// collapsing) have been seen. At least `window` distinct works rank at or above it, so a
/// dropped candidate's work is either outside the window or has a better candidate kept;
/// ties with it are kept, for the id to decide. Spares looking up the ids of the rest.
fn drop_beyond_window(candidates: &mut Vec<Candidate>, window: usize) {
    candidates.sort_by(coarse_order);
    let mut seen = std::collections::HashSet::new();
    let mut distinct = 0;
    let cutoff = candidates.iter().position(|c| {
        if c.work.is_none_or(|w| seen.insert(w)) {
            distinct += 1;
        }
        distinct >= window
    });
    if window == 0 {
        candidates.clear();
    } else if let Some(cutoff) = cutoff {
        let last = candidates[cutoff].clone();
        candidates.retain(|c| coarse_order(c, &last) != Ordering::Greater);
    }
}

/// [`result_order`] without the id and the address: candidates it calls equal are told
/// apart by their ids.
fn coarse_order(a: &Candidate, b: &Candidate) -> Ordering {
    b.key
        .cmp(&a.key)
        .then(b.score.total_cmp(&a.score))
        .then(b.year.cmp(&a.year))
}

/// Fills in the ids of the `candidates` (sorted by [`coarse_order`]) that tie with a
/// neighbour, the only ones whose order the id decides, from their segments' id tables
/// ([`SegmentColumns::id_of`]).
fn resolve_ids(candidates: &mut [Candidate], columns: &[(SegmentOrdinal, Arc<SegmentColumns>)]) {
    let mut tied = vec![false; candidates.len()];
    for i in 1..candidates.len() {
        if coarse_order(&candidates[i - 1], &candidates[i]) == Ordering::Equal {
            tied[i - 1] = true;
            tied[i] = true;
        }
    }
    for (candidate, _) in candidates.iter_mut().zip(tied).filter(|(_, tied)| *tied) {
        let segment = candidate.address.segment_ord;
        if let Some((_, columns)) = columns.iter().find(|(s, _)| *s == segment)
            && let Some(id) = columns.id_of(candidate.id_ord)
        {
            candidate.id = id.to_string();
        }
    }
}

/// The number of distinct works among the segments' matching works: a work whose records
/// are in several segments is counted once.
fn count_works(works: &[SegmentWorks]) -> usize {
    let unkeyed: usize = works.iter().map(|w| w.unkeyed).sum();
    let keyed: Vec<&SegmentWorks> = works.iter().filter(|w| !w.numbers.is_empty()).collect();
    if keyed.len() <= 1 {
        // Within a segment every work has one key ordinal.
        return unkeyed + keyed.first().map_or(0, |w| w.numbers.len());
    }
    let works = keyed.iter().map(|w| w.works).max().unwrap_or(0);
    let mut seen = vec![0u64; works / 64 + 1];
    let mut distinct = 0;
    for number in keyed.iter().flat_map(|w| w.numbers.iter()) {
        let (word, bit) = (*number as usize / 64, 1u64 << (number % 64));
        if let Some(word) = seen.get_mut(word)
            && *word & bit == 0
        {
            *word |= bit;
            distinct += 1;
        }
    }
    unkeyed + distinct
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use schemas::{Holding, Institution, InstitutionType, Level, Record};

    use crate::index::Index;
    use crate::search::{SearchRequest, SearchResults};

    fn library(id: &str) -> Institution {
        Institution {
            id: id.into(),
            name: format!("{id} 图书馆"),
            institution_type: InstitutionType::Library,
            district: None,
            level: Level::City,
            venue: None,
        }
    }

    /// A copy of 中国古典小说史 with `isbn` and `copies` items (more copies score higher).
    fn copy(id: &str, isbn: &str, copies: u32) -> Record {
        let institution = id.split(':').next().unwrap_or_default();
        let mut record = Record::new(id, institution, "中国古典小说史");
        record.creators.push("鲁迅".into());
        record.isbns.push(isbn.into());
        record.holdings.push(Holding {
            institution: institution.into(),
            items: Some(copies),
            ..Holding::default()
        });
        record
    }

    fn ids(results: &SearchResults) -> Vec<&str> {
        results.hits.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn a_work_spread_over_segments_is_one_hit_at_its_best_record() {
        let index = Index::create_in_ram().unwrap();
        let (a, b) = (library("a"), library("b"));
        let mut writer = index.writer().unwrap();
        // No background merge may join the two commits' segments before the searches.
        writer.never_merge().unwrap();
        // Segment 1: work X's weaker copy and work Z.
        writer.upsert(&copy("a:1", "9787101003048", 1), &a).unwrap();
        writer.upsert(&copy("a:3", "9787020008735", 5), &a).unwrap();
        writer.commit(1).unwrap();
        // Segment 2: work X's strongest copy and work W.
        writer.upsert(&copy("b:7", "9787101003048", 20), &b).unwrap();
        writer.upsert(&copy("b:9", "9787532725694", 3), &b).unwrap();
        writer.commit(2).unwrap();
        // Two commits: X's copies are in different segments (the writer's threads may split
        // each commit further).
        assert!(index.searcher().segment_readers().len() >= 2);

        let search = |query: &str, offset, limit| {
            index
                .search(&SearchRequest {
                    query: query.into(),
                    offset,
                    limit,
                    collapse: true,
                    ..SearchRequest::default()
                })
                .unwrap()
        };
        let all = search("中国古典小说史", 0, 10);
        assert_eq!(all.total, 3, "X, Z and W");
        assert_eq!(ids(&all), ["b:7", "a:3", "b:9"]);
        let x: Vec<&str> = all.hits[0]
            .holdings
            .iter()
            .map(|h| h.record_id.as_str())
            .collect();
        assert_eq!(x, ["a:1", "b:7"]);
        // A window of one still finds X's best record in the other segment.
        for (offset, expected) in [(0, "b:7"), (1, "a:3"), (2, "b:9")] {
            let page = search("中国古典小说史", offset, 1);
            assert_eq!(page.total, 3);
            assert_eq!(ids(&page), [expected], "offset {offset}");
        }
        assert_eq!(search("中国古典小说史", 0, 0).total, 3);
        // Browsing: no year, so by id; X's best record is then a:1.
        let browse = search("", 0, 10);
        assert_eq!(browse.total, 3);
        assert_eq!(ids(&browse), ["a:1", "a:3", "b:9"]);
        assert_eq!(ids(&search("", 1, 1)), ["a:3"]);

        // The uncollapsed search still sees every record.
        let records = index
            .search(&SearchRequest {
                query: "中国古典小说史".into(),
                limit: 10,
                ..SearchRequest::default()
            })
            .unwrap();
        assert_eq!(records.total, 4);
        assert_eq!(ids(&records), ["b:7", "a:3", "b:9", "a:1"]);
    }

    #[test]
    fn a_large_work_lists_its_first_copies_by_record_id() {
        let index = Index::create_in_ram().unwrap();
        let a = library("a");
        let mut writer = index.writer().unwrap();
        for i in 0..120 {
            writer
                .upsert(&copy(&format!("a:{i:03}"), "9787101003048", 1), &a)
                .unwrap();
        }
        writer.commit(1).unwrap();
        let results = index
            .search(&SearchRequest {
                query: "中国古典小说史".into(),
                limit: 10,
                collapse: true,
                ..SearchRequest::default()
            })
            .unwrap();
        assert_eq!(results.total, 1);
        let listed: Vec<&str> = results.hits[0]
            .holdings
            .iter()
            .map(|h| h.record_id.as_str())
            .collect();
        let expected: Vec<String> = (0..crate::MAX_HOLDINGS_PER_HIT)
            .map(|i| format!("a:{i:03}"))
            .collect();
        assert_eq!(listed, expected);
    }
}
