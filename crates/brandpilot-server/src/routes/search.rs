//! Search a brand's knowledge base: passages with citations a person can click through.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_core::{BrandId, ChunkLocator, Passage, SearchMode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_QUERY_CHARS: usize = 2_000;
const MAX_K: usize = 50;
const MAX_TAGS: usize = 20;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// What to look for, in the words a customer would use; 1–2,000 characters, not blank.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    pub query: String,
    /// How many passages to return, 1–50; default 5.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 50)]
    pub k: Option<usize>,
    #[serde(default)]
    pub mode: Option<Mode>,
    /// Only sources carrying at least one of these tags (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// Which retrievers run: both fused (default), keywords only, or meaning only.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Hybrid,
    Bm25,
    Vector,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    pub passages: Vec<PassageView>,
    /// False when the embedder is the hashing fallback: matches are lexical only.
    pub semantic: bool,
    pub embedder: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PassageView {
    pub chunk_id: i64,
    pub source: SourceRef,
    /// Where in the source, for people: "p. 3 · Pricing › Refunds".
    pub citation: String,
    pub locator: LocatorView,
    pub text: String,
    /// Higher is better; comparable only within one response.
    pub score: f32,
    pub bm25_rank: Option<u32>,
    pub vector_rank: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceRef {
    pub id: i64,
    pub title: String,
    pub origin: String,
    pub kind: String,
}

/// Where a passage sits in its source; the fields its format knows are set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LocatorView {
    pub page: Option<u32>,
    pub heading_path: Vec<String>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// First and last data row, for tables.
    pub rows: Option<[u64; 2]>,
    /// Byte span in the source's extracted text.
    pub char_start: u64,
    pub char_end: u64,
}

impl From<ChunkLocator> for LocatorView {
    fn from(locator: ChunkLocator) -> Self {
        Self {
            page: locator.page,
            heading_path: locator.heading_path,
            start_ms: locator.start_ms,
            end_ms: locator.end_ms,
            rows: locator.rows.map(|(first, last)| [first, last]),
            char_start: locator.char_start,
            char_end: locator.char_end,
        }
    }
}

impl From<Passage> for PassageView {
    fn from(passage: Passage) -> Self {
        Self {
            chunk_id: passage.chunk_id.0,
            source: SourceRef {
                id: passage.source_id.0,
                title: passage.source_title,
                origin: passage.source_origin,
                kind: passage.source_kind.as_str().to_owned(),
            },
            citation: passage.locator.label(),
            locator: passage.locator.into(),
            text: passage.text,
            score: passage.score,
            bm25_rank: passage.bm25_rank,
            vector_rank: passage.vector_rank,
        }
    }
}

/// Searches a brand's sources; returns the best passages with their citations.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/search", tag = "search",
    security(("api_key" = ["search"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = SearchBody,
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn search(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<SearchResponse>, ApiError> {
    caller.require(Scope::Search)?;
    let query = body.query.trim();
    if query.is_empty() {
        return Err(ApiError::invalid("the query is empty"));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(format!(
            "the query has more than {MAX_QUERY_CHARS} characters"
        )));
    }
    let k = body.k.unwrap_or(5);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::invalid(format!(
            "k must be between 1 and {MAX_K}"
        )));
    }
    if body.tags.len() > MAX_TAGS {
        return Err(ApiError::invalid(format!("at most {MAX_TAGS} tags")));
    }
    let mode = match body.mode.unwrap_or(Mode::Hybrid) {
        Mode::Hybrid => SearchMode::Hybrid,
        Mode::Bm25 => SearchMode::Bm25,
        Mode::Vector => SearchMode::Vector,
    };
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let results = state.app.search(&brand, query, k, mode, &body.tags).await?;
    Ok(Json(SearchResponse {
        passages: results
            .passages
            .into_iter()
            .map(PassageView::from)
            .collect(),
        semantic: results.semantic,
        embedder: results.embedder,
    }))
}
