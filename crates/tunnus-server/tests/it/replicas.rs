//! Two replicas on one PostgreSQL and one Redis: any replica serves any
//! request, and nothing depends on landing on the same one twice.

use std::sync::Arc;

use openidconnect::OAuth2TokenResponse;
use reqwest::StatusCode;
use tunnus_core::SystemClock;
use tunnus_server::{Config, Server};
use tunnus_store::testing::{TestDatabase, redis_url, service_missing};

use crate::oidc::sign_in_at;
use crate::rp::{Rp, authorize, code_from, location, spec};
use crate::support::{Browser, GOOD_PASSWORD};

const CAMPUS: &str = "http://localhost:8081/callback";

async fn replica(db: &TestDatabase, prefix: &str, data_dir: &std::path::Path, public_url: Option<String>) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::default();
    config.listen = format!("127.0.0.1:{port}");
    // Behind a load balancer every replica has the same public URL.
    config.public_url = public_url.unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    config.database_url = Some(db.url.clone());
    config.redis_url = Some(redis_url());
    config.redis_prefix = prefix.to_owned();
    config.secret_key = Some("c2hhcmVkLXNlY3JldC1rZXktb2YtdGhlLWRlcGxveW1lbnQtMTIzNDU2Nzg=".into());
    config.data_dir = data_dir.to_owned();
    config.database.max_connections = 4;
    Server::start_on(config, Arc::new(SystemClock), listener).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_on_one_replica_single_sign_on_on_another() {
    let Some(db) = TestDatabase::postgres() else { return };
    if let Err(e) =
        tunnus_store::ephemeral::RedisStore::connect(&redis_url(), "probe:", std::time::Duration::from_secs(2)).await
    {
        service_missing("Redis", &e.to_string());
        return;
    }
    let prefix = format!("test:{}:", uuid::Uuid::now_v7().simple());
    let data_dir = std::env::temp_dir().join(format!("tunnus-replicas-{}", uuid::Uuid::now_v7().simple()));
    let one = replica(&db, &prefix, &data_dir, None).await;
    let issuer = one.url();
    let two = replica(&db, &prefix, &data_dir.join("two"), Some(issuer.clone())).await;
    let (url1, url2) = (one.url(), two.url());

    // An account made on replica 1 (its email link is followed on replica 2).
    let b1 = Browser::new(&url1);
    let page = b1
        .submit(
            "/signup",
            &[
                ("email", "rep@example.com"),
                ("given_name", "R"),
                ("family_name", "Eplica"),
                ("country", "FI"),
                ("accept_terms", "yes"),
                ("accept_privacy", "yes"),
            ],
        )
        .await;
    assert!(page.contains("Check your email"));
    let mut link = None;
    for _ in 0..100 {
        let items = one.state.db.read(|c| tunnus_store::outbox::recent(c, "email", 5)).await.unwrap();
        if let Some(item) = items.into_iter().find(|i| i.sent_at.is_some()) {
            let email: tunnus_mail::RenderedEmail = serde_json::from_str(&item.payload).unwrap();
            link = email.text.split_whitespace().find(|w| w.contains("/password/set?token=")).map(str::to_owned);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let link = link.expect("the email was sent once by one of the replicas");
    let path = &link[link.find("/password/set").unwrap()..];
    let b2 = Browser::new(&url2);
    let form = b2.get(path).await;
    assert_eq!(form.status, StatusCode::OK, "the link works on the other replica");
    let done = b2
        .post(
            "/password/set",
            &[
                ("csrf", &form.csrf()),
                ("token", &form.field("token")),
                ("password", GOOD_PASSWORD),
                ("confirm", GOOD_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);

    // A relying party; the browser signs in through replica 1.
    let state = &one.state;
    let secret = tunnus_server::services::clients::register(
        &state.db,
        &state.secret_key,
        &spec("campus", CAMPUS),
        None,
        tunnus_core::Clock::now(&SystemClock),
    )
    .await
    .unwrap()
    .1;
    let rp = Rp::new_at(&issuer, "campus", secret.clone(), CAMPUS).await;
    let browser = Browser::new(&url1);
    let started = rp.start(&["openid"]);
    let first = location(&authorize(&browser, &started.url).await);
    let back = sign_in_at(&url1, &browser, &first, "rep@example.com").await;
    let (token, _) = rp.exchange(&code_from(&back, &started, &issuer), started).await;

    // Single sign-on through replica 2: the same cookie, no page.
    let started = rp.start(&["openid"]);
    let on_two = started.url.replacen(&issuer, &url2, 1);
    let back = location(&authorize(&browser, &on_two).await);
    assert!(back.starts_with(CAMPUS), "SSO on replica 2: {back}");
    // The code issued by replica 2 is redeemed at replica 1 (the RP's token endpoint).
    let (token2, _) = rp.exchange(&code_from(&back, &started, &issuer), started).await;

    // Refresh on replica 1, then log out on replica 2: the session ends everywhere.
    let refreshed = rp.refresh(token.refresh_token().unwrap().secret()).await.unwrap();
    let home2 = Browser { base: url2.clone(), client: browser.client.clone() }.get("/").await;
    assert_eq!(home2.status, StatusCode::OK);
    let out = browser.client.post(format!("{url2}/logout")).form(&[("csrf", home2.csrf())]).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    let home1 = browser.get("/").await;
    assert_eq!(home1.location.as_deref(), Some("/login"), "signed out on replica 1 too");
    assert_eq!(rp.refresh(refreshed.refresh_token().unwrap().secret()).await.unwrap_err(), "invalid_grant");
    assert_eq!(rp.refresh(token2.refresh_token().unwrap().secret()).await.unwrap_err(), "invalid_grant");
    one.stop().await;
    two.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}
