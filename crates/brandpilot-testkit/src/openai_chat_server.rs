//! A fake OpenAI-compatible chat server (`POST /v1/chat/completions`) on a real socket, so
//! tests exercise the real HTTP client, SSE parser and decoder.
//!
//! It answers plain JSON or, for `"stream": true`, `chat.completion.chunk` events ending in
//! `data: [DONE]` (with a usage chunk when `stream_options.include_usage` is set), and plays
//! a queue of scripted behaviours ([`ChatReply`]). It checks the bearer key when configured
//! and, like some real servers, echoes a wrong key in its 401 message — so tests can prove
//! the client never leaks it. It must never bind anything but the loopback address.

pub use crate::chat_script::{BodySplit, ChatReply, RecordedRequest, TextReply};

use crate::chat_script::{
    BackgroundServer, Script, render_events, retry_after_seconds, split_body, stream_body,
};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::sync::Arc;

/// Settings of a fake server.
#[derive(Debug, Clone, Default)]
pub struct OpenAiChatOptions {
    /// When set, requests must carry `Authorization: Bearer {key}` or get a 401.
    pub api_key: Option<String>,
    /// How long every answer takes to start, like a real model's time to first token.
    pub latency: Option<std::time::Duration>,
}

struct Shared {
    options: OpenAiChatOptions,
    script: Arc<Script>,
    in_flight: Arc<InFlight>,
}

/// Requests being answered now, and the most there ever were at once.
#[derive(Default)]
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

/// Counts one request in flight until dropped.
struct InFlightGuard(Arc<InFlight>);

impl InFlightGuard {
    fn enter(in_flight: &Arc<InFlight>) -> Self {
        use std::sync::atomic::Ordering;
        let now = in_flight.now.fetch_add(1, Ordering::SeqCst) + 1;
        in_flight.most.fetch_max(now, Ordering::SeqCst);
        Self(in_flight.clone())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A running fake. Dropping it stops the server.
pub struct OpenAiChatServer {
    server: BackgroundServer,
    script: Arc<Script>,
    in_flight: Arc<InFlight>,
}

impl OpenAiChatServer {
    pub fn start(options: OpenAiChatOptions) -> Self {
        let script = Script::new();
        let in_flight = Arc::new(InFlight::default());
        let shared = Arc::new(Shared {
            options,
            script: script.clone(),
            in_flight: in_flight.clone(),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .with_state(shared);
        Self {
            server: BackgroundServer::start(app),
            script,
            in_flight,
        }
    }

    /// `http://127.0.0.1:{port}/v1`: the base URL a client appends `/chat/completions` to.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.base_url)
    }

    /// Queues behaviours for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = ChatReply>) {
        self.script.push(replies);
    }

    /// The most requests that were ever being answered at once (a stream counts until its
    /// handler returned the response, not until its last byte).
    pub fn most_in_flight(&self) -> usize {
        self.in_flight
            .most
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every request received so far, including rejected ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.script.requests()
    }
}

fn openai_error(status: StatusCode, message: &str, kind: &str) -> Response {
    let body =
        json!({ "error": { "message": message, "type": kind, "param": null, "code": null } });
    (status, axum::Json(body)).into_response()
}

fn chunk(model: &str, delta: Value, finish_reason: Option<&str>) -> String {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
    })
    .to_string()
}

fn text_chunks(model: &str, text: &[String]) -> Vec<(Option<&'static str>, String)> {
    let mut events = vec![(
        None,
        chunk(model, json!({ "role": "assistant", "content": "" }), None),
    )];
    for piece in text {
        events.push((None, chunk(model, json!({ "content": piece }), None)));
    }
    events
}

