//! From the text a citizen typed to a tantivy query. tantivy's `QueryParser` is not used: it
//! turns every multi-token term into a phrase, which for unsegmented Chinese means that most
//! queries become phrases and find nothing, and it answers malformed input with errors.
//!
//! # The query language
//!
//! The text is split into *clauses* at whitespace (and quotes):
//! - `"…"` (or `“…”`) is a phrase: its words must occur together; an unmatched quote is
//!   ignored;
//! - `-word` or `-"…"` excludes the records the clause matches;
//! - `title:`, `creator:`, `subject:` and `isbn:` (also `author:`, `题名:`, `作者:`, `主题:`,
//!   with `:` or `：`) restrict a clause to those fields; an unknown prefix is plain text;
//! - anything else is plain text, normalised and cut in jieba's precise mode.
//!
//! Nothing is an error except a text over [`MAX_QUERY_CHARS`] characters: malformed syntax
//! degrades to plain words.
//!
//! # Matching
//!
//! - **Every word must match** in at least one field of its clause's scope; fields weigh
//!   title 4, alternative titles and creators 3, subjects 2, publisher and the other fields
//!   1.5, description 1 (the best field counts, the others add a little).
//! - A multi-character Chinese word also matches as the phrase of its characters (documents
//!   index every CJK character), so `飞燕` is found inside `马踏飞燕`; the whole word scores
//!   higher than its characters.
//! - A Chinese word of four or more characters also matches as the shorter words it is made
//!   of, each anywhere in the scope (`敦煌石窟` finds “敦煌莫高窟的石窟艺术”), at
//!   [`SUB_WORDS_FACTOR`] of the weight, so the contiguous word always ranks first.
//! - A word of a synonym group (see [`crate::dictionary`]) also matches the group's other
//!   words, at [`SYNONYM_FACTOR`] of the weight.
//! - A word that is one of a person's names in the name authority (`names.txt`, see
//!   [`crate::dictionary`]) also matches the person's other names (the preferred name first)
//!   in the creators and contributors, at [`NAME_FACTOR`] of those fields' weight. An
//!   *alternate* name (alone or beside title words) also adds the exact-creator boost for
//!   itself and, at [`NAME_FACTOR`] of it, for each other name: `苏东坡`, `李太白 静夜思`
//!   find 蘇軾's and 李白's works first, while a poem titled 东坡 still matches `东坡` as
//!   text. The typed word's own matches are unchanged, and a preferred name gets no new
//!   boost, so works by the name typed stay first and a query without alternate names ranks
//!   as it would without the authority.
//! - A clause of Latin letters also matches the **pinyin** fields of titles and creators:
//!   as syllables (`jingyesi`, `jing ye si`), and, when it is not pinyin, as initials (`jys`).
//!   Pinyin weighs less than any Chinese field, and a Chinese word never reaches the pinyin
//!   fields, so homophones (`景点` / `经典`) never match each other. A Latin word is also
//!   matched as an English stem (`carvings` = `carving`) and, from [`FUZZY_MIN_LETTERS`]
//!   letters, with one typo after the first letter in titles and creators (at a small
//!   weight; see [`crate::typo`]), unless it reads as pinyin or has no vowel (initials).
//! - An ISBN (10 or 13 digits, hyphens or not) matches the record's ISBN-13s; a
//!   classification code or call number (`I247.5`) matches whole or as the broader class of a
//!   longer code (`I247` finds `I247.5`).
//! - The whole query as the whole title (folded, punctuation ignored) weighs most, then the
//!   whole query as a whole creator's name and as a phrase in the title; then the
//!   description phrase.
//! - If nothing matches and there are at least two clauses, the search is retried with *any*
//!   clause matching (the caller runs [`QueryPlan::fallback`]).
//!
//! # Bounds
//!
//! The work a query can cause is capped structurally, not by a timer: at most
//! [`MAX_QUERY_CHARS`] characters, [`MAX_QUERY_TOKENS`] words, [`MAX_SYNONYMS_PER_WORD`] and
//! [`MAX_EXPANSIONS`] synonyms, [`MAX_NAMES_PER_WORD`] and [`MAX_NAME_EXPANSIONS`] other
//! names, [`MAX_FUZZY_WORDS`] fuzzy words, pinyin strings of at most
//! [`crate::pinyin::MAX_PINYIN_LETTERS`] letters and initials of at most
//! [`MAX_INITIALS_LETTERS`]. The benches measure the worst case these allow.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use crate::analysis::{AnalyzedToken, ChineseAnalyzer};
use crate::error::{Error, Result};
use crate::keys::{isbn13, looks_like_code, text_key};
use crate::near::{NearQuery, adjacent_pairs};
use crate::normalize::{normalize, normalize_keyword};
use crate::pinyin;
use crate::schema::{Fields, TextField};
use crate::typo::TypoQuery;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Words of a query beyond this many are ignored.
pub const MAX_QUERY_TOKENS: usize = 32;
/// Synonyms used per query word at most.
pub const MAX_SYNONYMS_PER_WORD: usize = 3;
/// Synonyms used per query at most.
pub const MAX_EXPANSIONS: usize = 8;
/// Other names of a person used per query word at most (the preferred name comes first).
pub const MAX_NAMES_PER_WORD: usize = 4;
/// Other names of people used per query at most.
pub const MAX_NAME_EXPANSIONS: usize = 8;
/// Words of a query that get a fuzzy (one-typo) alternative at most.
pub const MAX_FUZZY_WORDS: usize = 4;
/// Shortest Latin word matched with a typo.
pub const FUZZY_MIN_LETTERS: usize = 5;
/// Longest Latin word tried as pinyin initials: one initial per character, so a title (or
/// a poem's first line used as one) of up to this many characters is found by its initials,
/// and so is any run of its characters (a prefix: `jnmg` for `江南民國青銅器通史`).
pub const MAX_INITIALS_LETTERS: usize = pinyin::MAX_PINYIN_LETTERS;

