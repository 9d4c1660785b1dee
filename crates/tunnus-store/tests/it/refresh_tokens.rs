//! Refresh-token rotation: the single-statement rotation on PostgreSQL and
//! the two statements in a transaction on SQLite must agree.

use std::sync::Arc;

use tunnus_core::{Clock, SecretToken, SystemClock};
use tunnus_store::refresh_tokens::{self, RefreshRecord, RefreshTokenWriter, Rotation, TokenWrite};
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

/// A rotation of `old` by `client` now, whose next token ends when
/// `record`'s does (session-bound) or a day later (offline).
fn rotation_of(old: &SecretToken, client: &str, record: &RefreshRecord) -> Rotation {
    Rotation {
        old: old.hash(),
        client_id: client.to_owned(),
        at: SystemClock.now(),
        session_until: record.expires_at,
        offline_until: record.expires_at + time::Duration::days(1),
    }
}

/// Rotates `old` to a new token as `record`'s client; returns the new
/// token if this rotation won.
async fn rotate(writer: &RefreshTokenWriter, old: &SecretToken, record: &RefreshRecord) -> Option<SecretToken> {
    let new = SecretToken::generate(&mut rand::rng());
    let rotation = rotation_of(old, &record.client_id, record);
    let won = writer.store(TokenWrite::rotation(rotation, new.hash())).await.unwrap();
    won.map(|_| new)
}

