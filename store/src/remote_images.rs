//! Harvested records' image links and what became of fetching them.
//!
//! Two tables:
//! - `remote_images`: one row per distinct link URL, with its state — `pending` (to be
//!   fetched at `next_try`), `fetched` (the local copy is `hash` under `images/`, see
//!   [`crate::curate::images`]) or `failed` (with a stable `reason_code` and a message) — and
//!   the attempts made. Rows are never deleted: a URL fetched once stays fetched for every
//!   record that links it, and a failure is kept for the admins to read.
//! - `remote_image_links`: which record links which URL, in the record's order, rewritten
//!   whenever a harvest stores the record (in the same transaction as the record itself) and
//!   dropped when the record is deleted.
//!
//! The records themselves are never changed: the original link stays in `Record::images`.
//! The background fetcher ([`crate::remote_images`]) reads the due rows and writes back
//! the outcome; the API and the pages look local copies up by URL or by record.

use std::collections::HashMap;

use schemas::ImageLink;
use serde::Serialize;

use super::{Result, Store};
use crate::curated::CuratedImage;
use crate::db::{Conn, args};

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS remote_images (
    url TEXT PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'pending',
    hash TEXT,
    width INTEGER,
    height INTEGER,
    reason_code TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX IF NOT EXISTS remote_images_due ON remote_images(state, next_try);
CREATE TABLE IF NOT EXISTS remote_image_links (
    record_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (record_id, position)
);
CREATE INDEX IF NOT EXISTS remote_image_links_by_url ON remote_image_links(url);
"#;

/// Creates the tables (idempotent).
pub(super) fn init(c: &mut Conn<'_>) -> Result<()> {
    c.execute_batch(SCHEMA)
}

/// Longest link URL recorded; longer ones are not fetched (no real image URL is this long).
const MAX_URL_LEN: usize = 2048;

/// Rewrites a harvested record's links and queues the URLs never seen before. Only absolute
/// `http`/`https` links are queued; anything else is left alone (it stays in the record).
pub(super) fn link_record(c: &mut Conn<'_>, record_id: &str, images: &[ImageLink]) -> Result<()> {
    unlink_record(c, record_id)?;
    let mut position = 0i64;
    for image in images {
        let url = image.url.trim();
        let fetchable = url.len() <= MAX_URL_LEN
            && url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !fetchable {
            continue;
        }
        c.execute(
            "INSERT INTO remote_images (url) VALUES (?1) ON CONFLICT DO NOTHING",
            args![url],
        )?;
        c.execute(
            "INSERT INTO remote_image_links (record_id, position, url) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            args![record_id, position, url],
        )?;
        position += 1;
    }
    Ok(())
}

/// Drops a record's links (it was deleted). The URLs' rows stay.
pub(super) fn unlink_record(c: &mut Conn<'_>, record_id: &str) -> Result<()> {
    c.execute(
        "DELETE FROM remote_image_links WHERE record_id = ?1",
        args![record_id],
    )?;
    Ok(())
}

/// A link waiting to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueImage {
    /// The link.
    pub url: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// The local copy of a fetched link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedImage {
    /// SHA-256 of the fetched bytes: the address under `images/`.
    pub hash: String,
    /// Display size width.
    pub width: u32,
    /// Display size height.
    pub height: u32,
}

/// The picture a search hit shows ([`Store::hit_images`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitImage {
    /// SHA-256 of the local copy: its address under `/images/`.
    pub hash: String,
    /// What it shows, when a curator said so.
    pub alt: Option<String>,
}

/// A failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFailure<'a> {
    /// Stable code (`not_found`, `too_large`, `not_an_image`, `address_refused`, …).
    pub code: &'a str,
    /// What happened, for people.
    pub message: &'a str,
    /// True if no further attempt will be made.
    pub last: bool,
    /// When to try again (Unix seconds), if not `last`.
    pub next_try: i64,
}

/// Where fetching an image link stands. Stored by its [`ImageState::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageState {
    /// Waiting to be fetched (or retried).
    Pending,
    /// Fetched, with local copies.
    Fetched,
    /// Failed for good (the reason is kept).
    Failed,
}

impl crate::db::FromValue for ImageState {
    fn from_value(value: crate::db::Value<'_>) -> Result<Self, String> {
        crate::db::stored_name(value, ImageState::from_name)
    }
}

