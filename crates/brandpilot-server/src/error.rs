//! One error shape for the whole API.
//!
//! Handlers return [`ApiError`]; it becomes a bare status with an [`ErrorBody`] attached as a
//! response extension, and the request-context middleware renders every error response
//! (ours and axum's own 404/405/413 alike) as `{"error":{"code","message","request_id"}}`.
//! The mapping from the app's errors is one exhaustive `match`: a new variant below fails
//! to compile until someone decides what a client sees. A fault that is not the caller's
//! is logged here, once, with its detail, and the client gets a fixed sentence.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use brandpilot_app::AppError;
use brandpilot_core::{Fault, FaultKind};
use brandpilot_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// An error on its way to the client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: clients branch on this, never on the message.
    pub code: &'static str,
    /// For people; never carries SQL, paths, panic text or another workspace's data.
    pub message: String,
    /// Seconds after which trying again may work, sent as `Retry-After`.
    pub retry_after_secs: Option<u64>,
}

/// The code and message a response carries until the middleware adds the request id.
#[derive(Debug, Clone)]
pub(crate) struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable error code, e.g. `not_found`, `invalid_request`, `unauthenticated`.
    pub code: String,
    pub message: String,
    /// The request's id, also in the `x-request-id` header; quote it in a bug report.
    pub request_id: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to handle this request; it has been logged",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is busy; try again shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(seconds) = self.retry_after_secs {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response.extensions_mut().insert(ErrorBody {
            code: self.code,
            message: self.message,
        });
        response
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match &error {
            AppError::UnknownBrand(_) | AppError::BrandNotFound(_) => {
                ApiError::not_found(error.to_string())
            }
            AppError::UnknownSource(_) | AppError::ApiKeyNotFound(_) | AppError::JobNotFound(_) => {
                ApiError::not_found(error.to_string())
            }
            AppError::MemberNotFound(_) | AppError::InvitationNotFound => {
                ApiError::not_found(error.to_string())
            }
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
            | AppError::WidgetNotFound => ApiError::not_found(error.to_string()),
            AppError::InvalidInput(message) => ApiError::invalid(message.clone()),
            AppError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message.clone())
            }
            AppError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                error.to_string(),
            ),
            AppError::SessionEnded => {
                ApiError::new(StatusCode::UNAUTHORIZED, "session_ended", error.to_string())
            }
            AppError::Forbidden(message) => ApiError::forbidden(message.clone()),
            AppError::CreditsExhausted { resets_at_ms, .. } => {
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                ApiError {
                    retry_after_secs: Some(
                        u64::try_from((resets_at_ms - now_ms).max(0) / 1000 + 1).unwrap_or(1),
                    ),
                    ..ApiError::new(
                        StatusCode::PAYMENT_REQUIRED,
                        "credits_exhausted",
                        error.to_string(),
                    )
                }
            }
            // Only the checks before a fetch is queued reach a request (the fetch itself
            // runs in a job); their messages never name an internal address.
            AppError::Fetch(fetch) => {
                ApiError::new(StatusCode::BAD_REQUEST, "url_refused", fetch.to_string())
            }
            AppError::Store(StoreError::Conflict(_)) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "this already exists")
            }
            // Faults of the server's own set-up or of a layer below: the caller can only
            // retry (transient) or report it (anything else). User faults of the layers
            // below carry messages written for the person who sent the input.
            AppError::Store(_)
            | AppError::Index(_)
            | AppError::Embed(_)
            | AppError::Extract(_)
            | AppError::Llm(_)
            | AppError::Retrieve(_) => by_fault(&error),
            AppError::ModelUnavailable(detail) => {
                tracing::error!(%detail, "no language model for a request that needs one");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "model_unavailable",
                    "no language model is available; an operator must configure a provider or \
                     pull the local model (`brandpilot models pull`)",
                )
            }
            AppError::Settings(_)
            | AppError::Dataset(_)
            | AppError::Io { .. }
            | AppError::Task(_) => internal(&error),
        }
    }
}

fn by_fault(error: &AppError) -> ApiError {
    match error.fault() {
        FaultKind::User => ApiError::invalid(error.to_string()),
        FaultKind::Transient => {
            tracing::warn!(error = %error, "transient failure");
            ApiError::unavailable()
        }
        FaultKind::Bug => internal(error),
    }
}

fn internal(error: &AppError) -> ApiError {
    tracing::error!(error = %error, "request failed");
    ApiError::internal()
}

/// The code an error response gets when nothing more specific was attached (axum's own
/// rejections, a status set by a layer).
pub(crate) fn code_for_status(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => ("invalid_request", "the request is malformed"),
        StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication is required"),
        StatusCode::FORBIDDEN => ("forbidden", "this is not allowed"),
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this method is not allowed here; see the Allow header",
        ),
        StatusCode::NOT_ACCEPTABLE => ("not_acceptable", "no acceptable representation"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as application/json",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid_request", "the request body is invalid"),
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the server is busy; try again shortly"),
        status if status.is_client_error() => ("invalid_request", "the request was refused"),
        _ => (
            "internal_error",
            "the server failed to handle this request; it has been logged",
        ),
    }
}
