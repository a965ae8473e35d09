//! Dates as catalogues write them, from ISO 8601 to `康熙五十年` and `清晚期`, turned into
//! the years they cover.
//!
//! # What is understood
//!
//! - **Gregorian**: `2003`, `2003-05`, `2003-05-01` (and ISO date-times), `2003/05/01`,
//!   `2003年`, `2003年5月1日`, `二〇〇三年`, `618年`, `公元618年`, `公元前221年`, `前221年`,
//!   decades (`1930年代`, `1930s`), centuries (`19世纪` = 1800–1899, `公元前3世纪` =
//!   −300…−201, `20世纪80年代`, `二十世纪三四十年代` = 1930–1949).
//! - **Dynasties and periods** from 夏 to 民国 and the archaeological cultures of Gansu
//!   (马家窑文化, 齐家文化, …), with `代`, `朝` or `时期` after them (`明代`, `清朝`).
//! - **Reign eras** (年号) of the Ming and Qing and the famous Tang, Song and Yuan ones:
//!   `乾隆`, `乾隆年间` and `乾隆朝` are the whole era; `光绪三年` is 1877 (`元年` is the
//!   first year; `廿`, `卅` and Chinese numerals are read); a year past the era's end is not
//!   understood. A dynasty may precede its own era (`清乾隆`); porcelain marks such as
//!   `大清乾隆年制` read as the era.
//! - **`民国N年`** is 1911 + N.
//! - **Parts of a span**: `早期`/`初期`/`前期`/`初`/`初年` take its first third, `中期`/`中叶`/
//!   `中` the middle third and `晚期`/`后期`/`末期`/`末`/`末年` the last third; `上半叶`/`下半叶`
//!   take halves. With `n` years in the span and `t = n / 3` (rounded down), the thirds are
//!   the first `t` years, the last `t` years and what lies between (`清` 1644–1911: 早期
//!   1644–1732, 中期 1733–1822, 晚期 1823–1911). Prefixed forms (`晚清`, `初唐`) mean the
//!   same. These are a uniform rule, not the art-historical periods (盛唐, 晚清 from 1840),
//!   which vary between authors.
//! - **Combinations**: ranges with `-`, `/`, `~`, `至` or `到` (`1998-2003`, `乾隆至嘉庆`,
//!   `公元前221-前206年`), adjacent periods of the same kind (`明清`, `清末民初`, `魏晋南北朝`,
//!   `19世纪末20世纪初`), and a note in brackets that agrees with the text (`康熙五十年
//!   （1711）`; when both are understood the years common to both are kept, and if they
//!   share none nothing is).
//! - **Approximations** (`约`, `大约`, `前后`, `左右`) keep the stated years: the uncertainty
//!   is in the display text, and widening by a made-up margin would be a guess.
//! - Traditional characters (`乾隆年間`, `光緒`, `東漢`) and full-width digits are folded.
//!
//! Everything else (`近代`, `不详`, `[2003]`, `c2003`, `2003?`, `80年代` without a century,
//! an era year beyond the era) gets no years. The display text is always kept.

use super::chronology::{ERAS, PERIODS, Period, fold_char};
use crate::model::DateRange;

/// Earliest year the record model accepts.
const MIN_YEAR: i32 = -10_000;
/// Latest year the record model accepts.
const MAX_YEAR: i32 = 2_100;
/// Longer texts are not dates but descriptions that landed in the date field; reading them
/// would only risk a wrong match (and cost time).
const MAX_CHARS: usize = 64;
/// Most adjacent periods read as one span (`宋元明清`).
const MAX_PIECES: u32 = 4;

/// First and last year covered, inclusive.
type Span = (i32, i32);

/// What kind of expression a span came from: only pieces of the same kind are joined when
/// they stand side by side (`明清`, but not `明乾隆`, which contradicts itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gregorian,
    Period,
    Era,
}

