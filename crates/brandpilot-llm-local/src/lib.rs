//! The local chat provider: a quantized GGUF language model run in this process by
//! `brandpilot-llamacpp`, served through `brandpilot-llm`'s [`ChatProvider`] trait so the
//! router treats it like any hosted API — and the embedded default when no provider is
//! configured, so Brandpilot answers offline.
//!
//! This crate translates chat requests into prompts (the model's own chat template, or a
//! plain transcript for base models without one), sampling settings and grammars, streams
//! the worker's output as [`StreamEvent`]s, and finds model files ([`resolve_gguf`]). It
//! never knows HTTP, storage or routes.
//!
//! [`ChatProvider`]: brandpilot_llm::ChatProvider
//! [`StreamEvent`]: brandpilot_llm::StreamEvent

pub mod bench;
mod provider;
mod resolve;

pub use brandpilot_llamacpp::{GeneratorSettings, ModelInfo};
pub use provider::{LocalProvider, LocalProviderOptions};
pub use resolve::{ResolveError, resolve_gguf};
