//! The citizen page's period and accessible-format facets and the date orders, over seven
//! records of one library whose years span from 唐 to today.

use jincheng_indexer::{Filters, Index, SearchRequest, SearchResults, SortOrder};
use schemas::{AccessibleFormat, Curation, DateRange, Institution, InstitutionType, Level, Record};

/// `(id, title, years, period text, accessible formats)`.
type Spec = (
    &'static str,
    &'static str,
    Option<(i32, i32)>,
    Option<&'static str>,
    &'static [AccessibleFormat],
);

const SPECS: [Spec; 7] = {
    use AccessibleFormat::*;
    [
        ("a:tang", "黄河唐诗选", Some((618, 907)), None, &[Braille, Audio]),
        ("a:mingqing", "黄河明清碑刻", Some((1368, 1911)), None, &[]),
        (
            "a:qianlong",
            "乾隆黄河图",
            Some((1736, 1795)),
            None,
            &[LargePrint],
        ),
        ("a:minguo", "黄河", Some((1930, 1930)), None, &[Audio]),
        ("a:today", "黄河新志", Some((2003, 2003)), None, &[Braille]),
        // No years, only the period as the museum wrote it.
        ("a:han", "黄河汉简", None, Some("东汉"), &[]),
        ("a:undated", "黄河杂记", None, None, &[]),
    ]
};

fn index() -> Index {
    let library = Institution {
        id: "a".into(),
        name: "甲图书馆".into(),
        institution_type: InstitutionType::Library,
        district: None,
        level: Level::City,
        venue: None,
    };
    let index = Index::create_in_ram().unwrap();
    let mut writer = index.writer().unwrap();
    for (id, title, years, period, formats) in SPECS {
        let mut record = Record::new(id, "a", title);
        record.date = years.map(|(start, end)| DateRange {
            display: format!("{start}-{end}"),
            year_start: Some(start),
            year_end: Some(end),
        });
        record.period = period.map(str::to_string);
        if !formats.is_empty() {
            record.curation = Some(Curation {
                accessible_formats: formats.to_vec(),
                ..Curation::default()
            });
        }
        writer.upsert(&record, &library).unwrap();
    }
    writer.commit(1).unwrap();
    index
}

fn search(index: &Index, query: &str, filters: Filters, sort: SortOrder) -> SearchResults {
    index
        .search(&SearchRequest {
            query: query.into(),
            filters,
            limit: 50,
            collapse: true,
            sort,
            ..SearchRequest::default()
        })
        .unwrap()
}

fn facet<'a>(results: &'a SearchResults, name: &str) -> Vec<(&'a str, u64)> {
    results
        .facets
        .iter()
        .find(|f| f.name == name)
        .unwrap()
        .values
        .iter()
        .map(|v| (v.value.as_str(), v.count))
        .collect()
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.id.as_str()).collect()
}

#[test]
fn periods_come_from_the_years_or_the_period_text() {
    let index = index();
    let all = search(&index, "", Filters::default(), SortOrder::Relevance);
    assert_eq!(all.total, 7);
    // 明清 counts under both; 东汉 without years is read from its text; the undated record
    // is in no period. Periods are listed in history's order, not by count.
    assert_eq!(
        facet(&all, "period"),
        [
            ("汉", 1),
            ("唐", 1),
            ("明", 1),
            ("清", 2),
            ("民国", 1),
            ("现代", 1)
        ]
    );
    assert_eq!(
        facet(&all, "accessible_format"),
        [("audio", 2), ("braille", 2), ("large_print", 1)]
    );
}

#[test]
fn period_and_format_filters_are_or_within_and_disjunctive_across() {
    let index = index();
    let filtered = |periods: &[&str], formats: &[AccessibleFormat]| {
        let filters = Filters {
            periods: periods.iter().map(|p| p.to_string()).collect(),
            accessible_formats: formats.to_vec(),
            ..Filters::default()
        };
        let mut results = search(&index, "", filters, SortOrder::Relevance);
        results.hits.sort_by(|a, b| a.id.cmp(&b.id));
        results
    };
    let qing = filtered(&["清"], &[]);
    assert_eq!(ids(&qing), ["a:mingqing", "a:qianlong"]);
    // The period's own filter does not narrow its counts.
    assert_eq!(facet(&qing, "period").len(), 6);
    assert_eq!(facet(&qing, "accessible_format"), [("large_print", 1)]);

    assert_eq!(ids(&filtered(&["明", "现代"], &[])), ["a:mingqing", "a:today"]);
    assert_eq!(
        ids(&filtered(&[], &[AccessibleFormat::Audio])),
        ["a:minguo", "a:tang"]
    );
    assert_eq!(
        ids(&filtered(&[], &[AccessibleFormat::SignLanguage])),
        Vec::<&str>::new()
    );

    // Nothing is both 清 and in braille; each facet still shows what the other filter lets
    // through.
    let none = filtered(&["清"], &[AccessibleFormat::Braille]);
    assert_eq!(none.total, 0);
    assert_eq!(facet(&none, "period"), [("唐", 1), ("现代", 1)]);
    assert_eq!(facet(&none, "accessible_format"), [("large_print", 1)]);
}

#[test]
fn dates_sort_newest_or_oldest_first_with_undated_records_last() {
    let index = index();
    let order = |query: &str, sort| ids(&search(&index, query, Filters::default(), sort)).join(" ");
    let newest = "a:today a:minguo a:qianlong a:mingqing a:tang a:han a:undated";
    let oldest = "a:tang a:mingqing a:qianlong a:minguo a:today a:han a:undated";
    assert_eq!(order("", SortOrder::DateDesc), newest);
    assert_eq!(order("", SortOrder::DateAsc), oldest);
    // Browsing by relevance is newest first too.
    assert_eq!(order("", SortOrder::Relevance), newest);
    // With a query the date still comes first; by relevance the exact title wins.
    assert_eq!(order("黄河", SortOrder::DateDesc), newest);
    assert_eq!(order("黄河", SortOrder::DateAsc), oldest);
    let relevance = order("黄河", SortOrder::Relevance);
    assert!(relevance.starts_with("a:minguo "), "{relevance}");
    assert_ne!(relevance, newest);
}

#[test]
fn date_order_pages_through_the_same_sequence() {
    let index = index();
    let page = |offset, limit| {
        let results = index
            .search(&SearchRequest {
                offset,
                limit,
                sort: SortOrder::DateAsc,
                ..SearchRequest::default()
            })
            .unwrap();
        assert_eq!(results.total, 7);
        results.hits.into_iter().map(|h| h.id).collect::<Vec<_>>()
    };
    assert_eq!(page(0, 2), ["a:tang", "a:mingqing"]);
    assert_eq!(page(2, 2), ["a:qianlong", "a:minguo"]);
    assert_eq!(page(4, 3), ["a:today", "a:han", "a:undated"]);
}

#[test]
fn sort_orders_have_stable_names() {
    for sort in SortOrder::ALL {
        assert_eq!(sort.as_str().parse::<SortOrder>(), Ok(sort));
    }
    assert_eq!("date_asc".parse(), Ok(SortOrder::DateAsc));
    assert!("newest".parse::<SortOrder>().is_err());
    assert_eq!(SortOrder::default(), SortOrder::Relevance);
}
