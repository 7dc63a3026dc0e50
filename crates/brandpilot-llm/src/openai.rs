//! The OpenAI-compatible chat provider: `POST {base_url}/chat/completions`, plain or streamed
//! as server-sent events. OpenAI, xAI, Groq, Together, vLLM, Ollama, the llama.cpp server and
//! LM Studio all speak it; the key is optional because local servers need none.
//!
//! This module owns the OpenAI wire format and nothing else: it must never retry, sleep or
//! time out (the router does), and never put the key anywhere but the `Authorization` header.

use crate::error::{LlmError, Result, redact};
use crate::http::{self, EventDecoder};
use crate::provider::{ApiKey, ChatProvider, EventStream};
use crate::sse::SseEvent;
use crate::types::{
    ChatRequest, ChatResponse, FinishReason, Message, ResponseFormat, Role, StreamEvent, ToolCall,
    Usage,
};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};

/// Settings of one OpenAI-compatible endpoint. `Default` leaves the required fields empty
/// (`new` refuses them); it is there so callers can write `..OpenAiConfig::default()` and
/// keep compiling when a flag is added.
#[derive(Debug, Clone, Default)]
pub struct OpenAiConfig {
    /// The provider's name in routes, logs and records (`openai`, `groq`, `ollama`…).
    pub name: String,
    /// Up to and including the version, e.g. `https://api.openai.com/v1` or
    /// `http://localhost:11434/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<ApiKey>,
    pub model: String,
    /// Send the answer's token limit as `max_completion_tokens` instead of `max_tokens`.
    /// OpenAI's reasoning models (o1, o3, …) refuse `max_tokens`; most other compatible
    /// servers know only `max_tokens`, hence off by default.
    pub max_completion_tokens: bool,
}

/// A provider over one OpenAI-compatible endpoint and model.
#[derive(Debug)]
pub struct OpenAiProvider {
    config: OpenAiConfig,
    endpoint: String,
    client: reqwest::Client,
}

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        let base = http::normalise_base_url(&config.name, &config.base_url)?;
        http::require_model(&config.name, &config.model)?;
        Ok(Self {
            endpoint: format!("{base}/chat/completions"),
            client: http::build_client(&config.name)?,
            config,
        })
    }

    fn secret(&self) -> Option<&str> {
        self.config.api_key.as_ref().map(ApiKey::expose)
    }

    async fn send(&self, request: &ChatRequest, stream: bool) -> Result<reqwest::Response> {
        let body = request_body(&self.config, request, stream)?;
        let mut builder = self.client.post(&self.endpoint).json(&body);
        if let Some(key) = &self.config.api_key {
            builder = builder.bearer_auth(key.expose());
        }
        http::send_checked(&self.config.name, builder, self.secret()).await
    }

    async fn complete_inner(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let response = self.send(request, false).await?;
        let body = http::read_body(&self.config.name, response, self.secret()).await?;
        parse_completion(&body).map_err(|message| LlmError::Protocol {
            provider: self.config.name.clone(),
            message: redact(&message, self.secret()),
        })
    }

    async fn stream_inner(&self, request: &ChatRequest) -> Result<EventStream> {
        let response = self.send(request, true).await?;
        http::ensure_event_stream(&self.config.name, &response)?;
        let decoder = ChunkDecoder::new(&self.config.name);
        Ok(http::event_stream(
            &self.config.name,
            self.secret(),
            response,
            decoder,
        ))
    }
}

impl ChatProvider for OpenAiProvider {
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

/// The JSON body of a chat completion request to the endpoint of `config`.
pub(crate) fn request_body(
    config: &OpenAiConfig,
    request: &ChatRequest,
    stream: bool,
) -> Result<Value> {
    if request.messages.is_empty() {
        return Err(LlmError::InvalidRequest("no messages".to_owned()));
    }
    let messages = request
        .messages
        .iter()
        .map(wire_message)
        .collect::<Result<Vec<_>>>()?;
    let mut body = json!({ "model": config.model, "messages": messages, "stream": stream });
    let object = body.as_object_mut().expect("a JSON object literal");
    if stream {
        object.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    if let Some(max_tokens) = request.max_tokens {
        let field = if config.max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        object.insert(field.into(), json!(max_tokens));
    }
    if let Some(temperature) = request.temperature {
        object.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.top_p {
        object.insert("top_p".into(), json!(top_p));
    }
    if !request.stop.is_empty() {
        object.insert("stop".into(), json!(request.stop));
    }
    if let Some(seed) = request.seed {
        object.insert("seed".into(), json!(seed));
    }
    if let Some(ResponseFormat::JsonSchema { name, schema }) = &request.response_format {
        object.insert(
            "response_format".into(),
            json!({
                "type": "json_schema",
                "json_schema": { "name": name, "schema": schema, "strict": strict_compatible(schema) },
            }),
        );
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                })
            })
            .collect();
        object.insert("tools".into(), json!(tools));
    }
    Ok(body)
}

