//! The admin REST API (`/api/admin/v1`): the admin tool's operations as
//! JSON, for automation. Callers present an access token from Tunnus:
//! a client-credentials token with the `admin` scope (platform-wide), or a
//! person's token — platform administrators act everywhere, organization
//! administrators on their organizations only. Described by an OpenAPI 3
//! document generated from this code at `/api/admin/v1/openapi.json`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tunnus_store::orgs;
use utoipa::{OpenApi, ToSchema};

use self::clients::*;
use self::groups::*;
use self::licenses::*;
use self::organizations::*;
use crate::http::context;
use crate::services::orgs as org_service;
use crate::state::AppState;

const MAX_LIMIT: i64 = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/admin/v1/openapi.json", web::get().to(openapi))
        .route("/api/admin/v1/organizations", web::get().to(list_organizations))
        .route("/api/admin/v1/organizations", web::post().to(create_organization))
        .route("/api/admin/v1/organizations/{id}/members", web::get().to(list_members))
        .route("/api/admin/v1/organizations/{id}/members", web::post().to(add_member))
        .route("/api/admin/v1/organizations/{id}/members/{email}", web::delete().to(remove_member))
        .route("/api/admin/v1/organizations/{id}/invitations", web::get().to(list_invitations))
        .route("/api/admin/v1/organizations/{id}/invitations", web::post().to(invite))
        .route("/api/admin/v1/organizations/{id}/invitations/{invitation}", web::delete().to(revoke_invitation))
        .route("/api/admin/v1/organizations/{id}/licenses", web::get().to(list_licenses))
        .route("/api/admin/v1/organizations/{id}/licenses", web::post().to(grant_license))
        .route("/api/admin/v1/organizations/{id}/licenses/{entitlement}", web::delete().to(revoke_license))
        .route("/api/admin/v1/organizations/{id}/groups", web::get().to(list_groups))
        .route("/api/admin/v1/organizations/{id}/groups", web::post().to(create_group))
        .route("/api/admin/v1/organizations/{id}/groups/{group}/members", web::get().to(list_group_members))
        .route("/api/admin/v1/organizations/{id}/groups/{group}/members/{email}", web::delete().to(remove_group_member))
        .route("/api/admin/v1/clients", web::get().to(list_clients));
}

/// Every error of this API has this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    /// `unauthorized`, `forbidden`, `not_found`, `invalid_request`, `conflict`, `unavailable` or `internal`.
    pub error: &'static str,
    pub message: String,
    /// Also in the server log and the `X-Request-Id` header.
    pub request_id: String,
}

pub(super) fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> HttpResponse {
    let body = ApiError { error: code, message: message.into(), request_id: context::current().request_id };
    let mut r = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        r.insert_header(("WWW-Authenticate", "Bearer realm=\"tunnus\""));
    }
    r.insert_header(("Cache-Control", "no-store")).json(body)
}

pub(super) fn store_error(e: tunnus_store::StoreError) -> HttpResponse {
    match e.kind() {
        tunnus_store::StoreErrorKind::Conflict => {
            error(StatusCode::CONFLICT, "conflict", "conflicts with existing data")
        }
        tunnus_store::StoreErrorKind::Unavailable => {
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "storage is unavailable")
        }
        _ => {
            tracing::error!(error = %e, "admin API storage failure");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
        }
    }
}

pub(super) fn org_error(e: org_service::OrgError) -> HttpResponse {
    match e {
        org_service::OrgError::Invalid(m) => error(StatusCode::BAD_REQUEST, "invalid_request", m),
        org_service::OrgError::NotFound(m) => error(StatusCode::NOT_FOUND, "not_found", m),
        org_service::OrgError::Conflict(m) => error(StatusCode::CONFLICT, "conflict", m),
        org_service::OrgError::Store(e) => store_error(e),
    }
}

/// Who is calling, as far as authorization cares.
pub(super) enum Caller {
    Platform { actor: Option<String> },
    OrgAdmin { actor: String, orgs: Vec<String> },
}

