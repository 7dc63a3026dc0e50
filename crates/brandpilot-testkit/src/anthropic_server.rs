//! A fake Anthropic Messages API (`POST /v1/messages`) on a real socket, so tests exercise
//! the real HTTP client, SSE parser and event decoder.
//!
//! It checks `x-api-key` (when configured), `anthropic-version: 2023-06-01` and the
//! required `max_tokens`, answers a message object or, for `"stream": true`, the real event
//! sequence (`message_start`, `content_block_*`, `ping`, `message_delta`, `message_stop`),
//! and plays a queue of scripted behaviours ([`ChatReply`]). It must never bind anything but
//! the loopback address.

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
pub struct AnthropicOptions {
    /// When set, requests must carry `x-api-key: {key}` or get a 401.
    pub api_key: Option<String>,
}

struct Shared {
    options: AnthropicOptions,
    script: Arc<Script>,
}

/// A running fake. Dropping it stops the server.
pub struct AnthropicServer {
    server: BackgroundServer,
    script: Arc<Script>,
}

impl AnthropicServer {
    pub fn start(options: AnthropicOptions) -> Self {
        let script = Script::new();
        let shared = Arc::new(Shared {
            options,
            script: script.clone(),
        });
        let app = Router::new()
            .route("/v1/messages", post(messages))
            .with_state(shared);
        Self {
            server: BackgroundServer::start(app),
            script,
        }
    }

    /// `http://127.0.0.1:{port}`, without `/v1`, as Anthropic's base URL is written.
    pub fn base_url(&self) -> String {
        self.server.base_url.clone()
    }

    /// Queues behaviours for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = ChatReply>) {
        self.script.push(replies);
    }

    /// Every request received so far, including rejected ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.script.requests()
    }
}

fn anthropic_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({ "type": "error", "error": { "type": kind, "message": message } });
    (status, axum::Json(body)).into_response()
}

fn status_reply(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let kind = match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    anthropic_error(
        status,
        kind,
        &format!("fake failure with status {}", status.as_u16()),
    )
}

type Event = (Option<&'static str>, String);

fn event(name: &'static str, data: Value) -> Event {
    (Some(name), data.to_string())
}

fn message_start(model: &str, input_tokens: Option<u32>) -> Event {
    let mut message = json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "content": [],
        "model": model, "stop_reason": null, "stop_sequence": null,
    });
    if let Some(input) = input_tokens {
        message["usage"] = json!({ "input_tokens": input, "output_tokens": 1 });
    }
    event(
        "message_start",
        json!({ "type": "message_start", "message": message }),
    )
}

fn text_block(text: &[String]) -> Vec<Event> {
    let mut events = vec![event(
        "content_block_start",
        json!({ "type": "content_block_start", "index": 0,
                "content_block": { "type": "text", "text": "" } }),
    )];
    events.push(event("ping", json!({ "type": "ping" })));
    for piece in text {
        events.push(event(
            "content_block_delta",
            json!({ "type": "content_block_delta", "index": 0,
                    "delta": { "type": "text_delta", "text": piece } }),
        ));
    }
    events
}

