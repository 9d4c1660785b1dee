//! SQLite writes committed together: one writer thread takes every write
//! that is waiting and runs them in one transaction (a group commit).
//!
//! SQLite has one writer at a time, and in WAL mode each commit appends
//! every page it changed to the log, B-tree leaves and index pages alike.
//! Concurrent writes of the same kind — refresh tokens issued by many code
//! exchanges, rotations — change the same few pages, so committing them
//! together writes those pages once instead of once per request: in the
//! code-exchange profile the refresh-token insert and its commit were 11% of
//! the server's CPU (docs/performance.md, 2026-12-04).
//!
//! What each caller sees does not change:
//! - its work runs in a savepoint inside the batch's transaction, so it is
//!   stored whole or not at all; a write that fails rolls back only itself;
//! - it hears back only after the commit, so an answer never reports
//!   something that is not yet stored; if the commit fails, every write of
//!   the batch fails with it;
//! - writes run one after another, in the order they arrived, so each sees
//!   the ones before it, as it would have one transaction at a time.
//!
//! Nothing waits for a batch to fill: the thread takes what has queued up
//! while the previous commit ran, so a lone write commits at once.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use diesel::Connection;
use diesel::r2d2::Pool;
use tokio::sync::oneshot;

use super::checkpoint::Checkpointer;
use super::{DbConnection, Manager, on, take_batch};
use crate::error::{StoreError, StoreResult};

/// At most this many writes share a commit, so one batch cannot hold the
/// writer for long.
const MAX_BATCH: usize = 64;

/// Tells a caller how its write ended, given how the commit ended.
type Finish = Box<dyn FnOnce(&StoreResult<()>) + Send>;
/// One caller's write: runs on the batch's connection and returns its
/// [`Finish`].
type Job = Box<dyn FnOnce(&mut DbConnection) -> Finish + Send>;

/// The handle to the writer thread; the thread ends when the last clone is
/// dropped.
#[derive(Clone)]
pub(super) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    /// Batches (transactions) and writes taken so far, for metrics.
    batches: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl GroupCommit {
    /// Starts the writer thread over `pool`. `exclusive` is the lock every
    /// other SQLite writer in this process takes too (migrations, the CLI's
    /// blocking writes); the thread holds it for each batch.
    pub(super) fn start(
        pool: Pool<Manager>,
        exclusive: Arc<Mutex<()>>,
        checkpointer: Checkpointer,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (batches, writes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (counted_batches, counted_writes) = (batches.clone(), writes.clone());
        std::thread::Builder::new().name("tunnus-sqlite-writer".to_owned()).spawn(move || {
            while let Some(batch) = take_batch(&queue, MAX_BATCH) {
                checkpointer.give_way();
                let guard = exclusive.lock().unwrap_or_else(|p| p.into_inner());
                counted_batches.fetch_add(1, Ordering::Relaxed);
                counted_writes.fetch_add(batch.len() as u64, Ordering::Relaxed);
                commit(&pool, batch);
                drop(guard);
                checkpointer.wrote();
            }
        })?;
        Ok(Self { jobs, batches, writes })
    }

    /// How many batches (commits tried) and writes there have been so far.
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.batches.load(Ordering::Relaxed), self.writes.load(Ordering::Relaxed))
    }

    /// Runs `work` in the next batch and waits for the batch's commit.
    pub(super) async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // Inside the batch's transaction, diesel makes this a savepoint.
            let outcome = conn.transaction(work);
            Box::new(move |committed: &StoreResult<()>| {
                let _ = answer.send(match committed {
                    Ok(()) => outcome,
                    Err(e) => Err(e.clone()),
                });
            })
        });
        self.jobs.send(job).map_err(|_| StoreError::unavailable("the database writer has stopped"))?;
        // A dropped answer: the write was never run or ended in a panic.
        result.await.map_err(|_| StoreError::unavailable("the database write did not complete"))?
    }
}

