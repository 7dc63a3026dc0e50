//! What a search asks for and what it returns.

use crate::{BrandId, ChunkId, ChunkLocator, SourceId, SourceKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which retrievers a search runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// BM25 and vector search, fused.
    #[default]
    Hybrid,
    Bm25,
    Vector,
}

impl fmt::Display for SearchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SearchMode::Hybrid => "hybrid",
            SearchMode::Bm25 => "bm25",
            SearchMode::Vector => "vector",
        })
    }
}

impl FromStr for SearchMode {
    type Err = crate::UnknownVariant;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "hybrid" => Ok(Self::Hybrid),
            "bm25" => Ok(Self::Bm25),
            "vector" => Ok(Self::Vector),
            _ => Err(crate::UnknownVariant {
                what: "search mode",
                value: text.to_owned(),
            }),
        }
    }
}

/// Which chunks a search may return. The brand is mandatory: there is no search across
/// brands, so a forgotten filter cannot leak another brand's material. Filters are applied
/// inside each retriever, never to its results afterwards (post-filtering would return fewer
/// than k results, or none, for a small brand in a large index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilter {
    pub brand: BrandId,
    /// When set, only these sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<SourceId>>,
    /// When non-empty, only chunks of sources carrying at least one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl SearchFilter {
    pub fn brand(brand: BrandId) -> Self {
        Self {
            brand,
            sources: None,
            tags: Vec::new(),
        }
    }
}

/// A search as the knowledge base receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    pub filter: SearchFilter,
    pub k: usize,
    pub mode: SearchMode,
}

/// One retrieved passage with everything needed to cite it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    pub chunk_id: ChunkId,
    pub source_id: SourceId,
    pub source_title: String,
    pub source_origin: String,
    pub source_kind: SourceKind,
    pub locator: ChunkLocator,
    pub text: String,
    /// Fused (or single-retriever) score; higher is better. Comparable only within one result list.
    pub score: f32,
    /// 1-based rank in the BM25 list, when the chunk was in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bm25_rank: Option<u32>,
    /// 1-based rank in the vector list, when the chunk was in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_rank: Option<u32>,
    /// The query's similarity to the chunk in embedding space (cosine), when the vector list
    /// had it: unlike `score`, comparable across queries, so the assistant can tell a close
    /// passage from the best of bad ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_similarity: Option<f32>,
}
