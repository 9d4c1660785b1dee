//! Health and readiness, static assets, legal pages, the development outbox.

use actix_web::{HttpRequest, HttpResponse, web};
use tunnus_core::terms::TermsKind;
use tunnus_store::{outbox, terms};

use super::{nav, signed_in, tr};
use crate::error::AppError;
use crate::http::csrf::Csrf;
use crate::pages::{LegalPage, OutboxPage, OutboxRow, html};
use crate::state::AppState;

const CSS: &str = include_str!("../../../../static/tunnus.css");
const FORM_POST_JS: &str = include_str!("../../../../static/form_post.js");

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/static/tunnus.css", web::get().to(css))
        .route("/static/form_post.js", web::get().to(form_post_js))
        .route("/legal/terms", web::get().to(|r, s, c| legal(r, s, c, TermsKind::Terms)))
        .route("/legal/privacy", web::get().to(|r, s, c| legal(r, s, c, TermsKind::Privacy)))
        .route("/dev/outbox", web::get().to(dev_outbox));
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The process can serve: its database and short-lived store answer.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db = state.db.ping().await;
    let ephemeral = state.ephemeral.ping().await;
    let body = serde_json::json!({
        "database": if db.is_ok() { "ok" } else { "unavailable" },
        "short_lived_store": if ephemeral.is_ok() { "ok" } else { "unavailable" },
    });
    if db.is_ok() && ephemeral.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text format; gauges are read at scrape time. Scrapers only:
/// others get 401 (a token is configured) or 404 (it is not).
async fn metrics(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let token = state.config.metrics.token.as_deref();
    if !crate::http::metrics::may_scrape(&req, token) {
        if token.is_some() {
            return Ok(HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer realm=\"metrics\""))
                .content_type("text/plain")
                .body("a bearer token is required"));
        }
        return Err(AppError::NotFound);
    }
    let Some(handle) = crate::http::metrics::handle() else {
        return Err(AppError::NotFound);
    };
    let (in_use, size) = state.db.pool_state();
    metrics::gauge!("tunnus_db_pool_connections_in_use").set(f64::from(in_use));
    metrics::gauge!("tunnus_db_pool_size").set(f64::from(size));
    if let Some((commits, writes)) = state.db.write_batches() {
        metrics::counter!("tunnus_db_sqlite_commits_total").absolute(commits);
        metrics::counter!("tunnus_db_sqlite_writes_total").absolute(writes);
    }
    if let Some((statements, writes)) = state.provider.refresh_token_batches() {
        metrics::counter!("tunnus_db_refresh_token_statements_total").absolute(statements);
        metrics::counter!("tunnus_db_refresh_token_writes_total").absolute(writes);
    }
    if let Some((checkpoints, restarts)) = state.db.checkpoints() {
        metrics::counter!("tunnus_db_sqlite_checkpoints_total").absolute(checkpoints);
        metrics::counter!("tunnus_db_sqlite_log_restarts_total").absolute(restarts);
    }
    if let Some(cache) = state.provider.directory_cache_stats() {
        metrics::counter!("tunnus_directory_cache_hits_total").absolute(cache.hits);
        metrics::counter!("tunnus_directory_cache_misses_total").absolute(cache.misses);
        metrics::gauge!("tunnus_directory_cache_listening").set(if cache.listening { 1.0 } else { 0.0 });
    }
    if let Ok(pending) = state.db.read(outbox::pending_count).await {
        metrics::gauge!("tunnus_outbox_pending").set(pending as f64);
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(handle.render()))
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(CSS)
}

async fn form_post_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(FORM_POST_JS)
}

async fn legal(
    req: HttpRequest,
    state: web::Data<AppState>,
    csrf: Csrf,
    kind: TermsKind,
) -> Result<HttpResponse, AppError> {
    let tr = tr(&req);
    let now = state.clock.now();
    let doc = state.db.read(move |c| terms::current(c, kind, now)).await?.ok_or(AppError::NotFound)?;
    let user = signed_in(&req, &state).await?.map(|(_, u)| u);
    let (title, body) = match kind {
        TermsKind::Terms => ("terms-title", "terms-body"),
        TermsKind::Privacy => ("privacy-title", "privacy-body"),
    };
    html(&LegalPage {
        tr,
        nav: nav(user.as_ref(), &csrf),
        title: tr.t(title),
        version: tr.t_with("legal-version", &[("version", &doc.version.to_string())]),
        body: tr.t(body),
    })
}

/// Links in an email's text part (our emails put each on its own line).
fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

/// Emails sent while no SMTP server is configured, with clickable links.
/// Exists only in that mode: with SMTP it is a 404.
async fn dev_outbox(req: HttpRequest, state: web::Data<AppState>, csrf: Csrf) -> Result<HttpResponse, AppError> {
    if !state.dev_outbox {
        return Err(AppError::NotFound);
    }
    let items = state.db.read(|c| outbox::recent(c, tunnus_mail::OUTBOX_KIND_EMAIL, 50)).await?;
    let rows = items
        .into_iter()
        .filter_map(|item| {
            let email = tunnus_mail::decode_payload(&item.payload).ok()?;
            Some(OutboxRow {
                links: links_in(&email.text),
                to: email.to,
                subject: email.subject,
                sent: item.sent_at.is_some(),
                created_at: item.created_at.to_string(),
            })
        })
        .collect();
    let user = signed_in(&req, &state).await?.map(|(_, u)| u);
    html(&OutboxPage { tr: tr(&req), nav: nav(user.as_ref(), &csrf), rows })
}
