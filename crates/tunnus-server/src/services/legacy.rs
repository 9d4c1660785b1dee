//! Importing accounts from the legacy account system (`tunnus import-legacy`),
//! and linking a legacy account skipped as unverified once its person
//! verifies a Tunnus identity with the same email.
//!
//! An import batch is one transaction: its identities, memberships,
//! licenses, links and welcome emails are stored together or not at all, so
//! a crash loses at most the batches in flight and a rerun completes them. Rows
//! already imported are recognised by their legacy id and left alone, which
//! makes the import idempotent.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::json;
use time::{Duration, OffsetDateTime};
use tunnus_core::access::{MembershipKind, Role};
use tunnus_core::legacy::{Conflict, ImportReport, KeptSeparate, LegacyAccount, Skip, SkipReason};
use tunnus_core::{UserId, UserStatus};
use tunnus_i18n::Lang;
use tunnus_mail::{ActionEmail, ActionEmailKind, DeferredEmail, OUTBOX_KIND_EMAIL};
use tunnus_store::legacy::{
    self, BatchWrites, ExistingIdentity, NewImportedUser, NewLegacyAccount, NewMembership, NewOutboxItem, NewUserGrant,
    Outcome,
};
use tunnus_store::orgs::{self, GrantTo};
use tunnus_store::time_conv::to_db;
use tunnus_store::{Db, DbConnection, StoreError, StoreResult};

use crate::config::Config;
use crate::services::audit::{self, Origin};

/// A record after the checks that need no database.
#[derive(Debug, Clone)]
pub enum Checked {
    Account { record: u64, account: LegacyAccount },
    Refused(Skip),
}

/// What the import takes from the configuration.
#[derive(Debug, Clone)]
pub struct ImportSettings {
    pub base_url: String,
    pub emails_per_minute: u32,
    pub link_valid_hours: i64,
}

impl ImportSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            base_url: config.base_url().to_owned(),
            emails_per_minute: config.legacy_import.emails_per_minute.max(1),
            link_valid_hours: config.legacy_import.link_valid_hours,
        }
    }
}

/// A resolved organization reference: (id, name).
type OrgRef = (String, String);

/// One import run: the settings, caches of what the database already said,
/// and where the welcome-email schedule stands.
pub struct Importer {
    db: Db,
    settings: ImportSettings,
    dry_run: bool,
    orgs: HashMap<String, Option<OrgRef>>,
    entitlements: HashMap<String, bool>,
    /// Identities not created by an import, by lowercase (given, family) name.
    earlier: Arc<HashMap<(String, String), Vec<String>>>,
    next_email_at: OffsetDateTime,
    /// How many importers share the welcome-email schedule (see [`Importer::into_lanes`]).
    lanes: u32,
    batches: u64,
}

fn name_key(given: &str, family: &str) -> (String, String) {
    (given.to_lowercase(), family.to_lowercase())
}

impl Importer {
    /// Prepares a run; the emails of this run are scheduled after those of earlier runs.
    pub fn open(db: Db, settings: ImportSettings, dry_run: bool, now: OffsetDateTime) -> StoreResult<Self> {
        let (earlier_rows, last_email) =
            db.read_blocking(|c| Ok((legacy::earlier_identities(c)?, legacy::last_email_at(c)?)))?;
        let mut earlier: HashMap<(String, String), Vec<String>> = HashMap::new();
        for (email, given, family) in earlier_rows {
            earlier.entry(name_key(&given, &family)).or_default().push(email);
        }
        let mut importer = Self {
            db,
            settings,
            dry_run,
            orgs: HashMap::new(),
            entitlements: HashMap::new(),
            earlier: Arc::new(earlier),
            next_email_at: now,
            lanes: 1,
            batches: 0,
        };
        if let Some(last) = last_email {
            importer.next_email_at = now.max(last + importer.email_gap());
        }
        Ok(importer)
    }

    fn email_gap(&self) -> Duration {
        Duration::seconds_f64(60.0 / f64::from(self.settings.emails_per_minute))
    }

