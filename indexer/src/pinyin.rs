//! Pinyin: the readings of titles and creators, in fields of their own.
//!
//! People type pinyin on phone keyboards: `jingyesi`, `jing ye si`, or just the initials
//! `jys`, for `靜夜思`. Titles and creators are therefore also indexed, in *separate* fields
//! (`title_pinyin`, `title_initials`, `creators_pinyin`, `creators_initials`), by two
//! tokenizers:
//!
//! - [`PinyinMode::Syllables`]: every CJK character's toneless syllables (the common reading
//!   first, then up to [`MAX_READINGS`]` - 1` others, so `长安` is found by `chang an` and
//!   `zhang an` alike) at the character's offset, plus the whole value's joined reading
//!   (`jingyesi`) as one more token;
//! - [`PinyinMode::Initials`]: at every character, the initials of the run of two to
//!   [`MAX_INITIALS_GRAM`] characters starting there (`jy`, `jys` at 靜; `ys` at 夜), each
//!   spelled with every combination of its characters' heteronyms up to
//!   [`MAX_INITIALS_VARIANTS`], plus the joined initials of the whole value (`jys`). The
//!   query builder finds a run of initials of *any* length as the phrase of the grams that
//!   tile it, so every title, however long, is found by its initials and by the initials of
//!   any run of it (a prefix: `jnmg` for `江南民國青銅器通史`, `jnmgqtqts` for all of it),
//!   while the index holds at most `3 × MAX_INITIALS_VARIANTS` grams per character.
//!
//! `ü` is written `v`, as on every pinyin keyboard (`lv` for `绿`). The fields are consulted
//! only for query words made of Latin letters (see [`crate::query`]): a Chinese query never
//! reaches them, so `景点` cannot find its homophone `经典`.

use std::collections::HashSet;
use std::sync::OnceLock;

use pinyin::ToPinyinMulti;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use crate::analysis::is_cjk;
use crate::normalize::normalize;

/// Readings indexed per character at most (heteronyms beyond are rare readings).
pub(crate) const MAX_READINGS: usize = 3;
/// Longest joined reading indexed, in characters of the value: longer values (a poem's first
/// line used as a title) are found by syllables only.
const MAX_JOINED_CHARS: usize = 24;
/// Longest run of characters whose initials are indexed as one token.
pub(crate) const MAX_INITIALS_GRAM: usize = 4;
/// Spellings of one initials gram indexed at most (the heteronyms of its characters
/// combined; the common readings come first).
const MAX_INITIALS_VARIANTS: usize = 8;
/// Longest pinyin string segmented into syllables, in letters.
pub(crate) const MAX_PINYIN_LETTERS: usize = 64;

/// Which reading a pinyin field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PinyinMode {
    /// Toneless syllables (`jing`).
    Syllables,
    /// First letters (`j`).
    Initials,
}

/// The readings of one character, toneless, `ü` as `v`, the common one first, at most
/// [`MAX_READINGS`], without duplicates.
pub(crate) fn readings(c: char) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(multi) = c.to_pinyin_multi() {
        for reading in multi {
            let plain = reading.plain().replace('ü', "v");
            if !out.contains(&plain) {
                out.push(plain);
            }
            if out.len() == MAX_READINGS {
                break;
            }
        }
    }
    out
}

/// The common reading of `c`, if it has one.
pub(crate) fn common_reading(c: char) -> Option<String> {
    use pinyin::ToPinyin;
    c.to_pinyin().map(|p| p.plain().replace('ü', "v"))
}

/// The joined common reading and joined initials of `text` (normalised first). Latin letters
/// and digits are kept as they are; other characters are dropped. `("jingyesi", "jys")`.
pub(crate) fn joined(text: &str) -> (String, String) {
    let normalized = normalize(text).text;
    let mut full = String::new();
    let mut initials = String::new();
    for c in normalized.chars() {
        if is_cjk(c) {
            if let Some(reading) = common_reading(c) {
                initials.extend(reading.chars().next());
                full.push_str(&reading);
            }
        } else if c.is_ascii_alphanumeric() {
            full.push(c);
            initials.push(c);
        }
    }
    (full, initials)
}

/// Every toneless syllable of Mandarin, from the pinyin crate's own table.
fn syllables() -> &'static HashSet<String> {
    static SYLLABLES: OnceLock<HashSet<String>> = OnceLock::new();
    SYLLABLES.get_or_init(|| {
        let mut set = HashSet::new();
        for code in 0x4E00u32..=0x9FFF {
            if let Some(c) = char::from_u32(code) {
                set.extend(readings(c));
            }
        }
        set
    })
}

/// Longest syllable, in letters (`zhuang`, `shuang`).
const MAX_SYLLABLE_LETTERS: usize = 6;

/// Most readings [`segmentations`] returns.
pub(crate) const MAX_SEGMENTATIONS: usize = 4;

