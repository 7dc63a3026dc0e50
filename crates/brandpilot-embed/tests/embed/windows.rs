//! Opt-in windowing of long texts.

use crate::norm;
use brandpilot_embed::{
    EmbedError, Embedder, HashingEmbedder, Result, TokenCounter, WindowedEmbedder,
    WordTokenCounter, l2_normalize, split_into_windows,
};
use std::sync::{Arc, Mutex};

/// A model that reads 4 tokens and refuses more, as a tokenizer-backed embedder must.
struct StrictEmbedder {
    inner: HashingEmbedder,
    calls: Mutex<Vec<Vec<String>>>,
}

impl StrictEmbedder {
    fn new() -> Self {
        Self {
            inner: HashingEmbedder::new(32),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl Embedder for StrictEmbedder {
    fn model_id(&self) -> &str {
        "strict/4"
    }
    fn dimensions(&self) -> usize {
        32
    }
    fn max_tokens(&self) -> usize {
        4
    }
    fn is_semantic(&self) -> bool {
        true
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.calls
            .lock()
            .expect("test lock")
            .push(texts.iter().map(|t| t.to_string()).collect());
        for (index, text) in texts.iter().enumerate() {
            let tokens = WordTokenCounter::new().count(text);
            if tokens > 4 {
                return Err(EmbedError::TooLong {
                    index,
                    tokens,
                    max_tokens: 4,
                    model: "strict/4".into(),
                });
            }
        }
        self.inner.embed(texts)
    }
}

#[test]
fn windows_hold_at_most_max_tokens_and_keep_word_pieces_together() {
    let counter = WordTokenCounter::new();
    // "unaffordable" counts as 3 pieces; a window must not end inside it when it can end
    // before it.
    let text = "one two three unaffordable four five";
    let windows = split_into_windows(&counter, text, 4);
    let pieces: Vec<&str> = windows.iter().map(|w| &text[w.clone()]).collect();
    assert_eq!(pieces, ["one two three", "unaffordable four", "five"]);
    for window in &windows {
        assert!(counter.count(&text[window.clone()]) <= 4);
    }
    assert!(split_into_windows(&counter, "", 4).is_empty());
    // A single word longer than a window is cut between its pieces, as it must be.
    let long = "Pneumonoultramicroscopicsilicovolcanoconiosis";
    let windows = split_into_windows(&counter, long, 4);
    assert!(windows.len() > 1 && windows.iter().all(|w| counter.count(&long[w.clone()]) <= 4));
}

#[test]
fn long_text_errors_unless_windowing_is_chosen() {
    let text = "alpha beta gamma delta omega zeta eta theta iota";
    let strict = StrictEmbedder::new();
    assert!(matches!(
        strict.embed(&[text]),
        Err(EmbedError::TooLong { tokens: 9, .. })
    ));

    let windowed = WindowedEmbedder::new(StrictEmbedder::new(), Arc::new(WordTokenCounter::new()));
    let vectors = windowed.embed(&["short text", text]).expect("windowed");
    assert_eq!(vectors.len(), 2);
    assert!((norm(&vectors[1]) - 1.0).abs() < 1e-5);
    assert_eq!(windowed.model_id(), "strict/4");

    // One call to the inner embedder with every piece: the short text whole, the long one as
    // windows of 4, 4 and 1 tokens.
    let calls = windowed.inner().calls.lock().expect("test lock").clone();
    assert_eq!(
        calls,
        vec![vec![
            "short text".to_string(),
            "alpha beta gamma delta".into(),
            "omega zeta eta theta".into(),
            "iota".into(),
        ]]
    );

    // A text that fits gets exactly the inner vector; the long one the token-weighted mean.
    let inner = HashingEmbedder::new(32);
    assert_eq!(vectors[0], inner.embed(&["short text"]).expect("hash")[0]);
    let parts = inner
        .embed(&["alpha beta gamma delta", "omega zeta eta theta", "iota"])
        .expect("hash");
    let mut mean: Vec<f32> = (0..32)
        .map(|i| 4.0 * parts[0][i] + 4.0 * parts[1][i] + parts[2][i])
        .collect();
    l2_normalize(&mut mean);
    for (got, want) in vectors[1].iter().zip(&mean) {
        assert!((got - want).abs() < 1e-5);
    }
}
