//! OpenID Connect Back-Channel Logout 1.0 on the relying-party side: validating a provider's
//! `logout_token` (signature from its JWKS via josekit, then the claim rules of section 2.6).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{ES256, EdDSA, JwsHeader, JwsVerifier, RS256};
use josekit::jwt::{self, JwtPayload};
use serde_json::Value;

/// The event a logout token must carry in its `events` claim.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How far `iat` (and `exp`) may be off from our clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Signature algorithms accepted for logout tokens.
pub const ALLOWED_ALGS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

/// What a valid logout token tells us to end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The provider session (`sid`) to end, if given.
    pub sid: Option<String>,
    /// The subject (`sub`) whose sessions to end, if given.
    pub sub: Option<String>,
    /// The token's unique id (`jti`).
    pub jti: String,
}

/// Why a logout token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    /// Not a compact JWS, or its header/payload is not valid JSON.
    #[error("malformed logout token: {0}")]
    Malformed(String),
    /// `alg` missing or not one of RS256, ES256, EdDSA.
    #[error("unsupported signature algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// `typ` present but not `logout+jwt`.
    #[error("unexpected typ header {0:?}")]
    WrongType(String),
    /// No key in the JWKS fits the header's `kid` and `alg` (the JWKS may be stale).
    #[error("no provider key matches the token's kid/alg")]
    UnknownKey,
    /// The signature does not verify with any fitting key.
    #[error("signature verification failed")]
    BadSignature,
    /// `iss` missing or not our provider.
    #[error("wrong or missing issuer")]
    WrongIssuer,
    /// `aud` missing or does not contain our client id.
    #[error("wrong or missing audience")]
    WrongAudience,
    /// `iat` missing.
    #[error("missing iat")]
    MissingIssuedAt,
    /// `iat` more than [`MAX_CLOCK_SKEW`] away from now.
    #[error("iat is too far from the current time")]
    StaleIssuedAt,
    /// `exp` present and in the past (beyond the skew).
    #[error("token expired")]
    Expired,
    /// `jti` missing or empty.
    #[error("missing jti")]
    MissingJwtId,
    /// `events` lacks the back-channel logout event.
    #[error("missing back-channel logout event")]
    MissingEvent,
    /// A `nonce` is present, which logout tokens must never carry.
    #[error("logout token must not contain a nonce")]
    NoncePresent,
    /// Neither `sid` nor `sub` present.
    #[error("logout token has neither sid nor sub")]
    MissingSubject,
}

/// Parses a JWKS document (`{"keys": [...]}`) for josekit.
pub fn jwk_set_from_json(value: &Value) -> Result<JwkSet, LogoutTokenError> {
    match value {
        Value::Object(map) => JwkSet::from_map(map.clone()).map_err(|e| LogoutTokenError::Malformed(e.to_string())),
        _ => Err(LogoutTokenError::Malformed("JWKS is not a JSON object".to_owned())),
    }
}

/// Validates `token` as a logout token from `issuer` for `client_id`, per Back-Channel Logout
/// 1.0 section 2.6, with the signature checked against `jwks`. `now` is the current time.
pub fn validate_logout_token(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
    client_id: &str,
    now: SystemTime,
) -> Result<LogoutRequest, LogoutTokenError> {
    let header = decode_header(token)?;
    let alg = header.algorithm().unwrap_or_default().to_owned();
    if !ALLOWED_ALGS.contains(&alg.as_str()) {
        return Err(LogoutTokenError::UnsupportedAlgorithm(alg));
    }
    if let Some(typ) = header.token_type() {
        let typ = typ.to_ascii_lowercase();
        if typ != "logout+jwt" && typ != "application/logout+jwt" {
            return Err(LogoutTokenError::WrongType(typ));
        }
    }
    let payload = verify_signature(token, &header, &alg, jwks)?;
    check_claims(&payload, issuer, client_id, now)
}

fn decode_header(token: &str) -> Result<JwsHeader, LogoutTokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(LogoutTokenError::Malformed("not a compact JWS".to_owned()));
    };
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|e| LogoutTokenError::Malformed(e.to_string()))?;
    JwsHeader::from_bytes(&bytes).map_err(|e| LogoutTokenError::Malformed(e.to_string()))
}