/// Turns a date as a catalogue writes it into a [`DateRange`]: the display text (trimmed)
/// and, when the text is understood, the years it covers. See the module documentation of
/// `normalize` for what is understood; nothing else is guessed, and a date whose years are
/// `None` is reported by [`DateRange::is_understood`].
///
/// ```
/// use jincheng_schemas::normalize_date;
/// let years = |t: &str| {
///     let d = normalize_date(t);
///     (d.year_start, d.year_end)
/// };
/// assert_eq!(years("1998/2003"), (Some(1998), Some(2003)));
/// assert_eq!(years("光绪三年"), (Some(1877), Some(1877)));
/// assert_eq!(years("乾隆年间"), (Some(1736), Some(1795)));
/// assert_eq!(years("民国二十年"), (Some(1931), Some(1931)));
/// assert_eq!(years("20世纪80年代"), (Some(1980), Some(1989)));
/// assert_eq!(years("公元前221年"), (Some(-221), Some(-221)));
/// assert_eq!(years("年代不详"), (None, None));
/// assert_eq!(normalize_date(" 年代不详 ").display, "年代不详");
/// ```
pub fn normalize_date(text: &str) -> DateRange {
    let display = text.trim().to_owned();
    let years = date_years(&display);
    DateRange {
        display,
        year_start: years.map(|(start, _)| start),
        year_end: years.map(|(_, end)| end),
    }
}

/// The years `text` covers, if it is understood.
fn date_years(text: &str) -> Option<Span> {
    // Spaces go, except that a space between digits separates a date from its time.
    let mut folded = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars().map(fold_char) {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && c.is_ascii_digit() && folded.ends_with(|p: char| p.is_ascii_digit()) {
            folded.push('T');
        }
        pending_space = false;
        folded.push(c);
    }
    if folded.is_empty() || folded.chars().count() > MAX_CHARS {
        return None;
    }
    // `民初` is the usual short form of `民国初年`, as in `清末民初`.
    let folded = folded.replace("民初", "民国初");
    let (start, end) = parse_with_note(&folded)?;
    (start <= end && start >= MIN_YEAR && end <= MAX_YEAR).then_some((start, end))
}

/// `main(note)`: both parts are read, and must agree.
fn parse_with_note(s: &str) -> Option<Span> {
    if let Some(body) = s.strip_suffix(')')
        && let Some(open) = body.rfind('(')
    {
        let main = body.get(..open)?;
        let note = parse_expression(body.get(open + 1..)?);
        if main.is_empty() {
            return note;
        }
        return match (parse_expression(main), note) {
            (Some(m), Some(n)) => {
                let start = m.0.max(n.0);
                let end = m.1.min(n.1);
                (start <= end).then_some((start, end))
            }
            (Some(m), None) => Some(m),
            (None, note) => note,
        };
    }
    parse_expression(s)
}

fn parse_expression(s: &str) -> Option<Span> {
    if let Some((span, _)) = parse_single(s) {
        return Some(span);
    }
    parse_range(s).or_else(|| parse_sequence(s, MAX_PIECES).map(|(span, _)| span))
}

/// `A-B`, `A/B`, `A~B`, `A至B`, `A到B`.
fn parse_range(s: &str) -> Option<Span> {
    let separators = s
        .char_indices()
        .filter(|(_, c)| matches!(c, '-' | '/' | '~' | '至' | '到'));
    for (at, separator) in separators {
        let left = s.get(..at)?;
        let right = s.get(at + separator.len_utf8()..)?;
        if left.is_empty() || right.is_empty() {
            continue;
        }
        let side = |t: &str| {
            parse_single(t)
                .or_else(|| parse_sequence(t, MAX_PIECES))
                .map(|(span, _)| span)
        };
        if let (Some(l), Some(r)) = (side(left), side(right))
            && l.0 <= r.0
            && l.1 <= r.1
        {
            return Some((l.0, r.1));
        }
    }
    None
}

