//! Choosing the few-shot examples a generation shows the model, from a brand's library of
//! past posts and scripts: each example is scored by how much it resembles the brief
//! (cosine similarity of embeddings), whether it was written for the same channel and
//! sector, and how well it performed against the brand's other examples.
//!
//! Performance is an engagement rate (likes, shares and clicks per view) shrunk toward the
//! brand's pooled rate by [`PRIOR_VIEWS`] imaginary views, so a post with 40 views and 10
//! likes does not outrank one with 40,000 views and a steady 5%. Its weight is that rate
//! against the pool's, bounded to [`MIN_PERFORMANCE_WEIGHT`]–[`MAX_PERFORMANCE_WEIGHT`]: a
//! strong performer counts up to twice, a weak one half, and one nobody measured is
//! neutral. The same weights teach the voice profile ([`crate::voice::learn_voice`]).
//!
//! Pure functions: the caller embeds and loads; this decides.

use crate::channels::Channel;
use crate::reel::Sector;
use serde::{Deserialize, Serialize};

/// Views of the brand's average performance every example's rate is blended with.
pub const PRIOR_VIEWS: f64 = 200.0;
/// The weight of the weakest and of the strongest performer.
pub const MIN_PERFORMANCE_WEIGHT: f64 = 0.5;
pub const MAX_PERFORMANCE_WEIGHT: f64 = 2.0;
/// How much an example written for another channel counts: it still shows the voice, but
/// not the shape the channel needs.
pub const OTHER_CHANNEL_FACTOR: f64 = 0.5;
/// How much an example from another sector counts, when the request names one.
pub const OTHER_SECTOR_FACTOR: f64 = 0.8;

/// What a post reached on its platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostTotals {
    pub views: u64,
    pub likes: u64,
    pub shares: u64,
    pub clicks: u64,
    pub conversions: u64,
}

impl PostTotals {
    /// Likes, shares and clicks: what engagement counts.
    pub fn engagements(&self) -> u64 {
        self.likes
            .saturating_add(self.shares)
            .saturating_add(self.clicks)
    }
}

/// The performance weight of each example, in order: 1 for an example without totals (or
/// without views), and 1 for all of them when no example with views was engaged with.
pub fn performance_weights(totals: &[Option<PostTotals>]) -> Vec<f64> {
    let measured = totals.iter().flatten().filter(|t| t.views > 0);
    let (views, engagements) = measured.fold((0.0, 0.0), |(v, e), t| {
        (v + t.views as f64, e + t.engagements() as f64)
    });
    if views == 0.0 || engagements == 0.0 {
        return vec![1.0; totals.len()];
    }
    let pooled = engagements / views;
    totals
        .iter()
        .map(|totals| match totals {
            Some(t) if t.views > 0 => {
                // More engagements than views (shares counted elsewhere) still counts once.
                let engaged = (t.engagements() as f64).min(t.views as f64 * 10.0);
                let rate = (engaged + pooled * PRIOR_VIEWS) / (t.views as f64 + PRIOR_VIEWS);
                (rate / pooled).clamp(MIN_PERFORMANCE_WEIGHT, MAX_PERFORMANCE_WEIGHT)
            }
            _ => 1.0,
        })
        .collect()
}

/// One example a generation might show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExampleCandidate {
    pub channel: Channel,
    pub sector: Option<Sector>,
    /// Cosine similarity of the example's embedding to the brief's, −1 to 1.
    pub similarity: f64,
    /// From [`performance_weights`].
    pub performance_weight: f64,
}

/// What the generation is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExampleWanted {
    pub channel: Channel,
    pub sector: Option<Sector>,
}

/// A chosen example and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExampleChoice {
    /// Its position among the candidates.
    pub index: usize,
    /// Similarity (negative counts as 0) times the channel and sector factors.
    pub relevance: f64,
    /// Relevance times the performance weight: what the choice is ranked by.
    pub score: f64,
}