fn verifier_for(alg: &str, jwk: &Jwk, with_kid: bool) -> Option<Box<dyn JwsVerifier>> {
    let verifier: Box<dyn JwsVerifier> = match alg {
        "RS256" => {
            let mut v = RS256.verifier_from_jwk(jwk).ok()?;
            if !with_kid {
                v.remove_key_id();
            }
            Box::new(v)
        }
        "ES256" => {
            let mut v = ES256.verifier_from_jwk(jwk).ok()?;
            if !with_kid {
                v.remove_key_id();
            }
            Box::new(v)
        }
        "EdDSA" => {
            let mut v = EdDSA.verifier_from_jwk(jwk).ok()?;
            if !with_kid {
                v.remove_key_id();
            }
            Box::new(v)
        }
        _ => return None,
    };
    Some(verifier)
}

fn verify_signature(token: &str, header: &JwsHeader, alg: &str, jwks: &JwkSet) -> Result<JwtPayload, LogoutTokenError> {
    let (candidates, with_kid) = match header.key_id() {
        Some(kid) => (jwks.get(kid), true),
        None => (jwks.keys(), false),
    };
    let verifiers: Vec<Box<dyn JwsVerifier>> =
        candidates.into_iter().filter_map(|jwk| verifier_for(alg, jwk, with_kid)).collect();
    if verifiers.is_empty() {
        return Err(LogoutTokenError::UnknownKey);
    }
    verifiers
        .iter()
        .find_map(|verifier| jwt::decode_with_verifier(token, verifier.as_ref()).ok())
        .map(|(payload, _)| payload)
        .ok_or(LogoutTokenError::BadSignature)
}

