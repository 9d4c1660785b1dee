//! Accounts moving over from the legacy account system: the row both file
//! formats (CSV, JSON Lines) read into, the checks a row must pass on its
//! own, the reasons a row is skipped, and the report of an import run.
//! Checks that need the database (does the organization exist?) are made by
//! the import service with the same [`SkipReason`]s.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::access::{MembershipKind, Role};
use crate::country::Country;
use crate::email::Email;
use crate::legacy_hash::{self, LegacyHashError};
use crate::profile::MAX_NAME_CHARS;

/// Every column (CSV header / JSON key) the import reads; others are ignored.
pub const COLUMNS: &[&str] = &[
    "legacy_id",
    "email",
    "verified",
    "given_name",
    "family_name",
    "country",
    "language",
    "organization_id",
    "organization_name",
    "membership_kind",
    "role",
    "licenses",
    "password_hash",
    "password_scheme",
];

/// Columns a CSV file must have (a row may still leave them empty: it is then skipped).
pub const MANDATORY: &[&str] = &["legacy_id", "email", "verified", "given_name", "family_name", "country"];

/// One field as the file has it — text, number or boolean — kept as text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("text, a number or a boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Licenses: a JSON array of names, or one text with names separated by `;`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Licenses(pub Vec<String>);

impl Licenses {
    /// Names separated by `;` (`campus; warehouse:premium`), blanks left out.
    pub fn from_list(list: &str) -> Self {
        Licenses(list.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
    }
}

impl<'de> Deserialize<'de> for Licenses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Licenses;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of license names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Licenses, E> {
                Ok(Licenses::from_list(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Licenses, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    let name = name.trim();
                    if !name.is_empty() {
                        out.push(name.to_owned());
                    }
                }
                Ok(Licenses(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Licenses, E> {
                Ok(Licenses::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Licenses, E> {
                Ok(Licenses::default())
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Licenses, D2::Error> {
                d.deserialize_any(V)
            }
        }
        d.deserialize_any(V)
    }
}

/// One row of the legacy export, as read (anything may be missing).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LegacyRow {
    pub legacy_id: Option<Text>,
    pub email: Option<Text>,
    pub verified: Option<Text>,
    pub given_name: Option<Text>,
    pub family_name: Option<Text>,
    pub country: Option<Text>,
    pub language: Option<Text>,
    pub organization_id: Option<Text>,
    pub organization_name: Option<Text>,
    pub membership_kind: Option<Text>,
    pub role: Option<Text>,
    pub licenses: Licenses,
    pub password_hash: Option<Text>,
    pub password_scheme: Option<Text>,
}

fn field(value: &Option<Text>) -> Option<&str> {
    value.as_ref().map(|t| t.0.trim()).filter(|t| !t.is_empty())
}

impl LegacyRow {
    /// A row from fields that are all text (a CSV record): `value` gives
    /// the field of a column, if the file has it. Nothing is read as a
    /// number, so a legacy id `007` stays `007`.
    pub fn from_text<'a>(value: impl Fn(&str) -> Option<&'a str>) -> Self {
        let text = |column: &str| value(column).filter(|v| !v.is_empty()).map(|v| Text(v.to_owned()));
        Self {
            legacy_id: text("legacy_id"),
            email: text("email"),
            verified: text("verified"),
            given_name: text("given_name"),
            family_name: text("family_name"),
            country: text("country"),
            language: text("language"),
            organization_id: text("organization_id"),
            organization_name: text("organization_name"),
            membership_kind: text("membership_kind"),
            role: text("role"),
            licenses: value("licenses").map(Licenses::from_list).unwrap_or_default(),
            password_hash: text("password_hash"),
            password_scheme: text("password_scheme"),
        }
    }

    pub fn legacy_id(&self) -> Option<&str> {
        field(&self.legacy_id)
    }

    /// The address normalised, if it is one.
    pub fn email(&self) -> Option<Email> {
        field(&self.email).and_then(|e| Email::parse(e).ok())
    }
}

/// Why a row was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The line is not a readable CSV record / JSON object.
    Unreadable,
    /// A mandatory field is empty.
    MissingField,
    /// The email is not an address Tunnus accepts.
    InvalidEmail,
    /// A field has a value outside its domain (country, flag, kind, role, language, name).
    InvalidField,
    /// Another row of the file has the same legacy id.
    DuplicateLegacyId,
    /// Another row of the file has the same email (case-insensitive): neither is imported.
    DuplicateEmail,
    /// The password hash uses a scheme Tunnus cannot verify, or is malformed.
    UnsupportedHashScheme,
    /// The legacy account never verified its email; kept for linking later.
    Unverified,
    /// The organization is not in Tunnus.
    UnknownOrganization,
    /// A license names an entitlement not in the catalogue.
    UnknownLicense,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::MissingField => "missing_field",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidField => "invalid_field",
            Self::DuplicateLegacyId => "duplicate_legacy_id",
            Self::DuplicateEmail => "duplicate_email",
            Self::UnsupportedHashScheme => "unsupported_hash_scheme",
            Self::Unverified => "unverified",
            Self::UnknownOrganization => "unknown_organization",
            Self::UnknownLicense => "unknown_license",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        ALL_REASONS.iter().copied().find(|r| r.as_str() == value)
    }
}

const ALL_REASONS: [SkipReason; 10] = [
    SkipReason::Unreadable,
    SkipReason::MissingField,
    SkipReason::InvalidEmail,
    SkipReason::InvalidField,
    SkipReason::DuplicateLegacyId,
    SkipReason::DuplicateEmail,
    SkipReason::UnsupportedHashScheme,
    SkipReason::Unverified,
    SkipReason::UnknownOrganization,
    SkipReason::UnknownLicense,
];

/// A row left out, with what the operator needs to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skip {
    /// 1-based record number in the file (header not counted).
    pub record: u64,
    pub legacy_id: Option<String>,
    pub email: Option<String>,
    pub reason: SkipReason,
    pub detail: String,
}

