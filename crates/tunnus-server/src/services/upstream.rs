//! Tunnus as the relying party of upstream OpenID Connect providers ("Sign
//! in with …"): discovery, the authorization request with PKCE, nonce and
//! state, and at the callback the code exchange and ID-token validation.
//!
//! The short-lived request state lives in the ephemeral store under a hash
//! of `state`, so whichever replica receives the callback can finish it; it
//! is taken (single use), and bound to the browser that started it by its
//! CSRF token, so a callback URL replayed or planted in another browser
//! (login CSRF) leads nowhere.

use std::time::Duration;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse as _,
};
use serde::{Deserialize, Serialize};
use tunnus_core::TokenHash;
use tunnus_core::federation::UpstreamEmail;

use crate::config::UpstreamConfig;
use crate::error::AppError;
use crate::state::AppState;

/// How long a person has at the upstream before the request is forgotten.
const STATE_TTL: Duration = Duration::from_secs(10 * 60);

/// Bounds every request to an upstream (discovery, JWKS, token endpoint).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        // An upstream must not send our server elsewhere (SSRF); no redirects.
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
}

/// Why the person went to the upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Purpose {
    /// Sign in (or sign up) with the upstream account.
    SignIn,
    /// Link the upstream account to this signed-in identity (profile).
    Link { user_id: String },
}

/// The request in flight, kept in the ephemeral store.
#[derive(Serialize, Deserialize)]
struct Pending {
    provider: String,
    nonce: String,
    verifier: String,
    next: String,
    purpose: Purpose,
    /// The CSRF token of the browser that started (binds the callback to it).
    browser: String,
}

/// What the upstream vouches for, from its validated ID token.
#[derive(Debug, Clone)]
pub struct UpstreamPerson {
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_status: UpstreamEmail,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub locale: Option<String>,
}

/// A finished upstream round trip.
#[derive(Debug)]
pub struct Finished {
    pub person: UpstreamPerson,
    pub purpose: Purpose,
    pub next: String,
}

/// Why an upstream round trip failed; each is shown as a page.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("no such upstream provider")]
    UnknownProvider,
    /// Discovery, JWKS or the token endpoint could not be reached or answered nonsense.
    #[error("the upstream provider cannot be reached: {0}")]
    Unreachable(String),
    /// Unknown, expired, already used, or started in another browser.
    #[error("the sign-in request is unknown, expired or already used")]
    BadState,
    /// The upstream answered `error=…` (e.g. the person cancelled).
    #[error("the upstream provider refused: {0}")]
    Refused(String),
    /// The code exchange or the ID token failed validation.
    #[error("the upstream's answer is invalid: {0}")]
    Invalid(String),
    #[error(transparent)]
    App(#[from] AppError),
}

fn state_key(state: &str) -> String {
    format!("upstream-state:{}", TokenHash::of(state).as_str())
}

pub fn find<'a>(state: &'a AppState, provider: &str) -> Option<&'a UpstreamConfig> {
    state.config.upstreams.iter().find(|u| u.id == provider)
}

fn callback_url(state: &AppState, provider: &str) -> String {
    format!("{}/login/upstream/{provider}/callback", state.config.base_url())
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Reads the upstream's discovery document and makes a client for it.
async fn discover(
    state: &AppState,
    upstream: &UpstreamConfig,
) -> Result<(Client, CoreProviderMetadata), UpstreamError> {
    let issuer = IssuerUrl::new(upstream.issuer.clone()).map_err(|e| UpstreamError::Unreachable(e.to_string()))?;
    let meta = CoreProviderMetadata::discover_async(issuer, &state.upstream_http).await.map_err(|e| {
        let detail = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| format!("{e}: {s}"));
        UpstreamError::Unreachable(detail)
    })?;
    let redirect =
        RedirectUrl::new(callback_url(state, &upstream.id)).map_err(|e| AppError::internal(e.to_string()))?;
    let client = CoreClient::from_provider_metadata(
        meta.clone(),
        ClientId::new(upstream.client_id.clone()),
        Some(ClientSecret::new(upstream.client_secret.clone())),
    )
    .set_redirect_uri(redirect);
    Ok((client, meta))
}

