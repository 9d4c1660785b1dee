//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3, RFC 7523 `private_key_jwt`, `none` for public
//! clients). Exactly one method per request, and it must be the one the
//! client registered.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, EdDSA, JwsVerifier, RS256};
use sha2::Sha256;
use tunnus_core::client::{Client, ClientId, TokenEndpointAuth};
use tunnus_core::secret::{constant_time_eq, hex};

use crate::error::{OAuthError, OAuthResult};
use crate::params::Params;
use crate::provider::Provider;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The keyed hash a client secret is stored as. Secrets are random and
/// long, so a fast keyed hash (not Argon2) is the right tool: it keeps the
/// token endpoint fast and a stolen table useless without the server key.
pub fn secret_hash(server_key: &[u8], secret: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(server_key).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    mac.update(b"tunnus client secret v1\0");
    mac.update(secret.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Credentials as presented.
enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    Assertion { id: Option<String>, assertion: String },
    None { id: String },
}

fn percent_decode(s: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
}

fn presented(authorization: Option<&str>, params: &Params) -> OAuthResult<Presented> {
    let basic = match authorization {
        Some(h) if h.len() > 6 && h[..6].eq_ignore_ascii_case("basic ") => {
            let raw = STANDARD
                .decode(h[6..].trim())
                .map_err(|_| OAuthError::invalid_client("malformed Basic credentials"))?;
            let raw = String::from_utf8(raw).map_err(|_| OAuthError::invalid_client("malformed Basic credentials"))?;
            let (id, secret) =
                raw.split_once(':').ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded.
            let id = percent_decode(id).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let secret =
                percent_decode(secret).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            Some(Presented::Basic { id, secret })
        }
        Some(_) => return Err(OAuthError::invalid_client("unsupported Authorization scheme")),
        None => None,
    };
    let post = params.get("client_secret").map(|s| s.to_owned());
    let assertion = params.get("client_assertion").map(|s| s.to_owned());
    let methods = usize::from(basic.is_some()) + usize::from(post.is_some()) + usize::from(assertion.is_some());
    if methods > 1 {
        return Err(OAuthError::invalid_request("use exactly one client authentication method"));
    }
    let form_id = params.get("client_id").map(str::to_owned);
    if let Some(b) = basic {
        if let (Presented::Basic { id, .. }, Some(f)) = (&b, &form_id)
            && id != f
        {
            return Err(OAuthError::invalid_client("client_id does not match the credentials"));
        }
        return Ok(b);
    }
    if let Some(secret) = post {
        let id = form_id.ok_or_else(|| OAuthError::invalid_client("client_id is missing"))?;
        return Ok(Presented::Post { id, secret });
    }
    if let Some(assertion) = assertion {
        if params.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(OAuthError::invalid_request("client_assertion_type must be jwt-bearer"));
        }
        return Ok(Presented::Assertion { id: form_id, assertion });
    }
    let id = form_id.ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
    Ok(Presented::None { id })
}

impl Provider {
    async fn load_client(&self, id: &str) -> OAuthResult<Client> {
        let id = ClientId::parse(id).ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
        self.client(&id).await?.ok_or_else(|| OAuthError::invalid_client("unknown client"))
    }

    /// Authenticates the calling client. Every failure is `invalid_client`
    /// (401) without saying which part was wrong.
    pub async fn authenticate_client(&self, authorization: Option<&str>, params: &Params) -> OAuthResult<Client> {
        match presented(authorization, params)? {
            Presented::Basic { id, secret } | Presented::Post { id, secret } => {
                let method_used = if authorization.is_some() {
                    TokenEndpointAuth::ClientSecretBasic
                } else {
                    TokenEndpointAuth::ClientSecretPost
                };
                let client = self.load_client(&id).await?;
                let expected = client.secret_hash.as_deref().unwrap_or("");
                let given = secret_hash(&self.secret_key, &secret);
                // Compare before looking at the method so timing says nothing.
                let matches = constant_time_eq(given.as_bytes(), expected.as_bytes()) && !expected.is_empty();
                if !matches || client.auth_method != method_used {
                    return Err(OAuthError::invalid_client("client authentication failed"));
                }
                Ok(client)
            }
            Presented::Assertion { id, assertion } => self.verify_assertion(id.as_deref(), &assertion).await,
            Presented::None { id } => {
                let client = self.load_client(&id).await?;
                if client.auth_method != TokenEndpointAuth::None {
                    return Err(OAuthError::invalid_client("client authentication failed"));
                }
                Ok(client)
            }
        }
    }