/// Weight of a word found only through its characters, relative to the word itself.
const PARTS_FACTOR: f32 = 0.5;
/// Weight of a long word found only as its shorter words apart (`敦煌石窟` in “敦煌的石窟”).
const SUB_WORDS_FACTOR: f32 = 0.3;
/// Weight of a synonym, relative to the word typed.
pub const SYNONYM_FACTOR: f32 = 0.6;
/// Weight of a creator found under another of their names (`苏东坡` → 蘇軾), relative to the
/// name typed: close to the creator's own name, above a synonym.
pub const NAME_FACTOR: f32 = 0.9;
/// How much the other fields add to the best field's score for one word.
const TIE_BREAKER: f32 = 0.1;
/// The whole query is the whole title (folded, punctuation ignored).
const EXACT_TITLE_BOOST: f32 = 16.0;
/// The whole query is a whole creator's name (`王昌齡`): their works before works that only
/// mention them.
const EXACT_CREATOR_BOOST: f32 = 8.0;
/// The whole query as a phrase in the title and in the description.
const TITLE_PHRASE_BOOST: f32 = 8.0;
const DESCRIPTION_PHRASE_BOOST: f32 = 1.0;
/// Weight of an exact ISBN match and of a classification code.
const ISBN_BOOST: f32 = 4.0;
const CODE_BOOST: f32 = 3.0;
/// Weights of the pinyin fields: below every Chinese field (title 4 … description 1 for a
/// word; the pinyin of a title weighs 1.2, its initials 0.6).
const TITLE_PINYIN_BOOST: f32 = 1.2;
const CREATOR_PINYIN_BOOST: f32 = 1.0;
/// Initials weigh this much of the syllables.
const INITIALS_FACTOR: f32 = 0.5;
/// The whole joined reading equal to the whole title's (`jingyesi` = 静夜思).
const PINYIN_WHOLE_VALUE_FACTOR: f32 = 2.0;
/// Weight of a one-typo match, relative to the field.
const FUZZY_FACTOR: f32 = 0.3;

/// The queries to run for one request.
pub(crate) struct QueryPlan {
    /// Every positive clause must match, no negative one may; everything when `browse`
    /// (minus the excluded records).
    pub(crate) query: Box<dyn Query>,
    /// At least one positive clause must match; run when `query` finds nothing.
    pub(crate) fallback: Option<Box<dyn Query>>,
    /// The query had no positive clause: list documents in browse order.
    pub(crate) browse: bool,
    /// The normalised query words (and synonyms), to highlight.
    pub(crate) words: Vec<String>,
    /// The Chinese clauses, to fit records to the query when it is a near miss (see
    /// [`crate::near`]).
    pub(crate) near: NearQuery,
    /// For a near miss: any clause matches, a Chinese clause by two of its pairs of adjacent
    /// characters (one when it has fewer than three), another by any of its groups (`None`
    /// when there is no Chinese clause to fit). Built into a query only for a near miss.
    pub(crate) loose: Option<Loose>,
    /// Every clause of several Chinese words has them together, in one field of its scope
    /// (as the phrase of its character pairs). `None` when there is no such clause. When the
    /// best record of `query` does not match it, the search is a near miss.
    pub(crate) together: Option<Box<dyn Query>>,
}

/// Which fields a clause searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Any,
    Title,
    Creator,
    Subject,
    Isbn,
}

/// One clause of the query text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause<'a> {
    negated: bool,
    scope: Scope,
    phrase: bool,
    text: &'a str,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '＂' | '“' | '”')
}

/// A field prefix (`title:`) at the start of `text`: its scope and the text after it.
fn split_scope(text: &str) -> Option<(Scope, &str)> {
    let colon = text
        .char_indices()
        .take(8)
        .find(|(_, c)| matches!(c, ':' | '：'))?;
    let name = text[..colon.0].to_ascii_lowercase();
    let rest = &text[colon.0 + colon.1.len_utf8()..];
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        return None;
    }
    let scope = match name.as_str() {
        "title" | "ti" | "题名" | "书名" | "標題" | "标题" => Scope::Title,
        "creator" | "author" | "au" | "作者" | "著者" => Scope::Creator,
        "subject" | "su" | "主题" | "主題" => Scope::Subject,
        "isbn" => Scope::Isbn,
        _ => return None,
    };
    Some((scope, rest))
}

/// Splits the query text into clauses (see the module documentation). Never fails.
fn lex(text: &str) -> Vec<Clause<'_>> {
    let mut clauses = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else { break };
        let mut negated = false;
        if matches!(first, '-' | '－') {
            let after = &rest[first.len_utf8()..];
            if after
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace() && !matches!(c, '-' | '－'))
            {
                negated = true;
                rest = after;
            }
        }
        let mut scope = Scope::Any;
        if let Some((found, after)) = split_scope(rest) {
            scope = found;
            rest = after;
        }
        if let Some(open) = rest.chars().next().filter(|&c| is_quote(c)) {
            let body = &rest[open.len_utf8()..];
            if let Some((end, close)) = body.char_indices().find(|&(_, c)| is_quote(c)) {
                clauses.push(Clause {
                    negated,
                    scope,
                    phrase: true,
                    text: &body[..end],
                });
                rest = &body[end + close.len_utf8()..];
                continue;
            }
            // An unmatched quote opens nothing.
            rest = body;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || is_quote(c))
            .unwrap_or(rest.len());
        if end == 0 {
            // A stray quote (or nothing left): skip it.
            let skip = rest.chars().next().map_or(0, char::len_utf8);
            rest = rest.get(skip..).unwrap_or_default();
            continue;
        }
        clauses.push(Clause {
            negated,
            scope,
            phrase: false,
            text: &rest[..end],
        });
        rest = &rest[end..];
    }
    clauses.retain(|c| !c.text.trim().is_empty());
    clauses
}

/// How a Latin clause may be read as pinyin.
#[derive(Debug, Clone)]
struct PinyinReading {
    /// The clause split into the fewest syllables (every such split, at most
    /// [`pinyin::MAX_SEGMENTATIONS`]); empty if it is not entirely pinyin.
    syllables: Vec<Vec<String>>,
    /// The letters, joined (`jingyesi`, `jys`).
    joined: String,
}

impl PinyinReading {
    /// The pinyin reading of a clause of Latin letters (apostrophes allowed); `None` for
    /// anything else.
    fn of(text: &str) -> Option<PinyinReading> {
        let text = normalize_keyword(text);
        if text.is_empty()
            || !text
                .chars()
                .all(|c| c.is_ascii_lowercase() || matches!(c, '\'' | '’'))
        {
            return None;
        }
        let joined: String = text.chars().filter(char::is_ascii_lowercase).collect();
        if joined.len() > pinyin::MAX_PINYIN_LETTERS {
            return None;
        }
        Some(PinyinReading {
            syllables: pinyin::segmentations(&text),
            joined,
        })
    }

