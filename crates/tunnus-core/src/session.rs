//! Single-sign-on sessions: what one holds and when it ends.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::UserId;

/// How long sessions live; from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// Ends after this long without use.
    pub idle: Duration,
    /// Ends this long after sign-in, however busy.
    pub absolute: Duration,
}

/// How long a sign-in counts as recent (see [`SsoSession::signed_in_recently`]).
pub const RECENT_SIGN_IN: Duration = Duration::minutes(10);

/// The server-side state behind one session cookie. Kept small: it lives in
/// the short-lived store (Redis in production), one per signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSession {
    /// The public identifier of this session (the `sid` claim, the
    /// profile's session list); not the secret cookie value.
    pub sid: String,
    pub user_id: UserId,
    /// When the person last proved who they are (OIDC `auth_time`).
    #[serde(with = "time::serde::timestamp")]
    pub auth_time: OffsetDateTime,
    /// Authentication methods (OIDC `amr`), e.g. `["pwd"]`.
    pub amr: Vec<String>,
    #[serde(with = "time::serde::timestamp")]
    pub last_seen: OffsetDateTime,
    pub ip: String,
    pub user_agent: String,
}

impl SsoSession {
    /// When the session ends if not used again.
    pub fn expires_at(&self, lifetime: SessionLifetime) -> OffsetDateTime {
        (self.last_seen + lifetime.idle).min(self.auth_time + lifetime.absolute)
    }

    pub fn is_live(&self, now: OffsetDateTime, lifetime: SessionLifetime) -> bool {
        now < self.expires_at(lifetime)
    }

    /// Whether the person proved who they are within [`RECENT_SIGN_IN`]:
    /// what confirms a weighty action for someone who has no password to
    /// type (an identity that signs in only through an upstream provider).
    pub fn signed_in_recently(&self, now: OffsetDateTime) -> bool {
        now >= self.auth_time && now - self.auth_time <= RECENT_SIGN_IN
    }

    /// Whether to write `last_seen` back; limits store writes on busy sessions.
    pub fn should_touch(&self, now: OffsetDateTime) -> bool {
        now - self.last_seen >= Duration::minutes(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, ManualClock};

    #[test]
    fn idle_and_absolute_expiry() {
        let clock = ManualClock::starting_now();
        let lifetime = SessionLifetime { idle: Duration::minutes(30), absolute: Duration::hours(2) };
        let mut s = SsoSession {
            sid: "s".into(),
            user_id: UserId::new_v7(),
            auth_time: clock.now(),
            amr: vec!["pwd".into()],
            last_seen: clock.now(),
            ip: "127.0.0.1".into(),
            user_agent: "test".into(),
        };
        clock.advance(Duration::minutes(29));
        assert!(s.is_live(clock.now(), lifetime));
        clock.advance(Duration::minutes(1));
        assert!(!s.is_live(clock.now(), lifetime), "idle expiry");
        // Kept busy, it still ends at the absolute limit.
        s.last_seen = s.auth_time + Duration::minutes(115);
        clock.advance(Duration::minutes(89));
        assert!(s.is_live(clock.now(), lifetime));
        clock.advance(Duration::minutes(1));
        assert!(!s.is_live(clock.now(), lifetime), "absolute expiry");
    }

    #[test]
    fn a_recent_sign_in_lasts_ten_minutes() {
        let at = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        let s = SsoSession {
            sid: "s".into(),
            user_id: UserId::new_v7(),
            auth_time: at,
            amr: vec!["fed".into()],
            last_seen: at,
            ip: "127.0.0.1".into(),
            user_agent: "test".into(),
        };
        assert!(s.signed_in_recently(at));
        assert!(s.signed_in_recently(at + Duration::minutes(10)));
        assert!(!s.signed_in_recently(at + Duration::minutes(10) + Duration::seconds(1)));
        assert!(!s.signed_in_recently(at - Duration::seconds(1)), "a sign-in from the future is not trusted");
    }
}
