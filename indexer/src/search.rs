//! Search requests and results, and running a search.

use std::collections::HashMap;
use std::sync::Arc;

use schemas::{AccessibleFormat, Audience, District, InstitutionType, Level, ResourceType};
use tantivy::query::Bm25StatisticsProvider;
use tantivy::query::{AllQuery, BooleanQuery, EnableScoring, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, SegmentOrdinal, TERMINATED, TantivyDocument, Term};

use crate::collector::{Collected, KEYWORD_FACETS, SearchCollector, WorkNumbering};
use crate::error::{Error, Result};
use crate::generation::{Generation, KeywordCounts};
use crate::highlight::Highlighter;
use crate::index::Index;
use crate::near::{Fit, NEAR_MISS_CANDIDATES, NearQuery};
use crate::normalize::normalize_keyword;
use crate::query::{MAX_PINYIN_READINGS, QueryPlan, pinyin_of_query, plan};

/// Deepest result reachable by paging: `offset + limit` may not exceed it.
pub const MAX_RESULT_WINDOW: usize = 10_000;
/// Most copies listed under one collapsed hit.
pub const MAX_HOLDINGS_PER_HIT: usize = 100;

/// A search: the query text (see the crate documentation for its meaning; empty to browse),
/// filters, and the page wanted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    /// What the user typed; at most [`crate::MAX_QUERY_CHARS`] characters.
    pub query: String,
    /// Restrictions on the results.
    pub filters: Filters,
    /// Number of hits to skip.
    pub offset: usize,
    /// Number of hits to return (0 returns only the total and the facets).
    pub limit: usize,
    /// Attach to every hit the explanation of its score ([`Hit::explanation`]).
    pub explain: bool,
    /// One hit per work: records that are copies of one work come back as their
    /// best-scoring record, with every copy in [`Hit::holdings`]; [`SearchResults::total`]
    /// and the facet counts then count works. Copies are records sharing an ISBN or ISSN,
    /// or, for published types only (books, ancient books, periodicals, audio, video),
    /// records of *different sources* agreeing on folded title, creators, publisher and
    /// year; unique things (objects, artworks, manuscripts, rubbings, images, events) never
    /// collapse (see the crate documentation). `false` (the default of this type; the HTTP
    /// API defaults to `true`) shows every record.
    pub collapse: bool,
    /// The order of the hits.
    pub sort: SortOrder,
}

/// The order of a search's hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Best match first (browsing: newest first), then newest, then by record id.
    #[default]
    Relevance,
    /// Newest first by the record's first year, then best match, then by record id; records
    /// without a year last.
    DateDesc,
    /// Oldest first by the record's first year, then best match, then by record id; records
    /// without a year last.
    DateAsc,
}

impl SortOrder {
    /// Every order, the default first.
    pub const ALL: [SortOrder; 3] = [SortOrder::Relevance, SortOrder::DateDesc, SortOrder::DateAsc];

    /// The order's name in URLs: `relevance`, `date_desc`, `date_asc`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Relevance => "relevance",
            SortOrder::DateDesc => "date_desc",
            SortOrder::DateAsc => "date_asc",
        }
    }
}

impl std::str::FromStr for SortOrder {
    type Err = String;

    /// Parses [`SortOrder::as_str`]'s names; the error is the unknown name.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        SortOrder::ALL
            .into_iter()
            .find(|order| order.as_str() == s)
            .ok_or_else(|| s.to_string())
    }
}

