//! Licenses of an organization and of its groups. Anyone who administers
//! the organization may see them; only platform administrators grant or end
//! them (licenses are what customers pay for).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tunnus_store::orgs;
use utoipa::ToSchema;

use super::organizations::forbidden_org;
use super::{ApiError, Caller, caller, error, org_error, store_error};
use crate::services::orgs::{self as org_service, LicenseHolder};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLicense {
    /// A catalogue entitlement, e.g. `warehouse:premium`; `maintenance` is the maintenance contract.
    pub entitlement: String,
    /// RFC 3339 end of validity (exclusive); none for open-ended.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Also reaches the organization's external members.
    #[serde(default)]
    pub include_external: bool,
    /// Grant to this group of the organization (by name) instead of the whole organization.
    #[serde(default)]
    pub group: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct License {
    pub entitlement: String,
    pub include_external: bool,
    /// RFC 3339, if the license ends.
    pub valid_until: Option<String>,
}

fn platform_only(caller: &Caller) -> Option<HttpResponse> {
    (!matches!(caller, Caller::Platform { .. }))
        .then(|| error(StatusCode::FORBIDDEN, "forbidden", "only platform administrators grant or end licenses"))
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/licenses", params(("id" = String, Path)),
    responses((status = 200, body = Vec<License>), (status = 403, body = ApiError)))]
pub(super) async fn list_licenses(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let org = path.into_inner();
    authorize_for!(req, state, org);
    match state.db.read(move |c| orgs::licenses_of(c, &org)).await {
        Ok(rows) => HttpResponse::Ok().json(
            rows.into_iter()
                .map(|(entitlement, include_external, until)| License {
                    entitlement,
                    include_external,
                    valid_until: until.and_then(|u| u.format(&time::format_description::well_known::Rfc3339).ok()),
                })
                .collect::<Vec<_>>(),
        ),
        Err(e) => store_error(e),
    }
}

#[utoipa::path(post, path = "/api/admin/v1/organizations/{id}/licenses", params(("id" = String, Path)), request_body = NewLicense,
    responses((status = 201), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn grant_license(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewLicense>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    if let Some(refused) = platform_only(&caller) {
        return refused;
    }
    let until = match &body.valid_until {
        None => None,
        Some(t) => match time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
            Ok(t) => Some(t),
            Err(_) => return error(StatusCode::BAD_REQUEST, "invalid_request", "valid_until must be RFC 3339"),
        },
    };
    let org = path.into_inner();
    let to = match &body.group {
        Some(name) => LicenseHolder::Group { org, name: name.clone() },
        None => LicenseHolder::Organization(org),
    };
    let now = state.clock.now();
    match org_service::grant_license(&state.db, &body.entitlement, to, body.include_external, None, until, now).await {
        Ok(_) => HttpResponse::Created().finish(),
        Err(e) => org_error(e),
    }
}

#[utoipa::path(delete, path = "/api/admin/v1/organizations/{id}/licenses/{entitlement}",
    params(("id" = String, Path), ("entitlement" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn revoke_license(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    if let Some(refused) = platform_only(&caller) {
        return refused;
    }
    let (org, entitlement) = path.into_inner();
    match org_service::revoke_license(&state.db, &entitlement, LicenseHolder::Organization(org)).await {
        Ok(0) => error(StatusCode::NOT_FOUND, "not_found", "the organization holds no such license"),
        Ok(_) => HttpResponse::NoContent().finish(),
        Err(e) => org_error(e),
    }
}
