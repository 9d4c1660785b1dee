//! The `federated_identities` table: upstream accounts linked to identities.

use diesel::prelude::*;
use tunnus_core::UserId;
use tunnus_core::federation::FederatedIdentity;

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::federated_identities as fi;
use crate::time_conv::{from_db, to_db};

type Row = (String, String, String, Option<String>, time::PrimitiveDateTime);

fn identity(r: Row) -> FederatedIdentity {
    FederatedIdentity {
        provider: r.0,
        subject: r.1,
        user_id: UserId::from_stored(r.2),
        email: r.3,
        created_at: from_db(r.4),
    }
}

/// Links an upstream account; an account already linked is a `Conflict`.
pub fn insert(conn: &mut DbConnection, link: &FederatedIdentity) -> StoreResult<()> {
    diesel::insert_into(fi::table)
        .values((
            fi::provider.eq(&link.provider),
            fi::subject.eq(&link.subject),
            fi::user_id.eq(link.user_id.as_str()),
            fi::email.eq(link.email.as_deref()),
            fi::created_at.eq(to_db(link.created_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The identity an upstream account is linked to.
pub fn find(conn: &mut DbConnection, provider: &str, subject: &str) -> StoreResult<Option<FederatedIdentity>> {
    let row: Option<Row> = fi::table
        .find((provider, subject))
        .select((fi::provider, fi::subject, fi::user_id, fi::email, fi::created_at))
        .get_result(conn)
        .optional()?;
    Ok(row.map(identity))
}

/// A person's linked upstream accounts, oldest first.
pub fn of_user(conn: &mut DbConnection, user: &UserId) -> StoreResult<Vec<FederatedIdentity>> {
    let rows: Vec<Row> = fi::table
        .filter(fi::user_id.eq(user.as_str()))
        .order((fi::created_at.asc(), fi::provider.asc()))
        .select((fi::provider, fi::subject, fi::user_id, fi::email, fi::created_at))
        .load(conn)?;
    Ok(rows.into_iter().map(identity).collect())
}

/// Removes a person's links to `provider`; returns how many went.
pub fn delete(conn: &mut DbConnection, user: &UserId, provider: &str) -> StoreResult<usize> {
    Ok(diesel::delete(fi::table.filter(fi::user_id.eq(user.as_str())).filter(fi::provider.eq(provider)))
        .execute(conn)?)
}
