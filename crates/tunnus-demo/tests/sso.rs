//! Single sign-on across the three demo services against the real Tunnus provider, started
//! in-process over a fresh SQLite database: one sign-in at Campus, no password at Warehouse and
//! Model Sharing, and one sign-out that ends every service's session through back-channel logout.
//! Once over HTTP hop by hop, once in headless Chromium with screenshots for the docs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tunnus_core::client::{ClientKind, GrantType, SigningAlg};
use tunnus_demo::{DemoConfig, DemoHandles, DemoService, default_services, start_on};
use tunnus_server::services::clients::{ClientSpec, register};
use tunnus_test_browser::{
    Client, Element, Locator, Screenshots, current_url, element, element_with_text, source, start_browser, type_into,
};

mod common;

use common::{Hop, PASSWORD, Provider, get, hidden, http_client, post};

/// How long back-channel logouts may take to arrive.
const BACKCHANNEL_WAIT: Duration = Duration::from_secs(10);

/// Registers a demo service as a first-party confidential client with `alg` ID tokens.
async fn register_service(provider: &Provider, service: &DemoService, alg: SigningAlg) {
    let spec = ClientSpec {
        id: service.client_id.clone(),
        name: service.name.clone(),
        kind: ClientKind::Confidential,
        auth_method: None,
        jwks: None,
        redirect_uris: vec![tunnus_demo::redirect_uri(&service.public_url)],
        post_logout_redirect_uris: vec![tunnus_demo::post_logout_uri(&service.public_url)],
        backchannel_logout_uri: Some(tunnus_demo::backchannel_uri(&service.public_url)),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: vec!["profile".into(), "email".into()],
        strict_scopes: false,
        first_party: true,
        id_token_alg: alg,
        required_entitlement: None,
        accepts_federated_only: true,
    };
    let state = &provider.server().state;
    let (_, secret) =
        register(&state.db, &state.secret_key, &spec, Some(service.client_secret.clone()), state.clock.now())
            .await
            .unwrap();
    assert_eq!(secret.as_deref(), Some(service.client_secret.as_str()));
}

/// The three demo services (Campus RS256, Warehouse ES256, Model Sharing EdDSA) on ephemeral
/// ports, registered at `provider`.
struct Demo {
    handles: Option<DemoHandles>,
    campus: String,
    warehouse: String,
    model_sharing: String,
}

impl Demo {
    async fn start(provider: &Provider) -> Self {
        let mut services =
            default_services("campus-secret-for-tests", "warehouse-secret-for-tests", "model-sharing-secret-for-tests");
        let mut listeners = Vec::new();
        for s in &mut services {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            s.listen = listener.local_addr().unwrap();
            s.public_url = format!("http://127.0.0.1:{}", s.listen.port());
            listeners.push(listener);
        }
        let urls: Vec<(String, String)> = services.iter().map(|s| (s.name.clone(), s.public_url.clone())).collect();
        for s in &mut services {
            s.others = urls.iter().filter(|(name, _)| *name != s.name).cloned().collect();
        }
        for (service, alg) in services.iter().zip([SigningAlg::RS256, SigningAlg::ES256, SigningAlg::EdDSA]) {
            register_service(provider, service, alg).await;
        }
        let [campus, warehouse, model_sharing] =
            <[String; 3]>::try_from(services.iter().map(|s| s.public_url.clone()).collect::<Vec<_>>()).unwrap();
        let handles = start_on(DemoConfig { issuer: provider.url.clone(), services }, listeners).await.unwrap();
        Self { handles: Some(handles), campus, warehouse, model_sharing }
    }

    async fn stop(mut self) {
        if let Some(handles) = self.handles.take() {
            handles.stop().await;
        }
    }
}

async fn status(http: &reqwest::Client, base: &str) -> Value {
    http.get(format!("{base}/status.json")).send().await.unwrap().json().await.unwrap()
}

