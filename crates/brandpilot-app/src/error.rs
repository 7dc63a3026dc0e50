//! The app's errors: each wraps the failing layer's error and keeps its fault class, plus
//! the app's own user-facing conditions.

use brandpilot_core::{Fault, FaultKind};

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no brand named {0:?} in this workspace")]
    UnknownBrand(String),
    #[error("no source {0} in this brand")]
    UnknownSource(i64),
    /// A brand id that does not exist in the caller's workspace (whether or not it exists
    /// in another: the message must not tell).
    #[error("no brand {0} in this workspace")]
    BrandNotFound(brandpilot_core::BrandId),
    #[error("no API key {0} in this workspace")]
    ApiKeyNotFound(i64),
    #[error("no job {0} in this workspace")]
    JobNotFound(i64),
    #[error("user {0} is not a member of this workspace")]
    MemberNotFound(i64),
    #[error("no conversation {0} here")]
    ConversationNotFound(i64),
    #[error("no message {0} here that can be rated")]
    MessageNotFound(i64),
    #[error("no ticket {0} in this workspace")]
    TicketNotFound(i64),
    #[error("no webhook {0} in this workspace")]
    WebhookNotFound(i64),
    #[error("no experiment {0} in this brand")]
    ExperimentNotFound(i64),
    #[error("no generation {0} in this brand")]
    GenerationNotFound(i64),
    #[error("no variant {0} in this brand")]
    VariantNotFound(i64),
    #[error("no example {0} in this brand's library")]
    ExampleNotFound(i64),
    #[error("no batch {0} in this workspace")]
    BatchNotFound(i64),
    #[error("this brand has no website widget yet; save one with PUT first")]
    WidgetNotConfigured,
    #[error("no website widget has this key, or it is turned off")]
    WidgetNotFound,
    #[error("no such invitation, or it was used, revoked or has expired")]
    InvitationNotFound,
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    Conflict(String),
    /// A login with an unknown email or a wrong password (the message must not tell which).
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// A refresh token that is unknown, spent, expired or logged out.
    #[error("the session has ended; log in again")]
    SessionEnded,
    /// Known caller, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The workspace used this month's credits.
    #[error(
        "this workspace has used its {limit} credits for the month ({used} used); they renew when the month turns"
    )]
    CreditsExhausted {
        used: u64,
        limit: u64,
        resets_at_ms: i64,
    },
    #[error("invalid settings: {0}")]
    Settings(String),
    /// No language model can be set up for a use case that cannot work without one (the
    /// detail is the operator's, logged, not shown).
    #[error("no language model is available: {0}")]
    ModelUnavailable(String),
    #[error(transparent)]
    Store(#[from] brandpilot_store::StoreError),
    #[error(transparent)]
    Index(#[from] brandpilot_index::IndexError),
    #[error(transparent)]
    Embed(#[from] brandpilot_embed::EmbedError),
    #[error(transparent)]
    Extract(#[from] brandpilot_extract::ExtractError),
    #[error(transparent)]
    Fetch(#[from] brandpilot_fetch::FetchError),
    #[error(transparent)]
    Llm(#[from] brandpilot_llm::LlmError),
    #[error(transparent)]
    Retrieve(#[from] brandpilot_knowledge::retrieve::RetrieveError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("dataset: {0}")]
    Dataset(String),
    #[error("a background task failed: {0}")]
    Task(String),
}

impl Fault for AppError {
    fn fault(&self) -> FaultKind {
        match self {
            AppError::UnknownBrand(_) | AppError::UnknownSource(_) => FaultKind::User,
            AppError::BrandNotFound(_) | AppError::ApiKeyNotFound(_) => FaultKind::User,
            AppError::JobNotFound(_) => FaultKind::User,
            AppError::ConversationNotFound(_)
            | AppError::MessageNotFound(_)
            | AppError::TicketNotFound(_)
            | AppError::WebhookNotFound(_)
            | AppError::ExperimentNotFound(_)
            | AppError::GenerationNotFound(_)
            | AppError::VariantNotFound(_)
            | AppError::ExampleNotFound(_)
            | AppError::BatchNotFound(_)
            | AppError::WidgetNotConfigured
            | AppError::WidgetNotFound => FaultKind::User,
            AppError::MemberNotFound(_) | AppError::InvitationNotFound => FaultKind::User,
            AppError::InvalidInput(_) | AppError::Conflict(_) => FaultKind::User,
            AppError::InvalidCredentials | AppError::SessionEnded => FaultKind::User,
            AppError::Forbidden(_) => FaultKind::User,
            AppError::CreditsExhausted { .. } => FaultKind::User,
            AppError::Settings(_) | AppError::Dataset(_) => FaultKind::User,
            AppError::ModelUnavailable(_) => FaultKind::Transient,
            AppError::Store(e) => e.fault(),
            AppError::Index(e) => e.fault(),
            AppError::Embed(e) => e.fault(),
            AppError::Extract(e) => e.fault(),
            AppError::Fetch(e) if e.is_transient() => FaultKind::Transient,
            AppError::Fetch(_) => FaultKind::User,
            AppError::Retrieve(e) => e.fault(),
            AppError::Llm(e) => e.fault(),
            AppError::Io { .. } => FaultKind::User,
            AppError::Task(_) => FaultKind::Bug,
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(error: tokio::task::JoinError) -> Self {
        AppError::Task(error.to_string())
    }
}

/// Runs CPU-bound or blocking work off the async executor.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work).await?
}
