//! What searches reuse instead of recomputing: per segment, its opened fast-field columns;
//! per searcher generation, the BM25 statistics and which text fields hold anything.
//!
//! A search used to open sixteen columns in every segment (parsing their headers and
//! dictionaries) and look every query term up in every segment's dictionary twice (once for
//! its document frequency, once for its postings): on the 345,000-poem corpus with seven
//! segments that was a third of a search's CPU (issue #16). A segment never changes, so its
//! columns are opened once ([`SegmentColumns`], dropped with the segment); the document
//! frequencies of one generation never change either, so they are kept for it
//! ([`Statistics`], bounded by [`MAX_CACHED_TERMS`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use tantivy::columnar::{Column, StrColumn};
use tantivy::index::InvertedIndexReader;
use tantivy::index::SegmentId;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, SegmentReader, TERMINATED, Term};

use crate::collector::KEYWORD_FACETS;
use crate::schema::{Fields, names};

/// In [`SegmentColumns::dense_keywords`]: the document has no value.
pub(crate) const NO_VALUE: u32 = u32::MAX;
/// In [`SegmentColumns::dense_years`]: the document has no year.
pub(crate) const NO_YEAR: i32 = i32::MIN;
/// In [`SegmentColumns::dense_keywords`]: the document has several values.
pub(crate) const MANY_VALUES: u32 = u32::MAX - 1;
/// Document frequencies kept per generation at most; the table is emptied when full.
pub(crate) const MAX_CACHED_TERMS: usize = 100_000;
/// Spare work-slot tables kept per segment (one per concurrent collapsing search).
const SPARE_SLOT_TABLES: usize = 4;

/// The fast-field columns a search reads, opened once per segment.
pub(crate) struct SegmentColumns {
    /// The keyword facets' columns, in [`KEYWORD_FACETS`] order.
    pub(crate) keywords: Vec<Option<StrColumn>>,
    pub(crate) ids: Option<StrColumn>,
    pub(crate) year_start: Option<Column<i64>>,
    pub(crate) year_end: Option<Column<i64>>,
    pub(crate) copies: Option<Column<u64>>,
    pub(crate) work_keys: Option<StrColumn>,
    /// Documents in the segment.
    max_doc: u32,
    /// The keyword columns as one ordinal per document ([`SegmentColumns::dense_keywords`]).
    dense_keywords: OnceLock<Vec<Option<Arc<[u32]>>>>,
    /// The first years as one value per document ([`SegmentColumns::dense_years`]).
    dense_years: OnceLock<Option<Arc<[i32]>>>,
    /// The work key ordinals as one per document ([`SegmentColumns::dense_work_keys`]).
    dense_work_keys: OnceLock<Option<Arc<[u32]>>>,
    /// Every record id of the segment, by term ordinal ([`SegmentColumns::id_of`]).
    id_table: OnceLock<IdTable>,
    /// Tables of one slot per work key ordinal, every slot `u32::MAX`, for collapsing
    /// searches to borrow ([`SegmentColumns::take_slots`]) instead of allocating and
    /// clearing one per search.
    spare_slots: Mutex<Vec<Vec<u32>>>,
    /// The documents popularity lifts, and what they were found for
    /// ([`Generation::popular_docs`]).
    popular: Mutex<Option<(PopularitySources, Arc<PopularDocs>)>>,
}

impl std::fmt::Debug for SegmentColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentColumns")
            .field("max_doc", &self.max_doc)
            .finish_non_exhaustive()
    }
}

