//! What a new password must look like.

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::secret::Password;

/// Common passwords refused outright, one per line, compared case-insensitively
/// with trailing digits and special characters stripped ("Password1!" → "password").
const COMMON_PASSWORDS: &str = include_str!("../../data/common-passwords.txt");

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
}
