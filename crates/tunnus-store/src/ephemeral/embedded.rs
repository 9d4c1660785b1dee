//! The embedded backend: a map in memory, written behind to the SQL
//! database (table `kv_entries`) for everything but counters, and loaded
//! back at start-up. One process owns it; that is what the embedded default is.
//!
//! The map is the truth while the process runs; the database only has to
//! hold it across a restart. So changes are not written one transaction
//! each (which serialised every code, pending request and session touch
//! behind SQLite's single writer) but collected for a few milliseconds and
//! written together, newest value per key. An entry that comes and goes
//! within that time — a code taken right after it was issued, a pending
//! authorization that needed no page — never reaches the disk. A clean
//! stop writes everything ([`EmbeddedStore::flush`]); a crash loses at most
//! the last [`WRITE_BEHIND`] of changes, i.e. a few sign-ins must be redone.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::Clock;

use super::TakenOnce;
use crate::db::{Db, on_backend};
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

/// How long changes wait before they are written, so that many are written
/// in one transaction.
pub const WRITE_BEHIND: Duration = Duration::from_millis(20);

/// How often expired entries are dropped, from memory and from the
/// database. An entry is dropped when it is read after it expired, but many
/// are never read again — a used code's replay marker, a throttling counter
/// of an address that does not come back, a session nobody ended — and
/// without a sweep they would stay until the next restart.
pub const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// What a key should look like in the database: a value with its expiry, or absent.
type Stored = Option<(String, OffsetDateTime)>;

/// Changes not yet in the database, the newest per key.
struct Journal {
    db: Db,
    dirty: Mutex<HashMap<String, Stored>>,
    /// Wakes the writer task; capacity one, since one wake-up covers all changes so far.
    wake: tokio::sync::mpsc::Sender<()>,
    /// One write at a time: an older batch must never land after a newer one.
    writing: tokio::sync::Mutex<()>,
}

impl Journal {
    fn record(&self, key: &str, stored: Stored) {
        self.dirty.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_owned(), stored);
        // Full means a wake-up is already pending; closed cannot happen while `self` lives.
        let _ = self.wake.try_send(());
    }

    async fn write(&self) -> StoreResult<()> {
        let _one_at_a_time = self.writing.lock().await;
        let batch = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()));
        if batch.is_empty() {
            return Ok(());
        }
        let batch = Arc::new(batch);
        let to_write = batch.clone();
        let written = self
            .db
            .write(move |c| {
                // Many rows a batch: on the backend's own connection, so
                // diesel finds each prepared statement by its type.
                on_backend!(c, |c| {
                    for (key, stored) in to_write.iter() {
                        diesel::delete(kv_entries::table.find(key)).execute(c)?;
                        if let Some((value, expires_at)) = stored {
                            diesel::insert_into(kv_entries::table)
                                .values((
                                    kv_entries::key.eq(key),
                                    kv_entries::value.eq(value),
                                    kv_entries::expires_at.eq(to_db(*expires_at)),
                                ))
                                .execute(c)?;
                        }
                    }
                    Ok(())
                })
            })
            .await;
        if written.is_err() {
            // Put the batch back under anything newer, for the next attempt.
            let mut dirty = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
            for (key, stored) in batch.iter() {
                dirty.entry(key.clone()).or_insert_with(|| stored.clone());
            }
        }
        written
    }
}

