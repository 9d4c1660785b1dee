//! The directory cache on both backends: what it keeps is dropped when the
//! person changes, whoever changes them.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use tunnus_core::terms::{TermsDocument, TermsKind};
use tunnus_store::testing::TestDatabase;
use tunnus_store::{Db, DirectoryCache, terms, users};

use crate::users::user;

/// Keeps `value` for `person` and checks that it is used. Retried: the
/// channel is shared by every test schema of the database, and another
/// test's change drops what this one keeps.
fn keep_until_used(cache: &DirectoryCache<&'static str>, person: &str, value: &'static str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        cache.keep(cache.ticket(), person, value);
        if cache.get(person) == Some(value) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{person} was never kept");
}

/// Waits until none of `people` is served from the cache any more.
async fn until_dropped(cache: &DirectoryCache<&'static str>, people: &[&str], what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while people.iter().any(|p| cache.get(p).is_some()) {
        assert!(Instant::now() < deadline, "{what} was never heard");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn insert_person(db: &Db, email: &str) -> String {
    let u = user(email);
    let id = u.id.to_string();
    db.write(move |c| users::insert(c, &u)).await.unwrap();
    id
}

async fn rename(db: &Db, id: &str, name: &str) {
    let sql = format!("UPDATE users SET given_name = '{name}' WHERE id = '{id}'");
    db.write(move |c| Ok(diesel::sql_query(sql).execute(c)?)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_anywhere_drops_what_the_cache_kept_postgres() {
    let Some(t) = TestDatabase::postgres() else { return };
    a_change_anywhere_drops_what_the_cache_kept(&t).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_anywhere_drops_what_the_cache_kept_sqlite() {
    a_change_anywhere_drops_what_the_cache_kept(&TestDatabase::sqlite()).await;
}

async fn a_change_anywhere_drops_what_the_cache_kept(t: &TestDatabase) {
    let db = t.migrated();
    // Another replica, or `tunnus` on the command line: a pool of its own.
    let other = t.migrated();
    let cache = DirectoryCache::start(&db, 100).expect("a cache on PostgreSQL");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cache.stats().listening {
        assert!(Instant::now() < deadline, "the listener never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let aino = insert_person(&db, "aino@example.com").await;
    let eino = insert_person(&db, "eino@example.com").await;

    // This replica's own write is seen by its very next read, every time.
    for round in 0..20 {
        keep_until_used(&cache, &aino, "before");
        rename(&db, &aino, &format!("Aino{round}")).await;
        assert_eq!(cache.get(&aino), None, "round {round}: the replica's own change was not seen at once");
    }

    // Another replica's change is heard within moments.
    keep_until_used(&cache, &aino, "before");
    keep_until_used(&cache, &eino, "before");
    rename(&other, &aino, "Aino-elsewhere").await;
    until_dropped(&cache, &[&aino], "another replica's change").await;

    // Where a person stands with the terms is kept with them too: their
    // acceptance drops them; a new version concerns everyone.
    keep_until_used(&cache, &aino, "before");
    let (id, now) = (tunnus_core::UserId::from_stored(aino.clone()), time::OffsetDateTime::now_utc());
    let v1 = TermsDocument { kind: TermsKind::Terms, version: 1, url: "/legal/terms".into() };
    other.write(move |c| terms::record_acceptance(c, &id, &v1, now)).await.unwrap();
    until_dropped(&cache, &[&aino], "the person's acceptance of the terms").await;
    keep_until_used(&cache, &aino, "before");
    keep_until_used(&cache, &eino, "before");
    let v2 = TermsDocument { kind: TermsKind::Terms, version: 2, url: "/legal/terms".into() };
    other.write(move |c| terms::publish(c, &v2, now)).await.unwrap();
    until_dropped(&cache, &[&aino, &eino], "a new version of the terms").await;

    // An organization's change may concern anyone: everything is dropped.
    keep_until_used(&cache, &eino, "before");
    other
        .write(|c| {
            Ok(diesel::sql_query("INSERT INTO organizations VALUES ('o1', 'Acme', CURRENT_TIMESTAMP)").execute(c)?)
        })
        .await
        .unwrap();
    until_dropped(&cache, &[&eino], "the organization's change").await;

    // A bulk writer's transaction (a legacy import's batch) silences the
    // row triggers and announces one change for everyone instead.
    keep_until_used(&cache, &aino, "before");
    keep_until_used(&cache, &eino, "before");
    let sql = format!("UPDATE users SET given_name = 'Bulk' WHERE id = '{eino}'");
    other
        .write(move |c| {
            tunnus_store::directory_cache::announce_bulk_change(c)?;
            diesel::sql_query(sql).execute(c)?;
            tunnus_store::directory_cache::end_bulk_change(c)
        })
        .await
        .unwrap();
    until_dropped(&cache, &[&aino, &eino], "the bulk change").await;
    // The bulk writer's silence ended with its transaction, and one
    // person's change drops only that person. Tried a few times: on
    // PostgreSQL another test's change (or its cut listener) may drop
    // everyone meanwhile, which says nothing about this change.
    let mut only_that_person = false;
    for round in 0..20 {
        keep_until_used(&cache, &aino, "before");
        keep_until_used(&cache, &eino, "before");
        rename(&other, &aino, &format!("After-bulk{round}")).await;
        until_dropped(&cache, &[&aino], "a change after the bulk write").await;
        if cache.get(&eino) == Some("before") {
            only_that_person = true;
            break;
        }
    }
    assert!(only_that_person, "one person's change dropped everyone, 20 times out of 20");
}

/// A listener whose connection is cut stops the cache from being used
/// (what changed meanwhile was not heard), and listens again.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_listener_empties_the_cache_until_it_listens_again() {
    let Some(t) = TestDatabase::postgres() else { return };
    let db = t.migrated();
    let cache = DirectoryCache::start(&db, 100).expect("a cache on PostgreSQL");
    let listening = |want: bool| {
        let cache = cache.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            while cache.stats().listening != want {
                assert!(Instant::now() < deadline, "the listener never became listening={want}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    listening(true).await;
    keep_until_used(&cache, "aino", "before");

    // Every listener of the database (other tests' too: they only read uncached meanwhile).
    let cut = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}'",
        tunnus_store::directory_cache::APPLICATION_NAME
    );
    db.read(move |c| Ok(diesel::sql_query(cut).execute(c)?)).await.unwrap();
    listening(false).await;
    assert_eq!(cache.get("aino"), None, "nothing is used while not listening");
    cache.keep(cache.ticket(), "aino", "kept while deaf");
    assert_eq!(cache.get("aino"), None, "nothing is kept while not listening");

    listening(true).await;
    assert_eq!(cache.get("aino"), None, "what was kept before the loss is gone");
    keep_until_used(&cache, "aino", "after");
}

#[test]
fn no_room_means_no_cache() {
    let t = TestDatabase::sqlite();
    assert!(DirectoryCache::<u8>::start(&t.migrated(), 0).is_none());
}
