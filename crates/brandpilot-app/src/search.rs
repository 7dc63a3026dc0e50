//! Search with citations: ranked chunk ids from the retriever, turned into passages that
//! name their source and locator.

use crate::{Brandpilot, Result, blocking};
use brandpilot_core::{Passage, SearchFilter, SearchMode};
use brandpilot_knowledge::retrieve::SearchTimings;
use brandpilot_store::Brand;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub passages: Vec<Passage>,
    /// False when results come from the hashing fallback: matches are lexical only.
    pub semantic: bool,
    pub embedder: String,
    #[serde(skip)]
    pub timings: SearchTimings,
}

impl Brandpilot {
    pub async fn search(
        &self,
        brand: &Brand,
        query: &str,
        k: usize,
        mode: SearchMode,
        tags: &[String],
    ) -> Result<SearchResults> {
        let filter = SearchFilter {
            brand: brand.id,
            sources: None,
            tags: tags.to_vec(),
        };
        let retriever = self.retriever.clone();
        let text = query.to_owned();
        let (ranked, timings) =
            blocking(move || Ok(retriever.search(&text, &filter, k, mode)?)).await?;
        let ids: Vec<_> = ranked.iter().map(|hit| hit.chunk_id).collect();
        let mut stored: HashMap<_, _> = self
            .store
            .chunks_by_ids(brand.id, &ids)
            .await?
            .into_iter()
            .map(|chunk| (chunk.id, chunk))
            .collect();
        // A hit the store no longer has (deleted since the last sync) is dropped, never shown.
        let passages = ranked
            .into_iter()
            .filter_map(|hit| {
                let chunk = stored.remove(&hit.chunk_id)?;
                Some(Passage {
                    chunk_id: chunk.id,
                    source_id: chunk.source,
                    source_title: chunk.source_title,
                    source_origin: chunk.source_origin,
                    source_kind: chunk.source_kind,
                    locator: chunk.locator,
                    text: chunk.text,
                    score: hit.score,
                    bm25_rank: hit.bm25_rank,
                    vector_rank: hit.vector_rank,
                    vector_similarity: hit.vector_similarity,
                })
            })
            .collect();
        self.metrics.searches.inc();
        if mode != SearchMode::Bm25 {
            self.tally_query(brand, query);
        }
        Ok(SearchResults {
            passages,
            semantic: self.embedder.is_semantic(),
            embedder: self.embedder.model_id().to_owned(),
            timings,
        })
    }
}
