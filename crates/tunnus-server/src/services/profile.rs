//! A person's own account: editing details, changing the sign-in address,
//! deleting the account and downloading its data. Every change that needs
//! the password checks it here, throttled like sign-in, because a stolen
//! session must not be enough to take an account over or destroy it.

use serde_json::json;
use time::Duration;
use tunnus_core::action::{ActionPurpose, ActionToken, LinkProblem};
use tunnus_core::password::Verified;
use tunnus_core::profile::{DetailsInput, FieldProblem};
use tunnus_core::session::SsoSession;
use tunnus_core::{Email, EmailError, Password, SecretToken, User};
use tunnus_i18n::Tr;
use tunnus_mail::{ActionEmail, ActionEmailKind};
use tunnus_store::audit::AuditEvent;
use tunnus_store::{StoreError, consents, orgs, tokens, users};

use super::accounts::{link_hours, link_path, preferred_tr};
use super::audit::{self, Origin};
use super::{sessions, throttle};
use crate::error::AppError;
use crate::http::context;
use crate::state::AppState;

/// Why an address change was not started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailChangeProblem {
    Invalid(EmailError),
    SameAddress,
    /// Another identity has it (in any letter case).
    Taken,
    /// The password was wrong or, for an identity without one, the last sign-in is not recent.
    NotConfirmed,
}

/// Why a confirmation link did not change the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmProblem {
    Link(LinkProblem),
    /// The browser is signed in as somebody else than the link's owner.
    OtherAccount,
    /// Another identity took the address in the meantime.
    Taken,
}

/// The optional details: (job title, phone).
pub async fn details(state: &AppState, user: &User) -> Result<(Option<String>, Option<String>), AppError> {
    let id = user.id.clone();
    Ok(state.db.read(move |c| users::details(c, &id)).await?)
}

pub async fn update_details(
    state: &AppState,
    user: &User,
    input: &DetailsInput,
    origin: Origin,
) -> Result<Result<(), Vec<FieldProblem>>, AppError> {
    let details = match input.validate() {
        Ok(d) => d,
        Err(problems) => return Ok(Err(problems)),
    };
    let (id, now) = (user.id.clone(), state.clock.now());
    state
        .db
        .write(move |c| {
            users::set_details(c, &id, &details, now)?;
            audit::record(c, "profile.updated", Some(id.as_str()), &origin, json!({}), now)
        })
        .await?;
    Ok(Ok(()))
}

/// Whether the signed-in person confirmed a weighty action: with their
/// password, or — an identity without one signs in only through an upstream
/// provider — by having signed in within the last few minutes (a stolen
/// session cookie alone is not enough either way).
async fn confirmed(state: &AppState, user: &User, session: &SsoSession, password: Password) -> Result<bool, AppError> {
    if user.password_hash.is_none() {
        return Ok(session.signed_in_recently(state.clock.now()));
    }
    password_matches(state, user, password).await
}

/// Checks the password of the signed-in person, counting failures against
/// the same per-account limit as sign-in.
async fn password_matches(state: &AppState, user: &User, password: Password) -> Result<bool, AppError> {
    let limit = state.config.throttle.sign_in_failures_per_account;
    throttle::check(state, "sign-in-account", user.email.as_str(), limit).await?;
    let verified = match user.password_hash.clone() {
        Some(hash) => {
            state.hashing(move |h| h.verify(&password, &hash)).await?.map_err(|e| AppError::internal(e.to_string()))?
        }
        None => {
            state.hashing(move |h| h.verify_dummy(&password)).await?;
            Verified::No
        }
    };
    if matches!(verified, Verified::No) {
        throttle::count(state, "sign-in-account", user.email.as_str(), limit).await?;
        return Ok(false);
    }
    Ok(true)
}

