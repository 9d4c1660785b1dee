//! The admin REST API (`/api/admin/v1`): the admin tool's operations as
//! JSON, for automation. Callers present an access token from Tunnus:
//! a client-credentials token with the `admin` scope (platform-wide), or a
//! person's token — platform administrators act everywhere, organization
//! administrators on their organizations only. Described by an OpenAPI 3
//! document generated from this code at `/api/admin/v1/openapi.json`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tunnus_core::access::{MembershipKind, Role};
use tunnus_core::invitation::{InvitationKind, InvitationStatus};
use tunnus_store::{invitations as invitation_store, orgs};
use utoipa::{OpenApi, ToSchema};

use super::tr;
use crate::http::context;
use crate::services::audit::Origin;
use crate::services::invitations;
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
        .route("/api/admin/v1/organizations/{id}/licenses", web::post().to(grant_license));
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

fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> HttpResponse {
    let body = ApiError { error: code, message: message.into(), request_id: context::current().request_id };
    let mut r = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        r.insert_header(("WWW-Authenticate", "Bearer realm=\"tunnus\""));
    }
    r.insert_header(("Cache-Control", "no-store")).json(body)
}

fn store_error(e: tunnus_store::StoreError) -> HttpResponse {
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

fn org_error(e: org_service::OrgError) -> HttpResponse {
    match e {
        org_service::OrgError::Invalid(m) => error(StatusCode::BAD_REQUEST, "invalid_request", m),
        org_service::OrgError::NotFound(m) => error(StatusCode::NOT_FOUND, "not_found", m),
        org_service::OrgError::Conflict(m) => error(StatusCode::CONFLICT, "conflict", m),
        org_service::OrgError::Store(e) => store_error(e),
    }
}

/// Who is calling, as far as authorization cares.
enum Caller {
    Platform { actor: Option<String> },
    OrgAdmin { actor: String, orgs: Vec<String> },
}

impl Caller {
    fn may(&self, org: &str) -> bool {
        match self {
            Self::Platform { .. } => true,
            Self::OrgAdmin { orgs, .. } => orgs.iter().any(|o| o == org),
        }
    }

    fn actor(&self) -> Option<String> {
        match self {
            Self::Platform { actor } => actor.clone(),
            Self::OrgAdmin { actor, .. } => Some(actor.clone()),
        }
    }
}

async fn caller(req: &HttpRequest, state: &AppState) -> Result<Caller, HttpResponse> {
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

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    offset: i64,
    limit: i64,
    q: String,
}

impl PageQuery {
    fn bounds(&self) -> (i64, i64) {
        (self.offset.max(0), if self.limit <= 0 { 50 } else { self.limit.min(MAX_LIMIT) })
    }
}

/// A page of results; ask again with `offset = next_offset` while it is set.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_offset: Option<i64>,
}

