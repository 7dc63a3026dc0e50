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

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub lane: &'static str,
    pub status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LaneLabels {
    pub lane: &'static str,
}

pub struct HttpMetrics {
    registry: Registry,
    requests: Family<HttpLabels, Histogram, fn() -> Histogram>,
    indexed_chunks: Gauge,
    jobs: Family<QueueLabels, Gauge>,
    oldest_wait: Family<LaneLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
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
        let jobs = Family::<QueueLabels, Gauge>::default();
        registry.register(
            "jobs",
            "Jobs waiting (queued) or running, per lane",
            jobs.clone(),
        );
        let oldest_wait = Family::<LaneLabels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "job_oldest_wait_seconds",
            "How long the longest-waiting due job of each lane has waited",
            oldest_wait.clone(),
        );
        Self {
            registry,
            requests,
            indexed_chunks,
            jobs,
            oldest_wait,
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
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default();
    match state.app.store.queue_stats(now).await {
        Ok(lanes) => {
            for lane in lanes {
                let name = lane.lane.as_str();
                for (status, count) in [("queued", lane.queued), ("running", lane.running)] {
                    state
                        .http
                        .jobs
                        .get_or_create(&QueueLabels { lane: name, status })
                        .set(count as i64);
                }
                let waited = lane
                    .oldest_due_ms
                    .map_or(0.0, |due| (now - due).max(0) as f64 / 1000.0);
                state
                    .http
                    .oldest_wait
                    .get_or_create(&LaneLabels { lane: name })
                    .set(waited);
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the job queue"),
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
