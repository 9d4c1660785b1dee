//! Store tests; every test runs on SQLite and on PostgreSQL.

mod directory_cache;
mod ephemeral;
mod orgs;
mod outbox;
mod redis_topologies;
mod refresh_tokens;
mod users;

use tunnus_store::Db;
use tunnus_store::testing::TestDatabase;

/// Declares `<name>_sqlite` and `<name>_postgres` tests running `body(db)`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                let t = tunnus_store::testing::TestDatabase::sqlite();
                $body(t.migrated()).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                let Some(t) = tunnus_store::testing::TestDatabase::postgres() else {
                    return;
                };
                $body(t.migrated()).await;
            }
        }
    };
}

#[test]
fn migrations_are_idempotent() {
    let t = TestDatabase::sqlite();
    let db: Db = t.migrated();
    assert_eq!(db.migrate().unwrap(), 0, "a second run applies nothing");
}
