//! A relying party for tests: the `openidconnect` crate against the real
//! server over HTTP, plus helpers to register clients and walk a browser
//! through an authorization.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    Scope, TokenResponse,
};
use reqwest::StatusCode;
use tunnus_core::client::{ClientKind, GrantType, SigningAlg};
use tunnus_server::services::clients::{ClientSpec, register};

use crate::support::{Browser, TestApp};

pub type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

pub fn spec(id: &str, redirect: &str) -> ClientSpec {
    ClientSpec {
        id: id.into(),
        name: format!("{id} service"),
        kind: ClientKind::Confidential,
        auth_method: None,
        jwks: None,
        redirect_uris: vec![redirect.into()],
        post_logout_redirect_uris: vec![format!("{redirect}/signed-out")],
        backchannel_logout_uri: None,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials],
        scopes: vec![
            "profile".into(),
            "email".into(),
            "offline_access".into(),
            "organization".into(),
            "entitlements".into(),
        ],
        strict_scopes: false,
        first_party: true,
        id_token_alg: SigningAlg::RS256,
        required_entitlement: None,
        accepts_federated_only: true,
    }
}

/// Registers `spec`; returns its secret (if it has one).
pub async fn add(app: &TestApp, spec: ClientSpec) -> Option<String> {
    let state = app.state();
    register(&state.db, &state.secret_key, &spec, None, state.clock.now()).await.unwrap().1
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub struct Rp {
    pub client: Client,
    pub http: reqwest::Client,
}

pub struct Started {
    pub url: String,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

impl Rp {
    pub async fn new(app: &TestApp, id: &str, secret: Option<String>, redirect: &str) -> Self {
        Self::new_at(&app.url, id, secret, redirect).await
    }

    pub async fn new_at(issuer: &str, id: &str, secret: Option<String>, redirect: &str) -> Self {
        let http = http();
        let meta =
            CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.to_owned()).unwrap(), &http).await.unwrap();
        let client = CoreClient::from_provider_metadata(meta, ClientId::new(id.into()), secret.map(ClientSecret::new))
            .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap());
        Self { client, http }
    }

    pub fn start(&self, scopes: &[&str]) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = self.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for s in scopes {
            req = req.add_scope(Scope::new((*s).into()));
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        Started { url: url.to_string(), state, nonce, verifier }
    }

    /// Exchanges a code and checks the ID token (signature via JWKS, nonce, at_hash).
    pub async fn exchange(
        &self,
        code: &str,
        started: Started,
    ) -> (openidconnect::core::CoreTokenResponse, CoreIdTokenClaims) {
        let nonce = started.nonce.clone();
        let token = self.try_exchange(code, started).await.unwrap();
        let claims = self.verify(&token, &nonce);
        (token, claims)
    }

    /// Exchanges a code; an error answer gives its `error` code.
    pub async fn try_exchange(
        &self,
        code: &str,
        started: Started,
    ) -> Result<openidconnect::core::CoreTokenResponse, String> {
        self.client
            .exchange_code(AuthorizationCode::new(code.into()))
            .unwrap()
            .set_pkce_verifier(started.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => r.error().to_string(),
                other => other.to_string(),
            })
    }

    pub fn verify(&self, token: &openidconnect::core::CoreTokenResponse, nonce: &Nonce) -> CoreIdTokenClaims {
        let id_token = token.id_token().expect("an ID token");
        let verifier = self.client.id_token_verifier().set_allowed_algs(vec![
            openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            openidconnect::core::CoreJwsSigningAlgorithm::EdDsa,
        ]);
        let claims = id_token.claims(&verifier, nonce).unwrap().clone();
        let expected = claims.access_token_hash().expect("at_hash");
        let actual = AccessTokenHash::from_token(
            token.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(&actual, expected, "at_hash matches the access token");
        claims
    }

    pub async fn userinfo(&self, token: &openidconnect::core::CoreTokenResponse) -> CoreUserInfoClaims {
        self.client.user_info(token.access_token().clone(), None).unwrap().request_async(&self.http).await.unwrap()
    }

    pub async fn refresh(&self, refresh: &str) -> Result<openidconnect::core::CoreTokenResponse, String> {
        self.client
            .exchange_refresh_token(&RefreshToken::new(refresh.into()))
            .unwrap()
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                openidconnect::RequestTokenError::ServerResponse(r) => r.error().to_string(),
                other => other.to_string(),
            })
    }
}

/// The browser opens the authorization URL; returns where it was sent.
pub async fn authorize(b: &Browser, url: &str) -> reqwest::Response {
    b.client.get(url).send().await.unwrap()
}

/// The `code` (and checks `state` and `iss`) of a redirect back to the client.
pub fn code_from(location: &str, started: &Started, issuer: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("state").map(String::as_str), Some(started.state.secret().as_str()), "{location}");
    assert_eq!(q.get("iss").map(String::as_str), Some(issuer), "RFC 9207 iss");
    q.get("code").cloned().unwrap_or_else(|| panic!("no code in {location}"))
}

pub fn location(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER, "expected a redirect");
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// Query parameters of a redirect.
pub fn query(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}
