//! Near-miss ranking: how much of the query a record has *in order and close together*.
//!
//! Readers remember lines and titles slightly wrong: the school version of a line
//! (`床前明月光` for the older `牀前看月光`), one character off (`举头望明月` for
//! `舉頭望山月`), a word too many (`登黄鹤楼` for the title `黃鶴樓`). The query's words are then
//! not all in one record, or only scattered over a long one, and term statistics rank
//! thousands of loose matches above the poem the reader means.
//!
//! When that happens (see `search::run`: nothing has every word, or the best record does not
//! have a clause of several words together), the best [`NEAR_MISS_CANDIDATES`] of a looser
//! query are ranked again by their [`Fit`] to the query, computed here from their stored text:
//!
//! - each Chinese clause of the query (folded like the index: traditional to simplified,
//!   width, case; punctuation and spaces dropped) is aligned with each value of the record's
//!   text fields, and its best *chain* counts: characters of the clause found in the value in
//!   the same order, each within [`MAX_QUERY_SKIP`] skipped query characters and
//!   [`MAX_EXTRA_GAP`] extra value characters of the previous one (`床前明月光` has four in
//!   `牀前看月光`, `举头望明月` four in `舉頭望山月`, but only two in a poem with `舉頭` in one
//!   line and `明月` in another);
//! - a clause that names a person (the name authority) may be matched by any of their names;
//! - only stored values can be fitted: title, creators, subjects and description;
//! - [`Fit::weighted`] ranks: the characters matched, each counted at [`FIELD_BASE`] plus
//!   the weight of the field it was found in (a title beats a description, but the number
//!   of characters found counts more), and a little more in a value that is little else
//!   ([`SPECIFIC_BONUS`]: the title `黃鶴樓` over a sixty-character title that mentions it);
//!   then the looser query's score.
//!
//! The work is bounded: at most [`NEAR_MISS_CANDIDATES`] stored documents are read, each
//! value is cut at [`MAX_VALUE_CHARS`] characters, and a chain looks back over a few
//! characters only, so a fit costs time linear in the text.

use crate::analysis::is_cjk;
use crate::normalize::normalize;

/// Candidates of the looser query ranked by their fit: the first page and a few more.
pub(crate) const NEAR_MISS_CANDIDATES: usize = 30;
/// Characters of one field value compared with the query, at most.
const MAX_VALUE_CHARS: usize = 4_000;
/// Query characters a chain may skip between two matched characters (a changed character or
/// two).
const MAX_QUERY_SKIP: usize = 2;
/// Value characters a chain may skip between two matched characters beyond the query
/// characters skipped (an inserted character or two).
const MAX_EXTRA_GAP: usize = 2;

/// What a field's weight adds to each character found in it: a character found in the title
/// (weight 4) counts `(FIELD_BASE + 4) / (FIELD_BASE + 1)` = 1.33 times one found in the
/// description (weight 1). The characters found decide more than the field: five of a line
/// in a poem's text beat two of them in a title.
const FIELD_BASE: f32 = 8.0;
/// How much a match that is little else adds: a clause's characters count up to
/// `1 + SPECIFIC_BONUS` times, by the share of the clause found times the share of the
/// segments it lies in that it covers (a segment is the run between punctuation: a line of
/// a poem, a title without punctuation). `登黄鹤楼` in the title `黃鶴樓` counts 1.75 times,
/// in a sixty-character title barely more than once; `千山鸟飞尽` in the line `千山鳥飛絕`
/// counts 1.64 times, in a long title that quotes it 1.16 times.
const SPECIFIC_BONUS: f32 = 1.0;

/// How well one record fits the query (greater is better; compare with [`Fit::cmp_key`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Fit {
    /// Characters of the query's clauses matched in order, over all clauses.
    pub(crate) chars: u32,
    /// What ranks: for each clause, its characters found times [`FIELD_BASE`] plus the
    /// weight of the field they were found in, times the [`SPECIFIC_BONUS`] of the value,
    /// summed.
    pub(crate) weighted: f32,
    /// What matched, for each clause found: the run of the value it lies in (folded) and the
    /// field (`举头望山月 in description`).
    pub(crate) found: Vec<String>,
}

impl Fit {
    /// Orders fits by their weighted characters.
    pub(crate) fn cmp_key(&self, other: &Fit) -> std::cmp::Ordering {
        self.weighted.total_cmp(&other.weighted)
    }
}

/// One Chinese clause of the query: its folded characters, and those of the other names of
/// the person it names.
#[derive(Debug, Clone)]
struct Clause {
    variants: Vec<Vec<char>>,
}

/// The query's Chinese clauses, ready to be fitted to records.
#[derive(Debug, Clone, Default)]
pub(crate) struct NearQuery {
    clauses: Vec<Clause>,
}

/// The characters a fit compares: the folded text without punctuation or spaces.
fn folded_chars(text: &str) -> Vec<char> {
    normalize(text).text.chars().filter(|c| counts(*c)).collect()
}

