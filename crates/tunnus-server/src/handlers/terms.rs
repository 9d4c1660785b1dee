//! Accepting a new version of the terms or the privacy policy, asked at the
//! first sign-in (or silent SSO) after it is published; then the original
//! request (`next`) continues.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::terms::TermsDocument;

use super::{login_redirect, nav, origin, safe_next, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{TermsAcceptPage, html_status};
use crate::services::terms;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/terms/accept", web::get().to(page)).route("/terms/accept", web::post().to(accept));
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

fn render(
    req: &HttpRequest,
    csrf: &Csrf,
    user: &tunnus_core::User,
    next: &str,
    due: &[TermsDocument],
    problem: Option<String>,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    let documents = due
        .iter()
        .map(|d| {
            let key = match d.kind {
                tunnus_core::terms::TermsKind::Terms => "terms-accept-terms",
                tunnus_core::terms::TermsKind::Privacy => "terms-accept-privacy",
            };
            (d.kind.as_str().to_owned(), d.version, tr.t_with(key, &[("version", &d.version.to_string())]))
        })
        .collect();
    let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html_status(
        status,
        &TermsAcceptPage {
            tr,
            nav: nav(Some(user), csrf),
            csrf: csrf.token().to_owned(),
            next: next.to_owned(),
            documents,
            problem,
        },
    )
}

async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(&q.next);
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect(&next));
    };
    let due = terms::outstanding(&state, &user).await?;
    if due.is_empty() {
        return Ok(super::see_other(next));
    }
    render(&req, &csrf, &user, &next, &due, None)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AcceptForm {
    csrf: String,
    next: String,
    /// Versions shown on the page (what the person read and ticked).
    terms_version: Option<i32>,
    privacy_version: Option<i32>,
    accept: String,
}

async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let next = safe_next(&form.next);
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect(&next));
    };
    let due = terms::outstanding(&state, &user).await?;
    let shown = |d: &TermsDocument| match d.kind {
        tunnus_core::terms::TermsKind::Terms => form.terms_version == Some(d.version),
        tunnus_core::terms::TermsKind::Privacy => form.privacy_version == Some(d.version),
    };
    if form.accept != "yes" {
        return render(&req, &csrf, &user, &next, &due, Some(tr(&req).t("terms-accept-missing")));
    }
    // A version published while the page was open has not been read yet: show it.
    if !due.iter().all(shown) {
        return render(&req, &csrf, &user, &next, &due, Some(tr(&req).t("terms-accept-changed")));
    }
    terms::accept(&state, &user, due, origin(&req, &state)).await?;
    Ok(super::see_other(next))
}