impl ImageState {
    /// Every state.
    pub const ALL: [ImageState; 3] = [ImageState::Pending, ImageState::Fetched, ImageState::Failed];

    /// The stored (and serialised) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageState::Pending => "pending",
            ImageState::Fetched => "fetched",
            ImageState::Failed => "failed",
        }
    }

    /// The state of a stored name.
    pub fn from_name(name: &str) -> Option<ImageState> {
        ImageState::ALL.into_iter().find(|state| state.as_str() == name)
    }
}

/// One link as the admins see it.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteImage {
    /// The link.
    pub url: String,
    /// Where fetching it stands.
    pub state: ImageState,
    /// Local copy's hash, once fetched.
    pub hash: Option<String>,
    /// Why the last attempt failed (stable code), if it did.
    pub reason_code: Option<String>,
    /// Why the last attempt failed, for people.
    pub reason: Option<String>,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (Unix seconds), while pending.
    pub next_try: Option<i64>,
    /// A record that links it (the first by id), if any still does.
    pub record_id: Option<String>,
    /// UTC time of the last change.
    pub updated_at: String,
}

/// How many links are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RemoteImageCounts {
    /// Waiting to be fetched (or retried).
    pub pending: u64,
    /// Fetched, with local copies.
    pub fetched: u64,
    /// Given up on.
    pub failed: u64,
}

