//! Delivering back-channel logout tokens to relying parties (Back-Channel
//! Logout 1.0 §2.5): a form POST, retried from the outbox until the relying
//! party answers 2xx. Never on the sign-out page's path.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tunnus_core::Clock;
use tunnus_oidc::logout::BackchannelDelivery;
use tunnus_store::Db;
use tunnus_store::outbox_worker::{Deliver, OutboxWorker};

use crate::services::sessions::BACKCHANNEL_KIND;

pub fn worker(db: Db, clock: Arc<dyn Clock>, wake: Arc<Notify>) -> Result<OutboxWorker, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()?;
    let deliver: Deliver = Arc::new(move |item| {
        let client = client.clone();
        Box::pin(async move {
            let d: BackchannelDelivery =
                serde_json::from_str(&item.payload).map_err(|e| format!("unreadable payload: {e}"))?;
            let response = client
                .post(&d.uri)
                .form(&[("logout_token", d.logout_token.as_str())])
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
