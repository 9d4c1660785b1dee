//! Identities and upstream accounts: signing in through a linked upstream
//! account, creating a federated identity at a first sign-in, linking an
//! upstream account to an existing identity only after its owner proves it
//! (password or emailed link), and unlinking while another way remains.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tunnus_core::country::Country;
use tunnus_core::federation::{self, FederatedIdentity, FirstSignIn};
use tunnus_core::{Email, Password, SecretToken, TokenHash, User, UserId, UserStatus};
use tunnus_i18n::Tr;
use tunnus_mail::{ActionEmail, ActionEmailKind};
use tunnus_store::{federated, users};

use super::accounts::{self, SignInError};
use super::audit::{self, Origin};
use super::upstream::UpstreamPerson;
use crate::error::AppError;
use crate::state::AppState;

/// How long the "prove it is yours" step waits, on the page and by email.
const PROOF_TTL: Duration = Duration::from_secs(60 * 60);

/// What a sign-in through an upstream leads to.
#[derive(Debug)]
pub enum SignInOutcome {
    /// A linked identity: signed in.
    SignedIn(User),
    /// A new federated identity was created (it still accepts the terms).
    Created(User),
    /// An identity has the address; its owner must prove it first.
    ProveOwnership { proof: String, email: String },
    /// The upstream did not vouch for the address.
    UnverifiedEmail,
    /// The identity is switched off.
    Disabled,
}

/// A link waiting for its owner's proof (ephemeral store).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLink {
    pub provider: String,
    pub subject: String,
    pub email: String,
    pub user_id: String,
    pub next: String,
}

fn proof_key(id: &str) -> String {
    format!("upstream-proof:{}", TokenHash::of(id).as_str())
}

fn mail_key(token: &TokenHash) -> String {
    format!("upstream-proof-mail:{}", token.as_str())
}

/// Names and country for a new identity from what the upstream says. The
/// country comes from the locale's region (`fi-FI`), else from its language,
/// else Finland; the person can change it on their profile.
fn profile_from(person: &UpstreamPerson, email: &Email) -> (String, String, Country, Option<String>) {
    let clip = |s: &str| s.trim().chars().take(100).collect::<String>();
    let given = person.given_name.as_deref().map(clip).filter(|s| !s.is_empty());
    let given = given.unwrap_or_else(|| clip(email.as_str().split('@').next().unwrap_or("")));
    let family = person.family_name.as_deref().map(clip).unwrap_or_default();
    let locale = person.locale.as_deref().unwrap_or("");
    let mut parts = locale.split(['-', '_']);
    let lang = parts.next().unwrap_or("").to_ascii_lowercase();
    let region = parts.next().and_then(Country::parse);
    let by_lang = match lang.as_str() {
        "de" => Country::parse("DE"),
        "sv" => Country::parse("SE"),
        _ => Country::parse("FI"),
    };
    let country = region.or(by_lang).or_else(|| Country::parse("FI")).unwrap_or_else(|| Country::all()[0]);
    let preferred = tunnus_i18n::Lang::from_tag(&lang).map(|l| Tr::new(l).lang_tag().to_owned());
    (given, family, country, preferred)
}

/// Signs in with an upstream account, creating or proposing a link as needed.
pub async fn sign_in(
    state: &AppState,
    person: UpstreamPerson,
    next: String,
    origin: Origin,
) -> Result<SignInOutcome, AppError> {
    match attempt(state, person.clone(), next.clone(), origin.clone()).await? {
        // Two first sign-ins raced; the second now finds the first's link or identity.
        None => attempt(state, person, next, origin)
            .await?
            .ok_or_else(|| AppError::internal("federated sign-in raced twice")),
        Some(outcome) => Ok(outcome),
    }
}

