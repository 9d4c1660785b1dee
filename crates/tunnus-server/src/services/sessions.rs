//! SSO sessions in the short-lived store. The cookie holds a random secret;
//! the store keys the session by the secret's hash, so a leaked store dump
//! holds no usable cookie. A per-person index lists their sessions (for
//! "sign out everywhere").

use std::time::Duration;

use tunnus_core::session::SsoSession;
use tunnus_core::{SecretToken, TokenHash, UserId};

use tunnus_oidc::Provider;

use crate::error::AppError;
use crate::services::audit::Origin;
use crate::state::AppState;

pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-tunnus_session" } else { "tunnus_session" }
}

fn session_key(hash: &TokenHash) -> String {
    format!("session:{}", hash.as_str())
}

fn index_key(user: &UserId) -> String {
    format!("user-sessions:{}", user.as_str())
}

fn ttl(state: &AppState, session: &SsoSession) -> Duration {
    let remaining = session.expires_at(state.session_lifetime()) - state.clock.now();
    Duration::from_secs(remaining.whole_seconds().max(1).unsigned_abs())
}

/// Starts a session for a person who just proved who they are; returns the
/// cookie value. A new value every time: the id is rotated at sign-in.
pub async fn create(state: &AppState, user: &UserId, amr: &[&str], origin: &Origin) -> Result<String, AppError> {
    create_with_sid(state, user, amr, origin, uuid::Uuid::now_v7().to_string()).await
}

/// Signs a person in on a browser that may already hold a session. The
/// cookie value always changes (no session fixation). If the old session
/// was the same person's (re-authentication for `prompt=login`, `max_age`),
/// it continues under its `sid`, so relying parties keep their sessions;
/// if it was someone else's, it ends, with back-channel logout.
pub async fn sign_in(
    state: &AppState,
    previous_cookie: Option<&str>,
    user: &UserId,
    amr: &[&str],
    origin: &Origin,
) -> Result<String, AppError> {
    let previous = match previous_cookie.and_then(SecretToken::from_presented) {
        Some(secret) => {
            let hash = secret.hash();
            let old = state
                .ephemeral
                .take(&session_key(&hash))
                .await?
                .and_then(|raw| serde_json::from_str::<SsoSession>(&raw).ok());
            if let Some(old) = &old {
                state.ephemeral.set_remove(&index_key(&old.user_id), hash.as_str()).await?;
            }
            old
        }
        None => None,
    };
    match previous {
        Some(old) if &old.user_id == user => create_with_sid(state, user, amr, origin, old.sid).await,
        Some(old) => {
            after_end(state, &old).await?;
            create(state, user, amr, origin).await
        }
        None => create(state, user, amr, origin).await,
    }
}

async fn create_with_sid(
    state: &AppState,
    user: &UserId,
    amr: &[&str],
    origin: &Origin,
    sid: String,
) -> Result<String, AppError> {
    let secret = SecretToken::generate(&mut rand::rng());
    let now = state.clock.now();
    let session = SsoSession {
        sid,
        user_id: user.clone(),
        auth_time: now,
        amr: amr.iter().map(|s| (*s).to_owned()).collect(),
        last_seen: now,
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
    };
    let value = serde_json::to_string(&session).map_err(|e| AppError::internal(e.to_string()))?;
    let hash = secret.hash();
    let life = Duration::from_secs(state.session_lifetime().absolute.whole_seconds().unsigned_abs());
    state.ephemeral.put(&session_key(&hash), &value, ttl(state, &session)).await?;
    state.ephemeral.put(&Provider::sid_key(&session.sid), hash.as_str(), ttl(state, &session)).await?;
    state.ephemeral.set_add(&index_key(user), hash.as_str(), life).await?;
    Ok(secret.expose().to_owned())
}

/// The live session behind a cookie value, if any; refreshes its idle timer.
pub async fn current(state: &AppState, cookie: Option<&str>) -> Result<Option<SsoSession>, AppError> {
    let Some(secret) = cookie.and_then(SecretToken::from_presented) else {
        return Ok(None);
    };
    let key = session_key(&secret.hash());
    let Some(raw) = state.ephemeral.get(&key).await? else {
        return Ok(None);
    };
    let Ok(mut session) = serde_json::from_str::<SsoSession>(&raw) else {
        state.ephemeral.delete(&key).await?;
        return Ok(None);
    };
    let now = state.clock.now();
    if !session.is_live(now, state.session_lifetime()) {
        state.ephemeral.delete(&key).await?;
        return Ok(None);
    }
    if session.should_touch(now) {
        session.last_seen = now;
        let value = serde_json::to_string(&session).map_err(|e| AppError::internal(e.to_string()))?;
        state.ephemeral.put(&key, &value, ttl(state, &session)).await?;
        state.ephemeral.put(&Provider::sid_key(&session.sid), secret.hash().as_str(), ttl(state, &session)).await?;
    }
    Ok(Some(session))
}

