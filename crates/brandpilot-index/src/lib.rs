//! Search indexes derived from the store: BM25 full text, a persisted vector index, the
//! arithmetic that fuses and diversifies their results, and the metrics that judge them.
//!
//! SQLite is the source of truth. Every index here is a rebuildable projection of it that
//! records, as a [`Watermark`], how far into the store's chunk and deletion sequences it has
//! caught up; the caller replays everything above the watermark after a restart. Because
//! replays happen, every write is idempotent (an upsert first removes the chunk id).
//!
//! This crate must never read the store, call a model or know about HTTP: it receives
//! [`IndexedChunk`]s with their vectors already computed. Brand, source and tag filters are
//! always applied *inside* each index's search, never to its results afterwards, so a small
//! brand in a large index still gets its k results and never sees another brand's.

mod bm25;
mod error;
pub mod fusion;
pub mod metrics;
pub mod similarity;
mod vector;

pub use bm25::{Bm25Config, Bm25Index};
pub use error::{IndexError, Result};
pub use vector::{VectorConfig, VectorIndex};

use brandpilot_core::{BrandId, ChunkId, SourceId};
use serde::{Deserialize, Serialize};

/// One chunk as the indexes need it: what it says, where it belongs for filtering, and its
/// embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedChunk {
    pub chunk_id: ChunkId,
    pub brand: BrandId,
    pub source: SourceId,
    /// Tags of the chunk's source; a tag filter admits chunks carrying any of the wanted tags.
    pub tags: Vec<String>,
    /// The source's title.
    pub title: String,
    /// The chunk's heading path, outermost first.
    pub heading_path: Vec<String>,
    pub text: String,
    /// The chunk's embedding, L2-normalised so that inner product equals cosine similarity.
    pub vector: Vec<f32>,
}

/// How far an index has caught up with the store. Both sequences only grow, so after a
/// restart the caller applies every chunk above `last_chunk` and every deletion above
/// `last_deletion`, and the index is current again.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Watermark {
    /// Highest chunk id applied.
    pub last_chunk: i64,
    /// Highest deletion sequence number applied.
    pub last_deletion: i64,
}

/// Index keys are the store's row ids reinterpreted bit for bit: row ids are positive, and a
/// bit cast keeps even a corrupt negative id distinct instead of clamping it onto another.
pub(crate) fn key_of(id: i64) -> u64 {
    id as u64
}

/// The inverse of [`key_of`].
pub(crate) fn id_of(key: u64) -> i64 {
    key as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integrator shares one instance of each index between search requests and the
    /// indexing worker, so both must be usable from several threads at once.
    #[test]
    fn indexes_are_shareable_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Bm25Index>();
        shareable::<VectorIndex>();
    }

    #[test]
    fn keys_round_trip_through_ids() {
        for id in [0, 1, i64::MAX, -1] {
            assert_eq!(id_of(key_of(id)), id);
        }
    }
}
