//! The chinese-poetry corpus (`npm pack chinese-poetry@2.0.1`, `package/dist/`) read into
//! poems, and served as an OAI-PMH repository on loopback, for `jincheng bench http`.
//!
//! The collections differ in shape: most are JSON arrays of objects with `title`, `author`
//! and `paragraphs`, but the ci use `rhythmic` for the title, the Book of Songs and the Chu
//! ci have `content`, Nalan Xingde's poems `para`, the Analects `chapter`, and some files
//! are one object rather than an array. Each object with lines becomes a [`Poem`]; files
//! of poets (`authors.*.json`, `author.*.json`), and objects without lines (rankings, tone
//! patterns, nested anthologies), are skipped and counted. So are the two copies of poems
//! already read: `quantangshi/error/` (corrected duplicates of Tang and Song poems) and
//! `yudingquantangshi/` (the Kangxi edition of the same Tang poems); without them the
//! corpus is the ≈ 345,000 poems the package describes.

use std::path::{Path, PathBuf};

use anyhow::Context;
use jincheng_oai_provider::{
    Datestamp, DeletedRecord, Header, ListPosition, ListQuery, ListSlice, MetadataFormat, Repository,
    RepositoryInfo, SetInfo, push_element,
};
use serde_json::Value;

/// One poem (or one passage of a prose classic), as the corpus has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poem {
    /// The collection: the folder under `dist/` (`quantangshi`, `songci`, …), also the
    /// OAI-PMH set.
    pub collection: String,
    /// Title (for ci the tune, `rhythmic`; for the Analects the chapter).
    pub title: String,
    /// The poet, if known.
    pub author: Option<String>,
    /// The lines.
    pub lines: Vec<String>,
    /// The dynasty, in Chinese, if the collection or file says it.
    pub dynasty: Option<&'static str>,
}

/// The poems of a corpus and what was left out.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// Every poem, in a fixed order (files sorted by path).
    pub poems: Vec<Poem>,
    /// Files read as poems.
    pub files: usize,
    /// Files skipped: poets' biographies, and JSON files that hold no poem.
    pub skipped_files: Vec<PathBuf>,
    /// Objects inside poem files that had no lines (or no title nor lines to make one).
    pub skipped_items: usize,
}

impl Corpus {
    /// Reads every `.json` file (and the extension-less JSON files some collections have)
    /// under `dir`, which is the package's `dist/` folder or a folder that contains it.
    pub fn load(dir: &Path) -> anyhow::Result<Corpus> {
        let dist = if dir.join("dist").is_dir() {
            dir.join("dist")
        } else if dir.join("package/dist").is_dir() {
            dir.join("package/dist")
        } else {
            dir.to_path_buf()
        };
        let mut files = Vec::new();
        collect_files(&dist, &mut files)?;
        files.sort();
        anyhow::ensure!(!files.is_empty(), "no files under {}", dist.display());
        let mut corpus = Corpus::default();
        for file in files {
            let relative = file.strip_prefix(&dist).unwrap_or(&file);
            let collection = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("misc")
                .to_string();
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            let duplicate =
                collection == "yudingquantangshi" || relative.components().any(|c| c.as_os_str() == "error");
            if name.starts_with("author") || duplicate || collection == "rank" || collection == "strains" {
                corpus.skipped_files.push(file);
                continue;
            }
            let text = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let Ok(value) = serde_json::from_slice::<Value>(&text) else {
                corpus.skipped_files.push(file);
                continue;
            };
            let items = match value {
                Value::Array(items) => items,
                other @ Value::Object(_) => vec![other],
                _ => Vec::new(),
            };
            let dynasty = dynasty_of(&collection, &name);
            let before = corpus.poems.len();
            for item in &items {
                match poem_of(item, &collection, dynasty) {
                    Some(poem) => corpus.poems.push(poem),
                    None => corpus.skipped_items += 1,
                }
            }
            if corpus.poems.len() == before {
                corpus.skipped_items -= items.len();
                corpus.skipped_files.push(file);
            } else {
                corpus.files += 1;
            }
        }
        Ok(corpus)
    }