/// Filters of a search. Values within one filter are alternatives (OR); different filters
/// must all hold (AND). An empty filter does not restrict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Institution ids.
    pub institutions: Vec<String>,
    /// Kinds of institution.
    pub institution_types: Vec<InstitutionType>,
    /// Kinds of resource.
    pub resource_types: Vec<ResourceType>,
    /// Districts: of the branch holding a copy where the branch's district is known
    /// ([`crate::RecordWriter::set_branches`]), else of the holding institution.
    pub regions: Vec<District>,
    /// Language codes (`zh`, `en`, …), compared case-insensitively.
    pub languages: Vec<String>,
    /// Broad dynasties or periods (`唐`, `清`, `民国`, `现代`; see
    /// [`schemas::periods_of_years`]). A record whose years span several periods has each.
    pub periods: Vec<String>,
    /// Accessible formats (from the curators' flags).
    pub accessible_formats: Vec<AccessibleFormat>,
    /// Administrative levels of the holding institution.
    pub levels: Vec<Level>,
    /// Branches holding a copy, by name as the holdings write it (`七里河分馆`; compared
    /// after trimming).
    pub branches: Vec<String>,
    /// Brands or programmes (`春绿陇原`; from the curators' flags, compared after trimming).
    pub brands: Vec<String>,
    /// Audiences (from the curators' flags).
    pub audiences: Vec<Audience>,
    /// Only special holdings (特色馆藏, from the curators' flags); `false` does not
    /// restrict. Its facet, `special_collection`, has the one value `true`.
    pub special_collection: bool,
    /// The record's years must overlap `[year_from, year_to]` (inclusive; either end may be
    /// open). Records without a year are excluded when either is set.
    pub year_from: Option<i32>,
    /// See `year_from`.
    pub year_to: Option<i32>,
}

/// The answer to a [`SearchRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Number of records (works, when collapsing) matching the query and all filters.
    pub total: usize,
    /// The requested page, in the request's [`SortOrder`] (relevance when browsing: newest
    /// year first, then id).
    pub hits: Vec<Hit>,
    /// Counts per facet, always in the order institution, institution_type, resource_type,
    /// region, language, period, accessible_format, level, branch, brand, audience,
    /// special_collection, year.
    pub facets: Vec<Facet>,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Record id.
    pub id: String,
    /// Relevance (0 when browsing).
    pub score: f32,
    /// Main title, as stored.
    pub title: String,
    /// Creators, in source order.
    pub creators: Vec<String>,
    /// Institution id.
    pub institution: String,
    /// Institution name.
    pub institution_name: String,
    /// Kind of institution.
    pub institution_type: InstitutionType,
    /// Kind of resource.
    pub resource_type: ResourceType,
    /// First year covered, if known.
    pub year: Option<i32>,
    /// `(field, HTML)` for the fields among title, creators, subjects and description that
    /// contain a query word: matched text in `<em>…</em>`, everything HTML-escaped. Title,
    /// creators and subjects are shown whole (values joined by `; `), the description as a
    /// fragment of about 120 characters.
    pub highlights: Vec<(String, String)>,
    /// Where the work can be found: when collapsing, every copy of every record of the work
    /// (sorted by record id, at most [`MAX_HOLDINGS_PER_HIT`]); otherwise this record's own.
    /// A record without holding statements is one copy at its institution.
    pub holdings: Vec<HitHolding>,
    /// With [`SearchRequest::explain`]: tantivy's explanation of the text score as JSON
    /// (its context notes the popularity factor the score was then multiplied by).
    pub explanation: Option<String>,
}

/// One copy of a hit's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitHolding {
    /// The record describing the copy.
    pub record_id: String,
    /// The holding institution's id.
    pub institution: String,
    /// Its name, when the index knows it (the record's own institution); else the id.
    pub institution_name: String,
    /// Branch or department, if stated.
    pub branch: Option<String>,
    /// Call number, if stated.
    pub call_number: Option<String>,
}

/// Counts for one facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    /// `institution`, `institution_type`, `resource_type`, `region`, `language`, `period`,
    /// `accessible_format`, `level`, `branch`, `brand`, `audience`, `special_collection` or
    /// `year`.
    pub name: &'static str,
    /// Values by count (descending), then value; `period` in history's order instead
    /// ([`schemas::broad_periods`]).
    pub values: Vec<FacetValue>,
}

