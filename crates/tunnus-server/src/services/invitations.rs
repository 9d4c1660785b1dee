//! Invitations: an organization admin invites many people at once; each
//! invited person answers from the emailed link or their profile page.

use serde_json::json;
use time::Duration;
use tunnus_core::access::{MembershipKind, Role};
use tunnus_core::invitation::{InvitationKind, InvitationStatus, MAX_BULK, parse_invite_list};
use tunnus_core::{SecretToken, User};
use tunnus_i18n::Tr;
use tunnus_mail::{ActionEmail, ActionEmailKind};
use tunnus_store::invitations::{self, Invitation};
use tunnus_store::{StoreError, orgs, users};

use crate::error::AppError;
use crate::pages;
use crate::services::audit::{self, Origin};
use crate::state::AppState;

/// How long an invitation link works.
const INVITATION_LIFETIME: Duration = Duration::days(14);

/// What a bulk invitation did with each address.
#[derive(Debug, Clone, Default)]
pub struct BulkReport {
    pub invited: Vec<String>,
    pub invalid: Vec<(String, String)>,
    pub duplicates: Vec<String>,
    pub already_members: Vec<String>,
    pub already_invited: Vec<String>,
}

/// Whether `user` may administer organization `org_id`.
pub async fn may_administer(state: &AppState, user: &User, org_id: &str) -> Result<bool, AppError> {
    let (uid, org) = (user.id.to_string(), org_id.to_owned());
    Ok(state
        .db
        .read(move |c| {
            Ok(orgs::is_platform_admin(c, &uid)? || matches!(orgs::membership(c, &org, &uid)?, Some((_, Role::Admin))))
        })
        .await?)
}

/// Invites every valid address of `text`; all-or-nothing in one transaction.
pub async fn invite_many(
    state: &AppState,
    inviter: &User,
    org_id: &str,
    kind: InvitationKind,
    group_id: Option<String>,
    text: &str,
    tr: Tr,
    origin: Origin,
) -> Result<BulkReport, AppError> {
    if !may_administer(state, inviter, org_id).await? {
        return Err(AppError::Forbidden);
    }
    send_invitations(state, Some(inviter.id.to_string()), org_id, kind, group_id, text, tr, origin).await
}

/// Sends the invitations of a bulk invite for an already authorized `actor`
/// (a person, or `None` for an API client).
#[allow(clippy::too_many_arguments)]
pub async fn send_invitations(
    state: &AppState,
    actor: Option<String>,
    org_id: &str,
    kind: InvitationKind,
    group_id: Option<String>,
    text: &str,
    tr: Tr,
    origin: Origin,
) -> Result<BulkReport, AppError> {
    let list = parse_invite_list(text);
    if list.valid.len() > MAX_BULK {
        return Err(AppError::BadRequest);
    }
    let mut report = BulkReport {
        invalid: list.invalid.iter().map(|(raw, e)| (raw.clone(), tr.t(pages::email_problem_key(e)))).collect(),
        duplicates: list.duplicates.clone(),
        ..Default::default()
    };
    let s = state.clone();
    let org = org_id.to_owned();
    let group = if kind == InvitationKind::Group { group_id } else { None };
    let base = state.config.base_url().to_owned();
    let report = state
        .db
        .write(move |c| {
            let now = s.clock.now();
            let Some((_, org_name)) = orgs::find_org(c, &org)? else {
                return Err(StoreError::new(tunnus_store::StoreErrorKind::NotFound, "organization"));
            };
            if let Some(g) = &group
                && !orgs::groups_of(c, &org)?.iter().any(|(id, _)| id == g)
            {
                return Err(StoreError::new(tunnus_store::StoreErrorKind::NotFound, "group"));
            }
            for email in &list.valid {
                let existing = users::find_by_email(c, email)?;
                if kind != InvitationKind::Group
                    && let Some(u) = &existing
                    && orgs::membership(c, &org, u.id.as_str())?.is_some()
                {
                    report.already_members.push(email.to_string());
                    continue;
                }
                if invitations::pending_exists(c, &org, group.as_deref(), email.as_str(), now)? {
                    report.already_invited.push(email.to_string());
                    continue;
                }
                let secret = SecretToken::generate(&mut rand::rng());
                invitations::insert(
                    c,
                    &secret.hash(),
                    &org,
                    group.as_deref(),
                    kind,
                    email.as_str(),
                    actor.as_deref(),
                    now,
                    now + INVITATION_LIFETIME,
                )?;
                let link = format!("{base}/invite?token={}", secret.expose());
                let name = existing.as_ref().map_or("", |u| u.given_name.as_str());
                let mail = ActionEmail {
                    kind: ActionEmailKind::Invitation,
                    to: email.as_str(),
                    name,
                    link: &link,
                    valid_hours: Some(INVITATION_LIFETIME.whole_hours()),
                    org: Some(&org_name),
                }
                .render(&tr)
                .map_err(|e| StoreError::corrupt(format!("email template: {e}")))?;
                tunnus_mail::queue(c, &mail, now)?;
                report.invited.push(email.to_string());
            }
            audit::record(
                c,
                "invitations.sent",
                actor.as_deref(),
                &origin,
                json!({"organization": org, "count": report.invited.len(), "kind": kind.as_str()}),
                now,
            )?;
            Ok(report)
        })
        .await?;
    state.mail_waker.notify_one();
    Ok(report)
}

