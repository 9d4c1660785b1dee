//! Versioned terms documents and who accepted which version.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::UserId;
use tunnus_core::terms::{TermsDocument, TermsKind};

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::{terms_acceptances, terms_documents};
use crate::time_conv::to_db;

/// The newest published version of a document.
pub fn current(conn: &mut DbConnection, kind: TermsKind, now: OffsetDateTime) -> StoreResult<Option<TermsDocument>> {
    let row: Option<(i32, String)> = terms_documents::table
        .filter(terms_documents::kind.eq(kind.as_str()))
        .filter(terms_documents::published_at.le(to_db(now)))
        .order(terms_documents::version.desc())
        .select((terms_documents::version, terms_documents::url))
        .first(conn)
        .optional()?;
    Ok(row.map(|(version, url)| TermsDocument { kind, version, url }))
}

pub fn record_acceptance(
    conn: &mut DbConnection,
    user: &UserId,
    doc: &TermsDocument,
    now: OffsetDateTime,
) -> StoreResult<()> {
    diesel::insert_into(terms_acceptances::table)
        .values((
            terms_acceptances::user_id.eq(user.as_str()),
            terms_acceptances::kind.eq(doc.kind.as_str()),
            terms_acceptances::version.eq(doc.version),
            terms_acceptances::accepted_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Versions of `kind` the person accepted, newest first.
pub fn accepted_versions(conn: &mut DbConnection, user: &UserId, kind: TermsKind) -> StoreResult<Vec<i32>> {
    Ok(terms_acceptances::table
        .filter(terms_acceptances::user_id.eq(user.as_str()))
        .filter(terms_acceptances::kind.eq(kind.as_str()))
        .order(terms_acceptances::version.desc())
        .select(terms_acceptances::version)
        .load(conn)?)
}
