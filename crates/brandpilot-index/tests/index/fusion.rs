//! Fusion and diversification on hand-computed cases.

use super::fixtures::unit;
use brandpilot_core::ChunkId;
use brandpilot_index::fusion::{
    DEFAULT_RRF_K, MmrCandidate, ScoreNormalization, WeightedList, convex_fusion,
    maximal_marginal_relevance, reciprocal_rank_fusion,
};

fn list(entries: &[(i64, f32)]) -> Vec<(ChunkId, f32)> {
    entries
        .iter()
        .map(|(id, score)| (ChunkId(*id), *score))
        .collect()
}

fn assert_fused(actual: &[(ChunkId, f32)], expected: &[(i64, f64)]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?}");
    for ((id, score), (expected_id, expected_score)) in actual.iter().zip(expected) {
        assert_eq!(id.0, *expected_id, "{actual:?}");
        assert!(
            (f64::from(*score) - expected_score).abs() < 1e-6,
            "{actual:?}"
        );
    }
}

#[test]
fn rrf_sums_weighted_reciprocal_ranks() {
    let bm25 = list(&[(1, 12.0), (2, 9.0), (3, 1.0)]);
    let vector = list(&[(3, 0.9), (1, 0.8), (4, 0.7)]);
    // k = 60, equal weights:
    //   1: 1/61 + 1/62 = 0.0325224   3: 1/63 + 1/61 = 0.0322662
    //   2: 1/62        = 0.0161290   4: 1/63        = 0.0158730
    let fused = reciprocal_rank_fusion(
        &[
            WeightedList::new(&bm25, 1.0),
            WeightedList::new(&vector, 1.0),
        ],
        DEFAULT_RRF_K,
    );
    assert_fused(
        &fused,
        &[
            (1, 1.0 / 61.0 + 1.0 / 62.0),
            (3, 1.0 / 63.0 + 1.0 / 61.0),
            (2, 1.0 / 62.0),
            (4, 1.0 / 63.0),
        ],
    );
    // Doubling the vector list's weight lifts 3 over 1:
    //   3: 1/63 + 2/61 = 0.0486602   1: 1/61 + 2/62 = 0.0486515
    //   4: 2/63        = 0.0317460   2: 1/62        = 0.0161290
    let fused = reciprocal_rank_fusion(
        &[
            WeightedList::new(&bm25, 1.0),
            WeightedList::new(&vector, 2.0),
        ],
        DEFAULT_RRF_K,
    );
    assert_fused(
        &fused,
        &[
            (3, 1.0 / 63.0 + 2.0 / 61.0),
            (1, 1.0 / 61.0 + 2.0 / 62.0),
            (4, 2.0 / 63.0),
            (2, 1.0 / 62.0),
        ],
    );
    // A smaller k sharpens the preference for top ranks: 1/(1+1) + 1/(1+2) for chunk 1.
    let fused = reciprocal_rank_fusion(&[WeightedList::new(&bm25, 1.0)], 1.0);
    assert_fused(&fused, &[(1, 0.5), (2, 1.0 / 3.0), (3, 0.25)]);
}

#[test]
fn convex_fusion_with_min_max_normalisation() {
    let bm25 = list(&[(1, 10.0), (2, 6.0), (3, 2.0)]); // normalised 1, 0.5, 0
    let vector = list(&[(3, 0.9), (1, 0.5), (4, 0.1)]); // normalised 1, 0.5, 0
    // Weights 0.7 / 0.3; absent chunks get the list's minimum, 0:
    //   1: 0.7·1   + 0.3·0.5 = 0.85    3: 0.7·0 + 0.3·1 = 0.30
    //   2: 0.7·0.5 + 0.3·0   = 0.35    4: 0.7·0 + 0.3·0 = 0
    let fused = convex_fusion(
        &[
            WeightedList::new(&bm25, 0.7),
            WeightedList::new(&vector, 0.3),
        ],
        ScoreNormalization::MinMax,
    );
    assert_fused(&fused, &[(1, 0.85), (2, 0.35), (3, 0.30), (4, 0.0)]);

    // A list of equal scores counts each of its hits as its best.
    let flat = list(&[(5, 3.0), (6, 3.0)]);
    let fused = convex_fusion(&[WeightedList::new(&flat, 1.0)], ScoreNormalization::MinMax);
    assert_fused(&fused, &[(5, 1.0), (6, 1.0)]);
}

#[test]
fn convex_fusion_with_z_scores() {
    // Scores 1, 2, 3: mean 2, population deviation sqrt(2/3) = 0.8164966.
    let only = list(&[(3, 3.0), (2, 2.0), (1, 1.0)]);
    let fused = convex_fusion(&[WeightedList::new(&only, 1.0)], ScoreNormalization::ZScore);
    let z = 1.0 / (2.0f64 / 3.0).sqrt();
    assert_fused(&fused, &[(3, z), (2, 0.0), (1, -z)]);
}

#[test]
fn mmr_prefers_a_diverse_second_item() {
    let query = [1.0, 0.0];
    let best = unit(vec![0.96, 0.28]); // relevance 0.96
    let near_duplicate = unit(vec![0.95, 0.312]); // relevance 0.95, cosine to best 0.999
    let different = unit(vec![0.94, -0.341]); // relevance 0.94, cosine to best 0.81
    let candidates = [
        MmrCandidate {
            chunk_id: ChunkId(1),
            vector: &best,
        },
        MmrCandidate {
            chunk_id: ChunkId(2),
            vector: &near_duplicate,
        },
        MmrCandidate {
            chunk_id: ChunkId(3),
            vector: &different,
        },
    ];
    let picked = |lambda| -> Vec<i64> {
        maximal_marginal_relevance(&query, &candidates, lambda, 2)
            .iter()
            .map(|(id, _)| id.0)
            .collect()
    };
    // λ = 1 is plain relevance order; λ = 0.5 trades the duplicate for the different one:
    //   duplicate: 0.5·0.95 − 0.5·0.999 ≈ −0.025    different: 0.5·0.94 − 0.5·0.81 ≈ 0.065
    assert_eq!(picked(1.0), vec![1, 2]);
    assert_eq!(picked(0.5), vec![1, 3]);
    assert_eq!(
        maximal_marginal_relevance(&query, &candidates, 0.5, 10).len(),
        3
    );
}
