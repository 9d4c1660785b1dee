//! The `legacy_accounts` table, and the batch writes of the legacy import.
//!
//! An import batch of thousands of rows is a handful of statements, not
//! thousands of round trips: on PostgreSQL each table's rows go in with one
//! `COPY … FROM STDIN` (binary), which the server takes in without parsing
//! and planning a statement per row or per hundred rows. SQLite is in the
//! process, so there a round trip costs nothing and one prepared single-row
//! INSERT, reused for every row, beats a multi-row statement that must be
//! parsed anew each time. Neither compiles on the `MultiConnection` enum, so
//! [`insert_all`] picks by the connection inside.

use std::collections::HashMap;

use diesel::prelude::*;
use time::{OffsetDateTime, PrimitiveDateTime};
use tunnus_core::access::{MembershipKind, Role};

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::{entitlement_grants, legacy_accounts, memberships, outbox, users};
use crate::time_conv::{from_db, to_db};

/// What became of a legacy account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Merged,
    /// Skipped as unverified, then connected when the person verified a Tunnus identity.
    Linked,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Merged => "merged",
            Self::Linked => "linked",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(v: &str) -> Option<Self> {
        [Self::Created, Self::Merged, Self::Linked, Self::Skipped].into_iter().find(|o| o.as_str() == v)
    }

    /// Whether the account is in Tunnus (a rerun leaves it alone).
    pub fn is_done(self) -> bool {
        self != Self::Skipped
    }
}

/// One `legacy_accounts` row to write.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = legacy_accounts, treat_none_as_default_value = false)]
pub struct NewLegacyAccount {
    pub legacy_id: String,
    pub email: String,
    pub user_id: Option<String>,
    pub outcome: &'static str,
    pub reason: Option<&'static str>,
    pub organization: Option<String>,
    pub membership_kind: Option<&'static str>,
    pub role: Option<&'static str>,
    /// `;`-separated entitlement names.
    pub licenses: String,
    pub email_at: Option<PrimitiveDateTime>,
    pub imported_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

/// A new identity written by the import.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewImportedUser {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<PrimitiveDateTime>,
    pub password_hash: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub country: &'static str,
    pub preferred_language: Option<String>,
    pub status: &'static str,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = memberships, treat_none_as_default_value = false)]
pub struct NewMembership {
    pub organization_id: String,
    pub user_id: String,
    pub kind: &'static str,
    pub role: &'static str,
    pub created_at: PrimitiveDateTime,
}

/// A license held by one person, without validity bounds.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = entitlement_grants, treat_none_as_default_value = false)]
pub struct NewUserGrant {
    pub id: String,
    pub entitlement: String,
    pub organization_id: Option<String>,
    pub group_id: Option<String>,
    pub user_id: Option<String>,
    pub include_external: bool,
    pub valid_from: Option<PrimitiveDateTime>,
    pub valid_until: Option<PrimitiveDateTime>,
    pub created_at: PrimitiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewOutboxItem {
    pub id: String,
    pub kind: &'static str,
    pub recipient: String,
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: PrimitiveDateTime,
    pub created_at: PrimitiveDateTime,
}

/// Ids per `IN (…)` list: under both backends' bind-parameter limits.
const IDS_PER_STATEMENT: usize = 500;

/// Inserts `rows`: one binary COPY on PostgreSQL, one reused prepared
/// statement per row on SQLite.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        if !$rows.is_empty() {
            match &mut *$conn {
                DbConnection::Postgresql(c) => {
                    diesel::copy_from($table).from_insertable(&$rows).execute(c)?;
                }
                DbConnection::Sqlite(c) => {
                    for row in &$rows {
                        diesel::insert_into($table).values(row).execute(c)?;
                    }
                }
            }
        }
    }};
}

/// Everything one import batch writes at once.
#[derive(Debug, Default)]
pub struct BatchWrites {
    /// Legacy ids stored by an earlier run whose rows `legacy` replaces.
    pub replaced: Vec<String>,
    /// Legacy rows to write.
    pub legacy: Vec<NewLegacyAccount>,
    pub users: Vec<NewImportedUser>,
    pub memberships: Vec<NewMembership>,
    pub grants: Vec<NewUserGrant>,
    pub emails: Vec<NewOutboxItem>,
}

impl BatchWrites {
    /// Writes the batch (inside the caller's transaction). Identities first:
    /// everything else refers to them.
    pub fn write(&self, conn: &mut DbConnection) -> StoreResult<()> {
        for chunk in self.replaced.chunks(IDS_PER_STATEMENT) {
            diesel::delete(legacy_accounts::table.filter(legacy_accounts::legacy_id.eq_any(chunk))).execute(conn)?;
        }
        insert_all!(conn, users::table, self.users);
        insert_all!(conn, legacy_accounts::table, self.legacy);
        insert_all!(conn, memberships::table, self.memberships);
        insert_all!(conn, entitlement_grants::table, self.grants);
        insert_all!(conn, outbox::table, self.emails);
        Ok(())
    }
}

