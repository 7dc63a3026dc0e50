//! Sentence embedders behind one trait, and the token counters that size chunks for them.
//!
//! Three embedders live here: an OpenAI-compatible HTTP client ([`OpenAiEmbedder`]), a
//! dependency-free feature-hashing fallback ([`HashingEmbedder`]) used only when no model is
//! available, and (in `llama.rs`, added by the llama.cpp work) an in-process BERT embedder.
//! [`resolve_model`] finds a model's files on disk; [`HfTokenizer`] and [`WordTokenCounter`]
//! count the tokens a model reads so the chunker can guarantee that chunks fit.
//!
//! This crate must never download anything at run time (models come from
//! `scripts/setup-models.sh` or a local Hugging Face cache), never log an API key, and never
//! truncate an input silently: a text longer than the model reads is an error unless the
//! caller opted into windowing with [`WindowedEmbedder`].

mod error;
mod hashing;
mod hf_tokenizer;
pub mod llama;
mod model_files;
mod openai;
mod windows;
mod words;

pub use error::{EmbedError, Result};
pub use hashing::HashingEmbedder;
pub use hf_tokenizer::HfTokenizer;
pub use llama::LlamaEmbedder;
pub use model_files::{ModelFiles, Pooling, resolve_model, resolve_model_with_hub_cache};
pub use openai::{ApiKey, OpenAiConfig, OpenAiEmbedder};
pub use windows::{WindowedEmbedder, split_into_windows};
pub use words::WordTokenCounter;

use std::ops::Range;

/// Turns texts into vectors for similarity search.
///
/// Sync on purpose: embedding is CPU-bound or blocking IO; async callers use
/// `tokio::task::spawn_blocking`. (The HTTP embedder uses a blocking client, which panics if
/// called directly on an async worker thread.)
///
/// # Long inputs
/// An embedder never truncates silently. An embedder that can count its model's tokens
/// returns [`EmbedError::TooLong`] (a user fault naming the text's index and its token count)
/// for any text longer than [`Embedder::max_tokens`]; the chunker sizes chunks with the same
/// counter, so chunks always fit. Callers that must embed arbitrary lengths (a long search
/// query, say) opt into windowing by wrapping the embedder in [`WindowedEmbedder`], which
/// splits long texts into token windows, embeds each and averages them. An embedder without
/// a tokenizer (HTTP to a provider whose tokenizer we do not have) leaves the check to the
/// provider, which rejects over-long input with a 4xx that surfaces as a user fault.
pub trait Embedder: Send + Sync {
    /// Identity used as the embedding-cache key, e.g. `all-minilm-l6-v2@q8_0`,
    /// `openai:text-embedding-3-small`, `hashing-v1/384`. It changes whenever the vectors
    /// for the same text would change.
    fn model_id(&self) -> &str;
    /// Length of every vector [`Embedder::embed`] returns.
    fn dimensions(&self) -> usize;
    /// Content tokens the model reads, special tokens excluded (MiniLM reads 256 word pieces
    /// including `[CLS]` and `[SEP]`, so 254).
    fn max_tokens(&self) -> usize;
    /// False for the hashing fallback, so every output built on it can say it is lexical.
    fn is_semantic(&self) -> bool;
    /// One L2-normalised vector per text, in the order of `texts`.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// Counts the tokens a model reads, and where they are, so chunks can be cut to fit.
pub trait TokenCounter: Send + Sync {
    /// Content tokens in `text`, special tokens excluded. Equals `token_spans(text).len()`.
    fn count(&self, text: &str) -> usize;
    /// Byte ranges in `text` of each token, in order and non-overlapping. A word split into
    /// several pieces yields several adjacent ranges; a token starts a word when the byte
    /// before it is whitespace (or it is first), which is how chunking finds word boundaries.
    fn token_spans(&self, text: &str) -> Vec<Range<usize>>;
}

impl<T: Embedder + ?Sized> Embedder for std::sync::Arc<T> {
    fn model_id(&self) -> &str {
        (**self).model_id()
    }
    fn dimensions(&self) -> usize {
        (**self).dimensions()
    }
    fn max_tokens(&self) -> usize {
        (**self).max_tokens()
    }
    fn is_semantic(&self) -> bool {
        (**self).is_semantic()
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        (**self).embed(texts)
    }
}

impl<T: TokenCounter + ?Sized> TokenCounter for std::sync::Arc<T> {
    fn count(&self, text: &str) -> usize {
        (**self).count(text)
    }
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        (**self).token_spans(text)
    }
}

/// Scales `v` to unit length in place. A zero (or non-finite-norm) vector is left as it is:
/// there is no direction to keep, and dividing would fill it with NaN.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

/// Dot product of two vectors; the cosine similarity when both are normalised.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_gives_unit_length_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut zero = vec![0.0; 4];
        l2_normalize(&mut zero);
        assert_eq!(zero, vec![0.0; 4]);
    }
}
