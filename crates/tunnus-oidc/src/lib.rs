//! The OpenID Connect protocol: parsing and validating requests, grants
//! (authorization code with PKCE, refresh with rotation, client
//! credentials), client authentication, tokens and their signing keys,
//! discovery, userinfo, introspection, revocation and logout tokens.
//!
//! No HTML and no HTTP framework here: the server turns HTTP into the
//! parameter maps these functions take, and their results back into HTTP.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod device;
pub mod discovery;
pub mod error;
pub mod grants;
pub mod keys;
pub mod logout;
pub mod params;
pub mod provider;
pub mod resource;
pub mod signing;
mod verified;

pub use error::{ErrorCode, OAuthError, OAuthResult};
pub use provider::{Provider, ProviderSettings};
