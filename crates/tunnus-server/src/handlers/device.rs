//! The device grant's endpoints: `/device_authorization` for the device,
//! and the hosted "enter the code" page for the person.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::oidc::{form_pairs, oauth_error};
use super::{login_redirect, nav, origin, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{DevicePage, MessagePage, html, html_status};
use crate::services::sessions::authenticated;
use crate::services::throttle;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/device_authorization", web::post().to(device_authorization))
        .route("/device", web::get().to(enter_code))
        .route("/device", web::post().to(check_code))
        .route("/device/confirm", web::post().to(confirm));
}

async fn device_authorization(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let pairs = match form_pairs(&req, &body) {
        Ok(p) => p,
        Err(e) => return oauth_error(&e),
    };
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
    match state.provider.device_authorization(authorization.as_deref(), pairs).await {
        Ok(v) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(v),
        Err(e) => oauth_error(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeQuery {
    user_code: String,
}

fn page(
    req: &HttpRequest,
    csrf: &Csrf,
    user: &tunnus_core::User,
    code: String,
    client: Option<(String, Vec<String>)>,
    problem: Option<String>,
) -> DevicePage {
    DevicePage {
        tr: tr(req),
        nav: nav(Some(user), csrf),
        csrf: csrf.token().to_owned(),
        user_code: code,
        client,
        problem,
    }
}

async fn enter_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<CodeQuery>,
) -> Result<HttpResponse, AppError> {
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect(&format!("/device?user_code={}", q.user_code.chars().take(20).collect::<String>())));
    };
    html(&page(&req, &csrf, &user, q.user_code.chars().take(20).collect(), None, None))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    csrf: String,
    user_code: String,
    decision: String,
}

/// Shows which application asks for what; user codes are throttled per address (guessing).
async fn check_code(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((_, user)) = signed_in(&req, &state).await? else { return Err(AppError::Forbidden) };
    throttle::hit(&state, "device-code-ip", &origin(&req, &state).ip, state.config.throttle.sign_in_per_ip).await?;
    let tr = tr(&req);
    let typed: String = form.user_code.chars().take(20).collect();
    match state.provider.device_by_user_code(&typed).await.map_err(|e| AppError::internal(e.to_string()))? {
        Some((_, grant)) => {
            let scopes = grant
                .scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| tr.t(&format!("scope-{}", s.replace('_', "-"))))
                .collect();
            html(&page(&req, &csrf, &user, grant.user_code.clone(), Some((grant.client_name, scopes)), None))
        }
        None => html_status(
            StatusCode::NOT_FOUND,
            &page(&req, &csrf, &user, typed, None, Some(tr.t("device-code-unknown"))),
        ),
    }
}

async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((session, user)) = signed_in(&req, &state).await? else { return Err(AppError::Forbidden) };
    let tr = tr(&req);
    let approve = form.decision == "allow";
    let done = state
        .provider
        .device_decide(&form.user_code, &authenticated(&session), approve)
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    let (status, body) = match (done, approve) {
        (false, _) => (StatusCode::NOT_FOUND, tr.t("device-code-unknown")),
        (true, true) => (StatusCode::OK, tr.t("device-approved")),
        (true, false) => (StatusCode::OK, tr.t("device-denied")),
    };
    html_status(
        status,
        &MessagePage { tr, nav: nav(Some(&user), &csrf), title: tr.t("device-title"), body, link: None },
    )
}