    /// Initials are tried for what is not pinyin syllables: `jys`, `ldh`.
    fn initials(&self) -> bool {
        self.syllables.is_empty() && (2..=MAX_INITIALS_LETTERS).contains(&self.joined.len())
    }
}

/// A query word.
struct QueryWord {
    token: AnalyzedToken,
    /// The normalised word as typed (before stemming), for highlights and pinyin.
    surface: String,
    parts: Vec<(usize, String)>,
    /// The shorter words a long word is made of, matched apart at a low weight.
    sub_words: Vec<String>,
    synonyms: Vec<String>,
    /// The other names of the person this word names, matched in creators and contributors.
    names: Vec<String>,
    /// The word is a name, and not a person's preferred name (`苏东坡`, not `苏轼`).
    alternate_name: bool,
    pinyin: Option<PinyinReading>,
    fuzzy: bool,
}

/// A unit of matching: it matches or not as a whole.
enum Group {
    Word(QueryWord),
    Phrase(Vec<QueryWord>),
    /// A Latin clause jieba cut into several words (`xi'an`): all its words, or its pinyin.
    Latin(Vec<QueryWord>, PinyinReading),
    Isbn(String),
    /// A classification code or call number, and the words it is cut into (for codes written
    /// in text fields, and for things that only look like codes: `abc123`).
    Code(String, Vec<QueryWord>),
}

/// Per-query budgets shared by the clauses.
struct Budget {
    tokens: usize,
    synonyms: usize,
    names: usize,
    fuzzy: usize,
}

/// Most character readings a pinyin query is also searched as.
pub(crate) const MAX_PINYIN_READINGS: usize = 3;

/// The joined letters of a query that is nothing but pinyin (`jiangjinjiu`, `jing ye si`):
/// every clause positive, in the title or creator scope or none, and made of syllables.
/// `None` for anything else (initials included: `jys` reads too many ways).
pub(crate) fn pinyin_of_query(text: &str) -> Option<String> {
    let clauses = lex(text);
    let mut joined = String::new();
    for clause in &clauses {
        if clause.negated || !matches!(clause.scope, Scope::Any | Scope::Title | Scope::Creator) {
            return None;
        }
        let reading = PinyinReading::of(clause.text)?;
        if reading.syllables.is_empty() {
            return None;
        }
        joined.push_str(&reading.joined);
    }
    (!joined.is_empty() && joined.len() <= pinyin::MAX_PINYIN_LETTERS).then_some(joined)
}

/// Builds the queries for `text`, and for a pinyin query also the queries for the titles and
/// names it reads as (`readings`: `jiangjinjiu` → `將進酒`, see [`pinyin_of_query`]), so that a pinyin query ranks as the same query typed in characters
/// (the exact title, the phrase in the text, the creator's boosts) before the other records
/// its pinyin finds.
pub(crate) fn plan(
    fields: &Fields,
    analyzer: &ChineseAnalyzer,
    text: &str,
    readings: &[String],
) -> Result<QueryPlan> {
    let mut plan = plan_text(fields, analyzer, text)?;
    if plan.browse || readings.is_empty() {
        return Ok(plan);
    }
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(readings.len() + 1);
    for reading in readings.iter().take(MAX_PINYIN_READINGS) {
        let typed = plan_text(fields, analyzer, reading)?;
        if typed.browse {
            continue;
        }
        any.push((Occur::Should, typed.query));
        plan.words.extend(typed.words);
    }
    if any.is_empty() {
        return Ok(plan);
    }
    any.push((Occur::Should, plan.query));
    plan.query = Box::new(BooleanQuery::new(any));
    plan.words.sort_unstable();
    plan.words.dedup();
    Ok(plan)
}

/// The inverse document frequency of a term, as BM25 computes it (the loose query of a near
/// miss scores pairs by it).
pub(crate) type Idf<'a> = dyn Fn(&Term) -> f32 + 'a;

/// The looser query of a near miss (see [`QueryPlan::loose`]), kept in parts: its pairs are
/// weighed by their document frequencies, looked up only when a search is a near miss.
pub(crate) struct Loose {
    parts: Vec<LoosePart>,
    /// The whole-query boosts (should) and the exclusions (must not).
    others: Vec<(Occur, Box<dyn Query>)>,
}

/// A clause of the looser query.
enum LoosePart {
    /// A clause's groups, as in the query.
    Query(Box<dyn Query>),
    /// The pairs of adjacent characters of a Chinese clause in its scope.
    Pairs(Scope, Vec<String>),
}

impl Loose {
    /// The looser query: any part matches.
    pub(crate) fn query(&self, fields: &Fields, idf: &Idf<'_>) -> Box<dyn Query> {
        let parts: Vec<(Occur, Box<dyn Query>)> = self
            .parts
            .iter()
            .map(|part| match part {
                LoosePart::Query(q) => q.box_clone(),
                LoosePart::Pairs(scope, pairs) => pairs_query(fields, *scope, pairs, idf),
            })
            .map(|q| (Occur::Should, q))
            .chain(self.others.iter().map(|(o, q)| (*o, q.box_clone())))
            .collect();
        Box::new(BooleanQuery::new(parts))
    }
}

