//! Chinese search that finds what people mean (issue 4): pinyin, homophones, dictionaries,
//! mixed text, query syntax, suggestions, collapsing copies of a work, explanations.

use jincheng_indexer::{AnalysisOptions, Index, SearchRequest, SearchResults};
use schemas::{Holding, Institution, InstitutionType, Level, Record};

fn library(id: &str, name: &str) -> Institution {
    Institution {
        id: id.into(),
        name: name.into(),
        institution_type: InstitutionType::Library,
        district: None,
        level: Level::City,
        venue: None,
    }
}

/// (id, title, creators, subjects, description, isbn)
type Row = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
);

const ROWS: &[Row] = &[
    (
        "lib:1",
        "靜夜思",
        &["李白"],
        &["唐诗"],
        "牀前明月光，疑是地上霜。",
        "",
    ),
    ("lib:2", "经典诵读", &["王明"], &["教育"], "", ""),
    ("lib:3", "兰州景点导览", &["张华"], &["旅游"], "", ""),
    (
        "lib:4",
        "安装简单的家具",
        &["赵四"],
        &["家居"],
        "安装简单，一看就会。",
        "",
    ),
    ("lib:5", "测试工具箱", &["钱五"], &["软件"], "", ""),
    (
        "lib:6",
        "Gourd Carvings: A Lanzhou Folk Art",
        &["Fischer, James"],
        &["J528.3"],
        "An English-language introduction.",
        "9787119443560",
    ),
    (
        "lib:7",
        "中国古典小说史",
        &["鲁迅"],
        &["I247.5"],
        "",
        "978-7-101-00304-8",
    ),
    (
        "lib:8",
        "马踏飞燕考",
        &["刘青"],
        &["文物"],
        "甘肃武威出土的东汉青铜器。",
        "",
    ),
    ("lib:9", "ABC123 编程入门", &["孙六"], &["计算机"], "", ""),
    ("lib:10", "静夜思新解", &["周七"], &["唐诗"], "", ""),
    ("lib:11", "长安古意", &["卢照邻"], &["唐诗"], "", ""),
    (
        "lib:12",
        "Fan Dances of the North",
        &["Lee, Ann"],
        &["dance"],
        "",
        "",
    ),
];

fn record(row: &Row) -> Record {
    let (id, title, creators, subjects, description, isbn) = *row;
    let mut record = Record::new(id, "lib", title);
    record.creators = creators.iter().map(|s| s.to_string()).collect();
    record.subjects = subjects.iter().map(|s| s.to_string()).collect();
    record.description = (!description.is_empty()).then(|| description.to_string());
    if !isbn.is_empty() {
        record.isbns.push(isbn.to_string());
    }
    record
}

fn fill(index: &Index, rows: &[Row]) {
    let lib = library("lib", "兰州市图书馆");
    let mut writer = index.writer().unwrap();
    for row in rows {
        writer.upsert(&record(row), &lib).unwrap();
    }
    writer.commit(1).unwrap();
}

fn catalogue() -> Index {
    let index = Index::create_in_ram().unwrap();
    fill(&index, ROWS);
    index
}

fn run(index: &Index, query: &str) -> SearchResults {
    index
        .search(&SearchRequest {
            query: query.into(),
            limit: 20,
            ..Default::default()
        })
        .unwrap()
}

fn ids(index: &Index, query: &str) -> Vec<String> {
    run(index, query).hits.into_iter().map(|h| h.id).collect()
}

#[test]
fn pinyin_full_spaced_and_initials_find_the_title() {
    let index = catalogue();
    for query in ["jingyesi", "jing ye si", "JingYeSi", "jys", "静夜思", "靜夜思"] {
        let found = ids(&index, query);
        assert_eq!(
            found.first().map(String::as_str),
            Some("lib:1"),
            "{query}: {found:?}"
        );
    }
    // Creators by pinyin and initials.
    assert_eq!(ids(&index, "libai").first().map(String::as_str), Some("lib:1"));
    assert!(
        ids(&index, "lx").contains(&"lib:7".to_string()),
        "鲁迅 by initials"
    );
    // Heteronyms: 长 is chang and zhang.
    assert!(ids(&index, "changan").contains(&"lib:11".to_string()));
}

