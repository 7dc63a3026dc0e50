//! Near-duplicate variants: two variants of one generation that say the same thing in almost
//! the same words give a marketer no choice and an A/B test nothing to learn. Similarity is
//! the Jaccard index of the texts' word 3-shingles (sets of three consecutive lower-case
//! words): changing one word in a 30-word text keeps it above 0.8, a rewrite with the same
//! facts falls below 0.3. Texts of fewer than three words are compared word by word.

use crate::text::{lowercase, words};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Variants at or above this similarity are near-duplicates: roughly, more than two words in
/// ten changed in place is needed to pass.
pub const DEFAULT_THRESHOLD: f64 = 0.6;

/// Two variants that are too alike (`first` < `second`, indexes into the compared list).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub first: usize,
    pub second: usize,
    pub similarity: f64,
}

/// FNV-1a, 64-bit: a fixed, fast hash so shingle sets are the same on every run.
fn fnv1a(bytes: impl Iterator<Item = u8>, mut hash: u64) -> u64 {
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn shingles(text: &str, size: usize) -> HashSet<u64> {
    let lower = lowercase(text);
    let tokens: Vec<&str> = words(&lower).into_iter().map(|span| &lower[span]).collect();
    if tokens.len() < size {
        return tokens
            .iter()
            .map(|token| fnv1a(token.bytes(), FNV_OFFSET))
            .collect();
    }
    tokens
        .windows(size)
        .map(|window| {
            window.iter().fold(FNV_OFFSET, |hash, token| {
                fnv1a(token.bytes().chain(std::iter::once(b' ')), hash)
            })
        })
        .collect()
}

fn jaccard(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.intersection(b).count();
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// How alike two texts are, 0 (nothing shared) to 1 (the same words in the same order).
pub fn similarity(a: &str, b: &str) -> f64 {
    let short = words(a).len() < 3 || words(b).len() < 3;
    let size = if short { 1 } else { 3 };
    jaccard(&shingles(a, size), &shingles(b, size))
}

/// Every pair of `texts` at or above `threshold`, in order.
pub fn near_duplicates(texts: &[&str], threshold: f64) -> Vec<DuplicatePair> {
    let word_counts: Vec<usize> = texts.iter().map(|text| words(text).len()).collect();
    let trigrams: Vec<HashSet<u64>> = texts.iter().map(|text| shingles(text, 3)).collect();
    let mut pairs = Vec::new();
    for second in 0..texts.len() {
        for first in 0..second {
            let similarity = if word_counts[first] < 3 || word_counts[second] < 3 {
                jaccard(&shingles(texts[first], 1), &shingles(texts[second], 1))
            } else {
                jaccard(&trigrams[first], &trigrams[second])
            };
            if similarity >= threshold {
                pairs.push(DuplicatePair {
                    first,
                    second,
                    similarity,
                });
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "Our spring watercolour course starts on Monday. Six evenings of \
        guided painting with a small group and all materials included. Book your seat \
        before Friday and bring a friend for free.";

    #[test]
    fn one_changed_word_is_a_near_duplicate() {
        let edited = BASE.replace("Monday", "Tuesday");
        let score = similarity(BASE, &edited);
        assert!(score > 0.8, "{score}");
        assert_eq!(
            near_duplicates(&[BASE, &edited], DEFAULT_THRESHOLD).len(),
            1
        );
    }

    #[test]
    fn a_real_rewrite_of_the_same_offer_is_not() {
        let rewrite = "Always wanted to paint? This spring we meet six evenings in a small \
            studio group. Brushes, paper and paint are on us. Seats go fast: reserve yours by \
            Friday.";
        let score = similarity(BASE, rewrite);
        assert!(score < 0.2, "{score}");
        assert!(near_duplicates(&[BASE, rewrite], DEFAULT_THRESHOLD).is_empty());
    }

    #[test]
    fn case_punctuation_and_spacing_do_not_hide_a_copy() {
        let shouted = BASE.to_uppercase().replace('.', "!").replace(' ', "  ");
        assert!((similarity(BASE, &shouted) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pairs_name_the_earlier_and_the_later_variant() {
        let other = "Something else entirely about pottery classes for kids this summer.";
        let pairs = near_duplicates(&[other, BASE, BASE], DEFAULT_THRESHOLD);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].first, pairs[0].second), (1, 2));
        assert!((pairs[0].similarity - 1.0).abs() < 1e-12);
    }

    #[test]
    fn short_and_empty_texts_are_compared_word_by_word() {
        assert!((similarity("Book now", "book NOW!") - 1.0).abs() < 1e-12);
        assert!((similarity("Book now", "Shop now") - 1.0 / 3.0).abs() < 1e-12);
        assert!((similarity("", "") - 1.0).abs() < 1e-12);
        assert_eq!(similarity("", "Book now"), 0.0);
        assert!(near_duplicates(&[], DEFAULT_THRESHOLD).is_empty());
    }
}
