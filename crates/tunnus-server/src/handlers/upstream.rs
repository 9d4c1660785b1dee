//! "Sign in with …": the round trip to an upstream identity provider, the
//! "prove it is yours" step when the address already has an identity, and
//! linking / unlinking upstream accounts from the profile.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::{Password, User};

use super::{login_redirect, nav, new_session_cookie, origin, safe_next, session_cookie, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{MessagePage, UpstreamProofPage, html, html_status};
use crate::services::federation::{self, ProofError, SignInOutcome, UnlinkError};
use crate::services::sessions;
use crate::services::upstream::{self, Callback, Purpose, UpstreamError};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/login/upstream/prove", web::post().to(prove_password))
        .route("/login/upstream/prove/email", web::post().to(prove_email))
        .route("/login/upstream/confirm", web::get().to(confirm_email))
        .route("/login/upstream/{id}", web::get().to(start))
        .route("/login/upstream/{id}/callback", web::get().to(callback))
        .route("/profile/upstreams/{id}/link", web::post().to(link))
        .route("/profile/upstreams/{id}/unlink", web::post().to(unlink));
}

/// (href, label) of a "Sign in with …" button per configured upstream.
pub fn buttons(state: &AppState, tr: &tunnus_i18n::Tr, next: &str) -> Vec<(String, String)> {
    state
        .config
        .upstreams
        .iter()
        .map(|u| {
            let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
            (format!("/login/upstream/{}?{q}", u.id), tr.t_with("sign-in-with", &[("provider", &u.name)]))
        })
        .collect()
}

fn message(
    req: &HttpRequest,
    csrf: &Csrf,
    status: StatusCode,
    title: &str,
    body: String,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    html_status(
        status,
        &MessagePage {
            tr,
            nav: nav(None, csrf),
            title: tr.t(title),
            body,
            link: Some(("/login".into(), tr.t("back-to-sign-in"))),
        },
    )
}

/// Every upstream failure is a readable page, never a 500.
fn failure(req: &HttpRequest, csrf: &Csrf, e: UpstreamError) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    let (status, key) = match &e {
        UpstreamError::App(_) => {
            return Err(match e {
                UpstreamError::App(inner) => inner,
                _ => AppError::internal("unreachable"),
            });
        }
        UpstreamError::UnknownProvider => (StatusCode::NOT_FOUND, "upstream-unknown"),
        UpstreamError::Unreachable(_) => (StatusCode::BAD_GATEWAY, "upstream-unreachable"),
        UpstreamError::BadState => (StatusCode::BAD_REQUEST, "upstream-bad-state"),
        UpstreamError::Refused(_) => (StatusCode::FORBIDDEN, "upstream-refused"),
        UpstreamError::Invalid(_) => (StatusCode::BAD_GATEWAY, "upstream-invalid"),
    };
    tracing::warn!(error = %e, "upstream sign-in failed");
    message(req, csrf, status, "upstream-error-title", tr.t(key))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    id: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    match upstream::begin(&state, &id, Purpose::SignIn, safe_next(&q.next), csrf.token()).await {
        Ok(url) => Ok(super::see_other(url)),
        Err(e) => failure(&req, &csrf, e),
    }
}

async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    id: web::Path<String>,
    q: web::Query<Callback>,
) -> Result<HttpResponse, AppError> {
    let finished = match upstream::finish(&state, &id, q.into_inner(), csrf.token()).await {
        Ok(f) => f,
        Err(e) => return failure(&req, &csrf, e),
    };
    let origin = origin(&req, &state);
    let tr = tr(&req);
    match finished.purpose {
        Purpose::Link { user_id } => {
            let signed = signed_in(&req, &state).await?;
            let Some((_, user)) = signed.filter(|(_, u)| u.id.as_str() == user_id) else {
                return Ok(login_redirect("/profile"));
            };
            let p = &finished.person;
            if federation::link(&state, &user.id, &p.provider, &p.subject, p.email.clone(), origin, "session").await? {
                Ok(super::see_other("/profile#linked-accounts"))
            } else {
                message(&req, &csrf, StatusCode::CONFLICT, "upstream-error-title", tr.t("upstream-linked-elsewhere"))
            }
        }
        Purpose::SignIn => match federation::sign_in(&state, finished.person, finished.next.clone(), origin.clone())
            .await?
        {
            SignInOutcome::SignedIn(user) => signed_in_response(&req, &state, &user, &["fed"], &finished.next).await,
            SignInOutcome::Created(user) => {
                // A new identity accepts the terms before anything else.
                let q =
                    url::form_urlencoded::Serializer::new(String::new()).append_pair("next", &finished.next).finish();
                signed_in_response(&req, &state, &user, &["fed"], &format!("/terms/accept?{q}")).await
            }
            SignInOutcome::ProveOwnership { proof, email } => proof_page(&req, &csrf, &proof, &email, None),
            SignInOutcome::UnverifiedEmail => {
                message(&req, &csrf, StatusCode::FORBIDDEN, "upstream-error-title", tr.t("upstream-unverified-email"))
            }
            SignInOutcome::Disabled => {
                message(&req, &csrf, StatusCode::FORBIDDEN, "upstream-error-title", tr.t("sign-in-disabled"))
            }
        },
    }
}

