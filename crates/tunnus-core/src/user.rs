//! Identities.

use std::fmt;

use time::OffsetDateTime;

use crate::country::Country;
use crate::email::Email;

/// A random, time-ordered identifier (UUIDv7), stored as text.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn new_v7() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserId({})", self.0)
    }
}

/// Where an identity is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Created, email not yet proven; cannot sign in.
    Unverified,
    /// Email proven; may sign in.
    Active,
    /// Switched off by an operator; cannot sign in.
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unverified => "unverified",
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "unverified" => Some(Self::Unverified),
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// An identity as the rest of the system sees it.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub email_verified_at: Option<OffsetDateTime>,
    pub password_hash: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub country: Country,
    pub preferred_language: Option<String>,
    pub status: UserStatus,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Why a person may not sign in even with the right password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInRefusal {
    Unverified,
    Disabled,
    NoPassword,
}

impl User {
    /// Whether this identity may start a password sign-in at all.
    pub fn password_sign_in_allowed(&self) -> Result<&str, SignInRefusal> {
        match self.status {
            UserStatus::Unverified => Err(SignInRefusal::Unverified),
            UserStatus::Disabled => Err(SignInRefusal::Disabled),
            UserStatus::Active => self.password_hash.as_deref().ok_or(SignInRefusal::NoPassword),
        }
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}
