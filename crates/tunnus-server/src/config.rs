//! Configuration: one TOML file plus `TUNNUS_*` environment overrides
//! (`TUNNUS_MAIL__SMTP__HOST` sets `mail.smtp.host`). Strict: an unknown key
//! is an error, so a typo never silently falls back to a default. The
//! documented sample, `docs/tunnus.example.toml`, is kept in sync by a test.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tunnus_core::password::{Argon2Config, PasswordPolicy};
use tunnus_mail::SmtpSettings;

mod upstream;
pub use upstream::UpstreamConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: String,
    /// The public base URL people and relying parties use (the OIDC issuer).
    /// `https://` in production; cookies get `Secure` when it is https.
    pub public_url: String,
    /// Folder for the embedded default: SQLite file, outbox, generated secret.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; unset means SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub database: DatabaseConfig,
    /// The short-lived store: `redis://…` (one server), `redis+cluster://h1:p,h2:p`
    /// (Redis Cluster) or `redis+sentinel://s1:26379,s2:26379/MASTER[/DB]`
    /// (Sentinel); unset means the embedded store.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key (several deployments can share one Redis).
    pub redis_prefix: String,
    /// Base64 key (≥ 32 bytes) for CSRF tokens and other keyed hashes. Unset
    /// in the embedded default: generated once into `data_dir/secret.key`.
    pub secret_key: Option<String>,
    /// `true`: "Forgot password?" tells when an email has no account.
    /// `false`: it answers the same either way, revealing nothing.
    pub reveal_unknown_accounts: bool,
    /// Trust `X-Forwarded-For` for the client address (only behind your own proxy).
    pub trust_forwarded_for: bool,
    /// Audit events older than this many days are deleted.
    pub audit_retention_days: i64,
    pub log: LogConfig,
    pub mail: MailConfig,
    pub password_policy: PasswordPolicy,
    pub argon2: Argon2Config,
    pub sessions: SessionConfig,
    pub links: LinkConfig,
    pub legacy_import: LegacyImportConfig,
    pub throttle: ThrottleConfig,
    pub oidc: OidcConfig,
    pub metrics: MetricsConfig,
    /// Relying parties declared here are created or updated at start-up
    /// (reproducible deployments); others are managed with `tunnus client`.
    pub clients: Vec<ClientConfig>,
    /// Upstream OpenID Connect providers people may sign in with ("Sign in
    /// with …"); Tunnus is their relying party.
    pub upstreams: Vec<UpstreamConfig>,
}

/// A relying party declared in the configuration file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub id: String,
    pub name: String,
    /// `public` or `confidential`.
    pub kind: tunnus_core::client::ClientKind,
    /// `client_secret_basic` (default for confidential), `client_secret_post`, `private_key_jwt`, `none`.
    #[serde(default)]
    pub auth_method: Option<tunnus_core::client::TokenEndpointAuth>,
    /// The client secret (better set through the environment than in the file).
    #[serde(default)]
    pub secret: Option<String>,
    /// Public JWK Set (JSON text) for `private_key_jwt`.
    #[serde(default)]
    pub jwks: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    #[serde(default = "default_grants")]
    pub grant_types: Vec<tunnus_core::client::GrantType>,
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub strict_scopes: bool,
    #[serde(default)]
    pub first_party: bool,
    #[serde(default = "default_alg")]
    pub id_token_alg: tunnus_core::client::SigningAlg,
    /// Only holders of this entitlement may sign in.
    #[serde(default)]
    pub required_entitlement: Option<String>,
    /// `false`: people who sign in only through an upstream provider are
    /// asked to set a password first.
    #[serde(default = "yes")]
    pub accepts_federated_only: bool,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

fn default_grants() -> Vec<tunnus_core::client::GrantType> {
    vec![tunnus_core::client::GrantType::AuthorizationCode, tunnus_core::client::GrantType::RefreshToken]
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into(), "offline_access".into(), "organization".into(), "entitlements".into()]
}

fn default_alg() -> tunnus_core::client::SigningAlg {
    tunnus_core::client::SigningAlg::RS256
}

