//! Hybrid retrieval: BM25 and vector search over one brand's chunks, fused into one ranking.
//!
//! Each retriever applies the brand/source/tag filter inside its own search and returns its
//! best `candidates`; the two lists are then fused (reciprocal rank fusion by default, or a
//! convex combination of normalised scores). This module returns chunk ids and scores only:
//! turning them into citable passages needs the store, which is the app's job. It must never
//! post-filter results, which would starve small brands and hide leaks.

use brandpilot_core::{ChunkId, SearchFilter, SearchMode};
use brandpilot_embed::Embedder;
use brandpilot_index::fusion::{self, ScoreNormalization, WeightedList};
use brandpilot_index::{Bm25Index, IndexError, VectorIndex};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Embed(#[from] brandpilot_embed::EmbedError),
}

impl brandpilot_core::Fault for RetrieveError {
    fn fault(&self) -> brandpilot_core::FaultKind {
        match self {
            RetrieveError::Index(e) => e.fault(),
            RetrieveError::Embed(e) => e.fault(),
        }
    }
}

/// How the two result lists become one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    ReciprocalRank { k: f32 },
    Convex(ScoreNormalization),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrievalConfig {
    pub fusion: Fusion,
    pub bm25_weight: f32,
    pub vector_weight: f32,
    /// Hits fetched from each retriever before fusion.
    pub candidates: usize,
    /// Maximal marginal relevance over the fused candidates, when set: `λ` in 0–1 (1 is
    /// plain relevance order; lower trades relevance for passages that say different
    /// things). Applies to vector and hybrid searches, which have the query's vector.
    pub mmr_lambda: Option<f32>,
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        Self {
            fusion: Fusion::Convex(ScoreNormalization::MinMax),
            bm25_weight: 1.0,
            vector_weight: 1.0,
            candidates: 100,
            mmr_lambda: None,
        }
    }
}

/// One ranked chunk, with where each retriever placed it.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedChunk {
    pub chunk_id: ChunkId,
    pub score: f32,
    pub bm25_rank: Option<u32>,
    pub vector_rank: Option<u32>,
    /// The vector index's similarity of the query to this chunk, when it was in that list.
    pub vector_similarity: Option<f32>,
}

/// Where the time of one search went, in microseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchTimings {
    pub embed_us: u64,
    pub bm25_us: u64,
    pub vector_us: u64,
    pub fuse_us: u64,
}

pub struct Retriever {
    pub bm25: Arc<Bm25Index>,
    pub vectors: Arc<VectorIndex>,
    pub embedder: Arc<dyn Embedder>,
    pub config: RetrievalConfig,
}

impl Retriever {
    /// Embeds the query (when the mode needs it) and searches.
    pub fn search(
        &self,
        query: &str,
        filter: &SearchFilter,
        k: usize,
        mode: SearchMode,
    ) -> Result<(Vec<RankedChunk>, SearchTimings), RetrieveError> {
        let started = Instant::now();
        let vector = match mode {
            SearchMode::Bm25 => None,
            SearchMode::Vector | SearchMode::Hybrid => {
                self.embedder.embed(&[query])?.into_iter().next()
            }
        };
        let embed_us = started.elapsed().as_micros() as u64;
        let (ranked, mut timings) =
            self.search_embedded(query, vector.as_deref(), filter, k, mode)?;
        timings.embed_us = embed_us;
        Ok((ranked, timings))
    }

    /// Searches with an already embedded query (benchmarks measure search without the model).
    pub fn search_embedded(
        &self,
        query: &str,
        query_vector: Option<&[f32]>,
        filter: &SearchFilter,
        k: usize,
        mode: SearchMode,
    ) -> Result<(Vec<RankedChunk>, SearchTimings), RetrieveError> {
        let mut timings = SearchTimings::default();
        let candidates = self.config.candidates.max(k);
        let lexical = if mode == SearchMode::Vector {
            Vec::new()
        } else {
            let started = Instant::now();
            let hits = self.bm25.search(query, filter, candidates)?;
            timings.bm25_us = started.elapsed().as_micros() as u64;
            hits
        };
        let semantic = match (mode, query_vector) {
            (SearchMode::Bm25, _) | (_, None) => Vec::new(),
            (_, Some(vector)) => {
                let started = Instant::now();
                let hits = self.vectors.search(vector, filter, candidates)?;
                timings.vector_us = started.elapsed().as_micros() as u64;
                hits
            }
        };
        let started = Instant::now();
        let fused = match mode {
            SearchMode::Bm25 => lexical.clone(),
            SearchMode::Vector => semantic.clone(),
            SearchMode::Hybrid => {
                let lists = [
                    WeightedList::new(&lexical, self.config.bm25_weight),
                    WeightedList::new(&semantic, self.config.vector_weight),
                ];
                match self.config.fusion {
                    Fusion::ReciprocalRank { k } => fusion::reciprocal_rank_fusion(&lists, k),
                    Fusion::Convex(normalization) => fusion::convex_fusion(&lists, normalization),
                }
            }
        };
        let rank_in = |list: &[(ChunkId, f32)], id: ChunkId| {
            list.iter()
                .position(|(hit, _)| *hit == id)
                .map(|p| p as u32 + 1)
        };
        let fused = match (self.config.mmr_lambda, query_vector, mode) {
            (Some(lambda), Some(query), SearchMode::Vector | SearchMode::Hybrid) => {
                self.diversify(query, fused, lambda, k)?
            }
            _ => fused,
        };
        let ranked = fused
            .into_iter()
            .take(k)
            .map(|(chunk_id, score)| RankedChunk {
                chunk_id,
                score,
                bm25_rank: rank_in(&lexical, chunk_id),
                vector_rank: rank_in(&semantic, chunk_id),
                vector_similarity: semantic
                    .iter()
                    .find(|(hit, _)| *hit == chunk_id)
                    .map(|(_, similarity)| *similarity),
            })
            .collect();
        timings.fuse_us = started.elapsed().as_micros() as u64;
        Ok((ranked, timings))
    }

    /// Re-orders the fused candidates by maximal marginal relevance, keeping each chunk's
    /// fused score (so scores stay comparable; only the order changes).
    fn diversify(
        &self,
        query: &[f32],
        fused: Vec<(ChunkId, f32)>,
        lambda: f32,
        k: usize,
    ) -> Result<Vec<(ChunkId, f32)>, RetrieveError> {
        let ids: Vec<ChunkId> = fused.iter().map(|(id, _)| *id).collect();
        let vectors = self.vectors.vectors(&ids)?;
        let candidates: Vec<fusion::MmrCandidate<'_>> = vectors
            .iter()
            .map(|(chunk_id, vector)| fusion::MmrCandidate {
                chunk_id: *chunk_id,
                vector,
            })
            .collect();
        let scores: std::collections::HashMap<ChunkId, f32> = fused.into_iter().collect();
        Ok(
            fusion::maximal_marginal_relevance(query, &candidates, lambda.clamp(0.0, 1.0), k)
                .into_iter()
                .map(|(id, _)| (id, scores.get(&id).copied().unwrap_or(0.0)))
                .collect(),
        )
    }
}
