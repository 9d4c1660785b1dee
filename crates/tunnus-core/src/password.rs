//! The password policy (what a new password must look like) and Argon2id
//! hashing (how it is stored). Rules are data so the set-password page can
//! list them and a refused password can name exactly the rules it broke.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::secret::Password;

/// Common passwords refused outright, one per line, compared case-insensitively
/// with trailing digits and special characters stripped ("Password1!" → "password").
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Configurable password rules. The defaults are the product's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// Minimum number of characters.
    pub min_length: usize,
    /// Maximum number of characters (a bound on hashing work).
    pub max_length: usize,
    /// Require at least one digit 0-9.
    pub require_digit: bool,
    /// Require a lowercase a-z and an uppercase A-Z letter.
    pub require_mixed_case: bool,
    /// Require at least one of `special_characters`.
    pub require_special: bool,
    /// The special characters that are allowed (and count for `require_special`).
    pub special_characters: String,
    /// Refuse passwords on the shipped list of common passwords.
    pub refuse_common: bool,
    /// Refuse passwords containing the part of the email before `@`.
    pub refuse_email_local_part: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            require_digit: true,
            require_mixed_case: true,
            require_special: true,
            special_characters: "!@#$%&*^_-+".to_owned(),
            refuse_common: true,
            refuse_email_local_part: true,
        }
    }
}

/// One rule of the policy, as listed to the person choosing a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRule {
    MinLength(usize),
    MaxLength(usize),
    Digit,
    MixedCase,
    Special(String),
    OnlyAllowedCharacters(String),
    NotCommon,
    NotEmailLocalPart,
}

/// A broken rule, carrying what the person needs to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordViolation {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    MissingDigit,
    MissingLowercase,
    MissingUppercase,
    MissingSpecial {
        allowed: String,
    },
    /// A character outside a-z, A-Z, 0-9 and the special characters, e.g. `ä`.
    ForbiddenCharacter(char),
    Common,
    ContainsEmailLocalPart,
}

impl PasswordPolicy {
    /// The rules in the order they are shown on the page.
    pub fn rules(&self) -> Vec<PasswordRule> {
        let mut rules = vec![PasswordRule::MinLength(self.min_length)];
        if self.require_digit {
            rules.push(PasswordRule::Digit);
        }
        if self.require_mixed_case {
            rules.push(PasswordRule::MixedCase);
        }
        if self.require_special {
            rules.push(PasswordRule::Special(self.special_characters_spaced()));
        }
        rules.push(PasswordRule::OnlyAllowedCharacters(self.special_characters_spaced()));
        if self.refuse_common {
            rules.push(PasswordRule::NotCommon);
        }
        if self.refuse_email_local_part {
            rules.push(PasswordRule::NotEmailLocalPart);
        }
        rules.push(PasswordRule::MaxLength(self.max_length));
        rules
    }

    fn special_characters_spaced(&self) -> String {
        let chars: Vec<String> = self.special_characters.chars().map(String::from).collect();
        chars.join(" ")
    }

    /// Every rule the password breaks (empty when it is acceptable).
    pub fn check(&self, password: &Password, email: Option<&Email>) -> Vec<PasswordViolation> {
        let pw = password.expose();
        let mut out = Vec::new();
        let length = pw.chars().count();
        if length < self.min_length {
            out.push(PasswordViolation::TooShort { min: self.min_length });
        }
        if length > self.max_length {
            out.push(PasswordViolation::TooLong { max: self.max_length });
        }
        if self.require_digit && !pw.chars().any(|c| c.is_ascii_digit()) {
            out.push(PasswordViolation::MissingDigit);
        }
        if self.require_mixed_case {
            if !pw.chars().any(|c| c.is_ascii_lowercase()) {
                out.push(PasswordViolation::MissingLowercase);
            }
            if !pw.chars().any(|c| c.is_ascii_uppercase()) {
                out.push(PasswordViolation::MissingUppercase);
            }
        }
        if self.require_special && !pw.chars().any(|c| self.special_characters.contains(c)) {
            out.push(PasswordViolation::MissingSpecial { allowed: self.special_characters_spaced() });
        }
        let mut named = Vec::new();
        for c in pw.chars() {
            let allowed = c.is_ascii_alphanumeric() || self.special_characters.contains(c);
            if !allowed && !named.contains(&c) {
                named.push(c);
                out.push(PasswordViolation::ForbiddenCharacter(c));
            }
        }
        if self.refuse_common && is_common(pw) {
            out.push(PasswordViolation::Common);
        }
        if self.refuse_email_local_part
            && let Some(email) = email
        {
            let local = email.local_part();
            // Very short local parts ("a@x.com") would refuse half the alphabet.
            if local.len() >= 3 && pw.to_ascii_lowercase().contains(local) {
                out.push(PasswordViolation::ContainsEmailLocalPart);
            }
        }
        out
    }
}

