//! Everything a request handler may reach, built once at start-up.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use tokio::sync::Notify;
use tunnus_core::Clock;
use tunnus_core::password::{HasherWithMemory, PasswordHasher};
use tunnus_core::session::SessionLifetime;
use tunnus_store::ephemeral::{EmbeddedStore, RedisStore};
use tunnus_store::{Db, DbConfig, Ephemeral};

use crate::config::Config;
use crate::error::StartError;
use crate::hashing::HashingPool;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub ephemeral: Ephemeral,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    /// Argon2 work runs here: one thread per core (see `hashing.rs`).
    pub hashing_pool: HashingPool,
    /// Key for CSRF tokens (and other keyed hashes).
    pub secret_key: Arc<[u8]>,
    /// Wakes the outbox worker when an email was queued.
    pub mail_waker: Arc<Notify>,
    /// The development outbox page is on (emails stay on this machine).
    pub dev_outbox: bool,
    /// The OpenID Connect protocol.
    pub provider: tunnus_oidc::Provider,
    /// Wakes the back-channel logout worker.
    pub backchannel_waker: Arc<Notify>,
    /// Talks to upstream identity providers (bounded by timeouts, no redirects).
    pub upstream_http: reqwest::Client,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("db", &self.db).finish_non_exhaustive()
    }
}

impl AppState {
    pub async fn build(config: Config, clock: Arc<dyn Clock>, mail_waker: Arc<Notify>) -> Result<Self, StartError> {
        let db = open_database(&config)?;

        let ephemeral = match &config.redis_url {
            Some(url) => Ephemeral::Redis(
                RedisStore::connect(url, &config.redis_prefix, Duration::from_secs(2))
                    .await
                    .map_err(|e| StartError::Redis(e.to_string()))?,
            ),
            None => Ephemeral::Embedded(
                EmbeddedStore::persistent(db.clone(), clock.clone())
                    .await
                    .map_err(|e| StartError::Database(e.to_string()))?,
            ),
        };
        let hasher = PasswordHasher::new(config.argon2).map_err(|e| StartError::Config(e.to_string()))?;
        let secret_key = load_secret_key(&config)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Emails carry live links: list them only while they stay on this machine.
        let dev_outbox = config.mail.smtp.is_none() && is_loopback_url(&config.public_url);
        let provider = tunnus_oidc::Provider::new(
            db.clone(),
            ephemeral.clone(),
            clock.clone(),
            config.oidc.settings(&config.public_url),
            secret_key.clone(),
        )
        .await
        .map_err(|e| StartError::Database(format!("signing keys: {e}")))?;
        Ok(Self {
            config: Arc::new(config),
            db,
            ephemeral,
            clock,
            hashing_pool: HashingPool::new(hasher.clone(), cores)
                .map_err(|e| StartError::Config(format!("hashing threads: {e}")))?,
            hasher,
            secret_key,
            mail_waker,
            dev_outbox,
            provider,
            backchannel_waker: Arc::new(Notify::new()),
            upstream_http: crate::services::upstream::http_client()
                .map_err(|e| StartError::Config(format!("upstream HTTP client: {e}")))?,
        })
    }

    pub fn session_lifetime(&self) -> SessionLifetime {
        SessionLifetime {
            idle: time::Duration::minutes(self.config.sessions.idle_minutes),
            absolute: time::Duration::hours(self.config.sessions.absolute_hours),
        }
    }

    /// Runs CPU-heavy password work on the hashing threads, one per core.
    pub async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HasherWithMemory) -> T + Send + 'static,
    ) -> Result<T, crate::error::AppError> {
        self.hashing_pool.run(work).await.map_err(crate::error::AppError::internal)
    }
}

fn is_loopback_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")))
}

/// The configured database, migrated.
pub fn open_database(config: &Config) -> Result<Db, StartError> {
    let mut db_config = DbConfig::new(config.database_url());
    db_config.max_connections = config.database.max_connections;
    db_config.acquire_timeout = Duration::from_secs(config.database.acquire_timeout_seconds);
    db_config.statement_timeout = Duration::from_secs(config.database.statement_timeout_seconds);
    let db = Db::connect(&db_config).map_err(|e| StartError::Database(e.to_string()))?;
    db.migrate().map_err(|e| StartError::Database(e.to_string()))?;
    Ok(db)
}

/// The configured key, or in the embedded default one generated into
/// `data_dir/secret.key` (readable by the owner only).
pub fn load_secret_key(config: &Config) -> Result<Arc<[u8]>, StartError> {
    if let Some(b64) = &config.secret_key {
        let key = STANDARD.decode(b64.trim()).map_err(|e| StartError::Config(format!("secret_key: {e}")))?;
        if key.len() < 32 {
            return Err(StartError::Config("secret_key must be at least 32 bytes".into()));
        }
        return Ok(key.into());
    }
    let path = config.data_dir.join("secret.key");
    if path.exists() {
        let text =
            std::fs::read_to_string(&path).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?;
        let key = STANDARD.decode(text.trim()).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?;
        return Ok(key.into());
    }
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    write_private(&path, &STANDARD.encode(key))?;
    Ok(Arc::from(&key[..]))
}

fn write_private(path: &Path, contents: &str) -> Result<(), StartError> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StartError::Config(format!("{}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))?;
    file.write_all(contents.as_bytes()).map_err(|e| StartError::Config(format!("{}: {e}", path.display())))
}
