//! The provider: everything the protocol needs, built once per process.

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use tunnus_core::{Clock, UserId};
use tunnus_store::{Db, Ephemeral, StoreResult};

use crate::keys::KeyRing;

/// Lifetimes and the issuer; from configuration.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The issuer identifier, without a trailing slash.
    pub issuer: String,
    pub access_token_ttl: Duration,
    pub id_token_ttl: Duration,
    pub code_ttl: Duration,
    /// Refresh tokens bound to the SSO session: unused for this long, they end.
    pub session_refresh_sliding: Duration,
    /// …and they never outlive this, however used.
    pub session_refresh_absolute: Duration,
    /// `offline_access` refresh tokens: sliding and absolute lifetimes.
    pub offline_refresh_sliding: Duration,
    pub offline_refresh_absolute: Duration,
}

impl ProviderSettings {
    pub fn defaults(issuer: &str) -> Self {
        Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            access_token_ttl: Duration::minutes(5),
            id_token_ttl: Duration::minutes(10),
            code_ttl: Duration::seconds(60),
            session_refresh_sliding: Duration::hours(24),
            session_refresh_absolute: Duration::days(7),
            offline_refresh_sliding: Duration::days(30),
            offline_refresh_absolute: Duration::days(180),
        }
    }
}

/// A person who proved who they are in an SSO session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: UserId,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub sid: String,
}

#[derive(Clone)]
pub struct Provider {
    pub db: Db,
    pub ephemeral: Ephemeral,
    pub keys: KeyRing,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ProviderSettings>,
    pub secret_key: Arc<[u8]>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("issuer", &self.settings.issuer).finish_non_exhaustive()
    }
}

impl Provider {
    pub async fn new(
        db: Db,
        ephemeral: Ephemeral,
        clock: Arc<dyn Clock>,
        settings: ProviderSettings,
        secret_key: Arc<[u8]>,
    ) -> StoreResult<Self> {
        let keys = KeyRing::open(&db, secret_key.clone(), clock.now()).await?;
        Ok(Self { db, ephemeral, keys, clock, settings: Arc::new(settings), secret_key })
    }

    /// Rotates the signing keys and reloads them. Retired keys are kept as
    /// long as the longest-lived token they can have signed.
    pub async fn rotate_keys(&self) -> StoreResult<()> {
        let secret = self.secret_key.clone();
        let now = self.clock.now();
        let keep = self.settings.id_token_ttl.max(self.settings.access_token_ttl) + Duration::hours(1);
        self.db.write(move |c| crate::keys::rotate(c, &secret, now, keep)).await?;
        self.keys.reload(&self.db).await
    }

    /// The ephemeral key marking an SSO session alive, by its public `sid`.
    pub fn sid_key(sid: &str) -> String {
        format!("sid:{sid}")
    }

    /// A person's access rights now (evaluated afresh every time).
    pub async fn access_rights(&self, user_id: &str) -> StoreResult<tunnus_core::access::AccessRights> {
        let id = user_id.to_owned();
        let facts = self.db.read(move |c| tunnus_store::orgs::access_facts(c, &id)).await?;
        Ok(tunnus_core::access::evaluate(&facts, self.clock.now()))
    }

    /// Who can grant the person access: the admins of their organizations.
    pub async fn access_granters(&self, rights: &tunnus_core::access::AccessRights) -> StoreResult<Vec<String>> {
        let Some(org) = &rights.org else { return Ok(Vec::new()) };
        let id = org.id.clone();
        self.db.read(move |c| tunnus_store::orgs::admin_emails(c, &id)).await
    }

    /// Whether the SSO session `sid` is still alive.
    pub async fn session_alive(&self, sid: &str) -> StoreResult<bool> {
        Ok(self.ephemeral.get(&Self::sid_key(sid)).await?.is_some())
    }
}