/// Splits a string of Latin letters into pinyin syllables, using as few syllables as possible
/// (`jingyesi` → `jing ye si`, `xian` → `xian`); an apostrophe forces a boundary
/// (`xi'an` → `xi an`). `None` if the string is not entirely pinyin, is empty, or is longer
/// than [`MAX_PINYIN_LETTERS`]. When several splits have that many syllables, the first.
#[cfg(test)]
pub(crate) fn segment(text: &str) -> Option<Vec<String>> {
    segmentations(text).into_iter().next()
}

/// Every split of `text` into the fewest syllables, at most [`MAX_SEGMENTATIONS`]:
/// `changhenge` is `chang hen ge` or `chang heng e`, and only the index knows which.
pub(crate) fn segmentations(text: &str) -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = vec![Vec::new()];
    for piece in text.split(['\'', '’']).filter(|p| !p.is_empty()) {
        let splits = segment_piece(piece);
        if splits.is_empty() {
            return Vec::new();
        }
        let mut next = Vec::new();
        for prefix in &all {
            for split in &splits {
                if next.len() < MAX_SEGMENTATIONS {
                    next.push(prefix.iter().chain(split).cloned().collect());
                }
            }
        }
        all = next;
    }
    all.retain(|s: &Vec<String>| !s.is_empty());
    all
}

fn segment_piece(text: &str) -> Vec<Vec<String>> {
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n == 0 || n > MAX_PINYIN_LETTERS || !bytes.iter().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let set = syllables();
    // fewest[i]: fewest syllables covering text[..i].
    let mut fewest: Vec<Option<usize>> = vec![None; n + 1];
    fewest[0] = Some(0);
    for end in 1..=n {
        for len in 1..=MAX_SYLLABLE_LETTERS.min(end) {
            let start = end - len;
            if let Some(count) = fewest[start]
                && set.contains(&text[start..end])
                && fewest[end].is_none_or(|c| count + 1 < c)
            {
                fewest[end] = Some(count + 1);
            }
        }
    }
    // Walk back along every optimal split, longest last syllable first.
    let mut out = Vec::new();
    let mut stack: Vec<(usize, Vec<String>)> = vec![(n, Vec::new())];
    while let Some((end, tail)) = stack.pop() {
        if out.len() == MAX_SEGMENTATIONS {
            break;
        }
        if end == 0 {
            out.push(tail.into_iter().rev().collect());
            continue;
        }
        let Some(count) = fewest[end] else { continue };
        for len in 1..=MAX_SYLLABLE_LETTERS.min(end) {
            let start = end - len;
            if fewest[start] == Some(count - 1) && set.contains(&text[start..end]) {
                let mut next = tail.clone();
                next.push(text[start..end].to_string());
                stack.push((start, next));
            }
        }
    }
    out
}

/// The tantivy tokenizer of the pinyin fields.
#[derive(Clone)]
pub(crate) struct PinyinTokenizer {
    mode: PinyinMode,
    tokens: Vec<Token>,
}

impl PinyinTokenizer {
    pub(crate) fn new(mode: PinyinMode) -> Self {
        PinyinTokenizer {
            mode,
            tokens: Vec::new(),
        }
    }
}

/// The tokens of one value, produced by [`PinyinTokenizer`].
pub(crate) struct PinyinTokenStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for PinyinTokenizer {
    type TokenStream<'a> = PinyinTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> PinyinTokenStream<'a> {
        self.tokens.clear();
        let normalized = normalize(text);
        let chars: Vec<char> = normalized.text.chars().collect();
        // The distinct initials of every character's readings, the common one first (empty
        // for non-CJK), for the grams: 長 is both `z` and `c`, 泊 both `b` and `p`.
        let mut initials: Vec<Vec<char>> = Vec::with_capacity(chars.len());
        let mut joined = String::new();
        let mut cjk = 0;
        for (position, &c) in chars.iter().enumerate() {
            if !is_cjk(c) {
                initials.push(Vec::new());
                continue;
            }
            cjk += 1;
            let all = readings(c);
            let first_initial = all.first().and_then(|r| r.chars().next());
            let mut own: Vec<char> = Vec::new();
            for initial in all.iter().filter_map(|r| r.chars().next()) {
                if !own.contains(&initial) {
                    own.push(initial);
                }
            }
            initials.push(own);
            if let Some(first) = all.first() {
                match self.mode {
                    PinyinMode::Syllables => joined.push_str(first),
                    PinyinMode::Initials => joined.extend(first_initial),
                }
            }
            let from = normalized.original_byte_offset(position);
            let to = normalized.original_byte_offset(position + 1);
            if self.mode == PinyinMode::Syllables {
                for reading in all {
                    self.tokens.push(Token {
                        offset_from: from,
                        offset_to: to,
                        position,
                        text: reading,
                        position_length: 1,
                    });
                }
            }
        }
        if self.mode == PinyinMode::Initials {
            for start in 0..initials.len() {
                // Every spelling of the gram so far, at most MAX_INITIALS_VARIANTS.
                let mut grams = vec![String::new()];
                for (len, own) in initials[start..].iter().take(MAX_INITIALS_GRAM).enumerate() {
                    if own.is_empty() {
                        break;
                    }
                    let mut longer = Vec::with_capacity(grams.len() * own.len());
                    for gram in &grams {
                        for initial in own {
                            if longer.len() < MAX_INITIALS_VARIANTS {
                                longer.push(format!("{gram}{initial}"));
                            }
                        }
                    }
                    grams = longer;
                    if len >= 1 {
                        for gram in &grams {
                            self.tokens.push(Token {
                                offset_from: normalized.original_byte_offset(start),
                                offset_to: normalized.original_byte_offset(start + len + 1),
                                position: start,
                                text: gram.clone(),
                                position_length: len + 1,
                            });
                        }
                    }
                }
            }
        }
        // The joined reading of the whole value, after the characters, so that it never
        // shares a position with the same term.
        if (2..=MAX_JOINED_CHARS).contains(&cjk) {
            self.tokens.push(Token {
                offset_from: 0,
                offset_to: text.len(),
                position: chars.len(),
                text: joined,
                position_length: 1,
            });
        }
        PinyinTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for PinyinTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        static EMPTY: OnceLock<Token> = OnceLock::new();
        self.tokens
            .get(self.next.saturating_sub(1))
            .unwrap_or_else(|| EMPTY.get_or_init(Token::default))
    }

