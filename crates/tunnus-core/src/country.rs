//! Countries, as ISO 3166-1 alpha-2 codes.

use isocountry::CountryCode;

/// A valid ISO 3166-1 alpha-2 country code, uppercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(CountryCode);

impl Country {
    pub fn parse(code: &str) -> Option<Self> {
        let code = code.trim();
        if code.len() != 2 {
            return None;
        }
        CountryCode::for_alpha2_caseless(code).ok().map(Self)
    }

    pub fn code(&self) -> &'static str {
        self.0.alpha2()
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// Every country, sorted by English name, for the sign-up form.
    pub fn all() -> Vec<Self> {
        let mut all: Vec<Self> = CountryCode::iter().map(|c| Self(*c)).collect();
        all.sort_by_key(|c| c.name());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_case_insensitively() {
        assert_eq!(Country::parse("fi").map(|c| c.code()), Some("FI"));
        assert_eq!(Country::parse("DE").map(|c| c.name()), Some("Germany"));
        assert!(Country::parse("XX").is_none());
        assert!(Country::parse("FIN").is_none());
        assert!(Country::parse("").is_none());
        assert!(Country::all().len() > 200);
    }
}
