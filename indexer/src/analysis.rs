//! Chinese analysis: normalisation, jieba segmentation, positions.
//!
//! Documents are cut in jieba's *search mode* (a word of three or more characters is indexed
//! whole and as its dictionary 2- and 3-character parts, so `博物馆` is found by `博物`), and
//! every CJK character and every pair of adjacent CJK characters is indexed on its own as
//! well, so that a query word is found wherever its characters occur, whatever the
//! document's segmentation (`飞燕` inside `马踏飞燕`, which jieba cuts `马踏飞` + `燕`), as a
//! phrase of a few rare pairs rather than of common characters. Queries are cut in *precise
//! mode*. Both are normalised first (see [`crate::normalize`]).
//!
//! # Positions
//!
//! **A token's position is the character offset of its first character** in the normalised
//! text (which has the same characters as the original, one for one), and its
//! `position_length` is its length in characters. Search-mode tokens overlap (`明月光` yields
//! `明月`@2, `月光`@3, `明月光`@2, and the characters `明`@2, `月`@3, `光`@4), and ordinal
//! positions would put `月光` one token after `明月`, which breaks phrases. With character offsets, the query builder makes phrases with
//! `PhraseQuery::new_with_offset` from the query tokens' character offsets, so a phrase means
//! exactly "these tokens at these relative character offsets": the query text occurs
//! contiguously in the field. Slop is never used (it would count characters, not words).
//! Whitespace and punctuation produce no token but still advance the offsets, so `床前 明月`
//! is not the phrase `床前明月`.

use std::borrow::Cow;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::dictionary::{AnalysisOptions, Dictionaries, DictionaryStats};
use crate::error::Result;
use crate::normalize::{Normalized, normalize};

/// Local words every dictionary generation knows: the embedded default user dictionary
/// (`indexer/dictionaries/user_dict.txt`) holds them, so that place names and Lanzhou's
/// emblems are cut as one word (`马家窑` rather than `马家` + `窑`). A user dictionary in the
/// data directory replaces the default file; these are listed here for tests and tools.
pub const LOCAL_WORDS: &[&str] = &[
    "兰州",
    "金城",
    "黄河",
    "马家窑",
    "彩陶",
    "铜奔马",
    "七里河",
    "榆中",
    "敦煌",
    "皋兰",
    "永登",
    "西固",
    "安宁",
];

/// Shortest Latin word that is stemmed: shorter words (`art`, `is`) are left alone.
const MIN_STEMMED_CHARS: usize = 4;
/// Shortest Chinese query word that may also match as its shorter words apart
/// ([`ChineseAnalyzer::sub_words`]).
pub(crate) const MIN_SPLIT_CHARS: usize = 4;

/// Longest token indexed, in bytes. Longer "words" are runs of digits or letters (a base64
/// blob, a hash) that nobody types; tantivy would drop them anyway past 65 530 bytes.
const MAX_TOKEN_BYTES: usize = 255;

/// One token of analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyzedToken {
    /// The normalised token text, as indexed.
    pub text: String,
    /// Character offset of the token's first character (its index position).
    pub position: usize,
    /// Length in characters.
    pub char_len: usize,
    /// Byte range of the token in the *original* text.
    pub original_range: Range<usize>,
}

/// The Chinese analyser shared by the document tokenizer, the query builder and the snippet
/// generator. Cloning is cheap, and clones share the dictionaries: a
/// [`ChineseAnalyzer::reload`] is seen by every clone (the index's tokenizer included).
#[derive(Clone)]
pub struct ChineseAnalyzer {
    /// The current dictionaries. Each analysis takes a snapshot (an `Arc` clone under a read
    /// lock held for nanoseconds), so a reload never blocks or tears an analysis.
    dictionaries: Arc<RwLock<Arc<Dictionaries>>>,
    /// Where [`ChineseAnalyzer::reload`] reads from (`None`: the embedded defaults).
    dictionary_dir: Option<PathBuf>,
}

