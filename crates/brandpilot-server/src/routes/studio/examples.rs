//! A brand's examples library and voice profile over HTTP: add past posts (tagged by
//! channel and sector, with what they reached), list, retag and delete them, promote an
//! approved variant to an example, learn the brand's voice from the library, and read or
//! edit that voice by hand. The voice's wire type mirrors `brandpilot_studio`'s
//! `VoiceProfile` field by field with conversions both ways, so a field added to the
//! domain fails to compile here until the API names it.

use super::generations::parse_named;
use super::names::{ChannelName, wire_name};
use super::parse_language;
use super::variants::{PerformanceBody, brand_of};
use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::Scope;
use brandpilot_app::studio::{BrandVoice, Example, ExampleInput, ExampleListing, ExampleTags};
use brandpilot_core::{ExampleId, VariantId};
use brandpilot_studio::reel::Sector;
use brandpilot_studio::voice::{SentenceLength, VocabularyEntry};
use brandpilot_studio::{VoiceProfile, VoiceScore, language};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A past post or script to add to the brand's examples library.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleBody {
    /// What it was written for.
    pub channel: ChannelName,
    /// A sector id from `GET /api/v1/studio/sectors`.
    #[serde(default)]
    pub sector: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    /// The post as it was published.
    #[schema(min_length = 1, max_length = 20000)]
    pub text: String,
    /// What it reached, when known: better performers are shown (and shape the voice) more.
    #[serde(default)]
    pub performance: Option<PerformanceBody>,
}

/// New tags and totals for an example; its text never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleTagsBody {
    pub channel: ChannelName,
    #[serde(default)]
    pub sector: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default)]
    pub performance: Option<PerformanceBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsOut {
    pub views: u64,
    pub likes: u64,
    pub shares: u64,
    pub clicks: u64,
    pub conversions: u64,
}

