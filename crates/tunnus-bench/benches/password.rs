//! Password hashing and the password policy, at the product defaults.
//!
//! Argon2id with m = 19 456 KiB, t = 2, p = 1 (`Argon2Config::default()`) is
//! the dominant CPU cost of a password sign-in: one `verify` per attempt
//! (or one `verify_dummy` for an unknown account, which costs the same).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tunnus_core::password::{Argon2Config, PasswordHasher, PasswordPolicy, Verified};
use tunnus_core::{Email, Password};

fn argon2(c: &mut Criterion) {
    let config = Argon2Config::default();
    assert_eq!((config.memory_kib, config.iterations, config.parallelism), (19_456, 2, 1));
    let hasher = PasswordHasher::new(config).expect("default Argon2 parameters are valid");
    let password = Password::new("Correct-Horse7".to_owned());
    let wrong = Password::new("Correct-Horse8".to_owned());
    let stored = hasher.hash(&password).expect("hash");
    assert_eq!(hasher.verify(&password, &stored).expect("verify"), Verified::Yes);

    let mut group = c.benchmark_group("argon2id_m19456_t2_p1");
    // ~tens of milliseconds per call: fewer samples, longer window.
    group.sample_size(20).measurement_time(Duration::from_secs(12)).throughput(Throughput::Elements(1));
    group.bench_function("hash", |b| b.iter(|| hasher.hash(black_box(&password)).expect("hash")));
    group.bench_function("verify_correct", |b| {
        b.iter(|| {
            let v = hasher.verify(black_box(&password), black_box(&stored)).expect("verify");
            debug_assert_eq!(v, Verified::Yes);
            v
        });
    });
    group.bench_function("verify_wrong", |b| {
        b.iter(|| hasher.verify(black_box(&wrong), black_box(&stored)).expect("verify"));
    });
    // As the server's hashing threads do: the working memory allocated once
    // and reused, instead of allocated (and zeroed or faulted in) per call.
    let mut kept = hasher.with_memory();
    group.bench_function("verify_correct_kept_memory", |b| {
        b.iter(|| kept.verify(black_box(&password), black_box(&stored)).expect("verify"));
    });
    group.finish();

    // Two verifications at once, one per thread: whether a second core
    // doubles the rate or the 19 MiB working sets contend for cache and
    // memory bandwidth. Spawning two threads costs microseconds here.
    let mut group = c.benchmark_group("argon2id_m19456_t2_p1_parallel");
    group.sample_size(20).measurement_time(Duration::from_secs(12)).throughput(Throughput::Elements(2));
    group.bench_function("verify_correct_2_threads", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let a = s.spawn(|| hasher.verify(black_box(&password), black_box(&stored)).expect("verify"));
                let b = s.spawn(|| hasher.verify(black_box(&password), black_box(&stored)).expect("verify"));
                (a.join().expect("thread"), b.join().expect("thread"))
            })
        });
    });
    let (mut first, mut second) = (hasher.with_memory(), hasher.with_memory());
    group.bench_function("verify_correct_2_threads_kept_memory", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                let a = s.spawn(|| first.verify(black_box(&password), black_box(&stored)).expect("verify"));
                let b = s.spawn(|| second.verify(black_box(&password), black_box(&stored)).expect("verify"));
                (a.join().expect("thread"), b.join().expect("thread"))
            })
        });
    });
    group.finish();
}

fn policy(c: &mut Criterion) {
    let policy = PasswordPolicy::default();
    let email = Email::parse("johanna.virtanen@example.com").expect("email");
    // An acceptable password is the worst case: the whole common-password
    // list is scanned before it is accepted.
    let good = Password::new("Zq8#wertKlmn".to_owned());
    let common = Password::new("Password1!".to_owned());
    assert!(policy.check(&good, Some(&email)).is_empty());
    assert!(!policy.check(&common, Some(&email)).is_empty());

    let mut group = c.benchmark_group("password_policy");
    group.throughput(Throughput::Elements(1));
    group.bench_function("check_acceptable", |b| {
        b.iter(|| policy.check(black_box(&good), black_box(Some(&email))));
    });
    group.bench_function("check_common", |b| {
        b.iter(|| policy.check(black_box(&common), black_box(Some(&email))));
    });
    group.finish();
}

criterion_group!(benches, argon2, policy);
criterion_main!(benches);
