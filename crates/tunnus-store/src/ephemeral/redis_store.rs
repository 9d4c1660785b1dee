//! The Redis backend, for several replicas sharing one short-lived state.
//! Every command runs with a timeout, so a lost Redis turns into a clear
//! `Unavailable` error (503) instead of a hung request; the connection
//! manager reconnects by itself when Redis returns. One server, a Redis
//! Cluster or a Sentinel-managed master (see [`RedisTarget`]).

use std::time::Duration;

use redis::AsyncCommands;

use super::TakenOnce;
use super::redis_conn::{Conns, RedisTarget, RuntimeConn};
use crate::error::{StoreError, StoreResult};

#[derive(Clone)]
pub struct RedisStore {
    conns: Conns,
    prefix: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::unavailable(format!("redis: {e}"))
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

impl RedisStore {
    /// Connects to `url` (`redis://`, `redis+cluster://` or
    /// `redis+sentinel://`); `prefix` namespaces every key (several
    /// deployments, or parallel tests, can share one Redis).
    pub async fn connect(url: &str, prefix: &str, timeout: Duration) -> StoreResult<Self> {
        let target = RedisTarget::parse(url)
            .map_err(|e| StoreError::new(crate::error::StoreErrorKind::Backend, format!("redis_url: {e}")))?;
        let conns = tokio::time::timeout(timeout * 2, Conns::connect(target, timeout))
            .await
            .map_err(|_| unavailable("connect timed out"))?
            .map_err(unavailable)?;
        Ok(Self { conns, prefix: prefix.to_owned(), timeout })
    }

    /// The connection for this runtime (see [`Conns`]).
    fn conn(&self) -> RuntimeConn {
        self.conns.get()
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: std::future::Future<Output = redis::RedisResult<T>>,
    {
        tokio::time::timeout(self.timeout, f).await.map_err(|_| unavailable("timed out"))?.map_err(unavailable)
    }

    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        let mut c = self.conn();
        self.run(c.set_ex::<_, _, ()>(self.key(key), value, secs(ttl))).await
    }

    pub async fn get(&self, key: &str) -> StoreResult<Option<String>> {
        let mut c = self.conn();
        self.run(c.get(self.key(key))).await
    }

    pub async fn any_exists(&self, keys: &[String]) -> StoreResult<bool> {
        let mut c = self.conn();
        let keys: Vec<String> = keys.iter().map(|k| self.key(k)).collect();
        // EXISTS counts the keys that exist (expired ones do not).
        let found: u64 = self.run(c.exists(keys)).await?;
        Ok(found > 0)
    }

    pub async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        let mut c = self.conn();
        self.run(c.get_del(self.key(key))).await
    }

    pub async fn take_once(&self, key: &str, marker: &str, value: &str, ttl: Duration) -> StoreResult<TakenOnce> {
        let mut c = self.conn();
        let (key, marker) = (self.key(key), self.key(marker));
        // One transaction (the two keys share a slot): of two concurrent
        // takes, one gets the entry and the other the marker it left.
        // SET … NX GET leaves an existing marker as it is and answers it.
        let (taken, before): (Option<String>, Option<String>) = self
            .run(
                redis::pipe()
                    .atomic()
                    .cmd("GETDEL")
                    .arg(&key)
                    .cmd("SET")
                    .arg(&marker)
                    .arg(value)
                    .arg("NX")
                    .arg("GET")
                    .arg("EX")
                    .arg(secs(ttl))
                    .query_async(&mut c),
            )
            .await?;
        match (taken, before) {
            (Some(taken), _) => Ok(TakenOnce::Taken(taken)),
            (None, Some(first)) => Ok(TakenOnce::TakenBefore(first)),
            (None, None) => {
                // Nothing was taken, so the marker just set marks nothing.
                self.run(c.del::<_, ()>(&marker)).await?;
                Ok(TakenOnce::Missing)
            }
        }
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        let mut c = self.conn();
        self.run(c.del::<_, ()>(self.key(key))).await
    }

    pub async fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        let mut c = self.conn();
        let key = self.key(key);
        let (count, _): (u64, bool) = self
            .run(
                redis::pipe()
                    .atomic()
                    .incr(&key, 1u64)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(secs(window))
                    .arg("NX")
                    .query_async(&mut c),
            )
            .await?;
        Ok(count)
    }

    pub async fn count(&self, key: &str) -> StoreResult<u64> {
        let mut c = self.conn();
        let value: Option<u64> = self.run(c.get(self.key(key))).await?;
        Ok(value.unwrap_or(0))
    }

    pub async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> StoreResult<()> {
        let mut c = self.conn();
        let key = self.key(key);
        // GT only ever extends the set's life, like the embedded backend.
        let _: (u64, bool, bool) = self
            .run(
                redis::pipe()
                    .atomic()
                    .sadd(&key, member)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(secs(ttl))
                    .arg("NX")
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(secs(ttl))
                    .arg("GT")
                    .query_async(&mut c),
            )
            .await?;
        Ok(())
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()> {
        let mut c = self.conn();
        self.run(c.srem::<_, _, ()>(self.key(key), member)).await
    }

    pub async fn set_members(&self, key: &str) -> StoreResult<Vec<String>> {
        let mut c = self.conn();
        self.run(c.smembers(self.key(key))).await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        let mut c = self.conn();
        self.run(redis::cmd("PING").query_async::<String>(&mut c)).await.map(|_| ())
    }
}
