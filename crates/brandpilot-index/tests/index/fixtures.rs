//! Builders for chunks and deterministic pseudo-random vectors shared by the tests.

use brandpilot_core::{BrandId, ChunkId, SourceId};
use brandpilot_index::IndexedChunk;

/// SplitMix64: a tiny deterministic generator, so failures reproduce exactly.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// A random unit vector.
    pub fn unit_vector(&mut self, dimensions: usize) -> Vec<f32> {
        let vector: Vec<f32> = (0..dimensions).map(|_| self.next_f32()).collect();
        unit(vector)
    }

    /// A unit vector close to `center` (noise of the given amplitude per component).
    pub fn near(&mut self, center: &[f32], noise: f32) -> Vec<f32> {
        unit(
            center
                .iter()
                .map(|value| value + noise * self.next_f32())
                .collect(),
        )
    }
}

pub fn unit(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
    for value in &mut vector {
        *value /= norm;
    }
    vector
}

pub fn chunk(id: i64, brand: i64, source: i64, text: &str) -> IndexedChunk {
    IndexedChunk {
        chunk_id: ChunkId(id),
        brand: BrandId(brand),
        source: SourceId(source),
        tags: Vec::new(),
        title: String::new(),
        heading_path: Vec::new(),
        text: text.to_owned(),
        vector: Vec::new(),
    }
}

pub fn with_tags(mut chunk: IndexedChunk, tags: &[&str]) -> IndexedChunk {
    chunk.tags = tags.iter().map(|tag| tag.to_string()).collect();
    chunk
}

pub fn with_vector(mut chunk: IndexedChunk, vector: Vec<f32>) -> IndexedChunk {
    chunk.vector = vector;
    chunk
}

pub fn ids(hits: &[(ChunkId, f32)]) -> Vec<i64> {
    hits.iter().map(|(id, _)| id.0).collect()
}

/// Exact top-k by cosine in f64, ties by ascending id: the reference the index must match.
pub fn brute_force(
    chunks: &[IndexedChunk],
    query: &[f32],
    admit: impl Fn(&IndexedChunk) -> bool,
    k: usize,
) -> Vec<i64> {
    let mut scored: Vec<(f64, i64)> = chunks
        .iter()
        .filter(|chunk| admit(chunk))
        .map(|chunk| {
            let similarity: f64 = chunk
                .vector
                .iter()
                .zip(query)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            (similarity, chunk.chunk_id.0)
        })
        .collect();
    scored.sort_by(|left, right| right.0.total_cmp(&left.0).then(left.1.cmp(&right.1)));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}
