//! The `users` table.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::country::Country;
use tunnus_core::{Email, User, UserId, UserStatus};

use crate::DbConnection;
use crate::db::on_backend;
use crate::error::{StoreError, StoreResult};
use crate::schema::users;
use crate::time_conv::{from_db, to_db};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: String,
    email: String,
    email_verified_at: Option<time::PrimitiveDateTime>,
    password_hash: Option<String>,
    given_name: String,
    family_name: String,
    country: String,
    preferred_language: Option<String>,
    status: String,
    created_at: time::PrimitiveDateTime,
    updated_at: time::PrimitiveDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            country: Country::parse(&r.country)
                .ok_or_else(|| StoreError::corrupt(format!("user {}: country", r.id)))?,
            status: UserStatus::parse(&r.status)
                .ok_or_else(|| StoreError::corrupt(format!("user {}: status", r.id)))?,
            id: UserId::from_stored(r.id),
            email: Email::from_trusted(r.email),
            email_verified_at: r.email_verified_at.map(from_db),
            password_hash: r.password_hash,
            given_name: r.given_name,
            family_name: r.family_name,
            preferred_language: r.preferred_language,
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: &'a str,
    email: &'a str,
    email_verified_at: Option<time::PrimitiveDateTime>,
    password_hash: Option<&'a str>,
    given_name: &'a str,
    family_name: &'a str,
    country: &'a str,
    preferred_language: Option<&'a str>,
    status: &'a str,
    created_at: time::PrimitiveDateTime,
    updated_at: time::PrimitiveDateTime,
}

/// Inserts a new identity. A taken email is a `Conflict`.
pub fn insert(conn: &mut DbConnection, user: &User) -> StoreResult<()> {
    diesel::insert_into(users::table)
        .values(NewUserRow {
            id: user.id.as_str(),
            email: user.email.as_str(),
            email_verified_at: user.email_verified_at.map(to_db),
            password_hash: user.password_hash.as_deref(),
            given_name: &user.given_name,
            family_name: &user.family_name,
            country: user.country.code(),
            preferred_language: user.preferred_language.as_deref(),
            status: user.status.as_str(),
            created_at: to_db(user.created_at),
            updated_at: to_db(user.updated_at),
        })
        .execute(conn)?;
    Ok(())
}

pub fn find_by_email(conn: &mut DbConnection, email: &Email) -> StoreResult<Option<User>> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

pub fn find_by_id(conn: &mut DbConnection, id: &UserId) -> StoreResult<Option<User>> {
    let row: Option<UserRow> =
        on_backend!(conn, |c| users::table.find(id.as_str()).select(UserRow::as_select()).get_result(c).optional())?;
    row.map(User::try_from).transpose()
}

/// Replaces the profile data of a not-yet-verified identity (sign-up again
/// with the same address before the first link was used).
pub fn update_unverified_profile(
    conn: &mut DbConnection,
    id: &UserId,
    given_name: &str,
    family_name: &str,
    country: &Country,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.find(id.as_str()).filter(users::status.eq(UserStatus::Unverified.as_str())))
        .set((
            users::given_name.eq(given_name),
            users::family_name.eq(family_name),
            users::country.eq(country.code()),
            users::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores a new password hash; a first password also verifies the address.
pub fn set_password_and_verify(
    conn: &mut DbConnection,
    id: &UserId,
    password_hash: &str,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(id.as_str()).filter(users::status.ne(UserStatus::Disabled.as_str())))
        .set((
            users::password_hash.eq(password_hash),
            users::status.eq(UserStatus::Active.as_str()),
            users::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::new(crate::StoreErrorKind::NotFound, "no such active user"));
    }
    diesel::update(users::table.find(id.as_str()).filter(users::email_verified_at.is_null()))
        .set(users::email_verified_at.eq(to_db(now)))
        .execute(conn)?;
    Ok(())
}

/// Replaces the hash after a successful sign-in with outdated parameters.
pub fn update_password_hash(conn: &mut DbConnection, id: &UserId, password_hash: &str) -> StoreResult<()> {
    diesel::update(users::table.find(id.as_str())).set(users::password_hash.eq(password_hash)).execute(conn)?;
    Ok(())
}

pub fn count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Sets the language of hosted pages and emails for this person (`None`: English).
pub fn set_preferred_language(
    conn: &mut DbConnection,
    id: &UserId,
    lang: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::update(users::table.find(id.as_str()))
        .set((users::preferred_language.eq(lang), users::updated_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(())
}

/// The optional details of a profile: (job title, phone).
pub fn details(conn: &mut DbConnection, id: &UserId) -> StoreResult<(Option<String>, Option<String>)> {
    Ok(users::table
        .find(id.as_str())
        .select((users::job_title, users::phone))
        .get_result(conn)
        .optional()?
        .unwrap_or((None, None)))
}

/// Stores edited profile details.
pub fn set_details(
    conn: &mut DbConnection,
    id: &UserId,
    details: &tunnus_core::profile::Details,
    now: OffsetDateTime,
) -> StoreResult<()> {
    let n = diesel::update(users::table.find(id.as_str()))
        .set((
            users::given_name.eq(&details.given_name),
            users::family_name.eq(&details.family_name),
            users::country.eq(details.country.code()),
            users::job_title.eq(details.job_title.as_deref()),
            users::phone.eq(details.phone.as_deref()),
            users::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::new(crate::StoreErrorKind::NotFound, "no such user"));
    }
    Ok(())
}

/// Replaces a person's address. A taken address is a `Conflict` (the
/// unique index decides, so two confirmations racing for one address cannot
/// both win).
pub fn change_email(conn: &mut DbConnection, id: &UserId, email: &Email, now: OffsetDateTime) -> StoreResult<()> {
    let n = diesel::update(users::table.find(id.as_str()))
        .set((users::email.eq(email.as_str()), users::updated_at.eq(to_db(now))))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::new(crate::StoreErrorKind::NotFound, "no such user"));
    }
    Ok(())
}

/// Deletes an identity row. Rows that refer to it must be gone first (the
/// caller's transaction removes them); returns whether it existed.
pub fn delete(conn: &mut DbConnection, id: &UserId) -> StoreResult<bool> {
    Ok(diesel::delete(users::table.find(id.as_str())).execute(conn)? > 0)
}