fn wire_message(message: &Message) -> Result<Value> {
    Ok(match message.role {
        Role::System => json!({ "role": "system", "content": message.content }),
        Role::User => json!({ "role": "user", "content": message.content }),
        Role::Assistant if message.tool_calls.is_empty() => {
            json!({ "role": "assistant", "content": message.content })
        }
        Role::Assistant => {
            let calls: Vec<Value> = message
                .tool_calls
                .iter()
                .map(|call| {
                    json!({
                        "id": call.id,
                        "type": "function",
                        "function": { "name": call.name, "arguments": call.arguments },
                    })
                })
                .collect();
            let content = if message.content.is_empty() {
                Value::Null
            } else {
                json!(message.content)
            };
            json!({ "role": "assistant", "content": content, "tool_calls": calls })
        }
        Role::Tool => {
            let Some(call_id) = &message.tool_call_id else {
                return Err(LlmError::InvalidRequest(
                    "a tool result message needs the id of the call it answers".to_owned(),
                ));
            };
            json!({ "role": "tool", "tool_call_id": call_id, "content": message.content })
        }
    })
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
        }
    }
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<CompletionChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct CompletionChoice {
    message: CompletionMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct CompletionMessage {
    content: Option<String>,
    tool_calls: Option<Vec<WireToolCall>>,
}

#[derive(Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    /// A JSON string per the protocol; some servers send an object instead.
    arguments: Value,
}

fn arguments_text(arguments: Value) -> String {
    match arguments {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn parse_completion(body: &[u8]) -> Result<ChatResponse, String> {
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|error| format!("unparsable chat completion: {error}"))?;
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err("a chat completion without choices".to_owned());
    };
    let tool_calls: Vec<ToolCall> = choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .map(|call| ToolCall {
            id: call.id,
            name: call.function.name,
            arguments: arguments_text(call.function.arguments),
        })
        .collect();
    Ok(ChatResponse {
        text: choice.message.content.unwrap_or_default(),
        tool_calls,
        usage: completion.usage.map(Usage::from),
        finish_reason: finish_reason(choice.finish_reason.as_deref()),
        served_by: None,
    })
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls" | "function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Other("unspecified".to_owned()),
    }
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: ChunkDelta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct ChunkDelta {
    content: Option<String>,
    tool_calls: Option<Vec<ChunkToolCall>>,
}

#[derive(Deserialize)]
struct ChunkToolCall {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<ChunkFunction>,
}

#[derive(Deserialize)]
struct ChunkFunction {
    name: Option<String>,
    arguments: Option<Value>,
}

/// Decodes `chat.completion.chunk` events until `[DONE]`.
pub(crate) struct ChunkDecoder {
    provider: String,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    /// Wire index → (our index, call id). Our indexes count calls in order of appearance.
    calls: HashMap<usize, (usize, String)>,
    finished: bool,
}

