//! The thread that owns a language model's llama.cpp context and runs one generation at a
//! time: reuse the KV cache for the prompt prefix shared with the previous request, evaluate
//! the rest of the prompt in batches, then sample token by token until the model ends its
//! turn, a stop sequence appears, `max_tokens` is reached or the context is full.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use super::text::{Filtered, StopFilter, Utf8Assembler};
use super::{EventHandler, Finish, GenerationEvent, GenerationRequest, GenerationStats, Sampling};
use crate::context_thread;
use crate::error::{LlamaError, Result};

#[derive(Debug, Clone)]
pub(crate) struct WorkerConfig {
    pub threads: i32,
    pub context_tokens: NonZeroU32,
    pub batch_tokens: u32,
    pub flash_attention: bool,
}

pub(crate) struct Job {
    pub tokens: Vec<LlamaToken>,
    pub request: GenerationRequest,
    pub on_event: EventHandler,
}

/// Starts the worker and waits until its context exists (or failed to be created).
pub(crate) fn spawn(
    model: Arc<LlamaModel>,
    config: WorkerConfig,
) -> Result<(Sender<Job>, JoinHandle<()>)> {
    let params = context_params(&config);
    context_thread::spawn(
        "llama-generate",
        model,
        params,
        move |model, context, jobs| {
            serve(model, &config, context, &jobs);
        },
    )
}

fn serve(
    model: &LlamaModel,
    config: &WorkerConfig,
    mut context: LlamaContext<'_>,
    jobs: &Receiver<Job>,
) {
    let mut session = Session {
        model,
        batch: LlamaBatch::new(config.batch_tokens as usize, 1),
        batch_tokens: config.batch_tokens as usize,
        context_tokens: config.context_tokens.get() as usize,
        cached: Vec::new(),
    };
    // Ends when every sender is dropped, i.e. when the model is dropped.
    while let Ok(mut job) = jobs.recv() {
        let event =
            match session.generate(&mut context, &job.tokens, &job.request, &mut job.on_event) {
                Ok(stats) => GenerationEvent::Done(stats),
                Err(error) => {
                    // The cache's contents are unknown after a failure: start clean.
                    context.clear_kv_cache();
                    session.cached.clear();
                    GenerationEvent::Failed(error)
                }
            };
        (job.on_event)(event);
    }
}

fn context_params(config: &WorkerConfig) -> LlamaContextParams {
    let flash = if config.flash_attention {
        llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
    } else {
        llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
    };
    LlamaContextParams::default()
        .with_n_ctx(Some(config.context_tokens))
        .with_n_batch(config.batch_tokens)
        .with_n_ubatch(config.batch_tokens)
        .with_n_seq_max(1)
        .with_n_threads(config.threads)
        .with_n_threads_batch(config.threads)
        .with_flash_attention_policy(flash)
}

struct Session<'m> {
    model: &'m LlamaModel,
    batch: LlamaBatch<'static>,
    batch_tokens: usize,
    context_tokens: usize,
    /// The tokens whose KV entries sequence 0 holds, in order.
    cached: Vec<LlamaToken>,
}

