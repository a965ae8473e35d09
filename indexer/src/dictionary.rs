//! The user dictionary, the synonyms and the name authority: files the operator edits
//! without touching code.
//!
//! All three live in the *dictionary directory* the app passes in [`AnalysisOptions`] (the
//! data directory's `dictionaries/`):
//!
//! - `user_dict.txt` — jieba's format, one word a line: `word [frequency] [tag]`. Words are
//!   added to jieba, so documents and queries cut them whole (`马家窑`, not `马家` + `窑`).
//! - `synonyms.txt` — one group a line, words separated by commas (`,`, `，`, `、`) or
//!   spaces: `铜奔马,马踏飞燕`. A query word of a group also finds the other words of the
//!   group, ranked a little lower (see [`crate::query`]). Synonyms are added to the
//!   user dictionary too, so that each is cut as one word.
//! - `names.txt` — the names people use for a creator, one person a line: the preferred name
//!   first, then the other names (字, 号, 谥号, pen names, common forms), separated like
//!   synonyms: `苏轼,苏东坡,东坡,苏子瞻`. A query word that is one of the names also finds
//!   the works whose *creator* is written with another of them, at [`crate::query`]'s
//!   `NAME_FACTOR` of the creator's own weight; an alternate name (not the first of its
//!   line) also gets the whole-creator boost, for itself and for the other names. The word
//!   still matches every field as plain text (a poem titled 东坡).
//!   Names are folded like all text (蘇軾 in a record is 苏轼 in the file) and added to the
//!   user dictionary, so that each is cut as one word. A name on several lines (two people
//!   called the same) finds all of them.
//!
//! - `canonical.txt` — canonical works, one a line: `title / creator` (`靜夜思 / 李白`).
//!   Among records that match a query equally well, a canonical work comes first: it counts
//!   as held by [`crate::CANONICAL_HOLDERS`] sources in the popularity factor, a tie-breaker
//!   that never outranks a better textual match. Both are folded like the index's exact
//!   keys (traditional = simplified, punctuation ignored). A line without the `/`, or with an
//!   empty side, is skipped.
//!
//! In all four files blank lines and lines starting with `#` are ignored, and a line that
//! cannot be used (a "word" of more than [`MAX_WORD_CHARS`] characters, a frequency that is
//! not a number, a synonym group or a person with fewer than two words) is skipped and
//! counted in [`DictionaryStats::skipped_lines`] (an over-long word also counts on its own):
//! a typo in one line never disables the others. A file that does not exist is replaced by the embedded default
//! (`indexer/dictionaries/` in the source tree: Lanzhou's places and emblems, and about a
//! hundred of the best-known writers and artists).
//!
//! # What a change affects
//!
//! [`crate::Index::reload_dictionaries`] swaps all three in one step. **Queries** use the new
//! dictionary at once, and find the new words in documents indexed before the change too:
//! documents index every CJK character, and a query word also matches as the phrase of its
//! characters (with half the weight of a whole-word match). **Documents** indexed after the
//! reload are cut with the new dictionary; documents indexed before keep their old cut until
//! the next reindex (`jincheng reindex`), which only changes their scores slightly, never
//! whether they are found. Synonyms and names are query-side only and take full effect at
//! once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;

use crate::error::{Error, Result};
use crate::keys::text_key;
use crate::normalize::normalize;

