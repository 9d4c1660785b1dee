//! The Tunnus domain: identities and the rules about them. Pure types and
//! functions — no HTTP, no SQL, no clock or randomness except through
//! parameters — so every rule here is unit-tested in isolation.

pub mod access;
pub mod action;
pub mod client;
pub mod clock;
pub mod country;
pub mod device;
pub mod email;
pub mod federation;
pub mod invitation;
pub mod legacy;
pub mod legacy_hash;
pub mod password;
pub mod profile;
pub mod scope;
pub mod secret;
pub mod session;
pub mod terms;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use email::{Email, EmailError};
pub use secret::{Password, SecretToken, TokenHash};
pub use user::{User, UserId, UserStatus};
