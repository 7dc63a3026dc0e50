//! Rows as the rest of the code sees them: plain data, no database types.

use brandpilot_core::{
    BrandId, ChunkId, ChunkLocator, ContentHash, JobId, SourceId, SourceKind, SourceStatus,
    WorkspaceId,
};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub id: BrandId,
    pub workspace: WorkspaceId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub id: SourceId,
    pub brand: BrandId,
    pub kind: SourceKind,
    pub origin: String,
    pub title: String,
    pub tags: Vec<String>,
    /// Set only when the source's chunks are stored and current.
    pub content_hash: Option<ContentHash>,
    pub byte_size: u64,
    pub status: SourceStatus,
    pub error: Option<String>,
    pub chunk_count: u64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// What is known of a source before it is extracted.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub kind: SourceKind,
    pub origin: String,
    pub title: String,
    pub tags: Vec<String>,
    pub byte_size: u64,
}

/// What extraction learned, stored together with the chunks.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub kind: SourceKind,
    pub title: String,
    pub tags: Vec<String>,
    pub content_hash: ContentHash,
    pub byte_size: u64,
}

/// One source's complete new state: its row and all its chunks, written together.
#[derive(Debug, Clone)]
pub struct SourceWrite {
    pub source: NewSource,
    pub update: SourceUpdate,
    pub chunks: Vec<NewChunk>,
}

#[derive(Debug, Clone)]
pub struct NewChunk {
    pub text: String,
    pub token_count: u32,
    pub content_hash: ContentHash,
    pub locator: ChunkLocator,
}

/// A chunk with what the search indexes need about it.
#[derive(Debug, Clone)]
pub struct ChunkForIndex {
    pub id: ChunkId,
    pub brand: BrandId,
    pub source: SourceId,
    pub source_title: String,
    pub tags: Vec<String>,
    pub heading_path: Vec<String>,
    pub text: String,
    pub content_hash: ContentHash,
    /// The cached embedding for the requested model, if there is one.
    pub vector: Option<Vec<f32>>,
}

/// A chunk with its source, as a search result is built from it.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub id: ChunkId,
    pub source: SourceId,
    pub source_title: String,
    pub source_origin: String,
    pub source_kind: SourceKind,
    pub ordinal: u32,
    pub text: String,
    pub token_count: u32,
    pub locator: ChunkLocator,
}

/// The newest chunk id and deletion sequence number: what an index must have applied to be
/// current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexHighMarks {
    pub last_chunk: ChunkId,
    pub last_deletion: i64,
}

#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub status: String,
    pub payload: Value,
    pub progress_done: u64,
    pub progress_total: u64,
    pub error: Option<String>,
}
