//! Password hashes carried over from the legacy account system: bcrypt
//! (`$2a$`/`$2b$`/`$2y$`, modular crypt) and PBKDF2-SHA256 (a PHC string,
//! `$pbkdf2-sha256$i=ROUNDS,l=LEN$SALT$HASH`). They sit in
//! `users.password_hash` like Argon2id ones and are told apart by prefix; the
//! first successful sign-in replaces them with Argon2id (see
//! [`crate::password::PasswordHasher::verify`]), so nobody has to reset.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::secret::constant_time_eq;

/// Rounds accepted for PBKDF2: enough to refuse a trivially weak hash from a
/// broken export, few enough that one sign-in cannot take seconds of CPU.
const PBKDF2_ROUNDS: std::ops::RangeInclusive<u32> = 1_000..=5_000_000;
/// Derived-key lengths accepted for PBKDF2, in bytes.
const PBKDF2_LENGTH: std::ops::RangeInclusive<usize> = 16..=64;

/// A legacy hash scheme Tunnus can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegacyScheme {
    Bcrypt,
    Pbkdf2Sha256,
}

impl LegacyScheme {
    /// The scheme column's value (`bcrypt`, `pbkdf2-sha256`; `_` works for `-`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "bcrypt" => Some(Self::Bcrypt),
            "pbkdf2-sha256" => Some(Self::Pbkdf2Sha256),
            _ => None,
        }
    }

    /// The scheme a stored hash uses, from its prefix.
    pub fn of_stored(hash: &str) -> Option<Self> {
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            Some(Self::Bcrypt)
        } else if hash.starts_with("$pbkdf2-sha256$") {
            Some(Self::Pbkdf2Sha256)
        } else {
            None
        }
    }
}

/// PBKDF2 parts of a stored hash.
struct Pbkdf2Hash {
    rounds: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Standard base64 with or without padding; passlib's variant writes `.` for `+`.
fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let text = text.replace('.', "+");
    STANDARD_NO_PAD.decode(text.trim_end_matches('=')).ok().or_else(|| STANDARD.decode(&text).ok())
}

/// Reads `$pbkdf2-sha256$i=N,l=L$salt$hash` (PHC) or passlib's
/// `$pbkdf2-sha256$N$salt$hash`.
fn parse_pbkdf2(stored: &str) -> Option<Pbkdf2Hash> {
    let rest = stored.strip_prefix("$pbkdf2-sha256$")?;
    let mut parts = rest.split('$');
    let (params, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let mut rounds = None;
    let mut length = None;
    if let Ok(n) = params.parse::<u32>() {
        rounds = Some(n);
    } else {
        for pair in params.split(',') {
            match pair.split_once('=')? {
                ("i", v) => rounds = Some(v.parse().ok()?),
                ("l", v) => length = Some(v.parse::<usize>().ok()?),
                _ => return None,
            }
        }
    }
    let rounds = rounds.filter(|r| PBKDF2_ROUNDS.contains(r))?;
    let salt = decode_b64(salt).filter(|s| !s.is_empty())?;
    let hash = decode_b64(hash).filter(|h| PBKDF2_LENGTH.contains(&h.len()))?;
    if length.is_some_and(|l| l != hash.len()) {
        return None;
    }
    Some(Pbkdf2Hash { rounds, salt, hash })
}

/// Why a legacy hash cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyHashError {
    /// The scheme column names a scheme Tunnus does not verify.
    #[error("unsupported password hash scheme")]
    UnsupportedScheme,
    /// The hash does not have the form its scheme requires.
    #[error("malformed password hash")]
    Malformed,
}

/// Checks a legacy hash and returns the form it is stored in: bcrypt as is,
/// PBKDF2 as a PHC string. Without a scheme, the hash's prefix decides.
pub fn normalise(scheme: Option<&str>, hash: &str) -> Result<String, LegacyHashError> {
    let hash = hash.trim();
    let scheme = match scheme.map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => LegacyScheme::parse(name).ok_or(LegacyHashError::UnsupportedScheme)?,
        None => LegacyScheme::of_stored(hash).ok_or(LegacyHashError::UnsupportedScheme)?,
    };
    if LegacyScheme::of_stored(hash) != Some(scheme) {
        return Err(LegacyHashError::Malformed);
    }
    match scheme {
        LegacyScheme::Bcrypt => {
            let cost = hash.get(4..6).and_then(|c| c.parse::<u32>().ok());
            let ok = hash.len() == 60 && hash.is_ascii() && cost.is_some_and(|c| (4..=31).contains(&c));
            if ok { Ok(hash.to_owned()) } else { Err(LegacyHashError::Malformed) }
        }
        LegacyScheme::Pbkdf2Sha256 => {
            let p = parse_pbkdf2(hash).ok_or(LegacyHashError::Malformed)?;
            Ok(format!(
                "$pbkdf2-sha256$i={},l={}${}${}",
                p.rounds,
                p.hash.len(),
                STANDARD_NO_PAD.encode(&p.salt),
                STANDARD_NO_PAD.encode(&p.hash)
            ))
        }
    }
}