impl std::fmt::Debug for ChineseAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChineseAnalyzer")
            .field("dictionary_dir", &self.dictionary_dir)
            .finish_non_exhaustive()
    }
}

/// Which jieba mode to cut with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CutMode {
    /// Search mode (overlapping words and their parts) plus every CJK character (documents).
    Document,
    /// Precise mode: one segmentation (queries).
    Query,
}

impl ChineseAnalyzer {
    /// The process-wide analyser with the embedded default dictionaries. Loading jieba's
    /// dictionary takes about 0.2 s and 30 MB, so it is done once, on first use, and shared
    /// by every index opened without a dictionary directory.
    pub fn shared() -> ChineseAnalyzer {
        static SHARED: OnceLock<ChineseAnalyzer> = OnceLock::new();
        SHARED
            .get_or_init(|| ChineseAnalyzer {
                dictionaries: Arc::new(RwLock::new(Arc::new(Dictionaries::defaults()))),
                dictionary_dir: None,
            })
            .clone()
    }

    /// An analyser with its own dictionaries, read from `options.dictionary_dir` (see
    /// [`crate::dictionary`] for the files and their format). Without a directory this is
    /// [`ChineseAnalyzer::shared`].
    pub fn with_options(options: &AnalysisOptions) -> Result<ChineseAnalyzer> {
        let Some(dir) = &options.dictionary_dir else {
            return Ok(ChineseAnalyzer::shared());
        };
        let dictionaries = Dictionaries::load(Some(dir))?;
        Ok(ChineseAnalyzer {
            dictionaries: Arc::new(RwLock::new(Arc::new(dictionaries))),
            dictionary_dir: Some(dir.clone()),
        })
    }

    /// Reads the dictionary files again and swaps them in for every clone of this analyser.
    /// On an error the current dictionaries stay. Without a dictionary directory there is
    /// nothing to reread, and the current statistics are returned.
    pub fn reload(&self) -> Result<DictionaryStats> {
        let Some(dir) = &self.dictionary_dir else {
            return Ok(self.stats());
        };
        let fresh = Arc::new(Dictionaries::load(Some(dir))?);
        let stats = fresh.stats.clone();
        *self.dictionaries.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(stats)
    }

    /// What the current dictionaries hold.
    pub fn stats(&self) -> DictionaryStats {
        self.snapshot().stats.clone()
    }

