//! Highlights: which words of a hit matched, as HTML.
//!
//! tantivy's `SnippetGenerator` picks the best fragment and records the highlighted ranges;
//! the tokens it scores come from [`MatchTokenizer`], which normalises the stored text exactly
//! like the index does (so `靜夜思` in a document is highlighted for the query `静夜思`) and
//! marks every literal occurrence of a query word, the same "characters in a row" rule that
//! matching follows. Using the query's own terms instead would light up every single
//! character of the document that appears in a query word (documents index each character).
//! The HTML is rendered here rather than with `Snippet::to_html` so that overlapping and
//! adjacent matches become one `<em>…</em>` and whole values are shown for short fields.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use tantivy::TantivyDocument;
use tantivy::schema::{Field, Value};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

use crate::normalize::{Normalized, normalize};
use crate::schema::Fields;

/// Opening and closing tags around matched text.
const PREFIX: &str = "<em>";
const POSTFIX: &str = "</em>";
/// Approximate length of a description snippet, in characters.
const DESCRIPTION_SNIPPET_CHARS: usize = 120;
/// "Whole value" for titles and names: longer than any value the schema accepts, in bytes.
const WHOLE_VALUE_BYTES: usize = 1 << 20;
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
    words: Arc<Words>,
    generators: Vec<(&'static str, Field, Shape, SnippetGenerator)>,
}

impl Highlighter {
    /// A highlighter for the normalised query `words`.
    pub(crate) fn new(fields: &Fields, words: &[String]) -> Highlighter {
        let words: Vec<String> = words.iter().filter(|w| !w.is_empty()).cloned().collect();
        // Longer words make better fragments.
        let terms: BTreeMap<String, f32> = words
            .iter()
            .map(|w| (w.clone(), w.chars().count() as f32))
            .collect();
        let words = Arc::new(Words::new(&words));
        let tokenizer = MatchTokenizer {
            words: words.clone(),
            buffer: Vec::new(),
        };
        let generators = [
            ("title", fields.title, Shape::Whole),
            ("creators", fields.creators, Shape::Whole),
            ("subjects", fields.subjects, Shape::Whole),
            ("description", fields.description, Shape::Fragment),
        ]
        .into_iter()
        .map(|(name, field, shape)| {
            let generator = SnippetGenerator::new(
                terms.clone(),
                TextAnalyzer::from(tokenizer.clone()),
                field,
                WHOLE_VALUE_BYTES,
            );
            (name, field, shape, generator)
        })
        .collect();
        Highlighter { words, generators }
    }