impl ChunkDecoder {
    pub(crate) fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            finish_reason: None,
            usage: None,
            calls: HashMap::new(),
            finished: false,
        }
    }

    fn protocol_error(&self, message: String) -> LlmError {
        LlmError::Protocol {
            provider: self.provider.clone(),
            message,
        }
    }

    fn finish(&mut self, out: &mut VecDeque<StreamEvent>) {
        self.finished = true;
        out.push_back(StreamEvent::Done {
            usage: self.usage,
            finish_reason: finish_reason(self.finish_reason.as_deref()),
        });
    }

    fn tool_call(&mut self, call: ChunkToolCall, out: &mut VecDeque<StreamEvent>) {
        let (name, arguments) = match call.function {
            Some(function) => (function.name, function.arguments.map(arguments_text)),
            None => (None, None),
        };
        // A fragment opens a new call when its wire index is new, or when it carries an id
        // other than the one open at that index (servers that send every call as index 0).
        let opens = match (self.calls.get(&call.index), &call.id) {
            (None, _) => true,
            (Some((_, open_id)), Some(id)) => !id.is_empty() && id != open_id,
            (Some(_), None) => false,
        };
        if opens {
            let index = self.calls.len();
            let id = call.id.unwrap_or_default();
            self.calls.insert(call.index, (index, id.clone()));
            out.push_back(StreamEvent::ToolCallStart {
                index,
                id,
                name: name.unwrap_or_default(),
            });
        }
        let index = self.calls[&call.index].0;
        if let Some(arguments) = arguments.filter(|text| !text.is_empty()) {
            out.push_back(StreamEvent::ToolCallDelta { index, arguments });
        }
    }
}

impl EventDecoder for ChunkDecoder {
    fn decode(&mut self, event: SseEvent, out: &mut VecDeque<StreamEvent>) -> Result<()> {
        let data = event.data.trim();
        if data == "[DONE]" {
            self.finish(out);
            return Ok(());
        }
        let value: Value = serde_json::from_str(data)
            .map_err(|error| self.protocol_error(format!("malformed stream event: {error}")))?;
        // Servers report failures mid-stream as an event holding an error object.
        if let Some(error) = value.get("error") {
            return Err(LlmError::Unavailable {
                provider: self.provider.clone(),
                status: None,
                message: http::error_message(&json!({ "error": error }).to_string()),
                retry_after: None,
            });
        }
        let chunk: Chunk = serde_json::from_value(value)
            .map_err(|error| self.protocol_error(format!("malformed stream chunk: {error}")))?;
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content.filter(|text| !text.is_empty()) {
                out.push_back(StreamEvent::Delta(text));
            }
            for call in choice.delta.tool_calls.unwrap_or_default() {
                self.tool_call(call, out);
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
        Ok(())
    }

    fn is_finished(&self) -> bool {
        self.finished
    }

    fn end_of_body(&mut self, out: &mut VecDeque<StreamEvent>) -> Result<()> {
        // Some servers close without `[DONE]`; a finish reason already says the answer is
        // whole. Without one the answer was cut off.
        if self.finish_reason.is_some() {
            self.finish(out);
            return Ok(());
        }
        Err(LlmError::StreamInterrupted {
            provider: self.provider.clone(),
        })
    }
}

/// Whether OpenAI's strict structured-output mode accepts `schema`: it rejects objects that
/// allow extra properties or leave properties optional, and string length bounds. Other
/// schemas go without `strict` (the model is guided, not held), and `complete_json`
/// validates the answer either way.
fn strict_compatible(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            if map.contains_key("minLength") || map.contains_key("maxLength") {
                return false;
            }
            if let Some(Value::Object(properties)) = map.get("properties") {
                let closed = map.get("additionalProperties") == Some(&Value::Bool(false));
                let required: Vec<&str> = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|names| names.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                if !closed
                    || !properties
                        .keys()
                        .all(|key| required.contains(&key.as_str()))
                {
                    return false;
                }
            }
            map.values().all(strict_compatible)
        }
        Value::Array(items) => items.iter().all(strict_compatible),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ToolSpec;

    fn config(model: &str) -> OpenAiConfig {
        OpenAiConfig {
            name: "test".into(),
            base_url: "http://127.0.0.1:1/v1".into(),
            model: model.into(),
            ..OpenAiConfig::default()
        }
    }

    fn decode_all(events: &[&str]) -> (Vec<StreamEvent>, Result<()>) {
        let mut decoder = ChunkDecoder::new("test");
        let mut out = VecDeque::new();
        for data in events {
            let event = SseEvent {
                data: (*data).to_owned(),
                ..SseEvent::default()
            };
            if let Err(error) = decoder.decode(event, &mut out) {
                return (out.into(), Err(error));
            }
        }
        (out.into(), Ok(()))
    }