/// An example in the brand's library.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExampleOut {
    pub id: i64,
    pub channel: ChannelName,
    pub sector: Option<String>,
    pub title: Option<String>,
    pub text: String,
    /// The variant it was promoted from; its performance is then the variant's.
    pub variant_id: Option<i64>,
    pub performance: Option<TotalsOut>,
    /// Likes, shares and clicks per view; `null` without views.
    pub engagement_rate: Option<f64>,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<Example> for ExampleOut {
    fn from(example: Example) -> Self {
        Self {
            id: example.id.0,
            channel: example.channel.into(),
            sector: example.sector.map(|s| wire_name(&s)),
            title: example.title,
            text: example.text,
            variant_id: example.variant_id.map(|v| v.0),
            performance: example.performance.map(|t| TotalsOut {
                views: t.views,
                likes: t.likes,
                shares: t.shares,
                clicks: t.clicks,
                conversions: t.conversions,
            }),
            engagement_rate: example.engagement_rate,
            created_by: example.created_by,
            created_at_ms: example.created_at_ms,
            updated_at_ms: example.updated_at_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExampleList {
    /// Newest first.
    pub examples: Vec<ExampleOut>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExampleQuery {
    /// Only examples written for this channel.
    pub channel: Option<ChannelName>,
    /// Only examples of this sector.
    pub sector: Option<String>,
    /// Only examples older than this id.
    pub before: Option<i64>,
    /// At most this many (1–100, default 20).
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PromoteQuery {
    /// The sector to tag the example with (a reel keeps its request's sector otherwise).
    pub sector: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LearnQuery {
    /// The language to learn the voice in (`en`, `fr`, ...); by default the one most
    /// examples are written in. Only examples in that language are learned from.
    pub language: Option<String>,
}

/// Sentence length in words.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SentenceLengthBody {
    pub mean: f64,
    /// Nine sentences in ten are at least this long.
    pub low: f64,
    /// Nine sentences in ten are at most this long.
    pub high: f64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VocabularyEntryBody {
    /// One word, as the brand writes it; plurals and possessives match it.
    pub word: String,
    /// Above 0 and at most 1: how characteristic it is.
    pub weight: f64,
}

/// How a brand writes: plain numbers a marketer can read and change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceProfileBody {
    /// The language of the examples (`en`, `fr`, ...).
    pub language: String,
    /// How many examples it was learned from (0 for one written by hand).
    #[serde(default)]
    pub example_count: usize,
    pub sentence_length: SentenceLengthBody,
    /// Characters per word, on average.
    pub mean_word_length: f64,
    /// Flesch reading ease (higher is easier; 60 is plain English); English only.
    #[serde(default)]
    pub reading_ease: Option<f64>,
    /// Emoji per 100 words.
    pub emoji_per_100_words: f64,
    /// The share of texts with at least one emoji, 0 to 1.
    pub emoji_text_share: f64,
    /// The share of sentences that exclaim, 0 to 1.
    pub exclamation_rate: f64,
    /// The share of sentences that ask, 0 to 1.
    pub question_rate: f64,
    /// Words that address the reader ("you") per 100 words.
    pub second_person_per_100_words: f64,
    /// Words that speak as the brand ("we") per 100 words.
    pub first_person_plural_per_100_words: f64,
    /// The words the brand keeps coming back to, most characteristic first.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub vocabulary: Vec<VocabularyEntryBody>,
    /// How often the brand's texts use the vocabulary, per 100 words.
    #[serde(default)]
    pub vocabulary_per_100_words: f64,
    /// Words a person reads to know the voice ("concise", "playful"); quoted to the model.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub tone: Vec<String>,
}

impl From<VoiceProfile> for VoiceProfileBody {
    fn from(profile: VoiceProfile) -> Self {
        let VoiceProfile {
            language,
            example_count,
            sentence_length,
            mean_word_length,
            reading_ease,
            emoji_per_100_words,
            emoji_text_share,
            exclamation_rate,
            question_rate,
            second_person_per_100_words,
            first_person_plural_per_100_words,
            vocabulary,
            vocabulary_per_100_words,
            tone,
        } = profile;
        Self {
            language: language.code().to_owned(),
            example_count,
            sentence_length: SentenceLengthBody {
                mean: sentence_length.mean,
                low: sentence_length.low,
                high: sentence_length.high,
            },
            mean_word_length,
            reading_ease,
            emoji_per_100_words,
            emoji_text_share,
            exclamation_rate,
            question_rate,
            second_person_per_100_words,
            first_person_plural_per_100_words,
            vocabulary: vocabulary
                .into_iter()
                .map(|entry| VocabularyEntryBody {
                    word: entry.word,
                    weight: entry.weight,
                })
                .collect(),
            vocabulary_per_100_words,
            tone,
        }
    }
}

impl VoiceProfileBody {
    fn into_profile(self) -> Result<VoiceProfile, ApiError> {
        let language = language::from_code(&self.language).ok_or_else(|| {
            ApiError::invalid(format!(
                "language: unsupported {:?}; en, fr, es, de, it, pt or nl",
                self.language
            ))
        })?;
        Ok(VoiceProfile {
            language,
            example_count: self.example_count,
            sentence_length: SentenceLength {
                mean: self.sentence_length.mean,
                low: self.sentence_length.low,
                high: self.sentence_length.high,
            },
            mean_word_length: self.mean_word_length,
            reading_ease: self.reading_ease,
            emoji_per_100_words: self.emoji_per_100_words,
            emoji_text_share: self.emoji_text_share,
            exclamation_rate: self.exclamation_rate,
            question_rate: self.question_rate,
            second_person_per_100_words: self.second_person_per_100_words,
            first_person_plural_per_100_words: self.first_person_plural_per_100_words,
            vocabulary: self
                .vocabulary
                .into_iter()
                .map(|entry| VocabularyEntry {
                    word: entry.word,
                    weight: entry.weight,
                })
                .collect(),
            vocabulary_per_100_words: self.vocabulary_per_100_words,
            tone: self.tone,
        })
    }
}

/// The brand's voice profile and where it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceOut {
    pub profile: VoiceProfileBody,
    /// Tone labels that follow from the numbers (the profile's own `tone` wins in prompts).
    pub derived_tone: Vec<String>,
    /// `learned` (from the examples library) or `edited` (saved by a person).
    pub origin: String,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

impl From<BrandVoice> for VoiceOut {
    fn from(voice: BrandVoice) -> Self {
        Self {
            derived_tone: voice.profile.derived_tone(),
            profile: voice.profile.into(),
            origin: voice.origin,
            updated_by: voice.updated_by,
            updated_at_ms: voice.updated_at_ms,
        }
    }
}

/// How one aspect of the brand's voice judged a text.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceComponentOut {
    /// `sentence_length`, `readability`, `emoji`, `punctuation`, `address` or `vocabulary`.
    pub component: String,
    /// 0 (nothing like the brand) to 1 (just like it).
    pub score: f64,
    /// Its share of the overall score.
    pub weight: f64,
    /// What the text does against what the brand does.
    pub note: String,
}

/// How consistent a text is with the brand's voice profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoiceScoreOut {
    /// 0 to 1: the weighted mean of the components.
    pub score: f64,
    /// The words judged (hashtags, mentions and links left out).
    pub words: usize,
    pub components: Vec<VoiceComponentOut>,
}

impl From<VoiceScore> for VoiceScoreOut {
    fn from(score: VoiceScore) -> Self {
        Self {
            score: score.score,
            words: score.words,
            components: score
                .components
                .into_iter()
                .map(|c| VoiceComponentOut {
                    component: c.component.code().to_owned(),
                    score: c.score,
                    weight: c.weight,
                    note: c.note,
                })
                .collect(),
        }
    }
}

fn parse_sector(text: Option<&str>) -> Result<Option<Sector>, ApiError> {
    text.map(|text| {
        parse_named::<Sector>(
            "sector",
            text,
            brandpilot_studio::reel::sectors().iter().map(|s| s.id),
        )
    })
    .transpose()
}

/// The brand's examples library, newest first, optionally only one channel or sector.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/examples", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id"), ExampleQuery),
    responses(
        (status = 200, body = ExampleList),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn list_examples(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ExampleQuery>,
) -> Result<Json<ExampleList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit: 1 to 100"));
    }
    let sector = parse_sector(query.sector.as_deref())?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let listing = ExampleListing {
        channel: query.channel.map(Into::into),
        sector,
        before: query.before.map(ExampleId),
        limit,
    };
    let examples = state.app.examples(&brand, listing).await?;
    let next_before = (examples.len() == limit as usize)
        .then(|| examples.last().map(|e| e.id.0))
        .flatten();
    Ok(Json(ExampleList {
        examples: examples.into_iter().map(Into::into).collect(),
        next_before,
    }))
}

/// Adds a past post or script to the brand's examples library. Generations show the
/// examples most similar to their brief to the model (same channel and sector first, better
/// performers first), and the brand's voice is learned from them. The same text twice, or
/// a library already holding 1,000 examples, is a 409.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/examples", tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = ExampleBody,
    responses(
        (status = 201, body = ExampleOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 413, body = ErrorResponse),
        (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn add_example(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ExampleBody>,
) -> Result<(StatusCode, Json<ExampleOut>), ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let input = ExampleInput {
        channel: body.channel.into(),
        sector: parse_sector(body.sector.as_deref())?,
        title: body.title,
        text: body.text,
        performance: body.performance.map(Into::into),
    };
    let brand = brand_of(&state, &caller, brand_id).await?;
    let example = state
        .app
        .add_example(&brand, input, &caller.actor().label())
        .await?;
    Ok((StatusCode::CREATED, Json(example.into())))
}

/// One example of the brand's library.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/examples/{example_id}",
    tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("example_id" = i64, Path, description = "The example's id"),
    ),
    responses(
        (status = 200, body = ExampleOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_example(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, example_id)): ApiPath<(i64, i64)>,
) -> Result<Json<ExampleOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let example = state.app.example(&brand, ExampleId(example_id)).await?;
    Ok(Json(example.into()))
}

/// Replaces an example's channel, sector, title and recorded performance.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/studio/examples/{example_id}",
    tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("example_id" = i64, Path, description = "The example's id"),
    ),
    request_body = ExampleTagsBody,
    responses(
        (status = 200, body = ExampleOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn update_example(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, example_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<ExampleTagsBody>,
) -> Result<Json<ExampleOut>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let tags = ExampleTags {
        channel: body.channel.into(),
        sector: parse_sector(body.sector.as_deref())?,
        title: body.title,
        performance: body.performance.map(Into::into),
    };
    let brand = brand_of(&state, &caller, brand_id).await?;
    let example = state
        .app
        .update_example(&brand, ExampleId(example_id), tags)
        .await?;
    Ok(Json(example.into()))
}

/// Removes an example from the brand's library.
#[utoipa::path(delete, path = "/api/v1/brands/{brand_id}/studio/examples/{example_id}",
    tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("example_id" = i64, Path, description = "The example's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn delete_example(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, example_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    state
        .app
        .delete_example(&brand, ExampleId(example_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an approved variant's published text to the brand's examples library. It stays
/// linked: the performance recorded for the variant weights the example. A variant not
/// approved, or already promoted, is a 409.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/promote",
    tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("variant_id" = i64, Path, description = "The variant's id"),
        PromoteQuery,
    ),
    responses(
        (status = 201, body = ExampleOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse),
    ))]
pub(crate) async fn promote_variant(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, variant_id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<PromoteQuery>,
) -> Result<(StatusCode, Json<ExampleOut>), ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let sector = parse_sector(query.sector.as_deref())?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let example = state
        .app
        .promote_variant(
            &brand,
            VariantId(variant_id),
            sector,
            &caller.actor().label(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(example.into())))
}

