//! The HTTP routes of one demo service: `/`, `/login`, `/callback`, `/logout`,
//! `/backchannel-logout` and `/status.json`, over the shared [`ServiceState`].

use std::collections::HashMap;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use url::form_urlencoded;

use crate::config::DemoService;
use crate::oidc_client::OidcClient;
use crate::pages::{self, PageError};
use crate::store::{PENDING_TTL, PendingLogin, Session, Store, random_id};

/// Everything the routes of one service share.
pub struct ServiceState {
    /// The service's configuration.
    pub service: DemoService,
    /// Its OpenID Connect client.
    pub oidc: OidcClient,
    /// Its sessions and pending sign-ins.
    pub store: Store,
    secure_cookies: bool,
}

impl ServiceState {
    /// State for `service`, talking to `oidc`.
    pub fn new(service: DemoService, oidc: OidcClient) -> Self {
        let secure_cookies = service.public_url.starts_with("https://");
        Self { service, oidc, store: Store::default(), secure_cookies }
    }

    fn session_cookie_name(&self) -> String {
        format!("{}_session", self.service.slug)
    }

    fn login_cookie_name(&self) -> String {
        format!("{}_login", self.service.slug)
    }

    fn cookie(&self, name: String, value: String, max_age: Option<CookieDuration>) -> Cookie<'static> {
        let mut builder =
            Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Lax).secure(self.secure_cookies);
        if let Some(max_age) = max_age {
            builder = builder.max_age(max_age);
        }
        builder.finish()
    }

    fn removal_cookie(&self, name: String) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new(), None);
        cookie.make_removal();
        cookie
    }
}

/// Registers the routes on an actix `App`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home))
        .route("/login", web::get().to(login))
        .route("/callback", web::get().to(callback))
        .route("/logout", web::post().to(logout))
        .route("/backchannel-logout", web::post().to(backchannel_logout))
        .route("/status.json", web::get().to(status));
}

fn query_map(req: &HttpRequest) -> HashMap<String, String> {
    form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect()
}

fn see_other(location: &str) -> HttpResponseBuilder {
    let mut builder = HttpResponse::SeeOther();
    builder.insert_header((header::LOCATION, location.to_owned())).insert_header((header::CACHE_CONTROL, "no-store"));
    builder
}

/// `/?error=...&error_description=...`
fn home_with_error(code: &str, description: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", code);
    if let Some(description) = description {
        query.append_pair("error_description", description);
    }
    format!("/?{}", query.finish())
}

fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

fn json(mut builder: HttpResponseBuilder, body: serde_json::Value) -> HttpResponse {
    builder.content_type("application/json").insert_header((header::CACHE_CONTROL, "no-store")).body(body.to_string())
}

