//! The outbox worker: claims due emails, sends them, records the outcome.
//! Runs on every replica; leases make sure each email is sent by one.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::Notify;
use tunnus_core::Clock;
use tunnus_store::{Db, outbox};

use crate::{OUTBOX_KIND_EMAIL, RenderedEmail, Transport};

/// How long a claimed batch is ours before another replica may take it over.
const LEASE: time::Duration = time::Duration::minutes(2);
const BATCH: i64 = 20;

#[derive(Clone)]
pub struct OutboxWorker {
    db: Db,
    transport: Transport,
    from: String,
    clock: Arc<dyn Clock>,
    owner: String,
    wake: Arc<Notify>,
}

/// Delay before retry `attempt` (1-based): 10 s doubling, at most one hour.
pub fn backoff(attempt: i32) -> time::Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let secs = 10i64.saturating_mul(1i64 << exp).min(3600);
    time::Duration::seconds(secs)
}

impl OutboxWorker {
    pub fn new(db: Db, transport: Transport, from: String, clock: Arc<dyn Clock>) -> Self {
        let owner = format!("{}:{}", std::process::id(), uuid::Uuid::now_v7());
        Self { db, transport, from, clock, owner, wake: Arc::new(Notify::new()) }
    }

    /// Uses `wake` as the signal to look at the outbox now rather than at the next tick.
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// Sends everything due now; returns how many were sent.
    pub async fn run_once(&self) -> usize {
        let now = self.clock.now();
        let owner = self.owner.clone();
        let batch =
            match self.db.write(move |c| outbox::claim_due(c, OUTBOX_KIND_EMAIL, &owner, now, LEASE, BATCH)).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: cannot claim emails");
                    return 0;
                }
            };
        let mut sent = 0;
        for item in batch {
            let outcome = match serde_json::from_str::<RenderedEmail>(&item.payload) {
                Ok(email) => self.transport.send(&self.from, &email).await.map_err(|e| e.to_string()),
                Err(e) => Err(format!("unreadable payload: {e}")),
            };
            let now = self.clock.now();
            let owner = self.owner.clone();
            let id = item.id.clone();
            let recorded = match &outcome {
                Ok(()) => {
                    sent += 1;
                    tracing::info!(outbox_id = %item.id, "email sent");
                    self.db.write(move |c| outbox::mark_sent(c, &id, &owner, now).map(|_| ())).await
                }
                Err(error) => {
                    let retry_at: OffsetDateTime = now + backoff(item.attempts + 1);
                    tracing::warn!(outbox_id = %item.id, attempts = item.attempts + 1, %error, "email not sent; will retry");
                    let error = error.clone();
                    self.db.write(move |c| outbox::mark_failed(c, &id, &owner, &error, retry_at)).await
                }
            };
            if let Err(e) = recorded {
                tracing::warn!(outbox_id = %item.id, error = %e, "outbox: cannot record outcome; the lease will expire and it is retried");
            }
        }
        sent
    }

    /// Runs until `shutdown` resolves; the batch in hand is finished first.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            self.run_once().await;
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
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
