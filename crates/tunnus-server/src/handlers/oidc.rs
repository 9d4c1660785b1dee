//! The protocol's machine-facing endpoints: discovery, JWKS, token,
//! userinfo, introspection, revocation. JSON in the exact shapes the RFCs
//! give, errors included; never an HTML page.

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, web};
use tunnus_oidc::{ErrorCode, OAuthError};

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/openid-configuration", web::get().to(discovery))
        .route("/jwks", web::get().to(jwks))
        .route("/token", web::post().to(token))
        .route("/userinfo", web::get().to(userinfo))
        .route("/userinfo", web::post().to(userinfo))
        .route("/introspect", web::post().to(introspect))
        .route("/revoke", web::post().to(revoke));
}

/// Form pairs of a request body; only `application/x-www-form-urlencoded` UTF-8.
pub fn form_pairs(req: &HttpRequest, body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
    }
    parse_pairs(body)
}

pub fn parse_pairs(bytes: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(bytes).into_owned().collect();
    // form_urlencoded replaces invalid UTF-8; refuse it instead of guessing.
    if pairs.iter().any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}'))
        || std::str::from_utf8(bytes).is_err()
    {
        return Err(OAuthError::invalid_request("parameters must be UTF-8"));
    }
    Ok(pairs)
}

fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn json_no_store(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .content_type(ContentType::json())
        .body(body.to_string())
}

/// An error of the token-style endpoints (RFC 6749 §5.2).
pub fn oauth_error(e: &OAuthError) -> HttpResponse {
    let status = StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut r = json_no_store(status, &e.to_json());
    if e.code == ErrorCode::InvalidClient
        && let Ok(v) = actix_web::http::header::HeaderValue::from_str("Basic realm=\"tunnus\"")
    {
        r.headers_mut().insert(actix_web::http::header::WWW_AUTHENTICATE, v);
    }
    if e.code == ErrorCode::ServerError {
        tracing::error!(error = %e, "protocol request failed");
    }
    r
}

/// An error of a bearer-protected endpoint (RFC 6750 §3).
fn bearer_error(e: &OAuthError) -> HttpResponse {
    let mut r = oauth_error(e);
    let challenge = format!(
        "Bearer realm=\"tunnus\", error=\"{}\", error_description=\"{}\"",
        e.code,
        e.description.replace('"', "'")
    );
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&challenge) {
        r.headers_mut().insert(actix_web::http::header::WWW_AUTHENTICATE, v);
    }
    r
}

async fn discovery(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .content_type(ContentType::json())
        .body(web::Bytes::copy_from_slice(state.provider.discovery().as_bytes()))
}

async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .content_type(ContentType::json())
        .body(web::Bytes::copy_from_slice(state.provider.keys.jwks().as_bytes()))
}

async fn token(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let pairs = match form_pairs(&req, &body) {
        Ok(p) => p,
        Err(e) => return oauth_error(&e),
    };
    let grant = pairs.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.chars().take(60).collect::<String>());
    match state.provider.token(authorization(&req).as_deref(), pairs).await {
        Ok(response) => match serde_json::to_value(&response) {
            Ok(v) if grant.is_some() => {
                crate::http::metrics::token_issued(grant.as_deref().unwrap_or(""));
                json_no_store(StatusCode::OK, &v)
            }
            Ok(v) => json_no_store(StatusCode::OK, &v),
            Err(e) => oauth_error(&OAuthError::server(e.to_string())),
        },
        Err(e) => {
            tracing::info!(error = %e.code, description = %e.description, "token request refused");
            oauth_error(&e)
        }
    }
}

async fn userinfo(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let header = authorization(&req);
    let token = match header.as_deref() {
        Some(h) if h.len() > 7 && h[..7].eq_ignore_ascii_case("bearer ") => Some(h[7..].trim().to_owned()),
        Some(_) => None,
        // RFC 6750 §2.2: a form-encoded body may carry it instead.
        None if req.method() == actix_web::http::Method::POST => {
            form_pairs(&req, &body).ok().and_then(|p| p.into_iter().find(|(k, _)| k == "access_token").map(|(_, v)| v))
        }
        None => None,
    };
    let Some(token) = token else {
        return bearer_error(&OAuthError::invalid_request("a bearer access token is required"));
    };
    match state.provider.userinfo(&token).await {
        Ok(claims) => json_no_store(StatusCode::OK, &claims),
        Err(e) => bearer_error(&e),
    }
}

async fn introspect(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let pairs = match form_pairs(&req, &body) {
        Ok(p) => p,
        Err(e) => return oauth_error(&e),
    };
    match state.provider.introspect(authorization(&req).as_deref(), pairs).await {
        Ok(v) => json_no_store(StatusCode::OK, &v),
        Err(e) => oauth_error(&e),
    }
}

async fn revoke(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let pairs = match form_pairs(&req, &body) {
        Ok(p) => p,
        Err(e) => return oauth_error(&e),
    };
    match state.provider.revoke(authorization(&req).as_deref(), pairs).await {
        Ok(()) => HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).finish(),
        Err(e) => oauth_error(&e),
    }
}
