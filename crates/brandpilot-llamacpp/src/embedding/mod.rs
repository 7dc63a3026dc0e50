//! In-process sentence embeddings for BERT-family GGUF models on llama.cpp: tokenise with
//! llama.cpp's own WordPiece tokenizer ([CLS] … [SEP]), run the encoder with the model's
//! pooling (mean or CLS), return L2-normalised vectors.
//!
//! A text longer than the model's limit is an error, never silently truncated: callers
//! chunk first, using [`BertEmbedder::count_tokens`] and [`BertEmbedder::max_tokens`].

mod worker;

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

use llama_cpp_2::context::params::LlamaPoolingType;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;

use crate::backend::backend;
use crate::error::{LlamaError, Result};
use crate::gguf::{MAX_SEQ_LENGTH_KEY, OutputType, ensure_gguf};
use worker::{Job, WorkerConfig};

/// llama.cpp's hard limit on sequences in one batch (`LLAMA_MAX_SEQ`).
const LLAMA_MAX_SEQUENCES: usize = 256;

/// How an embedder runs. The defaults are the fastest measured configuration on a
/// 2-core x86-64 machine (see the crate's README table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedderSettings {
    /// Compute threads; 0 means one per available core. Give the embedder only cores it
    /// has to itself: ggml's workers spin at a barrier after every operation, so when
    /// another busy process takes one of them, throughput collapses (measured 10× slower
    /// with 2 threads on 2 shared cores than with 1 thread).
    pub threads: usize,
    /// Tokens the packer puts into one llama batch. BERT attends over the whole batch,
    /// so cost grows with its square: ~256 is the sweet spot. Raised automatically to
    /// the model's maximum text length when smaller.
    pub batch_tokens: usize,
    /// Pack several short texts into one batch as separate sequences.
    pub pack_sequences: bool,
    /// Use llama.cpp's flash-attention kernels.
    pub flash_attention: bool,
}

impl Default for EmbedderSettings {
    fn default() -> Self {
        EmbedderSettings {
            threads: 0,
            batch_tokens: 256,
            pack_sequences: true,
            flash_attention: true,
        }
    }
}

/// A BERT sentence embedder backed by llama.cpp. `Send + Sync`: calls from several
/// threads are served one after another by the embedder's worker thread.
pub struct BertEmbedder {
    model: Arc<LlamaModel>,
    jobs: Option<Sender<Job>>,
    worker: Option<JoinHandle<()>>,
    model_id: String,
    dimensions: usize,
    max_tokens: usize,
    threads: usize,
}