    /// `private_key_jwt` (RFC 7523 §3): signed by a key of the client's
    /// registered JWKS, `iss` = `sub` = client id, `aud` naming our token
    /// endpoint or issuer, unexpired, `jti` never seen before.
    async fn verify_assertion(&self, form_id: Option<&str>, assertion: &str) -> OAuthResult<Client> {
        let fail = || OAuthError::invalid_client("client assertion is not valid");
        // The client id comes from the form or, failing that, the unverified `iss`.
        let claimed = match form_id {
            Some(id) => id.to_owned(),
            None => {
                let parts: Vec<&str> = assertion.split('.').collect();
                let body = parts.get(1).ok_or_else(fail)?;
                let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).map_err(|_| fail())?;
                let v: serde_json::Value = serde_json::from_slice(&body).map_err(|_| fail())?;
                v.get("iss").and_then(|i| i.as_str()).ok_or_else(fail)?.to_owned()
            }
        };
        let client = self.load_client(&claimed).await?;
        if client.auth_method != TokenEndpointAuth::PrivateKeyJwt {
            return Err(fail());
        }
        let jwks = JwkSet::from_bytes(client.jwks.as_deref().ok_or_else(fail)?.as_bytes()).map_err(|_| fail())?;
        // One verifier per registered key; the key's own `alg` decides, never the token's header.
        let verifiers: Vec<(Option<String>, Box<dyn JwsVerifier>)> = jwks
            .keys()
            .into_iter()
            .filter_map(|jwk| {
                let v: Box<dyn JwsVerifier> = match jwk.algorithm() {
                    Some("RS256") => Box::new(RS256.verifier_from_jwk(jwk).ok()?),
                    Some("ES256") => Box::new(ES256.verifier_from_jwk(jwk).ok()?),
                    Some("EdDSA") => Box::new(EdDSA.verifier_from_jwk(jwk).ok()?),
                    _ => return None,
                };
                Some((jwk.key_id().map(str::to_owned), v))
            })
            .collect();
        let (payload, _) = josekit::jwt::decode_with_verifier_selector(assertion, |header| {
            let chosen = match header.key_id() {
                Some(kid) => verifiers.iter().find(|(k, _)| k.as_deref() == Some(kid)),
                None if verifiers.len() == 1 => verifiers.first(),
                None => None,
            };
            Ok(chosen.map(|(_, v)| v.as_ref()))
        })
        .map_err(|_| fail())?;
        let now = self.clock.now().unix_timestamp();
        let iss_ok = payload.issuer() == Some(client.id.as_str()) && payload.subject() == Some(client.id.as_str());
        let token_endpoint = format!("{}/token", self.settings.issuer);
        let aud_ok =
            payload.audience().is_some_and(|a| a.iter().any(|x| *x == token_endpoint || *x == self.settings.issuer));
        let exp =
            payload.expires_at().map(|t| t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64));
        let exp_ok = exp.is_some_and(|e| e > now && e <= now + 3600);
        let jti = payload.jwt_id().ok_or_else(fail)?;
        if !(iss_ok && aud_ok && exp_ok) || jti.len() > 200 {
            return Err(fail());
        }
        // Replay cache: a jti is accepted once while the assertion could be valid.
        let key = format!("assertion-jti:{}:{}", client.id, tunnus_core::TokenHash::of(jti).as_str());
        let ttl = std::time::Duration::from_secs((exp.unwrap_or(now) - now).max(1) as u64 + 60);
        if self.ephemeral.incr(&key, ttl).await? > 1 {
            return Err(OAuthError::invalid_client("client assertion was already used"));
        }
        Ok(client)
    }
}
