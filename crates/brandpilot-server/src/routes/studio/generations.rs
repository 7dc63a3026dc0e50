//! Generation with a model: the handlers that turn a brief into validated variants and a
//! reel request into a script, and read stored generations back; with their wire types.
//! A generation answers once it is complete (a few seconds with a hosted model, longer with
//! the local one); every variant carries its final rule report and whether it passed.

use super::examples::VoiceScoreOut;
use super::names::{ChannelName, FieldName, wire_name};
use super::parse_language;
use super::report::{FieldTextBody, RepairActionOut, ReportOut};
use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::search::LocatorView;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_app::studio::{Brief, FactSource, GeneratedVariant, Generation};
use brandpilot_core::{BrandId, GenerationId};
use brandpilot_studio::reel::{HookType, ReelRequest, ReelScript, Sector};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// Any channel but `reel_script` (reels have their own request).
    pub channel: ChannelName,
    /// What the copy must achieve.
    #[schema(min_length = 1, max_length = 2000)]
    pub goal: String,
    /// Who it is for; the brand's audience when left out.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub audience: String,
    /// How it should sound, beyond the brand's voice.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub tone: String,
    /// What is offered ("20% off until 31 March"): figures in the copy must come from the
    /// brief or the brand's own material.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub offer: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub key_facts: Vec<String>,
    /// `en`, `fr`, `es`, `de`, `it`, `pt` or `nl`; `en` when left out.
    #[serde(default)]
    pub language: Option<String>,
    /// 1 to 3, in the order short-form, long-form, CTA-focused; 3 when left out.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3)]
    pub variants: Option<usize>,
}

impl GenerateBody {
    pub(crate) fn into_brief(self) -> Result<Brief, ApiError> {
        Ok(Brief {
            channel: self.channel.into(),
            goal: self.goal,
            audience: self.audience,
            tone: self.tone,
            offer: self.offer,
            key_facts: self.key_facts,
            language: parse_language(self.language.as_deref())?,
            variants: self.variants.unwrap_or(3),
        })
    }
}

/// A reel or short-video script to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReelBody {
    /// A sector id from `GET /api/v1/studio/sectors`.
    pub sector: String,
    /// A hook type id from `GET /api/v1/studio/hook-types`.
    pub hook_type: String,
    #[schema(minimum = 15, maximum = 90)]
    pub duration_seconds: u32,
    #[schema(min_length = 1, max_length = 2000)]
    pub topic: String,
    #[serde(default)]
    pub language: Option<String>,
}

/// A passage of the brand's material a generation was grounded in.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactOut {
    /// The number variants cite it by.
    pub number: usize,
    pub chunk_id: i64,
    pub source_id: i64,
    pub source_title: String,
    /// Where in the source, for people: "p. 3 · Pricing › Refunds".
    pub citation: String,
    pub locator: LocatorView,
    pub text: String,
}

impl From<FactSource> for FactOut {
    fn from(fact: FactSource) -> Self {
        Self {
            number: fact.number,
            chunk_id: fact.chunk_id.0,
            source_id: fact.source_id.0,
            source_title: fact.source_title,
            citation: fact.locator.label(),
            locator: fact.locator.into(),
            text: fact.text,
        }
    }
}

/// Where a generation came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProvenanceOut {
    pub sources: Vec<FactOut>,
    /// Past posts from the brand's examples library shown to the model, and why each.
    pub examples: Vec<ExampleUseOut>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub prompt_template: String,
    pub prompt_version: u32,
    pub model_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// `null` when a model used has no price.
    pub cost_usd: Option<f64>,
    pub latency_ms: u64,
    /// Rewrites asked of the model after the first drafts, across all variants.
    pub repair_passes: u32,
}

/// A past post a generation showed the model as a few-shot example.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExampleUseOut {
    pub example_id: i64,
    pub channel: ChannelName,
    pub sector: Option<String>,
    /// Cosine similarity of the example to the brief, −1 to 1.
    pub similarity: f64,
    /// How much its performance counted, 0.5–2 (1 when unmeasured).
    pub performance_weight: f64,
    /// What the choice was ranked by: similarity (halved for another channel, times 0.8 for
    /// another sector) times the performance weight.
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SceneOut {
    pub on_screen_text: String,
    pub voice_over: String,
    pub visual: String,
}

