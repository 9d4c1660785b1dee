//! Sign-up, sign-in, sign-out and the signed-in home page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tunnus_core::country::Country;
use tunnus_core::profile::SignUpInput;
use tunnus_core::user::SignInRefusal;
use tunnus_core::{Email, Password};

use super::{nav, new_session_cookie, origin, removal_cookie, safe_next, session_cookie, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{self, HomePage, MessagePage, SignInPage, SignOutPage, SignUpPage, SignUpValues, html, html_status};
use crate::services::accounts::{self, SignInError, SignUpOutcome};
use crate::services::sessions;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/login", web::get().to(sign_in_page))
        .route("/login", web::post().to(sign_in))
        .route("/signup", web::get().to(sign_up_page))
        .route("/signup", web::post().to(sign_up))
        .route("/signup/resend", web::post().to(resend))
        .route("/logout", web::get().to(sign_out_page))
        .route("/logout", web::post().to(sign_out));
}

async fn home(req: HttpRequest, state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    let Some((_, user)) = signed_in(&req, &state).await? else {
        return Ok(super::see_other("/login"));
    };
    let tr = tr(&req);
    let intro = tr.t_with("signed-in-intro", &[("name", &user.display_name()), ("email", user.email.as_str())]);
    html(&HomePage { tr, nav: nav(Some(&user), &csrf), intro })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
    login_hint: String,
    /// Set when the relying party asked for a fresh sign-in (prompt=login, max_age).
    reauth: String,
}

async fn sign_in_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(&query.next);
    if query.reauth != "1" && signed_in(&req, &state).await?.is_some() {
        return Ok(super::see_other(next));
    }
    html(&SignInPage {
        tr: tr(&req),
        upstreams: super::upstream::buttons(&state, &tr(&req), &next),
        nav: nav(None, &csrf),
        csrf: csrf.token().to_owned(),
        email: query.login_hint.chars().take(254).collect(),
        next,
        error: None,
        offer_resend: false,
        notice: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    csrf: String,
    email: String,
    password: String,
    next: String,
}

async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let form = form.into_inner();
    let tr = tr(&req);
    let origin = origin(&req, &state);
    let next = safe_next(&form.next);
    let email_shown: String = form.email.trim().chars().take(254).collect();
    match accounts::sign_in(&state, &form.email, Password::new(form.password), origin.clone()).await? {
        Ok(user) => {
            let value =
                sessions::sign_in(&state, session_cookie(&req, &state).as_deref(), &user.id, &["pwd"], &origin).await?;
            let mut response = HttpResponse::SeeOther();
            // The person's preferred language follows them to this browser.
            if let Some(lang) = user.preferred_language.as_deref().and_then(tunnus_i18n::Lang::from_tag) {
                response.cookie(crate::http::context::language_cookie(lang));
            }
            Ok(response.cookie(new_session_cookie(&state, value)).insert_header(("Location", next)).finish())
        }
        Err(failure) => {
            let reveal = state.config.reveal_unknown_accounts;
            let (key, offer_resend) = match failure {
                SignInError::Refused(SignInRefusal::Unverified) if reveal => ("sign-in-unverified", true),
                SignInError::Refused(SignInRefusal::Unverified) => ("sign-in-wrong-or-unverified", true),
                SignInError::Refused(SignInRefusal::Disabled) => ("sign-in-disabled", false),
                SignInError::Refused(SignInRefusal::NoPassword) => ("sign-in-no-password", false),
                // Without revealing, a wrong password reads like an unverified account.
                SignInError::WrongCredentials if !reveal => ("sign-in-wrong-or-unverified", true),
                SignInError::WrongCredentials => ("sign-in-wrong", false),
            };
            html_status(
                StatusCode::UNAUTHORIZED,
                &SignInPage {
                    tr,
                    upstreams: super::upstream::buttons(&state, &tr, &next),
                    nav: nav(None, &csrf),
                    csrf: csrf.token().to_owned(),
                    email: email_shown,
                    next,
                    error: Some(tr.t(key)),
                    offer_resend,
                    notice: None,
                },
            )
        }
    }
}

pub(crate) fn countries() -> Vec<(&'static str, &'static str)> {
    Country::all().into_iter().map(|c| (c.code(), c.name())).collect()
}

fn sign_up_form(req: &HttpRequest, csrf: &Csrf, values: SignUpValues, problems: Vec<String>) -> SignUpPage {
    let tr = tr(req);
    SignUpPage {
        tr,
        nav: nav(None, csrf),
        csrf: csrf.token().to_owned(),
        values,
        problems,
        countries: countries(),
        accept_terms_html: tr.t_with("accept-terms", &[("url", "/legal/terms")]),
        accept_privacy_html: tr.t_with("accept-privacy", &[("url", "/legal/privacy")]),
    }
}