    /// `count` poems written for tests: deterministic, a few collections and poets, some
    /// titles and lines in traditional characters. No file, no network.
    pub fn synthetic(count: usize) -> Corpus {
        const POETS: &[&str] = &[
            "李白",
            "杜甫",
            "王維",
            "白居易",
            "蘇軾",
            "李清照",
            "辛棄疾",
            "王之涣",
        ];
        const WORDS: &[&str] = &[
            "明月", "春風", "江水", "故鄉", "長安", "白雲", "青山", "黄河", "落花", "孤舟", "秋夜", "思君",
            "登樓", "送别", "鴻雁", "梅花",
        ];
        const COLLECTIONS: &[(&str, &str)] = &[("quantangshi", "唐"), ("songci", "宋"), ("yuanqu", "元")];
        let mut poems = vec![Poem {
            collection: "quantangshi".into(),
            title: "靜夜思".into(),
            author: Some("李白".into()),
            lines: vec![
                "牀前明月光，疑是地上霜。".into(),
                "舉頭望明月，低頭思故鄉。".into(),
            ],
            dynasty: Some("唐"),
        }];
        for i in 1..count {
            let word = |k: usize| WORDS[(i * 7 + k * 5) % WORDS.len()];
            let (collection, dynasty) = COLLECTIONS[i % COLLECTIONS.len()];
            poems.push(Poem {
                collection: collection.into(),
                title: format!("{}{}", word(0), word(1)),
                author: Some(POETS[i % POETS.len()].into()),
                lines: vec![
                    format!("{}{}{}，{}{}。", word(2), word(3), i % 10, word(4), word(5)),
                    format!("{}{}，{}{}。", word(6), word(7), word(8), word(9)),
                ],
                dynasty: Some(dynasty),
            });
        }
        Corpus {
            poems,
            files: 1,
            ..Corpus::default()
        }
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            let ext = path.extension().and_then(|e| e.to_str());
            if matches!(ext, None | Some("json")) {
                out.push(path);
            }
        }
    }
    Ok(())
}

fn dynasty_of(collection: &str, file: &str) -> Option<&'static str> {
    Some(match collection {
        "quantangshi" if file.contains(".song.") => "宋",
        "quantangshi" | "shuimotangshi" | "yudingquantangshi" => "唐",
        "songci" => "宋",
        "yuanqu" => "元",
        "shijing" => "周",
        "chuci" => "战国",
        "lunyu" => "春秋",
        "caocaoshiji" => "汉",
        "wudaishici" => "五代",
        "nalanxingde" | "youmengying" => "清",
        _ => return None,
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn poem_of(item: &Value, collection: &str, dynasty: Option<&'static str>) -> Option<Poem> {
    let lines = ["paragraphs", "content", "para"]
        .iter()
        .map(|key| strings(item.get(key)))
        .find(|lines| !lines.is_empty())?;
    let title = ["title", "rhythmic", "chapter", "section"]
        .iter()
        .find_map(|key| {
            item.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
        })
        .map(str::to_owned)
        .or_else(|| {
            // Untitled passages (the aphorisms of 幽梦影) are known by their opening words.
            let first = lines.first()?;
            let opening: String = first
                .chars()
                .take_while(|c| !is_punctuation(*c))
                .take(12)
                .collect();
            (!opening.is_empty()).then_some(opening)
        })?;
    let author = item
        .get("author")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    Some(Poem {
        collection: collection.to_string(),
        title,
        author,
        lines,
        dynasty,
    })
}

/// Chinese and Western punctuation that ends a clause.
pub fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | ','
            | '.'
            | ';'
            | ':'
            | '?'
            | '!'
            | '「'
            | '」'
            | '“'
            | '”'
            | '（'
            | '）'
            | '('
            | ')'
            | '《'
            | '》'
            | '·'
            | '・'
            | ' '
            | '　'
    )
}

/// The corpus as an OAI-PMH repository: poem `i` is `oai:poetry.jincheng:{i}`, in `oai_dc`
/// (title, creator, the lines as descriptions, type `text`, the dynasty as date), in the set
/// of its collection.
pub struct PoetryRepository {
    corpus: std::sync::Arc<Corpus>,
    sets: Vec<String>,
    datestamp: Datestamp,
}

const IDENTIFIER_PREFIX: &str = "oai:poetry.jincheng:";

const OAI_DC_OPEN: &str = concat!(
    r#"<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" "#,
    r#"xmlns:dc="http://purl.org/dc/elements/1.1/">"#,
);

impl PoetryRepository {
    /// A repository serving `corpus`.
    pub fn new(corpus: std::sync::Arc<Corpus>) -> PoetryRepository {
        let mut sets: Vec<String> = corpus.poems.iter().map(|p| p.collection.clone()).collect();
        sets.sort();
        sets.dedup();
        PoetryRepository {
            corpus,
            sets,
            datestamp: Datestamp::from_time(time::macros::datetime!(2025-06-01 08:00:00 UTC)),
        }
    }
}

impl Repository for PoetryRepository {
    type Item = usize;
    type Error = std::convert::Infallible;

    fn info(&self) -> Result<RepositoryInfo, Self::Error> {
        Ok(RepositoryInfo {
            repository_name: "chinese-poetry (jincheng bench)".into(),
            admin_emails: vec!["bench@poetry.jincheng.invalid".into()],
            earliest_datestamp: self.datestamp.clone(),
            deleted_record: DeletedRecord::No,
        })
    }

    fn formats(&self, _base_url: &str) -> Vec<MetadataFormat> {
        vec![MetadataFormat::oai_dc()]
    }