fn message_end(stop_reason: &str, output_tokens: Option<u32>) -> Vec<Event> {
    let mut delta = json!({ "type": "message_delta",
                            "delta": { "stop_reason": stop_reason, "stop_sequence": null } });
    if let Some(output) = output_tokens {
        delta["usage"] = json!({ "output_tokens": output });
    }
    vec![
        event("message_delta", delta),
        event("message_stop", json!({ "type": "message_stop" })),
    ]
}

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request = shared.script.record("/v1/messages", &headers, &body);
    if let Some(key) = &shared.options.api_key
        && request.header("x-api-key") != Some(key.as_str())
    {
        return anthropic_error(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid x-api-key",
        );
    }
    if request.header("anthropic-version") != Some("2023-06-01") {
        return anthropic_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    }
    let model = request
        .body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let valid = request
        .body
        .get("max_tokens")
        .and_then(Value::as_u64)
        .is_some()
        && request
            .body
            .get("messages")
            .and_then(Value::as_array)
            .is_some_and(|messages| !messages.is_empty());
    let Some(model) = model.filter(|_| valid) else {
        return anthropic_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "model, max_tokens and a non-empty messages are required",
        );
    };
    let stream = request.is_stream();

    match shared.script.next_reply() {
        ChatReply::Text(reply) if stream => {
            let mut events = vec![message_start(&model, reply.usage.map(|usage| usage.0))];
            events.extend(text_block(&reply.deltas()));
            events.push(event(
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": 0 }),
            ));
            let stop = reply.finish_reason.as_deref().unwrap_or("end_turn");
            events.extend(message_end(stop, reply.usage.map(|usage| usage.1)));
            let body = render_events(&events, reply.crlf, reply.comments);
            sse(split_body(body, &reply.split), false)
        }
        ChatReply::Text(reply) => {
            let stop = reply.finish_reason.as_deref().unwrap_or("end_turn");
            let content = json!([{ "type": "text", "text": reply.text }]);
            message(&model, content, stop, reply.usage)
        }
        ChatReply::ToolCall {
            id,
            name,
            arguments,
        } if stream => {
            let mut events = vec![message_start(&model, Some(11))];
            events.push(event(
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0,
                        "content_block": { "type": "tool_use", "id": id, "name": name, "input": {} } }),
            ));
            let (head, tail) = arguments.split_at(arguments.len() / 2);
            for part in [head, tail] {
                events.push(event(
                    "content_block_delta",
                    json!({ "type": "content_block_delta", "index": 0,
                            "delta": { "type": "input_json_delta", "partial_json": part } }),
                ));
            }
            events.push(event(
                "content_block_stop",
                json!({ "type": "content_block_stop", "index": 0 }),
            ));
            events.extend(message_end("tool_use", Some(7)));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::ToolCall {
            id,
            name,
            arguments,
        } => {
            let input: Value = serde_json::from_str(&arguments).unwrap_or(Value::Null);
            let content = json!([{ "type": "tool_use", "id": id, "name": name, "input": input }]);
            message(&model, content, "tool_use", Some((11, 7)))
        }
        ChatReply::MalformedEvent { text_before } if stream => {
            let mut events = vec![message_start(&model, Some(11))];
            events.extend(text_block(&[text_before]));
            events.push((
                Some("content_block_delta"),
                "{\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {".to_owned(),
            ));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::MalformedEvent { .. } => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"content\": [oops",
        )
            .into_response(),
        ChatReply::StopMidway { text_before } if stream => {
            let mut events = vec![message_start(&model, Some(11))];
            events.extend(text_block(&[text_before]));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::StopMidway { .. } => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"id\": \"msg_fake\", \"content\": [{\"type\": \"text\", \"text\": \"cut",
        )
            .into_response(),
        ChatReply::ErrorEvent { text_before } if stream => {
            let mut events = vec![message_start(&model, Some(11))];
            events.extend(text_block(&[text_before]));
            events.push(event(
                "error",
                json!({ "type": "error",
                        "error": { "type": "overloaded_error", "message": "Overloaded" } }),
            ));
            sse(vec![render_events(&events, false, false)], false)
        }
        ChatReply::ErrorEvent { .. } => status_reply(529),
        ChatReply::HangMidway { text_before } => {
            let mut events = vec![message_start(&model, Some(11))];
            events.extend(text_block(&[text_before]));
            sse(vec![render_events(&events, false, false)], true)
        }
        ChatReply::RateLimited { retry_after } => {
            let mut response = status_reply(429);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_seconds(retry_after).into());
            response
        }
        ChatReply::Status(status) => status_reply(status),
        ChatReply::Hang => std::future::pending().await,
    }
}

fn message(model: &str, content: Value, stop: &str, usage: Option<(u32, u32)>) -> Response {
    let mut body = json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
        "content": content, "stop_reason": stop, "stop_sequence": null,
    });
    if let Some((input, output)) = usage {
        body["usage"] = json!({ "input_tokens": input, "output_tokens": output });
    }
    axum::Json(body).into_response()
}

fn sse(pieces: Vec<Vec<u8>>, hang: bool) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        stream_body(pieces, hang),
    )
        .into_response()
}
