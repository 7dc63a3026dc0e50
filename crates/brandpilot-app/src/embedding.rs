//! Embedding at ingestion: what the cache lacks is embedded in batches on the blocking
//! pool and cached under the chunk's content hash, and the tokens embedded are recorded as
//! the brand's model use (which credits count).

use crate::{Brandpilot, Result, blocking};
use brandpilot_core::ContentHash;
use brandpilot_store::{Brand, NewChunk};
use std::collections::HashMap;

impl Brandpilot {
    /// Embeds the chunks whose text has no cached embedding for the current model. Returns
    /// every chunk's vector (cached or new), how many were embedded and their tokens.
    pub(crate) async fn ensure_embeddings(&self, chunks: &[&NewChunk]) -> Result<GroupEmbeddings> {
        let model = self.embedder.model_id().to_owned();
        let hashes: Vec<ContentHash> = chunks.iter().map(|c| c.content_hash).collect();
        let mut vectors = self.store.cached_embeddings(&model, &hashes).await?;
        let mut seen = std::collections::HashSet::new();
        let missing: Vec<&NewChunk> = chunks
            .iter()
            .copied()
            .filter(|chunk| !vectors.contains_key(&chunk.content_hash))
            .filter(|chunk| seen.insert(chunk.content_hash))
            .collect();
        let tokens = missing.iter().map(|c| u64::from(c.token_count)).sum();
        let texts = missing
            .iter()
            .map(|chunk| (chunk.content_hash, chunk.text.clone()))
            .collect();
        let embedded = self.embed_and_cache(texts).await?;
        let count = embedded.len();
        vectors.extend(embedded);
        Ok(GroupEmbeddings {
            vectors,
            embedded: count,
            tokens,
        })
    }

    /// Records the tokens a group embedded as a model call of the brand (route `embed`), so
    /// usage and credits count embeddings with LLM calls. A failure is logged: the chunks
    /// are stored, and losing one usage row must not fail their ingestion.
    pub(crate) async fn record_embedding_usage(&self, brand: &Brand, tokens: u64) {
        if tokens == 0 {
            return;
        }
        let call = self.embedding_call(
            brand.workspace,
            brand.id,
            "embed",
            tokens,
            crate::llm_calls::now_ms(),
        );
        if let Err(error) = self.store.record_llm_calls(&[call]).await {
            tracing::warn!(%error, "could not record embedding usage");
        }
    }

    /// Embeds texts in batches and stores the vectors under their content hashes; returns
    /// them.
    pub(crate) async fn embed_and_cache(
        &self,
        texts: Vec<(ContentHash, String)>,
    ) -> Result<Vec<(ContentHash, Vec<f32>)>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let embedder = self.embedder.clone();
        let batch = self.settings.embedder.batch_size.max(1);
        let rows = blocking(move || {
            let mut rows = Vec::with_capacity(texts.len());
            for group in texts.chunks(batch) {
                let inputs: Vec<&str> = group.iter().map(|(_, text)| text.as_str()).collect();
                let vectors = embedder.embed(&inputs)?;
                rows.extend(group.iter().map(|(hash, _)| *hash).zip(vectors));
            }
            Ok(rows)
        })
        .await?;
        self.store
            .put_embeddings(self.embedder.model_id(), &rows)
            .await?;
        Ok(rows)
    }
}

/// The embeddings of one group of chunks.
pub(crate) struct GroupEmbeddings {
    /// Every chunk's vector by content hash, from the cache or just embedded.
    pub vectors: HashMap<ContentHash, Vec<f32>>,
    /// How many texts had to be embedded (cache misses).
    pub embedded: usize,
    /// Their tokens, for usage and credits.
    pub tokens: u64,
}
