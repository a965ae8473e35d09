//! From the text a citizen typed to a tantivy query. tantivy's `QueryParser` is not used: it
//! turns every multi-token term into a phrase, which for unsegmented Chinese means that most
//! queries become phrases and find nothing.
//!
//! The query language:
//! - the query is normalised and cut in jieba's precise mode (at most [`MAX_QUERY_TOKENS`]
//!   tokens are used); punctuation, whitespace and emoji only separate;
//! - **every token must match** in at least one full-text field; fields weigh title 4,
//!   alternative titles and creators 3, subjects 2, publisher and the other fields 1.5,
//!   description 1 (the best field counts, the others add a little);
//! - a multi-character Chinese token also matches as the phrase of its characters (documents
//!   index every CJK character), so `飞燕` is found inside `马踏飞燕` although jieba cut that
//!   `马踏飞` + `燕`; the whole word scores higher than its characters; and a token that is an ISBN (10 or 13 digits,
//!   hyphens allowed) matches the record's ISBNs;
//! - text between double quotes (`"…"` or `“…”`) must occur as a phrase; an unmatched quote is
//!   ignored;
//! - the whole query as a phrase in the title or the description adds to the score;
//! - if nothing matches and there are at least two tokens, the search is retried with *any*
//!   token matching (the caller runs [`QueryPlan::fallback`]).

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, DisjunctionMaxQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::analysis::{AnalyzedToken, ChineseAnalyzer};
use crate::error::{Error, Result};
use crate::schema::Fields;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 256;
/// Tokens of a query beyond this many are ignored.
pub const MAX_QUERY_TOKENS: usize = 32;

/// Weight of a word found only through its characters, relative to the word itself.
const PARTS_FACTOR: f32 = 0.5;
/// How much the other fields add to the best field's score for one token.
const TIE_BREAKER: f32 = 0.1;
/// Boost of the whole query found as a phrase in the title (×) and description.
const TITLE_PHRASE_BOOST: f32 = 8.0;
const DESCRIPTION_PHRASE_BOOST: f32 = 1.0;
/// Weight of an exact ISBN match.
const ISBN_BOOST: f32 = 4.0;

/// The queries to run for one request.
pub(crate) struct QueryPlan {
    /// Every token (and quoted phrase) must match; everything when `browse`.
    pub(crate) query: Box<dyn Query>,
    /// At least one must match; run when `query` finds nothing.
    pub(crate) fallback: Option<Box<dyn Query>>,
    /// The query had no searchable token: list documents in browse order.
    pub(crate) browse: bool,
    /// The normalised query words, to highlight.
    pub(crate) words: Vec<String>,
}

/// A query token with the parts that cover it.
struct QueryWord {
    token: AnalyzedToken,
    parts: Vec<(usize, String)>,
}

/// A unit that must match: a word, or a quoted phrase of several words.
enum Group {
    Word(QueryWord),
    Phrase(Vec<QueryWord>),
}

/// Splits on double quotes: odd segments are phrases, unless the last quote is unmatched.
fn split_quotes(text: &str) -> Vec<(bool, &str)> {
    let is_quote = |c: char| matches!(c, '"' | '＂' | '“' | '”');
    let quotes = text.chars().filter(|&c| is_quote(c)).count();
    let mut segments = Vec::new();
    let mut in_phrase = false;
    let mut seen = 0;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if is_quote(c) {
            seen += 1;
            segments.push((in_phrase, &text[start..i]));
            start = i + c.len_utf8();
            // An unmatched last quote opens nothing.
            in_phrase = if quotes % 2 == 1 && seen == quotes {
                false
            } else {
                !in_phrase
            };
        }
    }
    segments.push((in_phrase, &text[start..]));
    segments.retain(|(_, s)| !s.trim().is_empty());
    segments
}

/// The ISBN-13 for an ISBN-10 or ISBN-13 (hyphens and spaces ignored), else `None`.
pub(crate) fn isbn13(value: &str) -> Option<String> {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if !compact.is_ascii() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match compact.len() {
        13 if all_digits(&compact) && (compact.starts_with("978") || compact.starts_with("979")) => {
            Some(compact)
        }
        10 if all_digits(&compact[..9]) && (all_digits(&compact[9..]) || &compact[9..] == "X") => {
            let body = format!("978{}", &compact[..9]);
            let sum: u32 = body
                .bytes()
                .enumerate()
                .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
                .sum();
            let check = (10 - sum % 10) % 10;
            Some(format!("{body}{check}"))
        }
        _ => None,
    }
}

