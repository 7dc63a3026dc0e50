//! What the workspace's language-model calls used: calls, failures, tokens and cost, per
//! UTC day, model, route, provider and brand, over any period.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::ApiQuery;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_core::BrandId;
use brandpilot_store::{UsageGroup, UsageQuery, UsageRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// Comma-separated dimensions: `day`, `model`, `route`, `provider`, `brand`. None: one
    /// total.
    #[param(
        pattern = r"^((day|model|route|provider|brand)(,(day|model|route|provider|brand))*)?$"
    )]
    pub group_by: Option<String>,
    /// Calls at or after this time (Unix milliseconds).
    #[param(minimum = 0)]
    pub from: Option<i64>,
    /// Calls before this time (Unix milliseconds).
    #[param(minimum = 0)]
    pub to: Option<i64>,
    /// Only the calls made for this brand.
    #[param(minimum = 1)]
    pub brand_id: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageRowView {
    /// Start of the UTC day (Unix ms), when grouped by day.
    pub day_ms: Option<i64>,
    pub model: Option<String>,
    pub route: Option<String>,
    pub provider: Option<String>,
    pub brand_id: Option<i64>,
    pub calls: u64,
    /// Calls that did not deliver a whole answer.
    pub failed: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Cost of the calls whose model has a price.
    pub cost_usd: f64,
    /// Calls whose model had no price (left out of `cost_usd`).
    pub unpriced_calls: u64,
}

impl From<UsageRow> for UsageRowView {
    fn from(row: UsageRow) -> Self {
        Self {
            day_ms: row.day_ms,
            model: row.model,
            route: row.route,
            provider: row.provider,
            brand_id: row.brand.map(|b| b.0),
            calls: row.calls,
            failed: row.failed,
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            cost_usd: row.cost_usd,
            unpriced_calls: row.unpriced_calls,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsageReport {
    pub rows: Vec<UsageRowView>,
}

/// The workspace's LLM usage, grouped as asked.
#[utoipa::path(get, path = "/api/v1/usage", tag = "workspaces",
    security(("api_key" = ["usage:read"])),
    params(UsageParams),
    responses(
        (status = 200, body = UsageReport),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn usage(
    State(state): State<ServerState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> Result<Json<UsageReport>, ApiError> {
    caller.require(Scope::UsageRead)?;
    let mut group_by = Vec::new();
    for name in params
        .group_by
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let group = match name {
            "day" => UsageGroup::Day,
            "model" => UsageGroup::Model,
            "route" => UsageGroup::Route,
            "provider" => UsageGroup::Provider,
            "brand" => UsageGroup::Brand,
            other => {
                return Err(ApiError::invalid(format!(
                    "cannot group by {other:?}; use day, model, route, provider or brand"
                )));
            }
        };
        if !group_by.contains(&group) {
            group_by.push(group);
        }
    }
    if params.from.is_some_and(|t| t < 0) || params.to.is_some_and(|t| t < 0) {
        return Err(ApiError::invalid("from and to are Unix milliseconds"));
    }
    if params.brand_id.is_some_and(|id| id < 1) {
        return Err(ApiError::not_found("no such brand in this workspace"));
    }
    let query = UsageQuery {
        since_ms: params.from,
        until_ms: params.to,
        group_by,
        brand: params.brand_id.map(BrandId),
    };
    let rows = state.admin.llm_usage(caller.workspace, &query).await?;
    Ok(Json(UsageReport {
        rows: rows.into_iter().map(UsageRowView::from).collect(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Credits {
    /// The workspace's plan (`unlimited` unless the server sets `billing.plan`).
    pub plan: String,
    /// Credits used this calendar month (UTC); one credit is a number of model tokens.
    pub used: u64,
    /// The month's allowance; absent when unlimited.
    pub limit: Option<u64>,
    /// When the month turns and credits renew (Unix ms).
    pub resets_at_ms: i64,
}

/// This month's credits: used, allowed, and when they renew. Work is refused with 402
/// `credits_exhausted` once they are used up.
#[utoipa::path(get, path = "/api/v1/credits", tag = "workspaces",
    security(("api_key" = ["usage:read"])),
    responses(
        (status = 200, body = Credits),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn credits(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<Credits>, ApiError> {
    caller.require(Scope::UsageRead)?;
    let status = state.app.credits(caller.workspace).await?;
    Ok(Json(Credits {
        plan: status.plan,
        used: status.used,
        limit: status.limit,
        resets_at_ms: status.resets_at_ms,
    }))
}
