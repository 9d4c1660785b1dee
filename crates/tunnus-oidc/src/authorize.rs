//! The authorization endpoint: validating a request (RFC 6749 §4.1.1, OIDC
//! Core §3.1.2.1, RFC 7636, RFC 9700), deciding what it needs (sign-in,
//! consent, nothing), and issuing the one-time code.
//!
//! Errors before the client and redirect URI are known are never sent to
//! the redirect URI (that would make Tunnus an open redirector): they are
//! shown on a page. Later errors go back to the client.

use serde::{Deserialize, Serialize};
use tunnus_core::access::AccessRights;
use tunnus_core::client::{Client, ClientId, GrantType};
use tunnus_core::scope::{OFFLINE_ACCESS, OPENID, ScopeError, Scopes};
use tunnus_core::{SecretToken, TokenHash, User, UserStatus};
use tunnus_store::consents;

use crate::claims::TokenSubject;
use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::params::Params;
use crate::provider::{Authenticated, Provider};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// The `prompt` values (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// A valid authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
}

/// An authorization error and where it goes.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// Shown to the person; never redirected.
    Page(OAuthError),
    /// Sent back to the client's redirect URI.
    Redirect(Box<AuthorizationResponse>),
}

/// What goes back to the client: a redirect, or an auto-submitted form.
#[derive(Debug, Clone)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub fields: Vec<(String, String)>,
}

impl AuthorizationResponse {
    /// The redirect URL (query mode).
    pub fn location(&self) -> String {
        let mut url = self.redirect_uri.clone();
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(self.fields.iter()).finish();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
        url
    }
}

/// What the request needs before a code can be issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The person must (re-)authenticate.
    Login,
    /// The person must approve these scopes for this client.
    Consent(Vec<String>),
    /// The client requires an entitlement the person lacks.
    AccessDenied {
        entitlement: String,
        /// Who can grant it: the person's organization admins.
        granters: Vec<String>,
    },
    /// The client does not accept people who sign in only through an
    /// upstream identity provider, and this person has no password yet.
    FederatedOnlyRefused,
    /// Nothing: issue the code.
    Issue,
}

/// What a one-time code stands for (kept in the short-lived store under its hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    /// The person and their rights as the authorization found them.
    pub subject: TokenSubject,
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub sid: String,
}

fn page(code: ErrorCode, d: &str) -> AuthorizeError {
    AuthorizeError::Page(OAuthError::new(code, d))
}

