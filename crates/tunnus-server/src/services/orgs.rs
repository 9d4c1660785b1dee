//! Administering organizations, memberships, groups, licenses and platform
//! administrators (for the CLI and later the admin API). Each public function
//! is one use case and one transaction: it validates its input, resolves the
//! names it is given, and either stores everything or nothing.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tunnus_core::access::{AccessRights, MembershipFact, MembershipKind, Role, evaluate};
use tunnus_core::{Email, User};
use tunnus_store::orgs::{self, GrantTo};
use tunnus_store::{Db, DbConnection, StoreError, StoreErrorKind, users};

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who a license is granted to, as an operator names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseHolder {
    /// An organization, by name or id.
    Organization(String),
    /// A group of an organization (organization by name or id, group by name).
    Group { org: String, name: String },
    /// A person, by email address.
    User(String),
}

/// Everything `tunnus user show` prints about a person.
#[derive(Debug, Clone)]
pub struct PersonOverview {
    pub user: User,
    pub platform_admin: bool,
    /// Every membership, internal first.
    pub memberships: Vec<MembershipFact>,
    /// The rights as evaluated at the time asked.
    pub rights: AccessRights,
}

const MAX_NAME: usize = 100;

/// An organization or group name: trimmed, 1–100 characters, no control characters.
fn display_name(what: &str, input: &str) -> Result<String, OrgError> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(OrgError::Invalid(format!("{what} name: 1-{MAX_NAME} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(OrgError::Invalid(format!("{what} name: no control characters")));
    }
    Ok(name.to_owned())
}

/// A group name is also written `ORG/GROUP`, so it cannot contain `/`.
fn group_name(input: &str) -> Result<String, OrgError> {
    let name = display_name("group", input)?;
    if name.contains('/') {
        return Err(OrgError::Invalid("group name: no / (it separates organization and group)".into()));
    }
    Ok(name)
}

/// An entitlement name: 1–100 of `a-z 0-9 : - _ .`.
fn entitlement_name(input: &str) -> Result<String, OrgError> {
    let name = input.trim();
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ':' | '-' | '_' | '.');
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(OrgError::Invalid(format!(
            "entitlement name {input:?}: 1-{MAX_NAME} characters of a-z 0-9 : - _ ."
        )));
    }
    Ok(name.to_owned())
}

fn email(input: &str) -> Result<Email, OrgError> {
    Email::parse(input).map_err(|e| OrgError::Invalid(format!("{input}: {e}")))
}

/// Runs `work` in one transaction. Any error — a refusal as much as a
/// storage failure — rolls back everything `work` wrote.
async fn transaction<T, F>(db: &Db, work: F) -> Result<T, OrgError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, OrgError> + Send + 'static,
{
    let refusal: Arc<Mutex<Option<OrgError>>> = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&refusal);
    let result = db
        .write(move |c| match work(c) {
            Ok(v) => Ok(v),
            Err(OrgError::Store(e)) => Err(e),
            Err(other) => {
                let message = other.to_string();
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(other);
                Err(StoreError::new(StoreErrorKind::Backend, message))
            }
        })
        .await;
    result.map_err(|e| refusal.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or(OrgError::Store(e)))
}

/// Read-only work on one connection.
async fn read<T, F>(db: &Db, work: F) -> Result<T, OrgError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, OrgError> + Send + 'static,
{
    db.read(move |c| Ok(work(c))).await?
}

/// (id, name) of an organization given by name or id.
fn resolve_org(c: &mut DbConnection, org: &str) -> Result<(String, String), OrgError> {
    let org = org.trim();
    orgs::find_org(c, org)?.ok_or_else(|| OrgError::NotFound(format!("no organization named {org}")))
}

fn resolve_user(c: &mut DbConnection, email: &Email) -> Result<User, OrgError> {
    users::find_by_email(c, email)?.ok_or_else(|| OrgError::NotFound(format!("no identity with the email {email}")))
}

