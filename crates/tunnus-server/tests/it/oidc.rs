//! OpenID Connect with a real relying party (the `openidconnect` crate).

use openidconnect::{OAuth2TokenResponse, TokenResponse};
use reqwest::StatusCode;
use time::Duration;

use crate::both_backends;
use crate::rp::{Rp, add, authorize, code_from, location, query, spec};
use crate::support::{Backend, Browser, GOOD_PASSWORD, TestApp, verified_account};

const CAMPUS: &str = "http://localhost:8081/callback";
const WAREHOUSE: &str = "http://localhost:8082/callback";

/// Follows a redirect to the sign-in page, signs in there, and returns
/// where the browser is sent afterwards (the authorization continuing).
pub async fn sign_in_at(base: &str, b: &Browser, login_location: &str, email: &str) -> String {
    assert!(login_location.starts_with("/login?"), "{login_location}");
    let page = b.get(login_location).await;
    assert_eq!(page.status, StatusCode::OK);
    let next = page.field("next");
    let done = b
        .post("/login", &[("csrf", &page.csrf()), ("email", email), ("password", GOOD_PASSWORD), ("next", &next)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let cont = done.location.unwrap();
    let resp = b.client.get(format!("{base}{cont}")).send().await.unwrap();
    location(&resp)
}

/// Code flow with PKCE, ID-token validation, userinfo, single sign-on into a
/// second service, refresh rotation with reuse detection.
async fn code_flow_and_single_sign_on(app: TestApp) {
    verified_account(&app, "aino@example.com").await;
    let campus_secret = add(&app, spec("campus", CAMPUS)).await;
    let warehouse_secret = add(&app, spec("warehouse", WAREHOUSE)).await;
    let campus = Rp::new(&app, "campus", campus_secret, CAMPUS).await;
    let b = app.browser();

    let started = campus.start(&["openid", "profile", "email"]);
    let to_login = location(&authorize(&b, &started.url).await);
    let back = sign_in_at(&app.url, &b, &to_login, "aino@example.com").await;
    assert!(back.starts_with(CAMPUS), "{back}");
    let code = code_from(&back, &started, &app.url);
    let nonce = started.nonce.clone();
    let (token, claims) = campus.exchange(&code, started).await;
    assert_eq!(claims.email().map(|e| e.as_str()), Some("aino@example.com"));
    assert_eq!(claims.given_name().and_then(|n| n.get(None)).map(|n| n.as_str()), Some("Aino"));
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.nonce().map(|n| n.secret()), Some(nonce.secret()));
    let info = campus.userinfo(&token).await;
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.email().map(|e| e.as_str()), Some("aino@example.com"));

    // Single sign-on: Warehouse gets a code with no credentials posted.
    let warehouse = Rp::new(&app, "warehouse", warehouse_secret, WAREHOUSE).await;
    let started = warehouse.start(&["openid", "email"]);
    let back = location(&authorize(&b, &started.url).await);
    assert!(back.starts_with(WAREHOUSE), "no page, straight back: {back}");
    let code = code_from(&back, &started, &app.url);
    let (w_token, w_claims) = warehouse.exchange(&code, started).await;
    assert_eq!(w_claims.subject(), claims.subject(), "one identity");
    assert_eq!(w_claims.auth_time(), claims.auth_time(), "the same sign-in");
    assert!(w_claims.given_name().is_none(), "no profile scope, no name");

    // Refresh rotates; the old token then counts as stolen and kills the family.
    let first = token.refresh_token().unwrap().secret().clone();
    let second = campus.refresh(&first).await.unwrap();
    let second_rt = second.refresh_token().unwrap().secret().clone();
    assert_ne!(second_rt, first);
    assert!(second.id_token().is_some());
    assert_eq!(campus.refresh(&first).await.unwrap_err(), "invalid_grant");
    assert_eq!(campus.refresh(&second_rt).await.unwrap_err(), "invalid_grant", "the whole family is revoked");
    // An access token from the revoked family no longer works at userinfo.
    let resp = campus
        .http
        .get(format!("{}/userinfo", app.url))
        .bearer_auth(second.access_token().secret())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    // Another client's refresh token is refused.
    let w_rt = w_token.refresh_token().unwrap().secret().clone();
    assert_eq!(campus.refresh(&w_rt).await.unwrap_err(), "invalid_grant");
    assert!(warehouse.refresh(&w_rt).await.is_ok());
}
both_backends!(code_flow_and_single_sign_on, super::code_flow_and_single_sign_on);