impl ClientConfig {
    pub fn spec(&self) -> crate::services::clients::ClientSpec {
        crate::services::clients::ClientSpec {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            auth_method: self.auth_method,
            jwks: self.jwks.clone(),
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            grant_types: self.grant_types.clone(),
            scopes: self.scopes.clone(),
            strict_scopes: self.strict_scopes,
            first_party: self.first_party,
            id_token_alg: self.id_token_alg,
            required_entitlement: self.required_entitlement.clone(),
            accepts_federated_only: self.accepts_federated_only,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// Access tokens are short-lived so changed access rights reach services quickly.
    pub access_token_minutes: i64,
    pub id_token_minutes: i64,
    /// One-time authorization codes.
    pub code_seconds: i64,
    /// Refresh tokens without `offline_access` end with the SSO session, and
    /// also after this long unused / this long in all.
    pub session_refresh_sliding_hours: i64,
    pub session_refresh_absolute_hours: i64,
    /// `offline_access` refresh tokens outlive the session: unused / in all.
    pub offline_refresh_sliding_days: i64,
    pub offline_refresh_absolute_days: i64,
    /// Clients are kept in memory this long after being read; changes made
    /// with `tunnus client` reach running servers within it (0: never kept).
    pub client_cache_seconds: u64,
    /// How many people's directory entries a process keeps for UserInfo,
    /// authorization and refresh, dropped as soon as they change (0: none kept).
    pub directory_cache_entries: usize,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            access_token_minutes: 5,
            id_token_minutes: 10,
            code_seconds: 60,
            session_refresh_sliding_hours: 24,
            session_refresh_absolute_hours: 168,
            offline_refresh_sliding_days: 30,
            offline_refresh_absolute_days: 180,
            client_cache_seconds: 10,
            directory_cache_entries: 20_000,
        }
    }
}

impl OidcConfig {
    pub fn settings(&self, issuer: &str) -> tunnus_oidc::ProviderSettings {
        use time::Duration;
        tunnus_oidc::ProviderSettings {
            issuer: issuer.trim_end_matches('/').to_owned(),
            access_token_ttl: Duration::minutes(self.access_token_minutes),
            id_token_ttl: Duration::minutes(self.id_token_minutes),
            code_ttl: Duration::seconds(self.code_seconds),
            session_refresh_sliding: Duration::hours(self.session_refresh_sliding_hours),
            session_refresh_absolute: Duration::hours(self.session_refresh_absolute_hours),
            offline_refresh_sliding: Duration::days(self.offline_refresh_sliding_days),
            offline_refresh_absolute: Duration::days(self.offline_refresh_absolute_days),
            client_cache_ttl: std::time::Duration::from_secs(self.client_cache_seconds),
            directory_cache_entries: self.directory_cache_entries,
        }
    }
}

/// Who may read `/metrics`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Set: scrapers must send `Authorization: Bearer TOKEN`, from anywhere.
    /// Unset: only direct requests (no `X-Forwarded-For`) from loopback or
    /// private-network addresses are answered; others get 404.
    pub token: Option<String>,
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig").field("token", &self.token.as_ref().map(|_| "<redacted>")).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub max_connections: u32,
    pub acquire_timeout_seconds: u64,
    pub statement_timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `tunnus_server=debug,info`.
    pub filter: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The From header of every email.
    pub from: String,
    /// Unset: emails are written to `data_dir/outbox/` and listed at `/dev/outbox`.
    pub smtp: Option<SmtpSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session ends after this many minutes without use.
    pub idle_minutes: i64,
    /// A session ends this many hours after sign-in, however busy.
    pub absolute_hours: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinkConfig {
    /// Lifetime of the "set your password" link sent at sign-up.
    pub set_password_hours: i64,
    /// Lifetime of the "reset your password" link.
    pub reset_password_hours: i64,
    /// Lifetime of the link that confirms a new email address.
    pub confirm_email_change_hours: i64,
}

/// `tunnus import-legacy`: how the welcome emails of imported identities go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LegacyImportConfig {
    /// Welcome emails are spread out at this rate (a million at once would
    /// swamp the mail server and look like spam).
    pub emails_per_minute: u32,
    /// Lifetime of the set-password link in that email, counted from when it is due to be sent.
    pub link_valid_hours: i64,
}

