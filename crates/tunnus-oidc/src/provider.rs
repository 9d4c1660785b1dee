//! The provider: everything the protocol needs, built once per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use time::{Duration, OffsetDateTime};
use tunnus_core::access::{AccessFacts, AccessRights};
use tunnus_core::client::{Client, ClientId};
use tunnus_core::terms::{TermsDocument, TermsStanding};
use tunnus_core::{Clock, TokenHash, User, UserId};
use tunnus_store::refresh_tokens::{self, RefreshRecord, RefreshTokenWriter};
use tunnus_store::{Db, DbConnection, DirectoryCache, Ephemeral, StoreError, StoreResult, clients, orgs, users};

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
    /// How long a client read from the database is used without reading it
    /// again: changes made by `tunnus client` or another replica take effect
    /// within this time. Zero reads the client on every request.
    pub client_cache_ttl: std::time::Duration,
    /// How many people's directory entries (their row and access facts) a
    /// process keeps for UserInfo, authorization and refresh; 0 reads them every time.
    /// See [`tunnus_store::DirectoryCache`].
    pub directory_cache_entries: usize,
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
            client_cache_ttl: std::time::Duration::from_secs(10),
            directory_cache_entries: 20_000,
        }
    }
}

/// An active person as the directory says: their account, the facts their
/// access rights follow from, and where they stand with the terms.
#[derive(Debug)]
pub(crate) struct Person {
    pub user: User,
    pub facts: AccessFacts,
    /// Always read for the directory cache; without one, only for a caller
    /// that asks (an authorization), so that UserInfo and refresh do not pay
    /// for two reads they never use.
    pub terms: Option<TermsStanding>,
}

/// What the directory says about a person: `None` if the account is not active.
type DirectoryEntry = Arc<Option<Person>>;

/// A person who proved who they are in an SSO session.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: UserId,
    pub auth_time: OffsetDateTime,
    pub amr: Vec<String>,
    pub sid: String,
}

/// Clients read recently. Every token, introspection and authorization
/// request needs its client, and clients change rarely, so reading them from
/// the database each time cost more than the rest of a request's protocol
/// work. Only clients that exist are kept (an unknown id cannot fill it).
#[derive(Default)]
struct ClientCache {
    entries: Mutex<HashMap<ClientId, (Instant, Client)>>,
}

/// More clients than any deployment registers; beyond it the cache starts over.
const CLIENT_CACHE_MAX: usize = 10_000;

impl ClientCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ClientId, (Instant, Client)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The clients each SSO session entered, as this process last recorded them
/// in the session's client list (`session-clients:<sid>`, read at logout).
/// The list is written again only when this process has not recorded the
/// same client for the same session within a 64th of the list's lifetime:
/// a silent SSO into a service the session already entered then costs no
/// write (with Redis, one round trip of about six per code exchange). The
/// list is deleted only when its session ends, after which no authorization
/// uses the session, so a remembered entry never hides a missing one.
#[derive(Default)]
pub(crate) struct EnteredClients {
    recorded: Mutex<HashMap<(String, ClientId), Instant>>,
}

/// Entries kept at most (~100 bytes each); when full, it starts over.
const ENTERED_CLIENTS_MAX: usize = 10_000;

impl EnteredClients {
    /// Whether this process recorded `client` for `sid` within `within`.
    pub(crate) fn recently(&self, sid: &str, client: &ClientId, within: std::time::Duration) -> bool {
        let recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        recorded.get(&(sid.to_owned(), client.clone())).is_some_and(|at| at.elapsed() < within)
    }

    pub(crate) fn record(&self, sid: &str, client: &ClientId) {
        let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
        if recorded.len() >= ENTERED_CLIENTS_MAX {
            recorded.clear();
        }
        recorded.insert((sid.to_owned(), client.clone()), Instant::now());
    }
}

