//! Suggestions: completions of what the user is typing, from titles, creators and subjects.
//!
//! The suggester is an in-memory table built from the index's fast columns of `title`,
//! `creators` and `subjects` (their distinct values and how many live records have each),
//! so building it reads no stored document. Every value is reachable by three keys, held in
//! one sorted array searched by binary search:
//!
//! - the folded text (`靜夜思` → `静夜思`, letters and digits only), so `靜` and `静` complete it;
//! - the joined pinyin (`jingyesi`), so `jing` and `jingy` do;
//! - the joined initials (`jys`), so `jy` does.
//!
//! Results are the values with the most records first. A short prefix (`j`) matches a large
//! part of the table, so for every prefix of up to [`PRECOMPUTED_PREFIX_CHARS`] characters
//! whose range is large the best values are computed at build time; any other prefix scans
//! a range of at most [`LARGE_RANGE`] keys. A lookup therefore never walks more than that.
//!
//! The table belongs to one reader generation: it is rebuilt, lazily by the first
//! [`crate::Index::suggest`] after a commit (and in the background right after each commit),
//! never on the lookup path of a generation that already has one.

use std::collections::HashMap;

use tantivy::Searcher;

use crate::error::{Error, Result};
use crate::keys::text_key;
use crate::pinyin;
use crate::schema::names;

/// Most suggestions one call returns.
pub const MAX_SUGGEST_LIMIT: usize = 20;
/// Longest prefix accepted, in characters.
pub const MAX_SUGGEST_PREFIX_CHARS: usize = 64;
/// Keys are cut to this many characters: nobody types further before picking.
const MAX_KEY_CHARS: usize = 32;
/// Prefixes up to this many characters get their best values computed at build time when
/// their range is large.
const PRECOMPUTED_PREFIX_CHARS: usize = 3;
/// A range of more keys than this is "large" (see the module documentation).
const LARGE_RANGE: usize = 2048;

/// One completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The value as stored (original characters: `靜夜思`).
    pub text: String,
    /// Where it comes from: `title`, `creator` or `subject`.
    pub field: &'static str,
    /// Records with this value.
    pub count: u64,
}

/// The fields suggestions come from: (column name, reported field).
const SOURCES: [(&str, &str); 3] = [
    (names::TITLE, "title"),
    (names::CREATORS, "creator"),
    (names::SUBJECTS, "subject"),
];

struct Entry {
    text: Box<str>,
    field: &'static str,
    count: u64,
}

/// The suggestion table of one reader generation.
pub(crate) struct Suggester {
    pub(crate) generation: u64,
    entries: Vec<Entry>,
    /// (key, entry index), sorted by key.
    keys: Vec<(Box<str>, u32)>,
    /// Best entries of the large ranges of short prefixes.
    precomputed: HashMap<Box<str>, Vec<u32>>,
}

impl std::fmt::Debug for Suggester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Suggester")
            .field("generation", &self.generation)
            .field("entries", &self.entries.len())
            .field("keys", &self.keys.len())
            .finish()
    }
}

fn truncate_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((byte, _)) => &text[..byte],
        None => text,
    }
}

/// The lookup key of a prefix or value: folded letters and digits.
fn key_of(text: &str) -> String {
    text_key(text)
}

