//! Bringing the search indexes up to date with the store.
//!
//! Each index records a watermark: the highest chunk id and deletion sequence it has applied.
//! Syncing applies, per index, every stored chunk above its chunk mark and every logged
//! deletion above its deletion mark, then makes the index durable with the store's current
//! marks. Writes are idempotent, so replaying after a crash (SIGKILL mid-sync included) gives
//! the same index; and since the store is the source of truth, `reindex` can always start
//! from nothing.

use crate::{Brandpilot, Result, blocking};
use brandpilot_core::{ChunkId, ContentHash};
use brandpilot_index::{IndexedChunk, Watermark};
use serde::Serialize;

/// Chunks read from the store per round trip.
const PAGE: u32 = 2_000;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SyncReport {
    pub upserted: usize,
    pub deleted: usize,
    pub embedded: usize,
}

impl Brandpilot {
    /// Applies everything the indexes have not seen yet.
    pub async fn sync_indexes(&self) -> Result<SyncReport> {
        let _one_sync_at_a_time = self.sync_lock.lock().await;
        let marks = self.store.index_high_marks().await?;
        let target = Watermark {
            last_chunk: marks.last_chunk.0,
            last_deletion: marks.last_deletion,
        };
        let bm25_mark = self.retriever.bm25.watermark()?;
        let vector_mark = self.retriever.vectors.watermark()?;
        let mut report = SyncReport::default();
        if bm25_mark == target && vector_mark == target {
            return Ok(report);
        }
        let model = self.embedder.model_id().to_owned();
        let mut after = ChunkId(bm25_mark.last_chunk.min(vector_mark.last_chunk));
        loop {
            let mut page = self
                .store
                .chunks_after(after, marks.last_chunk, &model, PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            // Chunks stored under another embedder (the model changed) are embedded now.
            let missing: Vec<(ContentHash, String)> = page
                .iter()
                .filter(|chunk| chunk.vector.is_none())
                .map(|chunk| (chunk.content_hash, chunk.text.clone()))
                .collect();
            if !missing.is_empty() {
                report.embedded += self.embed_and_cache(missing).await?;
                let hashes: Vec<ContentHash> = page.iter().map(|c| c.content_hash).collect();
                let vectors = self.store.cached_embeddings(&model, &hashes).await?;
                for chunk in &mut page {
                    chunk.vector = vectors.get(&chunk.content_hash).cloned();
                }
            }
            let chunks: Vec<IndexedChunk> = page
                .into_iter()
                .map(|chunk| IndexedChunk {
                    chunk_id: chunk.id,
                    brand: chunk.brand,
                    source: chunk.source,
                    tags: chunk.tags,
                    title: chunk.source_title,
                    heading_path: chunk.heading_path,
                    text: chunk.text,
                    vector: chunk.vector.unwrap_or_default(),
                })
                .collect();
            report.upserted += chunks.len();
            let retriever = self.retriever.clone();
            blocking(move || {
                let bm25: Vec<IndexedChunk> = chunks
                    .iter()
                    .filter(|c| c.chunk_id.0 > bm25_mark.last_chunk)
                    .cloned()
                    .collect();
                retriever.bm25.upsert(&bm25)?;
                let vectors: Vec<IndexedChunk> = chunks
                    .into_iter()
                    .filter(|c| c.chunk_id.0 > vector_mark.last_chunk)
                    .collect();
                retriever.vectors.upsert(&vectors)?;
                Ok(())
            })
            .await?;
        }
        let from = bm25_mark.last_deletion.min(vector_mark.last_deletion);
        let deleted = self
            .store
            .deletions_after(from, marks.last_deletion)
            .await?;
        report.deleted = deleted.len();
        let retriever = self.retriever.clone();
        blocking(move || {
            retriever.bm25.delete(&deleted)?;
            retriever.vectors.delete(&deleted)?;
            retriever.bm25.commit(target)?;
            retriever.vectors.save(target)?;
            Ok(())
        })
        .await?;
        Ok(report)
    }

    /// Drops both indexes and rebuilds them from the store.
    pub async fn reindex(&self) -> Result<SyncReport> {
        {
            let _guard = self.sync_lock.lock().await;
            let retriever = self.retriever.clone();
            blocking(move || {
                retriever.bm25.clear()?;
                retriever.vectors.clear()?;
                Ok(())
            })
            .await?;
        }
        self.sync_indexes().await
    }
}
