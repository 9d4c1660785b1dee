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

use crate::DbConnection;
use crate::db::on_backend;
use crate::error::StoreResult;
use crate::schema::{refresh_families, refresh_tokens};
use crate::time_conv::{from_db, to_db};

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
    Ok(token_and_family(conn, hash)?.map(|(token, family)| record(token, family)))
}

/// The rows of the token `hash` and of its family: the statement of
/// [`find`], which the SQLite rotation reads its family with too.
fn token_and_family(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<(TokenRow, FamilyRow)>> {
    Ok(on_backend!(conn, |c| refresh_tokens::table
        .inner_join(refresh_families::table)
        .filter(refresh_tokens::token_hash.eq(hash.as_str()))
        .select((TokenRow::as_select(), FamilyRow::as_select()))
        .get_result(c)
        .optional())?)
}

/// Marks the token `hash` rotated (at `at`) if it is still current and
/// `client`'s: not rotated, not expired, and its family there, the
/// client's, not revoked and not past its end. Of concurrent refreshes
/// with one token, exactly one wins. SQLite only (PostgreSQL rotates in
/// one statement, [`PgRotation`]), in the caller's transaction.
fn mark_rotated(conn: &mut DbConnection, hash: &TokenHash, client: &str, at: OffsetDateTime) -> StoreResult<bool> {
    let DbConnection::Sqlite(c) = conn else {
        return Err(crate::StoreError::corrupt("the two-statement rotation is for SQLite"));
    };
    let marked = SqliteRotationMark { token: hash.as_str(), client, at: to_db(at) }.execute(c)?;
    Ok(marked == 1)
}

/// The update of [`mark_rotated`] as a query of its own: diesel prepares
/// its own update statements afresh at every use (it never keeps them),
/// and in a refresh that parse took 60% of the SQLite writer's time. With
/// a fixed text and a static id, the connection keeps this one prepared.
struct SqliteRotationMark<'a> {
    token: &'a str,
    client: &'a str,
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
        out.push_sql(" AND rotated_at IS NULL AND expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(
            " AND EXISTS (SELECT 1 FROM refresh_families f WHERE f.family_id = refresh_tokens.family_id \
             AND f.revoked_at IS NULL AND f.client_id = ",
        );
        out.push_bind_param::<Text, _>(self.client)?;
        out.push_sql(" AND f.expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(")");
        Ok(())
    }
}

kept_prepared!(SqliteRotationMark on diesel::SqliteConnection);

/// A refresh token to store: the first of a new family, or the next of a
/// family, which replaces (rotates) the family's current token.
#[derive(Debug, Clone)]
pub struct TokenWrite {
    new: TokenHash,
    kind: WriteKind,
}

#[derive(Debug, Clone)]
enum WriteKind {
    First(RefreshRecord),
    Rotation(Rotation),
}

/// What a rotation knows before it runs: the token presented, by which
/// client, when, and how long the next token may live. Everything else
/// comes from the family, read back by the statement that rotates.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub old: TokenHash,
    pub client_id: String,
    pub at: OffsetDateTime,
    /// The next token's end in a session-bound family, and in an offline
    /// one; either way no later than the family's own end.
    pub session_until: OffsetDateTime,
    pub offline_until: OffsetDateTime,
}

impl Rotation {
    /// The record of the token that replaces the rotated one, from its
    /// family's row.
    fn next_record(&self, family: FamilyRow) -> RefreshRecord {
        let until = if family.offline { self.offline_until } else { self.session_until };
        let next = TokenRow {
            created_at: to_db(self.at),
            expires_at: to_db(until.min(from_db(family.expires_at))),
            rotated_at: None,
        };
        record(next, family)
    }
}

impl TokenWrite {
    /// The first token of a family.
    pub fn first(new: TokenHash, record: RefreshRecord) -> Self {
        Self { new, kind: WriteKind::First(record) }
    }

    /// The next token of a family, replacing `rotation.old`, which is
    /// marked rotated at `rotation.at`.
    pub fn rotation(rotation: Rotation, new: TokenHash) -> Self {
        Self { new, kind: WriteKind::Rotation(rotation) }
    }