/// A reel script.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptOut {
    pub hook: String,
    pub scenes: Vec<SceneOut>,
    pub thumbnail_text: String,
    pub cta: String,
    pub caption: String,
    pub hashtags: Vec<String>,
    /// How long the spoken words take at the configured speaking rate.
    pub estimated_duration_seconds: f64,
}

impl From<ReelScript> for ScriptOut {
    fn from(script: ReelScript) -> Self {
        Self {
            hook: script.hook,
            scenes: script
                .scenes
                .into_iter()
                .map(|scene| SceneOut {
                    on_screen_text: scene.on_screen_text,
                    voice_over: scene.voice_over,
                    visual: scene.visual,
                })
                .collect(),
            thumbnail_text: script.thumbnail_text,
            cta: script.cta,
            caption: script.caption,
            hashtags: script.hashtags,
            estimated_duration_seconds: finite(script.estimated_duration_seconds),
        }
    }
}

fn finite(value: f64) -> f64 {
    if value.is_finite() { value } else { 0.0 }
}

/// One variant with its verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariantOut {
    pub id: i64,
    /// `short_form`, `long_form`, `cta_focused`, or `script` for a reel.
    pub label: String,
    pub fields: Vec<FieldTextBody>,
    /// The script, for a reel generation.
    pub script: Option<ScriptOut>,
    /// The numbers of the facts (`provenance.sources`) the variant draws on.
    pub citations: Vec<usize>,
    /// Figures that neither the brief nor the brand's material give; a variant with any
    /// does not pass.
    pub unbacked_figures: Vec<String>,
    /// Rewrites the model was asked for.
    pub repair_passes: u32,
    /// Repairs made without a model.
    pub repairs: Vec<RepairActionOut>,
    /// Why the model could not improve the variant further, when a rewrite failed.
    pub note: Option<String>,
    /// How consistent the variant is with the brand's voice profile; `null` while the brand
    /// has none.
    pub voice: Option<VoiceScoreOut>,
    /// Sentences taken out after the model's last pass because they stated figures that
    /// neither the brief nor the brand's material gives.
    pub dropped_sentences: Vec<String>,
    /// The final rule-by-rule report.
    pub report: ReportOut,
    /// Every rule passed and every figure is backed.
    pub passed: bool,
    /// `draft`, `in_review`, `approved` or `rejected`.
    pub review_state: String,
}

impl From<GeneratedVariant> for VariantOut {
    fn from(variant: GeneratedVariant) -> Self {
        let content = variant.content;
        Self {
            id: variant.id.0,
            label: variant.label,
            fields: content
                .fields
                .into_iter()
                .map(|entry| FieldTextBody {
                    field: FieldName::from(entry.field),
                    text: entry.text,
                })
                .collect(),
            script: content.script.map(Into::into),
            citations: content.citations,
            unbacked_figures: content.unbacked_figures,
            repair_passes: content.repair_passes,
            repairs: content.repairs.into_iter().map(Into::into).collect(),
            note: content.note,
            voice: content.voice.map(Into::into),
            dropped_sentences: content.dropped_sentences,
            report: variant.report.into(),
            passed: variant.passed,
            review_state: variant.review_state,
        }
    }
}

/// A generation: what was asked, where it came from, and its variants.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenerationOut {
    pub id: i64,
    /// `copy` or `reel`.
    pub kind: String,
    pub channel: String,
    /// The brief or reel request as it was asked.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    pub provenance: ProvenanceOut,
    /// Who asked (`user:3`, `key:bpk_ab12`).
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub variants: Vec<VariantOut>,
    /// How many variants passed every rule.
    pub passed: usize,
}

