//! The use cases of Brandpilot's knowledge base, as one API that the command line (and,
//! later, the HTTP server) calls: ingest sources, search them with citations, list and remove
//! sources, rebuild the indexes, evaluate retrieval and benchmark it.
//!
//! [`Brandpilot`] owns the store, the indexes, the extractor and the embedder, and moves data
//! between them; the crates below it never talk to each other directly. Blocking work
//! (extraction, embedding, index writes) runs on tokio's blocking pool, never on an async
//! worker. This crate must not know HTTP or terminal rendering.

mod access;
pub mod accounts;
pub mod assistant;
pub mod backup;
pub mod bench;
pub mod credits;
mod embedders;
mod embedding;
mod error;
pub mod eval;
pub mod eval_answers;
pub mod experiments;
mod handoff;
mod ingest;
pub mod llm;
pub mod llm_cache;
pub mod llm_calls;
pub mod models;
pub mod plans;
pub mod query_usage;
mod search;
pub mod settings;
mod sources;
pub mod studio;
mod sync;
pub mod telemetry;
pub mod uploads;
mod web_sources;
pub mod webhooks;
pub mod widget;
pub mod workspaces;

pub use access::{Admin, ApiKey, CreatedApiKey, Role, Scope};
pub use accounts::{Accounts, Actor, AuditEvent, RequestOrigin, Session};
pub use embedders::{EmbedderChoice, build_embedder};
pub(crate) use error::blocking;
pub use error::{AppError, Result};
pub use ingest::{FileOutcome, IngestObserver, IngestReport, Quiet, TextDocument};
pub use llm_cache::{AnswerCache, CacheHit, CacheScope};
pub use llm_calls::StoreCallSink;
pub use search::SearchResults;
pub use settings::Settings;
pub use sync::SyncReport;

use brandpilot_core::WorkspaceId;
use brandpilot_embed::{Embedder, TokenCounter};
use brandpilot_extract::{ExtractLimits, Extractor, PdfRunner, Transcriber};
use brandpilot_index::fusion::ScoreNormalization;
use brandpilot_index::{Bm25Config, Bm25Index, VectorConfig, VectorIndex};
use brandpilot_knowledge::chunk::ChunkingConfig;
use brandpilot_knowledge::retrieve::{Fusion, RetrievalConfig, Retriever};
use brandpilot_store::{Brand, Store};
use settings::FusionMethod;
use std::sync::Arc;
use std::time::Duration;

/// Bumped when the on-disk index layout changes, forcing a rebuild from the store.
const INDEX_FORMAT: u32 = 2;

pub struct Brandpilot {
    pub settings: Settings,
    pub store: Store,
    pub workspace: WorkspaceId,
    extractor: Arc<Extractor>,
    embedder: Arc<dyn Embedder>,
    counter: Arc<dyn TokenCounter>,
    chunking: ChunkingConfig,
    /// Identifies everything that shapes chunks; part of every source's content hash.
    pipeline_fingerprint: String,
    retriever: Arc<Retriever>,
    sync_lock: tokio::sync::Mutex<()>,
    /// Set when the embedder is a fallback; shown next to results.
    pub embedder_note: Option<String>,
    /// Counters of what this app did, for `/metrics`.
    pub metrics: Arc<telemetry::Metrics>,
    /// Fetches pages added by URL, within `settings.fetch`.
    fetcher: Arc<brandpilot_fetch::Fetcher>,
    /// Query tokens embedded and not yet recorded as usage.
    query_tally: query_usage::QueryTally,
    /// Workspaces' plans as recently read.
    plans: plans::PlanCache,
}

impl Brandpilot {
    /// Opens the data directory: store, indexes, models. `pdf_runner` says how PDFs are
    /// parsed (the binary passes a child process of itself).
    pub async fn open(settings: Settings, pdf_runner: PdfRunner) -> Result<Self> {
        let choice = build_embedder(&settings)?;
        Self::open_with(settings, pdf_runner, choice).await
    }

