//! Activity types, for the cultural centres' programme planning: which kinds of activity
//! (lectures, courses, performances, intangible heritage, …) citizens look for, month by
//! month.
//!
//! Citizens rarely pick a facet when they look for an activity; they type it: “书法培训”,
//! “太平鼓 演出”, “寒假 亲子”. So demand is read from the normalised query: each activity
//! type is a list of keywords, and a query counts once towards every type one of whose
//! keywords it contains (“少儿书法培训” is demand for children's activities, for calligraphy
//! and for courses). Queries are already simplified and case-folded when they are stored
//! (`normalize_query`), so the keywords are simplified too.
//!
//! The list is the programme categories of Lanzhou's 文化馆 and 图书馆 activity calendars,
//! with the local forms people search for (兰州太平鼓, 刻葫芦, 秦腔). Changing it changes only
//! how future reports read the stored queries: nothing is classified at write time.

/// One kind of activity.
#[derive(Debug, PartialEq, Eq)]
pub struct ActivityType {
    /// Stable code, used in reports and exports.
    pub code: &'static str,
    /// Chinese name, for the dashboard.
    pub label: &'static str,
    /// Words whose presence in a query shows interest in this kind of activity.
    pub keywords: &'static [&'static str],
}

/// Every activity type, in the order reports list ties.
pub const ACTIVITY_TYPES: &[ActivityType] = &[
    ActivityType {
        code: "lecture",
        label: "讲座论坛",
        keywords: &["讲座", "讲堂", "论坛", "报告会", "沙龙", "大讲堂"],
    },
    ActivityType {
        code: "course",
        label: "培训课程",
        keywords: &[
            "培训",
            "课程",
            "公开课",
            "公益课",
            "学习班",
            "兴趣班",
            "教学",
            "研学",
        ],
    },
    ActivityType {
        code: "exhibition",
        label: "展览",
        keywords: &["展览", "特展", "画展", "书画展", "摄影展", "展出", "展陈", "博览"],
    },
    ActivityType {
        code: "performance",
        label: "演出",
        keywords: &[
            "演出",
            "音乐会",
            "演唱",
            "晚会",
            "戏曲",
            "秦腔",
            "话剧",
            "舞蹈",
            "曲艺",
            "太平鼓",
            "合唱",
            "京剧",
        ],
    },
    ActivityType {
        code: "heritage",
        label: "非遗传承",
        keywords: &[
            "非遗",
            "非物质文化遗产",
            "剪纸",
            "刺绣",
            "葫芦",
            "皮影",
            "传统技艺",
            "手工",
        ],
    },
    ActivityType {
        code: "reading",
        label: "阅读推广",
        keywords: &["阅读", "读书会", "共读", "朗读", "诵读", "书香", "读书"],
    },
    ActivityType {
        code: "family",
        label: "少儿亲子",
        keywords: &["亲子", "少儿", "儿童", "绘本", "寒假", "暑假", "小学生", "青少年"],
    },
    ActivityType {
        code: "art",
        label: "书画艺术",
        keywords: &["书法", "绘画", "国画", "书画", "美术", "油画", "摄影"],
    },
    ActivityType {
        code: "film",
        label: "电影放映",
        keywords: &["电影", "放映", "观影", "影片"],
    },
    ActivityType {
        code: "fitness",
        label: "群众文体",
        keywords: &["广场舞", "健身", "太极", "体育", "运动会", "比赛"],
    },
];

impl ActivityType {
    /// True if the normalised `query` contains one of this type's keywords.
    pub fn matches(&self, query: &str) -> bool {
        self.keywords.iter().any(|k| query.contains(k))
    }
}

/// The activity types a normalised query shows interest in, in [`ACTIVITY_TYPES`] order.
pub fn activity_types(query: &str) -> impl Iterator<Item = &'static ActivityType> + '_ {
    ACTIVITY_TYPES.iter().filter(move |t| t.matches(query))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(query: &str) -> Vec<&'static str> {
        activity_types(query).map(|t| t.code).collect()
    }

    #[test]
    fn a_query_counts_for_every_type_it_names() {
        assert_eq!(codes("少儿书法培训"), ["course", "family", "art"]);
        assert_eq!(codes("兰州太平鼓 演出"), ["performance"]);
        assert_eq!(codes("刻葫芦"), ["heritage"]);
        assert_eq!(codes("静夜思"), Vec::<&str>::new());
        assert_eq!(codes(""), Vec::<&str>::new());
    }

    #[test]
    fn codes_are_unique_and_keywords_simplified() {
        let mut seen = std::collections::BTreeSet::new();
        for t in ACTIVITY_TYPES {
            assert!(seen.insert(t.code), "{} twice", t.code);
            assert!(!t.keywords.is_empty());
            for k in t.keywords {
                // Stored queries are simplified: a traditional keyword would never match.
                assert_eq!(indexer::fold_text(k), *k, "{k} is not simplified");
            }
        }
    }
}
