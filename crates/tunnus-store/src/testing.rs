//! Test support shared by every crate's tests: a fresh database per test on
//! either backend (a temporary SQLite file, or a new PostgreSQL schema so
//! tests run in parallel), and the rule for tests that need a service.
//!
//! Services are looked up at `TUNNUS_TEST_POSTGRES_URL` and
//! `TUNNUS_TEST_REDIS_URL` (defaults: this machine's 127.0.0.1 servers).
//! When one is unreachable the test reports itself skipped, with the reason;
//! under CI (`CI=true`) that is a failure instead, never a silent skip.

use std::path::PathBuf;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

use tunnus_core::client::{Client, ClientId, ClientKind, GrantType, SigningAlg, TokenEndpointAuth};
use tunnus_core::country::Country;
use tunnus_core::{Clock, Email, SystemClock, User, UserId, UserStatus};

use crate::db::{Db, DbConfig};

pub fn postgres_url() -> String {
    std::env::var("TUNNUS_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub fn redis_url() -> String {
    std::env::var("TUNNUS_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Handles a missing service: skip outside CI, fail under CI.
///
/// # Panics
/// Under `CI=true`, always — a missing service must fail the run there.
pub fn service_missing(service: &str, reason: &str) {
    let under_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!under_ci, "{service} is required under CI but unreachable: {reason}");
    eprintln!("SKIPPED: {service} unreachable ({reason}); set CI=true to make this a failure");
}

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Schema { base_url: String, schema: String },
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

impl TestDatabase {
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(unique("tunnus-test-"));
        let path = dir.join("tunnus.db");
        Self { url: format!("sqlite://{}", path.display()), cleanup: Cleanup::File(dir) }
    }

    /// A fresh schema on the test PostgreSQL, or `None` (skipped) if unreachable.
    pub fn postgres() -> Option<Self> {
        let base_url = postgres_url();
        let schema = unique("t_");
        let created = PgConnection::establish(&base_url)
            .map_err(|e| e.to_string())
            .and_then(|mut c| c.batch_execute(&format!("CREATE SCHEMA {schema}")).map_err(|e| e.to_string()));
        if let Err(reason) = created {
            service_missing("PostgreSQL", &reason);
            return None;
        }
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}options=-csearch_path%3D{schema}");
        Some(Self { url, cleanup: Cleanup::Schema { base_url, schema } })
    }

    /// A migrated pool on this database.
    ///
    /// # Panics
    /// If the database cannot be migrated (a test failure).
    #[allow(clippy::expect_used)]
    pub fn migrated(&self) -> Db {
        let db = Db::connect(&DbConfig::new(&self.url)).expect("pool");
        db.migrate().expect("migrations apply");
        db
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { base_url, schema } => {
                if let Ok(mut c) = PgConnection::establish(base_url) {
                    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
        }
    }
}

/// An active person and a confidential client with the code and refresh
/// grants, stored in `db`: what rows referring to both (refresh tokens,
/// consents) need. Returns the person.
///
/// # Panics
/// If `email` or `client_id` is malformed or the rows cannot be stored (a test failure).
#[allow(clippy::expect_used)]
pub fn person_and_client(db: &Db, email: &str, client_id: &str) -> User {
    let now = SystemClock.now();
    let person = User {
        id: UserId::new_v7(),
        email: Email::parse(email).expect("a test address"),
        email_verified_at: Some(now),
        password_hash: None,
        given_name: "Aino".into(),
        family_name: "Virtanen".into(),
        country: Country::parse("FI").expect("a country"),
        preferred_language: None,
        status: UserStatus::Active,
        created_at: now,
        updated_at: now,
    };
    let client = Client {
        id: ClientId::parse(client_id).expect("a test client id"),
        name: client_id.into(),
        kind: ClientKind::Confidential,
        secret_hash: Some("x".into()),
        auth_method: TokenEndpointAuth::ClientSecretBasic,
        jwks: None,
        redirect_uris: vec![format!("https://{client_id}.example/cb")],
        post_logout_redirect_uris: vec![],
        backchannel_logout_uri: None,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: vec![],
        strict_scopes: false,
        first_party: true,
        id_token_alg: SigningAlg::ES256,
        required_entitlement: None,
        accepts_federated_only: true,
        created_at: now,
    };
    let stored = person.clone();
    db.write_blocking(move |c| {
        crate::users::insert(c, &stored)?;
        crate::clients::insert(c, &client, now)
    })
    .expect("a person and a client are stored");
    person
}

/// A refresh token's record: family `family` of `user_id` at `client_id`,
/// created now, session-bound, living an hour (its family a day).
pub fn refresh_record(user_id: &str, client_id: &str, family: &str) -> crate::refresh_tokens::RefreshRecord {
    let now = SystemClock.now();
    crate::refresh_tokens::RefreshRecord {
        family_id: family.into(),
        client_id: client_id.into(),
        user_id: user_id.into(),
        scopes: "openid".into(),
        sid: Some("sid-1".into()),
        offline: false,
        auth_time: now,
        amr: "[\"pwd\"]".into(),
        created_at: now,
        expires_at: now + time::Duration::hours(1),
        family_expires_at: now + time::Duration::days(1),
        rotated_at: None,
        revoked_at: None,
    }
}
