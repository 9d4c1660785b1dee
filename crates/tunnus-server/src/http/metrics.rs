//! Prometheus metrics: requests and latency per route, sign-ins by outcome,
//! tokens issued per grant, outbox depth and database pool use, served at
//! `/metrics` to scrapers only (see [`may_scrape`]).

use std::net::IpAddr;
use std::sync::OnceLock;

use actix_web::HttpRequest;
use tunnus_core::secret::constant_time_eq;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The `metrics` facade has one recorder per process; every server in the
/// process (tests run several) shares it.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

pub fn record_request(route: &str, method: &str, status: u16, seconds: f64) {
    metrics::counter!("tunnus_http_requests_total", "route" => route.to_owned(), "method" => method.to_owned(), "status" => status.to_string()).increment(1);
    metrics::histogram!("tunnus_http_request_duration_seconds", "route" => route.to_owned()).record(seconds);
}

pub fn sign_in(outcome: &'static str) {
    metrics::counter!("tunnus_sign_ins_total", "outcome" => outcome).increment(1);
}

pub fn token_issued(grant: &str) {
    metrics::counter!("tunnus_tokens_issued_total", "grant" => grant.to_owned()).increment(1);
}

/// Whether this request may read `/metrics`. With a configured token: the
/// bearer token must match, wherever it comes from. Without: the peer must be
/// on loopback or a private network AND the request must not have been
/// relayed by a proxy, because behind the public load balancer every request
/// arrives from a private address — the forwarding headers tell them apart.
pub fn may_scrape(req: &HttpRequest, token: Option<&str>) -> bool {
    if let Some(token) = token {
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        return constant_time_eq(given.as_bytes(), token.as_bytes());
    }
    let relayed = ["x-forwarded-for", "forwarded", "x-real-ip"].iter().any(|h| req.headers().contains_key(*h));
    !relayed && req.peer_addr().is_some_and(|a| is_internal(a.ip()))
}

/// Loopback, RFC 1918, shared (RFC 6598), link-local and unique-local addresses.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_internal(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::is_internal;

    #[test]
    fn internal_addresses() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }
}
