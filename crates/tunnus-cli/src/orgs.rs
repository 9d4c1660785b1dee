//! `tunnus org …`, `tunnus license …` and `tunnus user …`: organizations,
//! their members and groups, licenses, and platform administrators.

use clap::{Args, Subcommand};
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use tunnus_core::Clock as _;
use tunnus_core::SystemClock;
use tunnus_core::access::{MembershipKind, Role};
use tunnus_server::Config;
use tunnus_server::services::orgs::{self, LicenseHolder};
use tunnus_store::Db;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create { name: String },
    /// List the organizations.
    List,
    /// Make an existing identity a member of an organization. A person is an
    /// internal member (employee) of at most one organization.
    AddMember {
        /// Organization name (or id).
        org: String,
        email: String,
        /// An external member (e.g. a subcontractor): gets only what is shared with externals.
        #[arg(long)]
        external: bool,
        /// Make the member an administrator of the organization.
        #[arg(long)]
        admin: bool,
    },
    /// End a membership (the person also leaves the organization's groups).
    RemoveMember { org: String, email: String },
    /// Change a member's role: member or admin.
    SetRole {
        org: String,
        email: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Create a group in an organization.
    AddGroup { org: String, name: String },
    /// Put a member of the organization into one of its groups.
    AddToGroup { org: String, group: String, email: String },
}

#[derive(Subcommand)]
pub enum LicenseCommand {
    /// Add an entitlement to the catalogue (or change its description).
    Define {
        /// a-z 0-9 : - _ . (e.g. warehouse:premium)
        name: String,
        #[arg(long)]
        description: String,
        /// Online content: granted by a maintenance contract as well.
        #[arg(long)]
        content: bool,
    },
    /// Grant a license of an entitlement to an organization, a group or a person.
    Grant {
        /// An entitlement of the catalogue (e.g. campus, maintenance).
        entitlement: String,
        #[command(flatten)]
        to: HolderArgs,
        /// An organization's license also reaches its external members.
        #[arg(long)]
        include_external: bool,
        /// First day of validity (YYYY-MM-DD, from 00:00 UTC).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        from: Option<OffsetDateTime>,
        /// End of validity (YYYY-MM-DD): the license ends at 00:00 UTC of that day.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
        until: Option<OffsetDateTime>,
    },
    /// End the licenses of an entitlement that an organization, a group or a person holds.
    Revoke {
        entitlement: String,
        #[command(flatten)]
        to: HolderArgs,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Make a person a platform administrator.
    GrantPlatformAdmin { email: String },
    /// Show a person's status, organizations, groups and entitlements as evaluated now.
    Show { email: String },
}

/// Exactly one license holder.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct HolderArgs {
    /// An organization (name or id).
    #[arg(long, value_name = "ORG")]
    org: Option<String>,
    /// A group of an organization.
    #[arg(long, value_name = "ORG/GROUP")]
    group: Option<String>,
    /// A person.
    #[arg(long, value_name = "EMAIL")]
    user: Option<String>,
}

impl HolderArgs {
    fn holder(self) -> Result<LicenseHolder, String> {
        match (self.org, self.group, self.user) {
            (Some(org), None, None) => Ok(LicenseHolder::Organization(org)),
            (None, Some(group), None) => {
                // Group names cannot contain '/', organization names can.
                let (org, name) =
                    group.rsplit_once('/').ok_or_else(|| format!("--group {group}: write it as ORG/GROUP"))?;
                Ok(LicenseHolder::Group { org: org.to_owned(), name: name.to_owned() })
            }
            (None, None, Some(email)) => Ok(LicenseHolder::User(email)),
            _ => Err("give exactly one of --org, --group, --user".into()),
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role {s} (member or admin)"))
}

/// A date as midnight UTC.
fn parse_date(s: &str) -> Result<OffsetDateTime, String> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc())
        .map_err(|e| format!("{s}: a date YYYY-MM-DD ({e})"))
}

fn open(config: &Config) -> Result<Db, String> {
    tunnus_server::state::open_database(config).map_err(|e| e.to_string())
}

fn describe_holder(to: &LicenseHolder) -> String {
    match to {
        LicenseHolder::Organization(org) => format!("organization {org}"),
        LicenseHolder::Group { org, name } => format!("group {org}/{name}"),
        LicenseHolder::User(email) => email.clone(),
    }
}

