//! Account services: each public function is one use case and one
//! transaction boundary. Handlers call these; these call the domain
//! (`tunnus-core`) for rules and the store for persistence.

pub mod accounts;
pub mod audit;
pub mod backchannel;
pub mod clients;
pub mod federation;
pub mod invitations;
pub mod legacy;
pub mod orgs;
pub mod profile;
pub mod sessions;
pub mod terms;
pub mod throttle;
pub mod upstream;