/// Outcome and skip reason of already-stored legacy ids.
pub fn states(conn: &mut DbConnection, ids: &[&str]) -> StoreResult<HashMap<String, (Outcome, Option<String>)>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let rows: Vec<(String, String, Option<String>)> = legacy_accounts::table
            .filter(legacy_accounts::legacy_id.eq_any(chunk))
            .select((legacy_accounts::legacy_id, legacy_accounts::outcome, legacy_accounts::reason))
            .load(conn)?;
        for (id, outcome, reason) in rows {
            let outcome = Outcome::parse(&outcome).ok_or_else(|| crate::StoreError::corrupt("legacy outcome"))?;
            out.insert(id, (outcome, reason));
        }
    }
    Ok(out)
}

/// What the import needs to know about an identity that already has an email.
#[derive(Debug, Clone)]
pub struct ExistingIdentity {
    pub id: String,
    pub email: String,
    pub status: String,
    pub has_password: bool,
}

/// Identities having one of `emails` (already lowercase).
pub fn identities_by_email(conn: &mut DbConnection, emails: &[&str]) -> StoreResult<HashMap<String, ExistingIdentity>> {
    let mut out = HashMap::new();
    for chunk in emails.chunks(IDS_PER_STATEMENT) {
        let rows: Vec<(String, String, String, Option<String>)> = users::table
            .filter(users::email.eq_any(chunk))
            .select((users::id, users::email, users::status, users::password_hash))
            .load(conn)?;
        for (id, email, status, hash) in rows {
            out.insert(email.clone(), ExistingIdentity { id, email, status, has_password: hash.is_some() });
        }
    }
    Ok(out)
}

/// (email, given name, family name) of identities not created by an import:
/// the earlier identities a legacy account might duplicate under another email.
pub fn earlier_identities(conn: &mut DbConnection) -> StoreResult<Vec<(String, String, String)>> {
    Ok(users::table
        .left_join(
            legacy_accounts::table.on(legacy_accounts::user_id
                .eq(users::id.nullable())
                .and(legacy_accounts::outcome.eq(Outcome::Created.as_str()))),
        )
        .filter(legacy_accounts::legacy_id.is_null())
        .select((users::email, users::given_name, users::family_name))
        .load(conn)?)
}

/// When the last welcome email of earlier imports is scheduled, so a new
/// run continues the spread instead of sending on top of it.
pub fn last_email_at(conn: &mut DbConnection) -> StoreResult<Option<OffsetDateTime>> {
    let at: Option<PrimitiveDateTime> =
        legacy_accounts::table.select(diesel::dsl::max(legacy_accounts::email_at)).get_result(conn)?;
    Ok(at.map(from_db))
}

/// Entitlements a person already holds directly (an import adds no second copy).
pub fn direct_entitlements(conn: &mut DbConnection, user_id: &str) -> StoreResult<Vec<String>> {
    Ok(entitlement_grants::table
        .filter(entitlement_grants::user_id.eq(user_id))
        .select(entitlement_grants::entitlement)
        .load(conn)?)
}

/// A legacy account waiting for its person to verify a Tunnus identity.
#[derive(Debug, Clone)]
pub struct PendingLink {
    pub legacy_id: String,
    pub organization: Option<String>,
    pub membership: Option<(MembershipKind, Role)>,
    pub licenses: Vec<String>,
}

/// Legacy accounts of `email` skipped because they were unverified.
pub fn pending_links(conn: &mut DbConnection, email: &str) -> StoreResult<Vec<PendingLink>> {
    type Row = (String, Option<String>, Option<String>, Option<String>, String);
    let rows: Vec<Row> = legacy_accounts::table
        .filter(legacy_accounts::email.eq(email))
        // Spelled out so the planner picks `legacy_accounts_unlinked_email`,
        // whose condition this is (a skipped account has no user).
        .filter(legacy_accounts::user_id.is_null())
        .filter(legacy_accounts::outcome.eq(Outcome::Skipped.as_str()))
        .filter(legacy_accounts::reason.eq("unverified"))
        .order(legacy_accounts::legacy_id.asc())
        .select((
            legacy_accounts::legacy_id,
            legacy_accounts::organization,
            legacy_accounts::membership_kind,
            legacy_accounts::role,
            legacy_accounts::licenses,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(legacy_id, organization, kind, role, licenses)| PendingLink {
            legacy_id,
            organization,
            membership: kind
                .as_deref()
                .and_then(MembershipKind::parse)
                .map(|k| (k, role.as_deref().and_then(Role::parse).unwrap_or(Role::Member))),
            licenses: split_licenses(&licenses),
        })
        .collect())
}

