//! A fake OpenAI-compatible transcription server (`POST /v1/audio/transcriptions`) running
//! in-process on 127.0.0.1, so tests exercise the real HTTP client and multipart encoding.
//!
//! It parses the real multipart body and refuses requests the real API would refuse (no
//! file, no model, a response format other than `verbose_json`) with OpenAI's error shape.
//! Tests choose how it answers: segments, text only, an error status, or never. It must
//! never listen on anything but the loopback interface.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

/// How the fake server answers a well-formed request.
#[derive(Debug, Clone)]
pub enum TranscriptionReply {
    /// `verbose_json` with these `(start_seconds, end_seconds, text)` segments.
    Segments(Vec<(f64, f64, String)>),
    /// Only the `text` field, as some compatible servers do.
    TextOnly(String),
    /// This status with an OpenAI-style `{"error": {"message": ...}}` body.
    Error(u16, String),
    /// Accept the request and never answer (for client timeouts).
    Hang,
}

/// What the server received in one upload, for assertions.
#[derive(Debug, Clone, Default)]
pub struct ReceivedUpload {
    pub model: Option<String>,
    pub response_format: Option<String>,
    pub timestamp_granularities: Vec<String>,
    pub file_name: Option<String>,
    pub file_bytes: Vec<u8>,
    pub authorization: Option<String>,
}

#[derive(Clone)]
struct ServerState {
    reply: TranscriptionReply,
    uploads: Arc<Mutex<Vec<ReceivedUpload>>>,
}

/// A running fake server; it stops when dropped.
pub struct TranscriptionServer {
    address: SocketAddr,
    uploads: Arc<Mutex<Vec<ReceivedUpload>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TranscriptionServer {
    /// Starts the server on its own thread and runtime (callers may be synchronous tests)
    /// and returns once it is listening.
    pub fn start(reply: TranscriptionReply) -> Self {
        let uploads = Arc::new(Mutex::new(Vec::new()));
        let state = ServerState {
            reply,
            uploads: Arc::clone(&uploads),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let address = listener.local_addr().expect("read the bound address");
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build the fake server runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("adopt the listener");
                let app = Router::new()
                    .route("/v1/audio/transcriptions", post(transcribe))
                    .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
                    .with_state(state);
                // Leaving `block_on` drops the runtime and with it any hanging request, so
                // a `Hang` reply cannot keep the test process alive.
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = shutdown_signal => {}
                }
            });
        });
        Self {
            address,
            uploads,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`, without the `/v1` path.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every upload received so far, in order.
    pub fn uploads(&self) -> Vec<ReceivedUpload> {
        self.uploads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for TranscriptionServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn transcribe(
    State(state): State<ServerState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let mut upload = ReceivedUpload {
        authorization: headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        ..ReceivedUpload::default()
    };
    let mut has_file = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) => return openai_error(StatusCode::BAD_REQUEST, &error.to_string()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let Ok(value) = field.bytes().await else {
            return openai_error(StatusCode::BAD_REQUEST, "unreadable multipart field");
        };
        match name.as_str() {
            "file" => {
                has_file = true;
                upload.file_name = file_name;
                upload.file_bytes = value.to_vec();
            }
            "model" => upload.model = Some(String::from_utf8_lossy(&value).into_owned()),
            "response_format" => {
                upload.response_format = Some(String::from_utf8_lossy(&value).into_owned());
            }
            "timestamp_granularities[]" => upload
                .timestamp_granularities
                .push(String::from_utf8_lossy(&value).into_owned()),
            _ => {}
        }
    }
    let problem = if !has_file || upload.file_bytes.is_empty() {
        Some("you must provide a non-empty 'file'")
    } else if upload.model.as_deref().is_none_or(str::is_empty) {
        Some("you must provide a model parameter")
    } else if upload.response_format.as_deref() != Some("verbose_json") {
        Some("this fake only answers response_format=verbose_json")
    } else {
        None
    };
    state
        .uploads
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(upload);
    if let Some(problem) = problem {
        return openai_error(StatusCode::BAD_REQUEST, problem);
    }
    match state.reply {
        TranscriptionReply::Segments(segments) => {
            let text: Vec<&str> = segments.iter().map(|(_, _, text)| text.as_str()).collect();
            let segments: Vec<_> = segments
                .iter()
                .enumerate()
                .map(|(id, (start, end, text))| {
                    json!({"id": id, "start": start, "end": end, "text": text})
                })
                .collect();
            axum::Json(json!({
                "task": "transcribe",
                "language": "english",
                "duration": segments.len(),
                "text": text.join(" "),
                "segments": segments,
            }))
            .into_response()
        }
        TranscriptionReply::TextOnly(text) => axum::Json(json!({ "text": text })).into_response(),
        TranscriptionReply::Error(status, message) => openai_error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &message,
        ),
        TranscriptionReply::Hang => std::future::pending().await,
    }
}

fn openai_error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error"}});
    (status, axum::Json(body)).into_response()
}