/// The embedded default user dictionary (`indexer/dictionaries/user_dict.txt`).
pub const DEFAULT_USER_DICT: &str = include_str!("../dictionaries/user_dict.txt");
/// The embedded default synonyms (`indexer/dictionaries/synonyms.txt`).
pub const DEFAULT_SYNONYMS: &str = include_str!("../dictionaries/synonyms.txt");
/// File name of the user dictionary inside the dictionary directory.
pub const USER_DICT_FILE: &str = "user_dict.txt";
/// File name of the synonyms inside the dictionary directory.
pub const SYNONYMS_FILE: &str = "synonyms.txt";
/// The embedded default name authority (`indexer/dictionaries/names.txt`).
pub const DEFAULT_NAMES: &str = include_str!("../dictionaries/names.txt");
/// File name of the name authority inside the dictionary directory.
pub const NAMES_FILE: &str = "names.txt";
/// The embedded default canonical works (`indexer/dictionaries/canonical.txt`).
pub const DEFAULT_CANONICAL: &str = include_str!("../dictionaries/canonical.txt");
/// File name of the canonical works inside the dictionary directory.
pub const CANONICAL_FILE: &str = "canonical.txt";
/// Longest title or creator of a canonical work, in characters.
const MAX_CANONICAL_CHARS: usize = 200;

/// Longest word (or name) accepted in any of the files, in characters.
pub const MAX_WORD_CHARS: usize = 32;
/// Most words a synonym group (or names a person) may have; longer lines keep their first
/// words.
pub const MAX_GROUP_WORDS: usize = 16;
/// Largest dictionary file read, in bytes: a runaway file must not eat the server's memory.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// How the index analyses text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// Directory holding `user_dict.txt`, `synonyms.txt` and `names.txt`; `None` (or missing
    /// files) uses the embedded defaults.
    pub dictionary_dir: Option<PathBuf>,
}

/// What a (re)load of the dictionaries found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DictionaryStats {
    /// Words added to jieba from the user dictionary (and from the synonyms and names).
    pub user_words: usize,
    /// Synonym groups with at least two distinct words.
    pub synonym_groups: usize,
    /// People in the name authority (lines with at least two distinct names).
    pub name_groups: usize,
    /// Lines of any of the files that were not usable.
    pub skipped_lines: usize,
    /// The user dictionary came from the dictionary directory (not the embedded default).
    pub user_dict_from_file: bool,
    /// The synonyms came from the dictionary directory (not the embedded default).
    pub synonyms_from_file: bool,
    /// The name authority came from the dictionary directory (not the embedded default).
    pub names_from_file: bool,
    /// Canonical works listed (distinct title and creator pairs).
    pub canonical_works: usize,
    /// The canonical works came from the dictionary directory (not the embedded default).
    pub canonical_from_file: bool,
}

/// One loaded generation of the dictionaries: jieba with the user words, the synonyms and
/// the names.
pub(crate) struct Dictionaries {
    pub(crate) jieba: Jieba,
    /// Normalised word → the other words of its group(s), normalised, in file order.
    pub(crate) synonyms: HashMap<String, Arc<[String]>>,
    /// Normalised name → the other names of its person(s), normalised, the preferred name of
    /// each person first.
    pub(crate) names: HashMap<String, Arc<[String]>>,
    /// The names that come first on a line (a person's preferred name).
    pub(crate) preferred_names: HashSet<String>,
    /// Canonical works: (title key, creator key), as `title_exact` and `creator_exact` hold
    /// them. Searches keep what they derive from it per list (compared by pointer).
    pub(crate) canonical: Arc<[(String, String)]>,
    pub(crate) stats: DictionaryStats,
}

/// jieba's embedded dictionary, loaded once (≈ 0.2 s, 30 MB); every generation starts from
/// a clone of it.
fn base_jieba() -> &'static Jieba {
    static BASE: OnceLock<Jieba> = OnceLock::new();
    BASE.get_or_init(Jieba::new)
}

/// A user-dictionary line: the word and its optional frequency and tag.
struct UserWord<'a> {
    word: &'a str,
    freq: Option<usize>,
    tag: Option<&'a str>,
}

fn useful_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

