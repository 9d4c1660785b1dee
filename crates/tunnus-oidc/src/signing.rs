//! The private-key half of token signing: `ring` for ECDSA and Ed25519,
//! OpenSSL for RSA, whichever is faster.
//!
//! josekit stays the JOSE layer (headers, compact serialisation, JWKs,
//! verification). For ES256 and EdDSA the signature itself is computed
//! with `ring`: josekit signs through OpenSSL 3's EVP interface, which
//! fetches the algorithm implementations on every call, so two threads
//! signing ES256 at once got 1.2× one thread's rate where `ring` gets
//! 1.6–2×, and `ring`'s ECDSA is faster per call too. For RS256 OpenSSL is
//! kept: on processors with AVX-512 it signs RSA-2048 1.6–1.8× as fast as
//! `ring` (3,661 against 2,075 /s on one core, 6,478 against 3,947 /s on
//! two), and where the processor lacks it `ring` was only about 15% faster.
//! Figures in docs/performance.md ("2026-12-03 (evening)" and
//! "2026-12-04"). The keys come from the stored private and public JWKs,
//! member by member, so nothing is re-encoded on the way.
//!
//! RSA goes through OpenSSL's EVP interface too, but not through josekit's
//! signer, which sets up a signing context (fetching the algorithm and the
//! digest) for every signature: [`RsaSigner`] keeps prepared contexts and
//! hands each signature one that is free: two threads signing at once, in
//! alternating half-second rounds, made 4% more signatures this way (7,275
//! → 7,539 and 6,262 → 6,547 /s; docs/performance.md, "2026-12-06
//! (midday)"). The signatures are the same bytes (PKCS#1 v1.5 is
//! deterministic).

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, EdDSA, JwsAlgorithm, JwsSigner, RS256};
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use tunnus_core::client::SigningAlg;

enum Key {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// The signer of the key of `alg` given as its private and public JWKs:
/// [`RsaSigner`] (OpenSSL) for RS256, [`RingSigner`] otherwise. `Err` says
/// what is wrong with the key.
pub fn signer_for(alg: SigningAlg, private: &Jwk, public: &Jwk) -> Result<Box<dyn JwsSigner>, String> {
    match alg {
        SigningAlg::RS256 => Ok(Box::new(RsaSigner::from_jwks(private, public)?)),
        SigningAlg::ES256 | SigningAlg::EdDSA => Ok(Box::new(RingSigner::from_jwks(alg, private, public)?)),
    }
}

/// Signs RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with OpenSSL, keeping
/// prepared signing contexts for the next signatures; plugs into josekit
/// as a [`JwsSigner`].
#[derive(Clone)]
pub struct RsaSigner {
    inner: Arc<RsaInner>,
}

struct RsaInner {
    key: PKey<Private>,
    /// Contexts ready to sign, one taken per signature and put back after:
    /// at most as many as signatures were ever made at once.
    ready: Mutex<Vec<PkeyCtx<Private>>>,
    signature_len: usize,
}

impl std::fmt::Debug for RsaSigner {
    // Never the key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaSigner").field("bits", &(self.inner.signature_len * 8)).finish_non_exhaustive()
    }
}

impl RsaSigner {
    /// The signer of an RSA key given as its private and public JWKs.
    /// `Err` says what is wrong with the key.
    pub fn from_jwks(private: &Jwk, public: &Jwk) -> Result<Self, String> {
        if private.parameter("n") != public.parameter("n") || private.parameter("e") != public.parameter("e") {
            return Err("the RSA private key does not belong to the public key".to_owned());
        }
        let pair = josekit::jwk::alg::rsa::RsaKeyPair::from_jwk(private).map_err(|e| format!("RSA key: {e}"))?;
        let rsa = Rsa::private_key_from_der(&pair.to_raw_private_key()).map_err(|e| format!("RSA key: {e}"))?;
        if !rsa.check_key().map_err(|e| format!("RSA key: {e}"))? {
            return Err("the RSA key is not consistent".to_owned());
        }
        let signature_len = rsa.size() as usize;
        let key = PKey::from_rsa(rsa).map_err(|e| format!("RSA key: {e}"))?;
        let signer = Self { inner: Arc::new(RsaInner { key, ready: Mutex::new(Vec::new()), signature_len }) };
        // Fails here, not at the first token, if OpenSSL cannot sign with it.
        let first = signer.prepared().map_err(|e| format!("RSA key: {e}"))?;
        signer.put_back(first);
        Ok(signer)
    }

    /// A context ready to sign: one put back by an earlier signature, or a new one.
    fn prepared(&self) -> Result<PkeyCtx<Private>, openssl::error::ErrorStack> {
        if let Some(ctx) = self.inner.ready.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(ctx);
        }
        let mut ctx = PkeyCtx::new(&self.inner.key)?;
        ctx.sign_init()?;
        ctx.set_rsa_padding(Padding::PKCS1)?;
        ctx.set_signature_md(Md::sha256())?;
        Ok(ctx)
    }

    fn put_back(&self, ctx: PkeyCtx<Private>) {
        self.inner.ready.lock().unwrap_or_else(|p| p.into_inner()).push(ctx);
    }
}