    /// The current dictionaries.
    pub(crate) fn snapshot(&self) -> Arc<Dictionaries> {
        self.dictionaries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The synonyms of a normalised word (the other words of its groups), if any.
    pub(crate) fn synonyms(&self, word: &str) -> Option<Arc<[String]>> {
        self.snapshot().synonyms.get(word).cloned()
    }

    /// The other names of the person(s) a normalised name stands for (see
    /// [`crate::dictionary`]), the preferred name first, if it is a name.
    pub(crate) fn names(&self, word: &str) -> Option<Arc<[String]>> {
        self.snapshot().names.get(word).cloned()
    }

    /// The canonical works (see [`crate::dictionary`]): (title key, creator key).
    pub(crate) fn canonical(&self) -> Arc<[(String, String)]> {
        self.snapshot().canonical.clone()
    }

    /// Whether a normalised name is the preferred name of a person (the first of its line).
    pub(crate) fn is_preferred_name(&self, word: &str) -> bool {
        self.snapshot().preferred_names.contains(word)
    }

    /// The tantivy tokenizer of the index's Chinese text fields (for benchmarks and for
    /// inspecting what is indexed).
    pub fn text_analyzer(&self) -> tantivy::tokenizer::TextAnalyzer {
        tantivy::tokenizer::TextAnalyzer::from(ChineseTokenizer::new(self.clone()))
    }

    /// Tokens of a document field value, as indexed (search mode plus single characters).
    pub fn document_tokens(&self, text: &str) -> Vec<AnalyzedToken> {
        let mut tokens = Vec::new();
        self.analyze(text, CutMode::Document, |t| tokens.push(t.to_analyzed()));
        tokens
    }

    /// Tokens of a query (precise mode).
    pub fn query_tokens(&self, text: &str) -> Vec<AnalyzedToken> {
        let mut tokens = Vec::new();
        self.analyze(text, CutMode::Query, |t| tokens.push(t.to_analyzed()));
        tokens
    }

    /// The character pairs that tile a multi-character Chinese query word, with their
    /// offsets relative to the word: `艺术中心` → `[(0, 艺术), (2, 中心)]`, `静夜思` →
    /// `[(0, 静夜), (1, 夜思)]` (the last pair ends with the word).
    ///
    /// A document cuts the same characters in its own context, so it may not hold the word
    /// as a token (`马踏飞燕` is cut `马踏飞` + `燕`, which hides `飞燕`). Documents also index
    /// every pair of adjacent CJK characters, so the word's pairs as a phrase find it wherever
    /// it occurs literally, and a pair is far rarer than either of its characters (a phrase
    /// of single characters of poetry walks posting lists of 10⁵ documents). A two-character
    /// word is its own single pair: that word's term alone finds it anywhere. Empty for
    /// single characters and for words with non-CJK characters (those are matched whole).
    pub(crate) fn word_parts(word: &str) -> Vec<(usize, String)> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < 2 || !chars.iter().all(|c| is_cjk(*c)) {
            return Vec::new();
        }
        let last = chars.len() - 2;
        (0..last)
            .step_by(2)
            .chain(std::iter::once(last))
            .map(|at| (at, chars[at..at + 2].iter().collect()))
            .collect()
    }