impl Default for LegacyImportConfig {
    fn default() -> Self {
        Self { emails_per_minute: 600, link_valid_hours: 168 }
    }
}

/// A limit of `max` attempts per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub max: u64,
    pub window_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleConfig {
    pub sign_in_per_ip: Limit,
    /// Failed sign-ins per account.
    pub sign_in_failures_per_account: Limit,
    pub sign_up_per_ip: Limit,
    pub email_link_per_ip: Limit,
    /// Reset / verification emails per account.
    pub email_link_per_account: Limit,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: "http://localhost:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database: DatabaseConfig::default(),
            redis_url: None,
            redis_prefix: "tunnus:".into(),
            secret_key: None,
            reveal_unknown_accounts: true,
            trust_forwarded_for: false,
            audit_retention_days: 365,
            log: LogConfig::default(),
            mail: MailConfig::default(),
            password_policy: PasswordPolicy::default(),
            argon2: Argon2Config::default(),
            sessions: SessionConfig::default(),
            links: LinkConfig::default(),
            legacy_import: LegacyImportConfig::default(),
            throttle: ThrottleConfig::default(),
            oidc: OidcConfig::default(),
            metrics: MetricsConfig::default(),
            clients: Vec::new(),
            upstreams: Vec::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout_seconds: 5, statement_timeout_seconds: 10 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Pretty, filter: "info".into() }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self { from: "Tunnus <no-reply@localhost>".into(), smtp: None }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle_minutes: 120, absolute_hours: 24 }
    }
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self { set_password_hours: 24, reset_password_hours: 24, confirm_email_change_hours: 24 }
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            sign_in_per_ip: Limit { max: 30, window_seconds: 60 },
            sign_in_failures_per_account: Limit { max: 10, window_seconds: 900 },
            sign_up_per_ip: Limit { max: 20, window_seconds: 3600 },
            email_link_per_ip: Limit { max: 20, window_seconds: 900 },
            email_link_per_account: Limit { max: 5, window_seconds: 900 },
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// `TUNNUS_*` variables as text. Figment's `Env` guesses types, so a password
/// or client secret `12345` would become a number and fail (or `007` lose its
/// zeros) in a string field; kept as text, the lossy extraction converts only
/// where the field is a number or a flag.
struct RawEnv(Env);

impl figment::Provider for RawEnv {
    fn metadata(&self) -> figment::Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        use figment::value::{Dict, Value};
        let mut root = Dict::new();
        'vars: for (key, text) in self.0.iter() {
            let mut parts: Vec<&str> = key.as_str().split('.').collect();
            let Some(leaf) = parts.pop() else { continue };
            let mut dict = &mut root;
            for part in parts {
                let entry = dict.entry(part.to_owned()).or_insert_with(|| Value::from(Dict::new()));
                if !matches!(entry, Value::Dict(..)) {
                    *entry = Value::from(Dict::new());
                }
                let Value::Dict(_, inner) = entry else { continue 'vars };
                dict = inner;
            }
            dict.insert(leaf.to_owned(), Value::from(text));
        }
        Ok(figment::Profile::Default.collect(root))
    }
}