/// Runs `batch` in one transaction and tells each caller the outcome.
fn commit(pool: &Pool<Manager>, batch: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => {
            // The callers hear it from their dropped answers; say why here.
            tracing::error!(error = %e, writes = batch.len(), "no database connection for a batch of writes");
            return;
        }
    };
    let mut finishes = Vec::with_capacity(batch.len());
    let mut panicked = false;
    let committed: StoreResult<()> = on(&mut conn, |c| {
        c.transaction(|c| {
            for job in batch {
                match catch_unwind(AssertUnwindSafe(|| job(c))) {
                    Ok(finish) => finishes.push(finish),
                    Err(_) => {
                        // The rest of the batch is dropped unrun: its
                        // callers get an error, and nothing of it is kept.
                        panicked = true;
                        break;
                    }
                }
            }
            if panicked { Err(StoreError::unavailable("a database write panicked")) } else { Ok(()) }
        })
    });
    if panicked {
        // diesel's bookkeeping of the savepoint the panic left cannot be
        // trusted: the connection is closed, which rolls back whatever is open.
        conn.broken = true;
    }
    for finish in finishes {
        finish(&committed);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};

    use crate::db::Db;
    use crate::error::{StoreErrorKind, StoreResult};
    use crate::testing::TestDatabase;

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        v: String,
    }

    async fn with_table() -> (TestDatabase, Db) {
        let t = TestDatabase::sqlite();
        let db = t.migrated();
        db.write(|c| {
            diesel::sql_query("CREATE TABLE probe (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE)").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
        (t, db)
    }

    fn insert(v: &str) -> impl FnOnce(&mut crate::DbConnection) -> StoreResult<()> + Send + 'static {
        let v = v.to_owned();
        move |c| {
            diesel::sql_query("INSERT INTO probe (v) VALUES (?)").bind::<Text, _>(v).execute(c)?;
            Ok(())
        }
    }

    async fn stored(db: &Db) -> Vec<String> {
        db.read(|c| Ok(diesel::sql_query("SELECT v FROM probe ORDER BY id").load::<Row>(c)?))
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.v)
            .collect()
    }

    /// Holds the writer thread for a while so the writes sent meanwhile
    /// queue up and share the next batch.
    fn hold_the_writer(db: &Db) -> tokio::task::JoinHandle<()> {
        let db = db.clone();
        tokio::spawn(async move {
            db.write(|_| {
                std::thread::sleep(Duration::from_millis(300));
                Ok(())
            })
            .await
            .unwrap();
        })
    }

    fn batches(db: &Db) -> u64 {
        db.write_batches().expect("SQLite has a group commit").0
    }

    #[tokio::test]
    async fn concurrent_writes_are_all_stored_in_few_commits() {
        let (_t, db) = with_table().await;
        let held = hold_the_writer(&db);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = batches(&db);
        let writes: Vec<_> = (0..200)
            .map(|i| {
                tokio::spawn({
                    let db = db.clone();
                    async move { db.write(insert(&format!("row {i}"))).await }
                })
            })
            .collect();
        for w in writes {
            w.await.unwrap().unwrap();
        }
        held.await.unwrap();
        assert_eq!(stored(&db).await.len(), 200);
        let used = batches(&db) - before;
        // 200 writes queued behind the held batch: ⌈200 / 64⌉ = 4 commits,
        // plus the held one finishing; one commit per write would be 200.
        assert!(used <= 6, "{used} batches for 200 queued writes");
    }

    #[tokio::test]
    async fn a_failing_write_rolls_back_only_itself() {
        let (_t, db) = with_table().await;
        let held = hold_the_writer(&db);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let before = batches(&db);
        let (first, half_done, duplicate, last) = tokio::join!(
            db.write(insert("first")),
            // Writes a row, then fails: the row must not be kept.
            db.write(|c| {
                insert("half done")(c)?;
                Err::<(), _>(crate::StoreError::new(StoreErrorKind::Backend, "the rest failed"))
            }),
            // Refused by the UNIQUE constraint against "first", in the same batch.
            db.write(insert("first")),
            db.write(insert("last")),
        );
        held.await.unwrap();
        assert_eq!(batches(&db) - before, 1, "the four writes shared one commit");
        first.unwrap();
        assert_eq!(half_done.unwrap_err().kind(), StoreErrorKind::Backend);
        assert!(duplicate.unwrap_err().is_conflict());
        last.unwrap();
        assert_eq!(stored(&db).await, ["first", "last"]);
    }

    #[tokio::test]
    async fn a_panicking_write_fails_its_batch_and_the_writer_goes_on() {
        let (_t, db) = with_table().await;
        let held = hold_the_writer(&db);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (before, panicking, after) = tokio::join!(
            db.write(insert("before")),
            db.write(|_| -> StoreResult<()> { panic!("a bug in a write") }),
            db.write(insert("after")),
        );
        held.await.unwrap();
        // Nothing of that batch is kept, and every caller hears so.
        assert_eq!(before.unwrap_err().kind(), StoreErrorKind::Unavailable);
        assert_eq!(panicking.unwrap_err().kind(), StoreErrorKind::Unavailable);
        assert_eq!(after.unwrap_err().kind(), StoreErrorKind::Unavailable);
        assert!(stored(&db).await.is_empty());
        // The next write gets a fresh connection and is stored.
        db.write(insert("later")).await.unwrap();
        assert_eq!(stored(&db).await, ["later"]);
    }

    #[tokio::test]
    async fn each_write_sees_the_ones_before_it_in_its_batch() {
        let (_t, db) = with_table().await;
        let held = hold_the_writer(&db);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let count = |c: &mut crate::DbConnection| -> StoreResult<i64> {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM probe").get_result::<N>(c)?.n)
        };
        let (_, seen) = tokio::join!(db.write(insert("a")), db.write(move |c| count(c)));
        held.await.unwrap();
        assert_eq!(seen.unwrap(), 1);
    }
}