/// Polls `/status.json` of every service in `bases` until it equals `expected` (bounded).
async fn wait_for_status(http: &reqwest::Client, bases: &[&str], expected: &Value) {
    let started = Instant::now();
    for base in bases {
        loop {
            let got = status(http, base).await;
            if got == *expected {
                break;
            }
            assert!(started.elapsed() < BACKCHANNEL_WAIT, "{base}/status.json is {got}, expected {expected}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `/login` at a demo service up to the provider's `/authorize`, which answers with the next hop.
async fn start_sign_in(http: &reqwest::Client, provider: &Provider, base: &str) -> Hop {
    let to_provider = get(http, &format!("{base}/login")).await.see_other(&format!("{}/authorize?", provider.url));
    let query: Vec<(String, String)> = to_provider.query_pairs().into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(param("redirect_uri"), Some(tunnus_demo::redirect_uri(base).as_str()));
    assert_eq!(param("code_challenge_method"), Some("S256"));
    get(http, to_provider.as_str()).await
}

/// The provider sent the browser back to `base` with a code: finish there and return the page.
async fn finish_sign_in(http: &reqwest::Client, provider: &Provider, base: &str, authorized: &Hop) -> String {
    let callback = authorized.see_other(&format!("{base}/callback?"));
    let query: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    assert!(query.iter().any(|(k, v)| k == "code" && !v.is_empty()), "{callback}");
    assert!(query.iter().any(|(k, v)| k == "iss" && *v == provider.url), "{callback}");
    let home = get(http, callback.as_str()).await.see_other(&format!("{base}/"));
    assert_eq!(home.as_str(), format!("{base}/"), "sign-in at {base} failed");
    let page = get(http, home.as_str()).await;
    assert_eq!(page.status, StatusCode::OK);
    page.body
}

/// The provider asks for a password: check the hop and return the `next` it will resume.
fn sign_in_required(provider: &Provider, authorized: &Hop) -> String {
    let to_login = authorized.see_other(&format!("{}/login?", provider.url));
    let next = to_login.query_pairs().find(|(k, _)| k == "next").map(|(_, v)| v.into_owned()).unwrap();
    assert!(next.starts_with("/authorize/continue?id="), "{next}");
    next
}

fn signed_in_as(page: &str, email: &str) -> bool {
    page.contains(&format!("({email})</p>")) && page.contains("Signed in as")
}

/// The `alg` in the header of a compact JWS.
fn jws_alg(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["alg"].as_str().unwrap().to_owned()
}

fn signed_out(page: &str) -> bool {
    page.contains("You are not signed in.") && page.contains("href=\"/login\">Sign in</a>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_services_share_one_sign_in() {
    let provider = Provider::start("sso").await;
    let demo = Demo::start(&provider).await;
    let email = "ada.lovelace@example.com";
    provider.verified_account(email, "Ada", "Lovelace").await;
    let http = http_client();

    // Campus: the provider asks for the password once.
    let page = get(&http, &format!("{}/", demo.campus)).await;
    assert!(signed_out(&page.body), "{}", page.body);
    let authorized = start_sign_in(&http, &provider, &demo.campus).await;
    let next = sign_in_required(&provider, &authorized);
    let form = get(&http, authorized.location.as_ref().unwrap().as_str()).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("action=\"/login\""), "{}", form.body);
    let signed = post(
        &http,
        &format!("{}/login", provider.url),
        &[("csrf", &hidden(&form.body, "csrf")), ("email", email), ("password", PASSWORD), ("next", &next)],
    )
    .await;
    let resumed = signed.see_other(&format!("{}{next}", provider.url));
    let authorized = get(&http, resumed.as_str()).await;
    let page = finish_sign_in(&http, &provider, &demo.campus, &authorized).await;
    assert!(page.contains("Signed in as <strong>Ada Lovelace</strong> (ada.lovelace@example.com)"), "{page}");
    assert!(page.contains("<th scope=\"row\">sid</th>"), "the ID token has no sid: {page}");
    assert!(page.contains("Userinfo response") && !page.contains("Userinfo unavailable"), "{page}");

    // Warehouse and Model Sharing: /authorize sends the browser straight back with a code.
    for base in [&demo.warehouse, &demo.model_sharing] {
        let authorized = start_sign_in(&http, &provider, base).await;
        let page = finish_sign_in(&http, &provider, base, &authorized).await;
        assert!(signed_in_as(&page, email), "{base}: {page}");
        assert!(page.contains("Userinfo response") && !page.contains("Userinfo unavailable"), "{page}");
    }
    let one_session = json!({"sessions": 1, "backchannel_logouts": 0});
    for base in [&demo.campus, &demo.warehouse, &demo.model_sharing] {
        assert_eq!(status(&http, base).await, one_session, "{base}");
    }

    // Sign out at Model Sharing: RP-initiated logout with id_token_hint, straight back.
    let to_provider = post(&http, &format!("{}/logout", demo.model_sharing), &[])
        .await
        .see_other(&format!("{}/logout?", provider.url));
    let query: Vec<(String, String)> = to_provider.query_pairs().into_owned().collect();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(jws_alg(&param("id_token_hint")), "EdDSA", "{to_provider}");
    assert_eq!(param("client_id"), "model-sharing");
    assert_eq!(param("post_logout_redirect_uri"), tunnus_demo::post_logout_uri(&demo.model_sharing));
    let back = get(&http, to_provider.as_str()).await.see_other(&tunnus_demo::post_logout_uri(&demo.model_sharing));
    assert_eq!(back.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()), Some(param("state")));
    let page = get(&http, back.as_str()).await;
    assert!(signed_out(&page.body) && page.body.contains("You have signed out."), "{}", page.body);
    assert_eq!(status(&http, &demo.model_sharing).await["sessions"], 0);

    // Campus and Warehouse hear about it through back-channel logout.
    wait_for_status(&http, &[&demo.campus, &demo.warehouse], &json!({"sessions": 0, "backchannel_logouts": 1})).await;
    for base in [&demo.campus, &demo.warehouse] {
        let page = get(&http, &format!("{base}/")).await;
        assert!(signed_out(&page.body), "{base}: {}", page.body);
    }
    // Model Sharing, whose session ended first, is told too (its logout token is EdDSA-signed).
    wait_for_status(&http, &[&demo.model_sharing], &json!({"sessions": 0, "backchannel_logouts": 1})).await;

    // The provider session is gone too: Campus needs a password again.
    let authorized = start_sign_in(&http, &provider, &demo.campus).await;
    sign_in_required(&provider, &authorized);

    demo.stop().await;
    provider.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The same in a real browser.

/// The page's `h1`, which names the service (or the provider's page).
async fn heading(c: &Client) -> String {
    element(c, "h1").await.text().await.unwrap()
}

/// Reloads `url` until it shows the signed-out page (bounded: back-channel logout is
/// asynchronous).
async fn wait_signed_out(c: &Client, url: &str) {
    let started = Instant::now();
    loop {
        c.goto(url).await.unwrap();
        if c.find(Locator::Css("a.button[href='/login']")).await.is_ok() {
            return;
        }
        assert!(
            started.elapsed() < BACKCHANNEL_WAIT,
            "{url} still signed in after {BACKCHANNEL_WAIT:?}:\n{}",
            source(c).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sso_across_demo_services() {
    let Some((driver, c)) = start_browser().await else { return };
    let provider = Provider::start("sso").await;
    let demo = Demo::start(&provider).await;
    let email = "grace.hopper@example.com";
    provider.verified_account(email, "Grace", "Hopper").await;

    let shots = Screenshots::in_docs();

    // Campus, signed out.
    c.goto(&format!("{}/", demo.campus)).await.unwrap();
    assert_eq!(heading(&c).await, "Campus");
    element_with_text(&c, "p", "You are not signed in.").await;
    shots.save(&c, "10-campus-signed-out.png").await;

    // Sign in → the provider's sign-in page.
    element(&c, "a.button[href='/login']").await.click().await.unwrap();
    element(&c, "form[action='/login'] #password").await;
    let at = c.current_url().await.unwrap();
    assert!(at.as_str().starts_with(&format!("{}/login?", provider.url)), "{at}");
    type_into(&c, "#email", email).await;
    type_into(&c, "#password", PASSWORD).await;
    shots.save(&c, "11-provider-sign-in.png").await;
    element(&c, "form[action='/login'] button[type=submit]").await.click().await.unwrap();

    // Back at Campus, signed in.
    let who = element(&c, "p.who").await.text().await.unwrap();
    assert!(who.contains(email), "{who}");
    assert_eq!(heading(&c).await, "Campus");
    assert_eq!(c.current_url().await.unwrap().as_str(), format!("{}/", demo.campus));
    shots.save(&c, "12-campus-signed-in.png").await;

    // Warehouse through Campus's link: Sign in asks for no password.
    element_with_text(&c, "a", "Warehouse").await.click().await.unwrap();
    element_with_text(&c, "h1", "Warehouse").await;
    element(&c, "a.button[href='/login']").await.click().await.unwrap();
    let who = element(&c, "p.who").await.text().await.unwrap();
    assert!(who.contains(email), "{who}");
    assert_eq!(heading(&c).await, "Warehouse");
    assert_eq!(c.current_url().await.unwrap().as_str(), format!("{}/", demo.warehouse));
    shots.save(&c, "13-warehouse-sso.png").await;

    // Model Sharing likewise.
    element_with_text(&c, "a", "Model Sharing").await.click().await.unwrap();
    element_with_text(&c, "h1", "Model Sharing").await;
    element(&c, "a.button[href='/login']").await.click().await.unwrap();
    let who = element(&c, "p.who").await.text().await.unwrap();
    assert!(who.contains(email), "{who}");
    assert_eq!(heading(&c).await, "Model Sharing");
    shots.save(&c, "14-model-sharing-signed-in.png").await;

    // Sign out at Model Sharing: back there signed out, and so are Campus and Warehouse.
    element(&c, "form[action='/logout'] button[type=submit]").await.click().await.unwrap();
    element_with_text(&c, "p", "You have signed out.").await;
    assert_eq!(heading(&c).await, "Model Sharing");
    wait_signed_out(&c, &format!("{}/", demo.warehouse)).await;
    wait_signed_out(&c, &format!("{}/", demo.campus)).await;
    shots.save(&c, "15-all-signed-out.png").await;

    // And the provider asks for the password again.
    element(&c, "a.button[href='/login']").await.click().await.unwrap();
    element(&c, "form[action='/login'] #password").await;

    c.close().await.unwrap();
    drop(driver);
    demo.stop().await;
    provider.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Access rights in a real browser: an admin invites an employee of a licensed organization, and
// the employee's next sign-in at Warehouse unlocks its premium content — no cookies cleared.

/// Lets the client `client_id` also ask for the `organization` and `entitlements` scopes (the
/// provider drops scopes a client is not allowed, and with them the access-rights claims).
async fn allow_access_scopes(provider: &Provider, client_id: &str) {
    use tunnus_server::services::clients::{SecretChange, spec_of, update};
    let state = &provider.server().state;
    let id = tunnus_core::client::ClientId::parse(client_id).unwrap();
    let client = state.db.read(move |c| tunnus_store::clients::find(c, &id)).await.unwrap().unwrap();
    let mut spec = spec_of(&client);
    for scope in ["organization", "entitlements"] {
        if !spec.scopes.iter().any(|s| s == scope) {
            spec.scopes.push(scope.to_owned());
        }
    }
    update(&state.db, &state.secret_key, &spec, SecretChange::Keep, state.clock.now()).await.unwrap();
    // The running provider keeps clients for a few seconds; this change must count now.
    state.provider.forget_clients();
}

/// Creates the organization `name` with `admin_email` as its internal administrator and grants
/// it the `entitlement` license (for its employees only).
async fn licensed_org(provider: &Provider, name: &str, admin_email: &str, entitlement: &str) {
    use tunnus_core::access::{MembershipKind, Role};
    use tunnus_store::orgs::{GrantTo, add_membership, create_org, grant};
    let state = &provider.server().state;
    let email = tunnus_core::Email::parse(admin_email).unwrap();
    let admin = state.db.read(move |c| tunnus_store::users::find_by_email(c, &email)).await.unwrap().unwrap();
    let (name, entitlement, admin_id, now) =
        (name.to_owned(), entitlement.to_owned(), admin.id.to_string(), state.clock.now());
    state
        .db
        .write(move |c| {
            let org = create_org(c, &name, now)?;
            add_membership(c, &org, &admin_id, MembershipKind::Internal, Role::Admin, now)?;
            grant(c, &entitlement, &GrantTo::Organization(org.clone()), false, None, None, now)?;
            Ok(org)
        })
        .await
        .unwrap();
}

/// Signs in at the provider's sign-in form the browser is on (or is being sent to).
async fn provider_sign_in(c: &Client, provider: &Provider, email: &str) {
    element(c, "form[action='/login'] #password").await;
    let at = current_url(c).await;
    assert!(at.starts_with(&format!("{}/login?", provider.url)), "{at}");
    type_into(c, "#email", email).await;
    type_into(c, "#password", PASSWORD).await;
    element(c, "form[action='/login'] button[type=submit]").await.click().await.unwrap();
}

/// Opens the provider's profile page, signing in as `email` on the way.
async fn provider_profile(c: &Client, provider: &Provider, email: &str) {
    c.goto(&format!("{}/profile", provider.url)).await.unwrap();
    provider_sign_in(c, provider, email).await;
    element(c, "h1#profile").await;
    assert_eq!(current_url(c).await, format!("{}/profile", provider.url));
    let who = element(c, "#profile-link").await.text().await.unwrap();
    assert_eq!(who, email);
}

/// Signs out at the provider through its header's Sign out button.
async fn provider_sign_out(c: &Client) {
    element(c, "header form[action='/logout'] button[type=submit]").await.click().await.unwrap();
    element_with_text(c, "h1", "You are signed out").await;
    element(c, "header a[href='/login']").await;
}

/// Signs in at a demo service whose home page the browser is on and returns its premium section.
async fn demo_sign_in(c: &Client, base: &str, email: &str, provider: Option<&Provider>) -> Element {
    element(c, "a.button[href='/login']").await.click().await.unwrap();
    if let Some(provider) = provider {
        provider_sign_in(c, provider, email).await;
    }
    let who = element(c, "p.who").await.text().await.unwrap();
    assert!(who.contains(email), "{who}");
    assert_eq!(current_url(c).await, format!("{base}/"));
    element(c, "section#premium").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_admin_invites_and_premium_appears() {
    let provider = Provider::start("sso").await;
    let demo = Demo::start(&provider).await;
    allow_access_scopes(&provider, "warehouse").await;
    let (admin, employee) = ("admin@example.com", "employee@example.com");
    provider.verified_account(admin, "Alma", "Admin").await;
    provider.verified_account(employee, "Eero", "Employee").await;
    licensed_org(&provider, "Acme", admin, "warehouse:premium").await;

    let Some((driver, c)) = start_browser().await else {
        demo.stop().await;
        provider.stop().await;
        return;
    };
    let shots = Screenshots::in_docs();

    // The employee, not yet in any organization: Warehouse's premium content is locked.
    c.goto(&format!("{}/", demo.warehouse)).await.unwrap();
    assert_eq!(heading(&c).await, "Warehouse");
    let premium = demo_sign_in(&c, &demo.warehouse, employee, Some(&provider)).await;
    assert_eq!(premium.attr("class").await.unwrap().as_deref(), Some("premium locked"));
    let text = premium.text().await.unwrap();
    assert!(text.contains("requires the warehouse:premium license"), "{text}");
    shots.save(&c, "20-warehouse-premium-locked.png").await;
    element(&c, "form[action='/logout'] button[type=submit]").await.click().await.unwrap();
    element_with_text(&c, "p", "You have signed out.").await;

    // The admin, in the same browser: profile → admin tool → Acme → invite.
    provider_profile(&c, &provider, admin).await;
    element(&c, "#admin-tool").await.click().await.unwrap();
    element(&c, "#organizations").await;
    element_with_text(&c, "ul[@id='organizations']//a", "Acme").await.click().await.unwrap();
    assert_eq!(element(&c, "h1#org-name").await.text().await.unwrap(), "Acme");
    let members = element(&c, "#members").await.text().await.unwrap();
    assert!(members.contains(admin) && !members.contains(employee), "{members}");
    type_into(&c, "textarea#emails", "employee@example.com, not-an-email").await;
    element(&c, "select#kind").await.select_by_value("internal").await.unwrap();
    shots.save(&c, "21-admin-org.png").await;
    element(&c, "form[action='/admin/invite'] button[type=submit]").await.click().await.unwrap();
    let invited = element(&c, "#invited").await.text().await.unwrap();
    assert_eq!(invited, "Invited (1)");
    let invalid = element(&c, "#invalid").await.text().await.unwrap();
    assert_eq!(invalid, "Not valid (1)");
    let report = element(&c, "main").await.text().await.unwrap();
    assert!(report.contains(employee) && report.contains("not-an-email"), "{report}");
    shots.save(&c, "22-admin-invite-report.png").await;
    provider_sign_out(&c).await;

    // The employee finds the invitation on the profile page and accepts it.
    provider_profile(&c, &provider, employee).await;
    let invitation = element(&c, "#invitations .invitation").await.text().await.unwrap();
    assert!(invitation.contains("Acme invites you to join as an employee"), "{invitation}");
    assert_eq!(element(&c, "#company").await.text().await.unwrap(), "No company");
    shots.save(&c, "23-profile-invitation.png").await;
    element(&c, "#invitations button[value=accept]").await.click().await.unwrap();
    element_with_text(&c, "p", "You joined Acme").await;
    shots.save(&c, "24-invitation-accepted.png").await;
    element(&c, "main a[href='/profile']").await.click().await.unwrap();
    assert_eq!(element(&c, "#company").await.text().await.unwrap(), "Acme");
    let licenses = element(&c, "#licenses").await.text().await.unwrap();
    assert!(licenses.split(", ").any(|l| l == "warehouse:premium"), "{licenses}");
    assert!(element(&c, "#invitations").await.text().await.unwrap().contains("No pending invitations"));
    shots.save(&c, "25-profile-company.png").await;

    // Warehouse again: single sign-on (no password), and the premium content is unlocked.
    c.goto(&format!("{}/", demo.warehouse)).await.unwrap();
    assert_eq!(heading(&c).await, "Warehouse");
    let premium = demo_sign_in(&c, &demo.warehouse, employee, None).await;
    assert_eq!(premium.attr("class").await.unwrap().as_deref(), Some("premium unlocked"));
    assert_eq!(element(&c, "section#premium p").await.text().await.unwrap(), "Premium content unlocked");
    shots.save(&c, "26-warehouse-premium-unlocked.png").await;

    c.close().await.unwrap();
    drop(driver);
    demo.stop().await;
    provider.stop().await;
}
