//! Chunks an ingestion has just stored, handed to its index follower in memory, so the
//! follower need not read back from the store the text and vectors the pipeline already
//! holds (at 20k small chunks that read-back was a large share of the store's work).
//!
//! The store stays the source of truth. The follower takes chunks from here only as a run
//! that continues its applied mark without a gap: when every id from the mark up to a run's
//! last chunk is one of the run's chunks, no other writer can have a chunk in that range
//! (ids are never reused), so the run is exactly what the store holds there; deletions still
//! come from the store's log. Anything else (a gap left by another writer, chunks dropped
//! because the queue was full) is read from the store as before.

use brandpilot_core::{ChunkId, ContentHash};
use brandpilot_index::IndexedChunk;
use brandpilot_store::{Brand, SourceWrite, WrittenSource};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The queue between one ingestion's pipeline and its index follower.
pub(crate) struct Handoff {
    queue: Mutex<VecDeque<IndexedChunk>>,
    /// Chunks held at most; past it, offers are dropped and the follower reads those chunks
    /// from the store, so a follower that falls behind costs reads, not memory.
    capacity: usize,
}

impl Handoff {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// Offers chunks that were just committed, in id order. They are dropped when they would
    /// overfill the queue or do not come after what it holds.
    pub(crate) fn offer(&self, chunks: Vec<IndexedChunk>) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let ordered = chunks.windows(2).all(|w| w[0].chunk_id.0 < w[1].chunk_id.0);
        let after_queued = match (queue.back(), chunks.first()) {
            (Some(back), Some(first)) => back.chunk_id.0 < first.chunk_id.0,
            _ => true,
        };
        if ordered && after_queued && queue.len() + chunks.len() <= self.capacity {
            queue.extend(chunks);
        }
    }

    /// Takes up to `limit` queued chunks that continue `after` without a gap and end at or
    /// before `up_to`. Chunks at or below `after` are dropped: an index already has them.
    pub(crate) fn take_run(
        &self,
        after: ChunkId,
        up_to: ChunkId,
        limit: usize,
    ) -> Vec<IndexedChunk> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        while queue.front().is_some_and(|c| c.chunk_id.0 <= after.0) {
            queue.pop_front();
        }
        let mut run = Vec::new();
        let mut next = after.0 + 1;
        while run.len() < limit
            && let Some(front) = queue.front()
            && front.chunk_id.0 == next
            && next <= up_to.0
        {
            run.extend(queue.pop_front());
            next += 1;
        }
        run
    }

    /// The first queued id above `after`: a store read from `after` can stop before it,
    /// where the queue takes over.
    pub(crate) fn first_after(&self, after: ChunkId) -> Option<ChunkId> {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.iter().map(|c| c.chunk_id).find(|id| id.0 > after.0)
    }
}

/// Each source's chunks with the ids the store gave them, its title and tags as stored, and
/// their vectors. Empty when any vector is missing: the follower then reads the group from
/// the store, which embeds what lacks a vector.
pub(crate) fn indexed_chunks(
    brand: &Brand,
    writes: Vec<SourceWrite>,
    written: &[WrittenSource],
    vectors: &HashMap<ContentHash, Vec<f32>>,
) -> Vec<IndexedChunk> {
    let mut indexed = Vec::new();
    for (write, stored) in writes.into_iter().zip(written) {
        if stored.chunks.len() != write.chunks.len() {
            continue; // A version superseded within the group: nothing of it was stored.
        }
        for (chunk, id) in write.chunks.into_iter().zip(&stored.chunks) {
            let Some(vector) = vectors.get(&chunk.content_hash) else {
                return Vec::new();
            };
            indexed.push(IndexedChunk {
                chunk_id: *id,
                brand: brand.id,
                source: stored.id,
                tags: write.update.tags.clone(),
                title: write.update.title.clone(),
                heading_path: chunk.locator.heading_path,
                text: chunk.text,
                vector: vector.clone(),
            });
        }
    }
    indexed.sort_by_key(|chunk| chunk.chunk_id.0);
    indexed
}

#[cfg(test)]
mod tests {
    use super::*;
    use brandpilot_core::{BrandId, SourceId};

    fn chunk(id: i64) -> IndexedChunk {
        IndexedChunk {
            chunk_id: ChunkId(id),
            brand: BrandId(1),
            source: SourceId(1),
            tags: Vec::new(),
            title: String::new(),
            heading_path: Vec::new(),
            text: format!("chunk {id}"),
            vector: Vec::new(),
        }
    }

    fn ids(chunks: &[IndexedChunk]) -> Vec<i64> {
        chunks.iter().map(|c| c.chunk_id.0).collect()
    }

    #[test]
    fn a_run_must_continue_the_mark_without_a_gap() {
        let handoff = Handoff::new(100);
        handoff.offer((11..=13).map(chunk).collect());
        handoff.offer((15..=16).map(chunk).collect());
        // Id 10 is not queued: nothing continues a mark of 9.
        assert!(handoff.take_run(ChunkId(9), ChunkId(20), 100).is_empty());
        assert_eq!(handoff.first_after(ChunkId(9)), Some(ChunkId(11)));
        // From 10 the run is 11–13; 14 is missing (another writer's), so it stops there.
        assert_eq!(
            ids(&handoff.take_run(ChunkId(10), ChunkId(20), 100)),
            [11, 12, 13]
        );
        assert_eq!(handoff.first_after(ChunkId(13)), Some(ChunkId(15)));
        assert_eq!(
            ids(&handoff.take_run(ChunkId(14), ChunkId(20), 100)),
            [15, 16]
        );
        assert_eq!(handoff.first_after(ChunkId(16)), None);
    }

    #[test]
    fn a_run_stops_at_the_store_mark_and_the_limit() {
        let handoff = Handoff::new(100);
        handoff.offer((1..=6).map(chunk).collect());
        assert_eq!(ids(&handoff.take_run(ChunkId(0), ChunkId(6), 2)), [1, 2]);
        assert_eq!(ids(&handoff.take_run(ChunkId(2), ChunkId(4), 100)), [3, 4]);
        // Already applied by another sync: dropped, not returned.
        assert_eq!(ids(&handoff.take_run(ChunkId(5), ChunkId(9), 100)), [6]);
    }

    #[test]
    fn offers_that_overfill_or_go_backwards_are_dropped() {
        let handoff = Handoff::new(3);
        handoff.offer((1..=2).map(chunk).collect());
        handoff.offer((3..=4).map(chunk).collect()); // would hold 4 > 3
        handoff.offer(vec![chunk(2)]); // not after what is queued
        handoff.offer(vec![chunk(9), chunk(8)]); // not in order
        assert_eq!(
            ids(&handoff.take_run(ChunkId(0), ChunkId(100), 100)),
            [1, 2]
        );
        // Emptied, the queue takes offers again.
        handoff.offer((3..=5).map(chunk).collect());
        assert_eq!(
            ids(&handoff.take_run(ChunkId(2), ChunkId(100), 100)),
            [3, 4, 5]
        );
    }
}
