//! The platform administrators' part of the admin tool: organizations,
//! licenses (maintenance contract included) and the client list — and an
//! organization admin refused on each of them.

use reqwest::StatusCode;
use tunnus_core::access::{MembershipKind, Role};

use crate::both_backends;
use crate::support::{Browser, GOOD_PASSWORD, TestApp, sign_in, verified_account};

async fn signed_in(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    assert_eq!(sign_in(&b, email, GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    b
}

async fn rights(app: &TestApp, email: &str) -> Vec<String> {
    let now = app.state().clock.now();
    let r = tunnus_server::services::orgs::access_rights_of(&app.state().db, email, now).await.unwrap();
    r.entitlements.into_iter().collect()
}

async fn platform_admin_tool(app: TestApp) {
    for e in ["root@example.com", "boss@example.com", "worker@example.com"] {
        verified_account(&app, e).await;
    }
    let now = app.state().clock.now();
    tunnus_server::services::orgs::grant_platform_admin(&app.state().db, "root@example.com", now).await.unwrap();
    let root = signed_in(&app, "root@example.com").await;
    let boss = signed_in(&app, "boss@example.com").await;

    // Create an organization; a blank or taken name is explained on the page.
    let index = root.get("/admin").await;
    assert_eq!(index.status, StatusCode::OK);
    let created = root.post("/admin/organizations", &[("csrf", &index.csrf()), ("name", " Acme ")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let org_page = created.location.unwrap();
    let acme = org_page.split("id=").nth(1).unwrap().to_owned();
    for (name, message) in [("Acme", "exists already"), ("   ", "1–100 characters"), ("a\u{0}b", "control")] {
        let refused = root.post("/admin/organizations", &[("csrf", &index.csrf()), ("name", name)]).await;
        let page = root.get(&refused.location.unwrap()).await;
        assert!(page.text_of("[role=alert]").contains(message), "{name:?}: {}", page.body);
    }
    let svc = tunnus_server::services::orgs::add_member;
    svc(&app.state().db, &acme, "boss@example.com", MembershipKind::Internal, Role::Admin, now).await.unwrap();
    svc(&app.state().db, &acme, "worker@example.com", MembershipKind::Internal, Role::Member, now).await.unwrap();

    // Grant the maintenance contract (all content) and a dated license; end one.
    let page = root.get(&org_page).await;
    assert!(page.body.contains("id=\"license-form\""), "platform admins see the license form");
    let csrf = page.csrf();
    let grant = |entitlement: &'static str, until: &'static str| {
        let (root, csrf, acme) = (&root, csrf.clone(), acme.clone());
        async move {
            root.post(
                "/admin/license",
                &[
                    ("csrf", &csrf),
                    ("org", &acme),
                    ("entitlement", entitlement),
                    ("valid_until", until),
                    ("action", "grant"),
                ],
            )
            .await
        }
    };
    assert_eq!(grant("maintenance", "").await.status, StatusCode::SEE_OTHER);
    let worker = rights(&app, "worker@example.com").await;
    assert!(worker.contains(&"campus".to_owned()) && worker.contains(&"warehouse:premium".to_owned()), "{worker:?}");
    for bad in ["2001-01-01", "31.12.2099", "2099-02-30"] {
        let refused = grant("model-sharing", bad).await;
        let page = root.get(&refused.location.unwrap()).await;
        assert!(page.text_of("#notice").contains("future"), "{bad}: {}", page.body);
    }
    assert!(!root.get(&org_page).await.text_of("#org-licenses").contains("model-sharing"), "nothing granted");
    assert_eq!(grant("no-such-entitlement", "").await.status, StatusCode::NOT_FOUND);
    assert_eq!(grant("model-sharing", "2099-12-31").await.status, StatusCode::SEE_OTHER);
    assert!(root.get(&org_page).await.text_of("#org-licenses").contains("model-sharing → 2099-12-31"));
    let end = root
        .post(
            "/admin/license",
            &[("csrf", &csrf), ("org", &acme), ("entitlement", "maintenance"), ("action", "revoke")],
        )
        .await;
    assert_eq!(end.status, StatusCode::SEE_OTHER);
    assert_eq!(rights(&app, "worker@example.com").await, vec!["model-sharing".to_owned()]);

    // Clients.
    let clients = root.get("/admin/clients").await;
    assert_eq!(clients.status, StatusCode::OK);
    assert!(clients.body.contains("id=\"clients\""));

    // The organization's own admin: manages people, but none of the platform's actions.
    let page = boss.get(&org_page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("license-form"));
    let csrf = page.csrf();
    let attempts = [
        boss.post("/admin/organizations", &[("csrf", &csrf), ("name", "Mine")]).await,
        boss.post(
            "/admin/license",
            &[("csrf", &csrf), ("org", &acme), ("entitlement", "maintenance"), ("action", "grant")],
        )
        .await,
        boss.get("/admin/clients").await,
    ];
    for attempt in attempts {
        assert_eq!(attempt.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(rights(&app, "worker@example.com").await, vec!["model-sharing".to_owned()], "nothing changed");
    assert_eq!(app.browser().get("/admin/clients").await.status, StatusCode::FORBIDDEN, "signed out");
}
both_backends!(platform_admin_tool, super::platform_admin_tool);
