//! The provider trait every chat backend implements (HTTP providers here, the in-process
//! local model elsewhere), and [`ApiKey`], the only way a key is held.
//!
//! The trait is object-safe so the router holds `Arc<dyn ChatProvider>`. A provider makes
//! exactly one call per method call: it must never retry, fall back, sleep or time out on its
//! own — that policy belongs to the router, which must see every failure to count it.

use crate::error::Result;
use crate::types::{ChatRequest, ChatResponse, StreamEvent};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use std::fmt;

/// The events of one streamed answer; it ends after [`StreamEvent::Done`] or an error.
pub type EventStream = BoxStream<'static, Result<StreamEvent>>;

/// A chat backend serving one model.
pub trait ChatProvider: Send + Sync {
    /// The configured name (e.g. `openai`, `ollama`, `anthropic`): unique within a router,
    /// used in routes, errors, logs and call records.
    fn name(&self) -> &str;

    /// The model this provider calls, as the provider names it.
    fn model(&self) -> &str;

    /// One complete answer.
    fn complete<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse>>;

    /// Starts a streamed answer. The future resolves once the provider accepted the request
    /// (HTTP status known); errors after that arrive in the stream.
    fn stream<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<EventStream>>;
}

/// A provider API key. `Debug` never shows it, and nothing in this crate formats it into a
/// message or a log line; it leaves the process only in the request header.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the request header and for redacting echoes of it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(..)")
    }
}
