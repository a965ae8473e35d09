#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Search behaviour over twenty hand-written records from five institutions.

mod chinese;
mod citizen;
mod names;
mod relevance;
mod remembered;
mod works;

use jincheng_indexer::{Error, Filters, Index, MAX_QUERY_CHARS, SearchRequest, SearchResults};
use schemas::{DateRange, District, Institution, InstitutionType, Level, Record, ResourceType};

fn institution(id: &str, name: &str, kind: InstitutionType, district: Option<District>) -> Institution {
    Institution {
        id: id.into(),
        name: name.into(),
        institution_type: kind,
        district,
        level: Level::City,
        venue: None,
    }
}

fn institutions() -> Vec<Institution> {
    vec![
        institution(
            "lzlib",
            "兰州市图书馆",
            InstitutionType::Library,
            Some(District::Chengguan),
        ),
        institution(
            "gsm",
            "甘肃省博物馆",
            InstitutionType::Museum,
            Some(District::Qilihe),
        ),
        institution(
            "lzart",
            "兰州美术馆",
            InstitutionType::ArtGallery,
            Some(District::Chengguan),
        ),
        institution(
            "yzcc",
            "榆中县文化馆",
            InstitutionType::CulturalCentre,
            Some(District::Yuzhong),
        ),
        institution("xbmz", "西北民族资料室", InstitutionType::Library, None),
    ]
}

/// A record; `years` is `(start, end)`, `language` may be empty.
struct Spec {
    id: &'static str,
    kind: ResourceType,
    title: &'static str,
    creators: &'static [&'static str],
    subjects: &'static [&'static str],
    description: &'static str,
    publisher: &'static str,
    years: Option<(i32, i32)>,
    language: &'static str,
    isbn: &'static str,
}

const BASE: Spec = Spec {
    id: "",
    kind: ResourceType::Book,
    title: "",
    creators: &[],
    subjects: &[],
    description: "",
    publisher: "",
    years: None,
    language: "zh",
    isbn: "",
};

