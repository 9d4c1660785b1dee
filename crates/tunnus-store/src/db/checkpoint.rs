//! SQLite's write-ahead log checkpointed on a thread of its own.
//!
//! A checkpoint copies the pages of the log into the database file and
//! waits for two `fsync`s: the log's, then the file's. SQLite's automatic
//! checkpoint does this inside the commit that takes the log past a size,
//! on the one writer thread, so every write queued behind it waits — tens
//! of milliseconds once the log holds tens of megabytes, several times a
//! second under a load of token requests (docs/performance.md, 2026-12-05).
//!
//! So the connections checkpoint only as a backstop
//! ([`super::SQLITE_CHECKPOINT_PAGES`]) and this thread does the work:
//! - a while after writes, a PASSIVE checkpoint: it copies what is in the
//!   log and syncs, taking no lock a writer or a reader waits for;
//! - a checkpoint that runs while writes go on never copies the whole log,
//!   and SQLite starts the log over only after one has. So once the log has
//!   grown past a limit, the thread holds the writers' lock for one more
//!   checkpoint — of the little written since the last one — and the next
//!   write starts the log from its beginning. The group-commit writer gives
//!   way to it ([`Checkpointer::give_way`]): a mutex is not fair, and a
//!   writer that takes it again at once, batch after batch, could otherwise
//!   keep the thread waiting while the log grows.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::r2d2::Pool;
use diesel::sql_types::Integer;

use super::{DbConnection, Manager};

/// How long the thread lets writes gather before a checkpoint.
const PAUSE: Duration = Duration::from_millis(200);
/// Log pages past which the log is caught up under the writers' lock and
/// started over (32 MB).
const RESTART_PAGES: i32 = 8192;

/// The handle to the checkpointing thread; the thread ends when the last
/// clone is dropped.
#[derive(Clone)]
pub(super) struct Checkpointer {
    wake: mpsc::SyncSender<()>,
    /// Checkpoints run so far, and how many of them held the writers.
    runs: Arc<AtomicU64>,
    restarts: Arc<AtomicU64>,
    /// Set while the thread waits for the writers' lock.
    waiting: Arc<AtomicBool>,
}

/// What `PRAGMA wal_checkpoint` answers.
#[derive(diesel::QueryableByName)]
struct Progress {
    #[diesel(sql_type = Integer)]
    busy: i32,
    /// Pages in the log.
    #[diesel(sql_type = Integer)]
    log: i32,
    /// Of those, pages now in the database file.
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

impl Checkpointer {
    /// Starts the thread over `pool`. `writers` is the lock every SQLite
    /// writer in this process holds while it writes.
    pub(super) fn start(pool: Pool<Manager>, writers: Arc<Mutex<()>>) -> std::io::Result<Self> {
        Self::start_with(pool, writers, PAUSE, RESTART_PAGES)
    }

