//! Refresh tokens: hashes of opaque tokens (`refresh_tokens`), grouped in
//! families (`refresh_families`) for rotation with reuse detection.
//!
//! A family is one grant — person, client, scopes, session, sign-in, end —
//! and is revoked as a whole; its tokens keep only what rotation changes.
//! So a rotation writes the new token and marks the one it replaces, and
//! touches no index by person, session or family (see the migration
//! `2026-12-06-000070_refresh_families`). A token is current while it is
//! not rotated and its family is there and not revoked.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::TokenHash;
use tunnus_core::user::User;

use crate::DbConnection;
use crate::db::on_backend;
use crate::error::StoreResult;
use crate::schema::{refresh_families, refresh_tokens, users};
use crate::time_conv::{from_db, to_db};
use crate::users::UserRow;

/// For a statement written by hand with a fixed text: gives `$query` a
/// static query id, so that diesel prepares it once per connection and
/// finds it again by type (its own updates and raw SQL it parses at every
/// use), and lets it run on `$conn`.
macro_rules! kept_prepared {
    ($query:ident on $conn:ty) => {
        impl diesel::query_builder::QueryId for $query<'_> {
            type QueryId = $query<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::RunQueryDsl<$conn> for $query<'_> {}
    };
}

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

/// What a token's family keeps: the grant, the same for every token of it.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_families)]
struct FamilyRow {
    family_id: String,
    client_id: String,
    user_id: String,
    scopes: String,
    sid: Option<String>,
    offline: bool,
    auth_time: time::PrimitiveDateTime,
    amr: String,
    expires_at: time::PrimitiveDateTime,
    revoked_at: Option<time::PrimitiveDateTime>,
}

/// What a token row keeps besides its hash and family.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct TokenRow {
    created_at: time::PrimitiveDateTime,
    expires_at: time::PrimitiveDateTime,
    rotated_at: Option<time::PrimitiveDateTime>,
}

fn record(token: TokenRow, family: FamilyRow) -> RefreshRecord {
    RefreshRecord {
        family_id: family.family_id,
        client_id: family.client_id,
        user_id: family.user_id,
        scopes: family.scopes,
        sid: family.sid,
        offline: family.offline,
        auth_time: from_db(family.auth_time),
        amr: family.amr,
        created_at: from_db(token.created_at),
        expires_at: from_db(token.expires_at),
        family_expires_at: from_db(family.expires_at),
        rotated_at: token.rotated_at.map(from_db),
        revoked_at: family.revoked_at.map(from_db),
    }
}

/// Stores a new family, from `r`, and its first token: two statements, so
/// in a transaction ([`crate::Db::write`]). The token writer's first writes
/// are one statement on PostgreSQL ([`TokenWrite::store_alone`]).
pub fn insert(conn: &mut DbConnection, hash: &TokenHash, r: &RefreshRecord) -> StoreResult<()> {
    on_backend!(conn, |c| diesel::insert_into(refresh_families::table)
        .values((
            refresh_families::family_id.eq(&r.family_id),
            refresh_families::client_id.eq(&r.client_id),
            refresh_families::user_id.eq(&r.user_id),
            refresh_families::scopes.eq(&r.scopes),
            refresh_families::sid.eq(r.sid.as_deref()),
            refresh_families::offline.eq(r.offline),
            refresh_families::auth_time.eq(to_db(r.auth_time)),
            refresh_families::amr.eq(&r.amr),
            refresh_families::created_at.eq(to_db(r.created_at)),
            refresh_families::expires_at.eq(to_db(r.family_expires_at)),
        ))
        .execute(c))?;
    insert_token(conn, hash, r)
}

/// Stores a token of the family `r` names (which the caller knows exists).
fn insert_token(conn: &mut DbConnection, hash: &TokenHash, r: &RefreshRecord) -> StoreResult<()> {
    on_backend!(conn, |c| diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(hash.as_str()),
            refresh_tokens::family_id.eq(&r.family_id),
            refresh_tokens::created_at.eq(to_db(r.created_at)),
            refresh_tokens::expires_at.eq(to_db(r.expires_at)),
        ))
        .execute(c))?;
    Ok(())
}

