//! In-process text generation with a GGUF language model on llama.cpp: the model's own chat
//! template, prompt-prefix reuse in the KV cache, temperature / top-p / top-k /
//! repeat-penalty sampling with a seed, stop sequences, an optional GBNF grammar, and
//! streaming of text as it is produced.
//!
//! A [`LocalLlm`] owns one dedicated worker thread that owns the llama.cpp context (a context
//! is neither `Send` nor `Sync` and borrows its model); requests queue on a channel and are
//! served one at a time, so generation never runs on an async executor. Message text is
//! tokenised without special-token parsing: a user who types `<|im_start|>` gets those
//! characters, not a control token.

pub(crate) mod text;
mod worker;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;

use crate::backend::backend;
use crate::error::{LlamaError, Result};
use worker::{Job, WorkerConfig};

/// How a model runs. The defaults suit a small CPU machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorSettings {
    /// Compute threads; 0 means one per available core.
    pub threads: usize,
    /// Context window in tokens (prompt plus answer); 0 uses the model's training length
    /// capped at 8,192 (the KV cache grows with it).
    pub context_tokens: u32,
    /// Prompt tokens evaluated per llama.cpp batch.
    pub batch_tokens: u32,
    /// Use llama.cpp's flash-attention kernels.
    pub flash_attention: bool,
}

impl Default for GeneratorSettings {
    fn default() -> Self {
        Self {
            threads: 0,
            context_tokens: 4096,
            batch_tokens: 512,
            flash_attention: true,
        }
    }
}

/// Who speaks a turn of a chat prompt, in the template's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnRole {
    System,
    User,
    Assistant,
}

impl TurnRole {
    fn as_str(self) -> &'static str {
        match self {
            TurnRole::System => "system",
            TurnRole::User => "user",
            TurnRole::Assistant => "assistant",
        }
    }
}

/// One turn of a chat prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub role: TurnRole,
    pub content: String,
}

/// What the model continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Turns rendered with the model's chat template, ending with an open assistant turn.
    /// An error for a model without a template (see [`LocalLlm::has_chat_template`]).
    Chat(Vec<Turn>),
    /// Plain text continued as is (completion style), after the model's BOS token.
    Text(String),
}

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// 0 picks the most likely token every time (greedy).
    pub temperature: f32,
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: u32,
    /// Penalty on tokens among the last `repeat_last_n`; 1.0 disables it.
    pub repeat_penalty: f32,
    pub repeat_last_n: u32,
    pub seed: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            temperature: 0.7,
            top_p: 0.9,
            top_k: 40,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            seed: 42,
        }
    }
}

/// One generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    pub prompt: Prompt,
    pub max_tokens: u32,
    pub sampling: Sampling,
    /// Generation ends before the first of these; they are never part of the output.
    pub stop: Vec<String>,
    /// A GBNF grammar (root rule `root`) every output must match.
    pub grammar: Option<String>,
    /// Keep generating past the model's end-of-turn token (benchmarks measure a fixed
    /// number of tokens this way).
    pub ignore_eos: bool,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model ended its turn, a stop sequence appeared, or the grammar was complete.
    Stop,
    /// `max_tokens` were generated, or the context window is full.
    Length,
    /// The receiver of the events asked to stop.
    Cancelled,
}

/// Counts and timings of one generation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenerationStats {
    pub prompt_tokens: u32,
    /// Prompt tokens whose KV entries were reused from the previous request.
    pub reused_prompt_tokens: u32,
    pub completion_tokens: u32,
    pub finish: Finish,
    /// Evaluating the (not reused) prompt, up to the first sampled token.
    pub prompt_time: Duration,
    /// From the first sampled token to the end.
    pub generation_time: Duration,
}

/// What a running generation reports, in order: any number of `Text`, then `Done` or
/// `Failed`.
#[derive(Debug)]
pub enum GenerationEvent {
    Text(String),
    Done(GenerationStats),
    Failed(LlamaError),
}

/// Receives events on the worker thread; returning `false` cancels the generation.
pub type EventHandler = Box<dyn FnMut(GenerationEvent) -> bool + Send>;

/// Facts about a loaded model, for `models ls` and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// The GGUF's `general.name`, else the file stem.
    pub name: String,
    pub architecture: String,
    pub parameters: u64,
    pub file_bytes: u64,
    pub context_tokens: u32,
    pub threads: usize,
    pub has_chat_template: bool,
}

/// A GGUF language model with its worker thread. `Send + Sync`: requests from several
/// threads are served one after another.
pub struct LocalLlm {
    model: Arc<LlamaModel>,
    template: Option<LlamaChatTemplate>,
    jobs: Option<Sender<Job>>,
    worker: Option<JoinHandle<()>>,
    info: ModelInfo,
}

impl std::fmt::Debug for LocalLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLlm")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Characters from Unicode's private use area mark where message text goes in a rendered
/// template, so the template's own markup and the messages can be tokenised differently.
const SLOT_MARK: char = '\u{F8FF}';

