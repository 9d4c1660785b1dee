//! HTTP plumbing shared by every handler: request context (id, language),
//! CSRF, security headers, client address.

pub mod context;
pub mod csrf;
pub mod headers;
pub mod metrics;

use actix_web::HttpRequest;

/// The client's address: the socket peer, or the first `X-Forwarded-For`
/// hop when the operator said a trusted proxy sets it.
pub fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(forwarded) = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) =
            forwarded.split(',').next().map(str::trim).filter(|s| s.parse::<std::net::IpAddr>().is_ok())
    {
        return first.to_owned();
    }
    req.peer_addr().map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

pub fn user_agent(req: &HttpRequest) -> String {
    req.headers().get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").chars().take(200).collect()
}