/// Writes the journal a moment after each change, until the store is gone.
async fn write_behind(journal: Weak<Journal>, mut woken: tokio::sync::mpsc::Receiver<()>) {
    while woken.recv().await.is_some() {
        tokio::time::sleep(WRITE_BEHIND).await;
        let Some(journal) = journal.upgrade() else { break };
        if let Err(e) = journal.write().await {
            tracing::warn!(error = %e, "short-lived state not yet written to the database; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = journal.wake.try_send(());
        }
    }
}

/// Deletes the rows whose time to live has passed (at start-up and at each sweep).
fn delete_expired(c: &mut crate::DbConnection, now: OffsetDateTime) -> StoreResult<()> {
    on_backend!(c, |c| diesel::delete(kv_entries::table.filter(kv_entries::expires_at.le(to_db(now)))).execute(c))?;
    Ok(())
}

/// The sweeper's hold on a store: it ends when the store is gone.
struct WeakStore {
    map: Weak<Mutex<HashMap<String, Entry>>>,
    journal: Option<Weak<Journal>>,
    clock: Arc<dyn Clock>,
}

/// Sweeps `store` every `every`, until it is gone.
async fn sweep_every(every: Duration, store: WeakStore) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is at once
    loop {
        ticks.tick().await;
        let Some(map) = store.map.upgrade() else { break };
        // A store that had a journal and lost it is gone too.
        let journal = match store.journal.as_ref().map(Weak::upgrade) {
            Some(None) => break,
            journal => journal.flatten(),
        };
        let live = EmbeddedStore { map, journal, clock: store.clock.clone() };
        if let Err(e) = live.sweep().await {
            tracing::warn!(error = %e, "expired short-lived entries not yet dropped from the database");
        }
    }
}

#[derive(Clone)]
pub struct EmbeddedStore {
    map: Arc<Mutex<HashMap<String, Entry>>>,
    journal: Option<Arc<Journal>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("persistent", &self.journal.is_some()).finish_non_exhaustive()
    }
}

fn ttl_of(ttl: Duration) -> time::Duration {
    time::Duration::try_from(ttl).unwrap_or(time::Duration::days(3650))
}

/// How far a set's life is extended, in steps of 1/64 of `ttl`: the
/// set lives at most that much longer than asked, and adding a member it
/// already has within the same step changes nothing (so writes nothing).
/// Without the steps, every authorization through a session rewrote the
/// session's list of clients, only to move its expiry by milliseconds.
fn extended_life(now: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
    let wanted = now + ttl_of(ttl);
    let step = (ttl.as_secs() / 64).max(1).cast_signed();
    let secs = wanted.unix_timestamp() + i64::from(wanted.nanosecond() > 0);
    let rounded = secs + (step - secs.rem_euclid(step)) % step;
    OffsetDateTime::from_unix_timestamp(rounded).unwrap_or(wanted)
}

impl EmbeddedStore {
    /// A store that forgets everything when the process ends (tests, tools).
    pub fn in_memory(clock: Arc<dyn Clock>) -> Self {
        Self { map: Arc::default(), journal: None, clock }
    }

