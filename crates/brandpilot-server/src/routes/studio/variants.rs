//! A variant after Studio wrote it: read it with its history, edit it (each save a new
//! version, judged again), rate it, move it through review, and report how it performed.
//! A verdict (approved or rejected) has its own operation needing `studio:approve`, which
//! only people (editors and owners) hold: a key can send a variant for review but never
//! vouch for it.

use super::generations::VariantOut;
use super::names::FieldName;
use super::report::{FieldTextBody, ReportOut};
use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_app::studio::{
    Performance, PerformanceTotals, ReviewState, VariantDetail, VariantFeedback, VariantVersionView,
};
use brandpilot_core::{BrandId, VariantId};
use brandpilot_store::Brand;
use brandpilot_studio::FieldText;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A saved content of a variant.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    /// From 1 (what Studio wrote).
    pub version: i64,
    pub fields: Vec<FieldTextBody>,
    pub citations: Vec<usize>,
    pub unbacked_figures: Vec<String>,
    pub report: ReportOut,
    pub passed: bool,
    /// Who saved it (`user:3`, `key:bpk_ab12`).
    pub created_by: Option<String>,
    pub created_at_ms: i64,
}

impl From<VariantVersionView> for VersionOut {
    fn from(version: VariantVersionView) -> Self {
        Self {
            version: version.version,
            fields: fields_out(version.content.fields),
            citations: version.content.citations,
            unbacked_figures: version.content.unbacked_figures,
            report: version.report.into(),
            passed: version.passed,
            created_by: version.created_by,
            created_at_ms: version.created_at_ms,
        }
    }
}