async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = shared
        .script
        .record("/v1/chat/completions", &headers, &body);
    let _in_flight = InFlightGuard::enter(&shared.in_flight);
    if let Some(latency) = shared.options.latency {
        tokio::time::sleep(latency).await;
    }
    let authorization = request.header("authorization").map(str::to_owned);
    if let Some(key) = &shared.options.api_key
        && authorization.as_deref() != Some(&format!("Bearer {key}"))
    {
        let sent = authorization
            .as_deref()
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or("");
        return openai_error(
            StatusCode::UNAUTHORIZED,
            &format!("Incorrect API key provided: {sent}."),
            "invalid_request_error",
        );
    }
    let model = request
        .body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let has_messages = request
        .body
        .get("messages")
        .and_then(Value::as_array)
        .is_some_and(|messages| !messages.is_empty());
    let Some(model) = model.filter(|_| has_messages) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "'model' and a non-empty 'messages' are required",
            "invalid_request_error",
        );
    };
    let stream = request.is_stream();
    let include_usage = request
        .body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);

    match shared.script.next_reply() {
        ChatReply::Text(reply) if stream => {
            let mut events = text_chunks(&model, &reply.deltas());
            let finish = reply.finish_reason.as_deref().unwrap_or("stop");
            events.push((None, chunk(&model, json!({}), Some(finish))));
            if include_usage && let Some((prompt, completion)) = reply.usage {
                let usage = json!({
                    "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
                    "choices": [],
                    "usage": { "prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion },
                });
                events.push((None, usage.to_string()));
            }
            events.push((None, "[DONE]".to_owned()));
            let body = render_events(&events, reply.crlf, reply.comments);
            sse(split_body(body, &reply.split), false)
        }
        ChatReply::Text(reply) => {
            let finish = reply.finish_reason.as_deref().unwrap_or("stop");
            let message = json!({ "role": "assistant", "content": reply.text });
            completion(&model, message, finish, reply.usage)
        }
        ChatReply::ToolCall {
            id,
            name,
            arguments,
        } if stream => {
            let mut events = text_chunks(&model, &[]);
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            let opening = json!({ "tool_calls": [{ "index": 0, "id": id, "type": "function",
                "function": { "name": name, "arguments": head } }] });
            let rest = json!({ "tool_calls": [{ "index": 0, "function": { "arguments": tail } }] });
            events.push((None, chunk(&model, opening, None)));
            events.push((None, chunk(&model, rest, None)));
            events.push((None, chunk(&model, json!({}), Some("tool_calls"))));
            events.push((None, "[DONE]".to_owned()));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::ToolCall {
            id,
            name,
            arguments,
        } => {
            let message = json!({ "role": "assistant", "content": null, "tool_calls": [
                { "id": id, "type": "function", "function": { "name": name, "arguments": arguments } },
            ] });
            completion(&model, message, "tool_calls", Some((11, 7)))
        }
        ChatReply::MalformedEvent { text_before } if stream => {
            let mut events = text_chunks(&model, &[text_before]);
            events.push((None, "{\"choices\": [{\"delta\": {\"content\": ".to_owned()));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::MalformedEvent { .. } => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"choices\": [oops",
        )
            .into_response(),
        ChatReply::StopMidway { text_before } if stream => {
            let events = text_chunks(&model, &[text_before]);
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::StopMidway { .. } => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"id\": \"chatcmpl-fake\", \"choices\": [{\"message\": {\"content\": \"cut",
        )
            .into_response(),
        ChatReply::ErrorEvent { text_before } if stream => {
            let mut events = text_chunks(&model, &[text_before]);
            let error = json!({ "error": { "message": "The server is overloaded.", "type": "server_error" } });
            events.push((None, error.to_string()));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::ErrorEvent { .. } => status_reply(503),
        ChatReply::HangMidway { text_before } => {
            let events = text_chunks(&model, &[text_before]);
            sse(vec![render_events(&events, false, false)], true)
        }
        ChatReply::RateLimited { retry_after } => {
            let mut response = openai_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
            );
            let headers = response.headers_mut();
            headers.insert(header::RETRY_AFTER, retry_after_seconds(retry_after).into());
            headers.insert("retry-after-ms", (retry_after.as_millis() as u64).into());
            response
        }
        ChatReply::Status(status) => status_reply(status),
        ChatReply::Hang => std::future::pending().await,
    }
}

fn status_reply(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = if status.is_server_error() {
        "server_error"
    } else {
        "invalid_request_error"
    };
    let message = format!("fake failure with status {}", status.as_u16());
    openai_error(status, &message, kind)
}

fn completion(model: &str, message: Value, finish: &str, usage: Option<(u32, u32)>) -> Response {
    let mut body = json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
    });
    if let Some((prompt, completion)) = usage {
        body["usage"] = json!({ "prompt_tokens": prompt, "completion_tokens": completion,
                                "total_tokens": prompt + completion });
    }
    axum::Json(body).into_response()
}

fn sse(pieces: Vec<Vec<u8>>, hang: bool) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        stream_body(pieces, hang),
    )
        .into_response()
}
