//! The `refresh_tokens` table: hashes of opaque refresh tokens, grouped in
//! families for rotation with reuse detection.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::TokenHash;

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::refresh_tokens;
use crate::time_conv::{from_db, to_db};

#[derive(Debug, Clone)]
pub struct RefreshRecord {
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    /// Space-separated scopes.
    pub scopes: String,
    pub sid: Option<String>,
    pub offline: bool,
    pub auth_time: OffsetDateTime,
    /// JSON array of authentication methods.
    pub amr: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub family_expires_at: OffsetDateTime,
    pub rotated_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    time::PrimitiveDateTime,
    String,
    time::PrimitiveDateTime,
    time::PrimitiveDateTime,
    time::PrimitiveDateTime,
    Option<time::PrimitiveDateTime>,
    Option<time::PrimitiveDateTime>,
);

pub fn insert(conn: &mut DbConnection, hash: &TokenHash, r: &RefreshRecord) -> StoreResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash.as_str()),
            refresh_tokens::family_id.eq(&r.family_id),
            refresh_tokens::client_id.eq(&r.client_id),
            refresh_tokens::user_id.eq(&r.user_id),
            refresh_tokens::scopes.eq(&r.scopes),
            refresh_tokens::sid.eq(r.sid.as_deref()),
            refresh_tokens::offline.eq(r.offline),
            refresh_tokens::auth_time.eq(to_db(r.auth_time)),
            refresh_tokens::amr.eq(&r.amr),
            refresh_tokens::created_at.eq(to_db(r.created_at)),
            refresh_tokens::expires_at.eq(to_db(r.expires_at)),
            refresh_tokens::family_expires_at.eq(to_db(r.family_expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
    let row: Option<Row> = refresh_tokens::table
        .find(hash.as_str())
        .select((
            refresh_tokens::family_id,
            refresh_tokens::client_id,
            refresh_tokens::user_id,
            refresh_tokens::scopes,
            refresh_tokens::sid,
            refresh_tokens::offline,
            refresh_tokens::auth_time,
            refresh_tokens::amr,
            refresh_tokens::created_at,
            refresh_tokens::expires_at,
            refresh_tokens::family_expires_at,
            refresh_tokens::rotated_at,
            refresh_tokens::revoked_at,
        ))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|r| RefreshRecord {
        family_id: r.0,
        client_id: r.1,
        user_id: r.2,
        scopes: r.3,
        sid: r.4,
        offline: r.5,
        auth_time: from_db(r.6),
        amr: r.7,
        created_at: from_db(r.8),
        expires_at: from_db(r.9),
        family_expires_at: from_db(r.10),
        rotated_at: r.11.map(from_db),
        revoked_at: r.12.map(from_db),
    }))
}

/// Marks a token rotated if it is still current: of concurrent refreshes
/// with one token, exactly one wins.
pub fn mark_rotated(conn: &mut DbConnection, hash: &TokenHash, now: OffsetDateTime) -> StoreResult<bool> {
    let n = diesel::update(
        refresh_tokens::table
            .find(hash.as_str())
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(to_db(now)))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn revoke_family(conn: &mut DbConnection, family_id: &str, now: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db(now)))
    .execute(conn)?)
}

/// Revokes the session-bound (not offline) tokens of an SSO session; returns their families.
pub fn revoke_for_session(conn: &mut DbConnection, sid: &str, now: OffsetDateTime) -> StoreResult<Vec<String>> {
    let families: Vec<String> = refresh_tokens::table
        .filter(refresh_tokens::sid.eq(sid))
        .filter(refresh_tokens::offline.eq(false))
        .filter(refresh_tokens::revoked_at.is_null())
        .select(refresh_tokens::family_id)
        .distinct()
        .load(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::sid.eq(sid))
            .filter(refresh_tokens::offline.eq(false))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db(now)))
    .execute(conn)?;
    Ok(families)
}

/// Revokes every refresh token of a person (password reset, account deletion).
pub fn revoke_for_user(conn: &mut DbConnection, user_id: &str, now: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db(now)))
    .execute(conn)?)
}

/// Deletes tokens whose family has expired (cleanup job).
pub fn delete_expired(conn: &mut DbConnection, now: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(refresh_tokens::table.filter(refresh_tokens::family_expires_at.lt(to_db(now)))).execute(conn)?)
}
