//! The durable outbox: deliveries (emails now, back-channel calls later)
//! written in the same transaction as the change that causes them, then
//! claimed and sent by workers on any replica.
//!
//! Claiming is a lease: a conditional UPDATE that only one worker can win
//! per row, on both backends. A worker that dies leaves its lease to run
//! out, and the row is picked up again — nothing is lost.

use diesel::prelude::*;
use time::{Duration, OffsetDateTime};

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::outbox;
use crate::time_conv::{from_db, to_db};

/// A delivery waiting in (or sent from) the outbox.
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

type Row = (
    String,
    String,
    String,
    String,
    i32,
    time::PrimitiveDateTime,
    Option<time::PrimitiveDateTime>,
    Option<String>,
    time::PrimitiveDateTime,
);

fn columns() -> (
    outbox::id,
    outbox::kind,
    outbox::recipient,
    outbox::payload,
    outbox::attempts,
    outbox::next_attempt_at,
    outbox::sent_at,
    outbox::last_error,
    outbox::created_at,
) {
    (
        outbox::id,
        outbox::kind,
        outbox::recipient,
        outbox::payload,
        outbox::attempts,
        outbox::next_attempt_at,
        outbox::sent_at,
        outbox::last_error,
        outbox::created_at,
    )
}

fn item(r: Row) -> OutboxItem {
    OutboxItem {
        id: r.0,
        kind: r.1,
        recipient: r.2,
        payload: r.3,
        attempts: r.4,
        next_attempt_at: from_db(r.5),
        sent_at: r.6.map(from_db),
        last_error: r.7,
        created_at: from_db(r.8),
    }
}

/// Queues a delivery; call inside the transaction of the change that causes it.
pub fn enqueue(
    conn: &mut DbConnection,
    kind: &str,
    recipient: &str,
    payload: &str,
    now: OffsetDateTime,
) -> StoreResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::kind.eq(kind),
            outbox::recipient.eq(recipient),
            outbox::payload.eq(payload),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(to_db(now)),
            outbox::created_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Claims up to `limit` due deliveries of `kind` for `owner` until `now + lease`.
pub fn claim_due(
    conn: &mut DbConnection,
    kind: &str,
    owner: &str,
    now: OffsetDateTime,
    lease: Duration,
    limit: i64,
) -> StoreResult<Vec<OutboxItem>> {
    let now_db = to_db(now);
    let free = outbox::lease_until.is_null().or(outbox::lease_until.lt(now_db));
    let candidates: Vec<String> = outbox::table
        .filter(outbox::kind.eq(kind))
        .filter(outbox::sent_at.is_null())
        .filter(outbox::next_attempt_at.le(now_db))
        .filter(free)
        .order(outbox::next_attempt_at.asc())
        .limit(limit)
        .select(outbox::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let won = diesel::update(
            outbox::table
                .find(&id)
                .filter(outbox::sent_at.is_null())
                .filter(outbox::lease_until.is_null().or(outbox::lease_until.lt(now_db))),
        )
        .set((outbox::lease_owner.eq(owner), outbox::lease_until.eq(to_db(now + lease))))
        .execute(conn)?;
        if won == 1 {
            claimed.push(id);
        }
    }
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = outbox::table
        .filter(outbox::id.eq_any(&claimed))
        .filter(outbox::lease_owner.eq(owner))
        .order(outbox::next_attempt_at.asc())
        .select(columns())
        .load(conn)?;
    Ok(rows.into_iter().map(item).collect())
}

/// Records a successful delivery (only by the lease holder).
pub fn mark_sent(conn: &mut DbConnection, id: &str, owner: &str, now: OffsetDateTime) -> StoreResult<bool> {
    let n =
        diesel::update(outbox::table.find(id).filter(outbox::lease_owner.eq(owner)).filter(outbox::sent_at.is_null()))
            .set((
                outbox::sent_at.eq(to_db(now)),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::lease_owner.eq(None::<String>),
                outbox::lease_until.eq(None::<time::PrimitiveDateTime>),
                outbox::last_error.eq(None::<String>),
            ))
            .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt and when to try again.
pub fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    owner: &str,
    error: &str,
    retry_at: OffsetDateTime,
) -> StoreResult<()> {
    let error: String = error.chars().take(1000).collect();
    diesel::update(outbox::table.find(id).filter(outbox::lease_owner.eq(owner)))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(to_db(retry_at)),
            outbox::lease_owner.eq(None::<String>),
            outbox::lease_until.eq(None::<time::PrimitiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest deliveries of `kind`, for the embedded default's outbox page.
pub fn recent(conn: &mut DbConnection, kind: &str, limit: i64) -> StoreResult<Vec<OutboxItem>> {
    let rows: Vec<Row> = outbox::table
        .filter(outbox::kind.eq(kind))
        .order(outbox::created_at.desc())
        .limit(limit)
        .select(columns())
        .load(conn)?;
    Ok(rows.into_iter().map(item).collect())
}

/// Deliveries not yet sent.
pub fn pending_count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(outbox::table.filter(outbox::sent_at.is_null()).count().get_result(conn)?)
}
