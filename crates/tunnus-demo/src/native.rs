//! Sign-in for applications without a web server of their own, as a public client (no secret):
//!
//! - [`desktop_sign_in`]: a native app (RFC 8252) — authorization code flow with PKCE S256,
//!   state and nonce, redirected to a one-shot HTTP listener on the loopback interface at a
//!   port chosen by the operating system;
//! - [`device_sign_in`]: a device without a browser (RFC 8628) — the device shows a short code,
//!   the person approves it on another device, and the device polls the token endpoint.
//!
//! Both verify the ID token (signature, issuer, audience, expiry, nonce where one was sent,
//! `at_hash`) and return a [`SignedIn`].

use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod,
    CoreDeviceAuthorizationResponse, CoreGrantType, CoreIdTokenVerifier, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AuthorizationCode, ClientId, CsrfToken, DeviceAuthorizationUrl,
    DeviceCodeErrorResponseType, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, ProviderMetadata, RedirectUrl, RequestTokenError, Scope,
    TokenResponse as _, reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::mpsc;
use url::Url;

use crate::oidc_client::error_chain;
use crate::pages::escape_html;

/// Scopes requested besides `openid`: who the person is, and a refresh token.
pub const SCOPES: [&str; 3] = ["profile", "email", "offline_access"];

/// Default client id of the desktop sign-in.
pub const DESKTOP_CLIENT_ID: &str = "desktop";

/// Default client id of the device sign-in.
pub const DEVICE_CLIENT_ID: &str = "tv";

/// Path of the loopback redirect URI (`http://127.0.0.1:{port}/callback`).
pub const CALLBACK_PATH: &str = "/callback";

/// Time limit of every request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one connection to the loopback listener may take to send its request.
const LOOPBACK_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest request head the loopback listener reads.
const LOOPBACK_MAX_HEAD: usize = 16 * 1024;

/// Failures of a native sign-in.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    /// A URL or the HTTP client could not be built, or the listener is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// Discovery or JWKS could not be fetched or did not validate.
    #[error("provider discovery failed: {0}")]
    Discovery(String),
    /// The provider's discovery document names no device authorization endpoint.
    #[error("the provider does not offer the device flow (no device_authorization_endpoint)")]
    NoDeviceEndpoint,
    /// The loopback listener failed.
    #[error("loopback listener: {0}")]
    Loopback(String),
    /// Nobody finished the sign-in in time.
    #[error("gave up waiting after {} seconds", .0.as_secs())]
    TimedOut(Duration),
    /// The callback's `state` is not the one sent: not the answer to this request.
    #[error("the callback's state does not match the request (possible cross-site request forgery)")]
    StateMismatch,
    /// The callback's `iss` (RFC 9207) names another issuer.
    #[error("the callback comes from issuer {0:?}, not the one asked")]
    IssuerMismatch(String),
    /// The provider answered the authorization request with an error.
    #[error("the provider refused the sign-in: {0}")]
    Authorization(String),
    /// The callback carries neither a code nor an error.
    #[error("the callback carries no authorization code")]
    MissingCode,
    /// The device flow: the provider could not start it.
    #[error("device authorization failed: {0}")]
    DeviceAuthorization(String),
    /// The device flow: the person declined.
    #[error("the sign-in was declined on the approving device (access_denied)")]
    AccessDenied,
    /// The device flow: the code expired before anyone approved it.
    #[error("the code expired before anyone approved it (expired_token); start again")]
    Expired,
    /// The token endpoint refused or answered badly.
    #[error("token request failed: {0}")]
    Token(String),
    /// The token response has no ID token.
    #[error("the provider returned no ID token")]
    MissingIdToken,
    /// The ID token did not verify.
    #[error("ID token rejected: {0}")]
    IdToken(String),
}

/// A completed sign-in.
#[derive(Clone)]
pub struct SignedIn {
    /// All claims of the verified ID token.
    pub claims: Map<String, Value>,
    /// `sub` of the ID token.
    pub sub: String,
    /// The raw ID token.
    pub id_token: String,
    /// The access token.
    pub access_token: String,
    /// The refresh token, if the provider issued one (`offline_access`).
    pub refresh_token: Option<String>,
}

