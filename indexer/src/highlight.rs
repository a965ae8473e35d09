//! Highlights: which words of a hit matched, as HTML.
//!
//! [`find_matches`] normalises the stored text exactly like the index does (so `靜夜思` in a
//! document is highlighted for the query `静夜思`) and marks every literal occurrence of a
//! query word, the same "characters in a row" rule that matching follows. Using the query's
//! own terms instead would light up every single character of the document that appears in a
//! query word (documents index each character and each pair). Titles, names and subjects are
//! shown whole; a description is shown as its best fragment, chosen as tantivy's
//! `SnippetGenerator` chooses (consecutive windows of about [`DESCRIPTION_SNIPPET_CHARS`]
//! characters, the one whose matched words are longest in total, the first of equals), but
//! over the matches directly rather than a token per character looked up in a map. The HTML
//! is rendered here so that overlapping and adjacent matches become one `<em>…</em>`.

use std::ops::Range;

use tantivy::TantivyDocument;
use tantivy::schema::{Field, Value};

use crate::normalize::{Normalized, normalize};
use crate::schema::Fields;

/// Opening and closing tags around matched text.
const PREFIX: &str = "<em>";
const POSTFIX: &str = "</em>";
/// Approximate length of a description snippet, in characters.
const DESCRIPTION_SNIPPET_CHARS: usize = 120;
/// Separator between the values of a multi-valued field.
const VALUE_SEPARATOR: &str = "; ";

/// How a field is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The whole value, every value.
    Whole,
    /// The best fragment of about [`DESCRIPTION_SNIPPET_CHARS`] characters.
    Fragment,
}