/// One try; `None` when a concurrent first sign-in got there first.
async fn attempt(
    state: &AppState,
    person: UpstreamPerson,
    next: String,
    origin: Origin,
) -> Result<Option<SignInOutcome>, AppError> {
    let (provider, subject) = (person.provider.clone(), person.subject.clone());
    let linked = state
        .db
        .read(move |c| match federated::find(c, &provider, &subject)? {
            Some(link) => users::find_by_id(c, &link.user_id),
            None => Ok(None),
        })
        .await?;
    if let Some(user) = linked {
        if user.status != UserStatus::Active {
            return Ok(Some(SignInOutcome::Disabled));
        }
        let (uid, now, provider) = (user.id.clone(), state.clock.now(), person.provider.clone());
        state
            .db
            .write(move |c| {
                let detail = json!({"amr": ["fed"], "provider": provider});
                audit::record(c, "sign_in.federated", Some(uid.as_str()), &origin, detail, now)
            })
            .await?;
        return Ok(Some(SignInOutcome::SignedIn(user)));
    }
    let email = person.email.as_deref().and_then(|e| Email::parse(e).ok());
    let Some(email) = email else { return Ok(Some(SignInOutcome::UnverifiedEmail)) };
    let lookup = email.clone();
    let existing = state.db.read(move |c| users::find_by_email(c, &lookup)).await?;
    Ok(Some(match federation::first_sign_in(person.email_status, existing.as_ref()) {
        FirstSignIn::UnverifiedEmail => SignInOutcome::UnverifiedEmail,
        FirstSignIn::Refused => SignInOutcome::Disabled,
        FirstSignIn::ProveOwnership(user_id) => {
            let proof = SecretToken::generate(&mut rand::rng()).expose().to_owned();
            let pending = PendingLink {
                provider: person.provider,
                subject: person.subject,
                email: email.as_str().to_owned(),
                user_id: user_id.to_string(),
                next,
            };
            let value = serde_json::to_string(&pending).map_err(|e| AppError::internal(e.to_string()))?;
            state.ephemeral.put(&proof_key(&proof), &value, PROOF_TTL).await?;
            SignInOutcome::ProveOwnership { proof, email: email.as_str().to_owned() }
        }
        FirstSignIn::Create => match create(state, &person, &email, &origin).await? {
            Some(user) => SignInOutcome::Created(user),
            None => return Ok(None),
        },
    }))
}

