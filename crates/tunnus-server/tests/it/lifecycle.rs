//! The account life cycle end to end, on both databases.

use reqwest::StatusCode;
use time::Duration;

use crate::both_backends;
use crate::support::{Backend, GOOD_PASSWORD, TestApp, set_password, sign_in, sign_up, verified_account};

/// Sign up → emailed link → weak password refused with the broken rules →
/// good password verifies and signs in → sign out → sign in with another
/// spelling of the address → forgot → reset → the old password is dead.
async fn whole_life_cycle(app: TestApp) {
    let b = app.browser();
    let link = sign_up(&app, &b, "MyEmailAddress@mydomain.com").await;
    assert!(link.starts_with("/password/set?token="), "{link}");
    let email = app.wait_for_email("myemailaddress@mydomain.com", 1).await;
    assert_eq!(email.subject, "Set your Tunnus password");
    assert!(email.text.contains("Hello Aino,"));
    assert!(email.html.contains("Set your password"));

    // Unverified: cannot sign in, told so, offered the link again.
    let refused = sign_in(&b, "myemailaddress@mydomain.com", GOOD_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.contains("has not been verified"), "{}", refused.body);
    assert!(refused.contains("id=\"resend\""));

    // The page lists the rules; a weak password names each broken one.
    let form = b.get(&link).await;
    assert!(form.text_of("#rules").contains("be at least 8 characters long"));
    assert!(form.text_of("#rules").contains("! @ # $ % & * ^ _ - +"));
    let weak = set_password(&b, &link, "pässword").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problems = weak.text_of("#problems");
    for expected in ["no digit", "no uppercase", "no special character", "“ä” is not allowed"] {
        assert!(problems.contains(expected), "{expected} missing in {problems}");
    }
    let mismatch = b
        .post(
            "/password/set",
            &[
                ("csrf", &weak.csrf()),
                ("token", &weak.field("token")),
                ("password", GOOD_PASSWORD),
                ("confirm", "Other-Pass1"),
            ],
        )
        .await;
    assert!(mismatch.text_of("#problems").contains("not the same"));

    let done = set_password(&b, &link, GOOD_PASSWORD).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("/"));
    let home = b.get("/").await;
    assert!(home.contains("You are signed in"), "{}", home.body);
    assert!(home.contains("myemailaddress@mydomain.com"));

    // The link worked once.
    let reused = b.get(&link).await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert!(reused.contains("already been used"));

    // Sign out ends the session.
    let out = b.post("/logout", &[("csrf", &home.csrf())]).await;
    assert!(out.contains("You are signed out"));
    assert_eq!(b.get("/").await.location.as_deref(), Some("/login"));

    // Case variants are one identity.
    let wrong = sign_in(&b, "MYEMAILADDRESS@mydomain.com", "Wrong-Pass1").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.contains("email or password is not correct"));
    let ok = sign_in(&b, "MYEMAILADDRESS@mydomain.com", GOOD_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    // Forgot password, from a second browser, with yet another spelling.
    let other = app.browser();
    let sent = other.submit("/password/forgot", &[("email", "myemailaddress@MYDOMAIN.com")]).await;
    assert!(sent.contains("We sent a link to myemailaddress@mydomain.com"), "{}", sent.body);
    let reset = app.wait_for_email("myemailaddress@mydomain.com", 2).await;
    assert_eq!(reset.subject, "Reset your Tunnus password");
    let reset_link = reset.link_path();
    assert!(reset_link.starts_with("/password/reset?token="));
    let new_password = "Another-Pass2";
    assert_eq!(set_password(&other, &reset_link, new_password).await.status, StatusCode::SEE_OTHER);
    // The reset ended the first browser's session, and the old password is dead.
    assert_eq!(b.get("/").await.location.as_deref(), Some("/login"));
    assert_eq!(
        sign_in(&app.browser(), "myemailaddress@mydomain.com", GOOD_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app.browser(), "myemailaddress@mydomain.com", new_password).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.user_count().await, 1);

    let kinds = {
        let email = tunnus_core::Email::parse("myemailaddress@mydomain.com").unwrap();
        let db = app.state().db.clone();
        let user = db.read(move |c| tunnus_store::users::find_by_email(c, &email)).await.unwrap().unwrap();
        db.read(move |c| tunnus_store::audit::kinds_for_subject(c, user.id.as_str())).await.unwrap()
    };
    for kind in [
        "account.created",
        "account.verified",
        "sign_in.failed",
        "sign_in.succeeded",
        "password.reset_requested",
        "password.reset",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "audit lacks {kind}: {kinds:?}");
    }
}
both_backends!(whole_life_cycle, super::whole_life_cycle);

