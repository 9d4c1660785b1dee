//! The embedded backend: a map in memory, written through to the SQL
//! database (table `kv_entries`) for everything but counters, and loaded
//! back at start-up. One process owns it; that is what the embedded default is.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::Clock;

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::schema::kv_entries;
use crate::time_conv::{from_db, to_db};

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Set(BTreeSet<String>),
    Counter(u64),
}

#[derive(Debug, Clone)]
struct Entry {
    value: Value,
    expires_at: OffsetDateTime,
}

/// Sets are persisted as JSON arrays with this prefix, to tell them from text.
const SET_MARK: &str = "\u{1}set:";

#[derive(Clone)]
pub struct EmbeddedStore {
    map: Arc<Mutex<HashMap<String, Entry>>>,
    db: Option<Db>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("persistent", &self.db.is_some()).finish_non_exhaustive()
    }
}

fn ttl_of(ttl: Duration) -> time::Duration {
    time::Duration::try_from(ttl).unwrap_or(time::Duration::days(3650))
}

impl EmbeddedStore {
    /// A store that forgets everything when the process ends (tests, tools).
    pub fn in_memory(clock: Arc<dyn Clock>) -> Self {
        Self { map: Arc::default(), db: None, clock }
    }

    /// A store that writes through to `db` and starts with what `db` holds.
    pub async fn persistent(db: Db, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let now = clock.now();
        let rows: Vec<(String, String, time::PrimitiveDateTime)> = db
            .write(move |c| {
                diesel::delete(kv_entries::table.filter(kv_entries::expires_at.le(to_db(now)))).execute(c)?;
                Ok(kv_entries::table.select((kv_entries::key, kv_entries::value, kv_entries::expires_at)).load(c)?)
            })
            .await?;
        let mut map = HashMap::with_capacity(rows.len());
        for (key, value, expires_at) in rows {
            let value = match value.strip_prefix(SET_MARK) {
                Some(json) => Value::Set(serde_json::from_str(json).map_err(|e| StoreError::corrupt(e.to_string()))?),
                None => Value::Text(value),
            };
            map.insert(key, Entry { value, expires_at: from_db(expires_at) });
        }
        Ok(Self { map: Arc::new(Mutex::new(map)), db: Some(db), clock })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live entry under `key`, dropping it if it has expired.
    fn live<'a>(map: &'a mut HashMap<String, Entry>, key: &str, now: OffsetDateTime) -> Option<&'a mut Entry> {
        if map.get(key).is_some_and(|e| e.expires_at <= now) {
            map.remove(key);
        }
        map.get_mut(key)
    }

    async fn persist(&self, key: &str, stored: Option<(String, OffsetDateTime)>) -> StoreResult<()> {
        let Some(db) = &self.db else { return Ok(()) };
        let key = key.to_owned();
        db.write(move |c| {
            diesel::delete(kv_entries::table.find(&key)).execute(c)?;
            if let Some((value, expires_at)) = stored {
                diesel::insert_into(kv_entries::table)
                    .values((
                        kv_entries::key.eq(&key),
                        kv_entries::value.eq(value),
                        kv_entries::expires_at.eq(to_db(expires_at)),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
    }

    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        let expires_at = self.clock.now() + ttl_of(ttl);
        self.lock().insert(key.to_owned(), Entry { value: Value::Text(value.to_owned()), expires_at });
        self.persist(key, Some((value.to_owned(), expires_at))).await
    }

    pub fn get(&self, key: &str) -> StoreResult<Option<String>> {
        let now = self.clock.now();
        let mut map = self.lock();
        Ok(Self::live(&mut map, key, now).and_then(|e| match &e.value {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }))
    }

    pub async fn take(&self, key: &str) -> StoreResult<Option<String>> {
        let now = self.clock.now();
        let taken = {
            let mut map = self.lock();
            Self::live(&mut map, key, now);
            match map.remove(key) {
                Some(Entry { value: Value::Text(t), .. }) => Some(t),
                Some(other) => {
                    map.insert(key.to_owned(), other);
                    None
                }
                None => None,
            }
        };
        if taken.is_some() {
            self.persist(key, None).await?;
        }
        Ok(taken)
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        let existed = self.lock().remove(key).is_some();
        if existed { self.persist(key, None).await } else { Ok(()) }
    }

    /// Counters are not persisted: losing throttling state on restart is harmless.
    pub fn incr(&self, key: &str, window: Duration) -> StoreResult<u64> {
        let now = self.clock.now();
        let mut map = self.lock();
        if let Some(Entry { value: Value::Counter(n), .. }) = Self::live(&mut map, key, now) {
            *n += 1;
            return Ok(*n);
        }
        map.insert(key.to_owned(), Entry { value: Value::Counter(1), expires_at: now + ttl_of(window) });
        Ok(1)
    }

    pub fn count(&self, key: &str) -> StoreResult<u64> {
        let now = self.clock.now();
        let mut map = self.lock();
        Ok(match Self::live(&mut map, key, now) {
            Some(Entry { value: Value::Counter(n), .. }) => *n,
            _ => 0,
        })
    }

    async fn store_set(
        &self,
        key: &str,
        update: impl FnOnce(&mut BTreeSet<String>),
        ttl: Option<Duration>,
    ) -> StoreResult<()> {
        let now = self.clock.now();
        let stored = {
            let mut map = self.lock();
            let mut set = match Self::live(&mut map, key, now) {
                Some(Entry { value: Value::Set(s), expires_at }) => Some((std::mem::take(s), *expires_at)),
                _ => None,
            }
            .unwrap_or_else(|| (BTreeSet::new(), now));
            update(&mut set.0);
            if let Some(ttl) = ttl {
                set.1 = set.1.max(now + ttl_of(ttl));
            }
            if set.0.is_empty() {
                map.remove(key);
                None
            } else {
                let json = serde_json::to_string(&set.0).map_err(|e| StoreError::corrupt(e.to_string()))?;
                map.insert(key.to_owned(), Entry { value: Value::Set(set.0), expires_at: set.1 });
                Some((format!("{SET_MARK}{json}"), set.1))
            }
        };
        self.persist(key, stored).await
    }

    pub async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> StoreResult<()> {
        let member = member.to_owned();
        self.store_set(
            key,
            move |s| {
                s.insert(member);
            },
            Some(ttl),
        )
        .await
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()> {
        self.store_set(
            key,
            |s| {
                s.remove(member);
            },
            None,
        )
        .await
    }

    pub fn set_members(&self, key: &str) -> StoreResult<Vec<String>> {
        let now = self.clock.now();
        let mut map = self.lock();
        Ok(match Self::live(&mut map, key, now) {
            Some(Entry { value: Value::Set(s), .. }) => s.iter().cloned().collect(),
            _ => Vec::new(),
        })
    }
}