fn is_common(password: &str) -> bool {
    let lower = password.to_ascii_lowercase();
    let core = lower.trim_end_matches(|c: char| !c.is_ascii_alphabetic());
    let core = core.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|common| common == lower || common == core)
}

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
/// a bounded blocking pool.
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

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub fn hash(&self, password: &Password) -> Result<String, HashError> {
        self.argon2()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError::Hash(e.to_string()))
    }

    /// Checks a password; a malformed stored hash counts as a mismatch.
    /// A hash imported from the legacy account system (bcrypt, PBKDF2) is
    /// verified by its own scheme and, when correct, replaced by Argon2id.
    pub fn verify(&self, password: &Password, stored: &str) -> Result<Verified, HashError> {
        if let Some(correct) = crate::legacy_hash::verify(password.expose(), stored) {
            return if correct { self.hash(password).map(Verified::YesRehashed) } else { Ok(Verified::No) };
        }
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Ok(Verified::No);
        };
        if self.argon2().verify_password(password.expose().as_bytes(), &parsed).is_err() {
            return Ok(Verified::No);
        }
        let current = Params::try_from(&parsed).ok();
        let same_params = parsed.algorithm.as_str() == "argon2id"
            && current.is_some_and(|p| {
                p.m_cost() == self.params.m_cost()
                    && p.t_cost() == self.params.t_cost()
                    && p.p_cost() == self.params.p_cost()
            });
        if same_params { Ok(Verified::Yes) } else { self.hash(password).map(Verified::YesRehashed) }
    }

    /// Spends the same work as a real verification, for unknown accounts, so
    /// response time does not reveal whether an account exists.
    pub fn verify_dummy(&self, password: &Password) {
        let _ = self.argon2().hash_password(password.expose().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pw: &str) -> Vec<PasswordViolation> {
        PasswordPolicy::default().check(&Password::new(pw.to_owned()), None)
    }

    #[test]
    fn a_good_password_passes() {
        assert_eq!(check("Correct-Horse7"), vec![]);
        assert_eq!(check("Zq8#wert"), vec![]);
    }

    #[test]
    fn each_rule_is_reported_on_its_own() {
        assert_eq!(check("Ab1!xyz"), vec![PasswordViolation::TooShort { min: 8 }]);
        assert_eq!(check("Klmnopq!"), vec![PasswordViolation::MissingDigit]);
        assert_eq!(check("KLMNOP1!"), vec![PasswordViolation::MissingLowercase]);
        assert_eq!(check("klmnop1!"), vec![PasswordViolation::MissingUppercase]);
        assert_eq!(
            check("Klmnopq1"),
            vec![PasswordViolation::MissingSpecial { allowed: "! @ # $ % & * ^ _ - +".into() }]
        );
        assert_eq!(check(&format!("Ab1!{}", "x".repeat(130))), vec![PasswordViolation::TooLong { max: 128 }]);
    }

    #[test]
    fn letters_outside_ascii_are_named() {
        assert_eq!(check("Pässword1!x"), vec![PasswordViolation::ForbiddenCharacter('ä')]);
        assert_eq!(
            check("Åäöü1!Abc"),
            vec![
                PasswordViolation::ForbiddenCharacter('Å'),
                PasswordViolation::ForbiddenCharacter('ä'),
                PasswordViolation::ForbiddenCharacter('ö'),
                PasswordViolation::ForbiddenCharacter('ü'),
            ]
        );
        // A space or a dot is not on the special-character list either.
        assert_eq!(check("Abc 1!defg"), vec![PasswordViolation::ForbiddenCharacter(' ')]);
    }

    #[test]
    fn combinations_report_every_failed_rule() {
        let v = check("abc");
        assert!(v.contains(&PasswordViolation::TooShort { min: 8 }));
        assert!(v.contains(&PasswordViolation::MissingDigit));
        assert!(v.contains(&PasswordViolation::MissingUppercase));
        assert!(v.contains(&PasswordViolation::MissingSpecial { allowed: "! @ # $ % & * ^ _ - +".into() }));
        assert!(!v.contains(&PasswordViolation::MissingLowercase));
        assert_eq!(check("ö").len(), 6);
    }

    #[test]
    fn common_passwords_are_refused_even_decorated() {
        assert_eq!(check("Password1!"), vec![PasswordViolation::Common]);
        assert_eq!(check("P@ssw0rd1"), vec![PasswordViolation::Common]);
        assert_eq!(check("Qwerty123!"), vec![PasswordViolation::Common]);
        assert_eq!(check("Welcome2024!"), vec![PasswordViolation::Common]);
    }

    #[test]
    fn the_email_local_part_is_refused() {
        let email = Email::parse("Johanna.Virtanen@example.com").unwrap();
        let policy = PasswordPolicy::default();
        let v = policy.check(&Password::new("xJohanna.Virtanen1!".into()), Some(&email));
        assert!(v.contains(&PasswordViolation::ContainsEmailLocalPart), "{v:?}");
        let ok = policy.check(&Password::new("Zq8#wert".into()), Some(&email));
        assert_eq!(ok, vec![]);
    }

    #[test]
    fn a_relaxed_policy_is_honoured() {
        let policy =
            PasswordPolicy { require_special: false, require_digit: false, min_length: 4, ..Default::default() };
        assert_eq!(policy.check(&Password::new("AbcdXy".into()), None), vec![]);
        assert!(!policy.rules().iter().any(|r| matches!(r, PasswordRule::Digit)));
    }

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
}
