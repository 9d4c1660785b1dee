//! Signing keys: generation, encrypted storage, rotation and use.
//!
//! Each algorithm (RS256, ES256, EdDSA) has one *active* key that signs, one
//! *next* key already published in the JWKS (so relying parties have it
//! before it signs anything), and *retired* keys kept published until the
//! tokens they signed have expired. Private keys are stored as JWE (direct
//! A256GCM) under a key derived from the server secret; the database alone
//! cannot sign anything.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{Dir, JweHeader};
use josekit::jwk::Jwk;
use josekit::jwk::alg::ed::EdCurve;
use josekit::jws::{ES256, EdDSA, JwsHeader, JwsSigner, JwsVerifier, RS256};
use josekit::jwt::JwtPayload;
use sha2::{Digest, Sha256, Sha512};
use time::OffsetDateTime;
use tunnus_core::client::SigningAlg;
use tunnus_store::signing_keys::{self, StoredKey};
use tunnus_store::{Db, DbConnection, StoreError, StoreResult};

use crate::error::{OAuthError, OAuthResult};
use crate::signing::signer_for;
use crate::verified::{self, VerifiedTokens};

const NEXT: &str = "next";
const ACTIVE: &str = "active";
const RETIRED: &str = "retired";

/// The encryption key for private JWKs, derived from the server secret
/// (a high-entropy key, so one hash with a purpose label is enough).
fn wrapping_key(secret: &[u8]) -> [u8; 32] {
    Sha256::new().chain_update(b"tunnus signing-key wrapping v1\0").chain_update(secret).finalize().into()
}

fn jose(e: josekit::JoseError) -> StoreError {
    StoreError::corrupt(format!("key material: {e}"))
}

fn generate(alg: SigningAlg, wrap: &[u8; 32], now: OffsetDateTime, state: &str) -> StoreResult<StoredKey> {
    let kid = uuid::Uuid::now_v7().simple().to_string();
    let (mut private, mut public) = match alg {
        SigningAlg::RS256 => {
            let kp = RS256.generate_key_pair(2048).map_err(jose)?;
            (josekit::jwk::KeyPair::to_jwk_private_key(&kp), josekit::jwk::KeyPair::to_jwk_public_key(&kp))
        }
        SigningAlg::ES256 => {
            let kp = ES256.generate_key_pair().map_err(jose)?;
            (josekit::jwk::KeyPair::to_jwk_private_key(&kp), josekit::jwk::KeyPair::to_jwk_public_key(&kp))
        }
        SigningAlg::EdDSA => {
            let kp = EdDSA.generate_key_pair(EdCurve::Ed25519).map_err(jose)?;
            (josekit::jwk::KeyPair::to_jwk_private_key(&kp), josekit::jwk::KeyPair::to_jwk_public_key(&kp))
        }
    };
    for jwk in [&mut private, &mut public] {
        jwk.set_key_id(&kid);
        jwk.set_algorithm(alg.as_str());
        jwk.set_key_use("sig");
    }
    let mut header = JweHeader::new();
    header.set_content_encryption("A256GCM");
    let encrypter = Dir.encrypter_from_bytes(wrap).map_err(jose)?;
    let private_jwe =
        josekit::jwe::serialize_compact(private.to_string().as_bytes(), &header, &encrypter).map_err(jose)?;
    Ok(StoredKey {
        kid,
        alg: alg.as_str().to_owned(),
        state: state.to_owned(),
        private_jwe,
        public_jwk: public.to_string(),
        created_at: now,
        activated_at: (state == ACTIVE).then_some(now),
        retired_at: None,
    })
}

/// Makes sure every algorithm has an active and a next key (first start).
pub fn ensure_keys(conn: &mut DbConnection, secret: &[u8], now: OffsetDateTime) -> StoreResult<usize> {
    let wrap = wrapping_key(secret);
    let existing = signing_keys::all(conn)?;
    let mut created = 0;
    for alg in SigningAlg::ALL {
        for state in [ACTIVE, NEXT] {
            if !existing.iter().any(|k| k.alg == alg.as_str() && k.state == state) {
                signing_keys::insert(conn, &generate(alg, &wrap, now, state)?)?;
                created += 1;
            }
        }
    }
    Ok(created)
}

