//! Secrets handed to people (link tokens, session ids, codes) and the hashes
//! we keep of them. A secret is ≥128 random bits, shown once, stored only as
//! its SHA-256; none of these types prints its value in `Debug`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A password as typed; wiped from memory when dropped, never printed.
pub struct Password(Zeroizing<String>);

impl Password {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A random bearer secret: 256 bits, base64url without padding (43 chars).
#[derive(Clone)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate(rng: &mut impl RngCore) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a value received from a person (cookie, link, form field).
    /// Returns `None` for values that cannot be one of ours, so oversized or
    /// odd input never reaches a lookup.
    pub fn from_presented(value: &str) -> Option<Self> {
        let ok = (20..=128).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The hex SHA-256 of a secret: what the database and the short-lived store keep.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        Self(hex(&digest))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not a secret, but a prefix is enough to correlate logs.
        write!(f, "TokenHash({}…)", &self.0[..8.min(self.0.len())])
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Constant-time equality for secrets compared in memory.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let mut rng = rand::rng();
        let a = SecretToken::generate(&mut rng);
        let b = SecretToken::generate(&mut rng);
        assert_eq!(a.expose().len(), 43);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.hash(), TokenHash::of(a.expose()));
        assert_eq!(a.hash().as_str().len(), 64);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = SecretToken::generate(&mut rand::rng());
        assert!(!format!("{t:?}").contains(t.expose()));
        let p = Password::new("Hunter2!x".into());
        assert_eq!(format!("{p:?}"), "Password(<redacted>)");
    }

    #[test]
    fn presented_values_are_screened() {
        assert!(SecretToken::from_presented("short").is_none());
        assert!(SecretToken::from_presented(&"a".repeat(129)).is_none());
        assert!(SecretToken::from_presented("abc/def+ghi=jklmnopqrstuvwxyz").is_none());
        assert!(SecretToken::from_presented("abcDEF012-_abcDEF012-_").is_some());
    }
}