fn fields_out(fields: Vec<FieldText>) -> Vec<FieldTextBody> {
    fields
        .into_iter()
        .map(|entry| FieldTextBody {
            field: FieldName::from(entry.field),
            text: entry.text,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOut {
    pub id: i64,
    pub rating: Option<i64>,
    /// `up` or `down`.
    pub thumb: Option<String>,
    pub comment: Option<String>,
    pub author: String,
    pub created_at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackSummaryOut {
    pub count: usize,
    /// `null` before the first rating.
    pub average_rating: Option<f64>,
    pub thumbs_up: usize,
    pub thumbs_down: usize,
}

/// A move of the review state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewEventOut {
    pub from: String,
    pub to: String,
    pub actor: String,
    /// Why (required when a failing variant is approved; `edited` when a save moved it).
    pub note: Option<String>,
    pub at_ms: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceOut {
    pub views: u64,
    pub likes: u64,
    pub shares: u64,
    pub clicks: u64,
    pub conversions: u64,
    /// Clicks per view; `null` without views.
    pub click_rate: Option<f64>,
    /// Conversions per click; `null` without clicks.
    pub conversion_rate: Option<f64>,
    /// Likes, shares and clicks per view; `null` without views.
    pub engagement_rate: Option<f64>,
    pub recorded_by: String,
    pub updated_at_ms: i64,
}

impl From<Performance> for PerformanceOut {
    fn from(p: Performance) -> Self {
        Self {
            views: p.totals.views,
            likes: p.totals.likes,
            shares: p.totals.shares,
            clicks: p.totals.clicks,
            conversions: p.totals.conversions,
            click_rate: p.click_rate,
            conversion_rate: p.conversion_rate,
            engagement_rate: p.engagement_rate,
            recorded_by: p.recorded_by,
            updated_at_ms: p.updated_at_ms,
        }
    }
}

/// A variant with everything people did with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantDetailOut {
    pub generation_id: i64,
    pub channel: String,
    /// The current content, its report and review state.
    pub variant: VariantOut,
    /// The current version's number.
    pub version: i64,
    /// Oldest first; the last is the current content.
    pub versions: Vec<VersionOut>,
    pub feedback: Vec<FeedbackOut>,
    pub feedback_summary: FeedbackSummaryOut,
    /// Every move of the review state, oldest first.
    pub history: Vec<ReviewEventOut>,
    /// The latest totals, once an approved variant's performance is recorded.
    pub performance: Option<PerformanceOut>,
}

impl From<VariantDetail> for VariantDetailOut {
    fn from(detail: VariantDetail) -> Self {
        let summary = detail.feedback_summary;
        Self {
            generation_id: detail.generation.0,
            channel: detail.channel,
            version: detail.variant.version,
            variant: detail.variant.into(),
            versions: detail.versions.into_iter().map(Into::into).collect(),
            feedback: detail
                .feedback
                .into_iter()
                .map(|f| FeedbackOut {
                    id: f.id,
                    rating: f.rating,
                    thumb: f.thumb,
                    comment: f.comment,
                    author: f.author,
                    created_at_ms: f.created_at_ms,
                })
                .collect(),
            feedback_summary: FeedbackSummaryOut {
                count: summary.count,
                average_rating: summary.average_rating,
                thumbs_up: summary.thumbs_up,
                thumbs_down: summary.thumbs_down,
            },
            history: detail
                .history
                .into_iter()
                .map(|e| ReviewEventOut {
                    from: e.from_state,
                    to: e.to_state,
                    actor: e.actor,
                    note: e.note,
                    at_ms: e.created_at_ms,
                })
                .collect(),
            performance: detail.performance.map(Into::into),
        }
    }
}

/// New content for a variant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    /// The whole variant as fields of its channel. A reel's are its script's: `hook`, then
    /// each scene's `on_screen_text`, `voice_over` and `visual`, then `thumbnail_text`,
    /// `cta`, `caption` and one `hashtags` entry per tag.
    #[schema(max_items = 60)]
    pub fields: Vec<FieldTextBody>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Thumb {
    Up,
    Down,
}

/// Feedback: at least one of a rating, a thumb and a comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: Option<u8>,
    #[serde(default)]
    pub thumb: Option<Thumb>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Where a person (or a key) may move a variant without vouching for it.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewMoveName {
    /// Send it for review.
    InReview,
    /// Withdraw it from review, reopen an approved one, or revise a rejected one.
    Draft,
}

/// A move of the review state short of a verdict.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    pub state: ReviewMoveName,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictName {
    Approved,
    Rejected,
}

/// A reviewer's verdict on a variant in review.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    pub verdict: VerdictName,
    /// Why; required to approve a variant that fails the brand's rules.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// What a published variant reached so far on its platform; each call replaces the totals.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerformanceBody {
    #[serde(default)]
    pub views: u64,
    #[serde(default)]
    pub likes: u64,
    #[serde(default)]
    pub shares: u64,
    #[serde(default)]
    pub clicks: u64,
    #[serde(default)]
    pub conversions: u64,
}

impl From<PerformanceBody> for PerformanceTotals {
    fn from(body: PerformanceBody) -> Self {
        Self {
            views: body.views,
            likes: body.likes,
            shares: body.shares,
            clicks: body.clicks,
            conversions: body.conversions,
        }
    }
}

/// The caller's brand `brand_id` (404 for another workspace's).
pub(super) async fn brand_of(
    state: &ServerState,
    caller: &Caller,
    brand_id: i64,
) -> Result<Brand, ApiError> {
    Ok(state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?)
}

/// One of the brand's variants with its versions, feedback, review history and
/// performance.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}",
    tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    responses(
        (status = 200, body = VariantDetailOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_variant(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
) -> Result<Json<VariantDetailOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let detail = state
        .app
        .variant_detail(&brand, VariantId(variant_id))
        .await?;
    Ok(Json(detail.into()))
}

/// Saves new content as the variant's next version. It is judged like Studio's own drafts
/// (the brand's rules, the channel's limits, figures against the brief and the
/// generation's facts) and goes back to draft: what was reviewed has changed.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}",
    tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    request_body = EditBody,
    responses(
        (status = 200, body = VariantDetailOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn edit_variant(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<EditBody>,
) -> Result<Json<VariantDetailOut>, ApiError> {
    caller.require(Scope::StudioWrite)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let fields = body
        .fields
        .into_iter()
        .map(|entry| FieldText::new(entry.field.into(), entry.text))
        .collect();
    let detail = state
        .app
        .edit_variant(
            &brand,
            VariantId(variant_id),
            fields,
            &caller.actor().label(),
        )
        .await?;
    Ok(Json(detail.into()))
}

/// Rates a variant (1–5 and/or a thumb) and/or comments on it.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/feedback",
    tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    request_body = FeedbackBody,
    responses(
        (status = 201, body = VariantDetailOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn rate_variant(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<(axum::http::StatusCode, Json<VariantDetailOut>), ApiError> {
    caller.require(Scope::StudioWrite)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let feedback = VariantFeedback {
        rating: body.rating,
        thumb_up: body.thumb.map(|t| matches!(t, Thumb::Up)),
        comment: body.comment,
    };
    let detail = state
        .app
        .rate_variant(
            &brand,
            VariantId(variant_id),
            feedback,
            &caller.actor().label(),
        )
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(detail.into())))
}

/// Sends a variant for review (`in_review`), or moves it back to `draft`: withdrawn from
/// review, a rejected one revised, an approved one reopened. A move the variant's state
/// does not allow is a 409 naming the moves it has.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/review",
    tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    request_body = ReviewBody,
    responses(
        (status = 200, body = VariantDetailOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn review_variant(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ReviewBody>,
) -> Result<Json<VariantDetailOut>, ApiError> {
    caller.require(Scope::StudioWrite)?;
    let to = match body.state {
        ReviewMoveName::InReview => ReviewState::InReview,
        ReviewMoveName::Draft => ReviewState::Draft,
    };
    move_review(&state, &caller, brand_id, variant_id, to, body.note).await
}

/// Approves or rejects a variant in review. Needs `studio:approve`: editors and owners,
/// signed in; no API key holds it, because approval is a person vouching for what the
/// brand publishes. Approving a variant that fails the brand's rules needs a note saying
/// why; the note stays in the history. A variant not in review is a 409.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/verdict",
    tag = "studio",
    security(("api_key" = ["studio:approve"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    request_body = VerdictBody,
    responses(
        (status = 200, body = VariantDetailOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn give_verdict(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<VerdictBody>,
) -> Result<Json<VariantDetailOut>, ApiError> {
    caller.require(Scope::StudioApprove)?;
    let to = match body.verdict {
        VerdictName::Approved => ReviewState::Approved,
        VerdictName::Rejected => ReviewState::Rejected,
    };
    move_review(&state, &caller, brand_id, variant_id, to, body.note).await
}

async fn move_review(
    state: &ServerState,
    caller: &Caller,
    brand_id: i64,
    variant_id: i64,
    to: ReviewState,
    note: Option<String>,
) -> Result<Json<VariantDetailOut>, ApiError> {
    let brand = brand_of(state, caller, brand_id).await?;
    let detail = state
        .app
        .review_variant(
            &brand,
            VariantId(variant_id),
            to,
            note,
            &caller.actor().label(),
        )
        .await?;
    Ok(Json(detail.into()))
}

/// Records how an approved variant performed once published: the totals so far (views,
/// likes, shares, clicks, conversions), replacing the previous ones.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/performance",
    tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
    ),
    request_body = PerformanceBody,
    responses(
        (status = 200, body = VariantDetailOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn record_performance(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<PerformanceBody>,
) -> Result<Json<VariantDetailOut>, ApiError> {
    caller.require(Scope::StudioWrite)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let totals = PerformanceTotals::from(body);
    let detail = state
        .app
        .record_performance(
            &brand,
            VariantId(variant_id),
            totals,
            &caller.actor().label(),
        )
        .await?;
    Ok(Json(detail.into()))
}
