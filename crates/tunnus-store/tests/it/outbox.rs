use time::Duration;
use tunnus_core::{Clock, SystemClock};
use tunnus_store::{Db, outbox};

use crate::both_backends;

async fn claims_are_exclusive_and_failures_retry(db: Db) {
    let now = SystemClock.now();
    for i in 0..5 {
        db.write(move |c| outbox::enqueue(c, "email", &format!("p{i}@example.com"), "{}", now)).await.unwrap();
    }
    // Two workers claim at once: every item goes to exactly one of them.
    let a = db.clone();
    let b = db.clone();
    let (ca, cb) = tokio::join!(
        a.write(move |c| outbox::claim_due(c, "email", "worker-a", now, Duration::seconds(60), 10)),
        b.write(move |c| outbox::claim_due(c, "email", "worker-b", now, Duration::seconds(60), 10)),
    );
    let (ca, cb) = (ca.unwrap(), cb.unwrap());
    assert_eq!(ca.len() + cb.len(), 5);
    let mut ids: Vec<_> = ca.iter().chain(cb.iter()).map(|i| i.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5);

    let (winner, items) = if ca.is_empty() { ("worker-b", cb) } else { ("worker-a", ca) };
    let first = items[0].id.clone();
    // Only the lease holder can mark it sent.
    let id = first.clone();
    assert!(!db.write(move |c| outbox::mark_sent(c, &id, "intruder", now)).await.unwrap());
    let id = first.clone();
    db.write(move |c| outbox::mark_failed(c, &id, winner, "smtp down", now + Duration::seconds(30))).await.unwrap();
    // Leased items are not claimable again until their lease runs out.
    assert!(
        db.write(move |c| outbox::claim_due(c, "email", "worker-c", now, Duration::seconds(60), 10))
            .await
            .unwrap()
            .is_empty()
    );
    let later = now + Duration::seconds(61);
    let again =
        db.write(move |c| outbox::claim_due(c, "email", "worker-c", later, Duration::seconds(60), 10)).await.unwrap();
    assert_eq!(again.len(), 5, "failed item is due again and expired leases are free");
    let retried = again.iter().find(|i| i.id == first).unwrap();
    assert_eq!(retried.attempts, 1);
    assert_eq!(retried.last_error.as_deref(), Some("smtp down"));
    for item in again {
        let id = item.id.clone();
        assert!(db.write(move |c| outbox::mark_sent(c, &id, "worker-c", later)).await.unwrap());
    }
    assert_eq!(db.read(|c| outbox::pending_count(c)).await.unwrap(), 0);
}
both_backends!(claims_are_exclusive_and_failures_retry, super::claims_are_exclusive_and_failures_retry);
