//! HTTP plumbing shared by the providers that speak JSON over HTTP: building the client,
//! turning a failed response or a transport error into a classified [`LlmError`], reading
//! `Retry-After`, and driving an SSE body through a provider-specific [`EventDecoder`].
//!
//! It knows no provider's JSON. It must never log or return a request header (the key is in
//! one) nor a URL (a base URL may carry credentials); provider text is always redacted.

use crate::error::{LlmError, Result, redact};
use crate::provider::EventStream;
use crate::sse::{SseEvent, SseParser};
use crate::types::StreamEvent;
use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::Duration;

/// One client per provider. No client-side timeouts: the router owns the clock.
pub(crate) fn build_client(provider: &str) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .build()
        .map_err(|error| LlmError::Config(format!("HTTP client for {provider}: {error}")))
}

/// Validates a base URL and drops trailing slashes, so `{base}/path` joins cleanly.
pub(crate) fn normalise_base_url(provider: &str, base_url: &str) -> Result<String> {
    let trimmed = base_url.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(trimmed.to_owned()),
        // The URL itself is not repeated: it may hold credentials.
        _ => Err(LlmError::Config(format!(
            "base URL of provider {provider} is not an http(s) URL"
        ))),
    }
}

/// Refuses a provider configured without a model: every request would fail upstream.
pub(crate) fn require_model(provider: &str, model: &str) -> Result<()> {
    if model.trim().is_empty() {
        return Err(LlmError::Config(format!(
            "provider {provider} has no model configured"
        )));
    }
    Ok(())
}

/// Sends a request; a transport failure or a non-success status becomes a classified error.
pub(crate) async fn send_checked(
    provider: &str,
    request: reqwest::RequestBuilder,
    secret: Option<&str>,
) -> Result<reqwest::Response> {
    let response = request
        .send()
        .await
        .map_err(|error| transport_error(provider, error, secret))?;
    if !response.status().is_success() {
        return Err(status_error(provider, response, secret).await);
    }
    Ok(response)
}

/// The whole body of a successful, non-streaming response.
pub(crate) async fn read_body(
    provider: &str,
    response: reqwest::Response,
    secret: Option<&str>,
) -> Result<bytes::Bytes> {
    response
        .bytes()
        .await
        .map_err(|error| transport_error(provider, error, secret))
}

/// A transport failure (connect, TLS, a body cut short), described without the URL.
pub(crate) fn transport_error(
    provider: &str,
    error: reqwest::Error,
    secret: Option<&str>,
) -> LlmError {
    let error = error.without_url();
    // reqwest's own text is only "error sending request"; the cause is down the chain.
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    if error.is_decode() {
        return LlmError::Protocol {
            provider: provider.to_owned(),
            message: redact(&message, secret),
        };
    }
    LlmError::Connection {
        provider: provider.to_owned(),
        message: redact(&message, secret),
    }
}

/// The classified error for a response whose status is not a success.
async fn status_error(
    provider: &str,
    response: reqwest::Response,
    secret: Option<&str>,
) -> LlmError {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    // A body that cannot be read still leaves the status to classify by.
    let body = response.text().await.unwrap_or_default();
    let message = redact(&error_message(&body), secret);
    LlmError::from_status(provider, status, message, retry_after)
}

/// The human message inside an error body: OpenAI's and Anthropic's `{"error":
/// {"message"}}`, Ollama's `{"error": "..."}`, or the raw text.
pub(crate) fn error_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|value| {
        let error = value.get("error")?;
        error
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| error.as_str())
            .map(str::to_owned)
    });
    match from_json {
        Some(message) => message,
        None if body.trim().is_empty() => "no error message".to_owned(),
        None => body.trim().to_owned(),
    }
}

/// `retry-after-ms` (OpenAI, milliseconds) or `Retry-After` in seconds. The HTTP-date form
/// is not read: no chat provider sends it, and guessing would be worse than backoff.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    if let Some(millis) = number("retry-after-ms") {
        return Some(Duration::from_secs_f64(millis / 1000.0));
    }
    number("retry-after").map(Duration::from_secs_f64)
}

/// Refuses a 200 answer that is not an event stream (a server that ignored `stream: true`).
pub(crate) fn ensure_event_stream(provider: &str, response: &reqwest::Response) -> Result<()> {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    match content_type {
        Some(kind) if !kind.trim_start().starts_with("text/event-stream") => {
            Err(LlmError::Protocol {
                provider: provider.to_owned(),
                message: format!("expected an event stream, got {kind:?}"),
            })
        }
        _ => Ok(()),
    }
}

/// Turns SSE events of one provider into [`StreamEvent`]s.
pub(crate) trait EventDecoder: Send + 'static {
    /// Decodes one event, appending what it yields to `out`. An error ends the stream after
    /// the events already in `out` are delivered.
    fn decode(&mut self, event: SseEvent, out: &mut VecDeque<StreamEvent>) -> Result<()>;

    /// True once the provider's terminal event was decoded (and `Done` emitted).
    fn is_finished(&self) -> bool;

    /// The body ended without the terminal event: either complete the answer (when the
    /// protocol allows it) or report the interruption.
    fn end_of_body(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<()>;
}

struct StreamState<D> {
    provider: String,
    secret: Option<String>,
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    parser: SseParser,
    decoder: D,
    pending: VecDeque<StreamEvent>,
    failure: Option<LlmError>,
}

/// Drives `response`'s body through the SSE parser and `decoder`. The stream ends after
/// `Done` or after the first error, never waiting for the connection to close.
pub(crate) fn event_stream<D: EventDecoder>(
    provider: &str,
    secret: Option<&str>,
    response: reqwest::Response,
    decoder: D,
) -> EventStream {
    let state = StreamState {
        provider: provider.to_owned(),
        secret: secret.map(str::to_owned),
        body: response.bytes_stream().boxed(),
        parser: SseParser::new(),
        decoder,
        pending: VecDeque::new(),
        failure: None,
    };
    futures_util::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        loop {
            if let Some(event) = state.pending.pop_front() {
                return Some((Ok(event), Some(state)));
            }
            if let Some(failure) = state.failure.take() {
                return Some((Err(failure), None));
            }
            if state.decoder.is_finished() {
                return None;
            }
            match state.body.next().await {
                Some(Ok(chunk)) => {
                    let mut events = Vec::new();
                    if let Err(error) = state.parser.push(&chunk, &mut events) {
                        state.failure = Some(LlmError::Protocol {
                            provider: state.provider.clone(),
                            message: error.to_string(),
                        });
                    }
                    for event in events {
                        if state.decoder.is_finished() {
                            break;
                        }
                        if let Err(error) = state.decoder.decode(event, &mut state.pending) {
                            state.failure = Some(error);
                            break;
                        }
                    }
                }
                Some(Err(error)) => {
                    let error = transport_error(&state.provider, error, state.secret.as_deref());
                    state.failure = Some(error);
                }
                None => {
                    if let Err(error) = state.decoder.end_of_body(&mut state.pending) {
                        state.failure = Some(error);
                    } else if !state.decoder.is_finished() {
                        state.failure = Some(LlmError::Internal(format!(
                            "{} decoder neither finished nor failed at the end of the body",
                            state.provider
                        )));
                    }
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prefers_milliseconds() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(150)));
        headers.clear();
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn error_messages_from_known_shapes() {
        assert_eq!(
            error_message(r#"{"error":{"message":"bad key","type":"x"}}"#),
            "bad key"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message("upstream down"), "upstream down");
        assert_eq!(error_message(""), "no error message");
    }
}
