//! The short-lived store's contract, run against both backends.

use std::sync::Arc;
use std::time::Duration;

use tunnus_core::{ManualClock, SystemClock};
use tunnus_store::Ephemeral;
use tunnus_store::ephemeral::{EmbeddedStore, RedisStore, TakenOnce};
use tunnus_store::testing::{TestDatabase, redis_url, service_missing};

pub async fn contract(store: Ephemeral) {
    store.put("a", "1", Duration::from_secs(60)).await.unwrap();
    assert_eq!(store.get("a").await.unwrap().as_deref(), Some("1"));
    assert_eq!(store.take("a").await.unwrap().as_deref(), Some("1"));
    assert_eq!(store.take("a").await.unwrap(), None, "take is single-use");
    assert_eq!(store.get("missing").await.unwrap(), None);

    // A one-time entry: its take leaves a marker, a second take finds the
    // marker, and a key never put finds nothing and leaves nothing behind.
    let kept = Duration::from_secs(60);
    store.put("once:{k}", "grant", kept).await.unwrap();
    let first = store.take_once("once:{k}", "once-used:{k}", "first", kept).await.unwrap();
    assert_eq!(first, TakenOnce::Taken("grant".into()));
    let second = store.take_once("once:{k}", "once-used:{k}", "second", kept).await.unwrap();
    assert_eq!(second, TakenOnce::TakenBefore("first".into()), "the first take's marker, unchanged");
    let never = store.take_once("once:{never}", "once-used:{never}", "x", kept).await.unwrap();
    assert_eq!(never, TakenOnce::Missing);
    assert_eq!(store.get("once-used:{never}").await.unwrap(), None, "no marker for what nobody took");
    // Of many concurrent takers one gets the entry; every other one learns
    // what that one left.
    store.put("once:{c}", "grant", kept).await.unwrap();
    let takers: Vec<_> = (0..16)
        .map(|i| {
            let s = store.clone();
            tokio::spawn(async move {
                (i, s.take_once("once:{c}", "once-used:{c}", &format!("taker {i}"), kept).await.unwrap())
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in takers {
        outcomes.push(t.await.unwrap());
    }
    let winners: Vec<_> = outcomes.iter().filter(|(_, o)| *o == TakenOnce::Taken("grant".into())).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let left = TakenOnce::TakenBefore(format!("taker {}", winners[0].0));
    assert!(outcomes.iter().all(|(i, o)| *i == winners[0].0 || *o == left), "{outcomes:?}");

    // Of many concurrent takers exactly one gets the value.
    store.put("code", "x", Duration::from_secs(60)).await.unwrap();
    let takers: Vec<_> = (0..16)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.take("code").await.unwrap() })
        })
        .collect();
    let mut got = 0;
    for t in takers {
        if t.await.unwrap().is_some() {
            got += 1;
        }
    }
    assert_eq!(got, 1);

    assert_eq!(store.incr("n", Duration::from_secs(60)).await.unwrap(), 1);
    assert_eq!(store.incr("n", Duration::from_secs(60)).await.unwrap(), 2);
    assert_eq!(store.count("n").await.unwrap(), 2);
    assert_eq!(store.count("never").await.unwrap(), 0);

    // Several keys checked at once: none, one, and one that was taken.
    let keys = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert!(!store.any_exists(&[]).await.unwrap());
    assert!(!store.any_exists(&keys(&["absent-1", "absent-2"])).await.unwrap());
    store.put("present", "1", Duration::from_secs(60)).await.unwrap();
    assert!(store.any_exists(&keys(&["absent-1", "present"])).await.unwrap());
    assert!(store.any_exists(&keys(&["present"])).await.unwrap());
    store.take("present").await.unwrap();
    assert!(!store.any_exists(&keys(&["absent-1", "present"])).await.unwrap());

    store.set_add("s", "x", Duration::from_secs(60)).await.unwrap();
    store.set_add("s", "y", Duration::from_secs(60)).await.unwrap();
    let mut members = store.set_members("s").await.unwrap();
    members.sort();
    assert_eq!(members, vec!["x", "y"]);
    store.set_remove("s", "x").await.unwrap();
    assert_eq!(store.set_members("s").await.unwrap(), vec!["y"]);
    store.delete("s").await.unwrap();
    assert!(store.set_members("s").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_contract() {
    contract(Ephemeral::Embedded(EmbeddedStore::in_memory(Arc::new(SystemClock)))).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_contract() {
    let prefix = format!("test:{}:", uuid::Uuid::now_v7());
    match RedisStore::connect(&redis_url(), &prefix, Duration::from_secs(2)).await {
        Ok(s) => contract(Ephemeral::Redis(s)).await,
        Err(e) => service_missing("Redis", &e.to_string()),
    }
}

/// An embedded store on a fresh SQLite database, with a clock the test moves.
async fn persistent_store() -> (TestDatabase, tunnus_store::Db, Arc<ManualClock>, EmbeddedStore) {
    let t = TestDatabase::sqlite();
    let db = t.migrated();
    let clock = Arc::new(ManualClock::starting_now());
    let store = EmbeddedStore::persistent(db.clone(), clock.clone()).await.unwrap();
    (t, db, clock, store)
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_entries_expire_with_the_clock_and_survive_a_restart() {
    let (_t, db, clock, store) = persistent_store().await;
    store.put("session", "alive", Duration::from_secs(600)).await.unwrap();
    store.put("short", "gone soon", Duration::from_secs(5)).await.unwrap();
    store.set_add("index", "session", Duration::from_secs(600)).await.unwrap();
    assert_eq!(store.incr("counter", Duration::from_secs(600)).unwrap(), 1);
    clock.advance(time::Duration::seconds(6));
    assert_eq!(store.get("short").unwrap(), None);
    assert!(!store.any_exists(&["short".to_owned()]), "an expired entry does not exist");
    assert!(store.any_exists(&["short".to_owned(), "session".to_owned()]));

    // A new process over the same database sees what was written, minus
    // counters, once the first has written its changes (as a clean stop does).
    store.flush().await.unwrap();
    let reopened = EmbeddedStore::persistent(db, clock.clone()).await.unwrap();
    assert_eq!(reopened.get("session").unwrap().as_deref(), Some("alive"));
    assert_eq!(reopened.set_members("index").unwrap(), vec!["session"]);
    assert_eq!(reopened.incr("counter", Duration::from_secs(600)).unwrap(), 1);
    clock.advance(time::Duration::seconds(600));
    assert_eq!(reopened.get("session").unwrap(), None);
}

async fn stored_rows(db: &tunnus_store::Db) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    db.read(|c| Ok(diesel::sql_query("SELECT COUNT(*) AS n FROM kv_entries").get_result::<N>(c)?.n)).await.unwrap()
}

/// Entries nobody reads again once they have expired — a used code's replay
/// marker, a throttling counter — are swept from memory and from the database.
#[tokio::test(flavor = "multi_thread")]
async fn embedded_expired_entries_are_swept_from_memory_and_the_database() {
    let (_t, db, clock, store) = persistent_store().await;
    for i in 0..50 {
        store.put(&format!("code-used:{i}"), "family", Duration::from_secs(600)).await.unwrap();
    }
    store.incr("throttle:203.0.113.9", Duration::from_secs(60)).unwrap();
    store.put("session", "alive", Duration::from_secs(3600)).await.unwrap();
    store.flush().await.unwrap();
    // Counters are not written to the database.
    assert_eq!(stored_rows(&db).await, 51);
    assert_eq!(store.sweep().await.unwrap(), 0, "nothing has expired yet");
    assert_eq!(stored_rows(&db).await, 51);

    clock.advance(time::Duration::seconds(601));
    assert_eq!(store.sweep().await.unwrap(), 51, "the 50 markers and the counter");
    assert_eq!(stored_rows(&db).await, 1);
    assert_eq!(store.get("session").unwrap().as_deref(), Some("alive"));
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_changes_are_written_behind_without_a_flush() {
    let (_t, db, clock, store) = persistent_store().await;
    store.put("session", "alive", Duration::from_secs(600)).await.unwrap();
    store.put("code", "once", Duration::from_secs(60)).await.unwrap();
    assert_eq!(store.take("code").await.unwrap().as_deref(), Some("once"));
    store.set_add("index", "a", Duration::from_secs(600)).await.unwrap();
    store.set_add("index", "b", Duration::from_secs(600)).await.unwrap();
    store.set_remove("index", "a").await.unwrap();

    // No flush: the writer task writes the changes shortly after they were made.
    let mut seen = None;
    for _ in 0..100 {
        let other = EmbeddedStore::persistent(db.clone(), clock.clone()).await.unwrap();
        if other.get("session").unwrap().is_some() && other.set_members("index").unwrap() == ["b"] {
            seen = Some(other);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let other = seen.expect("the changes reached the database within 5 s");
    assert_eq!(other.get("session").unwrap().as_deref(), Some("alive"));
    // The newest state per key is what was written: the taken code is gone,
    // the set holds what it held last.
    assert_eq!(other.get("code").unwrap(), None);
    assert_eq!(other.set_members("index").unwrap(), vec!["b"]);
}

async fn delete_rows(db: &tunnus_store::Db) {
    use diesel::RunQueryDsl;
    db.write(|c| Ok(diesel::sql_query("DELETE FROM kv_entries").execute(c)?)).await.unwrap();
}

/// A used code's marker lives in memory only; it also hides, for good,
/// what was written before under its key.
#[tokio::test(flavor = "multi_thread")]
async fn embedded_take_once_markers_are_not_written_to_the_database() {
    let (_t, db, clock, store) = persistent_store().await;
    let store = Ephemeral::Embedded(store);
    let kept = Duration::from_secs(600);
    store.put("code:{1}", "grant", kept).await.unwrap();
    store.put("overwritten", "durable", kept).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(stored_rows(&db).await, 2);
    let taken = store.take_once("code:{1}", "code-used:{1}", "family", kept).await.unwrap();
    assert_eq!(taken, TakenOnce::Taken("grant".into()));
    store.flush().await.unwrap();
    assert_eq!(stored_rows(&db).await, 1, "the taken code is deleted and its marker not written");
    assert_eq!(store.get("code-used:{1}").await.unwrap().as_deref(), Some("family"));

    store.put("code:{2}", "grant", kept).await.unwrap();
    store.take_once("code:{2}", "overwritten", "transient", kept).await.unwrap();
    assert_eq!(store.get("overwritten").await.unwrap().as_deref(), Some("transient"));
    store.flush().await.unwrap();
    assert_eq!(stored_rows(&db).await, 0, "the older durable value was deleted");
    let reopened = EmbeddedStore::persistent(db, clock).await.unwrap();
    assert_eq!(reopened.get("overwritten").unwrap(), None);
    assert_eq!(reopened.get("code-used:{1}").unwrap(), None);
}

/// Adding a member a set already has, within the same step of its life,
/// writes nothing; a new member, or a life extended by a step, is written.
#[tokio::test(flavor = "multi_thread")]
async fn embedded_set_unchanged_by_an_add_is_not_rewritten() {
    let (_t, db, clock, store) = persistent_store().await;
    let ttl = Duration::from_secs(640); // steps of 10 s
    store.set_add("session-clients:s", "campus", ttl).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(stored_rows(&db).await, 1);

    // Take the row away behind the store's back: what is rewritten reappears.
    delete_rows(&db).await;
    store.set_add("session-clients:s", "campus", ttl).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(stored_rows(&db).await, 0, "same member, same step: nothing written");

    clock.advance(time::Duration::seconds(11));
    store.set_add("session-clients:s", "campus", ttl).await.unwrap();
    store.flush().await.unwrap();
    assert_eq!(stored_rows(&db).await, 1, "a life extended by a step is written");

    delete_rows(&db).await;
    store.set_add("session-clients:s", "warehouse", ttl).await.unwrap();
    store.flush().await.unwrap();
    let reopened = EmbeddedStore::persistent(db, clock.clone()).await.unwrap();
    assert_eq!(reopened.set_members("session-clients:s").unwrap(), vec!["campus", "warehouse"]);

    // The set lives at least as long as asked at the last add, and at most a step longer.
    clock.advance(time::Duration::seconds(639));
    assert_eq!(reopened.set_members("session-clients:s").unwrap().len(), 2);
    clock.advance(time::Duration::seconds(11));
    assert!(reopened.set_members("session-clients:s").unwrap().is_empty());
}
