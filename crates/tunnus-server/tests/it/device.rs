//! The device authorization grant (RFC 8628), polling through every error code.

use reqwest::StatusCode;
use serde_json::Value;
use time::Duration;
use tunnus_core::client::{ClientKind, GrantType};

use crate::rp::{add, spec};
use crate::support::{Backend, GOOD_PASSWORD, TestApp, sign_in, verified_account};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = reqwest::Client::new().post(format!("{}{path}", app.url)).form(fields).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn start(app: &TestApp, client: &str) -> Value {
    let (status, body) =
        post(app, "/device_authorization", &[("client_id", client), ("scope", "openid profile offline_access")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn poll(app: &TestApp, client: &str, device_code: &str) -> (StatusCode, Value) {
    post(app, "/token", &[("grant_type", DEVICE_GRANT), ("client_id", client), ("device_code", device_code)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_with_every_answer() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    verified_account(&app, "tv@example.com").await;
    for id in ["tv", "other-tv"] {
        let mut s = spec(id, "http://127.0.0.1/unused");
        s.kind = ClientKind::Public;
        s.grant_types = vec![GrantType::DeviceCode, GrantType::RefreshToken];
        add(&app, s).await;
    }
    let mut no_device = spec("web", "http://127.0.0.1/cb");
    no_device.kind = ClientKind::Public;
    no_device.grant_types = vec![GrantType::AuthorizationCode];
    add(&app, no_device).await;
    let (_, body) = post(&app, "/device_authorization", &[("client_id", "web")]).await;
    assert_eq!(body["error"], "unauthorized_client");
    let (status, body) = post(&app, "/device_authorization", &[("client_id", "nobody")]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));

    let d = start(&app, "tv").await;
    let code = d["device_code"].as_str().unwrap().to_owned();
    let user_code = d["user_code"].as_str().unwrap().to_owned();
    assert_eq!(d["interval"], 5);
    assert!(d["verification_uri_complete"].as_str().unwrap().ends_with(&user_code));
    assert_eq!(poll(&app, "tv", &code).await.1["error"], "authorization_pending");
    assert_eq!(poll(&app, "tv", &code).await.1["error"], "slow_down", "polled again at once");
    assert_eq!(poll(&app, "other-tv", &code).await.1["error"], "invalid_grant", "another client's code");

    // The person enters the code (any case, any dashes), sees the device and approves.
    let b = app.browser();
    let to_login = b.get(&format!("/device?user_code={user_code}")).await;
    assert!(to_login.location.as_deref().unwrap().starts_with("/login?next=%2Fdevice"));
    assert_eq!(sign_in(&b, "tv@example.com", GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    let form = b.get(&format!("/device?user_code={user_code}")).await;
    assert_eq!(form.field("user_code"), user_code);
    let wrong = b.post("/device", &[("csrf", &form.csrf()), ("user_code", "BBBB-BBBB")]).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(wrong.text_of("#device-problem").contains("not valid"));
    let typed = user_code.to_ascii_lowercase().replace('-', " ");
    let confirm = b.post("/device", &[("csrf", &form.csrf()), ("user_code", &typed)]).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.text_of("#device-client").contains("tv service"));
    let done = b
        .post(
            "/device/confirm",
            &[("csrf", &form.csrf()), ("user_code", &confirm.field("user_code")), ("decision", "allow")],
        )
        .await;
    assert!(done.contains("Your device is now signed in"));
    // The user code worked once.
    assert_eq!(
        b.post("/device", &[("csrf", &form.csrf()), ("user_code", &user_code)]).await.status,
        StatusCode::NOT_FOUND
    );

    app.clock.advance(Duration::seconds(11));
    let (status, tokens) = poll(&app, "tv", &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    assert_eq!(poll(&app, "tv", &code).await.1["error"], "expired_token", "a device code is used once");

    // Denied.
    let d = start(&app, "tv").await;
    let form = b.get("/device").await;
    let confirm = b.post("/device", &[("csrf", &form.csrf()), ("user_code", d["user_code"].as_str().unwrap())]).await;
    b.post(
        "/device/confirm",
        &[("csrf", &form.csrf()), ("user_code", &confirm.field("user_code")), ("decision", "deny")],
    )
    .await;
    assert_eq!(poll(&app, "tv", d["device_code"].as_str().unwrap()).await.1["error"], "access_denied");

    // Expired.
    let d = start(&app, "tv").await;
    app.clock.advance(Duration::minutes(11));
    assert_eq!(poll(&app, "tv", d["device_code"].as_str().unwrap()).await.1["error"], "expired_token");
}