/// Forgets the email of a person's legacy accounts when the person deletes
/// their identity. The rows stay, so a rerun of the import still sees those
/// legacy ids as done and does not bring the deleted person back.
pub fn forget_person(conn: &mut DbConnection, user_id: &str) -> StoreResult<usize> {
    Ok(diesel::update(legacy_accounts::table.filter(legacy_accounts::user_id.eq(user_id)))
        .set(legacy_accounts::email.eq(""))
        .execute(conn)?)
}

/// Records the outcome of a merge or a link for an already-stored row.
pub fn mark(
    conn: &mut DbConnection,
    legacy_id: &str,
    user_id: &str,
    outcome: Outcome,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::update(legacy_accounts::table.find(legacy_id))
        .set((
            legacy_accounts::user_id.eq(user_id),
            legacy_accounts::outcome.eq(outcome.as_str()),
            legacy_accounts::reason.eq(None::<String>),
            legacy_accounts::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Marks an unverified identity verified (its legacy account proved the
/// address) and gives it the legacy password hash if it has none.
pub fn verify_identity(
    conn: &mut DbConnection,
    user_id: &str,
    legacy_hash: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.find(user_id).filter(users::status.eq("unverified")))
        .set((users::status.eq("active"), users::email_verified_at.eq(to_db(now)), users::updated_at.eq(to_db(now))))
        .execute(conn)?;
    if let Some(hash) = legacy_hash {
        diesel::update(users::table.find(user_id).filter(users::password_hash.is_null()))
            .set(users::password_hash.eq(hash))
            .execute(conn)?;
    }
    Ok(())
}

/// Readies a connection for an import batch (SQLite only; the settings are
/// per connection, so only the importing process has them):
/// - a 64 MB page cache instead of 2 MB, which thrashes once the indexes
///   pass a few hundred thousand rows;
/// - a checkpoint when the write-ahead log reaches 64 MB instead of 4 MB, so
///   the index pages every batch touches are copied into the database file
///   once per several batches rather than once per batch. Every commit is in
///   the log just as before: a crash loses nothing it did not lose before.
pub fn prepare_batch(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Sqlite(c) = conn {
        diesel::sql_query("PRAGMA cache_size = -65536").execute(c)?;
        diesel::sql_query("PRAGMA wal_autocheckpoint = 16384").execute(c)?;
    }
    crate::directory_cache::announce_bulk_change(conn)
}

/// The end of a batch's transaction (see [`prepare_batch`]).
pub fn finish_batch(conn: &mut DbConnection) -> StoreResult<()> {
    crate::directory_cache::end_bulk_change(conn)
}

/// Refreshes PostgreSQL's statistics of the tables an import fills. Without
/// them (autovacuum off, or not yet run) the planner keeps believing the
/// tables are tiny and answers each batch's lookups with full scans, so the
/// import slows down as it goes.
pub fn analyze(conn: &mut DbConnection) -> StoreResult<()> {
    if let DbConnection::Postgresql(c) = conn {
        diesel::sql_query("ANALYZE users, legacy_accounts, memberships, entitlement_grants, outbox").execute(c)?;
    }
    Ok(())
}

/// Legacy accounts by outcome, for reports and tests.
pub fn count_by_outcome(conn: &mut DbConnection) -> StoreResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = legacy_accounts::table
        .group_by(legacy_accounts::outcome)
        .select((legacy_accounts::outcome, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Where one legacy account stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyState {
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub user_id: Option<String>,
    /// Empty once the identity it went into was deleted.
    pub email: String,
}

pub fn find(conn: &mut DbConnection, legacy_id: &str) -> StoreResult<Option<LegacyState>> {
    let row: Option<(String, Option<String>, Option<String>, String)> = legacy_accounts::table
        .find(legacy_id)
        .select((legacy_accounts::outcome, legacy_accounts::reason, legacy_accounts::user_id, legacy_accounts::email))
        .get_result(conn)
        .optional()?;
    row.map(|(o, reason, user_id, email)| {
        let outcome = Outcome::parse(&o).ok_or_else(|| crate::StoreError::corrupt("legacy outcome"))?;
        Ok(LegacyState { outcome, reason, user_id, email })
    })
    .transpose()
}

pub fn join_licenses(licenses: &[String]) -> String {
    licenses.join(";")
}

pub fn split_licenses(licenses: &str) -> Vec<String> {
    licenses.split(';').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}