/// Truncates a provider-supplied text before it is shown.
fn short(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

async fn home(req: HttpRequest, state: web::Data<ServiceState>) -> HttpResponse {
    let query = query_map(&req);
    let error = query.get("error").filter(|e| !e.is_empty()).map(|code| PageError {
        code: short(code),
        description: query.get("error_description").filter(|d| !d.is_empty()).map(|d| short(d)),
    });
    let cookie_name = state.session_cookie_name();
    let cookie = req.cookie(&cookie_name);
    let session = cookie.as_ref().and_then(|c| state.store.session(c.value()));
    let signed_out_notice = query.contains_key("state");
    let body = pages::home_page(&state.service, session.as_ref(), error.as_ref(), signed_out_notice);
    let mut builder = HttpResponse::Ok();
    if cookie.is_some() && session.is_none() {
        // Ended elsewhere (back-channel logout or expiry): forget the stale cookie.
        builder.cookie(state.removal_cookie(cookie_name));
    }
    html(builder, body)
}

async fn login(state: web::Data<ServiceState>) -> HttpResponse {
    match state.oidc.login().await {
        Ok(start) => {
            let id = state.store.insert_pending(PendingLogin::new(start.state, start.nonce, start.pkce_verifier));
            let max_age = CookieDuration::seconds(i64::try_from(PENDING_TTL.as_secs()).unwrap_or(600));
            see_other(start.url.as_str()).cookie(state.cookie(state.login_cookie_name(), id, Some(max_age))).finish()
        }
        Err(e) => {
            tracing::warn!(service = %state.service.slug, error = %e, "cannot start sign-in");
            let error = PageError { code: "provider_unavailable".to_owned(), description: Some(e.to_string()) };
            html(HttpResponse::ServiceUnavailable(), pages::error_page(&state.service, &error))
        }
    }
}

async fn callback(req: HttpRequest, state: web::Data<ServiceState>) -> HttpResponse {
    let query = query_map(&req);
    let login_cookie = state.login_cookie_name();
    let pending = req.cookie(&login_cookie).and_then(|c| state.store.take_pending(c.value()));
    let clear_login = state.removal_cookie(login_cookie);
    let fail = |code: &str, description: Option<&str>| {
        see_other(&home_with_error(code, description.map(short).as_deref())).cookie(clear_login.clone()).finish()
    };

    if let Some(code) = query.get("error") {
        return fail(code, query.get("error_description").map(String::as_str));
    }
    let Some(pending) = pending else {
        return fail("invalid_state", None);
    };
    if query.get("state") != Some(&pending.state) {
        return fail("invalid_state", None);
    }
    let Some(code) = query.get("code").filter(|c| !c.is_empty()) else {
        return fail("invalid_request", Some("The provider returned neither a code nor an error."));
    };
    // RFC 9207: if the provider names itself, it must be the one we asked.
    if let Some(iss) = query.get("iss") {
        match state.oidc.issuer().await {
            Ok(expected) if &expected == iss => {}
            Ok(_) => return fail("sign_in_failed", Some("The response came from an unexpected issuer.")),
            Err(e) => return fail("provider_unavailable", Some(&e.to_string())),
        }
    }
    let signed_in = match state.oidc.finish(code.clone(), pending.pkce_verifier, &pending.nonce).await {
        Ok(signed_in) => signed_in,
        Err(e) => {
            tracing::warn!(service = %state.service.slug, error = %e, "sign-in failed");
            return fail("sign_in_failed", Some(&e.to_string()));
        }
    };
    let session_cookie = state.session_cookie_name();
    if let Some(old) = req.cookie(&session_cookie) {
        state.store.remove_session(old.value());
    }
    let id = state.store.insert_session(Session::new(
        signed_in.claims,
        signed_in.userinfo,
        signed_in.id_token,
        signed_in.sub,
        signed_in.sid,
    ));
    tracing::info!(service = %state.service.slug, "signed in");
    see_other("/").cookie(clear_login).cookie(state.cookie(session_cookie, id, None)).finish()
}

async fn logout(req: HttpRequest, state: web::Data<ServiceState>) -> HttpResponse {
    let cookie_name = state.session_cookie_name();
    let session = req.cookie(&cookie_name).and_then(|c| state.store.remove_session(c.value()));
    let clear = state.removal_cookie(cookie_name);
    let hint = session.as_ref().map(|s| s.id_token.as_str());
    let target = match state.oidc.end_session_url(hint, &state.service.post_logout_uri(), &random_id()).await {
        Ok(Some(url)) => url.to_string(),
        Ok(None) => "/".to_owned(),
        Err(e) => {
            tracing::warn!(service = %state.service.slug, error = %e, "cannot reach the provider to sign out");
            home_with_error(
                "provider_unavailable",
                Some("You are signed out of this service, but the identity provider could not be reached."),
            )
        }
    };
    see_other(&target).cookie(clear).finish()
}

fn invalid_request() -> HttpResponse {
    json(HttpResponse::BadRequest(), serde_json::json!({ "error": "invalid_request" }))
}

async fn backchannel_logout(body: web::Bytes, state: web::Data<ServiceState>) -> HttpResponse {
    let token = form_urlencoded::parse(&body).find(|(k, _)| k == "logout_token").map(|(_, v)| v.into_owned());
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        tracing::warn!(service = %state.service.slug, "back-channel logout without logout_token");
        return invalid_request();
    };
    match state.oidc.check_logout_token(&token).await {
        Ok(request) => {
            let removed = state.store.remove_matching(request.sid.as_deref(), request.sub.as_deref());
            state.store.record_backchannel_logout();
            tracing::info!(service = %state.service.slug, jti = %request.jti, removed, "back-channel logout");
            HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).finish()
        }
        Err(e) => {
            tracing::warn!(service = %state.service.slug, error = %e, "rejected logout token");
            invalid_request()
        }
    }
}

