//! Server-side, in-memory state of one demo service: pending sign-ins (PKCE verifier, nonce,
//! state), local sessions, and the count of accepted back-channel logouts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// How long a started sign-in may take.
pub const PENDING_TTL: Duration = Duration::from_secs(600);

/// How long a local session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// A local session created by a successful sign-in.
#[derive(Debug, Clone)]
pub struct Session {
    /// All ID-token claims.
    pub claims: Map<String, Value>,
    /// The userinfo response, or why there is none.
    pub userinfo: Result<Map<String, Value>, String>,
    /// The raw ID token, sent back as `id_token_hint` on logout.
    pub id_token: String,
    /// The subject.
    pub sub: String,
    /// The provider's session id (`sid` claim), if any.
    pub sid: Option<String>,
    created: Instant,
}

impl Session {
    /// A session starting now.
    pub fn new(
        claims: Map<String, Value>,
        userinfo: Result<Map<String, Value>, String>,
        id_token: String,
        sub: String,
        sid: Option<String>,
    ) -> Self {
        Self { claims, userinfo, id_token, sub, sid, created: Instant::now() }
    }

    fn expired(&self) -> bool {
        self.created.elapsed() > SESSION_TTL
    }
}

/// A sign-in between `/login` and `/callback`.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` sent to the provider.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
    created: Instant,
}

impl PendingLogin {
    /// A pending sign-in starting now.
    pub fn new(state: String, nonce: String, pkce_verifier: String) -> Self {
        Self { state, nonce, pkce_verifier, created: Instant::now() }
    }

    fn expired(&self) -> bool {
        self.created.elapsed() > PENDING_TTL
    }
}

/// All mutable state of one service.
#[derive(Debug, Default)]
pub struct Store {
    sessions: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, PendingLogin>>,
    backchannel_logouts: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A fresh random identifier (256 bits, base64url).
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl Store {
    /// Stores `session` under a new random id and returns the id.
    pub fn insert_session(&self, session: Session) -> String {
        let id = random_id();
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| !s.expired());
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session `id`, if any.
    pub fn session(&self, id: &str) -> Option<Session> {
        let mut sessions = lock(&self.sessions);
        if sessions.get(id).is_some_and(Session::expired) {
            sessions.remove(id);
        }
        sessions.get(id).cloned()
    }

    /// Removes and returns session `id`.
    pub fn remove_session(&self, id: &str) -> Option<Session> {
        lock(&self.sessions).remove(id)
    }

    /// Removes every session with provider session `sid` (and, if given, subject `sub`), or,
    /// with no `sid`, every session of `sub`. Returns how many were removed.
    pub fn remove_matching(&self, sid: Option<&str>, sub: Option<&str>) -> usize {
        let mut sessions = lock(&self.sessions);
        let before = sessions.len();
        sessions.retain(|_, s| {
            let matches = match (sid, sub) {
                (Some(sid), sub) => s.sid.as_deref() == Some(sid) && sub.is_none_or(|sub| s.sub == sub),
                (None, Some(sub)) => s.sub == sub,
                (None, None) => false,
            };
            !matches
        });
        before - sessions.len()
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| !s.expired());
        sessions.len()
    }

    /// Stores a pending sign-in under a new random id and returns the id.
    pub fn insert_pending(&self, login: PendingLogin) -> String {
        let id = random_id();
        let mut pending = lock(&self.pending);
        pending.retain(|_, p| !p.expired());
        pending.insert(id.clone(), login);
        id
    }

    /// Removes and returns the pending sign-in `id` if it has not expired (single use).
    pub fn take_pending(&self, id: &str) -> Option<PendingLogin> {
        lock(&self.pending).remove(id).filter(|p| !p.expired())
    }

    /// Counts one accepted logout token.
    pub fn record_backchannel_logout(&self) {
        self.backchannel_logouts.fetch_add(1, Ordering::Relaxed);
    }

    /// Accepted logout tokens so far.
    pub fn backchannel_logouts(&self) -> u64 {
        self.backchannel_logouts.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sub: &str, sid: Option<&str>) -> Session {
        Session::new(Map::new(), Err("none".into()), "t".into(), sub.into(), sid.map(str::to_owned))
    }

    #[test]
    fn sessions_are_removed_by_sid_or_sub() {
        let store = Store::default();
        let a = store.insert_session(session("u1", Some("s1")));
        store.insert_session(session("u1", Some("s2")));
        store.insert_session(session("u2", Some("s1")));
        store.insert_session(session("u2", None));
        assert_eq!(store.session_count(), 4);
        assert_eq!(store.remove_matching(Some("s1"), Some("u1")), 1);
        assert!(store.session(&a).is_none());
        assert_eq!(store.remove_matching(None, Some("u2")), 2);
        assert_eq!(store.remove_matching(None, None), 0);
        assert_eq!(store.session_count(), 1);
    }

    #[test]
    fn pending_logins_are_single_use() {
        let store = Store::default();
        let id = store.insert_pending(PendingLogin::new("s".into(), "n".into(), "v".into()));
        assert_eq!(store.take_pending(&id).map(|p| p.state), Some("s".into()));
        assert!(store.take_pending(&id).is_none());
        assert_ne!(random_id(), random_id());
        assert_eq!(random_id().len(), 43);
    }
}