impl fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedIn")
            .field("claims", &self.claims)
            .field("sub", &self.sub)
            .field("id_token", &"…")
            .field("access_token", &"…")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// What the person needs to approve a device sign-in.
#[derive(Clone, Debug)]
pub struct DeviceCodeInfo {
    /// Where to go (on a phone or computer).
    pub verification_uri: String,
    /// The same with the code filled in, if the provider offers it.
    pub verification_uri_complete: Option<String>,
    /// The code to enter.
    pub user_code: String,
    /// How long the code stays valid.
    pub expires_in: Duration,
    /// The polling interval the provider asked for.
    pub interval: Duration,
}

/// The discovery fields openidconnect does not model but the device flow needs.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct NativeMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_authorization_endpoint: Option<String>,
}
impl AdditionalProviderMetadata for NativeMetadata {}

type Metadata = ProviderMetadata<
    NativeMetadata,
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

fn http_client() -> Result<reqwest::Client, NativeError> {
    reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(|e| NativeError::Config(error_chain(&e)))
}

/// Fetches discovery and keys; a public client (no secret) of `client_id`.
async fn discover(
    http: &reqwest::Client,
    issuer: &str,
    client_id: &str,
) -> Result<(Client, String, Option<String>), NativeError> {
    let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| NativeError::Config(format!("issuer: {e}")))?;
    let metadata =
        Metadata::discover_async(issuer_url, http).await.map_err(|e| NativeError::Discovery(error_chain(&e)))?;
    let device_endpoint = metadata.additional_metadata().device_authorization_endpoint.clone();
    let issuer = metadata.issuer().to_string();
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(client_id.to_owned()), None);
    Ok((client, issuer, device_endpoint))
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

/// Verifies the ID token of `response` (with `nonce` if one was sent) and its `at_hash`.
fn signed_in(
    response: &CoreTokenResponse,
    verifier: &CoreIdTokenVerifier<'_>,
    nonce: Option<&Nonce>,
) -> Result<SignedIn, NativeError> {
    let id_token = response.id_token().ok_or(NativeError::MissingIdToken)?;
    let claims = match nonce {
        Some(nonce) => id_token.claims(verifier, nonce),
        // The device flow sends no nonce.
        None => id_token.claims(verifier, |_: Option<&Nonce>| Ok::<(), String>(())),
    }
    .map_err(|e| NativeError::IdToken(error_chain(&e)))?;
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token.signing_alg().map_err(|e| NativeError::IdToken(error_chain(&e)))?;
        let key = id_token.signing_key(verifier).map_err(|e| NativeError::IdToken(error_chain(&e)))?;
        let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
            .map_err(|e| NativeError::IdToken(error_chain(&e)))?;
        if actual != *expected {
            return Err(NativeError::IdToken("at_hash does not match the access token".to_owned()));
        }
    }
    let sub = claims.subject().as_str().to_owned();
    let raw = id_token.to_string();
    let all_claims = jwt_payload(&raw).map_err(NativeError::IdToken)?;
    Ok(SignedIn {
        claims: all_claims,
        sub,
        id_token: raw,
        access_token: response.access_token().secret().clone(),
        refresh_token: response.refresh_token().map(|t| t.secret().clone()),
    })
}