/// Adjacent pieces of the same kind: `明清`, `清末民初`, `19世纪末20世纪初`.
fn parse_sequence(s: &str, pieces: u32) -> Option<(Span, Kind)> {
    if pieces < 2 {
        return None;
    }
    for (at, c) in s.char_indices().skip(1) {
        let left = s.get(..at)?;
        // A split inside a number would read `20030` as `2003` and `0`.
        if left.ends_with(|p: char| p.is_ascii_digit()) && c.is_ascii_digit() {
            continue;
        }
        let Some((l, kind)) = parse_single(left) else {
            continue;
        };
        let right = s.get(at..)?;
        let r = parse_single(right)
            .filter(|(_, k)| *k == kind)
            .or_else(|| parse_sequence(right, pieces - 1).filter(|(_, k)| *k == kind));
        // Each piece must move on in time (`宋元` overlap a little, which is fine), so
        // `清清` is no date.
        if let Some((r, _)) = r
            && l.0 < r.0
            && l.1 < r.1
        {
            return Some(((l.0, r.1), kind));
        }
    }
    None
}

/// One expression: a Gregorian date, a period or an era, possibly approximate.
fn parse_single(s: &str) -> Option<(Span, Kind)> {
    let s = strip_approximation(s);
    if s.is_empty() {
        return None;
    }
    if let Some(span) = parse_gregorian(s) {
        return Some((span, Kind::Gregorian));
    }
    parse_historical(s)
}

fn strip_approximation(s: &str) -> &str {
    let s = s
        .strip_prefix("大约")
        .or_else(|| s.strip_prefix('约'))
        .unwrap_or(s);
    s.strip_suffix("前后")
        .or_else(|| s.strip_suffix("左右"))
        .unwrap_or(s)
}

/// The value of a digit, Chinese or ASCII.
fn digit_value(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' | '0' => 0,
        '一' | '1' => 1,
        '二' | '两' | '2' => 2,
        '三' | '3' => 3,
        '四' | '4' => 4,
        '五' | '5' => 5,
        '六' | '6' => 6,
        '七' | '7' => 7,
        '八' | '8' => 8,
        '九' | '9' => 9,
        _ => return None,
    })
}

fn is_numeral(c: char) -> bool {
    digit_value(c).is_some() || matches!(c, '十' | '廿' | '卅')
}

/// A small number: ASCII digits (up to four), or Chinese numerals up to 99 (`三`, `十五`,
/// `二十三`, `廿三`, `卅`).
fn small_number(s: &str) -> Option<u32> {
    if !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    let chars: Vec<char> = s.chars().collect();
    let cn = |c: &char| match c {
        '0'..='9' => None,
        c => digit_value(*c),
    };
    match chars.as_slice() {
        ['十'] => Some(10),
        ['廿'] => Some(20),
        ['卅'] => Some(30),
        [d] => cn(d).filter(|&v| v > 0),
        ['十', d] => Some(10 + cn(d).filter(|&v| v > 0)?),
        [t, '十'] => Some(cn(t).filter(|&v| v > 1)? * 10),
        [t, '十', d] => Some(cn(t).filter(|&v| v > 1)? * 10 + cn(d).filter(|&v| v > 0)?),
        ['廿', d] => Some(20 + cn(d).filter(|&v| v > 0)?),
        ['卅', d] => Some(30 + cn(d).filter(|&v| v > 0)?),
        _ => None,
    }
}

/// Splits off a leading run of ASCII digits, or of Chinese numerals.
fn leading_number(s: &str) -> (&str, &str) {
    let ascii = s.bytes().take_while(u8::is_ascii_digit).count();
    if ascii > 0 {
        return s.split_at_checked(ascii).unwrap_or((s, ""));
    }
    let end = s
        .char_indices()
        .find(|(_, c)| !is_numeral(*c))
        .map_or(s.len(), |(i, _)| i);
    s.split_at_checked(end).unwrap_or((s, ""))
}

/// A four-digit year written digit by digit: `1985` or `一九八五`.
fn digit_year(s: &str) -> Option<i32> {
    let mut year = 0i32;
    let mut count = 0;
    for c in s.chars() {
        year = year * 10 + i32::try_from(digit_value(c)?).ok()?;
        count += 1;
    }
    (count == 4).then_some(year)
}

