//! The one error type of this crate and whose fault each case is: the router retries and
//! falls back on [`FaultKind::Transient`] errors only, never on [`FaultKind::User`] ones.
//!
//! Messages name the provider and say what went wrong in words an operator can act on. They
//! must never contain an API key: provider error text is passed through [`redact`] before it
//! is stored here, and nothing here holds a request header.

use brandpilot_core::{Fault, FaultKind};
use std::time::Duration;

pub type Result<T, E = LlmError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The provider refused the request for a reason retrying will not fix: HTTP 400, 401,
    /// 403, 404, 422 and other 4xx not listed under [`LlmError::Unavailable`].
    #[error("{provider} rejected the request (HTTP {status}): {message}")]
    Rejected {
        provider: String,
        status: u16,
        message: String,
    },

    /// The provider is rate limiting, overloaded or failing (HTTP 408, 409, 425, 429, 5xx,
    /// or an `overloaded_error`/`api_error` event in a stream).
    #[error("{provider} is unavailable ({}): {message}", status_text(*status))]
    Unavailable {
        provider: String,
        /// `None` when the failure came as an error event inside a 200 stream.
        status: Option<u16>,
        message: String,
        /// How long the provider asked us to wait (`Retry-After`, `retry-after-ms`).
        retry_after: Option<Duration>,
    },

    /// No answer (or no next stream event) within the per-call timeout.
    #[error("{provider} did not answer within {} ms", timeout.as_millis())]
    Timeout { provider: String, timeout: Duration },

    /// The connection failed or broke (refused, reset, TLS, a body cut short).
    #[error("could not talk to {provider}: {message}")]
    Connection { provider: String, message: String },

    /// The stream ended before its final event: the answer is incomplete.
    #[error("{provider} stopped streaming before the answer was complete")]
    StreamInterrupted { provider: String },

    /// The provider answered outside its protocol (unparsable JSON, a malformed event).
    #[error("{provider} sent an unusable response: {message}")]
    Protocol { provider: String, message: String },

    /// The request cannot be sent as it is (no messages, a tool result without a call id).
    #[error("invalid chat request: {0}")]
    InvalidRequest(String),

    /// Settings that cannot work (an unparsable base URL, a route naming an unknown
    /// provider, a zero concurrency limit).
    #[error("LLM configuration: {0}")]
    Config(String),

    /// A route name no configuration defines.
    #[error("no LLM route named {0:?} is configured")]
    UnknownRoute(String),

    /// Every provider of the route has an open circuit breaker, so none was tried.
    #[error(
        "every provider of route {route:?} is failing (circuit breakers open); try again shortly"
    )]
    AllProvidersOpen { route: String },

    /// A provider could not take another call within the timeout (its concurrency limit
    /// was reached); not a failure of the provider itself.
    #[error("{provider} is at its concurrency limit")]
    Saturated { provider: String },

    /// Every provider of the route was tried and failed; `last` is the final failure.
    #[error("all {attempts} attempts on route {route:?} failed; last: {last}")]
    Exhausted {
        route: String,
        attempts: u32,
        last: Box<LlmError>,
    },

    /// A structured answer still failed to parse or to satisfy its schema after one
    /// correction. Not transient: the same prompt and schema are likely to fail again, so
    /// nothing should retry it blindly. `raw` is the whole last answer (for the log and for
    /// debugging the prompt); the message shows only its beginning.
    #[error(
        "the model's answer did not match the response schema after a correction ({}); the answer began: {}",
        summarise_problems(problems),
        answer_start(raw)
    )]
    InvalidStructuredOutput { raw: String, problems: Vec<String> },

    /// Our own invariant broke.
    #[error("internal error in the LLM layer: {0}")]
    Internal(String),
}

/// The first problems of a structured answer and how many more there are.
fn summarise_problems(problems: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut summary = problems
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > SHOWN {
        summary.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    summary
}

/// The start of a model's answer, short enough for a log line.
fn answer_start(raw: &str) -> String {
    const MAX_CHARS: usize = 200;
    match raw.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}…", &raw[..cut]),
        None => format!("{raw:?}"),
    }
}

fn status_text(status: Option<u16>) -> String {
    match status {
        Some(status) => format!("HTTP {status}"),
        None => "error event".to_owned(),
    }
}

