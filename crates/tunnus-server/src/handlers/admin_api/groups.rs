//! Groups of an organization. People join a group by invitation (the
//! `group` kind of `POST …/invitations`); admins list, create and remove.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tunnus_store::orgs;
use utoipa::ToSchema;

use super::organizations::forbidden_org;
use super::{ApiError, caller, error, org_error, store_error};
use crate::services::orgs as org_service;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewGroup {
    pub name: String,
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/groups", params(("id" = String, Path)),
    responses((status = 200, body = Vec<Group>), (status = 403, body = ApiError)))]
pub(super) async fn list_groups(req: HttpRequest, state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let org = path.into_inner();
    authorize_for!(req, state, org);
    match state.db.read(move |c| orgs::groups_of(c, &org)).await {
        Ok(rows) => HttpResponse::Ok().json(rows.into_iter().map(|(id, name)| Group { id, name }).collect::<Vec<_>>()),
        Err(e) => store_error(e),
    }
}

#[utoipa::path(post, path = "/api/admin/v1/organizations/{id}/groups", params(("id" = String, Path)), request_body = NewGroup,
    responses((status = 201, body = Group), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 409, body = ApiError)))]
pub(super) async fn create_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NewGroup>,
) -> HttpResponse {
    let org = path.into_inner();
    authorize_for!(req, state, org);
    match org_service::create_group(&state.db, &org, &body.name, state.clock.now()).await {
        Ok(id) => HttpResponse::Created().json(Group { id, name: body.name.trim().to_owned() }),
        Err(e) => org_error(e),
    }
}

#[utoipa::path(get, path = "/api/admin/v1/organizations/{id}/groups/{group}/members",
    params(("id" = String, Path), ("group" = String, Path, description = "the group's id")),
    responses((status = 200, body = Vec<String>), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn list_group_members(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (org, group) = path.into_inner();
    authorize_for!(req, state, org);
    match org_service::group_members(&state.db, &org, &group).await {
        Ok((_, emails)) => HttpResponse::Ok().json(emails),
        Err(e) => org_error(e),
    }
}

#[utoipa::path(delete, path = "/api/admin/v1/organizations/{id}/groups/{group}/members/{email}",
    params(("id" = String, Path), ("group" = String, Path), ("email" = String, Path)),
    responses((status = 204), (status = 403, body = ApiError), (status = 404, body = ApiError)))]
pub(super) async fn remove_group_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (org, group, email) = path.into_inner();
    authorize_for!(req, state, org);
    match org_service::remove_from_group(&state.db, &org, &group, &email).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(org_service::OrgError::Invalid(m)) => error(StatusCode::BAD_REQUEST, "invalid_request", m),
        Err(e) => org_error(e),
    }
}
