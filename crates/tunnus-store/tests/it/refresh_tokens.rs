//! Refresh-token rotation: the single-statement rotation on PostgreSQL and
//! the two statements in a transaction on SQLite must agree.

use std::sync::Arc;

use time::Duration;
use tunnus_core::client::{Client, ClientId, ClientKind, GrantType, SigningAlg, TokenEndpointAuth};
use tunnus_core::{Clock, SecretToken, SystemClock, UserStatus};
use tunnus_store::refresh_tokens::{self, RefreshRecord};
use tunnus_store::{Db, clients, users};

use crate::both_backends;

/// A person, a client and a first refresh token; returns (token, record).
async fn first_token(db: &Db) -> (SecretToken, RefreshRecord) {
    let now = SystemClock.now();
    let mut person = crate::users::user("rotate@example.com");
    person.status = UserStatus::Active;
    let client = Client {
        id: ClientId::parse("campus").unwrap(),
        name: "Campus".into(),
        kind: ClientKind::Confidential,
        secret_hash: Some("x".into()),
        auth_method: TokenEndpointAuth::ClientSecretBasic,
        jwks: None,
        redirect_uris: vec!["https://campus.example/cb".into()],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: vec![],
        strict_scopes: false,
        first_party: true,
        id_token_alg: SigningAlg::ES256,
        required_entitlement: None,
        accepts_federated_only: true,
        created_at: now,
    };
    let record = RefreshRecord {
        family_id: "family-1".into(),
        client_id: "campus".into(),
        user_id: person.id.to_string(),
        scopes: "openid".into(),
        sid: Some("sid-1".into()),
        offline: false,
        auth_time: now,
        amr: "[\"pwd\"]".into(),
        created_at: now,
        expires_at: now + Duration::hours(1),
        family_expires_at: now + Duration::days(1),
        rotated_at: None,
        revoked_at: None,
    };
    let token = SecretToken::generate(&mut rand::rng());
    let (hash, stored) = (token.hash(), record.clone());
    db.write(move |c| {
        users::insert(c, &person)?;
        clients::insert(c, &client, now)?;
        refresh_tokens::insert(c, &hash, &stored)
    })
    .await
    .unwrap();
    (token, record)
}

/// Rotates `old` to a new token; returns the new token if this rotation won.
async fn rotate(db: &Db, old: &SecretToken, record: &RefreshRecord) -> Option<SecretToken> {
    let new = SecretToken::generate(&mut rand::rng());
    let (old_hash, new_hash, now) = (old.hash(), new.hash(), SystemClock.now());
    let record = RefreshRecord { created_at: now, ..record.clone() };
    let won = db.write_statement(move |c| refresh_tokens::rotate(c, &old_hash, &new_hash, &record, now)).await.unwrap();
    won.then_some(new)
}

async fn rotation_stores_the_new_token_and_marks_the_old(db: Db) {
    let (first, record) = first_token(&db).await;
    let second = rotate(&db, &first, &record).await.expect("a current token rotates");

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
    assert!(rotate(&db, &first, &record).await.is_none(), "a rotated token does not rotate twice");
    // A revoked family's current token does not rotate either.
    let now = SystemClock.now();
    db.write(move |c| refresh_tokens::revoke_family(c, "family-1", now)).await.unwrap();
    assert!(rotate(&db, &second, &record).await.is_none(), "a revoked token does not rotate");
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
    assert!(rotate(&db, &stranger, &record).await.is_none());
}
both_backends!(rotation_stores_the_new_token_and_marks_the_old, super::rotation_stores_the_new_token_and_marks_the_old);

/// Sixteen rotations of one token at once: exactly one wins.
async fn concurrent_rotations_have_one_winner(db: Db) {
    let (first, record) = first_token(&db).await;
    let (first, record) = (Arc::new(first), Arc::new(record));
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let (db, first, record) = (db.clone(), first.clone(), record.clone());
            tokio::spawn(async move { rotate(&db, &first, &record).await.is_some() })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1, "exactly one of the concurrent rotations wins");
}
both_backends!(concurrent_rotations_have_one_winner, super::concurrent_rotations_have_one_winner);