/// `月日` after a year: `5月`, `5月1日`, `正月初二`, `闰五月`, a season, `初`/`底`.
fn is_month_day_tail(s: &str) -> bool {
    if s.is_empty()
        || matches!(
            s,
            "春" | "夏"
                | "秋"
                | "冬"
                | "春季"
                | "夏季"
                | "秋季"
                | "冬季"
                | "初"
                | "底"
                | "末"
                | "中"
                | "上半年"
                | "下半年"
        )
    {
        return true;
    }
    let Some((month, rest)) = s.split_once('月') else {
        return false;
    };
    let month = month.strip_prefix('闰').unwrap_or(month);
    let month_ok =
        matches!(month, "正" | "冬" | "腊") || small_number(month).is_some_and(|m| (1..=12).contains(&m));
    if !month_ok {
        return false;
    }
    if rest.is_empty() || matches!(rest, "初" | "中" | "底" | "末" | "上旬" | "中旬" | "下旬") {
        return true;
    }
    if let Some(day) = rest.strip_prefix('初') {
        let day = day.strip_suffix('日').unwrap_or(day);
        return small_number(day).is_some_and(|d| (1..=10).contains(&d));
    }
    let Some(day) = rest.strip_suffix('日').or_else(|| rest.strip_suffix('号')) else {
        return false;
    };
    small_number(day).is_some_and(|d| (1..=31).contains(&d))
}

/// ISO-like `-MM`, `-MM-DD`, `-MM-DDThh:mm…`, also with `/` or `.`.
fn is_iso_tail(tail: &str) -> bool {
    let Some(separator) = tail.chars().next().filter(|c| matches!(c, '-' | '/' | '.')) else {
        return false;
    };
    let Some(rest) = tail.get(1..) else {
        return false;
    };
    let (month, rest) = leading_ascii_digits(rest);
    if !(1..=2).contains(&month.len()) || !month.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m)) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(separator) else {
        return false;
    };
    let (day, rest) = leading_ascii_digits(rest);
    if !(1..=2).contains(&day.len()) || !day.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)) {
        return false;
    }
    // A time may follow (its space was removed): `T08:00:00Z`, `08:00`.
    rest.is_empty()
        || rest.starts_with('T')
        || (rest.starts_with(|c: char| c.is_ascii_digit()) && rest.contains(':'))
}

fn leading_ascii_digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s.split_at_checked(n).unwrap_or((s, ""))
}

/// Gregorian years, decades and centuries, CE or BCE.
fn parse_gregorian(s: &str) -> Option<Span> {
    let (bce, rest) = if let Some(rest) = s.strip_prefix("公元前") {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('前') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix("公元") {
        (false, rest)
    } else {
        (false, s)
    };
    let explicit_era = rest.len() != s.len();
    if let Some((number, tail)) = rest.split_once("世纪") {
        return century(number, tail, bce);
    }
    let (number, tail) = leading_number(rest);
    if number.is_empty() {
        return None;
    }
    let ascii = number.bytes().all(|b| b.is_ascii_digit());
    let sign = |year: i32| if bce { -year } else { year };
    // Decades: `1930年代`, `1930年代末`, `1930s`.
    if !bce
        && let Some(year) = digit_year(number)
        && year % 10 == 0
    {
        if let Some(modifier) = tail.strip_prefix("年代") {
            return apply_modifier((year, year + 9), modifier);
        }
        if ascii && (tail == "s" || tail == "'s") {
            return Some((year, year + 9));
        }
    }
    if let Some(after) = tail.strip_prefix('年') {
        let year = if ascii {
            number.parse::<i32>().ok()?
        } else {
            digit_year(number)?
        };
        return (year > 0 && is_month_day_tail(after)).then(|| (sign(year), sign(year)));
    }
    if !ascii {
        return None;
    }
    let year: i32 = number.parse().ok()?;
    if year == 0 {
        return None;
    }
    if tail.is_empty() {
        return (number.len() == 4 || explicit_era).then_some((sign(year), sign(year)));
    }
    (number.len() == 4 && !bce && is_iso_tail(tail)).then_some((year, year))
}

/// `N世纪`, `N世纪80年代`, `N世纪末`, `N世纪三四十年代`.
fn century(number: &str, tail: &str, bce: bool) -> Option<Span> {
    let n = i32::try_from(small_number(number)?).ok()?;
    if !(1..=21).contains(&n) {
        return None;
    }
    let span = if bce {
        (-(n * 100), -((n - 1) * 100) - 1)
    } else {
        (((n - 1) * 100).max(1), (n - 1) * 100 + 99)
    };
    if let Some((decade, modifier)) = tail.split_once("年代") {
        if bce {
            return None;
        }
        let (first, last) = decades(decade)?;
        let base = (n - 1) * 100;
        return apply_modifier((base + first, base + last + 9), modifier);
    }
    apply_modifier(span, tail)
}

/// The decades of a century: `80` → (80, 80), `八十` → (80, 80), `三四十` → (30, 40).
fn decades(s: &str) -> Option<(i32, i32)> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()) {
        let d: i32 = s.parse().ok()?;
        return (d % 10 == 0).then_some((d, d));
    }
    let chars: Vec<char> = s.strip_suffix('十')?.chars().collect();
    let cn = |c: &char| match c {
        '0'..='9' => None,
        c => digit_value(*c).and_then(|v| i32::try_from(v).ok()),
    };
    match chars.as_slice() {
        [a] => Some((cn(a)? * 10, cn(a)? * 10)).filter(|(d, _)| *d > 0),
        [a, b] => {
            let (a, b) = (cn(a)?, cn(b)?);
            (a > 0 && b == a + 1).then_some((a * 10, b * 10))
        }
        _ => None,
    }
}

