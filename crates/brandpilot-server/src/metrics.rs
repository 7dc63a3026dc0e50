//! `/metrics` in the Prometheus text format: the HTTP latency histogram by method, route
//! template and status (recorded by the request-context middleware), the app's counters,
//! and gauges read at scrape time. Routes are templates (`/api/v1/brands/{brand_id}`), never
//! concrete paths, so ids cannot multiply the series; unmatched paths share one label.

use crate::ServerState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … 4 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

pub struct HttpMetrics {
    registry: Registry,
    requests: Family<HttpLabels, Histogram, fn() -> Histogram>,
    indexed_chunks: Gauge,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("brandpilot");
        let requests = Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route template and status",
            requests.clone(),
        );
        let indexed_chunks = Gauge::default();
        registry.register(
            "index_chunks",
            "Chunks in the full-text index",
            indexed_chunks.clone(),
        );
        Self {
            registry,
            requests,
            indexed_chunks,
        }
    }
}

impl HttpMetrics {
    pub(crate) fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .observe(seconds);
    }
}

/// The scrape. With `server.metrics_token` set, only `Authorization: Bearer <token>`.
pub(crate) async fn metrics(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.app.settings.server.metrics_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        if !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
            return crate::ApiError::unauthenticated("this endpoint needs the metrics token")
                .into_response();
        }
    }
    if let Ok((bm25, _)) = state.app.index_sizes() {
        state.http.indexed_chunks.set(bm25 as i64);
    }
    let mut text = String::new();
    let encoded =
        prometheus_client::encoding::text::encode_registry(&mut text, state.app.metrics.registry())
            .and_then(|()| {
                prometheus_client::encoding::text::encode_registry(&mut text, &state.http.registry)
            })
            .and_then(|()| prometheus_client::encoding::text::encode_eof(&mut text));
    if encoded.is_err() {
        return crate::ApiError::internal().into_response();
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