/// The same without the directory cache: UserInfo, refresh and single
/// sign-on read the person (and an authorization the terms) every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_flow_and_single_sign_on_without_the_directory_cache() {
    let app = TestApp::start(Backend::Sqlite, |c| c.oidc.directory_cache_entries = 0).await.unwrap();
    code_flow_and_single_sign_on(app).await;
}

async fn form_post(
    b: &Browser,
    url: &str,
    fields: &[(&str, &str)],
    auth: Option<(&str, &str)>,
) -> (StatusCode, serde_json::Value, reqwest::header::HeaderMap) {
    let mut req = b.client.post(url).form(fields);
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null), headers)
}

/// Every authorization request problem, each with its exact error, and
/// never a redirect to an unregistered URI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_authorization_requests() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let mut public = spec("desktop", "http://127.0.0.1:9999/cb");
    public.kind = tunnus_core::client::ClientKind::Public;
    public.grant_types = vec![tunnus_core::client::GrantType::AuthorizationCode];
    add(&app, public).await;
    let b = app.browser();
    let base = format!("{}/authorize", app.url);
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let get = |q: String| {
        let b = &b;
        let base = base.clone();
        async move { b.client.get(format!("{base}?{q}")).send().await.unwrap() }
    };
    let ok_params = format!(
        "response_type=code&client_id=campus&redirect_uri={}&scope=openid&state=s1&code_challenge={challenge}&code_challenge_method=S256",
        urlenc(CAMPUS)
    );

    // Not redirected: unknown client, unregistered or near-miss redirect URIs.
    for q in [
        format!("response_type=code&client_id=nobody&redirect_uri={}&scope=openid", urlenc(CAMPUS)),
        format!(
            "response_type=code&client_id=campus&redirect_uri={}&scope=openid",
            urlenc("http://localhost:8081/callback/evil")
        ),
        format!(
            "response_type=code&client_id=campus&redirect_uri={}&scope=openid",
            urlenc("http://localhost:8081/callbac")
        ),
        format!(
            "response_type=code&client_id=campus&redirect_uri={}&scope=openid",
            urlenc("https://evil.example/callback")
        ),
        "response_type=code&client_id=campus&scope=openid".to_owned(),
        format!("{ok_params}&client_id=campus"),
        format!("{ok_params}&state={}", "x".repeat(3000)),
        "client_id=%FF".to_owned(),
    ] {
        let resp = get(q.clone()).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(resp.headers().get("location").is_none(), "never redirected: {q}");
        assert!(resp.text().await.unwrap().contains("cannot be used"));
    }
    // Redirected with the exact error.
    let cases: Vec<(String, &str)> = vec![
        (ok_params.replace("response_type=code", "response_type=token"), "unsupported_response_type"),
        (ok_params.replace("response_type=code&", ""), "invalid_request"),
        (ok_params.replace("scope=openid", "scope=profile"), "invalid_scope"),
        (ok_params.replace("code_challenge_method=S256", "code_challenge_method=plain"), "invalid_request"),
        (ok_params.replace("&code_challenge_method=S256", ""), "invalid_request"),
        (ok_params.replace(challenge, "short"), "invalid_request"),
        (format!("{ok_params}&prompt=none"), "login_required"),
        (format!("{ok_params}&prompt=none%20login"), "invalid_request"),
        (format!("{ok_params}&prompt=bogus"), "invalid_request"),
        (format!("{ok_params}&max_age=-1"), "invalid_request"),
        (format!("{ok_params}&request=eyJ"), "invalid_request"),
        (
            format!(
                "response_type=code&client_id=desktop&redirect_uri={}&scope=openid&state=s1",
                urlenc("http://127.0.0.1:9999/cb")
            ),
            "invalid_request",
        ),
    ];
    for (q, expected) in cases {
        let resp = get(q.clone()).await;
        let loc = location(&resp);
        let params = query(&loc);
        assert_eq!(params.get("error").map(String::as_str), Some(expected), "{q} → {loc}");
        assert_eq!(params.get("state").map(String::as_str), Some("s1"), "{q}");
        assert_eq!(params.get("iss").map(String::as_str), Some(app.url.as_str()));
    }
    // A good request without a session goes to the sign-in page, login_hint carried.
    let resp = get(format!("{ok_params}&login_hint=aino%40example.com")).await;
    let loc = location(&resp);
    assert!(loc.starts_with("/login?next=%2Fauthorize%2Fcontinue"), "{loc}");
    let page = b.get(&loc).await;
    assert_eq!(page.field("email"), "aino@example.com");
    // form_post response mode answers with a self-submitting form.
    verified_account(&app, "fp@example.com").await;
    let fp = b.client.get(format!("{base}?{ok_params}&response_mode=form_post")).send().await.unwrap();
    let loc = location(&fp);
    let back = crate::oidc::sign_in_form_post(&app, &b, &loc, "fp@example.com").await;
    assert!(back.contains(&format!("action=\"{CAMPUS}\"")), "{back}");
    assert!(back.contains("name=\"code\"") && back.contains("name=\"state\" value=\"s1\""));
    let _ = secret;
}

