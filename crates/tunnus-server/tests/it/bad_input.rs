//! Wrong, missing, oversized and malicious input: every case gets a
//! readable 4xx page (never a 500) and leaves no partial account behind.

use reqwest::StatusCode;

use crate::both_backends;
use crate::support::{Backend, TestApp};

const SIGN_UP: [(&str, &str); 6] = [
    ("email", "eve@example.com"),
    ("given_name", "Eve"),
    ("family_name", "Example"),
    ("country", "FI"),
    ("accept_terms", "yes"),
    ("accept_privacy", "yes"),
];

fn with<'a>(base: &[(&'a str, &'a str)], key: &'a str, value: &'a str) -> Vec<(&'a str, &'a str)> {
    base.iter().map(|&(k, v)| if k == key { (k, value) } else { (k, v) }).collect()
}

fn readable(page: &crate::support::Page) {
    assert!(page.status.is_client_error(), "expected 4xx, got {}: {}", page.status, page.body);
    assert!(page.body.contains("<h1>"), "a page, not a bare error: {}", page.body);
}

async fn csrf_is_required_on_every_form(app: TestApp) {
    let b = app.browser();
    // Missing token, forged token, token from another browser.
    let missing = b.post("/signup", &SIGN_UP).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.contains("This form has expired"));
    let mut forged = vec![("csrf", "forged-token-value")];
    forged.extend_from_slice(&SIGN_UP);
    assert_eq!(b.post("/signup", &forged).await.status, StatusCode::FORBIDDEN);
    let other = app.browser();
    let stolen = other.get("/signup").await.csrf();
    let _ = b.get("/signup").await; // b has its own cookie
    let mut cross = vec![("csrf", stolen.as_str())];
    cross.extend_from_slice(&SIGN_UP);
    assert_eq!(b.post("/signup", &cross).await.status, StatusCode::FORBIDDEN);
    for path in ["/login", "/signup/resend", "/password/forgot", "/password/set", "/password/reset", "/logout"] {
        let page = b.post(path, &[("email", "eve@example.com")]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
    }
    // A cross-site Origin is refused even with a valid token.
    let csrf = b.get("/signup").await.csrf();
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(&SIGN_UP);
    let resp = b
        .client
        .post(format!("{}/signup", b.base))
        .header("origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // `Origin: null` passes only when the browser marks the request same-origin.
    let resp = b
        .client
        .post(format!("{}/signup", b.base))
        .header("origin", "null")
        .header("sec-fetch-site", "cross-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.user_count().await, 0);
    assert!(app.sent_emails().is_empty());
}
both_backends!(csrf_is_required_on_every_form, super::csrf_is_required_on_every_form);

async fn malformed_and_oversized_bodies(app: TestApp) {
    let b = app.browser();
    let csrf = b.get("/signup").await.csrf();
    // 10 MB body.
    let mut huge = format!("csrf={csrf}&email=a%40b.com&given_name=").into_bytes();
    huge.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    let page = b.post_raw("/signup", huge).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    readable(&page);
    // Invalid UTF-8 (raw and percent-encoded).
    let page = b
        .post_raw("/signup", format!("csrf={csrf}&email=\u{0}").into_bytes().into_iter().chain([0xff, 0xfe]).collect())
        .await;
    readable(&page);
    let page = b.post_raw("/signup", format!("csrf={csrf}&given_name=%FF%FE&email=a%40b.com").into_bytes()).await;
    readable(&page);
    // Duplicated fields.
    let page = b.post_raw("/signup", format!("csrf={csrf}&email=a%40b.com&email=c%40d.com").into_bytes()).await;
    readable(&page);
    // Wrong content type.
    let resp = b
        .client
        .post(format!("{}/signup", b.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    assert_eq!(app.user_count().await, 0);
}
both_backends!(malformed_and_oversized_bodies, super::malformed_and_oversized_bodies);

async fn missing_and_invalid_fields_are_named(app: TestApp) {
    let b = app.browser();
    // Nothing but the token: every problem listed.
    let page = b.submit("/signup", &[]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems = page.text_of("#problems");
    for expected in ["Enter your email", "first name", "last name", "country", "Terms and conditions", "Privacy policy"]
    {
        assert!(problems.contains(expected), "{expected} not in {problems}");
    }
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (with(&SIGN_UP, "email", "not-an-email"), "name@example.com"),
        (with(&SIGN_UP, "email", "a@b"), "not a valid domain"),
        (with(&SIGN_UP, "country", "XX"), "Choose your country"),
        (with(&SIGN_UP, "accept_terms", ""), "Enter your"), // placeholder, replaced below
    ];
    for (fields, expected) in cases.into_iter().take(3) {
        let page = b.submit("/signup", &fields).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.text_of("#problems").contains(expected), "{expected}: {}", page.text_of("#problems"));
    }
    let no_terms: Vec<_> = SIGN_UP.iter().copied().filter(|(k, _)| *k != "accept_terms").collect();
    assert!(b.submit("/signup", &no_terms).await.text_of("#problems").contains("Terms and conditions"));
    // Oversized and hostile values: refused or escaped, never stored half-way.
    let long = "x".repeat(5000);
    let page = b.submit("/signup", &with(&SIGN_UP, "given_name", &long)).await;
    assert!(page.text_of("#problems").contains("at most 100"));
    assert!(!page.body.contains(&long), "the echo back is bounded");
    let page = b.submit("/signup", &with(&SIGN_UP, "family_name", "a\u{7}b")).await;
    assert!(page.text_of("#problems").contains("control characters"));
    let script = "<script>alert(1)</script>";
    let page = b.submit("/signup", &with(&with(&SIGN_UP, "email", script), "given_name", script)).await;
    assert!(!page.body.contains(script), "user input is escaped");
    assert_eq!(app.user_count().await, 0);
    // Sign-in and forgot with garbage.
    let page = b.submit("/login", &[("email", &long), ("password", &long)]).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let page = b.submit("/password/forgot", &[("email", "@@")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text_of("#forgot-error").contains("name@example.com"));
    let page = b.get("/login?next=https://evil.example").await;
    assert_eq!(page.field("next"), "/");
    assert_eq!(b.get("/login?next=%FF").await.status, StatusCode::OK);
}
both_backends!(missing_and_invalid_fields_are_named, super::missing_and_invalid_fields_are_named);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_leaves_no_half_account() {
    // With the terms documents gone the sign-up transaction fails after the
    // user row was inserted: it must roll back entirely, and the person gets a
    // readable error page, not a half-written account.
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    app.execute_sql("DELETE FROM terms_documents").await;
    let page = app.browser().submit("/signup", &SIGN_UP).await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(page.text_of("#request-id").contains("Reference"));
    assert_eq!(app.user_count().await, 0);
    assert!(app.sent_emails().is_empty());
}