pub async fn run_org(config: &Config, command: OrgCommand) -> Result<(), String> {
    let db = open(config)?;
    let now = SystemClock.now();
    match command {
        OrgCommand::Create { name } => {
            let id = orgs::create_organization(&db, &name, now).await.map_err(|e| e.to_string())?;
            println!("Organization {} created (id {id}).", name.trim());
        }
        OrgCommand::List => {
            for (id, name) in orgs::list_organizations(&db).await.map_err(|e| e.to_string())? {
                println!("{name}\t{id}");
            }
        }
        OrgCommand::AddMember { org, email, external, admin } => {
            let kind = if external { MembershipKind::External } else { MembershipKind::Internal };
            let role = if admin { Role::Admin } else { Role::Member };
            orgs::add_member(&db, &org, &email, kind, role, now).await.map_err(|e| e.to_string())?;
            println!("{} is now an {} {} of {org}.", email.trim(), kind.as_str(), role.as_str());
        }
        OrgCommand::RemoveMember { org, email } => {
            orgs::remove_member(&db, &org, &email).await.map_err(|e| e.to_string())?;
            println!("{} is no longer a member of {org}.", email.trim());
        }
        OrgCommand::SetRole { org, email, role } => {
            orgs::set_role(&db, &org, &email, role).await.map_err(|e| e.to_string())?;
            println!("{} is now {} of {org}.", email.trim(), if role == Role::Admin { "an admin" } else { "a member" });
        }
        OrgCommand::AddGroup { org, name } => {
            orgs::create_group(&db, &org, &name, now).await.map_err(|e| e.to_string())?;
            println!("Group {org}/{} created.", name.trim());
        }
        OrgCommand::AddToGroup { org, group, email } => {
            orgs::add_to_group(&db, &org, &group, &email).await.map_err(|e| e.to_string())?;
            println!("{} added to the group {org}/{}.", email.trim(), group.trim());
        }
    }
    Ok(())
}

pub async fn run_license(config: &Config, command: LicenseCommand) -> Result<(), String> {
    let db = open(config)?;
    let now = SystemClock.now();
    match command {
        LicenseCommand::Define { name, description, content } => {
            let new = orgs::define_entitlement(&db, &name, &description, content).await.map_err(|e| e.to_string())?;
            println!("Entitlement {} {}.", name.trim(), if new { "defined" } else { "updated" });
        }
        LicenseCommand::Grant { entitlement, to, include_external, from, until } => {
            let to = to.holder()?;
            let who = describe_holder(&to);
            let id = orgs::grant_license(&db, &entitlement, to, include_external, from, until, now)
                .await
                .map_err(|e| e.to_string())?;
            println!("License of {} granted to {who} (id {id}).", entitlement.trim());
        }
        LicenseCommand::Revoke { entitlement, to } => {
            let to = to.holder()?;
            let who = describe_holder(&to);
            let n = orgs::revoke_license(&db, &entitlement, to).await.map_err(|e| e.to_string())?;
            println!("{n} license(s) of {} held by {who} revoked.", entitlement.trim());
        }
    }
    Ok(())
}

pub async fn run_user(config: &Config, command: UserCommand) -> Result<(), String> {
    let db = open(config)?;
    let now = SystemClock.now();
    match command {
        UserCommand::GrantPlatformAdmin { email } => {
            orgs::grant_platform_admin(&db, &email, now).await.map_err(|e| e.to_string())?;
            println!("{} is now a platform administrator.", email.trim());
        }
        UserCommand::Show { email } => {
            let p = orgs::person_overview(&db, &email, now).await.map_err(|e| e.to_string())?;
            println!("email: {}", p.user.email);
            println!("name: {}", p.user.display_name());
            println!("status: {}", p.user.status.as_str());
            println!("platform administrator: {}", if p.platform_admin { "yes" } else { "no" });
            match &p.rights.org {
                Some(o) => println!("organization: {} ({}, {})", o.name, o.membership.as_str(), o.role.as_str()),
                None => println!("organization: -"),
            }
            if p.memberships.is_empty() {
                println!("memberships: -");
            } else {
                println!("memberships:");
                for m in &p.memberships {
                    println!("  {} ({}, {})", m.org_name, m.kind.as_str(), m.role.as_str());
                }
            }
            println!("groups: {}", list(p.rights.groups.iter()));
            println!("entitlements: {}", list(p.rights.entitlements.iter()));
        }
    }
    Ok(())
}

fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let items: Vec<&str> = items.map(String::as_str).collect();
    if items.is_empty() { "-".to_owned() } else { items.join(", ") }
}