impl LocalLlm {
    /// Loads a GGUF file and starts its worker.
    pub fn load(path: &Path, settings: GeneratorSettings) -> Result<Self> {
        let backend = backend()?;
        if !path.is_file() {
            return Err(LlamaError::ModelLoad {
                path: path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|e| LlamaError::ModelLoad {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        let architecture = model
            .meta_val_str("general.architecture")
            .unwrap_or_default();
        if architecture == "bert" {
            return Err(LlamaError::UnsupportedModel(format!(
                "{} is an embedding model, not a language model",
                path.display()
            )));
        }
        let template = model.chat_template(None).ok();
        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let context_tokens = match settings.context_tokens {
            0 => model.n_ctx_train().min(8192),
            n => n,
        };
        if settings.batch_tokens == 0 {
            return Err(LlamaError::InvalidSettings(
                "batch_tokens must be > 0".into(),
            ));
        }
        let name = model
            .meta_val_str("general.name")
            .ok()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let info = ModelInfo {
            path: path.to_path_buf(),
            name,
            architecture,
            parameters: model.n_params(),
            file_bytes: fs_err::metadata(path)?.len(),
            context_tokens,
            threads,
            has_chat_template: template.is_some(),
        };
        let model = Arc::new(model);
        let config = WorkerConfig {
            threads: i32::try_from(threads)
                .map_err(|_| LlamaError::InvalidSettings("too many threads".into()))?,
            context_tokens: NonZeroU32::new(context_tokens)
                .ok_or_else(|| LlamaError::InvalidSettings("context_tokens is 0".into()))?,
            batch_tokens: settings.batch_tokens.min(context_tokens),
            flash_attention: settings.flash_attention,
        };
        let (jobs, worker) = worker::spawn(Arc::clone(&model), config)?;
        tracing::info!(
            model = %info.name, architecture = %info.architecture, context_tokens, threads,
            chat_template = info.has_chat_template, "loaded language model"
        );
        Ok(Self {
            model,
            template,
            jobs: Some(jobs),
            worker: Some(worker),
            info,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Whether the GGUF carries a chat template; without one only [`Prompt::Text`] works.
    pub fn has_chat_template(&self) -> bool {
        self.template.is_some()
    }

    /// Tokens `text` takes as message content (no special tokens added or parsed).
    pub fn count_tokens(&self, text: &str) -> usize {
        self.model
            .vocab()
            .tokenize(text.as_bytes(), false, false)
            .len()
    }

    /// The prompt's token ids as the model will see them (for budgeting context).
    pub fn tokenize_prompt(&self, prompt: &Prompt) -> Result<Vec<i32>> {
        Ok(self
            .prompt_tokens(prompt)?
            .into_iter()
            .map(|t| t.0)
            .collect())
    }

    /// Starts a generation; `on_event` is called on the worker thread for every event and
    /// may cancel by returning `false`. Errors found before the worker picks the request
    /// up (an invalid prompt, a prompt longer than the context) are returned here.
    pub fn generate(&self, request: GenerationRequest, on_event: EventHandler) -> Result<()> {
        let tokens = self.prompt_tokens(&request.prompt)?;
        // At least one token must be left for the answer.
        let limit = self.info.context_tokens as usize - 1;
        if tokens.is_empty() {
            return Err(LlamaError::InvalidSettings("the prompt is empty".into()));
        }
        if tokens.len() > limit {
            return Err(LlamaError::PromptTooLong {
                tokens: tokens.len(),
                limit,
            });
        }
        let job = Job {
            tokens,
            request,
            on_event,
        };
        self.jobs
            .as_ref()
            .ok_or(LlamaError::WorkerGone)?
            .send(job)
            .map_err(|_| LlamaError::WorkerGone)
    }

    /// Runs a generation to its end on the calling thread's behalf and returns the whole
    /// text. For benchmarks, tests and batch jobs; servers stream with [`Self::generate`].
    pub fn generate_text(&self, request: GenerationRequest) -> Result<(String, GenerationStats)> {
        let (sender, receiver) = channel();
        self.generate(request, Box::new(move |event| sender.send(event).is_ok()))?;
        let mut text = String::new();
        for event in receiver {
            match event {
                GenerationEvent::Text(piece) => text.push_str(&piece),
                GenerationEvent::Done(stats) => return Ok((text, stats)),
                GenerationEvent::Failed(error) => return Err(error),
            }
        }
        Err(LlamaError::WorkerGone)
    }

    /// The prompt's tokens: template markup parsed for special tokens, message text not.
    fn prompt_tokens(&self, prompt: &Prompt) -> Result<Vec<LlamaToken>> {
        let vocab = self.model.vocab();
        let add_bos = vocab.should_add_bos();
        match prompt {
            Prompt::Text(text) => Ok(vocab.tokenize(text.as_bytes(), add_bos, false)),
            Prompt::Chat(turns) => {
                let template = self.template.as_ref().ok_or_else(|| {
                    LlamaError::UnsupportedModel(format!(
                        "{} has no chat template; give it plain text",
                        self.info.name
                    ))
                })?;
                let mut messages = Vec::with_capacity(turns.len());
                for (index, turn) in turns.iter().enumerate() {
                    let slot = format!("{SLOT_MARK}{index}{SLOT_MARK}");
                    let message = LlamaChatMessage::new(turn.role.as_str().into(), slot)
                        .map_err(|e| LlamaError::Inference(e.to_string()))?;
                    messages.push(message);
                }
                let rendered = self
                    .model
                    .apply_chat_template(template, &messages, true)
                    .map_err(|e| LlamaError::UnsupportedModel(format!("chat template: {e}")))?;
                let mut tokens = Vec::new();
                // Alternating pieces: markup, slot index, markup, slot index, …, markup.
                for (position, piece) in rendered.split(SLOT_MARK).enumerate() {
                    if position % 2 == 0 {
                        let first = position == 0;
                        tokens.extend(vocab.tokenize(piece.as_bytes(), first && add_bos, true));
                    } else {
                        let turn = piece
                            .parse::<usize>()
                            .ok()
                            .and_then(|index| turns.get(index))
                            .ok_or_else(|| {
                                LlamaError::UnsupportedModel(
                                    "the chat template altered message text".into(),
                                )
                            })?;
                        tokens.extend(vocab.tokenize(turn.content.as_bytes(), false, false));
                    }
                }
                Ok(tokens)
            }
        }
    }
}

impl Drop for LocalLlm {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop after its current job.
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
