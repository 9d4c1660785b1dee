use time::Duration;
use tunnus_core::access::{Holder, MembershipKind, Role, evaluate};
use tunnus_core::country::Country;
use tunnus_core::{Clock, Email, SystemClock, User, UserId, UserStatus};
use tunnus_store::orgs::{self, GrantTo};
use tunnus_store::{Db, StoreErrorKind, users};

use crate::both_backends;

async fn person(db: &Db, email: &str) -> String {
    let now = SystemClock.now();
    let u = User {
        id: UserId::new_v7(),
        email: Email::parse(email).unwrap(),
        email_verified_at: Some(now),
        password_hash: None,
        given_name: "A".into(),
        family_name: "B".into(),
        country: Country::parse("FI").unwrap(),
        preferred_language: None,
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let id = u.id.to_string();
    db.write(move |c| users::insert(c, &u)).await.unwrap();
    id
}

/// Two internal memberships accepted at the same moment: the database lets
/// exactly one through.
async fn one_internal_organization_even_under_concurrency(db: Db) {
    let now = SystemClock.now();
    let user = person(&db, "one@example.com").await;
    let a = db.write(move |c| orgs::create_org(c, "Acme", now)).await.unwrap();
    let b = db.write(move |c| orgs::create_org(c, "Beta", now)).await.unwrap();
    let dup = db.write(move |c| orgs::create_org(c, "Acme", now)).await.unwrap_err();
    assert_eq!(dup.kind(), StoreErrorKind::Conflict);
    let tasks: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .map(|org| {
            let (db, user) = (db.clone(), user.clone());
            tokio::spawn(async move {
                db.write(move |c| orgs::add_membership(c, &org, &user, MembershipKind::Internal, Role::Member, now))
                    .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => assert_eq!(e.kind(), StoreErrorKind::Conflict),
        }
    }
    assert_eq!(ok, 1, "exactly one internal membership");
    // External memberships elsewhere are fine.
    let u = user.clone();
    let g = db.write(move |c| orgs::create_org(c, "Gamma", now)).await.unwrap();
    db.write(move |c| orgs::add_membership(c, &g, &u, MembershipKind::External, Role::Member, now)).await.unwrap();
    let u = user.clone();
    let facts = db.read(move |c| orgs::access_facts(c, &u)).await.unwrap();
    assert_eq!(facts.memberships.len(), 2);
}
both_backends!(
    one_internal_organization_even_under_concurrency,
    super::one_internal_organization_even_under_concurrency
);

async fn licenses_reach_members_through_organizations_and_groups(db: Db) {
    let now = SystemClock.now();
    let user = person(&db, "lic@example.com").await;
    let (u1, u2, u3) = (user.clone(), user.clone(), user.clone());
    let org = db.write(move |c| orgs::create_org(c, "Acme", now)).await.unwrap();
    let (o1, o2, o3) = (org.clone(), org.clone(), org.clone());
    db.write(move |c| orgs::add_membership(c, &o1, &u1, MembershipKind::Internal, Role::Admin, now)).await.unwrap();
    let group = db.write(move |c| orgs::create_group(c, &o2, "Designers", now)).await.unwrap();
    let g1 = group.clone();
    db.write(move |c| {
        orgs::add_group_member(c, &g1, &u2)?;
        orgs::grant(c, "campus", &GrantTo::Organization(o3), false, None, Some(now + Duration::days(1)), now)?;
        orgs::grant(c, "model-sharing", &GrantTo::Group(g1), false, None, None, now)?;
        orgs::grant(c, "warehouse:premium", &GrantTo::User(u3), false, None, None, now)
    })
    .await
    .unwrap();
    let u = user.clone();
    let facts = db.read(move |c| orgs::access_facts(c, &u)).await.unwrap();
    // Each license once, with its holder and dates (the facts are read in
    // one statement whose branches must not overlap).
    let mut grants: Vec<_> = facts.grants.iter().map(|g| (g.entitlement.as_str(), g.holder.clone())).collect();
    grants.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        grants,
        vec![
            ("campus", Holder::Organization(org.clone())),
            ("model-sharing", Holder::Group(group.clone())),
            ("warehouse:premium", Holder::User),
        ]
    );
    let campus = facts.grants.iter().find(|g| g.entitlement == "campus").unwrap();
    assert_eq!((campus.valid_from, campus.valid_until), (None, Some(now + Duration::days(1))));
    assert!(!campus.include_external);
    assert_eq!(facts.groups, vec![(group.clone(), "Designers".to_owned())]);
    assert_eq!(facts.memberships.len(), 1);
    assert_eq!((facts.memberships[0].kind, facts.memberships[0].role), (MembershipKind::Internal, Role::Admin));
    assert!(facts.content.iter().any(|c| c == "model-sharing"), "the content entitlements: {:?}", facts.content);
    let rights = evaluate(&facts, now);
    assert!(rights.has("campus") && rights.has("model-sharing") && rights.has("warehouse:premium"));
    assert_eq!(rights.groups, vec!["Designers"]);
    assert_eq!(rights.org.as_ref().unwrap().name, "Acme");
    assert!(!evaluate(&facts, now + Duration::days(2)).has("campus"), "the license ended");
    let o = org.clone();
    assert_eq!(db.read(move |c| orgs::admin_emails(c, &o)).await.unwrap(), vec!["lic@example.com"]);
    // Leaving the organization leaves its groups and licenses behind.
    let (o, u) = (org.clone(), user.clone());
    assert!(db.write(move |c| orgs::remove_membership(c, &o, &u)).await.unwrap());
    let u = user.clone();
    let rights = evaluate(&db.read(move |c| orgs::access_facts(c, &u)).await.unwrap(), now);
    assert_eq!(rights.entitlements.iter().cloned().collect::<Vec<_>>(), vec!["warehouse:premium"]);
    assert!(rights.org.is_none() && rights.groups.is_empty());
    // Exactly one holder per license.
    let err = db
        .write(move |c| {
            use diesel::RunQueryDsl;
            diesel::sql_query("INSERT INTO entitlement_grants (id, entitlement, include_external, created_at) VALUES ('x', 'campus', FALSE, '2026-01-01 00:00:00')")
                .execute(c)
                .map_err(tunnus_store::StoreError::from)
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
}
both_backends!(
    licenses_reach_members_through_organizations_and_groups,
    super::licenses_reach_members_through_organizations_and_groups
);
