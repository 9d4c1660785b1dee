//! Invitations and the admin tool: bulk invite with every problem reported,
//! accepting from the link or the profile, leaving a company on confirmation,
//! wrong account, reuse and expiry; admins act only on their organizations.

use reqwest::StatusCode;
use time::Duration;
use tunnus_core::Email;
use tunnus_core::access::{MembershipKind, Role};
use tunnus_store::orgs;

use crate::both_backends;
use crate::support::{Browser, GOOD_PASSWORD, TestApp, sign_in, verified_account};

async fn user_id(app: &TestApp, email: &str) -> String {
    let email = Email::parse(email).unwrap();
    app.state().db.read(move |c| tunnus_store::users::find_by_email(c, &email)).await.unwrap().unwrap().id.to_string()
}

async fn org_with(app: &TestApp, name: &str, members: &[(&str, MembershipKind, Role)]) -> String {
    let mut ids = Vec::new();
    for (email, kind, role) in members {
        ids.push((user_id(app, email).await, *kind, *role));
    }
    let (name, now) = (name.to_owned(), app.state().clock.now());
    app.state()
        .db
        .write(move |c| {
            let org = orgs::create_org(c, &name, now)?;
            for (u, k, r) in &ids {
                orgs::add_membership(c, &org, u, *k, *r, now)?;
            }
            Ok(org)
        })
        .await
        .unwrap()
}

/// The link of the newest invitation email to `to` (read from the outbox).
async fn invitation_link(app: &TestApp, to: &str) -> String {
    let items = app.state().db.read(|c| tunnus_store::outbox::recent(c, "email", 1000)).await.unwrap();
    let email = items
        .into_iter()
        .filter(|i| i.recipient == to)
        .map(|i| serde_json::from_str::<tunnus_mail::RenderedEmail>(&i.payload).unwrap())
        .find(|e| e.subject.starts_with("Join "))
        .unwrap_or_else(|| panic!("no invitation email to {to}"));
    let link = email.text.split_whitespace().find(|w| w.contains("/invite?token=")).unwrap().to_owned();
    link[link.find("/invite").unwrap()..].to_owned()
}

async fn signed_in_browser(app: &TestApp, email: &str) -> Browser {
    let b = app.browser();
    assert_eq!(sign_in(&b, email, GOOD_PASSWORD).await.status, StatusCode::SEE_OTHER);
    b
}