fn specs() -> Vec<Spec> {
    use ResourceType::*;
    vec![
        Spec {
            id: "lzlib:1",
            title: "靜夜思",
            creators: &["李白"],
            subjects: &["唐诗"],
            description: "牀前明月光，疑是地上霜。舉頭望明月，低頭思故鄉。",
            publisher: "北京：中華書局",
            years: Some((1998, 1998)),
            isbn: "9787101003048",
            ..BASE
        },
        Spec {
            id: "lzlib:2",
            title: "唐诗三百首",
            creators: &["蘅塘退士"],
            subjects: &["唐诗", "诗歌总集"],
            description: "收录李白《静夜思》等名篇。",
            publisher: "中华书局",
            years: Some((2005, 2005)),
            ..BASE
        },
        Spec {
            id: "lzlib:3",
            title: "乡居杂记",
            creators: &["王五"],
            description: "床前放着一张旧书桌，窗外是远山与河流，夜深人静的时候，明月光照进小院。",
            years: Some((2010, 2010)),
            ..BASE
        },
        Spec {
            id: "lzlib:4",
            title: "中华书局图书目录",
            years: Some((1982, 1982)),
            ..BASE
        },
        Spec {
            id: "lzlib:5",
            title: "The Yellow River: A History",
            creators: &["John Smith"],
            years: Some((2012, 2012)),
            language: "en",
            ..BASE
        },
        Spec {
            id: "lzlib:6",
            kind: AncientBook,
            title: "甘肃地方志",
            description: "记载黄河流经本地的历史与水利。",
            years: Some((1960, 1960)),
            ..BASE
        },
        Spec {
            id: "lzlib:7",
            kind: Periodical,
            title: "兰州日报合订本",
            years: Some((1999, 1999)),
            ..BASE
        },
        Spec {
            id: "lzlib:8",
            title: "黄河远上白云间",
            creators: &["王之涣"],
            years: Some((2001, 2001)),
            ..BASE
        },
        Spec {
            id: "gsm:1",
            kind: Artefact,
            title: "铜奔马",
            subjects: &["青铜器"],
            description: "东汉青铜器，武威雷台出土，又称马踏飞燕。",
            years: Some((-25, 220)),
            language: "",
            ..BASE
        },
        Spec {
            id: "gsm:2",
            kind: Artefact,
            title: "马家窑文化彩陶罐",
            subjects: &["彩陶", "新石器时代"],
            years: Some((-3300, -2050)),
            language: "",
            ..BASE
        },
        Spec {
            id: "gsm:3",
            title: "<script>alert(1)</script>彩陶纹样图录",
            years: Some((2015, 2015)),
            ..BASE
        },
        Spec {
            id: "gsm:4",
            kind: Manuscript,
            title: "敦煌写经残卷",
            years: Some((700, 800)),
            ..BASE
        },
        Spec {
            id: "lzart:1",
            kind: Artwork,
            title: "黄河",
            creators: &["张三"],
            subjects: &["山水画"],
            years: Some((1985, 1985)),
            language: "",
            ..BASE
        },
        Spec {
            id: "lzart:2",
            kind: Artwork,
            title: "敦煌壁画临摹",
            description: "临摹莫高窟壁画。",
            years: Some((1990, 1990)),
            language: "",
            ..BASE
        },
        Spec {
            id: "lzart:3",
            kind: Event,
            title: "兰州黄河文化艺术中心开馆展",
            years: Some((2019, 2019)),
            ..BASE
        },
        Spec {
            id: "yzcc:1",
            kind: Event,
            title: "榆中县非物质文化遗产展",
            years: Some((2021, 2021)),
            ..BASE
        },
        Spec {
            id: "yzcc:2",
            kind: Image,
            title: "兴隆山风光摄影",
            years: Some((2008, 2008)),
            language: "",
            ..BASE
        },
        Spec {
            id: "xbmz:1",
            kind: Periodical,
            title: "西北民族研究",
            ..BASE
        },
        Spec {
            id: "xbmz:2",
            kind: AncientBook,
            title: "皋兰县志",
            years: Some((1892, 1892)),
            ..BASE
        },
        Spec {
            id: "lzart:4",
            kind: Artwork,
            title: "金城夜色",
            years: Some((2016, 2016)),
            language: "",
            ..BASE
        },
    ]
}

fn record(spec: &Spec) -> Record {
    let institution = spec.id.split(':').next().unwrap();
    let mut record = Record::new(spec.id, institution, spec.title);
    record.resource_type = spec.kind;
    record.creators = spec.creators.iter().map(|s| s.to_string()).collect();
    record.subjects = spec.subjects.iter().map(|s| s.to_string()).collect();
    record.description = (!spec.description.is_empty()).then(|| spec.description.to_string());
    record.publisher = (!spec.publisher.is_empty()).then(|| spec.publisher.to_string());
    record.language = (!spec.language.is_empty()).then(|| spec.language.to_string());
    record.date = spec.years.map(|(start, end)| DateRange {
        display: format!("{start}-{end}"),
        year_start: Some(start),
        year_end: Some(end),
    });
    if !spec.isbn.is_empty() {
        record.isbns.push(spec.isbn.to_string());
    }
    record
}

fn institution_of<'a>(institutions: &'a [Institution], record: &Record) -> &'a Institution {
    institutions.iter().find(|i| i.id == record.institution).unwrap()
}

fn fill(index: &Index) {
    let institutions = institutions();
    let mut writer = index.writer().unwrap();
    for spec in specs() {
        let record = record(&spec);
        writer
            .upsert(&record, institution_of(&institutions, &record))
            .unwrap();
    }
    writer.commit(20).unwrap();
}

fn catalogue() -> Index {
    let index = Index::create_in_ram().unwrap();
    fill(&index);
    index
}

fn search(index: &Index, query: &str) -> SearchResults {
    search_with(index, query, Filters::default())
}

