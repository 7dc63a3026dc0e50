//! Every setting Brandpilot reads, with its default. The binary layers them: these defaults
//! < `brandpilot.toml` < `BRANDPILOT__SECTION__KEY` environment variables < command-line
//! flags. Unknown keys are rejected so that a typo in a file is an error, not a silent default.

use brandpilot_llm::accounting::ModelPrice;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the database, indexes and converted models live.
    pub data_dir: PathBuf,
    /// Where `scripts/setup-models.sh` puts model files.
    pub models_dir: PathBuf,
    /// The workspace the command line acts in.
    pub workspace: String,
    pub store: StoreSettings,
    pub embedder: EmbedderSettings,
    pub chunking: ChunkingSettings,
    pub retrieval: RetrievalSettings,
    pub extract: ExtractSettings,
    pub transcription: TranscriptionSettings,
    pub ingest: IngestSettings,
    pub llm: LlmSettings,
    pub server: ServerSettings,
    pub jobs: JobSettings,
    pub auth: AuthSettings,
    pub fetch: FetchSettings,
    pub billing: BillingSettings,
    pub assistant: AssistantSettings,
    pub studio: StudioSettings,
    pub webhooks: WebhookSettings,
    pub widget: WidgetSettings,
    pub telemetry: TelemetrySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("brandpilot-data"),
            models_dir: PathBuf::from("models"),
            workspace: "default".into(),
            store: StoreSettings::default(),
            embedder: EmbedderSettings::default(),
            chunking: ChunkingSettings::default(),
            retrieval: RetrievalSettings::default(),
            extract: ExtractSettings::default(),
            transcription: TranscriptionSettings::default(),
            ingest: IngestSettings::default(),
            llm: LlmSettings::default(),
            server: ServerSettings::default(),
            jobs: JobSettings::default(),
            auth: AuthSettings::default(),
            fetch: FetchSettings::default(),
            billing: BillingSettings::default(),
            assistant: AssistantSettings::default(),
            studio: StudioSettings::default(),
            webhooks: WebhookSettings::default(),
            widget: WidgetSettings::default(),
            telemetry: TelemetrySettings::default(),
        }
    }
}

impl Settings {
    pub fn database_url(&self) -> String {
        match &self.store.url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("brandpilot.db").display()),
        }
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

/// Credits: what a workspace may spend on model calls (LLM answers and embeddings) each
/// calendar month (UTC). One credit is `tokens_per_credit` tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillingSettings {
    /// The plan of every workspace not put on another one (`brandpilot workspaces plan`):
    /// `unlimited` (the default: no credit limit, the server's per-key rate), or a name
    /// from `plans`.
    pub plan: String,
    pub tokens_per_credit: u64,
    /// Plans by name, e.g. `[billing.plans.starter] monthly_credits = 5000`.
    pub plans: BTreeMap<String, PlanSettings>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            plan: "unlimited".into(),
            tokens_per_credit: 1_000,
            plans: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanSettings {
    /// Credits a workspace may use per calendar month; work that needs more is refused
    /// with 402 until the month turns. None: no limit.
    pub monthly_credits: Option<u64>,
    /// The plan's rate tier: requests per minute one API key or signed-in person of the
    /// workspace may make (0: unlimited), and how many at once. None: the server's
    /// `per_key_per_minute` and `per_key_burst`.
    pub requests_per_minute: Option<u32>,
    pub burst: Option<u32>,
}

/// Deliveries to a workspace's webhooks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Attempts per delivery; between them the job queue's backoff grows from 2 s to 10
    /// min, so 12 attempts keep trying for about half an hour.
    pub max_attempts: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self { max_attempts: 12 }
    }
}

/// Traces to an OpenTelemetry collector (off unless an endpoint is set). The standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_SERVICE_NAME`
/// variables fill whatever is not set here.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// The collector's OTLP/HTTP base URL, e.g. `http://otel-collector:4318`.
    pub otlp_endpoint: Option<String>,
    /// Headers sent with each export (a hosted service's key); never logged or shown.
    pub otlp_headers: BTreeMap<String, String>,
    /// The `service.name` of the spans (default `brandpilot`).
    pub service_name: Option<String>,
}

/// The website widget's anonymous visitors.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetSettings {
    /// Messages one visitor may send per minute, and how many at once.
    pub visitor_per_minute: u32,
    pub visitor_burst: u32,
    /// New visitor sessions one client address may start per minute.
    pub sessions_per_ip_per_minute: u32,
    /// How long a visitor session lasts, in days (the widget keeps it in the browser).
    pub session_days: u32,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            visitor_per_minute: 10,
            visitor_burst: 5,
            sessions_per_ip_per_minute: 10,
            session_days: 30,
        }
    }
}