#[test]
fn chinese_queries_never_match_homophones() {
    let index = catalogue();
    // 景点 jingdian and 经典 jingdian sound the same.
    assert_eq!(ids(&index, "景点"), ["lib:3"]);
    assert_eq!(ids(&index, "经典"), ["lib:2"]);
    // Pinyin finds both, and says so honestly.
    let both = ids(&index, "jingdian");
    assert!(both.contains(&"lib:2".to_string()) && both.contains(&"lib:3".to_string()));
}

#[test]
fn exact_chinese_outranks_pinyin_and_english_words_still_work() {
    let index = catalogue();
    // An English word that is also pinyin (fan) finds the English title first.
    assert_eq!(ids(&index, "fan").first().map(String::as_str), Some("lib:12"));
    // Stemming: carving = carvings; Latin typos are forgiven in titles.
    assert_eq!(ids(&index, "carving").first().map(String::as_str), Some("lib:6"));
    assert_eq!(ids(&index, "Lanzohu").first().map(String::as_str), Some("lib:6"));
    // The exact title first, the longer one after.
    assert_eq!(ids(&index, "静夜思"), ["lib:1", "lib:10"]);
}

#[test]
fn words_inside_longer_words_are_found() {
    let index = catalogue();
    assert!(ids(&index, "简单").contains(&"lib:4".to_string()));
    assert!(ids(&index, "工具").contains(&"lib:5".to_string()));
}

#[test]
fn mixed_text_isbn_codes_and_width() {
    let index = catalogue();
    for query in [
        "9787101003048",
        "978-7-101-00304-8",
        "7101003044",
        "isbn:7-101-00304-4",
    ] {
        assert_eq!(ids(&index, query), ["lib:7"], "{query}");
    }
    assert_eq!(ids(&index, "I247.5"), ["lib:7"]);
    assert_eq!(ids(&index, "i247"), ["lib:7"]);
    assert_eq!(ids(&index, "subject:I247"), ["lib:7"]);
    assert_eq!(ids(&index, "ＡＢＣ１２３"), ["lib:9"]);
    assert_eq!(ids(&index, "abc123"), ["lib:9"]);
}

#[test]
fn query_syntax_exclusions_prefixes_and_garbage() {
    let index = catalogue();
    let tang = ids(&index, "唐诗 -李白");
    assert!(
        tang.contains(&"lib:10".to_string()) && tang.contains(&"lib:11".to_string()),
        "{tang:?}"
    );
    assert!(!ids(&index, "唐诗 -李白").contains(&"lib:1".to_string()));
    assert!(!ids(&index, "唐诗 -\"床前明月\"").contains(&"lib:1".to_string()));
    // creator: looks only at creators: 李白 wrote lib:1, nobody wrote about 唐诗.
    assert_eq!(ids(&index, "creator:李白"), ["lib:1"]);
    assert!(ids(&index, "creator:唐诗").is_empty());
    assert_eq!(ids(&index, "title:静夜思 creator:周七"), ["lib:10"]);
    // Malformed syntax is plain text, never an error.
    for query in [
        "\"静夜思",
        "title:",
        "-",
        "isbn:abc",
        "foo:静夜思",
        "((静夜思",
        "静夜思\"\"\"",
        "：：",
        "-\"\"",
    ] {
        assert!(
            index
                .search(&SearchRequest {
                    query: query.into(),
                    limit: 5,
                    ..Default::default()
                })
                .is_ok(),
            "{query}"
        );
    }
    assert_eq!(
        ids(&index, "foo:静夜思").first().map(String::as_str),
        Some("lib:1")
    );
    // Only exclusions: everything else.
    assert_eq!(run(&index, "-李白").total, ROWS.len() - 1);
}

