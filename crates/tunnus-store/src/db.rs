//! The database connection: one `DbConnection` type over PostgreSQL and
//! SQLite, an r2d2 pool, embedded migrations per backend, and the two ways
//! services reach it — [`Db::read`] and [`Db::write`] — which move the
//! blocking diesel work off the async workers.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{StoreError, StoreResult};

mod checkpoint;
mod group_commit;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// SQLite checkpoints the write-ahead log — copies its pages into the
/// database file and waits for two `fsync`s — inside the commit that takes
/// the log past this many pages, and every write queued behind the one
/// writer waits for it. The checkpointing thread ([`checkpoint`]) keeps the
/// log far below this (256 MB); it is a backstop for when that thread
/// cannot keep up, and for processes without one running long.
const SQLITE_CHECKPOINT_PAGES: u32 = 65_536;
/// After a checkpoint the log file is cut back to this size instead of
/// keeping the size it grew to.
const SQLITE_WAL_KEPT_BYTES: u64 = 64 * 1024 * 1024;

/// A connection to either backend; every query in this crate is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the backend's own connection, for the
/// statements on the hot paths. Through the `DbConnection` enum diesel
/// serialises every query to SQL text to find its prepared statement (5-7%
/// of the server's CPU in a code exchange); on the backend's own connection
/// a query of a fixed shape is found by its type. The statement is the same.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") { Self::Postgres } else { Self::Sqlite }
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing with 503.
    pub acquire_timeout: Duration,
    /// Statement timeout on PostgreSQL; busy timeout on SQLite.
    pub statement_timeout: Duration,
}

impl DbConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
        }
    }
}

/// Opens connections, dispatching on the URL scheme so a PostgreSQL failure
/// reports PostgreSQL's own error (the derived `establish` would hide it).
#[derive(Debug)]
struct Manager {
    url: String,
    backend: Backend,
    statement_timeout_ms: u128,
    /// PostgreSQL: settings of this pool's sessions beyond the usual (see [`Db::side_pool`]).
    session: &'static str,
}

/// A pool of at most `connections` on `config`'s database; PostgreSQL
/// sessions run `session` when they connect.
fn pool(config: &DbConfig, backend: Backend, connections: u32, session: &'static str) -> Pool<Manager> {
    let manager = Manager {
        url: config.url.clone(),
        backend,
        statement_timeout_ms: config.statement_timeout.as_millis(),
        session,
    };
    Pool::builder()
        .max_size(connections.max(1))
        .min_idle(Some(0))
        .connection_timeout(config.acquire_timeout)
        .test_on_check_out(false)
        .build_unchecked(manager)
}

/// A pooled connection and whether a query on it found the server gone;
/// such a connection is dropped when handed back, so once the database
/// returns every request gets a fresh one (libpq never revives a dead one).
struct Pooled {
    conn: DbConnection,
    broken: bool,
}

