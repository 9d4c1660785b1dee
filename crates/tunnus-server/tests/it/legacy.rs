//! Accounts imported from the legacy account system: their old bcrypt and
//! PBKDF2 passwords work once and are replaced by Argon2id; the welcome
//! email's set-password link works; a legacy account skipped as unverified is
//! connected when its person signs up and verifies later.

use reqwest::StatusCode;
use time::Duration;
use tunnus_core::Clock as _;
use tunnus_core::Email;
use tunnus_core::legacy::{ImportReport, LegacyRow, Skip, SkipReason};
use tunnus_core::legacy_hash::pbkdf2_sha256_phc;
use tunnus_server::services::legacy::{Checked, ImportSettings, Importer};
use tunnus_store::legacy::Outcome;
use tunnus_store::{legacy, orgs, outbox, users};

use crate::both_backends;
use crate::support::{GOOD_PASSWORD, TestApp, accept_terms, set_password, sign_in, sign_up};

/// Imports JSON Lines through the service, as `tunnus import-legacy` does.
async fn import(app: &TestApp, jsonl: &str) -> ImportReport {
    let checked: Vec<Checked> = jsonl
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let row: LegacyRow = serde_json::from_str(line).unwrap();
            match row.check() {
                Ok(account) => Checked::Account { record: i as u64 + 1, account },
                Err((reason, detail)) => Checked::Refused(Skip {
                    record: i as u64 + 1,
                    legacy_id: row.legacy_id().map(str::to_owned),
                    email: None,
                    reason,
                    detail,
                }),
            }
        })
        .collect();
    let db = app.state().db.clone();
    let settings = ImportSettings::from_config(&app.state().config);
    let now = app.clock.now();
    tokio::task::spawn_blocking(move || {
        let mut importer = Importer::open(db, settings, false, now).unwrap();
        let mut report = ImportReport::default();
        importer.import_batch(&checked, &mut report, now).unwrap();
        report
    })
    .await
    .unwrap()
}

async fn stored_hash(app: &TestApp, email: &str) -> String {
    let email = Email::parse(email).unwrap();
    let user = app.state().db.read(move |c| users::find_by_email(c, &email)).await.unwrap().unwrap();
    user.password_hash.unwrap()
}

