//! `brandpilot bench llm` for one local model: prompt-processing and generation speed the
//! way llama.cpp's own benchmark reports them (a prompt of N tokens evaluated at once; M
//! new tokens generated one by one, end-of-turn ignored), plus the time to first token of a
//! typical retrieval-augmented chat prompt — what a chat user feels.
//!
//! Every measurement is repeated and the median reported, after one warm-up run. Prompts
//! differ per run so the KV-cache prefix reuse cannot make a run look faster than a cold
//! prompt is.

use std::path::Path;
use std::time::{Duration, Instant};

use brandpilot_llamacpp::{
    GenerationEvent, GenerationRequest, GeneratorSettings, LlamaError, LocalLlm, Prompt, Sampling,
    Turn, TurnRole,
};
use serde::Serialize;

/// What to measure.
#[derive(Debug, Clone)]
pub struct LlmBenchConfig {
    pub prompt_tokens: usize,
    pub new_tokens: u32,
    /// Context tokens in the retrieval-augmented prompt whose time to first token is timed.
    pub rag_context_tokens: usize,
    pub runs: usize,
}

impl Default for LlmBenchConfig {
    fn default() -> Self {
        Self {
            prompt_tokens: 300,
            new_tokens: 100,
            rag_context_tokens: 1500,
            runs: 3,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LlmBenchResult {
    pub model: String,
    pub file: String,
    pub file_mb: f64,
    pub threads: usize,
    pub load_seconds: f64,
    pub prompt_tokens: u32,
    pub prompt_tokens_per_second: f64,
    pub new_tokens: u32,
    pub generation_tokens_per_second: f64,
    pub rag_prompt_tokens: u32,
    pub rag_time_to_first_token_ms: f64,
    pub runs: usize,
}

/// Sampling as a chat request would use it, so sampler cost is part of the figure.
fn sampling(seed: u32) -> Sampling {
    Sampling {
        seed,
        ..Sampling::default()
    }
}

/// Runs the benchmark on the GGUF at `path` (blocking; minutes on a small machine).
pub fn bench_local_model(
    path: &Path,
    settings: GeneratorSettings,
    config: &LlmBenchConfig,
) -> Result<LlmBenchResult, LlamaError> {
    let started = Instant::now();
    let needed = config.rag_context_tokens + config.prompt_tokens + 300;
    let settings = GeneratorSettings {
        context_tokens: settings
            .context_tokens
            .max(u32::try_from(needed).unwrap_or(u32::MAX)),
        ..settings
    };
    let llm = LocalLlm::load(path, settings)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let runs = config.runs.max(1);

    let mut prompt_rates = Vec::new();
    let mut generation_rates = Vec::new();
    let mut first_token_ms = Vec::new();
    let mut prompt_tokens = 0;
    let mut rag_tokens = 0;
    // Run 0 warms caches and page-ins; it is not counted.
    for run in 0..=runs {
        let prompt = text_of_tokens(&llm, config.prompt_tokens, run)?;
        let (_, stats) = llm.generate_text(GenerationRequest {
            prompt,
            max_tokens: 1,
            sampling: sampling(run as u32),
            stop: Vec::new(),
            grammar: None,
            ignore_eos: true,
        })?;
        let evaluated = stats.prompt_tokens - stats.reused_prompt_tokens;
        prompt_tokens = stats.prompt_tokens;

        let short = text_of_tokens(&llm, 16, run + 1000)?;
        let (_, generated) = llm.generate_text(GenerationRequest {
            prompt: short,
            max_tokens: config.new_tokens,
            sampling: sampling(run as u32),
            stop: Vec::new(),
            grammar: None,
            ignore_eos: true,
        })?;

        let rag = rag_prompt(&llm, config.rag_context_tokens, run)?;
        rag_tokens = llm.tokenize_prompt(&rag)?.len() as u32;
        let ttft = time_to_first_token(&llm, rag, run as u32)?;

        if run > 0 {
            prompt_rates.push(f64::from(evaluated) / stats.prompt_time.as_secs_f64());
            generation_rates.push(
                f64::from(generated.completion_tokens) / generated.generation_time.as_secs_f64(),
            );
            first_token_ms.push(ttft.as_secs_f64() * 1000.0);
        }
    }
    let info = llm.info();
    Ok(LlmBenchResult {
        model: info.name.clone(),
        file: path.display().to_string(),
        file_mb: info.file_bytes as f64 / 1e6,
        threads: info.threads,
        load_seconds,
        prompt_tokens,
        prompt_tokens_per_second: median(&mut prompt_rates),
        new_tokens: config.new_tokens,
        generation_tokens_per_second: median(&mut generation_rates),
        rag_prompt_tokens: rag_tokens,
        rag_time_to_first_token_ms: median(&mut first_token_ms),
        runs,
    })
}

/// From submitting the prompt to the first piece of answer text.
fn time_to_first_token(llm: &LocalLlm, prompt: Prompt, seed: u32) -> Result<Duration, LlamaError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let started = Instant::now();
    llm.generate(
        GenerationRequest {
            prompt,
            max_tokens: 8,
            sampling: sampling(seed),
            stop: Vec::new(),
            grammar: None,
            ignore_eos: true,
        },
        Box::new(move |event| sender.send((Instant::now(), event)).is_ok()),
    )?;
    let mut first = None;
    for (at, event) in receiver {
        match event {
            GenerationEvent::Text(_) => {
                first.get_or_insert(at);
            }
            GenerationEvent::Done(_) => break,
            GenerationEvent::Failed(error) => return Err(error),
        }
    }
    Ok(first.map_or(Duration::ZERO, |at| at - started))
}

const WORDS: &[&str] = &[
    "coffee",
    "roast",
    "bean",
    "espresso",
    "customer",
    "order",
    "refund",
    "latte",
    "oat",
    "milk",
    "shop",
    "morning",
    "delivery",
    "subscription",
    "flavour",
    "cup",
    "barista",
    "price",
    "season",
    "menu",
    "loyalty",
    "card",
    "weekend",
    "pastry",
    "organic",
    "farm",
    "origin",
    "grinder",
    "filter",
    "brew",
    "aroma",
    "review",
];

/// Plain text of about `tokens` tokens, different for each `variant`.
fn words(count: usize, variant: usize) -> String {
    let mut state = (variant as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut text = String::new();
    for i in 0..count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        if i > 0 {
            text.push(if i % 12 == 11 { '.' } else { ' ' });
            if i % 12 == 11 {
                text.push(' ');
            }
        }
        text.push_str(WORDS[(state % WORDS.len() as u64) as usize]);
    }
    text
}

/// A completion prompt of at least `tokens` tokens (and at most a few more).
fn text_of_tokens(llm: &LocalLlm, tokens: usize, variant: usize) -> Result<Prompt, LlamaError> {
    let mut count = tokens;
    loop {
        let prompt = Prompt::Text(words(count, variant));
        let have = llm.tokenize_prompt(&prompt)?.len();
        if have >= tokens || count > tokens * 4 {
            return Ok(prompt);
        }
        count += (tokens - have).div_ceil(2).max(1);
    }
}

/// A grounded-answer prompt: instructions, `context_tokens` of retrieved passages, a
/// question — as a chat when the model has a template, as a transcript otherwise.
fn rag_prompt(llm: &LocalLlm, context_tokens: usize, variant: usize) -> Result<Prompt, LlamaError> {
    let Prompt::Text(context) = text_of_tokens(llm, context_tokens, variant + 5000)? else {
        unreachable!("text_of_tokens builds text prompts")
    };
    let system = format!(
        "You are the assistant of a coffee shop. Answer only from these passages and cite \
         them as [1], [2].\n\n[1] {context}"
    );
    let question = "How long does a refund take for a subscription order?".to_owned();
    Ok(if llm.has_chat_template() {
        Prompt::Chat(vec![
            Turn {
                role: TurnRole::System,
                content: system,
            },
            Turn {
                role: TurnRole::User,
                content: question,
            },
        ])
    } else {
        Prompt::Text(format!("{system}\n\nUser: {question}\nAssistant:"))
    })
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
