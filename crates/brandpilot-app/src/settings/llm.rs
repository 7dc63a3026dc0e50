//! Settings of the language models: providers, routes, retries, the answer cache and prices.

use brandpilot_llm::accounting::ModelPrice;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The routes Brandpilot's features call, each an ordered chain of providers.
pub const KNOWN_ROUTES: [&str; 6] = [
    "classify",
    "rewrite",
    "answer",
    "generate",
    "summarize",
    "judge",
];

/// The name of the provider that exists when none is configured: the local model.
pub const LOCAL_PROVIDER: &str = "local";

/// The local chat model used when no provider is configured.
pub const DEFAULT_LOCAL_MODEL: &str = "smollm2-135m-instruct";

/// Language models: the providers, the routes through them, how calls are retried and
/// cached, and what they cost. With no provider configured, every route uses the local
/// model, so Brandpilot works offline.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Providers by name, e.g. `[llm.providers.openai]`.
    pub providers: BTreeMap<String, ProviderSettings>,
    /// Route name → provider names in the order they are tried, e.g.
    /// `answer = ["openai", "local"]`. A route not listed uses `default_chain`.
    pub routes: BTreeMap<String, Vec<String>>,
    /// The chain of routes not listed in `routes`. Empty: every configured provider,
    /// ordered by name with local models last (only the local model when none is configured).
    pub default_chain: Vec<String>,
    /// Per attempt; see `RoutePolicy::timeout`.
    pub timeout_secs: u64,
    /// Retries on the same provider for transient errors, after the first attempt.
    pub max_retries: u32,
    /// Consecutive transient failures that open a provider's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before one probe goes through.
    pub breaker_cool_down_secs: u64,
    /// USD per million tokens, keyed by model or `provider/model`.
    pub prices: BTreeMap<String, ModelPrice>,
    pub cache: LlmCacheSettings,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            providers: BTreeMap::new(),
            routes: BTreeMap::new(),
            default_chain: Vec::new(),
            timeout_secs: 120,
            max_retries: 2,
            breaker_failures: 5,
            breaker_cool_down_secs: 30,
            prices: BTreeMap::new(),
            cache: LlmCacheSettings::default(),
        }
    }
}

/// What speaks for a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI chat completions and every server speaking them: OpenAI, xAI, Groq,
    /// Together, vLLM, Ollama, llama.cpp server, LM Studio.
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
    /// A GGUF model run in this process by llama.cpp.
    Local,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    pub kind: ProviderKind,
    /// Remote: the model name the provider expects. Local: a short name under
    /// `models_dir` (e.g. `smollm2-135m-instruct`), a `.gguf` file or a directory holding
    /// one, or a Hugging Face id found in the local Hugging Face cache.
    pub model: String,
    /// Remote: the API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
    pub base_url: Option<String>,
    /// Remote: the key itself. Prefer `api_key_env` so the key stays out of files.
    pub api_key: Option<String>,
    /// Remote: the environment variable holding the key, e.g. `OPENAI_API_KEY`.
    pub api_key_env: Option<String>,
    /// Calls (or open streams) at once; 0 picks 8 for remote providers and 1 for local ones.
    pub max_concurrency: usize,
    /// OpenAI-compatible: send `max_completion_tokens` instead of `max_tokens` (OpenAI's
    /// reasoning models refuse the older name; most other servers only know it).
    pub max_completion_tokens: bool,
    /// Local: compute threads; 0 means one per core.
    pub threads: usize,
    /// Local: context window in tokens (prompt plus answer); 0 uses the model's own.
    pub context_tokens: u32,
    /// How capable the model is, 1 (tiny, e.g. SmolLM2-135M) to 5; unset, local models
    /// count as 1 and hosted ones as 3. The assistant lets only capable models write answers.
    pub capability: Option<u8>,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            kind: ProviderKind::Local,
            model: DEFAULT_LOCAL_MODEL.into(),
            base_url: None,
            api_key: None,
            api_key_env: None,
            max_concurrency: 0,
            max_completion_tokens: false,
            threads: 0,
            context_tokens: 4096,
            capability: None,
        }
    }
}

/// The answer cache: an exact-prompt cache plus a similarity cache on the embedding of the
/// prompt, scoped per brand and route.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmCacheSettings {
    pub enabled: bool,
    /// Routes whose answers are cached. Creative routes (`generate`, `rewrite`) are left out
    /// by default: a user asking again wants a new draft, not the old one.
    pub routes: Vec<String>,
    /// Cosine similarity at or above which a cached answer serves a different prompt; 1.0
    /// turns the similarity cache off and keeps the exact one.
    pub similarity_threshold: f32,
    pub ttl_secs: u64,
    /// Entries kept per brand and route; the oldest go first.
    pub max_entries: usize,
}

impl Default for LlmCacheSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            routes: vec![
                "classify".into(),
                "answer".into(),
                "summarize".into(),
                "judge".into(),
            ],
            similarity_threshold: 0.95,
            ttl_secs: 24 * 3600,
            max_entries: 2_000,
        }
    }
}