/// Native-app sign-in (RFC 8252) through the system browser and a loopback redirect.
///
/// `listener` must be bound to a loopback address (normally `127.0.0.1:0`); the redirect URI
/// is `http://{its address}/callback`. `on_url` gets the authorization URL before the browser
/// is opened (with `open_browser`), so the caller can print it; opening may fail silently.
/// Waits at most `timeout` for the browser to come back, then exchanges the code with the PKCE
/// verifier and verifies the ID token.
pub async fn desktop_sign_in(
    issuer: &str,
    client_id: &str,
    listener: TcpListener,
    open_browser: bool,
    timeout: Duration,
    on_url: impl FnOnce(&Url),
) -> Result<SignedIn, NativeError> {
    let addr = listener.local_addr().map_err(|e| NativeError::Loopback(e.to_string()))?;
    if !addr.ip().is_loopback() {
        return Err(NativeError::Config(format!("the redirect listener must be on a loopback address, not {addr}")));
    }
    listener.set_nonblocking(true).map_err(|e| NativeError::Loopback(e.to_string()))?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| NativeError::Loopback(e.to_string()))?;
    let redirect = RedirectUrl::new(redirect_uri(addr)).map_err(|e| NativeError::Config(format!("redirect: {e}")))?;

    let http = http_client()?;
    let (client, issuer, _) = discover(&http, issuer, client_id).await?;
    let client = client.set_redirect_uri(redirect);
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    on_url(&url);
    if open_browser && let Err(e) = open_in_browser(url.as_str()) {
        tracing::warn!(error = %e, "could not open a browser; open the printed address by hand");
    }

    let query = tokio::time::timeout(timeout, wait_for_callback(listener))
        .await
        .map_err(|_| NativeError::TimedOut(timeout))??;
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if param("state") != Some(state.secret().as_str()) {
        return Err(NativeError::StateMismatch);
    }
    if let Some(iss) = param("iss")
        && iss != issuer
    {
        return Err(NativeError::IssuerMismatch(iss.to_owned()));
    }
    if let Some(error) = param("error") {
        let description = param("error_description").map(|d| format!(" ({d})")).unwrap_or_default();
        return Err(NativeError::Authorization(format!("{error}{description}")));
    }
    let code = param("code").filter(|c| !c.is_empty()).ok_or(NativeError::MissingCode)?;

    let response = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|e| NativeError::Config(error_chain(&e)))?
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .map_err(|e| NativeError::Token(error_chain(&e)))?;
    let verifier = client.id_token_verifier().set_allowed_algs(allowed_algs());
    signed_in(&response, &verifier, Some(&nonce))
}

/// The loopback redirect URI for a listener at `addr`.
pub fn redirect_uri(addr: SocketAddr) -> String {
    format!("http://{addr}{CALLBACK_PATH}")
}

/// Opens `url` in the system browser without waiting for it; no shell is involved.
pub fn open_in_browser(url: &str) -> std::io::Result<()> {
    #[cfg(target_os = "macos")]
    let mut command = Command::new("open");
    // `cmd /C start` would read `&` in the URL as a command separator; this does not.
    #[cfg(windows)]
    let mut command = {
        let mut c = Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    };
    #[cfg(not(any(target_os = "macos", windows)))]
    let mut command = Command::new("xdg-open");
    let mut child = command.arg(url).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    // Reap it when it exits.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// Serves the loopback listener until a request for [`CALLBACK_PATH`] arrives; returns its
/// query parameters. Other requests (a favicon, a browser's speculative connection that never
/// sends anything) are answered or dropped without holding up the callback.
async fn wait_for_callback(listener: tokio::net::TcpListener) -> Result<Vec<(String, String)>, NativeError> {
    let (tx, mut rx) = mpsc::channel(1);
    loop {
        tokio::select! {
            Some(query) = rx.recv() => return Ok(query),
            accepted = listener.accept() => {
                let (stream, _) = accepted.map_err(|e| NativeError::Loopback(e.to_string()))?;
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Some(query) = serve_connection(stream).await {
                        let _ = tx.send(query).await;
                    }
                });
            }
        }
    }
}

/// Reads one request head, answers it, and returns the query if it was the callback.
async fn serve_connection(mut stream: tokio::net::TcpStream) -> Option<Vec<(String, String)>> {
    let head = tokio::time::timeout(LOOPBACK_READ_TIMEOUT, read_head(&mut stream)).await.ok()??;
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let callback = (method == "GET" && path == CALLBACK_PATH)
        .then(|| url::form_urlencoded::parse(query.as_bytes()).into_owned().collect::<Vec<(String, String)>>());
    let (status, body) = match &callback {
        Some(query) => match query.iter().find(|(k, _)| k == "error") {
            Some((_, error)) => (
                "200 OK",
                format!("<p>The sign-in was not completed ({}). You can close this window.</p>", escape_html(error)),
            ),
            None => {
                ("200 OK", "<p>Sign-in received. You can close this window and return to the application.</p>".into())
            }
        },
        None => ("404 Not Found", "<p>Not found.</p>".to_owned()),
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tunnus sign-in</title></head>\
         <body>{body}</body></html>"
    );
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    callback
}

/// The request head (up to the blank line), or `None` if the peer sent too much or nothing.
async fn read_head(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > LOOPBACK_MAX_HEAD {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buf).ok()
}

