//! Relying parties ("clients") as registered with Tunnus, and the rules a
//! request from one must satisfy: exact redirect URIs, allowed grants and
//! scopes, PKCE for public clients.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A registered client's identifier.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// Client ids are short printable ASCII (they appear in URLs and logs).
    pub fn parse(value: &str) -> Option<Self> {
        let ok = !value.is_empty()
            && value.len() <= 100
            && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        ok.then(|| Self(value.to_owned()))
    }

    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

/// Whether a client can keep a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// A browser or native app: no secret, PKCE required.
    Public,
    /// A server-side app with a secret or a key.
    Confidential,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Confidential => "confidential",
        }
    }
}

/// OAuth grant types a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    #[serde(rename = "authorization_code")]
    AuthorizationCode,
    #[serde(rename = "refresh_token")]
    RefreshToken,
    #[serde(rename = "client_credentials")]
    ClientCredentials,
    /// RFC 8628 device authorization grant.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials, Self::DeviceCode]
            .into_iter()
            .find(|g| g.as_str() == value)
    }
}

/// JWS algorithms Tunnus signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlg {
    RS256,
    ES256,
    EdDSA,
}

impl SigningAlg {
    pub const ALL: [SigningAlg; 3] = [Self::RS256, Self::ES256, Self::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// How a client proves its identity at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuth {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl TokenEndpointAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Self::ClientSecretBasic, Self::ClientSecretPost, Self::PrivateKeyJwt, Self::None]
            .into_iter()
            .find(|a| a.as_str() == value)
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub kind: ClientKind,
    /// Keyed hash of the secret (confidential clients using a secret).
    pub secret_hash: Option<String>,
    pub auth_method: TokenEndpointAuth,
    /// Public JWK Set for `private_key_jwt`.
    pub jwks: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    pub grant_types: Vec<GrantType>,
    /// Scopes this client may ask for (besides `openid`).
    pub scopes: Vec<String>,
    /// Refuse requests naming scopes outside `scopes` (otherwise they are dropped).
    pub strict_scopes: bool,
    /// Part of the same product: no consent page.
    pub first_party: bool,
    pub id_token_alg: SigningAlg,
    /// Only people holding this entitlement may sign in to this client.
    pub required_entitlement: Option<String>,
    /// Accepts people who can sign in only through an upstream identity
    /// provider (no password of their own). `false`: they are asked to set one.
    pub accepts_federated_only: bool,
    pub created_at: OffsetDateTime,
}

impl Client {
    /// Exact string comparison (RFC 9700 §4.1.3): no prefixes, no
    /// normalisation, no wildcards — with the one exception RFC 8252 §7.3
    /// requires for native apps: a loopback IP literal (`127.0.0.1`, `[::1]`)
    /// matches on any port, everything else still exactly.
    pub fn redirect_uri_registered(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|r| r == uri || loopback_without_port(r).is_some_and(|r| Some(r) == loopback_without_port(uri)))
    }

    pub fn post_logout_uri_registered(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// PKCE is mandatory for public clients (RFC 9700 §2.1.1).
    pub fn requires_pkce(&self) -> bool {
        self.kind == ClientKind::Public
    }
}

/// `http://127.0.0.1:PORT/rest` → `http://127.0.0.1/rest` (and `[::1]` alike);
/// `None` for anything that is not an http loopback IP literal.
fn loopback_without_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let (host, tail) = if let Some(after) = rest.strip_prefix("[::1]") {
        ("[::1]", after)
    } else {
        ("127.0.0.1", rest.strip_prefix("127.0.0.1")?)
    };
    let tail = match tail.strip_prefix(':') {
        Some(port_and_path) => {
            let digits = port_and_path.find(|c: char| !c.is_ascii_digit()).unwrap_or(port_and_path.len());
            if digits == 0 || digits > 5 {
                return None;
            }
            &port_and_path[digits..]
        }
        None => tail,
    };
    (tail.is_empty() || tail.starts_with('/') || tail.starts_with('?')).then(|| format!("http://{host}{tail}"))
}