fn parse_user_dict<'a>(text: &'a str, skipped: &mut usize) -> Vec<UserWord<'a>> {
    let mut words = Vec::new();
    for line in useful_lines(text) {
        let mut parts = line.split_whitespace();
        let Some(word) = parts.next() else { continue };
        if word.chars().count() > MAX_WORD_CHARS {
            *skipped += 1;
            continue;
        }
        let (freq, tag) = match (parts.next(), parts.next()) {
            (None, _) => (None, None),
            // `word tag` is common in hand-written files: a non-number second column is a tag.
            (Some(second), None) => match second.parse::<usize>() {
                Ok(freq) => (Some(freq), None),
                Err(_) => (None, Some(second)),
            },
            (Some(second), Some(third)) => match second.parse::<usize>() {
                Ok(freq) => (Some(freq), Some(third)),
                Err(_) => {
                    *skipped += 1;
                    continue;
                }
            },
        };
        words.push(UserWord { word, freq, tag });
    }
    words
}

fn parse_synonyms(text: &str, skipped: &mut usize) -> Vec<Vec<String>> {
    let mut groups = Vec::new();
    for line in useful_lines(text) {
        let mut group: Vec<String> = Vec::new();
        for word in line.split(|c: char| matches!(c, ',' | '，' | '、' | ';' | '；') || c.is_whitespace())
        {
            let word = normalize(word.trim()).text;
            if word.is_empty() || group.contains(&word) {
                continue;
            }
            if word.chars().count() > MAX_WORD_CHARS || group.len() >= MAX_GROUP_WORDS {
                *skipped += 1;
                continue;
            }
            group.push(word);
        }
        if group.len() < 2 {
            *skipped += 1;
            continue;
        }
        groups.push(group);
    }
    groups
}

/// Reads `dir/name`, or `None` if it does not exist.
fn read_optional(dir: &Path, name: &str) -> Result<Option<String>> {
    let path = dir.join(name);
    let failed = |reason: String| Error::Dictionary {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(e.to_string())),
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            return Err(failed(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        Ok(_) => {}
    }
    let bytes = std::fs::read(&path).map_err(|e| failed(e.to_string()))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| failed("not UTF-8".to_string()))
}

impl Dictionaries {
    /// Loads the dictionaries from `dir` (files that are missing fall back to the defaults).
    pub(crate) fn load(dir: Option<&Path>) -> Result<Dictionaries> {
        let (user_dict, synonyms, names, canonical) = match dir {
            Some(dir) => (
                read_optional(dir, USER_DICT_FILE)?,
                read_optional(dir, SYNONYMS_FILE)?,
                read_optional(dir, NAMES_FILE)?,
                read_optional(dir, CANONICAL_FILE)?,
            ),
            None => (None, None, None, None),
        };
        let mut stats = DictionaryStats {
            user_dict_from_file: user_dict.is_some(),
            synonyms_from_file: synonyms.is_some(),
            names_from_file: names.is_some(),
            canonical_from_file: canonical.is_some(),
            ..DictionaryStats::default()
        };
        Ok(Dictionaries::build(
            DictionaryTexts {
                user_dict: user_dict.as_deref().unwrap_or(DEFAULT_USER_DICT),
                synonyms: synonyms.as_deref().unwrap_or(DEFAULT_SYNONYMS),
                names: names.as_deref().unwrap_or(DEFAULT_NAMES),
                canonical: canonical.as_deref().unwrap_or(DEFAULT_CANONICAL),
            },
            &mut stats,
        ))
    }

    /// The embedded defaults.
    pub(crate) fn defaults() -> Dictionaries {
        let mut stats = DictionaryStats::default();
        let texts = DictionaryTexts {
            user_dict: DEFAULT_USER_DICT,
            synonyms: DEFAULT_SYNONYMS,
            names: DEFAULT_NAMES,
            canonical: DEFAULT_CANONICAL,
        };
        Dictionaries::build(texts, &mut stats)
    }

