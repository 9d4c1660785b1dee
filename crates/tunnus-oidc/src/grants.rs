//! The token endpoint's grants (RFC 6749 §4.1.3, §4.4, §6; RFC 7636 §4.6)
//! and the tokens they mint: a JWT access token (RFC 9068), an ID token
//! (OIDC Core §2) and an opaque, rotating refresh token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwt::JwtPayload;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tunnus_core::access::AccessRights;
use tunnus_core::client::{Client, ClientKind, GrantType};
use tunnus_core::scope::{OFFLINE_ACCESS, OPENID, ScopeError, Scopes};
use tunnus_core::{SecretToken, TokenHash, User, UserId};
use tunnus_store::ephemeral::TakenOnce;
use tunnus_store::refresh_tokens::{self, RefreshRecord, Rotation, TokenWrite};

use crate::authorize::{CodeGrant, code_key, pkce_syntax_ok, used_code_key};
use crate::claims::TokenSubject;
use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::keys::half_hash;
use crate::params::Params;
use crate::provider::Provider;

/// How long a used code's marker is kept: a replay within this time
/// revokes what the code's first use obtained. Codes live for minutes.
const USED_CODE_KEPT: std::time::Duration = std::time::Duration::from_secs(600);

/// The `acr` of a password sign-in.
pub const ACR_PASSWORD: &str = "urn:tunnus:acr:password";

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// How and when the person authenticated, carried from sign-in into every token.
#[derive(Debug, Clone)]
pub(crate) struct AuthContext {
    pub(crate) auth_time: OffsetDateTime,
    pub(crate) amr: Vec<String>,
    pub(crate) sid: Option<String>,
}

fn unix(t: OffsetDateTime) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.unix_timestamp().max(0).unsigned_abs())
}

pub fn revoked_family_key(family: &str) -> String {
    format!("revoked-family:{family}")
}

impl Provider {
    /// `POST /token`.
    pub async fn token(&self, authorization: Option<&str>, raw: Vec<(String, String)>) -> OAuthResult<TokenResponse> {
        let params = Params::from_pairs(raw)?;
        let grant = params.require("grant_type")?;
        let grant = GrantType::parse(grant)
            .ok_or_else(|| OAuthError::new(ErrorCode::UnsupportedGrantType, "unsupported grant_type"))?;
        let client = self.authenticate_client(authorization, &params).await?;
        if !client.allows(grant) {
            return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use this grant"));
        }
        match grant {
            GrantType::AuthorizationCode => self.exchange_code(&client, &params).await,
            GrantType::RefreshToken => self.refresh(&client, &params).await,
            GrantType::ClientCredentials => self.client_credentials(&client, &params).await,
            GrantType::DeviceCode => self.device_code_grant(&client, &params).await,
        }
    }

    /// Remembers a refresh-token family as revoked for as long as access
    /// tokens from it could still be presented.
    pub(crate) async fn deny_family(&self, family: &str) -> OAuthResult<()> {
        let ttl = std::time::Duration::from_secs(self.settings.access_token_ttl.whole_seconds().unsigned_abs() + 60);
        self.ephemeral.put(&revoked_family_key(family), "1", ttl).await?;
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> OAuthResult<()> {
        let (f, now) = (family.to_owned(), self.clock.now());
        self.db.write(move |c| refresh_tokens::revoke_family(c, &f, now)).await?;
        self.deny_family(family).await
    }

    /// The person a grant is for, with their access rights now.
    pub(crate) async fn active_user(&self, id: &str) -> OAuthResult<(User, AccessRights)> {
        self.active_person(&UserId::from_stored(id.to_owned()))
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("the account is not active"))
    }

