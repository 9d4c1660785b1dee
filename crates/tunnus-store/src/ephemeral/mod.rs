//! Short-lived state: SSO sessions, one-time codes, throttling counters.
//!
//! A small key-value interface with two backends: [`EmbeddedStore`] (in
//! process, written behind to the SQL database so sessions survive a
//! restart) for the single-process default, and [`RedisStore`] for many
//! replicas. Values are opaque strings (callers serialise); every entry has
//! a time to live; `take` is atomic, which is what makes codes single-use.

mod embedded;
mod redis_conn;
mod redis_store;

pub use embedded::EmbeddedStore;
pub use redis_conn::RedisTarget;
pub use redis_store::RedisStore;

use std::time::Duration;

use crate::error::StoreResult;

/// What [`Ephemeral::take_once`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakenOnce {
    /// The entry, now removed; the marker is set.
    Taken(String),
    /// No entry, but the marker an earlier take left: its value.
    TakenBefore(String),
    /// Neither: the entry never was, or expired, or its marker did.
    Missing,
}

/// The short-lived store, whichever backend is configured.
#[derive(Clone, Debug)]
pub enum Ephemeral {
    Embedded(EmbeddedStore),
    Redis(RedisStore),
}

impl Ephemeral {
    /// Stores `value` under `key` for `ttl`, replacing any previous value.
    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        match self {
            Self::Embedded(s) => s.put(key, value, ttl).await,
            Self::Redis(s) => s.put(key, value, ttl).await,
        }
    }

    pub async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        match self {
            Self::Embedded(s) => s.get(key),
            Self::Redis(s) => s.get(key).await,
        }
    }

    /// Whether any of `keys` holds a live entry: several checks in one round
    /// trip (an access token's revocation markers, on every API call).
    pub async fn any_exists(&self, keys: &[String]) -> StoreResult<bool> {
        if keys.is_empty() {
            return Ok(false);
        }
        match self {
            Self::Embedded(s) => Ok(s.any_exists(keys)),
            Self::Redis(s) => s.any_exists(keys).await,
        }
    }

    /// Reads and removes in one step: of many concurrent callers, one gets the value.
    pub async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        match self {
            Self::Embedded(s) => s.take(key).await,
            Self::Redis(s) => s.take(key).await,
        }
    }

    /// Takes the one-time entry `key` and, in the same atomic step, leaves
    /// `marker` holding `value` for `ttl`, so that a later take of `key`
    /// learns what the first one left: how an authorization code is used
    /// once and its replay told from a code that never was, in one round
    /// trip. `key` and `marker` must share a Redis Cluster hash tag (`{…}`).
    /// The embedded backend keeps the marker in memory only: losing it at a
    /// restart costs nothing worth a disk write (a replayed code is then
    /// refused as unknown instead of also revoking what its first use obtained).
    pub async fn take_once(&self, key: &str, marker: &str, value: &str, ttl: Duration) -> StoreResult<TakenOnce> {
        match self {
            Self::Embedded(s) => Ok(s.take_once(key, marker, value, ttl)),
            Self::Redis(s) => s.take_once(key, marker, value, ttl).await,
        }
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        match self {
            Self::Embedded(s) => s.delete(key).await,
            Self::Redis(s) => s.delete(key).await,
        }
    }

    /// Adds one to a counter that disappears `window` after its first increment; returns the new count.
    pub async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        match self {
            Self::Embedded(s) => s.incr(key, window),
            Self::Redis(s) => s.incr(key, window).await,
        }
    }

    /// The current value of a counter (0 when absent or expired).
    pub async fn count(&self, key: &str) -> StoreResult<u64> {
        match self {
            Self::Embedded(s) => s.count(key),
            Self::Redis(s) => s.count(key).await,
        }
    }

    /// Adds a member to a set and extends the set's life to at least `ttl`.
    pub async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> StoreResult<()> {
        match self {
            Self::Embedded(s) => s.set_add(key, member, ttl).await,
            Self::Redis(s) => s.set_add(key, member, ttl).await,
        }
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()> {
        match self {
            Self::Embedded(s) => s.set_remove(key, member).await,
            Self::Redis(s) => s.set_remove(key, member).await,
        }
    }

    pub async fn set_members(&self, key: &str) -> StoreResult<Vec<String>> {
        match self {
            Self::Embedded(s) => s.set_members(key),
            Self::Redis(s) => s.set_members(key).await,
        }
    }

    /// Makes every change so far durable: the embedded store writes its
    /// pending changes to the database; Redis has nothing pending.
    pub async fn flush(&self) -> StoreResult<()> {
        match self {
            Self::Embedded(s) => s.flush().await,
            Self::Redis(_) => Ok(()),
        }
    }

    /// Whether the backend answers now (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        match self {
            Self::Embedded(_) => Ok(()),
            Self::Redis(s) => s.ping().await,
        }
    }
}
