//! Combining ranked lists from several retrievers into one, and diversifying the result.
//!
//! Every function here is pure arithmetic over lists the retrievers already filtered; it
//! must never drop or add chunks for any reason but rank, and ties are broken by chunk id so
//! the same inputs always give the same order (evaluation runs must be reproducible).

use crate::similarity::cosine;
use brandpilot_core::ChunkId;
use std::collections::HashMap;

/// The reciprocal rank fusion constant from Cormack et al. (2009): large enough that the
/// first few ranks of one list cannot drown out agreement between lists.
pub const DEFAULT_RRF_K: f32 = 60.0;

/// One retriever's results, best first, with the weight its evidence gets in the fusion.
#[derive(Debug, Clone, Copy)]
pub struct WeightedList<'a> {
    pub hits: &'a [(ChunkId, f32)],
    pub weight: f32,
}

impl<'a> WeightedList<'a> {
    pub fn new(hits: &'a [(ChunkId, f32)], weight: f32) -> Self {
        Self { hits, weight }
    }
}

/// Reciprocal rank fusion: each chunk scores `Σ weight / (k + rank)` over the lists it
/// appears in, with 1-based ranks. Only ranks matter, so retrievers with incomparable score
/// scales (BM25, cosine) combine without calibration. A chunk listed twice in one list
/// counts at its best rank only.
pub fn reciprocal_rank_fusion(lists: &[WeightedList<'_>], k: f32) -> Vec<(ChunkId, f32)> {
    let mut scores: HashMap<ChunkId, f32> = HashMap::new();
    for list in lists {
        let mut seen = std::collections::HashSet::new();
        for (index, (chunk_id, _)) in list.hits.iter().enumerate() {
            if seen.insert(*chunk_id) {
                let rank = index as f32 + 1.0;
                *scores.entry(*chunk_id).or_default() += list.weight / (k + rank);
            }
        }
    }
    sorted_best_first(scores)
}

/// How [`convex_fusion`] puts each list's scores on a common scale before weighting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScoreNormalization {
    /// `(score − min) / (max − min)` within the list, so its best hit scores 1 and its worst
    /// 0. A list whose scores are all equal scores 1 throughout: every hit is its best.
    #[default]
    MinMax,
    /// `(score − mean) / standard deviation` within the list (population deviation). A list
    /// whose scores are all equal scores 0 throughout.
    ZScore,
}