#[test]
fn suggestions_by_chinese_pinyin_and_initials() {
    let index = catalogue();
    let texts = |prefix: &str| -> Vec<(String, &'static str)> {
        index
            .suggest(prefix, 10)
            .unwrap()
            .into_iter()
            .map(|s| (s.text, s.field))
            .collect()
    };
    for prefix in ["靜", "静", "静夜", "jing", "jingy", "jy", "JYS"] {
        assert!(
            texts(prefix).contains(&("靜夜思".to_string(), "title")),
            "{prefix}: {:?}",
            texts(prefix)
        );
    }
    assert!(texts("李").contains(&("李白".to_string(), "creator")));
    assert!(texts("唐").contains(&("唐诗".to_string(), "subject")));
    let counted = index.suggest("唐诗", 5).unwrap();
    assert_eq!(counted[0].count, 3);
    assert!(index.suggest("", 10).unwrap().is_empty());
    assert!(index.suggest("静", 0).unwrap().is_empty());
    assert_eq!(
        index.suggest("j", 100).unwrap().len().min(20),
        index.suggest("j", 100).unwrap().len()
    );
    assert!(index.suggest(&"字".repeat(65), 5).is_err());

    // A commit is visible to the next call.
    let lib = library("lib", "兰州市图书馆");
    let mut writer = index.writer().unwrap();
    writer
        .upsert(&Record::new("lib:99", "lib", "静观集"), &lib)
        .unwrap();
    writer.commit(2).unwrap();
    assert!(texts("静观").contains(&("静观集".to_string(), "title")));
}

#[test]
fn dictionaries_load_from_the_data_directory_and_reload() {
    let dir = tempfile::tempdir().unwrap();
    let options = AnalysisOptions {
        dictionary_dir: Some(dir.path().to_path_buf()),
    };
    let index = Index::create_in_ram_with(&options).unwrap();
    let stats = index.reload_dictionaries().unwrap();
    assert!(!stats.user_dict_from_file && !stats.synonyms_from_file);
    // The embedded defaults apply: 铜奔马 ↔ 马踏飞燕.
    fill(&index, ROWS);
    assert_eq!(ids(&index, "铜奔马"), ["lib:8"]);

    // A synonym file written now takes effect on reload, without reindexing.
    std::fs::write(dir.path().join("synonyms.txt"), "测试工具箱,程序员宝典\n").unwrap();
    std::fs::write(dir.path().join("user_dict.txt"), "# local\n工具箱 n\n").unwrap();
    assert!(ids(&index, "程序员宝典").is_empty());
    let stats = index.reload_dictionaries().unwrap();
    assert!(stats.user_dict_from_file && stats.synonyms_from_file);
    assert_eq!(stats.synonym_groups, 1);
    assert_eq!(ids(&index, "程序员宝典"), ["lib:5"]);
    // The user word cuts queries at once (工具箱 one word) and still finds old documents.
    assert_eq!(
        index
            .analyzer()
            .query_tokens("工具箱")
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>(),
        ["工具箱"]
    );
    assert_eq!(ids(&index, "工具箱"), ["lib:5"]);
}

