//! Structured output that holds: [`Router::complete_json`] returns a JSON value that
//! satisfies the request's schema, or an error saying why it could not get one.
//!
//! Providers are asked for the schema natively where they can, but models still wrap JSON in
//! prose, drop required fields or invent enum values. So the answer is parsed (tolerating one
//! surrounding Markdown code fence and nothing else), validated with [`schema::validate`],
//! and on failure the model is shown its answer and the problems and asked once for a
//! corrected one. This module must never accept an answer that fails validation, and never
//! ask more than twice: each attempt is a paid call.

use crate::error::{LlmError, Result};
use crate::router::Router;
use crate::schema;
use crate::types::{ChatRequest, ChatResponse, FinishReason, Message, ResponseFormat};
use serde_json::Value;
use std::sync::Arc;

/// A validated JSON answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredResponse {
    /// The answer, parsed; it satisfies the request's schema.
    pub value: Value,
    /// The call that produced it (its text is the raw answer, fence included).
    pub response: ChatResponse,
    /// 1 when the first answer was valid, 2 when the corrected one was.
    pub attempts: u32,
    /// The first answer, when it failed and a correction was asked for: it was paid for too.
    pub discarded: Option<ChatResponse>,
}

/// The most problems listed to the model; a wholly wrong answer can have hundreds, and the
/// first few say enough.
const PROBLEMS_SHOWN: usize = 20;

impl Router {
    /// One answer through `route` as a JSON value satisfying the request's schema.
    ///
    /// The request must have `response_format: Some(ResponseFormat::JsonSchema { .. })`
    /// with a schema inside [`schema`]'s subset, or it fails with
    /// [`LlmError::InvalidRequest`] before any call. An answer that does not parse or does
    /// not validate is retried once, with the model shown its answer and the problems; if
    /// the second answer fails too, the error is [`LlmError::InvalidStructuredOutput`].
    /// Each attempt is one routed call with its own record.
    pub async fn complete_json(
        &self,
        route: &str,
        request: &ChatRequest,
    ) -> Result<StructuredResponse> {
        self.complete_json_in_scope(None, route, request).await
    }

    /// The one implementation of [`Router::complete_json`] and
    /// [`crate::ScopedRouter::complete_json`].
    pub(crate) async fn complete_json_in_scope(
        &self,
        scope: Option<&Arc<str>>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<StructuredResponse> {
        let Some(ResponseFormat::JsonSchema { name, schema }) = &request.response_format else {
            return Err(LlmError::InvalidRequest(
                "complete_json needs a request whose response_format is a JSON schema".to_owned(),
            ));
        };
        schema::check(schema).map_err(|error| {
            LlmError::InvalidRequest(format!("response schema {name:?}: {error}"))
        })?;

        let first = self.complete_in_scope(scope, route, request).await?;
        let problems = match judge(schema, &first) {
            Ok(value) => {
                return Ok(StructuredResponse {
                    value,
                    response: first,
                    attempts: 1,
                    discarded: None,
                });
            }
            Err(problems) => problems,
        };
        tracing::debug!(route, schema = %name, problems = problems.len(),
            "structured answer failed validation; asking for a correction");

        let mut correction = request.clone();
        correction
            .messages
            .push(Message::assistant(first.text.clone()));
        correction
            .messages
            .push(Message::user(correction_prompt(&problems)));
        let second = self.complete_in_scope(scope, route, &correction).await?;
        match judge(schema, &second) {
            Ok(value) => Ok(StructuredResponse {
                value,
                response: second,
                attempts: 2,
                discarded: Some(first),
            }),
            Err(problems) => Err(LlmError::InvalidStructuredOutput {
                raw: second.text,
                problems,
            }),
        }
    }
}

/// The answer's value if it parses and satisfies `schema`, else every problem found.
fn judge(schema: &Value, response: &ChatResponse) -> Result<Value, Vec<String>> {
    let mut problems = Vec::new();
    if response.finish_reason == FinishReason::Length {
        problems
            .push("the answer was cut off at the token limit; write a shorter answer".to_owned());
    }
    let value: Value = match serde_json::from_str(json_text(&response.text)) {
        Ok(value) => value,
        Err(error) => {
            problems.push(format!("the answer is not valid JSON: {error}"));
            return Err(problems);
        }
    };
    let violations = schema::validate(schema, &value);
    if violations.is_empty() {
        return Ok(value);
    }
    problems.extend(violations.iter().map(ToString::to_string));
    Err(problems)
}

/// The JSON inside `text`: the text itself without surrounding whitespace, or the body of
/// one Markdown code fence around it (info string empty or `json`). Prose before or after
/// is not stripped: a model that adds it is told so rather than guessed at.
fn json_text(text: &str) -> &str {
    let trimmed = text.trim();
    let Some(after_opening) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    let Some((info, body)) = after_opening.split_once('\n') else {
        return trimmed;
    };
    let info = info.trim();
    if !(info.is_empty() || info.eq_ignore_ascii_case("json")) {
        return trimmed;
    }
    match body.trim_end().strip_suffix("```") {
        Some(inner) => inner.trim(),
        None => trimmed,
    }
}

fn correction_prompt(problems: &[String]) -> String {
    let mut prompt =
        "Your answer does not match the required JSON schema. The problems:\n".to_owned();
    for problem in problems.iter().take(PROBLEMS_SHOWN) {
        prompt.push_str("- ");
        prompt.push_str(problem);
        prompt.push('\n');
    }
    if problems.len() > PROBLEMS_SHOWN {
        prompt.push_str(&format!(
            "- … and {} more\n",
            problems.len() - PROBLEMS_SHOWN
        ));
    }
    prompt.push_str(
        "Reply with the corrected JSON only: no explanation before or after it, no code fence.",
    );
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_surrounding_fence_and_whitespace_are_tolerated_and_nothing_else() {
        assert_eq!(json_text("  {\"a\": 1}\n"), "{\"a\": 1}");
        assert_eq!(json_text("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(json_text("\n```JSON \n[1]\n```\n"), "[1]");
        assert_eq!(json_text("```\n{}\n```"), "{}");
        for untouched in [
            "Here you go: {\"a\": 1}",
            "```json\n{\"a\": 1}\n``` Hope this helps",
            "```python\n{}\n```",
            "```json {}```",
            "```json\n{\"a\": 1}",
        ] {
            assert_eq!(json_text(untouched), untouched.trim(), "{untouched}");
        }
    }

    #[test]
    fn the_correction_prompt_lists_problems_up_to_a_limit() {
        let problems: Vec<String> = (0..25).map(|index| format!("/x/{index}: bad")).collect();
        let prompt = correction_prompt(&problems);
        assert!(prompt.contains("- /x/0: bad\n"));
        assert!(prompt.contains("- /x/19: bad\n"));
        assert!(!prompt.contains("/x/20"));
        assert!(prompt.contains("and 5 more"));
        assert!(prompt.ends_with("no code fence."));
    }
}
