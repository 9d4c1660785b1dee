//! The authorization endpoint in the browser: validate the request, keep
//! it while the person signs in or consents, then send them back to the
//! relying party with a code. With a live session and nothing to ask, no
//! page is shown at all — that is single sign-on.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tunnus_core::SecretToken;
use tunnus_oidc::authorize::{AuthorizationResponse, AuthorizeError, Decision, ResponseMode};

use super::oidc::{form_pairs, parse_pairs};
use super::{nav, signed_in, signed_in_with_rights_and_terms, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{AccessDeniedPage, ConsentPage, FormPostPage, MessagePage, html, html_status, render};
use crate::services::sessions::authenticated;
use crate::state::AppState;

/// How long a person has to sign in or consent before the request is forgotten.
const PENDING_TTL: Duration = Duration::from_secs(30 * 60);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/authorize", web::get().to(authorize_get))
        .route("/authorize", web::post().to(authorize_post))
        .route("/authorize/continue", web::get().to(resume))
        .route("/authorize/consent", web::post().to(consent));
}

/// A request waiting for the person.
#[derive(Serialize, Deserialize)]
struct Pending {
    params: Vec<(String, String)>,
    /// When the request arrived: a sign-in after this is "fresh" (prompt=login, max_age).
    created_at: i64,
}

fn pending_key(id: &str) -> String {
    format!("authz:{}", tunnus_core::TokenHash::of(id).as_str())
}

/// Where a request is while it is being decided: just arrived (not stored:
/// with a live session and nothing to ask, it never needs to be), or
/// stored under `id` because the person was shown a page.
enum Waiting {
    New(Pending),
    Stored { id: String, pending: Pending },
}

impl Waiting {
    fn pending(&self) -> &Pending {
        match self {
            Self::New(p) | Self::Stored { pending: p, .. } => p,
        }
    }

    /// The id to come back with, storing the request first if it is new.
    async fn keep(&self, state: &AppState) -> Result<String, AppError> {
        match self {
            Self::Stored { id, .. } => Ok(id.clone()),
            Self::New(pending) => {
                let id = SecretToken::generate(&mut rand::rng()).expose().to_owned();
                let value = serde_json::to_string(pending).map_err(|e| AppError::internal(e.to_string()))?;
                state.ephemeral.put(&pending_key(&id), &value, PENDING_TTL).await?;
                Ok(id)
            }
        }
    }

    /// The request is answered: it cannot be resumed again.
    async fn forget(&self, state: &AppState) -> Result<(), AppError> {
        match self {
            Self::Stored { id, .. } => Ok(state.ephemeral.delete(&pending_key(id)).await?),
            Self::New(_) => Ok(()),
        }
    }
}

async fn authorize_get(req: HttpRequest, state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    let pairs = match parse_pairs(req.query_string().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(&req, &csrf, &e),
    };
    start(req, state, csrf, pairs).await
}

async fn authorize_post(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let pairs = match form_pairs(&req, &body) {
        Ok(p) => p,
        Err(e) => return error_page(&req, &csrf, &e),
    };
    start(req, state, csrf, pairs).await
}

