//! More of the protocol: private_key_jwt, ES256 and EdDSA clients, clients
//! declared in the configuration, RP-initiated and back-channel logout.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpServer, web};
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;
use openidconnect::{OAuth2TokenResponse, TokenResponse};
use reqwest::StatusCode;
use tunnus_core::client::{GrantType, SigningAlg, TokenEndpointAuth};

use crate::oidc::sign_in_at;
use crate::rp::{Rp, add, authorize, code_from, location, query, spec};
use crate::support::{Backend, TestApp, verified_account};

const CAMPUS: &str = "http://localhost:8081/callback";

async fn token_post(app: &TestApp, fields: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
    let resp = reqwest::Client::new().post(format!("{}/token", app.url)).form(fields).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_authenticates_once_per_assertion() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let pair = ES256.generate_key_pair().unwrap();
    let mut public = josekit::jwk::KeyPair::to_jwk_public_key(&pair);
    public.set_key_id("k1");
    public.set_algorithm("ES256");
    let mut s = spec("machine", CAMPUS);
    s.auth_method = Some(TokenEndpointAuth::PrivateKeyJwt);
    s.jwks = Some(serde_json::json!({ "keys": [serde_json::Value::Object(public.as_ref().clone())] }).to_string());
    s.grant_types = vec![GrantType::ClientCredentials];
    add(&app, s).await;
    let signer = ES256.signer_from_jwk(&josekit::jwk::KeyPair::to_jwk_private_key(&pair)).unwrap();
    let assertion = |aud: &str, jti: &str| {
        let mut p = JwtPayload::new();
        p.set_issuer("machine");
        p.set_subject("machine");
        p.set_audience(vec![aud]);
        p.set_jwt_id(jti);
        p.set_expires_at(&(std::time::SystemTime::now() + std::time::Duration::from_secs(60)));
        let mut h = JwsHeader::new();
        h.set_key_id("k1");
        josekit::jwt::encode_with_signer(&p, &h, &signer).unwrap()
    };
    let jwt_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let token_url = format!("{}/token", app.url);
    let good = assertion(&token_url, "one");
    let fields = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", jwt_type),
        ("client_assertion", good.as_str()),
    ];
    let (status, body) = token_post(&app, &fields).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = token_post(&app, &fields).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client")),
        "replayed assertion"
    );
    let wrong_aud = assertion("https://elsewhere.example/token", "two");
    let (_, body) = token_post(
        &app,
        &[("grant_type", "client_credentials"), ("client_assertion_type", jwt_type), ("client_assertion", &wrong_aud)],
    )
    .await;
    assert_eq!(body["error"], "invalid_client");
    // Signed by a key the client did not register.
    let other = ES256.generate_key_pair().unwrap();
    let other_signer = ES256.signer_from_jwk(&josekit::jwk::KeyPair::to_jwk_private_key(&other)).unwrap();
    let mut p = JwtPayload::new();
    p.set_issuer("machine");
    p.set_subject("machine");
    p.set_audience(vec![token_url.as_str()]);
    p.set_jwt_id("three");
    p.set_expires_at(&(std::time::SystemTime::now() + std::time::Duration::from_secs(60)));
    let mut h = JwsHeader::new();
    h.set_key_id("k1");
    let forged = josekit::jwt::encode_with_signer(&p, &h, &other_signer).unwrap();
    let (_, body) = token_post(
        &app,
        &[("grant_type", "client_credentials"), ("client_assertion_type", jwt_type), ("client_assertion", &forged)],
    )
    .await;
    assert_eq!(body["error"], "invalid_client");
    // Both a secret and an assertion: one method only.
    let (_, body) = token_post(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "machine"),
            ("client_secret", "x"),
            ("client_assertion_type", jwt_type),
            ("client_assertion", &assertion(&token_url, "four")),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_and_eddsa_clients_and_configured_clients() {
    let app = TestApp::start(Backend::Sqlite, |c| {
        c.clients = vec![tunnus_server::config::ClientConfig {
            id: "declared".into(),
            name: "Declared".into(),
            kind: tunnus_core::client::ClientKind::Confidential,
            auth_method: Some(TokenEndpointAuth::ClientSecretPost),
            secret: Some("declared-secret-value-0123456789".into()),
            jwks: None,
            redirect_uris: vec![CAMPUS.into()],
            post_logout_redirect_uris: vec![],
            backchannel_logout_uri: None,
            grant_types: vec![GrantType::ClientCredentials],
            scopes: vec!["profile".into()],
            strict_scopes: true,
            first_party: true,
            id_token_alg: SigningAlg::EdDSA,
            required_entitlement: None,
            accepts_federated_only: true,
        }];
    })
    .await
    .unwrap();
    let (status, body) = token_post(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "declared"),
            ("client_secret", "declared-secret-value-0123456789"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = token_post(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "declared"),
            ("client_secret", "declared-secret-value-0123456789"),
            ("scope", "email"),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_scope", "strict scopes");

    verified_account(&app, "alg@example.com").await;
    let b = app.browser();
    let mut signed_in = false;
    for (id, alg, expected) in [("ec", SigningAlg::ES256, "ES256"), ("ed", SigningAlg::EdDSA, "EdDSA")] {
        let mut s = spec(id, CAMPUS);
        s.id_token_alg = alg;
        let secret = add(&app, s).await;
        let rp = Rp::new(&app, id, secret, CAMPUS).await;
        let started = rp.start(&["openid", "email"]);
        let first = location(&authorize(&b, &started.url).await);
        let back = if signed_in { first } else { sign_in_at(&app.url, &b, &first, "alg@example.com").await };
        signed_in = true;
        let (token, _) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
        let header = token.id_token().unwrap().to_string();
        let header: serde_json::Value = {
            use base64::Engine as _;
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header.split('.').next().unwrap()).unwrap(),
            )
            .unwrap()
        };
        assert_eq!(header["alg"], expected);
    }
}

