//! "Sign in with …": a second Tunnus server is the upstream OpenID Connect
//! provider, over real HTTP, with its own client registered for the first.
//! Each server has its own browser (cookie jar); the tests carry the
//! redirects between them, as a real browser would.

use openidconnect::OAuth2TokenResponse as _;
use reqwest::StatusCode;
use tunnus_core::{Email, UserId};
use tunnus_server::config::UpstreamConfig;
use tunnus_server::services::clients::{SecretChange, register, update};
use tunnus_store::{federated, users};

use crate::rp::{Rp, add, authorize, code_from, location, query, spec};
use crate::support::{
    Backend, Browser, GOOD_PASSWORD, Page, TestApp, accept_terms, set_password, sign_in, verified_account,
};

const SECRET: &str = "upstream-client-secret-0123456789";
const CAMPUS: &str = "https://campus.example.com/callback";
const WAREHOUSE: &str = "https://warehouse.example.com/callback";

/// The upstream provider and the Tunnus that signs people in through it.
struct Pair {
    up: TestApp,
    down: TestApp,
}

impl Pair {
    async fn start(backend: Backend, adjust: impl FnOnce(&mut UpstreamConfig)) -> Option<Self> {
        let up = TestApp::start(backend, |_| {}).await?;
        let mut upstream = UpstreamConfig {
            id: "up".into(),
            name: "Upstream".into(),
            issuer: up.url.clone(),
            client_id: "tunnus-down".into(),
            client_secret: SECRET.into(),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            trust_email_verified: true,
        };
        adjust(&mut upstream);
        let down = TestApp::start(backend, |c| c.upstreams = vec![upstream]).await?;
        let callback = format!("{}/login/upstream/up/callback", down.url);
        let state = up.state();
        register(&state.db, &state.secret_key, &spec("tunnus-down", &callback), Some(SECRET.into()), state.clock.now())
            .await
            .unwrap();
        Some(Self { up, down })
    }

    /// A verified person at the upstream, signed in there in `up_b`.
    async fn upstream_person(&self, email: &str) -> Browser {
        verified_account(&self.up, email).await;
        let b = self.up.browser();
        assert_eq!(sign_in(&b, email, GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
        b
    }

    /// Starts at `start` downstream, goes through the upstream (where the
    /// person is signed in) and returns the callback URL it sends back to.
    async fn to_callback(&self, down_b: &Browser, up_b: &Browser, start: &str) -> String {
        let go = down_b.get(start).await;
        assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
        let at_up = go.location.unwrap();
        assert!(at_up.starts_with(&format!("{}/authorize?", self.up.url)), "{at_up}");
        let q = query(&at_up);
        assert_eq!(q["code_challenge_method"], "S256", "PKCE");
        assert!(q.contains_key("nonce") && q.contains_key("state"));
        let back = location(&authorize(up_b, &at_up).await);
        assert!(back.starts_with(&format!("{}/login/upstream/up/callback?", self.down.url)), "{back}");
        back
    }

    /// The whole round trip; returns the downstream's answer at the callback.
    async fn through(&self, down_b: &Browser, up_b: &Browser, start: &str) -> Page {
        let back = self.to_callback(down_b, up_b, start).await;
        down_b.get_url(&back).await
    }

    async fn down_user(&self, email: &str) -> Option<tunnus_core::User> {
        let email = Email::parse(email).unwrap();
        self.down.state().db.read(move |c| users::find_by_email(c, &email)).await.unwrap()
    }

    async fn links(&self, user: &UserId) -> Vec<tunnus_core::federation::FederatedIdentity> {
        let id = user.clone();
        self.down.state().db.read(move |c| federated::of_user(c, &id)).await.unwrap()
    }

    async fn audit_kinds(&self) -> Vec<String> {
        self.down
            .state()
            .db
            .read(|c| {
                use diesel::prelude::*;
                use tunnus_store::schema::audit_events::dsl::*;
                Ok(audit_events.select(kind).load::<String>(c)?)
            })
            .await
            .unwrap()
    }
}

macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(crate::support::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(crate::support::Backend::Postgres).await;
            }
        }
    };
}

