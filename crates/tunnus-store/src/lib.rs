//! Tunnus persistence. Durable data lives in SQL — SQLite by default,
//! PostgreSQL in production — through one diesel schema and one query path.
//! Short-lived state (sessions, codes, counters) lives in the [`ephemeral`]
//! store: embedded by default, Redis in production. Repositories translate
//! rows into `tunnus-core` types; the business rules stay in the callers.
//!
//! Queries never bind a `LIMIT` on the hot paths (no diesel `first`, which
//! is `limit(1)` with the 1 as a parameter): SQLite marks a statement whose
//! `LIMIT` is a parameter as depending on it, so every execution prepared
//! the statement afresh — a third of a code flow's CPU time went to SQLite's
//! parser. Lookups by a unique key use `get_result`; `clippy.toml` refuses
//! `first`.

pub mod audit;
pub mod clients;
pub mod consents;
pub mod db;
pub mod directory_cache;
pub mod ephemeral;
pub mod error;
pub mod federated;
pub mod invitations;
pub mod legacy;
pub mod orgs;
pub mod outbox;
pub mod outbox_worker;
pub mod refresh_tokens;
pub mod schema;
pub mod signing_keys;
pub mod terms;
pub mod testing;
pub mod time_conv;
pub mod tokens;
pub mod users;

pub use db::{Backend, Db, DbConfig, DbConnection};
pub use directory_cache::DirectoryCache;
pub use ephemeral::Ephemeral;
pub use error::{StoreError, StoreErrorKind, StoreResult};
