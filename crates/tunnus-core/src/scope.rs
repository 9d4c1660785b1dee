//! Scopes and the claims they release.

use std::collections::BTreeSet;

/// Scopes Tunnus understands.
pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
pub const OFFLINE_ACCESS: &str = "offline_access";
/// Releases the `org` and `groups` claims.
pub const ORGANIZATION: &str = "organization";
/// Releases the `entitlements` claim.
pub const ENTITLEMENTS: &str = "entitlements";

/// A set of scopes, kept in a stable order for tokens and storage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

/// Why a `scope` parameter is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// Not the RFC 6749 §3.3 syntax (printable ASCII without `"` and `\`, space-separated).
    Malformed,
    /// Names scopes the client may not have (strict clients only).
    NotAllowed(Vec<String>),
}

impl Scopes {
    pub fn parse(value: &str) -> Result<Self, ScopeError> {
        let mut set = BTreeSet::new();
        for s in value.split(' ').filter(|s| !s.is_empty()) {
            if s.len() > 100 || !s.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\') {
                return Err(ScopeError::Malformed);
            }
            set.insert(s.to_owned());
        }
        Ok(Self(set))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Keeps the scopes `allowed` (plus `openid`): drops the others, or
    /// refuses them when `strict`.
    pub fn restrict_to(&self, allowed: &[String], strict: bool) -> Result<Self, ScopeError> {
        let ok = |s: &str| s == OPENID || allowed.iter().any(|a| a == s);
        let refused: Vec<String> = self.0.iter().filter(|s| !ok(s)).cloned().collect();
        if strict && !refused.is_empty() {
            return Err(ScopeError::NotAllowed(refused));
        }
        Ok(Self(self.0.iter().filter(|s| ok(s)).cloned().collect()))
    }

    /// Whether every scope here is also in `other` (a refresh may narrow, never widen).
    pub fn is_subset(&self, other: &Scopes) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Space-separated, sorted.
    pub fn to_param(&self) -> String {
        self.0.iter().cloned().collect::<Vec<_>>().join(" ")
    }
}

impl<S: Into<String>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_restrict_and_print() {
        let s = Scopes::parse("openid  email profile unknown").unwrap();
        assert_eq!(s.to_param(), "email openid profile unknown");
        let allowed = vec!["email".to_owned(), "profile".to_owned()];
        assert_eq!(s.restrict_to(&allowed, false).unwrap().to_param(), "email openid profile");
        assert_eq!(s.restrict_to(&allowed, true), Err(ScopeError::NotAllowed(vec!["unknown".into()])));
        assert_eq!(Scopes::parse("a\"b"), Err(ScopeError::Malformed));
        assert_eq!(Scopes::parse("é"), Err(ScopeError::Malformed));
        assert!(Scopes::parse("openid").unwrap().is_subset(&s));
    }
}