/// Builds the queries for `text`.
fn plan_text(fields: &Fields, analyzer: &ChineseAnalyzer, text: &str) -> Result<QueryPlan> {
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::QueryTooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
    let mut budget = Budget {
        tokens: MAX_QUERY_TOKENS,
        synonyms: MAX_EXPANSIONS,
        names: MAX_NAME_EXPANSIONS,
        fuzzy: MAX_FUZZY_WORDS,
    };
    let mut positive: Vec<Box<dyn Query>> = Vec::new();
    let mut negative: Vec<Box<dyn Query>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    // The positive free text (scope any or title), for the whole-query boosts.
    let mut whole_text: Vec<&str> = Vec::new();
    let mut latin_clauses: Vec<&str> = Vec::new();
    // Exact-creator keys (and their boosts) of the alternate names in the query and of the
    // other names of their people.
    let mut name_keys: Vec<(String, f32)> = Vec::new();
    let mut near = NearQuery::default();
    let mut together: Vec<Box<dyn Query>> = Vec::new();
    // The looser query's parts: a clause's character pairs, or its groups when it has none.
    let mut loose_parts: Vec<LoosePart> = Vec::new();

    for clause in lex(text) {
        let groups = clause_groups(analyzer, &clause, &mut budget);
        let mut pairs: Vec<String> = Vec::new();
        if groups.is_empty() {
            continue;
        }
        if !clause.negated {
            for group in &groups {
                collect_words(group, &mut words);
                if let Group::Word(word) = group
                    && word.alternate_name
                {
                    let own = std::iter::once((&word.surface, EXACT_CREATOR_BOOST));
                    let others = word.names.iter().map(|n| (n, EXACT_CREATOR_BOOST * NAME_FACTOR));
                    for (name, boost) in own.chain(others) {
                        let key = text_key(name);
                        if !key.is_empty() && !name_keys.iter().any(|(k, _)| *k == key) {
                            name_keys.push((key, boost));
                        }
                    }
                }
            }
            if matches!(clause.scope, Scope::Any | Scope::Title | Scope::Creator)
                && !groups
                    .iter()
                    .any(|g| matches!(g, Group::Isbn(_) | Group::Code(..)))
            {
                for (piece, words, names) in near_pieces(clause.text, &groups) {
                    near.add_clause(piece, names);
                    pairs.extend(adjacent_pairs(piece));
                    if words > 1
                        && let Some(q) = together_query(fields, clause.scope, piece)
                    {
                        together.push(q);
                    }
                }
            }
            if matches!(clause.scope, Scope::Any | Scope::Title)
                && !groups
                    .iter()
                    .any(|g| matches!(g, Group::Isbn(_) | Group::Code(..)))
            {
                whole_text.push(clause.text);
                if PinyinReading::of(clause.text).is_some() {
                    latin_clauses.push(clause.text);
                }
            }
        }
        let queries: Vec<Box<dyn Query>> = groups
            .iter()
            .map(|g| group_query(fields, clause.scope, g))
            .collect();
        if clause.negated {
            // A negative clause excludes what matches it as a whole.
            negative.push(all_of(queries));
        } else {
            if pairs.is_empty() {
                loose_parts.extend(queries.iter().map(|q| LoosePart::Query(q.box_clone())));
            } else {
                loose_parts.push(LoosePart::Pairs(clause.scope, pairs));
            }
            positive.extend(queries);
        }
    }

    words.sort_unstable();
    words.dedup();
    let exclusions = || negative.iter().map(|q| (Occur::MustNot, q.box_clone()));
    if positive.is_empty() {
        let query: Box<dyn Query> = if negative.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(
                std::iter::once((Occur::Must, Box::new(AllQuery) as Box<dyn Query>))
                    .chain(exclusions())
                    .collect(),
            ))
        };
        return Ok(QueryPlan {
            query,
            fallback: None,
            browse: true,
            words,
            near,
            loose: None,
            together: None,
        });
    }

    let mut boosts = whole_query_boosts(fields, analyzer, &whole_text.join(" "), &latin_clauses);
    // An alternate name in the query (alone or beside title words: `苏东坡 念奴娇`) lifts the
    // works whose whole creator is that name, or nearly as much, another name of the person.
    boosts.extend(
        name_keys
            .iter()
            .map(|(key, boost)| boosted(term(fields.creator_exact, key), *boost)),
    );
    let any = |parts: &[Box<dyn Query>]| -> Box<dyn Query> {
        let any: Vec<(Occur, Box<dyn Query>)> = parts
            .iter()
            .chain(&boosts)
            .map(|q| (Occur::Should, q.box_clone()))
            .chain(exclusions())
            .collect();
        Box::new(BooleanQuery::new(any))
    };
    let fallback = (positive.len() > 1).then(|| any(&positive));
    let loose = (positive.len() > 1 && !near.is_empty()).then(|| Loose {
        parts: loose_parts,
        others: boosts
            .iter()
            .map(|q| (Occur::Should, q.box_clone()))
            .chain(exclusions())
            .collect(),
    });
    let all = positive
        .into_iter()
        .map(|q| (Occur::Must, q))
        .chain(boosts.into_iter().map(|q| (Occur::Should, q)))
        .chain(exclusions())
        .collect();
    Ok(QueryPlan {
        query: Box::new(BooleanQuery::new(all)),
        fallback,
        browse: false,
        words,
        near,
        loose,
        together: (!together.is_empty()).then(|| all_of(together)),
    })
}

/// The pieces of a clause that a record should have together, with their number of words
/// and, for a person's name, the person's other names: the clause itself, except that a
/// name stands apart (`念奴娇苏东坡` is the title `念奴娇` and the creator `苏东坡`, which no
/// record has side by side).
fn near_pieces<'a>(text: &'a str, groups: &'a [Group]) -> Vec<(&'a str, usize, &'a [String])> {
    let words: Option<Vec<&QueryWord>> = groups
        .iter()
        .map(|g| match g {
            Group::Word(word) => Some(word),
            _ => None,
        })
        .collect();
    let Some(words) = words.filter(|w| w.iter().any(|w| !w.names.is_empty())) else {
        return vec![(text, groups.len(), &[])];
    };
    let mut pieces = Vec::new();
    // The current run of words that are not names: (start byte, end byte, words).
    let mut run: Option<(usize, usize, usize)> = None;
    for word in words {
        let range = word.token.original_range.clone();
        if word.names.is_empty() {
            run = Some(match run {
                Some((start, _, n)) => (start, range.end, n + 1),
                None => (range.start, range.end, 1),
            });
            continue;
        }
        if let Some((start, end, n)) = run.take()
            && let Some(piece) = text.get(start..end)
        {
            pieces.push((piece, n, &[][..]));
        }
        if let Some(name) = text.get(range) {
            pieces.push((name, 1, word.names.as_slice()));
        }
    }
    if let Some((start, end, n)) = run
        && let Some(piece) = text.get(start..end)
    {
        pieces.push((piece, n, &[][..]));
    }
    pieces
}

/// A clause's Chinese characters together (punctuation and spaces ignored) in one field of
/// the scope: the phrase of the pairs that tile them. `None` for a clause with other
/// characters.
fn together_query(fields: &Fields, scope: Scope, text: &str) -> Option<Box<dyn Query>> {
    let chars: String = normalize(text)
        .text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let parts = ChineseAnalyzer::word_parts(&chars);
    let parts: Vec<(usize, &str)> = parts.iter().map(|(o, t)| (*o, t.as_str())).collect();
    let per_field: Vec<Box<dyn Query>> = text_fields(fields, scope)
        .into_iter()
        .filter_map(|f| match parts.as_slice() {
            [(_, pair)] => Some(term(f.field, pair)),
            _ => phrase(f.field, &parts),
        })
        .collect();
    (!per_field.is_empty()).then(|| Box::new(DisjunctionMaxQuery::new(per_field)) as Box<dyn Query>)
}

