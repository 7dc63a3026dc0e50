//! What the fake chat servers ([`crate::openai_chat_server`], [`crate::anthropic_server`])
//! share: the scripted behaviours a test queues per request, the record of each request
//! received, and the background-thread server lifecycle.
//!
//! A behaviour says *what* happens (a reply, a malformed event, a 429, a hang); each server
//! renders it in its own wire protocol. This module must never know either protocol, and
//! the servers it starts must never bind anything but the loopback address.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use futures_util::StreamExt;
use serde_json::Value;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How the byte body of a streamed reply is cut into the writes the client receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BodySplit {
    /// One write.
    #[default]
    Whole,
    /// Cut before each of these byte offsets (out-of-range offsets are ignored).
    At(Vec<usize>),
    /// Writes of this many bytes.
    Every(usize),
}

/// A normal answer with text.
#[derive(Debug, Clone, PartialEq)]
pub struct TextReply {
    pub text: String,
    /// Characters per streamed delta (at least 1).
    pub delta_chars: usize,
    /// `(prompt_tokens, completion_tokens)` reported to the client; `None` reports none.
    pub usage: Option<(u32, u32)>,
    /// Terminate lines with `\r\n` instead of `\n`.
    pub crlf: bool,
    /// Interleave SSE comment lines (keep-alives) between events.
    pub comments: bool,
    pub split: BodySplit,
    /// The provider's finish reason as it spells it (`stop`, `length`, `end_turn`…); `None`
    /// uses the protocol's natural-end reason.
    pub finish_reason: Option<String>,
}

impl TextReply {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            delta_chars: 3,
            usage: Some((11, 7)),
            crlf: false,
            comments: false,
            split: BodySplit::Whole,
            finish_reason: None,
        }
    }

    /// The deltas the text is streamed as.
    pub fn deltas(&self) -> Vec<String> {
        let chars: Vec<char> = self.text.chars().collect();
        chars
            .chunks(self.delta_chars.max(1))
            .map(|piece| piece.iter().collect())
            .collect()
    }
}

/// How a fake server answers one request. After the script runs out it answers
/// `Text(TextReply::new("ok"))`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatReply {
    /// A normal answer, streamed if the request asked for a stream.
    Text(TextReply),
    /// The model calls one tool (`arguments` is JSON text).
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// Streams `text_before`, then an event whose data is not JSON. Not streamed: a 200
    /// whose body is not JSON.
    MalformedEvent { text_before: String },
    /// Streams `text_before`, then ends the body cleanly without the terminal event. Not
    /// streamed: a 200 whose JSON body is cut short.
    StopMidway { text_before: String },
    /// Streams `text_before`, then the protocol's in-stream error event (OpenAI: an error
    /// object; Anthropic: `overloaded_error`). Not streamed: 503 or 529.
    ErrorEvent { text_before: String },
    /// Streams `text_before`, then never sends another byte.
    HangMidway { text_before: String },
    /// 429 with `Retry-After` (whole seconds, rounded up) and `retry-after-ms`.
    RateLimited { retry_after: Duration },
    /// This status with the protocol's error body.
    Status(u16),
    /// Accepts the request and never answers.
    Hang,
}

impl ChatReply {
    pub fn text(text: impl Into<String>) -> Self {
        ChatReply::Text(TextReply::new(text))
    }
}

/// One request as a fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub path: String,
    /// Every header, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Value::Null` when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// True when `needle` appears anywhere in the headers or the body (for leak checks).
    pub fn contains(&self, needle: &str) -> bool {
        self.headers
            .iter()
            .any(|(key, value)| key.contains(needle) || value.contains(needle))
            || self.body.to_string().contains(needle)
    }

    pub fn is_stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }
}

pub(crate) struct Script {
    replies: Mutex<VecDeque<ChatReply>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock already failed; keep serving the others.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Script {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            replies: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn record(&self, path: &str, headers: &HeaderMap, body: &Bytes) -> RecordedRequest {
        let request = RecordedRequest {
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(name, value)| {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    (name.as_str().to_owned(), value)
                })
                .collect(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        };
        lock(&self.requests).push(request.clone());
        request
    }

    pub(crate) fn next_reply(&self) -> ChatReply {
        lock(&self.replies)
            .pop_front()
            .unwrap_or_else(|| ChatReply::text("ok"))
    }

    pub(crate) fn push(&self, replies: impl IntoIterator<Item = ChatReply>) {
        lock(&self.replies).extend(replies);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }
}

/// SSE events as `(event name, data)` pairs, rendered with the chosen line ending and
/// optional comment lines.
pub(crate) fn render_events(
    events: &[(Option<&str>, String)],
    crlf: bool,
    comments: bool,
) -> Vec<u8> {
    let newline = if crlf { "\r\n" } else { "\n" };
    let mut body = String::new();
    for (index, (name, data)) in events.iter().enumerate() {
        if comments {
            body.push_str(&format!(": keep-alive {index}{newline}"));
        }
        if let Some(name) = name {
            body.push_str(&format!("event: {name}{newline}"));
        }
        body.push_str(&format!("data: {data}{newline}{newline}"));
    }
    body.into_bytes()
}

/// Cuts `body` as `split` says.
pub(crate) fn split_body(body: Vec<u8>, split: &BodySplit) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = match split {
        BodySplit::Whole => Vec::new(),
        BodySplit::At(offsets) => offsets.clone(),
        BodySplit::Every(size) => (1..body.len())
            .filter(|offset| offset.is_multiple_of((*size).max(1)))
            .collect(),
    };
    cuts.retain(|&offset| offset > 0 && offset < body.len());
    cuts.sort_unstable();
    cuts.dedup();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        pieces.push(body[start..cut].to_vec());
        start = cut;
    }
    pieces.push(body[start..].to_vec());
    pieces
}

/// A streamed body: the pieces as separate writes, then either the end of the body or,
/// with `hang`, silence forever.
pub(crate) fn stream_body(pieces: Vec<Vec<u8>>, hang: bool) -> Body {
    let writes = futures_util::stream::iter(pieces).then(|piece| async move {
        // Yield between writes so that each tends to leave as its own TCP segment.
        tokio::task::yield_now().await;
        Ok::<_, Infallible>(Bytes::from(piece))
    });
    if hang {
        Body::from_stream(writes.chain(futures_util::stream::pending()))
    } else {
        Body::from_stream(writes)
    }
}

/// A server on its own thread and runtime, so synchronous and asynchronous tests alike can
/// use it. Dropping it stops the server and any hanging request with it.
pub(crate) struct BackgroundServer {
    pub(crate) base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// Binds 127.0.0.1 on a free port and is listening before it returns. Panics if the
    /// socket or runtime cannot be created (a broken test machine, not a test failure).
    pub(crate) fn start(app: Router) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = listener.local_addr().expect("listener address");
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime for a fake chat server");
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                // Not graceful: a hanging handler must not hold the test up. Leaving
                // `block_on` drops the runtime and every connection task with it.
                tokio::select! {
                    _ = axum::serve(listener, app).into_future() => {}
                    _ = shutdown_signal => {}
                }
            });
        });
        Self {
            base_url: format!("http://{address}"),
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `Retry-After` in whole seconds, rounded up, as the header allows no fractions.
pub(crate) fn retry_after_seconds(retry_after: Duration) -> u64 {
    let seconds = retry_after.as_secs();
    if retry_after.subsec_nanos() > 0 {
        seconds + 1
    } else {
        seconds
    }
}
