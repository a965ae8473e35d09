//! Random secrets (session ids, CSRF tokens, bearer tokens) and how they are stored.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of bearer tokens, so a leaked one is recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "jc_";

/// A secret value shown once to its owner. `Debug` prints `[redacted]`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// A fresh random 256-bit secret, hex encoded, with `prefix`.
    pub fn generate(prefix: &str) -> Secret {
        Secret(format!("{prefix}{}", random_hex(32)))
    }

    /// Wraps a secret received from a client.
    pub fn from_client(value: &str) -> Secret {
        Secret(value.to_string())
    }

    /// The value itself (to send it to its owner, once).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keeps: the SHA-256 of the value, hex encoded. The values are random
    /// and 256 bits long, so a plain hash is enough (no salt or stretching needed).
    pub fn stored_hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// `bytes` random bytes from the operating system, hex encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if getrandom::fill(&mut buf).is_err() {
        // Without an OS random source no secret can be made safely; this is not reachable
        // on any platform Jincheng runs on, and a panic here becomes a 500, not a weak key.
        panic!("the operating system's random source failed");
    }
    hex(&buf)
}

/// SHA-256, hex encoded.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two secrets in time independent of where they differ.
pub fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hidden_and_hashed() {
        let a = Secret::generate(TOKEN_PREFIX);
        let b = Secret::generate(TOKEN_PREFIX);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.expose().len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(format!("{a:?}"), "Secret([redacted])");
        assert_eq!(a.stored_hash().len(), 64);
        assert!(equal(a.expose(), a.expose()) && !equal(a.expose(), b.expose()));
    }
}
