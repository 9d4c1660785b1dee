//! Versioned legal documents a person accepts.

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermsKind {
    Terms,
    Privacy,
}

impl TermsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terms => "terms",
            Self::Privacy => "privacy",
        }
    }
}

/// A published version of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsDocument {
    pub kind: TermsKind,
    pub version: i32,
    pub url: String,
}
