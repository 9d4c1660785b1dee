//! The OpenID Connect client side of one demo service: lazy, cached discovery of the provider,
//! the authorization URL (code flow, PKCE S256, state, nonce), the code exchange with ID-token
//! and userinfo verification, the end-session URL, and logout-token checks against the JWKS.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::JwkSet;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AdditionalProviderMetadata, AuthorizationCode, ClaimsVerificationError,
    ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata, RedirectUrl, Scope,
    TokenResponse as _, UserInfoClaims, reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use url::Url;

use crate::backchannel::{self, LogoutRequest, LogoutTokenError};
use crate::config::DemoService;

/// Scopes requested besides `openid` (which the client always adds).
pub const SCOPES: [&str; 4] = ["profile", "email", "organization", "entitlements"];

/// How long discovery metadata and keys are trusted before being fetched again.
const METADATA_TTL: Duration = Duration::from_secs(300);

/// Time limit of every request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The discovery fields openidconnect does not model but logout needs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct LogoutMetadata {
    /// RP-Initiated Logout 1.0 endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// Every claim of a userinfo response, standard or not.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct AllClaims {
    #[serde(flatten)]
    rest: Map<String, Value>,
}
impl AdditionalClaims for AllClaims {}

/// Failures talking to the provider.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// Building the HTTP client or a URL failed.
    #[error("configuration: {0}")]
    Config(String),
    /// Discovery or JWKS could not be fetched or did not validate.
    #[error("provider discovery failed: {0}")]
    Discovery(String),
    /// The token endpoint refused the code or answered badly.
    #[error("token exchange failed: {0}")]
    Token(String),
    /// The token response has no ID token.
    #[error("the provider returned no ID token")]
    MissingIdToken,
    /// The ID token did not verify (signature, issuer, audience, nonce, expiry, at_hash).
    #[error("ID token rejected: {0}")]
    IdToken(String),
}

/// What a service keeps from discovery.
struct Provider {
    client: Client,
    issuer: String,
    end_session_endpoint: Option<String>,
    jwks: JwkSet,
    fetched: Instant,
}

/// The state `/login` stores server-side until `/callback`.
#[derive(Debug)]
pub struct LoginStart {
    /// Where to send the browser.
    pub url: Url,
    /// The `state` parameter.
    pub state: String,
    /// The `nonce` parameter.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
}

/// A completed sign-in.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// All claims of the verified ID token.
    pub claims: Map<String, Value>,
    /// The userinfo response, or why there is none.
    pub userinfo: Result<Map<String, Value>, String>,
    /// The raw ID token (for `id_token_hint`).
    pub id_token: String,
    /// `sub` of the ID token.
    pub sub: String,
    /// `sid` of the ID token, if any.
    pub sid: Option<String>,
}

/// The OpenID Connect client of one demo service.
pub struct OidcClient {
    issuer: String,
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    http: reqwest::Client,
    cache: Mutex<Option<Arc<Provider>>>,
}

/// Renders an error and its sources as one line.
pub fn error_chain(err: &dyn StdError) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = e.source();
    }
    out
}

fn allowed_algs() -> Vec<CoreJwsSigningAlgorithm> {
    vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ]
}

