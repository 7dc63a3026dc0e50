//! The crate's one error type and how each failure is classified for retries and status
//! codes. It must never carry user text (queries, chunk text) into messages.

use brandpilot_core::{Fault, FaultKind};
use std::path::PathBuf;

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("full-text index: {0}")]
    FullText(#[from] tantivy::TantivyError),
    #[error("opening the full-text index directory: {0}")]
    FullTextDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// The vector engine (usearch) refused an operation; its message is kept verbatim.
    #[error("vector index: {0}")]
    VectorEngine(String),
    /// `fs_err` errors name the path, so the message says which file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("vector has {actual} dimensions, the index holds {expected}")]
    Dimensions { expected: usize, actual: usize },
    /// Files an index wrote itself no longer parse. The index is rebuildable from the store.
    #[error("index files in {dir} are unreadable: {reason}")]
    Corrupt { dir: PathBuf, reason: String },
    /// Another process writes to this index directory (most often a running
    /// `brandpilot serve` on the same data directory).
    #[error(
        "the search index in {0} is in use by another Brandpilot process (a running \
         `brandpilot serve`?); stop it, or point this command at another data directory"
    )]
    InUse(PathBuf),
    /// A thread panicked while holding an index lock; the in-memory state may be half-updated.
    #[error("an index lock was poisoned by a panic")]
    Poisoned,
}

impl Fault for IndexError {
    fn fault(&self) -> FaultKind {
        match self {
            IndexError::FullText(error) => match error {
                // Disk trouble and a second writer on the same directory can clear up.
                tantivy::TantivyError::IoError(_) | tantivy::TantivyError::LockFailure(..) => {
                    FaultKind::Transient
                }
                _ => FaultKind::Bug,
            },
            IndexError::FullTextDirectory(_) => FaultKind::Transient,
            IndexError::VectorEngine(_) => FaultKind::Bug,
            IndexError::Io(_) => FaultKind::Transient,
            // The embedder and the index disagree on dimensions: a configuration bug.
            IndexError::Dimensions { .. } => FaultKind::Bug,
            IndexError::Corrupt { .. } => FaultKind::Bug,
            IndexError::InUse(_) => FaultKind::Transient,
            IndexError::Poisoned => FaultKind::Bug,
        }
    }
}

impl IndexError {
    pub(crate) fn vector_engine(error: impl std::fmt::Display) -> Self {
        IndexError::VectorEngine(error.to_string())
    }
}

impl<T> From<std::sync::PoisonError<T>> for IndexError {
    fn from(_: std::sync::PoisonError<T>) -> Self {
        IndexError::Poisoned
    }
}
