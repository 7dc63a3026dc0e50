//! Studio without a model: the handlers for a brand's content rules, the reel catalogs,
//! judging a variant against the rules (and mending what needs no model), and SEO metadata
//! weighed against the brand's own documents. Their wire types live in the submodules —
//! `names` (channels and fields), `rules` (the rules document and its size limits) and
//! `report` (validation, repair and SEO) — mirroring `brandpilot_studio`'s domain types
//! field by field with exhaustive conversions, because the domain crate knows nothing of
//! OpenAPI; the handlers here only extract, authorise, call one application operation and
//! map its result.

pub(crate) mod batch;
pub(crate) mod examples;
pub(crate) mod generations;
mod names;
mod report;
mod rules;
pub(crate) mod variants;

use self::names::wire_name;
use self::report::{SeoBody, SeoOut, ValidateBody, ValidationOut};
use self::rules::{BrandRulesBody, check_rule_sizes};
use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_app::studio::{SeoBrief, ValidationRequest};
use brandpilot_core::BrandId;
use brandpilot_studio::{BrandRules, FieldText, language};
use serde::Serialize;
use utoipa::ToSchema;

/// The brand's content rules (the defaults until it saves its own).
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/rules", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = BrandRulesBody),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_rules(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<BrandRulesBody>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    Ok(Json(state.app.studio_rules(&brand).await?.into()))
}

/// Replaces the brand's content rules. Rules that contradict themselves (a hashtag range
/// upside down, a replacement that is itself banned, a tag both required and banned) are
/// refused with a message naming what to fix.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/studio/rules", tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = BrandRulesBody,
    responses(
        (status = 200, body = BrandRulesBody),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn put_rules(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<BrandRulesBody>,
) -> Result<Json<BrandRulesBody>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let rules = BrandRules::from(body);
    check_rule_sizes(&rules)?;
    Ok(Json(
        state.app.put_studio_rules(&brand, rules).await?.into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectorOut {
    /// What a reel request names (`health_fitness`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// What a script in this sector must not claim, where claims are regulated.
    pub caution: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectorList {
    pub sectors: Vec<SectorOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HookTypeOut {
    /// What a reel request names (`pain_point`).
    pub id: String,
    pub name: String,
    pub description: String,
    /// An illustration of the shape, not copy to reuse.
    pub example: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HookTypeList {
    pub hook_types: Vec<HookTypeOut>,
}

/// The business sectors a reel script can be written for.
#[utoipa::path(get, path = "/api/v1/studio/sectors", tag = "studio",
    security(("api_key" = ["brands:read"])),
    responses(
        (status = 200, body = SectorList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_sectors(caller: Caller) -> Result<Json<SectorList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let sectors = brandpilot_studio::reel::catalog::sectors()
        .iter()
        .map(|sector| SectorOut {
            id: wire_name(&sector.id),
            name: sector.name.to_owned(),
            description: sector.description.to_owned(),
            caution: sector.caution.map(str::to_owned),
        })
        .collect();
    Ok(Json(SectorList { sectors }))
}

/// The ways a reel script can open in its first seconds.
#[utoipa::path(get, path = "/api/v1/studio/hook-types", tag = "studio",
    security(("api_key" = ["brands:read"])),
    responses(
        (status = 200, body = HookTypeList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_hook_types(caller: Caller) -> Result<Json<HookTypeList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let hook_types = brandpilot_studio::reel::catalog::hook_types()
        .iter()
        .map(|hook| HookTypeOut {
            id: wire_name(&hook.id),
            name: hook.name.to_owned(),
            description: hook.description.to_owned(),
            example: hook.example.to_owned(),
        })
        .collect();
    Ok(Json(HookTypeList { hook_types }))
}

pub(crate) fn parse_language(code: Option<&str>) -> Result<language::Language, ApiError> {
    match code {
        None => Ok(language::Language::En),
        Some(code) => language::from_code(code).ok_or_else(|| {
            ApiError::invalid(format!(
                "unsupported language {code:?}; Studio checks en, fr, es, de, it, pt and nl"
            ))
        }),
    }
}

/// Judges a variant against the brand's rules and the channel's platform limits, rule by
/// rule; with `repair`, also mends what needs no model and reports what still needs one.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/validate", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = ValidateBody,
    responses(
        (status = 200, body = ValidationOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn validate_variant(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ValidateBody>,
) -> Result<Json<ValidationOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let request = ValidationRequest {
        channel: body.channel.into(),
        fields: body
            .fields
            .into_iter()
            .map(|entry| FieldText::new(entry.field.into(), entry.text))
            .collect(),
        language: parse_language(body.language.as_deref())?,
        repair: body.repair,
    };
    let validation = state.app.validate_variant(&brand, request).await?;
    Ok(Json(ValidationOut {
        report: validation.report.into(),
        repair: validation.repair.map(Into::into),
    }))
}

/// SEO metadata for a piece: a title that shows whole in search results, a meta
/// description that is not cut off, a URL slug, keywords (the brief's terms weighed by
/// TF-IDF against the brand's own documents, plus the terms the brand is known for) and
/// the body's readability.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/seo", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = SeoBody,
    responses(
        (status = 200, body = SeoOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn seo_metadata(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<SeoBody>,
) -> Result<Json<SeoOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let brief = body.brief;
    let brief = SeoBrief {
        language: parse_language(brief.language.as_deref())?,
        topic: brief.topic,
        keywords: brief.keywords,
        headline: brief.headline,
        summary: brief.summary,
        body: brief.body,
    };
    Ok(Json(state.app.seo_metadata(&brand, brief).await?.into()))
}