    /// `(field name, HTML)` for every highlighted field that matched in `doc`.
    pub(crate) fn highlights(&mut self, doc: &TantivyDocument) -> Vec<(String, String)> {
        let mut highlights = Vec::new();
        let mut matches = Vec::new();
        for (name, field, shape, generator) in &mut self.generators {
            let html = match shape {
                // Titles, names and subjects are shown whole: the matches are the highlights,
                // no fragment to choose.
                Shape::Whole => {
                    let mut any = false;
                    let rendered: Vec<String> = doc
                        .get_all(*field)
                        .filter_map(|v| v.as_str())
                        .map(|value| {
                            matches.clear();
                            find_matches(&self.words, &normalize(value), false, &mut matches);
                            any |= !matches.is_empty();
                            let ranges: Vec<Range<usize>> =
                                matches.iter().map(|t| t.offset_from..t.offset_to).collect();
                            render(value, 0..value.len(), &ranges)
                        })
                        .collect();
                    any.then(|| rendered.join(VALUE_SEPARATOR))
                }
                // Most descriptions of most hits contain no query word: they are passed over
                // without running the snippet generator (which makes a token of every
                // character).
                Shape::Fragment => doc.get_first(*field).and_then(|v| v.as_str()).and_then(|value| {
                    matches.clear();
                    find_matches(&self.words, &normalize(value), false, &mut matches);
                    if matches.is_empty() {
                        return None;
                    }
                    let chars = value.chars().count().max(1);
                    let bytes_per_char = value.len().div_ceil(chars);
                    generator.set_max_num_chars(DESCRIPTION_SNIPPET_CHARS * bytes_per_char);
                    let snippet = generator.snippet(value);
                    (!snippet.is_empty()).then(|| render_fragment(value, &snippet))
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

/// Pushes to `out` a token for each literal occurrence of a query word in `normalized` (the
/// longest one where several start at the same character; Latin words only between word
/// boundaries), with offsets into the original text; with `fillers`, also an empty-text token
/// for every character no match covers.
fn find_matches(words: &Words, normalized: &Normalized, fillers: bool, out: &mut Vec<Token>) {
    let norm = normalized.text.as_str();
    let chars: Vec<(usize, char)> = norm.char_indices().collect();
    let is_word_char =
        |i: Option<&(usize, char)>| i.is_some_and(|(_, c)| c.is_alphanumeric() && c.is_ascii());
    let offsets =
        |from: usize, to: usize| normalized.original_byte_offset(from)..normalized.original_byte_offset(to);
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
            .max_by_key(|(len, _)| *len);
        match longest {
            Some((len, word)) if i + len > covered => {
                let range = offsets(i, i + len);
                out.push(Token {
                    offset_from: range.start,
                    offset_to: range.end,
                    position: i,
                    text: word.clone(),
                    position_length: len,
                });
                covered = i + len;
            }
            _ if fillers && i >= covered => {
                let range = offsets(i, i + 1);
                out.push(Token {
                    offset_from: range.start,
                    offset_to: range.end,
                    position: i,
                    text: String::new(),
                    position_length: 1,
                });
            }
            _ => {}
        }
    }
}

/// Tokens for the snippet generator: the matches of [`find_matches`], and an empty-text
/// filler token for every other character so that fragments keep their context. Offsets
/// point into the original text and only grow.
#[derive(Clone)]
struct MatchTokenizer {
    words: Arc<Words>,
    buffer: Vec<Token>,
}

struct MatchTokenStream<'a> {
    tokens: std::slice::Iter<'a, Token>,
    current: Token,
}

impl Tokenizer for MatchTokenizer {
    type TokenStream<'a> = MatchTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MatchTokenStream<'a> {
        self.buffer.clear();
        find_matches(&self.words, &normalize(text), true, &mut self.buffer);
        MatchTokenStream {
            tokens: self.buffer.iter(),
            current: Token::default(),
        }
    }
}

impl TokenStream for MatchTokenStream<'_> {
    fn advance(&mut self) -> bool {
        match self.tokens.next() {
            Some(token) => {
                self.current.clone_from(token);
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

/// The snippet's highlighted ranges as byte ranges of the whole value.
fn absolute_ranges(snippet: &Snippet) -> Vec<Range<usize>> {
    let base = snippet.fragment_range().start;
    snippet
        .highlighted()
        .iter()
        .map(|r| r.start + base..r.end + base)
        .collect()
}

/// The snippet's fragment, with an ellipsis where it cuts the value.
fn render_fragment(value: &str, snippet: &Snippet) -> String {
    let range = snippet.fragment_range();
    let mut html = String::new();
    if range.start > 0 {
        html.push('…');
    }
    html.push_str(&render(value, range.clone(), &absolute_ranges(snippet)));
    if range.end < value.len() {
        html.push('…');
    }
    html
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
        let mut tokenizer = MatchTokenizer {
            words: Arc::new(Words::new(
                &words.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            )),
            buffer: Vec::new(),
        };
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while let Some(token) = stream.next() {
            if !token.text.is_empty() {
                out.push((token.text.clone(), token.offset_from..token.offset_to));
            }
        }
        out
    }

    #[test]
    fn match_tokens_are_literal_occurrences_in_the_original_text() {
        // Traditional text, simplified query word: the range covers 靜夜思.
        assert_eq!(tokens(&["静夜思"], "《靜夜思》"), [("静夜思".to_string(), 3..12)]);
        // The longest word wins where several start together; overlaps extend.
        assert_eq!(
            tokens(&["明月", "明月光", "光照"], "明月光照"),
            [("明月光".to_string(), 0..9), ("光照".to_string(), 6..12)]
        );
        // Latin words only as whole words, case-insensitively.
        assert_eq!(tokens(&["art"], "party ART"), [("art".to_string(), 6..9)]);
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
