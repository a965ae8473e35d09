//! Ranking for the way people remember (issue 13): a line one character off, a title with a
//! word too many, pinyin ranked as the characters it reads as, and the work more
//! institutions hold first among equal matches.

use jincheng_indexer::{AnalysisOptions, Index, SearchRequest};
use schemas::{DateRange, Institution, InstitutionType, Level, Record, ResourceType};

/// `(id, title, creator, text)`; the id's prefix is the record's source.
type Poem = (&'static str, &'static str, &'static str, &'static str);

const POEMS: &[Poem] = &[
    (
        "ts300:1",
        "靜夜思",
        "李白",
        "牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。",
    ),
    (
        "qts:1",
        "靜夜思",
        "李白",
        "牀前看月光，疑是地上霜。舉頭望山月，低頭思故鄉。",
    ),
    ("qts:2", "牀前帳", "曹勛", "疑是雲中月，清光照我衣。"),
    (
        "qts:3",
        "夢中作",
        "張君房",
        "舉頭不見天，明月落江邊。望斷千山路，歸心似水流。",
    ),
    ("qts:4", "明月", "李如璧", "明月照高樓，舉頭望遠空。"),
    ("qts:5", "霜", "楊萬里", "地上霜華重，疑是月明時。"),
    (
        "ts300:2",
        "黃鶴樓",
        "崔顥",
        "昔人已乘白雲去，此地空餘黃鶴樓。黃鶴一去不復返，白雲千載空悠悠。",
    ),
    (
        "qts:6",
        "黃鶴樓",
        "崔顥",
        "昔人已乘白雲去，此地空餘黃鶴樓。黃鶴一去不復返，白雲千載空悠悠。",
    ),
    (
        "qts:7",
        "黄鶴樓",
        "張顒",
        "崔顥題詩在上頭，登臨何必更冥搜。樓前黄鶴不重見。",
    ),
    (
        "qts:8",
        "沙云黄鶴樓崔顥題後先輩曾題否拙云不曾沙云無事題取一篇好因說偈",
        "釋崇嶽",
        "黄鶴樓前一首詩，把將掃箒畫娥眉。",
    ),
    ("qts:9", "登黄鶴樓", "劉鑑", "江上登樓望遠山。"),
    (
        "ts300:3",
        "將進酒",
        "李白",
        "君不見黃河之水天上來，奔流到海不復迴。岑夫子，丹丘生，將進酒，君莫停。",
    ),
    (
        "qts:10",
        "將進酒",
        "李白",
        "君不見黃河之水天上來，奔流到海不復迴。岑夫子，丹丘生，將進酒，君莫停。",
    ),
    ("qts:11", "將進酒", "白玉蟾", "醉後高歌且莫停。"),
    ("qts:12", "將進酒", "曹勛", "一杯一杯復一杯。"),
    ("qts:13", "將進酒", "陸游", "我欲走馬登天山。"),
    ("qts:14", "江進九", "無名氏", "一首同音的詩。"),
    (
        "ts300:4",
        "春曉",
        "孟浩然",
        "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。",
    ),
    (
        "qts:15",
        "春曉",
        "孟浩然",
        "春眠不覺曉，處處聞啼鳥。夜來風雨聲，花落知多少。",
    ),
    ("qts:16", "春曉", "張玉孃", "曉風吹柳絮。"),
    ("qts:17", "春曉", "張玉孃", "曉日照花枝。"),
    ("qts:18", "春曉", "陸游", "春寒欺客睡。"),
    ("qts:19", "春宵", "劉兼", "春宵一刻值千金。"),
    ("qts:20", "春望", "方岳", "春風吹雨過。"),
    ("qts:21", "春望", "杜甫", "國破山河在，城春草木深。"),
    ("qts:22", "春望", "張耒", "柳色黃金嫩。"),
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

fn catalogue() -> Index {
    filled(Index::create_in_ram().unwrap())
}

fn filled(index: Index) -> Index {
    let mut writer = index.writer().unwrap();
    for (id, title, creator, text) in POEMS {
        let mut record = Record::new(*id, "lib", *title);
        record.resource_type = ResourceType::Book;
        record.creators.push((*creator).to_string());
        record.description = Some((*text).to_string());
        record.date = Some(DateRange {
            display: "唐".into(),
            year_start: Some(618),
            year_end: Some(907),
        });
        writer.upsert(&record, &library()).unwrap();
    }
    writer.commit(1).unwrap();
    index
}

/// `(id, title, creator, explanation)` of the hits, best first.
fn hits(index: &Index, query: &str) -> Vec<(String, String, String, String)> {
    index
        .search(&SearchRequest {
            query: query.into(),
            limit: 10,
            explain: true,
            ..Default::default()
        })
        .unwrap()
        .hits
        .into_iter()
        .map(|h| {
            let creator = h.creators.first().cloned().unwrap_or_default();
            (h.id, h.title, creator, h.explanation.unwrap_or_default())
        })
        .collect()
}

fn first_two(index: &Index, query: &str) -> Vec<(String, String)> {
    hits(index, query)
        .into_iter()
        .take(2)
        .map(|(_, title, creator, _)| (title, creator))
        .collect()
}

fn pair(title: &str, creator: &str) -> (String, String) {
    (title.to_string(), creator.to_string())
}

#[test]
fn a_line_remembered_one_character_off_finds_its_poem_first() {
    let index = catalogue();
    let wanted = vec![pair("靜夜思", "李白"); 2];
    for query in [
        "举头望明月",
        "床前明月光 疑是地上霜",
        "床前明月光，疑是地上霜",
        "举头望明月 低头思故乡",
    ] {
        assert_eq!(first_two(&index, query), wanted, "{query}");
    }
    // The explanation says what matched and why it came first.
    let (_, _, _, explanation) = hits(&index, "举头望明月").remove(0);
    assert!(explanation.contains("near miss"), "{explanation}");
    assert!(
        explanation.contains("4 of the query's 5 characters"),
        "{explanation}"
    );
    // A query that some record has together is no near miss: it ranks as before.
    let (_, title, _, explanation) = hits(&index, "舉頭望山月").remove(0);
    assert_eq!(title, "靜夜思");
    assert!(!explanation.contains("near miss"), "{explanation}");
}

#[test]
fn a_title_with_a_word_too_many_and_its_poet_find_the_poem() {
    let index = catalogue();
    for query in ["登黄鹤楼 崔颢", "崔颢 登黄鹤楼"] {
        assert_eq!(
            first_two(&index, query),
            vec![pair("黃鶴樓", "崔顥"); 2],
            "{query}"
        );
    }
}

#[test]
fn pinyin_ranks_as_the_characters_it_reads_as() {
    let index = catalogue();
    let ids = |query: &str| -> Vec<String> { hits(&index, query).into_iter().map(|h| h.0).collect() };
    let typed = ids("将进酒");
    assert_eq!(
        first_two(&index, "将进酒"),
        vec![pair("將進酒", "李白"); 2],
        "李白's poem has the title in its text too"
    );
    let pinyin = ids("jiangjinjiu");
    assert_eq!(pinyin[..typed.len()], typed[..], "{pinyin:?} {typed:?}");
    // The homophone is still found by its pinyin, after the records the characters find.
    assert_eq!(pinyin.last().map(String::as_str), Some("qts:14"), "{pinyin:?}");
    assert_eq!(ids("jiang jin jiu")[..typed.len()], typed[..]);
}

#[test]
fn among_equal_matches_the_work_more_sources_hold_comes_first() {
    // No canonical works: only the holders decide.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("canonical.txt"), "# none\n").unwrap();
    let options = AnalysisOptions {
        dictionary_dir: Some(dir.path().to_path_buf()),
    };
    let index = filled(Index::create_in_ram_with(&options).unwrap());
    // Five poems titled 春曉: 孟浩然's is in two collections; 張玉孃's two are two poems of
    // one collection, one holder.
    let found = hits(&index, "春晓");
    let creators: Vec<&str> = found.iter().map(|h| h.2.as_str()).collect();
    assert_eq!(creators[..2], ["孟浩然", "孟浩然"], "{creators:?}");
    assert!(found[0].3.contains("2 holders of the work"), "{}", found[0].3);
    let zhang = found.iter().find(|h| h.2 == "張玉孃").unwrap();
    assert!(zhang.3.contains("1 holders of the work"), "{}", zhang.3);
    // And by pinyin, where 春宵 reads the same.
    let creators: Vec<String> = hits(&index, "chunxiao")
        .into_iter()
        .take(2)
        .map(|h| h.2)
        .collect();
    assert_eq!(creators, ["孟浩然", "孟浩然"]);
}

#[test]
fn a_canonical_work_comes_first_among_equal_matches_and_the_list_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let options = AnalysisOptions {
        dictionary_dir: Some(dir.path().to_path_buf()),
    };
    let index = filled(Index::create_in_ram_with(&options).unwrap());
    // Three poems titled 春望, one source each: the built-in list marks 杜甫's.
    let found = hits(&index, "春望");
    assert_eq!(found[0].2, "杜甫");
    assert!(found[0].3.contains("as a canonical work, 20"), "{}", found[0].3);
    assert!(!found[1].3.contains("canonical"), "{}", found[1].3);
    // Typed in pinyin too.
    assert_eq!(hits(&index, "chunwang")[0].2, "杜甫");
    // Never above a better match: the poem with the line in its text.
    assert_eq!(hits(&index, "国破山河在")[0].0, "qts:21");
    assert_eq!(hits(&index, "春风吹雨过")[0].2, "方岳");

    // An administrator's list replaces the built-in one.
    std::fs::write(dir.path().join("canonical.txt"), "# 试\n春望 / 方岳\n没有斜线\n").unwrap();
    let stats = index.reload_dictionaries().unwrap();
    assert!(stats.canonical_from_file);
    assert_eq!((stats.canonical_works, stats.skipped_lines), (1, 1), "{stats:?}");
    assert_eq!(hits(&index, "春望")[0].2, "方岳");
    // 李白's 靜夜思 is no longer marked (the file has only 方岳's 春望), and still found.
    assert!(!hits(&index, "静夜思")[0].3.contains("canonical"));
}

#[test]
fn much_clicked_records_come_first_among_equal_matches() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("canonical.txt"), "# none\n").unwrap();
    let options = AnalysisOptions {
        dictionary_dir: Some(dir.path().to_path_buf()),
    };
    let index = filled(Index::create_in_ram_with(&options).unwrap());
    let first = |query: &str| hits(&index, query).remove(0);
    assert_ne!(first("春望").0, "qts:22");
    // 張耒's 春望, clicked 50 times: 5 holders.
    index.set_clicks([("qts:22".to_string(), 50), ("qts:20".to_string(), 9)].into());
    let (id, _, _, explanation) = first("春望");
    assert_eq!(id, "qts:22");
    assert!(explanation.contains("by its clicks, 5"), "{explanation}");
    // Nine clicks are less than one holder; clicks never beat a better match.
    assert_eq!(first("国破山河在").0, "qts:21");
    index.set_clicks(Default::default());
    assert_ne!(first("春望").0, "qts:22");
}