/// Verifies a password against a stored legacy hash; `None` when the hash is
/// not a legacy one. A malformed legacy hash is a mismatch.
pub fn verify(password: &str, stored: &str) -> Option<bool> {
    match LegacyScheme::of_stored(stored)? {
        LegacyScheme::Bcrypt => Some(bcrypt::verify(password, stored).unwrap_or(false)),
        LegacyScheme::Pbkdf2Sha256 => {
            let Some(p) = parse_pbkdf2(stored) else { return Some(false) };
            let mut derived = vec![0u8; p.hash.len()];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &p.salt, p.rounds, &mut derived);
            Some(constant_time_eq(&derived, &p.hash))
        }
    }
}

/// A PBKDF2-SHA256 PHC string, as the legacy system would have written it
/// (tests and the benchmark generator use it).
pub fn pbkdf2_sha256_phc(password: &str, salt: &[u8], rounds: u32) -> String {
    let mut derived = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, rounds, &mut derived);
    format!("$pbkdf2-sha256$i={rounds},l=32${}${}", STANDARD_NO_PAD.encode(salt), STANDARD_NO_PAD.encode(derived))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_hashes_verify_in_every_variant() {
        let hash = bcrypt::hash("Legacy-pass1", 4).unwrap();
        assert!(hash.starts_with("$2b$04$"));
        assert_eq!(verify("Legacy-pass1", &hash), Some(true));
        assert_eq!(verify("legacy-pass1", &hash), Some(false));
        let older = hash.replacen("$2b$", "$2a$", 1);
        assert_eq!(normalise(Some("bcrypt"), &older).unwrap(), older);
        assert_eq!(verify("Legacy-pass1", &older), Some(true));
        assert_eq!(normalise(None, &hash).unwrap(), hash);
    }

    #[test]
    fn pbkdf2_phc_and_passlib_forms_verify() {
        let phc = pbkdf2_sha256_phc("Legacy-pass1", b"0123456789abcdef", 1_000);
        assert_eq!(verify("Legacy-pass1", &phc), Some(true));
        assert_eq!(verify("Legacy-pass2", &phc), Some(false));
        assert_eq!(normalise(Some("PBKDF2_SHA256"), &phc).unwrap(), phc);
        // passlib: rounds alone, "adapted" base64 ('.' for '+').
        let parts: Vec<&str> = phc.split('$').collect();
        let passlib = format!("$pbkdf2-sha256$1000${}${}", parts[3].replace('+', "."), parts[4].replace('+', "."));
        let stored = normalise(Some("pbkdf2-sha256"), &passlib).unwrap();
        assert_eq!(stored, phc);
    }

    #[test]
    fn unknown_and_malformed_hashes_are_refused() {
        assert_eq!(normalise(Some("md5"), "$1$abc"), Err(LegacyHashError::UnsupportedScheme));
        assert_eq!(normalise(None, "5f4dcc3b5aa765d61d8327deb882cf99"), Err(LegacyHashError::UnsupportedScheme));
        assert_eq!(normalise(Some("bcrypt"), "$2b$04$short"), Err(LegacyHashError::Malformed));
        assert_eq!(normalise(Some("bcrypt"), "$pbkdf2-sha256$i=1000,l=32$aa$bb"), Err(LegacyHashError::Malformed));
        assert_eq!(normalise(None, "$pbkdf2-sha256$i=10,l=32$c2FsdA$aGFzaA"), Err(LegacyHashError::Malformed));
        assert_eq!(verify("x", "$argon2id$v=19$m=64,t=1,p=1$abc$def"), None);
        assert_eq!(verify("x", "$pbkdf2-sha256$garbage"), Some(false));
    }
}