    fn start_with(
        pool: Pool<Manager>,
        writers: Arc<Mutex<()>>,
        pause: Duration,
        restart_pages: i32,
    ) -> std::io::Result<Self> {
        // Capacity one: a pending wake-up covers every write since.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let (runs, restarts) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (counted_runs, counted_restarts) = (runs.clone(), restarts.clone());
        let waiting = Arc::new(AtomicBool::new(false));
        let announced = waiting.clone();
        std::thread::Builder::new().name("tunnus-sqlite-checkpoint".to_owned()).spawn(move || {
            while woken.recv().is_ok() {
                std::thread::sleep(pause);
                let mut conn = match pool.get() {
                    Ok(conn) => conn,
                    Err(e) => {
                        // The connections' own backstop checkpoints meanwhile.
                        tracing::warn!(error = %e, "no database connection for a checkpoint");
                        continue;
                    }
                };
                counted_runs.fetch_add(1, Ordering::Relaxed);
                let progress = passive(&mut conn.conn);
                if let Ok(p) = &progress {
                    tracing::debug!(log = p.log, checkpointed = p.checkpointed, busy = p.busy, "checkpoint");
                }
                match progress {
                    // Copied or not, frames written during this checkpoint
                    // kept the log from starting over: catch up with the writers held.
                    Ok(p) if p.busy == 0 && p.log >= restart_pages => {
                        announced.store(true, Ordering::Release);
                        let _held = writers.lock().unwrap_or_else(|p| p.into_inner());
                        announced.store(false, Ordering::Release);
                        counted_restarts.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = passive(&mut conn.conn) {
                            tracing::warn!(error = %e, "checkpoint failed");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                }
            }
        })?;
        Ok(Self { wake, runs, restarts, waiting })
    }

    /// Called by a writer before it takes the writers' lock: while the
    /// thread waits for that lock, lets it have it first. The wait lasts
    /// from one batch's end to the moment the thread wakes, microseconds.
    pub(super) fn give_way(&self) {
        while self.waiting.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
    }

    /// Tells the thread that something was written.
    pub(super) fn wrote(&self) {
        // Full: a wake-up is already pending. Disconnected cannot happen while `self` lives.
        let _ = self.wake.try_send(());
    }

    /// Checkpoints so far, and how many held the writers, for metrics.
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.runs.load(Ordering::Relaxed), self.restarts.load(Ordering::Relaxed))
    }
}

/// A PASSIVE checkpoint. `busy` is set (and `log` is -1) when another
/// connection was checkpointing at the same moment: nothing to do then.
fn passive(conn: &mut DbConnection) -> diesel::QueryResult<Progress> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Progress>(conn)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use diesel::RunQueryDsl;

    use super::passive;
    use crate::db::Db;
    use crate::testing::TestDatabase;

    async fn insert_pages(db: &Db, rows: usize) {
        // Each row overflows into 15 pages.
        let writes: Vec<_> = (0..rows)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(|c| {
                        diesel::sql_query("INSERT INTO probe (v) VALUES (randomblob(60000))").execute(c)?;
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        for w in writes {
            w.await.unwrap().unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_checkpointed_and_started_over_while_writes_go_on() {
        let t = TestDatabase::sqlite();
        let db = t.migrated();
        db.write(|c| {
            diesel::sql_query("CREATE TABLE probe (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
        // A checkpointer of its own with a small limit (256 pages, 1 MB),
        // woken every millisecond, while the writer commits batch after
        // batch of 1,200 rows of 15 pages: 18,000 pages (72 MB) of log.
        let ours =
            super::Checkpointer::start_with(db.pool.clone(), db.sqlite_writer.clone(), Duration::from_millis(5), 256)
                .unwrap();
        let poke = {
            let ours = ours.clone();
            tokio::spawn(async move {
                loop {
                    ours.wrote();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
        };
        // In twelve waves of 100 rows, 10 ms apart. Written as one burst of
        // 1,200 concurrent writes, the log twice grew to all 72 MB before
        // the first restart on a slow machine (the last time on 2026-12-06,
        // after the writer began giving way to a waiting checkpointer): the
        // burst leaves the checkpointer hardly a moment between batches.
        for _ in 0..12 {
            insert_pages(&db, 100).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        poke.abort();
        let (runs, restarts) = ours.counts();
        assert!(runs > 0, "the thread checkpointed");
        assert!(restarts >= 1, "the log outgrew its limit and was caught up under the writers' lock");
        // The log file never shrinks below what it once held: had the log
        // not been started over, it would hold all 72 MB.
        let wal = std::fs::metadata(format!("{}-wal", t.url.trim_start_matches("sqlite://"))).unwrap().len();
        assert!(wal < 70 * 1024 * 1024, "the log was started over while the writes went on: {wal} bytes");
        // Once writing stops, the thread copies the rest: nothing is left for
        // another checkpoint to do.
        tokio::time::sleep(super::PAUSE * 4).await;
        let progress = db.read(|c| Ok(passive(c)?)).await.unwrap();
        assert_eq!(progress.checkpointed, progress.log, "all of the log is in the database file");
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n = db.read(|c| Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM probe").get_result::<N>(c)?.n)).await;
        assert_eq!(n.unwrap(), 1200, "every write is there");
    }
}