    #[test]
    fn body_carries_sampling_schema_and_tools() {
        let mut request = ChatRequest::new(vec![
            Message::system("be brief"),
            Message::user("hi"),
            Message::assistant_tool_calls(
                "",
                vec![ToolCall {
                    id: "c1".into(),
                    name: "lookup".into(),
                    arguments: "{}".into(),
                }],
            ),
            Message::tool_result("c1", "found"),
        ]);
        request.max_tokens = Some(50);
        request.stop = vec!["\n\n".into()];
        request.seed = Some(7);
        request.response_format = Some(ResponseFormat::JsonSchema {
            name: "caption".into(),
            schema: json!({"type": "object"}),
        });
        request.tools = vec![ToolSpec {
            name: "lookup".into(),
            description: "find".into(),
            parameters: json!({"type": "object"}),
        }];
        let body = request_body(&config("m"), &request, true).unwrap();
        assert_eq!(body["stream_options"], json!({"include_usage": true}));
        assert_eq!(body["max_tokens"], 50);
        assert_eq!(body["seed"], 7);
        assert_eq!(body["stop"], json!(["\n\n"]));
        assert_eq!(
            body["response_format"]["json_schema"]["strict"],
            strict_compatible(&body["response_format"]["json_schema"]["schema"])
        );
        assert_eq!(body["tools"][0]["function"]["name"], "lookup");
        assert_eq!(body["messages"][2]["content"], Value::Null);
        assert_eq!(body["messages"][2]["tool_calls"][0]["id"], "c1");
        assert_eq!(body["messages"][3]["tool_call_id"], "c1");
        assert!(body.get("temperature").is_none());
    }

    #[test]
    fn strict_mode_is_asked_only_for_schemas_openai_accepts_strictly() {
        let closed = json!({
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "array", "items": {
                "type": "object", "properties": {"c": {"type": "integer"}},
                "required": ["c"], "additionalProperties": false}}},
            "required": ["a", "b"],
            "additionalProperties": false
        });
        assert!(strict_compatible(&closed));
        let mut optional = closed.clone();
        optional["required"] = json!(["a"]);
        assert!(!strict_compatible(&optional));
        let mut open_nested = closed.clone();
        open_nested["properties"]["b"]["items"]["additionalProperties"] = json!(true);
        assert!(!strict_compatible(&open_nested));
        let mut bounded = closed;
        bounded["properties"]["a"]["maxLength"] = json!(80);
        assert!(!strict_compatible(&bounded));
    }

    #[test]
    fn tool_result_without_call_id_is_the_callers_fault() {
        let mut message = Message::tool_result("x", "y");
        message.tool_call_id = None;
        let request = ChatRequest::new(vec![message]);
        assert!(matches!(
            request_body(&config("m"), &request, false),
            Err(LlmError::InvalidRequest(_))
        ));
    }

    #[test]
    fn streamed_tool_call_fragments_are_assembled_by_index() {
        let (events, result) = decode_all(&[
            r#"{"choices":[{"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
            "[DONE]",
        ]);
        result.unwrap();
        let mut collector = crate::types::StreamCollector::default();
        for event in events {
            collector.push(event);
        }
        let response = collector.finish().unwrap();
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        assert_eq!(
            response.usage,
            Some(Usage {
                prompt_tokens: 3,
                completion_tokens: 4
            })
        );
        assert_eq!(response.tool_calls.len(), 2);
        assert_eq!(response.tool_calls[0].arguments, r#"{"x":1}"#);
        assert_eq!(response.tool_calls[1].name, "g");
    }

    #[test]
    fn error_object_in_stream_is_transient() {
        let (_, result) = decode_all(&[r#"{"error":{"message":"overloaded"}}"#]);
        assert!(matches!(result, Err(LlmError::Unavailable { .. })));
    }

    #[test]
    fn malformed_event_is_a_protocol_error_after_earlier_text() {
        let (events, result) =
            decode_all(&[r#"{"choices":[{"delta":{"content":"hi"}}]}"#, "{not json"]);
        assert_eq!(events, vec![StreamEvent::Delta("hi".into())]);
        assert!(matches!(result, Err(LlmError::Protocol { .. })));
    }
}