/// A federated-only identity at the downstream, terms accepted, signed in there in the returned browser.
async fn federated_person(p: &Pair, email: &str) -> Browser {
    federated_person_and_upstream(p, email).await.0
}

/// As [`federated_person`], with the browser signed in at the upstream too.
async fn federated_person_and_upstream(p: &Pair, email: &str) -> (Browser, Browser) {
    let up_b = p.upstream_person(email).await;
    let down_b = p.down.browser();
    let done = p.through(&down_b, &up_b, "/login/upstream/up?next=/profile").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let terms = done.location.unwrap();
    assert!(terms.starts_with("/terms/accept?next="), "a new identity accepts the terms first: {terms}");
    let accepted = accept_terms(&down_b, &terms).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert_eq!(accepted.location.as_deref(), Some("/profile"));
    (down_b, up_b)
}

/// First sign-in with a verified upstream address creates a federated
/// identity (no password); the next one signs in to it; the SSO session's
/// `amr` says "fed".
async fn first_sign_in_creates_a_federated_identity(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    let login = p.down.browser().get("/login").await;
    assert!(login.contains("/login/upstream/up?next=%2F") && login.contains("Sign in with Upstream"), "{}", login.body);

    let down_b = federated_person(&p, "fed@example.com").await;
    let user = p.down_user("fed@example.com").await.expect("created");
    assert!(user.password_hash.is_none(), "no password");
    assert!(user.email_verified_at.is_some());
    assert_eq!(user.status, tunnus_core::UserStatus::Active);
    assert_eq!((user.given_name.as_str(), user.family_name.as_str()), ("Aino", "Virtanen"), "names from the upstream");
    let links = p.links(&user.id).await;
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].provider, "up");
    let kinds = p.audit_kinds().await;
    for k in ["account.created", "federation.linked"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    let profile = down_b.get("/profile").await;
    assert!(profile.contains("Linked sign-in accounts") && profile.contains("your only way to sign in"));
    let data: serde_json::Value = serde_json::from_str(&down_b.get("/profile/data").await.body).unwrap();
    assert_eq!(data["linked_accounts"][0]["provider"], "up", "in the data download");
    assert_eq!(data["identity"]["has_password"], false);

    // A service sees amr = fed.
    let secret = add(&p.down, spec("campus", CAMPUS)).await;
    let rp = Rp::new(&p.down, "campus", secret, CAMPUS).await;
    let started = rp.start(&["openid", "email"]);
    let back = location(&authorize(&down_b, &started.url).await);
    let (_, claims) = rp.exchange(&code_from(&back, &started, &p.down.url), started).await;
    let amr: Vec<String> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str().to_owned()).collect();
    assert_eq!(amr, ["fed"]);

    // A later sign-in in a fresh browser finds the link: no new identity.
    let up_b = p.up.browser();
    sign_in(&up_b, "fed@example.com", GOOD_PASSWORD).await;
    let again = p.through(&p.down.browser(), &up_b, "/login/upstream/up?next=/profile").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location.as_deref(), Some("/profile"));
    assert_eq!(p.down.user_count().await, 1);
    assert!(p.audit_kinds().await.iter().any(|k| k == "sign_in.federated"));
}
both!(first_sign_in, first_sign_in_creates_a_federated_identity);