async fn sign_up_page(req: HttpRequest, csrf: Csrf) -> Result<HttpResponse, AppError> {
    html(&sign_up_form(&req, &csrf, SignUpValues::default(), Vec::new()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignUpForm {
    csrf: String,
    email: String,
    given_name: String,
    family_name: String,
    country: String,
    accept_terms: Option<String>,
    accept_privacy: Option<String>,
}

async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<SignUpForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let form = form.into_inner();
    let tr = tr(&req);
    let input = SignUpInput {
        email: form.email.clone(),
        given_name: form.given_name.clone(),
        family_name: form.family_name.clone(),
        country: form.country.clone(),
        accept_terms: form.accept_terms.is_some(),
        accept_privacy: form.accept_privacy.is_some(),
    };
    // What the person typed goes back into the form, bounded.
    let clip = |s: &str| s.chars().take(254).collect::<String>();
    let values = SignUpValues {
        email: clip(&form.email),
        given_name: clip(&form.given_name),
        family_name: clip(&form.family_name),
        country: clip(&form.country),
        accept_terms: input.accept_terms,
        accept_privacy: input.accept_privacy,
    };
    let valid = match input.validate() {
        Ok(valid) => valid,
        Err(problems) => {
            let problems = problems.iter().map(|p| pages::field_problem(&tr, p)).collect();
            return html_status(StatusCode::UNPROCESSABLE_ENTITY, &sign_up_form(&req, &csrf, values, problems));
        }
    };
    let email = valid.email.clone();
    match accounts::sign_up(&state, valid, tr, origin(&req, &state)).await? {
        SignUpOutcome::LinkSent => html(&MessagePage {
            tr,
            nav: nav(None, &csrf),
            title: tr.t("check-email-title"),
            body: tr.t_with(
                "check-email-body",
                &[("email", email.as_str()), ("hours", &state.config.links.set_password_hours.to_string())],
            ),
            link: None,
        }),
        SignUpOutcome::AlreadyRegistered => {
            html_status(StatusCode::CONFLICT, &sign_up_form(&req, &csrf, values, vec![tr.t("already-registered")]))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    pub csrf: String,
    pub email: String,
}

async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let tr = tr(&req);
    let shown: String = form.email.trim().chars().take(254).collect();
    let (status, error, notice) = match Email::parse(&form.email) {
        Ok(email) => {
            accounts::resend_verification(&state, email.clone(), tr, origin(&req, &state)).await?;
            (StatusCode::OK, None, Some(tr.t_with("resend-sent", &[("email", email.as_str())])))
        }
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, Some(tr.t(pages::email_problem_key(&e))), None),
    };
    html_status(
        status,
        &SignInPage {
            tr,
            nav: nav(None, &csrf),
            csrf: csrf.token().to_owned(),
            email: shown,
            next: "/".into(),
            error,
            offer_resend: false,
            notice,
            upstreams: super::upstream::buttons(&state, &tr, "/"),
        },
    )
}

/// The OpenID Connect end-session parameters of a `/logout` request.
const END_SESSION_PARAMS: [&str; 5] = ["id_token_hint", "post_logout_redirect_uri", "state", "client_id", "ui_locales"];

fn end_session_pairs(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.into_iter().filter(|(k, _)| END_SESSION_PARAMS.contains(&k.as_str())).collect()
}

/// `GET /logout`: the hosted sign-out, or RP-initiated logout. With a valid
/// `id_token_hint` for this very session the person is signed out at once;
/// otherwise they are asked first (a stray link must not sign anyone out).
async fn sign_out_page(req: HttpRequest, state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    let tr = tr(&req);
    let pairs = match super::oidc::parse_pairs(req.query_string().as_bytes()) {
        Ok(p) => end_session_pairs(p),
        Err(_) => return Err(AppError::BadRequest),
    };
    let request = match state.provider.end_session_request(pairs.clone()).await {
        Ok(r) => r,
        Err(e) => return logout_error(&req, &csrf, &e),
    };
    let signed = signed_in(&req, &state).await?;
    let Some((session, user)) = signed else {
        return finish_sign_out(&req, &csrf, &request, None);
    };
    let hint_matches = request.hint_sid.as_deref() == Some(session.sid.as_str())
        || (request.hint_sid.is_none() && request.hint_sub.as_deref() == Some(user.id.as_str()));
    if hint_matches {
        sessions::end(&state, session_cookie(&req, &state).as_deref()).await?;
        return finish_sign_out(&req, &csrf, &request, Some(removal_cookie(&state)));
    }
    html(&SignOutPage { tr, nav: nav(Some(&user), &csrf), csrf: csrf.token().to_owned(), params: pairs })
}

fn logout_error(req: &HttpRequest, csrf: &Csrf, e: &tunnus_oidc::OAuthError) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    html_status(
        StatusCode::BAD_REQUEST,
        &MessagePage {
            tr,
            nav: nav(None, csrf),
            title: tr.t("logout-error-title"),
            body: tr.t_with("authorize-error-body", &[("error", e.code.as_str()), ("description", &e.description)]),
            link: None,
        },
    )
}

/// After signing out: back to the relying party if it asked (and is
/// registered for it), or the signed-out page.
fn finish_sign_out(
    req: &HttpRequest,
    csrf: &Csrf,
    request: &tunnus_oidc::logout::EndSession,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, AppError> {
    if let Some(location) = request.redirect() {
        let mut response = super::see_other(location);
        if let Some(c) = cookie {
            response.add_removal_cookie(&c).map_err(|e| AppError::internal(e.to_string()))?;
        }
        return Ok(response);
    }
    signed_out_page(req, csrf, cookie)
}

fn signed_out_page(
    req: &HttpRequest,
    csrf: &Csrf,
    cookie: Option<actix_web::cookie::Cookie<'static>>,
) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    let page = MessagePage {
        tr,
        nav: nav(None, csrf),
        title: tr.t("signed-out-title"),
        body: tr.t("signed-out-body"),
        link: Some(("/login".into(), tr.t("sign-in"))),
    };
    let mut response = html(&page)?;
    if let Some(c) = cookie {
        response.add_removal_cookie(&c).map_err(|e| AppError::internal(e.to_string()))?;
    }
    Ok(response)
}

async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let pairs = form.into_inner();
    let token = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    csrf.verify(token)?;
    let request = match state.provider.end_session_request(end_session_pairs(pairs.clone())).await {
        Ok(r) => r,
        Err(e) => return logout_error(&req, &csrf, &e),
    };
    if let Some(session) = sessions::end(&state, session_cookie(&req, &state).as_deref()).await? {
        tracing::info!(sid = %session.sid, "signed out");
    }
    finish_sign_out(&req, &csrf, &request, Some(removal_cookie(&state)))
}