/// One value of a facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetValue {
    /// Machine value: an institution id, `museum`, `book`, `城关区`, `zh`, `清`, `braille`,
    /// `county`, `七里河分馆`, `春绿陇原`, `children`, `true`, `1998`.
    pub value: String,
    /// What a click on the value shows: the total of this search with this facet's filter
    /// set to just this value (the other filters unchanged). That is the number of records
    /// (works, when collapsing) with this value that match the query and every *other*
    /// facet's filter. A work whose copies differ in a value (held by two institutions)
    /// counts under each, since a click on either shows it; within one value it counts
    /// once. (For `year`, the value is the first year, while the year filter matches
    /// overlapping spans: a span across several years is counted at its first only.)
    pub count: u64,
}

pub(crate) fn run(index: &Index, request: &SearchRequest) -> Result<SearchResults> {
    let window = request.offset.saturating_add(request.limit);
    if window > MAX_RESULT_WINDOW {
        return Err(Error::ResultWindowTooLarge {
            requested: window,
            max: MAX_RESULT_WINDOW,
        });
    }
    let inner = &index.inner;
    let searcher = index.searcher();
    let generation = inner.generations.of(&searcher)?;
    let statistics = &generation.statistics;
    // Fields no document has a token in are left out of the query: they match nothing.
    let mut fields = inner.fields.clone();
    fields.text.retain(|t| statistics.has_tokens(t.field));
    // A pinyin query is also searched as the title and the name it reads as.
    let readings = match pinyin_of_query(&request.query) {
        Some(joined) => index
            .latest_suggester()?
            .readings_of(&joined, MAX_PINYIN_READINGS),
        None => Vec::new(),
    };
    let documents = statistics.total_num_docs().unwrap_or(0) as f32;
    let idf = |term: &Term| {
        let n = statistics.doc_freq(term).unwrap_or(0) as f32;
        (1.0 + (documents - n + 0.5) / (n + 0.5)).ln()
    };
    let plan = plan(&fields, &inner.analyzer, &request.query, &readings)?;
    let popular = if !plan.browse {
        Some(generation.popular_docs(&searcher, &inner.fields, &index.popularity_sources())?)
    } else {
        None
    };
    // A near miss is possible: a relevance search with Chinese clauses to fit.
    let near_miss = request.sort == SortOrder::Relevance && !plan.browse && plan.loose.is_some();
    let new_collector = |window: usize| -> Result<SearchCollector> {
        let mut collector = collector_for(&request.filters, window, !plan.browse, request.sort);
        collector.collapse = request.collapse;
        collector.columns = generation.columns.clone();
        // Collapsing needs the works; scoring needs the holders of each work and the
        // canonical works (popularity).
        if request.collapse || !plan.browse {
            collector.work_numbers = Some(inner.work_numbers.numbering(&searcher)?);
        }
        if !plan.browse {
            collector.popular.clone_from(&popular);
        }
        Ok(collector)
    };
    // With a near miss possible, the best record is needed even for a page of none.
    let collector = new_collector(if near_miss { window.max(1) } else { window })?;

    let narrowing = narrowed_browse(index, &plan, &collector);
    let mut query: &dyn Query = narrowing
        .as_ref()
        .map_or(plan.query.as_ref(), |n| n.query.as_ref());
    let mut collected = searcher.search_with_statistics_provider(query, &collector, statistics)?;
    if let Some(facet) = narrowing.as_ref().and_then(|n| n.own_facet)
        && let Some(counts) = collected.keyword_counts.get_mut(facet)
    {
        let everything = browse_counts(index, &generation, &searcher, request.collapse)?;
        counts.clone_from(&everything[facet]);
    }
    // The near-miss candidates' stored documents, read to fit them, by address.
    let mut read: HashMap<DocAddress, (TantivyDocument, Fit)> = HashMap::new();
    let mut near = false;
    if near_miss {
        near = collected.total == 0;
        if !near
            && let Some(together) = &plan.together
            && let Some(best) = collected.candidates.first()
        {
            near = !matches(&searcher, together.as_ref(), best.address)?;
        }
    }
    let loose = match &plan.loose {
        Some(loose) if near => Some(loose.query(&fields, &idf)),
        _ => None,
    };
    if let Some(loose) = &loose {
        // Nothing has the query together: the best records of the looser query, ranked by
        // how much of the query they have in order (see `crate::near`).
        query = loose.as_ref();
        let collector = new_collector(window.max(NEAR_MISS_CANDIDATES))?;
        collected = searcher.search_with_statistics_provider(query, &collector, statistics)?;
        let ranked = collected.candidates.len().min(NEAR_MISS_CANDIDATES);
        let mut fitted = Vec::with_capacity(ranked);
        for candidate in collected.candidates.drain(..ranked) {
            let doc = searcher.doc(candidate.address)?;
            fitted.push((fit_of(index, &plan.near, &doc), candidate, doc));
        }
        // A stable sort: among equal fits, the looser query's order (score, year, id).
        fitted.sort_by(|a, b| b.0.cmp_key(&a.0));
        let rest = std::mem::take(&mut collected.candidates);
        for (fit, candidate, doc) in fitted {
            read.insert(candidate.address, (doc, fit));
            collected.candidates.push(candidate);
        }
        collected.candidates.extend(rest);
    } else if collected.total == 0
        && let Some(fallback) = &plan.fallback
    {
        query = fallback.as_ref();
        collected = searcher.search_with_statistics_provider(query, &collector, statistics)?;
    }

    let facets = facets(&collected);
    let Collected {
        total, candidates, ..
    } = collected;
    let page = candidates.into_iter().skip(request.offset).take(request.limit);
    let mut highlighter = if plan.browse || request.limit == 0 {
        None
    } else {
        Some(Highlighter::new(&inner.fields, &plan.words))
    };
    let mut hits = Vec::with_capacity(request.limit.min(total));
    for candidate in page {
        let (doc, fit) = match read.remove(&candidate.address) {
            Some((doc, fit)) => (doc, Some(fit)),
            None => (searcher.doc(candidate.address)?, None),
        };
        let mut hit = hit_from_doc(index, &doc, candidate.score)?;
        if let Some(highlighter) = &mut highlighter {
            hit.highlights = highlighter.highlights(&doc);
        }
        let work = doc.get_first(inner.fields.work_key).and_then(|v| v.as_str());
        hit.holdings = match work {
            // A record that is a work of its own (no key, or an ambiguous one) lists its own.
            Some(work) if request.collapse && candidate.work.is_some() => {
                work_holdings(index, &searcher, work, candidate.address, &doc)?
            }
            _ => record_holdings(index, &doc),
        };
        if request.explain && !plan.browse {
            let fit = fit.filter(|_| near).map(|fit| (fit, plan.near.chars()));
            let works = inner.work_numbers.numbering(&searcher)?;
            let lifted = popular
                .as_ref()
                .and_then(|p| p.get(candidate.address.segment_ord as usize));
            let popularity = Popularity {
                works: &works,
                lifted: lifted.and_then(|p| p.holders(candidate.address.doc_id)),
                canonical: lifted.is_some_and(|p| p.is_canonical(candidate.address.doc_id)),
            };
            hit.explanation = Some(explain(&searcher, query, candidate.address, fit, popularity)?);
        }
        hits.push(hit);
    }
    Ok(SearchResults { total, hits, facets })
}