/// Studio's generation loop: how many facts it grounds copy in, how often it asks the model
/// to repair what the rules reject, and how fast a reel's voice-over is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudioSettings {
    /// Passages of the brand's own material retrieved to ground each generation.
    pub facts: usize,
    /// Past posts from the brand's examples library shown to the model as few-shot
    /// examples (the most similar to the brief, weighted by how they performed); 0 for none.
    pub examples: usize,
    /// Rewrites the model is asked for, per variant, after the model-free repairs; a
    /// variant still failing after them is returned marked as failing.
    pub max_repair_passes: u32,
    /// Words per minute a reel's voice-over is read at (its word budget follows).
    pub words_per_minute: f64,
    /// The share of a reel's word budget a script may stray from it (0.15 = ±15%).
    pub duration_tolerance: f64,
    /// Word 3-shingle similarity at which two variants of one generation are near-duplicates.
    pub duplicate_threshold: f64,
    /// Tokens the model may write for one variant or script.
    pub max_tokens: u32,
    pub temperature: f32,
}

impl Default for StudioSettings {
    fn default() -> Self {
        Self {
            facts: 5,
            examples: 2,
            max_repair_passes: 2,
            words_per_minute: brandpilot_studio::reel::DEFAULT_WORDS_PER_MINUTE,
            duration_tolerance: 0.15,
            duplicate_threshold: brandpilot_studio::validate::duplicates::DEFAULT_THRESHOLD,
            max_tokens: 700,
            temperature: 0.7,
        }
    }
}

/// The customer assistant: how much it reads, remembers and lets a model write.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssistantSettings {
    /// Passages retrieved for each question.
    pub passages: usize,
    /// Tokens of recent conversation kept verbatim; older messages are folded into a summary.
    pub memory_tokens: usize,
    /// The longest rolling summary kept, in characters.
    pub summary_chars: usize,
    /// The longest customer message accepted, in characters.
    pub max_message_chars: usize,
    /// The capability (1 tiny … 5 frontier) a model on the `answer` route needs before the
    /// assistant lets it write answers itself; below it, answers are extractive.
    pub generative_min_capability: u8,
    /// In extractive mode, let the model on the `answer` route connect and rephrase the
    /// chosen sentences (kept only when every marker and fact survives verification).
    pub rephrase: bool,
    /// Ask the model on the `classify` route when the rules cannot tell what a question is
    /// about (only when that model has at least `generative_min_capability`).
    pub classify_with_model: bool,
    /// Let the model on the `summarize` route rewrite a conversation's rolling summary, in
    /// a background job (only when that model has at least `generative_min_capability`;
    /// otherwise, and until the job is done, the summary is folded without a model).
    pub summarize_with_model: bool,
}

impl Default for AssistantSettings {
    fn default() -> Self {
        Self {
            passages: 6,
            memory_tokens: 1_200,
            summary_chars: 1_500,
            max_message_chars: 4_000,
            generative_min_capability: 3,
            rephrase: false,
            classify_with_model: true,
            summarize_with_model: true,
        }
    }
}

/// Adding sources by URL: what the server may fetch. Internal networks (loopback, private,
/// link-local, cloud metadata, …) are never fetched unless listed here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchSettings {
    /// Internal networks fetches may reach on purpose, as CIDRs (`10.20.0.0/16`) or
    /// addresses, e.g. an intranet wiki. Empty by default.
    pub allow_networks: Vec<String>,
    /// Ports URLs may name.
    pub allowed_ports: Vec<u16>,
    /// The largest page fetched, in MiB.
    pub max_mb: u64,
    /// The longest a fetch may take, in seconds.
    pub timeout_secs: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        Self {
            allow_networks: Vec::new(),
            allowed_ports: vec![80, 443],
            max_mb: 10,
            timeout_secs: 30,
        }
    }
}