/// The next batch of a writer thread: waits for one job, then takes those
/// already waiting behind it, up to `max` in all. `None` once every sender
/// is gone. Nothing waits for a batch to fill, so a lone job goes at once.
pub(crate) fn take_batch<T>(queue: &mpsc::Receiver<T>, max: usize) -> Option<Vec<T>> {
    let mut batch = vec![queue.recv().ok()?];
    while batch.len() < max {
        match queue.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

/// Runs `work`, marking the connection broken if the server went away.
fn on<T>(pooled: &mut Pooled, work: impl FnOnce(&mut DbConnection) -> StoreResult<T>) -> StoreResult<T> {
    let result = work(&mut pooled.conn);
    if result.as_ref().is_err_and(|e| e.kind() == crate::StoreErrorKind::Unavailable) {
        pooled.broken = true;
    }
    result
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Pooled, r2d2::Error> {
        self.open().map(|conn| Pooled { conn, broken: false })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), r2d2::Error> {
        diesel::sql_query("SELECT 1").execute(&mut pooled.conn).map(|_| ()).map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken
    }
}

impl Manager {
    fn open(&self) -> Result<DbConnection, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}; SET TIME ZONE 'UTC'; {}",
                    self.statement_timeout_ms, self.session
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgresql(conn))
            }
            Backend::Sqlite => {
                let path = self.url.strip_prefix("sqlite://").unwrap_or(&self.url);
                let mut conn = SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // temp_store = MEMORY keeps the statement journal of each
                // savepoint (every write of a group commit has one) in memory;
                // otherwise SQLite creates, writes and deletes a temporary file
                // in /var/tmp for it.
                conn.batch_execute(&format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = {}; PRAGMA temp_store = MEMORY; \
                     PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}; \
                     PRAGMA journal_size_limit = {SQLITE_WAL_KEPT_BYTES};",
                    self.statement_timeout_ms
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// The durable store. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// SQLite allows one writer; serialising writers here (instead of letting
    /// them race for the file lock) avoids `SQLITE_BUSY` on read-then-write
    /// transactions. PostgreSQL needs no such thing.
    sqlite_writer: Arc<Mutex<()>>,
    /// SQLite only: the thread that commits concurrent writes together.
    group_commit: Option<group_commit::GroupCommit>,
    /// SQLite only: the thread that checkpoints the write-ahead log.
    checkpointer: Option<checkpoint::Checkpointer>,
    /// What it was opened with (its URL, and the settings of side pools).
    config: Arc<DbConfig>,
    /// Writes committed through [`Db::write`] (any of which may have
    /// changed the directory), and the listeners of
    /// [`crate::DirectoryCache`] to wake after each.
    directory_writes: Arc<DirectoryWrites>,
}