    /// A store that writes behind to `db` and starts with what `db` holds.
    /// Must be called within a tokio runtime: it starts the writer task.
    pub async fn persistent(db: Db, clock: Arc<dyn Clock>) -> StoreResult<Self> {
        let now = clock.now();
        let rows: Vec<(String, String, time::PrimitiveDateTime)> = db
            .write(move |c| {
                delete_expired(c, now)?;
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
        let (wake, woken) = tokio::sync::mpsc::channel(1);
        let journal = Arc::new(Journal { db, dirty: Mutex::default(), wake, writing: tokio::sync::Mutex::new(()) });
        tokio::spawn(write_behind(Arc::downgrade(&journal), woken));
        let store = Self { map: Arc::new(Mutex::new(map)), journal: Some(journal), clock };
        tokio::spawn(sweep_every(SWEEP_EVERY, store.downgrade()));
        Ok(store)
    }

    fn downgrade(&self) -> WeakStore {
        WeakStore {
            map: Arc::downgrade(&self.map),
            journal: self.journal.as_ref().map(Arc::downgrade),
            clock: self.clock.clone(),
        }
    }

    /// Drops every expired entry, from memory and from the database;
    /// returns how many were dropped from memory.
    pub async fn sweep(&self) -> StoreResult<usize> {
        let now = self.clock.now();
        let dropped = {
            let mut map = self.lock();
            let before = map.len();
            map.retain(|_, e| e.expires_at > now);
            before - map.len()
        };
        if let Some(journal) = &self.journal {
            // Rows written behind with a time to live already past are
            // dropped by the next sweep.
            journal.db.write(move |c| delete_expired(c, now)).await?;
        }
        Ok(dropped)
    }

    /// Writes every change so far to the database (at a clean stop, or
    /// before another process opens the same database).
    pub async fn flush(&self) -> StoreResult<()> {
        match &self.journal {
            Some(j) => j.write().await,
            None => Ok(()),
        }
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

    fn persist(&self, key: &str, stored: Stored) {
        if let Some(journal) = &self.journal {
            journal.record(key, stored);
        }
    }

    pub async fn put(&self, key: &str, value: &str, ttl: Duration) -> StoreResult<()> {
        let expires_at = self.clock.now() + ttl_of(ttl);
        self.lock().insert(key.to_owned(), Entry { value: Value::Text(value.to_owned()), expires_at });
        self.persist(key, Some((value.to_owned(), expires_at)));
        Ok(())
    }

    pub fn get(&self, key: &str) -> StoreResult<Option<String>> {
        let now = self.clock.now();
        let mut map = self.lock();
        Ok(Self::live(&mut map, key, now).and_then(|e| match &e.value {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }))
    }

    pub fn any_exists(&self, keys: &[String]) -> bool {
        let now = self.clock.now();
        let map = self.lock();
        keys.iter().any(|k| map.get(k.as_str()).is_some_and(|e| e.expires_at > now))
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
            self.persist(key, None);
        }
        Ok(taken)
    }

    /// See [`Ephemeral::take_once`](super::Ephemeral::take_once): the
    /// marker is kept in memory only.
    pub fn take_once(&self, key: &str, marker: &str, value: &str, ttl: Duration) -> TakenOnce {
        let now = self.clock.now();
        let (taken, replaced) = {
            let mut map = self.lock();
            Self::live(&mut map, key, now);
            let taken = match map.remove(key) {
                Some(Entry { value: Value::Text(t), .. }) => t,
                Some(other) => {
                    map.insert(key.to_owned(), other);
                    return TakenOnce::Missing;
                }
                None => {
                    return match Self::live(&mut map, marker, now) {
                        Some(Entry { value: Value::Text(first), .. }) => TakenOnce::TakenBefore(first.clone()),
                        _ => TakenOnce::Missing,
                    };
                }
            };
            let entry = Entry { value: Value::Text(value.to_owned()), expires_at: now + ttl_of(ttl) };
            (taken, map.insert(marker.to_owned(), entry).is_some())
        };
        self.persist(key, None);
        // An older value under the marker must not come back at the next start.
        if replaced {
            self.persist(marker, None);
        }
        TakenOnce::Taken(taken)
    }

    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        let existed = self.lock().remove(key).is_some();
        if existed {
            self.persist(key, None);
        }
        Ok(())
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
        update: impl FnOnce(&mut BTreeSet<String>) -> bool,
        ttl: Option<Duration>,
    ) -> StoreResult<()> {
        let now = self.clock.now();
        let stored = {
            let mut map = self.lock();
            let (mut set, old_expiry) = match Self::live(&mut map, key, now) {
                Some(Entry { value: Value::Set(s), expires_at }) => (std::mem::take(s), Some(*expires_at)),
                _ => (BTreeSet::new(), None),
            };
            let changed = update(&mut set);
            let mut expires_at = old_expiry.unwrap_or(now);
            if let Some(ttl) = ttl {
                expires_at = expires_at.max(extended_life(now, ttl));
            }
            if set.is_empty() {
                map.remove(key);
                // Nothing was there: nothing to delete.
                old_expiry.map(|_| None)
            } else {
                // Unchanged members and life (a session entering a client it
                // already entered): nothing new to write.
                let unchanged = !changed && old_expiry == Some(expires_at);
                let json = (!unchanged)
                    .then(|| serde_json::to_string(&set).map_err(|e| StoreError::corrupt(e.to_string())))
                    .transpose()?;
                map.insert(key.to_owned(), Entry { value: Value::Set(set), expires_at });
                json.map(|json| Some((format!("{SET_MARK}{json}"), expires_at)))
            }
        };
        if let Some(stored) = stored {
            self.persist(key, stored);
        }
        Ok(())
    }

    pub async fn set_add(&self, key: &str, member: &str, ttl: Duration) -> StoreResult<()> {
        let member = member.to_owned();
        self.store_set(key, move |s| s.insert(member), Some(ttl)).await
    }

    pub async fn set_remove(&self, key: &str, member: &str) -> StoreResult<()> {
        self.store_set(key, |s| s.remove(member), None).await
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