fn search_with(index: &Index, query: &str, filters: Filters) -> SearchResults {
    index
        .search(&SearchRequest {
            query: query.into(),
            filters,
            offset: 0,
            limit: 50,
            ..Default::default()
        })
        .unwrap()
}

fn ids(results: &SearchResults) -> Vec<&str> {
    results.hits.iter().map(|h| h.id.as_str()).collect()
}

fn sorted_ids(results: &SearchResults) -> Vec<&str> {
    let mut ids = ids(results);
    ids.sort_unstable();
    ids
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

fn highlight<'a>(results: &'a SearchResults, id: &str, field: &str) -> Option<&'a str> {
    results
        .hits
        .iter()
        .find(|h| h.id == id)?
        .highlights
        .iter()
        .find(|(f, _)| f == field)
        .map(|(_, html)| html.as_str())
}

#[test]
fn exact_title_hit_with_its_stored_fields() {
    let index = catalogue();
    let results = search(&index, "铜奔马");
    assert_eq!(ids(&results), ["gsm:1"]);
    let hit = &results.hits[0];
    assert_eq!(hit.title, "铜奔马");
    assert_eq!(hit.institution, "gsm");
    assert_eq!(hit.institution_name, "甘肃省博物馆");
    assert_eq!(hit.institution_type, InstitutionType::Museum);
    assert_eq!(hit.resource_type, ResourceType::Artefact);
    assert_eq!(hit.year, Some(-25));
    assert!(hit.score > 0.0);
}

#[test]
fn simplified_query_finds_traditional_text_and_back() {
    let index = catalogue();
    // The title is stored as 靜夜思; lzlib:2 mentions 静夜思 in its description.
    assert_eq!(ids(&search(&index, "静夜思"))[0], "lzlib:1");
    assert_eq!(sorted_ids(&search(&index, "静夜思")), ["lzlib:1", "lzlib:2"]);
    assert_eq!(sorted_ids(&search(&index, "靜夜思")), ["lzlib:1", "lzlib:2"]);
    // 中華書局 (traditional publisher of lzlib:1) and 中华书局 (simplified elsewhere).
    let expected = ["lzlib:1", "lzlib:2", "lzlib:4"];
    assert_eq!(sorted_ids(&search(&index, "中華書局")), expected);
    assert_eq!(sorted_ids(&search(&index, "中华书局")), expected);
    // Variant characters: 牀 in the document, 床 in the query, and the other way round.
    assert!(ids(&search(&index, "床前")).contains(&"lzlib:1"));
    assert!(ids(&search(&index, "牀前")).contains(&"lzlib:3"));
}

#[test]
fn words_inside_longer_names_are_found() {
    let index = catalogue();
    for query in [
        "黄河",
        "文化",
        "艺术中心",
        "艺术",
        "黄河文化",
        "兰州黄河文化艺术中心",
    ] {
        assert!(ids(&search(&index, query)).contains(&"lzart:3"), "{query}");
    }
    // Parts of a three-character dictionary word.
    assert!(ids(&search(&index, "奔马")).contains(&"gsm:1"));
    assert!(ids(&search(&index, "马家窑")).contains(&"gsm:2"));
}

#[test]
fn every_word_must_match_and_otherwise_any_word_does() {
    let index = catalogue();
    assert_eq!(sorted_ids(&search(&index, "李白 静夜思")), ["lzlib:1", "lzlib:2"]);
    // No record has both: fall back to either.
    let results = search(&index, "李白 铜奔马");
    assert_eq!(results.total, 3);
    assert_eq!(sorted_ids(&results), ["gsm:1", "lzlib:1", "lzlib:2"]);
    // One word that matches nothing: no fallback, no results.
    assert_eq!(search(&index, "恐龙").total, 0);
}