#[derive(Default)]
struct DirectoryWrites {
    committed: std::sync::atomic::AtomicU64,
    listeners: Mutex<Vec<std::thread::Thread>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Db {
    /// Builds the pool. Connections are made lazily, so a database that is
    /// down at start-up makes `/readyz` fail instead of the process.
    pub fn connect(config: &DbConfig) -> StoreResult<Self> {
        let backend = Backend::of_url(&config.url);
        if backend == Backend::Sqlite {
            let path = config.url.strip_prefix("sqlite://").unwrap_or(&config.url);
            if let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::unavailable(format!("cannot create {}: {e}", parent.display())))?;
            }
        }
        let pool = pool(config, backend, config.max_connections, "");
        let sqlite_writer = Arc::new(Mutex::new(()));
        let (group_commit, checkpointer) = match backend {
            Backend::Sqlite => {
                let checkpointer = checkpoint::Checkpointer::start(pool.clone(), sqlite_writer.clone())
                    .map_err(|e| StoreError::unavailable(format!("cannot start the checkpointing thread: {e}")))?;
                let group_commit =
                    group_commit::GroupCommit::start(pool.clone(), sqlite_writer.clone(), checkpointer.clone())
                        .map_err(|e| StoreError::unavailable(format!("cannot start the database writer: {e}")))?;
                (Some(group_commit), Some(checkpointer))
            }
            Backend::Postgres => (None, None),
        };
        Ok(Self {
            pool,
            backend,
            sqlite_writer,
            group_commit,
            checkpointer,
            config: Arc::new(config.clone()),
            directory_writes: Arc::default(),
        })
    }

    /// This database through a pool of its own, of at most `connections`,
    /// whose PostgreSQL sessions also run `session` (`SET` statements) when
    /// they connect: for a writer thread whose one statement needs settings
    /// that other statements must not get.
    pub(crate) fn side_pool(&self, connections: u32, session: &'static str) -> Self {
        Self { pool: pool(&self.config, self.backend, connections, session), ..self.clone() }
    }

    pub(crate) fn url(&self) -> &str {
        &self.config.url
    }

    /// How many writes this process has committed through [`Db::write`] or
    /// [`Db::write_blocking`]: [`crate::DirectoryCache`] is not used until
    /// its listener has caught up with them all. (Token writes, through
    /// [`Db::write_statement`], touch no directory table and are not
    /// counted.)
    pub(crate) fn directory_writes(&self) -> u64 {
        self.directory_writes.committed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Wakes `listener` after each write counted by [`Db::directory_writes`].
    pub(crate) fn wake_on_write(&self, listener: std::thread::Thread) {
        self.directory_writes.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(listener);
    }

    fn wrote_directory(&self) {
        self.directory_writes.committed.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        for listener in self.directory_writes.listeners.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            listener.unpark();
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> StoreResult<usize> {
        let mut conn = self.pool.get()?;
        let migrations = match self.backend {
            Backend::Postgres => POSTGRES_MIGRATIONS,
            Backend::Sqlite => SQLITE_MIGRATIONS,
        };
        let _guard = self.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner());
        let applied = conn
            .conn
            .run_pending_migrations(migrations)
            .map_err(|e| StoreError::new(crate::StoreErrorKind::Backend, format!("migration failed: {e}")))?;
        Ok(applied.len())
    }

    /// Runs read-only work on a pooled connection, off the async workers.
    pub async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        self.outside_transaction(work).await
    }

    /// Runs `work` on a pooled connection, off the async workers, without
    /// a transaction around it.
    async fn outside_transaction<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            on(&mut conn, work)
        })
        .await
        .map_err(|e| StoreError::unavailable(format!("database task failed: {e}")))?
    }

    /// A small read by key (a person and their rights, a client, a token)
    /// on the request's hot path. SQLite is in this process and answers such
    /// a read in microseconds, so on SQLite it runs right here on the
    /// calling worker, as token signing does: sending it to the blocking
    /// pool and back cost more than the read (two thread switches each
    /// way). When no connection is free at once — writers may hold them all
    /// — and on PostgreSQL, whose answers wait on the network, it goes to
    /// the blocking pool like [`Db::read`]. Scans and exports use `read`.
    pub async fn lookup<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        if self.backend == Backend::Sqlite
            && let Some(mut conn) = self.pool.try_get()
        {
            return on(&mut conn, work);
        }
        self.read(work).await
    }

    /// Runs `work` in one transaction: all of it is stored, or none of it.
    /// This is the transaction boundary services use. On SQLite, writes
    /// waiting at the same time share one commit (see [`group_commit`]).
    pub async fn write<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        let written = self.commit(work).await;
        self.wrote_directory();
        written
    }

    /// [`Db::write`] without counting it as a possible directory change.
    async fn commit<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        if let Some(group) = &self.group_commit {
            return group.write(work).await;
        }
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.commit_blocking(work))
            .await
            .map_err(|e| StoreError::unavailable(format!("database task failed: {e}")))?
    }

    /// A write that is a single statement on PostgreSQL — atomic by itself —
    /// so it is sent without `BEGIN` and `COMMIT`: one round trip instead of
    /// three or more, on paths that run at every token refresh. On SQLite,
    /// in this process, `work` runs in a transaction as with [`Db::write`],
    /// so work that is several statements there stays atomic.
    ///
    /// Only for work that issues exactly one statement on PostgreSQL; any
    /// other work belongs in [`Db::write`].
    pub async fn write_statement<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> StoreResult<T> + Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => self.commit(work).await,
            Backend::Postgres => self.outside_transaction(work).await,
        }
    }

    /// [`Db::write`] for callers already on a blocking thread (the CLI).
    pub fn write_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConnection) -> StoreResult<T>,
    {
        let written = self.commit_blocking(work);
        self.wrote_directory();
        written
    }

    /// [`Db::write_blocking`] without counting it as a possible directory change.
    pub(crate) fn commit_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConnection) -> StoreResult<T>,
    {
        let mut conn = self.pool.get()?;
        let written = {
            let _guard = match self.backend {
                Backend::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner())),
                Backend::Postgres => None,
            };
            on(&mut conn, |c| c.transaction(work))
        };
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.wrote();
        }
        written
    }

    /// Runs `work` in a transaction that is always rolled back: a dry run
    /// sees exactly what a real run would do, and stores nothing.
    pub fn rehearse_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConnection) -> StoreResult<T>,
    {
        let mut conn = self.pool.get()?;
        let _guard = match self.backend {
            Backend::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        };
        let mut outcome = None;
        let rolled_back: StoreResult<()> = on(&mut conn, |conn| {
            conn.transaction(|c| {
                outcome = Some(work(c));
                Err(StoreError::new(crate::StoreErrorKind::Backend, "rolled back: rehearsal"))
            })
        });
        match outcome {
            Some(result) => result,
            // The transaction did not even begin.
            None => Err(rolled_back.err().unwrap_or_else(|| StoreError::unavailable("transaction did not run"))),
        }
    }

    /// [`Db::read`] for callers already on a blocking thread.
    pub fn read_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConnection) -> StoreResult<T>,
    {
        self.statement_blocking(work)
    }

    /// Runs `work` on a pooled connection on this thread, without a
    /// transaction around it: for the writer threads' single statements.
    pub(crate) fn statement_blocking<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: FnOnce(&mut DbConnection) -> StoreResult<T>,
    {
        let mut conn = self.pool.get()?;
        on(&mut conn, work)
    }

    /// Whether the database answers now (for `/readyz`).
    pub async fn ping(&self) -> StoreResult<()> {
        self.read(|c| diesel::sql_query("SELECT 1").execute(c).map(|_| ()).map_err(StoreError::from)).await
    }

    /// SQLite: how many commits the group commit has made and how many
    /// writes they held, for metrics; `None` on PostgreSQL.
    pub fn write_batches(&self) -> Option<(u64, u64)> {
        self.group_commit.as_ref().map(group_commit::GroupCommit::counts)
    }

    /// SQLite: how many checkpoints the checkpointing thread has run, and
    /// how many of them held the writers to start the log over, for
    /// metrics; `None` on PostgreSQL.
    pub fn checkpoints(&self) -> Option<(u64, u64)> {
        self.checkpointer.as_ref().map(checkpoint::Checkpointer::counts)
    }

    /// Connections in use and the pool size, for metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections - s.idle_connections, self.pool.max_size())
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;

    use crate::testing::TestDatabase;

    // `PRAGMA x` answers in a column named x.
    #[derive(diesel::QueryableByName)]
    struct WalAutocheckpoint {
        #[diesel(sql_type = BigInt)]
        wal_autocheckpoint: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct TempStore {
        #[diesel(sql_type = BigInt)]
        temp_store: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct JournalSizeLimit {
        #[diesel(sql_type = BigInt)]
        journal_size_limit: i64,
    }

    fn settings(c: &mut super::DbConnection) -> crate::StoreResult<(i64, i64, i64)> {
        Ok((
            diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<WalAutocheckpoint>(c)?.wal_autocheckpoint,
            diesel::sql_query("PRAGMA temp_store").get_result::<TempStore>(c)?.temp_store,
            diesel::sql_query("PRAGMA journal_size_limit").get_result::<JournalSizeLimit>(c)?.journal_size_limit,
        ))
    }

    #[tokio::test]
    async fn sqlite_connections_checkpoint_rarely_and_keep_statement_journals_in_memory() {
        let t = TestDatabase::sqlite();
        let db = t.migrated();
        // temp_store 2 is MEMORY.
        let expected = (i64::from(super::SQLITE_CHECKPOINT_PAGES), 2, 64 * 1024 * 1024);
        // A pooled connection and the group commit's: both opened by the same code.
        assert_eq!(db.read(settings).await.unwrap(), expected);
        assert_eq!(db.write(settings).await.unwrap(), expected);
    }
}