fn page<T>(mut items: Vec<T>, offset: i64, limit: i64) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    Page { items, next_offset: more.then_some(offset + limit) }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewOrganization {
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub email: String,
    /// `internal` or `external`.
    pub membership: String,
    /// `member` or `admin`.
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewMember {
    pub email: String,
    /// `internal` or `external`.
    pub membership: String,
    /// `member` (default) or `admin`.
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewInvitations {
    /// Addresses separated by commas, semicolons, spaces or new lines.
    pub emails: String,
    /// `internal`, `external` or `group`.
    pub kind: String,
    /// The group, for `group` invitations.
    #[serde(default)]
    pub group_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidAddress {
    pub input: String,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationReport {
    pub invited: Vec<String>,
    pub invalid: Vec<InvalidAddress>,
    pub duplicates: Vec<String>,
    pub already_members: Vec<String>,
    pub already_invited: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PendingInvitation {
    pub id: String,
    pub email: String,
    pub kind: String,
    pub expires_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewLicense {
    pub entitlement: String,
    /// RFC 3339 end of validity (exclusive); none for open-ended.
    #[serde(default)]
    pub valid_until: Option<String>,
    /// Also reaches the organization's external members.
    #[serde(default)]
    pub include_external: bool,
}

#[utoipa::path(get, path = "/api/admin/v1/organizations", params(("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Page<Organization>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
async fn list_organizations(req: HttpRequest, state: web::Data<AppState>, q: web::Query<PageQuery>) -> HttpResponse {
    let caller = authorize!(req, state);
    let (offset, limit) = q.bounds();
    let all = match state.db.read(orgs::list_orgs).await {
        Ok(all) => all,
        Err(e) => return store_error(e),
    };
    let visible: Vec<Organization> = all
        .into_iter()
        .filter(|(id, _)| caller.may(id))
        .map(|(id, name)| Organization { id, name })
        .skip(offset as usize)
        .take(limit as usize + 1)
        .collect();
    HttpResponse::Ok().json(page(visible, offset, limit))
}

#[utoipa::path(post, path = "/api/admin/v1/organizations", request_body = NewOrganization,
    responses((status = 201, body = Organization), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn create_organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewOrganization>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    if !matches!(caller, Caller::Platform { .. }) {
        return error(StatusCode::FORBIDDEN, "forbidden", "only platform administrators create organizations");
    }
    match org_service::create_organization(&state.db, &body.name, state.clock.now()).await {
        Ok(id) => HttpResponse::Created().json(Organization { id, name: body.name.trim().to_owned() }),
        Err(e) => org_error(e),
    }
}

fn forbidden_org() -> HttpResponse {
    error(StatusCode::FORBIDDEN, "forbidden", "not an administrator of this organization")
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/members",
    params(("id" = String, Path), ("q" = Option<String>, Query, description = "part of the email"), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Page<Member>), (status = 403, body = ApiError)))]
async fn list_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    let org = path.into_inner();
    if !caller.may(&org) {
        return forbidden_org();
    }
    let (offset, limit) = q.bounds();
    let search: String = q.q.chars().take(100).collect();
    match state.db.read(move |c| orgs::members(c, &org, &search, offset, limit + 1)).await {
        Ok(rows) => HttpResponse::Ok().json(page(
            rows.into_iter().map(|(email, membership, role)| Member { email, membership, role }).collect(),
            offset,
            limit,
        )),
        Err(e) => store_error(e),
    }
}

#[utoipa::path(post, path = "/api/admin/v1/organizations/{id}/members", params(("id" = String, Path)), request_body = NewMember,
    responses((status = 201, body = Member), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
async fn add_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewMember>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    // Organization admins bring people in by invitation; direct adds are for platform administrators.
    if !matches!(caller, Caller::Platform { .. }) {
        return error(StatusCode::FORBIDDEN, "forbidden", "organization administrators add people by invitation");
    }
    let Some(kind) = MembershipKind::parse(&body.membership) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "membership must be internal or external");
    };
    let Some(role) = Role::parse(body.role.as_deref().unwrap_or("member")) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "role must be member or admin");
    };
    match org_service::add_member(&state.db, &path.into_inner(), &body.email, kind, role, state.clock.now()).await {
        Ok(()) => HttpResponse::Created().json(Member {
            email: body.email.trim().to_ascii_lowercase(),
            membership: kind.as_str().into(),
            role: role.as_str().into(),
        }),
        Err(e) => org_error(e),
    }
}

#[utoipa::path(delete, path = "/api/admin/v1/organizations/{id}/members/{email}", params(("id" = String, Path), ("email" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    let (org, email) = path.into_inner();
    if !caller.may(&org) {
        return forbidden_org();
    }
    match org_service::remove_member(&state.db, &org, &email).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => org_error(e),
    }
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/invitations", params(("id" = String, Path)),
    responses((status = 200, body = Page<PendingInvitation>), (status = 403, body = ApiError)))]
async fn list_invitations(req: HttpRequest, state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let caller = authorize!(req, state);
    let org = path.into_inner();
    if !caller.may(&org) {
        return forbidden_org();
    }
    let now = state.clock.now();
    match state.db.read(move |c| invitation_store::pending_for_org(c, &org, now)).await {
        Ok(list) => HttpResponse::Ok().json(Page {
            items: list
                .into_iter()
                .map(|i| PendingInvitation {
                    id: i.id,
                    email: i.email,
                    kind: i.kind.as_str().into(),
                    expires_at: i.expires_at.to_string(),
                })
                .collect::<Vec<_>>(),
            next_offset: None,
        }),
        Err(e) => store_error(e),
    }
}