/// Someone controlling an upstream account with the address of an existing
/// identity is not let in: no link and no session until the password is proven.
async fn takeover_needs_the_password(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    verified_account(&p.down, "aino@example.com").await;
    let up_b = p.upstream_person("aino@example.com").await;
    let down_b = p.down.browser();
    let asked = p.through(&down_b, &up_b, "/login/upstream/up?next=/profile").await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(asked.contains("id=\"upstream-prove\"") && asked.contains("aino@example.com"));
    let owner = p.down_user("aino@example.com").await.unwrap();
    assert!(p.links(&owner.id).await.is_empty(), "not linked silently");
    assert_eq!(down_b.get("/profile").await.status, StatusCode::SEE_OTHER, "not signed in");

    let proof = asked.field("proof");
    let wrong = down_b
        .post("/login/upstream/prove", &[("csrf", &asked.csrf()), ("proof", &proof), ("password", "Wrong-Pass1")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(p.links(&owner.id).await.is_empty());
    assert_eq!(down_b.get("/profile").await.status, StatusCode::SEE_OTHER);

    let right = down_b
        .post("/login/upstream/prove", &[("csrf", &asked.csrf()), ("proof", &proof), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(right.status, StatusCode::SEE_OTHER, "{}", right.body);
    assert_eq!(right.location.as_deref(), Some("/profile"));
    assert_eq!(p.links(&owner.id).await.len(), 1, "linked after the proof");
    assert_eq!(down_b.get("/profile").await.status, StatusCode::OK, "signed in");
    // The proof is single use.
    let again = down_b
        .post("/login/upstream/prove", &[("csrf", &asked.csrf()), ("proof", &proof), ("password", GOOD_PASSWORD)])
        .await;
    assert_eq!(again.status, StatusCode::GONE);
    // From now on the upstream signs in straight away.
    let direct = p.through(&p.down.browser(), &up_b, "/login/upstream/up?next=/profile").await;
    assert_eq!(direct.location.as_deref(), Some("/profile"));
    assert_eq!(p.down.user_count().await, 1);
}
both!(takeover, takeover_needs_the_password);

/// The owner can prove it with an emailed link instead; the link works once.
async fn proof_by_emailed_link(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    verified_account(&p.down, "mail@example.com").await;
    let up_b = p.upstream_person("mail@example.com").await;
    let down_b = p.down.browser();
    let asked = p.through(&down_b, &up_b, "/login/upstream/up?next=/").await;
    let before = p.down.emails_to("mail@example.com").len();
    let sent =
        down_b.post("/login/upstream/prove/email", &[("csrf", &asked.csrf()), ("proof", &asked.field("proof"))]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let email = p.down.wait_for_email("mail@example.com", before + 1).await;
    assert!(email.subject.contains("Upstream"), "{}", email.subject);
    let owner = p.down_user("mail@example.com").await.unwrap();
    assert!(p.links(&owner.id).await.is_empty(), "nothing before the link is followed");
    let confirmed = p.down.browser().get(&email.link_path()).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(p.links(&owner.id).await.len(), 1);
    assert_eq!(p.down.browser().get(&email.link_path()).await.status, StatusCode::GONE, "single use");
    let direct = p.through(&p.down.browser(), &up_b, "/login/upstream/up?next=/").await;
    assert_eq!(direct.status, StatusCode::SEE_OTHER);
}
both!(proof_by_email, proof_by_emailed_link);

/// An upstream that does not vouch for the address creates nothing.
async fn unverified_upstream_email_is_refused(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    let up_b = p.upstream_person("unsure@example.com").await;
    p.up.execute_sql("UPDATE users SET email_verified_at = NULL").await;
    let refused = p.through(&p.down.browser(), &up_b, "/login/upstream/up?next=/").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.contains("has not verified your email address"));
    assert_eq!(p.down.user_count().await, 0);
}
both!(unverified_email, unverified_upstream_email_is_refused);

/// `trust_email_verified = false`: even a verified upstream address creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_upstream_creates_nothing() {
    let p = Pair::start(Backend::Sqlite, |u| u.trust_email_verified = false).await.unwrap();
    let up_b = p.upstream_person("trust@example.com").await;
    let refused = p.through(&p.down.browser(), &up_b, "/login/upstream/up?next=/").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(p.down.user_count().await, 0);
}

/// A service that refuses federated-only identities shows the explanation
/// page (and `interaction_required` to prompt=none); after a password is
/// set through Forgot password, the same identity is let in.
async fn policy_client_until_password_is_set(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    let down_b = federated_person(&p, "policy@example.com").await;
    let campus_secret = add(&p.down, spec("campus", CAMPUS)).await;
    let mut warehouse = spec("warehouse", WAREHOUSE);
    warehouse.accepts_federated_only = false;
    let warehouse_secret = add(&p.down, warehouse).await;
    let campus = Rp::new(&p.down, "campus", campus_secret, CAMPUS).await;
    let wh = Rp::new(&p.down, "warehouse", warehouse_secret, WAREHOUSE).await;

    let started = campus.start(&["openid", "offline_access"]);
    let back = location(&authorize(&down_b, &started.url).await);
    let (token, _) = campus.exchange(&code_from(&back, &started, &p.down.url), started).await;
    // Campus changes its policy: the person's refresh token stops working there too.
    let state = p.down.state();
    let mut stricter = spec("campus", CAMPUS);
    stricter.accepts_federated_only = false;
    update(&state.db, &state.secret_key, &stricter, SecretChange::Keep, state.clock.now()).await.unwrap();
    // A running server sees client changes within `client_cache_seconds`; this test wants them now.
    state.provider.forget_clients();
    let refresh = token.refresh_token().unwrap().secret();
    assert_eq!(campus.refresh(refresh).await.unwrap_err(), "invalid_grant");
    stricter.accepts_federated_only = true;
    update(&state.db, &state.secret_key, &stricter, SecretChange::Keep, state.clock.now()).await.unwrap();
    state.provider.forget_clients();
    assert!(campus.refresh(refresh).await.is_ok(), "it was the policy, and the refused refresh used nothing up");

    let started = wh.start(&["openid"]);
    let refused = down_b.get_url(&started.url).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.contains("Warehouse") || refused.contains("warehouse service"), "{}", refused.body);
    assert!(refused.contains("needs a Tunnus password"), "{}", refused.body);
    assert!(refused.contains("href=\"/password/forgot\""), "offers Forgot password?");
    let silent = location(&authorize(&down_b, &format!("{}&prompt=none", started.url)).await);
    assert_eq!(query(&silent)["error"], "interaction_required", "{silent}");

    // Forgot password → reset link → a password of their own.
    let n = p.down.emails_to("policy@example.com").len();
    let sent = down_b.submit("/password/forgot", &[("email", "policy@example.com")]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let link = p.down.wait_for_email("policy@example.com", n + 1).await.link_path();
    let set = set_password(&down_b, &link, GOOD_PASSWORD).await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    if down_b.get("/profile").await.status != StatusCode::OK {
        sign_in(&down_b, "policy@example.com", GOOD_PASSWORD).await;
    }
    let started = wh.start(&["openid"]);
    let back = location(&authorize(&down_b, &started.url).await);
    let code = code_from(&back, &started, &p.down.url);
    let (_, claims) = wh.exchange(&code, started).await;
    let user = p.down_user("policy@example.com").await.unwrap();
    assert_eq!(claims.subject().as_str(), user.id.as_str(), "the same identity");
    assert_eq!(p.links(&user.id).await.len(), 1, "the upstream link stays");
}
both!(policy_client, policy_client_until_password_is_set);

/// Unlinking the only way to sign in is refused; with a password it works.
/// A signed-in person links an upstream account from the profile.
async fn unlink_keeps_a_way_to_sign_in(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    let fed_b = federated_person(&p, "only@example.com").await;
    let only = p.down_user("only@example.com").await.unwrap();
    let profile = fed_b.get("/profile").await;
    assert!(!profile.contains("id=\"unlink-up\""), "no unlink button for the last way");
    let refused = fed_b.post("/profile/upstreams/up/unlink", &[("csrf", &profile.csrf())]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.contains("only way to sign in"));
    assert_eq!(p.links(&only.id).await.len(), 1);

    // A person with a password links from the profile, then may unlink.
    verified_account(&p.down, "pw@example.com").await;
    let down_b = p.down.browser();
    sign_in(&down_b, "pw@example.com", GOOD_PASSWORD).await;
    let up_b = p.upstream_person("someone-else@example.com").await;
    let profile = down_b.get("/profile").await;
    assert!(profile.contains("id=\"link-up\""), "{}", profile.body);
    let go = down_b.post("/profile/upstreams/up/link", &[("csrf", &profile.csrf())]).await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let back = location(&authorize(&up_b, &go.location.unwrap()).await);
    let linked = down_b.get_url(&back).await;
    assert_eq!(linked.location.as_deref(), Some("/profile#linked-accounts"), "{}", linked.body);
    let pw = p.down_user("pw@example.com").await.unwrap();
    assert_eq!(p.links(&pw.id).await[0].email.as_deref(), Some("someone-else@example.com"));
    let profile = down_b.get("/profile").await;
    assert!(profile.contains("id=\"unlink-up\""));
    let unlinked = down_b.post("/profile/upstreams/up/unlink", &[("csrf", &profile.csrf())]).await;
    assert_eq!(unlinked.status, StatusCode::SEE_OTHER);
    assert!(p.links(&pw.id).await.is_empty());
    assert!(p.audit_kinds().await.iter().any(|k| k == "federation.unlinked"));

    // An upstream account linked to another identity cannot be linked here too.
    let only_up = p.up.browser();
    sign_in(&only_up, "only@example.com", GOOD_PASSWORD).await;
    let profile = down_b.get("/profile").await;
    let go = down_b.post("/profile/upstreams/up/link", &[("csrf", &profile.csrf())]).await;
    let back = location(&authorize(&only_up, &go.location.unwrap()).await);
    let taken = down_b.get_url(&back).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);
    assert!(p.links(&pw.id).await.is_empty());
    assert_eq!(p.links(&only.id).await.len(), 1);
}
both!(unlink, unlink_keeps_a_way_to_sign_in);

/// An identity without a password confirms changing its address or deleting
/// itself by a recent sign-in (through its upstream) instead: ten minutes
/// after signing in, both are refused with a page saying to sign in again;
/// right after a new round trip, both go ahead. The password field is not
/// shown to someone who has none.
async fn a_recent_sign_in_confirms_for_an_identity_without_password(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    let (down_b, up_b) = federated_person_and_upstream(&p, "nopw@example.com").await;
    let profile = down_b.get("/profile").await;
    assert!(!profile.contains("id=\"delete_password\"") && !profile.contains("id=\"email_password\""));
    assert!(profile.contains("within the last 10 minutes"), "{}", profile.body);
    assert!(profile.contains("href=\"/login/upstream/up?next=/profile\""), "a way to sign in again");

    p.down.clock.advance(time::Duration::minutes(11));
    let csrf = profile.csrf();
    let change = [("csrf", csrf.as_str()), ("new_email", "moved@example.com"), ("password", "")];
    let refused = down_b.post("/profile/email", &change).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.text_of("#email-problem").contains("Sign in again"), "{}", refused.text_of("#email-problem"));
    let delete = [("csrf", csrf.as_str()), ("password", ""), ("confirm", "yes")];
    let refused = down_b.post("/profile/delete", &delete).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.text_of("#delete-problem").contains("Sign in again"));
    assert!(p.down_user("nopw@example.com").await.is_some(), "nothing deleted");
    assert!(p.down.emails_to("moved@example.com").is_empty(), "nothing sent");

    // Signing in again through the upstream confirms both.
    let again = p.through(&down_b, &up_b, "/login/upstream/up?next=/profile").await;
    assert_eq!(again.location.as_deref(), Some("/profile"), "{}", again.body);
    let csrf = down_b.get("/profile").await.csrf();
    let change = [("csrf", csrf.as_str()), ("new_email", "moved@example.com"), ("password", "")];
    let sent = down_b.post("/profile/email", &change).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    p.down.wait_for_email("moved@example.com", 1).await;
    let delete = [("csrf", csrf.as_str()), ("password", ""), ("confirm", "yes")];
    let deleted = down_b.post("/profile/delete", &delete).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert!(p.down_user("nopw@example.com").await.is_none());
}
both!(recent_sign_in_confirms, a_recent_sign_in_confirms_for_an_identity_without_password);

