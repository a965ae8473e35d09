//! ISBN-10 and ISBN-13 validation and normalisation to ISBN-13.

/// Normalises an ISBN-10 or ISBN-13 (hyphens and spaces allowed) to the 13 digits of its
/// ISBN-13, or `None` if it is not a valid ISBN (wrong length or check digit).
///
/// ```
/// use jincheng_schemas::normalize_isbn;
/// assert_eq!(normalize_isbn("7-101-00001-0").as_deref(), Some("9787101000016"));
/// assert_eq!(normalize_isbn("978-7-5580-6440-1").as_deref(), Some("9787558064401"));
/// assert_eq!(normalize_isbn("978-7-5580-6440-2"), None);
/// ```
pub fn normalize_isbn(text: &str) -> Option<String> {
    let compact: Vec<char> = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    match compact.len() {
        10 => {
            let mut sum = 0;
            for (i, c) in compact.iter().enumerate() {
                let value = match c {
                    'x' | 'X' if i == 9 => 10,
                    c => c.to_digit(10)?,
                };
                sum += (10 - i as u32) * value;
            }
            if sum % 11 != 0 {
                return None;
            }
            let mut digits = String::from("978");
            digits.extend(compact.iter().take(9));
            let check = isbn13_check_digit(&digits)?;
            digits.push(char::from_digit(check, 10)?);
            Some(digits)
        }
        13 => {
            let digits: String = compact.iter().collect();
            if !(digits.starts_with("978") || digits.starts_with("979")) {
                return None;
            }
            let body = digits.get(..12)?;
            let last = compact.last()?.to_digit(10)?;
            (isbn13_check_digit(body)? == last).then_some(digits)
        }
        _ => None,
    }
}

/// The check digit of the first 12 digits of an ISBN-13.
fn isbn13_check_digit(first12: &str) -> Option<u32> {
    let mut sum = 0;
    for (i, c) in first12.chars().enumerate() {
        let weight = if i % 2 == 0 { 1 } else { 3 };
        sum += weight * c.to_digit(10)?;
    }
    Some((10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isbns_are_checked_and_made_isbn13() {
        let cases: &[(&str, Option<&str>)] = &[
            ("978-7-5580-6440-1", Some("9787558064401")),
            ("9787558064401", Some("9787558064401")),
            ("978 7 5580 6440 1", Some("9787558064401")),
            ("978-7-5580-6440-2", None),
            ("7-101-00001-0", Some("9787101000016")),
            ("7-101-00001-2", None),
            ("0-306-40615-2", Some("9780306406157")),
            ("0-8044-2957-X", Some("9780804429573")),
            ("0-8044-2957-x", Some("9780804429573")),
            ("0-306-40615-3", None),
            ("X-306-40615-2", None),
            ("123-4-5678-9012-3", None),
            ("12345", None),
            ("７-101-00001-0", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(normalize_isbn(text).as_deref(), *want, "{text:?}");
        }
    }
}
