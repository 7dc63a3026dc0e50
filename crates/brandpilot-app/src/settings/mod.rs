//! Every setting Brandpilot reads, with its default. The binary layers them: these defaults
//! < `brandpilot.toml` < `BRANDPILOT__SECTION__KEY` environment variables < command-line
//! flags. Unknown keys are rejected so that a typo in a file is an error, not a silent default.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

mod llm;
mod platform;

pub use llm::*;
pub use platform::*;

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
