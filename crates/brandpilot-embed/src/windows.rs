//! Opt-in embedding of texts longer than a model reads: split into token windows, embed
//! each, average.
//!
//! This is the only place a long text is embedded other than whole, and it is explicit: it
//! must never be used implicitly by an embedder, or truncation-like surprises come back.

use crate::{Embedder, Result, TokenCounter, l2_normalize};
use std::ops::Range;
use std::sync::Arc;

/// Byte ranges of `text` that each hold at most `max_tokens` tokens (by `counter`), in order,
/// together covering every token. Windows end at a word start when one exists in the window,
/// so a word's pieces stay together. An empty or token-free text yields no windows.
pub fn split_into_windows(
    counter: &dyn TokenCounter,
    text: &str,
    max_tokens: usize,
) -> Vec<Range<usize>> {
    let spans = counter.token_spans(text);
    let max_tokens = max_tokens.max(1);
    // A token starts a word when something (whitespace) separates it from the one before.
    let starts_word = |k: usize| {
        k == 0
            || spans
                .get(k - 1)
                .zip(spans.get(k))
                .is_some_and(|(a, b)| a.end < b.start)
    };
    let mut windows = Vec::new();
    let mut first = 0;
    while first < spans.len() {
        let mut end = (first + max_tokens).min(spans.len());
        if end < spans.len()
            && let Some(word_start) = (first + 1..=end).rev().find(|&k| starts_word(k))
        {
            end = word_start;
        }
        windows.push(spans[first].start..spans[end - 1].end);
        first = end;
    }
    windows
}

/// Wraps an embedder so texts longer than its `max_tokens` are split into windows (by
/// [`split_into_windows`]) whose vectors are averaged, weighted by their token counts, then
/// normalised. Texts that fit are embedded exactly as the inner embedder would.
///
/// The model id stays the inner one: a text that fits gets the same vector, and a text that
/// does not had no vector before. `max_tokens` also stays the inner one, so chunk sizing is
/// unchanged; longer texts are accepted anyway.
pub struct WindowedEmbedder<E> {
    inner: E,
    counter: Arc<dyn TokenCounter>,
}

impl<E: Embedder> WindowedEmbedder<E> {
    /// `counter` must count the tokens of the model behind `inner`.
    pub fn new(inner: E, counter: Arc<dyn TokenCounter>) -> Self {
        Self { inner, counter }
    }

    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: Embedder> Embedder for WindowedEmbedder<E> {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }

    fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }

    fn is_semantic(&self) -> bool {
        self.inner.is_semantic()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let max_tokens = self.inner.max_tokens();
        // Every piece of every text goes to the inner embedder in one call, so batching works
        // as well as it would without windows. `owners[i]` says which text piece i belongs
        // to and how many tokens it holds.
        let mut pieces: Vec<&str> = Vec::with_capacity(texts.len());
        let mut owners: Vec<(usize, usize)> = Vec::with_capacity(texts.len());
        for (index, text) in texts.iter().enumerate() {
            let tokens = self.counter.count(text);
            if tokens <= max_tokens {
                pieces.push(text);
                owners.push((index, 1));
                continue;
            }
            let windows = split_into_windows(self.counter.as_ref(), text, max_tokens);
            tracing::debug!(
                index,
                tokens,
                max_tokens,
                windows = windows.len(),
                "embedding a long text in windows"
            );
            for window in windows {
                let piece = text.get(window).unwrap_or_default();
                owners.push((index, self.counter.count(piece).max(1)));
                pieces.push(piece);
            }
        }
        let vectors = self.inner.embed(&pieces)?;
        let mut sums: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        let mut piece_counts = vec![0usize; texts.len()];
        for ((index, weight), vector) in owners.into_iter().zip(vectors) {
            let (Some(sum), Some(pieces)) = (sums.get_mut(index), piece_counts.get_mut(index))
            else {
                continue;
            };
            *pieces += 1;
            if sum.is_empty() {
                sum.resize(vector.len(), 0.0);
            }
            for (total, value) in sum.iter_mut().zip(&vector) {
                *total += value * weight as f32;
            }
        }
        // A text embedded whole keeps the inner vector bit for bit; renormalising an already
        // unit vector would still move its last digits.
        for (sum, pieces) in sums.iter_mut().zip(piece_counts) {
            if pieces > 1 {
                l2_normalize(sum);
            }
        }
        Ok(sums)
    }
}
