//! The names people use for creators (issue 13): a query by a 字, 号 or common form finds the
//! creator's works first, through the name authority (`names.txt`), which an administrator
//! extends and reloads.

use jincheng_indexer::{AnalysisOptions, Index, SearchRequest};
use schemas::{Institution, InstitutionType, Level, Record};

/// `(id, title, creator, description)`.
type Poem = (&'static str, &'static str, &'static str, &'static str);

const POEMS: &[Poem] = &[
    (
        "p:1",
        "念奴嬌·赤壁懷古",
        "蘇軾",
        "大江東去，浪淘盡，千古風流人物。",
    ),
    ("p:2", "念奴娇", "沈唐", "杏花过雨，渐残红零落。"),
    (
        "p:3",
        "念奴娇·过洞庭",
        "张孝祥",
        "洞庭青草，近中秋，更无一点风色。",
    ),
    ("p:4", "念奴娇·春情", "李清照", "萧条庭院，又斜风细雨。"),
    ("p:5", "靜夜思", "李白", "床前明月光，疑是地上霜。"),
    ("p:6", "将进酒", "李白", "君不见黄河之水天上来。"),
    ("p:7", "静夜思新解", "周七", "细读李太白的名篇。"),
    ("p:8", "東坡", "郭祥正", "一首题为东坡的诗。"),
    ("p:9", "春望", "杜甫", "国破山河在，城春草木深。"),
    ("p:10", "登高", "杜甫", "风急天高猿啸哀。"),
    ("p:11", "杜诗详注读后", "钱谦益", "论杜子美的诗律。"),
    ("p:12", "梅溪集", "王十朋", "南宋诗文集。"),
    ("p:13", "志林", "蘇東坡", "笔记。"),
];

fn library() -> Institution {
    Institution {
        id: "lib".into(),
        name: "兰州市图书馆".into(),
        institution_type: InstitutionType::Library,
        district: None,
        level: Level::City,
        venue: None,
    }
}

fn fill(index: &Index) {
    let lib = library();
    let mut writer = index.writer().unwrap();
    for (id, title, creator, description) in POEMS {
        let mut record = Record::new(*id, "lib", *title);
        record.creators.push((*creator).to_string());
        record.description = Some((*description).to_string());
        writer.upsert(&record, &lib).unwrap();
    }
    writer.commit(1).unwrap();
}

fn catalogue() -> Index {
    let index = Index::create_in_ram().unwrap();
    fill(&index);
    index
}

fn ids(index: &Index, query: &str) -> Vec<String> {
    index
        .search(&SearchRequest {
            query: query.into(),
            limit: 20,
            ..Default::default()
        })
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect()
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

#[test]
fn an_alternate_name_with_a_title_word_finds_that_creators_work_first() {
    let index = catalogue();
    let found = ids(&index, "苏东坡 念奴娇");
    assert_eq!(found.first().map(String::as_str), Some("p:1"), "{found:?}");
    // Traditional query, traditional record, name from the simplified file.
    let found = ids(&index, "蘇東坡 念奴嬌");
    assert_eq!(found.first().map(String::as_str), Some("p:1"), "{found:?}");
    // Glued together, and in the other order.
    let found = ids(&index, "念奴娇苏东坡");
    assert_eq!(found.first().map(String::as_str), Some("p:1"), "{found:?}");
    let found = ids(&index, "李太白 静夜思");
    assert_eq!(found.first().map(String::as_str), Some("p:5"), "{found:?}");
}

#[test]
fn an_alternate_name_alone_finds_the_creators_works_first() {
    let index = catalogue();
    let found = ids(&index, "李太白");
    assert_eq!(sorted(&found[..2]), ["p:5", "p:6"], "{found:?}");
    // The record that mentions 李太白 in its description is still found, after them.
    assert!(found.contains(&"p:7".to_string()), "{found:?}");
    let found = ids(&index, "杜子美");
    assert_eq!(sorted(&found[..2]), ["p:10", "p:9"], "{found:?}");
    assert!(found.contains(&"p:11".to_string()), "{found:?}");
    let found = ids(&index, "苏东坡");
    assert_eq!(sorted(&found), ["p:1", "p:13"], "{found:?}");
    let found = ids(&index, "诗仙");
    assert_eq!(sorted(&found), ["p:5", "p:6"], "{found:?}");
    let found = ids(&index, "易安居士");
    assert_eq!(found, ["p:4"]);
    // The preferred name also finds a creator written with another name, after the exact one.
    let found = ids(&index, "creator:苏轼");
    assert_eq!(found, ["p:1", "p:13"]);
    assert_eq!(ids(&index, "蘇軾"), ["p:1", "p:13"]);
}

#[test]
fn text_that_contains_the_name_still_matches_as_text() {
    let index = catalogue();
    // The poem titled 東坡 by someone else, and 蘇軾's works.
    let found = ids(&index, "东坡");
    assert_eq!(sorted(&found), ["p:1", "p:13", "p:8"], "{found:?}");
    // A title restriction does not reach the creators.
    assert_eq!(ids(&index, "title:东坡"), ["p:8"]);
}

#[test]
fn queries_without_names_rank_as_without_the_authority() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("names.txt"), "# nobody\n").unwrap();
    let options = AnalysisOptions {
        dictionary_dir: Some(dir.path().to_path_buf()),
    };
    let without = Index::create_in_ram_with(&options).unwrap();
    assert_eq!(without.reload_dictionaries().unwrap().name_groups, 0);
    fill(&without);
    let with = catalogue();
    for query in [
        "念奴娇",
        "静夜思",
        "李白",
        "杜甫",
        "李白 静夜思",
        "明月",
        "洞庭 中秋",
    ] {
        assert_eq!(ids(&with, query), ids(&without, query), "{query}");
    }
    // Without the authority the alternate names are plain text only.
    assert_eq!(ids(&without, "李太白"), ["p:7"]);
}

#[test]
fn names_added_to_the_file_take_effect_on_reload_and_bad_lines_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let options = AnalysisOptions {
        dictionary_dir: Some(dir.path().to_path_buf()),
    };
    let index = Index::create_in_ram_with(&options).unwrap();
    fill(&index);
    let stats = index.reload_dictionaries().unwrap();
    assert!(!stats.names_from_file && stats.name_groups >= 60, "{stats:?}");
    assert!(ids(&index, "王龟龄").is_empty());

    let long = "长".repeat(40);
    std::fs::write(
        dir.path().join("names.txt"),
        format!("# 宋\n王十朋，王龜齡 梅溪先生\n孤名\n{long},{long}甲\n李白,李太白\n"),
    )
    .unwrap();
    let stats = index.reload_dictionaries().unwrap();
    assert!(stats.names_from_file);
    assert_eq!(stats.name_groups, 2, "{stats:?}");
    // `孤名` (one name), and the line whose names are too long: each name and the line.
    assert_eq!(stats.skipped_lines, 4, "{stats:?}");
    assert_eq!(ids(&index, "王龟龄"), ["p:12"]);
    assert_eq!(ids(&index, "梅溪先生"), ["p:12"]);
    // The file replaced the defaults: 杜子美 is only text now.
    assert_eq!(ids(&index, "杜子美"), ["p:11"]);
    let found = ids(&index, "李太白");
    assert_eq!(sorted(&found[..2]), ["p:5", "p:6"], "{found:?}");
}
