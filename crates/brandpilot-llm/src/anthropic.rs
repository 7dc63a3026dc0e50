//! The Anthropic Messages API provider: `POST {base_url}/v1/messages` with `x-api-key` and
//! `anthropic-version: 2023-06-01`, plain or streamed as typed server-sent events.
//!
//! System messages go to the top-level `system` field; tool calls and results take
//! Anthropic's content-block shape; JSON-schema output is emulated by forcing a call to a
//! tool whose input schema is the schema, and that input becomes the answer text. This module
//! owns the Anthropic wire format and must never retry, sleep, time out, or put the key
//! anywhere but its header.

use crate::error::{LlmError, Result, redact};
use crate::http::{self, EventDecoder};
use crate::provider::{ApiKey, ChatProvider, EventStream};
use crate::sse::SseEvent;
use crate::types::{
    ChatRequest, ChatResponse, FinishReason, ResponseFormat, Role, StreamEvent, ToolCall, Usage,
};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};

/// The API version this module speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Anthropic requires `max_tokens`; this is sent when the request sets none.
pub const DEFAULT_MAX_TOKENS: u32 = 1024;

/// Settings of one Anthropic endpoint.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// The provider's name in routes, logs and records.
    pub name: String,
    /// Without the version path, e.g. `https://api.anthropic.com`.
    pub base_url: String,
    pub api_key: ApiKey,
    pub model: String,
}

/// A provider over the Anthropic Messages API and one model.
#[derive(Debug)]
pub struct AnthropicProvider {
    config: AnthropicConfig,
    endpoint: String,
    client: reqwest::Client,
}

impl AnthropicProvider {
    pub fn new(config: AnthropicConfig) -> Result<Self> {
        let base = http::normalise_base_url(&config.name, &config.base_url)?;
        http::require_model(&config.name, &config.model)?;
        Ok(Self {
            endpoint: format!("{base}/v1/messages"),
            client: http::build_client(&config.name)?,
            config,
        })
    }

    fn secret(&self) -> Option<&str> {
        Some(self.config.api_key.expose())
    }

    async fn send(&self, request: &ChatRequest, stream: bool) -> Result<reqwest::Response> {
        let body = request_body(&self.config.model, request, stream)?;
        let request = self
            .client
            .post(&self.endpoint)
            .header("x-api-key", self.config.api_key.expose())
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(&body);
        http::send_checked(&self.config.name, request, self.secret()).await
    }

    async fn complete_inner(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let response = self.send(request, false).await?;
        let body = http::read_body(&self.config.name, response, self.secret()).await?;
        parse_message(&body, schema_tool(request)).map_err(|message| LlmError::Protocol {
            provider: self.config.name.clone(),
            message: redact(&message, self.secret()),
        })
    }

    async fn stream_inner(&self, request: &ChatRequest) -> Result<EventStream> {
        let response = self.send(request, true).await?;
        http::ensure_event_stream(&self.config.name, &response)?;
        let decoder = MessageDecoder::new(&self.config.name, schema_tool(request));
        Ok(http::event_stream(
            &self.config.name,
            self.secret(),
            response,
            decoder,
        ))
    }
}

impl ChatProvider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    fn complete<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse>> {
        self.complete_inner(request).boxed()
    }

    fn stream<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<EventStream>> {
        self.stream_inner(request).boxed()
    }
}

/// The name of the tool that carries JSON-schema output, if the request asks for it.
fn schema_tool(request: &ChatRequest) -> Option<String> {
    request
        .response_format
        .as_ref()
        .map(|ResponseFormat::JsonSchema { name, .. }| name.clone())
}

