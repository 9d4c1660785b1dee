//! The `invitations` table.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::TokenHash;
use tunnus_core::invitation::{InvitationKind, InvitationStatus};

use crate::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::{invitations, organizations, user_groups};
use crate::time_conv::{from_db, to_db};

/// An invitation with the names a person needs to decide.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: String,
    pub organization_id: String,
    pub organization_name: String,
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub kind: InvitationKind,
    pub email: String,
    pub status: InvitationStatus,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConnection,
    hash: &TokenHash,
    org_id: &str,
    group_id: Option<&str>,
    kind: InvitationKind,
    email: &str,
    invited_by: Option<&str>,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> StoreResult<String> {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(&id),
            invitations::token_hash.eq(hash.as_str()),
            invitations::organization_id.eq(org_id),
            invitations::group_id.eq(group_id),
            invitations::kind.eq(kind.as_str()),
            invitations::email.eq(email),
            invitations::invited_by.eq(invited_by),
            invitations::status.eq(InvitationStatus::Pending.as_str()),
            invitations::created_at.eq(to_db(now)),
            invitations::expires_at.eq(to_db(expires_at)),
        ))
        .execute(conn)?;
    Ok(id)
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    time::PrimitiveDateTime,
    time::PrimitiveDateTime,
);

fn invitation(r: Row) -> StoreResult<Invitation> {
    Ok(Invitation {
        kind: InvitationKind::parse(&r.5).ok_or_else(|| StoreError::corrupt("invitation kind"))?,
        status: InvitationStatus::parse(&r.7).ok_or_else(|| StoreError::corrupt("invitation status"))?,
        id: r.0,
        organization_id: r.1,
        organization_name: r.2,
        group_id: r.3,
        group_name: r.4,
        email: r.6,
        created_at: from_db(r.8),
        expires_at: from_db(r.9),
    })
}

macro_rules! select_invitation {
    () => {
        invitations::table
            .inner_join(organizations::table)
            .left_join(user_groups::table.on(invitations::group_id.eq(user_groups::id.nullable())))
            .select((
                invitations::id,
                invitations::organization_id,
                organizations::name,
                invitations::group_id,
                user_groups::name.nullable(),
                invitations::kind,
                invitations::email,
                invitations::status,
                invitations::created_at,
                invitations::expires_at,
            ))
    };
}

pub fn find_by_token(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<Invitation>> {
    let row: Option<Row> =
        select_invitation!().filter(invitations::token_hash.eq(hash.as_str())).get_result(conn).optional()?;
    row.map(invitation).transpose()
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Option<Invitation>> {
    let row: Option<Row> = select_invitation!().filter(invitations::id.eq(id)).get_result(conn).optional()?;
    row.map(invitation).transpose()
}

/// Pending, unexpired invitations addressed to `email` (the profile's list).
pub fn pending_for_email(conn: &mut DbConnection, email: &str, now: OffsetDateTime) -> StoreResult<Vec<Invitation>> {
    let rows: Vec<Row> = select_invitation!()
        .filter(invitations::email.eq(email))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.gt(to_db(now)))
        .order(invitations::created_at.desc())
        .load(conn)?;
    rows.into_iter().map(invitation).collect()
}

/// Whether `email` already has a pending invitation of this kind here.
pub fn pending_exists(
    conn: &mut DbConnection,
    org_id: &str,
    group_id: Option<&str>,
    email: &str,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let pending: Vec<Option<String>> = invitations::table
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::email.eq(email))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.gt(to_db(now)))
        .select(invitations::group_id)
        .load(conn)?;
    Ok(pending.iter().any(|g| g.as_deref() == group_id))
}

/// Moves a pending invitation to `to`; false if it was no longer pending
/// (used, declined, revoked — exactly one decision wins).
pub fn decide(conn: &mut DbConnection, id: &str, to: InvitationStatus, now: OffsetDateTime) -> StoreResult<bool> {
    Ok(diesel::update(invitations::table.find(id).filter(invitations::status.eq(InvitationStatus::Pending.as_str())))
        .set((invitations::status.eq(to.as_str()), invitations::decided_at.eq(to_db(now))))
        .execute(conn)?
        == 1)
}

/// Pending, unexpired invitations of an organization, newest first.
pub fn pending_for_org(conn: &mut DbConnection, org_id: &str, now: OffsetDateTime) -> StoreResult<Vec<Invitation>> {
    let rows: Vec<Row> = select_invitation!()
        .filter(invitations::organization_id.eq(org_id))
        .filter(invitations::status.eq(InvitationStatus::Pending.as_str()))
        .filter(invitations::expires_at.gt(to_db(now)))
        .order(invitations::created_at.desc())
        .limit(500)
        .load(conn)?;
    rows.into_iter().map(invitation).collect()
}

/// Gives a pending invitation a new link (the old one stops working) and a new expiry.
pub fn renew(conn: &mut DbConnection, id: &str, hash: &TokenHash, expires_at: OffsetDateTime) -> StoreResult<bool> {
    Ok(diesel::update(invitations::table.find(id).filter(invitations::status.eq(InvitationStatus::Pending.as_str())))
        .set((invitations::token_hash.eq(hash.as_str()), invitations::expires_at.eq(to_db(expires_at))))
        .execute(conn)?
        == 1)
}

/// Removes every invitation addressed to `email` (the address's owner deleted
/// their account: the invitations hold nothing else worth keeping).
pub fn delete_for_email(conn: &mut DbConnection, email: &str) -> StoreResult<usize> {
    Ok(diesel::delete(invitations::table.filter(invitations::email.eq(email))).execute(conn)?)
}
