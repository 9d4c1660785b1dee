//! How passwords are stored: Argon2id in PHC strings.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};

use crate::secret::Password;

/// Argon2id cost parameters (OWASP's recommended floor by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Degree of parallelism.
    pub parallelism: u32,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The configured Argon2 parameters are out of range.
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    /// Hashing failed inside the library.
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Correct; the stored hash uses the current parameters.
    Yes,
    /// Correct, but hashed with other parameters: store this new hash.
    YesRehashed(String),
    No,
}

/// Hashes and verifies passwords with Argon2id. CPU-heavy: callers run it on
/// a bounded set of threads. Each call allocates Argon2's working memory
/// afresh; a thread that hashes again and again keeps a
/// [`HasherWithMemory`] instead.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: Params,
}

impl PasswordHasher {
    pub fn new(config: Argon2Config) -> Result<Self, HashError> {
        let params = Params::new(config.memory_kib, config.iterations, config.parallelism, None)
            .map_err(|e| HashError::Params(e.to_string()))?;
        Ok(Self { params })
    }

    /// This hasher with working memory of its own, allocated at its first use.
    pub fn with_memory(&self) -> HasherWithMemory {
        HasherWithMemory { hasher: self.clone(), blocks: Vec::new() }
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub fn hash(&self, password: &Password) -> Result<String, HashError> {
        self.with_memory().hash(password)
    }

    /// See [`HasherWithMemory::verify`].
    pub fn verify(&self, password: &Password, stored: &str) -> Result<Verified, HashError> {
        self.with_memory().verify(password, stored)
    }

    /// See [`HasherWithMemory::verify_dummy`].
    pub fn verify_dummy(&self, password: &Password) {
        self.with_memory().verify_dummy(password)
    }
}

/// A [`PasswordHasher`] that keeps Argon2's working memory (`memory_kib`
/// KiB) from one call to the next, the way each hashing thread holds one.
///
/// Argon2id allocates its whole memory cost on every call, and the C
/// allocator does not give blocks of that size back reliably: glibc raises
/// its mmap threshold after the first such block is freed, and later ones
/// come from the arena of whichever thread asked, where they stay. After a
/// burst of sign-ins the process held about three blocks per arena and grew
/// from 30 to 250 MB with two hashing threads. Reusing one block per thread
/// bounds hashing memory to threads × `memory_kib`, and skips zeroing or
/// faulting in 19 MiB per call (docs/performance.md, 2026-12-04).
pub struct HasherWithMemory {
    hasher: PasswordHasher,
    blocks: Vec<Block>,
}

impl std::fmt::Debug for HasherWithMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HasherWithMemory").field("blocks", &self.blocks.len()).finish_non_exhaustive()
    }
}

