//! The account life cycle: sign-up, the emailed set-password link that
//! verifies the address, sign-in, forgot / reset password.

use serde_json::json;
use time::Duration;
use tunnus_core::action::{ActionPurpose, LinkProblem};
use tunnus_core::password::{PasswordViolation, Verified};
use tunnus_core::profile::SignUp;
use tunnus_core::terms::TermsKind;
use tunnus_core::user::SignInRefusal;
use tunnus_core::{Email, Password, SecretToken, User, UserId, UserStatus};
use tunnus_i18n::Tr;
use tunnus_mail::{ActionEmail, ActionEmailKind};
use tunnus_store::{DbConnection, StoreError, StoreResult, terms, tokens, users};

use crate::error::AppError;
use crate::services::audit::{self, Origin};
use crate::services::throttle;
use crate::state::AppState;

/// What the sign-up page says next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpOutcome {
    /// A set-password link is on its way (or, in privacy mode, maybe a notice).
    LinkSent,
    /// The address already has a verified account (only when revealing is allowed).
    AlreadyRegistered,
}

/// What "Forgot password?" says next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgotOutcome {
    Sent,
    UnknownAccount,
}

/// Why a password could not be set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetPasswordError {
    Link(LinkProblem),
    Mismatch,
    Policy(Vec<PasswordViolation>),
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInError {
    WrongCredentials,
    Refused(SignInRefusal),
}

pub(crate) fn link_path(purpose: ActionPurpose) -> &'static str {
    match purpose {
        ActionPurpose::SetPassword => "/password/set",
        ActionPurpose::ResetPassword => "/password/reset",
        ActionPurpose::ConfirmEmailChange => "/profile/email/confirm",
    }
}

pub(crate) fn link_hours(state: &AppState, purpose: ActionPurpose) -> i64 {
    match purpose {
        ActionPurpose::SetPassword => state.config.links.set_password_hours,
        ActionPurpose::ResetPassword => state.config.links.reset_password_hours,
        ActionPurpose::ConfirmEmailChange => state.config.links.confirm_email_change_hours,
    }
}

/// Emails go out in the person's preferred language when they have one.
pub(crate) fn preferred_tr(user: &User, fallback: &Tr) -> Tr {
    user.preferred_language.as_deref().and_then(tunnus_i18n::Lang::from_tag).map_or(*fallback, Tr::new)
}

/// Creates a link token (retiring older ones of the same purpose) and queues
/// the email carrying it, in the caller's transaction.
fn issue_link(
    conn: &mut DbConnection,
    state: &AppState,
    user: &User,
    purpose: ActionPurpose,
    tr: &Tr,
    now: time::OffsetDateTime,
) -> StoreResult<()> {
    let tr = &preferred_tr(user, tr);
    let hours = link_hours(state, purpose);
    let secret = tokens::issue(conn, &user.id, purpose, now, Duration::hours(hours))?;
    let link = format!("{}{}?token={}", state.config.base_url(), link_path(purpose), secret.expose());
    let kind = match purpose {
        ActionPurpose::SetPassword => ActionEmailKind::SetPassword,
        ActionPurpose::ResetPassword => ActionEmailKind::ResetPassword,
        ActionPurpose::ConfirmEmailChange => ActionEmailKind::ConfirmEmailChange,
    };
    let email = ActionEmail {
        kind,
        to: user.email.as_str(),
        name: &user.given_name,
        link: &link,
        valid_hours: Some(hours),
        org: None,
    }
    .render(tr)
    .map_err(|e| StoreError::corrupt(format!("email template: {e}")))?;
    tunnus_mail::queue(conn, &email, now)
}

fn queue_notice(
    conn: &mut DbConnection,
    state: &AppState,
    user: &User,
    tr: &Tr,
    now: time::OffsetDateTime,
) -> StoreResult<()> {
    let tr = &preferred_tr(user, tr);
    let link = format!("{}/login", state.config.base_url());
    let email = ActionEmail {
        kind: ActionEmailKind::AccountExists,
        to: user.email.as_str(),
        name: &user.given_name,
        link: &link,
        valid_hours: None,
        org: None,
    }
    .render(tr)
    .map_err(|e| StoreError::corrupt(format!("email template: {e}")))?;
    tunnus_mail::queue(conn, &email, now)
}

