//! The device authorization grant (RFC 8628): a device without a browser
//! shows a short code; the person enters it on the hosted page, signed in,
//! and approves; the device polls the token endpoint meanwhile.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tunnus_core::client::{Client, GrantType};
use tunnus_core::device::{generate_user_code, normalize_user_code};
use tunnus_core::scope::{ScopeError, Scopes};
use tunnus_core::{SecretToken, TokenHash};

use crate::error::{ErrorCode, OAuthError, OAuthResult};
use crate::grants::{AuthContext, TokenResponse};
use crate::params::Params;
use crate::provider::{Authenticated, Provider};

/// How long a device code and its user code live.
const LIFETIME_SECONDS: i64 = 600;
/// The polling interval we ask for; `slow_down` adds 5 s (RFC 8628 §3.5).
const INTERVAL_SECONDS: i64 = 5;

/// The state of one device authorization, in the short-lived store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceGrant {
    pub client_id: String,
    pub client_name: String,
    pub scopes: String,
    pub user_code: String,
    pub expires_at: i64,
    pub interval: i64,
    pub last_poll: Option<i64>,
    pub decision: DeviceDecision,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeviceDecision {
    Pending,
    Approved { user_id: String, auth_time: i64, amr: Vec<String>, sid: String },
    Denied,
}

fn device_key(hash: &TokenHash) -> String {
    format!("device:{}", hash.as_str())
}

fn user_code_key(code: &str) -> String {
    format!("device-user-code:{code}")
}

fn ttl(seconds: i64) -> std::time::Duration {
    std::time::Duration::from_secs(seconds.max(1).unsigned_abs())
}

impl Provider {
    /// `POST /device_authorization` (RFC 8628 §3.1–3.2).
    pub async fn device_authorization(
        &self,
        authorization: Option<&str>,
        raw: Vec<(String, String)>,
    ) -> OAuthResult<Value> {
        let params = Params::from_pairs(raw)?;
        let client = self.authenticate_client(authorization, &params).await?;
        if !client.allows(GrantType::DeviceCode) {
            return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use the device grant"));
        }
        let asked = Scopes::parse(params.get("scope").unwrap_or("openid"))
            .map_err(|_| OAuthError::new(ErrorCode::InvalidScope, "scope is malformed"))?;
        let scopes = match asked.restrict_to(&client.scopes, client.strict_scopes) {
            Ok(s) => s,
            Err(ScopeError::NotAllowed(n)) => {
                return Err(OAuthError::new(ErrorCode::InvalidScope, format!("scopes not allowed: {}", n.join(" "))));
            }
            Err(ScopeError::Malformed) => return Err(OAuthError::new(ErrorCode::InvalidScope, "scope is malformed")),
        };
        let device_code = SecretToken::generate(&mut rand::rng());
        let user_code = generate_user_code(&mut rand::rng());
        let now = self.clock.now().unix_timestamp();
        let grant = DeviceGrant {
            client_id: client.id.to_string(),
            client_name: client.name.clone(),
            scopes: scopes.to_param(),
            user_code: user_code.clone(),
            expires_at: now + LIFETIME_SECONDS,
            interval: INTERVAL_SECONDS,
            last_poll: None,
            decision: DeviceDecision::Pending,
        };
        let hash = device_code.hash();
        let value = serde_json::to_string(&grant).map_err(|e| OAuthError::server(e.to_string()))?;
        self.ephemeral.put(&device_key(&hash), &value, ttl(LIFETIME_SECONDS)).await?;
        self.ephemeral.put(&user_code_key(&user_code), hash.as_str(), ttl(LIFETIME_SECONDS)).await?;
        let verification_uri = format!("{}/device", self.settings.issuer);
        Ok(json!({
            "device_code": device_code.expose(),
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": format!("{verification_uri}?user_code={user_code}"),
            "expires_in": LIFETIME_SECONDS,
            "interval": INTERVAL_SECONDS,
        }))
    }

