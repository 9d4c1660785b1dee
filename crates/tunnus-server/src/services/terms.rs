//! Which published terms and privacy documents a person still has to
//! accept. Checked whenever a signed-in person is about to be sent to a
//! service (also during silent single sign-on) and on the profile page, so a
//! new version is accepted at the next sign-in without anyone being locked out.

use serde_json::json;
use tunnus_core::User;
use tunnus_core::terms::TermsDocument;
use tunnus_store::terms;

use super::audit::{self, Origin};
use crate::error::AppError;
use crate::state::AppState;

/// The current documents the person has not accepted (empty: nothing to ask).
pub async fn outstanding(state: &AppState, user: &User) -> Result<Vec<TermsDocument>, AppError> {
    let (id, now) = (user.id.clone(), state.clock.now());
    Ok(state.db.lookup(move |c| terms::outstanding(c, &id, now)).await?)
}

/// Records acceptance of exactly the versions the person was shown. If a
/// newer version was published in between, it stays outstanding.
pub async fn accept(state: &AppState, user: &User, shown: Vec<TermsDocument>, origin: Origin) -> Result<(), AppError> {
    let (id, now) = (user.id.clone(), state.clock.now());
    state
        .db
        .write(move |c| {
            for doc in &shown {
                if !terms::accepted_versions(c, &id, doc.kind)?.contains(&doc.version) {
                    terms::record_acceptance(c, &id, doc, now)?;
                }
            }
            let versions: Vec<_> =
                shown.iter().map(|d| json!({"document": d.kind.as_str(), "version": d.version})).collect();
            audit::record(c, "terms.accepted", Some(id.as_str()), &origin, json!({ "documents": versions }), now)
        })
        .await?;
    Ok(())
}
