//! Thin HTTP handlers: parse input, call one service, pick the page.

pub mod account;
pub mod admin;
pub mod admin_api;
pub mod admin_platform;
pub mod authorize;
pub mod device;
pub mod invitations;
pub mod oidc;
pub mod password;
pub mod profile;
pub mod profile_account;
pub mod system;
pub mod terms;
pub mod upstream;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};
use tunnus_core::User;
use tunnus_core::access::AccessRights;
use tunnus_core::session::SsoSession;
use tunnus_core::terms::TermsDocument;
use tunnus_i18n::Tr;
use tunnus_store::users;

use crate::error::AppError;
use crate::http::context::RequestContext;
use crate::http::csrf::Csrf;
use crate::pages::Nav;
use crate::services::audit::Origin;
use crate::services::sessions;
use crate::state::AppState;

/// The language of this request's pages.
pub fn tr(req: &HttpRequest) -> Tr {
    req.extensions().get::<RequestContext>().map_or(Tr::new(tunnus_i18n::Lang::En), RequestContext::tr)
}

pub fn origin(req: &HttpRequest, state: &AppState) -> Origin {
    Origin {
        ip: crate::http::client_ip(req, state.config.trust_forwarded_for),
        user_agent: crate::http::user_agent(req),
    }
}

pub fn session_cookie(req: &HttpRequest, state: &AppState) -> Option<String> {
    req.cookie(sessions::cookie_name(state.config.secure_cookies())).map(|c| c.value().to_owned())
}

/// The live SSO session the request's cookie names, if any.
async fn current_session(req: &HttpRequest, state: &AppState) -> Result<Option<SsoSession>, AppError> {
    let cookie = session_cookie(req, state);
    sessions::current(state, cookie.as_deref()).await
}

/// The signed-in person, if the session cookie names a live session.
pub async fn signed_in(req: &HttpRequest, state: &AppState) -> Result<Option<(SsoSession, User)>, AppError> {
    let Some(session) = current_session(req, state).await? else {
        return Ok(None);
    };
    let id = session.user_id.clone();
    let user = state
        .db
        .lookup(move |c| Ok(users::find_by_id(c, &id)?.filter(|u| u.status == tunnus_core::UserStatus::Active)))
        .await?;
    Ok(user.map(|user| (session, user)))
}

/// The signed-in person with their access rights now and the terms they
/// have yet to accept: what an authorization decides on. Read from the
/// directory cache when it has the person (see `Provider::active_person_and_terms`).
pub async fn signed_in_with_rights_and_terms(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<(SsoSession, User, AccessRights, Vec<TermsDocument>)>, AppError> {
    let Some(session) = current_session(req, state).await? else {
        return Ok(None);
    };
    let found = state.provider.active_person_and_terms(&session.user_id).await?;
    Ok(found.map(|(user, rights, terms)| (session, user, rights, terms)))
}

pub fn nav(user: Option<&User>, csrf: &Csrf) -> Nav {
    Nav { signed_in_as: user.map(|u| u.email.to_string()), csrf: csrf.token().to_owned() }
}

pub fn new_session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(sessions::cookie_name(state.config.secure_cookies()), value)
        .path("/")
        .http_only(true)
        .secure(state.config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::hours(state.config.sessions.absolute_hours))
        .finish()
}

pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = new_session_cookie(state, String::new());
    c.make_removal();
    c
}

/// To the sign-in page, coming back to `next` afterwards.
pub fn login_redirect(next: &str) -> HttpResponse {
    let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", next).finish();
    see_other(format!("/login?{q}"))
}

/// A 303 to `location`: the answer to a form post, or a hop in a browser flow.
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location.into())).finish()
}

/// Only local paths may follow a sign-in (no open redirect).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 4096
        && !next.chars().any(char::is_control);
    if ok { next.to_owned() } else { "/".to_owned() }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Routes are matched in order: the protocol endpoints that relying
    // parties call thousands of times a second come first.
    oidc::configure(cfg);
    authorize::configure(cfg);
    account::configure(cfg);
    admin::configure(cfg);
    admin_platform::configure(cfg);
    admin_api::configure(cfg);
    device::configure(cfg);
    invitations::configure(cfg);
    password::configure(cfg);
    profile::configure(cfg);
    profile_account::configure(cfg);
    system::configure(cfg);
    terms::configure(cfg);
    upstream::configure(cfg);
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next("/authorize?x=1"), "/authorize?x=1");
        for bad in ["https://evil.example", "//evil.example", "/\\evil", "", "evil", "/a\nb"] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
