//! The platform administrators' part of the admin tool: creating
//! organizations, granting and ending licenses (maintenance contracts
//! included), and seeing the registered OIDC clients. Organization admins get
//! 403 on all of it.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use time::macros::format_description;
use tunnus_store::orgs;

use super::admin::org_page;
use super::{nav, origin, see_other, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{AdminClientsPage, html};
use crate::services::orgs::{self as org_service, LicenseHolder, OrgError};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/organizations", web::post().to(create_organization))
        .route("/admin/license", web::post().to(license))
        .route("/admin/clients", web::get().to(clients));
}

/// Messages a platform action may leave on the page it returns to; only
/// these codes are shown, so a crafted link cannot put text on the page.
pub fn notice_key(code: &str) -> Option<&'static str> {
    match code {
        "org-name" => Some("error-org-name"),
        "org-exists" => Some("error-org-exists"),
        "bad-date" => Some("admin-license-bad-date"),
        "no-license" => Some("error-no-license"),
        _ => None,
    }
}

/// The signed-in platform administrator; anyone else is refused.
async fn platform_admin(req: &HttpRequest, state: &AppState) -> Result<tunnus_core::User, AppError> {
    let Some((_, user)) = signed_in(req, state).await? else { return Err(AppError::Forbidden) };
    let uid = user.id.to_string();
    if !state.db.read(move |c| orgs::is_platform_admin(c, &uid)).await? {
        return Err(AppError::Forbidden);
    }
    Ok(user)
}

async fn audit(state: &AppState, req: &HttpRequest, actor: &str, kind: &'static str, detail: serde_json::Value) {
    let (actor, now, origin) = (actor.to_owned(), state.clock.now(), origin(req, state));
    let written =
        state.db.write(move |c| crate::services::audit::record(c, kind, Some(&actor), &origin, detail, now)).await;
    if let Err(e) = written {
        tracing::warn!(error = %e, kind, "could not record an audit event");
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewOrgForm {
    csrf: String,
    name: String,
}

async fn create_organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<NewOrgForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let user = platform_admin(&req, &state).await?;
    match org_service::create_organization(&state.db, &form.name, state.clock.now()).await {
        Ok(id) => {
            let detail = serde_json::json!({"organization": id, "name": form.name.trim()});
            audit(&state, &req, user.id.as_str(), "organization.created", detail).await;
            Ok(org_page(&id, None))
        }
        Err(OrgError::Invalid(_)) => Ok(see_other("/admin?notice=org-name")),
        Err(OrgError::Conflict(_)) => Ok(see_other("/admin?notice=org-exists")),
        Err(OrgError::NotFound(_)) => Err(AppError::NotFound),
        Err(OrgError::Store(e)) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LicenseForm {
    csrf: String,
    org: String,
    entitlement: String,
    /// YYYY-MM-DD: the last day the license is valid (inclusive), UTC.
    valid_until: String,
    include_external: String,
    action: String,
}

async fn license(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<LicenseForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let user = platform_admin(&req, &state).await?;
    let form = form.into_inner();
    let now = state.clock.now();
    let holder = LicenseHolder::Organization(form.org.clone());
    let result = match form.action.as_str() {
        "grant" => {
            let until = match form.valid_until.trim() {
                "" => None,
                text => match time::Date::parse(text, format_description!("[year]-[month]-[day]")) {
                    // Valid through the whole last day: it ends at the next midnight (UTC).
                    Ok(day) if day >= now.date() => day.next_day().map(|d| d.midnight().assume_utc()),
                    _ => return Ok(org_page(&form.org, Some("bad-date"))),
                },
            };
            let external = form.include_external == "yes";
            org_service::grant_license(&state.db, &form.entitlement, holder, external, None, until, now)
                .await
                .map(|_| ())
        }
        "revoke" => match org_service::revoke_license(&state.db, &form.entitlement, holder).await {
            Ok(0) => return Ok(org_page(&form.org, Some("no-license"))),
            other => other.map(|_| ()),
        },
        _ => return Err(AppError::BadRequest),
    };
    match result {
        Ok(()) => {
            let detail = serde_json::json!({
                "organization": form.org, "entitlement": form.entitlement, "action": form.action,
                "valid_until": form.valid_until,
            });
            audit(&state, &req, user.id.as_str(), "license.changed", detail).await;
            Ok(org_page(&form.org, None))
        }
        // The form offers only catalogue names and existing organizations:
        // anything else is a forged or stale form.
        Err(OrgError::Invalid(_)) => Err(AppError::BadRequest),
        Err(OrgError::NotFound(_) | OrgError::Conflict(_)) => Err(AppError::NotFound),
        Err(OrgError::Store(e)) => Err(e.into()),
    }
}

async fn clients(req: HttpRequest, state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    let user = platform_admin(&req, &state).await?;
    let clients = state.db.read(tunnus_store::clients::list).await?;
    let rows = clients
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.name.clone(),
                c.kind.as_str().to_owned(),
                c.redirect_uris.join(" "),
                c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "),
                c.required_entitlement.clone().unwrap_or_default(),
            ]
        })
        .collect();
    html(&AdminClientsPage { tr: tr(&req), nav: nav(Some(&user), &csrf), clients: rows })
}
