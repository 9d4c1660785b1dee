//! The `consents` table: which scopes a person let a client have.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::consents;
use crate::time_conv::to_db;

/// The granted scopes (space-separated), if any.
pub fn find(conn: &mut DbConnection, user_id: &str, client_id: &str) -> StoreResult<Option<String>> {
    Ok(consents::table.find((user_id, client_id)).select(consents::scopes).get_result(conn).optional()?)
}

pub fn grant(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
    scopes: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::delete(consents::table.find((user_id, client_id))).execute(conn)?;
    diesel::insert_into(consents::table)
        .values((
            consents::user_id.eq(user_id),
            consents::client_id.eq(client_id),
            consents::scopes.eq(scopes),
            consents::granted_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn revoke(conn: &mut DbConnection, user_id: &str, client_id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(consents::table.find((user_id, client_id))).execute(conn)? == 1)
}

/// Every consent a person gave: (client id, scopes), for their data export.
pub fn of_user(conn: &mut DbConnection, user_id: &str) -> StoreResult<Vec<(String, String)>> {
    Ok(consents::table
        .filter(consents::user_id.eq(user_id))
        .order(consents::client_id.asc())
        .select((consents::client_id, consents::scopes))
        .load(conn)?)
}