impl JwsSigner for RsaSigner {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        &RS256
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        self.inner.signature_len
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let failed = |e: openssl::error::ErrorStack| {
            JoseError::InvalidSignature(std::io::Error::other(format!("signing failed: {e}")).into())
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, message);
        let mut ctx = self.prepared().map_err(failed)?;
        let mut signature = Vec::with_capacity(self.inner.signature_len);
        // A context whose signature failed is dropped, not put back.
        ctx.sign_to_vec(digest.as_ref(), &mut signature).map_err(failed)?;
        self.put_back(ctx);
        Ok(signature)
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

/// Signs JWS signing input with one private key; plugs into josekit as a
/// [`JwsSigner`]. The key id goes into the header, set by the caller.
#[derive(Clone)]
pub struct RingSigner {
    key: Arc<Key>,
    rng: SystemRandom,
}

impl std::fmt::Debug for RingSigner {
    // Never the key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RingSigner").field("alg", &self.algorithm().name()).finish_non_exhaustive()
    }
}

/// A base64url-encoded JWK member, from the private JWK or else the public
/// one (josekit writes only `d` into private EC and OKP JWKs).
fn member(private: &Jwk, public: &Jwk, name: &str) -> Result<Vec<u8>, String> {
    let text = [private, public]
        .into_iter()
        .find_map(|jwk| jwk.parameter(name).and_then(|v| v.as_str()))
        .ok_or_else(|| format!("no \"{name}\" in the key"))?;
    URL_SAFE_NO_PAD.decode(text).map_err(|e| format!("\"{name}\": {e}"))
}

impl RingSigner {
    /// The signer of a P-256 or Ed25519 key given as its private and public
    /// JWKs; `ring` checks that the two belong together. `Err` says what is
    /// wrong with the key.
    pub fn from_jwks(alg: SigningAlg, private: &Jwk, public: &Jwk) -> Result<Self, String> {
        let m = |name: &str| member(private, public, name);
        let key = match alg {
            SigningAlg::ES256 => {
                let mut point = vec![0x04];
                point.extend(m("x")?);
                point.extend(m("y")?);
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &m("d")?,
                    &point,
                    &SystemRandom::new(),
                )
                .map_err(|e| format!("P-256 key: {e}"))?;
                Key::Ecdsa(pair)
            }
            SigningAlg::RS256 => return Err("RSA keys are signed through OpenSSL (`RsaSigner`)".to_owned()),
            SigningAlg::EdDSA => {
                let pair = Ed25519KeyPair::from_seed_and_public_key(&m("d")?, &m("x")?)
                    .map_err(|e| format!("Ed25519 key: {e}"))?;
                Key::Ed25519(pair)
            }
        };
        Ok(Self { key: Arc::new(key), rng: SystemRandom::new() })
    }
}

impl JwsSigner for RingSigner {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        match &*self.key {
            Key::Ecdsa(_) => &ES256,
            Key::Ed25519(_) => &EdDSA,
        }
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        // P-256 r‖s and Ed25519 signatures alike.
        64
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let failed = |e: ring::error::Unspecified| {
            JoseError::InvalidSignature(std::io::Error::other(format!("signing failed: {e}")).into())
        };
        match &*self.key {
            // FIXED: r || s, 32 bytes each, as JWS wants (RFC 7518 §3.4).
            Key::Ecdsa(k) => Ok(k.sign(&self.rng, message).map_err(failed)?.as_ref().to_vec()),
            Key::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use josekit::jwk::KeyPair as _;
    use josekit::jwk::alg::ed::EdCurve;
    use josekit::jws::{JwsHeader, JwsVerifier};
    use josekit::jwt::JwtPayload;

    use super::*;

    /// A key pair from josekit, as `keys.rs` generates and stores them: the
    /// private and public JWKs, and a josekit verifier of the public one.
    fn pair(alg: SigningAlg) -> (Jwk, Jwk, Box<dyn JwsVerifier>) {
        let (private, public) = match alg {
            SigningAlg::RS256 => {
                let kp = RS256.generate_key_pair(2048).unwrap();
                (kp.to_jwk_private_key(), kp.to_jwk_public_key())
            }
            SigningAlg::ES256 => {
                let kp = ES256.generate_key_pair().unwrap();
                (kp.to_jwk_private_key(), kp.to_jwk_public_key())
            }
            SigningAlg::EdDSA => {
                let kp = EdDSA.generate_key_pair(EdCurve::Ed25519).unwrap();
                (kp.to_jwk_private_key(), kp.to_jwk_public_key())
            }
        };
        let verifier: Box<dyn JwsVerifier> = match alg {
            SigningAlg::RS256 => Box::new(RS256.verifier_from_jwk(&public).unwrap()),
            SigningAlg::ES256 => Box::new(ES256.verifier_from_jwk(&public).unwrap()),
            SigningAlg::EdDSA => Box::new(EdDSA.verifier_from_jwk(&public).unwrap()),
        };
        (private, public, verifier)
    }

    #[test]
    fn what_we_sign_josekit_verifies() {
        for alg in SigningAlg::ALL {
            let (private, public, verifier) = pair(alg);
            let signer = signer_for(alg, &private, &public).unwrap();
            assert_eq!(signer.algorithm().name(), alg.as_str());
            let mut payload = JwtPayload::new();
            payload.set_subject("0196a5c2-7b1e-7c3a-9f44-2d1e8b6a0c11");
            let mut header = JwsHeader::new();
            header.set_token_type("JWT");
            let token = josekit::jwt::encode_with_signer(&payload, &header, signer.as_ref()).unwrap();
            let (back, _) = josekit::jwt::decode_with_verifier(&token, verifier.as_ref()).unwrap();
            assert_eq!(back.subject(), payload.subject(), "{}", alg.as_str());
            assert_eq!(signer.sign(b"x").unwrap().len(), signer.signature_len());

            // A changed payload under the same signature does not verify.
            let mut parts: Vec<&str> = token.split('.').collect();
            let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"someone-else"}"#);
            parts[1] = &other;
            assert!(josekit::jwt::decode_with_verifier(parts.join("."), verifier.as_ref()).is_err());
        }
    }

