//! Image files in the store: on a store shared by several nodes, the bytes of every stored
//! image size, so that an image written on one node can be served by all.
//!
//! Images are content-addressed (`hash` is the SHA-256 of the uploaded bytes, `variant`
//! the stored size's file name, `thumb.jpg` or `display.jpg`), so a row never changes once
//! written: writing it again is a no-op ([`Store::put_image_files`]). The services write
//! here only when the store is shared ([`Store::is_shared`]); each node's images directory
//! is then a cache of this table, filled on a node's first request for an image
//! ([`Store::image_file`]). A store of one node (SQLite) keeps its images as files only,
//! and this table stays empty.

use crate::db::args;
use crate::{Result, Store};

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS image_files (
    hash TEXT NOT NULL,
    variant TEXT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (hash, variant)
);
";

impl Store {
    /// Stores the bytes of the sizes of the image `hash`, each `(variant, bytes)`, in one
    /// transaction: all or none. A size already stored is left as it is (the same hash
    /// and variant are the same bytes).
    pub fn put_image_files(&self, hash: &str, files: &[(&str, &[u8])]) -> Result<()> {
        self.db.write(|c| {
            for (variant, bytes) in files {
                c.execute(
                    "INSERT INTO image_files (hash, variant, bytes) VALUES (?1, ?2, ?3)
                     ON CONFLICT (hash, variant) DO NOTHING",
                    args![hash, variant, bytes],
                )?;
            }
            Ok(())
        })
    }

    /// The bytes of one size of the image `hash`, if the store has them.
    pub fn image_file(&self, hash: &str, variant: &str) -> Result<Option<Vec<u8>>> {
        self.db.read(|c| {
            c.query_opt(
                "SELECT bytes FROM image_files WHERE hash = ?1 AND variant = ?2",
                args![hash, variant],
                |r| r.get(0),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::each_backend;

    #[test]
    fn image_files_are_stored_once_and_read_back_byte_for_byte() {
        each_backend(|store| {
            let hash = "ab".repeat(32);
            assert_eq!(store.image_file(&hash, "thumb.jpg").unwrap(), None);
            // Every byte value, a NUL and invalid UTF-8 among them, survives the round trip.
            let display: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
            let thumb = vec![0xFF, 0xD8, 0x00, 0xC3, 0xFF, 0xD9];
            store
                .put_image_files(&hash, &[("display.jpg", &display), ("thumb.jpg", &thumb)])
                .unwrap();
            assert_eq!(
                store.image_file(&hash, "display.jpg").unwrap(),
                Some(display.clone())
            );
            assert_eq!(store.image_file(&hash, "thumb.jpg").unwrap(), Some(thumb.clone()));
            assert_eq!(store.image_file(&hash, "other.jpg").unwrap(), None);
            assert_eq!(store.image_file(&"cd".repeat(32), "thumb.jpg").unwrap(), None);

            // Writing an image again (a second upload of the same file, on any node) is
            // not an error, and changes nothing.
            store
                .put_image_files(&hash, &[("thumb.jpg", b"other bytes"), ("display.jpg", &display)])
                .unwrap();
            assert_eq!(store.image_file(&hash, "thumb.jpg").unwrap(), Some(thumb));
        });
    }

    #[test]
    fn an_empty_image_file_is_stored_as_empty_not_missing() {
        each_backend(|store| {
            let hash = "ef".repeat(32);
            store.put_image_files(&hash, &[("thumb.jpg", &[])]).unwrap();
            assert_eq!(store.image_file(&hash, "thumb.jpg").unwrap(), Some(Vec::new()));
        });
    }
}
