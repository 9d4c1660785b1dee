//! Organizations, memberships, groups and licenses — and the one function
//! that turns them into a person's access rights. Rights are evaluated from
//! these facts at every authorization and refresh, never cached in a
//! session, so a removed member or an ended license takes effect at once.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The entitlement that, held by an organization, grants all online content.
pub const MAINTENANCE_CONTRACT: &str = "maintenance";

/// How a person belongs to an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipKind {
    /// An employee: at most one organization at a time (the "Company").
    Internal,
    /// E.g. a subcontractor: gets only what is shared with them.
    External,
}

impl MembershipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::External => "external",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "internal" => Some(Self::Internal),
            "external" => Some(Self::External),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// One membership of the person, with its organization's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipFact {
    pub org_id: String,
    pub org_name: String,
    pub kind: MembershipKind,
    pub role: Role,
}

/// Who holds a license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Organization(String),
    Group(String),
    User,
}

/// A license held by the person, one of their groups, or one of their organizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantFact {
    pub entitlement: String,
    pub holder: Holder,
    /// An organization's license also reaches its external members.
    pub include_external: bool,
    pub valid_from: Option<OffsetDateTime>,
    pub valid_until: Option<OffsetDateTime>,
}

/// Everything evaluation needs about one person.
#[derive(Debug, Clone, Default)]
pub struct AccessFacts {
    pub memberships: Vec<MembershipFact>,
    /// (group id, group name) of the groups the person is in.
    pub groups: Vec<(String, String)>,
    pub grants: Vec<GrantFact>,
    /// Entitlements marked as online content (what a maintenance contract grants).
    pub content: Vec<String>,
}

/// The `org` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgClaim {
    pub id: String,
    pub name: String,
    pub membership: MembershipKind,
    pub role: Role,
}

/// A person's access rights now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRights {
    /// The internal organization (the Company), or else the first external one.
    pub org: Option<OrgClaim>,
    pub groups: Vec<String>,
    pub entitlements: BTreeSet<String>,
}

impl AccessRights {
    pub fn has(&self, entitlement: &str) -> bool {
        self.entitlements.contains(entitlement)
    }
}

fn valid(g: &GrantFact, now: OffsetDateTime) -> bool {
    g.valid_from.is_none_or(|f| f <= now) && g.valid_until.is_none_or(|u| now < u)
}

/// Evaluates access rights at `now`.
///
/// - Licenses held by the person or by a group they are in always apply.
/// - An organization's licenses apply to its internal members; to external
///   members only when the license says so (`include_external`).
/// - A maintenance contract on an organization grants every content
///   entitlement to whoever the contract itself reaches.
pub fn evaluate(facts: &AccessFacts, now: OffsetDateTime) -> AccessRights {
    let mut entitlements = BTreeSet::new();
    for g in facts.grants.iter().filter(|g| valid(g, now)) {
        let reaches = match &g.holder {
            Holder::User => true,
            Holder::Group(id) => facts.groups.iter().any(|(gid, _)| gid == id),
            Holder::Organization(org) => facts
                .memberships
                .iter()
                .any(|m| &m.org_id == org && (m.kind == MembershipKind::Internal || g.include_external)),
        };
        if !reaches {
            continue;
        }
        if g.entitlement == MAINTENANCE_CONTRACT && matches!(g.holder, Holder::Organization(_)) {
            entitlements.extend(facts.content.iter().cloned());
        }
        entitlements.insert(g.entitlement.clone());
    }
    let mut memberships: Vec<&MembershipFact> = facts.memberships.iter().collect();
    memberships.sort_by(|a, b| {
        (a.kind != MembershipKind::Internal, &a.org_name).cmp(&(b.kind != MembershipKind::Internal, &b.org_name))
    });
    let org = memberships.first().map(|m| OrgClaim {
        id: m.org_id.clone(),
        name: m.org_name.clone(),
        membership: m.kind,
        role: m.role,
    });
    let mut groups: Vec<String> = facts.groups.iter().map(|(_, n)| n.clone()).collect();
    groups.sort();
    AccessRights { org, groups, entitlements }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn member(org: &str, kind: MembershipKind) -> MembershipFact {
        MembershipFact { org_id: org.into(), org_name: format!("{org} Oy"), kind, role: Role::Member }
    }

    fn grant(e: &str, holder: Holder) -> GrantFact {
        GrantFact { entitlement: e.into(), holder, include_external: false, valid_from: None, valid_until: None }
    }

    #[test]
    fn internal_members_get_the_organizations_licenses_externals_only_shared_ones() {
        let now = OffsetDateTime::now_utc();
        let mut facts = AccessFacts {
            memberships: vec![member("acme", MembershipKind::Internal)],
            grants: vec![grant("campus", Holder::Organization("acme".into()))],
            ..Default::default()
        };
        assert!(evaluate(&facts, now).has("campus"));
        facts.memberships = vec![member("acme", MembershipKind::External)];
        assert!(!evaluate(&facts, now).has("campus"));
        facts.grants[0].include_external = true;
        assert!(evaluate(&facts, now).has("campus"));
        let rights = evaluate(&facts, now);
        assert_eq!(rights.org.unwrap().membership, MembershipKind::External);
    }

    #[test]
    fn maintenance_contract_grants_all_content() {
        let now = OffsetDateTime::now_utc();
        let facts = AccessFacts {
            memberships: vec![member("acme", MembershipKind::Internal)],
            grants: vec![grant(MAINTENANCE_CONTRACT, Holder::Organization("acme".into()))],
            content: vec!["campus".into(), "warehouse:premium".into()],
            ..Default::default()
        };
        let rights = evaluate(&facts, now);
        assert!(rights.has("campus") && rights.has("warehouse:premium") && rights.has(MAINTENANCE_CONTRACT));
    }

    #[test]
    fn licenses_have_validity_and_groups_and_persons_hold_them_too() {
        let now = OffsetDateTime::now_utc();
        let mut expired = grant("old", Holder::User);
        expired.valid_until = Some(now - Duration::days(1));
        let mut future = grant("soon", Holder::User);
        future.valid_from = Some(now + Duration::days(1));
        let facts = AccessFacts {
            memberships: vec![member("acme", MembershipKind::Internal), member("beta", MembershipKind::External)],
            groups: vec![("g1".into(), "Designers".into())],
            grants: vec![
                expired,
                future,
                grant("mine", Holder::User),
                grant("model-sharing", Holder::Group("g1".into())),
                grant("other-group", Holder::Group("g2".into())),
            ],
            ..Default::default()
        };
        let rights = evaluate(&facts, now);
        assert_eq!(rights.entitlements.iter().cloned().collect::<Vec<_>>(), vec!["mine", "model-sharing"]);
        assert_eq!(rights.groups, vec!["Designers"]);
        assert_eq!(rights.org.unwrap().id, "acme", "the internal organization is the Company");
    }
}
