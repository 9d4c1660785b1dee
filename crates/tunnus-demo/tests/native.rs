//! Native sign-ins against the real Tunnus provider, started in-process over a fresh SQLite
//! database: a desktop app through a loopback redirect (RFC 8252) with a scripted browser, and
//! a device through the device authorization grant (RFC 8628) with a scripted approving person.
//! The provider runs on the real clock, so device polling really waits its 5 s interval.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::task::JoinHandle;
use tunnus_core::client::{ClientKind, GrantType, SigningAlg};
use tunnus_demo::native::{self, NativeError};
use tunnus_server::services::clients::{ClientSpec, register};
use url::Url;

mod common;

use common::{Hop, PASSWORD, Provider, get, hidden, http_client, post};

/// How long any one sign-in may take in these tests.
const SIGN_IN_WAIT: Duration = Duration::from_secs(60);

/// The provider, with the desktop and device clients registered.
async fn start_provider() -> Provider {
    let provider = Provider::start("native").await;
    register_native_clients(&provider).await;
    provider
}

/// "desktop" (code flow, loopback redirect on any port) and "tv" (device flow), both public.
async fn register_native_clients(provider: &Provider) {
    let public = |id: &str, redirect_uris: Vec<String>, grant_types: Vec<GrantType>| ClientSpec {
        id: id.into(),
        name: format!("{id} app"),
        kind: ClientKind::Public,
        auth_method: None,
        jwks: None,
        redirect_uris,
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types,
        scopes: vec!["profile".into(), "email".into(), "offline_access".into()],
        strict_scopes: false,
        first_party: true,
        id_token_alg: SigningAlg::RS256,
        required_entitlement: None,
        accepts_federated_only: true,
    };
    let specs = [
        public(
            native::DESKTOP_CLIENT_ID,
            vec!["http://127.0.0.1/callback".into()],
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        ),
        public(native::DEVICE_CLIENT_ID, vec![], vec![GrantType::DeviceCode, GrantType::RefreshToken]),
    ];
    let state = &provider.server().state;
    for spec in &specs {
        let (_, secret) = register(&state.db, &state.secret_key, spec, None, state.clock.now()).await.unwrap();
        assert!(secret.is_none(), "public clients get no secret");
    }
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// `url` at the provider sends the browser to sign in: do so, and return the resumed hop.
async fn sign_in_from(http: &reqwest::Client, provider: &str, url: &str, email: &str) -> Hop {
    let to_login = get(http, url).await.see_other(&format!("{provider}/login?"));
    let next = query_param(&to_login, "next").unwrap();
    let form = get(http, to_login.as_str()).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let signed = post(
        http,
        &format!("{provider}/login"),
        &[("csrf", &hidden(&form.body, "csrf")), ("email", email), ("password", PASSWORD), ("next", &next)],
    )
    .await;
    let resumed = signed.see_other(&format!("{provider}{next}"));
    get(http, resumed.as_str()).await
}

/// The system browser: from the authorization URL through sign-in to the loopback callback.
async fn play_browser(provider: String, url: Url, email: &'static str) {
    let http = http_client();
    let authorized = sign_in_from(&http, &provider, url.as_str(), email).await;
    let redirect = query_param(&url, "redirect_uri").unwrap();
    let callback = authorized.see_other(&format!("{redirect}?"));
    assert!(query_param(&callback, "code").is_some_and(|c| !c.is_empty()), "{callback}");
    let page = get(&http, callback.as_str()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("You can close this window"), "{}", page.body);
}

/// The person with the code: opens the complete verification URI, signs in, and answers.
async fn answer_device(provider: String, complete: String, user_code: String, email: &'static str, decision: &str) {
    let http = http_client();
    let form = sign_in_from(&http, &provider, &complete, email).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert_eq!(hidden(&form.body, "user_code"), user_code, "the complete URI fills in the code");
    let confirm =
        post(&http, &format!("{provider}/device"), &[("csrf", &hidden(&form.body, "csrf")), ("user_code", &user_code)])
            .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("tv app"), "{}", confirm.body);
    let done = post(
        &http,
        &format!("{provider}/device/confirm"),
        &[
            ("csrf", &hidden(&confirm.body, "csrf")),
            ("user_code", &hidden(&confirm.body, "user_code")),
            ("decision", decision),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
}

/// Awaits a helper task spawned from a callback, so its panic (if any) is the test's failure.
async fn join(task: Option<JoinHandle<()>>) {
    task.expect("the callback was not called").await.unwrap();
}

fn loopback() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_app_signs_in_through_the_loopback_redirect() {
    let provider = start_provider().await;
    let email = "grace.hopper@example.com";
    provider.verified_account(email, "Grace", "Hopper").await;

    let listener = loopback();
    let port = listener.local_addr().unwrap().port();
    let mut browser = None;
    let result =
        native::desktop_sign_in(&provider.url, native::DESKTOP_CLIENT_ID, listener, false, SIGN_IN_WAIT, |url| {
            assert!(url.as_str().starts_with(&format!("{}/authorize?", provider.url)), "{url}");
            assert_eq!(query_param(url, "redirect_uri").unwrap(), format!("http://127.0.0.1:{port}/callback"));
            assert_eq!(query_param(url, "code_challenge_method").as_deref(), Some("S256"));
            assert!(query_param(url, "state").is_some() && query_param(url, "nonce").is_some(), "{url}");
            let scope = query_param(url, "scope").unwrap();
            assert!(scope.split(' ').any(|s| s == "offline_access"), "{scope}");
            browser = Some(tokio::spawn(play_browser(provider.url.clone(), url.clone(), email)));
        })
        .await;
    join(browser).await;
    let signed_in = result.unwrap();
    assert_eq!(signed_in.claims["email"], email, "{:?}", signed_in.claims);
    assert_eq!(signed_in.claims["aud"], native::DESKTOP_CLIENT_ID);
    assert_eq!(signed_in.claims["iss"], provider.url.as_str());
    assert_eq!(signed_in.claims["sub"], signed_in.sub.as_str());
    assert!(signed_in.refresh_token.is_some(), "offline_access brings a refresh token");
    // The listener served its one callback and is gone.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());

    provider.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_app_rejects_foreign_and_refused_callbacks_and_gives_up_in_time() {
    let provider = start_provider().await;
    let callback_with = |url: &Url, state: Option<String>, rest: &str| {
        let mut callback = format!("{}?{rest}", query_param(url, "redirect_uri").unwrap());
        if let Some(state) = state {
            callback.push_str(&format!("&state={state}"));
        }
        tokio::spawn(async move {
            let page = get(&http_client(), &callback).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        })
    };

    // A callback that is not the answer to this request: another state.
    let mut task = None;
    let result =
        native::desktop_sign_in(&provider.url, native::DESKTOP_CLIENT_ID, loopback(), false, SIGN_IN_WAIT, |url| {
            task = Some(callback_with(url, Some("forged".into()), "code=stolen"));
        })
        .await;
    join(task).await;
    assert!(matches!(result, Err(NativeError::StateMismatch)), "{result:?}");

    // The provider refused (the person cancelled).
    let mut task = None;
    let result =
        native::desktop_sign_in(&provider.url, native::DESKTOP_CLIENT_ID, loopback(), false, SIGN_IN_WAIT, |url| {
            task = Some(callback_with(url, query_param(url, "state"), "error=access_denied"));
        })
        .await;
    join(task).await;
    match result {
        Err(NativeError::Authorization(e)) => assert!(e.contains("access_denied"), "{e}"),
        other => panic!("{other:?}"),
    }

    // Nobody comes back.
    let started = Instant::now();
    let result = native::desktop_sign_in(
        &provider.url,
        native::DESKTOP_CLIENT_ID,
        loopback(),
        false,
        Duration::from_millis(300),
        |_| {},
    )
    .await;
    assert!(matches!(result, Err(NativeError::TimedOut(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(10));

    provider.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_signs_in_once_the_person_approves() {
    let provider = start_provider().await;
    let email = "alan.turing@example.com";
    provider.verified_account(email, "Alan", "Turing").await;

    let started = Instant::now();
    let mut person = None;
    let result = native::device_sign_in(&provider.url, native::DEVICE_CLIENT_ID, SIGN_IN_WAIT, |code| {
        assert!(code.verification_uri.starts_with(&format!("{}/device", provider.url)), "{code:?}");
        assert_eq!(code.interval, Duration::from_secs(5));
        let complete = code.verification_uri_complete.clone().unwrap();
        assert!(complete.ends_with(&code.user_code), "{complete}");
        person =
            Some(tokio::spawn(answer_device(provider.url.clone(), complete, code.user_code.clone(), email, "allow")));
    })
    .await;
    join(person).await;
    let signed_in = result.unwrap();
    assert_eq!(signed_in.claims["email"], email, "{:?}", signed_in.claims);
    assert_eq!(signed_in.claims["aud"], native::DEVICE_CLIENT_ID);
    assert!(signed_in.refresh_token.is_some(), "offline_access brings a refresh token");
    // Polled at once, then every 5 s: a slow_down would have pushed the third poll to 15 s.
    assert!(started.elapsed() < Duration::from_secs(14), "took {:?}", started.elapsed());

    provider.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_stops_when_the_person_declines() {
    let provider = start_provider().await;
    let email = "ada.byron@example.com";
    provider.verified_account(email, "Ada", "Byron").await;

    let mut person = None;
    let result = native::device_sign_in(&provider.url, native::DEVICE_CLIENT_ID, SIGN_IN_WAIT, |code| {
        let complete = code.verification_uri_complete.clone().unwrap();
        person =
            Some(tokio::spawn(answer_device(provider.url.clone(), complete, code.user_code.clone(), email, "deny")));
    })
    .await;
    join(person).await;
    assert!(matches!(result, Err(NativeError::AccessDenied)), "{result:?}");
    assert!(NativeError::AccessDenied.to_string().contains("declined"));

    provider.stop().await;
}
