//! Email addresses: validated and normalised to lowercase on construction, so
//! two spellings of one address can never become two identities.

use std::fmt;

/// RFC 5321 limits: 64 octets of local part, 254 for the whole path.
const MAX_LOCAL: usize = 64;
const MAX_TOTAL: usize = 254;

/// A syntactically valid, lowercase email address.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

/// Why a text is not an email address we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmailError {
    /// Nothing was entered.
    #[error("enter an email address")]
    Empty,
    /// Longer than 254 characters, or a local part longer than 64.
    #[error("the email address is too long")]
    TooLong,
    /// No `@`, or more than one.
    #[error("an email address has the form name@example.com")]
    Shape,
    /// The part before `@` has a character or dot placement we do not accept.
    #[error("the part before @ is not valid")]
    LocalPart,
    /// The part after `@` is not a domain name with at least one dot.
    #[error("the part after @ is not a valid domain")]
    Domain,
}

impl Email {
    /// Parses user input: surrounding whitespace is ignored, case is folded.
    ///
    /// Deliberately stricter than RFC 5322 (no quoted local parts, no
    /// comments, no IP literals, ASCII only): these are addresses people
    /// type into a sign-up form, and everything accepted must be deliverable
    /// through ordinary SMTP and unambiguous when compared.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > MAX_TOTAL {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = match trimmed.split_once('@') {
            Some((l, d)) if !d.contains('@') => (l, d),
            _ => return Err(EmailError::Shape),
        };
        if local.len() > MAX_LOCAL {
            return Err(EmailError::TooLong);
        }
        if !valid_local(local) {
            return Err(EmailError::LocalPart);
        }
        if !valid_domain(domain) {
            return Err(EmailError::Domain);
        }
        Ok(Self(trimmed.to_ascii_lowercase()))
    }

    /// Rebuilds an address already normalised by `parse` (e.g. read back
    /// from the database).
    pub fn from_trusted(normalised: String) -> Self {
        Self(normalised)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`; the password policy refuses passwords containing it.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or(self.0.as_str(), |(l, _)| l)
    }
}

fn valid_local(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-.";
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_variants_are_one_address() {
        let a = Email::parse("MyEmailAddress@mydomain.com").unwrap();
        let b = Email::parse("myemailaddress@MYDOMAIN.com").unwrap();
        let c = Email::parse("  MYEMAILADDRESS@mydomain.com ").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.as_str(), "myemailaddress@mydomain.com");
        assert_eq!(a.local_part(), "myemailaddress");
    }

    #[test]
    fn refuses_malformed_addresses_with_a_reason() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        assert_eq!(Email::parse("plainaddress"), Err(EmailError::Shape));
        assert_eq!(Email::parse("a@b@c.com"), Err(EmailError::Shape));
        assert_eq!(Email::parse("@example.com"), Err(EmailError::LocalPart));
        assert_eq!(Email::parse(".a@example.com"), Err(EmailError::LocalPart));
        assert_eq!(Email::parse("a..b@example.com"), Err(EmailError::LocalPart));
        assert_eq!(Email::parse("a b@example.com"), Err(EmailError::LocalPart));
        assert_eq!(Email::parse("\"a\"@example.com"), Err(EmailError::LocalPart));
        assert_eq!(Email::parse("jörg@example.com"), Err(EmailError::LocalPart));
        assert_eq!(Email::parse("a@localhost"), Err(EmailError::Domain));
        assert_eq!(Email::parse("a@-x.com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("a@x..com"), Err(EmailError::Domain));
        assert_eq!(Email::parse("a@1.2.3.4"), Err(EmailError::Domain));
        assert_eq!(Email::parse("a@exa mple.com"), Err(EmailError::Domain));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::TooLong));
        let long_total = format!("a@{}.com", "b".repeat(260));
        assert_eq!(Email::parse(&long_total), Err(EmailError::TooLong));
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in ["a@example.com", "first.last+tag@sub.example.co.uk", "o'neil@x-y.fi", "1@2.io"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent_and_lowercase(local in "[A-Za-z0-9]{1,20}", domain in "[A-Za-z]{1,10}") {
            let input = format!("{local}@{domain}.Com");
            let once = Email::parse(&input).unwrap();
            let twice = Email::parse(once.as_str()).unwrap();
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(once.as_str(), input.to_ascii_lowercase());
        }

        #[test]
        fn never_panics(input in "\\PC{0,300}") {
            let _ = Email::parse(&input);
        }
    }
}