impl From<Generation> for GenerationOut {
    fn from(generation: Generation) -> Self {
        let provenance = generation.provenance;
        let variants: Vec<VariantOut> = generation.variants.into_iter().map(Into::into).collect();
        Self {
            id: generation.id.0,
            kind: generation.kind,
            channel: generation.channel,
            request: generation.request,
            provenance: ProvenanceOut {
                sources: provenance.sources.into_iter().map(Into::into).collect(),
                examples: provenance
                    .examples
                    .into_iter()
                    .map(|e| ExampleUseOut {
                        example_id: e.id.0,
                        channel: e.channel.into(),
                        sector: e.sector.map(|s| wire_name(&s)),
                        similarity: e.similarity,
                        performance_weight: e.performance_weight,
                        score: e.score,
                    })
                    .collect(),
                provider: provenance.provider,
                model: provenance.model,
                prompt_template: provenance.prompt_template,
                prompt_version: provenance.prompt_version,
                model_calls: provenance.model_calls,
                prompt_tokens: provenance.prompt_tokens,
                completion_tokens: provenance.completion_tokens,
                cost_usd: provenance.cost_usd.filter(|c| c.is_finite()),
                latency_ms: provenance.latency_ms,
                repair_passes: provenance.repair_passes,
            },
            created_by: generation.created_by,
            created_at_ms: generation.created_at_ms,
            passed: variants.iter().filter(|v| v.passed).count(),
            variants,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenerationList {
    /// Newest first.
    pub generations: Vec<GenerationOut>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GenerationQuery {
    /// Only generations older than this id.
    pub before: Option<i64>,
    /// At most this many (1–100, default 20).
    pub limit: Option<u32>,
}

/// Writes variants for a brief: each grounded in the brand's own material (cited by
/// number), judged against the brand's rules and the channel's limits, mended without a
/// model where possible and rewritten by the model where not, up to the configured number
/// of passes. A variant that still fails comes back with `passed: false` and its report.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/generations", tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = GenerateBody,
    responses(
        (status = 201, body = GenerationOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 402, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse), (status = 502, body = ErrorResponse),
        (status = 503, body = ErrorResponse),
    ))]
pub(crate) async fn generate_copy(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<GenerateBody>,
) -> Result<(axum::http::StatusCode, Json<GenerationOut>), ApiError> {
    caller.require(Scope::StudioWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let brief = body.into_brief()?;
    let generation = state
        .app
        .generate_copy(&state.llm, &brand, brief, Some(caller.actor().label()))
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(generation.into())))
}

pub(super) fn parse_named<T: serde::de::DeserializeOwned + Serialize>(
    what: &str,
    text: &str,
    all: impl Iterator<Item = T>,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|_| {
        let known: Vec<String> = all.map(|item| wire_name(&item)).collect();
        ApiError::invalid(format!(
            "unknown {what} {text:?}; one of: {}",
            known.join(", ")
        ))
    })
}

/// Writes a reel or short-video script: a hook of the chosen type, scenes with on-screen
/// text, voice-over and a visual, thumbnail text, a CTA, a caption and hashtags, with the
/// spoken words fitted to the duration at the configured speaking rate.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/reels", tag = "studio",
    security(("api_key" = ["studio:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = ReelBody,
    responses(
        (status = 201, body = GenerationOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 402, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse), (status = 502, body = ErrorResponse),
        (status = 503, body = ErrorResponse),
    ))]
pub(crate) async fn generate_reel(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReelBody>,
) -> Result<(axum::http::StatusCode, Json<GenerationOut>), ApiError> {
    caller.require(Scope::StudioWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let request = ReelRequest {
        sector: parse_named::<Sector>(
            "sector",
            &body.sector,
            brandpilot_studio::reel::sectors().iter().map(|s| s.id),
        )?,
        hook_type: parse_named::<HookType>(
            "hook type",
            &body.hook_type,
            brandpilot_studio::reel::hook_types().iter().map(|h| h.id),
        )?,
        duration_seconds: body.duration_seconds,
        topic: body.topic,
        language: parse_language(body.language.as_deref())?,
    };
    let generation = state
        .app
        .generate_reel(&state.llm, &brand, request, Some(caller.actor().label()))
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(generation.into())))
}

/// The brand's generations, newest first.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/generations", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id"), GenerationQuery),
    responses(
        (status = 200, body = GenerationList),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn list_generations(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<GenerationQuery>,
) -> Result<Json<GenerationList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit: 1 to 100"));
    }
    let generations = state
        .app
        .generations(&brand, query.before.map(GenerationId), limit)
        .await?;
    let next_before = (generations.len() == limit as usize)
        .then(|| generations.last().map(|g| g.id.0))
        .flatten();
    Ok(Json(GenerationList {
        generations: generations.into_iter().map(Into::into).collect(),
        next_before,
    }))
}

/// One of the brand's generations.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/generations/{generation_id}",
    tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("generation_id" = i64, Path, description = "The generation's id"),
    ),
    responses(
        (status = 200, body = GenerationOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_generation(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, generation_id)): ApiPath<(i64, i64)>,
) -> Result<Json<GenerationOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let generation = state
        .app
        .generation(&brand, GenerationId(generation_id))
        .await?;
    Ok(Json(generation.into()))
}
