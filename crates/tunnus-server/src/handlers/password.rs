//! Forgot password, and the Set your password page behind emailed links.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::action::{ActionPurpose, LinkProblem};
use tunnus_core::{Email, Password};

use super::account::EmailForm;
use super::{nav, new_session_cookie, origin, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{self, ForgotPage, MessagePage, SetPasswordPage, html, html_status};
use crate::services::accounts::{self, ForgotOutcome, SetPasswordError};
use crate::services::sessions;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/password/forgot", web::get().to(forgot_page))
        .route("/password/forgot", web::post().to(forgot))
        .route("/password/set", web::get().to(|r, s, c, q| link_page(r, s, c, q, ActionPurpose::SetPassword)))
        .route("/password/set", web::post().to(|r, s, c, f| set(r, s, c, f, ActionPurpose::SetPassword)))
        .route("/password/reset", web::get().to(|r, s, c, q| link_page(r, s, c, q, ActionPurpose::ResetPassword)))
        .route("/password/reset", web::post().to(|r, s, c, f| set(r, s, c, f, ActionPurpose::ResetPassword)));
}

fn forgot_form(
    req: &HttpRequest,
    csrf: &Csrf,
    email: String,
    error: Option<String>,
    offer_sign_up: bool,
) -> ForgotPage {
    ForgotPage { tr: tr(req), nav: nav(None, csrf), csrf: csrf.token().to_owned(), email, error, offer_sign_up }
}

async fn forgot_page(req: HttpRequest, csrf: Csrf) -> Result<HttpResponse, AppError> {
    html(&forgot_form(&req, &csrf, String::new(), None, false))
}

async fn forgot(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let tr = tr(&req);
    let shown: String = form.email.trim().chars().take(254).collect();
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(e) => {
            let error = Some(tr.t(pages::email_problem_key(&e)));
            return html_status(StatusCode::UNPROCESSABLE_ENTITY, &forgot_form(&req, &csrf, shown, error, false));
        }
    };
    let reveal = state.config.reveal_unknown_accounts;
    let outcome = accounts::forgot_password(&state, email.clone(), tr, origin(&req, &state)).await?;
    let body = match outcome {
        ForgotOutcome::UnknownAccount if reveal => {
            let error = Some(tr.t("forgot-unknown"));
            return html_status(StatusCode::NOT_FOUND, &forgot_form(&req, &csrf, shown, error, true));
        }
        ForgotOutcome::Sent if reveal => tr.t_with("forgot-sent", &[("email", email.as_str())]),
        _ => tr.t_with("forgot-sent-generic", &[("email", email.as_str())]),
    };
    html(&MessagePage {
        tr,
        nav: nav(None, &csrf),
        title: tr.t("check-email-title"),
        body,
        link: Some(("/login".into(), tr.t("back-to-sign-in"))),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

fn link_invalid(req: &HttpRequest, csrf: &Csrf, problem: LinkProblem) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    let status = match problem {
        LinkProblem::Unknown => StatusCode::NOT_FOUND,
        LinkProblem::Expired | LinkProblem::AlreadyUsed => StatusCode::GONE,
    };
    html_status(
        status,
        &MessagePage {
            tr,
            nav: nav(None, csrf),
            title: tr.t("link-invalid-title"),
            body: pages::link_problem(&tr, problem),
            link: Some(("/password/forgot".into(), tr.t("request-new-link"))),
        },
    )
}

fn set_form(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    purpose: ActionPurpose,
    token: &str,
    email: &str,
    problems: Vec<String>,
) -> SetPasswordPage {
    let tr = tr(req);
    SetPasswordPage {
        tr,
        nav: nav(None, csrf),
        csrf: csrf.token().to_owned(),
        action: crate::services::accounts::link_path(purpose),
        token: token.to_owned(),
        intro: tr.t_with("set-password-intro", &[("email", email)]),
        rules: state.config.password_policy.rules().iter().map(|r| pages::password_rule(&tr, r)).collect(),
        problems,
    }
}

/// Opening the link only shows the form: link scanners in mailboxes must not use it up.
async fn link_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    query: web::Query<TokenQuery>,
    purpose: ActionPurpose,
) -> Result<HttpResponse, AppError> {
    match accounts::check_link(&state, &query.token, purpose).await? {
        Ok(user) => html(&set_form(&req, &state, &csrf, purpose, &query.token, user.email.as_str(), Vec::new())),
        Err(problem) => link_invalid(&req, &csrf, problem),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetPasswordForm {
    csrf: String,
    token: String,
    password: String,
    confirm: String,
}

async fn set(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<SetPasswordForm>,
    purpose: ActionPurpose,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let form = form.into_inner();
    let tr = tr(&req);
    let origin = origin(&req, &state);
    let confirm = Password::new(form.confirm);
    match accounts::set_password(&state, &form.token, purpose, Password::new(form.password), &confirm, origin.clone())
        .await?
    {
        Ok(user) => {
            let value = sessions::create(&state, &user.id, &["pwd"], &origin).await?;
            Ok(HttpResponse::SeeOther()
                .cookie(new_session_cookie(&state, value))
                .insert_header(("Location", "/"))
                .finish())
        }
        Err(SetPasswordError::Link(problem)) => link_invalid(&req, &csrf, problem),
        Err(error) => {
            let problems = match error {
                SetPasswordError::Mismatch => vec![tr.t("password-mismatch")],
                SetPasswordError::Policy(v) => v.iter().map(|v| pages::password_violation(&tr, v)).collect(),
                SetPasswordError::Link(_) => Vec::new(),
            };
            let email = match accounts::check_link(&state, &form.token, purpose).await? {
                Ok(user) => user.email.to_string(),
                Err(problem) => return link_invalid(&req, &csrf, problem),
            };
            html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &set_form(&req, &state, &csrf, purpose, &form.token, &email, problems),
            )
        }
    }
}
