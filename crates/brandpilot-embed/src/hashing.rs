//! The fallback embedder: deterministic feature hashing of words and word pairs.
//!
//! It exists so that search works (lexically) before any model is installed, and so that
//! everything around the embedder can be benchmarked without one. It must never be presented
//! as semantic (`is_semantic` is false), and its output must never change for a given
//! `model_id`: cached vectors depend on it, so any change to the features or the hash needs a
//! new version in the id.

use crate::words::{is_word_char, push_folded};
use crate::{Embedder, Result, l2_normalize};

/// Embeds texts by the signed hashing trick over lower-cased, accent-folded word unigrams
/// and bigrams, with sublinear term frequency (1 + ln tf), L2-normalised.
///
/// Texts with no words (empty, or only punctuation) embed to the zero vector, which has
/// similarity 0 with everything. There is no length limit: every word is read.
#[derive(Debug, Clone)]
pub struct HashingEmbedder {
    dimensions: usize,
    model_id: String,
}

/// Seeds that keep unigram and bigram features in different hash families, so the pair
/// ("new", "york") never lands on the same bucket as some single word by construction.
const UNIGRAM_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const BIGRAM_SEED: u64 = 0xC2B2_AE3D_27D4_EB4F;

impl HashingEmbedder {
    /// `dimensions` is clamped to at least 1.
    pub fn new(dimensions: usize) -> Self {
        let dimensions = dimensions.max(1);
        Self {
            dimensions,
            model_id: format!("hashing-v1/{dimensions}"),
        }
    }

    /// Embeds one text, reusing the caller's scratch buffers (this is the hot loop of
    /// benchmarks, so it allocates only the output vector).
    fn embed_one(&self, text: &str, word: &mut String, features: &mut Vec<u64>) -> Vec<f32> {
        features.clear();
        let mut previous: Option<u64> = None;
        let mut chars = text.chars().peekable();
        while chars.peek().is_some() {
            word.clear();
            // Skip to the next word character, then read the word.
            for c in chars.by_ref() {
                if is_word_char(c) {
                    push_folded(c, word);
                    break;
                }
                // Punctuation and spaces separate words but keep the bigram chain; a
                // sentence break is rare enough not to matter for a lexical fallback.
            }
            while let Some(&c) = chars.peek() {
                if !is_word_char(c) {
                    break;
                }
                push_folded(c, word);
                chars.next();
            }
            if word.is_empty() {
                continue;
            }
            let word_hash = fnv1a(word.as_bytes());
            features.push(mix(word_hash ^ UNIGRAM_SEED));
            if let Some(previous) = previous {
                features.push(mix(previous.rotate_left(23) ^ word_hash ^ BIGRAM_SEED));
            }
            previous = Some(word_hash);
        }

        let mut vector = vec![0.0f32; self.dimensions];
        // Sorting groups equal features so term frequency is a run length; for short chunks
        // this beats a hash map by a wide margin.
        features.sort_unstable();
        let mut i = 0;
        while i < features.len() {
            let feature = features[i];
            let mut run = 1;
            while features.get(i + run) == Some(&feature) {
                run += 1;
            }
            i += run;
            // High bits pick the bucket (multiply-shift range reduction, no modulo bias worth
            // noting), the lowest bit picks the sign, so the two are independent.
            let bucket = (((feature >> 32) * self.dimensions as u64) >> 32) as usize;
            let weight = 1.0 + (run as f32).ln();
            let signed = if feature & 1 == 0 { weight } else { -weight };
            if let Some(slot) = vector.get_mut(bucket) {
                *slot += signed;
            }
        }
        l2_normalize(&mut vector);
        vector
    }
}

impl Embedder for HashingEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Reads every word of any length, so there is no limit to report.
    fn max_tokens(&self) -> usize {
        usize::MAX
    }

    fn is_semantic(&self) -> bool {
        false
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut word = String::new();
        let mut features = Vec::new();
        Ok(texts
            .iter()
            .map(|text| self.embed_one(text, &mut word, &mut features))
            .collect())
    }
}

/// FNV-1a, 64-bit: tiny, stable across platforms and releases (unlike std's SipHash keys).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xCBF2_9CE4_8422_2325u64;
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

/// SplitMix64's finaliser: spreads FNV's weak high bits over the whole word.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_accents_and_punctuation_do_not_change_the_vector() {
        let embedder = HashingEmbedder::new(64);
        let vectors =
            embedder.embed(&["Café crème, s'il vous plaît", "cafe CREME s il vous plait"]);
        let vectors = vectors.unwrap_or_default();
        assert_eq!(vectors.len(), 2);
        assert_eq!(vectors[0], vectors[1]);
    }

    #[test]
    fn pinned_output_guards_the_cache_key() {
        // If this fails, the features changed: bump "hashing-v1" so cached vectors are not
        // mixed with new ones, then update the expectation.
        // "brand" twice exercises the sublinear weight (1 + ln 2), and the two bigrams
        // (brand, voice) and (voice, brand) must land apart from each other.
        let embedder = HashingEmbedder::new(16);
        let vectors = embedder.embed(&["Brand voice, brand."]).unwrap_or_default();
        let rounded: Vec<i32> = vectors[0]
            .iter()
            .map(|x| (x * 1000.0).round() as i32)
            .collect();
        assert_eq!(rounded, PINNED);
    }

    // Recorded from the first implementation of hashing-v1; 0.699 = (1 + ln 2) / √(2.866 + 3)
    // is "brand", the three 0.413s are "voice" and the two bigrams.
    const PINNED: [i32; 16] = [0, 0, 0, 0, -413, 0, 0, 0, 0, 0, 0, 0, 699, 0, -413, 413];
}