    fn token_mut(&mut self) -> &mut Token {
        if self.tokens.is_empty() {
            self.tokens.push(Token::default());
        }
        let last = self.tokens.len() - 1;
        let index = self.next.saturating_sub(1).min(last);
        &mut self.tokens[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(mode: PinyinMode, text: &str) -> Vec<(String, usize)> {
        let mut tokenizer = PinyinTokenizer::new(mode);
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push((stream.token().text.clone(), stream.token().position));
        }
        out
    }

    #[test]
    fn syllables_initials_and_the_joined_forms() {
        let got = tokens(PinyinMode::Syllables, "靜夜思");
        assert_eq!(got[0], ("jing".to_string(), 0));
        assert!(got.contains(&("ye".to_string(), 1)));
        assert!(got.contains(&("si".to_string(), 2)));
        assert_eq!(got.last(), Some(&("jingyesi".to_string(), 3)));
        let got = tokens(PinyinMode::Initials, "靜夜思");
        assert_eq!(
            got,
            [("jy", 0), ("jys", 0), ("ys", 1), ("jys", 3)].map(|(t, p)| (t.to_string(), p))
        );
        assert_eq!(joined("李白"), ("libai".to_string(), "lb".to_string()));
    }

    #[test]
    fn initials_grams_spell_every_reading_of_a_heteronym() {
        // 長 reads zhǎng and cháng, 泊 bó and pō: citizens type either initial.
        let got = tokens(PinyinMode::Initials, "長恨歌");
        for gram in ["chg", "zhg", "ch", "zh", "hg"] {
            assert!(
                got.contains(&(gram.to_string(), usize::from(gram.starts_with('h')))),
                "{gram}: {got:?}"
            );
        }
        let got = tokens(PinyinMode::Initials, "楓橋夜泊");
        assert!(got.contains(&("fqyb".to_string(), 0)) && got.contains(&("fqyp".to_string(), 0)));
        // Combined heteronyms are capped per gram.
        let got = tokens(PinyinMode::Initials, "行行重重");
        let four = got.iter().filter(|(t, p)| t.len() == 4 && *p == 0).count();
        assert!((1..=MAX_INITIALS_VARIANTS).contains(&four), "{four}");
    }

    #[test]
    fn heteronyms_share_the_position_and_u_umlaut_is_v() {
        let got = tokens(PinyinMode::Syllables, "长安");
        assert!(got.contains(&("chang".to_string(), 0)));
        assert!(got.contains(&("zhang".to_string(), 0)));
        assert_eq!(common_reading('绿').as_deref(), Some("lv"));
    }

    #[test]
    fn pinyin_strings_split_into_the_fewest_syllables() {
        let split = |s: &str| segment(s).map(|v| v.join(" "));
        assert_eq!(split("jingyesi").as_deref(), Some("jing ye si"));
        assert_eq!(split("xian").as_deref(), Some("xian"));
        assert_eq!(split("xi'an").as_deref(), Some("xi an"));
        assert_eq!(split("lanzhou").as_deref(), Some("lan zhou"));
        assert_eq!(split("jys"), None);
        let readings: Vec<String> = segmentations("changhenge").iter().map(|s| s.join(" ")).collect();
        assert!(readings.contains(&"chang hen ge".to_string()), "{readings:?}");
        assert_eq!(split("carving"), None);
        assert_eq!(split(""), None);
        assert_eq!(split(&"a".repeat(MAX_PINYIN_LETTERS + 1)), None);
    }
}