#[derive(Clone)]
pub struct Provider {
    pub db: Db,
    pub ephemeral: Ephemeral,
    pub keys: KeyRing,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ProviderSettings>,
    pub secret_key: Arc<[u8]>,
    clients: Arc<ClientCache>,
    pub(crate) entered: Arc<EnteredClients>,
    /// Stores the refresh tokens that code exchanges and refreshes issue.
    pub(crate) refresh_tokens: RefreshTokenWriter,
    /// People as the directory last said (see [`Provider::active_person`]).
    directory: Option<DirectoryCache<DirectoryEntry>>,
    /// The discovery document as served; it depends only on the settings.
    discovery: Arc<str>,
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
        let discovery = crate::discovery::document(&settings).to_string().into();
        let settings = Arc::new(settings);
        let directory = DirectoryCache::start(&db, settings.directory_cache_entries);
        let refresh_tokens = RefreshTokenWriter::start(&db)?;
        Ok(Self {
            refresh_tokens,
            db,
            ephemeral,
            keys,
            clock,
            settings,
            secret_key,
            clients: Arc::default(),
            entered: Arc::default(),
            directory,
            discovery,
        })
    }

    /// The discovery document as JSON text.
    pub fn discovery(&self) -> Arc<str> {
        self.discovery.clone()
    }

    /// The registered client `id`, from the cache if read within
    /// `client_cache_ttl`.
    pub async fn client(&self, id: &ClientId) -> StoreResult<Option<Client>> {
        let ttl = self.settings.client_cache_ttl;
        if let Some((read_at, client)) = self.clients.lock().get(id)
            && read_at.elapsed() < ttl
        {
            return Ok(Some(client.clone()));
        }
        let lookup = id.clone();
        let found = self.db.lookup(move |c| clients::find(c, &lookup)).await?;
        let mut cache = self.clients.lock();
        match &found {
            Some(client) if !ttl.is_zero() => {
                if cache.len() >= CLIENT_CACHE_MAX {
                    cache.clear();
                }
                cache.insert(id.clone(), (Instant::now(), client.clone()));
            }
            _ => {
                cache.remove(id);
            }
        }
        Ok(found)
    }

    /// Forgets cached clients, so the next request reads them afresh (after
    /// a change made in this process).
    pub fn forget_clients(&self) {
        self.clients.lock().clear();
    }

    /// An active person and their access rights now, in one database visit:
    /// what every token and userinfo answer is built from.
    ///
    /// The person's row and access facts come from the
    /// directory cache when it has them; the rights are evaluated from the
    /// facts now either way (a license that has just ended is gone).
    pub async fn active_person(&self, id: &UserId) -> StoreResult<Option<(User, AccessRights)>> {
        let found = self.person(id, false).await?;
        Ok(found.as_ref().as_ref().map(|p| (p.user.clone(), self.rights_now(&p.facts))))
    }

    /// [`Provider::active_person`], with the versions of the terms and
    /// privacy documents the person has yet to accept: what an authorization
    /// needs. No database visit when the person is cached.
    pub async fn active_person_and_terms(
        &self,
        id: &UserId,
    ) -> StoreResult<Option<(User, AccessRights, Vec<TermsDocument>)>> {
        let found = self.person(id, true).await?;
        let Some(person) = found.as_ref().as_ref() else { return Ok(None) };
        let terms = person.terms.as_ref().ok_or_else(|| StoreError::corrupt("a person read without their terms"))?;
        let outstanding = terms.outstanding(self.clock.now());
        Ok(Some((person.user.clone(), self.rights_now(&person.facts), outstanding)))
    }

    /// A refresh token with its family, as stored.
    pub(crate) async fn refresh_record(&self, hash: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
        let h = hash.clone();
        self.db.lookup(move |c| refresh_tokens::find(c, &h)).await
    }

    /// The person from the directory cache, or else read (and kept), with
    /// their terms when the cache keeps them or `with_terms` asks for them.
    pub(crate) async fn person(&self, id: &UserId, with_terms: bool) -> StoreResult<DirectoryEntry> {
        if let Some(found) = self.directory.as_ref().and_then(|cache| cache.get(id.as_str())) {
            return Ok(found);
        }
        let ticket = self.directory.as_ref().map(DirectoryCache::ticket);
        let terms_as_of = (with_terms || self.directory.is_some()).then(|| self.clock.now());
        let reading = id.clone();
        let found = Arc::new(self.db.lookup(move |c| read_active_person(c, &reading, terms_as_of)).await?);
        if let (Some(cache), Some(ticket)) = (&self.directory, ticket) {
            cache.keep(ticket, id.as_str(), found.clone());
        }
        Ok(found)
    }

    /// PostgreSQL: statements the refresh-token writer has run and the
    /// token writes they held, for metrics; `None` on SQLite.
    pub fn refresh_token_batches(&self) -> Option<(u64, u64)> {
        self.refresh_tokens.counts()
    }

    /// The directory cache's figures, when there is one.
    pub fn directory_cache_stats(&self) -> Option<tunnus_store::directory_cache::CacheStats> {
        self.directory.as_ref().map(DirectoryCache::stats)
    }

    /// Access rights from facts read now.
    pub fn rights_now(&self, facts: &AccessFacts) -> AccessRights {
        tunnus_core::access::evaluate(facts, self.clock.now())
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
    pub async fn access_rights(&self, user_id: &str) -> StoreResult<AccessRights> {
        let id = user_id.to_owned();
        let facts = self.db.lookup(move |c| orgs::access_facts(c, &id)).await?;
        Ok(tunnus_core::access::evaluate(&facts, self.clock.now()))
    }

    /// Who can grant the person access: the admins of their organizations.
    pub async fn access_granters(&self, rights: &AccessRights) -> StoreResult<Vec<String>> {
        let Some(org) = &rights.org else { return Ok(Vec::new()) };
        let id = org.id.clone();
        self.db.read(move |c| orgs::admin_emails(c, &id)).await
    }

    /// Whether the SSO session `sid` is still alive.
    pub async fn session_alive(&self, sid: &str) -> StoreResult<bool> {
        Ok(self.ephemeral.get(&Self::sid_key(sid)).await?.is_some())
    }
}

