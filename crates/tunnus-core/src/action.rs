//! Emailed action links ("set your password", "reset your password"): what
//! they are for, how long they live, and whether one may still be used.

use time::{Duration, OffsetDateTime};

/// What an emailed link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionPurpose {
    /// Finish sign-up: set the first password, which verifies the address.
    SetPassword,
    /// Forgot password: choose a new one.
    ResetPassword,
    /// Prove control of a new address before it replaces the old one.
    ConfirmEmailChange,
}

impl ActionPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SetPassword => "set_password",
            Self::ResetPassword => "reset_password",
            Self::ConfirmEmailChange => "confirm_email_change",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "set_password" => Some(Self::SetPassword),
            "reset_password" => Some(Self::ResetPassword),
            "confirm_email_change" => Some(Self::ConfirmEmailChange),
            _ => None,
        }
    }
}

/// A stored link token (only its hash is stored).
#[derive(Debug, Clone)]
pub struct ActionToken {
    pub purpose: ActionPurpose,
    pub user_id: crate::UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// Why a link can no longer be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    Unknown,
    Expired,
    AlreadyUsed,
}

impl ActionToken {
    pub fn expiry_for(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
        now + lifetime
    }

    /// Whether the link may be used at `now` for `purpose`.
    pub fn usable(&self, now: OffsetDateTime, purpose: ActionPurpose) -> Result<(), LinkProblem> {
        if self.purpose != purpose {
            Err(LinkProblem::Unknown)
        } else if self.used_at.is_some() {
            Err(LinkProblem::AlreadyUsed)
        } else if now >= self.expires_at {
            Err(LinkProblem::Expired)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Clock, ManualClock, UserId};

    #[test]
    fn a_link_expires_with_the_clock() {
        let clock = ManualClock::starting_now();
        let token = ActionToken {
            purpose: ActionPurpose::SetPassword,
            user_id: UserId::new_v7(),
            created_at: clock.now(),
            expires_at: ActionToken::expiry_for(clock.now(), Duration::hours(24)),
            used_at: None,
        };
        assert_eq!(token.usable(clock.now(), ActionPurpose::SetPassword), Ok(()));
        assert_eq!(token.usable(clock.now(), ActionPurpose::ResetPassword), Err(LinkProblem::Unknown));
        clock.advance(Duration::hours(23) + Duration::minutes(59));
        assert_eq!(token.usable(clock.now(), ActionPurpose::SetPassword), Ok(()));
        clock.advance(Duration::minutes(1));
        assert_eq!(token.usable(clock.now(), ActionPurpose::SetPassword), Err(LinkProblem::Expired));
    }

    #[test]
    fn a_used_link_is_used() {
        let now = OffsetDateTime::now_utc();
        let token = ActionToken {
            purpose: ActionPurpose::ResetPassword,
            user_id: UserId::new_v7(),
            created_at: now,
            expires_at: now + Duration::hours(1),
            used_at: Some(now),
        };
        assert_eq!(token.usable(now, ActionPurpose::ResetPassword), Err(LinkProblem::AlreadyUsed));
    }

    #[test]
    fn purposes_round_trip() {
        for p in [ActionPurpose::SetPassword, ActionPurpose::ResetPassword] {
            assert_eq!(ActionPurpose::parse(p.as_str()), Some(p));
        }
        assert_eq!(ActionPurpose::parse("nope"), None);
    }
}
