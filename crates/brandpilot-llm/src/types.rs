//! The provider-independent vocabulary of a chat call: the request (messages, sampling,
//! structured output, tools), the complete response, and the events of a streamed response,
//! plus [`StreamCollector`], which folds a stream back into a response.
//!
//! These are our domain types, not wire types: each provider module translates them to and
//! from its own JSON. This module must never know a provider's wire format or do IO.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result of a tool call, answering the assistant's call with the same id.
    Tool,
}

/// A tool call made by the model: the arguments are the JSON text the model produced,
/// unparsed, because models can produce invalid JSON and the caller decides what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    /// The text; empty for an assistant message that only calls tools.
    pub content: String,
    /// Tool calls made by an assistant message; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For [`Role::Tool`]: the id of the call this message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new(Role::System, content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(Role::Assistant, content)
    }

    /// An assistant turn that called tools (with optional text before the calls).
    pub fn assistant_tool_calls(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Self {
            tool_calls: calls,
            ..Self::new(Role::Assistant, content)
        }
    }

    /// The result of the tool call `call_id`.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(call_id.into()),
            ..Self::new(Role::Tool, content)
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
}

/// Constrains the shape of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// The answer text is one JSON value matching `schema`. Providers without native support
    /// emulate it (Anthropic: a forced tool call whose input becomes the text).
    JsonSchema { name: String, schema: Value },
}

/// One chat completion request, independent of the provider that will serve it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    #[serde(default)]
    pub stop: Vec<String>,
    /// Honoured by providers that support it (OpenAI-compatible servers); ignored by others.
    pub seed: Option<u64>,
    pub response_format: Option<ResponseFormat>,
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
}

impl ChatRequest {
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }

    /// All message text, for estimating prompt tokens when a provider reports no usage.
    pub fn prompt_text(&self) -> String {
        let mut text = String::new();
        for message in &self.messages {
            text.push_str(&message.content);
            text.push('\n');
            for call in &message.tool_calls {
                text.push_str(&call.name);
                text.push_str(&call.arguments);
                text.push('\n');
            }
        }
        text
    }
}

/// Tokens as the provider counted them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// Why generation stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinishReason {
    /// Natural end or a stop sequence.
    Stop,
    /// `max_tokens` reached: the text is cut short.
    Length,
    /// The model called tools and waits for their results.
    ToolCalls,
    /// The provider withheld or cut the answer.
    ContentFilter,
    /// A reason this layer does not know, as the provider named it.
    Other(String),
}

/// A complete (non-streamed, or collected) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    /// `None` when the provider reported no usage (some self-hosted servers).
    pub usage: Option<Usage>,
    pub finish_reason: FinishReason,
    /// Who answered and what it cost, filled in by the [`crate::Router`] for a routed
    /// call (the provider that served it after any fallback); `None` from a provider
    /// called directly, a collected stream or a cache.
    pub served_by: Option<ServedBy>,
}

/// The provider and model that served a routed call, with the call's accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedBy {
    pub provider: String,
    pub model: String,
    /// Tokens as the provider reported them, or counted when it reported none.
    pub usage: Usage,
    /// From the price table; `None` when the model has no price.
    pub cost_usd: Option<f64>,
}

/// One event of a streamed answer. A well-formed stream is any number of deltas and
/// tool-call events followed by exactly one [`StreamEvent::Done`].
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The next piece of answer text.
    Delta(String),
    /// The model starts tool call number `index` (0-based, in the order calls appear).
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// The next fragment of the JSON arguments of tool call `index`.
    ToolCallDelta { index: usize, arguments: String },
    /// The last event.
    Done {
        usage: Option<Usage>,
        finish_reason: FinishReason,
    },
}

/// Folds stream events into a [`ChatResponse`].
#[derive(Debug, Default)]
pub struct StreamCollector {
    text: String,
    tool_calls: Vec<ToolCall>,
    done: Option<(Option<Usage>, FinishReason)>,
}

impl StreamCollector {
    pub fn push(&mut self, event: StreamEvent) {
        match event {
            StreamEvent::Delta(text) => self.text.push_str(&text),
            StreamEvent::ToolCallStart { index, id, name } => {
                let call = self.call_mut(index);
                call.id = id;
                call.name = name;
            }
            StreamEvent::ToolCallDelta { index, arguments } => {
                self.call_mut(index).arguments.push_str(&arguments);
            }
            StreamEvent::Done {
                usage,
                finish_reason,
            } => self.done = Some((usage, finish_reason)),
        }
    }

    fn call_mut(&mut self, index: usize) -> &mut ToolCall {
        while self.tool_calls.len() <= index {
            self.tool_calls.push(ToolCall {
                id: String::new(),
                name: String::new(),
                arguments: String::new(),
            });
        }
        &mut self.tool_calls[index]
    }

    /// The text received so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The response, or `None` if the final event has not arrived.
    pub fn finish(self) -> Option<ChatResponse> {
        let (usage, finish_reason) = self.done?;
        Some(ChatResponse {
            text: self.text,
            tool_calls: self.tool_calls,
            usage,
            finish_reason,
            served_by: None,
        })
    }
}