/// Each pair of adjacent characters in the text fields of the clause's scope, scoring its
/// inverse document frequency once, whatever the field, the field's length or how often it
/// occurs there: a record with more of the clause's pairs (and rarer ones) comes first among
/// the loose matches, whatever the words they belong to (`举头望明月` finds `舉頭望山月` by
/// `举头` and `头望`). The fit weighs the fields afterwards: short titles with three common
/// pairs must not crowd out of the candidates the poem with five of them in a line.
///
/// Two of the pairs must match when there are three or more: a record sharing one pair with
/// a line of ten characters is no near miss, and leaving such records out keeps the looser
/// query's counting and facets from visiting most of the corpus.
fn pairs_query(fields: &Fields, scope: Scope, pairs: &[String], idf: &Idf<'_>) -> Box<dyn Query> {
    let mut queries = Vec::with_capacity(pairs.len());
    for pair in pairs.iter().take(MAX_QUERY_TOKENS) {
        let per_field = text_fields(fields, scope)
            .iter()
            .map(|f| {
                let term = Term::from_field_text(f.field, pair);
                let score = idf(&term);
                let query = TermQuery::new(term, IndexRecordOption::Basic);
                Box::new(ConstScoreQuery::new(Box::new(query), score)) as Box<dyn Query>
            })
            .collect();
        queries.push((
            Occur::Should,
            Box::new(DisjunctionMaxQuery::new(per_field)) as Box<dyn Query>,
        ));
    }
    let required = if queries.len() >= 3 { 2 } else { 1 };
    Box::new(BooleanQuery::with_minimum_required_clauses(queries, required))
}

fn collect_words(group: &Group, words: &mut Vec<String>) {
    let mut add = |w: &QueryWord| {
        words.push(w.surface.clone());
        words.extend(w.synonyms.iter().cloned());
        words.extend(w.names.iter().cloned());
        words.extend(w.sub_words.iter().cloned());
    };
    match group {
        Group::Word(w) => add(w),
        Group::Phrase(ws) | Group::Latin(ws, _) => ws.iter().for_each(add),
        Group::Code(_, ws) => ws.iter().for_each(add),
        Group::Isbn(_) => {}
    }
}

/// One query for several: all must match.
fn all_of(mut queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.len() == 1 {
        return queries.remove(0);
    }
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Must, q)).collect(),
    ))
}

