//! The loop that drains one kind of outbox delivery: claim a batch (lease),
//! deliver each item, record success or schedule a retry with backoff.
//! What "deliver" means (SMTP, an HTTP POST) is the caller's; this loop is
//! only about never losing and never doubling work across replicas.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tunnus_core::Clock;

use crate::Db;
use crate::outbox::{self, OutboxItem};

/// How long a claimed batch is ours before another replica may take it over.
const LEASE: time::Duration = time::Duration::minutes(2);
const BATCH: i64 = 20;

/// Delivers one item; `Err` carries a message for `last_error` and a retry.
pub type Deliver = Arc<dyn Fn(OutboxItem) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Delay before retry `attempt` (1-based): 10 s doubling, at most one hour.
pub fn backoff(attempt: i32) -> time::Duration {
    let exp = attempt.clamp(1, 20) - 1;
    time::Duration::seconds(10i64.saturating_mul(1i64 << exp).min(3600))
}

#[derive(Clone)]
pub struct OutboxWorker {
    db: Db,
    kind: &'static str,
    clock: Arc<dyn Clock>,
    owner: String,
    wake: Arc<Notify>,
    deliver: Deliver,
}

impl OutboxWorker {
    pub fn new(db: Db, kind: &'static str, clock: Arc<dyn Clock>, wake: Arc<Notify>, deliver: Deliver) -> Self {
        let owner = format!("{}:{}", std::process::id(), uuid::Uuid::now_v7());
        Self { db, kind, clock, owner, wake, deliver }
    }

    /// Delivers one batch of what is due now; returns how many were claimed.
    pub async fn run_once(&self) -> usize {
        let (now, owner, kind) = (self.clock.now(), self.owner.clone(), self.kind);
        let batch = match self.db.write(move |c| outbox::claim_due(c, kind, &owner, now, LEASE, BATCH)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(kind, error = %e, "outbox: cannot claim work");
                return 0;
            }
        };
        let claimed = batch.len();
        for item in batch {
            let (id, attempts) = (item.id.clone(), item.attempts);
            let outcome = (self.deliver)(item).await;
            let (now, owner, rid) = (self.clock.now(), self.owner.clone(), id.clone());
            let recorded = match outcome {
                Ok(()) => {
                    tracing::info!(kind, outbox_id = %id, "delivered");
                    self.db.write(move |c| outbox::mark_sent(c, &rid, &owner, now).map(|_| ())).await
                }
                Err(error) => {
                    let retry_at = now + backoff(attempts + 1);
                    tracing::warn!(kind, outbox_id = %id, attempts = attempts + 1, %error, "delivery failed; will retry");
                    self.db.write(move |c| outbox::mark_failed(c, &rid, &owner, &error, retry_at)).await
                }
            };
            if let Err(e) = recorded {
                tracing::warn!(kind, outbox_id = %id, error = %e, "outbox: cannot record the outcome; the lease expires and it is retried");
            }
        }
        claimed
    }

    /// Runs until `shutdown` resolves; the batch in hand is finished first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            // A full batch means more is waiting: go on without a pause.
            let full = self.run_once().await == BATCH as usize;
            let pause = if full { Duration::ZERO } else { Duration::from_secs(2) };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1).whole_seconds(), 10);
        assert_eq!(backoff(2).whole_seconds(), 20);
        assert_eq!(backoff(4).whole_seconds(), 80);
        assert_eq!(backoff(30).whole_seconds(), 3600);
    }
}