/// The `k` best examples for `wanted`, best first; ties keep the candidates' order (the
/// caller lists newest first, so the newer example wins a tie).
pub fn choose_examples(
    candidates: &[ExampleCandidate],
    wanted: ExampleWanted,
    k: usize,
) -> Vec<ExampleChoice> {
    let mut scored: Vec<ExampleChoice> = candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| {
            let mut relevance = candidate.similarity.max(0.0);
            if candidate.channel != wanted.channel {
                relevance *= OTHER_CHANNEL_FACTOR;
            }
            if let Some(sector) = wanted.sector
                && candidate.sector != Some(sector)
            {
                relevance *= OTHER_SECTOR_FACTOR;
            }
            let score = relevance * candidate.performance_weight;
            ExampleChoice {
                index,
                relevance,
                score: if score.is_finite() { score } else { 0.0 },
            }
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    scored.truncate(k);
    scored
}

/// Cosine similarity of two vectors; 0 when either is empty, zero or they differ in length.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    let similarity = dot / (aa.sqrt() * bb.sqrt());
    if similarity.is_finite() {
        similarity.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(views: u64, likes: u64, shares: u64, clicks: u64) -> Option<PostTotals> {
        Some(PostTotals {
            views,
            likes,
            shares,
            clicks,
            conversions: 0,
        })
    }

    #[test]
    fn weights_shrink_a_small_sample_toward_the_brands_pooled_rate() {
        // Pool: (500 + 10) engagements over (10,000 + 40) views = 510 / 10,040.
        let weights =
            performance_weights(&[totals(10_000, 400, 50, 50), totals(40, 8, 1, 1), None]);
        let pooled = 510.0 / 10_040.0;
        // The big post: (500 + 200·pooled) / 10,200 against pooled.
        let big = (500.0 + 200.0 * pooled) / 10_200.0 / pooled;
        assert!((weights[0] - big).abs() < 1e-12, "{weights:?}");
        // The small post engaged 25% of 40 views, five times the pool, yet weighs less than
        // twice: (10 + 200·pooled) / 240 / pooled ≈ 1.66.
        let small = (10.0 + 200.0 * pooled) / 240.0 / pooled;
        assert!((weights[1] - small).abs() < 1e-12);
        assert!((1.6..1.7).contains(&weights[1]), "{}", weights[1]);
        assert_eq!(weights[2], 1.0, "unmeasured examples are neutral");
    }

    #[test]
    fn weights_are_bounded_and_neutral_without_engagement() {
        let weights = performance_weights(&[
            totals(100_000, 30_000, 0, 0),
            totals(100_000, 0, 0, 0),
            totals(1_000_000, 1_000, 0, 0),
        ]);
        assert_eq!(weights[0], MAX_PERFORMANCE_WEIGHT);
        assert_eq!(weights[1], MIN_PERFORMANCE_WEIGHT);
        assert_eq!(
            performance_weights(&[totals(500, 0, 0, 0), totals(0, 5, 0, 0), None]),
            vec![1.0, 1.0, 1.0]
        );
        assert!(performance_weights(&[]).is_empty());
    }

    #[test]
    fn choice_ranks_by_similarity_channel_sector_and_performance() {
        let linkedin = |similarity, sector, performance_weight| ExampleCandidate {
            channel: Channel::LinkedinPost,
            sector,
            similarity,
            performance_weight,
        };
        let candidates = [
            // Similar but written for X: 0.9 × 0.5 = 0.45.
            ExampleCandidate {
                channel: Channel::XPost,
                ..linkedin(0.9, Some(Sector::Education), 1.0)
            },
            // Same channel and sector: 0.6.
            linkedin(0.6, Some(Sector::Education), 1.0),
            // Same channel, another sector, strong performer: 0.6 × 0.8 × 1.5 = 0.72.
            linkedin(0.6, Some(Sector::Finance), 1.5),
            // Dissimilar: a negative similarity counts as nothing.
            linkedin(-0.4, Some(Sector::Education), 2.0),
        ];
        let wanted = ExampleWanted {
            channel: Channel::LinkedinPost,
            sector: Some(Sector::Education),
        };
        let chosen = choose_examples(&candidates, wanted, 3);
        let order: Vec<usize> = chosen.iter().map(|c| c.index).collect();
        assert_eq!(order, vec![2, 1, 0]);
        assert!((chosen[0].score - 0.72).abs() < 1e-12);
        assert!((chosen[0].relevance - 0.48).abs() < 1e-12);
        assert!((chosen[2].score - 0.45).abs() < 1e-12);
        // Without a sector asked for, the sector does not matter.
        let chosen = choose_examples(
            &candidates,
            ExampleWanted {
                sector: None,
                ..wanted
            },
            1,
        );
        assert!((chosen[0].score - 0.9).abs() < 1e-12);
        assert!(choose_examples(&candidates, wanted, 0).is_empty());
    }

    #[test]
    fn ties_keep_the_callers_order() {
        let same = ExampleCandidate {
            channel: Channel::Email,
            sector: None,
            similarity: 0.5,
            performance_weight: 1.0,
        };
        let wanted = ExampleWanted {
            channel: Channel::Email,
            sector: None,
        };
        let order: Vec<usize> = choose_examples(&[same, same, same], wanted, 2)
            .iter()
            .map(|c| c.index)
            .collect();
        assert_eq!(order, vec![0, 1]);
    }

    #[test]
    fn cosine_handles_degenerate_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-12);
        assert!((cosine(&[3.0, 4.0], &[4.0, 3.0]) - 0.96).abs() < 1e-9);
        assert_eq!(cosine(&[], &[]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[f32::NAN, 1.0], &[1.0, 1.0]), 0.0);
    }
}
