//! The one error type of the crate. Everything here is a pure function of its inputs, so
//! every error is the caller's input being unusable (rules that contradict themselves, a
//! reel duration out of range, an experiment without visitors, a voice without examples):
//! none is transient and none should ever be a bug. Each carries a stable `code()` so the
//! HTTP layer can map it once.

use thiserror::Error;

pub type Result<T, E = StudioError> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum StudioError {
    /// A brand's rules cannot be applied as written (a hashtag range upside down, a
    /// replacement that is itself banned, ...).
    #[error("brand rules: {field}: {reason}")]
    InvalidRules { field: &'static str, reason: String },
    /// A voice profile a person edited into something that cannot be scored against (a
    /// negative rate, a share above 1, an empty vocabulary word, ...).
    #[error("voice profile: {field}: {reason}")]
    InvalidVoice { field: &'static str, reason: String },
    /// A request value outside what the operation accepts.
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    /// A reel duration outside 15–90 seconds.
    #[error("a reel lasts 15 to 90 seconds; {0} seconds was asked for")]
    DurationOutOfRange(u32),
    /// Nothing but stop words or symbols to build a URL slug from.
    #[error("no word in {0:?} can make a URL slug (only stop words or symbols)")]
    EmptySlug(String),
    /// The statistics need data the experiment does not have yet.
    #[error("not enough data: {0}")]
    InsufficientData(String),
}

impl StudioError {
    /// A stable machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            StudioError::InvalidRules { .. } => "invalid_brand_rules",
            StudioError::InvalidVoice { .. } => "invalid_voice_profile",
            StudioError::InvalidInput { .. } => "invalid_input",
            StudioError::DurationOutOfRange(_) => "duration_out_of_range",
            StudioError::EmptySlug(_) => "empty_slug",
            StudioError::InsufficientData(_) => "insufficient_data",
        }
    }
}
pub(crate) fn invalid_input(field: &'static str, reason: impl Into<String>) -> StudioError {
    StudioError::InvalidInput {
        field,
        reason: reason.into(),
    }
}