/// The documents a browse with keyword filters has to visit, when not all of them.
struct Narrowing {
    query: Box<dyn Query>,
    /// The one filtered facet, whose counts are those of the browse of everything.
    own_facet: Option<usize>,
}

/// A browse with keyword filters need not visit every document. The collector counts each
/// facet's values over the documents that pass every *other* filter, so it needs those that
/// fail at most one filter: with two filters or more, they match at least one of them (the
/// union of the filters' terms); with one, they are all documents, but those outside the
/// filter count for the filter's own facet only, and its counts are then those of the browse
/// of everything, kept per index generation. A browse filtered to one museum of a city
/// catalogue visits that museum's records, not the city's. `None` when everything must be
/// visited: a search with words, a year filter, or one filter beside exclusions.
fn narrowed_browse(index: &Index, plan: &QueryPlan, collector: &SearchCollector) -> Option<Narrowing> {
    if !plan.browse || collector.years.is_some() {
        return None;
    }
    let filtered: Vec<(usize, &Vec<String>)> = collector
        .keyword_filters
        .iter()
        .enumerate()
        .filter(|(_, values)| !values.is_empty())
        .collect();
    let own_facet = match filtered.as_slice() {
        [] => return None,
        [(facet, _)] if plan.query.is::<AllQuery>() => Some(*facet),
        [_] => return None,
        _ => None,
    };
    let schema = index.inner.index.schema();
    let mut any_filter: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (facet, values) in filtered {
        let field = schema.get_field(KEYWORD_FACETS.get(facet)?.1).ok()?;
        for value in values {
            let term = Term::from_field_text(field, value);
            any_filter.push((
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            ));
        }
    }
    let query = BooleanQuery::new(vec![
        (Occur::Must, plan.query.box_clone()),
        (Occur::Must, Box::new(BooleanQuery::new(any_filter))),
    ]);
    Some(Narrowing {
        query: Box::new(query),
        own_facet,
    })
}

