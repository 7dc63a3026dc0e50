//! Bringing the search indexes up to date with the store.
//!
//! Each index records a watermark: the highest chunk id and deletion sequence it has made
//! durable, and in memory an applied mark: how far its writes reach, durable or not.
//! Syncing applies, per index, every stored chunk above its applied chunk mark and every
//! logged deletion above its applied deletion mark; a durable sync then commits the index
//! with the store's current marks. Writes are idempotent, so replaying from the durable
//! watermark after a crash (SIGKILL mid-sync included) gives the same index; and since the
//! store is the source of truth, `reindex` can always start from nothing.

use crate::{Brandpilot, Result, blocking};
use brandpilot_core::{ChunkId, ContentHash};
use brandpilot_index::{IndexedChunk, Watermark};
use serde::Serialize;
use std::time::Duration;

/// Chunks read from the store per round trip.
const PAGE: u32 = 2_000;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SyncReport {
    pub upserted: usize,
    pub deleted: usize,
    pub embedded: usize,
}

/// Whether a sync ends by making the indexes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Commit BM25 and save the vector index with the store's marks.
    Durable,
    /// Only write: searchable vectors at once, nothing durable. An ingestion applies what
    /// it stores while it goes on storing, and commits at intervals and at its end.
    Deferred,
}

impl Brandpilot {
    /// Applies everything the indexes have not seen yet and makes it durable.
    pub async fn sync_indexes(&self) -> Result<SyncReport> {
        self.sync_indexes_with(Durability::Durable).await
    }

