//! [`LocalProvider`]: a [`LocalLlm`] behind the [`ChatProvider`] trait. It turns messages
//! into the model's chat template (or, for a base model without one, a plain
//! `User:`/`Assistant:` transcript that stops at the next `User:`), maps sampling settings,
//! constrains JSON-schema answers with a grammar, and forwards the worker's text as stream
//! deltas. Dropping the stream cancels the generation.

use std::path::Path;
use std::sync::Arc;

use brandpilot_llamacpp::{
    Finish, GenerationEvent, GenerationRequest, GenerationStats, GeneratorSettings, LlamaError,
    LocalLlm, ModelInfo, Prompt, Sampling, Turn, TurnRole,
};
use brandpilot_llm::{
    ChatProvider, ChatRequest, ChatResponse, EventStream, FinishReason, LlmError, ResponseFormat,
    Result, Role, StreamCollector, StreamEvent, Usage,
};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

/// How a local provider is named and what it does when a request leaves a setting open.
#[derive(Debug, Clone)]
pub struct LocalProviderOptions {
    /// The provider's name in routes and call records (e.g. `local`).
    pub name: String,
    /// The model as configured (e.g. `smollm2-135m-instruct`), reported as `model()`.
    pub model: String,
    pub generator: GeneratorSettings,
    /// Answer tokens when the request sets none.
    pub default_max_tokens: u32,
    pub default_temperature: f32,
    pub default_top_p: f32,
    pub repeat_penalty: f32,
}

impl LocalProviderOptions {
    pub fn new(name: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            model: model.into(),
            generator: GeneratorSettings::default(),
            default_max_tokens: 512,
            default_temperature: 0.7,
            default_top_p: 0.9,
            repeat_penalty: 1.1,
        }
    }
}

/// The transcript roles of a base model, and where its answer ends.
const TRANSCRIPT_STOP: &str = "\nUser:";

pub struct LocalProvider {
    options: LocalProviderOptions,
    llm: Arc<LocalLlm>,
}

impl std::fmt::Debug for LocalProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalProvider")
            .field("name", &self.options.name)
            .field("model", &self.llm.info())
            .finish_non_exhaustive()
    }
}

impl LocalProvider {
    /// Loads the GGUF at `path` (see [`crate::resolve_gguf`]) and starts its worker.
    pub fn load(path: &Path, options: LocalProviderOptions) -> Result<Self> {
        let llm = LocalLlm::load(path, options.generator.clone())
            .map_err(|error| llama_error(&options.name, error))?;
        Ok(Self {
            options,
            llm: Arc::new(llm),
        })
    }

    pub fn info(&self) -> &ModelInfo {
        self.llm.info()
    }

    /// The engine itself, for benchmarks that measure it without the chat layer.
    pub fn engine(&self) -> &Arc<LocalLlm> {
        &self.llm
    }

    /// Prompt tokens `request` takes on this model, template included.
    pub fn count_prompt_tokens(&self, request: &ChatRequest) -> Result<usize> {
        let generation = self.generation_request(request)?;
        self.llm
            .tokenize_prompt(&generation.prompt)
            .map(|tokens| tokens.len())
            .map_err(|error| llama_error(&self.options.name, error))
    }

    fn generation_request(&self, request: &ChatRequest) -> Result<GenerationRequest> {
        if !request.tools.is_empty() {
            return Err(LlmError::InvalidRequest(format!(
                "{} is a local model and cannot call tools; route tool use to a hosted model",
                self.options.name
            )));
        }
        if request.messages.is_empty() {
            return Err(LlmError::InvalidRequest("no messages".into()));
        }
        let mut system = String::new();
        let mut turns = Vec::new();
        for message in &request.messages {
            let (role, content) = match message.role {
                Role::System => {
                    if !system.is_empty() {
                        system.push_str("\n\n");
                    }
                    system.push_str(&message.content);
                    continue;
                }
                Role::User => (TurnRole::User, message.content.clone()),
                Role::Assistant => (TurnRole::Assistant, assistant_text(message)),
                // A small model has no tool protocol: the result is shown as user text.
                Role::Tool => (
                    TurnRole::User,
                    format!(
                        "Result of tool call {}:\n{}",
                        message.tool_call_id.as_deref().unwrap_or("?"),
                        message.content
                    ),
                ),
            };
            turns.push(Turn { role, content });
        }
        let mut grammar = None;
        if let Some(ResponseFormat::JsonSchema { schema, .. }) = &request.response_format {
            grammar =
                Some(brandpilot_llm::schema::to_gbnf(schema).map_err(|error| {
                    LlmError::InvalidRequest(format!("response schema: {error}"))
                })?);
            if !system.is_empty() {
                system.push_str("\n\n");
            }
            system.push_str("Answer with one JSON value matching this JSON Schema:\n");
            system.push_str(&schema.to_string());
        }
        let mut stop = request.stop.clone();
        let prompt = if self.llm.has_chat_template() {
            if !system.is_empty() {
                turns.insert(
                    0,
                    Turn {
                        role: TurnRole::System,
                        content: system,
                    },
                );
            }
            Prompt::Chat(turns)
        } else {
            stop.push(TRANSCRIPT_STOP.into());
            Prompt::Text(transcript(&system, &turns))
        };
        let temperature = request
            .temperature
            .unwrap_or(self.options.default_temperature);
        Ok(GenerationRequest {
            prompt,
            max_tokens: request
                .max_tokens
                .unwrap_or(self.options.default_max_tokens),
            sampling: Sampling {
                temperature,
                top_p: request.top_p.unwrap_or(self.options.default_top_p),
                repeat_penalty: self.options.repeat_penalty,
                // Truncated, not hashed: seeds below 2^32 keep their meaning.
                seed: request
                    .seed
                    .map_or(Sampling::default().seed, |seed| seed as u32),
                ..Sampling::default()
            },
            stop,
            grammar,
            ignore_eos: false,
        })
    }
}

