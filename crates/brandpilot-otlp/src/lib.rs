//! Optional OpenTelemetry traces: a `tracing` layer that turns the spans Brandpilot already
//! makes (a request, the job it queued, the model call inside a chat turn) into OTLP spans
//! and sends them in batches to a collector over OTLP/HTTP with the JSON encoding
//! (`POST {endpoint}/v1/traces`), which the OpenTelemetry Collector, Jaeger, Tempo and the
//! hosted tracing services accept. An incoming W3C `traceparent` (recorded on a span as
//! the `traceparent` field) makes that span continue the caller's trace.
//!
//! Our own exporter instead of the `opentelemetry` crates: those bring an SDK, protobuf
//! code generation and a second HTTP stack for what is one JSON document per batch.
//! Export never blocks the traced code: finished spans go through a bounded queue to a
//! thread of their own, and a full queue drops spans (counted) rather than wait.

mod export;
mod layer;
pub mod traceparent;

pub use export::OtlpGuard;
pub use layer::OtlpLayer;

use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    #[error("the OTLP endpoint {0:?} is not an http(s) URL")]
    Endpoint(String),
    #[error("the OTLP header {0:?} is not a valid HTTP header")]
    Header(String),
    #[error("cannot start the OTLP exporter: {0}")]
    Start(String),
}

/// Where and how spans are sent.
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// The collector's base URL (`http://collector:4318`): spans go to `…/v1/traces`. A
    /// URL that already ends in `/v1/traces` is used as it is.
    pub endpoint: String,
    /// Sent with every export (a hosted service's API key, for example).
    pub headers: BTreeMap<String, String>,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// A batch is sent when it holds this many spans, or when `flush_every` has passed.
    pub max_batch: usize,
    pub flush_every: Duration,
    /// Finished spans waiting for the exporter; more are dropped.
    pub queue: usize,
}

impl OtlpConfig {
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            headers: BTreeMap::new(),
            service_name: "brandpilot".into(),
            max_batch: 512,
            flush_every: Duration::from_secs(2),
            queue: 8_192,
        }
    }

    /// The traces URL the exporter posts to.
    pub fn traces_url(&self) -> Result<String, OtlpError> {
        let endpoint = self.endpoint.trim().trim_end_matches('/');
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(OtlpError::Endpoint(self.endpoint.clone()));
        }
        Ok(if endpoint.ends_with("/v1/traces") {
            endpoint.to_owned()
        } else {
            format!("{endpoint}/v1/traces")
        })
    }
}

/// Parses `OTEL_EXPORTER_OTLP_HEADERS`' form: `key1=value1,key2=value2` (values may be
/// percent-encoded; `%20` and friends are decoded).
pub fn parse_headers(text: &str) -> Result<BTreeMap<String, String>, OtlpError> {
    let mut headers = BTreeMap::new();
    for pair in text
        .split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
    {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| OtlpError::Header(pair.to_owned()))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            return Err(OtlpError::Header(pair.to_owned()));
        }
        headers.insert(key.to_owned(), percent_decode(value.trim()));
    }
    Ok(headers)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The layer and the guard that flushes it: add the layer to the subscriber, keep the
/// guard until the process ends (dropping it sends what is left).
pub fn layer(config: OtlpConfig) -> Result<(OtlpLayer, OtlpGuard), OtlpError> {
    let (sender, guard) = export::start(&config)?;
    Ok((OtlpLayer::new(sender), guard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_url_is_the_base_plus_v1_traces_unless_given_whole() {
        let url = |endpoint: &str| OtlpConfig::new(endpoint).traces_url();
        assert_eq!(
            url("http://collector:4318").unwrap(),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            url("https://otel.example/").unwrap(),
            "https://otel.example/v1/traces"
        );
        assert_eq!(
            url("http://c:4318/v1/traces").unwrap(),
            "http://c:4318/v1/traces"
        );
        assert!(matches!(url("collector:4318"), Err(OtlpError::Endpoint(_))));
    }

    #[test]
    fn headers_parse_as_the_otel_environment_variable_writes_them() {
        let headers = parse_headers("x-honeycomb-team=abc%20def, api-key = k=v ,").unwrap();
        assert_eq!(headers["x-honeycomb-team"], "abc def");
        assert_eq!(headers["api-key"], "k=v");
        assert_eq!(headers.len(), 2);
        assert!(parse_headers("no-equals-sign").is_err());
        assert!(parse_headers("bad key=1").is_err());
        assert_eq!(parse_headers("a=%zz%4").unwrap()["a"], "%zz%4");
    }
}