/// Creates a federated identity: verified address, no password, active.
/// `None` if the address or the upstream account was taken meanwhile.
async fn create(
    state: &AppState,
    person: &UpstreamPerson,
    email: &Email,
    origin: &Origin,
) -> Result<Option<User>, AppError> {
    let now = state.clock.now();
    let (given, family, country, preferred) = profile_from(person, email);
    let user = User {
        id: UserId::new_v7(),
        email: email.clone(),
        email_verified_at: Some(now),
        password_hash: None,
        given_name: given,
        family_name: family,
        country,
        preferred_language: preferred,
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let link = FederatedIdentity {
        provider: person.provider.clone(),
        subject: person.subject.clone(),
        user_id: user.id.clone(),
        email: Some(email.as_str().to_owned()),
        created_at: now,
    };
    let (u, origin) = (user.clone(), origin.clone());
    let stored = state
        .db
        .write(move |c| {
            users::insert(c, &u)?;
            federated::insert(c, &link)?;
            let detail = json!({"provider": link.provider, "federated": true});
            audit::record(c, "account.created", Some(u.id.as_str()), &origin, detail, now)?;
            audit::record(c, "federation.linked", Some(u.id.as_str()), &origin, json!({"provider": link.provider}), now)
        })
        .await;
    match stored {
        Ok(()) => Ok(Some(user)),
        Err(e) if e.is_conflict() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Stores a link after the owner proved the identity; already linked to
/// this identity is fine, linked to another one is refused (`false`).
pub async fn link(
    state: &AppState,
    user: &UserId,
    provider: &str,
    subject: &str,
    email: Option<String>,
    origin: Origin,
    proof: &'static str,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    let link = FederatedIdentity {
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        user_id: user.clone(),
        email,
        created_at: now,
    };
    let result = state
        .db
        .write(move |c| {
            if let Some(existing) = federated::find(c, &link.provider, &link.subject)? {
                return Ok(existing.user_id == link.user_id);
            }
            federated::insert(c, &link)?;
            let detail = json!({"provider": link.provider, "proof": proof});
            audit::record(c, "federation.linked", Some(link.user_id.as_str()), &origin, detail, now)?;
            Ok(true)
        })
        .await;
    match result {
        Err(e) if e.is_conflict() => Ok(false),
        other => Ok(other?),
    }
}

/// The link waiting for proof under `proof`, if it is still there.
pub async fn pending(state: &AppState, proof: &str) -> Result<Option<PendingLink>, AppError> {
    if SecretToken::from_presented(proof).is_none() {
        return Ok(None);
    }
    let raw = state.ephemeral.get(&proof_key(proof)).await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// Why a password proof failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    Expired,
    WrongPassword,
    /// The identity has no password (it signs in through another upstream).
    NoPassword,
}

/// Proves ownership with the identity's password, then links and returns
/// the identity (to sign in) and where to go next.
pub async fn prove_with_password(
    state: &AppState,
    proof: &str,
    password: Password,
    origin: Origin,
) -> Result<Result<(User, String), ProofError>, AppError> {
    let Some(link) = pending(state, proof).await? else { return Ok(Err(ProofError::Expired)) };
    let user = match accounts::sign_in(state, &link.email, password, origin.clone()).await? {
        Ok(user) if user.id.as_str() == link.user_id => user,
        Ok(_) => return Ok(Err(ProofError::Expired)),
        Err(SignInError::Refused(tunnus_core::user::SignInRefusal::NoPassword)) => {
            return Ok(Err(ProofError::NoPassword));
        }
        Err(_) => return Ok(Err(ProofError::WrongPassword)),
    };
    // Single use: a second submission finds nothing.
    if state.ephemeral.take(&proof_key(proof)).await?.is_none() {
        return Ok(Err(ProofError::Expired));
    }
    if !link_pending(state, &link, origin, "password").await? {
        return Ok(Err(ProofError::Expired));
    }
    Ok(Ok((user, link.next)))
}

async fn link_pending(
    state: &AppState,
    link: &PendingLink,
    origin: Origin,
    proof: &'static str,
) -> Result<bool, AppError> {
    let user = UserId::from_stored(link.user_id.clone());
    self::link(state, &user, &link.provider, &link.subject, Some(link.email.clone()), origin, proof).await
}

/// Emails the identity's owner a link that completes the pending link.
pub async fn send_proof_email(state: &AppState, proof: &str, tr: Tr, origin: Origin) -> Result<bool, AppError> {
    let Some(link) = pending(state, proof).await? else { return Ok(false) };
    super::throttle::hit(state, "email-link-ip", &origin.ip, state.config.throttle.email_link_per_ip).await?;
    super::throttle::hit(state, "email-link-account", &link.email, state.config.throttle.email_link_per_account)
        .await?;
    let token = SecretToken::generate(&mut rand::rng());
    let value = serde_json::to_string(&link).map_err(|e| AppError::internal(e.to_string()))?;
    state.ephemeral.put(&mail_key(&token.hash()), &value, PROOF_TTL).await?;
    let uid = UserId::from_stored(link.user_id.clone());
    let user = state.db.read(move |c| users::find_by_id(c, &uid)).await?.ok_or(AppError::NotFound)?;
    let provider = super::upstream::find(state, &link.provider).map_or(link.provider.clone(), |u| u.name.clone());
    let url = format!("{}/login/upstream/confirm?token={}", state.config.base_url(), token.expose());
    let tr = user.preferred_language.as_deref().and_then(tunnus_i18n::Lang::from_tag).map_or(tr, Tr::new);
    let email = ActionEmail {
        kind: ActionEmailKind::ConfirmUpstreamLink,
        to: user.email.as_str(),
        name: &user.given_name,
        link: &url,
        valid_hours: Some(1),
        org: Some(&provider),
    }
    .render(&tr)
    .map_err(|e| AppError::internal(format!("email template: {e}")))?;
    let now = state.clock.now();
    state.db.write(move |c| tunnus_mail::queue(c, &email, now)).await?;
    state.mail_waker.notify_one();
    Ok(true)
}

/// Follows the emailed link: links the upstream account. Returns the
/// provider's id, or `None` if the link is unknown, used or expired.
pub async fn prove_with_email(state: &AppState, token: &str, origin: Origin) -> Result<Option<String>, AppError> {
    let Some(secret) = SecretToken::from_presented(token) else { return Ok(None) };
    let raw = state.ephemeral.take(&mail_key(&secret.hash())).await?;
    let Some(link) = raw.and_then(|r| serde_json::from_str::<PendingLink>(&r).ok()) else { return Ok(None) };
    // The address must still belong to that identity.
    let uid = UserId::from_stored(link.user_id.clone());
    let user = state.db.read(move |c| users::find_by_id(c, &uid)).await?;
    if !user.is_some_and(|u| u.email.as_str() == link.email && u.status != UserStatus::Disabled) {
        return Ok(None);
    }
    Ok(link_pending(state, &link, origin, "email").await?.then_some(link.provider))
}

/// A person's linked upstream accounts.
pub async fn links(state: &AppState, user: &UserId) -> Result<Vec<FederatedIdentity>, AppError> {
    let id = user.clone();
    Ok(state.db.read(move |c| federated::of_user(c, &id)).await?)
}

/// Why an unlink was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkError {
    NotLinked,
    /// It is the only way left to sign in.
    LastWay,
}

/// Removes the person's link to `provider`, if another way to sign in remains.
pub async fn unlink(
    state: &AppState,
    user: &UserId,
    provider: &str,
    origin: Origin,
) -> Result<Result<(), UnlinkError>, AppError> {
    let (uid, provider, now) = (user.clone(), provider.to_owned(), state.clock.now());
    let outcome = state
        .db
        .write(move |c| {
            let all = federated::of_user(c, &uid)?;
            if !all.iter().any(|l| l.provider == provider) {
                return Ok(Err(UnlinkError::NotLinked));
            }
            let has_password = users::find_by_id(c, &uid)?.is_some_and(|u| u.password_hash.is_some());
            let others = all.iter().filter(|l| l.provider != provider).count();
            if !federation::may_unlink(has_password, others + 1) {
                return Ok(Err(UnlinkError::LastWay));
            }
            federated::delete(c, &uid, &provider)?;
            audit::record(c, "federation.unlinked", Some(uid.as_str()), &origin, json!({"provider": provider}), now)?;
            Ok(Ok(()))
        })
        .await?;
    Ok(outcome)
}
