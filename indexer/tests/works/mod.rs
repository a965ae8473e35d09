//! Issue 12, "search that never hides a work": which records collapse into one hit, facet
//! counts that equal what a click shows, `limit = 0`, initials of long titles, and the
//! curators' and branches' filters.

use jincheng_indexer::{Filters, Index, RecordWriter, SearchRequest, SearchResults};
use schemas::{
    Audience, Branch, Curation, DateRange, District, Holding, Institution, InstitutionType, Level, Record,
    ResourceType,
};

fn institution(id: &str, kind: InstitutionType, district: District, level: Level) -> Institution {
    Institution {
        id: id.into(),
        name: format!("{id} 馆"),
        institution_type: kind,
        district: Some(district),
        level,
        venue: None,
    }
}

fn city_library() -> Institution {
    institution(
        "lzlib",
        InstitutionType::Library,
        District::Chengguan,
        Level::City,
    )
}

fn county_library() -> Institution {
    institution(
        "yzlib",
        InstitutionType::Library,
        District::Yuzhong,
        Level::County,
    )
}

fn museum() -> Institution {
    institution("gsm", InstitutionType::Museum, District::Qilihe, Level::City)
}

fn year(year: i32) -> Option<DateRange> {
    Some(DateRange {
        display: year.to_string(),
        year_start: Some(year),
        year_end: Some(year),
    })
}

fn book(id: &str, title: &str, creator: &str, publisher: &str, published: i32) -> Record {
    let institution = id
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_start_matches("curated-");
    let mut record = Record::new(id, institution, title);
    record.resource_type = ResourceType::Book;
    record.creators.push(creator.into());
    record.publisher = Some(publisher.into());
    record.date = year(published);
    record
}

fn write(index: &Index, records: &[(Record, Institution)]) {
    let mut writer = index.writer().unwrap();
    for (record, institution) in records {
        writer.upsert(record, institution).unwrap();
    }
    writer.commit(1).unwrap();
}

fn search(index: &Index, query: &str, collapse: bool, filters: Filters) -> SearchResults {
    index
        .search(&SearchRequest {
            query: query.into(),
            filters,
            limit: 100,
            collapse,
            ..SearchRequest::default()
        })
        .unwrap()
}

fn collapsed(index: &Index, query: &str) -> SearchResults {
    search(index, query, true, Filters::default())
}

fn holdings(results: &SearchResults, hit: usize) -> Vec<&str> {
    results.hits[hit]
        .holdings
        .iter()
        .map(|h| h.record_id.as_str())
        .collect()
}

#[test]
fn nine_fragments_of_one_museum_are_nine_hits() {
    let index = Index::create_in_ram().unwrap();
    let records: Vec<(Record, Institution)> = (1..=9)
        .map(|i| {
            let mut record = Record::new(format!("gsm:{i:02}"), "gsm", "织金锦残片");
            record.resource_type = ResourceType::Artefact;
            record.creators.push("佚名".into());
            record.publisher = Some("甘肃省博物馆".into());
            record.date = year(1300);
            record.inventory_number = Some(format!("GM-{i:04}"));
            (record, museum())
        })
        .collect();
    write(&index, &records);
    let results = collapsed(&index, "织金锦残片");
    assert_eq!(results.total, 9);
    assert_eq!(results.hits.len(), 9);
    assert!(results.hits.iter().all(|h| h.holdings.len() == 1));
}

#[test]
fn sixteen_untitled_poems_of_one_source_are_sixteen_hits() {
    // Typed as books, from one anthology of one publisher and year: the same title key, but
    // one source, so they never collapse.
    let index = Index::create_in_ram().unwrap();
    let records: Vec<(Record, Institution)> = (1..=16)
        .map(|i| {
            let mut record = book(&format!("lzlib:{i:02}"), "無題", "李商隱", "中華書局", 1998);
            record.description = Some(format!("第{i}首"));
            (record, city_library())
        })
        .collect();
    write(&index, &records);
    for query in ["无题", "無題 李商隐"] {
        let results = collapsed(&index, query);
        assert_eq!(results.total, 16, "{query}");
        assert_eq!(results.hits.len(), 16, "{query}");
        assert!(results.hits.iter().all(|h| h.holdings.len() == 1), "{query}");
    }
}

