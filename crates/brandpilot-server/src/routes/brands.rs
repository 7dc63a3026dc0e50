//! Brands of the caller's workspace.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::{RequestOrigin, Scope};
use brandpilot_core::BrandId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrandView {
    pub id: i64,
    pub name: String,
}

impl From<brandpilot_store::Brand> for BrandView {
    fn from(brand: brandpilot_store::Brand) -> Self {
        Self {
            id: brand.id.0,
            name: brand.name,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrandList {
    pub brands: Vec<BrandView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBrand {
    /// Unique in the workspace; 1–100 characters, not blank, no control characters
    /// (surrounding spaces are trimmed).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

/// Lists the workspace's brands, by name.
#[utoipa::path(get, path = "/api/v1/brands", tag = "brands",
    security(("api_key" = ["brands:read"])),
    responses(
        (status = 200, body = BrandList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_brands(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<BrandList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brands = state.app.list_brands(caller.workspace).await?;
    Ok(Json(BrandList {
        brands: brands.into_iter().map(BrandView::from).collect(),
    }))
}

/// Creates a brand: its own knowledge base, voice and rules.
#[utoipa::path(post, path = "/api/v1/brands", tag = "brands",
    security(("api_key" = ["brands:write"])),
    request_body = NewBrand,
    responses(
        (status = 201, body = BrandView),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 409, description = "A brand of that name exists", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn create_brand(
    State(state): State<ServerState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewBrand>,
) -> Result<(StatusCode, Json<BrandView>), ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = state.app.create_brand(caller.workspace, &body.name).await?;
    Ok((StatusCode::CREATED, Json(brand.into())))
}

/// One brand.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}", tag = "brands",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = BrandView),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_brand(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<BrandView>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    Ok(Json(brand.into()))
}

/// Deletes a brand with all its sources and passages.
#[utoipa::path(delete, path = "/api/v1/brands/{brand_id}", tag = "brands",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn delete_brand(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    state.app.delete_brand(caller.workspace, brand.id).await?;
    let detail = serde_json::json!({ "name": brand.name });
    caller
        .audit(
            &state,
            &origin,
            "brand.delete",
            format!("brand:{brand_id}"),
            detail,
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}