/// The invitation behind an emailed link.
pub async fn by_token(state: &AppState, token: &str) -> Result<Option<Invitation>, AppError> {
    let Some(secret) = SecretToken::from_presented(token) else { return Ok(None) };
    let hash = secret.hash();
    Ok(state.db.read(move |c| invitations::find_by_token(c, &hash)).await?)
}

pub async fn pending_for(state: &AppState, user: &User) -> Result<Vec<Invitation>, AppError> {
    let (email, now) = (user.email.to_string(), state.clock.now());
    Ok(state.db.read(move |c| invitations::pending_for_email(c, &email, now)).await?)
}

/// The effective status at `now` (a pending invitation past its expiry is expired).
pub fn status_now(inv: &Invitation, now: time::OffsetDateTime) -> InvitationStatus {
    if inv.status == InvitationStatus::Pending && now >= inv.expires_at {
        InvitationStatus::Expired
    } else {
        inv.status
    }
}

/// What answering an invitation led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Accepted,
    Declined,
    /// Accepting would move the person out of this internal organization; ask first.
    MustConfirmLeaving(String),
    /// The invitation is for another address than the signed-in person's.
    WrongAccount,
    Unusable(InvitationStatus),
}

/// Accepts or declines. Accepting an internal invitation while internal
/// elsewhere needs `confirm_leave`; leaving and joining happen in one
/// transaction, and the database's one-internal-organization index makes
/// two concurrent acceptances impossible.
pub async fn answer(
    state: &AppState,
    user: &User,
    invitation_id: &str,
    accept: bool,
    confirm_leave: bool,
    origin: Origin,
) -> Result<(Answer, Option<Invitation>), AppError> {
    let id = invitation_id.to_owned();
    let Some(inv) = state.db.read(move |c| invitations::find(c, &id)).await? else {
        return Err(AppError::NotFound);
    };
    if inv.email != user.email.as_str() {
        return Ok((Answer::WrongAccount, Some(inv)));
    }
    let now = state.clock.now();
    let status = status_now(&inv, now);
    if status != InvitationStatus::Pending {
        return Ok((Answer::Unusable(status), Some(inv)));
    }
    let uid = user.id.to_string();
    if !accept {
        let (i, u) = (inv.id.clone(), uid.clone());
        let decided = state
            .db
            .write(move |c| {
                let ok = invitations::decide(c, &i, InvitationStatus::Declined, now)?;
                audit::record(c, "invitation.declined", Some(&u), &origin, json!({"invitation": i}), now)?;
                Ok(ok)
            })
            .await?;
        return Ok((if decided { Answer::Declined } else { Answer::Unusable(InvitationStatus::Accepted) }, Some(inv)));
    }
    let (u, org) = (uid.clone(), inv.organization_id.clone());
    let current = state.db.read(move |c| orgs::internal_org_of(c, &u)).await?;
    if inv.kind == InvitationKind::Internal
        && let Some((current_id, current_name)) = &current
        && current_id != &org
        && !confirm_leave
    {
        return Ok((Answer::MustConfirmLeaving(current_name.clone()), Some(inv)));
    }
    let i = inv.clone();
    let result = state
        .db
        .write(move |c| {
            if !invitations::decide(c, &i.id, InvitationStatus::Accepted, now)? {
                return Ok(false);
            }
            let existing = orgs::membership(c, &i.organization_id, &uid)?;
            match i.kind {
                InvitationKind::Internal => {
                    if let Some((current_id, _)) = &current
                        && current_id != &i.organization_id
                    {
                        orgs::remove_membership(c, current_id, &uid)?;
                    }
                    if existing.is_some() {
                        orgs::remove_membership(c, &i.organization_id, &uid)?;
                    }
                    let role = existing.map_or(Role::Member, |(_, r)| r);
                    orgs::add_membership(c, &i.organization_id, &uid, MembershipKind::Internal, role, now)?;
                }
                InvitationKind::External => {
                    if existing.is_none() {
                        orgs::add_membership(c, &i.organization_id, &uid, MembershipKind::External, Role::Member, now)?;
                    }
                }
                InvitationKind::Group => {
                    // A group invitation to someone outside the organization makes them an external member.
                    if existing.is_none() {
                        orgs::add_membership(c, &i.organization_id, &uid, MembershipKind::External, Role::Member, now)?;
                    }
                    if let Some(g) = &i.group_id {
                        orgs::add_group_member(c, g, &uid)?;
                    }
                }
            }
            audit::record(
                c,
                "invitation.accepted",
                Some(&uid),
                &origin,
                json!({"invitation": i.id, "organization": i.organization_id}),
                now,
            )?;
            Ok(true)
        })
        .await;
    match result {
        Ok(true) => Ok((Answer::Accepted, Some(inv))),
        Ok(false) => Ok((Answer::Unusable(InvitationStatus::Accepted), Some(inv))),
        // Another acceptance made the person internal elsewhere meanwhile.
        Err(e) if e.is_conflict() => Ok((Answer::Unusable(InvitationStatus::Revoked), Some(inv))),
        Err(e) => Err(e.into()),
    }
}