/// Highlights hits for one query.
pub(crate) struct Highlighter {
    /// The normalised query words.
    words: Words,
    fields: [(&'static str, Field, Shape); 4],
    /// Reused between values.
    matches: Vec<Match>,
}

impl Highlighter {
    /// A highlighter for the normalised query `words`.
    pub(crate) fn new(fields: &Fields, words: &[String]) -> Highlighter {
        Highlighter {
            words: Words::new(words),
            fields: [
                ("title", fields.title, Shape::Whole),
                ("creators", fields.creators, Shape::Whole),
                ("subjects", fields.subjects, Shape::Whole),
                ("description", fields.description, Shape::Fragment),
            ],
            matches: Vec::new(),
        }
    }

    /// `(field name, HTML)` for every highlighted field that matched in `doc`.
    pub(crate) fn highlights(&mut self, doc: &TantivyDocument) -> Vec<(String, String)> {
        let mut highlights = Vec::new();
        let matches = &mut self.matches;
        for (name, field, shape) in self.fields {
            let html = match shape {
                Shape::Whole => {
                    let mut any = false;
                    let rendered: Vec<String> = doc
                        .get_all(field)
                        .filter_map(|v| v.as_str())
                        .map(|value| {
                            find_matches(&self.words, &normalize(value), matches);
                            any |= !matches.is_empty();
                            let ranges: Vec<Range<usize>> = matches.iter().map(|m| m.bytes.clone()).collect();
                            render(value, 0..value.len(), &ranges)
                        })
                        .collect();
                    any.then(|| rendered.join(VALUE_SEPARATOR))
                }
                Shape::Fragment => doc.get_first(field).and_then(|v| v.as_str()).and_then(|value| {
                    find_matches(&self.words, &normalize(value), matches);
                    let chars = value.chars().count().max(1);
                    let bytes_per_char = value.len().div_ceil(chars);
                    best_fragment(value, matches, DESCRIPTION_SNIPPET_CHARS * bytes_per_char)
                }),
            };
            if let Some(html) = html {
                highlights.push((name.to_string(), html));
            }
        }
        highlights
    }
}

/// The query words to find, each with its first character (compared before the word).
#[derive(Debug)]
struct Words(Vec<(char, String)>);

impl Words {
    fn new(words: &[String]) -> Words {
        Words(
            words
                .iter()
                .filter_map(|w| w.chars().next().map(|c| (c, w.clone())))
                .collect(),
        )
    }
}

/// A query word found in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Match {
    /// Byte range in the original value.
    bytes: Range<usize>,
    /// Length of the word in characters: longer words make better fragments.
    chars: usize,
}

/// Sets `out` to the literal occurrences of the query words in `normalized`, in order: the
/// longest word where several start at the same character, Latin words only between word
/// boundaries, overlapping matches kept (rendering merges them).
fn find_matches(words: &Words, normalized: &Normalized, out: &mut Vec<Match>) {
    out.clear();
    let norm = normalized.text.as_str();
    let chars: Vec<(usize, char)> = norm.char_indices().collect();
    let is_word_char =
        |i: Option<&(usize, char)>| i.is_some_and(|(_, c)| c.is_alphanumeric() && c.is_ascii());
    let mut covered = 0;
    for (i, &(byte, c)) in chars.iter().enumerate() {
        let rest = norm.get(byte..).unwrap_or_default();
        let longest = words
            .0
            .iter()
            .filter(|(first, w)| *first == c && rest.starts_with(w.as_str()))
            .map(|(_, w)| (w.chars().count(), w))
            .filter(|(len, w)| {
                // Latin words match whole words only: `art` is not in `party`.
                !w.is_ascii()
                    || (!is_word_char(i.checked_sub(1).and_then(|p| chars.get(p)))
                        && !is_word_char(chars.get(i + len)))
            })
            .map(|(len, _)| len)
            .max();
        if let Some(len) = longest
            && i + len > covered
        {
            out.push(Match {
                bytes: normalized.original_byte_offset(i)..normalized.original_byte_offset(i + len),
                chars: len,
            });
            covered = i + len;
        }
    }
}

/// The best fragment of `value` of about `max_bytes` (see the module documentation) as HTML,
/// with an ellipsis where it cuts the value; `None` without matches.
fn best_fragment(value: &str, matches: &[Match], max_bytes: usize) -> Option<String> {
    // Consecutive windows: each starts at the first character that does not fit the one
    // before, and ends with the last character that fits; scored by their matches.
    let mut best: Option<(usize, Range<usize>)> = None;
    let mut window_start = 0;
    let mut window_score = 0;
    let mut window_end = 0;
    let mut next_match = matches.iter().peekable();
    let mut consider = |score: usize, range: Range<usize>| {
        if score > 0 && best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, range));
        }
    };
    let mut at = 0;
    while at < value.len() {
        // The next unit: a match starting here, or one character.
        let (end, score) = match next_match.peek() {
            Some(m) if m.bytes.start == at => {
                let unit = (m.bytes.end, m.chars);
                next_match.next();
                unit
            }
            _ => (at + value[at..].chars().next().map_or(1, char::len_utf8), 0),
        };
        if end - window_start > max_bytes {
            consider(window_score, window_start..window_end);
            window_start = at;
            window_score = 0;
        }
        window_score += score;
        window_end = end;
        // Overlapping matches: the next one may start inside this one.
        at = match next_match.peek() {
            Some(m) if m.bytes.start < end => m.bytes.start.max(at + 1),
            _ => end,
        };
        while !value.is_char_boundary(at) {
            at += 1;
        }
    }
    consider(window_score, window_start..window_end);
    let (_, range) = best?;
    let highlighted: Vec<Range<usize>> = matches
        .iter()
        .filter(|m| m.bytes.start >= range.start && m.bytes.end <= range.end)
        .map(|m| m.bytes.clone())
        .collect();
    let mut html = String::new();
    if range.start > 0 {
        html.push('…');
    }
    html.push_str(&render(value, range.clone(), &highlighted));
    if range.end < value.len() {
        html.push('…');
    }
    Some(html)
}