async fn links_expire(app: TestApp) {
    let b = app.browser();
    let link = sign_up(&app, &b, "late@example.com").await;
    app.clock.advance(Duration::hours(24));
    let page = b.get(&link).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.contains("expired"));
    // Posting the expired token directly fails the same way and verifies nothing.
    let form_csrf = b.get("/signup").await.csrf();
    let token = link.split("token=").nth(1).unwrap();
    let post = b
        .post(
            "/password/set",
            &[("csrf", &form_csrf), ("token", token), ("password", GOOD_PASSWORD), ("confirm", GOOD_PASSWORD)],
        )
        .await;
    assert_eq!(post.status, StatusCode::GONE);
    assert_eq!(sign_in(&b, "late@example.com", GOOD_PASSWORD).await.status, StatusCode::UNAUTHORIZED);

    // Asking again sends a fresh link that works; the old one stays dead.
    let resent = b.submit("/login", &[]).await; // get a CSRF token from the sign-in page
    let _ = resent;
    let csrf = b.get("/login").await.csrf();
    let notice = b.post("/signup/resend", &[("csrf", &csrf), ("email", "LATE@example.com")]).await;
    assert!(notice.contains("we sent a new link"), "{}", notice.body);
    let fresh = app.wait_for_email("late@example.com", 2).await.link_path();
    assert_ne!(fresh, link);
    assert_eq!(set_password(&b, &fresh, GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    // Unknown and malformed tokens.
    assert_eq!(
        b.get("/password/set?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(b.get("/password/set?token=%00%01").await.status, StatusCode::NOT_FOUND);
    assert_eq!(b.get("/password/set").await.status, StatusCode::NOT_FOUND);
    // A set-password link is not a reset link.
    let path = fresh.replace("/password/set", "/password/reset");
    assert_eq!(b.get(&path).await.status, StatusCode::NOT_FOUND);
}
both_backends!(links_expire, super::links_expire);

async fn registering_a_verified_address_again_creates_nothing(app: TestApp) {
    verified_account(&app, "taken@example.com").await;
    let b = app.browser();
    let page = b
        .submit(
            "/signup",
            &[
                ("email", "Taken@Example.com"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("country", "DE"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.contains("already exists"), "{}", page.body);
    assert_eq!(app.user_count().await, 1);
    // Signing up again while still unverified resends rather than duplicates.
    sign_up(&app, &b, "pending@example.com").await;
    sign_up(&app, &b, "PENDING@example.com").await;
    assert_eq!(app.user_count().await, 2);
    assert_eq!(app.emails_to("pending@example.com").len(), 2);
}
both_backends!(
    registering_a_verified_address_again_creates_nothing,
    super::registering_a_verified_address_again_creates_nothing
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgot_password_reveals_unknown_accounts_only_when_configured() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let page = app.browser().submit("/password/forgot", &[("email", "nobody@example.com")]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.contains("Sorry, we didn&#39;t recognise this user. Please enter a valid Email address.")
            || page.contains("Sorry, we didn't recognise this user. Please enter a valid Email address."),
        "{}",
        page.body
    );
    assert!(page.text_of("#forgot-error").contains("Create new account"));

    let private = TestApp::start(Backend::Sqlite, |c| c.reveal_unknown_accounts = false).await.unwrap();
    verified_account(&private, "known@example.com").await;
    let unknown = private.browser().submit("/password/forgot", &[("email", "nobody@example.com")]).await;
    let known = private.browser().submit("/password/forgot", &[("email", "known@example.com")]).await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert_eq!(known.status, StatusCode::OK);
    let strip = |b: &str| b.replace("nobody@example.com", "X").replace("known@example.com", "X");
    assert_eq!(strip(&unknown.text_of("main")), strip(&known.text_of("main")), "same answer either way");
    assert!(known.contains("If an account exists"));
    // Sign-up of a taken address looks like a new sign-up; the owner gets a notice.
    let again = private
        .browser()
        .submit(
            "/signup",
            &[
                ("email", "known@example.com"),
                ("given_name", "X"),
                ("family_name", "Y"),
                ("country", "DE"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert!(again.contains("Check your email"));
    let notice = private.wait_for_email("known@example.com", 3).await;
    assert_eq!(notice.subject, "Your Tunnus account");
    // And wrong passwords read like "wrong or unverified".
    let wrong = sign_in(&private.browser(), "known@example.com", "Nope-Nope1").await;
    assert!(wrong.contains("or the account has not been verified yet"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_survives_a_restart() {
    let mut app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "stay@example.com").await;
    let b = app.browser();
    assert_eq!(sign_in(&b, "stay@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    app.restart().await;
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK, "{:?}", home.location);
    assert!(home.contains("stay@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_cookies_are_strict() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "idle@example.com").await;
    let b = app.browser();
    let signed = sign_in(&b, "idle@example.com", GOOD_PASSWORD).await;
    let cookie = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("tunnus_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    app.clock.advance(Duration::minutes(119));
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(121));
    assert_eq!(b.get("/").await.location.as_deref(), Some("/login"), "idle expiry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_throttled_per_account() {
    let app = TestApp::start(Backend::Sqlite, |c| {
        c.throttle.sign_in_failures_per_account = tunnus_server::config::Limit { max: 3, window_seconds: 60 };
    })
    .await
    .unwrap();
    verified_account(&app, "target@example.com").await;
    let b = app.browser();
    for _ in 0..3 {
        assert_eq!(sign_in(&b, "target@example.com", "Wrong-Pass1").await.status, StatusCode::UNAUTHORIZED);
    }
    let blocked = sign_in(&b, "target@example.com", GOOD_PASSWORD).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.headers.contains_key("retry-after"));
    assert!(blocked.contains("Too many attempts"));
    app.clock.advance(Duration::seconds(61));
    assert_eq!(sign_in(&b, "target@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_development_outbox_lists_links_only_without_smtp() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let b = app.browser();
    let link = sign_up(&app, &b, "outbox@example.com").await;
    let page = b.get("/dev/outbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.contains("outbox@example.com"));
    assert!(page.text_of("a.outbox-link").contains(&link), "{}", page.body);

    let smtp = TestApp::start(Backend::Sqlite, |c| {
        c.mail.smtp = Some(tunnus_mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port: 1,
            security: tunnus_mail::SmtpSecurity::None,
            username: None,
            password: None,
            timeout_seconds: 1,
        });
    })
    .await
    .unwrap();
    assert_eq!(smtp.browser().get("/dev/outbox").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_request_ids() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let b = app.browser();
    let health = b.get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = b.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.body.contains("\"database\":\"ok\""));
    let missing = b.get("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let id = missing.headers.get("x-request-id").unwrap().to_str().unwrap().to_owned();
    assert!(missing.text_of("#request-id").contains(&id), "the error page quotes the logged request id");
    let login = b.get("/login").await;
    for header in ["content-security-policy", "x-frame-options", "referrer-policy", "x-content-type-options"] {
        assert!(login.headers.contains_key(header), "{header}");
    }
    assert_eq!(login.headers["cache-control"], "no-store");

    verified_account(&app, "metrics@example.com").await;
    assert_eq!(sign_in(&b, "metrics@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let metrics = b.get("/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    for name in [
        "tunnus_http_requests_total{",
        "route=\"/login\"",
        "tunnus_http_request_duration_seconds",
        "tunnus_sign_ins_total{outcome=\"success\"}",
        "tunnus_outbox_pending",
        "tunnus_db_pool_size",
    ] {
        assert!(metrics.body.contains(name), "{name} missing in {}", metrics.body);
    }
    assert!(!metrics.body.contains("token="), "no secrets in label values");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_scrapers_only() {
    let http = reqwest::Client::new();
    // No token: direct requests from this machine, not ones a proxy relayed.
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let metrics = format!("{}/metrics", app.url);
    assert_eq!(http.get(&metrics).send().await.unwrap().status(), StatusCode::OK);
    let relayed = http.get(&metrics).header("X-Forwarded-For", "203.0.113.9").send().await.unwrap();
    assert_eq!(relayed.status(), StatusCode::NOT_FOUND, "a request through the load balancer is refused");

    // A token: required, and enough from anywhere.
    let token = "scrape-token-0123456789";
    let app = TestApp::start(Backend::Sqlite, |c| c.metrics.token = Some(token.into())).await.unwrap();
    verified_account(&app, "scraped@example.com").await;
    let wrong = sign_in(&app.browser(), "scraped@example.com", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "the form again, with an error");
    let metrics = format!("{}/metrics", app.url);
    let bare = http.get(&metrics).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    assert!(bare.headers().contains_key("www-authenticate"));
    assert_eq!(http.get(&metrics).bearer_auth("scrape-token-wrong").send().await.unwrap().status(), 401);
    let scraped = http.get(&metrics).bearer_auth(token).header("X-Forwarded-For", "203.0.113.9").send().await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    let body = scraped.text().await.unwrap();
    for series in [
        "tunnus_sign_ins_total{outcome=\"wrong_credentials\"}",
        "tunnus_http_request_duration_seconds_count{route=\"/login\"}",
        "tunnus_db_pool_connections_in_use",
        "tunnus_outbox_pending",
    ] {
        assert!(body.contains(series), "{series} missing in {body}");
    }
}