/// Where an imported person belongs: an organization referred to by Tunnus
/// id or name, with the kind and role of the membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMembership {
    /// The organization id or name, as the file gives it.
    pub organization: String,
    pub kind: MembershipKind,
    pub role: Role,
}

/// A row that passed every check that needs no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAccount {
    pub legacy_id: String,
    pub email: Email,
    pub verified: bool,
    pub given_name: String,
    pub family_name: String,
    pub country: Country,
    /// A lowercase language tag (`fi`); pages fall back to English for one not offered.
    pub language: Option<String>,
    pub membership: Option<LegacyMembership>,
    pub licenses: Vec<String>,
    /// bcrypt or PHC PBKDF2-SHA256, as stored in `users.password_hash`.
    pub password_hash: Option<String>,
}

/// A row refused by [`LegacyRow::check`]: the reason and its explanation.
pub type Refusal = (SkipReason, String);

fn mandatory<'a>(value: &'a Option<Text>, name: &str) -> Result<&'a str, Refusal> {
    field(value).ok_or_else(|| (SkipReason::MissingField, format!("{name} is empty")))
}

fn flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

fn name(value: &str, column: &str) -> Result<String, Refusal> {
    if value.chars().count() > MAX_NAME_CHARS || value.chars().any(char::is_control) {
        return Err((SkipReason::InvalidField, format!("{column} is too long or has control characters")));
    }
    Ok(value.to_owned())
}

impl LegacyRow {
    /// Checks the row on its own; the file-wide checks (duplicates) and the
    /// database ones (organization, licenses) come after.
    pub fn check(&self) -> Result<LegacyAccount, Refusal> {
        let legacy_id = mandatory(&self.legacy_id, "legacy_id")?;
        let email = mandatory(&self.email, "email")?;
        let verified = mandatory(&self.verified, "verified")?;
        let given_name = mandatory(&self.given_name, "given_name")?;
        let family_name = mandatory(&self.family_name, "family_name")?;
        let country = mandatory(&self.country, "country")?;
        if legacy_id.chars().count() > 200 {
            return Err((SkipReason::InvalidField, "legacy_id is longer than 200 characters".into()));
        }
        let email = Email::parse(email).map_err(|e| (SkipReason::InvalidEmail, e.to_string()))?;
        let verified = flag(verified)
            .ok_or_else(|| (SkipReason::InvalidField, format!("verified: {verified:?} is not true or false")))?;
        let country = Country::parse(country)
            .ok_or_else(|| (SkipReason::InvalidField, format!("country: {country:?} is not an ISO 3166 code")))?;
        let language = match field(&self.language) {
            None => None,
            Some(l) if (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(l.to_ascii_lowercase())
            }
            Some(l) => return Err((SkipReason::InvalidField, format!("language: {l:?} is not a language code"))),
        };
        let membership = self.membership()?;
        let password_hash = match field(&self.password_hash) {
            None => None,
            Some(hash) => Some(legacy_hash::normalise(field(&self.password_scheme), hash).map_err(|e| {
                let scheme = field(&self.password_scheme).unwrap_or("(from the hash)");
                match e {
                    LegacyHashError::UnsupportedScheme => {
                        (SkipReason::UnsupportedHashScheme, format!("password_scheme {scheme} is not supported"))
                    }
                    _ => (SkipReason::UnsupportedHashScheme, format!("password_hash is not a valid {scheme} hash")),
                }
            })?),
        };
        Ok(LegacyAccount {
            legacy_id: legacy_id.to_owned(),
            email,
            verified,
            given_name: name(given_name, "given_name")?,
            family_name: name(family_name, "family_name")?,
            country,
            language,
            membership,
            licenses: self.licenses.0.clone(),
            password_hash,
        })
    }