/// Starts an address change: a confirmation link to the new address and a
/// notice to the old one. Nothing changes until the link is followed, so
/// sign-in keeps working with the old address meanwhile.
pub async fn request_email_change(
    state: &AppState,
    user: &User,
    session: &SsoSession,
    new_address: &str,
    password: Password,
    tr: Tr,
    origin: Origin,
) -> Result<Result<Email, EmailChangeProblem>, AppError> {
    let new = match Email::parse(new_address) {
        Ok(e) => e,
        Err(e) => return Ok(Err(EmailChangeProblem::Invalid(e))),
    };
    if new == user.email {
        return Ok(Err(EmailChangeProblem::SameAddress));
    }
    if !confirmed(state, user, session, password).await? {
        return Ok(Err(EmailChangeProblem::NotConfirmed));
    }
    let now = state.clock.now();
    let hours = link_hours(state, ActionPurpose::ConfirmEmailChange);
    let link_base = format!("{}{}", state.config.base_url(), link_path(ActionPurpose::ConfirmEmailChange));
    let (person, target) = (user.clone(), new.clone());
    let tr = preferred_tr(user, &tr);
    let outcome = state
        .db
        .write(move |c| {
            if users::find_by_email(c, &target)?.is_some() {
                return Ok(Err(EmailChangeProblem::Taken));
            }
            tokens::retire_all(c, &person.id, ActionPurpose::ConfirmEmailChange, now)?;
            let secret = SecretToken::generate(&mut rand::rng());
            let token = ActionToken {
                purpose: ActionPurpose::ConfirmEmailChange,
                user_id: person.id.clone(),
                created_at: now,
                expires_at: ActionToken::expiry_for(now, Duration::hours(hours)),
                used_at: None,
            };
            tokens::insert_email_change(c, &secret.hash(), &token, &target)?;
            let link = format!("{link_base}?token={}", secret.expose());
            let forgot = format!("{}/password/forgot", link_base.trim_end_matches("/profile/email/confirm"));
            for (kind, to, link, valid) in [
                (ActionEmailKind::ConfirmEmailChange, target.as_str(), link.as_str(), Some(hours)),
                (ActionEmailKind::EmailChangeNotice, person.email.as_str(), forgot.as_str(), None),
            ] {
                let email = ActionEmail { kind, to, name: &person.given_name, link, valid_hours: valid, org: None }
                    .render(&tr)
                    .map_err(|e| StoreError::corrupt(format!("email template: {e}")))?;
                tunnus_mail::queue(c, &email, now)?;
            }
            audit::record(c, "email_change.requested", Some(person.id.as_str()), &origin, json!({}), now)?;
            Ok(Ok(target))
        })
        .await?;
    state.mail_waker.notify_one();
    Ok(outcome)
}

/// The confirmation link: checks it without using it (for the page that
/// asks to confirm), returning the new address.
pub async fn check_email_change(state: &AppState, token: &str) -> Result<Result<(User, Email), LinkProblem>, AppError> {
    let Some(secret) = SecretToken::from_presented(token) else { return Ok(Err(LinkProblem::Unknown)) };
    let hash = secret.hash();
    let now = state.clock.now();
    let found = state
        .db
        .read(move |c| {
            let Some(token) = tokens::find(c, &hash)? else { return Ok(None) };
            let new = tokens::new_email_of(c, &hash)?;
            Ok(users::find_by_id(c, &token.user_id)?.map(|u| (token, u, new)))
        })
        .await?;
    Ok(match found {
        Some((token, user, Some(new))) => token.usable(now, ActionPurpose::ConfirmEmailChange).map(|()| (user, new)),
        _ => Err(LinkProblem::Unknown),
    })
}

/// Follows a confirmation link: the address changes; memberships, groups
/// and licenses stay with the identity.
pub async fn confirm_email_change(
    state: &AppState,
    token: &str,
    signed_in: Option<&User>,
    origin: Origin,
) -> Result<Result<User, ConfirmProblem>, AppError> {
    let (user, new) = match check_email_change(state, token).await? {
        Ok(found) => found,
        Err(problem) => return Ok(Err(ConfirmProblem::Link(problem))),
    };
    if signed_in.is_some_and(|s| s.id != user.id) {
        return Ok(Err(ConfirmProblem::OtherAccount));
    }
    let Some(secret) = SecretToken::from_presented(token) else {
        return Ok(Err(ConfirmProblem::Link(LinkProblem::Unknown)));
    };
    let (hash, now, id) = (secret.hash(), state.clock.now(), user.id.clone());
    let outcome = state
        .db
        .write(move |c| {
            if users::find_by_email(c, &new)?.is_some() {
                return Ok(Err(ConfirmProblem::Taken));
            }
            if !tokens::consume(c, &hash, ActionPurpose::ConfirmEmailChange, now)? {
                return Ok(Err(ConfirmProblem::Link(LinkProblem::AlreadyUsed)));
            }
            match users::change_email(c, &id, &new, now) {
                Err(e) if e.is_conflict() => return Ok(Err(ConfirmProblem::Taken)),
                other => other?,
            }
            tokens::retire_all(c, &id, ActionPurpose::ConfirmEmailChange, now)?;
            audit::record(c, "email_change.confirmed", Some(id.as_str()), &origin, json!({}), now)?;
            Ok(Ok(()))
        })
        .await?;
    if let Err(problem) = outcome {
        return Ok(Err(problem));
    }
    let id = user.id.clone();
    Ok(Ok(state.db.read(move |c| users::find_by_id(c, &id)).await?.ok_or(AppError::NotFound)?))
}

