//! The crate's one error type. Every failure says whose fault it is (via
//! [`brandpilot_core::Fault`]) so callers decide once whether to retry, report or log.
//!
//! Never put model weights or user text into an error message: only paths, names and sizes.

use std::path::PathBuf;

use brandpilot_core::{Fault, FaultKind};

/// Result alias for this crate.
pub type Result<T, E = LlamaError> = std::result::Result<T, E>;

/// Everything that can go wrong while converting, loading or running a llama.cpp model.
#[derive(Debug, thiserror::Error)]
pub enum LlamaError {
    /// Reading or writing a file failed (`fs_err` puts the path in the message).
    #[error(transparent)]
    Io(#[from] std::io::Error),

    /// A model directory is missing a file the conversion needs.
    #[error("model directory {dir} has no {file}")]
    MissingModelFile { dir: PathBuf, file: &'static str },

    /// A JSON configuration file (config.json, tokenizer.json, …) could not be parsed.
    #[error("cannot parse {path}: {source}")]
    BadConfig {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// The model is not something this crate can convert or run (wrong architecture,
    /// unexpected tensor shape, unsupported dtype).
    #[error("unsupported model: {0}")]
    UnsupportedModel(String),

    /// A GGUF file is malformed (truncated, bad magic, inconsistent offsets).
    #[error("invalid GGUF file: {0}")]
    InvalidGguf(String),

    /// The llama.cpp backend could not be initialised.
    #[error("llama.cpp backend initialisation failed: {0}")]
    Backend(String),

    /// llama.cpp refused to load the model file.
    #[error("llama.cpp could not load {path}: {message}")]
    ModelLoad { path: PathBuf, message: String },

    /// llama.cpp could not create an inference context (usually out of memory).
    #[error("llama.cpp could not create a context: {0}")]
    Context(String),

    /// A text has more tokens than the model accepts. Callers must chunk first: the
    /// embedder never truncates silently.
    #[error("text {index} has {tokens} tokens, more than the model's limit of {limit}")]
    TextTooLong {
        index: usize,
        tokens: usize,
        limit: usize,
    },

    /// A prompt does not fit the context window (with room for at least one answer token).
    #[error("the prompt has {tokens} tokens, more than the {limit} the context window allows")]
    PromptTooLong { tokens: usize, limit: usize },

    /// Running the model failed.
    #[error("llama.cpp inference failed: {0}")]
    Inference(String),

    /// A model's worker thread is gone (it panicked or the process is shutting down).
    #[error("the model's worker thread has stopped")]
    WorkerGone,

    /// Invalid settings passed by the caller (zero threads, batch smaller than a text, …).
    #[error("invalid model settings: {0}")]
    InvalidSettings(String),
}

impl Fault for LlamaError {
    fn fault(&self) -> FaultKind {
        match self {
            LlamaError::Io(_) => FaultKind::Transient,
            LlamaError::MissingModelFile { .. }
            | LlamaError::BadConfig { .. }
            | LlamaError::UnsupportedModel(_)
            | LlamaError::InvalidGguf(_)
            | LlamaError::ModelLoad { .. }
            | LlamaError::TextTooLong { .. }
            | LlamaError::PromptTooLong { .. }
            | LlamaError::InvalidSettings(_) => FaultKind::User,
            LlamaError::Context(_) => FaultKind::Transient,
            LlamaError::Backend(_) | LlamaError::Inference(_) | LlamaError::WorkerGone => {
                FaultKind::Bug
            }
        }
    }
}
