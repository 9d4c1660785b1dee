//! Per-request context: a request id (in every log line of the request, in
//! the `X-Request-Id` response header and on error pages) and the language
//! negotiated from `Accept-Language`. Kept in a task-local so error pages,
//! which actix renders without the request, still have both.

use std::future::Future;
use std::time::Instant;

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument as _;
use tunnus_i18n::{Lang, Tr};

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub lang: Lang,
}

impl RequestContext {
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }
}

/// Remembers the language chosen for this browser (not a secret, not a session).
pub const LANG_COOKIE: &str = "tunnus_lang";

pub fn language_cookie(lang: Lang) -> actix_web::cookie::Cookie<'static> {
    actix_web::cookie::Cookie::build(LANG_COOKIE, lang.tag())
        .path("/")
        .http_only(true)
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish()
}

/// Static paths and their route patterns, found once. Finding a pattern
/// walks every route again (regular expressions included), which cost more
/// than answering discovery; only paths that are their own pattern are kept,
/// so paths with ids or tokens cannot grow this.
static STATIC_ROUTES: std::sync::LazyLock<std::sync::RwLock<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

fn route_of(req: &actix_web::HttpRequest) -> String {
    let path = req.path();
    if let Some(route) = STATIC_ROUTES.read().unwrap_or_else(|p| p.into_inner()).get(path) {
        return route.clone();
    }
    let Some(route) = req.match_pattern() else { return "unmatched".to_owned() };
    if route == path {
        STATIC_ROUTES.write().unwrap_or_else(|p| p.into_inner()).insert(route.clone(), route.clone());
    }
    route
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The context of the request being handled (a fresh one outside requests).
pub fn current() -> RequestContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_else(|_| RequestContext { request_id: "-".into(), lang: Lang::En })
}

pub fn scope<F: Future>(ctx: RequestContext, f: F) -> impl Future<Output = F::Output> {
    CONTEXT.scope(ctx, f)
}

/// Middleware: assigns the id, negotiates the language, logs the outcome.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let request_id = uuid::Uuid::now_v7().to_string();
    // `ui_locales` (from a relying party) > the browser's remembered choice
    // (the signed-in person's preferred language, or an earlier ui_locales) >
    // Accept-Language > English.
    let asked = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "ui_locales")
        .and_then(|(_, v)| Lang::from_ui_locales(&v));
    let lang = asked
        .or_else(|| req.cookie(LANG_COOKIE).and_then(|c| Lang::from_tag(c.value())))
        .or_else(|| {
            req.headers().get("accept-language").and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En);
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method(), path = %req.path());
    let ctx = RequestContext { request_id: request_id.clone(), lang };
    req.extensions_mut().insert(ctx.clone());
    let started = Instant::now();
    scope(
        ctx,
        async move {
            let mut res = next.call(req).await?;
            let status = res.status().as_u16();
            tracing::info!(status, latency_ms = started.elapsed().as_millis() as u64, "request");
            // The route pattern, not the path: ids and tokens stay out of label values.
            let route = route_of(res.request());
            super::metrics::record_request(
                &route,
                res.request().method().as_str(),
                status,
                started.elapsed().as_secs_f64(),
            );
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                res.headers_mut().insert(HeaderName::from_static("x-request-id"), value);
            }
            if let Some(lang) = asked {
                res.response_mut()
                    .add_cookie(&language_cookie(lang))
                    .map_err(actix_web::error::ErrorInternalServerError)?;
            }
            Ok(res)
        }
        .instrument(span),
    )
    .await
}