pub async fn sign_in_form_post(app: &TestApp, b: &Browser, login_location: &str, email: &str) -> String {
    let page = b.get(login_location).await;
    let next = page.field("next");
    let done = b
        .post("/login", &[("csrf", &page.csrf()), ("email", email), ("password", GOOD_PASSWORD), ("next", &next)])
        .await;
    let cont = done.location.unwrap();
    let resp = b.client.get(format!("{}{cont}", app.url)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    resp.text().await.unwrap()
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Token endpoint errors, code replay, expiry, client authentication,
/// client credentials, introspection and revocation.
async fn token_endpoint(app: TestApp) {
    verified_account(&app, "tok@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await.unwrap();
    let other_secret = add(&app, spec("warehouse", WAREHOUSE)).await.unwrap();
    let campus = Rp::new(&app, "campus", Some(secret.clone()), CAMPUS).await;
    let b = app.browser();
    let token_url = format!("{}/token", app.url);

    // Sign in once, then each authorization is SSO.
    let started = campus.start(&["openid"]);
    let login = location(&authorize(&b, &started.url).await);
    let back = sign_in_at(&app.url, &b, &login, "tok@example.com").await;
    let code = code_from(&back, &started, &app.url);
    let verifier = started.verifier.secret().clone();
    let exchange = |code: String, verifier: String, auth: (&'static str, String)| {
        let b = &b;
        let token_url = token_url.clone();
        async move {
            form_post(
                b,
                &token_url,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", CAMPUS),
                    ("code_verifier", &verifier),
                ],
                Some((auth.0, &auth.1)),
            )
            .await
        }
    };
    // Wrong secret: 401 with a challenge, and the code survives.
    let (status, body, headers) = exchange(code.clone(), verifier.clone(), ("campus", "wrong".into())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    // Wrong verifier burns the code.
    let (status, body, _) = exchange(code.clone(), "x".repeat(43), ("campus", secret.clone())).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (_, body, _) = exchange(code.clone(), verifier.clone(), ("campus", secret.clone())).await;
    assert_eq!(body["error"], "invalid_grant");

    // A replayed code revokes what the first exchange obtained.
    let started = campus.start(&["openid", "offline_access"]);
    let code = code_from(&location(&authorize(&b, &started.url).await), &started, &app.url);
    let verifier = started.verifier.secret().clone();
    let (status, first, headers) = exchange(code.clone(), verifier.clone(), ("campus", secret.clone())).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(first["token_type"], "Bearer");
    let (_, replay, _) = exchange(code, verifier, ("campus", secret.clone())).await;
    assert_eq!(replay["error"], "invalid_grant");
    assert_eq!(campus.refresh(first["refresh_token"].as_str().unwrap()).await.unwrap_err(), "invalid_grant");
    let resp = b
        .client
        .get(format!("{}/userinfo", app.url))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // A code for campus presented by warehouse; an expired code; a missing verifier.
    let started = campus.start(&["openid"]);
    let code = code_from(&location(&authorize(&b, &started.url).await), &started, &app.url);
    let (_, body, _) = form_post(
        &b,
        &token_url,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CAMPUS),
            ("code_verifier", started.verifier.secret()),
        ],
        Some(("warehouse", &other_secret)),
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
    let started = campus.start(&["openid"]);
    let code = code_from(&location(&authorize(&b, &started.url).await), &started, &app.url);
    app.clock.advance(Duration::seconds(61));
    let (_, body, _) = exchange(code, started.verifier.secret().clone(), ("campus", secret.clone())).await;
    assert_eq!(body["error"], "invalid_grant", "codes live 60 s");
    let started = campus.start(&["openid"]);
    let code = code_from(&location(&authorize(&b, &started.url).await), &started, &app.url);
    let (_, body, _) = form_post(
        &b,
        &token_url,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CAMPUS)],
        Some(("campus", &secret)),
    )
    .await;
    assert_eq!(body["error"], "invalid_grant", "PKCE verifier required");

    // Malformed requests.
    for (fields, expected) in [
        (vec![("grant_type", "password")], "unsupported_grant_type"),
        (vec![], "invalid_request"),
        (vec![("grant_type", "authorization_code"), ("grant_type", "authorization_code")], "invalid_request"),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", "not.a.jwt"),
                ("client_id", "campus"),
            ],
            "invalid_client",
        ),
    ] {
        let auth =
            if fields.iter().any(|(k, _)| *k == "client_assertion") { None } else { Some(("campus", secret.as_str())) };
        let (_, body, _) = form_post(&b, &token_url, &fields, auth).await;
        assert_eq!(body["error"], expected, "{fields:?}");
    }
    let resp = b.client.post(&token_url).header("content-type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Client credentials, then introspection and revocation of the token.
    let (status, cc, _) = form_post(
        &b,
        &token_url,
        &[("grant_type", "client_credentials"), ("scope", "profile")],
        Some(("campus", &secret)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cc}");
    assert!(cc.get("id_token").is_none() && cc.get("refresh_token").is_none());
    let at = cc["access_token"].as_str().unwrap().to_owned();
    let introspect = format!("{}/introspect", app.url);
    let (_, info, _) = form_post(&b, &introspect, &[("token", &at)], Some(("warehouse", &other_secret))).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "campus");
    assert_eq!(info["scope"], "profile");
    let (status, _, _) =
        form_post(&b, &format!("{}/revoke", app.url), &[("token", &at)], Some(("campus", &secret))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, info, _) = form_post(&b, &introspect, &[("token", &at)], Some(("warehouse", &other_secret))).await;
    assert_eq!(info["active"], false);
    let (_, info, _) = form_post(&b, &introspect, &[("token", "garbage")], Some(("warehouse", &other_secret))).await;
    assert_eq!(info["active"], false);
    let (status, info, _) = form_post(&b, &introspect, &[("token", "garbage")], None).await;
    assert_eq!((status, info["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
}
both_backends!(token_endpoint, super::token_endpoint);

/// Rotation publishes the next key before it signs; tokens signed before
/// rotation still validate; JWKS carries both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_keeps_old_tokens_valid() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "keys@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let b = app.browser();
    let jwks_before: serde_json::Value =
        b.client.get(format!("{}/jwks", app.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks_before["keys"].as_array().unwrap().len(), 6, "active + next for RS256, ES256, EdDSA");
    let campus = Rp::new(&app, "campus", secret.clone(), CAMPUS).await;
    let started = campus.start(&["openid"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "keys@example.com").await;
    let nonce = started.nonce.clone();
    let (old_token, _) = campus.exchange(&code_from(&back, &started, &app.url), started).await;

    app.state().provider.rotate_keys().await.unwrap();
    let jwks_after: serde_json::Value =
        b.client.get(format!("{}/jwks", app.url)).send().await.unwrap().json().await.unwrap();
    let kids = |v: &serde_json::Value| {
        v["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(jwks_after["keys"].as_array().unwrap().len(), 9, "retired keys stay published");
    assert!(kids(&jwks_before).iter().all(|k| kids(&jwks_after).contains(k)));

    // A relying party that fetched the JWKS afresh validates the old token and a new one.
    let fresh = Rp::new(&app, "campus", secret, CAMPUS).await;
    fresh.verify(&old_token, &nonce);
    let started = fresh.start(&["openid"]);
    let code = code_from(&location(&authorize(&b, &started.url).await), &started, &app.url);
    let (new_token, _) = fresh.exchange(&code, started).await;
    let header = |t: &str| -> serde_json::Value {
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.split('.').next().unwrap()).unwrap(),
        )
        .unwrap()
    };
    let old_kid = header(&old_token.id_token().unwrap().to_string())["kid"].clone();
    let new_kid = header(&new_token.id_token().unwrap().to_string())["kid"].clone();
    assert_ne!(old_kid, new_kid, "the next key became the signing key");
    assert!(kids(&jwks_before).contains(&new_kid.as_str().unwrap().to_owned()), "it was published before it signed");
}

/// A refresh that cannot sign (no active key) fails and undoes its
/// token's rotation: once a key is active again, the same refresh token
/// works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_cannot_sign_keeps_its_token() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "nokey@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let campus = Rp::new(&app, "campus", secret.clone(), CAMPUS).await;
    let b = app.browser();
    let started = campus.start(&["openid"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "nokey@example.com").await;
    let (token, _) = campus.exchange(&code_from(&back, &started, &app.url), started).await;
    let refresh = token.refresh_token().unwrap().secret().clone();

    app.execute_sql("DELETE FROM signing_keys WHERE state = 'active'").await;
    let state = app.state();
    state.provider.keys.reload(&state.db).await.unwrap();
    let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let (status, body, _) =
        form_post(&b, &format!("{}/token", app.url), &fields, Some(("campus", secret.as_deref().unwrap()))).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some("server_error")));

    state.provider.rotate_keys().await.unwrap();
    let renewed = campus.refresh(&refresh).await.expect("the refresh token was not used up");
    assert_ne!(renewed.refresh_token().unwrap().secret(), &refresh);
}

/// A refresh may narrow the scope of its grant, never widen it. Tried: a
/// scope the grant does not hold (refused with `invalid_scope`, and the
/// token still works: the refusal undid its rotation), then a narrower one
/// with the same token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_narrows_its_scope_and_a_wider_one_uses_nothing_up() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "narrow@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let campus = Rp::new(&app, "campus", secret.clone(), CAMPUS).await;
    let b = app.browser();
    let started = campus.start(&["openid", "email"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "narrow@example.com").await;
    let (token, _) = campus.exchange(&code_from(&back, &started, &app.url), started).await;
    let refresh = token.refresh_token().unwrap().secret().clone();
    let post = |scope: &'static str| {
        let (b, url, refresh, secret) = (&b, format!("{}/token", app.url), refresh.clone(), secret.clone());
        async move {
            let fields = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str()), ("scope", scope)];
            form_post(b, &url, &fields, Some(("campus", secret.as_deref().unwrap()))).await
        }
    };

    let (status, body, _) = post("openid email profile").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scope")), "{body}");
    let (status, body, _) = post("openid").await;
    assert_eq!(status, StatusCode::OK, "the wider ask used nothing up: {body}");
    assert_eq!(body["scope"].as_str(), Some("openid"), "{body}");
    assert!(body["refresh_token"].as_str().is_some_and(|next| next != refresh), "{body}");
}

