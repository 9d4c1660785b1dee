//! Versioned terms documents and who accepted which version.

use diesel::prelude::*;
use time::OffsetDateTime;
use tunnus_core::UserId;
use tunnus_core::terms::{PublishedTerms, TermsDocument, TermsKind, TermsStanding};

use crate::DbConnection;
use crate::error::StoreResult;
use crate::schema::{terms_acceptances, terms_documents};
use crate::time_conv::{from_db, to_db};

/// The newest published version of a document.
pub fn current(conn: &mut DbConnection, kind: TermsKind, now: OffsetDateTime) -> StoreResult<Option<TermsDocument>> {
    // Every version in effect, newest first, rather than `LIMIT 1`: a kind
    // has a handful of versions, and a bound LIMIT makes SQLite prepare the
    // statement again on every use (see `lib.rs`).
    let rows: Vec<(i32, String)> = terms_documents::table
        .filter(terms_documents::kind.eq(kind.as_str()))
        .filter(terms_documents::published_at.le(to_db(now)))
        .order(terms_documents::version.desc())
        .select((terms_documents::version, terms_documents::url))
        .load(conn)?;
    Ok(rows.into_iter().next().map(|(version, url)| TermsDocument { kind, version, url }))
}

/// The newest published version of each document that `user` has not
/// accepted, terms before privacy: what must be accepted before entering a
/// service.
pub fn outstanding(conn: &mut DbConnection, user: &UserId, now: OffsetDateTime) -> StoreResult<Vec<TermsDocument>> {
    Ok(standing(conn, user, now)?.outstanding(now))
}

/// Where `user` stands with the documents from `now` on (see
/// [`TermsStanding`]): every published version, and the person's acceptances.
pub fn standing(conn: &mut DbConnection, user: &UserId, now: OffsetDateTime) -> StoreResult<TermsStanding> {
    let published: Vec<(String, i32, String, time::PrimitiveDateTime)> = terms_documents::table
        .select((terms_documents::kind, terms_documents::version, terms_documents::url, terms_documents::published_at))
        .load(conn)?;
    let accepted: Vec<(String, i32)> = terms_acceptances::table
        .filter(terms_acceptances::user_id.eq(user.as_str()))
        .select((terms_acceptances::kind, terms_acceptances::version))
        .load(conn)?;
    // The kinds are constrained by the schema; a row of another kind is not one of these documents.
    let published = published
        .into_iter()
        .filter_map(|(kind, version, url, at)| {
            let kind = TermsKind::parse(&kind)?;
            Some(PublishedTerms { document: TermsDocument { kind, version, url }, effective_at: from_db(at) })
        })
        .collect();
    let accepted: Vec<_> =
        accepted.into_iter().filter_map(|(kind, version)| Some((TermsKind::parse(&kind)?, version))).collect();
    Ok(TermsStanding::new(published, &accepted, now))
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

/// Publishes a new version of a document, effective at `at` (people are
/// asked to accept it at their next sign-in after that). Versions only grow.
pub fn publish(conn: &mut DbConnection, doc: &TermsDocument, at: OffsetDateTime) -> StoreResult<()> {
    diesel::insert_into(terms_documents::table)
        .values((
            terms_documents::kind.eq(doc.kind.as_str()),
            terms_documents::version.eq(doc.version),
            terms_documents::url.eq(&doc.url),
            terms_documents::published_at.eq(to_db(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every acceptance of a person: (kind, version, accepted at), for their data export.
pub fn acceptances_of(conn: &mut DbConnection, user: &UserId) -> StoreResult<Vec<(String, i32, OffsetDateTime)>> {
    let rows: Vec<(String, i32, time::PrimitiveDateTime)> = terms_acceptances::table
        .filter(terms_acceptances::user_id.eq(user.as_str()))
        .order((terms_acceptances::kind.asc(), terms_acceptances::version.asc()))
        .select((terms_acceptances::kind, terms_acceptances::version, terms_acceptances::accepted_at))
        .load(conn)?;
    Ok(rows.into_iter().map(|(k, v, at)| (k, v, from_db(at))).collect())
}

/// The highest version of a document ever published (in effect or scheduled).
pub fn newest_version(conn: &mut DbConnection, kind: TermsKind) -> StoreResult<Option<i32>> {
    Ok(terms_documents::table
        .filter(terms_documents::kind.eq(kind.as_str()))
        .select(diesel::dsl::max(terms_documents::version))
        .get_result(conn)?)
}