/// Checks a redirect URI given at registration: absolute, no fragment,
/// https except for loopback/localhost development, or a private-use scheme.
pub fn valid_registration_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once("://") else {
        // Private-use scheme for native apps: com.example.app:/callback
        return uri.split_once(":/").is_some_and(|(s, _)| {
            s.contains('.') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        });
    };
    if uri.contains('#')
        || rest.is_empty()
        || uri.len() > 2000
        || uri.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host_name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    match scheme {
        "https" => !host_name.is_empty(),
        "http" => matches!(host_name, "localhost" | "127.0.0.1" | "[::1]"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            id: ClientId::parse("campus").unwrap(),
            name: "Campus".into(),
            kind: ClientKind::Confidential,
            secret_hash: None,
            auth_method: TokenEndpointAuth::ClientSecretBasic,
            jwks: None,
            redirect_uris: vec!["https://campus.example.com/callback".into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: vec!["profile".into()],
            strict_scopes: false,
            first_party: true,
            id_token_alg: SigningAlg::RS256,
            required_entitlement: None,
            accepts_federated_only: true,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let c = client();
        assert!(c.redirect_uri_registered("https://campus.example.com/callback"));
        for near in [
            "https://campus.example.com/callback/",
            "https://campus.example.com/callback?x=1",
            "https://campus.example.com/callbac",
            "https://campus.example.com/callback/../evil",
            "HTTPS://campus.example.com/callback",
            "https://campus.example.com.evil.com/callback",
        ] {
            assert!(!c.redirect_uri_registered(near), "{near}");
        }
    }

    #[test]
    fn loopback_redirects_match_on_any_port_only() {
        let mut c = client();
        c.redirect_uris =
            vec!["http://127.0.0.1/callback".into(), "http://[::1]/cb".into(), "http://localhost:8080/cb".into()];
        assert!(c.redirect_uri_registered("http://127.0.0.1:53211/callback"));
        assert!(c.redirect_uri_registered("http://127.0.0.1/callback"));
        assert!(c.redirect_uri_registered("http://[::1]:9/cb"));
        assert!(!c.redirect_uri_registered("http://127.0.0.1:53211/callback/x"), "the path stays exact");
        assert!(!c.redirect_uri_registered("http://127.0.0.1:53211@evil.example/callback"));
        assert!(!c.redirect_uri_registered("http://127.0.0.1.evil.example/callback"));
        assert!(!c.redirect_uri_registered("https://127.0.0.1:4/callback"));
        assert!(
            !c.redirect_uri_registered("http://localhost:9999/cb"),
            "only IP literals, not localhost (RFC 8252 §8.3)"
        );
        assert!(c.redirect_uri_registered("http://localhost:8080/cb"));
    }

    #[test]
    fn registration_uris_are_screened() {
        assert!(valid_registration_uri("https://a.example/cb"));
        assert!(valid_registration_uri("http://localhost:8081/callback"));
        assert!(valid_registration_uri("http://127.0.0.1/cb"));
        assert!(valid_registration_uri("com.example.app:/oauth"));
        assert!(!valid_registration_uri("http://a.example/cb"));
        assert!(!valid_registration_uri("https://a.example/cb#frag"));
        assert!(!valid_registration_uri("javascript:alert(1)"));
        assert!(!valid_registration_uri("/relative"));
    }

    #[test]
    fn ids_and_enums_parse() {
        assert!(ClientId::parse("model-sharing").is_some());
        assert!(ClientId::parse("").is_none());
        assert!(ClientId::parse("a b").is_none());
        assert_eq!(GrantType::parse("refresh_token"), Some(GrantType::RefreshToken));
        assert_eq!(GrantType::parse("password"), None);
        assert_eq!(SigningAlg::parse("EdDSA"), Some(SigningAlg::EdDSA));
        assert_eq!(SigningAlg::parse("none"), None);
    }
}