/// Tampered, replayed or foreign state, a wrong nonce, the upstream's
/// `error=`, an unknown or unreachable upstream: each a readable page.
async fn bad_callbacks_are_readable_pages(backend: Backend) {
    let Some(p) = Pair::start(backend, |_| {}).await else { return };
    let up_b = p.upstream_person("edge@example.com").await;
    let down_b = p.down.browser();
    let cb = |q: &str| format!("/login/upstream/up/callback?{q}");

    let tampered = down_b.get(&cb("state=made-up&code=abc")).await;
    assert_eq!(tampered.status, StatusCode::BAD_REQUEST);
    assert!(tampered.contains("unknown, has expired or was already used"), "{}", tampered.body);
    assert_eq!(down_b.get(&cb("")).await.status, StatusCode::BAD_REQUEST);

    // Replayed: the first use works, the second does not.
    let back = p.to_callback(&down_b, &up_b, "/login/upstream/up?next=/").await;
    assert_eq!(down_b.get_url(&back).await.status, StatusCode::SEE_OTHER);
    assert_eq!(down_b.get_url(&back).await.status, StatusCode::BAD_REQUEST, "replay");

    // Planted in another browser (login CSRF): refused there.
    let back = p.to_callback(&down_b, &up_b, "/login/upstream/up?next=/").await;
    let other = p.down.browser();
    assert_eq!(other.get_url(&back).await.status, StatusCode::BAD_REQUEST);

    // The upstream answers error=access_denied.
    let go = down_b.get("/login/upstream/up").await.location.unwrap();
    let state = query(&go)["state"].clone();
    let denied = down_b
        .get(&format!("/login/upstream/up/callback?error=access_denied&error_description=cancelled&state={state}"))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.contains("did not sign you in"));

    // A code issued for another nonce: the ID token is refused.
    let go = down_b.get("/login/upstream/up").await.location.unwrap();
    let mut url = url::Url::parse(&go).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "nonce" { "another-nonce".to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let back = location(&authorize(&up_b, url.as_str()).await);
    let bad_nonce = down_b.get_url(&back).await;
    assert_eq!(bad_nonce.status, StatusCode::BAD_GATEWAY, "{}", bad_nonce.body);
    assert!(bad_nonce.contains("could not be verified"));

    let unknown = down_b.get("/login/upstream/nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // Only one identity came of all this (the one successful round trip).
    assert_eq!(p.down.user_count().await, 1);
}
both!(bad_callbacks, bad_callbacks_are_readable_pages);

/// An upstream that cannot be reached: a page saying so, quickly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_gives_a_page() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::start(Backend::Sqlite, |c| {
        c.upstreams = vec![UpstreamConfig {
            id: "gone".into(),
            name: "Gone".into(),
            issuer: format!("http://127.0.0.1:{closed}"),
            client_id: "x".into(),
            client_secret: "y".into(),
            scopes: vec!["openid".into(), "email".into()],
            trust_email_verified: true,
        }]
    })
    .await
    .unwrap();
    let b = app.browser();
    assert!(b.get("/login").await.contains("Sign in with Gone"));
    let started = std::time::Instant::now();
    let page = b.get("/login/upstream/gone?next=/").await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY, "{}", page.body);
    assert!(page.contains("cannot be reached"));
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}