/// Device sign-in (RFC 8628): asks the provider for a code, hands it to `on_code` to show,
/// then polls the token endpoint — every `interval` seconds, 5 s more after each `slow_down` —
/// until the person approves or declines, the code expires, or `timeout` passes.
pub async fn device_sign_in(
    issuer: &str,
    client_id: &str,
    timeout: Duration,
    on_code: impl FnOnce(&DeviceCodeInfo),
) -> Result<SignedIn, NativeError> {
    let http = http_client()?;
    let (client, _, device_endpoint) = discover(&http, issuer, client_id).await?;
    let endpoint = device_endpoint.ok_or(NativeError::NoDeviceEndpoint)?;
    let endpoint = DeviceAuthorizationUrl::new(endpoint)
        .map_err(|e| NativeError::Discovery(format!("device_authorization_endpoint: {e}")))?;
    let verifier = client.id_token_verifier().set_allowed_algs(allowed_algs());
    let device = client.clone().set_device_authorization_url(endpoint);
    let details: CoreDeviceAuthorizationResponse = device
        .exchange_device_code()
        .add_scopes(SCOPES.iter().map(|s| Scope::new((*s).to_owned())))
        .request_async(&http)
        .await
        .map_err(|e| NativeError::DeviceAuthorization(error_chain(&e)))?;
    on_code(&DeviceCodeInfo {
        verification_uri: details.verification_uri().to_string(),
        verification_uri_complete: details.verification_uri_complete().map(|u| u.secret().clone()),
        user_code: details.user_code().secret().clone(),
        expires_in: details.expires_in(),
        interval: details.interval(),
    });

    // The polling itself (interval, +5 s on slow_down, expiry) is oauth2's.
    let polled = device
        .exchange_device_access_token(&details)
        .map_err(|e| NativeError::Config(error_chain(&e)))?
        .request_async(&http, tokio::time::sleep, None);
    let response = match tokio::time::timeout(timeout, polled).await.map_err(|_| NativeError::TimedOut(timeout))? {
        Ok(response) => response,
        Err(RequestTokenError::ServerResponse(answer)) => {
            return Err(match answer.error() {
                DeviceCodeErrorResponseType::AccessDenied => NativeError::AccessDenied,
                DeviceCodeErrorResponseType::ExpiredToken => NativeError::Expired,
                _ => NativeError::Token(answer.to_string()),
            });
        }
        Err(e) => return Err(NativeError::Token(error_chain(&e))),
    };
    signed_in(&response, &verifier, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_of_a_loopback_listener() {
        assert_eq!(redirect_uri("127.0.0.1:53682".parse().unwrap()), "http://127.0.0.1:53682/callback");
        assert_eq!(redirect_uri("[::1]:8400".parse().unwrap()), "http://[::1]:8400/callback");
    }

    #[test]
    fn device_endpoint_is_read_from_discovery_json() {
        let json = serde_json::json!({
            "issuer": "http://localhost:8080",
            "authorization_endpoint": "http://localhost:8080/authorize",
            "token_endpoint": "http://localhost:8080/token",
            "jwks_uri": "http://localhost:8080/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "device_authorization_endpoint": "http://localhost:8080/device_authorization",
        });
        let metadata: Metadata = serde_json::from_value(json).unwrap();
        assert_eq!(
            metadata.additional_metadata().device_authorization_endpoint.as_deref(),
            Some("http://localhost:8080/device_authorization")
        );
    }

    #[tokio::test]
    async fn loopback_listener_answers_strays_and_returns_the_callback() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = tokio::spawn(wait_for_callback(listener));
        // A connection that never sends anything must not block the callback.
        let _idle = tokio::net::TcpStream::connect(addr).await.unwrap();
        let send = |request: &'static str| async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(request.as_bytes()).await.unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).await.unwrap();
            answer
        };
        let stray = send("GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(stray.starts_with("HTTP/1.1 404"), "{stray}");
        let page = send("GET /callback?code=c%2B1&state=s HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(page.starts_with("HTTP/1.1 200") && page.contains("You can close this window"), "{page}");
        let query = waiting.await.unwrap().unwrap();
        assert_eq!(query, vec![("code".to_owned(), "c+1".to_owned()), ("state".to_owned(), "s".to_owned())]);
    }
}
