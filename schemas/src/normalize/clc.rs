//! 中图法 (Chinese Library Classification) class numbers.

/// True for values shaped like a 中图法 (Chinese Library Classification) class number:
/// one main-class letter (two for the `T` industrial subclasses, e.g. `TU`), an optional
/// `-` (general subdivisions such as `TU-092.2`), digits, then only digits and the
/// notation's punctuation (`.`, `-`, `/`, `:`, `=`, `(`, `)`, `"`).
///
/// ```
/// use jincheng_schemas::is_clc_class;
/// assert!(is_clc_class("I222.742"));
/// assert!(is_clc_class("TU-092.2"));
/// assert!(!is_clc_class("中国画-考证"));
/// assert!(!is_clc_class("PL2658")); // a Library of Congress class
/// ```
pub fn is_clc_class(text: &str) -> bool {
    const MAIN_CLASSES: &str = "ABCDEFGHIJKNOPQRSTUVXZ";
    const T_SUBCLASSES: &str = "BDEFGHJKLMNPQSUV";
    let mut chars = text.trim().chars().peekable();
    let Some(first) = chars.next() else {
        return false;
    };
    if !MAIN_CLASSES.contains(first) {
        return false;
    }
    if first == 'T'
        && let Some(&second) = chars.peek()
        && second.is_ascii_uppercase()
    {
        if !T_SUBCLASSES.contains(second) {
            return false;
        }
        chars.next();
    }
    if chars.peek() == Some(&'-') {
        chars.next();
    }
    if !chars.peek().is_some_and(char::is_ascii_digit) {
        return false;
    }
    chars.all(|c| c.is_ascii_digit() || ".-/:=()\"".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_numbers_are_recognised() {
        for class in ["I222.742", "K876.3", "TU-092.2", "J212.05", "K879.34", "TP311.13"] {
            assert!(is_clc_class(class), "{class}");
        }
        for text in [
            "中国画-考证-中国-辽金",
            "PL2658",
            "L123",
            "T",
            "K",
            "Kx12",
            "2003",
            "TW12",
            "",
        ] {
            assert!(!is_clc_class(text), "{text}");
        }
    }
}
