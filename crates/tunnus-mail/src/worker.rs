//! Email delivery from the outbox: the store's generic outbox loop with a
//! transport as its delivery.

use std::sync::Arc;

use tokio::sync::Notify;
use tunnus_core::Clock;
use tunnus_store::Db;
use tunnus_store::outbox_worker::{Deliver, OutboxWorker};

use crate::message::{PrepareError, prepare_for_sending};
use crate::{OUTBOX_KIND_EMAIL, Transport};

/// A worker that sends queued emails through `transport` from `from`.
pub fn email_worker(
    db: Db,
    transport: Transport,
    from: String,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
) -> OutboxWorker {
    let transport = Arc::new(transport);
    let from = Arc::new(from);
    let (db_for_links, clock_for_links) = (db.clone(), clock.clone());
    let deliver: Deliver = Arc::new(move |item| {
        let (transport, from, db, now) = (transport.clone(), from.clone(), db_for_links.clone(), clock_for_links.now());
        Box::pin(async move {
            // A link minted here is stored before the email leaves: a crash
            // in between costs an unused token, never a link that fails.
            let payload = item.payload;
            let prepared = db
                .write(move |c| match prepare_for_sending(c, &payload, now) {
                    Err(PrepareError::Store(e)) => Err(e),
                    other => Ok(other),
                })
                .await
                .map_err(|e| e.to_string())?;
            match prepared.map_err(|e| e.to_string())? {
                Some(email) => transport.send(&from, &email).await.map_err(|e| e.to_string()),
                None => {
                    tracing::info!(outbox_id = %item.id, "not sent: the identity it was for no longer exists");
                    Ok(())
                }
            }
        })
    });
    OutboxWorker::new(db, OUTBOX_KIND_EMAIL, clock, wake, deliver)
}
