//! Exact token counts and spans from a model's own `tokenizer.json` (Hugging Face format).
//!
//! Loading disables any truncation or padding the file configures (MiniLM's truncates to 128
//! and pads to 128), because a counter that truncated would report long texts as fitting.
//! This module must never fetch a tokenizer from the network.

use crate::words::WordTokenCounter;
use crate::{EmbedError, Result, TokenCounter};
use std::ops::Range;
use std::path::Path;
use tokenizers::Tokenizer;

/// A Hugging Face tokenizer used to count and locate the tokens a model reads.
pub struct HfTokenizer {
    tokenizer: Tokenizer,
    /// Where it came from, for error messages.
    context: String,
}

impl std::fmt::Debug for HfTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfTokenizer")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl HfTokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| EmbedError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, &path.display().to_string())
    }

    /// Parses the contents of a `tokenizer.json`; `context` names it in errors.
    pub fn from_bytes(json: &[u8], context: &str) -> Result<Self> {
        let failure = |reason: String| EmbedError::Tokenizer {
            context: context.to_owned(),
            reason,
        };
        let mut tokenizer = Tokenizer::from_bytes(json).map_err(|e| failure(e.to_string()))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| failure(e.to_string()))?;
        tokenizer.with_padding(None);
        Ok(Self {
            tokenizer,
            context: context.to_owned(),
        })
    }

    /// Token ids for `text`, with the model's special tokens (`[CLS]`, `[SEP]`) when
    /// `with_special_tokens`; never truncated.
    pub fn encode_ids(&self, text: &str, with_special_tokens: bool) -> Result<Vec<u32>> {
        let encoding = self
            .tokenizer
            .encode(text, with_special_tokens)
            .map_err(|e| EmbedError::Tokenizer {
                context: self.context.clone(),
                reason: e.to_string(),
            })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The wrapped tokenizer, for backends that need more than ids.
    pub fn inner(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Byte offsets of each content token in `text`. The tokenizer reports offsets into the
    /// original text even when its normaliser lower-cased or stripped accents.
    fn spans(&self, text: &str) -> Result<Vec<Range<usize>>> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| EmbedError::Tokenizer {
                context: self.context.clone(),
                reason: e.to_string(),
            })?;
        let mut spans: Vec<Range<usize>> = encoding
            .get_offsets()
            .iter()
            .map(|&(start, end)| start..end)
            .collect();
        cover_dropped_characters(text, &mut spans);
        Ok(spans)
    }
}

/// Widens each span over visible characters the normaliser dropped right after it (a
/// decomposed accent's combining mark, a control character), so that cutting text at token
/// boundaries never loses them. Only gaps are touched: spans stay ordered and disjoint.
fn cover_dropped_characters(text: &str, spans: &mut [Range<usize>]) {
    for i in 0..spans.len() {
        let gap_end = spans.get(i + 1).map_or(text.len(), |next| next.start);
        let gap_start = spans[i].end;
        let Some(gap) = text.get(gap_start..gap_end) else {
            continue;
        };
        if let Some((offset, c)) = gap.char_indices().rev().find(|(_, c)| !c.is_whitespace()) {
            spans[i].end = gap_start + offset + c.len_utf8();
        }
    }
}

impl TokenCounter for HfTokenizer {
    fn count(&self, text: &str) -> usize {
        self.token_spans(text).len()
    }

    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        match self.spans(text) {
            Ok(spans) => spans,
            Err(error) => {
                // Encoding a str with a loaded BERT tokenizer does not fail in practice; if it
                // ever does, an approximate count is better than none, and an embedder with
                // the real tokenizer still refuses a text that turns out too long.
                tracing::warn!(%error, "tokenizer failed; approximating token spans");
                WordTokenCounter::new().token_spans(text)
            }
        }
    }
}