#[test]
fn quoted_phrases_need_the_words_together() {
    let index = catalogue();
    // Both records contain 床前 and 明月光, only the poem has them side by side.
    assert_eq!(sorted_ids(&search(&index, "床前明月光")), ["lzlib:1", "lzlib:3"]);
    assert_eq!(ids(&search(&index, "床前明月光"))[0], "lzlib:1");
    assert_eq!(ids(&search(&index, "\"床前明月光\"")), ["lzlib:1"]);
    assert_eq!(ids(&search(&index, "“牀前明月光”")), ["lzlib:1"]);
    // Punctuation in the document separates: the phrase across a comma does not match.
    assert_eq!(search(&index, "\"地上霜舉頭\"").total, 0);
    assert_eq!(ids(&search(&index, "\"地上霜，舉頭\"")), ["lzlib:1"]);
}

#[test]
fn title_matches_rank_above_description_matches() {
    let index = catalogue();
    let results = search(&index, "黄河");
    let ids = ids(&results);
    assert_eq!(
        {
            let mut s = ids.clone();
            s.sort_unstable();
            s
        },
        ["lzart:1", "lzart:3", "lzlib:6", "lzlib:8"]
    );
    assert_eq!(
        ids[0], "lzart:1",
        "the title that is exactly the query comes first"
    );
    assert_eq!(
        *ids.last().unwrap(),
        "lzlib:6",
        "description-only match comes last"
    );
}

#[test]
fn isbns_full_width_and_latin_words() {
    let index = catalogue();
    for query in ["9787101003048", "978-7-101-00304-8", "7101003044"] {
        assert_eq!(ids(&search(&index, query)), ["lzlib:1"], "{query}");
    }
    assert_eq!(ids(&search(&index, "ＹＥＬＬＯＷ")), ["lzlib:5"]);
    assert_eq!(ids(&search(&index, "yellow river")), ["lzlib:5"]);
    assert_eq!(ids(&search(&index, "SMITH")), ["lzlib:5"]);
}

#[test]
fn highlights_wrap_the_original_text() {
    let index = catalogue();
    let results = search(&index, "静夜思");
    assert_eq!(highlight(&results, "lzlib:1", "title"), Some("<em>靜夜思</em>"));
    assert_eq!(
        highlight(&results, "lzlib:2", "description"),
        Some("收录李白《<em>静夜思</em>》等名篇。")
    );
    assert_eq!(highlight(&results, "lzlib:1", "creators"), None);

    let results = search(&index, "李白 明月光");
    assert_eq!(highlight(&results, "lzlib:1", "creators"), Some("<em>李白</em>"));
    let description = highlight(&results, "lzlib:1", "description").unwrap();
    assert!(description.starts_with("牀前<em>明月光</em>，"), "{description}");

    let results = search(&index, "彩陶");
    assert_eq!(
        highlight(&results, "gsm:3", "title"),
        Some("&lt;script&gt;alert(1)&lt;/script&gt;<em>彩陶</em>纹样图录")
    );
    assert_eq!(
        highlight(&results, "gsm:2", "subjects"),
        Some("<em>彩陶</em>; 新石器时代")
    );
    // The title itself is returned as stored; escaping it is the presenter's job.
    let hit = results.hits.iter().find(|h| h.id == "gsm:3").unwrap();
    assert!(hit.title.starts_with("<script>"));
}

#[test]
fn long_descriptions_are_cut_around_the_match() {
    let index = Index::create_in_ram().unwrap();
    let institutions = institutions();
    let mut record = Record::new("lzlib:long", "lzlib", "长文");
    record.description = Some(format!("{}黄河{}", "山".repeat(300), "水".repeat(300)));
    let mut writer = index.writer().unwrap();
    writer.upsert(&record, &institutions[0]).unwrap();
    writer.commit(1).unwrap();
    let results = search(&index, "黄河");
    let description = highlight(&results, "lzlib:long", "description").unwrap();
    assert!(description.contains("<em>黄河</em>"));
    assert!(description.chars().count() < 150, "{description}");
}