impl Store {
    /// Up to `limit` pending links due at `now` (Unix seconds), the longest-waiting first.
    pub fn due_remote_images(&self, now: i64, limit: usize) -> Result<Vec<DueImage>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT url, attempts FROM remote_images WHERE state = 'pending' AND next_try <= ?1
                 ORDER BY next_try, url LIMIT ?2",
                args![now, limit],
                |row| {
                    Ok(DueImage {
                        url: row.get(0)?,
                        attempts: attempts(row.get(1)?),
                    })
                },
            )
        })
    }

    /// Records a successful fetch.
    pub fn remote_image_fetched(&self, url: &str, image: &FetchedImage) -> Result<()> {
        self.db.write(|c| {
            c.execute(
                "UPDATE remote_images SET state = 'fetched', hash = ?2, width = ?3, height = ?4,
                     reason_code = NULL, reason = NULL, attempts = attempts + 1,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                 WHERE url = ?1",
                args![url, image.hash, image.width, image.height],
            )
            .map(drop)
        })
    }

    /// Records a failed attempt: final (`failed`) or to be retried at `next_try`.
    pub fn remote_image_failed(&self, url: &str, failure: &FetchFailure<'_>) -> Result<()> {
        let state = if failure.last {
            ImageState::Failed
        } else {
            ImageState::Pending
        };
        self.db.write(|c| {
            c.execute(
                "UPDATE remote_images SET state = ?2,
                     reason_code = ?3, reason = ?4, attempts = attempts + 1, next_try = ?5,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                 WHERE url = ?1",
                args![
                    url,
                    state.as_str(),
                    failure.code,
                    failure.message,
                    failure.next_try
                ],
            )
            .map(drop)
        })
    }

    /// The local copies of those of `urls` that have been fetched, by URL.
    pub fn fetched_remote_images<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, FetchedImage>> {
        self.db.read(|c| {
            let mut out = HashMap::new();
            for url in urls {
                let found = c.query_opt(
                    "SELECT hash, width, height FROM remote_images
                     WHERE url = ?1 AND state = 'fetched' AND hash IS NOT NULL",
                    args![url],
                    |row| {
                        Ok(FetchedImage {
                            hash: row.get(0)?,
                            width: row.get(1)?,
                            height: row.get(2)?,
                        })
                    },
                )?;
                if let Some(image) = found {
                    out.insert(url.to_owned(), image);
                }
            }
            Ok(out)
        })
    }

    /// For each of `record_ids`, the picture its search hit shows: the first image of a
    /// curated record (with the curator's alt text), or the local copy of a harvested
    /// record's first fetched link (in the record's order). Records without one are absent.
    pub fn hit_images<'a>(
        &self,
        record_ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<HashMap<String, HitImage>> {
        // Two statements for the whole page (the ids as one JSON array), not two per hit.
        let ids: Vec<&str> = record_ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(&ids)?;
        let (curated, fetched) = self.db.read(|c| {
            let curated: Vec<(String, String)> = c.query_map(
                "SELECT id, images_json FROM curated_records
                 WHERE id IN (SELECT value FROM json_each(?1)) AND deleted = 0",
                args![ids],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            // Each record's fetched links in the record's order: its first is its picture.
            let fetched: Vec<(String, String)> = c.query_map(
                "SELECT l.record_id, i.hash FROM remote_image_links l
                 JOIN remote_images i ON i.url = l.url
                 WHERE l.record_id IN (SELECT value FROM json_each(?1))
                   AND i.state = 'fetched' AND i.hash IS NOT NULL
                 ORDER BY l.record_id, l.position",
                args![ids],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            Ok((curated, fetched))
        })?;
        let mut out = HashMap::new();
        for (id, json) in curated {
            if let Some(image) = serde_json::from_str::<Vec<CuratedImage>>(&json)?
                .into_iter()
                .next()
            {
                out.insert(
                    id,
                    HitImage {
                        hash: image.hash,
                        alt: Some(image.alt),
                    },
                );
            }
        }
        for (id, hash) in fetched {
            out.entry(id).or_insert(HitImage { hash, alt: None });
        }
        Ok(out)
    }

    /// Links in a state (or all), most recently changed first.
    pub fn remote_images(
        &self,
        state: Option<ImageState>,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<RemoteImage>> {
        let wanted = state.map(ImageState::as_str);
        self.db.read(|c| {
            c.query_map(
                "SELECT i.url, i.state, i.hash, i.reason_code, i.reason, i.attempts, i.next_try,
                        (SELECT MIN(l.record_id) FROM remote_image_links l WHERE l.url = i.url),
                        i.updated_at
                 FROM remote_images i WHERE CAST(?1 AS TEXT) IS NULL OR i.state = ?1
                 ORDER BY i.updated_at DESC, i.url LIMIT ?2 OFFSET ?3",
                args![wanted, limit, offset],
                |row| {
                    let state: ImageState = row.get(1)?;
                    let next_try: i64 = row.get(6)?;
                    Ok(RemoteImage {
                        url: row.get(0)?,
                        next_try: (state == ImageState::Pending).then_some(next_try),
                        state,
                        hash: row.get(2)?,
                        reason_code: row.get(3)?,
                        reason: row.get(4)?,
                        attempts: attempts(row.get(5)?),
                        record_id: row.get(7)?,
                        updated_at: row.get(8)?,
                    })
                },
            )
        })
    }

    /// How many links are in each state.
    pub fn remote_image_counts(&self) -> Result<RemoteImageCounts> {
        let rows: Vec<(String, u64)> = self.db.read(|c| {
            c.query_map(
                "SELECT state, COUNT(*) FROM remote_images GROUP BY state",
                args![],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })?;
        let mut counts = RemoteImageCounts::default();
        for (state, n) in rows {
            match ImageState::from_name(&state) {
                Some(ImageState::Pending) => counts.pending = n,
                Some(ImageState::Fetched) => counts.fetched = n,
                Some(ImageState::Failed) => counts.failed = n,
                None => {}
            }
        }
        Ok(counts)
    }
}

/// A stored attempt count, as reported (a count out of range is clamped, not an error).
fn attempts(stored: i64) -> u32 {
    stored.clamp(0, i64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use schemas::Record;

    use super::*;
    use crate::curated::{AuditAction, CuratedState};
    use crate::testing::each_backend;
    use crate::{Checkpoint, Incoming};

    fn with_images(id: &str, urls: &[&str]) -> Incoming {
        let mut record = Record::new(format!("src:{id}"), "lib", "有图的记录");
        record.images = urls
            .iter()
            .map(|url| ImageLink {
                url: (*url).into(),
                caption: None,
            })
            .collect();
        Incoming::Record {
            record: Box::new(record),
            datestamp: String::new(),
            raw: String::new(),
        }
    }

    #[test]
    fn harvested_links_are_queued_once_and_follow_their_records() {
        each_backend(|store| {
            let run = store.start_run("src", false).unwrap();
            let page = [
                with_images(
                    "1",
                    &["http://a.example/1.jpg", "/images/local.jpg", "ftp://x/y.png"],
                ),
                with_images("2", &["http://a.example/1.jpg", "https://a.example/2.png"]),
            ];
            store
                .apply_page(run, "src", "lib", &page, &Checkpoint::default())
                .unwrap();
            let due = store.due_remote_images(0, 10).unwrap();
            let urls: Vec<&str> = due.iter().map(|d| d.url.as_str()).collect();
            assert_eq!(urls, ["http://a.example/1.jpg", "https://a.example/2.png"]);

            let fetched = FetchedImage {
                hash: "ab".repeat(32),
                width: 10,
                height: 8,
            };
            store
                .remote_image_fetched("https://a.example/2.png", &fetched)
                .unwrap();
            store
                .remote_image_failed(
                    "http://a.example/1.jpg",
                    &FetchFailure {
                        code: "unavailable",
                        message: "HTTP 503",
                        last: false,
                        next_try: 100,
                    },
                )
                .unwrap();
            assert!(store.due_remote_images(99, 10).unwrap().is_empty(), "backing off");
            assert_eq!(store.due_remote_images(100, 10).unwrap()[0].attempts, 1);

            // Record 2's thumbnail is its first fetched link; record 1 has none yet.
            let thumbs = store.hit_images(["src:1", "src:2"]).unwrap();
            assert_eq!(thumbs.len(), 1);
            assert_eq!(thumbs["src:2"].hash, fetched.hash);
            assert_eq!(
                store
                    .fetched_remote_images(["https://a.example/2.png", "http://a.example/1.jpg"])
                    .unwrap()
                    .len(),
                1
            );
            let counts = store.remote_image_counts().unwrap();
            assert_eq!((counts.pending, counts.fetched, counts.failed), (1, 1, 0));

            // A deleted record no longer links anything; the URL's row stays.
            let deleted = Incoming::Deleted {
                id: "src:2".into(),
                local_id: "2".into(),
                datestamp: String::new(),
            };
            store
                .apply_page(run, "src", "lib", &[deleted], &Checkpoint::default())
                .unwrap();
            assert!(store.hit_images(["src:2"]).unwrap().is_empty());
            let listed = store.remote_images(Some(ImageState::Fetched), 10, 0).unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].record_id, None);
        });
    }

    #[test]
    fn a_curated_record_shows_its_first_image_and_failures_can_be_final() {
        each_backend(|store| {
            let image = |hash: &str, alt: &str| CuratedImage {
                hash: hash.into(),
                alt: alt.into(),
                width: 4,
                height: 3,
            };
            let id = "curated-lib:1";
            store
                .change_curated(id, "ann", AuditAction::Create, |_| {
                    Ok::<_, crate::StoreError>(CuratedState {
                        institution: "lib".into(),
                        record: Record::new(id, "lib", "拓片"),
                        deleted: false,
                        images: vec![image("cd", "碑阳"), image("ef", "碑阴")],
                    })
                })
                .unwrap();
            let thumbs = store.hit_images([id, "curated-lib:2"]).unwrap();
            assert_eq!(
                thumbs[id],
                HitImage {
                    hash: "cd".into(),
                    alt: Some("碑阳".into())
                }
            );
            assert_eq!(thumbs.len(), 1);

            let run = store.start_run("src", false).unwrap();
            store
                .apply_page(
                    run,
                    "src",
                    "lib",
                    &[with_images("1", &["http://a.example/gone.jpg"])],
                    &Checkpoint::default(),
                )
                .unwrap();
            let failure = FetchFailure {
                code: "not_found",
                message: "HTTP 404",
                last: true,
                next_try: 0,
            };
            store
                .remote_image_failed("http://a.example/gone.jpg", &failure)
                .unwrap();
            assert!(store.due_remote_images(i64::MAX, 10).unwrap().is_empty());
            let listed = store.remote_images(None, 10, 0).unwrap();
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].state, ImageState::Failed);
            assert_eq!(listed[0].reason_code.as_deref(), Some("not_found"));
            assert_eq!((listed[0].attempts, listed[0].next_try), (1, None));
            assert_eq!(listed[0].record_id.as_deref(), Some("src:1"));
            assert!(
                store
                    .remote_images(Some(ImageState::Pending), 10, 0)
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(store.remote_image_counts().unwrap().failed, 1);
        });
    }
}
