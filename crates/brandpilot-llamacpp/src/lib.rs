//! The llama.cpp engine of Brandpilot, in process: BERT sentence embeddings and local text
//! generation. It owns everything that touches llama.cpp — the one-time backend
//! initialisation ([`backend`]), safetensors-to-GGUF conversion ([`gguf`]), the embedder
//! ([`embedding`]), the language model ([`generation`]) and the start-up CPU check
//! ([`cpu`]) — so its long C++ build is isolated in one crate that rarely changes.
//!
//! This crate knows nothing of HTTP, storage or the embedder and chat-provider traits:
//! `brandpilot-embed` adapts [`BertEmbedder`], `brandpilot-llm-local` adapts [`LocalLlm`].

pub mod backend;
mod context_thread;
pub mod cpu;
pub mod embedding;
mod error;
pub mod generation;
pub mod gguf;

pub use cpu::{CpuReport, cpu_report};
pub use embedding::{BertEmbedder, EmbedderSettings};
pub use error::{LlamaError, Result};
pub use generation::{
    Finish, GenerationEvent, GenerationRequest, GenerationStats, GeneratorSettings, LocalLlm,
    ModelInfo, Prompt, Sampling, Turn, TurnRole,
};
pub use gguf::{OutputType, ensure_gguf};
