//! Event times: the start and end of a lecture or a performance, as ISO 8601 text.
//!
//! Sources write them as ISO 8601 (`2025-03-08T14:30:00+08:00`), with a space instead of
//! the `T`, with slashes or dots (`2025/3/8 14:30`), or in Chinese (`2025年3月8日（周六）
//! 下午2:30`, `2025年3月8日14点半`). The result is `YYYY-MM-DD`, `YYYY-MM-DDThh:mm`,
//! `YYYY-MM-DDThh:mm:ss`, with the source's offset appended only if it gave one: a time
//! without an offset is the institution's local time, and no time zone is invented.

/// A date, an optional time and an optional offset, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DateTime {
    year: u32,
    month: u32,
    day: u32,
    time: Option<(u32, u32, Option<u32>)>,
    offset: Option<String>,
}

impl DateTime {
    fn to_iso(&self) -> String {
        let mut out = format!("{:04}-{:02}-{:02}", self.year, self.month, self.day);
        if let Some((hour, minute, second)) = self.time {
            out.push_str(&format!("T{hour:02}:{minute:02}"));
            if let Some(second) = second {
                out.push_str(&format!(":{second:02}"));
            }
            if let Some(offset) = &self.offset {
                out.push_str(offset);
            }
        }
        out
    }
}

/// Normalises one date or date-time to ISO 8601 (see the module documentation), or `None`
/// if it is not understood or not a valid date (`2025-02-30`).
///
/// ```
/// use jincheng_schemas::normalize_datetime;
/// assert_eq!(normalize_datetime("2025年3月8日 下午2:30").as_deref(), Some("2025-03-08T14:30"));
/// assert_eq!(normalize_datetime("2025-03-08 14:30:00+08:00").as_deref(), Some("2025-03-08T14:30:00+08:00"));
/// assert_eq!(normalize_datetime("2025/3/8").as_deref(), Some("2025-03-08"));
/// assert_eq!(normalize_datetime("下周六"), None);
/// ```
pub fn normalize_datetime(text: &str) -> Option<String> {
    let mut scanner = Scanner::new(text);
    let found = scanner.datetime()?;
    scanner.skip_space();
    scanner.at_end().then(|| found.to_iso())
}

/// Reads a start time at the beginning of `text` and, if one follows a dash, `至` or `~`,
/// an end time: a full date-time, a date without the year (`3月10日`), or a time on the same
/// day (`14:30-16:30`). Whatever follows is ignored, so `2025年3月8日 14:30（周六）` works.
///
/// ```
/// use jincheng_schemas::parse_time_span;
/// assert_eq!(
///     parse_time_span("2025年3月8日 14:30-16:30，请提前入场"),
///     Some(("2025-03-08T14:30".into(), Some("2025-03-08T16:30".into())))
/// );
/// assert_eq!(
///     parse_time_span("2025年3月8日至3月10日"),
///     Some(("2025-03-08".into(), Some("2025-03-10".into())))
/// );
/// assert_eq!(parse_time_span("待定"), None);
/// ```
pub fn parse_time_span(text: &str) -> Option<(String, Option<String>)> {
    let mut scanner = Scanner::new(text);
    let start = scanner.datetime()?;
    let checkpoint = scanner.pos;
    scanner.skip_space();
    let end = if scanner.eat_any(&["-", "－", "—", "–", "~", "～", "至", "到"]) {
        scanner.skip_space();
        let after_separator = scanner.pos;
        scanner
            .datetime()
            .or_else(|| {
                scanner.pos = after_separator;
                scanner.month_day_after(&start)
            })
            .or_else(|| {
                scanner.pos = after_separator;
                let time = scanner.time()?;
                Some(DateTime {
                    time: Some(time),
                    offset: start.offset.clone(),
                    ..start.clone()
                })
            })
    } else {
        scanner.pos = checkpoint;
        None
    };
    Some((start.to_iso(), end.map(|e| e.to_iso())))
}

/// A cursor over the characters of a text, with full-width forms folded.
struct Scanner {
    chars: Vec<char>,
    pos: usize,
}