/// Sends a pending invitation again with a fresh link and expiry (the old link stops working).
pub async fn resend(
    state: &AppState,
    actor: Option<String>,
    org_id: &str,
    invitation_id: &str,
    tr: Tr,
    origin: Origin,
) -> Result<bool, AppError> {
    let s = state.clone();
    let (org, id, base) = (org_id.to_owned(), invitation_id.to_owned(), state.config.base_url().to_owned());
    let sent = state
        .db
        .write(move |c| {
            let now = s.clock.now();
            let Some(inv) = invitations::find(c, &id)? else { return Ok(false) };
            // Pending ones, also past their expiry: resending is how an expired invitation is renewed.
            if inv.organization_id != org || inv.status != InvitationStatus::Pending {
                return Ok(false);
            }
            let secret = SecretToken::generate(&mut rand::rng());
            if !invitations::renew(c, &id, &secret.hash(), now + INVITATION_LIFETIME)? {
                return Ok(false);
            }
            let name = users::find_by_email(c, &tunnus_core::Email::from_trusted(inv.email.clone()))?
                .map(|u| u.given_name)
                .unwrap_or_default();
            let link = format!("{base}/invite?token={}", secret.expose());
            let mail = ActionEmail {
                kind: ActionEmailKind::Invitation,
                to: &inv.email,
                name: &name,
                link: &link,
                valid_hours: Some(INVITATION_LIFETIME.whole_hours()),
                org: Some(&inv.organization_name),
            }
            .render(&tr)
            .map_err(|e| StoreError::corrupt(format!("email template: {e}")))?;
            tunnus_mail::queue(c, &mail, now)?;
            audit::record(
                c,
                "invitation.resent",
                actor.as_deref(),
                &origin,
                json!({"invitation": id, "organization": org}),
                now,
            )?;
            Ok(true)
        })
        .await?;
    state.mail_waker.notify_one();
    Ok(sent)
}