async fn bulk_invite_and_accept(app: TestApp) {
    for e in ["boss@example.com", "rival@example.com", "worker@example.com", "member@example.com"] {
        verified_account(&app, e).await;
    }
    let acme = org_with(
        &app,
        "Acme",
        &[
            ("boss@example.com", MembershipKind::Internal, Role::Admin),
            ("member@example.com", MembershipKind::Internal, Role::Member),
        ],
    )
    .await;
    let beta = org_with(
        &app,
        "Beta",
        &[
            ("rival@example.com", MembershipKind::Internal, Role::Admin),
            ("worker@example.com", MembershipKind::Internal, Role::Member),
        ],
    )
    .await;
    let boss = signed_in_browser(&app, "boss@example.com").await;

    // Authorization: the Acme admin sees Acme only and cannot touch Beta; a plain member sees nothing.
    let index = boss.get("/admin").await;
    assert!(index.contains("Acme") && !index.contains("Beta"), "{}", index.body);
    assert_eq!(boss.get(&format!("/admin/org?id={beta}")).await.status, StatusCode::FORBIDDEN);
    let csrf = boss.get("/profile").await.csrf();
    let cross = boss
        .post("/admin/invite", &[("csrf", &csrf), ("org", &beta), ("kind", "internal"), ("emails", "x@example.com")])
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let member = signed_in_browser(&app, "member@example.com").await;
    assert_eq!(member.get("/admin").await.status, StatusCode::FORBIDDEN);
    assert_eq!(member.get(&format!("/admin/org?id={acme}")).await.status, StatusCode::FORBIDDEN);

    // 500 addresses at once, with invalid ones, duplicates and an existing member.
    let mut list: Vec<String> = (0..494).map(|i| format!("person{i}@example.com")).collect();
    list.extend(
        ["not-an-email", "a@b", "@example.com", "PERSON1@example.com", "person2@EXAMPLE.com", "member@example.com"]
            .map(String::from),
    );
    list.push("worker@example.com".into());
    let page = boss.get(&format!("/admin/org?id={acme}")).await;
    let report = boss
        .post(
            "/admin/invite",
            &[("csrf", &page.csrf()), ("org", &acme), ("kind", "internal"), ("emails", &list.join(",\n"))],
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.text_of("#invited").contains("Invited (495)"), "{}", report.text_of("#invited"));
    assert!(report.text_of("#invalid").contains("Not valid (3)"));
    assert!(report.text_of("#duplicates").contains("Given twice (2)"));
    assert!(report.text_of("#already-members").contains("Already members (1)"));
    let queued = app.state().db.read(|c| tunnus_store::outbox::recent(c, "email", 2000)).await.unwrap();
    assert_eq!(queued.iter().filter(|i| i.recipient.starts_with("person")).count(), 494);
    // Inviting again reports them as already invited.
    let again = boss
        .post(
            "/admin/invite",
            &[("csrf", &page.csrf()), ("org", &acme), ("kind", "internal"), ("emails", "person7@example.com")],
        )
        .await;
    assert!(again.text_of("#already-invited").contains("(1)"));

    // The worker (an employee of Beta) follows the link: sign-in first, then a warning that they leave Beta.
    let link = invitation_link(&app, "worker@example.com").await;
    let worker = app.browser();
    let redirect = worker.get(&link).await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert!(redirect.location.as_deref().unwrap().starts_with("/login?next=%2Finvite"));
    let login = worker.get(redirect.location.as_deref().unwrap()).await;
    let done = worker
        .post(
            "/login",
            &[
                ("csrf", &login.csrf()),
                ("email", "worker@example.com"),
                ("password", GOOD_PASSWORD),
                ("next", &login.field("next")),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some(link.as_str()));
    let page = worker.get(&link).await;
    assert!(page.text_of("#leave-warning").contains("You are an employee of Beta"), "{}", page.body);
    let id = page.field("id");
    let unconfirmed =
        worker.post("/invite/answer", &[("csrf", &page.csrf()), ("id", &id), ("decision", "accept")]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accepted = worker
        .post(
            "/invite/answer",
            &[("csrf", &page.csrf()), ("id", &id), ("decision", "accept"), ("confirm_leave", "yes")],
        )
        .await;
    assert!(accepted.contains("You joined Acme"), "{}", accepted.body);
    let profile = worker.get("/profile").await;
    assert_eq!(profile.text_of("#company"), "Acme");
    let reused = worker.get(&link).await;
    assert_eq!(reused.status, StatusCode::GONE);
    assert!(reused.contains("already accepted"));

    // Wrong account: the boss opens someone else's invitation.
    let other = invitation_link(&app, "person3@example.com").await;
    let wrong = boss.get(&other).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.contains("was sent to person3@example.com"));

    // A person who signs up later finds the invitation on the profile page and declines it.
    verified_account(&app, "person5@example.com").await;
    let p5 = signed_in_browser(&app, "person5@example.com").await;
    let profile = p5.get("/profile").await;
    assert!(profile.text_of("#invitations").contains("Acme invites you to join as an employee"), "{}", profile.body);
    let declined = p5
        .post("/invite/answer", &[("csrf", &profile.csrf()), ("id", &profile.field("id")), ("decision", "decline")])
        .await;
    assert!(declined.contains("You declined"));
    assert!(p5.get("/profile").await.text_of("#invitations").contains("No pending invitations"));

    // Admin actions: revoke an invitation, change a role, remove a member; members cannot.
    let org_page = boss.get(&format!("/admin/org?id={acme}")).await;
    assert!(org_page.text_of("#pending-invitations").contains("person8@example.com"));
    let doc = scraper::Html::parse_document(&org_page.body);
    let sel = scraper::Selector::parse("#pending-invitations tr").unwrap();
    let row = doc.select(&sel).find(|r| r.text().collect::<String>().contains("person8@example.com")).unwrap();
    let inv_id = row
        .select(&scraper::Selector::parse("input[name=id]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let link8 = invitation_link(&app, "person8@example.com").await;
    let denied = member
        .post(
            "/admin/invitation/revoke",
            &[("csrf", &member.get("/profile").await.csrf()), ("org", &acme), ("id", &inv_id)],
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let revoked =
        boss.post("/admin/invitation/revoke", &[("csrf", &org_page.csrf()), ("org", &acme), ("id", &inv_id)]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    verified_account(&app, "person8@example.com").await;
    let p8 = signed_in_browser(&app, "person8@example.com").await;
    let gone = p8.get(&link8).await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(gone.contains("withdrawn"));
    let csrf = org_page.csrf();
    assert_eq!(
        boss.post(
            "/admin/member",
            &[("csrf", &csrf), ("org", &acme), ("email", "member@example.com"), ("action", "make-admin")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        member.get(&format!("/admin/org?id={acme}")).await.status == StatusCode::OK,
        "the new admin reaches the admin tool"
    );
    assert_eq!(
        boss.post(
            "/admin/member",
            &[("csrf", &csrf), ("org", &acme), ("email", "member@example.com"), ("action", "remove")]
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        member.get(&format!("/admin/org?id={acme}")).await.status,
        StatusCode::FORBIDDEN,
        "removed, no longer an admin"
    );
    let rival = signed_in_browser(&app, "rival@example.com").await;
    let cross = rival
        .post(
            "/admin/member",
            &[
                ("csrf", &rival.get("/profile").await.csrf()),
                ("org", &acme),
                ("email", "worker@example.com"),
                ("action", "remove"),
            ],
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "another organization's admin cannot touch Acme");
    // Resend: a fresh link replaces the old one.
    let old9 = invitation_link(&app, "person9@example.com").await;
    let page = boss.get(&format!("/admin/org?id={acme}")).await;
    let doc = scraper::Html::parse_document(&page.body);
    let row = doc.select(&sel).find(|r| r.text().collect::<String>().contains("person9@example.com")).unwrap();
    let id9 = row
        .select(&scraper::Selector::parse("input[name=id]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_owned();
    let resent = boss.post("/admin/invitation/resend", &[("csrf", &page.csrf()), ("org", &acme), ("id", &id9)]).await;
    assert_eq!(resent.status, StatusCode::SEE_OTHER);
    verified_account(&app, "person9@example.com").await;
    let p9 = signed_in_browser(&app, "person9@example.com").await;
    assert_eq!(p9.get(&old9).await.status, StatusCode::NOT_FOUND, "the old link is dead");
    let mut fresh9 = None;
    for _ in 0..50 {
        let items = app.state().db.read(|c| tunnus_store::outbox::recent(c, "email", 2000)).await.unwrap();
        let links: Vec<String> = items
            .iter()
            .filter(|i| i.recipient == "person9@example.com")
            .map(|i| serde_json::from_str::<tunnus_mail::RenderedEmail>(&i.payload).unwrap())
            .filter_map(|e| e.text.split_whitespace().find(|w| w.contains("/invite?token=")).map(str::to_owned))
            .collect();
        if let Some(l) = links.into_iter().map(|l| l[l.find("/invite").unwrap()..].to_owned()).find(|l| *l != old9) {
            fresh9 = Some(l);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(p9.get(&fresh9.expect("a second invitation email")).await.status, StatusCode::OK);
    let created = boss.post("/admin/group", &[("csrf", &page.csrf()), ("org", &acme), ("name", "Designers")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    assert!(boss.get(&format!("/admin/org?id={acme}")).await.text_of("#org-groups").contains("Designers"));

    // The audit trail: Acme's admin sees Acme's events, nobody else's; Beta's admin none of Acme's.
    let audit = boss.get(&format!("/admin/audit?org={acme}")).await;
    assert_eq!(audit.status, StatusCode::OK);
    for kind in ["invitations.sent", "invitation.accepted", "invitation.revoked", "organization.member_changed"] {
        assert!(audit.text_of("#audit").contains(kind), "{kind} missing");
    }
    assert_eq!(rival.get(&format!("/admin/audit?org={acme}")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(boss.get("/admin/audit").await.status, StatusCode::FORBIDDEN, "all events are for platform admins");
    assert!(boss.get(&format!("/admin/org?id={acme}")).await.text_of("#org-licenses").contains("None"));

    // The worker leaves Acme from the profile page.
    let profile = worker.get("/profile").await;
    let left = worker.post("/profile/leave", &[("csrf", &profile.csrf()), ("org", &acme)]).await;
    assert_eq!(left.status, StatusCode::SEE_OTHER);
    assert_eq!(worker.get("/profile").await.text_of("#company"), "No company");

    // Invitations expire.
    verified_account(&app, "person6@example.com").await;
    let late = signed_in_browser(&app, "person6@example.com").await;
    let link6 = invitation_link(&app, "person6@example.com").await;
    app.clock.advance(Duration::days(15));
    let _ = late.get("/profile").await;
    let late = signed_in_browser(&app, "person6@example.com").await;
    let expired = late.get(&link6).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(expired.contains("expired"));
}
both_backends!(bulk_invite_and_accept, super::bulk_invite_and_accept);