/// Starts a round trip: returns the upstream URL to send the browser to.
pub async fn begin(
    state: &AppState,
    provider: &str,
    purpose: Purpose,
    next: String,
    browser: &str,
) -> Result<String, UpstreamError> {
    let upstream = find(state, provider).ok_or(UpstreamError::UnknownProvider)?;
    let (client, _) = discover(state, upstream).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request =
        client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
    for scope in upstream.scopes.iter().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf_state, nonce) = request.set_pkce_challenge(challenge).url();
    let pending = Pending {
        provider: provider.to_owned(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next,
        purpose,
        browser: browser.to_owned(),
    };
    let value = serde_json::to_string(&pending).map_err(|e| AppError::internal(e.to_string()))?;
    state.ephemeral.put(&state_key(csrf_state.secret()), &value, STATE_TTL).await.map_err(AppError::from)?;
    Ok(url.to_string())
}

/// What the upstream sends back to the callback.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Callback {
    pub code: String,
    pub state: String,
    pub error: String,
    pub error_description: String,
}

/// Finishes a round trip at the callback.
pub async fn finish(
    state: &AppState,
    provider: &str,
    callback: Callback,
    browser: &str,
) -> Result<Finished, UpstreamError> {
    let upstream = find(state, provider).ok_or(UpstreamError::UnknownProvider)?;
    if callback.state.is_empty() || callback.state.len() > 512 {
        return Err(UpstreamError::BadState);
    }
    // Taken, not read: a second use of the same state finds nothing.
    let raw = state.ephemeral.take(&state_key(&callback.state)).await.map_err(AppError::from)?;
    let pending: Pending = raw.and_then(|r| serde_json::from_str(&r).ok()).ok_or(UpstreamError::BadState)?;
    let same_browser = tunnus_core::secret::constant_time_eq(pending.browser.as_bytes(), browser.as_bytes());
    if pending.provider != upstream.id || !same_browser {
        return Err(UpstreamError::BadState);
    }
    if !callback.error.is_empty() {
        let text: String = format!("{} {}", callback.error, callback.error_description).chars().take(300).collect();
        return Err(UpstreamError::Refused(text.trim().to_owned()));
    }
    if callback.code.is_empty() {
        return Err(UpstreamError::Invalid("no code".into()));
    }
    let (client, meta) = discover(state, upstream).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(callback.code))
        .map_err(|e| UpstreamError::Invalid(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&state.upstream_http)
        .await
        .map_err(|e| match e {
            openidconnect::RequestTokenError::Request(r) => UpstreamError::Unreachable(r.to_string()),
            openidconnect::RequestTokenError::ServerResponse(r) => {
                UpstreamError::Invalid(format!("token endpoint: {}", r.error()))
            }
            other => UpstreamError::Invalid(other.to_string()),
        })?;
    let id_token = token.id_token().ok_or_else(|| UpstreamError::Invalid("no ID token".into()))?;
    // Whatever the upstream says it signs with (never `none`), not only RS256.
    let algs: Vec<_> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|a| **a != openidconnect::core::CoreJwsSigningAlgorithm::None)
        .cloned()
        .collect();
    let verifier = client.id_token_verifier().set_allowed_algs(algs);
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce))
        .map_err(|e| UpstreamError::Invalid(format!("ID token: {e}")))?;
    let email = claims.email().map(|e| e.as_str().to_owned());
    let verified = claims.email_verified() == Some(true) && upstream.trust_email_verified;
    let person = UpstreamPerson {
        provider: upstream.id.clone(),
        subject: claims.subject().as_str().to_owned(),
        email_status: if verified && email.is_some() { UpstreamEmail::Verified } else { UpstreamEmail::Unverified },
        email,
        given_name: claims.given_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
        family_name: claims.family_name().and_then(|n| n.get(None)).map(|n| n.as_str().to_owned()),
        locale: claims.locale().map(|l| l.as_str().to_owned()),
    };
    Ok(Finished { person, purpose: pending.purpose, next: pending.next })
}
