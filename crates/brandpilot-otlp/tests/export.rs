//! The exporter against a collector on loopback that speaks OTLP/HTTP: what arrives is
//! the protocol's JSON, with the spans' parentage, attributes, events and status.

use brandpilot_otlp::{OtlpConfig, layer};
use brandpilot_testkit::otlp_collector::Collector;
use serde_json::Value;
use std::net::TcpListener;
use std::time::{Duration, Instant};
use tracing_subscriber::layer::SubscriberExt;

fn attribute<'a>(span: &'a Value, key: &str) -> &'a Value {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
        .unwrap_or(&Value::Null)
}

#[test]
fn spans_arrive_as_otlp_json_with_the_callers_trace_and_their_parentage() {
    let collector = Collector::start(200);
    let (otlp, guard) = layer(OtlpConfig::new(&collector.url)).unwrap();
    let subscriber = tracing_subscriber::registry().with(otlp);
    tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!(
            "request",
            otel.kind = "server",
            route = "/api/v1/brands/{brand_id}/search",
            traceparent = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
        );
        request.record(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        let _entered = request.enter();
        {
            let search = tracing::info_span!("search", k = 10u64, hybrid = true);
            let _inside = search.enter();
            tracing::info!("an info event is the log's, not the trace's");
            tracing::warn!(shard = 3, "index shard was slow");
        }
        request.record("http.response.status_code", 503u64);
    });
    guard.flush();

    let received = collector.received.lock().unwrap().clone();
    assert!(!received.is_empty());
    for (path, content_type, body) in &received {
        assert_eq!(path, "/v1/traces");
        assert_eq!(content_type, "application/json");
        let service = &body["resourceSpans"][0]["resource"]["attributes"][0];
        assert_eq!(service["key"], "service.name");
        assert_eq!(service["value"]["stringValue"], "brandpilot");
    }
    let spans = collector.spans();
    assert_eq!(spans.len(), 2, "{spans:?}");
    let search = spans.iter().find(|s| s["name"] == "search").unwrap();
    let request = spans.iter().find(|s| s["name"] == "request").unwrap();

    // The request continues the caller's trace; the search is the request's child.
    assert_eq!(request["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(request["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(search["traceId"], request["traceId"]);
    assert_eq!(search["parentSpanId"], request["spanId"]);
    let span_id = request["spanId"].as_str().unwrap();
    assert_eq!(span_id.len(), 16);
    assert!(span_id.bytes().all(|b| b.is_ascii_hexdigit()));

    assert_eq!(request["kind"], 2, "server");
    assert_eq!(search["kind"], 1, "internal");
    assert_eq!(
        attribute(request, "route")["stringValue"],
        "/api/v1/brands/{brand_id}/search"
    );
    assert_eq!(
        attribute(request, "http.response.status_code")["intValue"],
        "503"
    );
    assert_eq!(attribute(search, "k")["intValue"], "10");
    assert_eq!(attribute(search, "hybrid")["boolValue"], true);
    assert_eq!(
        attribute(request, "traceparent"),
        &Value::Null,
        "not an attribute"
    );

    // A 5xx server span is an error; the search kept only its warning as an event.
    assert_eq!(request["status"]["code"], 2);
    assert_eq!(search["status"]["code"], 0);
    let events = search["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["name"], "index shard was slow");
    assert_eq!(attribute(&events[0], "shard")["intValue"], "3");
    assert_eq!(attribute(&events[0], "level")["stringValue"], "WARN");

    let nanos = |span: &Value, key: &str| span[key].as_str().unwrap().parse::<u128>().unwrap();
    for span in [request, search] {
        assert!(nanos(span, "startTimeUnixNano") <= nanos(span, "endTimeUnixNano"));
    }
    assert!(nanos(request, "startTimeUnixNano") <= nanos(search, "startTimeUnixNano"));
    assert!(nanos(search, "endTimeUnixNano") <= nanos(request, "endTimeUnixNano"));
}

#[test]
fn spans_without_a_caller_start_their_own_trace_and_an_error_event_fails_the_span() {
    let collector = Collector::start(200);
    let (otlp, guard) = layer(OtlpConfig::new(format!("{}/v1/traces", collector.url))).unwrap();
    let subscriber = tracing_subscriber::registry().with(otlp);
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..2 {
            let job = tracing::info_span!("job", kind = "ingest_uploads");
            let _entered = job.enter();
            tracing::error!("the file is encrypted");
        }
    });
    drop(guard);
    let spans = collector.spans();
    assert_eq!(spans.len(), 2);
    assert_ne!(
        spans[0]["traceId"], spans[1]["traceId"],
        "two roots, two traces"
    );
    for span in &spans {
        assert!(span.get("parentSpanId").is_none(), "{span}");
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(span["status"]["message"], "the file is encrypted");
    }
}

#[test]
fn a_collector_that_is_down_or_refuses_never_holds_up_the_traced_code() {
    // Nothing listens on this port once the listener is gone.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let refusing = Collector::start(500);
    for endpoint in [closed, refusing.url.clone()] {
        let mut config = OtlpConfig::new(endpoint);
        config.queue = 8;
        let (otlp, guard) = layer(config).unwrap();
        let subscriber = tracing_subscriber::registry().with(otlp);
        let started = Instant::now();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..1_000 {
                let _span = tracing::info_span!("work", i).entered();
            }
        });
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "tracing waited on the exporter: {:?}",
            started.elapsed()
        );
        assert!(guard.dropped() > 0, "a queue of 8 cannot hold 1,000 spans");
        drop(guard);
    }
    assert!(
        !refusing.spans().is_empty(),
        "the refusing collector was tried"
    );
}
