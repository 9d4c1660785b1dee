//! Request parsing on the authorization path: parameter screening, scopes,
//! email addresses, and the random secrets (codes, session ids) and their
//! hashes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tunnus_core::scope::Scopes;
use tunnus_core::{Email, SecretToken};
use tunnus_oidc::params::Params;

/// A typical authorization-code request with PKCE: 10 parameters.
const AUTHORIZE_QUERY: &str = "response_type=code\
    &client_id=0196a5c2-7b1e-7c3a-9f44-3b9e1f2d4a77\
    &redirect_uri=https%3A%2F%2Fapp.example.com%2Fauth%2Fcallback\
    &scope=openid%20profile%20email%20offline_access%20organization\
    &state=af0ifjsldkj-Qx81LmZ2\
    &nonce=n-0S6_WzA2Mj-7fq1c4kR9\
    &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
    &code_challenge_method=S256\
    &response_mode=query\
    &ui_locales=fi%20sv%20en";

fn decode(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn params(c: &mut Criterion) {
    let pairs = decode(AUTHORIZE_QUERY);
    assert_eq!(pairs.len(), 10);
    assert!(Params::from_pairs(pairs.clone()).is_ok());

    let mut group = c.benchmark_group("authorize_params");
    group.throughput(Throughput::Elements(1));
    // Screening alone; the input vector is built outside the timed part.
    group.bench_function("from_pairs_10", |b| {
        b.iter_batched(|| pairs.clone(), |p| Params::from_pairs(black_box(p)).expect("ok"), BatchSize::SmallInput);
    });
    // What the server does with a query string: decode, then screen.
    group.bench_function("decode_and_from_pairs_10", |b| {
        b.iter(|| Params::from_pairs(decode(black_box(AUTHORIZE_QUERY))).expect("ok"));
    });
    group.finish();
}

fn scopes(c: &mut Criterion) {
    let asked = "openid profile email offline_access organization unknown";
    let allowed: Vec<String> =
        ["profile", "email", "offline_access", "organization", "entitlements"].map(str::to_owned).to_vec();
    let mut group = c.benchmark_group("scopes");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_and_restrict_to", |b| {
        b.iter(|| {
            let s = Scopes::parse(black_box(asked)).expect("parses");
            s.restrict_to(black_box(&allowed), false).expect("not strict")
        });
    });
    group.finish();
}

fn email(c: &mut Criterion) {
    let mut group = c.benchmark_group("email");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse", |b| {
        b.iter(|| Email::parse(black_box("  Johanna.Virtanen+sso@Mail.Example.COM ")).expect("valid"));
    });
    group.finish();
}

fn secrets(c: &mut Criterion) {
    let mut group = c.benchmark_group("secret_token");
    group.throughput(Throughput::Elements(1));
    group.bench_function("generate_and_hash", |b| {
        b.iter(|| {
            let t = SecretToken::generate(&mut rand::rng());
            t.hash()
        });
    });
    let token = SecretToken::generate(&mut rand::rng());
    group.bench_function("hash", |b| b.iter(|| black_box(&token).hash()));
    group.finish();
}

criterion_group!(benches, params, scopes, email, secrets);
criterion_main!(benches);