impl SegmentColumns {
    pub(crate) fn open(reader: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        let fast = reader.fast_fields();
        let keywords = KEYWORD_FACETS
            .iter()
            .map(|(_, field)| fast.str(field))
            .collect::<tantivy::Result<_>>()?;
        Ok(SegmentColumns {
            keywords,
            ids: fast.str(names::ID)?,
            year_start: fast.column_opt(names::YEAR_START)?,
            year_end: fast.column_opt(names::YEAR_END)?,
            copies: fast.column_opt(names::COPIES)?,
            work_keys: fast.str(names::WORK_KEY)?,
            max_doc: reader.max_doc(),
            dense_keywords: OnceLock::new(),
            dense_years: OnceLock::new(),
            dense_work_keys: OnceLock::new(),
            id_table: OnceLock::new(),
            spare_slots: Mutex::new(Vec::new()),
            popular: Mutex::new(None),
        })
    }

    /// The keyword columns (in [`KEYWORD_FACETS`] order) as arrays of one entry per
    /// document: the ordinal of its value, [`NO_VALUE`], or [`MANY_VALUES`] (then read the
    /// column). Built on first use, once per segment: a search counts facets over every
    /// matching document, and an array read costs a fraction of a column lookup (a rank in
    /// the optional index, or two offsets in the multi-valued one). Four bytes per document
    /// per keyword column that has any value.
    pub(crate) fn dense_keywords(&self) -> &[Option<Arc<[u32]>>] {
        self.dense_keywords.get_or_init(|| {
            self.keywords
                .iter()
                .map(|column| {
                    let column = column.as_ref().filter(|c| c.num_terms() > 0)?;
                    let ords = column.ords();
                    let dense: Arc<[u32]> = (0..self.max_doc)
                        .map(|doc| {
                            let mut values = ords.values_for_doc(doc);
                            match (values.next(), values.next()) {
                                (None, _) => NO_VALUE,
                                (Some(ord), None) if ord < u64::from(MANY_VALUES) => ord as u32,
                                _ => MANY_VALUES,
                            }
                        })
                        .collect();
                    Some(dense)
                })
                .collect()
        })
    }

    /// Each document's first year, [`NO_YEAR`] for none (`None` without the column, or if a
    /// year does not fit: then read the column). Like [`SegmentColumns::dense_keywords`],
    /// for the per-document work of a search: 4 bytes per document.
    pub(crate) fn dense_years(&self) -> Option<&Arc<[i32]>> {
        self.dense_years
            .get_or_init(|| {
                let years = self.year_start.as_ref()?;
                (0..self.max_doc)
                    .map(|doc| match years.first(doc) {
                        Some(year) => i32::try_from(year).ok().filter(|y| *y != NO_YEAR),
                        None => Some(NO_YEAR),
                    })
                    .collect::<Option<Arc<[i32]>>>()
            })
            .as_ref()
    }

    /// Each document's work key ordinal, [`NO_VALUE`] for none (`None` without the column).
    pub(crate) fn dense_work_keys(&self) -> Option<&Arc<[u32]>> {
        self.dense_work_keys
            .get_or_init(|| {
                let keys = self.work_keys.as_ref()?.ords();
                (0..self.max_doc)
                    .map(|doc| match keys.first(doc) {
                        Some(ord) => u32::try_from(ord).ok().filter(|o| *o < MANY_VALUES),
                        None => Some(NO_VALUE),
                    })
                    .collect::<Option<Arc<[u32]>>>()
            })
            .as_ref()
    }

    /// The record id of id term ordinal `ord`. The ids are read into memory on first use,
    /// once per segment, in one pass over the dictionary (about 25 bytes per record): ties
    /// between hits are broken by record id, and deep pages of common words tie by the
    /// thousand, each id in a different block of the dictionary. Decoding those blocks
    /// one lookup at a time was most of what a page-50 search cost (issue #16).
    pub(crate) fn id_of(&self, ord: u64) -> Option<&str> {
        let table = self.id_table.get_or_init(|| IdTable::read(self.ids.as_ref()));
        let ord = usize::try_from(ord).ok()?;
        let end = *table.ends.get(ord)? as usize;
        let start = match ord.checked_sub(1) {
            Some(previous) => *table.ends.get(previous)? as usize,
            None => 0,
        };
        table.text.get(start..end)
    }

