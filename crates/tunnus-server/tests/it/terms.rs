//! A new version of the terms is accepted at the next sign-in — also in the
//! middle of a silent single sign-on, which then resumes where it was.

use reqwest::StatusCode;
use tunnus_core::terms::{TermsDocument, TermsKind};

use crate::both_backends;
use crate::oidc::sign_in_at;
use crate::rp::{Rp, add, authorize, code_from, location, query, spec};
use crate::support::{Backend, TestApp, verified_account};

const CAMPUS: &str = "http://localhost:8081/callback";

async fn new_terms_interrupt_and_resume_single_sign_on(app: TestApp) {
    verified_account(&app, "aino@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let campus = Rp::new(&app, "campus", secret, CAMPUS).await;
    let b = app.browser();
    let started = campus.start(&["openid", "email"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "aino@example.com").await;
    assert!(back.starts_with(CAMPUS), "first sign-in goes straight through: {back}");

    let now = app.state().clock.now();
    app.state()
        .db
        .write(move |c| {
            let doc = TermsDocument { kind: TermsKind::Terms, version: 2, url: "/legal/terms".into() };
            tunnus_store::terms::publish(c, &doc, now)
        })
        .await
        .unwrap();

    // Silent SSO with prompt=none cannot show a page: interaction_required.
    let started = campus.start(&["openid", "email"]);
    let back = location(&authorize(&b, &format!("{}&prompt=none", started.url)).await);
    let q = query(&back);
    assert_eq!(q.get("error").map(String::as_str), Some("interaction_required"), "{back}");
    assert_eq!(q.get("state"), Some(&started.state.secret().clone()));

    // An ordinary SSO authorization stops at the terms page.
    let started = campus.start(&["openid", "email"]);
    let to_terms = location(&authorize(&b, &started.url).await);
    assert!(to_terms.starts_with("/terms/accept?next="), "{to_terms}");
    let page = b.get(&to_terms).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("version 2"), "{}", page.body);
    assert!(!page.body.contains("Privacy policy, version"), "privacy is accepted already");
    let next = page.field("next");
    // Not ticked: asked again, nothing recorded.
    let refused = b.post("/terms/accept", &[("csrf", &page.csrf()), ("next", &next), ("terms_version", "2")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Accepting a version not shown (v3 is not published; v1 is old) is refused too.
    for version in ["1", "3", "two"] {
        let stale = b
            .post(
                "/terms/accept",
                &[("csrf", &page.csrf()), ("next", &next), ("terms_version", version), ("accept", "yes")],
            )
            .await;
        assert!(stale.status.is_client_error(), "version {version}: {}", stale.status);
    }
    // A `next` that leaves the site is replaced by "/".
    let evil = b
        .post(
            "/terms/accept",
            &[("csrf", &page.csrf()), ("next", "//evil.example/"), ("terms_version", "2"), ("accept", "yes")],
        )
        .await;
    assert_eq!(evil.location.as_deref(), Some("/"));

    // Accepted (by the request just above): the original authorization resumes.
    let resumed = b.client.get(format!("{}{next}", app.url)).send().await.unwrap();
    let back = location(&resumed);
    assert!(back.starts_with(CAMPUS), "{back}");
    let (_, claims) = campus.exchange(&code_from(&back, &started, &app.url), started).await;
    assert_eq!(claims.email().map(|e| e.as_str()), Some("aino@example.com"));

    let kinds = {
        let email = tunnus_core::Email::parse("aino@example.com").unwrap();
        let user = app.state().db.read(move |c| tunnus_store::users::find_by_email(c, &email)).await.unwrap().unwrap();
        app.state().db.read(move |c| tunnus_store::audit::kinds_for_subject(c, user.id.as_str())).await.unwrap()
    };
    assert_eq!(kinds.iter().filter(|k| *k == "terms.accepted").count(), 1);
    // And silent SSO works again.
    let started = campus.start(&["openid"]);
    let back = location(&authorize(&b, &format!("{}&prompt=none", started.url)).await);
    assert!(query(&back).contains_key("code"), "{back}");
}
both_backends!(new_terms_interrupt_and_resume_single_sign_on, super::new_terms_interrupt_and_resume_single_sign_on);

/// Without the directory cache (`oidc.directory_cache_entries = 0`, as
/// behind a connection pooler in transaction mode) an authorization reads
/// the terms itself, and new ones still interrupt single sign-on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_terms_interrupt_single_sign_on_without_the_directory_cache() {
    let app = TestApp::start(Backend::Sqlite, |c| c.oidc.directory_cache_entries = 0).await.unwrap();
    new_terms_interrupt_and_resume_single_sign_on(app).await;
}