    /// Keeps the indexes up with the store while a server runs: every `every`, applies what
    /// another process (the command line, another replica) stored or deleted since the last
    /// look. Returns once `stop` turns true. A failed round is logged and retried next time.
    pub async fn follow_store(
        &self,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                    continue;
                }
            }
            match self.sync_indexes().await {
                Ok(report) if report.upserted + report.deleted > 0 => tracing::info!(
                    upserted = report.upserted,
                    deleted = report.deleted,
                    "indexes caught up with the store"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot bring the indexes up to date"),
            }
        }
    }

    pub(crate) async fn sync_indexes_with(&self, durability: Durability) -> Result<SyncReport> {
        let _one_sync_at_a_time = self.sync_lock.lock().await;
        let marks = self.store.index_high_marks().await?;
        let target = Watermark {
            last_chunk: marks.last_chunk.0,
            last_deletion: marks.last_deletion,
        };
        let bm25_mark = self.retriever.bm25.applied()?;
        let vector_mark = self.retriever.vectors.applied()?;
        let mut report = SyncReport::default();
        if bm25_mark == target && vector_mark == target {
            return self.make_durable(durability, target).await.map(|()| report);
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
            retriever.bm25.set_applied(target)?;
            retriever.vectors.set_applied(target)?;
            if durability == Durability::Deferred {
                return Ok(());
            }
            retriever.bm25.commit(target)?;
            retriever.vectors.save(target)?;
            Ok(())
        })
        .await?;
        Ok(report)
    }

    /// Commits whichever index is durable only up to an older mark than `target`, when
    /// everything up to `target` is already applied.
    async fn make_durable(&self, durability: Durability, target: Watermark) -> Result<()> {
        if durability == Durability::Deferred {
            return Ok(());
        }
        let retriever = self.retriever.clone();
        blocking(move || {
            if retriever.bm25.watermark()? != target {
                retriever.bm25.commit(target)?;
            }
            if retriever.vectors.watermark()? != target {
                retriever.vectors.save(target)?;
            }
            Ok(())
        })
        .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::EmbedderKind;
    use crate::{Quiet, Settings, TextDocument};
    use brandpilot_core::{SearchFilter, SearchMode};
    use brandpilot_extract::PdfRunner;

    async fn open(dir: &std::path::Path, sync_every_chunks: usize) -> Brandpilot {
        let mut settings = Settings {
            data_dir: dir.join("data"),
            models_dir: dir.join("no-models"),
            ..Settings::default()
        };
        settings.embedder.kind = EmbedderKind::Hashing;
        settings.ingest.sync_every_chunks = sync_every_chunks;
        Brandpilot::open(settings, PdfRunner::InProcess)
            .await
            .unwrap()
    }

    fn documents(range: std::ops::Range<usize>) -> Vec<TextDocument> {
        range
            .map(|i| TextDocument {
                origin: format!("doc:{i}"),
                title: format!("Document {i}"),
                text: format!("Paragraph about marker{i} and common words for document {i}."),
            })
            .collect()
    }

    async fn store_marks(app: &Brandpilot) -> Watermark {
        let marks = app.store.index_high_marks().await.unwrap();
        Watermark {
            last_chunk: marks.last_chunk.0,
            last_deletion: marks.last_deletion,
        }
    }

    async fn finds(app: &Brandpilot, brand: &brandpilot_store::Brand, word: &str) -> bool {
        let filter = SearchFilter::brand(brand.id);
        [SearchMode::Bm25, SearchMode::Vector].iter().all(|mode| {
            let hits = app
                .retriever
                .search_embedded(
                    word,
                    Some(&app.embedder.embed(&[word]).unwrap()[0]),
                    &filter,
                    3,
                    *mode,
                )
                .unwrap();
            !hits.0.is_empty()
        })
    }

    /// Ingestion applies what it stores to the indexes while it goes on and commits every
    /// `sync_every_chunks`: when it returns, every chunk is searchable in both indexes and
    /// both are durable at the store's marks.
    #[tokio::test]
    async fn after_an_ingestion_returns_both_indexes_hold_every_chunk_durably() {
        let dir = tempfile::tempdir().unwrap();
        let app = open(dir.path(), 7).await;
        let brand = app.brand("acme", true).await.unwrap();
        let report = app
            .ingest_texts(&brand, documents(0..300), &[], &Quiet)
            .await
            .unwrap();
        assert_eq!(report.chunks, 300);
        let target = store_marks(&app).await;
        assert_eq!(app.retriever.bm25.watermark().unwrap(), target);
        assert_eq!(app.retriever.vectors.watermark().unwrap(), target);
        assert_eq!(app.retriever.bm25.len(), 300);
        assert_eq!(app.retriever.vectors.len().unwrap(), 300);
        assert!(finds(&app, &brand, "marker299").await);
        assert!(finds(&app, &brand, "marker0").await);
    }

    /// A deferred sync writes without committing; the durable sync after it continues from
    /// what was applied instead of writing everything again, and commits.
    #[tokio::test]
    async fn a_durable_sync_continues_after_a_deferred_one() {
        let dir = tempfile::tempdir().unwrap();
        let app = open(dir.path(), 1_000_000).await;
        let brand = app.brand("acme", true).await.unwrap();
        app.ingest_texts(&brand, documents(0..10), &[], &Quiet)
            .await
            .unwrap();
        let durable = store_marks(&app).await;
        store_without_syncing(&app, &brand, 10..25).await;

        let deferred = app.sync_indexes_with(Durability::Deferred).await.unwrap();
        assert_eq!(deferred.upserted, 15);
        let target = store_marks(&app).await;
        assert_eq!(app.retriever.bm25.applied().unwrap(), target);
        assert_eq!(app.retriever.vectors.applied().unwrap(), target);
        assert_eq!(app.retriever.bm25.watermark().unwrap(), durable);
        assert_eq!(app.retriever.vectors.watermark().unwrap(), durable);

        let report = app.sync_indexes().await.unwrap();
        assert_eq!(report.upserted, 0, "applied chunks are not written again");
        assert_eq!(app.retriever.bm25.watermark().unwrap(), target);
        assert_eq!(app.retriever.vectors.watermark().unwrap(), target);
        assert!(finds(&app, &brand, "marker24").await);
    }

    /// What a deferred sync wrote is not durable: after a restart (a crash before the
    /// commit), the indexes are back at their last commit and the next sync catches up
    /// from the store, leaving every chunk once.
    #[tokio::test]
    async fn a_restart_after_a_deferred_sync_catches_up_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let durable;
        {
            let app = open(dir.path(), 1_000_000).await;
            let brand = app.brand("acme", true).await.unwrap();
            app.ingest_texts(&brand, documents(0..10), &[], &Quiet)
                .await
                .unwrap();
            durable = store_marks(&app).await;
            store_without_syncing(&app, &brand, 10..25).await;
            app.sync_indexes_with(Durability::Deferred).await.unwrap();
            app.close().await;
        }
        let app = open(dir.path(), 1_000_000).await;
        let brand = app.brand("acme", true).await.unwrap();
        assert_eq!(app.retriever.bm25.applied().unwrap(), durable);
        assert_eq!(app.retriever.vectors.applied().unwrap(), durable);
        let report = app.sync_indexes().await.unwrap();
        assert_eq!(report.upserted, 15);
        assert_eq!(app.retriever.bm25.len(), 25);
        assert_eq!(app.retriever.vectors.len().unwrap(), 25);
        assert!(finds(&app, &brand, "marker24").await);
    }

    /// Stores documents (chunked, embedded) the way ingestion does, without any sync.
    async fn store_without_syncing(
        app: &Brandpilot,
        brand: &brandpilot_store::Brand,
        range: std::ops::Range<usize>,
    ) {
        let pending = documents(range)
            .into_iter()
            .map(crate::ingest::pending_text)
            .collect();
        for result in app.store_sources(brand, pending, &[]).await.unwrap() {
            result.unwrap();
        }
    }
}