    /// Builds the tables a search reads (see [`SegmentColumns::dense_keywords`] and
    /// [`SegmentColumns::id_of`]) if they are not built yet.
    pub(crate) fn warm(&self) {
        self.dense_keywords();
        self.dense_years();
        self.dense_work_keys();
        self.id_of(0);
    }

    /// A table of `u32::MAX`, one slot per work key ordinal.
    pub(crate) fn take_slots(&self) -> Vec<u32> {
        lock(&self.spare_slots)
            .pop()
            .unwrap_or_else(|| vec![u32::MAX; self.work_keys.as_ref().map_or(0, |c| c.num_terms())])
    }

    /// Gives back a table from [`SegmentColumns::take_slots`]; `used` are the slots set.
    pub(crate) fn return_slots(&self, mut slots: Vec<u32>, used: impl Iterator<Item = u64>) {
        for ord in used {
            if let Some(slot) = slots.get_mut(ord as usize) {
                *slot = u32::MAX;
            }
        }
        let mut spare = lock(&self.spare_slots);
        if spare.len() < SPARE_SLOT_TABLES {
            spare.push(slots);
        }
    }
}

/// The ids of a segment: all of them in one string, and where each ends.
struct IdTable {
    text: String,
    ends: Vec<u32>,
}

impl IdTable {
    /// Reads the column's dictionary; an unreadable one gives an empty table (ties are then
    /// broken by document address only).
    fn read(ids: Option<&StrColumn>) -> IdTable {
        let mut table = IdTable {
            text: String::new(),
            ends: Vec::new(),
        };
        let Some(ids) = ids else { return table };
        let Ok(mut stream) = ids.dictionary().stream() else {
            return table;
        };
        while stream.advance() {
            table
                .text
                .push_str(std::str::from_utf8(stream.key()).unwrap_or_default());
            match u32::try_from(table.text.len()) {
                Ok(end) => table.ends.push(end),
                Err(_) => break,
            }
        }
        table
    }
}

/// One searcher generation: its segments' columns, by segment ordinal, and its statistics.
pub(crate) struct Generation {
    id: u64,
    pub(crate) columns: Vec<Arc<SegmentColumns>>,
    pub(crate) statistics: Statistics,
    /// The keyword facet counts of the browse of everything, records and works (see
    /// `search::narrowed_browse`), computed on first use.
    pub(crate) browse_counts: [OnceLock<Arc<KeywordCounts>>; 2],
}

/// What lifts a record's popularity above its own copies and holders: the canonical works of
/// the dictionaries, (title key, creator key), and the clicks per record id in the search
/// statistics. Compared by pointer: a new list or a new count is a new `Arc`.
#[derive(Clone, Default)]
pub(crate) struct PopularitySources {
    pub(crate) canonical: Arc<[(String, String)]>,
    pub(crate) clicks: Arc<HashMap<String, u64>>,
}

impl PopularitySources {
    fn same(&self, other: &PopularitySources) -> bool {
        Arc::ptr_eq(&self.canonical, &other.canonical) && Arc::ptr_eq(&self.clicks, &other.clicks)
    }
}

/// One segment's documents that [`PopularitySources`] lift, with the holders each counts as
/// (see `collector::popularity`).
#[derive(Default)]
pub(crate) struct PopularDocs {
    /// Which documents have an entry in `holders`, one bit each.
    bits: Vec<u64>,
    holders: HashMap<DocId, u32>,
    /// The canonical ones among them.
    canonical: Vec<DocId>,
}

impl PopularDocs {
    /// The holders `doc` counts as, if it is lifted.
    pub(crate) fn holders(&self, doc: DocId) -> Option<u32> {
        let bit = self
            .bits
            .get(doc as usize / 64)
            .is_some_and(|word| word >> (doc % 64) & 1 == 1);
        if bit {
            self.holders.get(&doc).copied()
        } else {
            None
        }
    }

