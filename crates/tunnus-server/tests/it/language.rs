//! Languages: Accept-Language, ui_locales from relying parties for people
//! not signed in, and the signed-in person's preferred language for pages and emails.

use reqwest::StatusCode;

use crate::support::{Backend, TestApp, sign_in, verified_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_emails_follow_the_chosen_language() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let b = app.browser();
    // Accept-Language.
    let de = b
        .client
        .get(format!("{}/login", app.url))
        .header("accept-language", "de-DE,de;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(de.contains("lang=\"de\"") && de.contains("Anmelden"), "{de}");
    let xx = b
        .client
        .get(format!("{}/login", app.url))
        .header("accept-language", "sv-SE")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(xx.contains("lang=\"en\""), "unknown languages fall back to English");
    // ui_locales wins and is remembered by the browser.
    let fi = b.get("/login?ui_locales=sv%20fi").await;
    assert!(fi.body.contains("lang=\"fi\"") && fi.body.contains("Kirjaudu sisään"), "{}", fi.body);
    let later = b
        .client
        .get(format!("{}/signup", app.url))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(later.contains("lang=\"fi\""), "the choice sticks");

    // A person's preferred language: pages after sign-in, and emails.
    verified_account(&app, "kieli@example.com").await;
    let person = app.browser();
    assert_eq!(
        sign_in(&person, "kieli@example.com", crate::support::GOOD_PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let profile = person.get("/profile").await;
    let saved = person.post("/profile/language", &[("csrf", &profile.csrf()), ("lang", "de")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(person.get("/profile").await.body.contains("lang=\"de\""));
    assert_eq!(
        person.post("/profile/language", &[("csrf", &profile.csrf()), ("lang", "xx")]).await.status,
        StatusCode::BAD_REQUEST
    );
    let other = app.browser();
    other.submit("/password/forgot", &[("email", "kieli@example.com")]).await;
    let email = app.wait_for_email("kieli@example.com", 2).await;
    assert!(email.subject.contains("Passwort"), "German reset email: {}", email.subject);
    // A new browser picks the preference up at sign-in.
    let fresh = app.browser();
    let signed = sign_in(&fresh, "kieli@example.com", crate::support::GOOD_PASSWORD).await;
    let cookies: Vec<_> = signed.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("tunnus_lang=de")), "{cookies:?}");
    let home = fresh.get("/").await;
    assert!(home.body.contains("lang=\"de\""), "{:?} {}", home.status, home.body);
}