/// Rotates every algorithm: active → retired, next → active, a new next.
/// Retired keys older than `keep_retired` are deleted.
pub fn rotate(
    conn: &mut DbConnection,
    secret: &[u8],
    now: OffsetDateTime,
    keep_retired: time::Duration,
) -> StoreResult<()> {
    ensure_keys(conn, secret, now)?;
    let wrap = wrapping_key(secret);
    let keys = signing_keys::all(conn)?;
    for alg in SigningAlg::ALL {
        for k in keys.iter().filter(|k| k.alg == alg.as_str() && k.state == ACTIVE) {
            signing_keys::transition(conn, &k.kid, ACTIVE, RETIRED, now)?;
        }
        for k in keys.iter().filter(|k| k.alg == alg.as_str() && k.state == NEXT) {
            signing_keys::transition(conn, &k.kid, NEXT, ACTIVE, now)?;
        }
        signing_keys::insert(conn, &generate(alg, &wrap, now, NEXT)?)?;
    }
    signing_keys::delete_retired_before(conn, now - keep_retired)?;
    Ok(())
}

struct Loaded {
    /// The signer of the active key per algorithm: (kid, signer).
    signers: HashMap<SigningAlg, (String, Box<dyn JwsSigner>)>,
    /// A verifier for every published key, by kid.
    verifiers: HashMap<String, Box<dyn JwsVerifier>>,
    /// The JWK Set as served, serialised once per (re)load.
    jwks: Arc<str>,
    /// Tokens verified under exactly these keys.
    verified: VerifiedTokens,
}

/// The keys in memory: what signs and what verifies. Reloaded from the
/// database when keys rotate (any replica may have rotated them).
#[derive(Clone)]
pub struct KeyRing {
    secret: Arc<[u8]>,
    loaded: Arc<RwLock<Arc<Loaded>>>,
}

/// The active key of one algorithm as loaded when it was asked for (a
/// rotation meanwhile does not change it).
pub struct ActiveKey {
    loaded: Arc<Loaded>,
    alg: SigningAlg,
}

impl ActiveKey {
    /// Signs `payload`, with header `typ`.
    pub fn sign(&self, typ: &str, payload: &JwtPayload) -> OAuthResult<String> {
        // Present: checked by `KeyRing::active`, and `loaded` never changes.
        let (kid, signer) = &self.loaded.signers[&self.alg];
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(kid);
        josekit::jwt::encode_with_signer(payload, &header, signer.as_ref())
            .map_err(|e| OAuthError::server(format!("signing: {e}")))
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing")
    }
}

fn load(keys: &[StoredKey], secret: &[u8]) -> StoreResult<Loaded> {
    let wrap = wrapping_key(secret);
    let decrypter = Dir.decrypter_from_bytes(wrap).map_err(jose)?;
    let mut signers = HashMap::new();
    let mut verifiers: HashMap<String, Box<dyn JwsVerifier>> = HashMap::new();
    let mut published = Vec::new();
    for k in keys {
        let alg = SigningAlg::parse(&k.alg).ok_or_else(|| StoreError::corrupt("key alg"))?;
        let public = Jwk::from_bytes(k.public_jwk.as_bytes()).map_err(jose)?;
        let verifier: Box<dyn JwsVerifier> = match alg {
            SigningAlg::RS256 => Box::new(RS256.verifier_from_jwk(&public).map_err(jose)?),
            SigningAlg::ES256 => Box::new(ES256.verifier_from_jwk(&public).map_err(jose)?),
            SigningAlg::EdDSA => Box::new(EdDSA.verifier_from_jwk(&public).map_err(jose)?),
        };
        verifiers.insert(k.kid.clone(), verifier);
        published.push(serde_json::Value::Object(public.as_ref().clone()));
        // The newest active key of an algorithm signs.
        if k.state == ACTIVE {
            let (bytes, _) = josekit::jwe::deserialize_compact(&k.private_jwe, &decrypter)
                .map_err(|e| StoreError::corrupt(format!("cannot decrypt key {} (wrong secret_key?): {e}", k.kid)))?;
            let private = Jwk::from_bytes(&bytes).map_err(jose)?;
            let signer =
                signer_for(alg, &private, &public).map_err(|e| StoreError::corrupt(format!("key {}: {e}", k.kid)))?;
            signers.insert(alg, (k.kid.clone(), signer));
        }
    }
    let jwks = serde_json::json!({ "keys": published }).to_string().into();
    Ok(Loaded { signers, verifiers, jwks, verified: VerifiedTokens::default() })
}

