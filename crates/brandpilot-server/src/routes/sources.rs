//! A brand's sources: what was ingested, its status and its passages' count.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::ApiPath;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::{RequestOrigin, Scope};
use brandpilot_core::{BrandId, SourceId};
use brandpilot_store::SourceRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceView {
    pub id: i64,
    /// pdf, docx, markdown, html, text, csv, subtitles, audio, video, …
    pub kind: String,
    /// Where it came from: a path or URL.
    pub origin: String,
    pub title: String,
    pub tags: Vec<String>,
    /// pending, processing, ready or failed.
    pub status: String,
    /// Why ingestion failed, when it did.
    pub error: Option<String>,
    pub chunk_count: u64,
    pub byte_size: u64,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<SourceRecord> for SourceView {
    fn from(source: SourceRecord) -> Self {
        Self {
            id: source.id.0,
            kind: source.kind.as_str().to_owned(),
            origin: source.origin,
            title: source.title,
            tags: source.tags,
            status: source.status.as_str().to_owned(),
            error: source.error,
            chunk_count: source.chunk_count,
            byte_size: source.byte_size,
            created_at_ms: source.created_at_ms,
            updated_at_ms: source.updated_at_ms,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// Lists a brand's sources with their ingestion status.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/sources", tag = "sources",
    security(("api_key" = ["sources:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = SourceList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn list_sources(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<SourceList>, ApiError> {
    caller.require(Scope::SourcesRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let sources = state.app.list_sources(&brand).await?;
    Ok(Json(SourceList {
        sources: sources.into_iter().map(SourceView::from).collect(),
    }))
}

/// Removes a source and its passages from the store and from search.
#[utoipa::path(delete, path = "/api/v1/brands/{brand_id}/sources/{source_id}", tag = "sources",
    security(("api_key" = ["sources:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("source_id" = i64, Path, description = "The source's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn delete_source(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath((brand_id, source_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::SourcesWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    state.app.remove_source(&brand, SourceId(source_id)).await?;
    let detail = serde_json::json!({ "brand_id": brand_id });
    caller
        .audit(
            &state,
            &origin,
            "source.delete",
            format!("source:{source_id}"),
            detail,
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
