//! Character-level normalisation applied before segmentation, to documents and queries alike.
//!
//! Three foldings, each mapping exactly one character to exactly one character:
//!
//! 1. full-width ASCII to half-width (`ＡＢＣ１２３` → `ABC123`, the ideographic space → space);
//! 2. lowercase (a character whose lowercase form is several characters, such as `İ`, is kept);
//! 3. traditional to simplified Chinese with `fast2s` (which looks at the neighbouring characters
//!    for a few ambiguous ones such as `乾隆` / `乾淨`), completed by [`VARIANT_FOLDS`] for variant
//!    characters it leaves alone.
//!
//! Because every step is one character to one character, the n-th character of the normalised
//! text *is* the n-th character of the original. [`Normalized`] keeps the byte offset of every
//! original character, so a token found in the normalised text can point into the original
//! text (highlights wrap the characters the user wrote, e.g. `靜夜思` for the query `静夜思`).

/// Variant characters that `fast2s` 0.3 does not fold, checked one by one against it (see the
/// tests). Old editions and OCR output use them; a reader types the standard form.
const VARIANT_FOLDS: &[(char, char)] = &[
    ('峯', '峰'),
    ('羣', '群'),
    ('緖', '绪'),
    ('眞', '真'),
    ('淸', '清'),
    ('髪', '发'),
    ('踨', '踪'),
    ('羗', '羌'),
    ('嶋', '岛'),
];

/// The lowest code point in [`VARIANT_FOLDS`], so most characters skip the table.
const LOWEST_VARIANT: u32 = {
    let mut lowest = u32::MAX;
    let mut i = 0;
    while i < VARIANT_FOLDS.len() {
        let c = VARIANT_FOLDS[i].0 as u32;
        if c < lowest {
            lowest = c;
        }
        i += 1;
    }
    lowest
};

/// A normalised text and the way back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Normalized {
    /// The normalised text, with exactly as many characters as the original.
    pub(crate) text: String,
    /// `original_offsets[i]` is the byte offset in the original text of character `i`; the
    /// last entry is the original text's length, so `[start, end)` character ranges map to
    /// byte ranges without a special case.
    original_offsets: Vec<usize>,
}

impl Normalized {
    /// Byte offset in the original text of the character at index `char_index` of the
    /// normalised text (the end of the text for an index one past the last character).
    pub(crate) fn original_byte_offset(&self, char_index: usize) -> usize {
        match self.original_offsets.get(char_index) {
            Some(&offset) => offset,
            None => self.original_offsets.last().copied().unwrap_or(0),
        }
    }
}

/// Folds one character for width and case. Traditional → simplified is done on the whole
/// string afterwards because `fast2s` looks at the neighbours of ambiguous characters.
#[inline]
fn fold_width_and_case(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    // CJK radicals, punctuation, kana and ideographs have no case and no width variant: the
    // common path for Chinese text skips the Unicode case tables.
    if ('\u{3001}'..='\u{9FFF}').contains(&c) {
        return c;
    }
    let c = match c {
        // Full-width forms of the printable ASCII characters sit at a fixed distance.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c.is_uppercase() {
        let mut lower = c.to_lowercase();
        if let (Some(single), None) = (lower.next(), lower.next()) {
            return single;
        }
    }
    c
}

#[inline]
fn fold_variant(c: char) -> char {
    // The table is tiny and the characters are rare: a linear scan guarded by a range check
    // costs less than a hash lookup on the common path.
    if (c as u32) < LOWEST_VARIANT {
        return c;
    }
    VARIANT_FOLDS
        .iter()
        .find(|(from, _)| *from == c)
        .map_or(c, |(_, to)| *to)
}

