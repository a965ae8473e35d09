//! A deterministic synthetic catalogue for the benchmarks: records that look like Lanzhou's
//! (Chinese titles, some traditional, names, subjects, descriptions, five institutions).
//! Each bench uses part of it.
#![allow(dead_code)]

use schemas::{DateRange, District, Institution, InstitutionType, Level, Record, ResourceType};

const WORDS: &[&str] = &[
    "兰州",
    "黄河",
    "文化",
    "艺术",
    "中心",
    "彩陶",
    "马家窑",
    "敦煌",
    "壁画",
    "研究",
    "历史",
    "图书",
    "丝绸之路",
    "甘肃",
    "古籍",
    "唐诗",
    "宋词",
    "书法",
    "山水",
    "青铜器",
    "博物馆",
    "民俗",
    "考古",
    "金城",
    "铜奔马",
    "西北",
    "民族",
    "地方志",
    "戏曲",
    "秦腔",
    "剪纸",
    "刺绣",
    "石窟",
    "佛教",
    "碑帖",
    "靜夜思",
    "中華書局",
    "圖書館",
    "歷史",
    "藝術",
    "黃河",
    "蘭州",
    "新石器时代",
    "汉代",
    "明清",
];
const NAMES: &[&str] = &[
    "李白",
    "杜甫",
    "王之涣",
    "张三",
    "李四",
    "王五",
    "赵六",
    "常书鸿",
    "段文杰",
    "林徽因",
];
const SENTENCE_PARTS: &[&str] = &[
    "本书系统介绍了",
    "这件藏品反映了",
    "展览展出了",
    "作者通过大量史料考证了",
    "该文物出土于",
    "收录了",
    "记载了",
    "描绘了",
    "全面展示了",
    "深入探讨了",
];
const KINDS: &[ResourceType] = &[
    ResourceType::Book,
    ResourceType::Book,
    ResourceType::Book,
    ResourceType::AncientBook,
    ResourceType::Periodical,
    ResourceType::Artefact,
    ResourceType::Artwork,
    ResourceType::Image,
    ResourceType::Event,
];

/// A small linear congruential generator: the corpus must be the same in every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() % items.len()]
    }
}

pub fn institutions() -> Vec<Institution> {
    let make = |id: &str, name: &str, kind, district| Institution {
        id: id.into(),
        name: name.into(),
        institution_type: kind,
        district: Some(district),
        level: Level::City,
        venue: None,
    };
    vec![
        make(
            "lzlib",
            "兰州市图书馆",
            InstitutionType::Library,
            District::Chengguan,
        ),
        make(
            "gslib",
            "甘肃省图书馆",
            InstitutionType::Library,
            District::Chengguan,
        ),
        make("gsm", "甘肃省博物馆", InstitutionType::Museum, District::Qilihe),
        make(
            "lzart",
            "兰州美术馆",
            InstitutionType::ArtGallery,
            District::Chengguan,
        ),
        make(
            "yzcc",
            "榆中县文化馆",
            InstitutionType::CulturalCentre,
            District::Yuzhong,
        ),
    ]
}

fn phrase(rng: &mut Lcg, words: usize) -> String {
    (0..words).map(|_| *rng.pick(WORDS)).collect()
}

/// `n` records, each with the index of its institution in [`institutions`].
pub fn records(n: usize) -> Vec<(Record, usize)> {
    let institutions = institutions();
    let mut rng = Lcg(20_240_601);
    (0..n)
        .map(|i| {
            let which = rng.next() % institutions.len();
            let institution = &institutions[which];
            let mut record = Record::new(
                format!("{}:{i}", institution.id),
                &institution.id,
                phrase(&mut rng, 3),
            );
            record.resource_type = *rng.pick(KINDS);
            record.creators = vec![rng.pick(NAMES).to_string()];
            record.subjects = vec![phrase(&mut rng, 1), phrase(&mut rng, 2)];
            let description: String = (0..3)
                .map(|_| format!("{}{}，", rng.pick(SENTENCE_PARTS), phrase(&mut rng, 4)))
                .collect();
            record.description = Some(description);
            record.publisher = Some(format!("{}出版社", rng.pick(&["甘肃人民", "中华书局", "读者"])));
            record.language = Some(if rng.next().is_multiple_of(10) { "en" } else { "zh" }.into());
            let year = 1900 + (rng.next() % 125) as i32;
            record.date = Some(DateRange {
                display: year.to_string(),
                year_start: Some(year),
                year_end: Some(year),
            });
            (record, which)
        })
        .collect()
}

/// About `bytes` of catalogue-like running text.
pub fn text(bytes: usize) -> String {
    let mut rng = Lcg(7);
    let mut text = String::new();
    while text.len() < bytes {
        let part: &&str = rng.pick(SENTENCE_PARTS);
        text.push_str(part);
        text.push_str(&phrase(&mut rng, 5));
        text.push('。');
    }
    text
}
