//! Bringing the search indexes up to date with the store.
//!
//! Each index records a watermark: the highest chunk id and deletion sequence it has made
//! durable, and in memory an applied mark: how far its writes reach, durable or not.
//! Syncing applies, per index, every stored chunk above its applied chunk mark and every
//! logged deletion above its applied deletion mark; a durable sync then commits the index
//! with the store's current marks. Writes are idempotent, so replaying from the durable
//! watermark after a crash (SIGKILL mid-sync included) gives the same index; and since the
//! store is the source of truth, `reindex` can always start from nothing.

use crate::handoff::Handoff;
use crate::{Brandpilot, Result, blocking};
use brandpilot_core::{ChunkId, ContentHash};
use brandpilot_index::{IndexedChunk, Watermark};
use serde::Serialize;
use std::collections::HashMap;
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
        self.sync_indexes_from(durability, None).await
    }

    /// Syncs, taking what it can from `handoff` (chunks an ingestion just stored, still in
    /// memory) and reading the rest from the store.
    pub(crate) async fn sync_indexes_from(
        &self,
        durability: Durability,
        handoff: Option<&Handoff>,
    ) -> Result<SyncReport> {
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
        let mut after = ChunkId(bm25_mark.last_chunk.min(vector_mark.last_chunk));
        loop {
            let handed = handoff.map_or_else(Vec::new, |h| {
                h.take_run(after, marks.last_chunk, PAGE as usize)
            });
            let chunks = if handed.is_empty() {
                // Read from the store, stopping where the handoff's chunks begin.
                let up_to = handoff
                    .and_then(|h| h.first_after(after))
                    .map_or(marks.last_chunk, |first| {
                        ChunkId((first.0 - 1).min(marks.last_chunk.0))
                    });
                if up_to.0 <= after.0 {
                    break;
                }
                let page = self.chunks_to_index(after, up_to, &mut report).await?;
                if page.is_empty() {
                    // Nothing is stored up to `up_to`: the handoff's chunks continue from it.
                    if up_to.0 < marks.last_chunk.0 {
                        after = up_to;
                        continue;
                    }
                    break;
                }
                page
            } else {
                handed
            };
            let Some(last) = chunks.last() else { break };
            after = last.chunk_id;
            report.upserted += chunks.len();
            let retriever = self.retriever.clone();
            blocking(move || {
                // Chunks come in id order; each index takes those above its own mark.
                let above = |mark: i64| chunks.partition_point(|c| c.chunk_id.0 <= mark);
                retriever
                    .bm25
                    .upsert(&chunks[above(bm25_mark.last_chunk)..])?;
                retriever
                    .vectors
                    .upsert(&chunks[above(vector_mark.last_chunk)..])?;
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

    /// The stored chunks in `(after, up_to]`, a page at a time, with their vectors; chunks
    /// stored under another embedder (the model changed) are embedded now.
    async fn chunks_to_index(
        &self,
        after: ChunkId,
        up_to: ChunkId,
        report: &mut SyncReport,
    ) -> Result<Vec<IndexedChunk>> {
        let model = self.embedder.model_id().to_owned();
        let mut page = self.store.chunks_after(after, up_to, &model, PAGE).await?;
        let missing: Vec<(ContentHash, String)> = page
            .iter()
            .filter(|chunk| chunk.vector.is_none())
            .map(|chunk| (chunk.content_hash, chunk.text.clone()))
            .collect();
        if !missing.is_empty() {
            let embedded: HashMap<ContentHash, Vec<f32>> =
                self.embed_and_cache(missing).await?.into_iter().collect();
            report.embedded += embedded.len();
            for chunk in &mut page {
                if chunk.vector.is_none() {
                    chunk.vector = embedded.get(&chunk.content_hash).cloned();
                }
            }
        }
        Ok(page
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
            .collect())
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
        stored_group(app, brand, range).await;
    }

    async fn stored_group(
        app: &Brandpilot,
        brand: &brandpilot_store::Brand,
        range: std::ops::Range<usize>,
    ) -> Vec<IndexedChunk> {
        let pending = documents(range)
            .into_iter()
            .map(crate::ingest::pending_text)
            .collect();
        let group = app.store_sources(brand, pending, &[]).await.unwrap();
        for result in group.results {
            result.unwrap();
        }
        group.indexed
    }

    /// An ingestion hands its stored chunks to the follower in memory, but the follower
    /// takes them only where they continue its mark without a gap: chunks stored in between
    /// by another writer (or dropped from a full queue) are read from the store, and the
    /// handed chunks after them are still taken from memory.
    #[tokio::test]
    async fn a_sync_takes_handed_chunks_and_reads_the_gap_between_them_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let app = open(dir.path(), 1_000_000).await;
        let brand = app.brand("acme", true).await.unwrap();
        // Marked so a search shows which copy the index took: the handed or the stored.
        let handed = |mut chunks: Vec<IndexedChunk>, mark: &str| {
            for chunk in &mut chunks {
                chunk.text = format!("{} {mark}", chunk.text);
            }
            chunks
        };
        let handoff = Handoff::new(100);
        let first = stored_group(&app, &brand, 0..5).await;
        handoff.offer(handed(first, "handedfirst"));
        stored_group(&app, &brand, 5..9).await; // another writer's, not handed
        let last = stored_group(&app, &brand, 9..12).await;
        handoff.offer(handed(last, "handedlast"));

        let report = app
            .sync_indexes_from(Durability::Durable, Some(&handoff))
            .await
            .unwrap();
        assert_eq!(report.upserted, 12);
        assert_eq!(app.retriever.bm25.len(), 12);
        assert_eq!(app.retriever.vectors.len().unwrap(), 12);
        assert_eq!(
            app.retriever.bm25.watermark().unwrap(),
            store_marks(&app).await
        );
        for word in ["handedfirst", "marker6", "handedlast"] {
            let filter = SearchFilter::brand(brand.id);
            let (hits, _) = app
                .retriever
                .search_embedded(word, None, &filter, 20, SearchMode::Bm25)
                .unwrap();
            let expected = match word {
                "handedfirst" => 5,
                "marker6" => 1,
                _ => 3,
            };
            assert_eq!(hits.len(), expected, "{word}");
        }
    }
}