/// Which part of a span a modifier names.
fn apply_modifier(span: Span, modifier: &str) -> Option<Span> {
    let modifier = modifier.strip_suffix("时期").unwrap_or(modifier);
    match modifier {
        "" => Some(span),
        "早期" | "初期" | "前期" | "初" | "初年" | "初叶" => Some(third(span, 0)),
        "中期" | "中叶" | "中" => Some(third(span, 1)),
        "晚期" | "后期" | "末期" | "末" | "末年" | "末叶" => Some(third(span, 2)),
        "上半叶" | "前半期" => Some(half(span, 0)),
        "下半叶" | "后半期" => Some(half(span, 1)),
        _ => None,
    }
}

/// The first (0), middle (1) or last (2) third of a span; see the module documentation.
fn third((start, end): Span, part: u8) -> Span {
    let t = (end - start + 1) / 3;
    if t == 0 {
        return (start, end);
    }
    match part {
        0 => (start, start + t - 1),
        1 => (start + t, end - t),
        _ => (end - t + 1, end),
    }
}

fn half((start, end): Span, part: u8) -> Span {
    let h = (end - start + 1) / 2;
    if h == 0 {
        return (start, end);
    }
    if part == 0 {
        (start, start + h - 1)
    } else {
        (start + h, end)
    }
}

/// Dynasties, periods and eras.
fn parse_historical(s: &str) -> Option<(Span, Kind)> {
    // Longest name first, so `元丰` is the era and not the dynasty `元` followed by `丰`.
    let mut candidates: Vec<(&Period, Kind, &str)> = PERIODS
        .iter()
        .map(|p| (p, Kind::Period))
        .chain(ERAS.iter().map(|p| (p, Kind::Era)))
        .filter_map(|(p, kind)| s.strip_prefix(p.name).map(|rest| (p, kind, rest)))
        .collect();
    candidates.sort_by_key(|(p, _, _)| std::cmp::Reverse(p.name.len()));
    for (period, kind, rest) in candidates {
        let found = match kind {
            Kind::Era => after_era(period, rest).map(|span| (span, Kind::Era)),
            _ => after_period(period, rest),
        };
        if found.is_some() {
            return found;
        }
    }
    // `晚清`, `初唐`, `中唐`: the part before the name.
    for (prefix, part) in [("早", 0), ("初", 0), ("中", 1), ("晚", 2)] {
        if let Some(rest) = s.strip_prefix(prefix)
            && let Some((span, Kind::Period)) = parse_historical(rest)
            && PERIODS.iter().any(|p| rest == p.name)
        {
            return Some((third(span, part), Kind::Period));
        }
    }
    // Reign marks on porcelain: `大清乾隆年制`, `大明宣德年制`.
    if let Some(rest) = s.strip_prefix('大')
        && rest.starts_with(['清', '明', '元', '宋'])
    {
        return parse_historical(rest);
    }
    None
}