/// Registers a person (or refreshes a registration that was never finished)
/// and sends the set-password link. All or nothing: the identity, its terms
/// acceptances, the link and the email are stored in one transaction.
pub async fn sign_up(state: &AppState, input: SignUp, tr: Tr, origin: Origin) -> Result<SignUpOutcome, AppError> {
    throttle::hit(state, "sign-up-ip", &origin.ip, state.config.throttle.sign_up_per_ip).await?;
    throttle::hit(state, "email-link-account", input.email.as_str(), state.config.throttle.email_link_per_account)
        .await?;
    let reveal = state.config.reveal_unknown_accounts;
    let attempt = |state: AppState, input: SignUp, origin: Origin| async move {
        let s = state.clone();
        state
            .db
            .write(move |conn| {
                let now = s.clock.now();
                match users::find_by_email(conn, &input.email)? {
                    None => {
                        let user = User {
                            id: UserId::new_v7(),
                            email: input.email.clone(),
                            email_verified_at: None,
                            password_hash: None,
                            given_name: input.given_name.clone(),
                            family_name: input.family_name.clone(),
                            country: input.country,
                            preferred_language: Some(tr.lang_tag().to_owned()),
                            status: UserStatus::Unverified,
                            created_at: now,
                            updated_at: now,
                        };
                        users::insert(conn, &user)?;
                        for kind in [TermsKind::Terms, TermsKind::Privacy] {
                            let doc = terms::current(conn, kind, now)?.ok_or_else(|| {
                                StoreError::corrupt(format!("no published {} document", kind.as_str()))
                            })?;
                            terms::record_acceptance(conn, &user.id, &doc, now)?;
                        }
                        issue_link(conn, &s, &user, ActionPurpose::SetPassword, &tr, now)?;
                        audit::record(conn, "account.created", Some(user.id.as_str()), &origin, json!({}), now)?;
                        Ok(SignUpOutcome::LinkSent)
                    }
                    Some(user) if user.status == UserStatus::Unverified => {
                        users::update_unverified_profile(
                            conn,
                            &user.id,
                            &input.given_name,
                            &input.family_name,
                            &input.country,
                            now,
                        )?;
                        issue_link(conn, &s, &user, ActionPurpose::SetPassword, &tr, now)?;
                        Ok(SignUpOutcome::LinkSent)
                    }
                    Some(_) if reveal => Ok(SignUpOutcome::AlreadyRegistered),
                    Some(user) => {
                        // Same answer as a new sign-up; the owner learns of it by email.
                        queue_notice(conn, &s, &user, &tr, now)?;
                        Ok(SignUpOutcome::LinkSent)
                    }
                }
            })
            .await
    };
    let outcome = match attempt(state.clone(), input.clone(), origin.clone()).await {
        // Two sign-ups for one address raced; the second now sees the first.
        Err(e) if e.is_conflict() => attempt(state.clone(), input, origin).await?,
        other => other?,
    };
    state.mail_waker.notify_one();
    Ok(outcome)
}

/// Sends a fresh set-password link if the account still awaits verification.
/// Answers the same whatever the account's state.
pub async fn resend_verification(state: &AppState, email: Email, tr: Tr, origin: Origin) -> Result<(), AppError> {
    throttle::hit(state, "email-link-ip", &origin.ip, state.config.throttle.email_link_per_ip).await?;
    throttle::hit(state, "email-link-account", email.as_str(), state.config.throttle.email_link_per_account).await?;
    let s = state.clone();
    state
        .db
        .write(move |conn| {
            let now = s.clock.now();
            if let Some(user) = users::find_by_email(conn, &email)?
                && user.status == UserStatus::Unverified
            {
                issue_link(conn, &s, &user, ActionPurpose::SetPassword, &tr, now)?;
            }
            Ok(())
        })
        .await?;
    state.mail_waker.notify_one();
    Ok(())
}

