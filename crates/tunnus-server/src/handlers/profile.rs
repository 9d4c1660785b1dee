//! The profile page: personal details, the Company and other memberships,
//! groups, licenses, invitations, active sessions, and the way to the
//! account's own actions (address change, data download, deletion — in
//! `profile_account`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::access::MembershipKind;
use tunnus_core::profile::DetailsInput;
use tunnus_core::{User, session::SsoSession};
use tunnus_store::orgs;

use super::{account::countries, login_redirect, nav, origin, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{ProfileDetails, ProfilePage, SessionView, field_problem, html_status};
use crate::services::{invitations, profile as profile_service, sessions, terms};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/profile", web::get().to(profile))
        .route("/profile/details", web::post().to(details))
        .route("/profile/sessions/end", web::post().to(end_session))
        .route("/profile/leave", web::post().to(leave))
        .route("/profile/language", web::post().to(language));
}

/// What the last action on the page left to say.
#[derive(Default)]
pub struct Feedback {
    /// Edited details as typed, with their problems (shown instead of the stored ones).
    pub details: Option<(DetailsInput, Vec<String>)>,
    pub email_problem: Option<String>,
    pub delete_problem: Option<String>,
    /// A confirmation line at the top ("Saved", "Link sent to …").
    pub notice: Option<String>,
}