/// Starts the SSO session and goes on to `next`.
async fn signed_in_response(
    req: &HttpRequest,
    state: &AppState,
    user: &User,
    amr: &[&str],
    next: &str,
) -> Result<HttpResponse, AppError> {
    let origin = origin(req, state);
    let value = sessions::sign_in(state, session_cookie(req, state).as_deref(), &user.id, amr, &origin).await?;
    let mut response = HttpResponse::SeeOther();
    if let Some(lang) = user.preferred_language.as_deref().and_then(tunnus_i18n::Lang::from_tag) {
        response.cookie(crate::http::context::language_cookie(lang));
    }
    Ok(response.cookie(new_session_cookie(state, value)).insert_header(("Location", next.to_owned())).finish())
}

fn proof_page(
    req: &HttpRequest,
    csrf: &Csrf,
    proof: &str,
    email: &str,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    html_status(
        status,
        &UpstreamProofPage {
            tr,
            nav: nav(None, csrf),
            csrf: csrf.token().to_owned(),
            proof: proof.to_owned(),
            intro: tr.t_with("upstream-prove-intro", &[("email", email)]),
            error,
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProveForm {
    csrf: String,
    proof: String,
    password: String,
}

async fn prove_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<ProveForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let form = form.into_inner();
    let tr = tr(&req);
    let origin = origin(&req, &state);
    let pending = federation::pending(&state, &form.proof).await?;
    match federation::prove_with_password(&state, &form.proof, Password::new(form.password), origin).await? {
        Ok((user, next)) => signed_in_response(&req, &state, &user, &["pwd", "fed"], &next).await,
        Err(ProofError::Expired) => expired(&req, &csrf),
        Err(problem) => {
            let key = if problem == ProofError::NoPassword { "upstream-prove-no-password" } else { "sign-in-wrong" };
            let email = pending.map(|p| p.email).unwrap_or_default();
            proof_page(&req, &csrf, &form.proof, &email, Some(tr.t(key)))
        }
    }
}

fn expired(req: &HttpRequest, csrf: &Csrf) -> Result<HttpResponse, AppError> {
    message(req, csrf, StatusCode::GONE, "upstream-error-title", tr(req).t("upstream-proof-expired"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProofForm {
    csrf: String,
    proof: String,
}

async fn prove_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<ProofForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let tr = tr(&req);
    if !federation::send_proof_email(&state, &form.proof, tr, origin(&req, &state)).await? {
        return expired(&req, &csrf);
    }
    message(&req, &csrf, StatusCode::OK, "check-email-title", tr.t("upstream-proof-sent"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenQuery {
    token: String,
}

async fn confirm_email(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let tr = tr(&req);
    let Some(provider) = federation::prove_with_email(&state, &q.token, origin(&req, &state)).await? else {
        return expired(&req, &csrf);
    };
    let name = upstream::find(&state, &provider).map_or(provider.clone(), |u| u.name.clone());
    let href = format!("/login/upstream/{provider}");
    html(&MessagePage {
        tr,
        nav: nav(None, &csrf),
        title: tr.t("upstream-linked-title"),
        body: tr.t_with("upstream-linked-body", &[("provider", &name)]),
        link: Some((href, tr.t_with("sign-in-with", &[("provider", &name)]))),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfForm {
    csrf: String,
}

async fn link(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let purpose = Purpose::Link { user_id: user.id.to_string() };
    match upstream::begin(&state, &id, purpose, "/profile".into(), csrf.token()).await {
        Ok(url) => Ok(super::see_other(url)),
        Err(e) => failure(&req, &csrf, e),
    }
}

async fn unlink(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let tr = tr(&req);
    match federation::unlink(&state, &user.id, &id, origin(&req, &state)).await? {
        Ok(()) => Ok(super::see_other("/profile#linked-accounts")),
        Err(UnlinkError::NotLinked) => Err(AppError::NotFound),
        Err(UnlinkError::LastWay) => html_status(
            StatusCode::CONFLICT,
            &MessagePage {
                tr,
                nav: nav(Some(&user), &csrf),
                title: tr.t("upstream-unlink-refused-title"),
                body: tr.t("upstream-unlink-refused-body"),
                link: Some(("/profile".into(), tr.t("back-to-profile"))),
            },
        ),
    }
}