    async fn exchange_code(&self, client: &Client, params: &Params) -> OAuthResult<TokenResponse> {
        let code = params.require("code")?;
        let code =
            SecretToken::from_presented(code).ok_or_else(|| OAuthError::invalid_grant("unknown or expired code"))?;
        let hash = code.hash();
        // The grant the code starts; a replay of the code revokes it.
        let family = uuid::Uuid::now_v7().to_string();
        let raw =
            match self.ephemeral.take_once(&code_key(&hash), &used_code_key(&hash), &family, USED_CODE_KEPT).await? {
                TakenOnce::Taken(raw) => raw,
                TakenOnce::TakenBefore(first) => {
                    // A second use of a code: revoke what the first use obtained (RFC 6749 §4.1.2).
                    tracing::warn!(client_id = %client.id, "authorization code replayed; revoking its tokens");
                    self.revoke_family(&first).await?;
                    return Err(OAuthError::invalid_grant("the code was already used"));
                }
                TakenOnce::Missing => return Err(OAuthError::invalid_grant("unknown or expired code")),
            };
        let grant: CodeGrant = serde_json::from_str(&raw).map_err(|e| OAuthError::server(e.to_string()))?;
        if grant.client_id != client.id.as_str() {
            return Err(OAuthError::invalid_grant("the code was issued to another client"));
        }
        if params.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
        }
        match (&grant.code_challenge, params.get("code_verifier")) {
            (Some(challenge), Some(verifier)) => {
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if !pkce_syntax_ok(verifier)
                    || !tunnus_core::secret::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
                {
                    return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
                }
            }
            (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is missing")),
            // A verifier for a code issued without PKCE is a downgrade attempt (RFC 9700 §2.1.1).
            (None, Some(_)) => return Err(OAuthError::invalid_grant("the authorization request did not use PKCE")),
            (None, None) => {}
        }
        // The code carries the person and their rights as the authorization
        // found them a moment ago, so the exchange reads no database. What
        // may end an authorization in between — a sign-out, signing out
        // everywhere, deleting the account — ends its SSO session.
        if !self.session_alive(&grant.sid).await? {
            return Err(OAuthError::invalid_grant("the sign-in session has ended"));
        }
        let scopes = Scopes::parse(&grant.scopes).unwrap_or_default();
        let auth = AuthContext {
            auth_time: OffsetDateTime::from_unix_timestamp(grant.auth_time).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            amr: grant.amr.clone(),
            sid: Some(grant.sid.clone()),
        };
        let refresh = client.allows(GrantType::RefreshToken);
        let nonce = grant.nonce.as_deref();
        self.mint(client, &grant.subject, &scopes, &auth, nonce, &family, refresh.then_some(None)).await
    }

    /// A refresh rotates its token first: one statement marks the token
    /// rotated if it is current and this client's, stores the next one and
    /// reads the grant back, so a refresh makes no read of its own before
    /// it (with PostgreSQL, that read cost more than the batched writes:
    /// docs/performance.md, "2026-12-06 (final run)"). A token that does not
    /// rotate is read to say why, and a reuse revokes its family. The
    /// checks that need the family — the scope asked, the session, the
    /// account, the client's policies, a key to sign with — come after; a
    /// refresh they refuse undoes its rotation, so a refused refresh uses
    /// nothing up.
    async fn refresh(&self, client: &Client, params: &Params) -> OAuthResult<TokenResponse> {
        let presented = params.require("refresh_token")?;
        let token =
            SecretToken::from_presented(presented).ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
        let hash = token.hash();
        let asked = params
            .get("scope")
            .map(|s| Scopes::parse(s).map_err(|_| OAuthError::new(ErrorCode::InvalidScope, "scope is malformed")))
            .transpose()?;
        let (now, s) = (self.clock.now(), &self.settings);
        let next = SecretToken::generate_ordered(&mut rand::rng(), now);
        let next_hash = next.hash();
        let rotation = Rotation {
            old: hash.clone(),
            client_id: client.id.to_string(),
            at: now,
            session_until: now + s.session_refresh_sliding,
            offline_until: now + s.offline_refresh_sliding,
        };
        let Some(record) = self.refresh_tokens.store(TokenWrite::rotation(rotation, next_hash.clone())).await? else {
            return Err(self.refresh_refused(client, &hash, now).await?);
        };
        let answer = self.refreshed(client, asked, record, next).await;
        if answer.is_err() {
            let undone = self.db.write(move |c| refresh_tokens::undo_rotation(c, &hash, &next_hash)).await;
            if !matches!(undone, Ok(true)) {
                tracing::warn!(client_id = %client.id, ?undone, "a refused refresh could not undo its rotation");
            }
        }
        answer
    }

    /// The answer to a refresh whose token rotated to `next`, with the
    /// grant as `record` (the next token's): refused if it asks a scope the
    /// grant does not hold, its session ended, the account is not active or
    /// the client's policies turn the person away now.
    async fn refreshed(
        &self,
        client: &Client,
        asked: Option<Scopes>,
        record: RefreshRecord,
        next: SecretToken,
    ) -> OAuthResult<TokenResponse> {
        if !record.offline {
            let alive = match &record.sid {
                Some(sid) => self.session_alive(sid).await?,
                None => false,
            };
            if !alive {
                return Err(OAuthError::invalid_grant("the sign-in session has ended"));
            }
        }
        let granted = Scopes::parse(&record.scopes).unwrap_or_default();
        let scopes = match asked {
            None => granted,
            Some(asked) if asked.is_subset(&granted) => asked,
            Some(_) => return Err(OAuthError::new(ErrorCode::InvalidScope, "a refresh cannot widen the scope")),
        };
        let person = self.person(&UserId::from_stored(record.user_id.clone()), false).await?;
        let person = person.as_ref().as_ref().ok_or_else(|| OAuthError::invalid_grant("the account is not active"))?;
        let (user, rights) = (&person.user, self.rights_now(&person.facts));
        let auth = AuthContext {
            auth_time: record.auth_time,
            amr: serde_json::from_str(&record.amr).unwrap_or_default(),
            sid: record.sid.clone(),
        };
        let subject = self.subject(client, user, &rights, &scopes)?;
        self.mint(client, &subject, &scopes, &auth, None, &record.family_id, Some(Some(next))).await
    }