impl Session<'_> {
    fn generate(
        &mut self,
        context: &mut LlamaContext<'_>,
        tokens: &[LlamaToken],
        request: &GenerationRequest,
        on_event: &mut EventHandler,
    ) -> Result<GenerationStats> {
        let started = Instant::now();
        let mut sampler = build_sampler(self.model, &request.sampling, request.grammar.as_deref())?;
        let reused = self.reuse_prefix(context, tokens);
        self.decode(context, &tokens[reused..], tokens.len() - reused, reused)?;
        self.cached.extend_from_slice(&tokens[reused..]);

        let vocab = self.model.vocab();
        let mut assembler = Utf8Assembler::default();
        let mut filter = StopFilter::new(&request.stop);
        let mut piece = Vec::with_capacity(16);
        let mut completion_tokens = 0u32;
        let mut first_token_at = None;
        let finish = loop {
            if completion_tokens >= request.max_tokens {
                break Finish::Length;
            }
            let token = sampler.sample(context, -1);
            first_token_at.get_or_insert_with(Instant::now);
            if vocab.is_eog(token) && !request.ignore_eos {
                break Finish::Stop;
            }
            completion_tokens += 1;
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let text = assembler.push(&piece);
            match filter.push(&text) {
                Filtered::Text(text) => {
                    if !text.is_empty() && !on_event(GenerationEvent::Text(text)) {
                        break Finish::Cancelled;
                    }
                }
                Filtered::Stopped(text) => {
                    if !text.is_empty() {
                        on_event(GenerationEvent::Text(text));
                    }
                    break Finish::Stop;
                }
            }
            if self.cached.len() + 1 >= self.context_tokens {
                break Finish::Length;
            }
            let position = self.cached.len();
            self.decode(context, &[token], 1, position)?;
            self.cached.push(token);
        };
        if finish != Finish::Cancelled {
            let mut rest = filter.finish();
            if finish != Finish::Stop || rest.is_empty() {
                rest.push_str(&assembler.finish());
            }
            if !rest.is_empty() {
                on_event(GenerationEvent::Text(rest));
            }
        }
        let first_token_at = first_token_at.unwrap_or_else(Instant::now);
        Ok(GenerationStats {
            prompt_tokens: count(tokens.len()),
            reused_prompt_tokens: count(reused),
            completion_tokens,
            finish,
            prompt_time: first_token_at - started,
            generation_time: first_token_at.elapsed(),
        })
    }

    /// Keeps the KV entries of the longest prefix shared with the previous request and
    /// drops the rest; returns how many prompt tokens need no evaluation.
    fn reuse_prefix(&mut self, context: &mut LlamaContext<'_>, tokens: &[LlamaToken]) -> usize {
        let mut shared = self
            .cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count();
        // The last prompt token is always evaluated again: its logits pick the first answer
        // token and are not kept from the previous request.
        shared = shared.min(tokens.len().saturating_sub(1));
        let removed = u32::try_from(shared)
            .ok()
            .and_then(|p0| context.clear_kv_cache_seq(Some(0), Some(p0), None).ok())
            .unwrap_or(false);
        if removed {
            self.cached.truncate(shared);
            shared
        } else {
            // Some caches (sliding-window attention) cannot drop a tail; start over.
            context.clear_kv_cache();
            self.cached.clear();
            0
        }
    }

    /// Evaluates `tokens` at positions `start..`, asking for logits of the last one only.
    fn decode(
        &mut self,
        context: &mut LlamaContext<'_>,
        tokens: &[LlamaToken],
        total: usize,
        start: usize,
    ) -> Result<()> {
        debug_assert_eq!(tokens.len(), total);
        for (chunk_index, chunk) in tokens.chunks(self.batch_tokens).enumerate() {
            self.batch.clear();
            let offset = start + chunk_index * self.batch_tokens;
            for (i, token) in chunk.iter().enumerate() {
                let position = offset + i;
                let last = position + 1 == start + total;
                self.batch
                    .add(*token, position_i32(position)?, &[0], last)
                    .map_err(|e| LlamaError::Inference(e.to_string()))?;
            }
            context
                .decode(&mut self.batch)
                .map_err(|e| LlamaError::Inference(e.to_string()))?;
        }
        Ok(())
    }
}

fn build_sampler(
    model: &LlamaModel,
    sampling: &Sampling,
    grammar: Option<&str>,
) -> Result<LlamaSampler> {
    let mut chain = Vec::new();
    // The grammar comes first: it must see every candidate, or truncation could leave it
    // none that it allows.
    if let Some(grammar) = grammar {
        chain.push(
            LlamaSampler::grammar(model, grammar, "root")
                .map_err(|e| LlamaError::InvalidSettings(format!("grammar: {e}")))?,
        );
    }
    if sampling.repeat_penalty != 1.0 {
        chain.push(LlamaSampler::penalties(
            model.n_vocab(),
            i32::try_from(sampling.repeat_last_n).unwrap_or(i32::MAX),
            sampling.repeat_penalty,
            0.0,
            0.0,
        ));
    }
    if sampling.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        if sampling.top_k > 0 {
            chain.push(LlamaSampler::top_k(
                i32::try_from(sampling.top_k).unwrap_or(i32::MAX),
            ));
        }
        if sampling.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(sampling.top_p, 1));
        }
        chain.push(LlamaSampler::temp(sampling.temperature));
        chain.push(LlamaSampler::dist(sampling.seed));
    }
    Ok(LlamaSampler::chain_simple(chain))
}

fn position_i32(position: usize) -> Result<i32> {
    i32::try_from(position).map_err(|_| LlamaError::Inference("position overflow".into()))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