impl Config {
    /// Defaults, then the file (if any), then `TUNNUS_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError(format!("{} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(RawEnv(
            Env::prefixed("TUNNUS_")
                // TUNNUS_CONFIG names the file; TUNNUS_TEST_* belong to the test suite.
                .filter(|key| key != "config" && !key.as_str().starts_with("test_"))
                .split("__"),
        ));
        // Lossy: the text "16" or "true" from the environment fills a number or
        // a flag; string fields keep the text as it was (see `RawEnv`).
        let config: Config = figment.extract_lossy().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a TOML text alone (no environment); for tests and tools.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(text))
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = url::Url::parse(&self.public_url).map_err(|e| ConfigError(format!("public_url: {e}")))?;
        let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(ConfigError("public_url must be https:// (http:// only for localhost)".into()));
        }
        if self.audit_retention_days <= 0 {
            return Err(ConfigError("audit_retention_days must be positive".into()));
        }
        if self.sessions.idle_minutes <= 0 || self.sessions.absolute_hours <= 0 {
            return Err(ConfigError("sessions: lifetimes must be positive".into()));
        }
        if self.links.set_password_hours <= 0
            || self.links.reset_password_hours <= 0
            || self.links.confirm_email_change_hours <= 0
        {
            return Err(ConfigError("links: lifetimes must be positive".into()));
        }
        if self.legacy_import.emails_per_minute == 0 || self.legacy_import.link_valid_hours <= 0 {
            return Err(ConfigError("legacy_import: the email rate and link lifetime must be positive".into()));
        }
        if self.password_policy.min_length > self.password_policy.max_length {
            return Err(ConfigError("password_policy: min_length exceeds max_length".into()));
        }
        let o = &self.oidc;
        if [
            o.access_token_minutes,
            o.id_token_minutes,
            o.code_seconds,
            o.session_refresh_sliding_hours,
            o.session_refresh_absolute_hours,
            o.offline_refresh_sliding_days,
            o.offline_refresh_absolute_days,
        ]
        .iter()
        .any(|v| *v <= 0)
        {
            return Err(ConfigError("oidc: lifetimes must be positive".into()));
        }
        if let Some(url) = &self.redis_url {
            tunnus_store::ephemeral::RedisTarget::parse(url).map_err(|e| ConfigError(format!("redis_url: {e}")))?;
        }
        if self.metrics.token.as_ref().is_some_and(|t| t.trim().len() < 16) {
            return Err(ConfigError("metrics.token must be at least 16 characters".into()));
        }
        let mut ids = std::collections::HashSet::new();
        for upstream in &self.upstreams {
            upstream.validate()?;
            if !ids.insert(upstream.id.as_str()) {
                return Err(ConfigError(format!("upstreams: id {} appears twice", upstream.id)));
            }
        }
        tunnus_core::password::PasswordHasher::new(self.argon2).map_err(|e| ConfigError(format!("argon2: {e}")))?;
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("tunnus.db").display()))
    }

    /// Whether cookies must carry `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The public URL without a trailing slash, for building links.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../docs/tunnus.example.toml");

    fn leaf_keys(value: &toml::Value, prefix: &str, out: &mut Vec<String>) {
        if let toml::Value::Table(t) = value {
            for (k, v) in t {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match v {
                    toml::Value::Table(_) => leaf_keys(v, &path, out),
                    _ => out.push(path),
                }
            }
        }
    }

    /// The sample parses (so it has no unknown keys), states the defaults,
    /// and documents every key the struct has.
    #[test]
    fn the_documented_sample_matches_the_struct() {
        let parsed = Config::from_toml(SAMPLE).unwrap();
        assert_eq!(parsed, Config::default(), "the sample shows the defaults");
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        let mut keys = Vec::new();
        leaf_keys(&defaults, "", &mut keys);
        let mut sections = std::collections::BTreeSet::new();
        for key in &keys {
            // Limits are inline tables: `sign_in_per_ip = { max = …, … }`.
            let key =
                if key.starts_with("throttle.") { key.rsplit_once('.').map_or(key.as_str(), |k| k.0) } else { key };
            let (section, leaf) = key.rsplit_once('.').unwrap_or(("", key));
            sections.insert(section.to_owned());
            assert!(SAMPLE.contains(&format!("\n{leaf} =")), "sample lacks `{key}`");
        }
        for section in sections.iter().filter(|s| !s.is_empty()) {
            assert!(SAMPLE.contains(&format!("[{section}]")), "sample lacks [{section}]");
        }
        // Optional keys appear commented out.
        for optional in
            ["database_url", "redis_url", "secret_key", "token", "[mail.smtp]", "[[clients]]", "[[upstreams]]"]
        {
            assert!(SAMPLE.contains(&format!("# {optional}")), "sample lacks a commented `{optional}`");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(Config::from_toml("lisen = \"x\"").unwrap_err().to_string().contains("lisen"));
        assert!(Config::from_toml("[sessions]\nidle = 3").is_err());
        assert!(Config::from_toml("public_url = \"http://example.com\"").is_err());
        assert!(Config::from_toml("public_url = \"https://id.example.com\"").is_ok());
        assert!(Config::from_toml("[argon2]\nmemory_kib = 1").is_err());
        let smtp = Config::from_toml("[mail.smtp]\nhost = \"mail\"\nport = 587\nsecurity = \"starttls\"").unwrap();
        assert_eq!(smtp.mail.smtp.unwrap().port, 587);
        assert!(Config::from_toml("[metrics]\ntoken = \"short\"").unwrap_err().to_string().contains("16"));
        assert!(
            Config::from_toml("redis_url = \"redis+sentinel://s1:26379\"")
                .unwrap_err()
                .to_string()
                .contains("redis_url")
        );
        assert!(Config::from_toml("redis_url = \"redis+cluster://a:7000,b:7001\"").is_ok());
        let upstream = |id: &str, issuer: &str| {
            format!(
                "[[upstreams]]\nid = \"{id}\"\nname = \"Up\"\nissuer = \"{issuer}\"\nclient_id = \"c\"\nclient_secret = \"s3cret\"\n"
            )
        };
        let ok = Config::from_toml(&upstream("google", "https://accounts.google.com")).unwrap();
        assert_eq!(ok.upstreams[0].scopes, ["openid", "email", "profile"]);
        assert!(ok.upstreams[0].trust_email_verified);
        assert!(!format!("{:?}", ok.upstreams[0]).contains("s3cret"), "the secret is never printed");
        assert!(Config::from_toml(&upstream("Google!", "https://accounts.google.com")).is_err());
        assert!(Config::from_toml(&upstream("google", "http://accounts.google.com")).is_err());
        let twice = format!("{}{}", upstream("a", "https://a.example"), upstream("a", "https://b.example"));
        assert!(Config::from_toml(&twice).unwrap_err().to_string().contains("twice"));
    }

    /// Secrets that look like numbers stay text; numbers and flags still parse.
    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail returns figment's own error type
    fn environment_values_keep_their_text_in_string_fields() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("tunnus.toml", "[mail.smtp]\nhost = \"mail\"\nport = 25\nsecurity = \"none\"\n")?;
            jail.set_env("TUNNUS_MAIL__SMTP__PASSWORD", "12345");
            jail.set_env("TUNNUS_MAIL__SMTP__USERNAME", "007");
            jail.set_env("TUNNUS_MAIL__SMTP__PORT", "2525");
            jail.set_env("TUNNUS_REDIS_PREFIX", "true");
            jail.set_env("TUNNUS_DATABASE_URL", "postgres://tunnus:12345@db/tunnus");
            jail.set_env("TUNNUS_SECRET_KEY", "1234567890");
            jail.set_env("TUNNUS_DATABASE__MAX_CONNECTIONS", "32");
            jail.set_env("TUNNUS_TRUST_FORWARDED_FOR", "true");
            jail.set_env("TUNNUS_THROTTLE__SIGN_IN_PER_IP__MAX", "50");
            let config = Config::load(Some(Path::new("tunnus.toml"))).unwrap();
            let smtp = config.mail.smtp.clone().unwrap();
            assert_eq!(smtp.password.as_deref(), Some("12345"));
            assert_eq!(smtp.username.as_deref(), Some("007"), "leading zeros kept");
            assert_eq!(smtp.port, 2525);
            assert_eq!(config.redis_prefix, "true");
            assert_eq!(config.secret_key.as_deref(), Some("1234567890"));
            assert_eq!(config.database_url.as_deref(), Some("postgres://tunnus:12345@db/tunnus"));
            assert_eq!(config.database.max_connections, 32);
            assert!(config.trust_forwarded_for);
            assert_eq!(config.throttle.sign_in_per_ip.max, 50);
            assert_eq!(config.throttle.sign_in_per_ip.window_seconds, 60, "the rest of the limit stays default");

            // A number field given text is refused by name; so is an unknown variable.
            jail.set_env("TUNNUS_DATABASE__MAX_CONNECTIONS", "many");
            let err = Config::load(Some(Path::new("tunnus.toml"))).unwrap_err().to_string();
            assert!(err.contains("max_connections") || err.contains("MAX_CONNECTIONS"), "{err}");
            jail.set_env("TUNNUS_DATABASE__MAX_CONNECTIONS", "32");
            jail.set_env("TUNNUS_LISEN", "x");
            let err = Config::load(Some(Path::new("tunnus.toml"))).unwrap_err().to_string();
            assert!(err.to_lowercase().contains("lisen"), "{err}");
            Ok(())
        });
    }
}