    /// Opens with an embedder chosen by the caller (tests, benchmarks).
    pub async fn open_with(
        settings: Settings,
        pdf_runner: PdfRunner,
        choice: EmbedderChoice,
    ) -> Result<Self> {
        let EmbedderChoice {
            embedder,
            counter,
            note,
        } = choice;
        let chunking = chunking_config(&settings, embedder.as_ref())?;
        let store = Store::open(&settings.database_url()).await?;
        let workspace = store.ensure_workspace(&settings.workspace).await?;
        let extractor = Arc::new(Extractor::new(
            extract_limits(&settings),
            pdf_runner,
            transcriber(&settings),
        ));
        let fetcher = Arc::new(fetcher(&settings)?);
        let retriever = {
            let settings = settings.clone();
            let embedder = embedder.clone();
            blocking(move || open_indexes(&settings, embedder)).await?
        };
        let pipeline_fingerprint = format!(
            "{}|{}|{}|{}",
            ingest::PIPELINE_VERSION,
            embedder.model_id(),
            chunking.max_tokens,
            chunking.overlap_tokens
        );
        Ok(Self {
            settings,
            store,
            workspace,
            extractor,
            embedder,
            counter,
            chunking,
            pipeline_fingerprint,
            retriever: Arc::new(retriever),
            sync_lock: tokio::sync::Mutex::new(()),
            embedder_note: note,
            metrics: Arc::new(telemetry::Metrics::default()),
            fetcher,
            query_tally: query_usage::QueryTally::default(),
            plans: plans::PlanCache::default(),
        })
    }

    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    pub fn chunking(&self) -> ChunkingConfig {
        self.chunking
    }

    pub fn retriever(&self) -> &Arc<Retriever> {
        &self.retriever
    }

    /// The brand with this name; created when `create` is set.
    pub async fn brand(&self, name: &str, create: bool) -> Result<Brand> {
        if create {
            return Ok(self.store.ensure_brand(self.workspace, name).await?);
        }
        self.store
            .find_brand(self.workspace, name)
            .await?
            .ok_or_else(|| AppError::UnknownBrand(name.to_owned()))
    }

    /// The LLM layer for this workspace: the router built from settings (loading the local
    /// models its routes use), call records persisted in the store, and the answer cache.
    pub async fn llm(&self) -> Result<llm::LlmService> {
        llm::LlmService::open(self).await
    }

    /// The token counter of the embedder (the answer cache measures questions with it).
    pub fn token_counter(&self) -> &Arc<dyn TokenCounter> {
        &self.counter
    }

    /// Documents in the BM25 index and vectors in the vector index.
    pub fn index_sizes(&self) -> Result<(u64, usize)> {
        Ok((self.retriever.bm25.len(), self.retriever.vectors.len()?))
    }

    /// Checkpoints and releases the database. Takes `&self` so that a server sharing the app
    /// can close it once every request has finished; nothing may use the app afterwards.
    pub async fn close(&self) {
        self.flush_query_usage().await;
        self.store.close().await;
    }
}

/// The chunk budget: the setting, or the default for the embedder. Models that read 512
/// tokens get the seed plan's 500/50; MiniLM (254 content tokens) gets 200/30, chosen on the
/// SciFact train split (see docs/ARCHITECTURE.md, "Chunk size").
fn chunking_config(settings: &Settings, embedder: &dyn Embedder) -> Result<ChunkingConfig> {
    let model_max = embedder.max_tokens();
    let (default_size, default_overlap) = if model_max >= 500 {
        (500, 50)
    } else {
        (model_max.min(200), 30)
    };
    let max_tokens = match settings.chunking.max_tokens {
        0 => default_size,
        n => n,
    };
    let overlap_tokens = settings
        .chunking
        .overlap_tokens
        .unwrap_or(default_overlap.min(max_tokens / 2));
    ChunkingConfig {
        max_tokens,
        overlap_tokens,
    }
    .validated(model_max)
    .map_err(AppError::Settings)
}

fn extract_limits(settings: &Settings) -> ExtractLimits {
    const MIB: u64 = 1024 * 1024;
    let extract = &settings.extract;
    ExtractLimits {
        max_file_bytes: extract.max_file_mb * MIB,
        max_decompressed_bytes: extract.max_decompressed_mb * MIB,
        pdf_timeout: Duration::from_secs(extract.pdf_timeout_secs),
        pdf_memory_bytes: extract.pdf_memory_mb * MIB,
        transcription_timeout: Duration::from_secs(settings.transcription.timeout_secs),
    }
}

