//! Versioned legal documents a person accepts.

use time::OffsetDateTime;

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

impl TermsKind {
    /// Every kind, in the order a person is asked to accept them.
    pub const ALL: [Self; 2] = [Self::Terms, Self::Privacy];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A version of a document and the moment it takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTerms {
    pub document: TermsDocument,
    pub effective_at: OffsetDateTime,
}

/// Where a person stands with the documents from a moment on: of each kind,
/// the version in effect then and every version scheduled after it, each
/// with whether the person accepted it. It answers what is outstanding at
/// that moment or any later one, so it can be kept and asked again without
/// reading anything (until a version is published or the person accepts one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TermsStanding {
    /// Newest version first within a kind.
    versions: Vec<(PublishedTerms, bool)>,
}

impl TermsStanding {
    /// From every published version and the `(kind, version)` pairs the
    /// person accepted, as of `now`: versions superseded by then are left out.
    pub fn new(mut published: Vec<PublishedTerms>, accepted: &[(TermsKind, i32)], now: OffsetDateTime) -> Self {
        published.sort_by(|a, b| {
            (a.document.kind as u8).cmp(&(b.document.kind as u8)).then(b.document.version.cmp(&a.document.version))
        });
        let mut versions = Vec::new();
        let mut in_effect_seen: Vec<TermsKind> = Vec::new();
        for p in published {
            let kind = p.document.kind;
            if in_effect_seen.contains(&kind) {
                // A lower version than the one in effect now can never be the current one again.
                continue;
            }
            if p.effective_at <= now {
                in_effect_seen.push(kind);
            }
            let taken = accepted.contains(&(kind, p.document.version));
            versions.push((p, taken));
        }
        Self { versions }
    }

    /// The version of each document in effect at `now` that the person has
    /// not accepted, terms before privacy: what must be accepted before
    /// entering a service. `now` is no earlier than the moment given to [`TermsStanding::new`].
    pub fn outstanding(&self, now: OffsetDateTime) -> Vec<TermsDocument> {
        TermsKind::ALL
            .into_iter()
            .filter_map(|kind| {
                // Newest first: the first in effect is the current version.
                self.versions.iter().find(|(p, _)| p.document.kind == kind && p.effective_at <= now)
            })
            .filter(|(_, taken)| !taken)
            .map(|(p, _)| p.document.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;

    fn version(kind: TermsKind, version: i32, effective_at: OffsetDateTime) -> PublishedTerms {
        PublishedTerms {
            document: TermsDocument { kind, version, url: format!("/legal/{}/{version}", kind.as_str()) },
            effective_at,
        }
    }

    #[test]
    fn the_current_version_of_each_document_is_due_until_accepted() {
        let now = datetime!(2026-12-06 12:00 UTC);
        let published = vec![
            version(TermsKind::Privacy, 1, now - Duration::days(30)),
            version(TermsKind::Terms, 1, now - Duration::days(30)),
            version(TermsKind::Terms, 2, now - Duration::days(1)),
            version(TermsKind::Terms, 3, now + Duration::days(1)),
        ];
        let standing = TermsStanding::new(published.clone(), &[(TermsKind::Terms, 1), (TermsKind::Privacy, 1)], now);
        let due = standing.outstanding(now);
        assert_eq!(due.iter().map(|d| (d.kind, d.version)).collect::<Vec<_>>(), [(TermsKind::Terms, 2)]);
        // Version 3 takes effect tomorrow without anything being read again.
        let due = standing.outstanding(now + Duration::days(2));
        assert_eq!(due.iter().map(|d| (d.kind, d.version)).collect::<Vec<_>>(), [(TermsKind::Terms, 3)]);
        // Accepting an old version does not cover the current one.
        let nothing = TermsStanding::new(published.clone(), &[], now);
        let due = nothing.outstanding(now);
        assert_eq!(
            due.iter().map(|d| (d.kind, d.version)).collect::<Vec<_>>(),
            [(TermsKind::Terms, 2), (TermsKind::Privacy, 1)]
        );
        let all = TermsStanding::new(
            published,
            &[(TermsKind::Terms, 2), (TermsKind::Terms, 3), (TermsKind::Privacy, 1)],
            now,
        );
        assert!(all.outstanding(now).is_empty() && all.outstanding(now + Duration::days(2)).is_empty());
    }

    #[test]
    fn superseded_versions_are_not_kept() {
        let now = datetime!(2026-12-06 12:00 UTC);
        let published = (1..=10).map(|v| version(TermsKind::Terms, v, now - Duration::days(100 - i64::from(v))));
        let standing = TermsStanding::new(published.collect(), &[], now);
        assert_eq!(standing.versions.len(), 1, "only the version in effect can be due later");
        assert_eq!(standing.outstanding(now)[0].version, 10);
        assert!(TermsStanding::default().outstanding(now).is_empty(), "nothing published, nothing due");
    }
}
