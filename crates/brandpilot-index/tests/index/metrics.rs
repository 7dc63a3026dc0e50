//! Retrieval metrics on hand-computed cases.

use brandpilot_index::metrics::{mrr_at_k, ndcg_at_k, percentile, recall_at_k};
use std::collections::HashMap;

fn qrels(grades: &[(u32, u32)]) -> HashMap<u32, u32> {
    grades.iter().copied().collect()
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}

#[test]
fn ndcg_uses_log2_discounts_and_the_ideal_ordering() {
    // Binary relevance at ranks 1 and 3: DCG = 1 + 1/log2(4); ideal = 1 + 1/log2(3).
    let judged = qrels(&[(1, 1), (3, 1)]);
    let expected = (1.0 + 1.0 / 4f64.log2()) / (1.0 + 1.0 / 3f64.log2());
    assert!(close(ndcg_at_k(&[1, 2, 3], &judged, 10), expected));
    assert!(close(ndcg_at_k(&[1, 3, 2], &judged, 10), 1.0));
    assert!(close(ndcg_at_k(&[2, 1], &judged, 1), 0.0));

    // Graded: DCG = 1/log2(2) + 2/log2(3); ideal puts the grade-2 document first:
    // 2/log2(2) + 1/log2(3). The grade-3 document outside the list still counts in the
    // ideal, because the ideal comes from the judgements, not from the ranking.
    let graded = qrels(&[(10, 1), (20, 2), (30, 0)]);
    let expected = (1.0 + 2.0 / 3f64.log2()) / (2.0 + 1.0 / 3f64.log2());
    assert!(close(ndcg_at_k(&[10, 20, 30], &graded, 3), expected));
    let with_missing = qrels(&[(10, 1), (20, 2), (40, 3)]);
    let ideal = 3.0 + 2.0 / 3f64.log2() + 1.0 / 4f64.log2();
    let expected = (1.0 + 2.0 / 3f64.log2()) / ideal;
    assert!(close(ndcg_at_k(&[10, 20], &with_missing, 3), expected));

    assert!(
        close(ndcg_at_k(&[1, 2], &qrels(&[]), 10), 0.0),
        "no judgements"
    );
}

#[test]
fn recall_counts_relevant_documents_within_the_cut_off() {
    let judged = qrels(&[(2, 1), (4, 2), (9, 1), (5, 0)]);
    assert!(close(recall_at_k(&[1, 2, 3, 4], &judged, 3), 1.0 / 3.0));
    assert!(close(recall_at_k(&[1, 2, 3, 4, 5], &judged, 5), 2.0 / 3.0));
    assert!(
        close(recall_at_k(&[2, 2, 2], &judged, 3), 1.0 / 3.0),
        "duplicates count once"
    );
    assert!(close(recall_at_k(&[1], &qrels(&[]), 3), 0.0));
}

#[test]
fn mrr_is_the_reciprocal_rank_of_the_first_relevant_document() {
    let judged = qrels(&[(3, 1), (4, 1)]);
    assert!(close(mrr_at_k(&[1, 2, 3, 4], &judged, 10), 1.0 / 3.0));
    assert!(close(mrr_at_k(&[4, 3], &judged, 10), 1.0));
    assert!(close(mrr_at_k(&[1, 2, 3], &judged, 2), 0.0));
}

#[test]
fn percentile_uses_the_nearest_rank() {
    let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
    assert_eq!(percentile(&samples, 99.0), Some(99.0));
    assert_eq!(percentile(&samples, 50.0), Some(50.0));
    assert_eq!(percentile(&samples, 100.0), Some(100.0));
    assert_eq!(percentile(&samples, 0.0), Some(1.0));
    // Nearest rank of 90 % of 3 samples is the ceiling of 2.7: the third.
    assert_eq!(percentile(&[3.0, 1.0, 2.0], 90.0), Some(3.0));
    assert_eq!(percentile(&[], 50.0), None);
    assert_eq!(percentile(&[1.0], 101.0), None);
}
