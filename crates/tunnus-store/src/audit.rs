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

/// One recorded event, for the admin tool.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: OffsetDateTime,
    pub kind: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: String,
}

/// An `audit_events` row as loaded: at, kind, actor, subject, ip, request id, detail.
type Row = (time::PrimitiveDateTime, String, Option<String>, Option<String>, Option<String>, Option<String>, String);

/// The newest events about the given people or mentioning `org_id` in their
/// detail; all events when `people` is `None` (platform administrators).
pub fn recent(
    conn: &mut DbConnection,
    people: Option<&[String]>,
    org_id: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<AuditRow>> {
    let columns = (
        audit_events::at,
        audit_events::kind,
        audit_events::actor_user_id,
        audit_events::subject_user_id,
        audit_events::ip,
        audit_events::request_id,
        audit_events::detail,
    );
    let rows: Vec<Row> = match people {
        None => audit_events::table.order(audit_events::at.desc()).limit(limit).select(columns).load(conn)?,
        Some(ids) => {
            let about_people = audit_events::subject_user_id.eq_any(ids).or(audit_events::actor_user_id.eq_any(ids));
            match org_id {
                // Events naming the organization in their detail (invitations sent, members changed).
                Some(org) => {
                    let mention = format!("%{}%", org.replace(['%', '_'], ""));
                    audit_events::table
                        .filter(about_people.or(audit_events::detail.like(mention)))
                        .order(audit_events::at.desc())
                        .limit(limit)
                        .select(columns)
                        .load(conn)?
                }
                None => audit_events::table
                    .filter(about_people)
                    .order(audit_events::at.desc())
                    .limit(limit)
                    .select(columns)
                    .load(conn)?,
            }
        }
    };
    Ok(rows
        .into_iter()
        .map(|r| AuditRow {
            at: crate::time_conv::from_db(r.0),
            kind: r.1,
            actor: r.2,
            subject: r.3,
            ip: r.4,
            request_id: r.5,
            detail: r.6,
        })
        .collect())
}

/// Deletes events older than `cutoff` (retention); returns how many.
pub fn delete_before(conn: &mut DbConnection, cutoff: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(audit_events::table.filter(audit_events::at.lt(to_db(cutoff)))).execute(conn)?)
}

/// Keeps a deleted person's events but strips what identifies them: the
/// IP addresses, and their address wherever a detail mentions it. The
/// random user id stays (it no longer resolves to anyone), so the trail
/// still shows that one account did these things.
pub fn anonymise(conn: &mut DbConnection, user_id: &str, email: &str) -> StoreResult<usize> {
    let about = audit_events::actor_user_id.eq(user_id).or(audit_events::subject_user_id.eq(user_id));
    let n = diesel::update(audit_events::table.filter(about)).set(audit_events::ip.eq(None::<String>)).execute(conn)?;
    let rows: Vec<(String, String)> = audit_events::table
        .filter(audit_events::detail.like(format!("%{}%", email.replace(['%', '_'], ""))))
        .select((audit_events::id, audit_events::detail))
        .load(conn)?;
    for (id, detail) in rows {
        diesel::update(audit_events::table.find(&id))
            .set(audit_events::detail.eq(detail.replace(email, "(deleted account)")))
            .execute(conn)?;
    }
    Ok(n)
}

/// Every event about a person (their data export), oldest first.
pub fn about(conn: &mut DbConnection, user_id: &str) -> StoreResult<Vec<AuditRow>> {
    let rows: Vec<Row> = audit_events::table
        .filter(audit_events::actor_user_id.eq(user_id).or(audit_events::subject_user_id.eq(user_id)))
        .order((audit_events::at.asc(), audit_events::id.asc()))
        .limit(10_000)
        .select((
            audit_events::at,
            audit_events::kind,
            audit_events::actor_user_id,
            audit_events::subject_user_id,
            audit_events::ip,
            audit_events::request_id,
            audit_events::detail,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, kind, actor, subject, ip, request_id, detail)| AuditRow {
            at: crate::time_conv::from_db(at),
            kind,
            actor,
            subject,
            ip,
            request_id,
            detail,
        })
        .collect())
}