/// The keyword facet counts of the browse of everything (records, or works when
/// `collapse`), computed once per index generation.
fn browse_counts(
    index: &Index,
    generation: &Generation,
    searcher: &Searcher,
    collapse: bool,
) -> Result<Arc<KeywordCounts>> {
    let slot = &generation.browse_counts[usize::from(collapse)];
    if let Some(counts) = slot.get() {
        return Ok(counts.clone());
    }
    let mut collector = collector_for(&Filters::default(), 0, false, SortOrder::default());
    collector.collapse = collapse;
    collector.columns = generation.columns.clone();
    if collapse {
        collector.work_numbers = Some(index.inner.work_numbers.numbering(searcher)?);
    }
    let collected =
        searcher.search_with_statistics_provider(&AllQuery, &collector, &generation.statistics)?;
    Ok(slot.get_or_init(|| Arc::new(collected.keyword_counts)).clone())
}

fn collector_for(filters: &Filters, window: usize, scoring: bool, sort: SortOrder) -> SearchCollector {
    let keyword_filters = [
        filters
            .institutions
            .iter()
            .map(|v| v.trim().to_string())
            .collect(),
        filters
            .institution_types
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
        filters
            .resource_types
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
        filters.regions.iter().map(|v| v.as_str().to_string()).collect(),
        filters.languages.iter().map(|v| normalize_keyword(v)).collect(),
        filters.periods.iter().map(|v| v.trim().to_string()).collect(),
        filters
            .accessible_formats
            .iter()
            .map(|v| v.as_str().to_string())
            .collect(),
        filters.levels.iter().map(|v| v.as_str().to_string()).collect(),
        filters.branches.iter().map(|v| v.trim().to_string()).collect(),
        filters.brands.iter().map(|v| v.trim().to_string()).collect(),
        filters.audiences.iter().map(|v| v.as_str().to_string()).collect(),
        if filters.special_collection {
            vec!["true".to_string()]
        } else {
            Vec::new()
        },
    ];
    let years = match (filters.year_from, filters.year_to) {
        (None, None) => None,
        (from, to) => {
            let from = from.map_or(i64::MIN, i64::from);
            let to = to.map_or(i64::MAX, i64::from);
            Some((from.min(to), from.max(to)))
        }
    };
    SearchCollector {
        keyword_filters,
        years,
        window,
        scoring,
        sort,
        collapse: false,
        work_numbers: None,
        columns: Vec::new(),
        popular: None,
    }
}

