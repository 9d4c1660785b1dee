//! `[[upstreams]]`: upstream OpenID Connect providers people may sign in with.

use serde::{Deserialize, Serialize};

use super::{ConfigError, yes};

/// An upstream OpenID Connect provider (Tunnus is its relying party).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Short id in URLs and in stored links (`google`): letters, digits, `-`. Never change it.
    pub id: String,
    /// The button says "Sign in with {name}".
    pub name: String,
    /// The issuer; its `/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    /// Better set through the environment (`TUNNUS_UPSTREAMS__…` cannot index a
    /// list, so keep the file private or template it in).
    pub client_secret: String,
    #[serde(default = "upstream_scopes")]
    pub scopes: Vec<String>,
    /// Believe the upstream's `email_verified`. `false`: its addresses count as
    /// unverified, so nobody is created or linked by address from it.
    #[serde(default = "yes")]
    pub trust_email_verified: bool,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn upstream_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

impl UpstreamConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 40
            && self.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(ConfigError(format!("upstreams: id {:?}: lowercase letters, digits, - (1-40)", self.id)));
        }
        let url =
            url::Url::parse(&self.issuer).map_err(|e| ConfigError(format!("upstreams.{}: issuer: {e}", self.id)))?;
        let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(ConfigError(format!(
                "upstreams.{}: issuer must be https:// (http:// only for localhost)",
                self.id
            )));
        }
        if self.name.trim().is_empty() || self.client_id.is_empty() {
            return Err(ConfigError(format!("upstreams.{}: name and client_id are required", self.id)));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(ConfigError(format!("upstreams.{}: scopes must include openid", self.id)));
        }
        Ok(())
    }
}