/// Accounts and sign-in sessions.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Whether anyone who reaches the server may create an account (with a workspace of
    /// their own). Turn off on a server only invited members should use.
    pub allow_signup: bool,
    /// Argon2id cost of a password hash: memory in KiB and passes. The defaults are
    /// OWASP's (19 MiB, 2 passes): about 30 ms of one core per login here. Hashes keep
    /// their own parameters, so raising these later still accepts old passwords.
    pub password_memory_kib: u32,
    pub password_iterations: u32,
    /// How long an access token (a JWT) is good for, in seconds.
    pub access_token_secs: u64,
    /// How long a refresh token is good for, in days; each refresh issues a new one.
    pub refresh_token_days: u64,
    /// The key access tokens are signed with (HS256), at least 32 characters. When unset,
    /// the server makes one and keeps it in the database, so every replica shares it.
    pub token_secret: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            allow_signup: true,
            password_memory_kib: 19 * 1024,
            password_iterations: 2,
            access_token_secs: 15 * 60,
            refresh_token_days: 30,
            token_secret: None,
        }
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("allow_signup", &self.allow_signup)
            .field("password_memory_kib", &self.password_memory_kib)
            .field("password_iterations", &self.password_iterations)
            .field("access_token_secs", &self.access_token_secs)
            .field("refresh_token_days", &self.refresh_token_days)
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The job queue's workers (in `brandpilot serve`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobSettings {
    /// Workers for quick jobs and for long ones (ingestion).
    pub fast_workers: usize,
    pub long_workers: usize,
    /// Workers writing Studio batch items: at most this many generations of a batch run at
    /// once (each is several model calls).
    pub generate_workers: usize,
    /// A claimed job's lease; another worker takes it over this long after its worker died.
    pub lease_secs: u64,
    /// Attempts a job gets before it is dead.
    pub max_attempts: u32,
    /// How long a stopping server lets jobs finish before handing them back to the queue.
    pub grace_secs: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            fast_workers: 2,
            long_workers: 1,
            generate_workers: 2,
            lease_secs: 60,
            max_attempts: 5,
            grace_secs: 20,
        }
    }
}

/// `brandpilot serve`: where it listens and how much it accepts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on. The default is loopback only: exposing the server is
    /// a decision, made by setting `0.0.0.0:8080` (or a reverse proxy in front).
    pub bind: String,
    /// A request that takes longer is answered 503 `timeout`.
    pub request_timeout_secs: u64,
    /// The same for requests that generate with a model (Studio generations and reels),
    /// which take minutes with the local model on a small machine.
    pub generation_timeout_secs: u64,
    /// The largest JSON request body accepted, in KiB.
    pub max_body_kb: usize,
    /// The largest upload request (all its files together), in MiB; each file is also
    /// held to `extract.max_file_mb`.
    pub max_upload_mb: usize,
    /// Files one upload request may carry.
    pub max_upload_files: usize,
    /// How often the server looks for chunks written by another process (the command
    /// line, another replica) and adds them to its indexes, in milliseconds; 0 turns it off.
    pub index_follow_ms: u64,
    /// Web origins allowed to call the API from a browser (`https://shop.example`); none by
    /// default. Exact matches only, never a wildcard.
    pub cors_origins: Vec<String>,
    /// Set when a reverse proxy in front terminates TLS: responses then carry HSTS.
    pub tls_terminated_upstream: bool,
    /// Requests per minute from one client address (0: unlimited), and how many may come
    /// at once. Health probes are exempt.
    pub per_ip_per_minute: u32,
    pub per_ip_burst: u32,
    /// Requests per minute with one API key or by one signed-in person (0: unlimited),
    /// and how many may come at once.
    pub per_key_per_minute: u32,
    pub per_key_burst: u32,
    /// Sign-up, log-in and refresh requests per minute from one address (0: unlimited),
    /// and how many may come at once: what slows down password guessing.
    pub sign_in_per_minute: u32,
    pub sign_in_burst: u32,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    /// Addresses of reverse proxies in front (e.g. `["127.0.0.1"]` behind a local nginx):
    /// their `X-Forwarded-For` names the client for per-address limits. Empty: the
    /// header is ignored.
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            request_timeout_secs: 30,
            generation_timeout_secs: 600,
            max_body_kb: 1024,
            max_upload_mb: 100,
            max_upload_files: 20,
            index_follow_ms: 2000,
            cors_origins: Vec::new(),
            tls_terminated_upstream: false,
            per_ip_per_minute: 1_200,
            per_ip_burst: 200,
            per_key_per_minute: 6_000,
            per_key_burst: 600,
            sign_in_per_minute: 20,
            sign_in_burst: 10,
            metrics_token: None,
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// `sqlite://path`; defaults to `<data_dir>/brandpilot.db`.
    pub url: Option<String>,
}