/// "Forgot password?": a reset link for a verified account, the set-password
/// link again for one never verified.
pub async fn forgot_password(
    state: &AppState,
    email: Email,
    tr: Tr,
    origin: Origin,
) -> Result<ForgotOutcome, AppError> {
    throttle::hit(state, "email-link-ip", &origin.ip, state.config.throttle.email_link_per_ip).await?;
    throttle::hit(state, "email-link-account", email.as_str(), state.config.throttle.email_link_per_account).await?;
    let s = state.clone();
    let outcome = state
        .db
        .write(move |conn| {
            let now = s.clock.now();
            let Some(user) = users::find_by_email(conn, &email)? else {
                return Ok(ForgotOutcome::UnknownAccount);
            };
            match user.status {
                UserStatus::Active => {
                    issue_link(conn, &s, &user, ActionPurpose::ResetPassword, &tr, now)?;
                    audit::record(conn, "password.reset_requested", Some(user.id.as_str()), &origin, json!({}), now)?;
                }
                UserStatus::Unverified => issue_link(conn, &s, &user, ActionPurpose::SetPassword, &tr, now)?,
                UserStatus::Disabled => {}
            }
            Ok(ForgotOutcome::Sent)
        })
        .await?;
    state.mail_waker.notify_one();
    Ok(outcome)
}

/// The person a link belongs to, if the link can still be used.
pub async fn check_link(
    state: &AppState,
    token: &str,
    purpose: ActionPurpose,
) -> Result<Result<User, LinkProblem>, AppError> {
    let Some(secret) = SecretToken::from_presented(token) else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let now = state.clock.now();
    let hash = secret.hash();
    let found = state
        .db
        .read(move |conn| {
            let Some(token) = tokens::find(conn, &hash)? else { return Ok(None) };
            Ok(users::find_by_id(conn, &token.user_id)?.map(|u| (token, u)))
        })
        .await?;
    Ok(match found {
        None => Err(LinkProblem::Unknown),
        Some((token, user)) => token.usable(now, purpose).map(|()| user),
    })
}

/// Sets a password through an emailed link: verifies the address (first
/// password), consumes the link, retires the person's other links.
pub async fn set_password(
    state: &AppState,
    token: &str,
    purpose: ActionPurpose,
    password: Password,
    confirmation: &Password,
    origin: Origin,
) -> Result<Result<User, SetPasswordError>, AppError> {
    let user = match check_link(state, token, purpose).await? {
        Ok(user) => user,
        Err(problem) => return Ok(Err(SetPasswordError::Link(problem))),
    };
    if password.expose() != confirmation.expose() {
        return Ok(Err(SetPasswordError::Mismatch));
    }
    let violations = state.config.password_policy.check(&password, Some(&user.email));
    if !violations.is_empty() {
        return Ok(Err(SetPasswordError::Policy(violations)));
    }
    let hash = state.hashing(move |h| h.hash(&password)).await?.map_err(|e| AppError::internal(e.to_string()))?;
    let Some(secret) = SecretToken::from_presented(token) else {
        return Ok(Err(SetPasswordError::Link(LinkProblem::Unknown)));
    };
    let s = state.clone();
    let uid = user.id.clone();
    let email = user.email.clone();
    let consumed = state
        .db
        .write(move |conn| {
            let now = s.clock.now();
            if !tokens::consume(conn, &secret.hash(), purpose, now)? {
                return Ok(false);
            }
            users::set_password_and_verify(conn, &uid, &hash, now)?;
            for other in [ActionPurpose::SetPassword, ActionPurpose::ResetPassword] {
                tokens::retire_all(conn, &uid, other, now)?;
            }
            let kind = if purpose == ActionPurpose::SetPassword { "account.verified" } else { "password.reset" };
            audit::record(conn, kind, Some(uid.as_str()), &origin, json!({}), now)?;
            if purpose == ActionPurpose::SetPassword {
                // A legacy account skipped as unverified joins the identity that now proved its email.
                super::legacy::link_on_verification(conn, &uid, email.as_str(), &origin, now)?;
            }
            Ok(true)
        })
        .await?;
    if !consumed {
        // Someone used it between our check and our write.
        return Ok(Err(SetPasswordError::Link(LinkProblem::AlreadyUsed)));
    }
    // A new password ends every existing session (a reset after a compromise must lock the intruder out).
    super::sessions::end_all(state, &user.id).await?;
    let id = user.id.clone();
    let user = state.db.read(move |c| users::find_by_id(c, &id)).await?.ok_or(AppError::NotFound)?;
    Ok(Ok(user))
}