impl LlmError {
    /// How long the provider asked us to wait before the next call, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Unavailable { retry_after, .. } => *retry_after,
            LlmError::Exhausted { last, .. } => last.retry_after(),
            LlmError::Rejected { .. }
            | LlmError::Timeout { .. }
            | LlmError::Connection { .. }
            | LlmError::StreamInterrupted { .. }
            | LlmError::Protocol { .. }
            | LlmError::InvalidRequest(_)
            | LlmError::Config(_)
            | LlmError::UnknownRoute(_)
            | LlmError::AllProvidersOpen { .. }
            | LlmError::Saturated { .. }
            | LlmError::InvalidStructuredOutput { .. }
            | LlmError::Internal(_) => None,
        }
    }

    /// The error for an HTTP status that is not a success, classified by whose fault it is.
    pub(crate) fn from_status(
        provider: &str,
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    ) -> Self {
        if is_transient_status(status) {
            LlmError::Unavailable {
                provider: provider.to_owned(),
                status: Some(status),
                message,
                retry_after,
            }
        } else {
            LlmError::Rejected {
                provider: provider.to_owned(),
                status,
                message,
            }
        }
    }
}

/// Statuses worth retrying elsewhere or later: request timeout, conflict, too early, rate
/// limit, and every server error (Anthropic's 529 "overloaded" included).
pub(crate) fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || status >= 500
}

impl Fault for LlmError {
    fn fault(&self) -> FaultKind {
        match self {
            LlmError::Rejected { .. }
            | LlmError::InvalidRequest(_)
            | LlmError::Config(_)
            | LlmError::UnknownRoute(_)
            // Permanent, like the caller's errors: retrying the same prompt and schema
            // (beyond the one correction already made) is not expected to help, and the
            // message says what to change.
            | LlmError::InvalidStructuredOutput { .. } => FaultKind::User,
            LlmError::Unavailable { .. }
            | LlmError::Timeout { .. }
            | LlmError::Connection { .. }
            | LlmError::StreamInterrupted { .. }
            | LlmError::Protocol { .. }
            | LlmError::AllProvidersOpen { .. }
            | LlmError::Saturated { .. } => FaultKind::Transient,
            LlmError::Exhausted { last, .. } => last.fault(),
            LlmError::Internal(_) => FaultKind::Bug,
        }
    }
}

/// Removes `secret` from provider-supplied text (some servers echo the key they refused) and
/// caps its length, so error messages stay safe to log and short enough to read.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    const MAX_CHARS: usize = 500;
    let mut text = match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "[redacted]"),
        _ => text.to_owned(),
    };
    if let Some((cut, _)) = text.char_indices().nth(MAX_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_by_whose_fault_they_are() {
        for status in [400, 401, 403, 404, 422] {
            let error = LlmError::from_status("p", status, String::new(), None);
            assert_eq!(error.fault(), FaultKind::User, "{status}");
        }
        for status in [408, 409, 425, 429, 500, 502, 503, 529] {
            let error = LlmError::from_status("p", status, String::new(), None);
            assert_eq!(error.fault(), FaultKind::Transient, "{status}");
        }
    }

    #[test]
    fn invalid_structured_output_is_permanent_and_its_message_stays_short() {
        let raw = format!("{{\"title\": \"{}\"}}", "word ".repeat(400));
        let problems: Vec<String> = (1..=5).map(|index| format!("/p{index}: bad")).collect();
        let error = LlmError::InvalidStructuredOutput {
            raw: raw.clone(),
            problems,
        };
        assert_eq!(error.fault(), FaultKind::User);
        assert_eq!(error.retry_after(), None);
        let message = error.to_string();
        assert!(message.len() < 400, "{} chars: {message}", message.len());
        assert!(
            message.contains("/p1: bad; /p2: bad; /p3: bad; and 2 more"),
            "{message}"
        );
        assert!(
            message.contains("{\\\"title\\\": \\\"word word"),
            "{message}"
        );
        let LlmError::InvalidStructuredOutput { raw: kept, .. } = error else {
            unreachable!()
        };
        assert_eq!(kept, raw, "the field keeps the whole answer");
    }

    #[test]
    fn redact_removes_the_key_and_caps_length() {
        let text = format!("Incorrect API key provided: sk-secret. {}", "x".repeat(600));
        let redacted = redact(&text, Some("sk-secret"));
        assert!(!redacted.contains("sk-secret"));
        assert!(redacted.contains("[redacted]"));
        assert_eq!(redacted.chars().count(), 501);
    }
}
