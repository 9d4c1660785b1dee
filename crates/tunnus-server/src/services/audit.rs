//! Recording security events (sign-ins, resets, …) in the audit trail.

use tunnus_store::audit::{self, AuditEvent};
use tunnus_store::{DbConnection, StoreResult};

use crate::http::context;

/// Who did it and from where; filled from the request.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: String,
    pub user_agent: String,
}

pub fn record(
    conn: &mut DbConnection,
    kind: &'static str,
    subject: Option<&str>,
    origin: &Origin,
    detail: serde_json::Value,
    now: time::OffsetDateTime,
) -> StoreResult<()> {
    let event = AuditEvent {
        kind,
        actor_user_id: subject.map(str::to_owned),
        subject_user_id: subject.map(str::to_owned),
        ip: Some(origin.ip.clone()),
        request_id: Some(context::current().request_id),
        detail,
    };
    audit::record(conn, &event, now)
}
