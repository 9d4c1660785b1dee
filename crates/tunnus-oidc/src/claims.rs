//! Which claims about a person a set of scopes releases (OIDC Core §5.4).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tunnus_core::User;
use tunnus_core::access::AccessRights;
use tunnus_core::scope::{EMAIL, ENTITLEMENTS, ORGANIZATION, PROFILE, Scopes};

/// Whom a grant's tokens are for and what they say of them, evaluated at
/// one moment: at the authorization for a code (which carries it to the
/// token endpoint), at the exchange itself for a refresh or a device code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSubject {
    pub user_id: String,
    /// The person's claims the scopes release, `sub` included: ID token only.
    pub person: Map<String, Value>,
    /// Their access rights as the scopes release them: both tokens.
    pub rights: Map<String, Value>,
}

impl TokenSubject {
    pub fn new(user: &User, rights: &AccessRights, scopes: &Scopes) -> Self {
        Self { user_id: user.id.to_string(), person: user_claims(user, scopes), rights: access_claims(rights, scopes) }
    }
}

/// Claims for `scopes`, for the ID token and userinfo. `sub` is always there.
pub fn user_claims(user: &User, scopes: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.id.as_str()));
    if scopes.contains(PROFILE) {
        claims.insert("name".into(), json!(user.display_name()));
        claims.insert("given_name".into(), json!(user.given_name));
        claims.insert("family_name".into(), json!(user.family_name));
        if let Some(lang) = &user.preferred_language {
            claims.insert("locale".into(), json!(lang));
        }
        claims.insert("updated_at".into(), json!(user.updated_at.unix_timestamp()));
    }
    if scopes.contains(EMAIL) {
        claims.insert("email".into(), json!(user.email.as_str()));
        claims.insert("email_verified".into(), json!(user.email_verified_at.is_some()));
    }
    claims
}

/// Access-rights claims for `scopes`: `org` and `groups` (scope
/// `organization`), `entitlements` (scope `entitlements`).
pub fn access_claims(rights: &AccessRights, scopes: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    if scopes.contains(ORGANIZATION) {
        claims.insert("org".into(), rights.org.as_ref().map_or(Value::Null, |o| json!(o)));
        claims.insert("groups".into(), json!(rights.groups));
    }
    if scopes.contains(ENTITLEMENTS) {
        claims.insert("entitlements".into(), json!(rights.entitlements));
    }
    claims
}

/// Every claim Tunnus can release (for discovery).
pub const SUPPORTED: [&str; 20] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "name",
    "given_name",
    "family_name",
    "locale",
    "email",
    "email_verified",
    "org",
    "groups",
    "entitlements",
];