fn sorted_values(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<FacetValue> {
    let mut values: Vec<FacetValue> = counts
        .into_iter()
        .map(|(value, count)| FacetValue { value, count })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values
}

fn facets(collected: &Collected) -> Vec<Facet> {
    let mut facets: Vec<Facet> = KEYWORD_FACETS
        .iter()
        .zip(&collected.keyword_counts)
        .map(|((name, _), counts)| {
            let mut values = sorted_values(counts.iter().map(|(v, c)| (v.clone(), *c)));
            if *name == "period" {
                // Periods read best in history's order; names outside the list go last.
                let order: Vec<&str> = schemas::broad_periods().collect();
                values.sort_by_key(|v| order.iter().position(|p| *p == v.value).unwrap_or(usize::MAX));
            }
            Facet { name, values }
        })
        .collect();
    let years: HashMap<String, u64> = collected
        .year_counts
        .iter()
        .map(|(year, count)| (year.to_string(), *count))
        .collect();
    facets.push(Facet {
        name: "year",
        values: sorted_values(years),
    });
    facets
}

fn hit_from_doc(index: &Index, doc: &TantivyDocument, score: f32) -> Result<Hit> {
    let f = &index.inner.fields;
    let text = |field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
    let institution_type = text(f.institution_type)
        .and_then(|v| v.parse().ok())
        .ok_or(Error::CorruptDocument("institution_type"))?;
    Ok(Hit {
        id: text(f.id).ok_or(Error::CorruptDocument("id"))?,
        score,
        title: text(f.title).unwrap_or_default(),
        creators: doc
            .get_all(f.creators)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        institution: text(f.institution).unwrap_or_default(),
        institution_name: text(f.institution_name).unwrap_or_default(),
        institution_type,
        resource_type: text(f.resource_type)
            .and_then(|v| v.parse().ok())
            .unwrap_or_default(),
        year: doc
            .get_first(f.year_start)
            .and_then(|v| v.as_i64())
            .and_then(|y| i32::try_from(y).ok()),
        highlights: Vec::new(),
        holdings: Vec::new(),
        explanation: None,
    })
}

/// The copies a stored record describes.
fn record_holdings(index: &Index, doc: &TantivyDocument) -> Vec<HitHolding> {
    let f = &index.inner.fields;
    let text = |field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default();
    let record_id = text(f.id).to_string();
    let institution = text(f.institution).to_string();
    let institution_name = text(f.institution_name).to_string();
    let stored: Vec<serde_json::Value> = doc
        .get_first(f.holdings)
        .and_then(|v| v.as_str())
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    if stored.is_empty() {
        return vec![HitHolding {
            record_id,
            institution: institution.clone(),
            institution_name,
            branch: None,
            call_number: None,
        }];
    }
    stored
        .iter()
        .map(|h| {
            let get = |key: &str| h.get(key).and_then(|v| v.as_str()).map(str::to_string);
            let holder = get("institution")
                .filter(|i| !i.is_empty())
                .unwrap_or_else(|| institution.clone());
            let name = if holder == institution {
                institution_name.clone()
            } else {
                holder.clone()
            };
            HitHolding {
                record_id: record_id.clone(),
                institution: holder,
                institution_name: name,
                branch: get("branch"),
                call_number: get("call_number"),
            }
        })
        .collect()
}

/// Every copy of every record of a work; `hit` is the address of one of them, `hit_doc` its
/// stored document (already read).
///
/// The records come from the work key's postings (no scoring); only the other records'
/// documents are read, and of a work with more than [`MAX_HOLDINGS_PER_HIT`] records only
/// the first ones by record id (their ids from the fast field).
fn work_holdings(
    index: &Index,
    searcher: &Searcher,
    work: &str,
    hit: DocAddress,
    hit_doc: &TantivyDocument,
) -> Result<Vec<HitHolding>> {
    let f = &index.inner.fields;
    let term = Term::from_field_text(f.work_key, work);
    let mut records = Vec::new();
    for (segment, reader) in searcher.segment_readers().iter().enumerate() {
        let Some(mut postings) = reader
            .inverted_index(f.work_key)?
            .read_postings(&term, IndexRecordOption::Basic)
            .map_err(tantivy::TantivyError::from)?
        else {
            continue;
        };
        let alive = reader.alive_bitset();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                records.push(DocAddress::new(segment as SegmentOrdinal, doc));
            }
            doc = postings.advance();
        }
    }
    if records.len() > MAX_HOLDINGS_PER_HIT {
        // Every record has at least one copy: the first records by id fill the list.
        let mut by_id = Vec::with_capacity(records.len());
        let mut id = String::new();
        for address in records {
            let ids = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .str(crate::schema::names::ID)?;
            id.clear();
            if let Some(ids) = ids
                && let Some(ord) = ids.ords().first(address.doc_id)
            {
                ids.ord_to_str(ord, &mut id)
                    .map_err(tantivy::TantivyError::from)?;
            }
            by_id.push((id.clone(), address));
        }
        by_id.sort();
        records = by_id
            .into_iter()
            .take(MAX_HOLDINGS_PER_HIT)
            .map(|(_, address)| address)
            .collect();
    }
    let mut holdings = Vec::new();
    for address in records {
        if address == hit {
            holdings.extend(record_holdings(index, hit_doc));
        } else {
            let doc: TantivyDocument = searcher.doc(address)?;
            holdings.extend(record_holdings(index, &doc));
        }
    }
    holdings.sort_by(|a, b| a.record_id.cmp(&b.record_id));
    holdings.truncate(MAX_HOLDINGS_PER_HIT);
    Ok(holdings)
}