#[test]
fn one_isbn_at_two_libraries_is_one_hit_with_two_holdings() {
    let index = Index::create_in_ram().unwrap();
    let mut a = book("lzlib:1", "敦煌学概论", "张三", "甘肃人民出版社", 2005);
    a.isbns.push("9787101003048".into());
    // The other library's record says less and differs in the publisher's wording.
    let mut b = book("yzlib:7", "敦煌学概论", "张三", "兰州：甘肃人民出版社", 2006);
    b.isbns.push("7-101-00304-4".into());
    write(&index, &[(a, city_library()), (b, county_library())]);
    let results = collapsed(&index, "敦煌学概论");
    assert_eq!(results.total, 1);
    assert_eq!(holdings(&results, 0), ["lzlib:1", "yzlib:7"]);
    // Uncollapsed, both records are there.
    assert_eq!(search(&index, "敦煌学概论", false, Filters::default()).total, 2);
}

#[test]
fn two_editions_of_different_years_are_two_hits() {
    let index = Index::create_in_ram().unwrap();
    let first = book("lzlib:1", "齐家文化论集", "陈燕", "甘肃文化出版社", 2001);
    let second = book("yzlib:1", "齐家文化论集", "陈燕", "甘肃文化出版社", 2010);
    write(&index, &[(first, city_library()), (second, county_library())]);
    let results = collapsed(&index, "齐家文化论集");
    assert_eq!(results.total, 2);
    assert!(results.hits.iter().all(|h| h.holdings.len() == 1));
}

#[test]
fn copies_without_isbn_collapse_across_sources_only_for_published_types() {
    let index = Index::create_in_ram().unwrap();
    let a = book("lzlib:1", "《兰州古今碑刻》", "薛仰敬", "兰州大学出版社", 2002);
    let b = book("yzlib:9", "兰州古今碑刻", "薛 仰敬", "兰州大学出版社", 2002);
    // Museum objects agreeing on everything are still two objects.
    let object = |id: &str| {
        let mut record = Record::new(id, "gsm", "彩陶双耳罐");
        record.resource_type = ResourceType::Artefact;
        record.creators.push("佚名".into());
        record.publisher = Some("甘肃省博物馆".into());
        record.date = year(-2000);
        record
    };
    let other_museum = institution("lzmuseum", InstitutionType::Museum, District::Xigu, Level::City);
    let mut c = object("lzmuseum:3");
    c.institution = "lzmuseum".into();
    write(
        &index,
        &[
            (a, city_library()),
            (b, county_library()),
            (object("gsm:1"), museum()),
            (c, other_museum),
        ],
    );
    let books = collapsed(&index, "兰州古今碑刻");
    assert_eq!(books.total, 1);
    assert_eq!(holdings(&books, 0), ["lzlib:1", "yzlib:9"]);
    let objects = collapsed(&index, "彩陶双耳罐");
    assert_eq!(objects.total, 2);
    assert_eq!(objects.hits.len(), 2);
}

#[test]
fn a_source_with_two_records_of_a_title_key_keeps_the_whole_group_apart() {
    let index = Index::create_in_ram().unwrap();
    let records = [
        (
            book("lzlib:1", "黄河文化", "王五", "读者出版社", 2015),
            city_library(),
        ),
        (
            book("lzlib:2", "黄河文化", "王五", "读者出版社", 2015),
            city_library(),
        ),
        (
            book("yzlib:1", "黄河文化", "王五", "读者出版社", 2015),
            county_library(),
        ),
    ];
    write(&index, &records);
    let results = collapsed(&index, "黄河文化");
    assert_eq!(results.total, 3);
    assert_eq!(results.hits.len(), 3);
    assert!(results.hits.iter().all(|h| h.holdings.len() == 1));
    let institutions = results.facets.iter().find(|f| f.name == "institution").map(|f| {
        f.values
            .iter()
            .map(|v| (v.value.as_str(), v.count))
            .collect::<Vec<_>>()
    });
    assert_eq!(institutions, Some(vec![("lzlib", 2), ("yzlib", 1)]));

    // Deleting one of the source's two records makes the rest collapse again.
    let mut writer = index.writer().unwrap();
    writer.delete("lzlib:2").unwrap();
    writer.commit(2).unwrap();
    let results = collapsed(&index, "黄河文化");
    assert_eq!(results.total, 1);
    assert_eq!(holdings(&results, 0), ["lzlib:1", "yzlib:1"]);
}