/// Which embedder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbedderKind {
    /// The local model when its files are present, else the hashing fallback (with a warning).
    #[default]
    Auto,
    /// The local model; an error when its files are missing.
    Local,
    /// An OpenAI-compatible `/v1/embeddings` endpoint.
    Openai,
    /// Feature hashing: no model, no semantics. For tests, benchmarks and emergencies.
    Hashing,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedderSettings {
    pub kind: EmbedderKind,
    /// Local: a short name under `models_dir`, a directory, or a Hugging Face id found in
    /// the local cache. OpenAI-compatible: the remote model name.
    pub model: String,
    /// Local: weight format of the converted model: "f32", "f16" or "q8_0".
    pub quantization: String,
    /// Local: inference threads; 0 means one per core.
    pub threads: usize,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub dimensions: Option<usize>,
    pub batch_size: usize,
    /// Dimensions of the hashing embedder.
    pub hashing_dimensions: usize,
}

impl Default for EmbedderSettings {
    fn default() -> Self {
        Self {
            kind: EmbedderKind::Auto,
            model: "all-minilm-l6-v2".into(),
            quantization: "q8_0".into(),
            threads: 0,
            base_url: None,
            api_key: None,
            dimensions: None,
            batch_size: 32,
            hashing_dimensions: 384,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ChunkingSettings {
    /// Chunk size in the embedder's tokens; 0 picks the default for the embedder
    /// (see `default_chunk_tokens`).
    pub max_tokens: usize,
    /// Tokens shared by consecutive chunks of one section; `None` picks the default.
    pub overlap_tokens: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FusionMethod {
    /// Reciprocal rank fusion: uses ranks only, needs no score calibration.
    Rrf,
    /// Weighted sum of scores min-max normalised per list; measured best (SciFact train).
    #[default]
    Minmax,
    /// Weighted sum of z-score normalised scores.
    Zscore,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrievalSettings {
    pub fusion: FusionMethod,
    pub rrf_k: f32,
    pub bm25_weight: f32,
    pub vector_weight: f32,
    /// Candidates fetched from each retriever before fusion.
    pub candidates: usize,
    pub title_boost: f32,
    pub heading_boost: f32,
    /// Up to this many admitted vectors, vector search is exact (brute force). 10k keeps an
    /// exact scan of 384-dimension vectors under ~10 ms (measured at 100k chunks).
    pub exact_search_threshold: usize,
    /// Diversify results by maximal marginal relevance with this λ (0–1; 0.7 is a gentle
    /// start): fewer near-duplicate passages, at some cost in pure relevance. Off by default.
    pub mmr_lambda: Option<f32>,
}

impl Default for RetrievalSettings {
    fn default() -> Self {
        Self {
            fusion: FusionMethod::Minmax,
            rrf_k: 60.0,
            bm25_weight: 1.0,
            vector_weight: 1.0,
            candidates: 100,
            title_boost: 0.3,
            heading_boost: 0.3,
            exact_search_threshold: 10_000,
            mmr_lambda: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractSettings {
    pub max_file_mb: u64,
    pub max_decompressed_mb: u64,
    pub pdf_timeout_secs: u64,
    pub pdf_memory_mb: u64,
    /// Parse PDFs in a child process (the default). Off only for debugging.
    pub pdf_subprocess: bool,
}

impl Default for ExtractSettings {
    fn default() -> Self {
        Self {
            max_file_mb: 50,
            max_decompressed_mb: 200,
            pdf_timeout_secs: 60,
            pdf_memory_mb: 1024,
            pdf_subprocess: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscriptionSettings {
    /// An OpenAI-compatible server with `/v1/audio/transcriptions` (OpenAI, whisper.cpp
    /// server, faster-whisper-server). Audio and video are rejected when unset.
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout_secs: u64,
    pub ffmpeg: PathBuf,
    /// Long media is cut into segments this long (seconds) before transcription.
    pub segment_secs: u32,
    /// Audio files larger than this (MiB) are cut; smaller ones are sent as they are.
    /// OpenAI takes at most 25 MB per request.
    pub split_above_mb: u64,
}

impl Default for TranscriptionSettings {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            model: "whisper-1".into(),
            timeout_secs: 600,
            ffmpeg: PathBuf::from("ffmpeg"),
            segment_secs: 600,
            split_above_mb: 24,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Chunks stored between two index syncs in a long ingestion: lower makes progress
    /// searchable sooner, higher commits the indexes less often.
    pub sync_every_chunks: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            sync_every_chunks: 20_000,
        }
    }
}

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
