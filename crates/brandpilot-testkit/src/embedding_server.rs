//! A fake OpenAI-compatible embeddings server (`POST /v1/embeddings`) on a real socket, so
//! the real blocking HTTP client is what tests exercise.
//!
//! It runs on its own single-threaded tokio runtime in a background thread, because the
//! client under test blocks the calling thread. It answers deterministic vectors per input
//! text, deliberately out of `index` order, checks the bearer key, and can be scripted to
//! fail. It must never reach anything but the loopback address it binds.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How the fake answers one request. After the script runs out, it answers [`Reply::Ok`].
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Deterministic vectors, in reverse `index` order.
    Ok,
    /// 429 with `Retry-After: {retry_after_secs}` and an OpenAI rate-limit error body.
    TooManyRequests { retry_after_secs: u64 },
    /// 500 with an OpenAI server error body.
    ServerError,
    /// 401 with OpenAI's invalid-key error body, whatever key was sent.
    Unauthorized,
    /// Vectors one longer than configured.
    WrongDimension,
    /// One vector fewer than inputs.
    WrongCount,
    /// Waits this long before answering normally, to trip client timeouts.
    Stall(Duration),
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    pub model: String,
    pub inputs: Vec<String>,
    pub encoding_format: Option<String>,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<String>,
}

/// Settings of a fake server.
#[derive(Debug, Clone)]
pub struct EmbeddingServerOptions {
    /// When set, requests must carry `Authorization: Bearer {key}` or get a 401.
    pub api_key: Option<String>,
    pub dimensions: usize,
}

impl Default for EmbeddingServerOptions {
    fn default() -> Self {
        Self {
            api_key: Some("test-key".to_owned()),
            dimensions: 8,
        }
    }
}

struct Shared {
    options: EmbeddingServerOptions,
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding the lock already failed; keep serving the others.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake. Dropping it stops the server and joins its thread.
pub struct EmbeddingServer {
    base_url: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmbeddingServer {
    /// Binds 127.0.0.1 on a free port and starts serving before returning, so the first
    /// request cannot race the listener. Panics if the socket or runtime cannot be created
    /// (a broken test machine, not a test failure to handle).
    pub fn start(options: EmbeddingServerOptions) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let address = listener.local_addr().expect("listener address");
        let shared = Arc::new(Shared {
            options,
            script: Mutex::new(VecDeque::new()),
            requests: Mutex::new(Vec::new()),
        });
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new()
            .route("/v1/embeddings", post(embeddings))
            .with_state(shared.clone());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime for the fake embedding server");
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                // Not a graceful shutdown: a stalled handler must not hold the test up.
                tokio::select! {
                    _ = axum::serve(listener, app).into_future() => {}
                    _ = shutdown_signal => {}
                }
            });
        });
        Self {
            base_url: format!("http://{address}"),
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:{port}`, without `/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Queues replies for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared.script).extend(replies);
    }

    /// Every request received so far, including rejected ones.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmbeddingServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The vector the fake returns for `text` before the client normalises it: deterministic,
/// depends on every byte, and deliberately not unit length.
pub fn fake_vector(text: &str, dimensions: usize) -> Vec<f32> {
    let mut state = 0xCBF2_9CE4_8422_2325u64;
    for byte in text.bytes() {
        state ^= u64::from(byte);
        state = state.wrapping_mul(0x0000_0100_0000_01B3);
    }
    (0..dimensions)
        .map(|_| {
            // xorshift64: cheap, deterministic, good enough to make vectors differ.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        })
        .collect()
}

fn openai_error(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    let body =
        json!({ "error": { "message": message, "type": kind, "param": null, "code": code } });
    (status, axum::Json(body)).into_response()
}

async fn embeddings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let model = parsed
        .as_ref()
        .and_then(|v| v.get("model"))
        .and_then(Value::as_str);
    let encoding_format = parsed
        .as_ref()
        .and_then(|v| v.get("encoding_format"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    // OpenAI takes one string or an array of strings.
    let inputs: Option<Vec<String>> = match parsed.as_ref().and_then(|v| v.get("input")) {
        Some(Value::String(one)) => Some(vec![one.clone()]),
        Some(Value::Array(many)) => many
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    };
    lock(&shared.requests).push(RecordedRequest {
        model: model.unwrap_or_default().to_owned(),
        inputs: inputs.clone().unwrap_or_default(),
        encoding_format: encoding_format.clone(),
        authorization: authorization.clone(),
    });

    if let Some(key) = &shared.options.api_key
        && authorization.as_deref() != Some(&format!("Bearer {key}"))
    {
        return invalid_key();
    }
    let (Some(model), Some(inputs)) = (model, inputs) else {
        let message = "'model' and 'input' (a string or an array of strings) are required";
        return openai_error(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            None,
        );
    };
    if encoding_format.as_deref().is_some_and(|f| f != "float") {
        let message = "this fake only speaks encoding_format \"float\"";
        return openai_error(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            None,
        );
    }
    if inputs.is_empty() || inputs.iter().any(String::is_empty) {
        let message = "'$.input' is invalid: inputs must be non-empty strings";
        return openai_error(
            StatusCode::BAD_REQUEST,
            message,
            "invalid_request_error",
            None,
        );
    }

    let reply = lock(&shared.script).pop_front().unwrap_or(Reply::Ok);
    let mut dimensions = shared.options.dimensions;
    let mut count = inputs.len();
    match reply {
        Reply::Ok => {}
        Reply::TooManyRequests { retry_after_secs } => {
            let mut response = openai_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                Some("rate_limit_exceeded"),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after_secs.into());
            return response;
        }
        Reply::ServerError => {
            let message = "The server had an error while processing your request.";
            return openai_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                message,
                "server_error",
                None,
            );
        }
        Reply::Unauthorized => return invalid_key(),
        Reply::WrongDimension => dimensions += 1,
        Reply::WrongCount => count = count.saturating_sub(1),
        Reply::Stall(duration) => tokio::time::sleep(duration).await,
    }

    // Reverse order, with the true index on each item, as OpenAI is allowed to answer.
    let data: Vec<Value> = inputs
        .iter()
        .take(count)
        .enumerate()
        .rev()
        .map(|(index, text)| {
            json!({ "object": "embedding", "index": index, "embedding": fake_vector(text, dimensions) })
        })
        .collect();
    let tokens: usize = inputs.iter().map(|t| t.split_whitespace().count()).sum();
    axum::Json(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": tokens, "total_tokens": tokens },
    }))
    .into_response()
}

fn invalid_key() -> Response {
    openai_error(
        StatusCode::UNAUTHORIZED,
        "Incorrect API key provided.",
        "invalid_request_error",
        Some("invalid_api_key"),
    )
}