/// Whether a fit compares the character (letters, digits, CJK; not punctuation or spaces).
/// CJK is tested first: Unicode's alphabetic table is slow for it.
fn counts(c: char) -> bool {
    is_cjk(c) || c.is_alphanumeric()
}

/// A field value as a fit reads it: its folded characters without punctuation or spaces,
/// and for each of them the segment (the run between two punctuation marks or spaces: a
/// line of a poem, a part of a title) it belongs to.
struct Value<'a> {
    weight: f32,
    field: &'a str,
    chars: Vec<char>,
    segments: Vec<u32>,
}

impl<'a> Value<'a> {
    fn new(weight: f32, field: &'a str, text: &str) -> Value<'a> {
        let mut chars = Vec::new();
        let mut segments = Vec::new();
        let mut segment = 0u32;
        for c in normalize(text).text.chars() {
            if chars.len() == MAX_VALUE_CHARS {
                break;
            }
            if counts(c) {
                chars.push(c);
                segments.push(segment);
            } else if segments.last() == Some(&segment) {
                segment += 1;
            }
        }
        Value {
            weight,
            field,
            chars,
            segments,
        }
    }

    /// Characters of the segments that the characters `start..=end` touch.
    fn segment_span(&self, start: usize, end: usize) -> usize {
        let (Some(first), Some(last)) = (self.segments.get(start), self.segments.get(end)) else {
            return self.chars.len();
        };
        self.segments
            .iter()
            .filter(|s| (*first..=*last).contains(*s))
            .count()
    }
}

impl NearQuery {
    /// Adds a clause: its text and other names for it. Clauses without a Chinese character
    /// are left out (Latin words are pinyin or English, matched otherwise).
    pub(crate) fn add_clause(&mut self, text: &str, other_names: &[String]) {
        let own = folded_chars(text);
        if !own.iter().any(|c| is_cjk(*c)) {
            return;
        }
        let mut variants = vec![own];
        variants.extend(
            other_names
                .iter()
                .map(|n| folded_chars(n))
                .filter(|n| !n.is_empty()),
        );
        self.clauses.push(Clause { variants });
    }

    /// Whether there is anything to fit.
    pub(crate) fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Characters of all clauses as typed.
    pub(crate) fn chars(&self) -> u32 {
        self.clauses
            .iter()
            .map(|c| c.variants.first().map_or(0, Vec::len) as u32)
            .sum()
    }

    /// The fit of a record given its text values, each with its field's weight and name.
    pub(crate) fn fit<'a>(&self, values: impl IntoIterator<Item = (f32, &'a str, &'a str)>) -> Fit {
        let values: Vec<Value<'_>> = values
            .into_iter()
            .map(|(weight, field, text)| Value::new(weight, field, text))
            .filter(|v| !v.chars.is_empty())
            .collect();
        let mut fit = Fit::default();
        for clause in &self.clauses {
            let typed = clause.variants.first().map_or(0, Vec::len);
            let mut best = (0usize, 0f32, String::new());
            for (variant_index, variant) in clause.variants.iter().enumerate() {
                for value in &values {
                    let Some(found) = chain(variant, &value.chars) else {
                        continue;
                    };
                    let span = value.segment_span(found.start, found.end);
                    let run = value.chars.get(found.start..=found.end).unwrap_or_default();
                    // Another name of the person, found whole, counts as the name typed.
                    let found = if variant_index > 0 && found.length == variant.len() {
                        typed
                    } else {
                        found.length.min(typed)
                    };
                    let specific = (found as f32 / typed.max(1) as f32) * (found as f32 / span.max(1) as f32);
                    let weighted = found as f32
                        * (FIELD_BASE + value.weight)
                        * (1.0 + SPECIFIC_BONUS * specific.min(1.0));
                    if weighted > best.1 {
                        let run: String = run.iter().collect();
                        best = (found, weighted, format!("{run} in {}", value.field));
                    }
                }
            }
            fit.chars += best.0 as u32;
            fit.weighted += best.1;
            if best.0 > 0 {
                fit.found.push(best.2);
            }
        }
        fit
    }
}

/// Every pair of adjacent Chinese characters of `text` (folded; punctuation and spaces
/// dropped), each once, as the index holds them.
pub(crate) fn adjacent_pairs(text: &str) -> Vec<String> {
    let mut pairs: Vec<String> = Vec::new();
    for pair in folded_chars(text).windows(2) {
        if pair.iter().all(|c| is_cjk(*c)) {
            let pair: String = pair.iter().collect();
            if !pairs.contains(&pair) {
                pairs.push(pair);
            }
        }
    }
    pairs
}

/// A chain of query characters found in a value: its length and the value positions of its
/// first and last characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chain {
    length: usize,
    start: usize,
    end: usize,
}