impl HasherWithMemory {
    /// Argon2 with `params` over `password` and `salt` into `out`. Stored
    /// hashes with a larger memory cost than configured (the operator lowered
    /// it) get one-off memory, so what is kept stays bounded by the
    /// configuration.
    fn compute(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        let count = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params.clone());
        if count > self.hasher.params.block_count() {
            return argon2.hash_password_into(password, salt, out);
        }
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut self.blocks[..count])
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub fn hash(&mut self, password: &Password) -> Result<String, HashError> {
        let failed = |e: String| HashError::Hash(e);
        let salt = argon2::password_hash::try_generate_salt().map_err(|e| failed(e.to_string()))?;
        let params = self.hasher.params.clone();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.compute(Algorithm::Argon2id, Version::V0x13, &params, password.expose().as_bytes(), &salt, &mut out)
            .map_err(|e| failed(e.to_string()))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| failed(e.to_string()))?,
            salt: Some(Salt::new(&salt).map_err(|e| failed(e.to_string()))?),
            hash: Some(Output::new(&out).map_err(|e| failed(e.to_string()))?),
        };
        Ok(phc.to_string())
    }

    /// Checks a password; a malformed stored hash counts as a mismatch.
    /// A hash imported from the legacy account system (bcrypt, PBKDF2) is
    /// verified by its own scheme and, when correct, replaced by Argon2id.
    pub fn verify(&mut self, password: &Password, stored: &str) -> Result<Verified, HashError> {
        if let Some(correct) = crate::legacy_hash::verify(password.expose(), stored) {
            return if correct { self.hash(password).map(Verified::YesRehashed) } else { Ok(Verified::No) };
        }
        let Some((algorithm, version, params)) = self.check_stored(password, stored) else {
            return Ok(Verified::No);
        };
        let current = &self.hasher.params;
        let same_params = algorithm == Algorithm::Argon2id
            && version == Version::V0x13
            && params.m_cost() == current.m_cost()
            && params.t_cost() == current.t_cost()
            && params.p_cost() == current.p_cost();
        if same_params { Ok(Verified::Yes) } else { self.hash(password).map(Verified::YesRehashed) }
    }

    /// The algorithm, version and parameters of `stored` if `password`
    /// matches it; `None` if it does not or `stored` is not an Argon2 PHC string.
    fn check_stored(&mut self, password: &Password, stored: &str) -> Option<(Algorithm, Version, Params)> {
        let parsed = PasswordHash::new(stored).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        let version = Version::try_from(parsed.version.unwrap_or(Version::V0x13.into())).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let mut out = vec![0u8; expected.len()];
        self.compute(algorithm, version, &params, password.expose().as_bytes(), salt.as_ref(), &mut out).ok()?;
        // `Output`'s equality is constant-time.
        (Output::new(&out).ok()? == expected).then_some((algorithm, version, params))
    }

    /// Spends the same work as a real verification, for unknown accounts, so
    /// response time does not reveal whether an account exists.
    pub fn verify_dummy(&mut self, password: &Password) {
        let _ = self.hash(password);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_hasher(m: u32) -> PasswordHasher {
        PasswordHasher::new(Argon2Config { memory_kib: m, iterations: 1, parallelism: 1 }).unwrap()
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let hasher = fast_hasher(64);
        let pw = Password::new("Zq8#wert".into());
        let a = hasher.hash(&pw).unwrap();
        let b = hasher.hash(&pw).unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_ne!(a, b);
        assert_eq!(hasher.verify(&pw, &a).unwrap(), Verified::Yes);
        assert_eq!(hasher.verify(&Password::new("zq8#wert".into()), &a).unwrap(), Verified::No);
        assert_eq!(hasher.verify(&pw, "not a hash").unwrap(), Verified::No);
    }

    #[test]
    fn changed_parameters_trigger_a_rehash() {
        let pw = Password::new("Zq8#wert".into());
        let old = fast_hasher(64).hash(&pw).unwrap();
        let newer = fast_hasher(128);
        match newer.verify(&pw, &old).unwrap() {
            Verified::YesRehashed(h) => {
                assert!(h.contains("m=128"));
                assert_eq!(newer.verify(&pw, &h).unwrap(), Verified::Yes);
            }
            other => panic!("expected a rehash, got {other:?}"),
        }
    }

    #[test]
    fn legacy_hashes_verify_once_then_become_argon2id() {
        let hasher = fast_hasher(64);
        let pw = Password::new("Legacy-pass1".into());
        let bcrypt = bcrypt::hash("Legacy-pass1", 4).unwrap();
        let pbkdf2 = crate::legacy_hash::pbkdf2_sha256_phc("Legacy-pass1", b"saltsaltsalt", 1_000);
        for legacy in [bcrypt, pbkdf2] {
            let Verified::YesRehashed(new) = hasher.verify(&pw, &legacy).unwrap() else {
                panic!("{legacy}: expected an upgrade to Argon2id");
            };
            assert!(new.starts_with("$argon2id$"), "{new}");
            assert_eq!(hasher.verify(&pw, &new).unwrap(), Verified::Yes);
            assert_eq!(hasher.verify(&Password::new("wrong".into()), &legacy).unwrap(), Verified::No);
        }
    }

    #[test]
    fn hashes_are_interchangeable_with_the_librarys_own() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = fast_hasher(64);
        let pw = Password::new("Zq8#wert".into());
        let library = Argon2::new(Algorithm::Argon2id, Version::V0x13, hasher.params.clone());
        // Ours, checked by the library.
        let ours = hasher.hash(&pw).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(library.verify_password(b"Zq8#wert", &parsed).is_ok());
        assert!(library.verify_password(b"Zq8#werT", &parsed).is_err());
        // The library's (as stored before 2026-12-04), checked by ours.
        let theirs = library.hash_password(b"Zq8#wert").unwrap().to_string();
        assert_eq!(hasher.verify(&pw, &theirs).unwrap(), Verified::Yes);
        assert_eq!(hasher.verify(&Password::new("Zq8#wer".into()), &theirs).unwrap(), Verified::No);
    }

    #[test]
    fn other_argon2_variants_and_versions_verify_and_are_upgraded() {
        use argon2::PasswordHasher as _;
        let hasher = fast_hasher(64);
        let pw = Password::new("Zq8#wert".into());
        let params = Params::new(64, 1, 1, None).unwrap();
        for (algorithm, version) in [
            (Algorithm::Argon2i, Version::V0x13),
            (Algorithm::Argon2d, Version::V0x13),
            (Algorithm::Argon2id, Version::V0x10),
        ] {
            let stored =
                Argon2::new(algorithm, version, params.clone()).hash_password(b"Zq8#wert").unwrap().to_string();
            let Verified::YesRehashed(new) = hasher.verify(&pw, &stored).unwrap() else {
                panic!("{stored}: expected an upgrade");
            };
            assert!(new.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{new}");
            assert_eq!(hasher.verify(&Password::new("wrong".into()), &stored).unwrap(), Verified::No);
        }
    }

    #[test]
    fn malformed_stored_hashes_are_mismatches() {
        let hasher = fast_hasher(64);
        let pw = Password::new("Zq8#wert".into());
        let good = hasher.hash(&pw).unwrap();
        let (head, hash) = good.rsplit_once('$').unwrap();
        let cases = [
            String::new(),
            head.to_owned(),                               // no hash
            format!("{head}$"),                            // empty hash
            format!("{head}${}", &hash[..hash.len() - 4]), // truncated hash
            good.replace("$argon2id$", "$argon2x$"),       // unknown variant
            good.replace("v=19", "v=99"),                  // unknown version
            good.replace("m=64", "m=1"),                   // memory below the minimum
            good.replace("t=1", "t=0"),                    // no passes
            good.replace("m=64", "m=4294967295"),          // absurd memory
            format!("{good}$extra"),
            "$argon2id$v=19$m=64,t=1,p=1$!!!!$!!!!".to_owned(), // not base64
        ];
        for stored in cases {
            assert_eq!(hasher.verify(&pw, &stored).unwrap(), Verified::No, "{stored:?}");
        }
    }

    #[test]
    fn kept_memory_is_reused_and_bounded_by_the_configuration() {
        let pw = Password::new("Zq8#wert".into());
        let mut worker = fast_hasher(64).with_memory();
        assert_eq!(worker.blocks.len(), 0, "nothing is allocated before the first use");
        let a = worker.hash(&pw).unwrap();
        assert_eq!(worker.blocks.len(), 64);
        for _ in 0..3 {
            assert_eq!(worker.verify(&pw, &a).unwrap(), Verified::Yes);
        }
        // Hashed with more memory than configured: verified with one-off
        // memory, then rehashed; what is kept does not grow.
        let bigger = fast_hasher(256).hash(&pw).unwrap();
        assert!(matches!(worker.verify(&pw, &bigger).unwrap(), Verified::YesRehashed(_)));
        assert_eq!(worker.blocks.len(), 64);
        // Less memory than configured: a prefix of the kept blocks.
        let smaller = fast_hasher(32).hash(&pw).unwrap();
        assert!(matches!(worker.verify(&pw, &smaller).unwrap(), Verified::YesRehashed(_)));
        assert_eq!(worker.verify(&Password::new("wrong".into()), &smaller).unwrap(), Verified::No);
        assert_eq!(worker.blocks.len(), 64);
    }
}