/// The id of a group of an organization, and its full name `ORG/GROUP`.
fn resolve_group(
    c: &mut DbConnection,
    (org_id, org_name): &(String, String),
    group: &str,
) -> Result<(String, String), OrgError> {
    let group = group.trim();
    let id = orgs::find_group(c, org_id, group)?
        .ok_or_else(|| OrgError::NotFound(format!("organization {org_name} has no group named {group}")))?;
    Ok((id, format!("{org_name}/{group}")))
}

fn require_entitlement(c: &mut DbConnection, name: &str) -> Result<(), OrgError> {
    if orgs::entitlement_exists(c, name)? {
        Ok(())
    } else {
        Err(OrgError::NotFound(format!(
            "no entitlement named {name} in the catalogue (define it first: tunnus license define)"
        )))
    }
}

/// The store's form of a holder, and a readable name for messages.
fn resolve_holder(c: &mut DbConnection, to: &LicenseHolder) -> Result<(GrantTo, String), OrgError> {
    Ok(match to {
        LicenseHolder::Organization(org) => {
            let (id, name) = resolve_org(c, org)?;
            (GrantTo::Organization(id), format!("organization {name}"))
        }
        LicenseHolder::Group { org, name } => {
            let org = resolve_org(c, org)?;
            let (id, full) = resolve_group(c, &org, name)?;
            (GrantTo::Group(id), format!("group {full}"))
        }
        LicenseHolder::User(address) => {
            let user = resolve_user(c, &email(address)?)?;
            (GrantTo::User(user.id.to_string()), user.email.to_string())
        }
    })
}

/// Creates an organization; returns its id.
pub async fn create_organization(db: &Db, name: &str, now: OffsetDateTime) -> Result<String, OrgError> {
    let name = display_name("organization", name)?;
    transaction(db, move |c| {
        if orgs::find_org(c, &name)?.is_some() {
            return Err(OrgError::Conflict(format!("an organization named {name} exists")));
        }
        orgs::create_org(c, &name, now).map_err(|e| {
            if e.is_conflict() { OrgError::Conflict(format!("an organization named {name} exists")) } else { e.into() }
        })
    })
    .await
}

/// (id, name) of every organization, by name.
pub async fn list_organizations(db: &Db) -> Result<Vec<(String, String)>, OrgError> {
    read(db, |c| Ok(orgs::list_orgs(c)?)).await
}

/// Makes a person a member of an organization. A person is an internal
/// member of at most one organization; external memberships are unlimited.
pub async fn add_member(
    db: &Db,
    org: &str,
    email_address: &str,
    kind: MembershipKind,
    role: Role,
    now: OffsetDateTime,
) -> Result<(), OrgError> {
    let address = email(email_address)?;
    let org = org.to_owned();
    transaction(db, move |c| {
        let (org_id, org_name) = resolve_org(c, &org)?;
        let user = resolve_user(c, &address)?;
        let facts = orgs::access_facts(c, user.id.as_str())?;
        if let Some(m) = facts.memberships.iter().find(|m| m.org_id == org_id) {
            return Err(OrgError::Conflict(format!(
                "{address} is already an {} member of {org_name}",
                m.kind.as_str()
            )));
        }
        let already_internal = || {
            OrgError::Conflict(format!(
                "{address} is already an internal member of another organization (a person belongs to at most one)"
            ))
        };
        if kind == MembershipKind::Internal && facts.memberships.iter().any(|m| m.kind == MembershipKind::Internal) {
            return Err(already_internal());
        }
        orgs::add_membership(c, &org_id, user.id.as_str(), kind, role, now)
            .map_err(|e| if e.is_conflict() { already_internal() } else { e.into() })
    })
    .await
}

