//! The `signing_keys` table: key material is opaque here (encrypted JWE and
//! public JWK text); the protocol crate owns its meaning.

use diesel::prelude::*;
use time::OffsetDateTime;

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::signing_keys;
use crate::time_conv::{from_db, to_db};

#[derive(Debug, Clone)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    /// `next` (published, not signing), `active` (signing), `retired` (published until its tokens expire).
    pub state: String,
    pub private_jwe: String,
    pub public_jwk: String,
    pub created_at: OffsetDateTime,
    pub activated_at: Option<OffsetDateTime>,
    pub retired_at: Option<OffsetDateTime>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    time::PrimitiveDateTime,
    Option<time::PrimitiveDateTime>,
    Option<time::PrimitiveDateTime>,
);

pub fn insert(conn: &mut DbConnection, k: &StoredKey) -> StoreResult<()> {
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&k.kid),
            signing_keys::alg.eq(&k.alg),
            signing_keys::state.eq(&k.state),
            signing_keys::private_jwe.eq(&k.private_jwe),
            signing_keys::public_jwk.eq(&k.public_jwk),
            signing_keys::created_at.eq(to_db(k.created_at)),
            signing_keys::activated_at.eq(k.activated_at.map(to_db)),
            signing_keys::retired_at.eq(k.retired_at.map(to_db)),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn all(conn: &mut DbConnection) -> StoreResult<Vec<StoredKey>> {
    let rows: Vec<Row> = signing_keys::table
        .order(signing_keys::created_at.asc())
        .select((
            signing_keys::kid,
            signing_keys::alg,
            signing_keys::state,
            signing_keys::private_jwe,
            signing_keys::public_jwk,
            signing_keys::created_at,
            signing_keys::activated_at,
            signing_keys::retired_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| StoredKey {
            kid: r.0,
            alg: r.1,
            state: r.2,
            private_jwe: r.3,
            public_jwk: r.4,
            created_at: from_db(r.5),
            activated_at: r.6.map(from_db),
            retired_at: r.7.map(from_db),
        })
        .collect())
}

/// Moves a key from state `from` to `to`, stamping the time.
pub fn transition(conn: &mut DbConnection, kid: &str, from: &str, to: &str, now: OffsetDateTime) -> StoreResult<bool> {
    let q = signing_keys::table.find(kid).filter(signing_keys::state.eq(from));
    let n = match to {
        "active" => diesel::update(q)
            .set((signing_keys::state.eq(to), signing_keys::activated_at.eq(to_db(now))))
            .execute(conn)?,
        "retired" => diesel::update(q)
            .set((signing_keys::state.eq(to), signing_keys::retired_at.eq(to_db(now))))
            .execute(conn)?,
        _ => diesel::update(q).set(signing_keys::state.eq(to)).execute(conn)?,
    };
    Ok(n == 1)
}

/// Deletes keys retired before `cutoff` (no token they signed is still valid).
pub fn delete_retired_before(conn: &mut DbConnection, cutoff: OffsetDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(
        signing_keys::table
            .filter(signing_keys::state.eq("retired"))
            .filter(signing_keys::retired_at.lt(to_db(cutoff))),
    )
    .execute(conn)?)
}