    /// Why the refresh token `hash` did not rotate, as `client` is told. A
    /// token of this client that was already rotated is a reuse: its family
    /// is revoked.
    async fn refresh_refused(&self, client: &Client, hash: &TokenHash, now: OffsetDateTime) -> OAuthResult<OAuthError> {
        let Some(record) = self.refresh_record(hash).await? else {
            return Ok(OAuthError::invalid_grant("unknown refresh token"));
        };
        if record.client_id != client.id.as_str() {
            return Ok(OAuthError::invalid_grant("the refresh token was issued to another client"));
        }
        if record.revoked_at.is_some() {
            return Ok(OAuthError::invalid_grant("the refresh token was revoked"));
        }
        if record.rotated_at.is_some() {
            tracing::warn!(client_id = %client.id, family = %record.family_id, "refresh token reused; revoking the family");
            self.revoke_family(&record.family_id).await?;
            return Ok(OAuthError::invalid_grant("the refresh token was already used; the grant is revoked"));
        }
        if now >= record.expires_at || now >= record.family_expires_at {
            return Ok(OAuthError::invalid_grant("the refresh token has expired"));
        }
        // Current when read, yet it did not rotate a moment before: only a
        // clock running backwards between the two would do that.
        tracing::warn!(client_id = %client.id, family = %record.family_id, "a current refresh token did not rotate");
        Ok(OAuthError::invalid_grant("the refresh token could not be used; try again"))
    }

