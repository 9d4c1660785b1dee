//! Profile data: the mandatory part collected at sign-up and the optional
//! details edited later, validated field by field so the form can show each
//! problem next to its field.

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
    JobTitleInvalid,
    PhoneInvalid,
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

/// Longest job title we store.
pub const MAX_JOB_TITLE_CHARS: usize = 100;

/// The editable profile, as typed on the profile page.
#[derive(Debug, Default, Clone)]
pub struct DetailsInput {
    pub given_name: String,
    pub family_name: String,
    pub country: String,
    pub job_title: String,
    pub phone: String,
}

/// Profile details that passed every check. Optional fields left empty are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Details {
    pub given_name: String,
    pub family_name: String,
    pub country: Country,
    pub job_title: Option<String>,
    /// Normalised: a leading `+` and digits only.
    pub phone: Option<String>,
}

impl DetailsInput {
    pub fn validate(&self) -> Result<Details, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let given_name = check_name(&self.given_name, FieldProblem::GivenNameMissing, &mut problems);
        let family_name = check_name(&self.family_name, FieldProblem::FamilyNameMissing, &mut problems);
        let country = Country::parse(&self.country);
        if country.is_none() {
            problems.push(FieldProblem::CountryUnknown);
        }
        let job_title = self.job_title.trim();
        if job_title.chars().count() > MAX_JOB_TITLE_CHARS || job_title.chars().any(char::is_control) {
            problems.push(FieldProblem::JobTitleInvalid);
        }
        let phone = match self.phone.trim() {
            "" => None,
            raw => normalise_phone(raw).or_else(|| {
                problems.push(FieldProblem::PhoneInvalid);
                None
            }),
        };
        match (given_name, family_name, country) {
            (Some(given_name), Some(family_name), Some(country)) if problems.is_empty() => Ok(Details {
                given_name,
                family_name,
                country,
                job_title: (!job_title.is_empty()).then(|| job_title.to_owned()),
                phone,
            }),
            _ => Err(problems),
        }
    }
}

/// An international phone number as people type it (`+358 40 123 4567`,
/// `+1 (555) 010-9999`) reduced to E.164: `+` and 7–15 digits. Numbers
/// without a country code are refused, because the country on the profile
/// need not be where the phone is.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix('+')?;
    let mut digits = String::with_capacity(16);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    ((7..=15).contains(&digits.len()) && !digits.starts_with('0')).then(|| format!("+{digits}"))
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

    fn details() -> DetailsInput {
        DetailsInput {
            given_name: "Aino".into(),
            family_name: "Virtanen".into(),
            country: "FI".into(),
            job_title: "  Designer ".into(),
            phone: "+358 (40) 123-4567".into(),
        }
    }

    #[test]
    fn details_are_normalised_and_optional_fields_may_be_empty() {
        let d = details().validate().unwrap();
        assert_eq!(d.job_title.as_deref(), Some("Designer"));
        assert_eq!(d.phone.as_deref(), Some("+358401234567"));
        let d = DetailsInput { job_title: " ".into(), phone: "".into(), ..details() }.validate().unwrap();
        assert_eq!((d.job_title, d.phone), (None, None));
    }

    #[test]
    fn bad_details_are_named() {
        for phone in
            ["040 123 4567", "+0 123 4567", "+358 40 123 4567 ext 5", "+123", "+1234567890123456", "+358\n401234"]
        {
            let problems = DetailsInput { phone: phone.into(), ..details() }.validate().unwrap_err();
            assert_eq!(problems, vec![FieldProblem::PhoneInvalid], "{phone}");
        }
        let problems =
            DetailsInput { job_title: "x".repeat(101), given_name: "".into(), country: "XX".into(), ..details() }
                .validate()
                .unwrap_err();
        assert_eq!(
            problems,
            vec![FieldProblem::GivenNameMissing, FieldProblem::CountryUnknown, FieldProblem::JobTitleInvalid]
        );
        let problems = DetailsInput { job_title: "Boss\u{7}".into(), ..details() }.validate().unwrap_err();
        assert_eq!(problems, vec![FieldProblem::JobTitleInvalid]);
    }

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