async fn legacy_hashes_sign_in_once_then_argon2id(app: TestApp) {
    let bcrypt = bcrypt::hash("Old-bcrypt-pw1", 4).unwrap();
    let pbkdf2 = pbkdf2_sha256_phc("Old-pbkdf2-pw1", b"legacy-salt-1234", 1_000);
    let rows = format!(
        r#"{{"legacy_id": "b1", "email": "bcrypt@example.com", "verified": true, "given_name": "Bea", "family_name": "Crypt", "country": "FI", "password_hash": "{bcrypt}", "password_scheme": "bcrypt"}}
{{"legacy_id": "p1", "email": "pbkdf2@example.com", "verified": "yes", "given_name": "Pia", "family_name": "Kdf", "country": "DE", "language": "de", "password_hash": "{pbkdf2}", "password_scheme": "pbkdf2-sha256"}}
{{"legacy_id": "n1", "email": "nopass@example.com", "verified": 1, "given_name": "Nils", "family_name": "Nopass", "country": "SE"}}"#
    );
    let report = import(&app, &rows).await;
    assert_eq!((report.created, report.emails_queued), (3, 3), "{report:?}");

    // The welcome emails are spread at the configured rate (600 a minute: 100 ms apart).
    let queued = app.state().db.read(|c| outbox::recent(c, "email", 10)).await.unwrap();
    let mut due: Vec<_> = queued.iter().map(|i| i.next_attempt_at).collect();
    due.sort();
    assert_eq!(due.len(), 3);
    assert_eq!(due[1] - due[0], Duration::milliseconds(100));
    assert_eq!(due[2] - due[1], Duration::milliseconds(100));
    // No usable link waits in the outbox: the set-password token is minted when the email is sent.
    for item in &queued {
        let payload: serde_json::Value = serde_json::from_str(&item.payload).unwrap();
        let link = payload["link"].as_str().unwrap();
        assert!(link.ends_with("/login") || link.ends_with("/password/set?token="), "{link}");
        assert_eq!(payload["set_password_for"].is_string(), link.ends_with("token="), "{payload}");
    }
    app.clock.advance(Duration::seconds(1));
    app.state().mail_waker.notify_one();

    // The old passwords work; the stored hash becomes Argon2id on that first sign-in.
    for (email, password, prefix) in
        [("bcrypt@example.com", "Old-bcrypt-pw1", "$2b$"), ("pbkdf2@example.com", "Old-pbkdf2-pw1", "$pbkdf2-sha256$")]
    {
        assert!(stored_hash(&app, email).await.starts_with(prefix));
        let wrong = sign_in(&app.browser(), email, "Not-the-pw1").await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(stored_hash(&app, email).await.starts_with(prefix), "a wrong password changes nothing");
        let ok = sign_in(&app.browser(), &email.to_uppercase(), password).await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{email}: {}", ok.body);
        assert!(stored_hash(&app, email).await.starts_with("$argon2id$"), "{email} was not re-hashed");
        let again = sign_in(&app.browser(), email, password).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{email} after the upgrade");
    }
    let welcome = app.wait_for_email("pbkdf2@example.com", 1).await;
    assert!(welcome.subject.contains("Tunnus-Identität"), "in the person's language: {}", welcome.subject);
    assert!(welcome.link_path().starts_with("/login"), "{}", welcome.link());

    // Without a legacy hash: the welcome email's link sets the password.
    let welcome = app.wait_for_email("nopass@example.com", 1).await;
    assert_eq!(welcome.subject, "Your account is now a Tunnus identity");
    assert!(welcome.text.contains("168 hours"), "{}", welcome.text);
    let b = app.browser();
    let done = set_password(&b, &welcome.link_path(), GOOD_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(sign_in(&app.browser(), "nopass@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
}
both_backends!(legacy_hashes_sign_in_once_then_argon2id, super::legacy_hashes_sign_in_once_then_argon2id);

async fn an_unverified_legacy_account_is_linked_after_late_verification(app: TestApp) {
    let now = app.clock.now();
    let org = app.state().db.write(move |c| orgs::create_org(c, "Acme", now)).await.unwrap();
    let rows = r#"{"legacy_id": "u1", "email": "Late@Example.com", "verified": false, "given_name": "Late", "family_name": "Comer", "country": "FI", "organization_name": "Acme", "membership_kind": "internal", "role": "admin", "licenses": ["campus", "model-sharing"]}
{"legacy_id": "u2", "email": "other@example.com", "verified": "no", "given_name": "O", "family_name": "T", "country": "FI"}"#;
    let report = import(&app, rows).await;
    assert_eq!(report.created, 0);
    assert_eq!(report.skipped.get(&SkipReason::Unverified), Some(&2), "{report:?}");
    assert_eq!(app.user_count().await, 0, "an unverified legacy account is not imported");

    // The person signs up on their own (names, country, terms) and verifies.
    let b = app.browser();
    let link = sign_up(&app, &b, "LATE@example.com").await;
    let (status, linked) = legacy_state(&app, "u1").await;
    assert_eq!((status, linked), (Outcome::Skipped, None), "nothing is linked before verification");
    let done = set_password(&b, &link, GOOD_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let email = Email::parse("late@example.com").unwrap();
    let user = app.state().db.read(move |c| users::find_by_email(c, &email)).await.unwrap().unwrap();
    let (status, linked) = legacy_state(&app, "u1").await;
    assert_eq!(status, Outcome::Linked);
    assert_eq!(linked.as_deref(), Some(user.id.as_str()));
    let uid = user.id.to_string();
    let facts = app.state().db.read(move |c| orgs::access_facts(c, &uid)).await.unwrap();
    assert_eq!(facts.memberships.len(), 1);
    assert_eq!(facts.memberships[0].org_id, org);
    assert_eq!(facts.memberships[0].role.as_str(), "admin");
    let mut licenses: Vec<&str> = facts.grants.iter().map(|g| g.entitlement.as_str()).collect();
    licenses.sort();
    assert_eq!(licenses, ["campus", "model-sharing"]);
    // The other legacy account stays waiting for its own person.
    assert_eq!(legacy_state(&app, "u2").await.0, Outcome::Skipped);

    // A rerun of the import leaves the linked account alone.
    let report = import(&app, rows).await;
    assert_eq!(report.already_imported, 1);
    assert_eq!(report.skipped.get(&SkipReason::Unverified), Some(&1));
    assert_eq!(report.skips_recorded, 0);
    assert!(report.nothing_changed(), "{report:?}");
}
both_backends!(
    an_unverified_legacy_account_is_linked_after_late_verification,
    super::an_unverified_legacy_account_is_linked_after_late_verification
);

async fn legacy_state(app: &TestApp, id: &'static str) -> (Outcome, Option<String>) {
    let state = app.state().db.read(move |c| legacy::find(c, id)).await.unwrap().unwrap();
    (state.outcome, state.user_id)
}

/// Deleting an imported identity also forgets the address its legacy row
/// held, and a rerun of the import does not bring the person back.
async fn a_deleted_imported_person_stays_deleted(app: TestApp) {
    let bcrypt = bcrypt::hash("Old-bcrypt-pw1", 4).unwrap();
    let rows = format!(
        r#"{{"legacy_id": "d1", "email": "Leaving@Example.com", "verified": true, "given_name": "Lea", "family_name": "Ving", "country": "FI", "password_hash": "{bcrypt}", "password_scheme": "bcrypt"}}
{{"legacy_id": "g1", "email": "gone@example.com", "verified": true, "given_name": "Gus", "family_name": "One", "country": "FI"}}"#
    );
    assert_eq!(import(&app, &rows).await.created, 2);
    // Deleted before its welcome email went out: that email is dropped, not
    // sent with a link nobody can use, nor retried forever. It is the
    // second in the file, so it is due a slot after the first (the rate),
    // and the test clock only moves when told: the worker cannot send it
    // before the deletion.
    let gone = Email::parse("gone@example.com").unwrap();
    let gone_id = app.state().db.read(move |c| users::find_by_email(c, &gone)).await.unwrap().unwrap().id;
    assert!(app.state().db.write(move |c| users::delete(c, &gone_id)).await.unwrap());
    app.clock.advance(Duration::seconds(1));
    app.state().mail_waker.notify_one();
    app.wait_for_email("leaving@example.com", 1).await;
    let mut queued = Vec::new();
    for _ in 0..100 {
        queued = app.state().db.read(|c| outbox::recent(c, "email", 10)).await.unwrap();
        if queued.len() == 2 && queued.iter().all(|i| i.sent_at.is_some()) {
            break;
        }
        app.state().mail_waker.notify_one();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(app.emails_to("gone@example.com").is_empty());
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(queued.iter().all(|i| i.sent_at.is_some() && i.attempts == 1 && i.last_error.is_none()), "{queued:?}");

    let before = app.state().db.read(|c| legacy::find(c, "d1")).await.unwrap().unwrap();
    assert_eq!(before.email, "leaving@example.com");
    assert!(before.user_id.is_some());

    let b = app.browser();
    assert_eq!(sign_in(&b, "leaving@example.com", "Old-bcrypt-pw1").await.status, StatusCode::SEE_OTHER);
    // Imported people have not yet accepted this service's terms.
    let to_terms = b.get("/profile").await.location.unwrap();
    assert_eq!(accept_terms(&b, &to_terms).await.location.as_deref(), Some("/profile"));
    let csrf = b.get("/profile").await.csrf();
    let page = b.post("/profile/delete", &[("csrf", &csrf), ("password", "Old-bcrypt-pw1"), ("confirm", "yes")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);

    let after = app.state().db.read(|c| legacy::find(c, "d1")).await.unwrap().unwrap();
    assert_eq!((after.outcome, after.user_id, after.email.as_str()), (Outcome::Created, None, ""));
    let report = import(&app, &rows).await;
    assert_eq!((report.created, report.merged, report.already_imported), (0, 0, 2), "{report:?}");
    assert!(report.nothing_changed(), "{report:?}");
    let email = Email::parse("leaving@example.com").unwrap();
    assert!(app.state().db.read(move |c| users::find_by_email(c, &email)).await.unwrap().is_none());
}
both_backends!(a_deleted_imported_person_stays_deleted, super::a_deleted_imported_person_stays_deleted);
