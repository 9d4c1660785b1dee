//! OIDC clients, read-only, for platform administrators: registration
//! stays with `tunnus client …` (secrets are shown once, at the terminal).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, Caller, caller, error, store_error};
use crate::state::AppState;

/// A registered client, without any secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientSummary {
    pub client_id: String,
    pub name: String,
    /// `confidential` or `public`.
    pub kind: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub first_party: bool,
    pub required_entitlement: Option<String>,
    /// Whether people who sign in only through an upstream provider (no password) are let in.
    pub accepts_federated_only: bool,
}

impl From<&tunnus_core::client::Client> for ClientSummary {
    fn from(c: &tunnus_core::client::Client) -> Self {
        Self {
            client_id: c.id.to_string(),
            name: c.name.clone(),
            kind: c.kind.as_str().to_owned(),
            redirect_uris: c.redirect_uris.clone(),
            grant_types: c.grant_types.iter().map(|g| g.as_str().to_owned()).collect(),
            first_party: c.first_party,
            required_entitlement: c.required_entitlement.clone(),
            accepts_federated_only: c.accepts_federated_only,
        }
    }
}

#[utoipa::path(get, path = "/api/admin/v1/clients",
    responses((status = 200, body = Vec<ClientSummary>), (status = 403, body = ApiError)))]
pub(super) async fn list_clients(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let caller = authorize!(req, state);
    if !matches!(caller, Caller::Platform { .. }) {
        return error(StatusCode::FORBIDDEN, "forbidden", "only platform administrators see clients");
    }
    match state.db.read(tunnus_store::clients::list).await {
        Ok(clients) => HttpResponse::Ok().json(clients.iter().map(ClientSummary::from).collect::<Vec<_>>()),
        Err(e) => store_error(e),
    }
}