    /// Splits the run into `n` importers that may import batches at the
    /// same time, each in its own transaction on its own connection (on
    /// PostgreSQL a second server backend uses a core one would leave
    /// idle). Their batches are independent: an email occurs in at most one
    /// record of the file (duplicates are refused before), and a legacy id
    /// in one batch. The welcome-email schedule is interleaved — importer
    /// `k` takes slots `k`, `k + n`, `k + 2n`, … — so together they never
    /// send faster than the configured rate.
    pub fn into_lanes(self, n: u32) -> Vec<Importer> {
        let n = n.max(1);
        let gap = self.email_gap();
        (0..n)
            .map(|k| Importer {
                db: self.db.clone(),
                settings: self.settings.clone(),
                dry_run: self.dry_run,
                orgs: self.orgs.clone(),
                entitlements: self.entitlements.clone(),
                earlier: self.earlier.clone(),
                next_email_at: self.next_email_at + gap * k,
                lanes: n,
                batches: self.batches,
            })
            .collect()
    }

    /// Imports one batch in one transaction (rolled back in a dry run). A
    /// person signing up with one of the batch's emails meanwhile makes the
    /// batch conflict; it is then retried, and sees that identity.
    pub fn import_batch(
        &mut self,
        batch: &[Checked],
        report: &mut ImportReport,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let db = self.db.clone();
        let dry_run = self.dry_run;
        let mut attempt = 0;
        loop {
            let schedule = self.next_email_at;
            let mut part = ImportReport::default();
            let work = |c: &mut DbConnection| self.apply(c, batch, &mut part, now);
            let result = if dry_run { db.rehearse_blocking(work) } else { db.write_blocking(work) };
            match result {
                Ok(()) => {
                    report.absorb(part);
                    self.batches += 1;
                    // Statistics after batches 1, 2, 4, 8, …: cheap, and the
                    // planner's picture never lags far behind the tables.
                    if !dry_run && self.batches.is_power_of_two() {
                        db.write_blocking(legacy::analyze)?;
                    }
                    return Ok(());
                }
                Err(e) if e.is_conflict() && attempt < 3 => {
                    attempt += 1;
                    self.next_email_at = schedule;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn apply(
        &mut self,
        conn: &mut DbConnection,
        batch: &[Checked],
        part: &mut ImportReport,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        legacy::prepare_batch(conn)?;
        let ids: Vec<&str> = batch
            .iter()
            .filter_map(|item| match item {
                Checked::Account { account, .. } => Some(account.legacy_id.as_str()),
                Checked::Refused(s) if s.reason != SkipReason::DuplicateLegacyId => s.legacy_id.as_deref(),
                Checked::Refused(_) => None,
            })
            .collect();
        let states = legacy::states(conn, &ids)?;
        let emails: Vec<&str> = batch
            .iter()
            .filter_map(|item| match item {
                Checked::Account { account, .. } if account.verified => Some(account.email.as_str()),
                _ => None,
            })
            .collect();
        let existing = legacy::identities_by_email(conn, &emails)?;
        let mut w = BatchWrites::default();
        for item in batch {
            part.records += 1;
            let (record, account) = match item {
                Checked::Refused(skip) => {
                    let done = skip.reason != SkipReason::DuplicateLegacyId
                        && skip.legacy_id.as_ref().and_then(|id| states.get(id)).is_some_and(|s| s.0.is_done());
                    if done {
                        part.already_imported += 1;
                    } else {
                        self.skipped(&mut w, part, &states, skip.clone(), None, now);
                    }
                    continue;
                }
                Checked::Account { record, account } => (*record, account),
            };
            if states.get(&account.legacy_id).is_some_and(|s| s.0.is_done()) {
                part.already_imported += 1;
                continue;
            }
            let skip = |reason: SkipReason, detail: String| Skip {
                record,
                legacy_id: Some(account.legacy_id.clone()),
                email: Some(account.email.as_str().to_owned()),
                reason,
                detail,
            };
            if !account.verified {
                let s = skip(SkipReason::Unverified, "kept to link when this person verifies a Tunnus identity".into());
                self.skipped(&mut w, part, &states, s, Some(account), now);
                continue;
            }
            let org = match &account.membership {
                None => None,
                Some(m) => match self.org(conn, &m.organization)? {
                    Some(org) => Some((org, m.kind, m.role)),
                    None => {
                        let s = skip(SkipReason::UnknownOrganization, format!("no organization {}", m.organization));
                        self.skipped(&mut w, part, &states, s, Some(account), now);
                        continue;
                    }
                },
            };
            if let Some(unknown) = self.first_unknown_license(conn, &account.licenses)? {
                let s = skip(SkipReason::UnknownLicense, format!("no entitlement {unknown} in the catalogue"));
                self.skipped(&mut w, part, &states, s, Some(account), now);
                continue;
            }
            match existing.get(account.email.as_str()) {
                Some(identity) => self.merge(conn, &mut w, part, account, identity, org, now)?,
                None => self.create(&mut w, part, account, org, now)?,
            }
        }
        // Only ids an earlier run stored need their old row deleted; looking
        // up every id of the batch again would cost a probe per row.
        w.replaced =
            w.legacy.iter().filter(|l| states.contains_key(&l.legacy_id)).map(|l| l.legacy_id.clone()).collect();
        w.write(conn)?;
        legacy::finish_batch(conn)
    }

    fn org(&mut self, conn: &mut DbConnection, reference: &str) -> StoreResult<Option<OrgRef>> {
        if let Some(found) = self.orgs.get(reference) {
            return Ok(found.clone());
        }
        let found = orgs::find_org(conn, reference)?;
        self.orgs.insert(reference.to_owned(), found.clone());
        Ok(found)
    }

    fn first_unknown_license(&mut self, conn: &mut DbConnection, names: &[String]) -> StoreResult<Option<String>> {
        for name in names {
            let known = match self.entitlements.get(name) {
                Some(k) => *k,
                None => {
                    let k = orgs::entitlement_exists(conn, name)?;
                    self.entitlements.insert(name.clone(), k);
                    k
                }
            };
            if !known {
                return Ok(Some(name.clone()));
            }
        }
        Ok(None)
    }

    /// Records a skip; the row is stored (when it has a usable legacy id) so a
    /// rerun can tell "skipped again, as before" and an unverified one can be linked later.
    fn skipped(
        &self,
        w: &mut BatchWrites,
        part: &mut ImportReport,
        states: &HashMap<String, (Outcome, Option<String>)>,
        skip: Skip,
        account: Option<&LegacyAccount>,
        now: OffsetDateTime,
    ) {
        let before = skip.legacy_id.as_ref().and_then(|id| states.get(id));
        let unchanged =
            before.is_some_and(|(o, r)| *o == Outcome::Skipped && r.as_deref() == Some(skip.reason.as_str()));
        // Skipped for the same reason last time: nothing to write.
        if !unchanged && let Some(id) = skip.legacy_id.as_ref().filter(|_| skip.reason != SkipReason::DuplicateLegacyId)
        {
            let membership = account.and_then(|a| a.membership.as_ref());
            w.legacy.push(NewLegacyAccount {
                legacy_id: id.clone(),
                email: account.map_or_else(
                    || skip.email.as_deref().unwrap_or("").trim().to_lowercase(),
                    |a| a.email.as_str().to_owned(),
                ),
                user_id: None,
                outcome: Outcome::Skipped.as_str(),
                reason: Some(skip.reason.as_str()),
                organization: membership.map(|m| m.organization.clone()),
                membership_kind: membership.map(|m| m.kind.as_str()),
                role: membership.map(|m| m.role.as_str()),
                licenses: account.map(|a| legacy::join_licenses(&a.licenses)).unwrap_or_default(),
                email_at: None,
                imported_at: to_db(now),
                updated_at: to_db(now),
            });
            part.skips_recorded += 1;
        }
        part.skip(skip);
    }

    fn create(
        &mut self,
        w: &mut BatchWrites,
        part: &mut ImportReport,
        account: &LegacyAccount,
        org: Option<(OrgRef, MembershipKind, Role)>,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let user_id = UserId::new_v7().to_string();
        w.users.push(NewImportedUser {
            id: user_id.clone(),
            email: account.email.as_str().to_owned(),
            email_verified_at: Some(to_db(now)),
            password_hash: account.password_hash.clone(),
            given_name: account.given_name.clone(),
            family_name: account.family_name.clone(),
            country: account.country.code(),
            preferred_language: account.language.clone(),
            status: UserStatus::Active.as_str(),
            created_at: to_db(now),
            updated_at: to_db(now),
        });
        if let Some(((org_id, _), kind, role)) = org {
            w.memberships.push(NewMembership {
                organization_id: org_id,
                user_id: user_id.clone(),
                kind: kind.as_str(),
                role: role.as_str(),
                created_at: to_db(now),
            });
        }
        for license in &account.licenses {
            w.grants.push(user_grant(license, &user_id, now));
        }
        let email_at = self.queue_welcome(w, &user_id, account, account.password_hash.is_some(), now)?;
        part.emails_queued += 1;
        w.legacy.push(done_row(account, &user_id, Outcome::Created, Some(email_at), now));
        if let Some(others) = self.earlier.get(&name_key(&account.given_name, &account.family_name)) {
            for other in others.iter().filter(|e| e.as_str() != account.email.as_str()) {
                part.kept_separate.push(KeptSeparate {
                    legacy_id: account.legacy_id.clone(),
                    legacy_email: account.email.as_str().to_owned(),
                    identity_email: other.clone(),
                });
            }
        }
        part.created += 1;
        Ok(())
    }

    /// Gives an existing identity the legacy id, membership and licenses.
    /// The one-internal-organization rule holds: a clash is reported, and the
    /// rest of the merge goes ahead.
    #[allow(clippy::too_many_arguments)]
    fn merge(
        &mut self,
        conn: &mut DbConnection,
        w: &mut BatchWrites,
        part: &mut ImportReport,
        account: &LegacyAccount,
        identity: &ExistingIdentity,
        org: Option<(OrgRef, MembershipKind, Role)>,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        if let Some(((org_id, org_name), kind, role)) = org
            && orgs::membership(conn, &org_id, &identity.id)?.is_none()
        {
            let other_internal =
                if kind == MembershipKind::Internal { orgs::internal_org_of(conn, &identity.id)? } else { None };
            match other_internal {
                Some((_, other)) => part.conflicts.push(Conflict {
                    legacy_id: account.legacy_id.clone(),
                    email: identity.email.clone(),
                    detail: format!("already an internal member of {other}: not made an internal member of {org_name}"),
                }),
                None => w.memberships.push(NewMembership {
                    organization_id: org_id,
                    user_id: identity.id.clone(),
                    kind: kind.as_str(),
                    role: role.as_str(),
                    created_at: to_db(now),
                }),
            }
        }
        let held: HashSet<String> = legacy::direct_entitlements(conn, &identity.id)?.into_iter().collect();
        for license in account.licenses.iter().filter(|l| !held.contains(*l)) {
            w.grants.push(user_grant(license, &identity.id, now));
        }
        // The legacy account proved the address an unfinished sign-up never did.
        let mut email_at = None;
        if identity.status == UserStatus::Unverified.as_str() {
            legacy::verify_identity(conn, &identity.id, account.password_hash.as_deref(), now)?;
            let has_password = identity.has_password || account.password_hash.is_some();
            email_at = Some(self.queue_welcome(w, &identity.id, account, has_password, now)?);
            part.emails_queued += 1;
        }
        w.legacy.push(done_row(account, &identity.id, Outcome::Merged, email_at, now));
        part.merged += 1;
        Ok(())
    }

    /// Queues "your account is now a Tunnus identity" at the next free slot
    /// of the configured rate; returns when it is due.
    fn queue_welcome(
        &mut self,
        w: &mut BatchWrites,
        user_id: &str,
        account: &LegacyAccount,
        has_password: bool,
        now: OffsetDateTime,
    ) -> StoreResult<OffsetDateTime> {
        let at = self.next_email_at;
        self.next_email_at = at + self.email_gap() * self.lanes;
        let base = &self.settings.base_url;
        let lang = account.language.as_deref().and_then(Lang::from_tag).unwrap_or(Lang::En).tag();
        let payload = if has_password {
            let link = format!("{base}/login");
            let email = welcome(ActionEmailKind::LegacyImportedWithPassword, account, &link, None);
            DeferredEmail::new(&email, lang)
        } else {
            // The link's token is minted when the email is sent: see DeferredEmail.
            let link = format!("{base}/password/set?token=");
            let hours = Some(self.settings.link_valid_hours);
            let email = welcome(ActionEmailKind::LegacyImported, account, &link, hours);
            DeferredEmail::minting_set_password(&email, lang, user_id)
        };
        w.emails.push(NewOutboxItem {
            id: uuid::Uuid::now_v7().to_string(),
            kind: OUTBOX_KIND_EMAIL,
            recipient: payload.to.clone(),
            payload: serde_json::to_string(&payload).map_err(|e| StoreError::corrupt(e.to_string()))?,
            attempts: 0,
            next_attempt_at: to_db(at),
            created_at: to_db(now),
        });
        Ok(at)
    }
}

/// The welcome email of an imported account, stored by its parts and
/// rendered when sent: a large import would otherwise write kilobytes of
/// HTML per person.
fn welcome<'a>(
    kind: ActionEmailKind,
    account: &'a LegacyAccount,
    link: &'a str,
    valid_hours: Option<i64>,
) -> ActionEmail<'a> {
    ActionEmail { kind, to: account.email.as_str(), name: &account.given_name, link, valid_hours, org: None }
}

fn user_grant(entitlement: &str, user_id: &str, now: OffsetDateTime) -> NewUserGrant {
    NewUserGrant {
        id: uuid::Uuid::now_v7().to_string(),
        entitlement: entitlement.to_owned(),
        organization_id: None,
        group_id: None,
        user_id: Some(user_id.to_owned()),
        include_external: false,
        valid_from: None,
        valid_until: None,
        created_at: to_db(now),
    }
}

fn done_row(
    account: &LegacyAccount,
    user_id: &str,
    outcome: Outcome,
    email_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> NewLegacyAccount {
    let membership = account.membership.as_ref();
    NewLegacyAccount {
        legacy_id: account.legacy_id.clone(),
        email: account.email.as_str().to_owned(),
        user_id: Some(user_id.to_owned()),
        outcome: outcome.as_str(),
        reason: None,
        organization: membership.map(|m| m.organization.clone()),
        membership_kind: membership.map(|m| m.kind.as_str()),
        role: membership.map(|m| m.role.as_str()),
        licenses: legacy::join_licenses(&account.licenses),
        email_at: email_at.map(to_db),
        imported_at: to_db(now),
        updated_at: to_db(now),
    }
}

/// Connects the legacy accounts of `email` that were skipped as unverified
/// to the identity that has just proved that address: their membership and
/// licenses come along (an organization or entitlement gone since, or a
/// second internal membership, is left out). Runs in the caller's transaction.
pub fn link_on_verification(
    conn: &mut DbConnection,
    user_id: &UserId,
    email: &str,
    origin: &Origin,
    now: OffsetDateTime,
) -> StoreResult<usize> {
    let pending = legacy::pending_links(conn, email)?;
    let uid = user_id.as_str();
    for link in &pending {
        let mut joined = None;
        if let (Some(reference), Some((kind, role))) = (&link.organization, link.membership)
            && let Some((org_id, org_name)) = orgs::find_org(conn, reference)?
            && orgs::membership(conn, &org_id, uid)?.is_none()
            && (kind == MembershipKind::External || orgs::internal_org_of(conn, uid)?.is_none())
        {
            orgs::add_membership(conn, &org_id, uid, kind, role, now)?;
            joined = Some(org_name);
        }
        let held: HashSet<String> = legacy::direct_entitlements(conn, uid)?.into_iter().collect();
        let mut granted = Vec::new();
        for license in link.licenses.iter().filter(|l| !held.contains(*l)) {
            if orgs::entitlement_exists(conn, license)? {
                orgs::grant(conn, license, &GrantTo::User(uid.to_owned()), false, None, None, now)?;
                granted.push(license.clone());
            }
        }
        legacy::mark(conn, &link.legacy_id, uid, Outcome::Linked, now)?;
        let detail = json!({"legacy_id": link.legacy_id, "organization": joined, "licenses": granted});
        audit::record(conn, "legacy.linked", Some(uid), origin, detail, now)?;
    }
    Ok(pending.len())
}