    /// The shorter words a long Chinese query word is made of, left to right, when jieba's
    /// search mode knows some: `敦煌石窟` → `[敦煌, 石窟]`, `马家窑文化` → `[马家窑, 文化]`.
    /// At each position the longest known shorter word is taken, or else the character.
    /// Empty for words under [`MIN_SPLIT_CHARS`] characters, for words with non-CJK
    /// characters, and when no piece is longer than one character (a split into single
    /// characters would match almost anything).
    pub(crate) fn sub_words(&self, word: &str) -> Vec<String> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() < MIN_SPLIT_CHARS || !chars.iter().all(|c| is_cjk(*c)) {
            return Vec::new();
        }
        // The longest shorter word jieba finds starting at each character.
        let mut longest = vec![1; chars.len()];
        for token in self.snapshot().jieba.cut_for_search(word, false) {
            let len = token.end - token.start;
            if len > 1
                && len < chars.len()
                && let Some(best) = longest.get_mut(token.start)
            {
                *best = (*best).max(len);
            }
        }
        let mut pieces = Vec::new();
        let mut at = 0;
        while let Some(len) = longest.get(at) {
            pieces.push(chars[at..at + len].iter().collect::<String>());
            at += len;
        }
        if pieces.iter().all(|p| p.chars().nth(1).is_none()) {
            return Vec::new();
        }
        pieces
    }

    /// Normalises and cuts `text`, calling `sink` for every token worth indexing: tokens
    /// without a letter or digit (whitespace, punctuation, emoji) and over-long tokens are
    /// skipped. In [`CutMode::Document`], every CJK character and every pair of adjacent CJK
    /// characters is also a token of its own (unless jieba already made it one), emitted in
    /// text order so that each term's positions increase, as tantivy's posting lists require.
    fn analyze(&self, text: &str, mode: CutMode, mut sink: impl FnMut(RawToken<'_>)) {
        if text.is_empty() {
            return;
        }
        let normalized = normalize(text);
        let dictionaries = self.snapshot();
        let jieba = &dictionaries.jieba;
        let tokens = match mode {
            CutMode::Document => jieba.cut_for_search(&normalized.text, true),
            CutMode::Query => jieba.cut(&normalized.text, true),
        };
        let stemmer = frostem::Stemmer::new(frostem::Algorithm::English);
        let grams = mode == CutMode::Document;
        let text = normalized.text.as_str();
        let mut chars = text.char_indices().enumerate().peekable();
        // What jieba itself made a token of, so that no gram repeats it: the position of its
        // last single character not yet passed by the gram cursor, and every position where
        // it made a two-character token.
        let mut single_at = None;
        let mut pair_at = vec![false; if grams { text.len() } else { 0 }];
        let mut flush_grams =
            |upto: usize, single_at: Option<usize>, pair_at: &[bool], sink: &mut dyn FnMut(RawToken<'_>)| {
                while let Some(&(index, (byte, c))) = chars.peek() {
                    if index >= upto {
                        break;
                    }
                    chars.next();
                    if !is_cjk(c) {
                        continue;
                    }
                    let after = byte + c.len_utf8();
                    if single_at != Some(index) {
                        sink(RawToken {
                            word: Cow::Borrowed(text.get(byte..after).unwrap_or_default()),
                            start: index,
                            end: index + 1,
                            normalized: &normalized,
                        });
                    }
                    if let Some(next) = text.get(after..).and_then(|rest| rest.chars().next())
                        && is_cjk(next)
                        && !pair_at.get(index).copied().unwrap_or(false)
                    {
                        sink(RawToken {
                            word: Cow::Borrowed(text.get(byte..after + next.len_utf8()).unwrap_or_default()),
                            start: index,
                            end: index + 2,
                            normalized: &normalized,
                        });
                    }
                }
            };
        for token in tokens {
            if grams {
                flush_grams(token.start, single_at, &pair_at, &mut sink);
            }
            if token.word.len() > MAX_TOKEN_BYTES || !token.word.chars().any(is_word_char) {
                continue;
            }
            match token.end - token.start {
                1 => single_at = Some(token.start),
                2 => {
                    if let Some(pair) = pair_at.get_mut(token.start) {
                        *pair = true;
                    }
                }
                _ => {}
            }
            sink(RawToken {
                word: stem_latin(&stemmer, token.word),
                start: token.start,
                end: token.end,
                normalized: &normalized,
            });
        }
        if grams {
            flush_grams(usize::MAX, single_at, &pair_at, &mut sink);
        }
    }
}

/// English words are indexed and searched by their stem (`carvings` → `carv`), so that
/// inflections find each other. Only words of ASCII letters are stemmed: codes such as
/// `i247` and pinyin syllables shorter than [`MIN_STEMMED_CHARS`] stay as they are.
fn stem_latin<'a>(stemmer: &frostem::Stemmer, word: &'a str) -> Cow<'a, str> {
    if word.len() >= MIN_STEMMED_CHARS && word.bytes().all(|b| b.is_ascii_lowercase()) {
        stemmer.stem(word)
    } else {
        Cow::Borrowed(word)
    }
}

/// Letters and digits of any script: a token without one is punctuation, space or a symbol.
#[inline]
fn is_word_char(c: char) -> bool {
    // Checked in order of likelihood; `char::is_alphanumeric` alone is a slow table lookup
    // for every Chinese character.
    c.is_ascii_alphanumeric() || is_cjk(c) || (!c.is_ascii() && c.is_alphanumeric())
}

/// CJK ideographs (unified, extension A, compatibility, and the supplementary planes), the
/// characters that get a token of their own in documents.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// A token borrowed from jieba's output, before it is copied anywhere.
struct RawToken<'a> {
    word: Cow<'a, str>,
    start: usize,
    end: usize,
    normalized: &'a Normalized,
}

impl RawToken<'_> {
    fn original_range(&self) -> Range<usize> {
        self.normalized.original_byte_offset(self.start)..self.normalized.original_byte_offset(self.end)
    }

    fn to_analyzed(&self) -> AnalyzedToken {
        AnalyzedToken {
            text: self.word.to_string(),
            position: self.start,
            char_len: self.end.saturating_sub(self.start),
            original_range: self.original_range(),
        }
    }
}