#[test]
fn rewriting_a_record_does_not_make_its_copy_ambiguous() {
    // The old version of a rewritten record is deleted but may stay in an older segment
    // until a merge: it must not count as a second record of the source.
    let index = Index::create_in_ram().unwrap();
    let a = book("lzlib:1", "黄河文化", "王五", "读者出版社", 2015);
    let b = book("yzlib:1", "黄河文化", "王五", "读者出版社", 2015);
    write(&index, &[(a.clone(), city_library()), (b, county_library())]);
    let mut writer = index.writer().unwrap();
    writer.upsert(&a, &city_library()).unwrap();
    writer.commit(2).unwrap();
    let results = collapsed(&index, "黄河文化");
    assert_eq!(results.total, 1);
    assert_eq!(holdings(&results, 0), ["lzlib:1", "yzlib:1"]);
}

/// Branches of the two libraries: one known in another district, one not known at all.
fn branches() -> Vec<Branch> {
    vec![
        Branch {
            institution: "lzlib".into(),
            name: "七里河分馆".into(),
            district: District::Qilihe,
        },
        Branch {
            institution: "yzlib".into(),
            name: "和平镇分馆".into(),
            district: District::Yuzhong,
        },
    ]
}

fn holding(institution: &str, branch: &str) -> Holding {
    Holding {
        institution: institution.into(),
        branch: Some(branch.into()),
        items: Some(1),
        ..Holding::default()
    }
}

/// A mixed catalogue: copies across libraries (by ISBN and by title key), an ambiguous
/// group, unique objects, branches and curators' flags.
fn mixed_catalogue() -> Index {
    let index = Index::create_in_ram().unwrap();
    let mut writer: RecordWriter = index.writer().unwrap();
    writer.set_branches(&branches());
    let mut add = |record: Record, institution: Institution| writer.upsert(&record, &institution).unwrap();

    let mut a = book("lzlib:1", "兰州史话", "张三", "甘肃人民出版社", 2005);
    a.isbns.push("9787101003048".into());
    a.holdings = vec![holding("lzlib", "七里河分馆"), holding("lzlib", "总馆")];
    add(a, city_library());
    let mut b = book("yzlib:1", "兰州史话", "张三", "甘肃人民出版社", 2005);
    b.isbns.push("9787101003048".into());
    b.holdings = vec![holding("yzlib", "和平镇分馆")];
    b.language = Some("zh".into());
    add(b, county_library());

    add(
        book("lzlib:2", "兰州史话新编", "李四", "读者出版社", 2015),
        city_library(),
    );
    add(
        book("yzlib:2", "兰州史话新编", "李四", "读者出版社", 2015),
        county_library(),
    );
    add(
        book("lzlib:3", "兰州史话选", "王五", "读者出版社", 2016),
        city_library(),
    );
    add(
        book("lzlib:4", "兰州史话选", "王五", "读者出版社", 2016),
        city_library(),
    );
    add(
        book("yzlib:4", "兰州史话选", "王五", "读者出版社", 2016),
        county_library(),
    );

    for i in 1..=3 {
        let mut record = Record::new(format!("gsm:{i}"), "gsm", "兰州史话展品");
        record.resource_type = ResourceType::Artefact;
        record.date = year(1900 + i);
        if i == 1 {
            record.curation = Some(Curation {
                special_collection: true,
                brand: Some("春绿陇原".into()),
                audiences: vec![Audience::Children, Audience::Families],
                ..Curation::default()
            });
        }
        add(record, museum());
    }
    let mut curated = book("curated-lzlib:1", "兰州史话讲座", "赵六", "兰州市图书馆", 2024);
    curated.resource_type = ResourceType::Event;
    curated.curation = Some(Curation {
        special_collection: true,
        brand: Some(" 春绿陇原 ".into()),
        audiences: vec![Audience::Elderly],
        ..Curation::default()
    });
    add(curated, city_library());
    writer.commit(1).unwrap();
    index
}

