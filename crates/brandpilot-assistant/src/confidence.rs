//! One number for "how sure is this answer", 0–1, from what the turn measured: how close the
//! best passage is to the question in meaning, how much of the question's weight it holds,
//! and how much of the answer its citations back. Below the brand's threshold the assistant
//! says it does not know and hands over; the parts are kept in the trace.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ConfidenceInputs {
    /// Cosine similarity of the best passage to the question, when the embedder is semantic.
    pub best_semantic: Option<f32>,
    /// Share of the question's weight found in the best passage.
    pub best_coverage: f32,
    /// Share of the answer's claims backed by what they cite.
    pub supported_share: f32,
    /// Whether the turn found anything to say at all.
    pub answered: bool,
}

/// Cosine similarities of sentence embeddings (MiniLM) between a question and an unrelated
/// passage sit around 0.0–0.25 and for a passage that answers it around 0.45–0.8; this maps
/// that range onto 0–1.
const SEMANTIC_FLOOR: f32 = 0.2;
const SEMANTIC_SPAN: f32 = 0.4;
/// Without a semantic embedder (the hashing fallback) confidence stops here.
const LEXICAL_CEILING: f32 = 0.9;

pub fn confidence(inputs: ConfidenceInputs) -> f32 {
    let coverage = inputs.best_coverage.clamp(0.0, 1.0);
    let supported = inputs.supported_share.clamp(0.0, 1.0);
    let score = match inputs.best_semantic {
        Some(cosine) => {
            let semantic = ((cosine - SEMANTIC_FLOOR) / SEMANTIC_SPAN).clamp(0.0, 1.0);
            0.45 * semantic + 0.35 * coverage + 0.2 * supported
        }
        // Shared words alone never make an answer certain.
        None => (0.75 * coverage + 0.25 * supported).min(LEXICAL_CEILING),
    };
    let score = if inputs.answered { score } else { score * 0.3 };
    if score.is_finite() {
        score.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(semantic: Option<f32>, coverage: f32, supported: f32) -> ConfidenceInputs {
        ConfidenceInputs {
            best_semantic: semantic,
            best_coverage: coverage,
            supported_share: supported,
            answered: true,
        }
    }

    #[test]
    fn a_close_well_covered_supported_answer_is_confident_and_an_unrelated_one_is_not() {
        assert!(confidence(inputs(Some(0.7), 0.8, 1.0)) > 0.8);
        assert!(confidence(inputs(Some(0.1), 0.1, 1.0)) < 0.3);
        assert!(confidence(inputs(None, 0.9, 1.0)) > 0.8);
        assert!(confidence(inputs(None, 0.1, 0.0)) < 0.2);
    }

    #[test]
    fn each_part_moves_the_score_the_right_way() {
        let base = confidence(inputs(Some(0.5), 0.5, 0.5));
        assert!(confidence(inputs(Some(0.6), 0.5, 0.5)) > base);
        assert!(confidence(inputs(Some(0.5), 0.6, 0.5)) > base);
        assert!(confidence(inputs(Some(0.5), 0.5, 0.6)) > base);
        let mut silent = inputs(Some(0.5), 0.5, 0.5);
        silent.answered = false;
        assert!(confidence(silent) < base);
    }

    #[test]
    fn the_score_stays_within_zero_and_one_whatever_comes_in() {
        for value in [f32::NAN, f32::INFINITY, -3.0, 7.0] {
            let score = confidence(inputs(Some(value), value, value));
            assert!((0.0..=1.0).contains(&score), "{value}: {score}");
        }
    }
}