/// The tantivy tokenizer of every Chinese text field (search mode, character positions).
///
/// It keeps its token buffer between calls, so indexing reuses the token strings.
pub(crate) struct ChineseTokenizer {
    analyzer: ChineseAnalyzer,
    /// Always holds at least one token, so the stream can hand out a reference at any time.
    buffer: Vec<Token>,
}

impl ChineseTokenizer {
    pub(crate) fn new(analyzer: ChineseAnalyzer) -> Self {
        ChineseTokenizer {
            analyzer,
            buffer: vec![Token::default()],
        }
    }
}

impl Clone for ChineseTokenizer {
    fn clone(&self) -> Self {
        ChineseTokenizer::new(self.analyzer.clone())
    }
}

/// The tokens of one value, produced by [`ChineseTokenizer`].
pub(crate) struct ChineseTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    len: usize,
    /// Index of the current token plus one; 0 before the first `advance`.
    next: usize,
}

impl Tokenizer for ChineseTokenizer {
    type TokenStream<'a> = ChineseTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> ChineseTokenStream<'a> {
        let buffer = &mut self.buffer;
        let mut len = 0;
        self.analyzer.analyze(text, CutMode::Document, |raw| {
            let range = raw.original_range();
            if let Some(token) = buffer.get_mut(len) {
                token.text.clear();
                token.text.push_str(&raw.word);
                token.offset_from = range.start;
                token.offset_to = range.end;
                token.position = raw.start;
                token.position_length = raw.end.saturating_sub(raw.start).max(1);
            } else {
                buffer.push(Token {
                    offset_from: range.start,
                    offset_to: range.end,
                    position: raw.start,
                    text: raw.word.to_string(),
                    position_length: raw.end.saturating_sub(raw.start).max(1),
                });
            }
            len += 1;
        });
        if buffer.is_empty() {
            buffer.push(Token::default());
        }
        ChineseTokenStream {
            tokens: buffer,
            len,
            next: 0,
        }
    }
}