impl Scanner {
    fn new(text: &str) -> Self {
        let chars = text
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '：' => ':',
                '（' => '(',
                '）' => ')',
                '\u{3000}' => ' ',
                c => c,
            })
            .collect();
        Scanner { chars, pos: 0 }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        let matches = self
            .chars
            .get(self.pos..self.pos + n)
            .is_some_and(|window| window.iter().copied().eq(s.chars()));
        if matches {
            self.pos += n;
        }
        matches
    }

    fn eat_any(&mut self, options: &[&str]) -> bool {
        options.iter().any(|s| self.eat_str(s))
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// 1 to `max` ASCII digits.
    fn number(&mut self, max: usize) -> Option<u32> {
        let start = self.pos;
        let mut value = 0u32;
        while self.pos - start < max
            && let Some(d) = self.peek().and_then(|c| c.to_digit(10))
        {
            value = value * 10 + d;
            self.pos += 1;
        }
        (self.pos > start).then_some(value)
    }

    /// A date with year, optionally followed by a time.
    fn datetime(&mut self) -> Option<DateTime> {
        let start = self.pos;
        let result = self.datetime_inner();
        if result.is_none() {
            self.pos = start;
        }
        result
    }

    fn datetime_inner(&mut self) -> Option<DateTime> {
        let year_start = self.pos;
        let year = self.number(4)?;
        if self.pos - year_start != 4 {
            return None;
        }
        let chinese = self.eat('年');
        let separator = if chinese {
            None
        } else {
            let c = self.peek().filter(|c| matches!(c, '-' | '/' | '.'))?;
            self.pos += 1;
            Some(c)
        };
        let month = self.number(2)?;
        match separator {
            None => {
                if !self.eat('月') {
                    return None;
                }
            }
            Some(c) => {
                if !self.eat(c) {
                    return None;
                }
            }
        }
        let day = self.number(2)?;
        if chinese && !self.eat('日') {
            self.eat('号');
        }
        if !is_valid_date(year, month, day) {
            return None;
        }
        let mut found = DateTime {
            year,
            month,
            day,
            time: None,
            offset: None,
        };
        let before_time = self.pos;
        let iso = self.eat('T');
        if iso || self.peek().is_some_and(char::is_whitespace) || chinese {
            self.skip_space();
            self.skip_weekday();
            self.skip_space();
            match self.time() {
                Some(time) => {
                    found.time = Some(time);
                    found.offset = self.offset(iso);
                }
                None => self.pos = before_time,
            }
        }
        Some(found)
    }

    /// `3月10日` after a start date: the same year.
    fn month_day_after(&mut self, start: &DateTime) -> Option<DateTime> {
        let month = self.number(2)?;
        if !self.eat('月') {
            return None;
        }
        let day = self.number(2)?;
        if !self.eat('日') {
            self.eat('号');
        }
        if !is_valid_date(start.year, month, day) {
            return None;
        }
        let mut found = DateTime {
            year: start.year,
            month,
            day,
            time: None,
            offset: None,
        };
        let before_time = self.pos;
        self.skip_space();
        match self.time() {
            Some(time) => found.time = Some(time),
            None => self.pos = before_time,
        }
        Some(found)
    }

    /// `(周六)`, `（星期六）`, `周六`, `星期日`.
    fn skip_weekday(&mut self) {
        let start = self.pos;
        let bracketed = self.eat('(');
        if (self.eat_str("星期") || self.eat('周') || self.eat_str("礼拜"))
            && self.peek().is_some_and(|c| "一二三四五六日天".contains(c))
        {
            self.pos += 1;
            if !bracketed || self.eat(')') {
                return;
            }
        }
        self.pos = start;
    }

    /// `14:30`, `14:30:15`, `下午2:30`, `14点`, `14点半`, `14时30分`.
    fn time(&mut self) -> Option<(u32, u32, Option<u32>)> {
        let start = self.pos;
        let result = self.time_inner();
        if result.is_none() {
            self.pos = start;
        }
        result
    }

    fn time_inner(&mut self) -> Option<(u32, u32, Option<u32>)> {
        let afternoon = if self.eat_any(&["下午", "晚上", "傍晚", "晚"]) {
            Some(true)
        } else if self.eat_any(&["上午", "早上", "早晨", "凌晨"]) {
            Some(false)
        } else {
            // `中午` (noon) needs no shift.
            self.eat_str("中午");
            None
        };
        let mut hour = self.number(2)?;
        let (minute, second) = if self.eat(':') {
            let minute_start = self.pos;
            let minute = self.number(2)?;
            if self.pos - minute_start != 2 {
                return None;
            }
            let second = if self.eat(':') {
                let s = self.number(2)?;
                // Fractions of a second are dropped.
                if self.eat('.') {
                    self.number(9)?;
                }
                Some(s)
            } else {
                None
            };
            (minute, second)
        } else if self.eat('点') || self.eat('时') {
            if self.eat('半') {
                (30, None)
            } else {
                let minute = self.number(2).unwrap_or(0);
                self.eat('分');
                (minute, None)
            }
        } else {
            return None;
        };
        if afternoon == Some(true) && hour < 12 {
            hour += 12;
        }
        (hour <= 23 && minute <= 59 && second.is_none_or(|s| s <= 59)).then_some((hour, minute, second))
    }

    /// `Z`, `+08:00`, `+0800`; a negative offset (`-05:00`) only after a time written the
    /// ISO 8601 way, with a `T` (`iso`): written otherwise, `10:00-11:30` is a range of times.
    fn offset(&mut self, iso: bool) -> Option<String> {
        if self.eat('Z') {
            return Some("Z".into());
        }
        let start = self.pos;
        let sign = self.peek().filter(|c| *c == '+' || (iso && *c == '-'))?;
        self.pos += 1;
        let hours_start = self.pos;
        let hours = self.number(2);
        let two_digits = self.pos - hours_start == 2;
        self.eat(':');
        let minutes = self.number(2);
        match (hours, minutes) {
            (Some(h), Some(m)) if two_digits && h <= 14 && m <= 59 => Some(format!("{sign}{h:02}:{m:02}")),
            _ => {
                self.pos = start;
                None
            }
        }
    }
}