/// Convex (score-based) fusion: normalise each list's scores, then sum `weight × normalised`
/// per chunk. A chunk absent from a list gets that list's lowest normalised score (0 under
/// min-max), on the reasoning that it ranked below everything the retriever returned;
/// giving it nothing at all under z-score would instead reward absence over a negative score.
pub fn convex_fusion(
    lists: &[WeightedList<'_>],
    normalization: ScoreNormalization,
) -> Vec<(ChunkId, f32)> {
    let normalized: Vec<Vec<(ChunkId, f32)>> = lists
        .iter()
        .map(|list| normalize_scores(list.hits, normalization))
        .collect();
    let mut fused: HashMap<ChunkId, f32> = HashMap::new();
    for hits in &normalized {
        for (chunk_id, _) in hits {
            fused.entry(*chunk_id).or_default();
        }
    }
    for (list, hits) in lists.iter().zip(&normalized) {
        let floor = hits
            .iter()
            .map(|(_, score)| *score)
            .fold(f32::INFINITY, f32::min);
        let floor = if floor.is_finite() { floor } else { 0.0 };
        let mut best_in_list: HashMap<ChunkId, f32> = HashMap::new();
        for (chunk_id, score) in hits {
            let best = best_in_list.entry(*chunk_id).or_insert(*score);
            *best = best.max(*score);
        }
        for (chunk_id, total) in fused.iter_mut() {
            let score = best_in_list.get(chunk_id).copied().unwrap_or(floor);
            *total += list.weight * score;
        }
    }
    sorted_best_first(fused)
}

fn normalize_scores(
    hits: &[(ChunkId, f32)],
    normalization: ScoreNormalization,
) -> Vec<(ChunkId, f32)> {
    if hits.is_empty() {
        return Vec::new();
    }
    let count = hits.len() as f32;
    match normalization {
        ScoreNormalization::MinMax => {
            let min = hits
                .iter()
                .map(|(_, score)| *score)
                .fold(f32::INFINITY, f32::min);
            let max = hits
                .iter()
                .map(|(_, score)| *score)
                .fold(f32::NEG_INFINITY, f32::max);
            let range = max - min;
            hits.iter()
                .map(|(id, score)| {
                    (
                        *id,
                        if range > 0.0 {
                            (score - min) / range
                        } else {
                            1.0
                        },
                    )
                })
                .collect()
        }
        ScoreNormalization::ZScore => {
            let mean = hits.iter().map(|(_, score)| *score).sum::<f32>() / count;
            let variance = hits
                .iter()
                .map(|(_, score)| (score - mean).powi(2))
                .sum::<f32>()
                / count;
            let deviation = variance.sqrt();
            hits.iter()
                .map(|(id, score)| {
                    (
                        *id,
                        if deviation > 0.0 {
                            (score - mean) / deviation
                        } else {
                            0.0
                        },
                    )
                })
                .collect()
        }
    }
}

fn sorted_best_first(scores: HashMap<ChunkId, f32>) -> Vec<(ChunkId, f32)> {
    let mut fused: Vec<(ChunkId, f32)> = scores.into_iter().collect();
    fused.sort_by(|left, right| right.1.total_cmp(&left.1).then(left.0.cmp(&right.0)));
    fused
}

/// A candidate for diversification: its id and its embedding.
#[derive(Debug, Clone, Copy)]
pub struct MmrCandidate<'a> {
    pub chunk_id: ChunkId,
    pub vector: &'a [f32],
}

/// Maximal marginal relevance (Carbonell & Goldstein, 1998): repeatedly pick the candidate
/// maximising `λ · sim(query, d) − (1 − λ) · max over picked s of sim(d, s)`, until `k` are
/// picked. `λ = 1` is pure relevance order, `λ = 0` pure novelty; 0.5–0.7 is usual. Returns
/// the picked ids, in picking order, with the MMR score each had when picked. Similarities
/// are cosines, so candidates need not be normalised.
pub fn maximal_marginal_relevance(
    query: &[f32],
    candidates: &[MmrCandidate<'_>],
    lambda: f32,
    k: usize,
) -> Vec<(ChunkId, f32)> {
    let relevance: Vec<f32> = candidates
        .iter()
        .map(|candidate| cosine(query, candidate.vector))
        .collect();
    // Highest similarity of each candidate to anything picked so far, updated once per pick
    // so the whole selection costs O(k × candidates) similarity computations.
    let mut redundancy = vec![f32::NEG_INFINITY; candidates.len()];
    let mut picked = vec![false; candidates.len()];
    let mut selection = Vec::with_capacity(k.min(candidates.len()));
    while selection.len() < k {
        let mut best: Option<(usize, f32)> = None;
        for (index, candidate) in candidates.iter().enumerate() {
            if picked[index] {
                continue;
            }
            let penalty = if redundancy[index].is_finite() {
                redundancy[index]
            } else {
                0.0
            };
            let score = lambda * relevance[index] - (1.0 - lambda) * penalty;
            let better = match best {
                None => true,
                Some((best_index, best_score)) => {
                    score > best_score
                        || (score == best_score
                            && candidate.chunk_id < candidates[best_index].chunk_id)
                }
            };
            if better {
                best = Some((index, score));
            }
        }
        let Some((chosen, score)) = best else { break };
        picked[chosen] = true;
        selection.push((candidates[chosen].chunk_id, score));
        for (index, candidate) in candidates.iter().enumerate() {
            if !picked[index] {
                let similarity = cosine(candidate.vector, candidates[chosen].vector);
                redundancy[index] = redundancy[index].max(similarity);
            }
        }
    }
    selection
}