/// Ends a membership (and with it the person's groups in that organization).
pub async fn remove_member(db: &Db, org: &str, email_address: &str) -> Result<(), OrgError> {
    let address = email(email_address)?;
    let org = org.to_owned();
    transaction(db, move |c| {
        let (org_id, org_name) = resolve_org(c, &org)?;
        let user = resolve_user(c, &address)?;
        if orgs::remove_membership(c, &org_id, user.id.as_str())? {
            Ok(())
        } else {
            Err(OrgError::NotFound(format!("{address} is not a member of {org_name}")))
        }
    })
    .await
}

/// Changes a member's role.
pub async fn set_role(db: &Db, org: &str, email_address: &str, role: Role) -> Result<(), OrgError> {
    let address = email(email_address)?;
    let org = org.to_owned();
    transaction(db, move |c| {
        let (org_id, org_name) = resolve_org(c, &org)?;
        let user = resolve_user(c, &address)?;
        if orgs::set_role(c, &org_id, user.id.as_str(), role)? {
            Ok(())
        } else {
            Err(OrgError::NotFound(format!("{address} is not a member of {org_name}")))
        }
    })
    .await
}

/// Creates a group in an organization; returns its id.
pub async fn create_group(db: &Db, org: &str, name: &str, now: OffsetDateTime) -> Result<String, OrgError> {
    let name = group_name(name)?;
    let org = org.to_owned();
    transaction(db, move |c| {
        let (org_id, org_name) = resolve_org(c, &org)?;
        let exists = || OrgError::Conflict(format!("organization {org_name} already has a group named {name}"));
        if orgs::find_group(c, &org_id, &name)?.is_some() {
            return Err(exists());
        }
        orgs::create_group(c, &org_id, &name, now).map_err(|e| if e.is_conflict() { exists() } else { e.into() })
    })
    .await
}

/// Puts a member of an organization into one of its groups.
pub async fn add_to_group(db: &Db, org: &str, group: &str, email_address: &str) -> Result<(), OrgError> {
    let address = email(email_address)?;
    let (org, group) = (org.to_owned(), group.to_owned());
    transaction(db, move |c| {
        let org = resolve_org(c, &org)?;
        let (group_id, full) = resolve_group(c, &org, &group)?;
        let (org_id, org_name) = org;
        let user = resolve_user(c, &address)?;
        let facts = orgs::access_facts(c, user.id.as_str())?;
        if !facts.memberships.iter().any(|m| m.org_id == org_id) {
            return Err(OrgError::Invalid(format!(
                "{address} is not a member of {org_name}: add them to the organization first"
            )));
        }
        if facts.groups.iter().any(|(id, _)| *id == group_id) {
            return Err(OrgError::Conflict(format!("{address} is already in the group {full}")));
        }
        orgs::add_group_member(c, &group_id, user.id.as_str()).map_err(|e| {
            if e.is_conflict() {
                OrgError::Conflict(format!("{address} is already in the group {full}"))
            } else {
                e.into()
            }
        })
    })
    .await
}

/// A group of an organization (both by id) and its members' addresses.
pub async fn group_members(db: &Db, org_id: &str, group_id: &str) -> Result<(String, Vec<String>), OrgError> {
    let (org_id, group_id) = (org_id.to_owned(), group_id.to_owned());
    read(db, move |c| {
        let name = orgs::group_in(c, &org_id, &group_id)?
            .ok_or_else(|| OrgError::NotFound("this organization has no group with that id".into()))?;
        Ok((name, orgs::group_member_emails(c, &group_id)?))
    })
    .await
}

/// Takes a person out of a group (organization and group by id); the
/// organization membership stays.
pub async fn remove_from_group(db: &Db, org_id: &str, group_id: &str, email_address: &str) -> Result<(), OrgError> {
    let address = email(email_address)?;
    let (org_id, group_id) = (org_id.to_owned(), group_id.to_owned());
    transaction(db, move |c| {
        let name = orgs::group_in(c, &org_id, &group_id)?
            .ok_or_else(|| OrgError::NotFound("this organization has no group with that id".into()))?;
        let user = resolve_user(c, &address)?;
        if orgs::remove_group_member(c, &group_id, user.id.as_str())? {
            Ok(())
        } else {
            Err(OrgError::NotFound(format!("{address} is not in the group {name}")))
        }
    })
    .await
}

