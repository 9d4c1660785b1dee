//! The `action_tokens` table: hashes of emailed link tokens.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::action::{ActionPurpose, ActionToken};
use tunnus_core::{SecretToken, TokenHash, UserId};

use crate::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::action_tokens;
use crate::time_conv::{from_db, to_db};

/// Makes a new link token for `user` and `purpose`, valid for `lifetime`
/// from `now`: older unused links of that purpose are retired, the token's
/// hash is stored, and the token itself is returned for the email (it is
/// never stored).
pub fn issue(
    conn: &mut DbConnection,
    user: &UserId,
    purpose: ActionPurpose,
    now: OffsetDateTime,
    lifetime: time::Duration,
) -> StoreResult<SecretToken> {
    retire_all(conn, user, purpose, now)?;
    let secret = SecretToken::generate(&mut rand::rng());
    let token = ActionToken {
        purpose,
        user_id: user.clone(),
        created_at: now,
        expires_at: ActionToken::expiry_for(now, lifetime),
        used_at: None,
    };
    insert(conn, &secret.hash(), &token)?;
    Ok(secret)
}

pub fn insert(conn: &mut DbConnection, hash: &TokenHash, token: &ActionToken) -> StoreResult<()> {
    diesel::insert_into(action_tokens::table)
        .values((
            action_tokens::token_hash.eq(hash.as_str()),
            action_tokens::purpose.eq(token.purpose.as_str()),
            action_tokens::user_id.eq(token.user_id.as_str()),
            action_tokens::created_at.eq(to_db(token.created_at)),
            action_tokens::expires_at.eq(to_db(token.expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a confirm-email-change link together with the address it confirms.
pub fn insert_email_change(
    conn: &mut DbConnection,
    hash: &TokenHash,
    token: &ActionToken,
    new_email: &tunnus_core::Email,
) -> StoreResult<()> {
    insert(conn, hash, token)?;
    diesel::update(action_tokens::table.find(hash.as_str()))
        .set(action_tokens::new_email.eq(new_email.as_str()))
        .execute(conn)?;
    Ok(())
}

/// The address a confirm-email-change link confirms.
pub fn new_email_of(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<tunnus_core::Email>> {
    let row: Option<Option<String>> =
        action_tokens::table.find(hash.as_str()).select(action_tokens::new_email).get_result(conn).optional()?;
    Ok(row.flatten().map(tunnus_core::Email::from_trusted))
}

/// Removes every link of a person (account deletion).
pub fn delete_for_user(conn: &mut DbConnection, user: &UserId) -> StoreResult<usize> {
    Ok(diesel::delete(action_tokens::table.filter(action_tokens::user_id.eq(user.as_str()))).execute(conn)?)
}

pub fn find(conn: &mut DbConnection, hash: &TokenHash) -> StoreResult<Option<ActionToken>> {
    let row: Option<(
        String,
        String,
        time::PrimitiveDateTime,
        time::PrimitiveDateTime,
        Option<time::PrimitiveDateTime>,
    )> = action_tokens::table
        .find(hash.as_str())
        .select((
            action_tokens::purpose,
            action_tokens::user_id,
            action_tokens::created_at,
            action_tokens::expires_at,
            action_tokens::used_at,
        ))
        .get_result(conn)
        .optional()?;
    row.map(|(purpose, user_id, created_at, expires_at, used_at)| {
        Ok(ActionToken {
            purpose: ActionPurpose::parse(&purpose).ok_or_else(|| StoreError::corrupt("action token purpose"))?,
            user_id: UserId::from_stored(user_id),
            created_at: from_db(created_at),
            expires_at: from_db(expires_at),
            used_at: used_at.map(from_db),
        })
    })
    .transpose()
}

/// Marks the token used if it still is usable. Exactly one caller can win
/// this for a given token, on either backend: the conditional UPDATE is the
/// single-use guarantee.
pub fn consume(
    conn: &mut DbConnection,
    hash: &TokenHash,
    purpose: ActionPurpose,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let n = diesel::update(
        action_tokens::table
            .find(hash.as_str())
            .filter(action_tokens::purpose.eq(purpose.as_str()))
            .filter(action_tokens::used_at.is_null())
            .filter(action_tokens::expires_at.gt(to_db(now))),
    )
    .set(action_tokens::used_at.eq(to_db(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Retires every unused link of a purpose for a person (a newer link, or a
/// completed reset, makes older ones worthless).
pub fn retire_all(
    conn: &mut DbConnection,
    user: &UserId,
    purpose: ActionPurpose,
    now: OffsetDateTime,
) -> StoreResult<usize> {
    Ok(diesel::update(
        action_tokens::table
            .filter(action_tokens::user_id.eq(user.as_str()))
            .filter(action_tokens::purpose.eq(purpose.as_str()))
            .filter(action_tokens::used_at.is_null()),
    )
    .set(action_tokens::used_at.eq(to_db(now)))
    .execute(conn)?)
}
