//! API keys for apps (the provincial reading app, partners). Keys are random and shown once;
//! only their SHA-256 is stored (a key has 256 bits of entropy, so a slow hash adds nothing).
//! A key may belong to an institution ([`Store::create_institution_api_key`]): it then
//! reports that institution's service statistics, and no other's.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Result, Store, StoreError};
use crate::db::args;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    revoked_at TEXT,
    institution TEXT
);
";

/// An issued key, without its secret.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    /// Key id.
    pub id: i64,
    /// Who it is for.
    pub name: String,
    /// UTC creation time.
    pub created_at: String,
    /// UTC revocation time, if revoked.
    pub revoked_at: Option<String>,
    /// The institution it reports for, if any.
    pub institution: Option<String>,
}

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Store {
    /// Issues a key for `name`; returns its id and the secret, which is not stored.
    pub fn create_api_key(&self, name: &str) -> Result<(i64, String)> {
        self.create_institution_api_key(name, None)
    }

    /// Issues a key for `name` that acts for `institution` (none: an app's key); returns
    /// its id and the secret, which is not stored.
    pub fn create_institution_api_key(&self, name: &str, institution: Option<&str>) -> Result<(i64, String)> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| StoreError::Io("the system's random source".into(), std::io::Error::other(e)))?;
        let key = format!(
            "jc_{}",
            secret.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let id = self.db.write(|c| {
            c.query_row(
                "INSERT INTO api_keys (name, key_hash, institution) VALUES (?1, ?2, ?3) RETURNING id",
                args![name, hash(&key), institution],
                |r| r.get(0),
            )
        })?;
        Ok((id, key))
    }

    /// Revokes a key; false if there is no such live key.
    pub fn revoke_api_key(&self, id: i64) -> Result<bool> {
        let changed = self.db.write(|c| {
            c.execute(
                "UPDATE api_keys SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
                 WHERE id = ?1 AND revoked_at IS NULL",
                args![id],
            )
        })?;
        Ok(changed == 1)
    }

    /// Every key ever issued.
    pub fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.db.read(|c| {
            c.query_map(
                "SELECT id, name, created_at, revoked_at, institution FROM api_keys ORDER BY id",
                args![],
                |r| {
                    Ok(ApiKey {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: r.get(2)?,
                        revoked_at: r.get(3)?,
                        institution: r.get(4)?,
                    })
                },
            )
        })
    }

    /// The id of the live key with this secret.
    pub fn verify_api_key(&self, key: &str) -> Result<Option<i64>> {
        Ok(self.api_key_institution(key)?.map(|(id, _)| id))
    }

    /// The id and institution of the live key with this secret: `None` for an unknown or
    /// revoked key; an institution of `None` for a key that acts for no institution.
    pub fn api_key_institution(&self, key: &str) -> Result<Option<(i64, Option<String>)>> {
        self.db.read(|c| {
            c.query_opt(
                "SELECT id, institution FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
                args![hash(key)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::db::args;
    use crate::testing::each_backend;

    #[test]
    fn keys_verify_until_revoked_and_are_stored_hashed() {
        each_backend(|store| {
            let (id, key) = store.create_api_key("省阅读App").unwrap();
            assert!(key.starts_with("jc_") && key.len() == 67);
            assert_eq!(store.verify_api_key(&key).unwrap(), Some(id));
            assert_eq!(store.verify_api_key("jc_wrong").unwrap(), None);
            let stored: String = store
                .db
                .read(|c| c.query_row("SELECT key_hash FROM api_keys", args![], |r| r.get(0)))
                .unwrap();
            assert!(!stored.contains(&key[3..]), "the secret is not stored");
            assert!(store.revoke_api_key(id).unwrap());
            assert_eq!(store.verify_api_key(&key).unwrap(), None);
            assert!(!store.revoke_api_key(id).unwrap());
            let listed = &store.api_keys().unwrap()[0];
            assert_eq!(listed.name, "省阅读App");
            assert!(listed.revoked_at.as_deref().is_some_and(|at| at.ends_with('Z')));
        });
    }

    #[test]
    fn an_institutions_key_names_its_institution() {
        each_backend(|store| {
            let (app_id, app) = store.create_api_key("app").unwrap();
            let (id, lib) = store.create_institution_api_key("馆", Some("lib")).unwrap();
            assert_ne!(app_id, id);
            assert_eq!(store.api_key_institution(&app).unwrap(), Some((app_id, None)));
            assert_eq!(
                store.api_key_institution(&lib).unwrap(),
                Some((id, Some("lib".into())))
            );
            assert_eq!(store.api_keys().unwrap()[1].institution.as_deref(), Some("lib"));
            store.revoke_api_key(id).unwrap();
            assert_eq!(store.api_key_institution(&lib).unwrap(), None);
        });
    }
}
