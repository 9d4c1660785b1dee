//! Where Redis is and how to talk to it: one server (`redis://`), a Redis
//! Cluster (`redis+cluster://host1:port,host2:port`) or a master found
//! through Sentinel (`redis+sentinel://sentinel1:26379,sentinel2:26379/mymaster`).
//! [`Conn`] hides the difference so the store issues the same commands to
//! each; every key the store touches in one command or pipeline is a single
//! key, so cluster routing never sees a cross-slot request. [`Conns`] gives
//! each single-threaded runtime (each HTTP worker) a connection of its own.

use std::cell::RefCell;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::sentinel::{SentinelClient, SentinelNodeConnectionInfo, SentinelServerType};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Value};
use tokio::runtime::{Handle, RuntimeFlavor};

/// A parsed `redis_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server: the URL as the redis crate reads it.
    Single(String),
    /// Cluster seed nodes, each as a `redis://` URL.
    Cluster(Vec<String>),
    /// Sentinels (as `redis://` URLs) and the monitored master's name; the
    /// credentials and database are those of the master.
    Sentinel { sentinels: Vec<String>, service: String, username: Option<String>, password: Option<String>, db: i64 },
}

/// Splits `scheme://[userinfo@]host:port,host:port[/path]` into its parts.
fn split_multi_host(rest: &str) -> Result<(Option<&str>, Vec<&str>, &str), String> {
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if hosts.iter().any(|h| h.is_empty()) {
        return Err("a host is empty (write host:port,host:port)".into());
    }
    Ok((userinfo, hosts, path))
}

fn percent_decoded(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|d| d.into_owned())
        .map_err(|_| "the credentials are not UTF-8 once decoded".to_owned())
}

impl RedisTarget {
    /// Reads a `redis_url`. Errors name what is wrong, never echo a password.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("redis+cluster://") {
            let (userinfo, hosts, path) = split_multi_host(rest)?;
            if !path.is_empty() && path != "0" {
                return Err("Redis Cluster has only database 0".into());
            }
            let auth = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
            return Ok(Self::Cluster(hosts.iter().map(|h| format!("redis://{auth}{h}")).collect()));
        }
        if let Some(rest) = url.strip_prefix("redis+sentinel://") {
            let (userinfo, hosts, path) = split_multi_host(rest)?;
            let mut parts = path.split('/').filter(|p| !p.is_empty());
            let service = parts.next().ok_or("name the monitored master: redis+sentinel://HOSTS/NAME")?.to_owned();
            let db = match parts.next() {
                Some(d) => d.parse().map_err(|_| format!("database `{d}` is not a number"))?,
                None => 0,
            };
            if parts.next().is_some() {
                return Err("expected redis+sentinel://HOSTS/NAME[/DB]".into());
            }
            let (username, password) = match userinfo {
                None => (None, None),
                Some(u) => {
                    let (user, pass) = u.split_once(':').map_or((u, None), |(a, b)| (a, Some(b)));
                    let user = Some(percent_decoded(user)?).filter(|u| !u.is_empty());
                    (user, pass.map(percent_decoded).transpose()?)
                }
            };
            let sentinels = hosts.iter().map(|h| format!("redis://{h}")).collect();
            return Ok(Self::Sentinel { sentinels, service, username, password, db });
        }
        if url.starts_with("redis://") || url.starts_with("rediss://") || url.starts_with("unix://") {
            return Ok(Self::Single(url.to_owned()));
        }
        Err("redis_url must start with redis://, redis+cluster:// or redis+sentinel://".into())
    }
}

/// A connection to whichever kind of deployment; cheap to clone, reconnects by itself.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
    Sentinel(Arc<SentinelConn>),
}

/// The master as Sentinel names it; asked again when the connection breaks
/// or the server we hold turned into a read-only replica (a failover).
pub struct SentinelConn {
    sentinel: tokio::sync::Mutex<SentinelClient>,
    master: tokio::sync::RwLock<Option<ConnectionManager>>,
    config: ConnectionManagerConfig,
}