#[test]
fn browse_facets_count_everything() {
    let index = catalogue();
    let results = search(&index, "");
    assert_eq!(results.total, 20);
    assert_eq!(
        facet(&results, "institution"),
        [("lzlib", 8), ("gsm", 4), ("lzart", 4), ("xbmz", 2), ("yzcc", 2)]
    );
    assert_eq!(
        facet(&results, "institution_type"),
        [
            ("library", 10),
            ("art_gallery", 4),
            ("museum", 4),
            ("cultural_centre", 2)
        ]
    );
    assert_eq!(
        facet(&results, "resource_type"),
        [
            ("book", 7),
            ("artwork", 3),
            ("ancient_book", 2),
            ("artefact", 2),
            ("event", 2),
            ("periodical", 2),
            ("image", 1),
            ("manuscript", 1)
        ]
    );
    assert_eq!(
        facet(&results, "region"),
        [("城关区", 12), ("七里河区", 4), ("榆中县", 2)]
    );
    assert_eq!(facet(&results, "language"), [("zh", 13), ("en", 1)]);
    let years = facet(&results, "year");
    assert_eq!(years.len(), 19);
    assert!(years.contains(&("-3300", 1)) && years.contains(&("2021", 1)));
    let names: Vec<&str> = results.facets.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "institution",
            "institution_type",
            "resource_type",
            "region",
            "language",
            "period",
            "accessible_format",
            "level",
            "branch",
            "brand",
            "audience",
            "special_collection",
            "year"
        ]
    );
}

#[test]
fn facets_are_disjunctive() {
    let index = catalogue();
    let filters = Filters {
        institution_types: vec![InstitutionType::Library],
        languages: vec!["zh".into()],
        ..Filters::default()
    };
    let results = search_with(&index, "", filters);
    assert_eq!(results.total, 9);
    // Its own filter is not applied: the other institution types, among Chinese records.
    assert_eq!(
        facet(&results, "institution_type"),
        [
            ("library", 9),
            ("museum", 2),
            ("art_gallery", 1),
            ("cultural_centre", 1)
        ]
    );
    // The other languages, among library records.
    assert_eq!(facet(&results, "language"), [("zh", 9), ("en", 1)]);
    // Facets without a filter of their own see both filters.
    assert_eq!(facet(&results, "institution"), [("lzlib", 7), ("xbmz", 2)]);
    assert_eq!(
        facet(&results, "resource_type"),
        [("book", 5), ("ancient_book", 2), ("periodical", 2)]
    );
    assert_eq!(facet(&results, "region"), [("城关区", 7)]);
    assert_eq!(facet(&results, "year").len(), 8);

    // One filter: its own facet counts as in the browse of everything, the others within it.
    let everything = search_with(&index, "", Filters::default());
    let libraries = search_with(
        &index,
        "",
        Filters {
            institution_types: vec![InstitutionType::Library],
            ..Filters::default()
        },
    );
    assert_eq!(
        facet(&libraries, "institution_type"),
        facet(&everything, "institution_type")
    );
    assert!(facet(&everything, "institution_type").contains(&("library", libraries.total as u64)));
    assert!(libraries.total < everything.total);
    let institutions: u64 = facet(&libraries, "institution").iter().map(|(_, n)| n).sum();
    assert_eq!(institutions, libraries.total as u64);

    // With a query too: 黄河 matches lzart:1, lzart:3, lzlib:6, lzlib:8.
    let filters = Filters {
        institutions: vec!["lzart".into()],
        ..Filters::default()
    };
    let results = search_with(&index, "黄河", filters);
    assert_eq!(sorted_ids(&results), ["lzart:1", "lzart:3"]);
    assert_eq!(facet(&results, "institution"), [("lzart", 2), ("lzlib", 2)]);
    assert_eq!(facet(&results, "resource_type"), [("artwork", 1), ("event", 1)]);
}

