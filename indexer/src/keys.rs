//! Exact-match keys: ISBN-13s, classification codes and call numbers, title keys, work keys.
//!
//! These are matched whole (keyword fields), not through the Chinese analysis, because
//! segmentation would tear them apart (`I247.5` → `i247` + `5`).

use schemas::Record;

use crate::normalize::normalize;

/// Longest classification code or call number indexed, in characters.
const MAX_CODE_CHARS: usize = 40;

/// The ISBN-13 for an ISBN-10 or ISBN-13 (hyphens and spaces ignored, an `ISBN` prefix
/// allowed), else `None`. ISBN-10s are converted, so either form finds the other.
pub(crate) fn isbn13(value: &str) -> Option<String> {
    let value = value.trim();
    let value = value
        .strip_prefix("ISBN")
        .or_else(|| value.strip_prefix("isbn"))
        .unwrap_or(value)
        .trim_start_matches([':', ' ']);
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '‐' | '－'))
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

/// Does `value` (normalised: lowercase, half-width) look like a CLC class or a call number:
/// one to three letters, then a digit, then digits, `.`, `/`, `-`, `:` or letters
/// (`i247.5`, `k872.42`, `ts938.1`, `i247.5/123`)?
pub(crate) fn looks_like_code(value: &str) -> bool {
    let bytes = value.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_lowercase()).count();
    (1..=3).contains(&letters)
        && bytes.len() <= MAX_CODE_CHARS
        && bytes.get(letters).is_some_and(u8::is_ascii_digit)
        && bytes[letters..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'-' | b':'))
}

/// The terms a classification code or call number is indexed under: the whole code and
/// every prefix that ends on a digit of its class part, so that `I247.5` is found by `I247.5`,
/// `I247` and `I24` (its broader classes in the CLC hierarchy), and the call number
/// `I247.5/123` by its class too. Codes that do not look like codes (`TS`, `地方文献`) are
/// indexed whole.
pub(crate) fn code_terms(value: &str) -> Vec<String> {
    let code: String = normalize(value.trim())
        .text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if code.is_empty() || code.chars().count() > MAX_CODE_CHARS {
        return Vec::new();
    }
    let mut terms = vec![code.clone()];
    if looks_like_code(&code) {
        // The class part ends at the first separator of a call number.
        let class_end = code.find(['/', ':', '-']).unwrap_or(code.len());
        let class = &code[..class_end];
        for (i, c) in class.char_indices() {
            let end = i + c.len_utf8();
            if c.is_ascii_digit() && end < class.len() {
                terms.push(class[..end].to_string());
            }
        }
        if class_end < code.len() && !class.is_empty() {
            terms.push(class.to_string());
        }
    }
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// A text folded for exact comparison: simplified, lowercase, half-width, letters and digits
/// only (`《靜夜思》` → `静夜思`, `Gourd Carving: A Folk Art` → `gourdcarvingafolkart`).
pub(crate) fn text_key(value: &str) -> String {
    normalize(value)
        .text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// The work a record is a copy of: `isbn:` and its first valid ISBN-13, or else
/// `t:` + title | creators | publisher, each as a [`text_key`]. The edition is part of the
/// key through the title, where our sources put it (`齐家文化论集（第2版）`).
///
/// Two libraries' records of the same book get the same key, and collapse into one hit.
pub(crate) fn work_key(record: &Record) -> String {
    if let Some(isbn) = record.isbns.iter().find_map(|i| isbn13(i)) {
        return format!("isbn:{isbn}");
    }
    let creators: Vec<String> = record.creators.iter().map(|c| text_key(c)).collect();
    format!(
        "t:{}|{}|{}",
        text_key(&record.title),
        creators.join(","),
        record.publisher.as_deref().map(text_key).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns_normalise_to_isbn13() {
        assert_eq!(isbn13("978-7-101-00304-8").as_deref(), Some("9787101003048"));
        assert_eq!(isbn13("7101003044").as_deref(), Some("9787101003048"));
        assert_eq!(isbn13("080442957X").as_deref(), Some("9780804429573"));
        assert_eq!(isbn13("ISBN 9787549053124").as_deref(), Some("9787549053124"));
        assert_eq!(isbn13("12345"), None);
        assert_eq!(isbn13("１２３"), None);
    }

    #[test]
    fn codes_are_indexed_with_their_broader_classes() {
        assert_eq!(code_terms("I247.5"), ["i2", "i24", "i247", "i247.5"]);
        assert_eq!(
            code_terms("I247.5/123"),
            ["i2", "i24", "i247", "i247.5", "i247.5/123"]
        );
        assert_eq!(code_terms("ＴＳ９３８"), ["ts9", "ts93", "ts938"]);
        assert_eq!(code_terms("地方文献"), ["地方文献"]);
        assert!(looks_like_code("k872.42"));
        assert!(!looks_like_code("abc"));
        assert!(!looks_like_code("9787"));
    }

    #[test]
    fn work_keys_prefer_the_isbn_and_fold_the_rest() {
        let mut a = Record::new("a:1", "a", "《靜夜思》");
        a.creators.push("李白".into());
        let mut b = Record::new("b:9", "b", "静夜思");
        b.creators.push("李 白".into());
        assert_eq!(work_key(&a), work_key(&b));
        b.isbns.push("7101003044".into());
        assert_eq!(work_key(&b), "isbn:9787101003048");
    }
}
