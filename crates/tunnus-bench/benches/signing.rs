//! Token signing and verification with RS256 (2048-bit), ES256 and EdDSA
//! (Ed25519), on an ID-token-sized payload of 15 claims.
//!
//! `keyring/*` goes through the real code path, `tunnus_oidc::keys::KeyRing`
//! (`sign` builds the header with `typ` and `kid`; `verify` picks the
//! verifier by `kid`). A `KeyRing` is only made by `KeyRing::open`, which
//! generates and stores its keys in a database, so the setup uses a
//! throwaway SQLite file; the measured calls never touch it.
//!
//! `josekit/*` measures josekit alone, keys generated and signers/verifiers
//! built from JWKs exactly as `keys.rs` does, to show what `KeyRing` adds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use josekit::jwk::alg::ed::EdCurve;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{ES256, EdDSA, JwsHeader, JwsSigner, JwsVerifier, RS256};
use josekit::jwt::JwtPayload;
use serde_json::json;
use tunnus_core::client::SigningAlg;
use tunnus_oidc::keys::{KeyRing, half_hash};
use tunnus_store::testing::TestDatabase;

/// An ID token as `grants.rs` mints it for `openid profile email`: 15 claims.
fn id_token_payload() -> JwtPayload {
    let now = SystemTime::now();
    let mut p = JwtPayload::new();
    p.set_issuer("https://sso.example.com");
    p.set_subject("0196a5c2-7b1e-7c3a-9f44-2d1e8b6a0c11");
    p.set_audience(vec!["0196a5c2-7b1e-7c3a-9f44-3b9e1f2d4a77"]);
    p.set_issued_at(&now);
    p.set_expires_at(&(now + Duration::from_secs(300)));
    let claims = [
        ("azp", json!("0196a5c2-7b1e-7c3a-9f44-3b9e1f2d4a77")),
        ("auth_time", json!(1_767_225_600_i64)),
        ("nonce", json!("n-0S6_WzA2Mj-7fq1c4kR9")),
        ("acr", json!("urn:tunnus:acr:password")),
        ("amr", json!(["pwd"])),
        ("sid", json!("0196a5c2-8a0f-7d11-b3c5-5e2f7a9c1b30")),
        ("at_hash", json!(half_hash(SigningAlg::RS256, "an access token"))),
        ("name", json!("Johanna Virtanen")),
        ("email", json!("johanna.virtanen@example.com")),
        ("email_verified", json!(true)),
    ];
    for (k, v) in claims {
        p.set_claim(k, Some(v)).expect("claim");
    }
    assert_eq!(p.claims_set().len(), 15);
    p
}

fn group_settings<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(6)).throughput(Throughput::Elements(1));
    group
}

/// `iters` calls of `sign`, split between two threads running at once;
/// the time from the first call to the last (threads are spawned once per
/// sample, which costs microseconds here).
fn on_two_threads<T>(iters: u64, sign: impl Fn() -> T + Sync) -> std::time::Duration {
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for share in [iters / 2, iters - iters / 2] {
            let sign = &sign;
            s.spawn(move || {
                for _ in 0..share {
                    black_box(sign());
                }
            });
        }
    });
    started.elapsed()
}

fn keyring(c: &mut Criterion) {
    let database = TestDatabase::sqlite();
    let db = database.migrated();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let secret: Arc<[u8]> = Arc::from(&b"benchmark server secret, 32+ bytes long"[..]);
    let ring = runtime
        .block_on(KeyRing::open(&db, secret, time::OffsetDateTime::now_utc()))
        .expect("key ring opens on a fresh SQLite database");
    let payload = id_token_payload();

    let mut sign = group_settings(c, "keyring_sign_id_token");
    for alg in SigningAlg::ALL {
        sign.bench_function(alg.as_str(), |b| {
            b.iter(|| ring.sign(black_box(alg), "JWT", black_box(&payload)).expect("sign"));
        });
    }
    sign.finish();

    // Both cores signing at once, as the server's two workers do under load:
    // whether the second core doubles the rate or the threads wait on each
    // other inside the crypto library. Each iteration is one signature; the
    // two threads split the iterations and are spawned once per sample.
    let mut parallel = group_settings(c, "keyring_sign_id_token_2_threads");
    for alg in SigningAlg::ALL {
        parallel.bench_function(alg.as_str(), |b| {
            b.iter_custom(|iters| on_two_threads(iters, || ring.sign(alg, "JWT", &payload).expect("sign")));
        });
    }
    parallel.finish();

    // A first verification: checked at a time past the token's expiry, the
    // result is not remembered, so every iteration checks the signature.
    let after_expiry = SystemTime::now() + Duration::from_secs(3600);
    let mut verify = group_settings(c, "keyring_verify_id_token");
    for alg in SigningAlg::ALL {
        let token = ring.sign(alg, "JWT", &payload).expect("sign");
        assert!(ring.verify(&token, after_expiry).is_some());
        verify.bench_function(alg.as_str(), |b| {
            b.iter(|| ring.verify(black_box(&token), after_expiry).expect("verifies"));
        });
    }
    verify.finish();

    // The same token again within its lifetime (userinfo, introspection).
    let mut again = group_settings(c, "keyring_verify_again");
    for alg in SigningAlg::ALL {
        let token = ring.sign(alg, "JWT", &payload).expect("sign");
        let now = SystemTime::now();
        assert!(ring.verify(&token, now).is_some());
        again.bench_function(alg.as_str(), |b| b.iter(|| ring.verify(black_box(&token), now).expect("verifies")));
    }
    again.finish();
    drop(db);
    drop(database);
}