/// `code_challenge` / `code_verifier` syntax: 43–128 unreserved characters (RFC 7636 §4.1).
pub fn pkce_syntax_ok(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl AuthorizationRequest {
    fn error(&self, code: ErrorCode, description: &str, issuer: &str) -> AuthorizeError {
        AuthorizeError::Redirect(Box::new(error_response(
            &self.redirect_uri,
            self.response_mode,
            self.state.as_deref(),
            code,
            description,
            issuer,
        )))
    }
}

pub fn error_response(
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    code: ErrorCode,
    description: &str,
    issuer: &str,
) -> AuthorizationResponse {
    let mut fields =
        vec![("error".to_owned(), code.as_str().to_owned()), ("error_description".to_owned(), description.to_owned())];
    if let Some(s) = state {
        fields.push(("state".into(), s.to_owned()));
    }
    fields.push(("iss".into(), issuer.to_owned()));
    AuthorizationResponse { redirect_uri: redirect_uri.to_owned(), mode, fields }
}

impl Provider {
    /// Validates an authorization request.
    pub async fn parse_authorization(
        &self,
        raw: Vec<(String, String)>,
    ) -> Result<AuthorizationRequest, AuthorizeError> {
        let params = Params::from_pairs(raw).map_err(AuthorizeError::Page)?;
        let client_id = params
            .get("client_id")
            .and_then(ClientId::parse)
            .ok_or_else(|| page(ErrorCode::InvalidRequest, "client_id is missing or malformed"))?;
        let client = self
            .client(&client_id)
            .await
            .map_err(|e| AuthorizeError::Page(e.into()))?
            .ok_or_else(|| page(ErrorCode::InvalidClient, "unknown client"))?;
        let redirect_uri =
            params.get("redirect_uri").ok_or_else(|| page(ErrorCode::InvalidRequest, "redirect_uri is missing"))?;
        if !client.redirect_uri_registered(redirect_uri) {
            return Err(page(ErrorCode::InvalidRequest, "redirect_uri is not registered for this client"));
        }
        let response_mode = match params.get("response_mode") {
            None | Some("query") => ResponseMode::Query,
            Some("form_post") => ResponseMode::FormPost,
            Some(_) => ResponseMode::Query,
        };
        let mut req = AuthorizationRequest {
            redirect_uri: redirect_uri.to_owned(),
            response_mode,
            scopes: Scopes::default(),
            state: params.get("state").map(str::to_owned),
            nonce: params.get("nonce").map(str::to_owned),
            code_challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: params.get("login_hint").map(str::to_owned),
            ui_locales: params.get("ui_locales").map(str::to_owned),
            client,
        };
        let issuer = self.settings.issuer.clone();
        let fail = |req: &AuthorizationRequest, code, d: &str| req.error(code, d, &issuer);
        if let Some(mode) = params.get("response_mode")
            && !matches!(mode, "query" | "form_post")
        {
            return Err(fail(&req, ErrorCode::InvalidRequest, "unsupported response_mode"));
        }
        if params.get("request").is_some() || params.get("request_uri").is_some() {
            return Err(fail(&req, ErrorCode::InvalidRequest, "request objects are not supported"));
        }
        match params.get("response_type") {
            None => return Err(fail(&req, ErrorCode::InvalidRequest, "response_type is missing")),
            Some("code") => {}
            Some(_) => {
                return Err(fail(&req, ErrorCode::UnsupportedResponseType, "only response_type=code is supported"));
            }
        }
        if !req.client.allows(GrantType::AuthorizationCode) {
            return Err(fail(
                &req,
                ErrorCode::UnauthorizedClient,
                "this client may not use the authorization code grant",
            ));
        }
        let scopes = match Scopes::parse(params.get("scope").unwrap_or("")) {
            Ok(s) => s,
            Err(_) => return Err(fail(&req, ErrorCode::InvalidScope, "scope is malformed")),
        };
        if !scopes.contains(OPENID) {
            return Err(fail(&req, ErrorCode::InvalidScope, "the openid scope is required"));
        }
        req.scopes = match scopes.restrict_to(&req.client.scopes, req.client.strict_scopes) {
            Ok(s) => s,
            Err(ScopeError::NotAllowed(names)) => {
                return Err(fail(&req, ErrorCode::InvalidScope, &format!("scopes not allowed: {}", names.join(" "))));
            }
            Err(ScopeError::Malformed) => return Err(fail(&req, ErrorCode::InvalidScope, "scope is malformed")),
        };
        match (params.get("code_challenge"), params.get("code_challenge_method")) {
            (Some(c), Some("S256")) if pkce_syntax_ok(c) => req.code_challenge = Some(c.to_owned()),
            (Some(_), Some("S256")) => {
                return Err(fail(&req, ErrorCode::InvalidRequest, "code_challenge is malformed"));
            }
            (Some(_), Some(_)) | (None, Some(_)) => {
                return Err(fail(&req, ErrorCode::InvalidRequest, "only code_challenge_method=S256 is supported"));
            }
            // RFC 7636 says a missing method means "plain", which we refuse (RFC 9700 §2.1.1).
            (Some(_), None) => {
                return Err(fail(&req, ErrorCode::InvalidRequest, "code_challenge_method=S256 is required"));
            }
            (None, None) => {
                if req.client.requires_pkce() {
                    return Err(fail(&req, ErrorCode::InvalidRequest, "PKCE (S256) is required for public clients"));
                }
            }
        }
        if let Some(prompt) = params.get("prompt") {
            for value in prompt.split(' ').filter(|v| !v.is_empty()) {
                match value {
                    "none" => req.prompt.none = true,
                    "login" => req.prompt.login = true,
                    "consent" => req.prompt.consent = true,
                    "select_account" => req.prompt.select_account = true,
                    _ => return Err(fail(&req, ErrorCode::InvalidRequest, "unknown prompt value")),
                }
            }
            let p = req.prompt;
            if p.none && (p.login || p.consent || p.select_account) {
                return Err(fail(&req, ErrorCode::InvalidRequest, "prompt=none cannot be combined"));
            }
        }
        if let Some(max_age) = params.get("max_age") {
            match max_age.parse::<i64>() {
                Ok(v) if v >= 0 => req.max_age = Some(v),
                _ => return Err(fail(&req, ErrorCode::InvalidRequest, "max_age must be a non-negative integer")),
            }
        }
        Ok(req)
    }

    /// What `req` needs now, given the SSO session (if any) with its person
    /// and their access rights as just read, and whether the person
    /// authenticated for this very request.
    pub async fn decide(
        &self,
        req: &AuthorizationRequest,
        session: Option<(&Authenticated, &User, &AccessRights)>,
        fresh_login: bool,
        consent_given: bool,
    ) -> Result<Decision, AuthorizeError> {
        let issuer = &self.settings.issuer;
        let now = self.clock.now();
        let needs_login = match session {
            None => true,
            Some((s, _, _)) => {
                let too_old = req.max_age.is_some_and(|max| (now - s.auth_time).whole_seconds() > max);
                too_old || ((req.prompt.login || req.prompt.select_account) && !fresh_login)
            }
        };
        if needs_login {
            return if req.prompt.none {
                Err(req.error(ErrorCode::LoginRequired, "the person is not signed in", issuer))
            } else {
                Ok(Decision::Login)
            };
        }
        let Some((session, user, rights)) = session else { return Ok(Decision::Login) };
        let Some(user) = Some(user).filter(|u| u.status == UserStatus::Active) else {
            return if req.prompt.none {
                Err(req.error(ErrorCode::LoginRequired, "the person is not signed in", issuer))
            } else {
                Ok(Decision::Login)
            };
        };
        // Per-service policy, evaluated at every authorization like access rights:
        // setting a password makes the same identity welcome here.
        if !req.client.accepts_federated_only && tunnus_core::federation::is_federated_only(user) {
            return if req.prompt.none {
                Err(req.error(
                    ErrorCode::InteractionRequired,
                    "this service needs a password: the person signs in only through an upstream provider",
                    issuer,
                ))
            } else {
                Ok(Decision::FederatedOnlyRefused)
            };
        }
        // Access rights are evaluated now, at every authorization, silent SSO included.
        if let Some(required) = &req.client.required_entitlement
            && !rights.has(required)
        {
            if req.prompt.none {
                return Err(req.error(
                    ErrorCode::AccessDenied,
                    &format!("the person lacks the {required} entitlement"),
                    issuer,
                ));
            }
            let granters = self.access_granters(rights).await.map_err(|e| AuthorizeError::Page(e.into()))?;
            return Ok(Decision::AccessDenied { entitlement: required.clone(), granters });
        }
        if req.client.first_party || consent_given {
            return Ok(Decision::Issue);
        }
        let wanted: Vec<String> = req.scopes.iter().filter(|s| *s != OPENID).map(str::to_owned).collect();
        let (uid, cid) = (session.user_id.to_string(), req.client.id.to_string());
        let granted =
            self.db.lookup(move |c| consents::find(c, &uid, &cid)).await.map_err(|e| AuthorizeError::Page(e.into()))?;
        let covered = granted.is_some_and(|g| {
            let g = Scopes::parse(&g).unwrap_or_default();
            wanted.iter().all(|w| g.contains(w))
        });
        if covered && !req.prompt.consent {
            return Ok(Decision::Issue);
        }
        if req.prompt.none {
            return Err(req.error(ErrorCode::ConsentRequired, "consent is required", issuer));
        }
        Ok(Decision::Consent(wanted))
    }

    /// Records the person's approval of the request's scopes for its client.
    pub async fn grant_consent(&self, req: &AuthorizationRequest, user: &tunnus_core::UserId) -> OAuthResult<()> {
        let scopes: Vec<&str> = req.scopes.iter().filter(|s| *s != OPENID).collect();
        let scopes = scopes.join(" ");
        let (uid, cid, now) = (user.to_string(), req.client.id.to_string(), self.clock.now());
        self.db.write(move |c| consents::grant(c, &uid, &cid, &scopes, now)).await?;
        Ok(())
    }

    /// The answer when the person refused consent (or lacks access).
    pub fn denied(&self, req: &AuthorizationRequest, description: &str) -> AuthorizationResponse {
        error_response(
            &req.redirect_uri,
            req.response_mode,
            req.state.as_deref(),
            ErrorCode::AccessDenied,
            description,
            &self.settings.issuer,
        )
    }

    /// The answer to a `prompt=none` request when the person would have to
    /// see a page first (e.g. to accept new terms).
    pub fn interaction_required(&self, req: &AuthorizationRequest, description: &str) -> AuthorizationResponse {
        error_response(
            &req.redirect_uri,
            req.response_mode,
            req.state.as_deref(),
            ErrorCode::InteractionRequired,
            description,
            &self.settings.issuer,
        )
    }

    /// Issues a one-time code for `req` on behalf of `session`, whose person
    /// and rights were read for this decision.
    pub async fn issue_code(
        &self,
        req: &AuthorizationRequest,
        session: &Authenticated,
        user: &User,
        rights: &AccessRights,
    ) -> OAuthResult<AuthorizationResponse> {
        let code = SecretToken::generate(&mut rand::rng());
        let mut scopes = req.scopes.clone();
        if scopes.contains(OFFLINE_ACCESS) && !req.client.allows(GrantType::RefreshToken) {
            scopes = Scopes::from_iter(scopes.iter().filter(|s| *s != OFFLINE_ACCESS));
        }
        let grant = CodeGrant {
            client_id: req.client.id.to_string(),
            redirect_uri: req.redirect_uri.clone(),
            subject: self.subject(&req.client, user, rights, &scopes)?,
            scopes: scopes.to_param(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time: session.auth_time.unix_timestamp(),
            amr: session.amr.clone(),
            sid: session.sid.clone(),
        };
        let value = serde_json::to_string(&grant).map_err(|e| OAuthError::server(e.to_string()))?;
        let ttl = std::time::Duration::from_secs(self.settings.code_ttl.whole_seconds().max(1).unsigned_abs());
        self.ephemeral.put(&code_key(&code.hash()), &value, ttl).await?;
        // The session remembers which clients it signed in to, for back-channel
        // logout; not written again when this process did so lately (see `EnteredClients`).
        let session_ttl =
            std::time::Duration::from_secs(self.settings.session_refresh_absolute.whole_seconds().unsigned_abs());
        if !self.entered.recently(&session.sid, &req.client.id, session_ttl / 64) {
            self.ephemeral.set_add(&session_clients_key(&session.sid), req.client.id.as_str(), session_ttl).await?;
            self.entered.record(&session.sid, &req.client.id);
        }
        let mut fields = vec![("code".to_owned(), code.expose().to_owned())];
        if let Some(s) = &req.state {
            fields.push(("state".into(), s.clone()));
        }
        fields.push(("iss".into(), self.settings.issuer.clone()));
        Ok(AuthorizationResponse { redirect_uri: req.redirect_uri.clone(), mode: req.response_mode, fields })
    }
}

// The code and its used-marker share a Redis Cluster hash tag, so that
// taking one and setting the other is one transaction (`take_once`).
pub fn code_key(hash: &TokenHash) -> String {
    format!("code:{{{}}}", hash.as_str())
}

pub fn used_code_key(hash: &TokenHash) -> String {
    format!("code-used:{{{}}}", hash.as_str())
}

pub fn session_clients_key(sid: &str) -> String {
    format!("session-clients:{sid}")
}
