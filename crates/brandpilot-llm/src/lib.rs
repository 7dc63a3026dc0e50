//! The provider-independent LLM call layer: one chat interface ([`ChatRequest`] →
//! [`ChatResponse`] or a stream of [`StreamEvent`]s), providers that speak OpenAI-compatible
//! and Anthropic HTTP APIs, a [`Router`] that retries, falls back and trips circuit breakers
//! per provider, and per-call accounting of tokens and cost.
//!
//! Only this crate knows provider wire formats. It must never know HTTP routes of our own
//! server, SQL, or the domain beyond chat messages: callers build prompts, this crate
//! delivers them.

pub mod accounting;
pub mod anthropic;
mod breaker;
mod error;
mod http;
pub mod openai;
mod provider;
mod router;
pub mod schema;
pub mod sse;
mod structured;
mod types;

pub use breaker::{BreakerConfig, BreakerState, Clock, SystemClock};
pub use error::{LlmError, Result};
pub use provider::{ApiKey, ChatProvider, EventStream};
pub use router::{RoutePolicy, Router, RouterBuilder, ScopedRouter};
pub use structured::StructuredResponse;
pub use types::{
    ChatRequest, ChatResponse, FinishReason, Message, ResponseFormat, Role, ServedBy,
    StreamCollector, StreamEvent, ToolCall, ToolSpec, Usage,
};
