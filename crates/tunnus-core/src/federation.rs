//! Identities linked to accounts at upstream identity providers ("Sign in
//! with …"), and the rules about them: when a first upstream sign-in may
//! create an identity, and when a link may be removed.

use time::OffsetDateTime;

use crate::user::{User, UserId, UserStatus};

/// An upstream account linked to an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedIdentity {
    /// The upstream's id in the configuration.
    pub provider: String,
    /// The upstream's `sub` for the person.
    pub subject: String,
    pub user_id: UserId,
    /// The upstream's email at link time (for the record and the profile).
    pub email: Option<String>,
    pub created_at: OffsetDateTime,
}

/// What an upstream says about the person's email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamEmail {
    /// Verified by the upstream, and the upstream is trusted to say so.
    Verified,
    /// Not verified (or the upstream's word is not trusted, or there is none).
    Unverified,
}

/// What a sign-in through an upstream account that is not linked yet leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstSignIn {
    /// No identity has the address: create a federated identity.
    Create,
    /// An identity has the address: it is linked only after its owner proves
    /// they hold it (password or emailed link) — never silently, or whoever
    /// controls an upstream account with that address would take it over.
    ProveOwnership(UserId),
    /// The identity with the address cannot sign in (disabled).
    Refused,
    /// The upstream did not vouch for the address.
    UnverifiedEmail,
}

/// Decides a first upstream sign-in, given the identity that already has
/// the upstream's address (if any).
pub fn first_sign_in(email: UpstreamEmail, existing: Option<&User>) -> FirstSignIn {
    if email == UpstreamEmail::Unverified {
        return FirstSignIn::UnverifiedEmail;
    }
    match existing {
        None => FirstSignIn::Create,
        Some(u) if u.status == UserStatus::Disabled => FirstSignIn::Refused,
        // An unfinished sign-up proves nothing about the address; its owner
        // confirms by email like anyone else.
        Some(u) => FirstSignIn::ProveOwnership(u.id.clone()),
    }
}

/// Whether a link may be removed: some other way to sign in must remain.
pub fn may_unlink(has_password: bool, links: usize) -> bool {
    has_password || links > 1
}

/// An identity without a password of its own signs in only through upstreams.
pub fn is_federated_only(user: &User) -> bool {
    user.password_hash.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Email, country::Country};

    fn user(status: UserStatus) -> User {
        let now = OffsetDateTime::UNIX_EPOCH;
        User {
            id: UserId::from_stored("u1".into()),
            email: Email::parse("aino@example.com").unwrap(),
            email_verified_at: Some(now),
            password_hash: Some("hash".into()),
            given_name: "Aino".into(),
            family_name: "Virtanen".into(),
            country: Country::parse("FI").unwrap(),
            preferred_language: None,
            status,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn an_existing_address_is_never_linked_silently() {
        let active = user(UserStatus::Active);
        assert_eq!(first_sign_in(UpstreamEmail::Verified, None), FirstSignIn::Create);
        assert_eq!(
            first_sign_in(UpstreamEmail::Verified, Some(&active)),
            FirstSignIn::ProveOwnership(active.id.clone())
        );
        assert_eq!(first_sign_in(UpstreamEmail::Unverified, None), FirstSignIn::UnverifiedEmail);
        assert_eq!(first_sign_in(UpstreamEmail::Unverified, Some(&active)), FirstSignIn::UnverifiedEmail);
        assert_eq!(first_sign_in(UpstreamEmail::Verified, Some(&user(UserStatus::Disabled))), FirstSignIn::Refused);
    }

    #[test]
    fn the_last_way_to_sign_in_stays() {
        assert!(may_unlink(true, 1));
        assert!(may_unlink(false, 2));
        assert!(!may_unlink(false, 1));
        let mut u = user(UserStatus::Active);
        assert!(!is_federated_only(&u));
        u.password_hash = None;
        assert!(is_federated_only(&u));
    }
}