#[utoipa::path(post, path = "/api/admin/v1/organizations/{id}/invitations", params(("id" = String, Path)), request_body = NewInvitations,
    responses((status = 200, body = InvitationReport), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewInvitations>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    let org = path.into_inner();
    if !caller.may(&org) {
        return forbidden_org();
    }
    let Some(kind) = InvitationKind::parse(&body.kind) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "kind must be internal, external or group");
    };
    if kind == InvitationKind::Group && body.group_id.is_none() {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "group invitations need group_id");
    }
    let origin = Origin {
        ip: crate::http::client_ip(&req, state.config.trust_forwarded_for),
        user_agent: crate::http::user_agent(&req),
    };
    match invitations::send_invitations(
        &state,
        caller.actor(),
        &org,
        kind,
        body.group_id.clone(),
        &body.emails,
        tr(&req),
        origin,
    )
    .await
    {
        Ok(r) => HttpResponse::Ok().json(InvitationReport {
            invited: r.invited,
            invalid: r.invalid.into_iter().map(|(input, reason)| InvalidAddress { input, reason }).collect(),
            duplicates: r.duplicates,
            already_members: r.already_members,
            already_invited: r.already_invited,
        }),
        Err(crate::AppError::NotFound) => error(StatusCode::NOT_FOUND, "not_found", "no such organization or group"),
        Err(crate::AppError::BadRequest) => error(StatusCode::BAD_REQUEST, "invalid_request", "too many addresses"),
        Err(e) => {
            tracing::error!(error = %e, "admin API invite failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
        }
    }
}

#[utoipa::path(delete, path = "/api/admin/v1/organizations/{id}/invitations/{invitation}", params(("id" = String, Path), ("invitation" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn revoke_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    let (org, id) = path.into_inner();
    if !caller.may(&org) {
        return forbidden_org();
    }
    let now = state.clock.now();
    let done = state
        .db
        .write(move |c| match invitation_store::find(c, &id)? {
            Some(inv) if inv.organization_id == org => invitation_store::decide(c, &id, InvitationStatus::Revoked, now),
            _ => Ok(false),
        })
        .await;
    match done {
        Ok(true) => HttpResponse::NoContent().finish(),
        Ok(false) => error(StatusCode::NOT_FOUND, "not_found", "no pending invitation with that id here"),
        Err(e) => store_error(e),
    }
}

#[utoipa::path(post, path = "/api/admin/v1/organizations/{id}/licenses", params(("id" = String, Path)), request_body = NewLicense,
    responses((status = 201), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
async fn grant_license(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewLicense>,
) -> HttpResponse {
    let caller = authorize!(req, state);
    if !matches!(caller, Caller::Platform { .. }) {
        return error(StatusCode::FORBIDDEN, "forbidden", "only platform administrators grant licenses");
    }
    let until = match &body.valid_until {
        None => None,
        Some(t) => match time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
            Ok(t) => Some(t),
            Err(_) => return error(StatusCode::BAD_REQUEST, "invalid_request", "valid_until must be RFC 3339"),
        },
    };
    let to = org_service::LicenseHolder::Organization(path.into_inner());
    match org_service::grant_license(
        &state.db,
        &body.entitlement,
        to,
        body.include_external,
        None,
        until,
        state.clock.now(),
    )
    .await
    {
        Ok(_) => HttpResponse::Created().finish(),
        Err(e) => org_error(e),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tunnus admin API",
        version = "1",
        description = "Organizations, members, invitations and licenses. Bearer access token: client credentials with the `admin` scope, or a platform or organization administrator's token."
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
        grant_license
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
        NewLicense
    ))
)]
struct AdminApiDoc;

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(AdminApiDoc::openapi().to_pretty_json().unwrap_or_default())
}
