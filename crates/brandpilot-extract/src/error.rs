//! The crate's one error enum and whose fault each variant is.
//!
//! Every message here may be shown to a user: it must never contain parser internals,
//! provider credentials or stack traces (those go to the log where the error is created).

use std::path::PathBuf;

use brandpilot_core::{Fault, FaultKind, SourceKind};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("unsupported file: {reason}")]
    Unsupported { reason: String },

    #[error("the {what} is larger than the limit of {limit_bytes} bytes")]
    TooLarge {
        what: &'static str,
        limit_bytes: u64,
    },

    #[error("the {kind} file is damaged or not a valid {kind} file: {reason}")]
    Corrupt { kind: SourceKind, reason: String },

    #[error("the document is password-protected; remove the password and upload it again")]
    Encrypted,

    #[error("no text could be extracted (the file is empty or holds only images)")]
    Empty,

    #[error("{operation} took longer than its limit of {seconds} s and was stopped")]
    Timeout {
        operation: &'static str,
        seconds: u64,
    },

    #[error("the PDF reader failed on this file and was stopped; the file is probably damaged")]
    Crashed,

    #[error("could not run the PDF reader process: {reason}")]
    Worker { reason: String },

    #[error(
        "{tool} is needed for this file but was not found; install the Debian package `{debian_package}` (apt-get install {debian_package})"
    )]
    ToolMissing {
        tool: &'static str,
        debian_package: &'static str,
    },

    #[error("the transcription service refused the file (HTTP {status}): {message}")]
    TranscriptionRejected { status: u16, message: String },

    #[error("the transcription service is unavailable: {reason}")]
    TranscriptionUnavailable { reason: String },

    #[error("the transcription service sent an answer we cannot read: {reason}")]
    TranscriptionResponse { reason: String },

    #[error("could not read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ExtractError {
    pub(crate) fn corrupt(kind: SourceKind, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            kind,
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(reason: impl Into<String>) -> Self {
        Self::Unsupported {
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

impl Fault for ExtractError {
    fn fault(&self) -> FaultKind {
        match self {
            // The file itself is the problem: retrying the same bytes fails the same way.
            // A parser crash is triggered by the file, so it is reported the same way (the
            // detail is logged for us where it happens).
            ExtractError::Unsupported { .. }
            | ExtractError::TooLarge { .. }
            | ExtractError::Corrupt { .. }
            | ExtractError::Encrypted
            | ExtractError::Empty
            | ExtractError::Crashed
            | ExtractError::TranscriptionRejected { .. } => FaultKind::User,
            ExtractError::Timeout { .. } | ExtractError::TranscriptionUnavailable { .. } => {
                FaultKind::Transient
            }
            ExtractError::Worker { .. }
            | ExtractError::ToolMissing { .. }
            | ExtractError::TranscriptionResponse { .. } => FaultKind::Bug,
            ExtractError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    FaultKind::User
                }
                _ => FaultKind::Bug,
            },
        }
    }
}

/// A limit as the user would state it: sub-second limits (used in tests) read as 1 second
/// rather than "0 seconds".
pub(crate) fn whole_seconds(duration: std::time::Duration) -> u64 {
    duration.as_secs_f64().ceil().max(1.0) as u64
}
