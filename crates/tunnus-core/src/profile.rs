//! The mandatory profile data collected at sign-up, validated field by field
//! so the form can show each problem next to its field.

use crate::country::Country;
use crate::email::{Email, EmailError};

/// Longest name we store; longer input is refused, not truncated.
pub const MAX_NAME_CHARS: usize = 100;

/// A problem with one field of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    Email(EmailError),
    GivenNameMissing,
    FamilyNameMissing,
    NameTooLong,
    NameHasControlCharacters,
    CountryUnknown,
    TermsNotAccepted,
    PrivacyNotAccepted,
}

/// Sign-up input as typed (every field may be missing).
#[derive(Debug, Default, Clone)]
pub struct SignUpInput {
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub country: String,
    pub accept_terms: bool,
    pub accept_privacy: bool,
}

/// Sign-up data that passed every check.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
    pub country: Country,
}

impl SignUpInput {
    /// Either valid sign-up data, or every problem found.
    pub fn validate(&self) -> Result<SignUp, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let email = Email::parse(&self.email).map_err(|e| problems.push(FieldProblem::Email(e))).ok();
        let given_name = check_name(&self.given_name, FieldProblem::GivenNameMissing, &mut problems);
        let family_name = check_name(&self.family_name, FieldProblem::FamilyNameMissing, &mut problems);
        let country = Country::parse(&self.country);
        if country.is_none() {
            problems.push(FieldProblem::CountryUnknown);
        }
        if !self.accept_terms {
            problems.push(FieldProblem::TermsNotAccepted);
        }
        if !self.accept_privacy {
            problems.push(FieldProblem::PrivacyNotAccepted);
        }
        match (email, given_name, family_name, country) {
            (Some(email), Some(given_name), Some(family_name), Some(country)) if problems.is_empty() => {
                Ok(SignUp { email, given_name, family_name, country })
            }
            _ => Err(problems),
        }
    }
}

/// A trimmed, non-empty, bounded name without control characters.
pub fn check_name(raw: &str, missing: FieldProblem, problems: &mut Vec<FieldProblem>) -> Option<String> {
    let name = raw.trim();
    if name.is_empty() {
        problems.push(missing);
        None
    } else if name.chars().count() > MAX_NAME_CHARS {
        problems.push(FieldProblem::NameTooLong);
        None
    } else if name.chars().any(char::is_control) {
        problems.push(FieldProblem::NameHasControlCharacters);
        None
    } else {
        Some(name.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SignUpInput {
        SignUpInput {
            email: "Aino@Example.com".into(),
            given_name: " Aino ".into(),
            family_name: "Virtanen".into(),
            country: "fi".into(),
            accept_terms: true,
            accept_privacy: true,
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let s = input().validate().unwrap();
        assert_eq!(s.email.as_str(), "aino@example.com");
        assert_eq!(s.given_name, "Aino");
        assert_eq!(s.country.code(), "FI");
    }

    #[test]
    fn every_problem_is_reported() {
        let problems = SignUpInput::default().validate().unwrap_err();
        assert_eq!(
            problems,
            vec![
                FieldProblem::Email(EmailError::Empty),
                FieldProblem::GivenNameMissing,
                FieldProblem::FamilyNameMissing,
                FieldProblem::CountryUnknown,
                FieldProblem::TermsNotAccepted,
                FieldProblem::PrivacyNotAccepted,
            ]
        );
    }

    #[test]
    fn hostile_names_are_refused() {
        let mut i = input();
        i.given_name = "x".repeat(101);
        i.family_name = "a\u{0}b".into();
        let problems = i.validate().unwrap_err();
        assert_eq!(problems, vec![FieldProblem::NameTooLong, FieldProblem::NameHasControlCharacters]);
    }
}
