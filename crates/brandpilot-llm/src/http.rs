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
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// `retry-after-ms` (OpenAI, milliseconds), else `Retry-After` as seconds or as an HTTP date
/// (a date in the past means no wait). A value in neither form is ignored: backoff applies.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, SystemTime::now())
}

/// [`retry_after`] with the current time given, so a date converts reproducibly.
fn retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| -> Option<&str> { Some(headers.get(name)?.to_str().ok()?.trim()) };
    let seconds = |text: &str| -> Option<f64> {
        let value: f64 = text.parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    if let Some(millis) = header("retry-after-ms").and_then(seconds) {
        return Some(Duration::from_secs_f64(millis / 1000.0));
    }
    let value = header("retry-after")?;
    if let Some(seconds) = seconds(value) {
        return Some(Duration::from_secs_f64(seconds));
    }
    let at = parse_imf_fixdate(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP date in the IMF-fixdate form every current server sends (RFC 9110 §5.6.7), e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`. The obsolete RFC 850 and asctime forms are not read.
fn parse_imf_fixdate(text: &str) -> Option<SystemTime> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (day_name, rest) = text.split_once(", ")?;
    if !DAYS.contains(&day_name) {
        return None;
    }
    let [day, month, year, time, "GMT"] = rest.split(' ').collect::<Vec<_>>()[..] else {
        return None;
    };
    let number = |digits: &str, width: usize| -> Option<i64> {
        (digits.len() == width && digits.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| digits.parse().ok())?
    };
    let month = MONTHS.iter().position(|name| *name == month)? as i64 + 1;
    let (day, year) = (number(day, 2)?, number(year, 4)?);
    let [hour, minute, second] = time.split(':').collect::<Vec<_>>()[..] else {
        return None;
    };
    let (hour, minute, second) = (number(hour, 2)?, number(minute, 2)?, number(second, 2)?);
    // 60 is a leap second.
    if !(1..=days_in_month(year, month)).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let seconds = days_since_epoch(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second;
    // Before 1970 is as past as any other past date: clamping keeps it one.
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar, counting years from
/// March so that the leap day falls at the end of a year (Howard Hinnant's algorithm).
fn days_since_epoch(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110's example date, as Unix time.
    fn rfc_example_instant() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn retry_after_prefers_milliseconds() {
        let seconds = headers(&[("retry-after", "2")]);
        assert_eq!(retry_after(&seconds), Some(Duration::from_secs(2)));
        let both = headers(&[("retry-after", "2"), ("retry-after-ms", "150")]);
        assert_eq!(retry_after(&both), Some(Duration::from_millis(150)));
    }

    #[test]
    fn retry_after_as_an_http_date_is_the_time_left_until_it() {
        let date = headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]);
        let now = rfc_example_instant() - Duration::from_secs(90);
        assert_eq!(retry_after_at(&date, now), Some(Duration::from_secs(90)));
        // A date already past asks for no wait at all.
        let later = rfc_example_instant() + Duration::from_secs(3_600);
        assert_eq!(retry_after_at(&date, later), Some(Duration::ZERO));
        let before_1970 = headers(&[("retry-after", "Thu, 06 Nov 1969 08:49:37 GMT")]);
        assert_eq!(retry_after_at(&before_1970, later), Some(Duration::ZERO));
        // Known instants (from RFC 9110 and MDN), one after a leap day.
        for (text, unix_seconds) in [
            ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777),
            ("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_480),
            ("Thu, 29 Feb 2024 23:59:59 GMT", 1_709_251_199),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ] {
            assert_eq!(
                parse_imf_fixdate(text),
                Some(UNIX_EPOCH + Duration::from_secs(unix_seconds)),
                "{text}"
            );
        }
    }

    #[test]
    fn unreadable_retry_after_values_are_ignored() {
        for garbage in [
            "soon",
            "",
            "-5",
            "NaN",
            "inf",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Fri, 29 Feb 2023 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov +994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT extra",
        ] {
            let headers = headers(&[("retry-after", garbage)]);
            assert_eq!(
                retry_after_at(&headers, rfc_example_instant()),
                None,
                "{garbage:?}"
            );
        }
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
