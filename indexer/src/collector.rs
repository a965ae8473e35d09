//! One pass over the documents matching the query: filters, the page, the total and the
//! facet counts together.
//!
//! The query itself carries no filter. For each matching document the collector reads the
//! keyword fields' term ordinals and the years from the fast fields and checks every filter.
//! A document passing all filters counts in the total, every facet and the page; a document
//! failing exactly one filter counts only in that filter's facet (the disjunctive
//! convention: a facet's own filter does not narrow its counts, so the user sees what adding
//! another value would bring); a document failing two filters counts nowhere. Counting works
//! on ordinals in per-segment arrays; strings are looked up once per segment at the end, and
//! no stored document is read.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::schema::names;

/// The keyword facets, in the order they are reported: (facet name, field name).
pub(crate) const KEYWORD_FACETS: [(&str, &str); 5] = [
    ("institution", names::INSTITUTION),
    ("institution_type", names::INSTITUTION_TYPE),
    ("resource_type", names::RESOURCE_TYPE),
    ("region", names::REGION),
    ("language", names::LANGUAGE),
];
const KEYWORDS: usize = KEYWORD_FACETS.len();
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
    /// One candidate per work (the best record of each work key); the total counts works.
    pub(crate) collapse: bool,
}

/// Weight of the popularity signal: a document's score is multiplied by
/// `1 + POPULARITY_WEIGHT × ln(copies)`, with `ln(copies)` capped at [`MAX_POPULARITY_LN`].
///
/// Why copies: a library buys more copies of what is borrowed more, and a reader is better
/// served by the edition they can actually get. Why this small: the factor is at most
/// `1 + 0.05 × 3 = 1.15` (reached at about 20 copies), while the field weights differ by 1.5×
/// to 4× and an exact title adds 16×: popularity breaks near-ties between equally relevant
/// records, it never lifts a description match over a title match.
pub(crate) const POPULARITY_WEIGHT: f32 = 0.05;
/// Cap of `ln(copies)` in the popularity factor.
pub(crate) const MAX_POPULARITY_LN: f32 = 3.0;

/// The popularity factor of a record with `copies` copies.
pub(crate) fn popularity(copies: u64) -> f32 {
    1.0 + POPULARITY_WEIGHT * (copies.max(1) as f32).ln().min(MAX_POPULARITY_LN)
}

/// One document of the result window.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) score: Score,
    /// `i64::MIN` for documents without a year, so they come last when browsing.
    pub(crate) year: i64,
    pub(crate) id: String,
    pub(crate) address: DocAddress,
    /// The work key, when collapsing.
    pub(crate) work: Option<String>,
}

/// Order of results: score, then newest year, then id.
fn result_order(a: &Candidate, b: &Candidate) -> Ordering {
    b.score
        .total_cmp(&a.score)
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
    /// When collapsing: the best candidate of every matching work.
    pub(crate) works: HashMap<String, Candidate>,
}

/// A candidate inside one segment: the id as its term ordinal, which sorts like the id.
#[derive(Debug, Clone, Copy)]
struct SegmentCandidate {
    score: Score,
    year: i64,
    id_ord: u64,
    doc: DocId,
}

impl SegmentCandidate {
    /// Greater is better.
    fn rank(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.year.cmp(&other.year))
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
    /// Per term ordinal: does the filter accept it? `None` without a filter.
    accepted: Option<Vec<bool>>,
    counts: Vec<u64>,
}

pub(crate) struct SegmentSearchCollector {
    segment: SegmentOrdinal,
    keywords: [KeywordColumn; KEYWORDS],
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
    copies: Option<Column<u64>>,
    /// Work keys and the best candidate per work key ordinal, when collapsing.
    work_keys: Option<StrColumn>,
    works: Option<HashMap<u64, SegmentCandidate>>,
}