/// A token with its family. A token whose family is gone (its person or
/// client deleted) is no token.
pub fn find(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<RefreshRecord>> {
    let row: Option<(TokenRow, FamilyRow)> = on_backend!(conn, |c| refresh_tokens::table
        .inner_join(refresh_families::table)
        .filter(refresh_tokens::token_hash.eq(hash.as_str()))
        .select((TokenRow::as_select(), FamilyRow::as_select()))
        .get_result(c)
        .optional())?;
    Ok(row.map(|(token, family)| record(token, family)))
}

/// A token and the person it was issued to, in one statement (a refresh
/// reads both). A person's families go when the person goes, so a token
/// without its person is no token.
pub fn find_with_user(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<(RefreshRecord, User)>> {
    let row: Option<(TokenRow, FamilyRow, UserRow)> = on_backend!(conn, |c| refresh_tokens::table
        .inner_join(refresh_families::table.inner_join(users::table))
        .filter(refresh_tokens::token_hash.eq(hash.as_str()))
        .select((TokenRow::as_select(), FamilyRow::as_select(), UserRow::as_select()))
        .get_result(c)
        .optional())?;
    row.map(|(token, family, user)| Ok((record(token, family), User::try_from(user)?))).transpose()
}

/// Marks the token `hash` of `family` rotated (at `now`) if it is still
/// current: not rotated, and its family there and not revoked. Of
/// concurrent refreshes with one token, exactly one wins. SQLite only
/// (PostgreSQL rotates in one statement, [`PgRotation`]), in the caller's
/// transaction.
fn mark_rotated(conn: &mut DbConnection, hash: &TokenHash, family: &str, now: OffsetDateTime) -> StoreResult<bool> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(crate::StoreError::corrupt("the two-statement rotation is for SQLite"));
    };
    let marked = SqliteRotationMark { token: hash.as_str(), family, at: to_db(now) }.execute(c)?;
    Ok(marked == 1)
}

/// The update of [`mark_rotated`] as a query of its own: diesel prepares
/// its own update statements afresh at every use (it never keeps them),
/// and in a refresh that parse took 60% of the SQLite writer's time. With
/// a fixed text and a static id, the connection keeps this one prepared.
struct SqliteRotationMark<'a> {
    token: &'a str,
    family: &'a str,
    at: time::PrimitiveDateTime,
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for SqliteRotationMark<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        use diesel::sql_types::{Text, Timestamp};
        out.push_sql("UPDATE refresh_tokens SET rotated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Text, _>(self.token)?;
        out.push_sql(" AND family_id = ");
        out.push_bind_param::<Text, _>(self.family)?;
        out.push_sql(" AND rotated_at IS NULL AND EXISTS (SELECT 1 FROM refresh_families WHERE family_id = ");
        out.push_bind_param::<Text, _>(self.family)?;
        out.push_sql(" AND revoked_at IS NULL)");
        Ok(())
    }
}

kept_prepared!(SqliteRotationMark on diesel::SqliteConnection);

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
    /// On PostgreSQL each write is one statement, atomic without a
    /// transaction around it: a first inserts its family in a `WITH`
    /// clause; a rotation updates the old token in one and inserts the new
    /// token only if that updated a row. Run it with
    /// [`crate::Db::write_statement`]. SQLite has no writes in `WITH`; there
    /// the caller's transaction makes the two statements atomic.
    pub fn store_alone(&self, conn: &mut DbConnection) -> StoreResult<bool> {
        let r = &self.record;
        if let DbConnection::Postgresql(pg) = conn {
            let (created_at, expires_at) = (to_db(r.created_at), to_db(r.expires_at));
            let stored = match &self.replaces {
                None => PgFirst {
                    new: self.new.as_str(),
                    record: r,
                    auth_time: to_db(r.auth_time),
                    created_at,
                    expires_at,
                    family_expires_at: to_db(r.family_expires_at),
                }
                .execute(pg)?,
                Some(old) => PgRotation {
                    old: old.as_str(),
                    new: self.new.as_str(),
                    family_id: &r.family_id,
                    created_at,
                    expires_at,
                }
                .execute(pg)?,
            };
            return Ok(stored == 1);
        }
        match &self.replaces {
            None => insert(conn, &self.new, r)?,
            Some(old) => {
                if !mark_rotated(conn, old, &r.family_id, r.created_at)? {
                    return Ok(false);
                }
                insert_token(conn, &self.new, r)?;
            }
        }
        Ok(true)
    }
}