/// The longest chain of `query`'s characters found in `value` in order, each close to the
/// previous one (see the module documentation); the first found of the longest.
fn chain(query: &[char], value: &[char]) -> Option<Chain> {
    // `ends[j]`: (query index, chain length, chain start) of the chains ending at value
    // position j.
    let mut ends: Vec<Vec<(usize, usize, usize)>> = vec![Vec::new(); value.len()];
    let mut best: Option<Chain> = None;
    let look_back = MAX_QUERY_SKIP + MAX_EXTRA_GAP + 1;
    for (j, c) in value.iter().enumerate() {
        for (i, _) in query.iter().enumerate().filter(|(_, q)| *q == c) {
            let (mut length, mut start) = (1, j);
            let from = j.saturating_sub(look_back);
            for (previous, chains) in ends[from..j].iter().enumerate() {
                let value_gap = j - (from + previous) - 1;
                for &(pi, plength, pstart) in chains {
                    if pi < i
                        && i - pi - 1 <= MAX_QUERY_SKIP
                        && value_gap <= i - pi - 1 + MAX_EXTRA_GAP
                        && plength + 1 > length
                    {
                        (length, start) = (plength + 1, pstart);
                    }
                }
            }
            ends[j].push((i, length, start));
            if best.is_none_or(|b| length > b.length) {
                best = Some(Chain {
                    length,
                    start,
                    end: j,
                });
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        folded_chars(text)
    }

    fn length(query: &str, value: &str) -> usize {
        chain(&chars(query), &chars(value)).map_or(0, |c| c.length)
    }

    #[test]
    fn chains_follow_the_order_and_allow_a_changed_character() {
        assert_eq!(length("床前明月光", "牀前看月光，疑是地上霜。"), 4);
        assert_eq!(length("举头望明月", "舉頭望山月，低頭思故鄉。"), 4);
        assert_eq!(length("静夜思", "靜夜思"), 3);
        // Far apart: each part alone.
        assert_eq!(length("举头望明月", "舉頭看落日，千里無人行。我心望明月"), 3);
        // The wrong order is not a chain.
        assert_eq!(length("明月光", "光月明"), 1);
        assert_eq!(length("明月", ""), 0);
        assert_eq!(
            chain(&chars("疑是地上霜"), &chars("牀前看月光，疑是地上霜。")),
            Some(Chain {
                length: 5,
                start: 5,
                end: 9
            })
        );
    }

    #[test]
    fn a_line_that_is_the_clause_beats_a_long_title_that_quotes_it() {
        let mut query = NearQuery::default();
        query.add_clause("千山鸟飞尽", &[]);
        let poem = query.fit([
            (4.0, "field", "江雪"),
            (1.0, "field", "千山鳥飛絕，萬逕人蹤滅。孤舟蓑笠翁，獨釣寒江雪。"),
        ]);
        let title = query.fit([(4.0, "field", "辛酉大雪戲成十詩以千山鳥飛絕萬逕人蹤滅爲韻")]);
        assert_eq!((poem.chars, title.chars), (4, 4));
        assert_eq!(poem.found, ["千山鸟飞 in field"]);
        assert!(poem.cmp_key(&title).is_gt());
    }

    #[test]
    fn a_fit_counts_characters_and_their_field() {
        let mut query = NearQuery::default();
        query.add_clause("登黄鹤楼", &[]);
        query.add_clause("崔颢", &[]);
        query.add_clause("jingyesi", &[]);
        assert_eq!(query.chars(), 6);
        let own = query.fit([
            (4.0, "field", "黃鶴樓"),
            (3.0, "field", "崔顥"),
            (1.0, "field", "昔人已乘白雲去"),
        ]);
        let other = query.fit([
            (4.0, "field", "黄鶴樓"),
            (3.0, "field", "張顒"),
            (1.0, "field", "崔顥題詩在上頭，登臨何必更冥搜"),
        ]);
        assert_eq!((own.chars, other.chars), (5, 5));
        // More of a line in a poem's text beats less of it in a title.
        let line = query.fit([(1.0, "field", "登黄鹤楼"), (1.0, "field", "崔颢")]);
        let title = query.fit([(4.0, "field", "黄鹤"), (1.0, "field", "崔颢")]);
        assert!(line.cmp_key(&title).is_gt());
        assert!(own.cmp_key(&other).is_gt());
        // A value that is the clause beats a long one that mentions it.
        let long = query.fit([(
            4.0,
            "title",
            "沙云黄鶴樓崔顥題後先輩曾題否拙云不曾沙云無事題取一篇好因說偈",
        )]);
        assert_eq!(long.chars, 5);
        assert!(own.cmp_key(&long).is_gt());
        assert_eq!(
            query
                .fit([(4.0, "field", "登黄鹤楼"), (3.0, "field", "崔颢")])
                .chars,
            query.chars()
        );
    }

    #[test]
    fn another_name_of_the_person_counts_as_the_name_typed() {
        let mut query = NearQuery::default();
        query.add_clause("苏东坡", &["苏轼".to_string()]);
        let fit = query.fit([(3.0, "creators", "蘇軾")]);
        assert_eq!(fit.chars, query.chars());
        assert_eq!(fit.found, ["苏轼 in creators"]);
    }
}
