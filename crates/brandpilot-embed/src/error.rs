//! The one error type of this crate and whose fault each case is.
//!
//! Messages are written to be shown to an operator: they say what to do next (run
//! `scripts/setup-models.sh`, fix the key). They must never contain an API key.

use brandpilot_core::{Fault, FaultKind};
use std::path::PathBuf;

pub type Result<T, E = EmbedError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A text is longer than the model reads. Chunks are cut to fit, so this means a caller
    /// passed unchunked text without opting into windowing.
    #[error(
        "text {index} has {tokens} tokens but {model} reads at most {max_tokens}; \
         chunk it or embed through WindowedEmbedder"
    )]
    TooLong {
        index: usize,
        tokens: usize,
        max_tokens: usize,
        model: String,
    },

    /// No model files where the spec pointed.
    #[error(
        "embedding model {spec:?} not found (looked in {}); run scripts/setup-models.sh \
         or pass the path of a directory holding tokenizer.json, config.json and \
         model.safetensors",
        display_paths(searched)
    )]
    ModelNotFound {
        spec: String,
        searched: Vec<PathBuf>,
    },

    /// Model files exist but cannot be used as they are.
    #[error("model files in {}: {reason}", path.display())]
    InvalidModel { path: PathBuf, reason: String },

    /// A tokenizer.json could not be loaded, or the tokenizer failed on a text.
    #[error("tokenizer {context}: {reason}")]
    Tokenizer { context: String, reason: String },

    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Settings that cannot work (a zero batch size, an unparsable URL).
    #[error("embedder configuration: {0}")]
    Config(String),

    /// The provider refused the request for a reason retrying will not fix (HTTP 4xx other
    /// than 429): a bad key, an unknown model, an input it will not take.
    #[error("embedding provider rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },

    /// The provider is busy, down or slow (HTTP 429 or 5xx, timeout, refused connection),
    /// still so after one retry.
    #[error("embedding provider unavailable: {0}")]
    Unavailable(String),

    /// The provider answered, but not in the protocol (unparsable JSON, a missing index, a
    /// different number of vectors than texts).
    #[error("embedding provider sent an unusable response: {0}")]
    Protocol(String),

    /// Vectors of a different length than this embedder promised: the configured dimensions
    /// do not match the model, or the model behind the endpoint changed.
    #[error(
        "embedding provider returned {actual}-dimensional vectors but {expected} were \
         expected; fix the configured dimensions or re-index with the new model"
    )]
    DimensionMismatch { expected: usize, actual: usize },

    /// An in-process model failed to run (for in-process backends).
    #[error("embedding model failed: {0}")]
    Inference(String),
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nowhere".to_owned();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Fault for EmbedError {
    fn fault(&self) -> FaultKind {
        // Exhaustive on purpose: a new variant must decide its fault here.
        match self {
            EmbedError::TooLong { .. }
            | EmbedError::ModelNotFound { .. }
            | EmbedError::InvalidModel { .. }
            | EmbedError::Config(_)
            | EmbedError::Rejected { .. }
            | EmbedError::DimensionMismatch { .. } => FaultKind::User,
            // A tokenizer.json that does not load is a setup problem the operator fixes.
            EmbedError::Tokenizer { .. } => FaultKind::User,
            EmbedError::Io { .. } | EmbedError::Unavailable(_) | EmbedError::Protocol(_) => {
                FaultKind::Transient
            }
            EmbedError::Inference(_) => FaultKind::Bug,
        }
    }
}
