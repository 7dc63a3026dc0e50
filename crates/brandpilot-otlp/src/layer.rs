//! The `tracing` layer: each span gets OTLP ids when it opens (its parent's trace, a
//! `traceparent` field's, or a new one), collects its fields as attributes and its
//! warnings and errors as events while open, and is queued for export when it closes.

use crate::export::{AttributeValue, FinishedEvent, FinishedSpan, SpanSender};
use crate::traceparent;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// OTLP span kinds (the protocol's enum values).
pub(crate) const KIND_INTERNAL: i32 = 1;
pub(crate) const KIND_SERVER: i32 = 2;
pub(crate) const KIND_CLIENT: i32 = 3;

/// A field holding a W3C `traceparent`; the span continues that trace.
const TRACEPARENT_FIELD: &str = "traceparent";
/// A field naming the span's kind: `server`, `client` or `internal` (the default).
const KIND_FIELD: &str = "otel.kind";
/// A server span whose status code field is 5xx is an error (OpenTelemetry's HTTP
/// conventions).
const STATUS_FIELD: &str = "http.response.status_code";

/// See the module documentation.
pub struct OtlpLayer {
    sender: SpanSender,
}

impl OtlpLayer {
    pub(crate) fn new(sender: SpanSender) -> Self {
        Self { sender }
    }
}

/// What an open span carries, in the registry's extensions.
struct OpenSpan {
    span: FinishedSpan,
    /// Whether a child already took this span's trace id (a later `traceparent` then
    /// cannot move the span to another trace).
    has_children: bool,
}

impl<S> tracing_subscriber::Layer<S> for OtlpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if crate::export::EXPORTER_THREAD.with(std::cell::Cell::get) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let parent = span.parent().and_then(|parent| {
            let mut extensions = parent.extensions_mut();
            let open = extensions.get_mut::<OpenSpan>()?;
            open.has_children = true;
            Some((open.span.trace_id, open.span.span_id))
        });
        let (trace_id, parent_span_id) = match (fields.traceparent, parent) {
            (Some(remote), _) => (remote.trace_id, Some(remote.parent_id)),
            (None, Some((trace, parent))) => (trace, Some(parent)),
            (None, None) => (random_trace_id(), None),
        };
        let open = OpenSpan {
            span: FinishedSpan {
                trace_id,
                span_id: random_span_id(),
                parent_span_id,
                name: span.name(),
                kind: fields.kind.unwrap_or(KIND_INTERNAL),
                start: SystemTime::now(),
                end: SystemTime::now(),
                attributes: fields.attributes,
                events: Vec::new(),
                error: None,
            },
            has_children: false,
        };
        span.extensions_mut().insert(open);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        let Some(open) = extensions.get_mut::<OpenSpan>() else {
            return;
        };
        if let Some(remote) = fields.traceparent
            && !open.has_children
        {
            open.span.trace_id = remote.trace_id;
            open.span.parent_span_id = Some(remote.parent_id);
        }
        if let Some(kind) = fields.kind {
            open.span.kind = kind;
        }
        for (key, value) in fields.attributes {
            match open.span.attributes.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => open.span.attributes.push((key, value)),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        // Warnings and errors say why a span went wrong; the rest is the log's business.
        if level > Level::WARN {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields
            .message
            .take()
            .unwrap_or_else(|| event.metadata().name().to_owned());
        let mut extensions = span.extensions_mut();
        let Some(open) = extensions.get_mut::<OpenSpan>() else {
            return;
        };
        if level == Level::ERROR && open.span.error.is_none() {
            open.span.error = Some(message.clone());
        }
        let mut attributes = fields.attributes;
        attributes.push(("level".into(), AttributeValue::Text(level.to_string())));
        open.span.events.push(FinishedEvent {
            time: SystemTime::now(),
            name: message,
            attributes,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<OpenSpan>() else {
            return;
        };
        let mut finished = open.span;
        finished.end = SystemTime::now();
        if finished.kind == KIND_SERVER
            && finished.error.is_none()
            && let Some((_, AttributeValue::Int(status))) = finished
                .attributes
                .iter()
                .find(|(key, _)| key == STATUS_FIELD)
            && *status >= 500
        {
            finished.error = Some(format!("HTTP {status}"));
        }
        self.sender.send(finished);
    }
}

/// The fields of a span or event, sorted into what the layer understands.
#[derive(Default)]
struct Fields {
    attributes: Vec<(String, AttributeValue)>,
    traceparent: Option<traceparent::TraceParent>,
    kind: Option<i32>,
    message: Option<String>,
}

impl Fields {
    fn text(&mut self, field: &Field, text: String) {
        match field.name() {
            "message" => self.message = Some(text),
            TRACEPARENT_FIELD => self.traceparent = traceparent::parse(&text),
            KIND_FIELD => {
                self.kind = Some(match text.as_str() {
                    "server" => KIND_SERVER,
                    "client" => KIND_CLIENT,
                    _ => KIND_INTERNAL,
                })
            }
            name => self
                .attributes
                .push((name.to_owned(), AttributeValue::Text(text))),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.text(field, format!("{value:?}"));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes
            .push((field.name().to_owned(), AttributeValue::Int(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        let value = i64::try_from(value).unwrap_or(i64::MAX);
        self.attributes
            .push((field.name().to_owned(), AttributeValue::Int(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes
            .push((field.name().to_owned(), AttributeValue::Float(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes
            .push((field.name().to_owned(), AttributeValue::Bool(value)));
    }
}

fn random_trace_id() -> [u8; 16] {
    loop {
        let id = random::<16>();
        if id != [0; 16] {
            return id;
        }
    }
}

fn random_span_id() -> [u8; 8] {
    loop {
        let id = random::<8>();
        if id != [0; 8] {
            return id;
        }
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: a hash of the clock and a counter still keeps ids apart.
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            let value = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&value[..chunk.len()]);
        }
    }
    bytes
}
