//! Request counters for `/metrics`, by matched route and status.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

#[derive(Default)]
pub struct HttpMetrics {
    /// (method, route, status) -> count. A lock per HTTP request is cheap next to the request.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

pub async fn count(
    State(metrics): State<Arc<HttpMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    // Unmatched paths share one label so a scanner cannot grow the map without bound.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let key = (method, route, response.status().as_u16());
    *metrics
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += 1;
    response
}

impl HttpMetrics {
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP narvaro_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE narvaro_http_requests_total counter");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "narvaro_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
    }
}