    fn membership(&self) -> Result<Option<LegacyMembership>, Refusal> {
        let organization = field(&self.organization_id).or(field(&self.organization_name));
        let kind = field(&self.membership_kind).map(str::to_ascii_lowercase);
        let role = field(&self.role).map(str::to_ascii_lowercase);
        let Some(organization) = organization else {
            if kind.is_some() || role.is_some() {
                return Err((SkipReason::MissingField, "membership_kind or role without an organization".into()));
            }
            return Ok(None);
        };
        let kind = match kind.as_deref() {
            None => MembershipKind::Internal,
            Some(k) => MembershipKind::parse(k).ok_or_else(|| {
                (SkipReason::InvalidField, format!("membership_kind: {k:?} is not internal or external"))
            })?,
        };
        let role = match role.as_deref() {
            None => Role::Member,
            Some(r) => Role::parse(r)
                .ok_or_else(|| (SkipReason::InvalidField, format!("role: {r:?} is not member or admin")))?,
        };
        Ok(Some(LegacyMembership { organization: organization.to_owned(), kind, role }))
    }
}

/// A merge that could not carry everything over without breaking a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub legacy_id: String,
    pub email: String,
    pub detail: String,
}

/// A legacy account imported as a new identity while an earlier identity
/// with another email looks like the same person: both are kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptSeparate {
    pub legacy_id: String,
    pub legacy_email: String,
    pub identity_email: String,
}

/// What one import run did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub records: u64,
    /// New identities.
    pub created: u64,
    /// Legacy accounts merged into an existing identity with the same email.
    pub merged: u64,
    /// Rows already imported by an earlier run (nothing done).
    pub already_imported: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Skipped rows whose reason this run stored (new, or changed since an
    /// earlier run); 0 on a rerun over unchanged data.
    pub skips_recorded: u64,
    pub emails_queued: u64,
    pub skips: Vec<Skip>,
    pub conflicts: Vec<Conflict>,
    pub kept_separate: Vec<KeptSeparate>,
}

impl ImportReport {
    /// Adds what a part of the run (one batch) did.
    pub fn absorb(&mut self, part: ImportReport) {
        self.records += part.records;
        self.created += part.created;
        self.merged += part.merged;
        self.already_imported += part.already_imported;
        self.skips_recorded += part.skips_recorded;
        self.emails_queued += part.emails_queued;
        for (reason, n) in part.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        self.skips.extend(part.skips);
        self.conflicts.extend(part.conflicts);
        self.kept_separate.extend(part.kept_separate);
    }