    /// Whether `doc` is a canonical work.
    pub(crate) fn is_canonical(&self, doc: DocId) -> bool {
        self.canonical.contains(&doc)
    }

    fn lift(&mut self, doc: DocId, holders: u32) {
        if let Some(word) = self.bits.get_mut(doc as usize / 64) {
            *word |= 1 << (doc % 64);
            let entry = self.holders.entry(doc).or_insert(0);
            *entry = (*entry).max(holders);
        }
    }
}

impl Generation {
    /// Each segment's [`PopularDocs`] (by segment ordinal) for `sources`, kept per segment
    /// and computed again only for new segments or new sources: two exact-key postings per
    /// canonical work and one id posting per clicked record.
    pub(crate) fn popular_docs(
        &self,
        searcher: &Searcher,
        fields: &Fields,
        sources: &PopularitySources,
    ) -> tantivy::Result<Vec<Arc<PopularDocs>>> {
        self.columns
            .iter()
            .zip(searcher.segment_readers())
            .map(|(columns, reader)| columns.popular(reader, fields, sources))
            .collect()
    }
}

impl SegmentColumns {
    fn popular(
        &self,
        reader: &SegmentReader,
        fields: &Fields,
        sources: &PopularitySources,
    ) -> tantivy::Result<Arc<PopularDocs>> {
        if let Some((known, docs)) = lock(&self.popular).as_ref()
            && known.same(sources)
        {
            return Ok(docs.clone());
        }
        let mut docs = PopularDocs {
            bits: vec![0u64; (reader.max_doc() as usize).div_ceil(64)],
            ..PopularDocs::default()
        };
        let titles = reader.inverted_index(fields.title_exact)?;
        let creators = reader.inverted_index(fields.creator_exact)?;
        for (title, creator) in sources.canonical.iter() {
            let with_title = docs_with(&titles, Term::from_field_text(fields.title_exact, title))?;
            if with_title.is_empty() {
                continue;
            }
            let with_creator = docs_with(&creators, Term::from_field_text(fields.creator_exact, creator))?;
            for doc in with_title {
                if with_creator.binary_search(&doc).is_ok() {
                    docs.lift(doc, crate::collector::CANONICAL_HOLDERS);
                    docs.canonical.push(doc);
                }
            }
        }
        let ids = reader.inverted_index(fields.id)?;
        for (id, clicks) in sources.clicks.iter() {
            let holders = crate::collector::holders_of_clicks(*clicks);
            if holders > 1 {
                for doc in docs_with(&ids, Term::from_field_text(fields.id, id))? {
                    docs.lift(doc, holders);
                }
            }
        }
        let docs = Arc::new(docs);
        *lock(&self.popular) = Some((sources.clone(), docs.clone()));
        Ok(docs)
    }
}

/// The documents whose field has `term`, in order.
fn docs_with(index: &InvertedIndexReader, term: Term) -> tantivy::Result<Vec<DocId>> {
    let mut docs = Vec::new();
    if let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? {
        let mut doc = postings.doc();
        while doc != TERMINATED {
            docs.push(doc);
            doc = postings.advance();
        }
    }
    Ok(docs)
}

/// Counts per value of each keyword facet.
pub(crate) type KeywordCounts = [HashMap<String, u64>; crate::collector::KEYWORDS];

/// BM25 statistics of one generation, computed on first use and kept.
pub(crate) struct Statistics {
    searcher: Searcher,
    total_docs: u64,
    tokens: Mutex<HashMap<Field, u64>>,
    doc_freqs: Mutex<HashMap<Term, u64>>,
}

impl Statistics {
    /// Does any document of the generation have a token in `field`?
    pub(crate) fn has_tokens(&self, field: Field) -> bool {
        self.total_num_tokens(field).map_or(true, |n| n > 0)
    }
}