    fn build(texts: DictionaryTexts<'_>, stats: &mut DictionaryStats) -> Dictionaries {
        let mut jieba = base_jieba().clone();
        let mut skipped = 0;
        let words = parse_user_dict(texts.user_dict, &mut skipped);
        for word in &words {
            // The user's form is folded like every text, so 蘭州 in the file is the word 兰州.
            let folded = normalize(word.word).text;
            jieba.add_word(&folded, word.freq, word.tag);
        }
        // A line of names has the format of a synonym group; its first word is the preferred
        // name, and each name lists the others in line order, so the preferred name comes
        // first (and survives the query's cap on expansions).
        let groups = parse_synonyms(texts.synonyms, &mut skipped);
        let people = parse_synonyms(texts.names, &mut skipped);
        let mut added_words = 0;
        let synonyms = expansions(&groups, &mut jieba, &mut added_words);
        let names = expansions(&people, &mut jieba, &mut added_words);
        let preferred_names = people.iter().filter_map(|p| p.first().cloned()).collect();
        let canonical = parse_canonical(texts.canonical, &mut skipped);
        *stats = DictionaryStats {
            user_words: words.len() + added_words,
            synonym_groups: groups.len(),
            name_groups: people.len(),
            canonical_works: canonical.len(),
            skipped_lines: skipped,
            ..stats.clone()
        };
        Dictionaries {
            jieba,
            synonyms,
            names,
            preferred_names,
            canonical: canonical.into(),
            stats: stats.clone(),
        }
    }
}

/// The text of the four files (or their defaults).
struct DictionaryTexts<'a> {
    user_dict: &'a str,
    synonyms: &'a str,
    names: &'a str,
    canonical: &'a str,
}

/// The lines `title / creator` (also `／`) of the canonical works, as exact keys, each pair
/// once; unusable lines are counted in `skipped`.
fn parse_canonical(text: &str, skipped: &mut usize) -> Vec<(String, String)> {
    let mut works: Vec<(String, String)> = Vec::new();
    for line in useful_lines(text) {
        let keys = line
            .split_once(['/', '／'])
            .filter(|(t, c)| {
                t.chars().count() <= MAX_CANONICAL_CHARS && c.chars().count() <= MAX_CANONICAL_CHARS
            })
            .map(|(title, creator)| (text_key(title), text_key(creator)))
            .filter(|(title, creator)| !title.is_empty() && !creator.is_empty());
        match keys {
            Some(work) if !works.contains(&work) => works.push(work),
            Some(_) => {}
            None => *skipped += 1,
        }
    }
    works
}

