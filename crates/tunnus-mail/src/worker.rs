//! Email delivery from the outbox: the store's generic outbox loop with a
//! transport as its delivery.

use std::sync::Arc;

use tokio::sync::Notify;
use tunnus_core::Clock;
use tunnus_store::Db;
use tunnus_store::outbox_worker::{Deliver, OutboxWorker};

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
    let deliver: Deliver = Arc::new(move |item| {
        let (transport, from) = (transport.clone(), from.clone());
        Box::pin(async move {
            let email = crate::decode_payload(&item.payload)?;
            transport.send(&from, &email).await.map_err(|e| e.to_string())
        })
    });
    OutboxWorker::new(db, OUTBOX_KIND_EMAIL, clock, wake, deliver)
}