fn fetcher(settings: &Settings) -> Result<brandpilot_fetch::Fetcher> {
    let fetch = &settings.fetch;
    let policy = brandpilot_fetch::AddressPolicy::new(&fetch.allow_networks, &fetch.allowed_ports)
        .map_err(|e| AppError::Settings(format!("fetch.allow_networks: {e}")))?;
    let limits = brandpilot_fetch::FetchLimits {
        max_bytes: fetch.max_mb.max(1) * 1024 * 1024,
        total_timeout: std::time::Duration::from_secs(fetch.timeout_secs.max(1)),
        ..brandpilot_fetch::FetchLimits::default()
    };
    Ok(brandpilot_fetch::Fetcher::new(policy, limits)?)
}

fn transcriber(settings: &Settings) -> Option<Transcriber> {
    let config = &settings.transcription;
    let base_url = config.base_url.as_ref()?;
    let mut transcriber = Transcriber::new(base_url.clone(), config.model.clone());
    transcriber.api_key = config.api_key.clone();
    transcriber.ffmpeg = config.ffmpeg.clone();
    transcriber.segment_secs = config.segment_secs;
    transcriber.split_above_bytes = config.split_above_mb * 1024 * 1024;
    Some(transcriber)
}

/// What the vector index on disk was built with; a mismatch means it must be rebuilt.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct IndexManifest {
    format: u32,
    embedder: String,
    dimensions: usize,
}

fn open_indexes(settings: &Settings, embedder: Arc<dyn Embedder>) -> Result<Retriever> {
    let dir = settings.index_dir();
    let io = |context: &str| {
        let context = context.to_owned();
        move |source| AppError::Io { context, source }
    };
    fs_err::create_dir_all(&dir).map_err(io("cannot create the index directory"))?;
    let manifest = IndexManifest {
        format: INDEX_FORMAT,
        embedder: embedder.model_id().to_owned(),
        dimensions: embedder.dimensions(),
    };
    let manifest_path = dir.join("manifest.json");
    let current: Option<IndexManifest> = std::fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let retrieval = &settings.retrieval;
    let bm25_config = Bm25Config {
        title_boost: retrieval.title_boost,
        heading_boost: retrieval.heading_boost,
        ..Bm25Config::default()
    };
    let vector_config = VectorConfig {
        exact_threshold: retrieval.exact_search_threshold,
        ..VectorConfig::default()
    };
    let stale = current.as_ref() != Some(&manifest);
    if stale {
        // Built by another embedder or layout: the vectors (and, for a new layout, the text
        // index) are rebuilt from the store by the next sync.
        for sub in ["bm25", "vectors"] {
            let path = dir.join(sub);
            if path.exists() {
                fs_err::remove_dir_all(&path).map_err(io("cannot remove a stale index"))?;
            }
        }
    }
    let bm25 = Bm25Index::open_with_config(&dir.join("bm25"), bm25_config)?;
    let vectors =
        VectorIndex::open_with_config(&dir.join("vectors"), embedder.dimensions(), vector_config)?;
    if stale {
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Task(e.to_string()))?;
        let temporary = dir.join("manifest.json.tmp");
        fs_err::write(&temporary, json).map_err(io("cannot write the index manifest"))?;
        fs_err::rename(&temporary, &manifest_path)
            .map_err(io("cannot write the index manifest"))?;
    }
    let fusion = match retrieval.fusion {
        FusionMethod::Rrf => Fusion::ReciprocalRank { k: retrieval.rrf_k },
        FusionMethod::Minmax => Fusion::Convex(ScoreNormalization::MinMax),
        FusionMethod::Zscore => Fusion::Convex(ScoreNormalization::ZScore),
    };
    Ok(Retriever {
        bm25: Arc::new(bm25),
        vectors: Arc::new(vectors),
        embedder,
        config: RetrievalConfig {
            fusion,
            bm25_weight: retrieval.bm25_weight,
            vector_weight: retrieval.vector_weight,
            candidates: retrieval.candidates,
            mmr_lambda: retrieval.mmr_lambda,
        },
    })
}