impl Caller {
    pub(super) fn may(&self, org: &str) -> bool {
        match self {
            Self::Platform { .. } => true,
            Self::OrgAdmin { orgs, .. } => orgs.iter().any(|o| o == org),
        }
    }

    pub(super) fn actor(&self) -> Option<String> {
        match self {
            Self::Platform { actor } => actor.clone(),
            Self::OrgAdmin { actor, .. } => Some(actor.clone()),
        }
    }
}

pub(super) async fn caller(req: &HttpRequest, state: &AppState) -> Result<Caller, HttpResponse> {
    let header = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(token) = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")) else {
        return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", "a bearer access token is required"));
    };
    let at = state
        .provider
        .verify_access_token(token.trim())
        .await
        .map_err(|e| error(StatusCode::UNAUTHORIZED, "unauthorized", e.description))?;
    let sub = at.payload.subject().unwrap_or("").to_owned();
    if at.claim_str("client_id") == Some(sub.as_str()) {
        // A client acting for itself (client credentials): needs the admin scope.
        return if at.scopes().contains("admin") {
            Ok(Caller::Platform { actor: None })
        } else {
            Err(error(StatusCode::FORBIDDEN, "forbidden", "the token lacks the admin scope"))
        };
    }
    let uid = sub.clone();
    let (platform, administered) = state
        .db
        .read(move |c| Ok((orgs::is_platform_admin(c, &uid)?, orgs::administered_by(c, &uid)?)))
        .await
        .map_err(store_error)?;
    if platform {
        Ok(Caller::Platform { actor: Some(sub) })
    } else if !administered.is_empty() {
        Ok(Caller::OrgAdmin { actor: sub, orgs: administered.into_iter().map(|(id, _)| id).collect() })
    } else {
        Err(error(StatusCode::FORBIDDEN, "forbidden", "not an administrator"))
    }
}

macro_rules! authorize {
    ($req:expr, $state:expr) => {
        match caller(&$req, &$state).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
}

/// The caller, if they may administer organization `$org`; else answers 403.
macro_rules! authorize_for {
    ($req:expr, $state:expr, $org:expr) => {{
        let caller = authorize!($req, $state);
        if !caller.may(&$org) {
            return forbidden_org();
        }
        caller
    }};
}

// After the macros, so every module sees them.
mod clients;
mod groups;
mod licenses;
mod organizations;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(super) struct PageQuery {
    pub offset: i64,
    pub limit: i64,
    pub q: String,
}

impl PageQuery {
    pub(super) fn bounds(&self) -> (i64, i64) {
        (self.offset.max(0), if self.limit <= 0 { 50 } else { self.limit.min(MAX_LIMIT) })
    }
}

/// A page of results; ask again with `offset = next_offset` while it is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_offset: Option<i64>,
}

pub(super) fn page<T>(mut items: Vec<T>, offset: i64, limit: i64) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    Page { items, next_offset: more.then_some(offset + limit) }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tunnus admin API",
        version = "1",
        description = "Organizations, members, invitations, groups, licenses and (read-only) OIDC clients. Bearer access token: client credentials with the `admin` scope, or a platform or organization administrator's token."
    ),
    paths(
        list_organizations,
        create_organization,
        list_members,
        add_member,
        remove_member,
        list_invitations,
        invite,
        revoke_invitation,
        list_licenses,
        grant_license,
        revoke_license,
        list_groups,
        create_group,
        list_group_members,
        remove_group_member,
        list_clients
    ),
    components(schemas(
        ApiError,
        Organization,
        NewOrganization,
        Member,
        NewMember,
        NewInvitations,
        InvalidAddress,
        InvitationReport,
        PendingInvitation,
        NewLicense,
        License,
        Group,
        NewGroup,
        ClientSummary
    ))
)]
struct AdminApiDoc;

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(AdminApiDoc::openapi().to_pretty_json().unwrap_or_default())
}