    pub fn skip(&mut self, skip: Skip) {
        *self.skipped.entry(skip.reason).or_default() += 1;
        self.skips.push(skip);
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Whether the run changed nothing that an earlier run had not already done.
    pub fn nothing_changed(&self) -> bool {
        self.created == 0 && self.merged == 0 && self.skips_recorded == 0
    }

    /// The human summary printed at the end and written next to the JSON.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run { "Dry run (nothing stored): would have" } else { "Import" };
        out.push_str(&format!("{verb} read {} record(s).\n", self.records));
        out.push_str(&format!("  created:          {}\n", self.created));
        out.push_str(&format!("  merged:           {}\n", self.merged));
        out.push_str(&format!("  already imported: {}\n", self.already_imported));
        out.push_str(&format!("  skipped:          {}\n", self.skipped_total()));
        for (reason, n) in &self.skipped {
            out.push_str(&format!("    {:<24}{n}\n", reason.as_str()));
        }
        out.push_str(&format!("  emails queued:    {}\n", self.emails_queued));
        if !self.conflicts.is_empty() {
            out.push_str(&format!(
                "  conflicts:        {} (merged without the conflicting part)\n",
                self.conflicts.len()
            ));
        }
        if !self.kept_separate.is_empty() {
            out.push_str(&format!(
                "  kept separate:    {} (an earlier identity with another email has the same name)\n",
                self.kept_separate.len()
            ));
        }
        if self.nothing_changed() {
            out.push_str("Nothing changed: every record was imported or skipped by an earlier run.\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> LegacyRow {
        let mut map = serde_json::Map::new();
        for (k, v) in pairs {
            map.insert((*k).to_owned(), serde_json::Value::String((*v).to_owned()));
        }
        serde_json::from_value(serde_json::Value::Object(map)).unwrap()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("legacy_id", "L-1"),
            ("email", " Aino@Example.COM "),
            ("verified", "yes"),
            ("given_name", "Aino"),
            ("family_name", "Virtanen"),
            ("country", "fi"),
        ]
    }

    fn with(extra: &[(&'static str, &'static str)]) -> LegacyRow {
        let mut pairs = good();
        for (k, v) in extra {
            pairs.retain(|(key, _)| key != k);
            pairs.push((k, v));
        }
        row(&pairs)
    }

    fn reason(r: LegacyRow) -> SkipReason {
        r.check().unwrap_err().0
    }

    #[test]
    fn a_complete_row_is_accepted_and_normalised() {
        let a = with(&[("organization_name", "Acme"), ("role", "Admin"), ("language", "FI")]).check().unwrap();
        assert_eq!(a.email.as_str(), "aino@example.com");
        assert!(a.verified);
        assert_eq!(a.country.code(), "FI");
        assert_eq!(a.language.as_deref(), Some("fi"));
        let m = a.membership.unwrap();
        assert_eq!((m.organization.as_str(), m.kind, m.role), ("Acme", MembershipKind::Internal, Role::Admin));
    }

    #[test]
    fn json_types_and_license_lists_are_read() {
        let r: LegacyRow = serde_json::from_str(
            r#"{"legacy_id": 17, "email": "a@example.com", "verified": false, "given_name": "A",
                "family_name": "B", "country": "DE", "licenses": ["campus", " model-sharing "], "extra": 1}"#,
        )
        .unwrap();
        let a = r.check().unwrap();
        assert_eq!(a.legacy_id, "17");
        assert!(!a.verified);
        assert_eq!(a.licenses, vec!["campus", "model-sharing"]);
        let r: LegacyRow = serde_json::from_str(r#"{"licenses": "campus; warehouse:premium;"}"#).unwrap();
        assert_eq!(r.licenses.0, vec!["campus", "warehouse:premium"]);
    }

    #[test]
    fn text_fields_stay_text() {
        let fields = [("legacy_id", "007"), ("email", "a@example.com"), ("verified", "1"), ("licenses", "campus; ;x")];
        let r = LegacyRow::from_text(|name| fields.iter().find(|(k, _)| *k == name).map(|(_, v)| *v));
        assert_eq!(r.legacy_id(), Some("007"));
        assert_eq!(r.licenses.0, vec!["campus", "x"]);
        assert!(r.given_name.is_none() && r.language.is_none());
    }

    #[test]
    fn each_problem_has_its_reason() {
        assert_eq!(reason(with(&[("legacy_id", " ")])), SkipReason::MissingField);
        assert_eq!(reason(with(&[("given_name", "")])), SkipReason::MissingField);
        assert_eq!(reason(with(&[("email", "not-an-email")])), SkipReason::InvalidEmail);
        assert_eq!(reason(with(&[("verified", "maybe")])), SkipReason::InvalidField);
        assert_eq!(reason(with(&[("country", "XX")])), SkipReason::InvalidField);
        assert_eq!(reason(with(&[("language", "fi-FI")])), SkipReason::InvalidField);
        assert_eq!(reason(with(&[("organization_name", "Acme"), ("role", "boss")])), SkipReason::InvalidField);
        assert_eq!(reason(with(&[("role", "admin")])), SkipReason::MissingField);
        assert_eq!(
            reason(with(&[("password_hash", "abc"), ("password_scheme", "md5")])),
            SkipReason::UnsupportedHashScheme
        );
        assert_eq!(reason(with(&[("password_hash", "$2b$10$tooshort")])), SkipReason::UnsupportedHashScheme);
    }

    #[test]
    fn reasons_round_trip_through_their_names() {
        for r in ALL_REASONS {
            assert_eq!(SkipReason::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn the_summary_says_when_nothing_changed() {
        let mut report = ImportReport { records: 2, already_imported: 1, ..Default::default() };
        report.skip(Skip {
            record: 2,
            legacy_id: None,
            email: None,
            reason: SkipReason::Unverified,
            detail: "".into(),
        });
        assert!(report.summary().contains("Nothing changed"), "{}", report.summary());
        report.skips_recorded = 1;
        assert!(!report.summary().contains("Nothing changed"));
        report.skips_recorded = 0;
        report.created = 1;
        assert!(!report.summary().contains("Nothing changed"));
    }
}
