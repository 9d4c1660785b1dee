//! Ending sessions: RP-initiated logout (OpenID Connect RP-Initiated Logout
//! 1.0) and the logout tokens of Back-Channel Logout 1.0.

use josekit::jwt::JwtPayload;
use serde_json::json;
use tunnus_core::client::{Client, ClientId};
use tunnus_store::{clients, refresh_tokens};

use crate::authorize::session_clients_key;
use crate::error::{OAuthError, OAuthResult};
use crate::params::Params;
use crate::provider::Provider;

/// A valid end-session request.
#[derive(Debug, Clone, Default)]
pub struct EndSession {
    pub client: Option<Client>,
    /// Registered for the client; exact match.
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    /// `sub` and `sid` of a valid `id_token_hint`.
    pub hint_sub: Option<String>,
    pub hint_sid: Option<String>,
}

impl EndSession {
    /// Where to send the browser afterwards, with `state`.
    pub fn redirect(&self) -> Option<String> {
        let uri = self.post_logout_redirect_uri.as_ref()?;
        Some(match &self.state {
            Some(state) => {
                let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("state", state).finish();
                format!("{uri}{}{q}", if uri.contains('?') { '&' } else { '?' })
            }
            None => uri.clone(),
        })
    }
}

/// A back-channel logout to deliver. The logout token is signed at each
/// delivery attempt, so a retry never carries a stale `iat` or an expired token.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct BackchannelDelivery {
    pub uri: String,
    pub client_id: String,
    pub sid: String,
    pub sub: String,
}

impl Provider {
    /// Validates `GET|POST /logout` parameters.
    pub async fn end_session_request(&self, raw: Vec<(String, String)>) -> OAuthResult<EndSession> {
        let params = Params::from_pairs(raw)?;
        let mut out = EndSession { state: params.get("state").map(str::to_owned), ..Default::default() };
        let mut client_id = params.get("client_id").map(str::to_owned);
        if let Some(hint) = params.get("id_token_hint") {
            // Signed by us; an expired hint is still a fine hint (the spec allows it).
            let (payload, _) = self
                .keys
                .verify(hint, self.clock.now().into())
                .ok_or_else(|| OAuthError::invalid_request("id_token_hint is not valid"))?;
            if payload.issuer() != Some(self.settings.issuer.as_str()) {
                return Err(OAuthError::invalid_request("id_token_hint is not valid"));
            }
            let aud = payload.audience().and_then(|a| a.first().map(|s| (*s).to_owned()));
            if let (Some(given), Some(aud)) = (&client_id, &aud)
                && given != aud
            {
                return Err(OAuthError::invalid_request("client_id does not match id_token_hint"));
            }
            client_id = client_id.or(aud);
            out.hint_sub = payload.subject().map(str::to_owned);
            out.hint_sid = payload.claim("sid").and_then(|v| v.as_str()).map(str::to_owned);
        }
        if let Some(id) = client_id {
            let id = ClientId::parse(&id).ok_or_else(|| OAuthError::invalid_request("unknown client"))?;
            out.client = Some(
                self.db
                    .read(move |c| clients::find(c, &id))
                    .await?
                    .ok_or_else(|| OAuthError::invalid_request("unknown client"))?,
            );
        }
        if let Some(uri) = params.get("post_logout_redirect_uri") {
            let client = out.client.as_ref().ok_or_else(|| {
                OAuthError::invalid_request("post_logout_redirect_uri needs id_token_hint or client_id")
            })?;
            if !client.post_logout_uri_registered(uri) {
                return Err(OAuthError::invalid_request("post_logout_redirect_uri is not registered for this client"));
            }
            out.post_logout_redirect_uri = Some(uri.to_owned());
        }
        Ok(out)
    }

    /// After an SSO session ended: revokes its session-bound refresh tokens and
    /// returns the logout tokens for every client with a back-channel URI
    /// that signed in through it.
    pub async fn session_ended(&self, sid: &str, user_id: &str) -> OAuthResult<Vec<BackchannelDelivery>> {
        let (s, now) = (sid.to_owned(), self.clock.now());
        let families = self.db.write(move |c| refresh_tokens::revoke_for_session(c, &s, now)).await?;
        for family in &families {
            self.deny_family(family).await?;
        }
        let key = session_clients_key(sid);
        let client_ids = self.ephemeral.set_members(&key).await?;
        self.ephemeral.delete(&key).await?;
        let mut deliveries = Vec::new();
        for id in client_ids {
            let Some(id) = ClientId::parse(&id) else { continue };
            let Some(client) = self.db.read(move |c| clients::find(c, &id)).await? else { continue };
            let Some(uri) = client.backchannel_logout_uri.clone() else { continue };
            deliveries.push(BackchannelDelivery {
                uri,
                client_id: client.id.to_string(),
                sid: sid.to_owned(),
                sub: user_id.to_owned(),
            });
        }
        Ok(deliveries)
    }

    /// The logout token for a queued delivery, signed now; `None` if the client is gone.
    pub async fn logout_token_for(&self, d: &BackchannelDelivery) -> OAuthResult<Option<String>> {
        let Some(id) = ClientId::parse(&d.client_id) else { return Ok(None) };
        let Some(client) = self.db.read(move |c| clients::find(c, &id)).await? else { return Ok(None) };
        self.logout_token(&client, &d.sid, &d.sub).map(Some)
    }

    /// A logout token (Back-Channel Logout 1.0 §2.4).
    pub fn logout_token(&self, client: &Client, sid: &str, user_id: &str) -> OAuthResult<String> {
        let now = std::time::SystemTime::from(self.clock.now());
        let mut p = JwtPayload::new();
        p.set_issuer(&self.settings.issuer);
        p.set_subject(user_id);
        p.set_audience(vec![client.id.as_str()]);
        p.set_issued_at(&now);
        p.set_expires_at(&(now + std::time::Duration::from_secs(120)));
        p.set_jwt_id(uuid::Uuid::now_v7().to_string());
        let set =
            |p: &mut JwtPayload, k: &str, v| p.set_claim(k, Some(v)).map_err(|e| OAuthError::server(e.to_string()));
        set(&mut p, "sid", json!(sid))?;
        set(&mut p, "events", json!({ "http://schemas.openid.net/event/backchannel-logout": {} }))?;
        self.keys.sign(client.id_token_alg, "logout+jwt", &p)
    }
}