/// Builds the queries for `text`.
pub(crate) fn plan(fields: &Fields, analyzer: &ChineseAnalyzer, text: &str) -> Result<QueryPlan> {
    let chars = text.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::QueryTooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
    let mut budget = MAX_QUERY_TOKENS;
    let mut groups = Vec::new();
    for (is_phrase, segment) in split_quotes(text) {
        let mut tokens = analyzer.query_tokens(segment);
        tokens.truncate(budget);
        budget -= tokens.len();
        let mut words = tokens.into_iter().map(|token| QueryWord {
            parts: ChineseAnalyzer::word_parts(&token.text),
            token,
        });
        if is_phrase && words.len() > 1 {
            groups.push(Group::Phrase(words.collect()));
        } else {
            groups.extend(words.by_ref().map(Group::Word));
        }
    }
    if groups.is_empty() {
        return Ok(QueryPlan {
            query: Box::new(AllQuery),
            fallback: None,
            browse: true,
            words: Vec::new(),
        });
    }

    let mut words: Vec<String> = groups
        .iter()
        .flat_map(|g| match g {
            Group::Word(w) => std::slice::from_ref(w),
            Group::Phrase(ws) => ws.as_slice(),
        })
        .map(|w| w.token.text.clone())
        .collect();
    words.sort_unstable();
    words.dedup();

    let mut boosts: Vec<Box<dyn Query>> = Vec::new();
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
                boosts.push(Box::new(BoostQuery::new(phrase, boost)));
            }
        }
    }

    let clauses: Vec<Box<dyn Query>> = groups.iter().map(|g| group_query(fields, g)).collect();
    let fallback = (clauses.len() > 1).then(|| {
        let any = clauses
            .iter()
            .chain(&boosts)
            .map(|q| (Occur::Should, q.box_clone()))
            .collect();
        Box::new(BooleanQuery::new(any)) as Box<dyn Query>
    });
    let all = clauses
        .into_iter()
        .map(|q| (Occur::Must, q))
        .chain(boosts.into_iter().map(|q| (Occur::Should, q)))
        .collect();
    Ok(QueryPlan {
        query: Box::new(BooleanQuery::new(all)),
        fallback,
        browse: false,
        words,
    })
}

/// A phrase of `(character offset, term)` in `field`; `None` for fewer than two terms.
fn phrase(field: tantivy::schema::Field, terms: &[(usize, &str)]) -> Option<Box<dyn Query>> {
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

fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn group_query(fields: &Fields, group: &Group) -> Box<dyn Query> {
    let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
    match group {
        Group::Word(word) => {
            let parts: Vec<(usize, &str)> = word.parts.iter().map(|(o, t)| (*o, t.as_str())).collect();
            for text_field in &fields.text {
                disjuncts.push(Box::new(BoostQuery::new(
                    term(text_field.field, &word.token.text),
                    text_field.boost,
                )));
                if let Some(by_parts) = phrase(text_field.field, &parts) {
                    disjuncts.push(Box::new(BoostQuery::new(
                        by_parts,
                        text_field.boost * PARTS_FACTOR,
                    )));
                }
            }
            if let Some(isbn) = isbn13(&word.token.text) {
                disjuncts.push(Box::new(BoostQuery::new(term(fields.isbns, &isbn), ISBN_BOOST)));
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
            for text_field in &fields.text {
                if let Some(exact) = phrase(text_field.field, &whole) {
                    disjuncts.push(Box::new(BoostQuery::new(exact, text_field.boost)));
                }
                if fine != whole
                    && let Some(by_parts) = phrase(text_field.field, &fine)
                {
                    disjuncts.push(Box::new(BoostQuery::new(
                        by_parts,
                        text_field.boost * PARTS_FACTOR,
                    )));
                }
            }
        }
    }
    Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, TIE_BREAKER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::build_schema;

    fn plan_for(text: &str) -> Result<QueryPlan> {
        let (_, fields) = build_schema();
        plan(&fields, &ChineseAnalyzer::shared(), text)
    }

    #[test]
    fn quotes_split_phrases_and_unmatched_quotes_are_ignored() {
        assert_eq!(
            split_quotes("李白 \"床前明月光\""),
            [(false, "李白 "), (true, "床前明月光")]
        );
        assert_eq!(split_quotes("“静夜思”李白"), [(true, "静夜思"), (false, "李白")]);
        assert_eq!(split_quotes("a \"b"), [(false, "a "), (false, "b")]);
        assert_eq!(split_quotes("\"a\" \"b"), [(true, "a"), (false, "b")]);
        assert_eq!(split_quotes("\"\"\""), Vec::<(bool, &str)>::new());
    }

    #[test]
    fn isbns_normalise_to_isbn13() {
        assert_eq!(isbn13("978-7-101-00304-8").as_deref(), Some("9787101003048"));
        assert_eq!(isbn13("7101003044").as_deref(), Some("9787101003048"));
        assert_eq!(isbn13("080442957X").as_deref(), Some("9780804429573"));
        assert_eq!(isbn13("12345"), None);
        assert_eq!(isbn13("１２３"), None);
    }

    #[test]
    fn empty_or_punctuation_only_queries_browse() {
        for text in ["", "   ", "，。！", "😀😀", "\u{0}\u{1b}[31m"] {
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
    fn the_number_of_tokens_is_bounded() {
        // 200 two-character words would make a huge query; only 32 are used.
        let text = "李白".repeat(100);
        let plan = plan_for(&text).unwrap();
        let mut terms = 0;
        plan.query.query_terms(&mut |_, _| terms += 1);
        assert!(terms < 2_000, "{terms}");
    }
}
