//! The exporter: a thread that takes finished spans from a bounded queue, batches them and
//! posts each batch as an OTLP `ExportTraceServiceRequest` in the protocol's JSON
//! encoding (ids in hex, 64-bit integers as decimal strings, enums as numbers). A batch the
//! collector refuses or cannot take is logged and dropped: traces are best effort and must
//! not grow the server's memory while a collector is down.

use crate::traceparent::hex;
use crate::{OtlpConfig, OtlpError};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttributeValue {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
pub(crate) struct FinishedEvent {
    pub time: SystemTime,
    pub name: String,
    pub attributes: Vec<(String, AttributeValue)>,
}

#[derive(Debug, Clone)]
pub(crate) struct FinishedSpan {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    pub name: &'static str,
    pub kind: i32,
    pub start: SystemTime,
    pub end: SystemTime,
    pub attributes: Vec<(String, AttributeValue)>,
    pub events: Vec<FinishedEvent>,
    /// Set: the span's status is an error with this message.
    pub error: Option<String>,
}

std::thread_local! {
    /// Set on the exporter's thread: spans its HTTP client makes are never exported (they
    /// would make more exports, forever).
    pub(crate) static EXPORTER_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

enum Message {
    Span(Box<FinishedSpan>),
    /// Send what is queued now, then answer.
    Flush(SyncSender<()>),
    /// Send what is queued and stop (the layer, in a global subscriber, keeps its end of
    /// the queue open for the life of the process, so the queue never closes by itself).
    Shutdown,
}

/// The layer's end of the queue.
pub(crate) struct SpanSender {
    queue: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

impl SpanSender {
    pub fn send(&self, span: FinishedSpan) {
        match self.queue.try_send(Message::Span(Box::new(span))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Keeps the exporter running; dropping it sends what is queued (waiting at most a few
/// seconds for the collector) and stops the thread.
pub struct OtlpGuard {
    queue: Option<SyncSender<Message>>,
    thread: Option<JoinHandle<()>>,
    dropped: Arc<AtomicU64>,
}

impl OtlpGuard {
    /// Sends every span finished so far; returns once the collector answered (or the
    /// attempt failed).
    pub fn flush(&self) {
        let Some(queue) = &self.queue else { return };
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        if queue.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv_timeout(Duration::from_secs(10));
        }
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for OtlpGuard {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take()
            && queue.send(Message::Shutdown).is_ok()
            && let Some(thread) = self.thread.take()
        {
            let _ = thread.join();
        }
    }
}

pub(crate) fn start(config: &OtlpConfig) -> Result<(SpanSender, OtlpGuard), OtlpError> {
    let url = config.traces_url()?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (key, value) in &config.headers {
        let name = reqwest::header::HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| OtlpError::Header(key.clone()))?;
        let value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| OtlpError::Header(key.clone()))?;
        headers.insert(name, value);
    }
    let (queue, spans) = std::sync::mpsc::sync_channel(config.queue.max(1));
    let dropped = Arc::new(AtomicU64::new(0));
    let exporter = Exporter {
        url,
        headers,
        resource: resource(&config.service_name),
        max_batch: config.max_batch.max(1),
        flush_every: config.flush_every,
        dropped: dropped.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("otlp-export".into())
        .spawn(move || exporter.run(spans))
        .map_err(|e| OtlpError::Start(e.to_string()))?;
    Ok((
        SpanSender {
            queue: queue.clone(),
            dropped: dropped.clone(),
        },
        OtlpGuard {
            queue: Some(queue),
            thread: Some(thread),
            dropped,
        },
    ))
}

struct Exporter {
    url: String,
    headers: reqwest::header::HeaderMap,
    resource: Value,
    max_batch: usize,
    flush_every: Duration,
    dropped: Arc<AtomicU64>,
}

impl Exporter {
    fn run(self, spans: Receiver<Message>) {
        // Built on this thread: the blocking client runs a runtime of its own, which must
        // not live inside the server's.
        let client = match reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .default_headers(self.headers.clone())
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                eprintln!("OTLP export disabled: cannot build its HTTP client: {error}");
                return;
            }
        };
        let mut batch: Vec<FinishedSpan> = Vec::new();
        let mut deadline = Instant::now() + self.flush_every;
        EXPORTER_THREAD.with(|flag| flag.set(true));
        let mut reported_drops = 0;
        let mut failing = false;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let mut flushed = None;
            let closed = match spans.recv_timeout(wait) {
                Ok(Message::Span(span)) => {
                    batch.push(*span);
                    false
                }
                Ok(Message::Flush(done)) => {
                    flushed = Some(done);
                    false
                }
                Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => true,
                Err(RecvTimeoutError::Timeout) => false,
            };
            let due = Instant::now() >= deadline;
            if batch.len() >= self.max_batch
                || (due && !batch.is_empty())
                || flushed.is_some()
                || closed
            {
                while !batch.is_empty() {
                    let take = batch.len().min(self.max_batch);
                    let sending: Vec<FinishedSpan> = batch.drain(..take).collect();
                    match self.post(&client, &sending) {
                        Ok(()) if failing => {
                            tracing::info!(url = %self.url, "OTLP: exporting again");
                            failing = false;
                        }
                        Ok(()) => {}
                        // Once per run of failures: a collector that is down for an hour
                        // should not fill the log.
                        Err(error) if !failing => {
                            tracing::warn!(%error, spans = sending.len(), url = %self.url, "OTLP: spans are not being exported");
                            failing = true;
                        }
                        Err(_) => {}
                    }
                }
                let dropped = self.dropped.load(Ordering::Relaxed);
                if dropped > reported_drops {
                    tracing::warn!(
                        dropped = dropped - reported_drops,
                        "OTLP: spans dropped, the export queue was full"
                    );
                    reported_drops = dropped;
                }
            }
            if due || batch.is_empty() {
                deadline = Instant::now() + self.flush_every;
            }
            if let Some(done) = flushed {
                let _ = done.send(());
            }
            if closed {
                return;
            }
        }
    }

    /// Posts one batch.
    fn post(
        &self,
        client: &reqwest::blocking::Client,
        spans: &[FinishedSpan],
    ) -> Result<(), String> {
        let body = encode(&self.resource, spans);
        let response = client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .map_err(|error| error.to_string())?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the collector answered {status}"))
        }
    }
}

fn resource(service_name: &str) -> Value {
    json!({
        "attributes": [
            attribute("service.name", &AttributeValue::Text(service_name.to_owned())),
            attribute("service.version", &AttributeValue::Text(env!("CARGO_PKG_VERSION").to_owned())),
            attribute("telemetry.sdk.name", &AttributeValue::Text("brandpilot-otlp".to_owned())),
            attribute("telemetry.sdk.language", &AttributeValue::Text("rust".to_owned())),
        ]
    })
}

/// One `ExportTraceServiceRequest`.
pub(crate) fn encode(resource: &Value, spans: &[FinishedSpan]) -> Value {
    let spans: Vec<Value> = spans.iter().map(encode_span).collect();
    json!({
        "resourceSpans": [{
            "resource": resource,
            "scopeSpans": [{
                "scope": { "name": "brandpilot", "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
}

fn encode_span(span: &FinishedSpan) -> Value {
    let mut out = json!({
        "traceId": hex(&span.trace_id),
        "spanId": hex(&span.span_id),
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": nanos(span.start),
        "endTimeUnixNano": nanos(span.end),
        "attributes": span.attributes.iter().map(|(k, v)| attribute(k, v)).collect::<Vec<_>>(),
        "events": span.events.iter().map(|event| json!({
            "timeUnixNano": nanos(event.time),
            "name": event.name,
            "attributes": event.attributes.iter().map(|(k, v)| attribute(k, v)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "status": match &span.error {
            // STATUS_CODE_ERROR
            Some(message) => json!({ "code": 2, "message": message }),
            // STATUS_CODE_UNSET: the span ended without saying it failed.
            None => json!({ "code": 0 }),
        },
    });
    if let Some(parent) = span.parent_span_id {
        out["parentSpanId"] = json!(hex(&parent));
    }
    out
}

fn attribute(key: &str, value: &AttributeValue) -> Value {
    let value = match value {
        AttributeValue::Text(text) => json!({ "stringValue": text }),
        AttributeValue::Int(number) => json!({ "intValue": number.to_string() }),
        AttributeValue::Float(number) => json!({ "doubleValue": number }),
        AttributeValue::Bool(flag) => json!({ "boolValue": flag }),
    };
    json!({ "key": key, "value": value })
}

fn nanos(time: SystemTime) -> String {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .to_string()
}