#[test]
fn every_filter_restricts_and_repeated_values_widen() {
    let index = catalogue();
    let count = |filters: Filters| search_with(&index, "", filters).total;
    assert_eq!(
        count(Filters {
            institutions: vec!["gsm".into(), "yzcc".into()],
            ..Filters::default()
        }),
        6
    );
    assert_eq!(
        count(Filters {
            institution_types: vec![InstitutionType::Museum, InstitutionType::CulturalCentre],
            ..Filters::default()
        }),
        6
    );
    assert_eq!(
        count(Filters {
            resource_types: vec![ResourceType::Artwork, ResourceType::Event],
            ..Filters::default()
        }),
        5
    );
    assert_eq!(
        count(Filters {
            regions: vec![District::Qilihe, District::Yuzhong],
            ..Filters::default()
        }),
        6
    );
    assert_eq!(
        count(Filters {
            regions: vec![District::Honggu],
            ..Filters::default()
        }),
        0
    );
    assert_eq!(
        count(Filters {
            languages: vec!["EN".into()],
            ..Filters::default()
        }),
        1
    );
    assert_eq!(
        count(Filters {
            institutions: vec!["nobody".into()],
            ..Filters::default()
        }),
        0
    );
    // Two filters together: Chengguan artworks.
    assert_eq!(
        count(Filters {
            regions: vec![District::Chengguan],
            resource_types: vec![ResourceType::Artwork],
            ..Filters::default()
        }),
        3
    );
}

#[test]
fn year_filter_is_an_overlap() {
    let index = catalogue();
    let years = |from, to| {
        let results = search_with(
            &index,
            "",
            Filters {
                year_from: from,
                year_to: to,
                ..Filters::default()
            },
        );
        (
            sorted_ids(&results)
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            results,
        )
    };
    // 铜奔马 spans -25..220 and 敦煌写经残卷 700..800; the painted jar ends in -2050.
    assert_eq!(years(Some(0), Some(1000)).0, ["gsm:1", "gsm:4"]);
    assert_eq!(years(Some(200), Some(210)).0, ["gsm:1"]);
    assert_eq!(years(None, Some(-3000)).0, ["gsm:2"]);
    assert_eq!(years(Some(2016), None).0, ["lzart:3", "lzart:4", "yzcc:1"]);
    // Records without a year are excluded by any year filter.
    assert!(!years(Some(-10_000), Some(3000)).0.contains(&"xbmz:1".to_string()));
    assert_eq!(years(Some(-10_000), Some(3000)).0.len(), 19);
    // The year facet ignores the year filter.
    let (_, results) = years(Some(0), Some(1000));
    assert_eq!(facet(&results, "year").len(), 19);
}

#[test]
fn paging_walks_the_browse_order() {
    let index = catalogue();
    let mut seen = Vec::new();
    for page in 0..4 {
        let results = index
            .search(&SearchRequest {
                query: String::new(),
                offset: page * 6,
                limit: 6,
                ..SearchRequest::default()
            })
            .unwrap();
        assert_eq!(results.total, 20);
        seen.extend(results.hits.into_iter().map(|h| (h.id, h.year)));
    }
    assert_eq!(seen.len(), 20);
    assert_eq!(seen[0], ("yzcc:1".to_string(), Some(2021)));
    assert_eq!(seen[19], ("xbmz:1".to_string(), None));
    // Newest first.
    let years: Vec<i32> = seen.iter().filter_map(|(_, y)| *y).collect();
    assert!(years.windows(2).all(|w| w[0] >= w[1]));
    // A query's pages follow its ranking.
    let all = search(&index, "黄河");
    let second = index
        .search(&SearchRequest {
            query: "黄河".into(),
            offset: 1,
            limit: 2,
            ..SearchRequest::default()
        })
        .unwrap();
    assert_eq!(ids(&second), ids(&all)[1..3]);
    assert_eq!(second.total, 4);
    // limit 0: only counts.
    let counts = index
        .search(&SearchRequest {
            query: "黄河".into(),
            ..SearchRequest::default()
        })
        .unwrap();
    assert!(counts.hits.is_empty());
    assert_eq!(counts.total, 4);
    // Deep pages are refused.
    let deep = index.search(&SearchRequest {
        offset: 10_000,
        limit: 10,
        ..SearchRequest::default()
    });
    assert!(matches!(deep, Err(Error::ResultWindowTooLarge { .. })));
}