/// The JSON body of a Messages API request.
pub(crate) fn request_body(model: &str, request: &ChatRequest, stream: bool) -> Result<Value> {
    let mut system = Vec::new();
    // Anthropic alternates user and assistant turns; tool results are user content blocks,
    // and consecutive ones are merged into one user turn.
    let mut messages: Vec<Value> = Vec::new();
    for message in &request.messages {
        match message.role {
            Role::System => system.push(message.content.as_str()),
            Role::User => messages.push(json!({ "role": "user", "content": message.content })),
            Role::Assistant => {
                let mut blocks = Vec::new();
                if !message.content.is_empty() {
                    blocks.push(json!({ "type": "text", "text": message.content }));
                }
                for call in &message.tool_calls {
                    let input: Value = serde_json::from_str(&call.arguments).map_err(|_| {
                        LlmError::InvalidRequest(format!(
                            "the arguments of tool call {} are not JSON",
                            call.id
                        ))
                    })?;
                    blocks.push(json!({ "type": "tool_use", "id": call.id, "name": call.name, "input": input }));
                }
                messages.push(json!({ "role": "assistant", "content": blocks }));
            }
            Role::Tool => {
                let Some(call_id) = &message.tool_call_id else {
                    return Err(LlmError::InvalidRequest(
                        "a tool result message needs the id of the call it answers".to_owned(),
                    ));
                };
                let block = json!({ "type": "tool_result", "tool_use_id": call_id, "content": message.content });
                let merged = messages.last_mut().is_some_and(|last| {
                    let is_results = last["role"] == "user"
                        && last["content"].as_array().is_some_and(|blocks| {
                            blocks.iter().all(|b| b["type"] == "tool_result")
                        });
                    if is_results && let Some(blocks) = last["content"].as_array_mut() {
                        blocks.push(block.clone());
                    }
                    is_results
                });
                if !merged {
                    messages.push(json!({ "role": "user", "content": [block] }));
                }
            }
        }
    }
    if messages.is_empty() {
        return Err(LlmError::InvalidRequest(
            "no user or assistant messages".to_owned(),
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    body.insert("messages".into(), json!(messages));
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    if !request.stop.is_empty() {
        body.insert("stop_sequences".into(), json!(request.stop));
    }
    // `seed` has no Anthropic equivalent and is not sent.
    let mut tools: Vec<Value> = request
        .tools
        .iter()
        .map(|tool| {
            json!({ "name": tool.name, "description": tool.description, "input_schema": tool.parameters })
        })
        .collect();
    if let Some(ResponseFormat::JsonSchema { name, schema }) = &request.response_format {
        tools.push(json!({
            "name": name,
            "description": "Give the answer as this tool's input, which must match its schema.",
            "input_schema": schema,
        }));
        body.insert(
            "tool_choice".into(),
            json!({ "type": "tool", "name": name }),
        );
    }
    if !tools.is_empty() {
        body.insert("tools".into(), json!(tools));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    Ok(Value::Object(body))
}

#[derive(Deserialize, Default)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
}

impl WireUsage {
    /// Every input token is a prompt token, cached or not.
    fn prompt_tokens(&self) -> u32 {
        self.input_tokens
            + self.cache_creation_input_tokens.unwrap_or(0)
            + self.cache_read_input_tokens.unwrap_or(0)
    }
}

#[derive(Deserialize)]
struct WireMessage {
    content: Vec<Value>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

fn finish_reason(reason: Option<&str>, schema_answered: bool) -> FinishReason {
    match reason {
        Some("tool_use") if schema_answered => FinishReason::Stop,
        Some("end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("max_tokens") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Other("unspecified".to_owned()),
    }
}

fn parse_message(body: &[u8], schema_tool: Option<String>) -> Result<ChatResponse, String> {
    let message: WireMessage =
        serde_json::from_slice(body).map_err(|error| format!("unparsable message: {error}"))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    let mut schema_answered = false;
    for block in message.content {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or_default()),
            Some("tool_use") => {
                let name = block["name"].as_str().unwrap_or_default().to_owned();
                let input = block.get("input").cloned().unwrap_or(json!({}));
                if schema_tool.as_deref() == Some(name.as_str()) {
                    // The forced schema tool's input is the answer; any preamble is not.
                    text = input.to_string();
                    schema_answered = true;
                } else {
                    tool_calls.push(ToolCall {
                        id: block["id"].as_str().unwrap_or_default().to_owned(),
                        name,
                        arguments: input.to_string(),
                    });
                }
            }
            // Thinking and other block types are not part of the answer.
            _ => {}
        }
    }
    Ok(ChatResponse {
        text,
        tool_calls,
        usage: message.usage.map(|usage| Usage {
            prompt_tokens: usage.prompt_tokens(),
            completion_tokens: usage.output_tokens,
        }),
        finish_reason: finish_reason(message.stop_reason.as_deref(), schema_answered),
        served_by: None,
    })
}

/// What a content block of the stream turns into.
enum Block {
    Text,
    /// A tool call, with our 0-based call index.
    Tool(usize),
    /// The forced schema tool: its JSON input is streamed as answer text.
    SchemaAnswer,
    /// Thinking and unknown blocks.
    Ignored,
}

/// Decodes Messages API stream events until `message_stop`.
pub(crate) struct MessageDecoder {
    provider: String,
    schema_tool: Option<String>,
    blocks: HashMap<u64, Block>,
    tool_count: usize,
    schema_answered: bool,
    prompt_tokens: Option<u32>,
    completion_tokens: Option<u32>,
    stop_reason: Option<String>,
    finished: bool,
}

impl MessageDecoder {
    pub(crate) fn new(provider: &str, schema_tool: Option<String>) -> Self {
        Self {
            provider: provider.to_owned(),
            schema_tool,
            blocks: HashMap::new(),
            tool_count: 0,
            schema_answered: false,
            prompt_tokens: None,
            completion_tokens: None,
            stop_reason: None,
            finished: false,
        }
    }

    fn protocol_error(&self, message: String) -> LlmError {
        LlmError::Protocol {
            provider: self.provider.clone(),
            message,
        }
    }

    fn usage(&self) -> Option<Usage> {
        match (self.prompt_tokens, self.completion_tokens) {
            (None, None) => None,
            (prompt, completion) => Some(Usage {
                prompt_tokens: prompt.unwrap_or(0),
                completion_tokens: completion.unwrap_or(0),
            }),
        }
    }

    fn error_event(&self, value: &Value) -> LlmError {
        let kind = value
            .pointer("/error/type")
            .and_then(Value::as_str)
            .unwrap_or("api_error");
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no error message")
            .to_owned();
        // The same classification the HTTP status would carry.
        let status = match kind {
            "invalid_request_error" => 400,
            "authentication_error" => 401,
            "permission_error" => 403,
            "not_found_error" => 404,
            "request_too_large" => 413,
            "rate_limit_error" => 429,
            "overloaded_error" => 529,
            _ => 500,
        };
        match LlmError::from_status(&self.provider, status, format!("{kind}: {message}"), None) {
            LlmError::Unavailable {
                provider,
                message,
                retry_after,
                ..
            } => LlmError::Unavailable {
                provider,
                status: None,
                message,
                retry_after,
            },
            other => other,
        }
    }
}

impl EventDecoder for MessageDecoder {
    fn decode(&mut self, event: SseEvent, out: &mut VecDeque<StreamEvent>) -> Result<()> {
        let value: Value = serde_json::from_str(&event.data)
            .map_err(|error| self.protocol_error(format!("malformed stream event: {error}")))?;
        // The `type` in the data is authoritative; the SSE `event:` name repeats it.
        let kind = value.get("type").and_then(Value::as_str).unwrap_or("");
        let missing = |what: &str| self.protocol_error(format!("{kind} event without {what}"));
        match kind {
            "message_start" => {
                if let Some(usage) = value.pointer("/message/usage") {
                    let usage: WireUsage =
                        serde_json::from_value(usage.clone()).unwrap_or_default();
                    self.prompt_tokens = Some(usage.prompt_tokens());
                }
            }
            "content_block_start" => {
                let index = value["index"].as_u64().ok_or_else(|| missing("index"))?;
                let block = &value["content_block"];
                let kind = match block["type"].as_str() {
                    Some("text") => {
                        if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                            out.push_back(StreamEvent::Delta(text.to_owned()));
                        }
                        Block::Text
                    }
                    Some("tool_use") => {
                        let name = block["name"].as_str().unwrap_or_default().to_owned();
                        if self.schema_tool.as_deref() == Some(name.as_str()) {
                            self.schema_answered = true;
                            Block::SchemaAnswer
                        } else {
                            let call = self.tool_count;
                            self.tool_count += 1;
                            out.push_back(StreamEvent::ToolCallStart {
                                index: call,
                                id: block["id"].as_str().unwrap_or_default().to_owned(),
                                name,
                            });
                            Block::Tool(call)
                        }
                    }
                    _ => Block::Ignored,
                };
                self.blocks.insert(index, kind);
            }
            "content_block_delta" => {
                let index = value["index"].as_u64().ok_or_else(|| missing("index"))?;
                let delta = &value["delta"];
                let block = self.blocks.get(&index);
                match (delta["type"].as_str(), block) {
                    (Some("text_delta"), Some(Block::Text)) => {
                        let text = delta["text"].as_str().ok_or_else(|| missing("text"))?;
                        if !text.is_empty() {
                            out.push_back(StreamEvent::Delta(text.to_owned()));
                        }
                    }
                    (Some("input_json_delta"), Some(Block::Tool(call))) => {
                        let json = delta["partial_json"]
                            .as_str()
                            .ok_or_else(|| missing("partial_json"))?;
                        if !json.is_empty() {
                            out.push_back(StreamEvent::ToolCallDelta {
                                index: *call,
                                arguments: json.to_owned(),
                            });
                        }
                    }
                    (Some("input_json_delta"), Some(Block::SchemaAnswer)) => {
                        let json = delta["partial_json"]
                            .as_str()
                            .ok_or_else(|| missing("partial_json"))?;
                        if !json.is_empty() {
                            out.push_back(StreamEvent::Delta(json.to_owned()));
                        }
                    }
                    (_, None) => {
                        return Err(self.protocol_error(format!(
                            "a delta for content block {index}, which never started"
                        )));
                    }
                    // Thinking, signatures and future delta types carry no answer text.
                    _ => {}
                }
            }
            "content_block_stop" | "ping" => {}
            "message_delta" => {
                if let Some(reason) = value.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(reason.to_owned());
                }
                if let Some(output) = value
                    .pointer("/usage/output_tokens")
                    .and_then(Value::as_u64)
                {
                    self.completion_tokens = Some(u32::try_from(output).unwrap_or(u32::MAX));
                }
            }
            "message_stop" => {
                self.finished = true;
                out.push_back(StreamEvent::Done {
                    usage: self.usage(),
                    finish_reason: finish_reason(self.stop_reason.as_deref(), self.schema_answered),
                });
            }
            "error" => return Err(self.error_event(&value)),
            // Anthropic may add event types; its versioning policy says to ignore them.
            _ => {}
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn end_of_body(&mut self, _out: &mut VecDeque<StreamEvent>) -> Result<()> {
        Err(LlmError::StreamInterrupted {
            provider: self.provider.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, ToolSpec};
    use brandpilot_core::{Fault, FaultKind};

    #[test]
    fn system_goes_top_level_and_tool_results_merge() {
        let mut request = ChatRequest::new(vec![
            Message::system("be brief"),
            Message::system("be kind"),
            Message::user("hi"),
            Message::assistant_tool_calls(
                "looking",
                vec![
                    ToolCall {
                        id: "a".into(),
                        name: "f".into(),
                        arguments: "{\"x\":1}".into(),
                    },
                    ToolCall {
                        id: "b".into(),
                        name: "f".into(),
                        arguments: "{}".into(),
                    },
                ],
            ),
            Message::tool_result("a", "one"),
            Message::tool_result("b", "two"),
        ]);
        request.stop = vec!["END".into()];
        request.seed = Some(1);
        request.tools = vec![ToolSpec {
            name: "f".into(),
            description: "d".into(),
            parameters: json!({"type": "object"}),
        }];
        let body = request_body("claude", &request, true).unwrap();
        assert_eq!(body["system"], "be brief\n\nbe kind");
        assert_eq!(body["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(body["stop_sequences"], json!(["END"]));
        assert!(body.get("seed").is_none());
        assert_eq!(body["messages"].as_array().unwrap().len(), 3);
        assert_eq!(body["messages"][1]["content"][1]["input"], json!({"x": 1}));
        assert_eq!(body["messages"][2]["content"][1]["tool_use_id"], "b");
        assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
        assert_eq!(body["stream"], true);
    }

    #[test]
    fn json_schema_becomes_a_forced_tool() {
        let mut request = ChatRequest::new(vec![Message::user("caption please")]);
        request.response_format = Some(ResponseFormat::JsonSchema {
            name: "caption".into(),
            schema: json!({"type": "object", "properties": {"text": {"type": "string"}}}),
        });
        let body = request_body("claude", &request, false).unwrap();
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "caption"})
        );
        assert_eq!(body["tools"][0]["name"], "caption");
        let response = parse_message(
            br#"{"content":[{"type":"tool_use","id":"t","name":"caption","input":{"text":"hi"}}],
                 "stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}}"#,
            Some("caption".into()),
        )
        .unwrap();
        assert_eq!(response.text, r#"{"text":"hi"}"#);
        assert!(response.tool_calls.is_empty());
        assert_eq!(response.finish_reason, FinishReason::Stop);
    }

    #[test]
    fn error_events_are_classified() {
        let decoder = MessageDecoder::new("anthropic", None);
        let overloaded = decoder.error_event(
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        );
        assert_eq!(overloaded.fault(), FaultKind::Transient);
        let invalid = decoder.error_event(
            &json!({"type": "error", "error": {"type": "invalid_request_error", "message": "no"}}),
        );
        assert_eq!(invalid.fault(), FaultKind::User);
    }
}
