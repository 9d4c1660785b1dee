//! Answering invitations: from the emailed link (sign in first, see what is
//! being accepted) or from the profile page's list.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::invitation::{InvitationKind, InvitationStatus};
use tunnus_store::invitations::Invitation;
use tunnus_store::orgs;

use super::{login_redirect, nav, origin, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{InvitationPage, InvitationView, MessagePage, html, html_status};
use crate::services::invitations::{self, Answer};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/invite", web::get().to(invitation_link)).route("/invite/answer", web::post().to(answer));
}

pub(super) fn view(tr: &tunnus_i18n::Tr, inv: &Invitation) -> InvitationView {
    let org = inv.organization_name.as_str();
    let text = match inv.kind {
        InvitationKind::Internal => tr.t_with("invitation-internal", &[("org", org)]),
        InvitationKind::External => tr.t_with("invitation-external", &[("org", org)]),
        InvitationKind::Group => {
            tr.t_with("invitation-group", &[("org", org), ("group", inv.group_name.as_deref().unwrap_or(""))])
        }
    };
    InvitationView { id: inv.id.clone(), title: tr.t_with("invitation-title", &[("org", org)]), text }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenQuery {
    token: String,
}

fn status_text(tr: &tunnus_i18n::Tr, s: InvitationStatus) -> String {
    tr.t(match s {
        InvitationStatus::Expired => "invitation-status-expired",
        InvitationStatus::Accepted => "invitation-status-accepted",
        InvitationStatus::Declined => "invitation-status-declined",
        InvitationStatus::Revoked | InvitationStatus::Pending => "invitation-status-revoked",
    })
}

/// The emailed link: sign in first, then see what is being accepted.
async fn invitation_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(inv) = invitations::by_token(&state, &q.token).await? else {
        return Err(AppError::NotFound);
    };
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect(&format!("/invite?token={}", q.token)));
    };
    let tr = tr(&req);
    if inv.email != user.email.as_str() {
        let body = tr.t_with("invitation-wrong-account", &[("invited", &inv.email), ("current", user.email.as_str())]);
        return message(
            &req,
            &csrf,
            &user,
            StatusCode::FORBIDDEN,
            tr.t_with("invitation-title", &[("org", &inv.organization_name)]),
            body,
        );
    }
    let status = invitations::status_now(&inv, state.clock.now());
    if status != InvitationStatus::Pending {
        let body = tr.t_with("invitation-unusable", &[("status", &status_text(&tr, status))]);
        return message(
            &req,
            &csrf,
            &user,
            StatusCode::GONE,
            tr.t_with("invitation-title", &[("org", &inv.organization_name)]),
            body,
        );
    }
    let uid = user.id.to_string();
    let current = state.db.read(move |c| orgs::internal_org_of(c, &uid)).await?;
    let leaving =
        current.filter(|(id, _)| inv.kind == InvitationKind::Internal && *id != inv.organization_id).map(|(_, n)| n);
    html(&InvitationPage {
        tr,
        nav: nav(Some(&user), &csrf),
        csrf: csrf.token().to_owned(),
        invitation: view(&tr, &inv),
        leave_warning: leaving.as_ref().map(|n| tr.t_with("invitation-leave-warning", &[("current", n)])),
        confirm_label: leaving
            .as_ref()
            .map(|n| tr.t_with("invitation-confirm-leave", &[("current", n)]))
            .unwrap_or_default(),
        problem: None,
    })
}

fn message(
    req: &HttpRequest,
    csrf: &Csrf,
    user: &tunnus_core::User,
    status: StatusCode,
    title: String,
    body: String,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    html_status(
        status,
        &MessagePage {
            tr,
            nav: nav(Some(user), csrf),
            title,
            body,
            link: Some(("/profile".into(), tr.t("profile-title"))),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AnswerForm {
    csrf: String,
    id: String,
    decision: String,
    confirm_leave: Option<String>,
}

async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<AnswerForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let tr = tr(&req);
    let accept = form.decision == "accept";
    let (outcome, inv) =
        invitations::answer(&state, &user, &form.id, accept, form.confirm_leave.is_some(), origin(&req, &state))
            .await?;
    let org = inv.as_ref().map(|i| i.organization_name.clone()).unwrap_or_default();
    let title = tr.t_with("invitation-title", &[("org", &org)]);
    match outcome {
        Answer::Accepted => {
            message(&req, &csrf, &user, StatusCode::OK, title, tr.t_with("invitation-accepted", &[("org", &org)]))
        }
        Answer::Declined => {
            message(&req, &csrf, &user, StatusCode::OK, title, tr.t_with("invitation-declined", &[("org", &org)]))
        }
        Answer::WrongAccount => {
            let invited = inv.map(|i| i.email).unwrap_or_default();
            let body =
                tr.t_with("invitation-wrong-account", &[("invited", &invited), ("current", user.email.as_str())]);
            message(&req, &csrf, &user, StatusCode::FORBIDDEN, title, body)
        }
        Answer::Unusable(status) => {
            let body = tr.t_with("invitation-unusable", &[("status", &status_text(&tr, status))]);
            message(&req, &csrf, &user, StatusCode::GONE, title, body)
        }
        Answer::MustConfirmLeaving(current) => {
            let Some(inv) = inv else { return Err(AppError::NotFound) };
            html_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &InvitationPage {
                    tr,
                    nav: nav(Some(&user), &csrf),
                    csrf: csrf.token().to_owned(),
                    invitation: view(&tr, &inv),
                    leave_warning: Some(tr.t_with("invitation-leave-warning", &[("current", &current)])),
                    confirm_label: tr.t_with("invitation-confirm-leave", &[("current", &current)]),
                    problem: Some(tr.t_with("invitation-must-confirm", &[("current", &current)])),
                },
            )
        }
    }
}
