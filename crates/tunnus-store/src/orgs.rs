//! Organizations, memberships, groups, licenses and platform administrators,
//! and the loading of one person's access facts.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::access::{AccessFacts, GrantFact, Holder, MembershipFact, MembershipKind, Role};

use crate::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::{
    entitlement_grants, entitlements, memberships, organizations, platform_admins, user_group_members, user_groups,
    users,
};
use crate::time_conv::{from_db, to_db};

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Creates an organization; a taken name is a `Conflict`.
pub fn create_org(conn: &mut DbConnection, name: &str, now: OffsetDateTime) -> StoreResult<String> {
    let id = new_id();
    diesel::insert_into(organizations::table)
        .values((organizations::id.eq(&id), organizations::name.eq(name), organizations::created_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(id)
}

/// (id, name) of the organization called `name` (or with that id).
pub fn find_org(conn: &mut DbConnection, name_or_id: &str) -> StoreResult<Option<(String, String)>> {
    Ok(organizations::table
        .filter(organizations::name.eq(name_or_id).or(organizations::id.eq(name_or_id)))
        .select((organizations::id, organizations::name))
        .get_result(conn)
        .optional()?)
}

pub fn list_orgs(conn: &mut DbConnection) -> StoreResult<Vec<(String, String)>> {
    Ok(organizations::table
        .order(organizations::name.asc())
        .select((organizations::id, organizations::name))
        .load(conn)?)
}

/// Adds a membership. A second internal membership of one person is a
/// `Conflict` from the database's unique index.
pub fn add_membership(
    conn: &mut DbConnection,
    org_id: &str,
    user_id: &str,
    kind: MembershipKind,
    role: Role,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::organization_id.eq(org_id),
            memberships::user_id.eq(user_id),
            memberships::kind.eq(kind.as_str()),
            memberships::role.eq(role.as_str()),
            memberships::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn remove_membership(conn: &mut DbConnection, org_id: &str, user_id: &str) -> StoreResult<bool> {
    // Leaving an organization also leaves its groups.
    let group_ids: Vec<String> =
        user_groups::table.filter(user_groups::organization_id.eq(org_id)).select(user_groups::id).load(conn)?;
    diesel::delete(
        user_group_members::table
            .filter(user_group_members::user_id.eq(user_id))
            .filter(user_group_members::group_id.eq_any(&group_ids)),
    )
    .execute(conn)?;
    Ok(diesel::delete(memberships::table.find((org_id, user_id))).execute(conn)? == 1)
}

pub fn set_role(conn: &mut DbConnection, org_id: &str, user_id: &str, role: Role) -> StoreResult<bool> {
    Ok(diesel::update(memberships::table.find((org_id, user_id)))
        .set(memberships::role.eq(role.as_str()))
        .execute(conn)?
        == 1)
}

pub fn create_group(conn: &mut DbConnection, org_id: &str, name: &str, now: OffsetDateTime) -> StoreResult<String> {
    let id = new_id();
    diesel::insert_into(user_groups::table)
        .values((
            user_groups::id.eq(&id),
            user_groups::organization_id.eq(org_id),
            user_groups::name.eq(name),
            user_groups::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn find_group(conn: &mut DbConnection, org_id: &str, name: &str) -> StoreResult<Option<String>> {
    Ok(user_groups::table
        .filter(user_groups::organization_id.eq(org_id))
        .filter(user_groups::name.eq(name))
        .select(user_groups::id)
        .get_result(conn)
        .optional()?)
}

pub fn add_group_member(conn: &mut DbConnection, group_id: &str, user_id: &str) -> StoreResult<()> {
    diesel::insert_into(user_group_members::table)
        .values((user_group_members::group_id.eq(group_id), user_group_members::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}

/// The group `group_id` if it belongs to `org_id`: its name.
pub fn group_in(conn: &mut DbConnection, org_id: &str, group_id: &str) -> StoreResult<Option<String>> {
    Ok(user_groups::table
        .filter(user_groups::organization_id.eq(org_id))
        .filter(user_groups::id.eq(group_id))
        .select(user_groups::name)
        .get_result(conn)
        .optional()?)
}

/// Email addresses of a group's members, in order.
pub fn group_member_emails(conn: &mut DbConnection, group_id: &str) -> StoreResult<Vec<String>> {
    Ok(user_group_members::table
        .inner_join(users::table.on(users::id.eq(user_group_members::user_id)))
        .filter(user_group_members::group_id.eq(group_id))
        .order(users::email.asc())
        .select(users::email)
        .load(conn)?)
}

pub fn remove_group_member(conn: &mut DbConnection, group_id: &str, user_id: &str) -> StoreResult<bool> {
    let n = diesel::delete(
        user_group_members::table
            .filter(user_group_members::group_id.eq(group_id))
            .filter(user_group_members::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n > 0)
}

/// The entitlement catalogue: (name, description, content), by name.
pub fn entitlement_catalogue(conn: &mut DbConnection) -> StoreResult<Vec<(String, String, bool)>> {
    Ok(entitlements::table
        .order(entitlements::name.asc())
        .select((entitlements::name, entitlements::description, entitlements::content))
        .load(conn)?)
}

/// Adds or describes an entitlement in the catalogue.
pub fn define_entitlement(conn: &mut DbConnection, name: &str, description: &str, content: bool) -> StoreResult<()> {
    let updated = diesel::update(entitlements::table.find(name))
        .set((entitlements::description.eq(description), entitlements::content.eq(content)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(entitlements::table)
            .values((
                entitlements::name.eq(name),
                entitlements::description.eq(description),
                entitlements::content.eq(content),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn entitlement_exists(conn: &mut DbConnection, name: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(entitlements::table.find(name))).get_result(conn)?)
}

/// Who a license is granted to.
#[derive(Debug, Clone)]
pub enum GrantTo {
    Organization(String),
    Group(String),
    User(String),
}

/// Grants a license; returns its id.
pub fn grant(
    conn: &mut DbConnection,
    entitlement: &str,
    to: &GrantTo,
    include_external: bool,
    valid_from: Option<OffsetDateTime>,
    valid_until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> StoreResult<String> {
    let id = new_id();
    let (org, group, user) = match to {
        GrantTo::Organization(o) => (Some(o.as_str()), None, None),
        GrantTo::Group(g) => (None, Some(g.as_str()), None),
        GrantTo::User(u) => (None, None, Some(u.as_str())),
    };
    diesel::insert_into(entitlement_grants::table)
        .values((
            entitlement_grants::id.eq(&id),
            entitlement_grants::entitlement.eq(entitlement),
            entitlement_grants::organization_id.eq(org),
            entitlement_grants::group_id.eq(group),
            entitlement_grants::user_id.eq(user),
            entitlement_grants::include_external.eq(include_external),
            entitlement_grants::valid_from.eq(valid_from.map(to_db)),
            entitlement_grants::valid_until.eq(valid_until.map(to_db)),
            entitlement_grants::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Ends licenses of `entitlement` held by `to`; returns how many.
pub fn revoke_grants(conn: &mut DbConnection, entitlement: &str, to: &GrantTo) -> StoreResult<usize> {
    let q = entitlement_grants::table.filter(entitlement_grants::entitlement.eq(entitlement));
    Ok(match to {
        GrantTo::Organization(o) => {
            diesel::delete(q.filter(entitlement_grants::organization_id.eq(o))).execute(conn)?
        }
        GrantTo::Group(g) => diesel::delete(q.filter(entitlement_grants::group_id.eq(g))).execute(conn)?,
        GrantTo::User(u) => diesel::delete(q.filter(entitlement_grants::user_id.eq(u))).execute(conn)?,
    })
}

pub fn grant_platform_admin(conn: &mut DbConnection, user_id: &str, now: OffsetDateTime) -> StoreResult<()> {
    diesel::delete(platform_admins::table.find(user_id)).execute(conn)?;
    diesel::insert_into(platform_admins::table)
        .values((platform_admins::user_id.eq(user_id), platform_admins::granted_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(())
}

pub fn is_platform_admin(conn: &mut DbConnection, user_id: &str) -> StoreResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(platform_admins::table.find(user_id))).get_result(conn)?)
}

/// Emails of an organization's administrators (who can grant access).
pub fn admin_emails(conn: &mut DbConnection, org_id: &str) -> StoreResult<Vec<String>> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org_id))
        .filter(memberships::role.eq(Role::Admin.as_str()))
        .order(users::email.asc())
        .select(users::email)
        .load(conn)?)
}

/// One row of the access-facts statement: `fact` says which kind of fact
/// it is (`m`embership, `g`roup, `e`ntitlement grant, `c`ontent
/// entitlement) and the other columns hold what that kind needs.
type FactRow = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<time::PrimitiveDateTime>,
    Option<time::PrimitiveDateTime>,
);

/// Everything access-rights evaluation needs about one person, read in
/// one statement (a `UNION ALL` of one branch per kind of fact) instead of
/// four: on PostgreSQL each is a round trip and a thread switch, and the
/// person's rights are read at every authorization, token exchange,
/// refresh and userinfo call. Written with diesel's query builder, not as
/// SQL text, so diesel keeps it prepared on each connection (raw SQL is
/// parsed and planned again at every use).
///
/// A grant has exactly one holder (a `CHECK` in the schema), so the three
/// grant branches never return one grant twice.
pub fn access_facts(conn: &mut DbConnection, user_id: &str) -> StoreResult<AccessFacts> {
    // Diesel's `UNION` is written per backend; the statement is the same.
    let rows: Vec<FactRow> = match conn {
        DbConnection::Postgresql(c) => access_facts_statement(user_id).load(c)?,
        DbConnection::Sqlite(c) => access_facts_statement(user_id).load(c)?,
    };
    facts_of(rows)
}

fn access_facts_statement<'a>(
    user_id: &'a str,
) -> impl diesel::query_dsl::LoadQuery<'a, diesel::PgConnection, FactRow>
+ diesel::query_dsl::LoadQuery<'a, diesel::SqliteConnection, FactRow>
+ 'a {
    use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
    let kind = |k: &'static str| k.into_sql::<Text>();
    let no_text = || None::<String>.into_sql::<Nullable<Text>>();
    let no_flag = || None::<bool>.into_sql::<Nullable<Bool>>();
    let no_time = || None::<time::PrimitiveDateTime>.into_sql::<Nullable<Timestamp>>();

    let in_orgs =
        memberships::table.inner_join(organizations::table).filter(memberships::user_id.eq(user_id)).select((
            kind("m"),
            memberships::organization_id.nullable(),
            organizations::name.nullable(),
            memberships::kind.nullable(),
            memberships::role.nullable(),
            no_flag(),
            no_time(),
            no_time(),
        ));
    let in_groups = user_group_members::table
        .inner_join(user_groups::table)
        .filter(user_group_members::user_id.eq(user_id))
        .select((
            kind("g"),
            user_groups::id.nullable(),
            user_groups::name.nullable(),
            no_text(),
            no_text(),
            no_flag(),
            no_time(),
            no_time(),
        ));
    let held = entitlement_grants::table.filter(entitlement_grants::user_id.eq(user_id)).select((
        kind("e"),
        entitlement_grants::entitlement.nullable(),
        no_text(),
        no_text(),
        no_text(),
        entitlement_grants::include_external.nullable(),
        entitlement_grants::valid_from,
        entitlement_grants::valid_until,
    ));
    let held_by_orgs = entitlement_grants::table
        .inner_join(
            memberships::table.on(entitlement_grants::organization_id.eq(memberships::organization_id.nullable())),
        )
        .filter(memberships::user_id.eq(user_id))
        .select((
            kind("e"),
            entitlement_grants::entitlement.nullable(),
            entitlement_grants::organization_id,
            no_text(),
            no_text(),
            entitlement_grants::include_external.nullable(),
            entitlement_grants::valid_from,
            entitlement_grants::valid_until,
        ));
    let held_by_groups = entitlement_grants::table
        .inner_join(
            user_group_members::table.on(entitlement_grants::group_id.eq(user_group_members::group_id.nullable())),
        )
        .filter(user_group_members::user_id.eq(user_id))
        .select((
            kind("e"),
            entitlement_grants::entitlement.nullable(),
            no_text(),
            entitlement_grants::group_id,
            no_text(),
            entitlement_grants::include_external.nullable(),
            entitlement_grants::valid_from,
            entitlement_grants::valid_until,
        ));
    let content = entitlements::table.filter(entitlements::content.eq(true)).select((
        kind("c"),
        entitlements::name.nullable(),
        no_text(),
        no_text(),
        no_text(),
        no_flag(),
        no_time(),
        no_time(),
    ));
    in_orgs.union_all(in_groups).union_all(held).union_all(held_by_orgs).union_all(held_by_groups).union_all(content)
}

fn facts_of(rows: Vec<FactRow>) -> StoreResult<AccessFacts> {
    let mut facts = AccessFacts::default();
    let text = |v: Option<String>, what: &'static str| v.ok_or_else(|| StoreError::corrupt(what));
    for (fact, a, b, c, d, include_external, valid_from, valid_until) in rows {
        match fact.as_str() {
            "m" => facts.memberships.push(MembershipFact {
                kind: c
                    .as_deref()
                    .and_then(MembershipKind::parse)
                    .ok_or_else(|| StoreError::corrupt("membership kind"))?,
                role: d.as_deref().and_then(Role::parse).ok_or_else(|| StoreError::corrupt("membership role"))?,
                org_id: text(a, "membership organization")?,
                org_name: text(b, "organization name")?,
            }),
            "g" => facts.groups.push((text(a, "group id")?, text(b, "group name")?)),
            "e" => facts.grants.push(GrantFact {
                entitlement: text(a, "grant entitlement")?,
                holder: match (b, c) {
                    (Some(org), _) => Holder::Organization(org),
                    (None, Some(group)) => Holder::Group(group),
                    (None, None) => Holder::User,
                },
                include_external: include_external.unwrap_or(false),
                valid_from: valid_from.map(from_db),
                valid_until: valid_until.map(from_db),
            }),
            "c" => facts.content.push(text(a, "content entitlement")?),
            _ => return Err(StoreError::corrupt("access fact kind")),
        }
    }
    Ok(facts)
}

/// A person's membership in one organization: (kind, role).
pub fn membership(conn: &mut DbConnection, org_id: &str, user_id: &str) -> StoreResult<Option<(MembershipKind, Role)>> {
    let row: Option<(String, String)> = memberships::table
        .find((org_id, user_id))
        .select((memberships::kind, memberships::role))
        .get_result(conn)
        .optional()?;
    row.map(|(k, r)| {
        Ok((
            MembershipKind::parse(&k).ok_or_else(|| StoreError::corrupt("membership kind"))?,
            Role::parse(&r).ok_or_else(|| StoreError::corrupt("membership role"))?,
        ))
    })
    .transpose()
}

/// The person's internal organization (id, name), if any.
pub fn internal_org_of(conn: &mut DbConnection, user_id: &str) -> StoreResult<Option<(String, String)>> {
    Ok(memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::kind.eq(MembershipKind::Internal.as_str()))
        .select((organizations::id, organizations::name))
        .get_result(conn)
        .optional()?)
}

/// Members of an organization: (email, kind, role), by email, a page at a time.
pub fn members(
    conn: &mut DbConnection,
    org_id: &str,
    search: &str,
    offset: i64,
    limit: i64,
) -> StoreResult<Vec<(String, String, String)>> {
    let pattern = format!("%{}%", search.to_ascii_lowercase().replace(['%', '_'], ""));
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(org_id))
        .filter(users::email.like(pattern))
        .order(users::email.asc())
        .offset(offset)
        .limit(limit)
        .select((users::email, memberships::kind, memberships::role))
        .load(conn)?)
}

/// Organizations where the person is an administrator: (id, name).
pub fn administered_by(conn: &mut DbConnection, user_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(memberships::role.eq(Role::Admin.as_str()))
        .order(organizations::name.asc())
        .select((organizations::id, organizations::name))
        .load(conn)?)
}

/// Groups of an organization: (id, name).
pub fn groups_of(conn: &mut DbConnection, org_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(user_groups::table
        .filter(user_groups::organization_id.eq(org_id))
        .order(user_groups::name.asc())
        .select((user_groups::id, user_groups::name))
        .load(conn)?)
}

/// Ids of every member of an organization (for the audit view).
pub fn member_ids(conn: &mut DbConnection, org_id: &str) -> StoreResult<Vec<String>> {
    Ok(memberships::table.filter(memberships::organization_id.eq(org_id)).select(memberships::user_id).load(conn)?)
}

/// The organization's own licenses: (entitlement, include_external, valid_until).
pub fn licenses_of(conn: &mut DbConnection, org_id: &str) -> StoreResult<Vec<(String, bool, Option<OffsetDateTime>)>> {
    let rows: Vec<(String, bool, Option<time::PrimitiveDateTime>)> = entitlement_grants::table
        .filter(entitlement_grants::organization_id.eq(org_id))
        .order(entitlement_grants::entitlement.asc())
        .select((
            entitlement_grants::entitlement,
            entitlement_grants::include_external,
            entitlement_grants::valid_until,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(|(e, x, u)| (e, x, u.map(from_db))).collect())
}