/// Decodes the (already verified) payload of a compact JWS.
fn jwt_payload(token: &str) -> Result<Map<String, Value>, String> {
    let payload = token.split('.').nth(1).ok_or("not a compact JWS")?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

impl OidcClient {
    /// A client for `service` at the provider `issuer`; nothing is fetched yet.
    pub fn new(issuer: &str, service: &DemoService) -> Result<Self, OidcError> {
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| OidcError::Config(error_chain(&e)))?;
        Ok(Self {
            issuer: issuer.to_owned(),
            client_id: service.client_id.clone(),
            client_secret: service.client_secret.clone(),
            redirect_uri: service.redirect_uri(),
            http,
            cache: Mutex::new(None),
        })
    }

    async fn discover(&self) -> Result<Provider, OidcError> {
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| OidcError::Config(format!("issuer: {e}")))?;
        let metadata =
            Metadata::discover_async(issuer, &self.http).await.map_err(|e| OidcError::Discovery(error_chain(&e)))?;
        let jwks_json = serde_json::to_value(metadata.jwks()).map_err(|e| OidcError::Discovery(e.to_string()))?;
        let jwks = backchannel::jwk_set_from_json(&jwks_json).map_err(|e| OidcError::Discovery(e.to_string()))?;
        let redirect =
            RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| OidcError::Config(format!("redirect URI: {e}")))?;
        let end_session_endpoint = metadata.additional_metadata().end_session_endpoint.clone();
        let issuer = metadata.issuer().to_string();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect);
        Ok(Provider { client, issuer, end_session_endpoint, jwks, fetched: Instant::now() })
    }

    /// The provider, from cache while fresh; rediscovered when stale (the stale copy is kept
    /// if the provider cannot be reached) or when `force` is set.
    async fn provider_inner(&self, force: bool) -> Result<Arc<Provider>, OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some(p) = cache.as_ref()
            && !force
            && p.fetched.elapsed() < METADATA_TTL
        {
            return Ok(Arc::clone(p));
        }
        match self.discover().await {
            Ok(p) => {
                let p = Arc::new(p);
                *cache = Some(Arc::clone(&p));
                Ok(p)
            }
            Err(e) => match cache.as_ref() {
                Some(stale) if !force => {
                    tracing::warn!(error = %e, "rediscovery failed, using cached provider metadata");
                    Ok(Arc::clone(stale))
                }
                _ => Err(e),
            },
        }
    }

    async fn provider(&self) -> Result<Arc<Provider>, OidcError> {
        self.provider_inner(false).await
    }

    /// Builds the authorization request: code flow, PKCE S256, fresh state and nonce.
    pub async fn login(&self) -> Result<LoginStart, OidcError> {
        let provider = self.provider().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = provider
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(LoginStart {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// The issuer identifier the provider's metadata names (for the RFC 9207 `iss` check).
    pub async fn issuer(&self) -> Result<String, OidcError> {
        Ok(self.provider().await?.issuer.clone())
    }

    /// Exchanges `code`, verifies the ID token (signature, issuer, audience, expiry, nonce,
    /// at_hash) and fetches userinfo (its `sub` must match).
    pub async fn finish(&self, code: String, pkce_verifier: String, nonce: &str) -> Result<SignIn, OidcError> {
        let provider = self.provider().await?;
        let response = provider
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Config(error_chain(&e)))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Token(error_chain(&e)))?;
        let id_token = response.id_token().ok_or(OidcError::MissingIdToken)?;
        let nonce = Nonce::new(nonce.to_owned());

        // A signature failure may mean the provider rotated its keys: rediscover once.
        let signature_failed = {
            let verifier = provider.client.id_token_verifier().set_allowed_algs(allowed_algs());
            matches!(id_token.claims(&verifier, &nonce), Err(ClaimsVerificationError::SignatureVerification(_)))
        };
        let provider = if signature_failed { self.provider_inner(true).await? } else { provider };
        let verifier = provider.client.id_token_verifier().set_allowed_algs(allowed_algs());
        let claims = id_token.claims(&verifier, &nonce).map_err(|e| OidcError::IdToken(error_chain(&e)))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| OidcError::IdToken(error_chain(&e)))?;
            let key = id_token.signing_key(&verifier).map_err(|e| OidcError::IdToken(error_chain(&e)))?;
            let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
                .map_err(|e| OidcError::IdToken(error_chain(&e)))?;
            if actual != *expected {
                return Err(OidcError::IdToken("at_hash does not match the access token".to_owned()));
            }
        }
        let subject = claims.subject().clone();
        let raw = id_token.to_string();
        let all_claims = jwt_payload(&raw).map_err(OidcError::IdToken)?;
        let sid = all_claims.get("sid").and_then(Value::as_str).map(str::to_owned);

        let userinfo = match provider.client.user_info(response.access_token().clone(), Some(subject.clone())) {
            Err(_) => Err("the provider has no userinfo endpoint".to_owned()),
            Ok(request) => match request.request_async::<AllClaims, _, CoreGenderClaim>(&self.http).await {
                Err(e) => Err(error_chain(&e)),
                Ok(info) => userinfo_map(&info),
            },
        };
        Ok(SignIn { claims: all_claims, userinfo, id_token: raw, sub: subject.as_str().to_owned(), sid })
    }

    /// The RP-initiated logout URL, or `None` if the provider advertises no end-session endpoint.
    pub async fn end_session_url(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: &str,
        state: &str,
    ) -> Result<Option<Url>, OidcError> {
        let provider = self.provider().await?;
        let Some(endpoint) = provider.end_session_endpoint.as_deref() else {
            return Ok(None);
        };
        let mut url = Url::parse(endpoint).map_err(|e| OidcError::Discovery(format!("end_session_endpoint: {e}")))?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
            query
                .append_pair("client_id", &self.client_id)
                .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
                .append_pair("state", state);
        }
        Ok(Some(url))
    }

    /// Validates a back-channel logout token; refreshes the JWKS once if no key fits.
    pub async fn check_logout_token(&self, token: &str) -> Result<LogoutRequest, LogoutTokenError> {
        let provider = self.provider().await.map_err(|e| LogoutTokenError::Malformed(e.to_string()))?;
        let check = |p: &Provider| {
            backchannel::validate_logout_token(token, &p.jwks, &p.issuer, &self.client_id, SystemTime::now())
        };
        match check(&provider) {
            Err(LogoutTokenError::UnknownKey | LogoutTokenError::BadSignature) => {
                let fresh = self.provider_inner(true).await.map_err(|_| LogoutTokenError::UnknownKey)?;
                check(&fresh)
            }
            other => other,
        }
    }
}