impl TokenStream for ChineseTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.len {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.next.saturating_sub(1).min(last)]
    }

    fn token_mut(&mut self) -> &mut Token {
        let last = self.tokens.len().saturating_sub(1);
        &mut self.tokens[self.next.saturating_sub(1).min(last)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tokens: &[AnalyzedToken]) -> Vec<(&str, usize)> {
        tokens.iter().map(|t| (t.text.as_str(), t.position)).collect()
    }

    #[test]
    fn documents_are_cut_in_search_mode_with_character_positions() {
        let analyzer = ChineseAnalyzer::shared();
        let tokens = analyzer.document_tokens("牀前明月光，疑是地上霜");
        assert_eq!(
            texts(&tokens),
            [
                ("床前", 0),
                ("床", 0),
                ("前", 1),
                // Pairs jieba did not make a word of (`床前` and `明月` are its own).
                ("前明", 1),
                ("明月", 2),
                ("明", 2),
                ("月光", 3),
                ("明月光", 2),
                ("月", 3),
                // No pair across punctuation.
                ("光", 4),
                ("疑是", 6),
                ("疑", 6),
                ("是", 7),
                ("是地", 7),
                ("地上", 8),
                ("地", 8),
                ("上", 9),
                ("上霜", 9),
                // jieba's own single-character word; no second unigram for it.
                ("霜", 10),
            ]
        );
        // Offsets point into the original (traditional) text.
        let original = "牀前明月光，疑是地上霜";
        assert_eq!(&original[tokens[0].original_range.clone()], "牀前");
        assert_eq!(tokens[0].char_len, 2);
    }

    #[test]
    fn every_terms_positions_increase() {
        let analyzer = ChineseAnalyzer::shared();
        let text = "中心中心，文化艺术中心的中心；马踏飞燕燕燕 abc abc";
        let tokens = analyzer.document_tokens(text);
        let mut last: std::collections::HashMap<&str, usize> = Default::default();
        for token in &tokens {
            if let Some(previous) = last.insert(&token.text, token.position) {
                assert!(
                    previous < token.position,
                    "{} at {previous} then {}",
                    token.text,
                    token.position
                );
            }
        }
        // Every CJK character is findable on its own.
        for (i, c) in text.chars().enumerate().filter(|(_, c)| is_cjk(*c)) {
            assert!(
                tokens.iter().any(|t| t.position == i && t.text == c.to_string()),
                "{c}@{i}"
            );
        }
        // And every pair of adjacent CJK characters, exactly once.
        let chars: Vec<char> = text.chars().collect();
        for (i, pair) in chars.windows(2).enumerate() {
            let pair: String = pair.iter().collect();
            let found = tokens
                .iter()
                .filter(|t| t.position == i && t.text == pair)
                .count();
            let expected = usize::from(pair.chars().all(is_cjk));
            assert_eq!(found, expected, "{pair}@{i}");
        }
    }

    #[test]
    fn queries_are_cut_in_precise_mode() {
        let analyzer = ChineseAnalyzer::shared();
        let tokens = analyzer.query_tokens("床前明月光");
        assert_eq!(texts(&tokens), [("床前", 0), ("明月光", 2)]);
    }

    #[test]
    fn local_words_stay_whole() {
        let analyzer = ChineseAnalyzer::shared();
        let tokens = analyzer.query_tokens("马家窑彩陶铜奔马皋兰");
        assert_eq!(
            texts(&tokens),
            [("马家窑", 0), ("彩陶", 3), ("铜奔马", 5), ("皋兰", 8)]
        );
    }

    #[test]
    fn punctuation_whitespace_and_emoji_make_no_tokens_but_keep_offsets() {
        let analyzer = ChineseAnalyzer::shared();
        let tokens = analyzer.query_tokens("《李白》 😀 ＡＢＣ");
        assert_eq!(texts(&tokens), [("李白", 1), ("abc", 7)]);
        assert!(analyzer.query_tokens("，。！？ 😀\u{0}").is_empty());
    }

    #[test]
    fn word_parts_are_the_pairs_that_tile_chinese_words() {
        let parts = |w| ChineseAnalyzer::word_parts(w);
        let owned = |v: &[(usize, &str)]| -> Vec<(usize, String)> {
            v.iter().map(|(o, t)| (*o, t.to_string())).collect()
        };
        assert_eq!(parts("艺术中心"), owned(&[(0, "艺术"), (2, "中心")]));
        assert_eq!(parts("静夜思"), owned(&[(0, "静夜"), (1, "夜思")]));
        assert_eq!(
            parts("马家窑文化"),
            owned(&[(0, "马家"), (2, "窑文"), (3, "文化")])
        );
        assert_eq!(parts("飞燕"), owned(&[(0, "飞燕")]));
        assert!(parts("abc").is_empty());
        assert!(parts("霜").is_empty());
        assert!(parts("a股").is_empty());
    }

    #[test]
    fn tokenizer_stream_matches_document_tokens() {
        let analyzer = ChineseAnalyzer::shared();
        let mut tokenizer = ChineseTokenizer::new(analyzer.clone());
        for text in ["兰州黄河文化艺术中心", "", "，，", "ISBN 978-7-101"] {
            let mut stream = tokenizer.token_stream(text);
            let mut seen = Vec::new();
            while let Some(token) = stream.next() {
                seen.push((
                    token.text.clone(),
                    token.position,
                    token.offset_from,
                    token.offset_to,
                ));
            }
            let expected: Vec<_> = analyzer
                .document_tokens(text)
                .into_iter()
                .map(|t| (t.text, t.position, t.original_range.start, t.original_range.end))
                .collect();
            assert_eq!(seen, expected, "{text}");
        }
    }
}