    fn supports(&self, _item: &usize, prefix: &str) -> bool {
        prefix == "oai_dc"
    }

    fn sets(&self) -> Result<Vec<SetInfo>, Self::Error> {
        Ok(self
            .sets
            .iter()
            .map(|s| SetInfo {
                spec: s.clone(),
                name: s.clone(),
            })
            .collect())
    }

    fn get(&self, identifier: &str) -> Result<Option<usize>, Self::Error> {
        Ok(identifier
            .strip_prefix(IDENTIFIER_PREFIX)
            .and_then(|n| n.parse().ok())
            .filter(|n| *n < self.corpus.poems.len()))
    }

    fn header(&self, item: &usize) -> Header {
        Header {
            identifier: format!("{IDENTIFIER_PREFIX}{item}"),
            datestamp: self.datestamp.clone(),
            deleted: false,
            sets: self
                .corpus
                .poems
                .get(*item)
                .map(|p| vec![p.collection.clone()])
                .unwrap_or_default(),
        }
    }

    fn list(
        &self,
        query: &ListQuery,
        resume: Option<&ListPosition>,
        limit: usize,
    ) -> Result<ListSlice<usize>, Self::Error> {
        // Sets are listed (and each poem's header names its set), but the harvest takes
        // everything: a set request answers the whole list, which a bench never makes.
        let total = if query.covers(&self.datestamp) {
            self.corpus.poems.len()
        } else {
            0
        };
        let start: usize = resume.and_then(|p| p.after.parse().ok()).unwrap_or(0).min(total);
        let end = start.saturating_add(limit.clamp(1, PAGE)).min(total);
        Ok(ListSlice {
            items: (start..end).collect(),
            complete_list_size: total as u64,
            snapshot: String::new(),
            next: (end < total).then(|| end.to_string()),
        })
    }

    fn valid_position(&self, position: &ListPosition) -> bool {
        position.snapshot.is_empty()
            && position
                .after
                .parse::<usize>()
                .is_ok_and(|n| n <= self.corpus.poems.len())
    }

    fn write_metadata(
        &self,
        item: &usize,
        _prefix: &str,
        _base_url: &str,
        out: &mut String,
    ) -> Result<(), Self::Error> {
        let Some(poem) = self.corpus.poems.get(*item) else {
            return Ok(());
        };
        out.push_str(OAI_DC_OPEN);
        push_element(out, "dc:title", &poem.title);
        if let Some(author) = &poem.author {
            push_element(out, "dc:creator", author);
        }
        for line in &poem.lines {
            push_element(out, "dc:description", line);
        }
        push_element(out, "dc:type", "text");
        if let Some(dynasty) = poem.dynasty {
            push_element(out, "dc:date", dynasty);
        }
        push_element(out, "dc:subject", &poem.collection);
        push_element(out, "dc:language", "chi");
        out.push_str("</oai_dc:dc>");
        Ok(())
    }
}

/// Records on a page of the poetry provider.
pub const PAGE: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shape_becomes_a_poem_and_biographies_are_skipped() {
        let dir = std::env::temp_dir().join(format!("jincheng-poetry-shapes-{}", std::process::id()));
        let dist = dir.join("dist");
        let write = |path: &str, text: &str| {
            let path = dist.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "quantangshi/poet.tang.0.json",
            r#"[{"title":"靜夜思","author":"李白","paragraphs":["牀前明月光，疑是地上霜。"]}]"#,
        );
        write("quantangshi/authors.tang.json", r#"[{"name":"李白","desc":"…"}]"#);
        write(
            "songci/ci.song.0.json",
            r#"[{"rhythmic":"水调歌头","author":"苏轼","paragraphs":["明月几时有"]}]"#,
        );
        write(
            "shijing/shijing.json",
            r#"[{"title":"关雎","content":["关关雎鸠"]},{"title":"空"}]"#,
        );
        write("nalanxingde/n.json", r#"[{"title":"长相思","para":["山一程"]}]"#);
        write(
            "sishuwujing/daxue.json",
            r#"{"chapter":"大學","paragraphs":["大學之道"]}"#,
        );
        write("youmengying/y.json", r#"[{"content":"读经宜冬，其神专也"}]"#);
        write(
            "quantangshi/error/poet.tang.0.json",
            r#"[{"title":"靜夜思","paragraphs":["牀前"]}]"#,
        );
        let corpus = Corpus::load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let titles: Vec<&str> = corpus.poems.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(
            titles,
            ["长相思", "靜夜思", "关雎", "大學", "水调歌头", "读经宜冬"]
        );
        assert_eq!(corpus.skipped_files.len(), 2);
        assert_eq!(corpus.skipped_items, 1);
        assert_eq!(corpus.poems[1].dynasty, Some("唐"));
    }
}
