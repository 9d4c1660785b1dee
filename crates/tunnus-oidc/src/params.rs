//! Request parameters as received: a list of name/value pairs, screened for
//! the problems RFC 6749 names (duplicates, oversized values) before any
//! parameter is read.

use std::collections::HashMap;

use crate::error::{OAuthError, OAuthResult};

/// Longest value accepted for ordinary parameters; assertions and ID-token
/// hints get more room.
const MAX_VALUE: usize = 2048;
const MAX_JWT_VALUE: usize = 8192;

/// Screened parameters.
#[derive(Debug, Clone, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parameters must not repeat (RFC 6749 §3.1) and must be of sane size.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> OAuthResult<Self> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            let limit = if matches!(name.as_str(), "client_assertion" | "id_token_hint" | "logout_token") {
                MAX_JWT_VALUE
            } else {
                MAX_VALUE
            };
            if value.len() > limit || name.len() > 100 {
                return Err(OAuthError::invalid_request(format!("parameter {name} is too long")));
            }
            if map.insert(name.clone(), value).is_some() {
                return Err(OAuthError::invalid_request(format!("parameter {name} is repeated")));
            }
        }
        Ok(Self(map))
    }

    /// A parameter; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> OAuthResult<&str> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
    }

    /// Every pair, for carrying a request across a sign-in.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut v: Vec<_> = self.0.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn duplicates_and_oversized_values_are_refused() {
        assert!(Params::from_pairs(pairs(&[("a", "1"), ("a", "2")])).is_err());
        assert!(Params::from_pairs(pairs(&[("state", &"x".repeat(3000))])).is_err());
        assert!(Params::from_pairs(pairs(&[("client_assertion", &"x".repeat(3000))])).is_ok());
        let p = Params::from_pairs(pairs(&[("a", ""), ("b", "x")])).unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.require("b").unwrap(), "x");
        assert_eq!(p.require("c").unwrap_err().code, crate::ErrorCode::InvalidRequest);
    }
}
