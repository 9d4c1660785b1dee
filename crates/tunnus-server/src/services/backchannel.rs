//! Delivering back-channel logout tokens to relying parties (Back-Channel
//! Logout 1.0 §2.5): a form POST, retried from the outbox until the relying
//! party answers 2xx. Never on the sign-out page's path. The token is signed
//! at each attempt, so a retry never carries a stale one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tunnus_core::Clock;
use tunnus_oidc::Provider;
use tunnus_oidc::logout::BackchannelDelivery;
use tunnus_store::Db;
use tunnus_store::outbox_worker::{Deliver, OutboxWorker};

use crate::services::sessions::BACKCHANNEL_KIND;

/// After this long a relying party that never answered is given up on
/// (its own sessions have long expired by then).
const GIVE_UP_AFTER: time::Duration = time::Duration::hours(24);

pub fn worker(
    db: Db,
    provider: Provider,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
) -> Result<OutboxWorker, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()?;
    let worker_clock = clock.clone();
    let deliver: Deliver = Arc::new(move |item| {
        let (client, provider, clock) = (client.clone(), provider.clone(), worker_clock.clone());
        Box::pin(async move {
            let d: BackchannelDelivery =
                serde_json::from_str(&item.payload).map_err(|e| format!("unreadable payload: {e}"))?;
            if clock.now() - item.created_at > GIVE_UP_AFTER {
                tracing::error!(uri = %d.uri, attempts = item.attempts, "back-channel logout abandoned after 24 h of failures");
                return Ok(());
            }
            let Some(token) = provider.logout_token_for(&d).await.map_err(|e| e.to_string())? else {
                return Ok(()); // the client was removed meanwhile
            };
            let response = client
                .post(&d.uri)
                .form(&[("logout_token", token.as_str())])
                .send()
                .await
                .map_err(|e| format!("{}: {e}", d.uri))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(format!("{} answered {}", d.uri, response.status()))
            }
        })
    });
    Ok(OutboxWorker::new(db, BACKCHANNEL_KIND, clock, wake, deliver))
}