/// Checks an email and password. Takes the same Argon2 time whether or not
/// the account exists, and throttles per address and per account. Every
/// attempt is counted in `tunnus_sign_ins_total` by outcome.
pub async fn sign_in(
    state: &AppState,
    email_input: &str,
    password: Password,
    origin: Origin,
) -> Result<Result<User, SignInError>, AppError> {
    let result = check_credentials(state, email_input, password, origin).await;
    crate::http::metrics::sign_in(match &result {
        Ok(Ok(_)) => "success",
        Ok(Err(SignInError::WrongCredentials)) => "wrong_credentials",
        Ok(Err(SignInError::Refused(SignInRefusal::Unverified))) => "unverified",
        Ok(Err(SignInError::Refused(SignInRefusal::Disabled))) => "disabled",
        Ok(Err(SignInError::Refused(SignInRefusal::NoPassword))) => "no_password",
        Err(AppError::Throttled { .. }) => "throttled",
        Err(AppError::Unavailable(_)) => "unavailable",
        Err(_) => "error",
    });
    result
}

async fn check_credentials(
    state: &AppState,
    email_input: &str,
    password: Password,
    origin: Origin,
) -> Result<Result<User, SignInError>, AppError> {
    let limits = &state.config.throttle;
    throttle::hit(state, "sign-in-ip", &origin.ip, limits.sign_in_per_ip).await?;
    let Ok(email) = Email::parse(email_input) else {
        state.hashing(move |h| h.verify_dummy(&password)).await?;
        return Ok(Err(SignInError::WrongCredentials));
    };
    throttle::check(state, "sign-in-account", email.as_str(), limits.sign_in_failures_per_account).await?;
    let lookup = email.clone();
    let user = state.db.read(move |c| users::find_by_email(c, &lookup)).await?;
    let stored_hash = match &user {
        None => None,
        Some(u) => match u.password_sign_in_allowed() {
            Ok(hash) => Some(hash.to_owned()),
            Err(SignInRefusal::Disabled) => u.password_hash.clone(),
            Err(refusal) => {
                state.hashing(move |h| h.verify_dummy(&password)).await?;
                return Ok(Err(SignInError::Refused(refusal)));
            }
        },
    };
    let verified = match stored_hash {
        Some(hash) => {
            state.hashing(move |h| h.verify(&password, &hash)).await?.map_err(|e| AppError::internal(e.to_string()))?
        }
        None => {
            state.hashing(move |h| h.verify_dummy(&password)).await?;
            Verified::No
        }
    };
    let now = state.clock.now();
    let Some(user) = user else {
        throttle::count(state, "sign-in-account", email.as_str(), limits.sign_in_failures_per_account).await?;
        return Ok(Err(SignInError::WrongCredentials));
    };
    let uid = user.id.clone();
    match verified {
        Verified::No => {
            throttle::count(state, "sign-in-account", email.as_str(), limits.sign_in_failures_per_account).await?;
            // One INSERT, no directory change: sent without BEGIN and COMMIT.
            state
                .db
                .write_statement(move |c| {
                    audit::record(c, "sign_in.failed", Some(uid.as_str()), &origin, json!({}), now)
                })
                .await?;
            Ok(Err(SignInError::WrongCredentials))
        }
        _ if user.status == UserStatus::Disabled => Ok(Err(SignInError::Refused(SignInRefusal::Disabled))),
        Verified::Yes | Verified::YesRehashed(_) => {
            let record = move |c: &mut DbConnection| {
                audit::record(c, "sign_in.succeeded", Some(uid.as_str()), &origin, json!({"amr": ["pwd"]}), now)
            };
            match verified {
                Verified::YesRehashed(h) => {
                    let uid = user.id.clone();
                    state
                        .db
                        .write(move |c| {
                            users::update_password_hash(c, &uid, &h)?;
                            record(c)
                        })
                        .await?;
                }
                // The usual case: one INSERT, no directory change, so it is
                // sent without BEGIN and COMMIT (two PostgreSQL round trips
                // fewer per sign-in, and no catching up by the directory listener).
                _ => state.db.write_statement(record).await?,
            }
            Ok(Ok(user))
        }
    }
}
