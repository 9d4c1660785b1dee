//! Organizations, their members, invitations and licenses.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tunnus_core::access::{MembershipKind, Role};
use tunnus_core::invitation::{InvitationKind, InvitationStatus};
use tunnus_store::{invitations as invitation_store, orgs};
use utoipa::ToSchema;

use super::{ApiError, Caller, Page, PageQuery, caller, error, org_error, page, store_error};
use crate::handlers::tr;
use crate::services::audit::Origin;
use crate::services::invitations;
use crate::services::orgs as org_service;
use crate::state::AppState;

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

#[utoipa::path(get, path = "/api/admin/v1/organizations", params(("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Page<Organization>), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub(super) async fn list_organizations(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
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
pub(super) async fn create_organization(
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

pub(super) fn forbidden_org() -> HttpResponse {
    error(StatusCode::FORBIDDEN, "forbidden", "not an administrator of this organization")
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/members",
    params(("id" = String, Path), ("q" = Option<String>, Query, description = "part of the email"), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Page<Member>), (status = 403, body = ApiError)))]
pub(super) async fn list_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> HttpResponse {
    let org = path.into_inner();
    authorize_for!(req, state, org);
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
pub(super) async fn add_member(
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
pub(super) async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (org, email) = path.into_inner();
    authorize_for!(req, state, org);
    match org_service::remove_member(&state.db, &org, &email).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => org_error(e),
    }
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/invitations", params(("id" = String, Path)),
    responses((status = 200, body = Page<PendingInvitation>), (status = 403, body = ApiError)))]
pub(super) async fn list_invitations(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let org = path.into_inner();
    authorize_for!(req, state, org);
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
pub(super) async fn invite(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewInvitations>,
) -> HttpResponse {
    let org = path.into_inner();
    let caller = authorize_for!(req, state, org);
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
pub(super) async fn revoke_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (org, id) = path.into_inner();
    authorize_for!(req, state, org);
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