    /// Stores this write alone. Returns the stored token's record, or
    /// `None` for a rotation that stored nothing: it rotates only a token
    /// that is current (not rotated, not expired, its family there, not
    /// revoked, not ended) and the presenting client's, so of concurrent
    /// rotations of one token exactly one wins. A rotation's record is read
    /// back from the family as it marks the old token, so a refresh needs
    /// no read of its own before it.
    ///
    /// On PostgreSQL each write is one statement, atomic without a
    /// transaction around it: a first inserts its family in a `WITH`
    /// clause; a rotation updates the old token in one, returning its
    /// family, and inserts the new token only if that updated a row. Run
    /// it with [`crate::Db::write_statement`]. SQLite has no writes in
    /// `WITH`; there the caller's transaction makes the statements atomic.
    pub fn store_alone(&self, conn: &mut DbConnection) -> StoreResult<Option<RefreshRecord>> {
        match (&self.kind, conn) {
            (WriteKind::First(r), DbConnection::Postgresql(pg)) => {
                PgFirst {
                    new: self.new.as_str(),
                    record: r,
                    auth_time: to_db(r.auth_time),
                    created_at: to_db(r.created_at),
                    expires_at: to_db(r.expires_at),
                    family_expires_at: to_db(r.family_expires_at),
                }
                .execute(pg)?;
                Ok(Some(r.clone()))
            }
            (WriteKind::First(r), conn) => {
                insert(conn, &self.new, r)?;
                Ok(Some(r.clone()))
            }
            (WriteKind::Rotation(rotation), DbConnection::Postgresql(pg)) => {
                let family: Option<FamilyRow> = PgRotation {
                    old: rotation.old.as_str(),
                    new: self.new.as_str(),
                    client_id: &rotation.client_id,
                    at: to_db(rotation.at),
                    session_until: to_db(rotation.session_until),
                    offline_until: to_db(rotation.offline_until),
                }
                .get_result(pg)
                .optional()?;
                Ok(family.map(|f| rotation.next_record(f)))
            }
            (WriteKind::Rotation(rotation), conn) => {
                if !mark_rotated(conn, &rotation.old, &rotation.client_id, rotation.at)? {
                    return Ok(None);
                }
                let Some((_, family)) = token_and_family(conn, &rotation.old)? else {
                    return Err(crate::StoreError::corrupt("a token marked rotated has no family"));
                };
                let next = rotation.next_record(family);
                insert_token(conn, &self.new, &next)?;
                Ok(Some(next))
            }
        }
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
/// [`writer`]): marks the old token rotated if it is current and the
/// client's, stores the new token in the same family, and returns the
/// family. A query of its own (not `sql_query` or diesel's update) so that
/// diesel keeps it prepared on each connection: raw SQL and diesel's
/// updates are parsed and planned afresh at every use, and this one runs
/// at every refresh.
struct PgRotation<'a> {
    old: &'a str,
    new: &'a str,
    client_id: &'a str,
    at: time::PrimitiveDateTime,
    session_until: time::PrimitiveDateTime,
    offline_until: time::PrimitiveDateTime,
}

impl diesel::query_builder::Query for PgRotation<'_> {
    type SqlType = FamilySqlType;
}

/// The columns of [`FamilyRow`], as a hand-written statement returns them.
type FamilySqlType = (
    diesel::sql_types::Text,
    diesel::sql_types::Text,
    diesel::sql_types::Text,
    diesel::sql_types::Text,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    diesel::sql_types::Bool,
    diesel::sql_types::Timestamp,
    diesel::sql_types::Text,
    diesel::sql_types::Timestamp,
    diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
);

/// The family columns a rotation returns, in [`FamilyRow`]'s order, from
/// a family aliased `f`.
const FAMILY_COLUMNS: &str =
    "f.family_id, f.client_id, f.user_id, f.scopes, f.sid, f.offline, f.auth_time, f.amr, f.expires_at, f.revoked_at";

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgRotation<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Text, Timestamp};
        out.push_sql("WITH rotated AS (UPDATE refresh_tokens t SET rotated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" FROM refresh_families f WHERE t.token_hash = ");
        out.push_bind_param::<Text, _>(self.old)?;
        out.push_sql(" AND f.family_id = t.family_id AND t.rotated_at IS NULL AND t.expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" AND f.revoked_at IS NULL AND f.client_id = ");
        out.push_bind_param::<Text, _>(self.client_id)?;
        out.push_sql(" AND f.expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(" RETURNING ");
        out.push_sql(FAMILY_COLUMNS);
        out.push_sql(", LEAST(CASE WHEN f.offline THEN ");
        out.push_bind_param::<Timestamp, _>(&self.offline_until)?;
        out.push_sql(" ELSE ");
        out.push_bind_param::<Timestamp, _>(&self.session_until)?;
        out.push_sql(
            " END, f.expires_at) AS next_expires_at), \
             stored AS (INSERT INTO refresh_tokens (token_hash, family_id, created_at, expires_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(self.new)?;
        out.push_sql(", family_id, ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", next_expires_at FROM rotated) SELECT ");
        out.push_sql(&FAMILY_COLUMNS.replace("f.", ""));
        out.push_sql(" FROM rotated");
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

/// Undoes the rotation that replaced `old` with `new`, for a refresh
/// refused after its token rotated (the account inactive, a client's
/// policy, no key to sign with): `new`, never handed out, is deleted, and
/// `old` is current again. Only if `new` is still there: `old` is made
/// current again only by undoing its own rotation. Two statements: run in
/// a transaction ([`crate::Db::write`]).
pub fn undo_rotation(conn: &mut DbConnection, old: &TokenHash, new: &TokenHash) -> StoreResult<bool> {
    let deleted =
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(new.as_str()))).execute(conn)?;
    if deleted == 0 {
        return Ok(false);
    }
    let restored = diesel::update(refresh_tokens::table.filter(refresh_tokens::token_hash.eq(old.as_str())))
        .set(refresh_tokens::rotated_at.eq(None::<time::PrimitiveDateTime>))
        .execute(conn)?;
    Ok(restored == 1)
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
