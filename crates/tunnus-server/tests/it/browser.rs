//! A real browser (Debian's headless Chromium through chromedriver, driven
//! with fantoccini) walks the hosted pages: sign up, the emailed link from
//! the development outbox, a refused and an accepted password, sign out, and
//! an unknown address on "forgot password". Screenshots of each page go to
//! `docs/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tunnus_test_browser::{
    Locator, Screenshots, current_url, element, element_with_text, source, start_browser, type_into,
};

use crate::support::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_forgot_password_in_chromium() {
    let Some((driver, c)) = start_browser().await else { return };
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let shots = Screenshots::in_docs();

    // Sign up.
    c.goto(&format!("{}/signup", app.url)).await.unwrap();
    element_with_text(&c, "h1", "Create your Tunnus account").await;
    type_into(&c, "#email", "Browser.User@Example.com").await;
    type_into(&c, "#given_name", "Aino").await;
    type_into(&c, "#family_name", "Virtanen").await;
    element(&c, "select#country").await.select_by_value("FI").await.unwrap();
    for checkbox in ["input[name=accept_terms]", "input[name=accept_privacy]"] {
        let checkbox = element(&c, checkbox).await;
        checkbox.click().await.unwrap();
        assert!(checkbox.is_selected().await.unwrap());
    }
    assert_eq!(element(&c, "select#country").await.prop("value").await.unwrap().as_deref(), Some("FI"));
    shots.save(&c, "01-sign-up.png").await;
    element(&c, "form[action='/signup'] button[type=submit]").await.click().await.unwrap();
    element_with_text(&c, "h1", "Check your email").await;
    assert!(source(&c).await.contains("browser.user@example.com"), "{}", source(&c).await);
    shots.save(&c, "02-check-email.png").await;

    // The email, as listed by the development outbox.
    app.wait_for_email("browser.user@example.com", 1).await;
    c.goto(&format!("{}/dev/outbox", app.url)).await.unwrap();
    let link = element(&c, "a.outbox-link").await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    assert!(href.starts_with(&format!("{}/password/set?token=", app.url)), "{href}");
    assert!(element(&c, "table").await.text().await.unwrap().contains("browser.user@example.com"));
    shots.save(&c, "03-dev-outbox.png").await;
    link.click().await.unwrap();

    // A weak password is refused with the broken rules named.
    element_with_text(&c, "h1", "Set your password").await;
    type_into(&c, "#password", "weak").await;
    type_into(&c, "#confirm", "weak").await;
    element(&c, "form button[type=submit]:not(.link)").await.click().await.unwrap();
    let problems = element(&c, "#problems").await.text().await.unwrap();
    for expected in ["shorter than 8 characters", "no digit", "no uppercase"] {
        assert!(problems.contains(expected), "“{expected}” missing in {problems}");
    }
    shots.save(&c, "04-set-password-problems.png").await;

    // A good one signs the new account in.
    type_into(&c, "#password", "Tunnus-Browser1").await;
    type_into(&c, "#confirm", "Tunnus-Browser1").await;
    element(&c, "form button[type=submit]:not(.link)").await.click().await.unwrap();
    let heading = element(&c, "h1#signed-in").await;
    assert!(heading.text().await.unwrap().contains("You are signed in"));
    let body = element(&c, "body").await.text().await.unwrap();
    assert!(body.contains("browser.user@example.com"), "{body}");
    assert!(!body.contains("Browser.User@Example.com"), "{body}");
    shots.save(&c, "05-signed-in.png").await;

    // Sign out from the header.
    element(&c, "header form[action='/logout'] button").await.click().await.unwrap();
    element_with_text(&c, "h1", "You are signed out").await;
    c.goto(&format!("{}/", app.url)).await.unwrap();
    element(&c, "form[action='/login'] #password").await;
    assert!(c.current_url().await.unwrap().path().starts_with("/login"), "{}", current_url(&c).await);
    shots.save(&c, "06-sign-in.png").await;

    // Forgot password, for an address nobody signed up with.
    c.goto(&format!("{}/password/forgot", app.url)).await.unwrap();
    type_into(&c, "#email", "nobody@example.com").await;
    element(&c, "form[action='/password/forgot'] button[type=submit]").await.click().await.unwrap();
    let error = element(&c, "#forgot-error").await.text().await.unwrap();
    assert!(error.contains("Sorry, we didn't recognise this user"), "{error}");
    shots.save(&c, "07-forgot-unknown.png").await;

    assert!(app.emails_to("nobody@example.com").is_empty());
    assert_eq!(app.user_count().await, 1);
    c.close().await.unwrap();
    drop(driver);
}