/// A new family and its first token as one PostgreSQL statement, so that a
/// lone first write needs no transaction around it. Its own type, like
/// [`PgRotation`], so that diesel keeps it prepared.
struct PgFirst<'a> {
    new: &'a str,
    record: &'a RefreshRecord,
    auth_time: time::PrimitiveDateTime,
    created_at: time::PrimitiveDateTime,
    expires_at: time::PrimitiveDateTime,
    family_expires_at: time::PrimitiveDateTime,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgFirst<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
        let r = self.record;
        out.push_sql(
            "WITH family AS (INSERT INTO refresh_families (family_id, client_id, user_id, scopes, sid, offline, \
             auth_time, amr, created_at, expires_at) VALUES (",
        );
        out.push_bind_param::<Text, _>(&r.family_id)?;
        for text in [&r.client_id, &r.user_id, &r.scopes] {
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
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.family_expires_at)?;
        out.push_sql(")) INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) VALUES (");
        push_token_row(out.reborrow(), self.new, &r.family_id, &self.created_at, &self.expires_at)?;
        out.push_sql(")");
        Ok(())
    }
}

kept_prepared!(PgFirst on diesel::PgConnection);

/// A lone rotation as one PostgreSQL statement (batches have their own,
/// [`writer`]). A query of its own (not `sql_query` or diesel's update) so
/// that diesel keeps it prepared on each connection: raw SQL and diesel's
/// updates are parsed and planned afresh at every use, and this one runs
/// at every refresh.
struct PgRotation<'a> {
    old: &'a str,
    new: &'a str,
    family_id: &'a str,
    created_at: time::PrimitiveDateTime,
    expires_at: time::PrimitiveDateTime,
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgRotation<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Text, Timestamp};
        out.push_sql("WITH rotated AS (UPDATE refresh_tokens SET rotated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.created_at)?;
        out.push_sql(" WHERE token_hash = ");
        out.push_bind_param::<Text, _>(self.old)?;
        out.push_sql(" AND family_id = ");
        out.push_bind_param::<Text, _>(self.family_id)?;
        out.push_sql(" AND rotated_at IS NULL AND EXISTS (SELECT 1 FROM refresh_families WHERE family_id = ");
        out.push_bind_param::<Text, _>(self.family_id)?;
        out.push_sql(" AND revoked_at IS NULL) RETURNING 1) ");
        out.push_sql("INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) SELECT ");
        push_token_row(out.reborrow(), self.new, self.family_id, &self.created_at, &self.expires_at)?;
        out.push_sql(" WHERE EXISTS (SELECT 1 FROM rotated)");
        Ok(())
    }
}

kept_prepared!(PgRotation on diesel::PgConnection);

/// A new token's row for the single-statement PostgreSQL writes: the binds
/// of `(token_hash, family_id, created_at, expires_at)`, comma-separated.
fn push_token_row<'b>(
    mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    new: &'b str,
    family_id: &'b str,
    created_at: &'b time::PrimitiveDateTime,
    expires_at: &'b time::PrimitiveDateTime,
) -> QueryResult<()> {
    use diesel::sql_types::{Text, Timestamp};
    out.push_bind_param::<Text, _>(new)?;
    out.push_sql(", ");
    out.push_bind_param::<Text, _>(family_id)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(created_at)?;
    out.push_sql(", ");
    out.push_bind_param::<Timestamp, _>(expires_at)
}

/// Revokes a family: none of its tokens is current any more.
pub fn revoke_family(conn: &mut DbConnection, family_id: &str, now: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::family_id.eq(family_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(to_db(now)))
    .execute(conn)?)
}

/// Revokes the session-bound (not offline) families of an SSO session; returns them.
pub fn revoke_for_session(conn: &mut DbConnection, sid: &str, now: OffsetDateTime) -> StoreResult<Vec<String>> {
    let of_session = || {
        refresh_families::table
            .filter(refresh_families::sid.eq(sid))
            .filter(refresh_families::offline.eq(false))
            .filter(refresh_families::revoked_at.is_null())
    };
    let families: Vec<String> = of_session().select(refresh_families::family_id).load(conn)?;
    diesel::update(of_session()).set(refresh_families::revoked_at.eq(to_db(now))).execute(conn)?;
    Ok(families)
}

/// Revokes every family of a person (password reset, account deletion).
pub fn revoke_for_user(conn: &mut DbConnection, user_id: &str, now: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::user_id.eq(user_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set(refresh_families::revoked_at.eq(to_db(now)))
    .execute(conn)?)
}

/// Deletes expired families and tokens (cleanup job); returns how many
/// tokens. The tokens of a family that went early (its person or client
/// deleted) are no longer found and go when they expire: the row left
/// holds a hash, a family id and times, nothing about the person.
pub fn delete_expired(conn: &mut DbConnection, now: OffsetDateTime) -> StoreResult<usize> {
    let now = to_db(now);
    diesel::delete(refresh_families::table.filter(refresh_families::expires_at.lt(now))).execute(conn)?;
    Ok(diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(now))).execute(conn)?)
}