/// An assistant message as text; tool calls it made are described, not replayed.
fn assistant_text(message: &brandpilot_llm::Message) -> String {
    let mut text = message.content.clone();
    for call in &message.tool_calls {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("(called {} with {})", call.name, call.arguments));
    }
    text
}

/// A base model's prompt: the system text, then `User:` / `Assistant:` lines, ending with an
/// open `Assistant:` for the model to continue.
fn transcript(system: &str, turns: &[Turn]) -> String {
    let mut text = String::new();
    if !system.is_empty() {
        text.push_str(system.trim_end());
        text.push_str("\n\n");
    }
    for turn in turns {
        let speaker = match turn.role {
            TurnRole::System | TurnRole::User => "User",
            TurnRole::Assistant => "Assistant",
        };
        text.push_str(&format!("{speaker}: {}\n", turn.content.trim()));
    }
    text.push_str("Assistant:");
    text
}

fn done_event(stats: &GenerationStats) -> StreamEvent {
    StreamEvent::Done {
        usage: Some(Usage {
            prompt_tokens: stats.prompt_tokens,
            completion_tokens: stats.completion_tokens,
        }),
        finish_reason: match stats.finish {
            Finish::Stop => FinishReason::Stop,
            Finish::Length => FinishReason::Length,
            Finish::Cancelled => FinishReason::Other("cancelled".into()),
        },
    }
}

/// Whose fault a llama.cpp failure is, in the router's terms.
fn llama_error(provider: &str, error: LlamaError) -> LlmError {
    match error {
        LlamaError::PromptTooLong { .. } | LlamaError::InvalidSettings(_) => {
            LlmError::InvalidRequest(format!("{provider}: {error}"))
        }
        LlamaError::Context(_) | LlamaError::WorkerGone | LlamaError::Io(_) => {
            LlmError::Unavailable {
                provider: provider.to_owned(),
                status: None,
                message: error.to_string(),
                retry_after: None,
            }
        }
        LlamaError::MissingModelFile { .. }
        | LlamaError::BadConfig { .. }
        | LlamaError::UnsupportedModel(_)
        | LlamaError::InvalidGguf(_)
        | LlamaError::ModelLoad { .. }
        | LlamaError::TextTooLong { .. } => LlmError::Config(format!("{provider}: {error}")),
        LlamaError::Backend(_) | LlamaError::Inference(_) => {
            LlmError::Internal(format!("{provider}: {error}"))
        }
    }
}

impl ChatProvider for LocalProvider {
    fn name(&self) -> &str {
        &self.options.name
    }

    fn model(&self) -> &str {
        &self.options.model
    }

    fn complete<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<ChatResponse>> {
        Box::pin(async move {
            let mut stream = self.stream(request).await?;
            let mut collector = StreamCollector::default();
            while let Some(event) = stream.next().await {
                collector.push(event?);
            }
            collector
                .finish()
                .ok_or_else(|| LlmError::StreamInterrupted {
                    provider: self.options.name.clone(),
                })
        })
    }

    fn stream<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<EventStream>> {
        Box::pin(async move {
            let generation = self.generation_request(request)?;
            let (sender, receiver) = mpsc::unbounded_channel();
            let provider = self.options.name.clone();
            self.llm
                .generate(
                    generation,
                    Box::new(move |event| {
                        let item = match event {
                            GenerationEvent::Text(text) => Ok(StreamEvent::Delta(text)),
                            GenerationEvent::Done(stats) => Ok(done_event(&stats)),
                            GenerationEvent::Failed(error) => Err(llama_error(&provider, error)),
                        };
                        // A closed receiver means the caller dropped the stream: cancel.
                        sender.send(item).is_ok()
                    }),
                )
                .map_err(|error| llama_error(&self.options.name, error))?;
            let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
                receiver.recv().await.map(|item| (item, receiver))
            });
            Ok(events.boxed())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_ends_with_an_open_assistant_turn() {
        let turns = vec![
            Turn {
                role: TurnRole::User,
                content: "Hi ".into(),
            },
            Turn {
                role: TurnRole::Assistant,
                content: "Hello!".into(),
            },
            Turn {
                role: TurnRole::User,
                content: "A caption?".into(),
            },
        ];
        assert_eq!(
            transcript("Be brief.", &turns),
            "Be brief.\n\nUser: Hi\nAssistant: Hello!\nUser: A caption?\nAssistant:"
        );
    }

    #[test]
    fn engine_errors_keep_their_fault() {
        use brandpilot_core::{Fault, FaultKind};
        let too_long = llama_error(
            "local",
            LlamaError::PromptTooLong {
                tokens: 9000,
                limit: 4095,
            },
        );
        assert_eq!(too_long.fault(), FaultKind::User);
        assert!(too_long.to_string().contains("9000"));
        let gone = llama_error("local", LlamaError::WorkerGone);
        assert_eq!(gone.fault(), FaultKind::Transient);
    }
}