impl SentinelConn {
    async fn current(&self) -> RedisResult<ConnectionManager> {
        if let Some(m) = self.master.read().await.clone() {
            return Ok(m);
        }
        let mut slot = self.master.write().await;
        if let Some(m) = slot.clone() {
            return Ok(m);
        }
        let client = self.sentinel.lock().await.async_get_client().await?;
        let manager = ConnectionManager::new_with_config(client, self.config.clone()).await?;
        *slot = Some(manager.clone());
        Ok(manager)
    }

    async fn forget(&self) {
        *self.master.write().await = None;
    }
}

/// Errors after which the master may have moved.
fn master_moved(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly)
}

impl Conn {
    pub async fn connect(target: &RedisTarget, timeout: Duration) -> RedisResult<Self> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1);
        match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(url.as_str())?;
                Ok(Self::Single(ConnectionManager::new_with_config(client, config).await?))
            }
            RedisTarget::Cluster(nodes) => {
                let client = ClusterClient::builder(nodes.clone())
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(2)
                    .build()?;
                Ok(Self::Cluster(client.get_async_connection().await?))
            }
            RedisTarget::Sentinel { sentinels, service, username, password, db } => {
                let mut info = redis::RedisConnectionInfo::default().set_db(*db);
                if let Some(u) = username {
                    info = info.set_username(u);
                }
                if let Some(p) = password {
                    info = info.set_password(p);
                }
                let node = SentinelNodeConnectionInfo::default().set_redis_connection_info(info);
                let client =
                    SentinelClient::build(sentinels.clone(), service.clone(), Some(node), SentinelServerType::Master)?;
                let conn = SentinelConn {
                    sentinel: tokio::sync::Mutex::new(client),
                    master: tokio::sync::RwLock::new(None),
                    config,
                };
                conn.current().await?;
                Ok(Self::Sentinel(Arc::new(conn)))
            }
        }
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Sentinel(s) => Box::pin(async move {
                let mut master = s.current().await?;
                match master.req_packed_command(cmd).await {
                    Err(e) if master_moved(&e) => {
                        s.forget().await;
                        s.current().await?.req_packed_command(cmd).await
                    }
                    other => other,
                }
            }),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Sentinel(s) => Box::pin(async move {
                let mut master = s.current().await?;
                match master.req_packed_commands(pipeline, offset, count).await {
                    Err(e) if master_moved(&e) => {
                        s.forget().await;
                        s.current().await?.req_packed_commands(pipeline, offset, count).await
                    }
                    other => other,
                }
            }),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Sentinel(_) => 0,
        }
    }
}

/// One store's connections: the one opened with the store, used on the
/// runtime that opened it and on every multi-threaded runtime, and one per
/// other single-threaded runtime that sends commands (each HTTP worker).
///
/// Why: a connection's reading and writing run as a task on the runtime that
/// opened it. A command sent from another thread wakes that runtime's thread
/// to write it, and the answer wakes the sender's thread again: two thread
/// switches per command. A code exchange with PostgreSQL + Redis made 9.3
/// switches, 5.3 with connections per worker (docs/performance.md). On its
/// own runtime's connection, the worker writes the command and reads the
/// answer itself.
///
/// A runtime's connection is opened in the background at its first
/// command, which goes over the shared connection, as do all commands
/// while it opens; if it cannot be opened, the runtime keeps using the
/// shared one and tries again [`RETRY_AFTER`] later. A runtime's
/// connection that breaks (Redis restarted, or a network fault) is dropped
/// the same way, at the command that found it broken. So no request waits
/// for a connection to open, and a Redis outage behaves as with one
/// connection: the shared one reconnects by itself.
///
/// Why drop it rather than let it reconnect: a connection manager that
/// tried to reconnect during an outage keeps that failure until a command
/// comes and starts the next attempt, and fails that command. With one
/// connection, the first command after Redis returns (a `/readyz` probe,
/// most likely) takes that failure for everyone; with one per worker, every
/// worker's first request after an outage would fail.
#[derive(Clone)]
pub struct Conns {
    inner: Arc<ConnsInner>,
}