/// The matching units of one clause.
fn clause_groups(analyzer: &ChineseAnalyzer, clause: &Clause<'_>, budget: &mut Budget) -> Vec<Group> {
    if budget.tokens == 0 {
        return Vec::new();
    }
    if !clause.phrase
        && matches!(clause.scope, Scope::Any | Scope::Isbn)
        && let Some(isbn) = isbn13(clause.text)
    {
        budget.tokens -= 1;
        return vec![Group::Isbn(isbn)];
    }
    let keyword = normalize_keyword(clause.text);
    let code =
        !clause.phrase && matches!(clause.scope, Scope::Any | Scope::Subject) && looks_like_code(&keyword);
    let mut tokens = analyzer.query_tokens(clause.text);
    tokens.truncate(budget.tokens);
    budget.tokens -= tokens.len();
    let reading = PinyinReading::of(clause.text);
    let mut words: Vec<QueryWord> = tokens
        .into_iter()
        .map(|token| {
            let surface = clause
                .text
                .get(token.original_range.clone())
                .map(|s| normalize(s).text)
                .unwrap_or_else(|| token.text.clone());
            let synonyms: Vec<String> = if budget.synonyms > 0 {
                analyzer
                    .synonyms(&surface)
                    .map(|all| {
                        let take = MAX_SYNONYMS_PER_WORD.min(budget.synonyms);
                        all.iter().take(take).cloned().collect()
                    })
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            budget.synonyms -= synonyms.len();
            let names: Vec<String> =
                if budget.names > 0 && matches!(clause.scope, Scope::Any | Scope::Creator) {
                    analyzer
                        .names(&surface)
                        .map(|all| {
                            let take = MAX_NAMES_PER_WORD.min(budget.names);
                            all.iter().take(take).cloned().collect()
                        })
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
            budget.names -= names.len();
            let alternate_name = !names.is_empty() && !analyzer.is_preferred_name(&surface);
            // Pinyin is matched as pinyin, and a word without a vowel is initials or an
            // abbreviation: neither is an English word with a typo.
            let fuzzy = budget.fuzzy > 0
                && token.text.len() >= FUZZY_MIN_LETTERS
                && token.text.bytes().all(|b| b.is_ascii_lowercase())
                && token.text.bytes().any(|b| b"aeiouy".contains(&b))
                && reading.as_ref().is_none_or(|r| r.syllables.is_empty());
            if fuzzy {
                budget.fuzzy -= 1;
            }
            QueryWord {
                parts: ChineseAnalyzer::word_parts(&token.text),
                sub_words: analyzer.sub_words(&token.text),
                token,
                surface,
                synonyms,
                names,
                alternate_name,
                pinyin: None,
                fuzzy,
            }
        })
        .collect();
    if code {
        return vec![Group::Code(keyword, words)];
    }
    if words.is_empty() {
        return Vec::new();
    }
    if clause.phrase && words.len() > 1 {
        return vec![Group::Phrase(words)];
    }
    match reading {
        Some(reading) if words.len() == 1 => {
            if let Some(word) = words.first_mut() {
                word.pinyin = Some(reading);
            }
            words.into_iter().map(Group::Word).collect()
        }
        Some(reading) => vec![Group::Latin(words, reading)],
        None => words.into_iter().map(Group::Word).collect(),
    }
}

/// The full-text fields of a scope, with their weights.
fn text_fields(fields: &Fields, scope: Scope) -> Vec<TextField> {
    let pick = |wanted: &[Field]| -> Vec<TextField> {
        fields
            .text
            .iter()
            .filter(|t| wanted.contains(&t.field))
            .copied()
            .collect()
    };
    match scope {
        Scope::Any => fields.text.clone(),
        Scope::Title => pick(&[fields.title, fields.alternative_titles]),
        Scope::Creator => pick(&[fields.creators, fields.contributors]),
        Scope::Subject => pick(&[fields.subjects, fields.classifications]),
        Scope::Isbn => Vec::new(),
    }
}

/// The pinyin fields of a scope: (syllables, initials, weight).
fn pinyin_fields(fields: &Fields, scope: Scope) -> Vec<(Field, Field, f32)> {
    let title = (fields.title_pinyin, fields.title_initials, TITLE_PINYIN_BOOST);
    let creator = (
        fields.creators_pinyin,
        fields.creators_initials,
        CREATOR_PINYIN_BOOST,
    );
    match scope {
        Scope::Any => vec![title, creator],
        Scope::Title => vec![title],
        Scope::Creator => vec![creator],
        Scope::Subject | Scope::Isbn => Vec::new(),
    }
}

/// A phrase of `(character offset, term)` in `field`; `None` for fewer than two terms.
fn phrase(field: Field, terms: &[(usize, &str)]) -> Option<Box<dyn Query>> {
    if terms.len() < 2 {
        return None;
    }
    let base = terms.iter().map(|(offset, _)| *offset).min().unwrap_or(0);
    let terms = terms
        .iter()
        .map(|(offset, text)| (offset - base, Term::from_field_text(field, text)))
        .collect();
    Some(Box::new(PhraseQuery::new_with_offset(terms)))
}

/// A term, or the phrase of consecutive terms.
fn term_or_phrase(field: Field, terms: &[&str]) -> Option<Box<dyn Query>> {
    match terms {
        [] => None,
        [one] => Some(term(field, one)),
        many => {
            let offsets: Vec<(usize, &str)> = many.iter().copied().enumerate().collect();
            phrase(field, &offsets)
        }
    }
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

/// The pinyin alternatives of a Latin clause in the scope's pinyin fields.
fn pinyin_queries(
    fields: &Fields,
    scope: Scope,
    reading: &PinyinReading,
    weight: f32,
) -> Vec<Box<dyn Query>> {
    let mut out = Vec::new();
    for (syllables_field, initials_field, boost) in pinyin_fields(fields, scope) {
        let boost = boost * weight;
        for syllables in &reading.syllables {
            let terms: Vec<&str> = syllables.iter().map(String::as_str).collect();
            if let Some(q) = term_or_phrase(syllables_field, &terms) {
                out.push(boosted(q, boost));
            }
        }
        if reading.syllables.first().is_some_and(|s| s.len() > 1) {
            out.push(boosted(
                term(syllables_field, &reading.joined),
                boost * PINYIN_WHOLE_VALUE_FACTOR,
            ));
        }
        if reading.initials() {
            // Initials are indexed as grams of up to MAX_INITIALS_GRAM letters at the offset
            // of their first character: a longer run is the phrase of grams that tile it
            // (at 0, 4, 8, …, and the last one flush with its end), so a run of any length
            // matches exactly the characters whose initials spell it.
            let initials = boost * INITIALS_FACTOR;
            let q = initials_query(initials_field, &reading.joined);
            out.push(boosted(q, initials));
            out.push(boosted(
                term(initials_field, &reading.joined),
                initials * PINYIN_WHOLE_VALUE_FACTOR,
            ));
        }
    }
    out
}

/// The query for a run of initials in an initials field: the gram itself, or the phrase of
/// the [`pinyin::MAX_INITIALS_GRAM`]-letter grams that tile it.
fn initials_query(field: Field, letters: &str) -> Box<dyn Query> {
    let gram = pinyin::MAX_INITIALS_GRAM;
    if letters.len() <= gram || !letters.is_ascii() {
        return term(field, letters);
    }
    let last = letters.len() - gram;
    let mut grams: Vec<(usize, &str)> = (0..last)
        .step_by(gram)
        .map(|start| (start, &letters[start..start + gram]))
        .collect();
    grams.push((last, &letters[last..]));
    phrase(field, &grams).unwrap_or_else(|| term(field, letters))
}

/// A word other than the one typed (a synonym, a shorter word) in `field`, matched like a
/// typed word: whole, or (at [`PARTS_FACTOR`]) as the phrase of the character pairs that tile
/// it ([`ChineseAnalyzer::word_parts`]), so that it matches however documents were cut.
fn other_word_query(field: Field, word: &str) -> Box<dyn Query> {
    let parts = ChineseAnalyzer::word_parts(word);
    let parts: Vec<(usize, &str)> = parts.iter().map(|(o, t)| (*o, t.as_str())).collect();
    match phrase(field, &parts) {
        Some(by_parts) => Box::new(DisjunctionMaxQuery::new(vec![
            term(field, word),
            boosted(by_parts, PARTS_FACTOR),
        ])),
        None => term(field, word),
    }
}

/// The alternatives of one word in the scope's fields.
fn word_disjuncts(fields: &Fields, scope: Scope, word: &QueryWord, out: &mut Vec<Box<dyn Query>>) {
    let parts: Vec<(usize, &str)> = word.parts.iter().map(|(o, t)| (*o, t.as_str())).collect();
    for text_field in text_fields(fields, scope) {
        out.push(boosted(
            term(text_field.field, &word.token.text),
            text_field.boost,
        ));
        if let Some(by_parts) = phrase(text_field.field, &parts) {
            out.push(boosted(by_parts, text_field.boost * PARTS_FACTOR));
        }
        for synonym in &word.synonyms {
            out.push(boosted(
                other_word_query(text_field.field, synonym),
                text_field.boost * SYNONYM_FACTOR,
            ));
        }
        // Another name is matched like the typed word (whole, or as its characters at a lower
        // weight), and only the best of them counts, so that the name typed, written as such,
        // keeps the first place over a creator who matches several of the other names.
        if !word.names.is_empty()
            && (text_field.field == fields.creators || text_field.field == fields.contributors)
        {
            let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
            for name in &word.names {
                alternatives.push(term(text_field.field, name));
                let parts = ChineseAnalyzer::word_parts(name);
                let parts: Vec<(usize, &str)> = parts.iter().map(|(o, t)| (*o, t.as_str())).collect();
                if let Some(by_parts) = phrase(text_field.field, &parts) {
                    alternatives.push(boosted(by_parts, PARTS_FACTOR));
                }
            }
            out.push(boosted(
                Box::new(DisjunctionMaxQuery::new(alternatives)),
                text_field.boost * NAME_FACTOR,
            ));
        }
        if word.fuzzy && (text_field.field == fields.title || text_field.field == fields.creators) {
            let typo = TypoQuery::new(text_field.field, &word.token.text);
            out.push(boosted(Box::new(typo), text_field.boost * FUZZY_FACTOR));
        }
    }
    if word.sub_words.len() > 1 {
        // Every shorter word somewhere in the scope, each as itself or as its characters.
        let all: Vec<Box<dyn Query>> = word
            .sub_words
            .iter()
            .map(|piece| {
                let alternatives: Vec<Box<dyn Query>> = text_fields(fields, scope)
                    .into_iter()
                    .map(|text_field| boosted(other_word_query(text_field.field, piece), text_field.boost))
                    .collect();
                Box::new(DisjunctionMaxQuery::with_tie_breaker(alternatives, TIE_BREAKER)) as Box<dyn Query>
            })
            .collect();
        out.push(boosted(all_of(all), SUB_WORDS_FACTOR));
    }
    if let Some(reading) = &word.pinyin {
        out.extend(pinyin_queries(fields, scope, reading, 1.0));
    }
}

fn group_query(fields: &Fields, scope: Scope, group: &Group) -> Box<dyn Query> {
    let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
    match group {
        Group::Word(word) => word_disjuncts(fields, scope, word, &mut disjuncts),
        Group::Latin(words, reading) => {
            let all: Vec<Box<dyn Query>> = words
                .iter()
                .map(|w| {
                    let mut alternatives = Vec::new();
                    word_disjuncts(fields, scope, w, &mut alternatives);
                    Box::new(DisjunctionMaxQuery::with_tie_breaker(alternatives, TIE_BREAKER))
                        as Box<dyn Query>
                })
                .collect();
            disjuncts.push(all_of(all));
            disjuncts.extend(pinyin_queries(fields, scope, reading, 1.0));
        }
        Group::Isbn(isbn) => disjuncts.push(boosted(term(fields.isbns, isbn), ISBN_BOOST)),
        Group::Code(code, words) => {
            disjuncts.push(boosted(term(fields.class_codes, code), CODE_BOOST));
            // The code may also be written in a text field (a title, a description).
            if !words.is_empty() {
                let all: Vec<Box<dyn Query>> = words
                    .iter()
                    .map(|w| {
                        let mut alternatives = Vec::new();
                        word_disjuncts(fields, scope, w, &mut alternatives);
                        Box::new(DisjunctionMaxQuery::with_tie_breaker(alternatives, TIE_BREAKER))
                            as Box<dyn Query>
                    })
                    .collect();
                disjuncts.push(all_of(all));
            }
        }
        Group::Phrase(words) => {
            let whole: Vec<(usize, &str)> = words
                .iter()
                .map(|w| (w.token.position, w.token.text.as_str()))
                .collect();
            // The same phrase with every word replaced by its parts, for documents that cut
            // the same characters differently.
            let fine: Vec<(usize, &str)> = words
                .iter()
                .flat_map(|w| {
                    if w.parts.is_empty() {
                        vec![(w.token.position, w.token.text.as_str())]
                    } else {
                        w.parts
                            .iter()
                            .map(|(o, t)| (w.token.position + o, t.as_str()))
                            .collect()
                    }
                })
                .collect();
            for text_field in text_fields(fields, scope) {
                if let Some(exact) = phrase(text_field.field, &whole) {
                    disjuncts.push(boosted(exact, text_field.boost));
                }
                if fine != whole
                    && let Some(by_parts) = phrase(text_field.field, &fine)
                {
                    disjuncts.push(boosted(by_parts, text_field.boost * PARTS_FACTOR));
                }
            }
        }
    }
    Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, TIE_BREAKER))
}

/// Boosts for the whole positive text: the exact title, the title and description phrases,
/// and the whole Latin text as one pinyin reading (`jing ye si`).
fn whole_query_boosts(
    fields: &Fields,
    analyzer: &ChineseAnalyzer,
    text: &str,
    latin_clauses: &[&str],
) -> Vec<Box<dyn Query>> {
    let mut boosts: Vec<Box<dyn Query>> = Vec::new();
    let key = text_key(text);
    if !key.is_empty() {
        boosts.push(boosted(term(fields.title_exact, &key), EXACT_TITLE_BOOST));
        boosts.push(boosted(term(fields.creator_exact, &key), EXACT_CREATOR_BOOST));
    }
    let whole: Vec<AnalyzedToken> = analyzer
        .query_tokens(text)
        .into_iter()
        .take(MAX_QUERY_TOKENS)
        .collect();
    if whole.len() > 1 {
        let offsets: Vec<(usize, &str)> = whole.iter().map(|t| (t.position, t.text.as_str())).collect();
        for (field, boost) in [
            (fields.title, TITLE_PHRASE_BOOST),
            (fields.description, DESCRIPTION_PHRASE_BOOST),
        ] {
            if let Some(phrase) = phrase(field, &offsets) {
                boosts.push(boosted(phrase, boost));
            }
        }
    }
    if latin_clauses.len() > 1
        && let Some(reading) = PinyinReading::of(&latin_clauses.concat())
    {
        boosts.extend(pinyin_queries(
            fields,
            Scope::Any,
            &reading,
            TITLE_PHRASE_BOOST / 2.0,
        ));
    }
    boosts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::build_schema;

    fn plan_for(text: &str) -> Result<QueryPlan> {
        let (_, fields) = build_schema();
        plan(&fields, &ChineseAnalyzer::shared(), text, &[])
    }

    fn clause(negated: bool, scope: Scope, phrase: bool, text: &str) -> Clause<'_> {
        Clause {
            negated,
            scope,
            phrase,
            text,
        }
    }

    #[test]
    fn quotes_split_phrases_and_unmatched_quotes_are_ignored() {
        assert_eq!(
            lex("李白 \"床前明月光\""),
            [
                clause(false, Scope::Any, false, "李白"),
                clause(false, Scope::Any, true, "床前明月光")
            ]
        );
        assert_eq!(
            lex("“静夜思”李白"),
            [
                clause(false, Scope::Any, true, "静夜思"),
                clause(false, Scope::Any, false, "李白")
            ]
        );
        assert_eq!(
            lex("a \"b"),
            [
                clause(false, Scope::Any, false, "a"),
                clause(false, Scope::Any, false, "b")
            ]
        );
        assert_eq!(
            lex("\"a\" \"b"),
            [
                clause(false, Scope::Any, true, "a"),
                clause(false, Scope::Any, false, "b")
            ]
        );
        assert_eq!(lex("\"\"\""), Vec::<Clause<'_>>::new());
    }

    #[test]
    fn exclusions_and_field_prefixes() {
        assert_eq!(
            lex("title:静夜思 -李白 creator：杜甫 -\"明月\" isbn:7101003044 foo:bar - x"),
            [
                clause(false, Scope::Title, false, "静夜思"),
                clause(true, Scope::Any, false, "李白"),
                clause(false, Scope::Creator, false, "杜甫"),
                clause(true, Scope::Any, true, "明月"),
                clause(false, Scope::Isbn, false, "7101003044"),
                clause(false, Scope::Any, false, "foo:bar"),
                clause(false, Scope::Any, false, "-"),
                clause(false, Scope::Any, false, "x"),
            ]
        );
        // A prefix with nothing after it is text; so is a hyphen inside a word.
        assert_eq!(
            lex("title: 978-7"),
            [
                clause(false, Scope::Any, false, "title:"),
                clause(false, Scope::Any, false, "978-7"),
            ]
        );
    }

    #[test]
    fn the_lexer_survives_any_mix_of_syntax() {
        let pieces = [
            "\"", "“", "-", "－", "title:", "isbn：", " ", "李", "a", ":", "”", "\u{3000}",
        ];
        // Every sequence of up to four pieces.
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for text in &texts {
                for piece in pieces {
                    next.push(format!("{text}{piece}"));
                }
            }
            texts.extend(next);
            texts.dedup();
        }
        for text in texts {
            let clauses = lex(&text);
            assert!(clauses.len() <= text.chars().count(), "{text:?}");
            assert!(plan_for(&text).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn only_exclusions_browse_what_is_left() -> Result<()> {
        let plan = plan_for("-李白")?;
        assert!(plan.browse);
        let plan = plan_for("李白 -静夜思")?;
        assert!(!plan.browse);
        Ok(())
    }

    #[test]
    fn empty_or_punctuation_only_queries_browse() {
        for text in [
            "",
            "   ",
            "，。！",
            "😀😀",
            "\u{0}\u{1b}[31m",
            "\"\"",
            "title:",
            "-",
            "--x",
        ] {
            let plan = plan_for(text).unwrap();
            assert!(plan.browse || plan.fallback.is_none(), "{text:?}");
        }
        assert!(plan_for("，。！").unwrap().browse);
    }

    #[test]
    fn over_long_queries_are_refused() {
        let text = "兰".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(
            plan_for(&text),
            Err(Error::QueryTooLong { chars: 257, max: 256 })
        ));
        assert!(plan_for(&"兰".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn several_tokens_get_a_fallback_one_does_not() {
        let one = plan_for("李白").unwrap();
        assert!(!one.browse && one.fallback.is_none());
        let two = plan_for("李白 杜甫").unwrap();
        assert!(two.fallback.is_some());
        // A quoted phrase is one unit.
        assert!(plan_for("\"床前明月光\"").unwrap().fallback.is_none());
    }

    #[test]
    fn the_number_of_terms_is_bounded() {
        // The worst cases the syntax allows: many words, many Latin words (pinyin, initials,
        // fuzzy), many synonyms, many exclusions.
        let cases = [
            "李白".repeat(100),
            "jingyesi ".repeat(28),
            "carvings jys ".repeat(19),
            "铜奔马 金城 ".repeat(36),
            "苏东坡 李太白 杜子美 ".repeat(28),
            "-李白 -\"明月\" ".repeat(20),
        ];
        for text in cases {
            let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
            let plan = plan_for(&text).unwrap();
            let mut terms = 0;
            plan.query.query_terms(&mut |_, _| terms += 1);
            assert!(terms < 4_000, "{terms} terms for {text}");
        }
    }

    #[test]
    fn names_expand_to_the_other_names_within_their_caps() -> Result<()> {
        let plan = plan_for("苏东坡")?;
        assert!(plan.words.contains(&"苏轼".to_string()), "{:?}", plan.words);
        // A title restriction never reaches the creators, so names are not expanded.
        let plan = plan_for("title:苏东坡")?;
        assert!(!plan.words.contains(&"苏轼".to_string()), "{:?}", plan.words);
        let plan = plan_for("苏东坡 李太白 杜子美 白乐天 王摩诘")?;
        let (_, fields) = build_schema();
        let mut exact = 0;
        plan.query.query_terms(&mut |term, _| {
            if term.field() == fields.creator_exact {
                exact += 1;
            }
        });
        // The whole query's key, the five names typed and at most MAX_NAME_EXPANSIONS others.
        assert!(exact <= 1 + 5 + MAX_NAME_EXPANSIONS, "{exact}");
        assert!(exact > 1 + MAX_NAMES_PER_WORD, "{exact}");
        Ok(())
    }

    #[test]
    fn long_initials_are_tiled_by_grams() {
        let (_, fields) = build_schema();
        let mut terms = Vec::new();
        initials_query(fields.title_initials, "jnmgqtqtsabcdefghijk").query_terms(&mut |term, _| {
            terms.push(term.value().as_str().unwrap_or_default().to_string());
        });
        terms.sort();
        // Grams at 0, 4, 8 and 12, and the last one flush with the end (16).
        assert_eq!(terms, ["defg", "hijk", "jnmg", "qtqt", "sabc"]);
        let mut terms = Vec::new();
        initials_query(fields.title_initials, "jnmgq").query_terms(&mut |term, _| {
            terms.push(term.value().as_str().unwrap_or_default().to_string());
        });
        terms.sort();
        assert_eq!(terms, ["jnmg", "nmgq"]);
    }

    #[test]
    fn only_queries_of_pinyin_syllables_have_a_reading() {
        assert_eq!(pinyin_of_query("jiangjinjiu").as_deref(), Some("jiangjinjiu"));
        assert_eq!(pinyin_of_query("jing ye si").as_deref(), Some("jingyesi"));
        assert_eq!(pinyin_of_query("title:Jing'Ye'Si").as_deref(), Some("jingyesi"));
        for text in [
            "jys",
            "李白 jingyesi",
            "-jingyesi",
            "jingyesi carvings",
            "",
            "isbn:jing",
        ] {
            assert_eq!(pinyin_of_query(text), None, "{text}");
        }
    }

    #[test]
    fn latin_clauses_read_as_pinyin_or_initials() {
        let reading = PinyinReading::of("jingyesi").unwrap();
        assert_eq!(
            reading.syllables.first().map(|s| s.join(" ")).as_deref(),
            Some("jing ye si")
        );
        assert!(!reading.initials());
        let reading = PinyinReading::of("JYS").unwrap();
        assert!(reading.syllables.is_empty() && reading.initials());
        assert!(PinyinReading::of("李白").is_none());
        assert!(PinyinReading::of("i247").is_none());
    }
}