async fn status(state: web::Data<ServiceState>) -> HttpResponse {
    json(
        HttpResponse::Ok(),
        serde_json::json!({
            "sessions": state.store.session_count(),
            "backchannel_logouts": state.store.backchannel_logouts(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_services;
    use actix_web::{App, body, test as atest};

    fn state() -> web::Data<ServiceState> {
        let service = default_services("a", "b", "c").remove(0);
        // Port 9 (discard): nothing answers there, so discovery fails fast.
        let oidc = OidcClient::new("http://127.0.0.1:9", &service).unwrap();
        web::Data::new(ServiceState::new(service, oidc))
    }

    #[actix_web::test]
    async fn routes_without_a_provider() {
        let data = state();
        let app = atest::init_service(App::new().app_data(data.clone()).configure(configure)).await;

        let res = atest::call_service(&app, atest::TestRequest::get().uri("/?error=access_denied").to_request()).await;
        assert_eq!(res.status(), 200);
        let page = String::from_utf8(body::to_bytes(res.into_body()).await.unwrap().to_vec()).unwrap();
        assert!(page.contains("Sign in"));
        assert!(page.contains("access was denied"));

        let res = atest::call_service(&app, atest::TestRequest::get().uri("/login").to_request()).await;
        assert_eq!(res.status(), 503);

        let res =
            atest::call_service(&app, atest::TestRequest::get().uri("/callback?code=x&state=y").to_request()).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/?error=invalid_state");

        let res = atest::call_service(
            &app,
            atest::TestRequest::get().uri("/callback?error=access_denied&error_description=No+thanks").to_request(),
        )
        .await;
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/?error=access_denied&error_description=No+thanks");

        let req = atest::TestRequest::post()
            .uri("/backchannel-logout")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload("other=1")
            .to_request();
        let res = atest::call_service(&app, req).await;
        assert_eq!(res.status(), 400);
        let body = body::to_bytes(res.into_body()).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"error": "invalid_request"})
        );

        let req = atest::TestRequest::post()
            .uri("/backchannel-logout")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload("logout_token=a.b.c")
            .to_request();
        assert_eq!(atest::call_service(&app, req).await.status(), 400);

        let res = atest::call_service(&app, atest::TestRequest::get().uri("/status.json").to_request()).await;
        let body = body::to_bytes(res.into_body()).await.unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({"sessions": 0, "backchannel_logouts": 0})
        );

        // Signed in: the page shows the session; logout drops it even with the provider down.
        let id = data.store.insert_session(Session::new(
            serde_json::from_str(r#"{"sub":"u1","name":"Ada","email":"ada@example.com"}"#).unwrap(),
            Err("none".into()),
            "h.p.s".into(),
            "u1".into(),
            None,
        ));
        let req = atest::TestRequest::get().uri("/").cookie(Cookie::new("campus_session", id.clone())).to_request();
        let page = atest::call_and_read_body(&app, req).await;
        assert!(String::from_utf8_lossy(&page).contains("Signed in as <strong>Ada</strong> (ada@example.com)"));
        let req = atest::TestRequest::post().uri("/logout").cookie(Cookie::new("campus_session", id)).to_request();
        let res = atest::call_service(&app, req).await;
        assert_eq!(res.status(), 303);
        assert!(
            res.headers().get(header::LOCATION).unwrap().to_str().unwrap().starts_with("/?error=provider_unavailable")
        );
        assert_eq!(data.store.session_count(), 0);
    }

    #[test]
    fn error_redirects_are_encoded() {
        assert_eq!(home_with_error("a b", Some("x&y")), "/?error=a+b&error_description=x%26y");
        assert_eq!(short(&"é".repeat(400)).chars().count(), 301);
    }
}
