//! The audit trail of security events.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::audit_events;
use crate::time_conv::to_db;

/// One security-relevant event. `detail` is JSON and never holds a secret.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub kind: &'static str,
    pub actor_user_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: serde_json::Value,
}

pub fn record(conn: &mut DbConnection, event: &AuditEvent, now: OffsetDateTime) -> StoreResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_events::at.eq(to_db(now)),
            audit_events::kind.eq(event.kind),
            audit_events::actor_user_id.eq(event.actor_user_id.as_deref()),
            audit_events::subject_user_id.eq(event.subject_user_id.as_deref()),
            audit_events::ip.eq(event.ip.as_deref()),
            audit_events::request_id.eq(event.request_id.as_deref()),
            audit_events::detail.eq(event.detail.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Event kinds recorded for a person, oldest first (for tests and the profile).
pub fn kinds_for_subject(conn: &mut DbConnection, subject: &str) -> StoreResult<Vec<String>> {
    Ok(audit_events::table
        .filter(audit_events::subject_user_id.eq(subject))
        .order((audit_events::at.asc(), audit_events::id.asc()))
        .select(audit_events::kind)
        .load(conn)?)
}