/// How long a runtime whose connection could not be opened keeps using
/// the shared one before it tries again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

struct ConnsInner {
    /// Driven by the runtime that opened the store, which runs as long as
    /// the process (the server's main runtime).
    shared: Conn,
    /// The runtime that opened `shared`, if single-threaded.
    home: Option<tokio::runtime::Id>,
    target: RedisTarget,
    timeout: Duration,
}

/// This thread's runtime's connection to one store's Redis.
struct Local {
    store: Weak<ConnsInner>,
    runtime: tokio::runtime::Id,
    state: LocalState,
}

enum LocalState {
    Opening,
    Open(Conn),
    FailedAt(Instant),
}

thread_local! {
    static LOCAL: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

/// The current runtime's id if it is single-threaded.
fn single_threaded_runtime() -> Option<tokio::runtime::Id> {
    let handle = Handle::try_current().ok()?;
    (handle.runtime_flavor() == RuntimeFlavor::CurrentThread).then(|| handle.id())
}

fn same_store(local: &Local, store: *const ConnsInner) -> bool {
    std::ptr::eq(local.store.as_ptr(), store)
}

/// Among this thread's connections, `runtime`'s to `store`.
fn local_of(all: &mut [Local], store: *const ConnsInner, runtime: tokio::runtime::Id) -> Option<&mut Local> {
    all.iter_mut().find(|l| l.runtime == runtime && same_store(l, store))
}

/// What [`Conns::get`] hands out on a single-threaded runtime.
enum Pick {
    /// The runtime's own connection, open.
    Own(Conn),
    /// The shared one; `open_own`: start opening the runtime's own.
    Shared { open_own: bool },
}

impl Conns {
    pub async fn connect(target: RedisTarget, timeout: Duration) -> RedisResult<Self> {
        let shared = Conn::connect(&target, timeout).await?;
        let home = single_threaded_runtime();
        Ok(Self { inner: Arc::new(ConnsInner { shared, home, target, timeout }) })
    }

    /// The connection for the runtime this is called on.
    pub fn get(&self) -> RuntimeConn {
        let Some(runtime) = single_threaded_runtime().filter(|r| Some(*r) != self.inner.home) else {
            return RuntimeConn { conn: self.inner.shared.clone(), own: None };
        };
        let me = Arc::as_ptr(&self.inner);
        let pick = LOCAL.with_borrow_mut(|all| {
            let Some(local) = local_of(all, me, runtime) else {
                // A runtime that stopped took its connections' tasks with
                // it, and a dropped store needs none: forget both kinds.
                all.retain(|l| l.store.strong_count() > 0 && !same_store(l, me));
                all.push(Local { store: Arc::downgrade(&self.inner), runtime, state: LocalState::Opening });
                return Pick::Shared { open_own: true };
            };
            match &local.state {
                LocalState::Open(conn) => Pick::Own(conn.clone()),
                LocalState::FailedAt(at) if at.elapsed() >= RETRY_AFTER => {
                    local.state = LocalState::Opening;
                    Pick::Shared { open_own: true }
                }
                LocalState::Opening | LocalState::FailedAt(_) => Pick::Shared { open_own: false },
            }
        });
        match pick {
            Pick::Own(conn) => RuntimeConn { conn, own: Some((Arc::downgrade(&self.inner), runtime)) },
            Pick::Shared { open_own } => {
                if open_own {
                    self.open_in_background(runtime);
                }
                RuntimeConn { conn: self.inner.shared.clone(), own: None }
            }
        }
    }

    /// Drops `runtime`'s own connection to `store` after it broke: the
    /// runtime uses the shared one and opens a new one [`RETRY_AFTER`] later.
    fn drop_broken(store: &Weak<ConnsInner>, runtime: tokio::runtime::Id) {
        LOCAL.with_borrow_mut(|all| {
            if let Some(local) = local_of(all, store.as_ptr(), runtime)
                && matches!(local.state, LocalState::Open(_))
            {
                tracing::warn!("redis: a worker's own connection broke; using the shared one");
                local.state = LocalState::FailedAt(Instant::now());
            }
        });
    }

    /// Opens this runtime's connection on a task of this runtime, which
    /// therefore runs on this thread and records the outcome here.
    fn open_in_background(&self, runtime: tokio::runtime::Id) {
        let store = Arc::downgrade(&self.inner);
        let (target, timeout) = (self.inner.target.clone(), self.inner.timeout);
        tokio::spawn(async move {
            let opened = tokio::time::timeout(timeout * 2, Conn::connect(&target, timeout)).await;
            LOCAL.with_borrow_mut(|all| {
                if let Some(local) = local_of(all, store.as_ptr(), runtime) {
                    local.state = match opened {
                        Ok(Ok(conn)) => LocalState::Open(conn),
                        Ok(Err(e)) => {
                            tracing::warn!(
                                "redis: a worker's own connection could not be opened ({e}); using the shared one"
                            );
                            LocalState::FailedAt(Instant::now())
                        }
                        Err(_) => {
                            tracing::warn!("redis: opening a worker's own connection timed out; using the shared one");
                            LocalState::FailedAt(Instant::now())
                        }
                    };
                }
            });
        });
    }
}

/// A connection handed out by [`Conns::get`]. A runtime's own connection
/// that fails as broken (not with an error Redis answered) is dropped.
pub struct RuntimeConn {
    conn: Conn,
    own: Option<(Weak<ConnsInner>, tokio::runtime::Id)>,
}

/// Errors that say the connection, not the command, failed.
fn broken(e: &RedisError) -> bool {
    e.is_unrecoverable_error()
        || e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
}

impl RuntimeConn {
    /// Passes `result` on, dropping the runtime's own connection if it broke.
    /// Runs on the runtime's thread: a single-threaded runtime polls its
    /// futures on the thread that runs it, where its [`LOCAL`] lives.
    fn noted<T>(&self, result: RedisResult<T>) -> RedisResult<T> {
        if let (Err(e), Some((store, runtime))) = (&result, &self.own)
            && broken(e)
        {
            Conns::drop_broken(store, *runtime);
        }
        result
    }
}

impl ConnectionLike for RuntimeConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        if self.own.is_none() {
            return self.conn.req_packed_command(cmd);
        }
        Box::pin(async move {
            let result = self.conn.req_packed_command(cmd).await;
            self.noted(result)
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        if self.own.is_none() {
            return self.conn.req_packed_commands(pipeline, offset, count);
        }
        Box::pin(async move {
            let result = self.conn.req_packed_commands(pipeline, offset, count).await;
            self.noted(result)
        })
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Conns, ConnsInner, RedisTarget};
    use crate::testing::{redis_url, service_missing};

    async fn client_id(conns: &Conns) -> i64 {
        let mut c = conns.get();
        redis::cmd("CLIENT").arg("ID").query_async(&mut c).await.unwrap()
    }

    /// The id of this runtime's own connection, once it is open; commands
    /// go over the shared one (`shared`) until then.
    async fn own_client_id(conns: &Conns, shared: i64) -> i64 {
        for _ in 0..300 {
            let id = client_id(conns).await;
            if id != shared {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("this runtime never got a connection of its own");
    }

    fn single_threaded() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    fn multi_threaded() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
    }

    /// What an HTTP worker sees: its first commands go over the shared
    /// connection while its own opens, then over its own, which it keeps;
    /// a runtime started on a thread after another stopped there gets a new
    /// one rather than the stopped runtime's, whose reading and writing
    /// task is gone.
    #[test]
    fn each_single_threaded_runtime_talks_over_a_connection_of_its_own() {
        let opener = multi_threaded();
        let target = RedisTarget::parse(&redis_url()).unwrap();
        let conns = match opener.block_on(Conns::connect(target, Duration::from_secs(2))) {
            Ok(c) => c,
            Err(e) => return service_missing("Redis", &e.to_string()),
        };
        let shared = opener.block_on(client_id(&conns));
        assert_eq!(opener.block_on(client_id(&conns)), shared, "a multi-threaded runtime uses the shared one");

        let mut seen = vec![shared];
        for _ in 0..2 {
            let worker = single_threaded();
            let own = worker.block_on(async {
                assert_eq!(client_id(&conns).await, shared, "the first command does not wait for a connection");
                let own = own_client_id(&conns, shared).await;
                assert_eq!(client_id(&conns).await, own, "kept for the runtime's next commands");
                own
            });
            assert!(!seen.contains(&own), "connection {own} was already used elsewhere: {seen:?}");
            seen.push(own);
            drop(worker);
        }
        assert_eq!(opener.block_on(client_id(&conns)), shared);

        // A store opened on a single-threaded runtime (a `#[tokio::test]`)
        // uses its first connection there and opens no other.
        let home = single_threaded();
        let target = RedisTarget::parse(&redis_url()).unwrap();
        let at_home = home.block_on(Conns::connect(target, Duration::from_secs(2))).unwrap();
        home.block_on(async {
            let first = client_id(&at_home).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            assert_eq!(client_id(&at_home).await, first);
        });
    }

    /// A runtime whose own connection cannot be opened keeps working over
    /// the shared one.
    #[test]
    fn a_connection_that_cannot_be_opened_leaves_the_shared_one_in_use() {
        let opener = multi_threaded();
        let target = RedisTarget::parse(&redis_url()).unwrap();
        let shared = match opener.block_on(super::Conn::connect(&target, Duration::from_secs(2))) {
            Ok(c) => c,
            Err(e) => return service_missing("Redis", &e.to_string()),
        };
        // The shared connection works; every new one is refused (port 1).
        let nowhere = RedisTarget::parse("redis://127.0.0.1:1").unwrap();
        let inner = ConnsInner { shared, home: None, target: nowhere, timeout: Duration::from_millis(500) };
        let conns = Conns { inner: std::sync::Arc::new(inner) };
        let shared_id = opener.block_on(client_id(&conns));
        single_threaded().block_on(async {
            for _ in 0..20 {
                assert_eq!(client_id(&conns).await, shared_id);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }

    #[test]
    fn urls_of_each_deployment_kind() {
        assert_eq!(
            RedisTarget::parse("redis://:pw@127.0.0.1:6379/2").unwrap(),
            RedisTarget::Single("redis://:pw@127.0.0.1:6379/2".into())
        );
        assert_eq!(
            RedisTarget::parse("redis+cluster://:s3cret@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3:7002").unwrap(),
            RedisTarget::Cluster(vec![
                "redis://:s3cret@10.0.0.1:7000".into(),
                "redis://:s3cret@10.0.0.2:7001".into(),
                "redis://:s3cret@10.0.0.3:7002".into(),
            ])
        );
        assert_eq!(
            RedisTarget::parse("redis+sentinel://app:p%40ss@s1:26379,s2:26379/mymaster/3").unwrap(),
            RedisTarget::Sentinel {
                sentinels: vec!["redis://s1:26379".into(), "redis://s2:26379".into()],
                service: "mymaster".into(),
                username: Some("app".into()),
                password: Some("p@ss".into()),
                db: 3,
            }
        );
        let plain = RedisTarget::parse("redis+sentinel://s1:26379/mymaster").unwrap();
        assert!(matches!(plain, RedisTarget::Sentinel { db: 0, password: None, .. }));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let err = |u: &str| RedisTarget::parse(u).unwrap_err();
        assert!(err("http://x").contains("redis+cluster://"));
        assert!(err("redis+sentinel://s1:26379").contains("monitored master"));
        assert!(err("redis+sentinel://s1:26379/m/x").contains("not a number"));
        assert!(err("redis+cluster://a:1,,b:2").contains("empty"));
        assert!(err("redis+cluster://a:1/3").contains("database 0"));
        assert!(!err("redis+sentinel://:hunter2@s1:26379/m/x").contains("hunter2"));
    }
}