impl Suggester {
    /// Builds the table from the searcher's segments.
    pub(crate) fn build(searcher: &Searcher) -> Result<Suggester> {
        let mut counts: HashMap<(usize, String), u64> = HashMap::new();
        for segment in searcher.segment_readers() {
            let alive = segment.alive_bitset();
            let fast = segment.fast_fields();
            for (source, (column_name, _)) in SOURCES.iter().enumerate() {
                let Some(column) = fast.str(column_name)? else {
                    continue;
                };
                let mut per_ord = vec![0u64; column.num_terms()];
                for doc in 0..segment.max_doc() {
                    if alive.is_some_and(|a| !a.is_alive(doc)) {
                        continue;
                    }
                    for ord in column.term_ords(doc) {
                        if let Some(slot) = per_ord.get_mut(ord as usize) {
                            *slot += 1;
                        }
                    }
                }
                let mut text = String::new();
                for (ord, &count) in per_ord.iter().enumerate() {
                    if count > 0 && matches!(column.ord_to_str(ord as u64, &mut text), Ok(true)) {
                        let value = text.trim();
                        if !value.is_empty() {
                            *counts.entry((source, value.to_string())).or_default() += count;
                        }
                    }
                }
            }
        }
        let mut entries: Vec<Entry> = counts
            .into_iter()
            .map(|((source, text), count)| Entry {
                text: text.into_boxed_str(),
                field: SOURCES[source].1,
                count,
            })
            .collect();
        // Best first, so that "first in entry order" is "best" everywhere below.
        entries.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.text.chars().count().cmp(&b.text.chars().count()))
                .then_with(|| a.text.cmp(&b.text))
                .then_with(|| a.field.cmp(b.field))
        });
        let mut keys: Vec<(Box<str>, u32)> = Vec::with_capacity(entries.len() * 3);
        for (i, entry) in entries.iter().enumerate() {
            let Ok(index) = u32::try_from(i) else { break };
            let folded = key_of(&entry.text);
            let (full, initials) = pinyin::joined(&entry.text);
            let mut own: Vec<&str> = Vec::with_capacity(3);
            for key in [folded.as_str(), full.as_str(), initials.as_str()] {
                let key = truncate_chars(key, MAX_KEY_CHARS);
                if !key.is_empty() && !own.contains(&key) {
                    own.push(key);
                }
            }
            keys.extend(own.into_iter().map(|k| (Box::from(k), index)));
        }
        keys.sort_unstable();
        let precomputed = precompute(&keys);
        Ok(Suggester {
            generation: searcher.generation().generation_id(),
            entries,
            keys,
            precomputed,
        })
    }

    /// Completions of `prefix`, best first, at most `limit` (capped at
    /// [`MAX_SUGGEST_LIMIT`]).
    pub(crate) fn suggest(&self, prefix: &str, limit: usize) -> Result<Vec<Suggestion>> {
        let chars = prefix.chars().count();
        if chars > MAX_SUGGEST_PREFIX_CHARS {
            return Err(Error::QueryTooLong {
                chars,
                max: MAX_SUGGEST_PREFIX_CHARS,
            });
        }
        let limit = limit.min(MAX_SUGGEST_LIMIT);
        let key = key_of(prefix);
        let key = truncate_chars(&key, MAX_KEY_CHARS);
        if key.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let ids: Vec<u32> = match self.precomputed.get(key) {
            Some(best) => best.iter().copied().take(limit).collect(),
            None => best_in_range(self.range(key), limit),
        };
        Ok(ids
            .into_iter()
            .filter_map(|id| self.entries.get(id as usize))
            .map(|e| Suggestion {
                text: e.text.to_string(),
                field: e.field,
                count: e.count,
            })
            .collect())
    }

    /// What a whole pinyin reads as (`jiangjinjiu` → `將進酒`): among the titles and among
    /// the creators whose whole pinyin is `joined`, the one held by most records (several
    /// when they tie), at most `limit` in all, each folded text once. A rarer homophone
    /// (`江進九`) is left to the pinyin fields, or it would outrank the common reading by
    /// the rarity of its words. Nothing for a reading as long as [`MAX_KEY_CHARS`]: keys are
    /// cut there, so longer values would match by their beginning.
    pub(crate) fn readings_of(&self, joined: &str, limit: usize) -> Vec<String> {
        if joined.is_empty() || joined.chars().count() >= MAX_KEY_CHARS {
            return Vec::new();
        }
        let start = self.keys.partition_point(|(k, _)| &**k < joined);
        let mut ids: Vec<u32> = self.keys[start..]
            .iter()
            .take_while(|(key, _)| &**key == joined)
            .map(|(_, id)| *id)
            .collect();
        // Entries are numbered most held first.
        ids.sort_unstable();
        let mut readings: Vec<String> = Vec::new();
        let mut folded: Vec<String> = Vec::new();
        let mut most: Vec<(&str, u64)> = Vec::new();
        for entry in ids.iter().filter_map(|id| self.entries.get(*id as usize)) {
            if entry.field == "subject" || pinyin::joined(&entry.text).0 != joined {
                continue;
            }
            match most.iter().find(|(field, _)| *field == entry.field) {
                Some((_, count)) if *count > entry.count => continue,
                Some(_) => {}
                None => most.push((entry.field, entry.count)),
            }
            let key = key_of(&entry.text);
            if !folded.contains(&key) {
                folded.push(key);
                readings.push(entry.text.to_string());
                if readings.len() == limit {
                    break;
                }
            }
        }
        readings
    }

    /// The keys starting with `prefix`.
    fn range(&self, prefix: &str) -> &[(Box<str>, u32)] {
        let start = self.keys.partition_point(|(k, _)| &**k < prefix);
        let len = self.keys[start..]
            .iter()
            .take_while(|(k, _)| k.starts_with(prefix))
            .count();
        &self.keys[start..start + len]
    }
}

/// The best `limit` distinct entries of a range (entries are numbered best first), in
/// linear time. An entry has at most three keys, so the best `3 × limit` ids hold at least
/// `limit` distinct entries when the range has that many.
fn best_in_range(range: &[(Box<str>, u32)], limit: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = range.iter().map(|(_, id)| *id).collect();
    let keep = limit.saturating_mul(3);
    if keep > 0 && ids.len() > keep {
        ids.select_nth_unstable(keep - 1);
        ids.truncate(keep);
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(limit);
    ids
}

/// For every prefix of 1..=[`PRECOMPUTED_PREFIX_CHARS`] characters with more than
/// [`LARGE_RANGE`] keys, its best [`MAX_SUGGEST_LIMIT`] entries. Each key belongs to one range
/// per length, so this costs a few passes over the keys.
fn precompute(keys: &[(Box<str>, u32)]) -> HashMap<Box<str>, Vec<u32>> {
    let mut out = HashMap::new();
    for length in 1..=PRECOMPUTED_PREFIX_CHARS {
        let mut start = 0;
        while start < keys.len() {
            let prefix = truncate_chars(&keys[start].0, length);
            let len = keys[start..]
                .iter()
                .take_while(|(k, _)| k.starts_with(prefix))
                .count()
                .max(1);
            if len > LARGE_RANGE && prefix.chars().count() == length {
                out.insert(
                    Box::from(prefix),
                    best_in_range(&keys[start..start + len], MAX_SUGGEST_LIMIT),
                );
            }
            start += len;
        }
    }
    out
}