/// What the popularity factor of a hit was made of, for its explanation.
struct Popularity<'a> {
    works: &'a WorkNumbering,
    /// The holders the record counts as for being canonical or clicked.
    lifted: Option<u32>,
    canonical: bool,
}

/// Whether the document at `address` matches `query`.
fn matches(searcher: &Searcher, query: &dyn Query, address: DocAddress) -> Result<bool> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut scorer = weight.scorer(searcher.segment_reader(address.segment_ord), 1.0)?;
    Ok(scorer.seek(address.doc_id) == address.doc_id)
}

/// How well a stored record fits the query's Chinese clauses, from its text fields at their
/// weights.
fn fit_of(index: &Index, near: &NearQuery, doc: &TantivyDocument) -> Fit {
    let schema = index.inner.index.schema();
    let values = index.inner.fields.text.iter().flat_map(|t| {
        let name = schema.get_field_name(t.field);
        doc.get_all(t.field)
            .filter_map(|v| v.as_str())
            .map(move |text| (t.boost, name, text))
    });
    near.fit(values)
}

/// tantivy's explanation of a hit's text score, as JSON, noting the popularity factor (from
/// the record's copies; the records of its work may raise it) and,
/// for a near miss, the record's fit (and the query's characters) that ranked it first.
fn explain(
    searcher: &Searcher,
    query: &dyn Query,
    address: DocAddress,
    near: Option<(Fit, u32)>,
    popularity: Popularity<'_>,
) -> Result<String> {
    let mut explanation = query.explain(searcher, address)?;
    if let Some((fit, chars)) = near {
        explanation.add_context(format!(
            "near miss: no record has the query together; ranked first by its fit: {} of the \
             query's {chars} characters found in order and close together ({}; {:.1} counting \
             the field each was found in), then by this score",
            fit.chars,
            fit.found.join(", "),
            fit.weighted
        ));
    }
    let fast = searcher.segment_reader(address.segment_ord).fast_fields();
    let copies = fast
        .u64(crate::schema::names::COPIES)
        .ok()
        .and_then(|c| c.first(address.doc_id))
        .unwrap_or(1);
    let holders = fast
        .str(crate::schema::names::WORK_KEY)
        .ok()
        .flatten()
        .and_then(|keys| keys.ords().first(address.doc_id))
        .map_or(1, |ord| popularity.works.holders_of(address.segment_ord, ord));
    let lifted = match (popularity.canonical, popularity.lifted) {
        (true, Some(n)) => format!("; as a canonical work, {n}"),
        (false, Some(n)) => format!("; by its clicks, {n}"),
        (_, None) => String::new(),
    };
    let counted = holders.max(popularity.lifted.unwrap_or(1));
    explanation.add_context(format!(
        "final score = this value × popularity factor {:.4} ({copies} copies, {holders} holders \
         of the work in the catalogue{lifted})",
        crate::collector::popularity(copies.max(u64::from(counted))),
    ));
    Ok(explanation.to_pretty_json())
}