/// `filters` with facet `name`'s filter set to just `value`.
fn clicked(filters: &Filters, name: &str, value: &str) -> Filters {
    let mut f = filters.clone();
    match name {
        "institution" => f.institutions = vec![value.into()],
        "institution_type" => f.institution_types = vec![value.parse().unwrap()],
        "resource_type" => f.resource_types = vec![value.parse().unwrap()],
        "region" => f.regions = vec![value.parse().unwrap()],
        "language" => f.languages = vec![value.into()],
        "period" => f.periods = vec![value.into()],
        "accessible_format" => f.accessible_formats = vec![value.parse().unwrap()],
        "level" => f.levels = vec![value.parse().unwrap()],
        "branch" => f.branches = vec![value.into()],
        "brand" => f.brands = vec![value.into()],
        "audience" => f.audiences = vec![value.parse().unwrap()],
        "special_collection" => f.special_collection = value == "true",
        "year" => {
            let year: i32 = value.parse().unwrap();
            f.year_from = Some(year);
            f.year_to = Some(year);
        }
        other => panic!("unknown facet {other}"),
    }
    f
}

#[test]
fn every_facet_count_is_the_total_of_its_click() {
    let index = mixed_catalogue();
    let base_filters = [
        Filters::default(),
        Filters {
            institution_types: vec![InstitutionType::Library],
            ..Filters::default()
        },
        Filters {
            regions: vec![District::Qilihe],
            ..Filters::default()
        },
    ];
    let mut checked = 0;
    for collapse in [true, false] {
        for query in ["", "兰州史话"] {
            for filters in &base_filters {
                let results = search(&index, query, collapse, filters.clone());
                for facet in &results.facets {
                    for value in &facet.values {
                        let click = search(
                            &index,
                            query,
                            collapse,
                            clicked(filters, facet.name, &value.value),
                        );
                        assert_eq!(
                            value.count, click.total as u64,
                            "{} = {} (collapse {collapse}, query {query:?}, filters {filters:?})",
                            facet.name, value.value
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 100, "{checked} facet values checked");

    // The numbers themselves: 11 records, 9 works (the ISBN pair and the title-key pair
    // collapse; the ambiguous group and the objects do not).
    let records = search(&index, "", false, Filters::default());
    let works = search(&index, "", true, Filters::default());
    assert_eq!((records.total, works.total), (11, 9));
    let count = |results: &SearchResults, name: &str, value: &str| {
        results
            .facets
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.values.iter().find(|v| v.value == value))
            .map_or(0, |v| v.count)
    };
    // The two works held by both libraries count under each library, once.
    assert_eq!(count(&works, "institution", "lzlib"), 5);
    assert_eq!(count(&works, "institution", "yzlib"), 3);
    assert_eq!(count(&works, "institution", "gsm"), 3);
    assert_eq!(count(&works, "resource_type", "book"), 5);
    assert_eq!(count(&records, "resource_type", "book"), 7);
    assert_eq!(count(&works, "year", "2005"), 1);
    assert_eq!(count(&records, "year", "2005"), 2);
}

#[test]
fn branches_levels_and_curators_flags_filter_and_facet() {
    let index = mixed_catalogue();
    let ids = |results: &SearchResults| {
        let mut ids: Vec<&str> = results.hits.iter().map(|h| h.id.as_str()).collect();
        ids.sort_unstable();
        ids.join(" ")
    };
    let only = |filters: Filters| search(&index, "", false, filters);
    assert_eq!(
        ids(&only(Filters {
            branches: vec!["七里河分馆".into()],
            ..Filters::default()
        })),
        "lzlib:1"
    );
    // lzlib:1 has a copy at a Qilihe branch and one at an unknown branch (the institution's
    // district); the museum is in Qilihe too.
    assert_eq!(
        ids(&only(Filters {
            regions: vec![District::Qilihe],
            ..Filters::default()
        })),
        "gsm:1 gsm:2 gsm:3 lzlib:1"
    );
    assert!(
        ids(&only(Filters {
            regions: vec![District::Chengguan],
            ..Filters::default()
        }))
        .contains("lzlib:1")
    );
    assert_eq!(
        ids(&only(Filters {
            levels: vec![Level::County],
            ..Filters::default()
        })),
        "yzlib:1 yzlib:2 yzlib:4"
    );
    assert_eq!(
        ids(&only(Filters {
            brands: vec!["春绿陇原".into()],
            ..Filters::default()
        })),
        "curated-lzlib:1 gsm:1"
    );
    assert_eq!(
        ids(&only(Filters {
            audiences: vec![Audience::Elderly, Audience::Children],
            ..Filters::default()
        })),
        "curated-lzlib:1 gsm:1"
    );
    assert_eq!(
        ids(&only(Filters {
            special_collection: true,
            institution_types: vec![InstitutionType::Museum],
            ..Filters::default()
        })),
        "gsm:1"
    );
    // The brand and the special holding's names are searchable.
    assert_eq!(
        ids(&search(&index, "春绿陇原", false, Filters::default())),
        "curated-lzlib:1 gsm:1"
    );
    assert_eq!(
        ids(&search(&index, "特质展品", false, Filters::default())),
        "gsm:1"
    );
    assert_eq!(
        ids(&search(&index, "特色馆藏", false, Filters::default())),
        "curated-lzlib:1 gsm:1"
    );

    let all = only(Filters::default());
    let facet = |name: &str| {
        all.facets
            .iter()
            .find(|f| f.name == name)
            .map(|f| {
                f.values
                    .iter()
                    .map(|v| format!("{}={}", v.value, v.count))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    };
    assert_eq!(facet("branch"), "七里河分馆=1 和平镇分馆=1 总馆=1");
    assert_eq!(facet("level"), "city=8 county=3");
    assert_eq!(facet("brand"), "春绿陇原=2");
    assert_eq!(facet("audience"), "children=1 elderly=1 families=1");
    assert_eq!(facet("special_collection"), "true=2");
    let names: Vec<&str> = all.facets.iter().map(|f| f.name).collect();
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
fn limit_zero_gives_the_total_and_the_facets_without_hits() {
    let index = mixed_catalogue();
    for collapse in [false, true] {
        for query in ["", "兰州史话"] {
            let full = search(&index, query, collapse, Filters::default());
            let counted = index
                .search(&SearchRequest {
                    query: query.into(),
                    limit: 0,
                    collapse,
                    ..SearchRequest::default()
                })
                .unwrap();
            assert!(counted.hits.is_empty());
            assert!(counted.total > 0);
            assert_eq!(counted.total, full.total, "{query:?} collapse {collapse}");
            assert_eq!(counted.facets, full.facets, "{query:?} collapse {collapse}");
            // Past the end too.
            let beyond = index
                .search(&SearchRequest {
                    query: query.into(),
                    offset: 50,
                    limit: 0,
                    collapse,
                    ..SearchRequest::default()
                })
                .unwrap();
            assert_eq!((beyond.total, beyond.hits.len()), (full.total, 0));
        }
    }
}

#[test]
fn initials_find_titles_of_any_length_and_their_prefixes() {
    let index = Index::create_in_ram().unwrap();
    let titles = [
        ("lzlib:9", "江南民國青銅器通史"),
        ("lzlib:12", "甘肃兰州黄河文化研究论丛"),
        ("lzlib:20", "兰州图书馆地方文献目录提要汇编续集第一辑"),
        ("lzlib:8", "山西宋代繪畫史稿"),
    ];
    let records: Vec<(Record, Institution)> = titles
        .iter()
        .map(|(id, title)| (Record::new(*id, "lzlib", *title), city_library()))
        .collect();
    write(&index, &records);
    let found = |query: &str| -> Vec<String> {
        search(&index, query, false, Filters::default())
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect()
    };
    let cases = [
        ("sxsdhhsg", "lzlib:8"),
        ("jnmgqtqts", "lzlib:9"),
        ("jnmg", "lzlib:9"),
        ("jnmgqtq", "lzlib:9"),
        ("gslzhhwhyjlc", "lzlib:12"),
        ("gslzhhwhy", "lzlib:12"),
        ("lztsgdfwxmltyhbxjdyj", "lzlib:20"),
        ("lztsgdfwxmlty", "lzlib:20"),
        ("lztsgdfwxmltyhbx", "lzlib:20"),
        // A run from the middle of the title, too.
        ("dfwxmltyhb", "lzlib:20"),
    ];
    for (query, id) in cases {
        assert_eq!(found(query).first().map(String::as_str), Some(id), "{query}");
    }
    // One wrong letter finds nothing.
    for query in ["jnmgqtqtx", "lztsgdfwxmltyhbxjdyx"] {
        assert!(found(query).is_empty(), "{query}: {:?}", found(query));
    }
}
