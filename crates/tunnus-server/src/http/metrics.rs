//! Prometheus metrics: requests and latency per route, sign-ins by outcome,
//! tokens issued per grant, outbox depth and database pool use, served at
//! `/metrics` (restrict it to your monitoring network at the load balancer).

use std::sync::OnceLock;

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