/// Deletes an account: every session ends (relying parties are told), then
/// in one transaction the identity and everything hanging off it goes
/// (memberships, groups, licenses, consents, refresh tokens, links — by
/// foreign-key cascade), invitations to the address are removed, legacy
/// accounts imported into it keep their id but lose the address, and the
/// audit trail is kept without IP addresses or the address.
pub async fn delete_account(
    state: &AppState,
    user: &User,
    session: &SsoSession,
    password: Password,
) -> Result<bool, AppError> {
    if !confirmed(state, user, session, password).await? {
        return Ok(false);
    }
    sessions::end_all(state, &user.id).await?;
    let (id, email, now) = (user.id.clone(), user.email.clone(), state.clock.now());
    state
        .db
        .write(move |c| {
            tunnus_store::invitations::delete_for_email(c, email.as_str())?;
            tunnus_store::audit::anonymise(c, id.as_str(), email.as_str())?;
            tunnus_store::legacy::forget_person(c, id.as_str())?;
            users::delete(c, &id)?;
            let event = AuditEvent {
                kind: "account.deleted",
                actor_user_id: Some(id.to_string()),
                subject_user_id: Some(id.to_string()),
                ip: None,
                request_id: Some(context::current().request_id),
                detail: json!({}),
            };
            tunnus_store::audit::record(c, &event, now)
        })
        .await?;
    Ok(true)
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Everything Tunnus holds about a person, as JSON (GDPR art. 15 / 20).
pub async fn export(state: &AppState, user: &User) -> Result<serde_json::Value, AppError> {
    let rights = state.provider.access_rights(user.id.as_str()).await?;
    let live = sessions::list(state, &user.id).await?;
    let id = user.id.clone();
    let (details, facts, acceptances, consent_rows, events, links) = state
        .db
        .read(move |c| {
            Ok((
                users::details(c, &id)?,
                orgs::access_facts(c, id.as_str())?,
                tunnus_store::terms::acceptances_of(c, &id)?,
                consents::of_user(c, id.as_str())?,
                tunnus_store::audit::about(c, id.as_str())?,
                tunnus_store::federated::of_user(c, &id)?,
            ))
        })
        .await?;
    Ok(json!({
        "identity": {
            "id": user.id.as_str(),
            "email": user.email.as_str(),
            "email_verified_at": user.email_verified_at.map(rfc3339),
            "given_name": user.given_name,
            "family_name": user.family_name,
            "country": user.country.code(),
            "job_title": details.0,
            "phone": details.1,
            "preferred_language": user.preferred_language,
            "status": user.status.as_str(),
            "has_password": user.password_hash.is_some(),
            "created_at": rfc3339(user.created_at),
            "updated_at": rfc3339(user.updated_at),
        },
        "memberships": facts.memberships.iter().map(|m| json!({
            "organization": m.org_name, "organization_id": m.org_id,
            "membership": m.kind.as_str(), "role": m.role.as_str(),
        })).collect::<Vec<_>>(),
        "groups": rights.groups,
        "entitlements": rights.entitlements,
        "terms_acceptances": acceptances.iter().map(|(kind, version, at)| json!({
            "document": kind, "version": version, "accepted_at": rfc3339(*at),
        })).collect::<Vec<_>>(),
        "consents": consent_rows.iter().map(|(client, scopes)| json!({"client_id": client, "scopes": scopes})).collect::<Vec<_>>(),
        "linked_accounts": links.iter().map(|l| json!({
            "provider": l.provider, "subject": l.subject, "email": l.email, "linked_at": rfc3339(l.created_at),
        })).collect::<Vec<_>>(),
        "sessions": live.iter().map(|s| json!({
            "sid": s.sid, "signed_in_at": rfc3339(s.auth_time), "last_seen": rfc3339(s.last_seen),
            "ip": s.ip, "user_agent": s.user_agent,
        })).collect::<Vec<_>>(),
        "audit_events": events.iter().map(|e| json!({
            "at": rfc3339(e.at), "event": e.kind, "ip": e.ip, "request_id": e.request_id,
            "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or(serde_json::Value::Null),
        })).collect::<Vec<_>>(),
    }))
}
