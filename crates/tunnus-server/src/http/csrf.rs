//! CSRF protection for every form: a random value in an `HttpOnly` cookie,
//! and in each form an HMAC of it under the server key (a signed
//! double-submit token). A cross-site page can neither read the cookie nor
//! forge the HMAC. Requests whose `Origin` is another site are refused too.
//! The cookie is set only on answers whose handler used the token (pages with
//! forms, form posts): protocol endpoints, discovery and the JWKS answer
//! without it, so their cacheable answers carry no per-browser cookie and
//! API calls do not pay for one.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tunnus_core::SecretToken;
use tunnus_core::secret::constant_time_eq;

use crate::error::AppError;
use crate::state::AppState;

pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-tunnus_csrf" } else { "tunnus_csrf" }
}

#[derive(Debug, Clone)]
struct CsrfSeed {
    value: String,
    is_new: bool,
    /// Set when a handler takes the `Csrf` extractor.
    used: Arc<AtomicBool>,
}

/// Middleware: makes sure a browser shown a form has a CSRF cookie.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let secure = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.secure_cookies());
    let name = cookie_name(secure);
    let existing = req.cookie(name).and_then(|c| SecretToken::from_presented(c.value()).map(|t| t.expose().to_owned()));
    let seed = match existing {
        Some(value) => CsrfSeed { value, is_new: false, used: Arc::default() },
        None => CsrfSeed {
            value: SecretToken::generate(&mut rand::rng()).expose().to_owned(),
            is_new: true,
            used: Arc::default(),
        },
    };
    req.extensions_mut().insert(seed.clone());
    let mut res = next.call(req).await?;
    if seed.is_new && seed.used.load(Ordering::Relaxed) {
        let cookie =
            Cookie::build(name, seed.value).path("/").http_only(true).secure(secure).same_site(SameSite::Lax).finish();
        res.response_mut().add_cookie(&cookie).map_err(actix_web::error::ErrorInternalServerError)?;
    }
    Ok(res)
}

/// The CSRF token of this request, for forms, and its check.
#[derive(Debug, Clone)]
pub struct Csrf {
    token: String,
    same_origin: bool,
}

impl Csrf {
    /// The value for the hidden `csrf` form field.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Accepts the submitted form only if its token matches this browser's cookie.
    pub fn verify(&self, submitted: &str) -> Result<(), AppError> {
        if self.same_origin && constant_time_eq(submitted.as_bytes(), self.token.as_bytes()) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }
}

fn token_for(key: &[u8], seed: &str) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(b"tunnus-csrf:");
    mac.update(seed.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// `Origin` absent (older browsers), equal to our public origin, or `null`
/// on a request the browser itself marks same-origin: under our
/// `Referrer-Policy: no-referrer`, browsers send `Origin: null` on our own forms.
fn origin_ok(req: &HttpRequest, state: &AppState) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    match header("origin") {
        None => true,
        Some("null") => header("sec-fetch-site") == Some("same-origin"),
        Some(origin) => {
            url::Url::parse(state.config.base_url()).is_ok_and(|u| u.origin().ascii_serialization() == origin)
        }
    }
}

impl FromRequest for Csrf {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(AppError::internal("no state")));
        };
        let seed = req.extensions().get::<CsrfSeed>().cloned();
        // Without a cookie the seed is fresh and random, so no submitted token can match it.
        ready(match seed {
            Some(seed) => {
                seed.used.store(true, Ordering::Relaxed);
                Ok(Csrf { token: token_for(&state.secret_key, &seed.value), same_origin: origin_ok(req, state) })
            }
            None => Err(AppError::internal("CSRF middleware missing")),
        })
    }
}
