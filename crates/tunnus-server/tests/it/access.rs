//! Access rights are evaluated at every authorization and refresh: claims
//! follow membership and license changes without anyone signing in again,
//! and a client requiring an entitlement turns away people without it.

use openidconnect::{OAuth2TokenResponse, TokenResponse};
use reqwest::StatusCode;
use time::Duration;
use tunnus_core::Email;
use tunnus_core::access::{MembershipKind, Role};
use tunnus_store::orgs::{self, GrantTo};

use crate::both_backends;
use crate::oidc::sign_in_at;
use crate::rp::{Rp, add, authorize, code_from, location, query, spec};
use crate::support::{TestApp, verified_account};

const CAMPUS: &str = "http://localhost:8081/callback";
const WAREHOUSE: &str = "http://localhost:8082/callback";

fn claims_json(token: &openidconnect::core::CoreTokenResponse) -> serde_json::Value {
    use base64::Engine as _;
    let jwt = token.id_token().unwrap().to_string();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap()
}

fn access_token_json(token: &openidconnect::core::CoreTokenResponse) -> serde_json::Value {
    use base64::Engine as _;
    let jwt = token.access_token().secret();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap()
}

async fn userinfo_json(app: &TestApp, rp: &Rp, token: &openidconnect::core::CoreTokenResponse) -> serde_json::Value {
    let info =
        rp.http.get(format!("{}/userinfo", app.url)).bearer_auth(token.access_token().secret()).send().await.unwrap();
    assert_eq!(info.status(), 200);
    info.json().await.unwrap()
}

async fn rights_follow_changes_without_signing_in_again(app: TestApp) {
    verified_account(&app, "worker@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let mut premium = spec("warehouse", WAREHOUSE);
    premium.name = "Warehouse".into();
    premium.required_entitlement = Some("warehouse:premium".into());
    let w_secret = add(&app, premium).await;
    let campus = Rp::new(&app, "campus", secret, CAMPUS).await;
    let warehouse = Rp::new(&app, "warehouse", w_secret, WAREHOUSE).await;
    let b = app.browser();
    let scopes = ["openid", "organization", "entitlements"];

    let started = campus.start(&scopes);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "worker@example.com").await;
    let (token, _) = campus.exchange(&code_from(&back, &started, &app.url), started).await;
    let claims = claims_json(&token);
    assert_eq!(claims["org"], serde_json::Value::Null);
    assert_eq!(claims["entitlements"], serde_json::json!([]));
    for _ in 0..3 {
        let info = userinfo_json(&app, &campus, &token).await;
        assert_eq!((&info["org"], &info["entitlements"]), (&serde_json::Value::Null, &serde_json::json!([])));
    }

    // Without the license, Warehouse is refused: a page that says why and who can help,
    // and access_denied for the relying party.
    let started = warehouse.start(&scopes);
    let page = authorize(&b, &started.url).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let body = page.text().await.unwrap();
    assert!(body.contains("You do not have access to Warehouse") && body.contains("warehouse:premium"), "{body}");
    let doc = scraper::Html::parse_document(&body);
    let back_link = doc
        .select(&scraper::Selector::parse("a#back-to-client").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    assert_eq!(query(&back_link).get("error").map(String::as_str), Some("access_denied"));
    let loc = location(&authorize(&b, &format!("{}&prompt=none", warehouse.start(&scopes).url)).await);
    assert_eq!(query(&loc).get("error").map(String::as_str), Some("access_denied"));

    // An administrator puts the person in Acme, which holds Campus; a personal premium license.
    let db = app.state().db.clone();
    let email = Email::parse("worker@example.com").unwrap();
    let user = db.read(move |c| tunnus_store::users::find_by_email(c, &email)).await.unwrap().unwrap().id.to_string();
    let now = app.state().clock.now();
    let (u, u2) = (user.clone(), user.clone());
    let org = db
        .write(move |c| {
            let org = orgs::create_org(c, "Acme", now)?;
            orgs::add_membership(c, &org, &u, MembershipKind::Internal, Role::Admin, now)?;
            orgs::grant(c, "campus", &GrantTo::Organization(org.clone()), false, None, None, now)?;
            orgs::grant(c, "warehouse:premium", &GrantTo::User(u2), false, None, Some(now + Duration::hours(1)), now)?;
            Ok(org)
        })
        .await
        .unwrap();

    // Silent SSO and a refresh both carry the new rights at once.
    let started = campus.start(&scopes);
    let back = location(&authorize(&b, &started.url).await);
    let (fresh, _) = campus.exchange(&code_from(&back, &started, &app.url), started).await;
    let claims = claims_json(&fresh);
    assert_eq!(claims["org"]["name"], "Acme");
    assert_eq!(claims["org"]["membership"], "internal");
    assert_eq!(claims["org"]["role"], "admin");
    assert_eq!(claims["entitlements"], serde_json::json!(["campus", "warehouse:premium"]));
    assert_eq!(access_token_json(&fresh)["entitlements"], serde_json::json!(["campus", "warehouse:premium"]));
    let refreshed = campus.refresh(token.refresh_token().unwrap().secret()).await.unwrap();
    assert_eq!(claims_json(&refreshed)["org"]["name"], "Acme", "refresh reflects the change");
    // UserInfo too, though it answered for the person before the change
    // (from the process's directory cache).
    let info = userinfo_json(&app, &campus, &refreshed).await;
    assert_eq!(info["entitlements"], serde_json::json!(["campus", "warehouse:premium"]));
    assert_eq!(info["org"]["name"], "Acme");

    // Now Warehouse lets the person in, silently.
    let started = warehouse.start(&scopes);
    let back = location(&authorize(&b, &started.url).await);
    let (w_token, _) = warehouse.exchange(&code_from(&back, &started, &app.url), started).await;
    // The premium license ends: the next refresh is refused.
    app.clock.advance(Duration::minutes(61));
    let _ = b.get("/").await; // keeps the SSO session alive
    assert_eq!(warehouse.refresh(w_token.refresh_token().unwrap().secret()).await.unwrap_err(), "invalid_grant");

    // Removed from Acme: the organization and its license disappear at the next refresh.
    let (o, u) = (org.clone(), user.clone());
    db.write(move |c| orgs::remove_membership(c, &o, &u)).await.unwrap();
    let after = campus.refresh(refreshed.refresh_token().unwrap().secret()).await.unwrap();
    let claims = claims_json(&after);
    assert_eq!(claims["org"], serde_json::Value::Null);
    assert_eq!(claims["entitlements"], serde_json::json!([]));
    let info = userinfo_json(&app, &campus, &after).await;
    assert_eq!((&info["org"], &info["entitlements"]), (&serde_json::Value::Null, &serde_json::json!([])));
}
both_backends!(rights_follow_changes_without_signing_in_again, super::rights_follow_changes_without_signing_in_again);
