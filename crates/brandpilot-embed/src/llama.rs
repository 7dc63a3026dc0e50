//! The in-process BERT embedder: [`Embedder`] on top of `brandpilot-llamacpp`'s
//! [`BertEmbedder`] (llama.cpp on a GGUF converted from the model's safetensors once and
//! cached).
//!
//! This module only adapts: conversion, batching and inference live in
//! `brandpilot-llamacpp`. It never truncates: over-long texts are [`EmbedError::TooLong`].

use std::path::Path;

use brandpilot_llamacpp::{BertEmbedder, LlamaError};

use crate::{EmbedError, Embedder, ModelFiles, Result};

pub use brandpilot_llamacpp::{EmbedderSettings, OutputType};

/// [CLS] and [SEP]: counted by llama.cpp's tokenizer, not by [`Embedder::max_tokens`].
const SPECIAL_TOKENS: usize = 2;

/// A sentence-transformers BERT model (MiniLM, BGE, …) running in process on llama.cpp.
#[derive(Debug)]
pub struct LlamaEmbedder {
    inner: BertEmbedder,
    model_id: String,
}

impl LlamaEmbedder {
    /// Converts `files` to GGUF with `weights` (reusing the conversion cached in
    /// `cache_dir` when the sources are unchanged) and loads it.
    pub fn new(
        files: &ModelFiles,
        cache_dir: &Path,
        weights: OutputType,
        settings: EmbedderSettings,
    ) -> Result<Self> {
        let inner = BertEmbedder::from_model_dir(&files.dir, cache_dir, weights, settings)
            .map_err(|error| setup_error(&files.dir, error))?;
        Ok(LlamaEmbedder {
            inner,
            model_id: format!("{}@{}", files.name, weights.as_str()),
        })
    }

    /// The llama.cpp embedder underneath (token counting, thread count).
    pub fn engine(&self) -> &BertEmbedder {
        &self.inner
    }
}

impl Embedder for LlamaEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    fn max_tokens(&self) -> usize {
        self.inner.max_tokens().saturating_sub(SPECIAL_TOKENS)
    }

    fn is_semantic(&self) -> bool {
        true
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.inner.embed_batch(texts).map_err(|error| match error {
            LlamaError::TextTooLong {
                index,
                tokens,
                limit,
            } => EmbedError::TooLong {
                index,
                tokens: tokens.saturating_sub(SPECIAL_TOKENS),
                max_tokens: limit.saturating_sub(SPECIAL_TOKENS),
                model: self.model_id.clone(),
            },
            other => EmbedError::Inference(other.to_string()),
        })
    }
}

/// Errors while converting or loading are about the model files or the settings.
fn setup_error(dir: &Path, error: LlamaError) -> EmbedError {
    match error {
        LlamaError::InvalidSettings(message) => EmbedError::Config(message),
        other => EmbedError::InvalidModel {
            path: dir.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve_model;

    /// Needs the MiniLM files from `scripts/setup-models.sh`; fails (never skips) without.
    fn minilm() -> ModelFiles {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        resolve_model("all-minilm-l6-v2", &models)
            .expect("all-MiniLM-L6-v2 missing: run scripts/setup-models.sh")
    }

    #[test]
    fn adapter_reports_content_tokens_and_maps_too_long() {
        let cache = tempfile::tempdir().unwrap();
        let settings = EmbedderSettings {
            threads: 1,
            ..EmbedderSettings::default()
        };
        let embedder =
            LlamaEmbedder::new(&minilm(), cache.path(), OutputType::Q8_0, settings).unwrap();
        assert_eq!(embedder.model_id(), "all-minilm-l6-v2@q8_0");
        assert_eq!(embedder.dimensions(), 384);
        assert_eq!(embedder.max_tokens(), 254);
        assert!(embedder.is_semantic());

        let vectors = embedder
            .embed(&["a cat on a mat", "a kitten on a rug"])
            .unwrap();
        assert_eq!(vectors.len(), 2);
        assert!(crate::dot(&vectors[0], &vectors[1]) > 0.5);

        let long = "word ".repeat(255);
        match embedder.embed(&["short", &long]) {
            Err(EmbedError::TooLong {
                index,
                tokens,
                max_tokens,
                model,
            }) => {
                assert_eq!((index, tokens, max_tokens), (1, 255, 254));
                assert_eq!(model, "all-minilm-l6-v2@q8_0");
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
        let at_limit = "word ".repeat(254);
        assert_eq!(embedder.embed(&[&at_limit]).unwrap().len(), 1);
    }
}