/// The profile page in Finnish: the language chosen on the page itself,
/// details edited (a phone number without a country code refused in
/// Finnish), an address change asked for, the sessions listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_in_finnish_in_chromium() {
    let Some((driver, c)) = start_browser().await else { return };
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    crate::support::verified_account(&app, "aino@example.com").await;
    let shots = Screenshots::in_docs();

    c.goto(&format!("{}/login?next=/profile", app.url)).await.unwrap();
    type_into(&c, "#email", "aino@example.com").await;
    type_into(&c, "#password", crate::support::GOOD_PASSWORD).await;
    element(&c, "form[action='/login'] button[type=submit]").await.click().await.unwrap();
    element_with_text(&c, "h1", "Your profile").await;
    element(&c, "select#lang").await.select_by_value("fi").await.unwrap();
    element(&c, "form[action='/profile/language'] button").await.click().await.unwrap();
    element_with_text(&c, "h1", "Profiilisi").await;
    assert_eq!(element(&c, "html").await.attr("lang").await.unwrap().as_deref(), Some("fi"));

    type_into(&c, "#job_title", "Pääsuunnittelija").await;
    type_into(&c, "#phone", "040 123 4567").await;
    element(&c, "#details-form button[type=submit]").await.click().await.unwrap();
    let problems = element(&c, "#details-problems").await.text().await.unwrap();
    assert!(problems.contains("maatunnuksen"), "{problems}");
    assert_eq!(element(&c, "#job_title").await.prop("value").await.unwrap().as_deref(), Some("Pääsuunnittelija"));
    shots.save(&c, "30-profile-fi-problem.png").await;
    type_into(&c, "#phone", "+358 40 123 4567").await;
    element(&c, "#details-form button[type=submit]").await.click().await.unwrap();
    // Wait for the new page's notice by its text: the old page may still be there.
    let notice = element_with_text(&c, "p[@id='notice']", "tallennettu").await.text().await.unwrap();
    assert!(notice.contains("tallennettu"), "{notice}");
    assert_eq!(element(&c, "#phone").await.prop("value").await.unwrap().as_deref(), Some("+358401234567"));
    shots.save(&c, "31-profile-fi.png").await;

    type_into(&c, "#new_email", "aino.uusi@example.com").await;
    type_into(&c, "#email_password", crate::support::GOOD_PASSWORD).await;
    element(&c, "#email-form button[type=submit]").await.click().await.unwrap();
    let notice = element_with_text(&c, "p[@id='notice']", "vahvistuslinkin").await.text().await.unwrap();
    assert!(notice.contains("aino.uusi@example.com") && notice.contains("vahvistuslinkin"), "{notice}");
    let confirmation = app.wait_for_email("aino.uusi@example.com", 1).await;
    assert!(confirmation.subject.contains("Vahvista"), "the email is in Finnish too: {}", confirmation.subject);
    let rows = c.find_all(Locator::Css("#sessions tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "this browser and the one that set the password");
    let current = element(&c, "#sessions tr.current").await.text().await.unwrap();
    assert!(current.contains("tämä selain") && current.contains("Chrome"), "{current}");
    element(&c, "#sessions").await.click().await.unwrap();
    shots.save(&c, "32-profile-fi-email-and-sessions.png").await;
    c.close().await.unwrap();
    drop(driver);
}