#[test]
fn copies_of_a_work_collapse_into_one_hit_with_every_holding() {
    let index = Index::create_in_ram().unwrap();
    let a = library("lzlib", "兰州市图书馆");
    let b = library("yzlib", "榆中县图书馆");
    let mut one = Record::new("lzlib:1", "lzlib", "中國古典小說史");
    one.creators.push("魯迅".into());
    one.isbns.push("7101003044".into());
    one.holdings.push(Holding {
        institution: "lzlib".into(),
        branch: Some("总馆".into()),
        call_number: Some("I207.41/1".into()),
        items: Some(3),
        status: None,
    });
    one.holdings.push(Holding {
        institution: "lzlib".into(),
        branch: Some("七里河分馆".into()),
        call_number: Some("I207.41/1".into()),
        items: Some(1),
        status: None,
    });
    let mut two = Record::new("yzlib:7", "yzlib", "中国古典小说史");
    two.creators.push("鲁迅".into());
    two.isbns.push("978-7-101-00304-8".into());
    // Same title and creator, no ISBN, different publisher: another work.
    let mut three = Record::new("yzlib:8", "yzlib", "中国古典小说史");
    three.creators.push("鲁迅".into());
    three.publisher = Some("人民文学出版社".into());
    let mut writer = index.writer().unwrap();
    writer.upsert(&one, &a).unwrap();
    writer.upsert(&two, &b).unwrap();
    writer.upsert(&three, &b).unwrap();
    writer.commit(1).unwrap();

    let request = |collapse| SearchRequest {
        query: "中国古典小说史".into(),
        limit: 10,
        collapse,
        ..Default::default()
    };
    let collapsed = index.search(&request(true)).unwrap();
    assert_eq!(collapsed.total, 2, "two works");
    let work = collapsed.hits.iter().find(|h| h.id != "yzlib:8").unwrap();
    let copies: Vec<(&str, &str, Option<&str>)> = work
        .holdings
        .iter()
        .map(|h| {
            (
                h.record_id.as_str(),
                h.institution_name.as_str(),
                h.branch.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        copies,
        [
            ("lzlib:1", "兰州市图书馆", Some("总馆")),
            ("lzlib:1", "兰州市图书馆", Some("七里河分馆")),
            ("yzlib:7", "榆中县图书馆", None),
        ]
    );
    // The call number is searchable, with its class.
    assert_eq!(ids(&index, "I207.41").len(), 1);

    let copies = index.search(&request(false)).unwrap();
    assert_eq!(copies.total, 3);
    // The record with four copies outranks its twin without holdings (popularity), and
    // lists only its own copies.
    assert_eq!(copies.hits[0].id, "lzlib:1");
    assert_eq!(copies.hits[0].holdings.len(), 2);
}

#[test]
fn explanations_only_when_asked() {
    let index = catalogue();
    let mut request = SearchRequest {
        query: "静夜思".into(),
        limit: 3,
        ..Default::default()
    };
    assert!(index.search(&request).unwrap().hits[0].explanation.is_none());
    request.explain = true;
    let results = index.search(&request).unwrap();
    let explanation = results.hits[0].explanation.as_deref().unwrap();
    let json: serde_json::Value = serde_json::from_str(explanation).unwrap();
    assert!(json.get("value").is_some(), "{explanation}");
    assert!(explanation.contains("popularity"));
}

#[test]
fn a_long_word_also_matches_as_its_shorter_words_apart() {
    let index = Index::create_in_ram().unwrap();
    let rows: &[Row] = &[
        ("lib:1", "敦煌石窟全集", &[], &[], "", ""),
        ("lib:2", "敦煌莫高窟的石窟艺术", &[], &[], "", ""),
        ("lib:3", "石窟寺考古", &["敦煌研究院"], &[], "", ""),
        ("lib:4", "敦煌曲子词", &[], &[], "", ""),
        ("lib:5", "马家窑彩陶", &[], &["新石器时代文化"], "", ""),
    ];
    fill(&index, rows);
    // The contiguous word first; then the records with both shorter words, in any field;
    // never a record with only one of them.
    let found = ids(&index, "敦煌石窟");
    assert_eq!(found.first().map(String::as_str), Some("lib:1"));
    let mut rest = found[1..].to_vec();
    rest.sort();
    assert_eq!(rest, ["lib:2", "lib:3"]);
    // The shorter words are what is highlighted where the whole word is not.
    let results = run(&index, "敦煌石窟");
    let title = |id: &str| {
        let hit = results.hits.iter().find(|h| h.id == id).unwrap();
        hit.highlights
            .iter()
            .find(|(f, _)| f == "title")
            .map(|(_, h)| h.clone())
    };
    assert_eq!(title("lib:1").as_deref(), Some("<em>敦煌石窟</em>全集"));
    assert_eq!(
        title("lib:2").as_deref(),
        Some("<em>敦煌</em>莫高窟的<em>石窟</em>艺术")
    );
    assert_eq!(ids(&index, "马家窑文化"), ["lib:5"]);
}

#[test]
fn a_creators_whole_name_ranks_their_works_before_works_about_them() {
    let index = Index::create_in_ram().unwrap();
    let rows: &[Row] = &[
        (
            "lib:1",
            "聞王昌齡左遷龍標遙有此寄",
            &["李白"],
            &[],
            "王昌齡被貶龍標。",
            "",
        ),
        ("lib:2", "出塞", &["王昌齡"], &["边塞诗"], "", ""),
        ("lib:3", "从军行", &["王昌龄"], &["边塞诗"], "", ""),
    ];
    fill(&index, rows);
    let found = ids(&index, "王昌龄");
    assert_eq!(found.len(), 3, "{found:?}");
    let mut authored = found[..2].to_vec();
    authored.sort();
    assert_eq!(authored, ["lib:2", "lib:3"], "{found:?}");
}
