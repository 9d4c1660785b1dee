//! Secrets handed to people (link tokens, session ids, codes) and the hashes
//! we keep of them. A secret is ≥128 random bits, shown once, stored only as
//! its SHA-256; none of these types prints its value in `Debug`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
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

/// A random bearer secret: 256 bits, base64url without padding (43 chars;
/// 54 for one that begins with the moment it was made).
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

    /// A secret that begins with the moment it was made: 8 bytes of
    /// nanoseconds since 1970 (big-endian), then 256 random bits, base64url
    /// without padding (54 chars). Its [`SecretToken::hash`] begins with that
    /// moment too, so the keys of secrets made one after another sit side by
    /// side in an index: storing one changes the index's last page instead of
    /// a random one (for refresh tokens, a B-tree page per token fewer to
    /// write and checkpoint; docs/performance.md). The moment is no secret:
    /// whoever holds the token knows when they got it.
    pub fn generate_ordered(rng: &mut impl RngCore, now: OffsetDateTime) -> Self {
        let mut bytes = [0u8; ORDERED_LEN];
        let nanos = u64::try_from(now.unix_timestamp_nanos()).unwrap_or(0);
        bytes[..8].copy_from_slice(&nanos.to_be_bytes());
        rng.fill_bytes(&mut bytes[8..]);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The key the secret is stored under: its SHA-256 (hex), preceded for a
    /// secret made by [`SecretToken::generate_ordered`] by the moment it was
    /// made (16 hex digits). A presented value that only looks ordered gets a
    /// key no stored secret has unless it is that secret.
    pub fn hash(&self) -> TokenHash {
        let hash = TokenHash::of(&self.0);
        match self.made_at() {
            Some(moment) => TokenHash(format!("{}{}", hex(&moment), hash.0)),
            None => hash,
        }
    }

    /// The leading moment of an ordered secret.
    fn made_at(&self) -> Option<[u8; 8]> {
        if self.0.len() != ORDERED_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(&self.0).ok()?;
        bytes.get(..8)?.try_into().ok()
    }
}

/// Bytes and characters of an ordered secret: 8 of time, 32 random.
const ORDERED_LEN: usize = 40;
const ORDERED_CHARS: usize = 54;

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

/// Lowercase hex, as hashes are stored.
pub fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Constant-time equality for secrets compared in memory.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_as_stored() {
        // Stored hashes and client-secret hashes were written in this form;
        // a change of case or padding would orphan every one of them.
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(TokenHash::of("abc").as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

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
    fn ordered_secrets_are_random_and_their_keys_follow_time() {
        let mut rng = rand::rng();
        let t0 = time::macros::datetime!(2026-12-06 12:00 UTC);
        let a = SecretToken::generate_ordered(&mut rng, t0);
        let b = SecretToken::generate_ordered(&mut rng, t0 + time::Duration::nanoseconds(1));
        let twin = SecretToken::generate_ordered(&mut rng, t0);
        assert_eq!(a.expose().len(), 54);
        assert_ne!(a.expose(), twin.expose(), "the same moment, other random bits");
        assert!(a.hash().as_str() < b.hash().as_str(), "a later secret's key sorts after");
        assert_eq!(a.hash().as_str().len(), 16 + 64);
        assert!(a.hash().as_str().ends_with(TokenHash::of(a.expose()).as_str()), "the hash of the whole secret");
        // What a client presents back finds the same key.
        assert_eq!(SecretToken::from_presented(a.expose()).unwrap().hash(), a.hash());
        // Another secret of the same moment has another key; so has a value
        // of that length that is no base64url of 40 bytes.
        assert_ne!(twin.hash(), a.hash());
        let odd = SecretToken::from_presented(&"A".repeat(53).chars().chain(['B']).collect::<String>()).unwrap();
        assert_eq!(odd.hash().as_str().len(), 64, "not ordered: the plain hash");
        // Secrets made before ordered ones existed keep their keys.
        let plain = SecretToken::generate(&mut rng);
        assert_eq!(plain.hash(), TokenHash::of(plain.expose()));
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