/// What may follow a dynasty or period name.
fn after_period(period: &Period, rest: &str) -> Option<(Span, Kind)> {
    let span = (period.start, period.end);
    // `民国二十年`: the Republican calendar counts from 1912 (民国元年).
    if period.name.ends_with("民国")
        && let Some(year) = era_year(period.start, MAX_YEAR, rest)
    {
        return Some(((year, year), Kind::Period));
    }
    let rest = ["王朝", "朝", "代"]
        .iter()
        .find_map(|suffix| rest.strip_prefix(suffix))
        .unwrap_or(rest);
    if let Some(found) = apply_modifier(span, rest) {
        return Some((found, Kind::Period));
    }
    if matches!(rest, "时代" | "年间" | "期间") {
        return Some((span, Kind::Period));
    }
    // A narrower period or era inside this one: `清乾隆`, `马家窑文化半山类型`.
    if !rest.is_empty()
        && let Some((inner, kind)) = parse_historical(rest)
        && span.0 <= inner.0
        && inner.1 <= span.1
        && inner != span
    {
        return Some((inner, kind));
    }
    None
}

/// What may follow an era name: nothing, `年间`, `朝`, a part, or a year of the era.
fn after_era(era: &Period, rest: &str) -> Option<Span> {
    let span = (era.start, era.end);
    if let Some(year) = era_year(era.start, era.end, rest) {
        return Some((year, year));
    }
    let rest = rest
        .strip_prefix("年间")
        .or_else(|| rest.strip_prefix('朝'))
        .or_else(|| rest.strip_prefix('间'))
        .unwrap_or(rest);
    if matches!(rest, "年制" | "年造" | "款" | "年款") {
        return Some(span);
    }
    apply_modifier(span, rest)
}

/// `N年` (with an optional month and day) of an era starting in `start`, if it falls no
/// later than `end`.
fn era_year(start: i32, end: i32, rest: &str) -> Option<i32> {
    let (number, tail) = match rest.strip_prefix('元') {
        Some(tail) => ("元", tail),
        None => leading_number(rest),
    };
    let tail = tail.strip_prefix('年')?;
    let tail = ["年制", "制", "造"]
        .iter()
        .find_map(|mark| tail.strip_suffix(mark))
        .unwrap_or(tail);
    if !is_month_day_tail(tail) {
        return None;
    }
    let n = if number == "元" {
        1
    } else {
        i32::try_from(small_number(number)?).ok()?
    };
    let year = start.checked_add(n - 1)?;
    (n >= 1 && year <= end).then_some(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (text, want) in [
            ("三", Some(3)),
            ("十", Some(10)),
            ("十五", Some(15)),
            ("二十", Some(20)),
            ("二十三", Some(23)),
            ("廿三", Some(23)),
            ("卅", Some(30)),
            ("六十一", Some(61)),
            ("12", Some(12)),
            ("一十", None),
            ("十〇", None),
            ("三三", None),
            ("", None),
        ] {
            assert_eq!(small_number(text), want, "{text}");
        }
    }

    #[test]
    fn thirds_cover_the_span() {
        let span = (1644, 1911);
        assert_eq!(third(span, 0), (1644, 1732));
        assert_eq!(third(span, 1), (1733, 1822));
        assert_eq!(third(span, 2), (1823, 1911));
        assert_eq!(third((2000, 2001), 2), (2000, 2001));
        assert_eq!(half((1900, 1999), 1), (1950, 1999));
    }

    #[test]
    fn long_or_hostile_text_is_cheap_and_unread() {
        assert_eq!(date_years(&"清".repeat(60)), None);
        assert_eq!(date_years(&"明清".repeat(40)), None);
        assert_eq!(date_years(&"9".repeat(1000)), None);
    }
}
