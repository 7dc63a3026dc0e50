//! Retrieval quality and latency metrics for evaluation runs.
//!
//! Judgements ("qrels") map a document to a graded relevance: 0 or absent means not
//! relevant, higher means more relevant. Each function scores one query; averaging over
//! queries is the caller's job. These functions must never look at anything but the ranked
//! list and the judgements (no scores), so they cannot be gamed by score scaling.

use std::collections::HashMap;
use std::hash::Hash;

/// Normalised discounted cumulative gain at cut-off `k` with linear gain:
/// `DCG = Σ_{i=1..k} grade(d_i) / log2(i + 1)`, divided by the DCG of the ideal ranking,
/// which orders all judged documents by grade. Linear gain is trec_eval's convention; with
/// binary judgements it coincides with the exponential `2^grade − 1` form. Returns 0 when no
/// document is relevant, so a query without judgements cannot inflate an average.
pub fn ndcg_at_k<K: Eq + Hash>(ranked: &[K], qrels: &HashMap<K, u32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(index, document)| {
            let grade = qrels.get(document).copied().unwrap_or(0);
            f64::from(grade) / discount(index)
        })
        .sum();
    let mut ideal_grades: Vec<u32> = qrels.values().copied().filter(|grade| *grade > 0).collect();
    ideal_grades.sort_unstable_by(|left, right| right.cmp(left));
    let ideal: f64 = ideal_grades
        .iter()
        .take(k)
        .enumerate()
        .map(|(index, grade)| f64::from(*grade) / discount(index))
        .sum();
    if ideal > 0.0 { dcg / ideal } else { 0.0 }
}

/// `log2(rank + 1)` for a 0-based index, i.e. `log2(2)` for the first document.
fn discount(index: usize) -> f64 {
    (index as f64 + 2.0).log2()
}

/// Share of the relevant documents found in the first `k` results. Returns 0 when nothing
/// is relevant. A document listed twice counts once.
pub fn recall_at_k<K: Eq + Hash>(ranked: &[K], qrels: &HashMap<K, u32>, k: usize) -> f64 {
    let relevant = qrels.values().filter(|grade| **grade > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let mut found: Vec<&K> = Vec::new();
    for document in ranked.iter().take(k) {
        if is_relevant(qrels, document) && !found.contains(&document) {
            found.push(document);
        }
    }
    found.len() as f64 / relevant as f64
}

/// Reciprocal rank of the first relevant document within the first `k` results, 0 if none.
/// The mean of this over queries is MRR@k.
pub fn mrr_at_k<K: Eq + Hash>(ranked: &[K], qrels: &HashMap<K, u32>, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|document| is_relevant(qrels, document))
        .map_or(0.0, |index| 1.0 / (index as f64 + 1.0))
}

fn is_relevant<K: Eq + Hash>(qrels: &HashMap<K, u32>, document: &K) -> bool {
    qrels.get(document).is_some_and(|grade| *grade > 0)
}

/// The `p`-th percentile (0–100) of `samples` by the nearest-rank method: the smallest
/// sample such that at least `p` percent of samples are at or below it. Nearest rank always
/// returns an observed value, which is what a latency target ("p99 under 15 ms") means.
/// `None` for no samples or a `p` outside 0–100. Samples order by `f64::total_cmp`, so a
/// NaN (which a timer never produces) cannot panic the sort.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    if samples.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}
