//! Tokens of ours whose signature was already checked, by the SHA-256 of
//! their text. Relying parties and resource servers present the same access
//! token again and again (userinfo, introspection on every API call) for
//! its few minutes of life; checking an ES256 signature costs about 70 µs,
//! hashing the token about 2 µs. A signed token cannot change, so a second
//! check would only repeat the first.
//!
//! The cache belongs to one loaded set of keys: reloading the keys (a
//! rotation, or a key withdrawn) starts an empty one, so nothing verified
//! under a withdrawn key is accepted again. Only tokens that verified are
//! kept (garbage cannot fill it), each until its `exp`; expiry and
//! revocation are still checked by the callers on every use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use josekit::jwt::JwtPayload;
use sha2::{Digest, Sha256};

/// Enough for every token in use on a busy replica within an access
/// token's lifetime; a few kilobytes each at most.
const MAX_ENTRIES: usize = 20_000;

struct Entry {
    payload: JwtPayload,
    typ: Option<String>,
    /// The token's `exp`: after it, the token is checked in full again.
    until: SystemTime,
}

/// The SHA-256 of a token's text: the key it is remembered under.
pub(crate) type Digest32 = [u8; 32];

#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<Digest32, Entry>>,
}

pub(crate) fn digest(token: &str) -> Digest32 {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Digest32, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The claims and `typ` of a token verified earlier, unless it has expired since.
    pub(crate) fn get(&self, key: &Digest32, now: SystemTime) -> Option<(JwtPayload, Option<String>)> {
        let entries = self.lock();
        let entry = entries.get(key).filter(|e| e.until > now)?;
        Some((entry.payload.clone(), entry.typ.clone()))
    }

    /// Remembers a token that just verified. Tokens without `exp` are not kept.
    pub(crate) fn put(&self, key: Digest32, payload: &JwtPayload, typ: Option<&str>, now: SystemTime) {
        let Some(until) = payload.expires_at().filter(|exp| *exp > now) else { return };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.until > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, Entry { payload: payload.clone(), typ: typ.map(str::to_owned), until });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn payload(exp: Option<SystemTime>) -> JwtPayload {
        let mut p = JwtPayload::new();
        p.set_subject("someone");
        if let Some(exp) = exp {
            p.set_expires_at(&exp);
        }
        p
    }

    #[test]
    fn kept_until_expiry_only() {
        let cache = VerifiedTokens::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let key = digest("a.b.c");
        cache.put(key, &payload(Some(now + Duration::from_secs(60))), Some("at+jwt"), now);
        let (p, typ) = cache.get(&key, now).unwrap();
        assert_eq!(p.subject(), Some("someone"));
        assert_eq!(typ.as_deref(), Some("at+jwt"));
        assert!(cache.get(&key, now + Duration::from_secs(60)).is_none(), "expired entries are not served");
        assert!(cache.get(&digest("a.b.d"), now).is_none());
    }

    #[test]
    fn tokens_without_future_expiry_are_not_kept() {
        let cache = VerifiedTokens::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        cache.put(digest("x"), &payload(None), None, now);
        cache.put(digest("y"), &payload(Some(now - Duration::from_secs(1))), None, now);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn bounded() {
        let cache = VerifiedTokens::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let p = payload(Some(now + Duration::from_secs(60)));
        for i in 0..MAX_ENTRIES + 10 {
            cache.put(digest(&i.to_string()), &p, None, now);
        }
        assert!(cache.len() <= MAX_ENTRIES);
        assert!(cache.get(&digest(&(MAX_ENTRIES + 9).to_string()), now).is_some(), "the newest entry is kept");
    }
}
