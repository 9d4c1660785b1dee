//! The admin REST API: bearer tokens from client credentials (admin scope)
//! or administrators; the authorization matrix; errors; the OpenAPI document.

use openidconnect::OAuth2TokenResponse;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tunnus_core::access::{MembershipKind, Role};
use tunnus_core::client::GrantType;

use crate::oidc::sign_in_at;
use crate::rp::{Rp, add, authorize, code_from, location, spec};
use crate::support::{Backend, TestApp, verified_account};

const CB: &str = "http://localhost:8081/callback";

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}/api/admin/v1{path}", app.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn client_token(app: &TestApp, id: &str, scopes: &[&str]) -> String {
    let mut s = spec(id, CB);
    s.grant_types = vec![GrantType::ClientCredentials];
    s.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    let secret = add(app, s).await.unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/token", app.url))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", &scopes.join(" "))])
        .send()
        .await
        .unwrap();
    resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

async fn user_token(app: &TestApp, email: &str) -> String {
    let secret = add(app, spec(&format!("ui-{}", email.len()), CB)).await;
    let rp = Rp::new(app, &format!("ui-{}", email.len()), secret, CB).await;
    let b = app.browser();
    let started = rp.start(&["openid"]);
    let back = sign_in_at(&app.url, &b, &location(&authorize(&b, &started.url).await), email).await;
    let (token, _) = rp.exchange(&code_from(&back, &started, &app.url), started).await;
    token.access_token().secret().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_authorization_matrix() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, doc) = call(&app, get.clone(), "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/admin/v1/organizations/{id}/invitations"]["post"].is_object());

    // No token, a garbage token, a token without the admin scope.
    let (status, body) = call(&app, get.clone(), "/organizations", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    assert!(body["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(call(&app, get.clone(), "/organizations", Some("garbage"), None).await.0, StatusCode::UNAUTHORIZED);
    let plain = client_token(&app, "reporting", &["profile"]).await;
    assert_eq!(call(&app, get.clone(), "/organizations", Some(&plain), None).await.0, StatusCode::FORBIDDEN);

    // A platform-level automation client.
    let admin = client_token(&app, "automation", &["admin"]).await;
    let (status, acme) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"name": "Acme"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{acme}");
    let acme = acme["id"].as_str().unwrap().to_owned();
    let (_, beta) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"name": "Beta"}))).await;
    let beta = beta["id"].as_str().unwrap().to_owned();
    let (status, body) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"name": "acme "}))).await;
    assert!(status == StatusCode::CONFLICT || status == StatusCode::CREATED, "{status} {body}");
    let (status, body) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"name": ""}))).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, _) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"nom": "x"}))).await;
    assert!(status.is_client_error());

    for email in ["boss@example.com", "member@example.com"] {
        verified_account(&app, email).await;
    }
    let (status, m) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/members"),
        Some(&admin),
        Some(json!({"email": "BOSS@example.com", "membership": "internal", "role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["email"], "boss@example.com");
    call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/members"),
        Some(&admin),
        Some(json!({"email": "member@example.com", "membership": "internal"})),
    )
    .await;
    let (status, body) = call(
        &app,
        post.clone(),
        &format!("/organizations/{beta}/members"),
        Some(&admin),
        Some(json!({"email": "member@example.com", "membership": "internal"})),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "one internal organization");
    let (status, _) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/licenses"),
        Some(&admin),
        Some(json!({"entitlement": "warehouse:premium"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/licenses"),
        Some(&admin),
        Some(json!({"entitlement": "no-such"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An organization admin's own token: Acme yes, Beta no, platform operations no.
    let boss = user_token(&app, "boss@example.com").await;
    let (_, orgs) = call(&app, get.clone(), "/organizations", Some(&boss), None).await;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1);
    assert_eq!(orgs["items"][0]["name"], "Acme");
    let (status, members) =
        call(&app, get.clone(), &format!("/organizations/{acme}/members?limit=1"), Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    assert_eq!(members["next_offset"], 1, "paging");
    assert_eq!(
        call(&app, get.clone(), &format!("/organizations/{beta}/members"), Some(&boss), None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, post.clone(), "/organizations", Some(&boss), Some(json!({"name": "Mine"}))).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &app,
            post.clone(),
            &format!("/organizations/{acme}/licenses"),
            Some(&boss),
            Some(json!({"entitlement": "campus"}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, report) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/invitations"),
        Some(&boss),
        Some(json!({"emails": "a@example.com, bad, a@example.com, member@example.com", "kind": "external"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["invited"], json!(["a@example.com"]));
    assert_eq!(report["invalid"][0]["input"], "bad");
    assert_eq!(report["duplicates"], json!(["a@example.com"]));
    assert_eq!(report["already_members"], json!(["member@example.com"]));
    assert_eq!(
        call(
            &app,
            post.clone(),
            &format!("/organizations/{beta}/invitations"),
            Some(&boss),
            Some(json!({"emails": "x@example.com", "kind": "internal"}))
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (_, pending) = call(&app, get.clone(), &format!("/organizations/{acme}/invitations"), Some(&boss), None).await;
    let id = pending["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &format!("/organizations/{beta}/invitations/{id}"), Some(&boss), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &format!("/organizations/{acme}/invitations/{id}"), Some(&boss), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, reqwest::Method::DELETE, &format!("/organizations/{acme}/invitations/{id}"), Some(&boss), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(
            &app,
            reqwest::Method::DELETE,
            &format!("/organizations/{acme}/members/member@example.com"),
            Some(&boss),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    // A plain member has no admin API at all.
    verified_account(&app, "plain@example.com").await;
    let _ = (MembershipKind::External, Role::Member);
    let plain_user = user_token(&app, "plain@example.com").await;
    assert_eq!(call(&app, get, "/organizations", Some(&plain_user), None).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_groups_licenses_and_clients() {
    let app = TestApp::start(Backend::Sqlite, |_| {}).await.unwrap();
    let (get, post, delete) = (reqwest::Method::GET, reqwest::Method::POST, reqwest::Method::DELETE);
    let admin = client_token(&app, "automation", &["admin"]).await;
    let (_, acme) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"name": "Acme"}))).await;
    let acme = acme["id"].as_str().unwrap().to_owned();
    let (_, beta) = call(&app, post.clone(), "/organizations", Some(&admin), Some(json!({"name": "Beta"}))).await;
    let beta = beta["id"].as_str().unwrap().to_owned();
    for (email, org, role) in [("boss@example.com", &acme, "admin"), ("worker@example.com", &acme, "member")] {
        verified_account(&app, email).await;
        let body = json!({"email": email, "membership": "internal", "role": role});
        let (status, _) =
            call(&app, post.clone(), &format!("/organizations/{org}/members"), Some(&admin), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let boss = user_token(&app, "boss@example.com").await;

    // Groups: an org admin creates and lists them in their organization only.
    let (status, group) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/groups"),
        Some(&boss),
        Some(json!({"name": "Design"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_id = group["id"].as_str().unwrap().to_owned();
    let (status, body) =
        call(&app, post.clone(), &format!("/organizations/{acme}/groups"), Some(&boss), Some(json!({"name": " "})))
            .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, body) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/groups"),
        Some(&boss),
        Some(json!({"name": "x".repeat(101)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        call(&app, post.clone(), &format!("/organizations/{beta}/groups"), Some(&boss), Some(json!({"name": "Spy"})))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, groups) = call(&app, get.clone(), &format!("/organizations/{acme}/groups"), Some(&boss), None).await;
    assert_eq!(groups, json!([{"id": group_id, "name": "Design"}]));
    // Joining a group is by invitation; the person accepts, then the admin sees and removes them.
    let (status, report) = call(
        &app,
        post.clone(),
        &format!("/organizations/{acme}/invitations"),
        Some(&boss),
        Some(json!({"emails": "worker@example.com", "kind": "group", "group_id": group_id})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let invitation = app
        .state()
        .db
        .read(|c| {
            tunnus_store::invitations::pending_for_email(c, "worker@example.com", time::OffsetDateTime::now_utc())
        })
        .await
        .unwrap()
        .remove(0);
    let b = app.browser();
    crate::support::sign_in(&b, "worker@example.com", crate::support::GOOD_PASSWORD).await;
    let profile = b.get("/profile").await;
    let answer =
        b.post("/invite/answer", &[("csrf", &profile.csrf()), ("id", &invitation.id), ("decision", "accept")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let members_path = format!("/organizations/{acme}/groups/{group_id}/members");
    let (status, members) = call(&app, get.clone(), &members_path, Some(&boss), None).await;
    assert_eq!((status, members), (StatusCode::OK, json!(["worker@example.com"])));
    assert_eq!(
        call(&app, get.clone(), &format!("/organizations/{beta}/groups/{group_id}/members"), Some(&boss), None).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, body) =
        call(&app, get.clone(), &format!("/organizations/{acme}/groups/nope/members"), Some(&boss), None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    assert_eq!(
        call(&app, delete.clone(), &format!("{members_path}/WORKER@example.com"), Some(&boss), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, delete.clone(), &format!("{members_path}/worker@example.com"), Some(&boss), None).await.0,
        StatusCode::NOT_FOUND,
        "already out"
    );
    assert_eq!(
        call(&app, delete.clone(), &format!("{members_path}/not-an-address"), Some(&boss), None).await.0,
        StatusCode::BAD_REQUEST
    );

    // Licenses: platform grants (to the organization or one of its groups) and ends; the org admin reads.
    let licenses = format!("/organizations/{acme}/licenses");
    let body = json!({"entitlement": "warehouse:premium", "valid_until": "2099-01-01T00:00:00Z"});
    assert_eq!(call(&app, post.clone(), &licenses, Some(&admin), Some(body)).await.0, StatusCode::CREATED);
    let body = json!({"entitlement": "campus", "group": "Design"});
    assert_eq!(call(&app, post.clone(), &licenses, Some(&admin), Some(body)).await.0, StatusCode::CREATED);
    let body = json!({"entitlement": "campus", "group": "No such group"});
    assert_eq!(call(&app, post.clone(), &licenses, Some(&admin), Some(body)).await.0, StatusCode::NOT_FOUND);
    let body = json!({"entitlement": "campus", "valid_until": "tomorrow"});
    assert_eq!(call(&app, post.clone(), &licenses, Some(&admin), Some(body)).await.0, StatusCode::BAD_REQUEST);
    let (status, listed) = call(&app, get.clone(), &licenses, Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["entitlement"], "warehouse:premium");
    assert_eq!(listed[0]["valid_until"], "2099-01-01T00:00:00Z");
    assert_eq!(listed.as_array().unwrap().len(), 1, "the group's license is not the organization's: {listed}");
    assert_eq!(
        call(&app, get.clone(), &format!("/organizations/{beta}/licenses"), Some(&boss), None).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&app, delete.clone(), &format!("{licenses}/warehouse:premium"), Some(&boss), None).await.0,
        StatusCode::FORBIDDEN,
        "organization admins do not end licenses"
    );
    assert_eq!(
        call(&app, delete.clone(), &format!("{licenses}/warehouse:premium"), Some(&admin), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&app, delete.clone(), &format!("{licenses}/warehouse:premium"), Some(&admin), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(call(&app, get.clone(), &licenses, Some(&boss), None).await.1, json!([]));

    // Clients: platform only, never a secret.
    let (status, clients) = call(&app, get.clone(), "/clients", Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    let automation = clients.as_array().unwrap().iter().find(|c| c["client_id"] == "automation").unwrap();
    assert_eq!(automation["grant_types"], json!(["client_credentials"]));
    assert_eq!(automation["accepts_federated_only"], true);
    assert!(!clients.to_string().contains("secret"), "{clients}");
    assert_eq!(call(&app, get.clone(), "/clients", Some(&boss), None).await.0, StatusCode::FORBIDDEN);
    let (_, doc) = call(&app, get, "/openapi.json", None, None).await;
    for path in [
        "/api/admin/v1/organizations/{id}/groups",
        "/api/admin/v1/organizations/{id}/groups/{group}/members/{email}",
        "/api/admin/v1/organizations/{id}/licenses/{entitlement}",
        "/api/admin/v1/clients",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
}
