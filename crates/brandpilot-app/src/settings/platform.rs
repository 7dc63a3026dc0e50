//! Settings of the platform around the knowledge base: the server, jobs, sign-in, fetching,
//! billing and plans, webhooks, the widget, Studio, the assistant and telemetry.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