fn userinfo_map(info: &UserInfoClaims<AllClaims, CoreGenderClaim>) -> Result<Map<String, Value>, String> {
    match serde_json::to_value(info) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("userinfo is not a JSON object".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_of_a_jwt() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"u1","sid":"s"}"#);
        let map = jwt_payload(&format!("e30.{payload}.sig")).unwrap();
        assert_eq!(map["sub"], "u1");
        assert!(jwt_payload("nodots").is_err());
    }

    #[test]
    fn logout_metadata_is_read_from_discovery_json() {
        let json = serde_json::json!({
            "issuer": "http://localhost:8080",
            "authorization_endpoint": "http://localhost:8080/authorize",
            "token_endpoint": "http://localhost:8080/token",
            "jwks_uri": "http://localhost:8080/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            "end_session_endpoint": "http://localhost:8080/logout",
        });
        let metadata: Metadata = serde_json::from_value(json).unwrap();
        assert_eq!(
            metadata.additional_metadata().end_session_endpoint.as_deref(),
            Some("http://localhost:8080/logout")
        );
    }

    #[test]
    fn userinfo_keeps_custom_claims() {
        let json = serde_json::json!({
            "sub": "u1", "email": "a@example.com", "entitlements": ["campus"], "organization": {"id": "o1"}
        });
        let info = UserInfoClaims::<AllClaims, CoreGenderClaim>::from_json::<std::io::Error>(
            json.to_string().as_bytes(),
            None,
        )
        .unwrap();
        let map = userinfo_map(&info).unwrap();
        assert_eq!(map["sub"], "u1");
        assert_eq!(map["email"], "a@example.com");
        assert_eq!(map["entitlements"], serde_json::json!(["campus"]));
        assert_eq!(map["organization"]["id"], "o1");
    }
}