    async fn client_credentials(&self, client: &Client, params: &Params) -> OAuthResult<TokenResponse> {
        if client.kind != ClientKind::Confidential {
            return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "public clients cannot use client credentials"));
        }
        let asked = Scopes::parse(params.get("scope").unwrap_or(""))
            .map_err(|_| OAuthError::new(ErrorCode::InvalidScope, "scope is malformed"))?;
        let scopes = match asked.restrict_to(&client.scopes, client.strict_scopes) {
            Ok(s) => Scopes::from_iter(s.iter().filter(|s| *s != OPENID && *s != OFFLINE_ACCESS)),
            Err(ScopeError::NotAllowed(names)) => {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("scopes not allowed: {}", names.join(" ")),
                ));
            }
            Err(ScopeError::Malformed) => return Err(OAuthError::new(ErrorCode::InvalidScope, "scope is malformed")),
        };
        let now = self.clock.now();
        let mut at = JwtPayload::new();
        at.set_issuer(&self.settings.issuer);
        at.set_subject(client.id.as_str());
        at.set_audience(vec![client.id.as_str()]);
        at.set_issued_at(&unix(now));
        at.set_expires_at(&unix(now + self.settings.access_token_ttl));
        at.set_jwt_id(uuid::Uuid::now_v7().to_string());
        at.set_claim("client_id", Some(json!(client.id.as_str()))).map_err(|e| OAuthError::server(e.to_string()))?;
        at.set_claim("scope", Some(json!(scopes.to_param()))).map_err(|e| OAuthError::server(e.to_string()))?;
        let access_token = self.keys.sign(client.id_token_alg, "at+jwt", &at)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.settings.access_token_ttl.whole_seconds(),
            id_token: None,
            refresh_token: None,
            scope: scopes.to_param(),
        })
    }

    /// What the tokens of a grant for `user` say, once the client's
    /// policies allow them: its required entitlement (rights as they are
    /// now: a refresh reflects every change since sign-in) and whether it
    /// accepts identities that sign in only through an upstream provider
    /// (for every grant, device flow and refresh too).
    pub(crate) fn subject(
        &self,
        client: &Client,
        user: &User,
        rights: &AccessRights,
        scopes: &Scopes,
    ) -> OAuthResult<TokenSubject> {
        if let Some(required) = &client.required_entitlement
            && !rights.has(required)
        {
            return Err(OAuthError::invalid_grant(format!("the person no longer holds the {required} entitlement")));
        }
        if !client.accepts_federated_only && tunnus_core::federation::is_federated_only(user) {
            return Err(OAuthError::invalid_grant("this service needs a password of the person's own"));
        }
        Ok(TokenSubject::new(user, rights, scopes))
    }

    /// Mints the tokens of a code exchange or refresh. `refresh`: `None` for
    /// no refresh token, `Some(None)` for a new family (stored here),
    /// `Some(Some(next))` for the token a rotation already stored.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn mint(
        &self,
        client: &Client,
        subject: &TokenSubject,
        scopes: &Scopes,
        auth: &AuthContext,
        nonce: Option<&str>,
        family: &str,
        refresh: Option<Option<SecretToken>>,
    ) -> OAuthResult<TokenResponse> {
        let now = self.clock.now();
        let s = &self.settings;
        let set = |p: &mut JwtPayload, k: &str, v: Value| {
            p.set_claim(k, Some(v)).map_err(|e| OAuthError::server(e.to_string()))
        };
        let mut at = JwtPayload::new();
        at.set_issuer(&s.issuer);
        at.set_subject(&subject.user_id);
        at.set_audience(vec![client.id.as_str()]);
        at.set_issued_at(&unix(now));
        at.set_expires_at(&unix(now + s.access_token_ttl));
        at.set_jwt_id(uuid::Uuid::now_v7().to_string());
        set(&mut at, "client_id", json!(client.id.as_str()))?;
        set(&mut at, "scope", json!(scopes.to_param()))?;
        set(&mut at, "auth_time", json!(auth.auth_time.unix_timestamp()))?;
        set(&mut at, "gid", json!(family))?;
        if let Some(sid) = &auth.sid {
            set(&mut at, "sid", json!(sid))?;
        }
        for (k, v) in &subject.rights {
            set(&mut at, k.as_str(), v.clone())?;
        }
        let id = if scopes.contains(OPENID) {
            let mut id = JwtPayload::new();
            for (k, v) in subject.person.iter().chain(&subject.rights) {
                set(&mut id, k.as_str(), v.clone())?;
            }
            id.set_issuer(&s.issuer);
            id.set_audience(vec![client.id.as_str()]);
            id.set_issued_at(&unix(now));
            id.set_expires_at(&unix(now + s.id_token_ttl));
            set(&mut id, "azp", json!(client.id.as_str()))?;
            set(&mut id, "auth_time", json!(auth.auth_time.unix_timestamp()))?;
            set(&mut id, "amr", json!(auth.amr))?;
            set(&mut id, "acr", json!(ACR_PASSWORD))?;
            if let Some(n) = nonce {
                set(&mut id, "nonce", json!(n))?;
            }
            if let Some(sid) = &auth.sid {
                set(&mut id, "sid", json!(sid))?;
            }
            Some(id)
        } else {
            None
        };
        // Asked for before anything is written: with the key at hand,
        // signing cannot fail for want of it after a new family is stored.
        let key = self.keys.active(client.id_token_alg)?;
        let sign = move || -> OAuthResult<(String, Option<String>)> {
            let access_token = key.sign("at+jwt", &at)?;
            let id_token = match id {
                Some(mut id) => {
                    set(&mut id, "at_hash", json!(half_hash(client.id_token_alg, &access_token)))?;
                    Some(key.sign("JWT", &id)?)
                }
                None => None,
            };
            Ok((access_token, id_token))
        };

        let ((access_token, id_token), refresh_token) = match refresh {
            None => (sign()?, None),
            Some(Some(rotated)) => (sign()?, Some(rotated.expose().to_owned())),
            Some(None) => {
                let offline = scopes.contains(OFFLINE_ACCESS);
                let (sliding, absolute) = if offline {
                    (s.offline_refresh_sliding, s.offline_refresh_absolute)
                } else {
                    (s.session_refresh_sliding, s.session_refresh_absolute)
                };
                let secret = SecretToken::generate_ordered(&mut rand::rng(), now);
                let record = RefreshRecord {
                    family_id: family.to_owned(),
                    client_id: client.id.to_string(),
                    user_id: subject.user_id.clone(),
                    scopes: scopes.to_param(),
                    sid: auth.sid.clone(),
                    offline,
                    auth_time: auth.auth_time,
                    amr: serde_json::to_string(&auth.amr).unwrap_or_else(|_| "[]".into()),
                    created_at: now,
                    expires_at: now + sliding,
                    family_expires_at: now + absolute,
                    rotated_at: None,
                    revoked_at: None,
                };
                let write = self.refresh_tokens.store(TokenWrite::first(secret.hash(), record));
                // The write is queued first (`biased`), then the tokens are
                // signed on this thread while the database writes: the
                // signing no longer waits for the commit, nor the commit for
                // the signing. Nothing signed leaves unless the write succeeded.
                let (stored, signed) = tokio::join!(biased; write, async { sign() });
                if stored?.is_none() {
                    return Err(OAuthError::server("a new refresh-token family was not stored"));
                }
                (signed?, Some(secret.expose().to_owned()))
            }
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: s.access_token_ttl.whole_seconds(),
            id_token,
            refresh_token,
            scope: scopes.to_param(),
        })
    }
}
