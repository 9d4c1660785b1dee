use time::Duration;
use tunnus_core::action::{ActionPurpose, ActionToken};
use tunnus_core::country::Country;
use tunnus_core::terms::{TermsDocument, TermsKind};
use tunnus_core::{Clock, Email, SecretToken, SystemClock, User, UserId, UserStatus};
use tunnus_store::{Db, StoreErrorKind, terms, tokens, users};

use crate::both_backends;

pub(crate) fn user(email: &str) -> User {
    let now = SystemClock.now();
    User {
        id: UserId::new_v7(),
        email: Email::parse(email).unwrap(),
        email_verified_at: None,
        password_hash: None,
        given_name: "Aino".into(),
        family_name: "Virtanen".into(),
        country: Country::parse("FI").unwrap(),
        preferred_language: None,
        status: UserStatus::Unverified,
        created_at: now,
        updated_at: now,
    }
}

async fn users_round_trip_and_unique_email(db: Db) {
    let u = user("Aino@Example.com");
    let stored = u.clone();
    db.write(move |c| users::insert(c, &stored)).await.unwrap();
    let again = user("aino@EXAMPLE.com");
    let err = db.write(move |c| users::insert(c, &again)).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);

    let email = Email::parse("AINO@example.COM").unwrap();
    let found = db.read(move |c| users::find_by_email(c, &email)).await.unwrap().unwrap();
    assert_eq!(found.id, u.id);
    assert_eq!(found.created_at, u.created_at, "times survive the round trip exactly");
    assert_eq!(found.status, UserStatus::Unverified);
    assert_eq!(db.read(|c| users::count(c)).await.unwrap(), 1);

    let id = u.id.clone();
    let now = SystemClock.now();
    db.write(move |c| users::set_password_and_verify(c, &id, "$argon2id$x", now)).await.unwrap();
    let id = u.id.clone();
    let found = db.read(move |c| users::find_by_id(c, &id)).await.unwrap().unwrap();
    assert_eq!(found.status, UserStatus::Active);
    assert_eq!(found.email_verified_at, Some(now));
    assert_eq!(found.password_hash.as_deref(), Some("$argon2id$x"));
}
both_backends!(users_round_trip_and_unique_email, super::users_round_trip_and_unique_email);