async fn profile(req: HttpRequest, state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    let Some((session, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    if !terms::outstanding(&state, &user).await?.is_empty() {
        return Ok(super::see_other("/terms/accept?next=/profile"));
    }
    let notice = match req.query_string() {
        "saved=1" => Some(tr(&req).t("profile-saved")),
        "ended=1" => Some(tr(&req).t("profile-session-ended")),
        _ => None,
    };
    show(&req, &state, &csrf, &session, &user, Feedback { notice, ..Feedback::default() }).await
}

/// A short, readable name for a browser from its User-Agent.
fn device_name(user_agent: &str) -> String {
    let browser =
        ["Edg/", "Firefox/", "Chrome/", "Safari/"].iter().find(|m| user_agent.contains(*m)).map(|m| match *m {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        });
    let system =
        [("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("Mac OS", "macOS"), ("Linux", "Linux")]
            .iter()
            .find(|(m, _)| user_agent.contains(m))
            .map(|(_, n)| *n);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} · {s}"),
        (Some(b), None) => b.to_owned(),
        _ => user_agent.chars().take(60).collect(),
    }
}

/// `2026-11-25 14:34 UTC`: minutes are enough to recognise a session.
fn short_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_default()
}

/// Renders the profile page for `user` (whose browser holds `current`).
pub async fn show(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    current: &SsoSession,
    user: &User,
    feedback: Feedback,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    let rights = state.provider.access_rights(user.id.as_str()).await?;
    let uid = user.id.to_string();
    let (facts, administered, platform_admin) = state
        .db
        .read(move |c| {
            Ok((orgs::access_facts(c, &uid)?, orgs::administered_by(c, &uid)?, orgs::is_platform_admin(c, &uid)?))
        })
        .await?;
    let company = facts
        .memberships
        .iter()
        .find(|m| m.kind == MembershipKind::Internal)
        .map(|m| (m.org_id.clone(), m.org_name.clone()));
    let external = facts
        .memberships
        .iter()
        .filter(|m| m.kind == MembershipKind::External)
        .map(|m| (m.org_id.clone(), m.org_name.clone()))
        .collect();
    let invitations =
        invitations::pending_for(state, user).await?.iter().map(|i| super::invitations::view(&tr, i)).collect();
    let (job_title, phone) = profile_service::details(state, user).await?;
    let (linked, linkable) = linked_accounts(state, &tr, user).await?;
    let (values, details_problems) = match feedback.details {
        Some((input, problems)) => (input, problems),
        None => (
            DetailsInput {
                given_name: user.given_name.clone(),
                family_name: user.family_name.clone(),
                country: user.country.code().to_owned(),
                job_title: job_title.unwrap_or_default(),
                phone: phone.unwrap_or_default(),
            },
            Vec::new(),
        ),
    };
    let sessions = sessions::list(state, &user.id)
        .await?
        .into_iter()
        .map(|s| SessionView {
            current: s.sid == current.sid,
            device: match device_name(&s.user_agent) {
                d if d.trim().is_empty() => tr.t("profile-session-unknown"),
                d => d,
            },
            ip: s.ip.clone(),
            last_seen: short_time(s.last_seen),
            last_seen_iso: s.last_seen.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            sid: s.sid,
        })
        .collect();
    let status = if details_problems.is_empty() && feedback.email_problem.is_none() && feedback.delete_problem.is_none()
    {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    html_status(
        status,
        &ProfilePage {
            tr,
            nav: nav(Some(user), csrf),
            csrf: csrf.token().to_owned(),
            name: user.display_name(),
            email: user.email.to_string(),
            details: ProfileDetails {
                given_name: values.given_name,
                family_name: values.family_name,
                country: values.country,
                job_title: values.job_title,
                phone: values.phone,
            },
            countries: countries(),
            details_problems,
            email_problem: feedback.email_problem,
            delete_problem: feedback.delete_problem,
            notice: feedback.notice,
            sessions,
            company,
            external,
            groups: rights.groups.clone(),
            licenses: rights.entitlements.iter().cloned().collect(),
            invitations,
            admin: platform_admin || !administered.is_empty(),
            languages: tunnus_i18n::Lang::ALL
                .iter()
                .map(|l| (l.tag(), tunnus_i18n::Tr::new(*l).t("lang-name")))
                .collect(),
            preferred: user.preferred_language.clone().unwrap_or_else(|| "en".into()),
            linked,
            linkable,
            confirm_by_sign_in: user.password_hash.is_none().then(|| {
                let minutes = tunnus_core::session::RECENT_SIGN_IN.whole_minutes().to_string();
                tr.t_with("confirm-by-sign-in", &[("minutes", &minutes)])
            }),
        },
    )
}

/// The person's linked upstream accounts, and the upstreams they could link.
async fn linked_accounts(
    state: &AppState,
    tr: &tunnus_i18n::Tr,
    user: &User,
) -> Result<(Vec<crate::pages::LinkedView>, Vec<(String, String)>), AppError> {
    let links = crate::services::federation::links(state, &user.id).await?;
    let has_password = user.password_hash.is_some();
    let name_of = |id: &str| crate::services::upstream::find(state, id).map_or(id.to_owned(), |u| u.name.clone());
    let linked = links
        .iter()
        .map(|l| crate::pages::LinkedView {
            provider: l.provider.clone(),
            name: name_of(&l.provider),
            email: l.email.clone().unwrap_or_default(),
            may_unlink: tunnus_core::federation::may_unlink(has_password, links.len()),
        })
        .collect();
    let linkable = state
        .config
        .upstreams
        .iter()
        .filter(|u| !links.iter().any(|l| l.provider == u.id))
        .map(|u| (u.id.clone(), tr.t_with("profile-link", &[("provider", &u.name)])))
        .collect();
    Ok((linked, linkable))
}

fn see_profile(query: &str) -> HttpResponse {
    super::see_other(format!("/profile?{query}"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DetailsForm {
    csrf: String,
    given_name: String,
    family_name: String,
    country: String,
    job_title: String,
    phone: String,
}

async fn details(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<DetailsForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((session, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let form = form.into_inner();
    let input = DetailsInput {
        given_name: form.given_name,
        family_name: form.family_name,
        country: form.country,
        job_title: form.job_title,
        phone: form.phone,
    };
    match profile_service::update_details(&state, &user, &input, origin(&req, &state)).await? {
        Ok(()) => Ok(see_profile("saved=1")),
        Err(problems) => {
            let tr = tr(&req);
            let problems = problems.iter().map(|p| field_problem(&tr, p)).collect();
            show(
                &req,
                &state,
                &csrf,
                &session,
                &user,
                Feedback { details: Some((input, problems)), ..Feedback::default() },
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct EndSessionForm {
    csrf: String,
    /// A session's public id, or `all`: every session, this browser's included.
    sid: String,
}

/// "Sign out" next to a session, or "Sign out everywhere" (`sid=all`).
async fn end_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<EndSessionForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((session, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let origin = origin(&req, &state);
    let (uid, now) = (user.id.to_string(), state.clock.now());
    if form.sid == "all" {
        let ended = sessions::end_all(&state, &user.id).await?;
        let detail = serde_json::json!({ "sessions": ended });
        state
            .db
            .write(move |c| {
                crate::services::audit::record(c, "sessions.ended_everywhere", Some(&uid), &origin, detail, now)
            })
            .await?;
        return Ok(HttpResponse::SeeOther()
            .cookie(super::removal_cookie(&state))
            .insert_header(("Location", "/login"))
            .finish());
    }
    if !sessions::end_by_sid(&state, &user.id, &form.sid).await? {
        return Err(AppError::NotFound);
    }
    let detail = serde_json::json!({ "sid": form.sid });
    state
        .db
        .write(move |c| {
            crate::services::audit::record(c, "session.ended_from_profile", Some(&uid), &origin, detail, now)
        })
        .await?;
    if form.sid == session.sid {
        return Ok(HttpResponse::SeeOther()
            .cookie(super::removal_cookie(&state))
            .insert_header(("Location", "/login"))
            .finish());
    }
    Ok(see_profile("ended=1"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LeaveForm {
    csrf: String,
    org: String,
}

/// Leaving an organization (Company or external): memberships, its groups and
/// its licenses go; the identity stays.
async fn leave(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<LeaveForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let (uid, org, now, origin) = (user.id.to_string(), form.org.clone(), state.clock.now(), origin(&req, &state));
    let left = state
        .db
        .write(move |c| {
            let left = orgs::remove_membership(c, &org, &uid)?;
            if left {
                crate::services::audit::record(
                    c,
                    "organization.left",
                    Some(&uid),
                    &origin,
                    serde_json::json!({"organization": org}),
                    now,
                )?;
            }
            Ok(left)
        })
        .await?;
    if !left {
        return Err(AppError::NotFound);
    }
    Ok(super::see_other("/profile"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LanguageForm {
    csrf: String,
    lang: String,
}

/// The person's language for hosted pages and emails.
async fn language(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(login_redirect("/profile"));
    };
    let lang = tunnus_i18n::Lang::from_tag(&form.lang).ok_or(AppError::BadRequest)?;
    let (id, now) = (user.id.clone(), state.clock.now());
    state.db.write(move |c| tunnus_store::users::set_preferred_language(c, &id, Some(lang.tag()), now)).await?;
    Ok(HttpResponse::SeeOther()
        .cookie(crate::http::context::language_cookie(lang))
        .insert_header(("Location", "/profile"))
        .finish())
}