/// A signer and verifier made the way `keys.rs` makes them: generate a key
/// pair, go through its private and public JWKs.
fn josekit_pair(alg: SigningAlg) -> (Box<dyn JwsSigner>, Box<dyn JwsVerifier>) {
    let (private, public): (Jwk, Jwk) = match alg {
        SigningAlg::RS256 => {
            let kp = RS256.generate_key_pair(2048).expect("RSA key");
            (kp.to_jwk_private_key(), kp.to_jwk_public_key())
        }
        SigningAlg::ES256 => {
            let kp = ES256.generate_key_pair().expect("P-256 key");
            (kp.to_jwk_private_key(), kp.to_jwk_public_key())
        }
        SigningAlg::EdDSA => {
            let kp = EdDSA.generate_key_pair(EdCurve::Ed25519).expect("Ed25519 key");
            (kp.to_jwk_private_key(), kp.to_jwk_public_key())
        }
    };
    match alg {
        SigningAlg::RS256 => (
            Box::new(RS256.signer_from_jwk(&private).expect("signer")),
            Box::new(RS256.verifier_from_jwk(&public).expect("verifier")),
        ),
        SigningAlg::ES256 => (
            Box::new(ES256.signer_from_jwk(&private).expect("signer")),
            Box::new(ES256.verifier_from_jwk(&public).expect("verifier")),
        ),
        SigningAlg::EdDSA => (
            Box::new(EdDSA.signer_from_jwk(&private).expect("signer")),
            Box::new(EdDSA.verifier_from_jwk(&public).expect("verifier")),
        ),
    }
}

fn josekit_direct(c: &mut Criterion) {
    let payload = id_token_payload();
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id("0196a5c27b1e7c3a9f442d1e8b6a0c11");
    let pairs: Vec<_> = SigningAlg::ALL.into_iter().map(|alg| (alg, josekit_pair(alg))).collect();

    let mut sign = group_settings(c, "josekit_sign_id_token");
    for (alg, (signer, _)) in &pairs {
        sign.bench_function(alg.as_str(), |b| {
            b.iter(|| josekit::jwt::encode_with_signer(black_box(&payload), &header, signer.as_ref()).expect("sign"));
        });
    }
    sign.finish();

    // As `keyring_sign_id_token_2_threads`, through josekit's OpenSSL signers.
    let mut parallel = group_settings(c, "josekit_sign_id_token_2_threads");
    for (alg, (signer, _)) in &pairs {
        parallel.bench_function(alg.as_str(), |b| {
            b.iter_custom(|iters| {
                on_two_threads(iters, || {
                    josekit::jwt::encode_with_signer(&payload, &header, signer.as_ref()).expect("sign")
                })
            });
        });
    }
    parallel.finish();

    let mut verify = group_settings(c, "josekit_verify_id_token");
    for (alg, (signer, verifier)) in &pairs {
        let token = josekit::jwt::encode_with_signer(&payload, &header, signer.as_ref()).expect("sign");
        verify.bench_function(alg.as_str(), |b| {
            b.iter(|| josekit::jwt::decode_with_verifier(black_box(&token), verifier.as_ref()).expect("verifies"));
        });
    }
    verify.finish();
}

criterion_group!(benches, keyring, josekit_direct);
criterion_main!(benches);
