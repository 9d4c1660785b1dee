//! What the directory says about a person (their row, memberships, groups
//! and licenses), kept in this process's memory for the paths that read it
//! at every call — UserInfo, authorization, refresh — and dropped the moment
//! it changes.
//!
//! The database says what changed (migration
//! `2026-12-06-000050_directory_notify` of each backend), whoever changed
//! it — another replica, `tunnus` on the command line, SQL by hand:
//! - PostgreSQL: triggers send `NOTIFY` on [`CHANNEL`] as the transaction
//!   commits, `u:<id>` for one person, `*` for a change that may concern
//!   many (an organization's license). A thread listens on a connection of
//!   its own.
//! - SQLite, which has no notifications between processes: triggers append
//!   the person (or NULL for many) to the table `directory_changes`, which
//!   a thread reads every [`POLL`] and prunes now and then.
//!
//! Either way a change is seen within about [`POLL`] of its commit. What
//! keeps a cached answer from being older than that:
//! - Entries are used only while the listener is connected and listening.
//!   When its connection is lost, the cache is emptied and bypassed until
//!   the listener is back (a change in between was not heard).
//! - A read that may have raced a change is not kept: every drop advances a
//!   generation, and an answer read under an older generation is discarded.
//! - A process reads its own writes at once: after each write it commits
//!   through [`Db::write`], the cache is bypassed until the listener has
//!   looked again (PostgreSQL: one round trip, before whose answer the
//!   server sends what was notified; SQLite: one read of the log).
//!
//! On PostgreSQL the listener needs a session of its own on the server:
//! behind a pooler in transaction mode (PgBouncer's default) notifications
//! are not delivered, and the cache must be switched off
//! (`directory_cache_entries = 0`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::db::{Backend, Db};

/// The channel the triggers notify on.
pub const CHANNEL: &str = "tunnus_directory";

/// How often the listener looks for notifications when not woken by a write.
pub const POLL: Duration = Duration::from_millis(5);

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT: Duration = Duration::from_secs(1);

/// Within the caller's transaction: announces one change that may concern
/// anyone (seen at commit) and silences the per-person announcements of
/// the rest of the transaction, until [`end_bulk_change`]. For bulk writes
/// (a legacy import's batch of thousands of people), where one
/// announcement per row cost a quarter of the import's speed.
pub fn announce_bulk_change(conn: &mut crate::DbConnection) -> crate::StoreResult<()> {
    let sql = match conn {
        crate::DbConnection::Postgresql(_) => {
            format!("SELECT set_config('tunnus.directory_bulk', 'on', true); NOTIFY {CHANNEL}, '*'")
        }
        crate::DbConnection::Sqlite(_) => "INSERT INTO directory_changes (person) VALUES (NULL); \
             INSERT INTO directory_bulk (since) VALUES (CURRENT_TIMESTAMP)"
            .to_owned(),
    };
    diesel::connection::SimpleConnection::batch_execute(conn, &sql)?;
    Ok(())
}

/// Ends what [`announce_bulk_change`] began, before the transaction commits
/// (PostgreSQL's setting ends with the transaction by itself).
pub fn end_bulk_change(conn: &mut crate::DbConnection) -> crate::StoreResult<()> {
    if let crate::DbConnection::Sqlite(c) = conn {
        diesel::connection::SimpleConnection::batch_execute(c, "DELETE FROM directory_bulk")?;
    }
    Ok(())
}

/// A cache of `T` by person id, kept current by what the database says changed.
/// Cheap to clone; the listener stops when the last clone is dropped.
pub struct DirectoryCache<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for DirectoryCache<T> {
    fn clone(&self) -> Self {
        Self { shared: self.shared.clone() }
    }
}

impl<T> std::fmt::Debug for DirectoryCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryCache").field("capacity", &self.shared.capacity).finish_non_exhaustive()
    }
}

struct Shared<T> {
    db: Db,
    entries: Mutex<Entries<T>>,
    /// Whether the listener is connected and listening: entries are used only then.
    listening: AtomicBool,
    /// The number of this replica's writes the listener has caught up with.
    caught_up: AtomicU64,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

struct Entries<T> {
    by_person: HashMap<String, T>,
    /// Advances at every drop; see [`Ticket`].
    generation: u64,
}

/// The generation a read started under: its answer is kept only if
/// nothing was dropped in between.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

/// Hits and misses so far, and whether the listener is listening (for /metrics).
#[derive(Debug, Clone, Copy)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub listening: bool,
}

