//! Redaction (`run --redact`): every personal value the review files would show (names, emails) becomes a
//! keyed token, `email#` + 24 hex digits of keyed BLAKE3 over the value. Without the key nobody can rebuild a
//! token from a list of emails (a dictionary attack on a public hash), and 96 bits keep two values from ever
//! sharing a token (at 100M values the chance is about 1 in 10^13). The key comes from
//! `SYBILSCAN_REDACT_KEY` or a key file; the same key gives the same tokens run after run, so a reviewer can
//! still follow one account across nights. Quarantined rows keep their line and reason only.

use std::path::Path;

use crate::error::{Error, Result};

/// Where the key is read from when no file is given.
pub const KEY_ENV: &str = "SYBILSCAN_REDACT_KEY";

/// The key material must be at least this long (bytes): a short passphrase is guessable.
const MIN_KEY_BYTES: usize = 16;

/// A redaction key.
#[derive(Clone)]
pub struct RedactKey([u8; 32]);

impl std::fmt::Debug for RedactKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedactKey(…)")
    }
}

impl RedactKey {
    /// A key from its material (derived: any length from `MIN_KEY_BYTES` on).
    pub fn from_material(material: &[u8]) -> Result<RedactKey> {
        let material = material.trim_ascii();
        if material.len() < MIN_KEY_BYTES {
            return Err(Error::Setting(format!(
                "--redact: the key must be at least {MIN_KEY_BYTES} bytes (got {})",
                material.len()
            )));
        }
        Ok(RedactKey(blake3::derive_key(
            "sybilscan 2026-11 review-file redaction tokens",
            material,
        )))
    }

    /// The key from `file`, or from `SYBILSCAN_REDACT_KEY`; an error saying how to give one otherwise.
    pub fn load(file: Option<&Path>) -> Result<RedactKey> {
        match file {
            Some(p) => RedactKey::from_material(&std::fs::read(p).map_err(|e| Error::io(p, e))?),
            None => match std::env::var_os(KEY_ENV) {
                Some(v) => RedactKey::from_material(v.as_encoded_bytes()),
                None => Err(Error::Setting(format!(
                    "--redact needs a key: set {KEY_ENV} or pass --redact-key-file FILE (at least \
                     {MIN_KEY_BYTES} bytes; keep it: the same key gives the same tokens)"
                ))),
            },
        }
    }

    /// The token of a value (`kind#` and 24 hex digits); empty for an empty value.
    pub fn token(&self, kind: &str, value: &str) -> String {
        if value.is_empty() {
            return String::new();
        }
        let mut h = blake3::Hasher::new_keyed(&self.0);
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(value.as_bytes());
        let hex = h.finalize().to_hex();
        format!("{kind}#{}", &hex[..24])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_keyed_stable_and_long() {
        let k = RedactKey::from_material(b"a key of at least sixteen bytes").unwrap();
        let other = RedactKey::from_material(b"another key, also long enough").unwrap();
        let t = k.token("email", "anna@example.org");
        assert_eq!(t.len(), "email#".len() + 24);
        assert_eq!(t, k.token("email", "anna@example.org"));
        assert_ne!(
            t,
            other.token("email", "anna@example.org"),
            "another key, another token"
        );
        assert_ne!(k.token("name", "x"), k.token("email", "x"));
        assert_eq!(k.token("email", ""), "");
        assert!(RedactKey::from_material(b"short").is_err());
    }
}
