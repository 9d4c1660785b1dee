//! Refresh-token rotation: the single-statement rotation on PostgreSQL and
//! the two statements in a transaction on SQLite must agree.

use std::sync::Arc;

use tunnus_core::{Clock, SecretToken, SystemClock};
use tunnus_store::refresh_tokens::{self, RefreshRecord, RefreshTokenWriter, TokenWrite};
use tunnus_store::{Db, StoreErrorKind, testing};

use crate::both_backends;

fn record(person: &str, family: &str) -> RefreshRecord {
    testing::refresh_record(person, "campus", family)
}

/// A person, a client and a first refresh token; returns (token, record).
async fn first_token(db: &Db) -> (SecretToken, RefreshRecord) {
    let person = testing::person_and_client(db, "rotate@example.com", "campus");
    let record = record(person.id.as_str(), "family-1");
    let token = SecretToken::generate(&mut rand::rng());
    let (hash, stored) = (token.hash(), record.clone());
    db.write(move |c| refresh_tokens::insert(c, &hash, &stored)).await.unwrap();
    (token, record)
}

/// Rotates `old` to a new token; returns the new token if this rotation won.
async fn rotate(writer: &RefreshTokenWriter, old: &SecretToken, record: &RefreshRecord) -> Option<SecretToken> {
    let new = SecretToken::generate(&mut rand::rng());
    let record = RefreshRecord { created_at: SystemClock.now(), ..record.clone() };
    let won = writer.store(TokenWrite::rotation(old.hash(), new.hash(), record)).await.unwrap();
    won.then_some(new)
}

async fn rotation_stores_the_new_token_and_marks_the_old(db: Db) {
    let (first, record) = first_token(&db).await;
    let writer = RefreshTokenWriter::start(&db).unwrap();
    let second = rotate(&writer, &first, &record).await.expect("a current token rotates");

    let h = first.hash();
    let old = db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap();
    assert!(old.rotated_at.is_some(), "the old token is marked rotated");
    let h = second.hash();
    let (new, person) = db.read(move |c| refresh_tokens::find_with_user(c, &h)).await.unwrap().unwrap();
    assert_eq!(new.family_id, "family-1");
    assert_eq!(new.sid.as_deref(), Some("sid-1"));
    assert_eq!(new.amr, "[\"pwd\"]");
    assert_eq!(new.expires_at, record.expires_at);
    assert_eq!(new.family_expires_at, record.family_expires_at);
    assert!(new.rotated_at.is_none() && new.revoked_at.is_none());
    assert_eq!(person.email.as_str(), "rotate@example.com");

    // The old token again: no rotation, nothing stored.
    assert!(rotate(&writer, &first, &record).await.is_none(), "a rotated token does not rotate twice");
    // A revoked family's current token does not rotate either.
    let now = SystemClock.now();
    db.write(move |c| refresh_tokens::revoke_family(c, "family-1", now)).await.unwrap();
    assert!(rotate(&writer, &second, &record).await.is_none(), "a revoked token does not rotate");
    let family_size = db
        .read(|c| {
            use diesel::prelude::*;
            use tunnus_store::schema::refresh_tokens::dsl;
            Ok(dsl::refresh_tokens.filter(dsl::family_id.eq("family-1")).count().get_result::<i64>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(family_size, 2, "the refused rotations stored no token");
    // An unknown token: nothing.
    let stranger = SecretToken::generate(&mut rand::rng());
    assert!(rotate(&writer, &stranger, &record).await.is_none());
}
both_backends!(rotation_stores_the_new_token_and_marks_the_old, super::rotation_stores_the_new_token_and_marks_the_old);

/// Sixteen rotations of one token at once, over two writers (as from two
/// replicas; on PostgreSQL each writer puts the rotations waiting together
/// in one statement): exactly one wins.
async fn concurrent_rotations_have_one_winner(db: Db) {
    let (first, record) = first_token(&db).await;
    let writers = [RefreshTokenWriter::start(&db).unwrap(), RefreshTokenWriter::start(&db).unwrap()];
    let (first, record) = (Arc::new(first), Arc::new(record));
    let racers: Vec<_> = (0..16)
        .map(|i| {
            let (writer, first, record) = (writers[i % 2].clone(), first.clone(), record.clone());
            tokio::spawn(async move { rotate(&writer, &first, &record).await.is_some() })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1, "exactly one of the concurrent rotations wins");
}
both_backends!(concurrent_rotations_have_one_winner, super::concurrent_rotations_have_one_winner);

/// Forty first tokens stored at once, one of them for a person who does not
/// exist (as if deleted meanwhile): that write fails, every other is
/// stored, batched together or not.
async fn a_refused_write_fails_alone(db: Db) {
    let person = testing::person_and_client(&db, "many@example.com", "campus");
    let writer = RefreshTokenWriter::start(&db).unwrap();
    let writes: Vec<_> = (0..40)
        .map(|i| {
            let owner = if i == 17 { "no-such-person" } else { person.id.as_str() };
            let write =
                TokenWrite::first(SecretToken::generate(&mut rand::rng()).hash(), record(owner, &format!("f{i}")));
            let writer = writer.clone();
            async move { writer.store(write).await }
        })
        .collect();
    let outcomes = futures_util::future::join_all(writes).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        if i == 17 {
            let e = outcome.as_ref().expect_err("a token of nobody is refused");
            assert_ne!(e.kind(), StoreErrorKind::Unavailable, "refused, not a lost connection: {e}");
        } else {
            assert!(matches!(outcome, Ok(true)), "write {i}: {outcome:?}");
        }
    }
    let stored = db
        .read(|c| {
            use diesel::prelude::*;
            use tunnus_store::schema::refresh_tokens::dsl;
            Ok(dsl::refresh_tokens.count().get_result::<i64>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(stored, 39);
    if let Some((statements, writes)) = writer.counts() {
        assert_eq!(writes, 40, "every write went through the PostgreSQL writer");
        assert!(statements <= writes);
    }
}
both_backends!(a_refused_write_fails_alone, super::a_refused_write_fails_alone);