    /// The pending authorization behind a typed user code.
    pub async fn device_by_user_code(&self, typed: &str) -> OAuthResult<Option<(String, DeviceGrant)>> {
        let Some(code) = normalize_user_code(typed) else { return Ok(None) };
        let Some(hash) = self.ephemeral.get(&user_code_key(&code)).await? else { return Ok(None) };
        let Some(raw) = self.ephemeral.get(&format!("device:{hash}")).await? else { return Ok(None) };
        let grant: DeviceGrant = serde_json::from_str(&raw).map_err(|e| OAuthError::server(e.to_string()))?;
        Ok((grant.decision == DeviceDecision::Pending && grant.expires_at > self.clock.now().unix_timestamp())
            .then_some((hash, grant)))
    }

    /// The signed-in person's answer on the device page.
    pub async fn device_decide(&self, typed: &str, session: &Authenticated, approve: bool) -> OAuthResult<bool> {
        let Some((hash, mut grant)) = self.device_by_user_code(typed).await? else { return Ok(false) };
        grant.decision = if approve {
            DeviceDecision::Approved {
                user_id: session.user_id.to_string(),
                auth_time: session.auth_time.unix_timestamp(),
                amr: session.amr.clone(),
                sid: session.sid.clone(),
            }
        } else {
            DeviceDecision::Denied
        };
        let remaining = grant.expires_at - self.clock.now().unix_timestamp();
        let value = serde_json::to_string(&grant).map_err(|e| OAuthError::server(e.to_string()))?;
        self.ephemeral.put(&format!("device:{hash}"), &value, ttl(remaining)).await?;
        // A user code works once.
        self.ephemeral.delete(&user_code_key(&grant.user_code)).await?;
        Ok(true)
    }

    /// The device polling the token endpoint (RFC 8628 §3.4–3.5).
    pub(crate) async fn device_code_grant(&self, client: &Client, params: &Params) -> OAuthResult<TokenResponse> {
        let code = params.require("device_code")?;
        let code = SecretToken::from_presented(code).ok_or_else(|| OAuthError::invalid_grant("unknown device code"))?;
        let key = device_key(&code.hash());
        let Some(raw) = self.ephemeral.get(&key).await? else {
            return Err(OAuthError::new(ErrorCode::ExpiredToken, "the device code has expired"));
        };
        let mut grant: DeviceGrant = serde_json::from_str(&raw).map_err(|e| OAuthError::server(e.to_string()))?;
        if grant.client_id != client.id.as_str() {
            return Err(OAuthError::invalid_grant("the device code was issued to another client"));
        }
        let now = self.clock.now().unix_timestamp();
        if now >= grant.expires_at {
            return Err(OAuthError::new(ErrorCode::ExpiredToken, "the device code has expired"));
        }
        match grant.decision.clone() {
            DeviceDecision::Pending => {
                let too_fast = grant.last_poll.is_some_and(|last| now - last < grant.interval);
                if too_fast {
                    grant.interval += 5;
                }
                grant.last_poll = Some(now);
                let value = serde_json::to_string(&grant).map_err(|e| OAuthError::server(e.to_string()))?;
                self.ephemeral.put(&key, &value, ttl(grant.expires_at - now)).await?;
                if too_fast {
                    Err(OAuthError::new(ErrorCode::SlowDown, format!("poll at most every {} seconds", grant.interval)))
                } else {
                    Err(OAuthError::new(ErrorCode::AuthorizationPending, "the person has not answered yet"))
                }
            }
            DeviceDecision::Denied => {
                self.ephemeral.delete(&key).await?;
                Err(OAuthError::new(ErrorCode::AccessDenied, "the person denied the request"))
            }
            DeviceDecision::Approved { user_id, auth_time, amr, sid } => {
                // Single use: of concurrent polls, one gets the tokens.
                if self.ephemeral.take(&key).await?.is_none() {
                    return Err(OAuthError::invalid_grant("the device code was already used"));
                }
                let (user, rights) = self.active_user(&user_id).await?;
                let scopes = Scopes::parse(&grant.scopes).unwrap_or_default();
                let auth = AuthContext {
                    auth_time: OffsetDateTime::from_unix_timestamp(auth_time).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    amr,
                    sid: Some(sid),
                };
                let family = uuid::Uuid::now_v7().to_string();
                let refresh = client.allows(GrantType::RefreshToken);
                let subject = self.subject(client, &user, &rights, &scopes)?;
                self.mint(client, &subject, &scopes, &auth, None, &family, refresh.then_some(None)).await
            }
        }
    }
}