/// Normalises `original` (see the module documentation).
pub(crate) fn normalize(original: &str) -> Normalized {
    let mut original_offsets = Vec::with_capacity(original.len() + 1);
    let mut folded = String::with_capacity(original.len());
    let mut has_non_ascii = false;
    for (offset, c) in original.char_indices() {
        original_offsets.push(offset);
        let f = fold_width_and_case(c);
        has_non_ascii |= !f.is_ascii();
        folded.push(f);
    }
    original_offsets.push(original.len());

    if !has_non_ascii {
        return Normalized {
            text: folded,
            original_offsets,
        };
    }
    let simplified = fast2s::convert(&folded);
    let mut text = String::with_capacity(simplified.len());
    let mut chars = 0;
    for c in simplified.chars() {
        text.push(fold_variant(c));
        chars += 1;
    }
    // fast2s pushes one character per character today; should a future version not, keeping
    // the unconverted text is better than offsets that point at the wrong characters.
    if chars != original_offsets.len() - 1 {
        text = folded.chars().map(fold_variant).collect();
    }
    Normalized {
        text,
        original_offsets,
    }
}

/// The text that `original` is searched as: width- and case-folded, traditional and variant
/// characters folded to simplified (`牀前明月光` and `床前明月光` are the same text). Anything
/// that must agree with the index on what counts as "the same query" (the search
/// statistics) folds with this.
pub fn fold_text(original: &str) -> String {
    normalize(original).text
}

/// Normalises a value that is matched exactly (filters, ISBNs): only width and case.
pub(crate) fn normalize_keyword(value: &str) -> String {
    value.trim().chars().map(fold_width_and_case).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize(s).text
    }

    #[test]
    fn full_width_becomes_half_width_and_lowercase() {
        assert_eq!(norm("ＡＢＣ１２３"), "abc123");
        assert_eq!(norm("Ｈｅｌｌｏ　Ｗｏｒｌｄ！"), "hello world!");
        assert_eq!(norm("ÉCOLE Straße"), "école straße");
    }

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(norm("靜夜思"), "静夜思");
        assert_eq!(norm("中華書局"), "中华书局");
        assert_eq!(norm("蘭州黃河"), "兰州黄河");
    }

    #[test]
    fn variant_characters_fold() {
        assert_eq!(norm("牀前明月光"), "床前明月光");
        assert_eq!(norm("爲箇裏"), "为个里");
        assert_eq!(norm("峯羣眞淸"), "峰群真清");
    }

    #[test]
    fn the_variant_table_only_holds_what_fast2s_misses() {
        for (from, to) in VARIANT_FOLDS {
            let by_fast2s = fast2s::convert(&from.to_string());
            assert_eq!(by_fast2s, from.to_string(), "fast2s now folds {from}: drop it");
            assert_ne!(from, to);
        }
    }

    #[test]
    fn context_dependent_folding_is_kept() {
        assert_eq!(norm("乾隆"), "乾隆");
        assert_eq!(norm("乾淨"), "干净");
    }

    #[test]
    fn character_count_and_offsets_are_preserved() {
        let original = "Ａ靜夜思İx😀";
        let n = normalize(original);
        assert_eq!(n.text.chars().count(), original.chars().count());
        // Character 1 (靜) starts after the 3-byte full-width Ａ, although the normalised
        // text has a 1-byte `a` there.
        assert_eq!(n.original_byte_offset(1), 3);
        assert_eq!(
            &original[n.original_byte_offset(1)..n.original_byte_offset(4)],
            "靜夜思"
        );
        // İ lowercases to two characters, so it is kept as is.
        assert!(n.text.contains('İ'));
        assert_eq!(n.original_byte_offset(100), original.len());
    }

    #[test]
    fn empty_and_control_characters_do_not_panic() {
        assert_eq!(norm(""), "");
        assert_eq!(norm("\u{0}\u{7}\n"), "\u{0}\u{7}\n");
    }

    #[test]
    fn keywords_fold_width_and_case_only() {
        assert_eq!(normalize_keyword(" ＺＨ "), "zh");
        assert_eq!(normalize_keyword("城关区"), "城关区");
    }
}