/// Ends the session behind a cookie value (sign-out).
pub async fn end(state: &AppState, cookie: Option<&str>) -> Result<Option<SsoSession>, AppError> {
    let Some(secret) = cookie.and_then(SecretToken::from_presented) else {
        return Ok(None);
    };
    let hash = secret.hash();
    let Some(raw) = state.ephemeral.take(&session_key(&hash)).await? else {
        return Ok(None);
    };
    let session = serde_json::from_str::<SsoSession>(&raw).ok();
    if let Some(s) = &session {
        state.ephemeral.set_remove(&index_key(&s.user_id), hash.as_str()).await?;
        after_end(state, s).await?;
    }
    Ok(session)
}

/// What ending a session sets off: its `sid` stops counting as alive, its
/// session-bound refresh tokens are revoked, and every relying party with a
/// back-channel URI that signed in through it is told (through the outbox).
async fn after_end(state: &AppState, session: &SsoSession) -> Result<(), AppError> {
    state.ephemeral.delete(&Provider::sid_key(&session.sid)).await?;
    let deliveries = state
        .provider
        .session_ended(&session.sid, session.user_id.as_str())
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    if deliveries.is_empty() {
        return Ok(());
    }
    let now = state.clock.now();
    state
        .db
        .write(move |c| {
            for d in &deliveries {
                let payload = serde_json::to_string(d).map_err(|e| tunnus_store::StoreError::corrupt(e.to_string()))?;
                tunnus_store::outbox::enqueue(c, BACKCHANNEL_KIND, &d.uri, &payload, now)?;
            }
            Ok(())
        })
        .await?;
    state.backchannel_waker.notify_one();
    Ok(())
}

/// The outbox kind of back-channel logout deliveries.
pub const BACKCHANNEL_KIND: &str = "backchannel_logout";

/// The protocol's view of a session.
pub fn authenticated(session: &SsoSession) -> tunnus_oidc::provider::Authenticated {
    tunnus_oidc::provider::Authenticated {
        user_id: session.user_id.clone(),
        auth_time: session.auth_time,
        amr: session.amr.clone(),
        sid: session.sid.clone(),
    }
}

/// A person's live sessions, newest sign-in first. Index entries of
/// sessions that ended on their own (idle, absolute limit) are pruned.
pub async fn list(state: &AppState, user: &UserId) -> Result<Vec<SsoSession>, AppError> {
    let index = index_key(user);
    let now = state.clock.now();
    let mut live = Vec::new();
    for hash in state.ephemeral.set_members(&index).await? {
        let raw = state.ephemeral.get(&session_key(&TokenHash::from_stored(hash.clone()))).await?;
        match raw.and_then(|r| serde_json::from_str::<SsoSession>(&r).ok()) {
            Some(s) if s.is_live(now, state.session_lifetime()) && &s.user_id == user => live.push(s),
            _ => state.ephemeral.set_remove(&index, &hash).await?,
        }
    }
    live.sort_by(|a, b| b.auth_time.cmp(&a.auth_time).then_with(|| a.sid.cmp(&b.sid)));
    Ok(live)
}

/// Ends one of a person's sessions, named by its public `sid` (the profile's
/// "Sign out" next to a session). Returns whether there was such a session.
pub async fn end_by_sid(state: &AppState, user: &UserId, sid: &str) -> Result<bool, AppError> {
    let index = index_key(user);
    for hash in state.ephemeral.set_members(&index).await? {
        let key = session_key(&TokenHash::from_stored(hash.clone()));
        let Some(raw) = state.ephemeral.get(&key).await? else { continue };
        let Ok(session) = serde_json::from_str::<SsoSession>(&raw) else { continue };
        if session.sid == sid && &session.user_id == user {
            if state.ephemeral.take(&key).await?.is_some() {
                state.ephemeral.set_remove(&index, &hash).await?;
                after_end(state, &session).await?;
            }
            return Ok(true);
        }
    }
    Ok(false)
}

/// Ends every session of a person (after a password reset).
pub async fn end_all(state: &AppState, user: &UserId) -> Result<usize, AppError> {
    let index = index_key(user);
    let hashes = state.ephemeral.set_members(&index).await?;
    for hash in &hashes {
        if let Some(raw) = state.ephemeral.take(&session_key(&TokenHash::from_stored(hash.clone()))).await?
            && let Ok(session) = serde_json::from_str::<SsoSession>(&raw)
        {
            after_end(state, &session).await?;
        }
    }
    state.ephemeral.delete(&index).await?;
    Ok(hashes.len())
}