impl Collector for SearchCollector {
    type Fruit = Collected;
    type Child = SegmentSearchCollector;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let fast = reader.fast_fields();
        let mut keywords = Vec::with_capacity(KEYWORDS);
        for ((_, field), accepted_values) in KEYWORD_FACETS.iter().zip(&self.keyword_filters) {
            let column = fast.str(field)?;
            let num_terms = column.as_ref().map_or(0, |c| c.num_terms());
            let accepted = if accepted_values.is_empty() {
                None
            } else {
                let mut accepted = vec![false; num_terms];
                if let Some(column) = &column {
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
                column,
                accepted,
                counts: vec![0; num_terms],
            });
        }
        let keywords: [KeywordColumn; KEYWORDS] = keywords
            .try_into()
            .map_err(|_| tantivy::TantivyError::InternalError("keyword facet count".into()))?;
        let year_start: Option<Column<i64>> = fast.column_opt(names::YEAR_START)?;
        let (year_base, year_slots) = match &year_start {
            // Years are validated to -10000..=2100; anything wider is not counted.
            Some(c) if c.max_value() >= c.min_value() && c.max_value() - c.min_value() < 100_000 => {
                (c.min_value(), (c.max_value() - c.min_value() + 1) as usize)
            }
            _ => (0, 0),
        };
        Ok(SegmentSearchCollector {
            segment,
            keywords,
            ids: fast.str(names::ID)?,
            year_start,
            year_end: fast.column_opt(names::YEAR_END)?,
            years: self.years,
            year_counts: vec![0; year_slots],
            year_base,
            window: self.window,
            heap: BinaryHeap::with_capacity(self.window.min(1024) + 1),
            total: 0,
            scoring: self.scoring,
            copies: fast.column_opt(names::COPIES)?,
            work_keys: if self.collapse {
                fast.str(names::WORK_KEY)?
            } else {
                None
            },
            works: self.collapse.then(HashMap::new),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<Collected>) -> tantivy::Result<Collected> {
        let mut merged = Collected::default();
        for fruit in fruits {
            merged.total += fruit.total;
            merged.candidates.extend(fruit.candidates);
            for (key, candidate) in fruit.works {
                match merged.works.get(&key) {
                    Some(best) if result_order(best, &candidate) != Ordering::Greater => {}
                    _ => {
                        merged.works.insert(key, candidate);
                    }
                }
            }
            for (into, from) in merged.keyword_counts.iter_mut().zip(fruit.keyword_counts) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
            for (year, count) in fruit.year_counts {
                *merged.year_counts.entry(year).or_default() += count;
            }
        }
        if self.collapse {
            merged.total = merged.works.len();
            merged.candidates = merged.works.values().cloned().collect();
        }
        merged.candidates.sort_by(result_order);
        merged.candidates.truncate(self.window);
        Ok(merged)
    }
}

impl SegmentCollector for SegmentSearchCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        let mut ords = [None; KEYWORDS];
        let mut failed = 0;
        let mut failed_filter = usize::MAX;
        for (i, keyword) in self.keywords.iter().enumerate() {
            let ord = keyword.column.as_ref().and_then(|c| c.ords().first(doc));
            ords[i] = ord;
            if let Some(accepted) = &keyword.accepted {
                let pass = ord.is_some_and(|o| accepted.get(o as usize).copied().unwrap_or(false));
                if !pass {
                    failed += 1;
                    failed_filter = i;
                }
            }
        }
        let year = self.year_start.as_ref().and_then(|c| c.first(doc));
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
        for (i, keyword) in self.keywords.iter_mut().enumerate() {
            if (failed == 0 || failed_filter == i)
                && let Some(count) = ords[i].and_then(|o| keyword.counts.get_mut(o as usize))
            {
                *count += 1;
            }
        }
        if (failed == 0 || failed_filter == YEAR)
            && let Some(slot) = year.and_then(|y| usize::try_from(y - self.year_base).ok())
            && let Some(count) = self.year_counts.get_mut(slot)
        {
            *count += 1;
        }
        if failed > 0 {
            return;
        }
        self.total += 1;
        let score = if self.scoring {
            let copies = self.copies.as_ref().and_then(|c| c.first(doc)).unwrap_or(1);
            score * popularity(copies)
        } else {
            score
        };
        let candidate = SegmentCandidate {
            score,
            year: year.unwrap_or(i64::MIN),
            id_ord: self
                .ids
                .as_ref()
                .and_then(|c| c.ords().first(doc))
                .unwrap_or(u64::MAX),
            doc,
        };
        if let Some(works) = &mut self.works {
            // Records without a key (none today) count as works of their own.
            let key = self
                .work_keys
                .as_ref()
                .and_then(|c| c.ords().first(doc))
                .unwrap_or(u64::MAX - u64::from(doc));
            let best = works.entry(key).or_insert(candidate);
            if candidate > *best {
                *best = candidate;
            }
            return;
        }
        if self.window == 0 {
            return;
        }
        if self.heap.len() < self.window {
            self.heap.push(Reverse(candidate));
        } else if let Some(mut worst) = self.heap.peek_mut()
            && candidate > worst.0
        {
            *worst = Reverse(candidate);
        }
    }

    fn harvest(self) -> Collected {
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
        for (keyword, counts) in self.keywords.into_iter().zip(collected.keyword_counts.iter_mut()) {
            let Some(column) = keyword.column else { continue };
            for (ord, &count) in keyword.counts.iter().enumerate() {
                if count > 0 && matches!(column.ord_to_str(ord as u64, &mut text), Ok(true)) {
                    counts.insert(text.clone(), count);
                }
            }
        }
        let ids = self.ids;
        let segment = self.segment;
        let to_candidate = |c: SegmentCandidate, work: Option<String>| {
            let mut id = String::new();
            if let Some(ids) = &ids {
                let _ = ids.ord_to_str(c.id_ord, &mut id);
            }
            Candidate {
                score: c.score,
                year: c.year,
                id,
                address: DocAddress::new(segment, c.doc),
                work,
            }
        };
        if let Some(works) = self.works {
            let mut key = String::new();
            for (ord, candidate) in works {
                let found = self
                    .work_keys
                    .as_ref()
                    .is_some_and(|c| matches!(c.ord_to_str(ord, &mut key), Ok(true)));
                // A record without a key is a work of its own: key it by its address.
                let work = if found {
                    key.clone()
                } else {
                    format!("doc:{segment}:{}", candidate.doc)
                };
                collected
                    .works
                    .insert(work.clone(), to_candidate(candidate, Some(work)));
            }
            return collected;
        }
        let mut candidates: Vec<SegmentCandidate> = self.heap.into_iter().map(|Reverse(c)| c).collect();
        candidates.sort_by(|a, b| b.cmp(a));
        collected.candidates = candidates.into_iter().map(|c| to_candidate(c, None)).collect();
        collected
    }
}
