//! Using and managing tokens: UserInfo (OIDC Core §5.3), introspection
//! (RFC 7662) and revocation (RFC 7009).

use josekit::jwt::JwtPayload;
use serde_json::{Value, json};
use tunnus_core::scope::Scopes;
use tunnus_core::{SecretToken, UserId};
use tunnus_store::refresh_tokens;

use crate::claims::{access_claims, user_claims};
use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::grants::revoked_family_key;
use crate::params::Params;
use crate::provider::Provider;

/// A verified, unexpired, unrevoked access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub payload: JwtPayload,
}

impl AccessToken {
    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.payload.claim(name).and_then(Value::as_str)
    }

    pub fn scopes(&self) -> Scopes {
        Scopes::parse(self.claim_str("scope").unwrap_or("")).unwrap_or_default()
    }
}

fn revoked_jti_key(jti: &str) -> String {
    format!("revoked-jti:{jti}")
}

impl Provider {
    /// Checks an access token we issued.
    pub async fn verify_access_token(&self, token: &str) -> OAuthResult<AccessToken> {
        let invalid = || OAuthError::invalid_token("the access token is not valid");
        let now = std::time::SystemTime::from(self.clock.now());
        let (payload, typ) = self.keys.verify(token, now).ok_or_else(invalid)?;
        if typ.as_deref() != Some("at+jwt") || payload.issuer() != Some(self.settings.issuer.as_str()) {
            return Err(invalid());
        }
        if payload.expires_at().is_none_or(|exp| exp <= now) {
            return Err(OAuthError::invalid_token("the access token has expired"));
        }
        let at = AccessToken { payload };
        // Revoked with its grant (family) or on its own (jti): both markers
        // in one round trip to the short-lived store.
        let markers: Vec<String> =
            [at.claim_str("gid").map(revoked_family_key), at.payload.jwt_id().map(revoked_jti_key)]
                .into_iter()
                .flatten()
                .collect();
        if self.ephemeral.any_exists(&markers).await? {
            return Err(OAuthError::invalid_token("the access token was revoked"));
        }
        Ok(at)
    }

    /// `GET|POST /userinfo`: the claims the token's scopes release.
    pub async fn userinfo(&self, token: &str) -> OAuthResult<Value> {
        let at = self.verify_access_token(token).await?;
        let scopes = at.scopes();
        if !scopes.contains(tunnus_core::scope::OPENID) {
            return Err(OAuthError::new(ErrorCode::InsufficientScope, "the token lacks the openid scope"));
        }
        let sub = at.payload.subject().ok_or_else(|| OAuthError::invalid_token("no subject"))?;
        let (user, rights) = self
            .active_person(&UserId::from_stored(sub.to_owned()))
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the account is not active"))?;
        let mut claims = user_claims(&user, &scopes);
        claims.extend(access_claims(&rights, &scopes));
        Ok(Value::Object(claims))
    }

    /// `POST /introspect` (client-authenticated; public clients may not).
    pub async fn introspect(&self, authorization: Option<&str>, raw: Vec<(String, String)>) -> OAuthResult<Value> {
        let params = Params::from_pairs(raw)?;
        let caller = self.authenticate_client(authorization, &params).await?;
        if caller.kind != tunnus_core::client::ClientKind::Confidential {
            return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "public clients cannot introspect"));
        }
        let token = params.require("token")?;
        if let Ok(at) = self.verify_access_token(token).await {
            let mut out = json!({ "active": true, "token_type": "Bearer" });
            for claim in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "sid", "auth_time"] {
                if let Some(v) = at.payload.claim(claim) {
                    out[claim] = v.clone();
                }
            }
            return Ok(out);
        }
        if let Some(secret) = SecretToken::from_presented(token) {
            let hash = secret.hash();
            if let Some(r) = self.db.lookup(move |c| refresh_tokens::find(c, &hash)).await? {
                let now = self.clock.now();
                let session_ok = r.offline
                    || match &r.sid {
                        Some(sid) => self.session_alive(sid).await?,
                        None => false,
                    };
                let active = r.revoked_at.is_none() && r.rotated_at.is_none() && now < r.expires_at && session_ok;
                if active {
                    return Ok(json!({
                        "active": true,
                        "token_type": "refresh_token",
                        "scope": r.scopes,
                        "client_id": r.client_id,
                        "sub": r.user_id,
                        "exp": r.expires_at.unix_timestamp(),
                        "iat": r.created_at.unix_timestamp(),
                    }));
                }
            }
        }
        Ok(json!({ "active": false }))
    }

    /// `POST /revoke`: always 200 for a well-formed request, whether or not
    /// the token was known (RFC 7009 §2.2); a client can revoke only its own tokens.
    pub async fn revoke(&self, authorization: Option<&str>, raw: Vec<(String, String)>) -> OAuthResult<()> {
        let params = Params::from_pairs(raw)?;
        let caller = self.authenticate_client(authorization, &params).await?;
        let token = params.require("token")?;
        if let Some(secret) = SecretToken::from_presented(token) {
            let hash = secret.hash();
            if let Some(r) = self.db.lookup(move |c| refresh_tokens::find(c, &hash)).await? {
                if r.client_id == caller.id.as_str() {
                    let (family, now) = (r.family_id.clone(), self.clock.now());
                    self.db.write(move |c| refresh_tokens::revoke_family(c, &family, now)).await?;
                    self.deny_family(&r.family_id).await?;
                }
                return Ok(());
            }
        }
        if let Ok(at) = self.verify_access_token(token).await
            && at.claim_str("client_id") == Some(caller.id.as_str())
            && let Some(jti) = at.payload.jwt_id()
        {
            let ttl =
                std::time::Duration::from_secs(self.settings.access_token_ttl.whole_seconds().unsigned_abs() + 60);
            self.ephemeral.put(&revoked_jti_key(jti), "1", ttl).await?;
        }
        Ok(())
    }
}
