//! The broad dynasty or period a span of years belongs to, for browsing by period: the
//! coarse names a reader expects in a list (唐, 宋, 明, 清, 民国, 现代), taken from the same
//! chronology table that [`super::normalize_date`] reads dates with.

use super::chronology::PERIODS;

/// The periods a record is filed under, in chronological order. They do not overlap except at
/// a founding year, which belongs to the new dynasty; smaller states that coexisted with them
/// (辽, 金, 西夏, 十六国) are left to the date text.
const BROAD_PERIODS: [&str; 19] = [
    "新石器时代",
    "夏",
    "商",
    "西周",
    "春秋",
    "战国",
    "秦",
    "汉",
    "三国",
    "晋",
    "南北朝",
    "隋",
    "唐",
    "五代",
    "宋",
    "元",
    "明",
    "清",
    "民国",
];

/// The name of the years since the founding of the People's Republic (1949), which the
/// chronology table does not list as a period of its own (it is no date a catalogue writes).
pub const MODERN_PERIOD: &str = "现代";
/// First year of [`MODERN_PERIOD`].
const MODERN_START: i32 = 1949;
/// Last year the record model accepts.
const MAX_YEAR: i32 = 2_100;

/// The names of every broad period, chronologically, [`MODERN_PERIOD`] last: the values
/// [`periods_of_years`] can give, in the order a list of periods is shown in.
///
/// ```
/// let all: Vec<&str> = jincheng_schemas::broad_periods().collect();
/// assert_eq!((all[0], all[all.len() - 1], all.len()), ("新石器时代", "现代", 20));
/// assert!(all.iter().position(|p| *p == "唐") < all.iter().position(|p| *p == "宋"));
/// ```
pub fn broad_periods() -> impl Iterator<Item = &'static str> {
    spans().map(|(name, _, _)| name)
}

/// `(name, first year, last year)` of every broad period, chronologically.
fn spans() -> impl Iterator<Item = (&'static str, i32, i32)> {
    BROAD_PERIODS
        .iter()
        .filter_map(|name| PERIODS.iter().find(|p| p.name == *name))
        .map(|p| (p.name, p.start, p.end))
        .chain(std::iter::once((MODERN_PERIOD, MODERN_START, MAX_YEAR)))
}

/// The years each broad period *owns*: its span up to the founding of the next one.
fn owned_spans() -> Vec<(&'static str, i32, i32)> {
    let all: Vec<_> = spans().collect();
    all.iter()
        .enumerate()
        .map(|(i, &(name, start, end))| {
            let end = match all.get(i + 1) {
                Some(&(_, next, _)) if next <= end => next - 1,
                _ => end,
            };
            (name, start, end)
        })
        .collect()
}

/// The broad dynasties or periods (`唐`, `明`, `清`, `民国`, `现代`, …) that the years
/// `start..=end` (inclusive; negative before the common era) fall in, chronologically.
///
/// A span that lies within one period is that period alone, even where its ends touch a
/// neighbour (`618–907` is 唐, not also 隋 and 五代; `960–1279` is 宋, although 元 was
/// proclaimed in 1271); a single founding year goes to the new dynasty (1644 is 清). A span
/// across periods is filed under each period it covers (`1368–1911`, 明清, under 明 and 清),
/// except that a last year which only opens the next period does not count (`960–1368`, 宋元,
/// is not also 明). Years before the 新石器时代 or after 2100 are in none.
///
/// ```
/// use jincheng_schemas::periods_of_years;
/// assert_eq!(periods_of_years(618, 907), ["唐"]);
/// assert_eq!(periods_of_years(1644, 1644), ["清"]);
/// assert_eq!(periods_of_years(1368, 1911), ["明", "清"]);
/// assert_eq!(periods_of_years(1900, 1999), ["清", "民国", "现代"]);
/// assert_eq!(periods_of_years(2003, 2003), ["现代"]);
/// ```
pub fn periods_of_years(start: i32, end: i32) -> Vec<&'static str> {
    let (start, end) = (start.min(end), start.max(end));
    // Within one period: the latest-founded period that contains the whole span.
    if let Some((name, _, _)) = spans()
        .filter(|&(_, s, e)| s <= start && end <= e)
        .max_by_key(|&(_, s, _)| s)
    {
        return vec![name];
    }
    let owned = owned_spans();
    let owner = |year: i32| {
        owned
            .iter()
            .find(|&&(_, s, e)| s <= year && year <= e)
            .map(|&(name, _, _)| name)
    };
    // A last year that is the first of a new period closes the span, it does not enter it.
    let end = if end > start && owner(end) != owner(end - 1) && owned.iter().any(|&(_, s, _)| s == end) {
        end - 1
    } else {
        end
    };
    owned
        .iter()
        .filter(|&&(_, s, e)| s <= end && start <= e)
        .map(|&(name, _, _)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_broad_period_is_in_the_chronology_table() {
        assert_eq!(spans().count(), BROAD_PERIODS.len() + 1);
    }

    #[test]
    fn spans_map_to_periods() {
        assert_eq!(periods_of_years(-202, 220), ["汉"]);
        assert_eq!(periods_of_years(25, 220), ["汉"], "东汉");
        assert_eq!(periods_of_years(1736, 1795), ["清"], "乾隆");
        assert_eq!(periods_of_years(1823, 1911), ["清"], "清晚期");
        assert_eq!(periods_of_years(1912, 1949), ["民国"]);
        assert_eq!(periods_of_years(1949, 1949), ["现代"]);
        assert_eq!(periods_of_years(618, 618), ["唐"]);
        assert_eq!(periods_of_years(1275, 1275), ["元"]);
        assert_eq!(periods_of_years(960, 1368), ["宋", "元"]);
        assert_eq!(periods_of_years(1911, 1912), ["清"]);
        assert_eq!(periods_of_years(-3300, -2050), ["新石器时代"], "马家窑文化");
        assert_eq!(periods_of_years(1930, 1939), ["民国"]);
        assert!(periods_of_years(-20_000, -15_000).is_empty());
    }
}
