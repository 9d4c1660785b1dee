//! Invitations to an organization (as employee or external member) or to a
//! group, and the reading of a pasted list of addresses for a bulk invite.

use crate::email::{Email, EmailError};

/// What accepting an invitation makes of the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationKind {
    /// Employee: internal member (leaving any other internal organization).
    Internal,
    /// External member (e.g. subcontractor).
    External,
    /// Member of a group of the organization.
    Group,
}

impl InvitationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
            Self::Group => "group",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "internal" => Some(Self::Internal),
            "external" => Some(Self::External),
            "group" => Some(Self::Group),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
    Expired,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        [Self::Pending, Self::Accepted, Self::Declined, Self::Revoked, Self::Expired]
            .into_iter()
            .find(|s| s.as_str() == v)
    }
}

/// The outcome of reading a pasted list of addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InviteList {
    /// Valid, normalised, each once, in the order given.
    pub valid: Vec<Email>,
    /// Entries that are not addresses, with why.
    pub invalid: Vec<(String, EmailError)>,
    /// Addresses given more than once (after case folding); invited once.
    pub duplicates: Vec<String>,
}

/// Most addresses one bulk invitation takes.
pub const MAX_BULK: usize = 1000;

/// Reads addresses separated by commas, semicolons, whitespace or newlines.
pub fn parse_invite_list(text: &str) -> InviteList {
    let mut out = InviteList::default();
    for raw in text.split([',', ';', '\n', '\r', '\t', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
        // "Name <addr@example.com>" as pasted from a mail client.
        let candidate = raw.trim_start_matches('<').trim_end_matches('>');
        match Email::parse(candidate) {
            Ok(email) if out.valid.contains(&email) => {
                if !out.duplicates.contains(&email.to_string()) {
                    out.duplicates.push(email.to_string());
                }
            }
            Ok(email) => out.valid.push(email),
            Err(e) => out.invalid.push((raw.chars().take(100).collect(), e)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_reporting_each_problem() {
        let list =
            parse_invite_list("a@example.com, B@Example.com;\nnot-an-email\n<c@example.com>\tA@EXAMPLE.COM  x@y");
        let valid: Vec<&str> = list.valid.iter().map(Email::as_str).collect();
        assert_eq!(valid, vec!["a@example.com", "b@example.com", "c@example.com"]);
        assert_eq!(list.duplicates, vec!["a@example.com"]);
        assert_eq!(list.invalid.len(), 2);
        assert_eq!(list.invalid[0].0, "not-an-email");
        assert_eq!(list.invalid[1], ("x@y".to_owned(), EmailError::Domain));
    }

    #[test]
    fn five_hundred_addresses() {
        let mut text: Vec<String> = (0..495).map(|i| format!("person{i}@example.com")).collect();
        text.extend(["bad", "@x.com", "person1@example.com", "PERSON2@example.com", "y@z"].map(String::from));
        let list = parse_invite_list(&text.join("\n"));
        assert_eq!(list.valid.len(), 495);
        assert_eq!(list.invalid.len(), 3);
        assert_eq!(list.duplicates.len(), 2);
    }
}