async fn a_failed_transaction_leaves_nothing(db: Db) {
    let u = user("half@example.com");
    let err = db
        .write(move |c| {
            users::insert(c, &u)?;
            users::insert(c, &u) // duplicate id: the whole transaction rolls back
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert_eq!(db.read(|c| users::count(c)).await.unwrap(), 0);
}
both_backends!(a_failed_transaction_leaves_nothing, super::a_failed_transaction_leaves_nothing);

async fn link_tokens_are_single_use_and_expire(db: Db) {
    let u = user("links@example.com");
    let uid = u.id.clone();
    db.write(move |c| users::insert(c, &u)).await.unwrap();
    let now = SystemClock.now();
    let secret = SecretToken::generate(&mut rand::rng());
    let hash = secret.hash();
    let token = ActionToken {
        purpose: ActionPurpose::SetPassword,
        user_id: uid.clone(),
        created_at: now,
        expires_at: now + Duration::hours(24),
        used_at: None,
    };
    let h = hash.clone();
    db.write(move |c| tokens::insert(c, &h, &token)).await.unwrap();

    let h = hash.clone();
    let found = db.read(move |c| tokens::find(c, &h)).await.unwrap().unwrap();
    assert_eq!(found.user_id, uid);
    // Wrong purpose and expired never consume.
    let h = hash.clone();
    assert!(!db.write(move |c| tokens::consume(c, &h, ActionPurpose::ResetPassword, now)).await.unwrap());
    let h = hash.clone();
    let later = now + Duration::hours(24);
    assert!(!db.write(move |c| tokens::consume(c, &h, ActionPurpose::SetPassword, later)).await.unwrap());
    // Concurrent consumers: exactly one wins.
    let mut wins = 0;
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            let h = hash.clone();
            tokio::spawn(
                async move { db.write(move |c| tokens::consume(c, &h, ActionPurpose::SetPassword, now)).await },
            )
        })
        .collect();
    for h in handles {
        if h.await.unwrap().unwrap() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}
both_backends!(link_tokens_are_single_use_and_expire, super::link_tokens_are_single_use_and_expire);

async fn terms_are_versioned(db: Db) {
    let u = user("terms@example.com");
    let uid = u.id.clone();
    db.write(move |c| users::insert(c, &u)).await.unwrap();
    let now = SystemClock.now();
    let doc = db.read(move |c| terms::current(c, TermsKind::Terms, now)).await.unwrap().unwrap();
    assert_eq!(doc.version, 1);
    let id = uid.clone();
    db.write(move |c| terms::record_acceptance(c, &id, &doc, now)).await.unwrap();
    let id = uid.clone();
    let versions = db.read(move |c| terms::accepted_versions(c, &id, TermsKind::Terms)).await.unwrap();
    assert_eq!(versions, vec![1]);

    // Outstanding: the current privacy version (never accepted), not the
    // accepted terms; a newer terms version, once in effect, is due again;
    // one published for later is not yet.
    let outstanding = |at: time::OffsetDateTime| {
        let (db, id) = (db.clone(), uid.clone());
        async move { db.read(move |c| terms::outstanding(c, &id, at)).await.unwrap() }
    };
    let due = outstanding(now).await;
    assert_eq!(due.iter().map(|d| (d.kind, d.version)).collect::<Vec<_>>(), vec![(TermsKind::Privacy, 1)]);
    let later = TermsDocument { kind: TermsKind::Terms, version: 2, url: "https://example.com/terms/2".into() };
    db.write(move |c| terms::publish(c, &later, now + Duration::days(1))).await.unwrap();
    assert_eq!(outstanding(now).await.len(), 1, "version 2 is not in effect yet");
    let due = outstanding(now + Duration::days(2)).await;
    assert_eq!(
        due.iter().map(|d| (d.kind, d.version, d.url.as_str())).collect::<Vec<_>>(),
        vec![(TermsKind::Terms, 2, "https://example.com/terms/2"), (TermsKind::Privacy, 1, due[1].url.as_str())]
    );
    let (id, privacy) = (uid.clone(), due[1].clone());
    db.write(move |c| terms::record_acceptance(c, &id, &privacy, now)).await.unwrap();
    let due = outstanding(now + Duration::days(2)).await;
    assert_eq!(due.iter().map(|d| (d.kind, d.version)).collect::<Vec<_>>(), vec![(TermsKind::Terms, 2)]);
}
both_backends!(terms_are_versioned, super::terms_are_versioned);

async fn audit_events_are_kept_for_the_retention_period(db: Db) {
    let now = SystemClock.now();
    let event = tunnus_store::audit::AuditEvent {
        kind: "sign_in.succeeded",
        actor_user_id: Some("u1".into()),
        subject_user_id: Some("u1".into()),
        ip: Some("127.0.0.1".into()),
        request_id: None,
        detail: serde_json::json!({}),
    };
    let (old, new) = (event.clone(), event);
    db.write(move |c| {
        tunnus_store::audit::record(c, &old, now - Duration::days(400))?;
        tunnus_store::audit::record(c, &new, now)
    })
    .await
    .unwrap();
    let removed = db.write(move |c| tunnus_store::audit::delete_before(c, now - Duration::days(365))).await.unwrap();
    assert_eq!(removed, 1);
    let people = vec!["u1".to_owned()];
    assert_eq!(db.read(move |c| tunnus_store::audit::recent(c, Some(&people), None, 10)).await.unwrap().len(), 1);
}
both_backends!(audit_events_are_kept_for_the_retention_period, super::audit_events_are_kept_for_the_retention_period);