    /// PKCS#1 v1.5 signatures are deterministic: ours are the bytes
    /// josekit's own OpenSSL signer makes, from any number of threads at
    /// once, and the contexts kept are no more than signed at once.
    #[test]
    fn rs256_signatures_are_josekits_bytes_and_contexts_are_reused() {
        let (private, public, verifier) = pair(SigningAlg::RS256);
        let ours = RsaSigner::from_jwks(&private, &public).unwrap();
        let josekits = RS256.signer_from_jwk(&private).unwrap();
        assert_eq!(ours.signature_len(), 256);
        for message in [&b""[..], b"x", &[7u8; 5000]] {
            assert_eq!(ours.sign(message).unwrap(), josekits.sign(message).unwrap());
        }
        let threads = 4;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let (ours, verifier) = (ours.clone(), &verifier);
                scope.spawn(move || {
                    for i in 0..10 {
                        let message = format!("thread {t}, message {i}");
                        let signature = ours.sign(message.as_bytes()).unwrap();
                        verifier.verify(message.as_bytes(), &signature).unwrap();
                    }
                });
            }
        });
        let kept = ours.inner.ready.lock().unwrap().len();
        assert!((1..=threads).contains(&kept), "{kept} contexts kept for {threads} threads");
        let debug = format!("{ours:?}");
        assert!(debug.contains("2048") && !debug.contains(private.parameter("d").unwrap().as_str().unwrap()));
    }

    #[test]
    fn a_key_of_another_algorithm_or_with_members_missing_is_refused() {
        let (es_private, es_public, _) = pair(SigningAlg::ES256);
        let (ed_private, ed_public, _) = pair(SigningAlg::EdDSA);
        assert!(signer_for(SigningAlg::RS256, &es_private, &es_public).is_err());
        // RSA is OpenSSL's: ring refuses it even with a good key.
        let (rs_private, rs_public, _) = pair(SigningAlg::RS256);
        assert!(RingSigner::from_jwks(SigningAlg::RS256, &rs_private, &rs_public).is_err());
        let (_, other_rs_public, _) = pair(SigningAlg::RS256);
        let e = signer_for(SigningAlg::RS256, &rs_private, &other_rs_public).unwrap_err();
        assert!(e.contains("does not belong"), "{e}");
        assert!(signer_for(SigningAlg::RS256, &rs_public, &rs_public).is_err(), "a public key cannot sign");
        assert!(RingSigner::from_jwks(SigningAlg::EdDSA, &es_private, &es_public).is_err());
        assert!(RingSigner::from_jwks(SigningAlg::ES256, &ed_private, &ed_public).is_err());
        let mut no_d = es_private.clone();
        no_d.set_parameter("d", None).unwrap();
        let e = RingSigner::from_jwks(SigningAlg::ES256, &no_d, &es_public).unwrap_err();
        assert!(e.contains("\"d\""), "{e}");
        // A private key that does not belong to the public key beside it.
        let (_, other_public, _) = pair(SigningAlg::ES256);
        assert!(RingSigner::from_jwks(SigningAlg::ES256, &es_private, &other_public).is_err());
        let (_, other_ed_public, _) = pair(SigningAlg::EdDSA);
        assert!(RingSigner::from_jwks(SigningAlg::EdDSA, &ed_private, &other_ed_public).is_err());
        let signer = RingSigner::from_jwks(SigningAlg::ES256, &es_private, &es_public).unwrap();
        let debug = format!("{signer:?}");
        assert!(!debug.contains(es_private.parameter("d").unwrap().as_str().unwrap()), "{debug}");
    }
}