/// The brand's voice profile; 404 until one is learned or saved.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/studio/voice", tag = "studio",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = VoiceOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_voice(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<VoiceOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let voice = state.app.studio_voice(&brand).await?.ok_or_else(|| {
        ApiError::not_found(
            "this brand has no voice profile yet: learn one from its examples \
             (POST …/studio/voice/learn) or save one (PUT)",
        )
    })?;
    Ok(Json(voice.into()))
}

/// Saves a person's version of the brand's voice. A profile that cannot be scored against
/// (a share above 1, a range upside down, a vocabulary word listed twice) is refused with
/// the field to fix.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/studio/voice", tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = VoiceProfileBody,
    responses(
        (status = 200, body = VoiceOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn put_voice(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<VoiceProfileBody>,
) -> Result<Json<VoiceOut>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let profile = body.into_profile()?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let voice = state
        .app
        .put_studio_voice(&brand, profile, &caller.actor().label())
        .await?;
    Ok(Json(voice.into()))
}

/// Learns the brand's voice from its examples library (better performers weigh more) and
/// saves it, replacing the current profile. A brand without examples is a 409.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/studio/voice/learn", tag = "studio",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id"), LearnQuery),
    responses(
        (status = 200, body = VoiceOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, body = ErrorResponse),
    ))]
pub(crate) async fn learn_voice(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<LearnQuery>,
) -> Result<Json<VoiceOut>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let language = query
        .language
        .as_deref()
        .map(|code| parse_language(Some(code)))
        .transpose()?;
    let brand = brand_of(&state, &caller, brand_id).await?;
    let voice = state
        .app
        .learn_studio_voice(&brand, language, &caller.actor().label())
        .await?;
    Ok(Json(voice.into()))
}