#[test]
fn upsert_is_idempotent_and_replaces() {
    let index = catalogue();
    let institutions = institutions();
    let mut record = record(&specs()[8]);
    let mut writer = index.writer().unwrap();
    writer.upsert(&record, &institutions[1]).unwrap();
    writer.upsert(&record, &institutions[1]).unwrap();
    writer.commit(21).unwrap();
    assert_eq!(index.num_docs(), 20);
    assert_eq!(search(&index, "铜奔马").total, 1);

    // Not 马踏飞燕: that is a synonym of 铜奔马 in the default dictionary.
    record.title = "飞燕铜像".into();
    record.description = None;
    writer.upsert(&record, &institutions[1]).unwrap();
    writer.commit(22).unwrap();
    assert_eq!(index.num_docs(), 20);
    assert_eq!(search(&index, "铜奔马").total, 0);
    assert_eq!(ids(&search(&index, "飞燕")), ["gsm:1"]);
}

#[test]
fn delete_and_delete_all() {
    let index = catalogue();
    let mut writer = index.writer().unwrap();
    writer.delete("gsm:1").unwrap();
    writer.delete("no-such-id").unwrap();
    // Not visible before the commit.
    assert_eq!(search(&index, "铜奔马").total, 1);
    writer.commit(21).unwrap();
    assert_eq!(search(&index, "铜奔马").total, 0);
    assert_eq!(index.num_docs(), 19);

    writer.delete_all().unwrap();
    writer.commit(22).unwrap();
    assert_eq!(index.num_docs(), 0);
    assert_eq!(search(&index, "").total, 0);
    assert_eq!(index.watermark().unwrap(), 22);
}

#[test]
fn invalid_records_are_rejected_and_the_writer_goes_on() {
    let index = Index::create_in_ram().unwrap();
    let institutions = institutions();
    let mut writer = index.writer().unwrap();
    let bad = Record::new("lzlib:bad", "lzlib", "   ");
    assert!(matches!(
        writer.upsert(&bad, &institutions[0]),
        Err(Error::InvalidRecord { .. })
    ));
    // The record's institution must be the one given.
    let elsewhere = Record::new("gsm:9", "gsm", "错馆");
    assert!(matches!(
        writer.upsert(&elsewhere, &institutions[0]),
        Err(Error::InvalidRecord { .. })
    ));
    let good = Record::new("lzlib:good", "lzlib", "好书");
    writer.upsert(&good, &institutions[0]).unwrap();
    writer.commit(1).unwrap();
    assert_eq!(index.num_docs(), 1);
}

#[test]
fn only_one_writer_at_a_time() {
    let index = catalogue();
    let writer = index.writer().unwrap();
    assert!(matches!(index.clone().writer(), Err(Error::WriterInUse)));
    drop(writer);
    assert!(index.writer().is_ok());
}

#[test]
fn watermark_and_documents_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    {
        let index = Index::open_or_create(&path).unwrap();
        assert_eq!(index.watermark().unwrap(), 0);
        assert_eq!(index.num_docs(), 0);
        let institutions = institutions();
        let mut writer = index.writer().unwrap();
        for spec in specs() {
            let record = record(&spec);
            writer
                .upsert(&record, institution_of(&institutions, &record))
                .unwrap();
        }
        writer.commit(42).unwrap();
        // Uncommitted work is not durable.
        writer.delete_all().unwrap();
    }
    let index = Index::open_or_create(&path).unwrap();
    assert_eq!(index.watermark().unwrap(), 42);
    assert_eq!(index.num_docs(), 20);
    assert_eq!(ids(&search(&index, "静夜思"))[0], "lzlib:1");
}