/// An active person, within the caller's database visit, with their terms
/// as of `terms_as_of` if given (see [`TermsStanding::new`]).
fn read_active_person(
    c: &mut DbConnection,
    id: &UserId,
    terms_as_of: Option<OffsetDateTime>,
) -> StoreResult<Option<Person>> {
    match users::find_by_id(c, id)? {
        Some(user) => active_person_of(c, user, terms_as_of),
        None => Ok(None),
    }
}

/// `user` as an active [`Person`] (`None` if the account is not active),
/// within the caller's database visit.
fn active_person_of(
    c: &mut DbConnection,
    user: User,
    terms_as_of: Option<OffsetDateTime>,
) -> StoreResult<Option<Person>> {
    if user.status != tunnus_core::UserStatus::Active {
        return Ok(None);
    }
    let facts = orgs::access_facts(c, user.id.as_str())?;
    let terms = terms_as_of.map(|now| tunnus_store::terms::standing(c, &user.id, now)).transpose()?;
    Ok(Some(Person { user, facts, terms }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tunnus_core::client::ClientId;

    use super::{ENTERED_CLIENTS_MAX, EnteredClients};

    #[test]
    fn a_session_entering_a_client_is_remembered_for_a_while_and_within_bounds() {
        let entered = EnteredClients::default();
        let (campus, warehouse) = (ClientId::parse("campus").unwrap(), ClientId::parse("warehouse").unwrap());
        let hour = Duration::from_secs(3600);
        assert!(!entered.recently("sid-1", &campus, hour), "nothing recorded yet");
        entered.record("sid-1", &campus);
        assert!(entered.recently("sid-1", &campus, hour));
        assert!(!entered.recently("sid-1", &campus, Duration::ZERO), "older than the window");
        assert!(!entered.recently("sid-1", &warehouse, hour), "another client is written");
        assert!(!entered.recently("sid-2", &campus, hour), "another session is written");
        for i in 0..ENTERED_CLIENTS_MAX {
            entered.record(&format!("other-{i}"), &campus);
        }
        assert!(!entered.recently("sid-1", &campus, hour), "full, it started over");
        assert!(entered.recorded.lock().unwrap().len() <= ENTERED_CLIENTS_MAX);
    }
}