/// `value[shown]` as HTML with `highlighted` (byte ranges of `value`) wrapped in `<em>`.
/// Overlapping and touching ranges are merged; everything else is escaped.
fn render(value: &str, shown: Range<usize>, highlighted: &[Range<usize>]) -> String {
    let mut ranges: Vec<Range<usize>> = highlighted
        .iter()
        .filter(|r| r.start < r.end && r.start >= shown.start && r.end <= shown.end)
        .cloned()
        .collect();
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for range in ranges {
        match merged.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => merged.push(range),
        }
    }
    let mut html = String::with_capacity(shown.len() + merged.len() * 9);
    let mut at = shown.start;
    for range in merged {
        escape_into(&mut html, value.get(at..range.start).unwrap_or_default());
        html.push_str(PREFIX);
        escape_into(&mut html, value.get(range.clone()).unwrap_or_default());
        html.push_str(POSTFIX);
        at = range.end;
    }
    escape_into(&mut html, value.get(at..shown.end).unwrap_or_default());
    html
}

/// Appends `text` with `& < > " '` escaped.
fn escape_into(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(words: &[&str], text: &str) -> Vec<(String, Range<usize>)> {
        let words = Words::new(&words.iter().map(|w| w.to_string()).collect::<Vec<_>>());
        let mut out = Vec::new();
        find_matches(&words, &normalize(text), &mut out);
        out.into_iter()
            .map(|m| (text[m.bytes.clone()].to_string(), m.bytes))
            .collect()
    }

    #[test]
    fn match_tokens_are_literal_occurrences_in_the_original_text() {
        // Traditional text, simplified query word: the range covers 靜夜思.
        assert_eq!(tokens(&["静夜思"], "《靜夜思》"), [("靜夜思".to_string(), 3..12)]);
        // The longest word wins where several start together; overlaps extend.
        assert_eq!(
            tokens(&["明月", "明月光", "光照"], "明月光照"),
            [("明月光".to_string(), 0..9), ("光照".to_string(), 6..12)]
        );
        // Latin words only as whole words, case-insensitively.
        assert_eq!(tokens(&["art"], "party ART"), [("ART".to_string(), 6..9)]);
    }

    #[test]
    fn the_fragment_is_the_window_with_the_longest_matches() {
        let words = Words::new(&["黄河".to_string(), "铁桥".to_string()]);
        let value = format!(
            "{}黄河。{}黄河铁桥。{}",
            "甲".repeat(30),
            "乙".repeat(30),
            "丙".repeat(30)
        );
        let mut matches = Vec::new();
        find_matches(&words, &normalize(&value), &mut matches);
        assert_eq!(matches.len(), 3);
        // Windows of 20 characters: the one holding both words wins, cut on both sides.
        let html = best_fragment(&value, &matches, 20 * 3).unwrap();
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<em>黄河铁桥</em>"), "{html}");
        assert!(!html.contains("甲"), "{html}");
        // A value that fits is shown whole, every match highlighted.
        let html = best_fragment(&value, &matches, value.len()).unwrap();
        assert_eq!(html.matches("<em>").count(), 2, "{html}");
        assert!(!html.contains('…'));
        assert_eq!(best_fragment(&value, &[], 60), None);
    }

    #[test]
    fn touching_ranges_merge_and_text_is_escaped() {
        let value = "靜夜思<b>";
        assert_eq!(
            render(value, 0..value.len(), &[0..6, 6..9]),
            "<em>靜夜思</em>&lt;b&gt;"
        );
    }

    #[test]
    fn overlapping_ranges_merge() {
        let value = "明月光";
        assert_eq!(
            render(value, 0..value.len(), &[0..6, 3..9, 0..9]),
            "<em>明月光</em>"
        );
    }

    #[test]
    fn ranges_outside_the_fragment_or_not_on_boundaries_are_harmless() {
        let value = "abc";
        assert_eq!(render(value, 1..3, &[0..1, 1..2]), "<em>b</em>c");
        let value = "兰州";
        // A range that does not fall on character boundaries renders as nothing, not a panic.
        let inside_a_character: Vec<Range<usize>> = std::iter::once(1..2).collect();
        assert_eq!(render(value, 0..value.len(), &inside_a_character), "<em></em>");
    }
}
