//! What wraps every request: a request id (the caller's `x-request-id` when it is sane,
//! else a fresh one), a tracing span carrying it, a deadline, one log line per request,
//! and the rendering of every error response into the API's one error body.

use crate::error::{ErrorBody, ErrorResponse, code_for_status};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use tracing::Instrument;

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request's id, for handlers that want to mention it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Settings the middleware needs.
#[derive(Clone)]
pub(crate) struct ContextConfig {
    pub metrics: std::sync::Arc<crate::metrics::HttpMetrics>,
    pub timeout: Duration,
    /// The timeout of the routes in [`crate::routes::GENERATION_ROUTES`].
    pub generation_timeout: Duration,
    /// Send `Strict-Transport-Security` (only behind TLS: the server itself speaks HTTP).
    pub hsts: bool,
}

pub(crate) async fn request_context(
    State(config): State<ContextConfig>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|value| acceptable_request_id(value))
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    request.extensions_mut().insert(RequestId(id.clone()));
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().clone();
    // `otel.kind`, `traceparent` and the status code are for the OpenTelemetry export
    // (brandpilot-otlp): a caller's W3C trace context makes this request part of its trace.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        %method,
        %route,
        key = tracing::field::Empty,
        otel.kind = "server",
        traceparent = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    if let Some(parent) = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
    {
        span.record("traceparent", parent);
    }
    let started = Instant::now();
    let timeout = if crate::routes::GENERATION_ROUTES.contains(&(method.as_str(), route.as_str())) {
        config.generation_timeout
    } else {
        config.timeout
    };
    let response = async {
        match tokio::time::timeout(timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out");
                crate::ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "timeout",
                    "the request took too long and was stopped",
                )
                .into_response()
            }
        }
    }
    .instrument(span.clone())
    .await;
    let mut response = if needs_error_body(&response) {
        render_error(response, &id)
    } else {
        response
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    security_headers(response.headers_mut(), config.hsts);
    let seconds = started.elapsed().as_secs_f64();
    config
        .metrics
        .observe(method.as_str(), &route, response.status().as_u16(), seconds);
    span.record("http.response.status_code", response.status().as_u16());
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = seconds * 1000.0,
            "request"
        );
    });
    response
}

/// Headers every response carries. API responses are JSON that no browser should render,
/// frame or sniff; a response that set its own policy (the docs page) keeps it.
fn security_headers(headers: &mut axum::http::HeaderMap, hsts: bool) {
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

/// 1–64 visible ASCII characters without spaces: anything else (empty, huge, control
/// characters that would forge log lines) is replaced by our own id.
fn acceptable_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic())
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // No randomness: the clock still tells concurrent requests apart well enough for
        // correlating logs; ids are not secrets.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    hex::encode(bytes)
}

/// An error status whose body is not already a JSON document a handler chose (readiness
/// answers 503 with its report): ours, or axum's own plain-text rejections.
fn needs_error_body(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    response.extensions().get::<ErrorBody>().is_some() || !json
}

/// Replaces an error response's body with the API's error body, keeping its status and
/// headers (`Allow` on a 405, `Retry-After`, …).
fn render_error(response: Response, request_id: &str) -> Response {
    let (mut parts, _body) = response.into_parts();
    let (code, message) = match parts.extensions.remove::<ErrorBody>() {
        Some(body) => (body.code, body.message),
        None => {
            let (code, message) = code_for_status(parts.status);
            (code, message.to_owned())
        }
    };
    let body = ErrorResponse {
        error: crate::error::ErrorDetail {
            code: code.to_owned(),
            message,
            request_id: request_id.to_owned(),
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if parts.status == StatusCode::UNAUTHORIZED
        && !parts.headers.contains_key(header::WWW_AUTHENTICATE)
    {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"brandpilot\""),
        );
    }
    if parts.status == StatusCode::SERVICE_UNAVAILABLE
        && !parts.headers.contains_key(header::RETRY_AFTER)
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// What a panicking handler answers: a fixed 500; the panic text goes to the log only.
pub(crate) fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = detail, "a handler panicked");
    crate::ApiError::internal().into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_callers_are_kept_only_when_harmless() {
        assert!(acceptable_request_id("abc-123_DEF.4:5"));
        assert!(!acceptable_request_id(""));
        assert!(!acceptable_request_id(&"a".repeat(65)));
        assert!(!acceptable_request_id("two words"));
        assert!(!acceptable_request_id("line\nbreak"));
        let generated = new_request_id();
        assert_eq!(generated.len(), 24);
        assert_ne!(generated, new_request_id());
    }
}