/// Captures back-channel logout tokens POSTed to it.
async fn logout_receiver() -> (String, Arc<Mutex<Vec<String>>>, actix_web::dev::ServerHandle) {
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let data = web::Data::new(received.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/backchannel",
            web::post().to(
                |form: web::Form<Vec<(String, String)>>, got: web::Data<Arc<Mutex<Vec<String>>>>| async move {
                    if let Some((_, t)) = form.into_inner().into_iter().find(|(k, _)| k == "logout_token") {
                        got.lock().unwrap().push(t);
                    }
                    actix_web::HttpResponse::Ok().finish()
                },
            ),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/backchannel"), received, handle)
}

async fn rp_initiated_and_back_channel_logout(app: TestApp) {
    verified_account(&app, "out@example.com").await;
    let (uri, received, receiver) = logout_receiver().await;
    let mut s = spec("campus", CAMPUS);
    s.backchannel_logout_uri = Some(uri);
    s.post_logout_redirect_uris = vec!["http://localhost:8081/bye".into()];
    let secret = add(&app, s).await;
    let rp = Rp::new(&app, "campus", secret, CAMPUS).await;
    let b = app.browser();
    let started = rp.start(&["openid", "offline_access"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "out@example.com").await;
    let (token, _) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
    let hint = token.id_token().unwrap().to_string();

    // An unregistered post-logout URI is refused, and nobody is signed out.
    let bad =
        b.get(&format!("/logout?id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(b.get("/").await.status, StatusCode::OK);
    // Without a hint the person is asked first.
    let ask =
        b.get("/logout?client_id=campus&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8081%2Fbye&state=q").await;
    assert_eq!(ask.status, StatusCode::OK);
    assert_eq!(ask.field("post_logout_redirect_uri"), "http://localhost:8081/bye");
    // With a hint for this session: signed out at once, sent back with state.
    let out = b
        .get(&format!(
            "/logout?id_token_hint={hint}&post_logout_redirect_uri=http%3A%2F%2Flocalhost%3A8081%2Fbye&state=xyz"
        ))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let loc = out.location.unwrap();
    assert!(loc.starts_with("http://localhost:8081/bye?"), "{loc}");
    assert_eq!(query(&loc).get("state").map(String::as_str), Some("xyz"));
    assert_eq!(b.get("/").await.location.as_deref(), Some("/login"));

    // The relying party receives a valid logout token for that session.
    let mut token_text = None;
    for _ in 0..100 {
        if let Some(t) = received.lock().unwrap().first().cloned() {
            token_text = Some(t);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let logout_token = token_text.expect("a back-channel logout within 5 s");
    let jwks: serde_json::Value = reqwest::get(format!("{}/jwks", app.url)).await.unwrap().json().await.unwrap();
    let set = JwkSet::from_bytes(jwks.to_string().as_bytes()).unwrap();
    let (payload, header) = josekit::jwt::decode_with_verifier_in_jwk_set(&logout_token, &set, |jwk| {
        Ok(match jwk.algorithm() {
            Some("RS256") => {
                Some(Box::leak(Box::new(josekit::jws::RS256.verifier_from_jwk(jwk)?)) as &dyn josekit::jws::JwsVerifier)
            }
            _ => None,
        })
    })
    .unwrap();
    assert_eq!(header.token_type(), Some("logout+jwt"));
    assert_eq!(payload.issuer(), Some(app.url.as_str()));
    assert_eq!(payload.audience(), Some(vec!["campus"]));
    assert!(payload.claim("events").unwrap().get("http://schemas.openid.net/event/backchannel-logout").is_some());
    assert!(payload.claim("nonce").is_none());
    let id_sid = {
        use base64::Engine as _;
        let body: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(hint.split('.').nth(1).unwrap()).unwrap(),
        )
        .unwrap();
        body["sid"].as_str().unwrap().to_owned()
    };
    assert_eq!(payload.claim("sid").and_then(|v| v.as_str()), Some(id_sid.as_str()));
    // The offline refresh token outlives the session; a session-bound one would not.
    assert!(rp.refresh(token.refresh_token().unwrap().secret()).await.is_ok());
    receiver.stop(true).await;
}
crate::both_backends!(rp_initiated_and_back_channel_logout, super::rp_initiated_and_back_channel_logout);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_bound_refresh_tokens_end_with_the_session() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "bound@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let rp = Rp::new(&app, "campus", secret, CAMPUS).await;
    let b = app.browser();
    let started = rp.start(&["openid"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "bound@example.com").await;
    let (token, _) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
    let rt = token.refresh_token().unwrap().secret().clone();
    let next = rp.refresh(&rt).await.unwrap();
    let home = b.get("/").await;
    b.post("/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(rp.refresh(next.refresh_token().unwrap().secret()).await.unwrap_err(), "invalid_grant");
}

/// A code carries the person as the authorization found them, so the
/// exchange reads no database; a sign-out in between voids the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_is_refused_once_its_session_has_ended() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "brief@example.com").await;
    let secret = add(&app, spec("campus", CAMPUS)).await;
    let rp = Rp::new(&app, "campus", secret, CAMPUS).await;
    let b = app.browser();
    let started = rp.start(&["openid", "email"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "brief@example.com").await;
    let (_, claims) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
    assert_eq!(claims.email().map(|e| e.as_str()), Some("brief@example.com"), "claims come with the code");
    // Silent SSO issues another code; the person signs out before it is exchanged.
    let started = rp.start(&["openid"]);
    let code = code_from(&location(&authorize(&b, &started.url).await), &started, &app.url);
    let home = b.get("/").await;
    b.post("/logout", &[("csrf", &home.csrf())]).await;
    assert_eq!(rp.try_exchange(&code, started).await.unwrap_err(), "invalid_grant");
}

/// RFC 8252: a public native client with a loopback redirect on any port, PKCE, offline refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_app_with_loopback_redirect_on_a_random_port() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "desk@example.com").await;
    let mut s = spec("desktop", "http://127.0.0.1/callback");
    s.kind = tunnus_core::client::ClientKind::Public;
    s.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    assert!(add(&app, s).await.is_none(), "public clients get no secret");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let rp = Rp::new(&app, "desktop", None, &redirect).await;
    let b = app.browser();
    let started = rp.start(&["openid", "offline_access"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), "desk@example.com").await;
    assert!(back.starts_with(&redirect), "{back}");
    let (token, _) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
    let refreshed = rp.refresh(token.refresh_token().unwrap().secret()).await.unwrap();
    assert!(refreshed.refresh_token().is_some());
    // Another path on the loopback host is not the registered URI.
    let wrong = format!(
        "{}/authorize?response_type=code&client_id=desktop&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fother&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        app.url
    );
    assert_eq!(b.client.get(wrong).send().await.unwrap().status(), StatusCode::BAD_REQUEST);
}

/// Only pages with forms set the CSRF cookie: discovery and the JWKS are
/// cacheable and must not hand every caller its own cookie, and API calls
/// should not pay for one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csrf_cookie_comes_only_with_forms() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let b = app.browser();
    for path in ["/.well-known/openid-configuration", "/jwks", "/userinfo", "/healthz"] {
        let page = b.get(path).await;
        assert!(page.headers.get("set-cookie").is_none(), "{path}: {:?}", page.headers);
    }
    let login = b.get("/login").await;
    let cookie = login.headers.get("set-cookie").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    assert!(cookie.starts_with("tunnus_csrf="), "{cookie}");
    // The form still works with that cookie: a wrong password is refused by
    // the sign-in check (401), not by the CSRF check (403).
    let done = b
        .post("/login", &[("csrf", &login.csrf()), ("email", "nobody@example.com"), ("password", "Wrong-Pass1")])
        .await;
    assert_eq!(done.status, StatusCode::UNAUTHORIZED, "{}", done.body);
}

/// RFC 8252 §7.1 and RFC 9700: a public client must use PKCE; a private-use
/// URI scheme works when registered (and only then).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_clients_need_pkce_and_private_use_schemes_work_when_registered() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "mobile@example.com").await;
    let redirect = "com.example.modeller:/oauth/callback";
    let mut s = spec("modeller", redirect);
    s.kind = tunnus_core::client::ClientKind::Public;
    s.grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
    assert!(add(&app, s).await.is_none());
    let mut bad = spec("nodots", "modeller:/callback");
    bad.kind = tunnus_core::client::ClientKind::Public;
    let state = app.state();
    let refused =
        tunnus_server::services::clients::register(&state.db, &state.secret_key, &bad, None, state.clock.now());
    assert!(refused.await.is_err(), "a private-use scheme is a reversed domain name");

    let b = app.browser();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let base = format!(
        "{}/authorize?response_type=code&client_id=modeller&scope=openid&state=s1&redirect_uri={}",
        app.url,
        enc(redirect)
    );
    // Without PKCE: the error goes back to the (registered) app.
    let no_pkce = location(&authorize(&b, &base).await);
    assert!(no_pkce.starts_with("com.example.modeller:/oauth/callback?"), "{no_pkce}");
    let q = query(&no_pkce);
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("PKCE"), "{no_pkce}");
    assert_eq!(q["state"], "s1");

    // With PKCE: sign in, and the code arrives at the private-use URI.
    let with_pkce =
        format!("{base}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256");
    let login = location(&authorize(&b, &with_pkce).await);
    let back = sign_in_at(&app.url, &b, &login, "mobile@example.com").await;
    assert!(back.starts_with("com.example.modeller:/oauth/callback?"), "{back}");
    assert!(query(&back).contains_key("code"));

    // The same scheme with another path, or another app's scheme, is not registered.
    for other in ["com.example.modeller:/other", "com.evil.app:/oauth/callback"] {
        let url = format!(
            "{}/authorize?response_type=code&client_id=modeller&scope=openid&redirect_uri={}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
            app.url,
            enc(other)
        );
        assert_eq!(authorize(&b, &url).await.status(), StatusCode::BAD_REQUEST, "{other}");
    }
}