impl<T: Clone + Send + 'static> DirectoryCache<T> {
    /// Starts the cache and its listener; `None` when `capacity` is 0.
    pub fn start(db: &Db, capacity: usize) -> Option<Self> {
        if capacity == 0 {
            return None;
        }
        let shared = Arc::new(Shared {
            db: db.clone(),
            entries: Mutex::new(Entries { by_person: HashMap::new(), generation: 0 }),
            listening: AtomicBool::new(false),
            caught_up: AtomicU64::new(0),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&shared);
        let spawned = std::thread::Builder::new().name("tunnus-directory".into()).spawn(move || listen(weak));
        match spawned {
            Ok(handle) => {
                db.wake_on_write(handle.thread().clone());
                Some(Self { shared })
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the directory listener; the directory is not cached");
                None
            }
        }
    }

    /// The cached answer for `person`, if it may be used now.
    pub fn get(&self, person: &str) -> Option<T> {
        let s = &self.shared;
        let usable =
            s.listening.load(Ordering::Acquire) && s.caught_up.load(Ordering::Acquire) >= s.db.directory_writes();
        let found = if usable { s.lock().by_person.get(person).cloned() } else { None };
        let counter = if found.is_some() { &s.hits } else { &s.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Taken before reading the database for an answer to [`keep`](Self::keep).
    pub fn ticket(&self) -> Ticket {
        Ticket(self.shared.lock().generation)
    }

    /// Keeps `value` for `person` unless something was dropped since `ticket`
    /// (the value may predate that change) or the listener is not listening.
    pub fn keep(&self, ticket: Ticket, person: &str, value: T) {
        let s = &self.shared;
        let mut entries = s.lock();
        if entries.generation != ticket.0 || !s.listening.load(Ordering::Acquire) {
            return;
        }
        // Full: start over rather than track what was used least lately.
        if entries.by_person.len() >= s.capacity && !entries.by_person.contains_key(person) {
            entries.by_person.clear();
        }
        entries.by_person.insert(person.to_owned(), value);
    }

    pub fn stats(&self) -> CacheStats {
        let s = &self.shared;
        CacheStats {
            hits: s.hits.load(Ordering::Relaxed),
            misses: s.misses.load(Ordering::Relaxed),
            listening: s.listening.load(Ordering::Relaxed),
        }
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<T>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops what changed — one person, or everyone (`None`) — advancing
    /// the generation.
    fn drop_changed(&self, person: Option<&str>) {
        let mut entries = self.lock();
        entries.generation += 1;
        match person {
            Some(person) => {
                entries.by_person.remove(person);
            }
            None => entries.by_person.clear(),
        }
    }

    /// Starts using entries, none of which can be trusted: nothing was
    /// heard before this point.
    fn hear(&self) {
        self.drop_changed(None);
        self.listening.store(true, Ordering::Release);
    }

    /// Stops using entries and drops them all.
    fn deafen(&self) {
        self.listening.store(false, Ordering::Release);
        self.drop_changed(None);
    }
}

/// Why the listener's session ended.
enum Ended {
    /// The cache is gone: stop.
    CacheDropped,
    /// The connection failed: connect again.
    Lost(String),
}

/// The listener thread: connects, listens, and drops what changes, until
/// the cache is gone.
fn listen<T>(cache: Weak<Shared<T>>) {
    let backend = match cache.upgrade() {
        Some(shared) => shared.db.backend(),
        None => return,
    };
    if backend == Backend::Sqlite {
        return read_log(&cache);
    }
    loop {
        let Some(shared) = cache.upgrade() else { return };
        let url = shared.db.url().to_owned();
        drop(shared);
        let ended = match PgConnection::establish(&url) {
            Ok(mut conn) => session(&cache, &mut conn),
            Err(e) => Ended::Lost(e.to_string()),
        };
        match ended {
            Ended::CacheDropped => return,
            Ended::Lost(why) => {
                let Some(shared) = cache.upgrade() else { return };
                shared.deafen();
                tracing::warn!(error = %why, "directory listener disconnected; reading the directory uncached");
            }
        }
        std::thread::park_timeout(RECONNECT);
    }
}

/// The listener's `application_name`, to tell its session from the pool's.
pub const APPLICATION_NAME: &str = "tunnus-directory-listener";

fn session<T>(cache: &Weak<Shared<T>>, conn: &mut PgConnection) -> Ended {
    let listen = format!("SET application_name = '{APPLICATION_NAME}'; LISTEN {CHANNEL}");
    if let Err(e) = diesel::connection::SimpleConnection::batch_execute(conn, &listen) {
        return Ended::Lost(e.to_string());
    }
    {
        let Some(shared) = cache.upgrade() else { return Ended::CacheDropped };
        shared.caught_up.store(shared.db.directory_writes(), Ordering::Release);
        shared.hear();
    }
    loop {
        let Some(shared) = cache.upgrade() else { return Ended::CacheDropped };
        let writes = shared.db.directory_writes();
        if writes > shared.caught_up.load(Ordering::Acquire) {
            // A round trip: the server sends what was notified before it answers.
            if let Err(e) = diesel::sql_query("SELECT 1").execute(conn) {
                return Ended::Lost(e.to_string());
            }
        }
        for notification in conn.notifications_iter() {
            match notification {
                Ok(n) => shared.drop_changed(n.payload.strip_prefix("u:")),
                Err(e) => return Ended::Lost(e.to_string()),
            }
        }
        shared.caught_up.fetch_max(writes, Ordering::AcqRel);
        drop(shared);
        std::thread::park_timeout(POLL);
    }
}

/// How often the SQLite listener deletes the log rows it has read.
const PRUNE_EVERY: Duration = Duration::from_secs(30);

/// The listener on SQLite: reads `directory_changes` every [`POLL`] (and
/// at once after each write of this process), until the cache is gone.
fn read_log<T>(cache: &Weak<Shared<T>>) {
    // The last change read; `None` until the end of the log is known.
    let mut seen: Option<i64> = None;
    let mut pruned_at = std::time::Instant::now();
    loop {
        let Some(shared) = cache.upgrade() else { return };
        let writes = shared.db.directory_writes();
        let read = match seen {
            None => shared.db.read_blocking(|c| {
                let end: LastSeq = diesel::sql_query("SELECT max(seq) AS seq FROM directory_changes").get_result(c)?;
                Ok((end.seq.unwrap_or(0), Vec::new()))
            }),
            Some(after) => shared.db.read_blocking(move |c| {
                let changes: Vec<Change> =
                    diesel::sql_query("SELECT seq, person FROM directory_changes WHERE seq > ? ORDER BY seq")
                        .bind::<diesel::sql_types::BigInt, _>(after)
                        .load(c)?;
                Ok((changes.last().map_or(after, |c| c.seq), changes))
            }),
        };
        match read {
            Ok((last, changes)) => {
                if seen.is_none() {
                    shared.hear();
                }
                for change in &changes {
                    shared.drop_changed(change.person.as_deref());
                }
                seen = Some(last);
                shared.caught_up.fetch_max(writes, Ordering::AcqRel);
            }
            Err(e) => {
                if seen.take().is_some() {
                    tracing::warn!(error = %e, "directory log unreadable; reading the directory uncached");
                }
                shared.deafen();
            }
        }
        if let Some(upto) = seen
            && pruned_at.elapsed() >= PRUNE_EVERY
        {
            pruned_at = std::time::Instant::now();
            // Changes no person: not a directory write, no reason to wake this thread.
            let pruned = shared.db.commit_blocking(move |c| {
                Ok(diesel::sql_query("DELETE FROM directory_changes WHERE seq <= ?")
                    .bind::<diesel::sql_types::BigInt, _>(upto)
                    .execute(c)?)
            });
            if let Err(e) = pruned {
                tracing::warn!(error = %e, "directory log not pruned");
            }
        }
        drop(shared);
        std::thread::park_timeout(POLL);
    }
}

#[derive(diesel::QueryableByName)]
struct LastSeq {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    seq: Option<i64>,
}

#[derive(diesel::QueryableByName)]
struct Change {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    person: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(db: Db) -> Shared<u32> {
        Shared {
            db,
            entries: Mutex::new(Entries { by_person: HashMap::new(), generation: 0 }),
            listening: AtomicBool::new(true),
            caught_up: AtomicU64::new(0),
            capacity: 2,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The rules without a server: an answer read across a drop is not
    /// kept, a full cache starts over, nothing is used or kept while deaf.
    #[test]
    fn answers_read_across_a_drop_are_discarded_and_a_deaf_cache_is_bypassed() {
        let t = crate::testing::TestDatabase::sqlite();
        let cache = DirectoryCache { shared: Arc::new(shared(t.migrated())) };

        let ticket = cache.ticket();
        cache.shared.drop_changed(Some("someone-else"));
        cache.keep(ticket, "aino", 1);
        assert_eq!(cache.get("aino"), None, "read before a drop: not kept");

        cache.keep(cache.ticket(), "aino", 1);
        assert_eq!(cache.get("aino"), Some(1));
        cache.shared.drop_changed(Some("aino"));
        assert_eq!(cache.get("aino"), None);

        cache.keep(cache.ticket(), "a", 1);
        cache.keep(cache.ticket(), "b", 2);
        cache.keep(cache.ticket(), "c", 3);
        assert_eq!((cache.get("a"), cache.get("c")), (None, Some(3)), "full: started over");
        cache.shared.drop_changed(None);
        assert_eq!(cache.get("c"), None);

        cache.keep(cache.ticket(), "d", 4);
        cache.shared.deafen();
        assert_eq!(cache.get("d"), None);
        cache.keep(cache.ticket(), "d", 4);
        cache.shared.listening.store(true, Ordering::Release);
        assert_eq!(cache.get("d"), None, "nothing was kept while deaf");
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (2, 6));
    }
}