/// Adds an entitlement to the catalogue, or changes its description and
/// whether it is online content. Returns whether it was new.
pub async fn define_entitlement(db: &Db, name: &str, description: &str, content: bool) -> Result<bool, OrgError> {
    let name = entitlement_name(name)?;
    let description = description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 500 || description.chars().any(char::is_control) {
        return Err(OrgError::Invalid("description: 1-500 characters, no control characters".into()));
    }
    transaction(db, move |c| {
        let new = !orgs::entitlement_exists(c, &name)?;
        orgs::define_entitlement(c, &name, &description, content)?;
        Ok(new)
    })
    .await
}

/// Grants a license of a catalogue entitlement; returns the license's id.
/// `include_external` (an organization's license also reaches its external
/// members) applies only to organizations.
pub async fn grant_license(
    db: &Db,
    entitlement: &str,
    to: LicenseHolder,
    include_external: bool,
    valid_from: Option<OffsetDateTime>,
    valid_until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<String, OrgError> {
    let entitlement = entitlement_name(entitlement)?;
    if include_external && !matches!(to, LicenseHolder::Organization(_)) {
        return Err(OrgError::Invalid("only an organization's license can include external members".into()));
    }
    if let (Some(from), Some(until)) = (valid_from, valid_until)
        && until <= from
    {
        return Err(OrgError::Invalid("the license must end after it starts".into()));
    }
    transaction(db, move |c| {
        require_entitlement(c, &entitlement)?;
        let (holder, _) = resolve_holder(c, &to)?;
        Ok(orgs::grant(c, &entitlement, &holder, include_external, valid_from, valid_until, now)?)
    })
    .await
}

/// Ends every license of `entitlement` that `to` holds; returns how many.
pub async fn revoke_license(db: &Db, entitlement: &str, to: LicenseHolder) -> Result<usize, OrgError> {
    let entitlement = entitlement_name(entitlement)?;
    transaction(db, move |c| {
        require_entitlement(c, &entitlement)?;
        let (holder, _) = resolve_holder(c, &to)?;
        Ok(orgs::revoke_grants(c, &entitlement, &holder)?)
    })
    .await
}

/// Makes a person a platform administrator.
pub async fn grant_platform_admin(db: &Db, email_address: &str, now: OffsetDateTime) -> Result<(), OrgError> {
    let address = email(email_address)?;
    transaction(db, move |c| {
        let user = resolve_user(c, &address)?;
        Ok(orgs::grant_platform_admin(c, user.id.as_str(), now)?)
    })
    .await
}

/// A person's access rights as evaluated at `now`.
pub async fn access_rights_of(db: &Db, email_address: &str, now: OffsetDateTime) -> Result<AccessRights, OrgError> {
    Ok(person_overview(db, email_address, now).await?.rights)
}

/// A person's status, memberships and access rights at `now`.
pub async fn person_overview(db: &Db, email_address: &str, now: OffsetDateTime) -> Result<PersonOverview, OrgError> {
    let address = email(email_address)?;
    read(db, move |c| {
        let user = resolve_user(c, &address)?;
        let facts = orgs::access_facts(c, user.id.as_str())?;
        let platform_admin = orgs::is_platform_admin(c, user.id.as_str())?;
        let rights = evaluate(&facts, now);
        let mut memberships = facts.memberships;
        memberships.sort_by(|a, b| {
            (a.kind != MembershipKind::Internal, &a.org_name).cmp(&(b.kind != MembershipKind::Internal, &b.org_name))
        });
        Ok(PersonOverview { user, platform_admin, memberships, rights })
    })
    .await
}