fn check_claims(
    payload: &JwtPayload,
    issuer: &str,
    client_id: &str,
    now: SystemTime,
) -> Result<LogoutRequest, LogoutTokenError> {
    if payload.issuer() != Some(issuer) {
        return Err(LogoutTokenError::WrongIssuer);
    }
    if !payload.audience().is_some_and(|aud| aud.contains(&client_id)) {
        return Err(LogoutTokenError::WrongAudience);
    }
    let iat = payload.issued_at().ok_or(LogoutTokenError::MissingIssuedAt)?;
    let off = match now.duration_since(iat) {
        Ok(age) => age,
        Err(ahead) => ahead.duration(),
    };
    if off > MAX_CLOCK_SKEW {
        return Err(LogoutTokenError::StaleIssuedAt);
    }
    if let Some(exp) = payload.expires_at()
        && exp + MAX_CLOCK_SKEW < now
    {
        return Err(LogoutTokenError::Expired);
    }
    let jti = payload.jwt_id().filter(|jti| !jti.is_empty()).ok_or(LogoutTokenError::MissingJwtId)?;
    let has_event = match payload.claim("events") {
        Some(Value::Object(events)) => matches!(events.get(BACKCHANNEL_LOGOUT_EVENT), Some(Value::Object(_))),
        _ => false,
    };
    if !has_event {
        return Err(LogoutTokenError::MissingEvent);
    }
    if payload.claim("nonce").is_some() {
        return Err(LogoutTokenError::NoncePresent);
    }
    let string_claim = |name: &str| match payload.claim(name) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let sid = string_claim("sid");
    let sub = payload.subject().filter(|s| !s.is_empty()).map(str::to_owned);
    if sid.is_none() && sub.is_none() {
        return Err(LogoutTokenError::MissingSubject);
    }
    Ok(LogoutRequest { sid, sub, jti: jti.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::KeyPair;
    use josekit::jwk::alg::ed::EdCurve;
    use josekit::jws::JwsSigner;
    use serde_json::json;

    const ISSUER: &str = "http://localhost:8080";
    const CLIENT: &str = "warehouse";

    struct Keys {
        jwks: JwkSet,
        rsa: Jwk,
        ec: Jwk,
        ed: Jwk,
    }

    fn with_kid(mut jwk: Jwk, kid: &str) -> Jwk {
        jwk.set_key_id(kid);
        jwk
    }

    fn keys() -> Keys {
        let rsa = RS256.generate_key_pair(2048).unwrap();
        let ec = ES256.generate_key_pair().unwrap();
        let ed = EdDSA.generate_key_pair(EdCurve::Ed25519).unwrap();
        let mut jwks = JwkSet::new();
        jwks.push_key(with_kid(rsa.to_jwk_public_key(), "rsa-1"));
        jwks.push_key(with_kid(ec.to_jwk_public_key(), "ec-1"));
        jwks.push_key(with_kid(ed.to_jwk_public_key(), "ed-1"));
        Keys {
            jwks,
            rsa: with_kid(rsa.to_jwk_private_key(), "rsa-1"),
            ec: with_kid(ec.to_jwk_private_key(), "ec-1"),
            ed: with_kid(ed.to_jwk_private_key(), "ed-1"),
        }
    }

    fn claims(now: SystemTime) -> serde_json::Map<String, Value> {
        let iat = now.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let Value::Object(map) = json!({
            "iss": ISSUER,
            "aud": CLIENT,
            "iat": iat,
            "exp": iat + 120,
            "jti": "jti-1",
            "sub": "user-1",
            "sid": "sid-1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        }) else {
            unreachable!()
        };
        map
    }

    fn sign(alg: &str, key: &Jwk, typ: Option<&str>, claims: serde_json::Map<String, Value>) -> String {
        let signer: Box<dyn JwsSigner> = match alg {
            "RS256" => Box::new(RS256.signer_from_jwk(key).unwrap()),
            "ES256" => Box::new(ES256.signer_from_jwk(key).unwrap()),
            "EdDSA" => Box::new(EdDSA.signer_from_jwk(key).unwrap()),
            _ => unreachable!(),
        };
        let mut header = JwsHeader::new();
        if let Some(typ) = typ {
            header.set_token_type(typ);
        }
        header.set_key_id(key.key_id().unwrap());
        let payload = JwtPayload::from_map(claims).unwrap();
        jwt::encode_with_signer(&payload, &header, signer.as_ref()).unwrap()
    }

    fn validate(token: &str, jwks: &JwkSet, now: SystemTime) -> Result<LogoutRequest, LogoutTokenError> {
        validate_logout_token(token, jwks, ISSUER, CLIENT, now)
    }

    #[test]
    fn valid_tokens_for_every_algorithm() {
        let k = keys();
        let now = SystemTime::now();
        for (alg, key) in [("RS256", &k.rsa), ("ES256", &k.ec), ("EdDSA", &k.ed)] {
            let token = sign(alg, key, Some("logout+jwt"), claims(now));
            let got = validate(&token, &k.jwks, now).unwrap();
            assert_eq!(
                got,
                LogoutRequest { sid: Some("sid-1".into()), sub: Some("user-1".into()), jti: "jti-1".into() },
                "{alg}"
            );
        }
    }

    #[test]
    fn typ_is_optional_and_aud_may_be_an_array() {
        let k = keys();
        let now = SystemTime::now();
        let mut c = claims(now);
        c.insert("aud".into(), json!(["campus", CLIENT]));
        c.remove("sid");
        let token = sign("ES256", &k.ec, None, c);
        let got = validate(&token, &k.jwks, now).unwrap();
        assert_eq!(got.sid, None);
        assert_eq!(got.sub.as_deref(), Some("user-1"));
    }

    #[test]
    fn token_without_kid_is_matched_against_all_keys() {
        let k = keys();
        let now = SystemTime::now();
        let signer = EdDSA.signer_from_jwk(&k.ed).unwrap();
        let mut header = JwsHeader::new();
        header.set_token_type("logout+jwt");
        let payload = JwtPayload::from_map(claims(now)).unwrap();
        let mut signer = signer;
        signer.remove_key_id();
        let token = jwt::encode_with_signer(&payload, &header, &signer).unwrap();
        assert!(validate(&token, &k.jwks, now).is_ok());
    }

    #[test]
    fn stale_or_future_iat_is_rejected() {
        let k = keys();
        let now = SystemTime::now();
        let old = now - Duration::from_secs(600);
        let token = sign("RS256", &k.rsa, Some("logout+jwt"), claims(old));
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::StaleIssuedAt));
        let future = now + Duration::from_secs(600);
        let token = sign("RS256", &k.rsa, Some("logout+jwt"), claims(future));
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::StaleIssuedAt));
    }

    #[test]
    fn expired_exp_is_rejected() {
        let k = keys();
        let now = SystemTime::now();
        let mut c = claims(now);
        let iat = c["iat"].as_u64().unwrap();
        c.insert("iat".into(), json!(iat - 200));
        c.insert("exp".into(), json!(iat - 190));
        let token = sign("ES256", &k.ec, Some("logout+jwt"), c.clone());
        // exp is only 190 s ago: within the skew.
        assert!(validate(&token, &k.jwks, now).is_ok());
        let token = sign("ES256", &k.ec, Some("logout+jwt"), c);
        assert_eq!(validate(&token, &k.jwks, now + Duration::from_secs(200)), Err(LogoutTokenError::StaleIssuedAt));
        let mut c = claims(now);
        c.insert("exp".into(), json!(iat - 400));
        let token = sign("ES256", &k.ec, Some("logout+jwt"), c);
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::Expired));
    }

    #[test]
    fn claim_rules() {
        let k = keys();
        let now = SystemTime::now();
        type Mutation = Box<dyn Fn(&mut serde_json::Map<String, Value>)>;
        let cases: Vec<(&str, Mutation, LogoutTokenError)> = vec![
            ("wrong aud", Box::new(|c| drop(c.insert("aud".into(), json!("campus")))), LogoutTokenError::WrongAudience),
            ("no aud", Box::new(|c| drop(c.remove("aud"))), LogoutTokenError::WrongAudience),
            (
                "wrong iss",
                Box::new(|c| drop(c.insert("iss".into(), json!("http://evil")))),
                LogoutTokenError::WrongIssuer,
            ),
            ("no iat", Box::new(|c| drop(c.remove("iat"))), LogoutTokenError::MissingIssuedAt),
            ("no jti", Box::new(|c| drop(c.remove("jti"))), LogoutTokenError::MissingJwtId),
            ("no events", Box::new(|c| drop(c.remove("events"))), LogoutTokenError::MissingEvent),
            (
                "other event",
                Box::new(|c| drop(c.insert("events".into(), json!({"http://example.com/other": {}})))),
                LogoutTokenError::MissingEvent,
            ),
            (
                "event not an object",
                Box::new(|c| drop(c.insert("events".into(), json!({ BACKCHANNEL_LOGOUT_EVENT: "yes" })))),
                LogoutTokenError::MissingEvent,
            ),
            ("nonce", Box::new(|c| drop(c.insert("nonce".into(), json!("n")))), LogoutTokenError::NoncePresent),
            (
                "no sid nor sub",
                Box::new(|c| {
                    c.remove("sid");
                    c.remove("sub");
                }),
                LogoutTokenError::MissingSubject,
            ),
        ];
        for (name, mutate, expected) in cases {
            let mut c = claims(now);
            mutate(&mut c);
            let token = sign("RS256", &k.rsa, Some("logout+jwt"), c);
            assert_eq!(validate(&token, &k.jwks, now), Err(expected), "{name}");
        }
    }

    #[test]
    fn header_rules() {
        let k = keys();
        let now = SystemTime::now();
        let token = sign("RS256", &k.rsa, Some("JWT"), claims(now));
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::WrongType("jwt".into())));
        let token = sign("RS256", &k.rsa, Some("application/logout+jwt"), claims(now));
        assert!(validate(&token, &k.jwks, now).is_ok());

        let hs = josekit::jws::HS256.signer_from_bytes(b"0123456789abcdef0123456789abcdef").unwrap();
        let payload = JwtPayload::from_map(claims(now)).unwrap();
        let token = jwt::encode_with_signer(&payload, &JwsHeader::new(), &hs).unwrap();
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::UnsupportedAlgorithm("HS256".into())));

        let payload = JwtPayload::from_map(claims(now)).unwrap();
        let token = jwt::encode_unsecured(&payload, &JwsHeader::new()).unwrap();
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::UnsupportedAlgorithm("none".into())));

        assert!(matches!(validate("abc", &k.jwks, now), Err(LogoutTokenError::Malformed(_))));
        assert!(matches!(validate("a.b.c.d", &k.jwks, now), Err(LogoutTokenError::Malformed(_))));
    }

    #[test]
    fn unknown_or_wrong_key() {
        let k = keys();
        let now = SystemTime::now();
        let other = RS256.generate_key_pair(2048).unwrap();
        let token = sign("RS256", &with_kid(other.to_jwk_private_key(), "rsa-2"), Some("logout+jwt"), claims(now));
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::UnknownKey));
        // Same kid as a published key, different key material.
        let token = sign("RS256", &with_kid(other.to_jwk_private_key(), "rsa-1"), Some("logout+jwt"), claims(now));
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::BadSignature));
        // kid of an EC key with an RSA alg: no usable key.
        let mut rsa_as_ec = k.rsa.clone();
        rsa_as_ec.set_key_id("ec-1");
        let token = sign("RS256", &rsa_as_ec, Some("logout+jwt"), claims(now));
        assert_eq!(validate(&token, &k.jwks, now), Err(LogoutTokenError::UnknownKey));
    }

    #[test]
    fn jwks_round_trip_through_openidconnect_types() {
        let k = keys();
        let json: Value = serde_json::from_str(&k.jwks.to_string()).unwrap();
        let core: openidconnect::core::CoreJsonWebKeySet = serde_json::from_value(json).unwrap();
        let back = jwk_set_from_json(&serde_json::to_value(&core).unwrap()).unwrap();
        let now = SystemTime::now();
        for (alg, key) in [("RS256", &k.rsa), ("ES256", &k.ec), ("EdDSA", &k.ed)] {
            let token = sign(alg, key, Some("logout+jwt"), claims(now));
            assert!(validate(&token, &back, now).is_ok(), "{alg}");
        }
    }
}