#[test]
fn an_index_with_another_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("title", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(dir.path(), builder.build()).unwrap();
    assert!(matches!(
        Index::open_or_create(dir.path()),
        Err(Error::SchemaMismatch { .. })
    ));
}

#[test]
fn over_long_queries_are_refused() {
    let index = catalogue();
    for query in ["黄".repeat(MAX_QUERY_CHARS + 1), "a".repeat(10_000)] {
        let result = index.search(&SearchRequest {
            query,
            limit: 10,
            ..SearchRequest::default()
        });
        assert!(matches!(result, Err(Error::QueryTooLong { .. })));
    }
}

#[test]
fn hostile_queries_never_panic() {
    let index = catalogue();
    let queries = [
        "，。！？、",
        "\"",
        "\"\"\"",
        "\"黄河",
        "黄河\"",
        "“黄河",
        "((((",
        "*",
        "AND OR NOT",
        "-黄河",
        "😀🚀🐎",
        "🐎铜奔马🐎",
        "\u{0}\u{1}\u{1b}[31m",
        "\u{202e}黄河\u{200b}",
        "\\",
        "黄河 \t\n 兰州",
        "a\"b\"c\"d",
        "ﾟ∀ﾟ",
        "𠀀𠀁",
        "İSTANBUL",
    ];
    for query in queries {
        let results = index
            .search(&SearchRequest {
                query: query.into(),
                limit: 10,
                ..SearchRequest::default()
            })
            .unwrap_or_else(|e| panic!("{query:?}: {e}"));
        assert!(results.total <= 20, "{query:?}");
    }
    // Punctuation only browses; an emoji around a word is ignored.
    assert_eq!(search(&index, "，。！？、").total, 20);
    assert_eq!(ids(&search(&index, "🐎铜奔马🐎")), ["gsm:1"]);
    // 10,000 characters are refused, not searched.
    assert!(
        index
            .search(&SearchRequest {
                query: "😀".repeat(10_000),
                ..SearchRequest::default()
            })
            .is_err()
    );
}

#[test]
fn handles_cross_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    fn send<T: Send>() {}
    send_sync::<Index>();
    send::<jincheng_indexer::RecordWriter>();
}

#[test]
fn words_hidden_inside_other_words_are_found() {
    let index = catalogue();
    // jieba cuts 马踏飞燕 as 马踏飞 + 燕; the characters still find 飞燕.
    assert_eq!(ids(&search(&index, "飞燕")), ["gsm:1"]);
    let results = search(&index, "飞燕");
    assert_eq!(
        highlight(&results, "gsm:1", "description"),
        Some("东汉青铜器，武威雷台出土，又称马踏<em>飞燕</em>。")
    );
}

#[test]
fn a_bulk_loaded_index_answers_as_one_warmed_after_each_commit() {
    let warmed = catalogue();
    let bulk = Index::create_in_ram().unwrap();
    bulk.set_bulk_loading(true);
    fill(&bulk);
    for query in ["", "兰州", "敦煌", "jingyesi"] {
        for collapse in [false, true] {
            let request = SearchRequest {
                query: query.into(),
                limit: 50,
                collapse,
                ..Default::default()
            };
            let (a, b) = (warmed.search(&request).unwrap(), bulk.search(&request).unwrap());
            assert_eq!(
                (a.total, ids(&a)),
                (b.total, ids(&b)),
                "{query:?} collapse {collapse}"
            );
            assert_eq!(facet(&a, "institution"), facet(&b, "institution"), "{query:?}");
        }
    }
    let suggestions = |index: &Index| {
        let found = index.suggest("兰", 10).unwrap();
        found.into_iter().map(|s| s.text).collect::<Vec<_>>()
    };
    assert!(!suggestions(&warmed).is_empty());
    assert_eq!(suggestions(&warmed), suggestions(&bulk));
}