impl Bm25StatisticsProvider for Statistics {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        if let Some(n) = lock(&self.tokens).get(&field) {
            return Ok(*n);
        }
        let n = self.searcher.total_num_tokens(field)?;
        lock(&self.tokens).insert(field, n);
        Ok(n)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.total_docs)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        if let Some(n) = lock(&self.doc_freqs).get(term) {
            return Ok(*n);
        }
        let n = self.searcher.doc_freq(term)?;
        let mut cached = lock(&self.doc_freqs);
        if cached.len() >= MAX_CACHED_TERMS {
            cached.clear();
        }
        cached.insert(term.clone(), n);
        Ok(n)
    }
}

/// Keeps the columns of the live segments and the latest generation.
#[derive(Default)]
pub(crate) struct Generations {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
    latest: Mutex<Option<Arc<Generation>>>,
}

impl Generations {
    /// The generation of `searcher`, built (cheaply: columns of known segments are reused)
    /// if it is not the latest one.
    pub(crate) fn of(&self, searcher: &Searcher) -> tantivy::Result<Arc<Generation>> {
        let id = searcher.generation().generation_id();
        if let Some(latest) = lock(&self.latest).as_ref()
            && latest.id == id
        {
            return Ok(latest.clone());
        }
        let readers = searcher.segment_readers();
        let mut columns = Vec::with_capacity(readers.len());
        {
            let mut segments = lock(&self.segments);
            segments.retain(|known, _| readers.iter().any(|r| r.segment_id() == *known));
            for reader in readers {
                let opened = match segments.get(&reader.segment_id()) {
                    Some(opened) => opened.clone(),
                    None => {
                        let opened = Arc::new(SegmentColumns::open(reader)?);
                        segments.insert(reader.segment_id(), opened.clone());
                        opened
                    }
                };
                columns.push(opened);
            }
        }
        // As tantivy counts it: deleted documents too (their terms still count in the
        // document frequencies, and BM25 asserts that no term is in more documents).
        let total_docs = readers.iter().map(|r| u64::from(r.max_doc())).sum();
        let generation = Arc::new(Generation {
            id,
            columns,
            statistics: Statistics {
                searcher: searcher.clone(),
                total_docs,
                tokens: Mutex::new(HashMap::new()),
                doc_freqs: Mutex::new(HashMap::new()),
            },
            browse_counts: Default::default(),
        });
        let mut latest = lock(&self.latest);
        if latest.as_ref().is_none_or(|l| l.id < id) {
            *latest = Some(generation.clone());
        }
        Ok(generation)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use schemas::{DateRange, Holding, Institution, InstitutionType, Level, Record};
    use tantivy::query::Bm25StatisticsProvider;

    use super::*;
    use crate::index::Index;

    #[test]
    fn the_tables_agree_with_the_index_deleted_documents_included() {
        let index = Index::create_in_ram().unwrap();
        let institution = |id: &str, institution_type| Institution {
            id: id.into(),
            name: id.into(),
            institution_type,
            district: None,
            level: Level::City,
            venue: None,
        };
        let (library, museum) = (
            institution("lib", InstitutionType::Library),
            institution("mus", InstitutionType::Museum),
        );
        let mut writer = index.writer().unwrap();
        for i in 0..30 {
            let mut record = Record::new(format!("r:{i:02}"), "lib", format!("黄河 第{i}册"));
            // Every third record is held by two branches: a multi-valued facet.
            let branches: &[&str] = if i % 3 == 0 {
                &["东岗分馆", "西固分馆"]
            } else {
                &["东岗分馆"]
            };
            record.holdings = branches
                .iter()
                .map(|b| Holding {
                    institution: "lib".into(),
                    branch: Some((*b).into()),
                    ..Holding::default()
                })
                .collect();
            // Years on two of three records; ISBNs (work keys) on every other one.
            if i % 3 != 1 {
                record.date = Some(DateRange {
                    display: format!("{}", 1900 + i),
                    year_start: Some(1900 + i),
                    year_end: Some(1900 + i),
                });
            }
            if i % 2 == 0 {
                record.isbns.push("9787101003048".into());
            }
            let holder = if i % 2 == 0 { &library } else { &museum };
            record.institution = holder.id.clone();
            writer.upsert(&record, holder).unwrap();
        }
        writer.commit(1).unwrap();
        for i in 0..10 {
            writer.delete(&format!("r:{i:02}")).unwrap();
        }
        writer.commit(2).unwrap();

        let searcher = index.searcher();
        let generation = index.inner.generations.of(&searcher).unwrap();
        let statistics = &generation.statistics;
        let fields = &index.inner.fields;
        assert_eq!(
            statistics.total_num_docs().unwrap(),
            Bm25StatisticsProvider::total_num_docs(&searcher).unwrap(),
            "deleted documents count, as in tantivy"
        );
        assert_eq!(searcher.num_docs(), 20);
        assert!(statistics.total_num_docs().unwrap() > 20);
        for word in ["黄河", "黄", "第", "不在"] {
            let term = Term::from_field_text(fields.title, word);
            assert_eq!(
                statistics.doc_freq(&term).unwrap(),
                searcher.doc_freq(&term).unwrap(),
                "{word}"
            );
            assert_eq!(
                statistics.doc_freq(&term).unwrap(),
                searcher.doc_freq(&term).unwrap(),
                "cached {word}"
            );
        }
        assert!(statistics.has_tokens(fields.title));
        assert!(!statistics.has_tokens(fields.publisher));

        let facet = |wanted: &str| {
            KEYWORD_FACETS
                .iter()
                .position(|(name, _)| *name == wanted)
                .unwrap()
        };
        let (branch, institution) = (facet("branch"), facet("institution"));
        for (reader, columns) in searcher.segment_readers().iter().zip(&generation.columns) {
            let dense = columns.dense_keywords();
            for k in [branch, institution] {
                let column = columns.keywords[k].as_ref().unwrap();
                let table = dense[k].as_ref().unwrap();
                for doc in 0..reader.max_doc() {
                    let ords: Vec<u64> = column.ords().values_for_doc(doc).collect();
                    let want = match ords.as_slice() {
                        [] => NO_VALUE,
                        [one] => *one as u32,
                        _ => MANY_VALUES,
                    };
                    assert_eq!(table[doc as usize], want, "facet {k}, doc {doc}");
                }
            }
            let (years, work_keys) = (
                columns.year_start.as_ref().unwrap(),
                columns.work_keys.as_ref().unwrap(),
            );
            let (dense_years, dense_work_keys) =
                (columns.dense_years().unwrap(), columns.dense_work_keys().unwrap());
            for doc in 0..reader.max_doc() {
                let year = dense_years[doc as usize];
                assert_eq!(
                    (year != NO_YEAR).then_some(i64::from(year)),
                    years.first(doc),
                    "doc {doc}"
                );
                let key = dense_work_keys[doc as usize];
                assert_eq!(
                    (key != NO_VALUE).then_some(u64::from(key)),
                    work_keys.ords().first(doc),
                    "doc {doc}"
                );
            }
            assert!(dense_years.contains(&NO_YEAR) || reader.max_doc() < 3);
            let ids = columns.ids.as_ref().unwrap();
            let mut text = String::new();
            for ord in 0..ids.num_terms() as u64 {
                ids.ord_to_str(ord, &mut text).unwrap();
                assert_eq!(columns.id_of(ord), Some(text.as_str()));
            }
            assert_eq!(columns.id_of(ids.num_terms() as u64), None);
        }
        // Two branches are MANY_VALUES in the table.
        assert!(generation.columns.iter().any(|c| {
            c.dense_keywords()[branch]
                .as_ref()
                .unwrap()
                .contains(&MANY_VALUES)
        }));
    }
}
