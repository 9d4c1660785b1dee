//! The `refresh_tokens` table: hashes of opaque refresh tokens, grouped in
//! families for rotation with reuse detection.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::TokenHash;
use tunnus_core::user::User;

use crate::DbConnection;
use crate::db::on_backend;
use crate::error::StoreResult;
use crate::schema::{refresh_tokens, users};
use crate::time_conv::{from_db, to_db};
use crate::users::UserRow;

mod writer;
pub use writer::RefreshTokenWriter;

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

/// A stored token as read (every column but the hash).
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct StoredRow {
    family_id: String,
    client_id: String,
    user_id: String,
    scopes: String,
    sid: Option<String>,
    offline: bool,
    auth_time: time::PrimitiveDateTime,
    amr: String,
    created_at: time::PrimitiveDateTime,
    expires_at: time::PrimitiveDateTime,
    family_expires_at: time::PrimitiveDateTime,
    rotated_at: Option<time::PrimitiveDateTime>,
    revoked_at: Option<time::PrimitiveDateTime>,
}

impl From<StoredRow> for RefreshRecord {
    fn from(r: StoredRow) -> Self {
        Self {
            family_id: r.family_id,
            client_id: r.client_id,
            user_id: r.user_id,
            scopes: r.scopes,
            sid: r.sid,
            offline: r.offline,
            auth_time: from_db(r.auth_time),
            amr: r.amr,
            created_at: from_db(r.created_at),
            expires_at: from_db(r.expires_at),
            family_expires_at: from_db(r.family_expires_at),
            rotated_at: r.rotated_at.map(from_db),
            revoked_at: r.revoked_at.map(from_db),
        }
    }
}

pub fn insert(conn: &mut DbConnection, hash: &TokenHash, r: &RefreshRecord) -> StoreResult<()> {
    on_backend!(conn, |c| diesel::insert_into(refresh_tokens::table)
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
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
    let row: Option<StoredRow> =
        refresh_tokens::table.find(hash.as_str()).select(StoredRow::as_select()).get_result(conn).optional()?;
    Ok(row.map(RefreshRecord::from))
}

/// A token and the person it was issued to, in one statement (a refresh
/// reads both). A person's tokens go when the person goes, so a token
/// without its person is no token.
pub fn find_with_user(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<(RefreshRecord, User)>> {
    let row: Option<(StoredRow, UserRow)> = on_backend!(conn, |c| refresh_tokens::table
        .inner_join(users::table.on(users::id.eq(refresh_tokens::user_id)))
        .filter(refresh_tokens::token_hash.eq(hash.as_str()))
        .select((StoredRow::as_select(), UserRow::as_select()))
        .get_result(c)
        .optional())?;
    row.map(|(token, user)| Ok((token.into(), User::try_from(user)?))).transpose()
}

/// Marks a token rotated if it is still current: of concurrent refreshes
/// with one token, exactly one wins.
pub fn mark_rotated(conn: &mut DbConnection, hash: &TokenHash, now: OffsetDateTime) -> StoreResult<bool> {
    let n = on_backend!(conn, |c| diesel::update(
        refresh_tokens::table
            .find(hash.as_str())
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::rotated_at.eq(to_db(now)))
    .execute(c))?;
    Ok(n == 1)
}

/// A refresh token to store: the first of a new family, or the next of a
/// family, which replaces (rotates) the family's current token.
#[derive(Debug, Clone)]
pub struct TokenWrite {
    new: TokenHash,
    record: RefreshRecord,
    replaces: Option<TokenHash>,
}

impl TokenWrite {
    /// The first token of a family.
    pub fn first(new: TokenHash, record: RefreshRecord) -> Self {
        Self { new, record, replaces: None }
    }

    /// The next token of a family, replacing `old`, which is marked rotated
    /// at the new token's `created_at`.
    pub fn rotation(old: TokenHash, new: TokenHash, record: RefreshRecord) -> Self {
        Self { new, record, replaces: Some(old) }
    }

    /// Stores this write alone. Returns whether it stored the token: a
    /// rotation stores it only if it marked the old token rotated while
    /// that was still current, so of concurrent rotations of one token
    /// exactly one wins; the others get `false` (a reuse) and store nothing.
    ///
    /// On PostgreSQL a rotation is one statement (the update in a `WITH`
    /// clause, the insert conditional on it), atomic without a transaction
    /// around it: run it with [`crate::Db::write_statement`]. SQLite has no
    /// updates in `WITH`; there the caller's transaction makes the two
    /// statements atomic.
    pub fn store_alone(&self, conn: &mut DbConnection) -> StoreResult<bool> {
        let Some(old) = &self.replaces else {
            insert(conn, &self.new, &self.record)?;
            return Ok(true);
        };
        if let DbConnection::Postgresql(pg) = conn {
            let r = &self.record;
            let stored = PgRotation {
                old: old.as_str(),
                new: self.new.as_str(),
                record: r,
                auth_time: to_db(r.auth_time),
                created_at: to_db(r.created_at),
                expires_at: to_db(r.expires_at),
                family_expires_at: to_db(r.family_expires_at),
            }
            .execute(pg)?;
            return Ok(stored == 1);
        }
        if !mark_rotated(conn, old, self.record.created_at)? {
            return Ok(false);
        }
        insert(conn, &self.new, &self.record)?;
        Ok(true)
    }
}

/// A lone rotation as one PostgreSQL statement (batches have their own,
/// [`writer`]). A query of its own (not
/// `sql_query`) so that diesel keeps it prepared on each connection: raw
/// SQL is parsed and planned afresh at every use, and this one runs at
/// every refresh.
struct PgRotation<'a> {
    old: &'a str,
    new: &'a str,
    record: &'a RefreshRecord,
    auth_time: time::PrimitiveDateTime,
    created_at: time::PrimitiveDateTime,
    expires_at: time::PrimitiveDateTime,
    family_expires_at: time::PrimitiveDateTime,
}

impl diesel::query_builder::QueryId for PgRotation<'_> {
    type QueryId = PgRotation<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgRotation<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
        let r = self.record;
        out.push_sql("WITH rotated AS (UPDATE refresh_tokens SET rotated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.created_at)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Text, _>(self.old)?;
        out.push_sql(" AND rotated_at IS NULL AND revoked_at IS NULL RETURNING 1) ");
        out.push_sql(
            "INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, sid, offline, \
             auth_time, amr, created_at, expires_at, family_expires_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(self.new)?;
        for text in [&r.family_id, &r.client_id, &r.user_id, &r.scopes] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(text)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.sid)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&r.offline)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.auth_time)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.amr)?;
        for time in [&self.created_at, &self.expires_at, &self.family_expires_at] {
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(time)?;
        }
        out.push_sql(" WHERE EXISTS (SELECT 1 FROM rotated)");
        Ok(())
    }
}

impl RunQueryDsl<diesel::PgConnection> for PgRotation<'_> {}

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
