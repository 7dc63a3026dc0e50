//! The llama.cpp engine of Brandpilot, in process: BERT sentence embeddings today, the
//! local chat model later. It owns everything that touches llama.cpp — the one-time
//! backend initialisation ([`backend`]), safetensors-to-GGUF conversion ([`gguf`]), the
//! embedder ([`embedding`]) and the start-up CPU check ([`cpu`]) — so its long C++ build
//! is isolated in one crate that rarely changes.
//!
//! This crate knows nothing of HTTP, storage or the embedder trait: `brandpilot-embed`
//! adapts [`BertEmbedder`] to that trait.

pub mod backend;
pub mod cpu;
pub mod embedding;
mod error;
pub mod gguf;

pub use cpu::{CpuReport, cpu_report};
pub use embedding::{BertEmbedder, EmbedderSettings};
pub use error::{LlamaError, Result};
pub use gguf::{OutputType, ensure_gguf};