/// Non-first-party clients ask for consent once; a refusal is access_denied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_asked_remembered_and_refusable() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "c@example.com").await;
    let mut partner = spec("partner", CAMPUS);
    partner.first_party = false;
    let secret = add(&app, partner).await;
    let rp = Rp::new(&app, "partner", secret, CAMPUS).await;
    let b = app.browser();
    let started = rp.start(&["openid", "email"]);
    let consent_page = {
        let login = location(&authorize(&b, &started.url).await);
        let page = b.get(&login).await;
        let done = b
            .post(
                "/login",
                &[
                    ("csrf", &page.csrf()),
                    ("email", "c@example.com"),
                    ("password", GOOD_PASSWORD),
                    ("next", &page.field("next")),
                ],
            )
            .await;
        b.get(&done.location.unwrap()).await
    };
    assert!(consent_page.text_of("#consent-scopes").contains("see your email address"), "{}", consent_page.body);
    let id = consent_page.field("id");
    let allowed =
        b.post("/authorize/consent", &[("csrf", &consent_page.csrf()), ("id", &id), ("decision", "allow")]).await;
    let code = code_from(allowed.location.as_deref().unwrap(), &started, &app.url);
    rp.exchange(&code, started).await;
    // Remembered: no page the second time.
    let started = rp.start(&["openid", "email"]);
    assert!(location(&authorize(&b, &started.url).await).starts_with(CAMPUS));
    // Asking for more shows the page again; denying sends access_denied.
    let started = rp.start(&["openid", "email", "profile"]);
    let resp = authorize(&b, &started.url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page_body = resp.text().await.unwrap();
    let csrf = b.get("/login?reauth=1").await.csrf();
    let id = scraper::Html::parse_document(&page_body)
        .select(&scraper::Selector::parse("input[name=id]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let denied = b.post("/authorize/consent", &[("csrf", &csrf), ("id", &id), ("decision", "deny")]).await;
    assert_eq!(query(denied.location.as_deref().unwrap()).get("error").map(String::as_str), Some("access_denied"));
    // prompt=none where consent is missing: consent_required.
    let started = rp.start(&["openid", "email", "profile"]);
    let loc = location(&authorize(&b, &format!("{}&prompt=none", started.url)).await);
    assert_eq!(query(&loc).get("error").map(String::as_str), Some("consent_required"));
}

/// prompt=login and max_age force a fresh sign-in even with a session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_login_and_max_age_reauthenticate() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "p@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let rp = Rp::new(&app, "campus", secret, CAMPUS).await;
    let b = app.browser();
    let started = rp.start(&["openid"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "p@example.com").await;
    let (first, first_claims) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
    let sid = |c: &openidconnect::core::CoreIdTokenClaims| serde_json::to_value(c).unwrap()["sid"].clone();
    for extra in ["&prompt=login", "&max_age=60"] {
        app.clock.advance(Duration::seconds(120));
        let started = rp.start(&["openid"]);
        let loc = location(&authorize(&b, &format!("{}{extra}", started.url)).await);
        assert!(loc.starts_with("/login?"), "{extra}: {loc}");
        let back = sign_in_at(&app.url, &b, &loc, "p@example.com").await;
        let (_, claims) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
        let auth_time = claims.auth_time().unwrap().timestamp();
        assert!(auth_time >= app.clock_now_unix() - 5, "{extra}: a new auth_time");
        assert_eq!(sid(&claims), sid(&first_claims), "{extra}: re-authentication continues the same session");
    }
    // …so the session-bound refresh token from before still works.
    assert!(rp.refresh(openidconnect::OAuth2TokenResponse::refresh_token(&first).unwrap().secret()).await.is_ok());
    // max_age satisfied: straight back.
    let started = rp.start(&["openid"]);
    assert!(location(&authorize(&b, &format!("{}&max_age=3600", started.url)).await).starts_with(CAMPUS));
}