impl std::fmt::Debug for BertEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BertEmbedder")
            .field("model_id", &self.model_id)
            .field("dimensions", &self.dimensions)
            .field("max_tokens", &self.max_tokens)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl BertEmbedder {
    /// Converts (or reuses the cached conversion of) a sentence-transformers directory
    /// into `cache_dir`, then loads it.
    pub fn from_model_dir(
        model_dir: &Path,
        cache_dir: &Path,
        output: OutputType,
        settings: EmbedderSettings,
    ) -> Result<Self> {
        let gguf = ensure_gguf(model_dir, cache_dir, output)?;
        Self::load(&gguf, settings)
    }

    /// Loads a BERT GGUF file.
    pub fn load(gguf_path: &Path, settings: EmbedderSettings) -> Result<Self> {
        let backend = backend()?;
        if !gguf_path.is_file() {
            return Err(LlamaError::ModelLoad {
                path: gguf_path.to_path_buf(),
                message: "no such file".into(),
            });
        }
        let model = LlamaModel::load_from_file(backend, gguf_path, &LlamaModelParams::default())
            .map_err(|e| LlamaError::ModelLoad {
                path: gguf_path.to_path_buf(),
                message: e.to_string(),
            })?;
        let model = Arc::new(model);

        let n_ctx_train = model.n_ctx_train() as usize;
        let max_tokens = model
            .meta_val_str(MAX_SEQ_LENGTH_KEY)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map_or(n_ctx_train, |limit| limit.min(n_ctx_train));
        let dimensions = usize::try_from(model.n_embd_out()).map_err(|_| {
            LlamaError::UnsupportedModel("model reports a negative embedding width".into())
        })?;
        let pooling = model_pooling(&model)?;

        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        if settings.batch_tokens == 0 {
            return Err(LlamaError::InvalidSettings(
                "batch_tokens must be > 0".into(),
            ));
        }
        // The packer aims at `batch_tokens`, but a single text of up to `max_tokens` must
        // still fit one physical batch (an encoder batch cannot be split).
        let n_ubatch = settings.batch_tokens.max(max_tokens);
        let config = WorkerConfig {
            threads: i32::try_from(threads)
                .map_err(|_| LlamaError::InvalidSettings("too many threads".into()))?,
            n_ubatch: u32::try_from(n_ubatch)
                .map_err(|_| LlamaError::InvalidSettings("batch_tokens too large".into()))?,
            batch_tokens: settings.batch_tokens,
            // The shortest possible sequence is [CLS] [SEP].
            max_sequences: (settings.batch_tokens / 2).clamp(1, LLAMA_MAX_SEQUENCES),
            pack_sequences: settings.pack_sequences,
            flash_attention: settings.flash_attention,
            pooling,
        };
        let (jobs, worker) = worker::spawn(Arc::clone(&model), config)?;

        let model_id = gguf_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bert".to_owned());
        tracing::info!(
            model = %model_id, dimensions, max_tokens, threads,
            "loaded BERT embedder"
        );
        Ok(BertEmbedder {
            model,
            jobs: Some(jobs),
            worker: Some(worker),
            model_id,
            dimensions,
            max_tokens,
            threads,
        })
    }

    /// A stable name of the model and its storage type (the GGUF file stem), e.g.
    /// `all-minilm-l6-v2.q8_0`.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// Length of every embedding vector.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// The most tokens a text may have, counted as [`Self::count_tokens`] counts them.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Compute threads in use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Token ids the model sees for `text`, including [CLS] and [SEP].
    pub fn tokenize(&self, text: &str) -> Vec<i32> {
        self.llama_tokens(text).into_iter().map(|t| t.0).collect()
    }

    /// Number of tokens the model sees for `text`, including [CLS] and [SEP].
    pub fn count_tokens(&self, text: &str) -> usize {
        self.llama_tokens(text).len()
    }

    fn llama_tokens(&self, text: &str) -> Vec<LlamaToken> {
        // add_special puts [CLS] first and [SEP] last; parse_special = false so text that
        // happens to contain "[SEP]" is treated as plain words, not as a control token.
        self.model.vocab().tokenize(text.as_bytes(), true, false)
    }

    /// Embeds `texts`, returning one L2-normalised vector per text, in order.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let sequences: Vec<Vec<LlamaToken>> =
            texts.iter().map(|text| self.llama_tokens(text)).collect();
        self.run(sequences)
    }

    /// Embeds already tokenised texts (ids as returned by [`Self::tokenize`], each with
    /// its [CLS] and [SEP]). Useful when the caller truncates at the token level.
    pub fn embed_token_ids(&self, sequences: &[Vec<i32>]) -> Result<Vec<Vec<f32>>> {
        let vocabulary = self.model.n_vocab();
        let mut converted = Vec::with_capacity(sequences.len());
        for sequence in sequences {
            if let Some(bad) = sequence.iter().find(|&&id| id < 0 || id >= vocabulary) {
                return Err(LlamaError::InvalidSettings(format!(
                    "token id {bad} is outside the vocabulary"
                )));
            }
            converted.push(sequence.iter().map(|&id| LlamaToken(id)).collect());
        }
        self.run(converted)
    }

    fn run(&self, sequences: Vec<Vec<LlamaToken>>) -> Result<Vec<Vec<f32>>> {
        if sequences.is_empty() {
            return Ok(Vec::new());
        }
        for (index, sequence) in sequences.iter().enumerate() {
            if sequence.len() > self.max_tokens || sequence.is_empty() {
                return Err(LlamaError::TextTooLong {
                    index,
                    tokens: sequence.len(),
                    limit: self.max_tokens,
                });
            }
        }
        let jobs = self.jobs.as_ref().ok_or(LlamaError::WorkerGone)?;
        let (reply, answer) = channel();
        jobs.send(Job { sequences, reply })
            .map_err(|_| LlamaError::WorkerGone)?;
        answer.recv().map_err(|_| LlamaError::WorkerGone)?
    }
}

impl Drop for BertEmbedder {
    fn drop(&mut self) {
        // Closing the channel ends the worker's loop; joining frees its context before the
        // model, so the memory is back when `drop` returns.
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The pooling the GGUF asks for (`{arch}.pooling_type`): mean or CLS.
fn model_pooling(model: &LlamaModel) -> Result<LlamaPoolingType> {
    let arch = model
        .meta_val_str("general.architecture")
        .unwrap_or_else(|_| "bert".to_owned());
    let pooling = model
        .meta_val_str(&format!("{arch}.pooling_type"))
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok());
    match pooling.map(LlamaPoolingType::from) {
        Some(p @ (LlamaPoolingType::Mean | LlamaPoolingType::Cls)) => Ok(p),
        None => Ok(LlamaPoolingType::Mean),
        Some(other) => Err(LlamaError::UnsupportedModel(format!(
            "pooling {other:?} does not give sentence embeddings"
        ))),
    }
}