async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, AppError> {
    // Validate first: a bad request is answered now, not after a sign-in.
    let request = match state.provider.parse_authorization(pairs.clone()).await {
        Ok(r) => r,
        Err(e) => return authorize_error(&req, &csrf, e),
    };
    let pending = Pending { params: pairs, created_at: state.clock.now().unix_timestamp() };
    proceed(&req, &state, &csrf, Waiting::New(pending), request, false).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResumeQuery {
    id: String,
}

async fn resume(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    q: web::Query<ResumeQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(pending) = load(&state, &q.id).await? else {
        return expired(&req, &csrf);
    };
    let request = match state.provider.parse_authorization(pending.params.clone()).await {
        Ok(r) => r,
        Err(e) => return authorize_error(&req, &csrf, e),
    };
    proceed(&req, &state, &csrf, Waiting::Stored { id: q.id.clone(), pending }, request, false).await
}

async fn load(state: &AppState, id: &str) -> Result<Option<Pending>, AppError> {
    if SecretToken::from_presented(id).is_none() {
        return Ok(None);
    }
    let raw = state.ephemeral.get(&pending_key(id)).await?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

/// Decides what the (validated) request needs and does it.
async fn proceed(
    req: &HttpRequest,
    state: &AppState,
    csrf: &Csrf,
    waiting: Waiting,
    request: tunnus_oidc::authorize::AuthorizationRequest,
    consent_given: bool,
) -> Result<HttpResponse, AppError> {
    // The person, the terms they still have to accept and the facts their
    // access rights follow from (from the directory cache when it has them).
    // The rights are evaluated now, at every authorization, silent SSO
    // included; a code carries them.
    let found = signed_in_with_rights_and_terms(req, state).await?;
    let (signed, outstanding_terms) = match found {
        Some((session, user, rights, terms)) => (Some((session, user, rights)), terms),
        None => (None, Vec::new()),
    };
    let session = signed.as_ref().map(|(s, _, _)| authenticated(s));
    let fresh = session.as_ref().is_some_and(|s| s.auth_time.unix_timestamp() >= waiting.pending().created_at);
    let person = session.as_ref().zip(signed.as_ref()).map(|(s, (_, user, rights))| (s, user, rights));
    let decision = match state.provider.decide(&request, person, fresh, consent_given).await {
        Ok(d) => d,
        Err(e) => return authorize_error(req, csrf, e),
    };
    // New terms or privacy versions are accepted before any service is
    // entered — silent SSO included; the request resumes afterwards.
    if let (Decision::Consent(_) | Decision::Issue, Some(_)) = (&decision, &signed)
        && !outstanding_terms.is_empty()
    {
        if request.prompt.none {
            waiting.forget(state).await?;
            return respond(&state.provider.interaction_required(&request, "new terms must be accepted"));
        }
        let next = format!("/authorize/continue?id={}", waiting.keep(state).await?);
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", &next).finish();
        return Ok(super::see_other(format!("/terms/accept?{q}")));
    }
    match decision {
        Decision::Login => {
            let next = format!("/authorize/continue?id={}", waiting.keep(state).await?);
            let mut login = url::form_urlencoded::Serializer::new(String::new());
            login.append_pair("next", &next);
            if let Some(hint) = request.login_hint.as_deref().or(signed.as_ref().map(|(_, u, _)| u.email.as_str())) {
                login.append_pair("login_hint", hint);
            }
            if let Some(locales) = &request.ui_locales {
                login.append_pair("ui_locales", locales);
            }
            if request.prompt.login || request.prompt.select_account || request.max_age.is_some() {
                login.append_pair("reauth", "1");
            }
            Ok(super::see_other(format!("/login?{}", login.finish())))
        }
        Decision::Consent(scopes) => {
            let tr = tr(req);
            let user = signed.as_ref().map(|(_, u, _)| u);
            let items = scopes.iter().map(|s| tr.t(&format!("scope-{}", s.replace('_', "-")))).collect();
            html(&ConsentPage {
                tr,
                nav: nav(user, csrf),
                csrf: csrf.token().to_owned(),
                id: waiting.keep(state).await?,
                client_name: request.client.name.clone(),
                scopes: items,
            })
        }
        Decision::AccessDenied { entitlement, granters } => {
            let tr = tr(req);
            waiting.forget(state).await?;
            let back = state.provider.denied(&request, &format!("the {entitlement} entitlement is required"));
            let client = request.client.name.clone();
            let who = if granters.is_empty() {
                tr.t("access-missing-no-admins")
            } else {
                tr.t_with("access-missing-admins", &[("admins", &granters.join(", "))])
            };
            Ok(HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(render(&AccessDeniedPage {
                tr,
                nav: nav(signed.as_ref().map(|(_, u, _)| u), csrf),
                title: tr.t_with("access-missing-title", &[("client", &client)]),
                body: tr.t_with("access-missing-body", &[("client", &client), ("entitlement", &entitlement)]),
                who,
                remedy: None,
                back_label: tr.t_with("access-missing-back", &[("client", &client)]),
                back_action: back.redirect_uri.clone(),
                back_fields: back.fields.clone(),
                back_link: (back.mode == ResponseMode::Query).then(|| back.location()),
            })?))
        }
        Decision::FederatedOnlyRefused => {
            let tr = tr(req);
            waiting.forget(state).await?;
            let back = state.provider.denied(&request, "the service needs a password of the person's own");
            let client = request.client.name.clone();
            Ok(HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(render(&AccessDeniedPage {
                tr,
                nav: nav(signed.as_ref().map(|(_, u, _)| u), csrf),
                title: tr.t_with("federated-refused-title", &[("client", &client)]),
                body: tr.t_with("federated-refused-body", &[("client", &client)]),
                who: tr.t("federated-refused-remedy"),
                remedy: Some(("/password/forgot".into(), tr.t("forgot-password-link"))),
                back_label: tr.t_with("access-missing-back", &[("client", &client)]),
                back_action: back.redirect_uri.clone(),
                back_fields: back.fields.clone(),
                back_link: (back.mode == ResponseMode::Query).then(|| back.location()),
            })?))
        }
        Decision::Issue => {
            let (Some(session), Some((_, user, rights))) = (session, &signed) else {
                return Err(AppError::internal("issue without a session"));
            };
            let response = state
                .provider
                .issue_code(&request, &session, user, rights)
                .await
                .map_err(|e| AppError::internal(e.to_string()))?;
            waiting.forget(state).await?;
            respond(&response)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConsentForm {
    csrf: String,
    id: String,
    decision: String,
}

async fn consent(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, AppError> {
    csrf.verify(&form.csrf)?;
    let Some(pending) = load(&state, &form.id).await? else {
        return expired(&req, &csrf);
    };
    let request = match state.provider.parse_authorization(pending.params.clone()).await {
        Ok(r) => r,
        Err(e) => return authorize_error(&req, &csrf, e),
    };
    let waiting = Waiting::Stored { id: form.id.clone(), pending };
    let Some((session, _)) = signed_in(&req, &state).await? else {
        return proceed(&req, &state, &csrf, waiting, request, false).await;
    };
    if form.decision != "allow" {
        waiting.forget(&state).await?;
        return respond(&state.provider.denied(&request, "the person did not allow access"));
    }
    state.provider.grant_consent(&request, &session.user_id).await.map_err(|e| AppError::internal(e.to_string()))?;
    proceed(&req, &state, &csrf, waiting, request, true).await
}

/// Sends the browser back to the client: a redirect, or a self-submitting form.
fn respond(response: &AuthorizationResponse) -> Result<HttpResponse, AppError> {
    match response.mode {
        ResponseMode::Query => Ok(super::see_other(response.location())),
        ResponseMode::FormPost => {
            let origin =
                url::Url::parse(&response.redirect_uri).map(|u| u.origin().ascii_serialization()).unwrap_or_default();
            let page = FormPostPage { action: response.redirect_uri.clone(), fields: response.fields.clone() };
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((
                    "Content-Security-Policy",
                    format!("default-src 'none'; script-src 'self'; style-src 'self'; form-action {origin}; frame-ancestors 'none'"),
                ))
                .body(render(&page)?))
        }
    }
}

fn authorize_error(req: &HttpRequest, csrf: &Csrf, e: AuthorizeError) -> Result<HttpResponse, AppError> {
    match e {
        AuthorizeError::Redirect(response) => respond(&response),
        AuthorizeError::Page(e) => error_page(req, csrf, &e),
    }
}

/// An error that must not go to the redirect URI: shown to the person.
fn error_page(req: &HttpRequest, csrf: &Csrf, e: &tunnus_oidc::OAuthError) -> Result<HttpResponse, AppError> {
    if e.code == tunnus_oidc::ErrorCode::TemporarilyUnavailable {
        return Err(AppError::Unavailable(e.description.clone()));
    }
    let tr = tr(req);
    html_status(
        StatusCode::BAD_REQUEST,
        &MessagePage {
            tr,
            nav: nav(None, csrf),
            title: tr.t("authorize-error-title"),
            body: tr.t_with("authorize-error-body", &[("error", e.code.as_str()), ("description", &e.description)]),
            link: None,
        },
    )
}

fn expired(req: &HttpRequest, csrf: &Csrf) -> Result<HttpResponse, AppError> {
    let tr = tr(req);
    html_status(
        StatusCode::GONE,
        &MessagePage {
            tr,
            nav: nav(None, csrf),
            title: tr.t("authorize-expired-title"),
            body: tr.t("authorize-expired-body"),
            link: None,
        },
    )
}