async fn rotation_stores_the_new_token_and_marks_the_old(db: Db) {
    let (first, record) = first_token(&db).await;
    let writer = RefreshTokenWriter::start(&db).unwrap();
    let second = rotate(&writer, &first, &record).await.expect("a current token rotates");

    let h = first.hash();
    let old = db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap();
    assert!(old.rotated_at.is_some(), "the old token is marked rotated");
    let h = second.hash();
    let new = db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap();
    let owner = tunnus_core::UserId::from_stored(new.user_id.clone());
    let person = db.read(move |c| tunnus_store::users::find_by_id(c, &owner)).await.unwrap().unwrap();
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

/// A rotation reads the grant back as it stores the next token, so a
/// refresh needs no read before it; and it rotates only a token that is
/// current and the presenting client's. Tried: another client's
/// rotation, an expired token, a family past its end; then the right one,
/// session-bound and offline (the next token's end: the session's or the
/// offline sliding end, never past the family's), and an undone rotation.
async fn a_rotation_reads_the_grant_back_and_refuses_what_is_not_current(db: Db) {
    let (first, record) = first_token(&db).await;
    let writer = RefreshTokenWriter::start(&db).unwrap();
    let try_rotate = |rotation: Rotation| {
        let (writer, new) = (writer.clone(), SecretToken::generate(&mut rand::rng()));
        async move { writer.store(TokenWrite::rotation(rotation, new.hash())).await.unwrap().map(|r| (new, r)) }
    };
    assert!(try_rotate(rotation_of(&first, "warehouse", &record)).await.is_none(), "another client's");
    let late =
        Rotation { at: record.expires_at + time::Duration::seconds(1), ..rotation_of(&first, "campus", &record) };
    assert!(try_rotate(late).await.is_none(), "an expired token");
    let h = first.hash();
    let still = db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap();
    assert!(still.rotated_at.is_none(), "refused rotations leave the token current");

    let (second, next) = try_rotate(rotation_of(&first, "campus", &record)).await.expect("a current token");
    assert_eq!((next.family_id.as_str(), next.client_id.as_str()), ("family-1", "campus"));
    assert_eq!((next.user_id.as_str(), next.scopes.as_str()), (record.user_id.as_str(), "openid"));
    assert_eq!((next.sid.as_deref(), next.offline, next.amr.as_str()), (Some("sid-1"), false, "[\"pwd\"]"));
    assert_eq!(next.auth_time.unix_timestamp(), record.auth_time.unix_timestamp());
    assert_eq!(next.family_expires_at.unix_timestamp(), record.family_expires_at.unix_timestamp());
    assert_eq!(next.expires_at.unix_timestamp(), record.expires_at.unix_timestamp(), "the session-bound end");
    let h = second.hash();
    let stored = db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap();
    assert_eq!(stored.expires_at, next.expires_at, "what was read back is what is stored");
    assert_eq!(stored.created_at, next.created_at);

    // An offline family: the offline end, cut at the family's own end.
    let offline = SecretToken::generate(&mut rand::rng());
    let offline_record =
        RefreshRecord { offline: true, sid: None, ..testing::refresh_record(&record.user_id, "campus", "family-9") };
    let (h, stored) = (offline.hash(), offline_record.clone());
    db.write(move |c| refresh_tokens::insert(c, &h, &stored)).await.unwrap();
    let (offline_next, next) = try_rotate(rotation_of(&offline, "campus", &offline_record)).await.unwrap();
    assert!(next.offline);
    assert_eq!(
        next.expires_at.unix_timestamp(),
        offline_record.family_expires_at.unix_timestamp(),
        "a day past the token's end is past the family's: the family's end"
    );

    // A refresh refused after its rotation undoes it: the next token goes,
    // the old one is current again; once only.
    let undo = |old: &SecretToken, new: &SecretToken| {
        let (old, new, db) = (old.hash(), new.hash(), db.clone());
        async move { db.write(move |c| refresh_tokens::undo_rotation(c, &old, &new)).await.unwrap() }
    };
    assert!(undo(&offline, &offline_next).await);
    let (h, n) = (offline.hash(), offline_next.hash());
    assert!(db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap().rotated_at.is_none());
    assert!(db.read(move |c| refresh_tokens::find(c, &n)).await.unwrap().is_none());
    assert!(!undo(&offline, &offline_next).await, "nothing left to undo");
    assert!(!undo(&first, &SecretToken::generate(&mut rand::rng())).await, "not another rotation's old token");
    let h = first.hash();
    assert!(db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().unwrap().rotated_at.is_some());

    // A family past its end: the token does not rotate, though it has not expired.
    let ended = SecretToken::generate(&mut rand::rng());
    let now = SystemClock.now();
    let ended_record = RefreshRecord {
        family_expires_at: now - time::Duration::seconds(1),
        ..testing::refresh_record(&record.user_id, "campus", "family-8")
    };
    let (h, stored) = (ended.hash(), ended_record.clone());
    db.write(move |c| refresh_tokens::insert(c, &h, &stored)).await.unwrap();
    assert!(try_rotate(rotation_of(&ended, "campus", &ended_record)).await.is_none(), "a family past its end");
}
both_backends!(
    a_rotation_reads_the_grant_back_and_refuses_what_is_not_current,
    super::a_rotation_reads_the_grant_back_and_refuses_what_is_not_current
);

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
            assert!(matches!(outcome, Ok(Some(_))), "write {i}: {outcome:?}");
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

/// A family goes with its person, and its tokens with it: they are no
/// longer found at once. The cleanup deletes expired families and tokens;
/// a rotated token is kept (a reuse of it must still be caught) until it
/// expires.
async fn gone_families_end_their_tokens_and_the_cleanup_deletes_expired_ones(db: Db) {
    use diesel::prelude::*;
    let (first, kept) = first_token(&db).await;
    let writer = RefreshTokenWriter::start(&db).unwrap();
    let second = rotate(&writer, &first, &kept).await.unwrap();
    let leaver = testing::person_and_client(&db, "leaver@example.com", "warehouse");
    let leavers = SecretToken::generate(&mut rand::rng());
    let write = TokenWrite::first(leavers.hash(), testing::refresh_record(leaver.id.as_str(), "warehouse", "family-2"));
    assert!(writer.store(write).await.unwrap().is_some());
    let now = SystemClock.now();
    let expired = SecretToken::generate(&mut rand::rng());
    let old = RefreshRecord {
        expires_at: now - time::Duration::minutes(1),
        family_expires_at: now - time::Duration::minutes(1),
        ..record(&kept.user_id, "family-3")
    };
    assert!(writer.store(TokenWrite::first(expired.hash(), old)).await.unwrap().is_some());

    let gone = leaver.id.to_string();
    db.write(move |c| {
        use tunnus_store::schema::users::dsl;
        Ok(diesel::delete(dsl::users.find(gone)).execute(c)?)
    })
    .await
    .unwrap();
    let find = |t: &SecretToken| {
        let h = t.hash();
        let db = db.clone();
        async move { db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap() }
    };
    assert!(find(&leavers).await.is_none(), "a deleted person's token is no token");
    assert!(find(&second).await.is_some());

    let deleted = db.write(move |c| refresh_tokens::delete_expired(c, now)).await.unwrap();
    assert_eq!(deleted, 1, "the expired token is deleted");
    assert!(find(&expired).await.is_none());
    assert!(find(&leavers).await.is_none());
    assert!(find(&first).await.unwrap().rotated_at.is_some(), "a rotated token is kept until it expires");
    assert!(find(&second).await.unwrap().rotated_at.is_none());
    let families = db
        .read(|c| {
            use tunnus_store::schema::refresh_families::dsl;
            Ok(dsl::refresh_families.select(dsl::family_id).order(dsl::family_id).load::<String>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(families, ["family-1"], "the deleted person's and the expired family are gone");
}
both_backends!(
    gone_families_end_their_tokens_and_the_cleanup_deletes_expired_ones,
    super::gone_families_end_their_tokens_and_the_cleanup_deletes_expired_ones
);

/// Refresh tokens as they were stored before families had a table of
/// their own (migration `2026-12-06-000070_refresh_families`).
mod joined_layout {
    diesel::table! {
        refresh_tokens (token_hash) {
            token_hash -> Text,
            family_id -> Text,
            client_id -> Text,
            user_id -> Text,
            scopes -> Text,
            sid -> Nullable<Text>,
            offline -> Bool,
            auth_time -> Timestamp,
            amr -> Text,
            created_at -> Timestamp,
            expires_at -> Timestamp,
            family_expires_at -> Timestamp,
            rotated_at -> Nullable<Timestamp>,
            revoked_at -> Nullable<Timestamp>,
        }
    }
}

/// The migration that gave families their own table keeps every grant:
/// back to the joined layout, tokens stored there, and forward again.
async fn the_family_split_keeps_every_grant(db: Db) {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use joined_layout::refresh_tokens::dsl as t;

    let person = testing::person_and_client(&db, "split@example.com", "campus").id.to_string();
    let (down, up) = match db.backend() {
        tunnus_store::Backend::Sqlite => (
            include_str!("../../../../migrations/sqlite/2026-12-06-000070_refresh_families/down.sql"),
            include_str!("../../../../migrations/sqlite/2026-12-06-000070_refresh_families/up.sql"),
        ),
        tunnus_store::Backend::Postgres => (
            include_str!("../../../../migrations/postgres/2026-12-06-000070_refresh_families/down.sql"),
            include_str!("../../../../migrations/postgres/2026-12-06-000070_refresh_families/up.sql"),
        ),
    };
    let now = time::PrimitiveDateTime::new(time::macros::date!(2026 - 12 - 06), time::macros::time!(12:00));
    let later = now + time::Duration::seconds(1);
    let (day, month) = (now + time::Duration::days(1), now + time::Duration::days(30));
    let tokens: Vec<_> = (0..3).map(|_| SecretToken::generate(&mut rand::rng())).collect();
    let hashes: Vec<String> = tokens.iter().map(|t| t.hash().as_str().to_owned()).collect();
    db.write(move |c| {
        c.batch_execute(down)?;
        // Family "bound": its first token rotated, the second current.
        // Family "offline": one token, revoked.
        for (i, (family, sid, offline, created, rotated, revoked)) in [
            ("bound", Some("sid-1"), false, now, Some(later), None),
            ("bound", Some("sid-1"), false, later, None, None),
            ("offline", None, true, now, None, Some(later)),
        ]
        .into_iter()
        .enumerate()
        {
            diesel::insert_into(t::refresh_tokens)
                .values((
                    t::token_hash.eq(&hashes[i]),
                    t::family_id.eq(family),
                    t::client_id.eq("campus"),
                    t::user_id.eq(&person),
                    t::scopes.eq("openid profile"),
                    t::sid.eq(sid),
                    t::offline.eq(offline),
                    t::auth_time.eq(now),
                    t::amr.eq("[\"pwd\"]"),
                    t::created_at.eq(created),
                    t::expires_at.eq(day),
                    t::family_expires_at.eq(month),
                    t::rotated_at.eq(rotated),
                    t::revoked_at.eq(revoked),
                ))
                .execute(c)?;
        }
        c.batch_execute(up)?;
        Ok(())
    })
    .await
    .unwrap();

    let find = |t: &SecretToken| {
        let h = t.hash();
        let db = db.clone();
        async move { db.read(move |c| refresh_tokens::find(c, &h)).await.unwrap().expect("the token is kept") }
    };
    let (rotated, current, revoked) = (find(&tokens[0]).await, find(&tokens[1]).await, find(&tokens[2]).await);
    assert!(rotated.rotated_at.is_some() && rotated.revoked_at.is_none());
    assert!(current.rotated_at.is_none() && current.revoked_at.is_none());
    assert_eq!((current.family_id.as_str(), current.sid.as_deref(), current.offline), ("bound", Some("sid-1"), false));
    assert_eq!((current.scopes.as_str(), current.amr.as_str()), ("openid profile", "[\"pwd\"]"));
    assert_eq!(current.created_at, tunnus_store::time_conv::from_db(later));
    assert_eq!(current.family_expires_at, tunnus_store::time_conv::from_db(month));
    assert!(revoked.offline && revoked.sid.is_none());
    assert!(revoked.revoked_at.is_some(), "a family with a revoked token stays revoked");
}
both_backends!(the_family_split_keeps_every_grant, super::the_family_split_keeps_every_grant);