fn is_valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day) && (1..=9999).contains(&year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_in_many_spellings() {
        for (text, want) in [
            ("2025-03-08", Some("2025-03-08")),
            ("2025-03-08T14:30", Some("2025-03-08T14:30")),
            ("2025-03-08T14:30:00Z", Some("2025-03-08T14:30:00Z")),
            ("2025-03-08T14:30:00.250+0800", Some("2025-03-08T14:30:00+08:00")),
            ("2025-03-08 14:30", Some("2025-03-08T14:30")),
            ("2025/3/8 9:05", Some("2025-03-08T09:05")),
            ("2025.03.08", Some("2025-03-08")),
            ("2025年3月8日", Some("2025-03-08")),
            ("２０２５年３月８日 １４：３０", Some("2025-03-08T14:30")),
            ("2025年3月8日（周六）14:30", Some("2025-03-08T14:30")),
            ("2025年3月8日 星期六 下午2:30", Some("2025-03-08T14:30")),
            ("2025年3月8日晚上7点半", Some("2025-03-08T19:30")),
            ("2025年3月8日上午9时30分", Some("2025-03-08T09:30")),
            ("2024-02-29", Some("2024-02-29")),
            ("2025-02-29", None),
            ("2025-13-01", None),
            ("2025-03-08 25:00", None),
            ("2025-03-08T14:3", None),
            ("2025-03-08 and more", None),
            ("3月8日", None),
            ("", None),
        ] {
            assert_eq!(normalize_datetime(text).as_deref(), want, "{text:?}");
        }
    }

    #[test]
    fn spans_with_an_end() {
        let span = |t: &str| parse_time_span(t);
        assert_eq!(
            span("2025-03-08 14:30 - 2025-03-09 16:00"),
            Some(("2025-03-08T14:30".into(), Some("2025-03-09T16:00".into())))
        );
        assert_eq!(
            span("2025年3月8日 14:30—16:30"),
            Some(("2025-03-08T14:30".into(), Some("2025-03-08T16:30".into())))
        );
        assert_eq!(
            span("2025年3月8日 14:30 地点另行通知"),
            Some(("2025-03-08T14:30".into(), None))
        );
        // A morning's range is not a negative offset; after a `T` it is one.
        for text in ["2026年12月12日 10:00-11:30", "2026-12-12 10:00-11:30"] {
            assert_eq!(
                span(text),
                Some(("2026-12-12T10:00".into(), Some("2026-12-12T11:30".into()))),
                "{text}"
            );
        }
        assert_eq!(
            span("2026-12-12T10:00-05:00"),
            Some(("2026-12-12T10:00-05:00".into(), None))
        );
        assert_eq!(span("2025年3月8日-"), Some(("2025-03-08".into(), None)));
        assert_eq!(span("时间待定"), None);
    }
}
