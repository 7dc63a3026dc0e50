//! Whose fault an error is: the classification every crate's error enum reports so that the
//! HTTP layer, the job queue and the LLM router decide retry and status codes uniformly.

/// Who must act for an operation that failed to succeed next time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// The caller sent something unusable (a corrupt file, an unknown brand). Retrying the
    /// same input fails the same way; the message is safe to show.
    User,
    /// Something outside us failed for now (a timeout, a busy database, a 503 upstream).
    /// Retrying later may succeed.
    Transient,
    /// Our own invariant broke. Log it with detail; show the user only a generic message.
    Bug,
}

/// Implemented by every crate's error enum.
pub trait Fault {
    fn fault(&self) -> FaultKind;
}
