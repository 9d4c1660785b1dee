//! The profile page: details (and what bad input does), sessions with
//! per-session and everywhere sign-out, changing the address (taken in
//! another case, wrong password, expired and reused links, a link opened
//! while signed in as someone else), downloading data and deleting the
//! account.

use reqwest::StatusCode;
use time::Duration;
use tunnus_core::Email;
use tunnus_core::access::{MembershipKind, Role};
use tunnus_store::{orgs, users};

use crate::both_backends;
use crate::support::{Browser, GOOD_PASSWORD, TestApp, sign_in, verified_account};

async fn signed_in(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    let page = sign_in(&b, email, GOOD_PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    b
}

async fn user(app: &TestApp, email: &str) -> Option<tunnus_core::User> {
    let email = Email::parse(email).unwrap();
    app.state().db.read(move |c| users::find_by_email(c, &email)).await.unwrap()
}

/// The public id of the session of browser `b`, read from its profile page.
async fn current_sid(b: &Browser) -> String {
    let page = b.get("/profile").await;
    let selector = scraper::Selector::parse("#sessions tr.current input[name=sid]").unwrap();
    page.doc().select(&selector).next().unwrap().value().attr("value").unwrap().to_owned()
}

async fn details_and_sessions(app: TestApp) {
    verified_account(&app, "aino@example.com").await;
    let b1 = signed_in(&app, "aino@example.com").await;
    let b2 = signed_in(&app, "aino@example.com").await;

    let page = b1.get("/profile").await;
    assert_eq!(page.status, StatusCode::OK);
    // Setting the first password signed in the browser that did it, too.
    assert_eq!(page.doc().select(&scraper::Selector::parse("#sessions tbody tr").unwrap()).count(), 3);
    assert_eq!(page.doc().select(&scraper::Selector::parse("#sessions tr.current").unwrap()).count(), 1);
    assert_eq!(page.field("given_name"), "Aino");

    // Good details are stored, normalised; empty optional fields are fine.
    let csrf = page.csrf();
    let good = [
        ("csrf", csrf.as_str()),
        ("given_name", " Aino Maria "),
        ("family_name", "Virtanen"),
        ("country", "SE"),
        ("job_title", "Lead designer"),
        ("phone", "+46 (8) 123-456"),
    ];
    let saved = b1.post("/profile/details", &good).await;
    assert_eq!((saved.status, saved.location.as_deref()), (StatusCode::SEE_OTHER, Some("/profile?saved=1")));
    let id = user(&app, "aino@example.com").await.unwrap().id;
    let stored = app.state().db.read(move |c| users::details(c, &id)).await.unwrap();
    assert_eq!(stored, (Some("Lead designer".into()), Some("+468123456".into())));
    let page = b1.get("/profile?saved=1").await;
    assert!(page.text_of("#notice").contains("saved"), "{}", page.body);
    assert_eq!(page.field("given_name"), "Aino Maria");

    // Bad input: each problem named, what was typed kept in the form, nothing stored.
    let long = "x".repeat(101);
    for (field, value, message) in [
        ("given_name", "", "first name"),
        ("family_name", "\u{7}bell", "control"),
        ("country", "ZZ", "country"),
        ("job_title", long.as_str(), "job title"),
        ("phone", "040 123 4567", "country code"),
        ("phone", "+358 40 123 4567; DROP TABLE users", "country code"),
    ] {
        let mut form: Vec<(&str, &str)> = good.to_vec();
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let page = b1.post("/profile/details", &form).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        assert!(
            page.text_of("#details-problems").to_lowercase().contains(message),
            "{field}: {}",
            page.text_of("#details-problems")
        );
        assert_eq!(page.field("job_title"), if field == "job_title" { long.as_str() } else { "Lead designer" });
    }
    let after = user(&app, "aino@example.com").await.unwrap();
    assert_eq!((after.given_name.as_str(), after.country.code()), ("Aino Maria", "SE"), "nothing half-written");
    let forged = b1.post("/profile/details", &[("csrf", "forged"), ("given_name", "Mallory")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let oversized = b1.post_raw("/profile/details", vec![b'a'; 200_000]).await;
    assert!(oversized.status.is_client_error(), "{}", oversized.status);

    // Sign out the other browser from this one.
    let other = current_sid(&b2).await;
    let page = b1.get("/profile").await;
    let ended = b1.post("/profile/sessions/end", &[("csrf", &page.csrf()), ("sid", &other)]).await;
    assert_eq!(ended.location.as_deref(), Some("/profile?ended=1"));
    assert!(b2.get("/profile").await.location.unwrap().starts_with("/login"), "the other browser is signed out");
    assert_eq!(b1.get("/profile").await.status, StatusCode::OK, "this one is not");
    let again = b1.post("/profile/sessions/end", &[("csrf", &page.csrf()), ("sid", &other)]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "an ended session cannot be ended twice");

    // Somebody else's session id does nothing to it.
    verified_account(&app, "eve@example.com").await;
    let eve = signed_in(&app, "eve@example.com").await;
    let eve_sid = current_sid(&eve).await;
    let page = b1.get("/profile").await;
    let refused = b1.post("/profile/sessions/end", &[("csrf", &page.csrf()), ("sid", &eve_sid)]).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(eve.get("/profile").await.status, StatusCode::OK);

    // Everywhere: this browser too.
    let b3 = signed_in(&app, "aino@example.com").await;
    let page = b1.get("/profile").await;
    let all = b1.post("/profile/sessions/end", &[("csrf", &page.csrf()), ("sid", "all")]).await;
    assert_eq!(all.location.as_deref(), Some("/login"));
    for b in [&b1, &b3] {
        assert!(b.get("/profile").await.location.unwrap().starts_with("/login"));
    }
    assert_eq!(eve.get("/profile").await.status, StatusCode::OK, "other people keep their sessions");
}
both_backends!(details_and_sessions, super::details_and_sessions);

async fn change_email(app: TestApp) {
    verified_account(&app, "aino@example.com").await;
    verified_account(&app, "taken@example.com").await;
    // A membership that must survive the change.
    let id = user(&app, "aino@example.com").await.unwrap().id.to_string();
    let now = app.state().clock.now();
    let org = app
        .state()
        .db
        .write(move |c| {
            let org = orgs::create_org(c, "Acme", now)?;
            orgs::add_membership(c, &org, &id, MembershipKind::Internal, Role::Member, now)?;
            Ok(org)
        })
        .await
        .unwrap();
    let b = signed_in(&app, "aino@example.com").await;
    let ask = |new: &'static str, password: &'static str| {
        let b = &b;
        async move {
            let csrf = b.get("/profile").await.csrf();
            b.post("/profile/email", &[("csrf", &csrf), ("new_email", new), ("password", password)]).await
        }
    };
    for (new, password, problem) in [
        ("TAKEN@Example.com", GOOD_PASSWORD, "another Tunnus identity"),
        ("Aino@example.com", GOOD_PASSWORD, "already your address"),
        ("not an address", GOOD_PASSWORD, ""),
        ("new@example.com", "Wrong-Password1", "password is not right"),
        ("new@example.com", "", "password is not right"),
    ] {
        let page = ask(new, password).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        assert!(page.text_of("#email-problem").contains(problem), "{new}: {}", page.text_of("#email-problem"));
    }
    assert!(app.emails_to("new@example.com").is_empty(), "no link after a refused request");

    let page = ask("New@Example.com", GOOD_PASSWORD).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.text_of("#notice").contains("new@example.com"));
    let link = app.wait_for_email("new@example.com", 1).await.link_path();
    let notice = app.wait_for_email("aino@example.com", 2).await;
    assert!(notice.subject.contains("about to change"), "{}", notice.subject);
    assert!(notice.link().ends_with("/password/forgot"));

    // Pending: the old address still signs in, the new one does not yet.
    assert_eq!(sign_in(&app.browser(), "aino@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_ne!(sign_in(&app.browser(), "new@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);

    // Opened while signed in as somebody else: nothing changes.
    let taken = signed_in(&app, "taken@example.com").await;
    let page = taken.get(&link).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("another Tunnus identity"), "{}", page.body);
    let token = link.split("token=").nth(1).unwrap();
    let csrf = taken.get("/profile").await.csrf();
    let page = taken.post("/profile/email/confirm", &[("csrf", &csrf), ("token", token)]).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(user(&app, "aino@example.com").await.is_some());

    // Opened without a session (another device): the page asks, the button changes it.
    let other = app.browser();
    let page = other.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("new@example.com"));
    let done = other.post("/profile/email/confirm", &[("csrf", &page.csrf()), ("token", &page.field("token"))]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("new@example.com"));
    assert!(user(&app, "aino@example.com").await.is_none());
    let changed = user(&app, "new@example.com").await.unwrap();
    let (cid, org_id) = (changed.id.to_string(), org.clone());
    let membership = app.state().db.read(move |c| orgs::membership(c, &org_id, &cid)).await.unwrap();
    assert_eq!(membership, Some((MembershipKind::Internal, Role::Member)), "memberships stay");
    assert_eq!(sign_in(&app.browser(), "NEW@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_ne!(sign_in(&app.browser(), "aino@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/profile").await.text_of("#profile-email"), "new@example.com", "the session continues");

    // Reused link.
    let page =
        other.post("/profile/email/confirm", &[("csrf", &other.get("/login").await.csrf()), ("token", token)]).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("already been used"), "{}", page.body);

    // Expired link.
    let b = signed_in(&app, "new@example.com").await;
    let csrf = b.get("/profile").await.csrf();
    let asked = b
        .post("/profile/email", &[("csrf", &csrf), ("new_email", "later@example.com"), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    let link = app.wait_for_email("later@example.com", 1).await.link_path();
    app.clock.advance(Duration::hours(25));
    let page = app.browser().get(&link).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("expired"), "{}", page.body);

    // Taken between the request and the click.
    let b = signed_in(&app, "new@example.com").await;
    let csrf = b.get("/profile").await.csrf();
    b.post("/profile/email", &[("csrf", &csrf), ("new_email", "race@example.com"), ("password", GOOD_PASSWORD)]).await;
    let link = app.wait_for_email("race@example.com", 1).await.link_path();
    verified_account(&app, "Race@example.com").await;
    let other = app.browser();
    let page = other.get(&link).await;
    let page = other.post("/profile/email/confirm", &[("csrf", &page.csrf()), ("token", &page.field("token"))]).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("another Tunnus identity"), "{}", page.body);
    assert!(user(&app, "new@example.com").await.is_some());
    // A garbage token.
    assert_eq!(app.browser().get("/profile/email/confirm?token=%3Cscript%3E").await.status, StatusCode::GONE);
}
both_backends!(change_email, super::change_email);

async fn data_download_and_deletion(app: TestApp) {
    verified_account(&app, "aino@example.com").await;
    verified_account(&app, "boss@example.com").await;
    let b = signed_in(&app, "aino@example.com").await;
    let boss = signed_in(&app, "boss@example.com").await;
    let boss_profile = boss.get("/profile").await;
    assert_eq!(boss_profile.status, StatusCode::OK);

    let data = b.get("/profile/data").await;
    assert_eq!(data.status, StatusCode::OK);
    assert!(data.headers["content-disposition"].to_str().unwrap().contains("attachment"));
    let json: serde_json::Value = serde_json::from_str(&data.body).unwrap();
    assert_eq!(json["identity"]["email"], "aino@example.com");
    assert_eq!(json["sessions"].as_array().unwrap().len(), 2, "this browser and the one that set the password");
    assert!(json["terms_acceptances"].as_array().unwrap().len() >= 2);
    assert!(json["audit_events"].as_array().unwrap().iter().any(|e| e["event"] == "sign_in.succeeded"));
    assert!(!data.body.contains("argon2"), "no password hash in the export");
    assert!(app.browser().get("/profile/data").await.location.unwrap().starts_with("/login"));

    let id = user(&app, "aino@example.com").await.unwrap().id.to_string();
    let csrf = b.get("/profile").await.csrf();
    let page = b.post("/profile/delete", &[("csrf", &csrf), ("password", GOOD_PASSWORD)]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text_of("#delete-problem").contains("Tick the box"));
    let page = b.post("/profile/delete", &[("csrf", &csrf), ("password", "Wrong-Password1"), ("confirm", "yes")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text_of("#delete-problem").contains("password"));
    assert!(user(&app, "aino@example.com").await.is_some(), "nothing deleted");

    let count = app.user_count().await;
    let page = b.post("/profile/delete", &[("csrf", &csrf), ("password", GOOD_PASSWORD), ("confirm", "yes")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(app.user_count().await, count - 1);
    assert!(b.get("/profile").await.location.unwrap().starts_with("/login"), "signed out");
    assert_ne!(sign_in(&app.browser(), "aino@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    // The audit trail remains, without IP addresses or the address.
    let rows = app.state().db.read(move |c| tunnus_store::audit::about(c, &id)).await.unwrap();
    assert!(rows.iter().any(|r| r.kind == "account.deleted"));
    assert!(rows.iter().any(|r| r.kind == "sign_in.succeeded"));
    assert!(rows.iter().all(|r| r.ip.is_none()), "IPs removed");
    assert!(rows.iter().all(|r| !r.detail.contains("aino@example.com")));
    // The address is free again.
    verified_account(&app, "aino@example.com").await;
    assert_eq!(boss.get("/profile").await.status, StatusCode::OK, "nobody else is affected");
}
both_backends!(data_download_and_deletion, super::data_download_and_deletion);
