//! Builds the embedder and the matching token counter from settings.
//!
//! The token counter must be the embedder's own tokenizer whenever one exists, because it is
//! what guarantees that chunks fit the model. Falling back to the hashing embedder is loud:
//! it is lexical only, and every search output says so.

use crate::settings::{EmbedderKind, Settings};
use crate::{AppError, Result};
use brandpilot_embed::llama::{EmbedderSettings as LlamaSettings, LlamaEmbedder, OutputType};
use brandpilot_embed::{
    ApiKey, EmbedError, Embedder, HashingEmbedder, HfTokenizer, OpenAiConfig, OpenAiEmbedder,
    TokenCounter, WordTokenCounter, resolve_model,
};
use std::sync::Arc;

pub struct EmbedderChoice {
    pub embedder: Arc<dyn Embedder>,
    pub counter: Arc<dyn TokenCounter>,
    /// Why this embedder was chosen, for the CLI to show (e.g. a fallback warning).
    pub note: Option<String>,
}

pub fn build_embedder(settings: &Settings) -> Result<EmbedderChoice> {
    let config = &settings.embedder;
    match config.kind {
        EmbedderKind::Hashing => Ok(hashing(settings, None)),
        EmbedderKind::Openai => {
            let base_url = config.base_url.clone().ok_or_else(|| {
                AppError::Settings("embedder.kind = \"openai\" needs embedder.base_url".into())
            })?;
            let mut openai = OpenAiConfig::new(base_url, config.model.clone());
            openai.api_key = config.api_key.clone().map(ApiKey::new);
            openai.dimensions = config.dimensions;
            openai.batch_size = config.batch_size.max(1);
            let embedder = OpenAiEmbedder::new(openai)?;
            Ok(EmbedderChoice {
                embedder: Arc::new(embedder),
                // The provider's tokenizer is unknown here; word pieces are approximated and
                // the provider rejects anything over its limit with a clear error.
                counter: Arc::new(WordTokenCounter::new()),
                note: None,
            })
        }
        EmbedderKind::Local => local(settings),
        EmbedderKind::Auto => match local(settings) {
            Ok(choice) => Ok(choice),
            Err(AppError::Embed(error @ EmbedError::ModelNotFound { .. })) => Ok(hashing(
                settings,
                Some(format!(
                    "{error}. Falling back to the hashing embedder (lexical only, no semantic \
                     search) — run scripts/setup-models.sh for the real model."
                )),
            )),
            Err(other) => Err(other),
        },
    }
}

fn hashing(settings: &Settings, note: Option<String>) -> EmbedderChoice {
    EmbedderChoice {
        embedder: Arc::new(HashingEmbedder::new(settings.embedder.hashing_dimensions)),
        counter: Arc::new(WordTokenCounter::new()),
        note,
    }
}

fn local(settings: &Settings) -> Result<EmbedderChoice> {
    let files = resolve_model(&settings.embedder.model, &settings.models_dir)?;
    let counter = Arc::new(HfTokenizer::from_file(&files.tokenizer_json)?);
    let weights = match settings.embedder.quantization.as_str() {
        "f32" => OutputType::F32,
        "f16" => OutputType::F16,
        "q8_0" => OutputType::Q8_0,
        other => {
            return Err(AppError::Settings(format!(
                "embedder.quantization {other:?}: use \"f32\", \"f16\" or \"q8_0\""
            )));
        }
    };
    let engine = LlamaSettings {
        threads: settings.embedder.threads,
        ..LlamaSettings::default()
    };
    let embedder = LlamaEmbedder::new(&files, &settings.data_dir.join("models"), weights, engine)?;
    Ok(EmbedderChoice {
        embedder: Arc::new(embedder),
        counter,
        note: None,
    })
}
