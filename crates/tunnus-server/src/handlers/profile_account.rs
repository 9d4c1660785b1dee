//! The account's own weighty actions, each confirmed with the password (or,
//! for an identity without one, a recent sign-in through its upstream):
//! changing the sign-in address (confirmed at the new address), deleting the
//! account, and downloading everything Tunnus holds about the person.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::Password;
use tunnus_core::action::LinkProblem;

use super::profile::{Feedback, show};
use super::{login_redirect, nav, origin, removal_cookie, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{EmailChangePage, MessagePage, email_problem_key, html, html_status};
use crate::services::profile::{self as profile_service, ConfirmProblem, EmailChangeProblem};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/profile/email", web::post().to(request_change))
        .route("/profile/email/confirm", web::get().to(confirm_page))
        .route("/profile/email/confirm", web::post().to(confirm))
        .route("/profile/data", web::get().to(download))
        .route("/profile/delete", web::post().to(delete));
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChangeForm {
    csrf: String,
    new_email: String,
    password: String,
}

async fn request_change(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((session, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let tr = tr(&req);
    let form = form.into_inner();
    let outcome = profile_service::request_email_change(
        &state,
        &user,
        &session,
        &form.new_email,
        Password::new(form.password),
        tr,
        origin(&req, &state),
    )
    .await?;
    let feedback = match outcome {
        Ok(new) => {
            Feedback { notice: Some(tr.t_with("email-change-sent", &[("email", new.as_str())])), ..Feedback::default() }
        }
        Err(problem) => Feedback {
            email_problem: Some(match problem {
                EmailChangeProblem::Invalid(e) => tr.t(email_problem_key(&e)),
                EmailChangeProblem::SameAddress => tr.t("email-change-same"),
                EmailChangeProblem::Taken => tr.t("email-change-taken"),
                EmailChangeProblem::NotConfirmed => tr.t(not_confirmed_key(&user)),
            }),
            ..Feedback::default()
        },
    };
    show(&req, &state, &csrf, &session, &user, feedback).await
}

/// Why a weighty action was not confirmed: a wrong password, or for an
/// identity without one, a sign-in that is not recent.
fn not_confirmed_key(user: &tunnus_core::User) -> &'static str {
    if user.password_hash.is_some() { "password-confirm-wrong" } else { "confirm-sign-in-again" }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenQuery {
    token: String,
}

fn link_problem(
    req: &HttpRequest,
    csrf: &Csrf,
    user: Option<&tunnus_core::User>,
    key: &str,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    html_status(
        StatusCode::GONE,
        &MessagePage {
            tr,
            nav: nav(user, csrf),
            title: tr.t("email-change-title"),
            body: tr.t(key),
            link: Some(("/profile".into(), tr.t("profile-title"))),
        },
    )
}

fn problem_key(p: LinkProblem) -> &'static str {
    match p {
        LinkProblem::Expired => "email-change-link-expired",
        LinkProblem::AlreadyUsed => "email-change-link-used",
        _ => "email-change-link-unknown",
    }
}

/// Opening the link shows what will change; only the button changes it (a
/// mail scanner that follows links must not use them up).
async fn confirm_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let signed = signed_in(&req, &state).await?.map(|(_, u)| u);
    match profile_service::check_email_change(&state, &q.token).await? {
        Err(p) => link_problem(&req, &csrf, signed.as_ref(), problem_key(p)),
        Ok((owner, _)) if signed.as_ref().is_some_and(|s| s.id != owner.id) => {
            link_problem(&req, &csrf, signed.as_ref(), "email-change-other-account")
        }
        Ok((_, new)) => html(&EmailChangePage {
            tr: tr(&req),
            nav: nav(signed.as_ref(), &csrf),
            csrf: csrf.token().to_owned(),
            token: q.token.clone(),
            new_email: new.to_string(),
        }),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfirmForm {
    csrf: String,
    token: String,
}

async fn confirm(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let signed = signed_in(&req, &state).await?.map(|(_, u)| u);
    match profile_service::confirm_email_change(&state, &form.token, signed.as_ref(), origin(&req, &state)).await? {
        Ok(user) => {
            let tr = tr(&req);
            html(&MessagePage {
                tr,
                nav: nav(signed.as_ref().map(|_| &user), &csrf),
                title: tr.t("email-change-title"),
                body: tr.t_with("email-change-done", &[("email", user.email.as_str())]),
                link: Some(if signed.is_some() {
                    ("/profile".into(), tr.t("profile-title"))
                } else {
                    ("/login".into(), tr.t("nav-sign-in"))
                }),
            })
        }
        Err(ConfirmProblem::Link(p)) => link_problem(&req, &csrf, signed.as_ref(), problem_key(p)),
        Err(ConfirmProblem::OtherAccount) => link_problem(&req, &csrf, signed.as_ref(), "email-change-other-account"),
        Err(ConfirmProblem::Taken) => link_problem(&req, &csrf, signed.as_ref(), "email-change-taken"),
    }
}

/// Everything about the person as a JSON download.
async fn download(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let data = profile_service::export(&state, &user).await?;
    let body = serde_json::to_string_pretty(&data).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Content-Disposition", "attachment; filename=\"tunnus-my-data.json\""))
        .body(body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    csrf: String,
    password: String,
    /// The "I understand this cannot be undone" box.
    confirm: String,
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((session, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let tr = tr(&req);
    let form = form.into_inner();
    let refused = |key: &str| Feedback { delete_problem: Some(tr.t(key)), ..Feedback::default() };
    if form.confirm != "yes" {
        return show(&req, &state, &csrf, &session, &user, refused("delete-confirm-missing")).await;
    }
    if !profile_service::delete_account(&state, &user, &session, Password::new(form.password)).await? {
        return show(&req, &state, &csrf, &session, &user, refused(not_confirmed_key(&user))).await;
    }
    let mut response = html(&MessagePage {
        tr,
        nav: nav(None, &csrf),
        title: tr.t("delete-done-title"),
        body: tr.t("delete-done-body"),
        link: Some(("/signup".into(), tr.t("nav-create-account"))),
    })?;
    response.add_removal_cookie(&removal_cookie(&state)).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(response)
}