/// Each word of `groups` → the other words of its group(s), in line order. Words of more
/// than one character that jieba does not know are added to it (and counted in `added`), so
/// that documents and queries cut them whole.
fn expansions(
    groups: &[Vec<String>],
    jieba: &mut Jieba,
    added: &mut usize,
) -> HashMap<String, Arc<[String]>> {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for group in groups {
        for word in group {
            if word.chars().count() > 1 && !jieba.has_word(word) {
                jieba.add_word(word, None, None);
                *added += 1;
            }
        }
        for word in group {
            let others = map.entry(word.clone()).or_default();
            for other in group.iter().filter(|o| *o != word) {
                if !others.contains(other) {
                    others.push(other.clone());
                }
            }
        }
    }
    map.into_iter().map(|(k, v)| (k, Arc::from(v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_dictionary_lines_in_every_jieba_form() {
        let mut skipped = 0;
        let words = parse_user_dict(
            "# comment\n\n兰州\n马家窑 5\n彩陶 n\n铜奔马 10 nz\n坏 行 x\n",
            &mut skipped,
        );
        let got: Vec<_> = words.iter().map(|w| (w.word, w.freq, w.tag)).collect();
        assert_eq!(
            got,
            [
                ("兰州", None, None),
                ("马家窑", Some(5), None),
                ("彩陶", None, Some("n")),
                ("铜奔马", Some(10), Some("nz")),
            ]
        );
        assert_eq!(skipped, 1);
    }

    #[test]
    fn synonym_groups_split_on_commas_and_spaces_and_fold() {
        let mut skipped = 0;
        let groups = parse_synonyms("銅奔馬,马踏飞燕 马超龙雀\n单独\n a、A、b\n", &mut skipped);
        assert_eq!(groups, [vec!["铜奔马", "马踏飞燕", "马超龙雀"], vec!["a", "b"]]);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn the_defaults_hold_the_local_words() {
        let dictionaries = Dictionaries::defaults();
        for word in crate::analysis::LOCAL_WORDS {
            assert!(
                DEFAULT_USER_DICT
                    .lines()
                    .any(|l| l.split_whitespace().next() == Some(word)),
                "{word}"
            );
        }
        assert!(dictionaries.synonyms["铜奔马"].contains(&"马踏飞燕".to_string()));
        assert!(!dictionaries.stats.user_dict_from_file);
        assert_eq!(dictionaries.stats.skipped_lines, 0);
    }

    #[test]
    fn names_list_the_preferred_name_first_and_are_cut_whole() {
        let dictionaries = Dictionaries::defaults();
        let names = |name: &str| {
            dictionaries
                .names
                .get(name)
                .map(|n| n.to_vec())
                .unwrap_or_default()
        };
        assert_eq!(names("苏东坡").first().map(String::as_str), Some("苏轼"));
        assert_eq!(names("李太白").first().map(String::as_str), Some("李白"));
        assert!(names("苏轼").contains(&"东坡".to_string()));
        assert!(dictionaries.jieba.has_word("苏东坡") && dictionaries.jieba.has_word("李太白"));
        assert!(dictionaries.stats.name_groups >= 60, "{:?}", dictionaries.stats);
        assert_eq!(dictionaries.stats.skipped_lines, 0);
    }

    #[test]
    fn a_names_file_is_folded_and_its_bad_lines_counted() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Dictionary {
            path: String::new(),
            reason: e.to_string(),
        })?;
        std::fs::write(dir.path().join(NAMES_FILE), "# people\n蘇軾 蘇東坡、東坡\n孤名\n").ok();
        let loaded = Dictionaries::load(Some(dir.path()))?;
        assert!(loaded.stats.names_from_file);
        assert_eq!(loaded.stats.name_groups, 1);
        assert_eq!(loaded.stats.skipped_lines, 1);
        assert_eq!(loaded.names["东坡"].to_vec(), ["苏轼", "苏东坡"]);
        assert!(!loaded.names.contains_key("李太白"));
        Ok(())
    }

    #[test]
    fn canonical_works_are_exact_keys_and_bad_lines_are_counted() {
        let mut skipped = 0;
        let works = parse_canonical(
            "# comment\n靜夜思 / 李白\n静夜思／李白\n《春望》 / 杜 甫\nno slash\n / 李白\n",
            &mut skipped,
        );
        assert_eq!(
            works,
            [
                ("静夜思".to_string(), "李白".to_string()),
                ("春望".to_string(), "杜甫".to_string())
            ]
        );
        assert_eq!(skipped, 2);
        let defaults = Dictionaries::defaults();
        assert!(defaults.stats.canonical_works >= 70, "{:?}", defaults.stats);
        assert!(
            defaults
                .canonical
                .contains(&("静夜思".to_string(), "李白".to_string()))
        );
    }

    #[test]
    fn missing_files_fall_back_and_present_files_win() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::Dictionary {
            path: String::new(),
            reason: e.to_string(),
        })?;
        let loaded = Dictionaries::load(Some(dir.path()))?;
        assert!(!loaded.stats.user_dict_from_file && !loaded.stats.synonyms_from_file);
        std::fs::write(dir.path().join(SYNONYMS_FILE), "甲乙,丙丁\n").ok();
        let loaded = Dictionaries::load(Some(dir.path()))?;
        assert!(loaded.stats.synonyms_from_file);
        assert_eq!(loaded.stats.synonym_groups, 1);
        assert!(!loaded.synonyms.contains_key("铜奔马"));
        Ok(())
    }
}