impl KeyRing {
    /// Creates missing keys and loads them all.
    pub async fn open(db: &Db, secret: Arc<[u8]>, now: OffsetDateTime) -> StoreResult<Self> {
        let s = secret.clone();
        let keys = db
            .write(move |c| {
                ensure_keys(c, &s, now)?;
                signing_keys::all(c)
            })
            .await?;
        let loaded = load(&keys, &secret)?;
        Ok(Self { secret, loaded: Arc::new(RwLock::new(Arc::new(loaded))) })
    }

    /// Re-reads the keys (after a rotation here or on another replica).
    pub async fn reload(&self, db: &Db) -> StoreResult<()> {
        let keys = db.read(signing_keys::all).await?;
        let loaded = load(&keys, &self.secret)?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded);
        Ok(())
    }

    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    fn current(&self) -> Arc<Loaded> {
        self.loaded.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The public JWK Set (active, next and retired keys), as JSON text.
    pub fn jwks(&self) -> Arc<str> {
        self.current().jwks.clone()
    }

    /// Signs `payload` with the active key of `alg`, with header `typ`.
    pub fn sign(&self, alg: SigningAlg, typ: &str, payload: &JwtPayload) -> OAuthResult<String> {
        self.active(alg)?.sign(typ, payload)
    }

    /// The active key of `alg`, held for several signatures: `Err` when
    /// there is none, so a caller can learn that before it changes anything.
    pub fn active(&self, alg: SigningAlg) -> OAuthResult<ActiveKey> {
        let loaded = self.current();
        if !loaded.signers.contains_key(&alg) {
            return Err(OAuthError::server(format!("no active {} key", alg.as_str())));
        }
        Ok(ActiveKey { loaded, alg })
    }

    /// Verifies a JWT signed by one of our published keys; returns its claims
    /// and `typ`. Expiry is the caller's business; `now` only decides how
    /// long the result is remembered (see [`crate::verified`]).
    pub fn verify(&self, token: &str, now: std::time::SystemTime) -> Option<(JwtPayload, Option<String>)> {
        let loaded = self.current();
        let key = verified::digest(token);
        if let Some(known) = loaded.verified.get(&key, now) {
            return Some(known);
        }
        let (payload, header) = josekit::jwt::decode_with_verifier_selector(token, |h| {
            Ok(h.key_id().and_then(|kid| loaded.verifiers.get(kid)).map(|v| {
                // The key decides the algorithm, never the token's header.
                let v: &dyn JwsVerifier = v.as_ref();
                v
            }))
        })
        .ok()?;
        let typ = header.token_type().map(str::to_owned);
        loaded.verified.put(key, &payload, typ.as_deref(), now);
        Some((payload, typ))
    }
}

/// `at_hash` / `c_hash`: the left half of the hash of the value, with the
/// hash of the signing algorithm (SHA-512 for Ed25519).
pub fn half_hash(alg: SigningAlg, value: &str) -> String {
    match alg {
        SigningAlg::EdDSA => {
            let d = Sha512::digest(value.as_bytes());
            URL_SAFE_NO_PAD.encode(&d[..32])
        }
        _ => {
            let d = Sha256::digest(value.as_bytes());
            URL_SAFE_NO_PAD.encode(&d[..16])
        }
    }
}
