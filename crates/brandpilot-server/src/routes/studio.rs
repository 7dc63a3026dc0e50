//! Studio without a model: a brand's content rules, the reel catalogs, judging a variant
//! against the rules (and mending what needs no model), and SEO metadata weighed against
//! the brand's own documents.
//!
//! The wire types here mirror `brandpilot_studio`'s domain types field by field, with
//! exhaustive conversions, so a field added to the rules fails to compile here until the API
//! decides how to show it; the domain crate knows nothing of OpenAPI.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use brandpilot_app::Scope;
use brandpilot_app::studio::{SeoBrief, ValidationRequest};
use brandpilot_core::BrandId;
use brandpilot_studio::repair::RepairOutcome;
use brandpilot_studio::rules::{
    EmojiPolicy, HashtagRules, ReadingLevel, RequiredDisclaimer, Substitution,
};
use brandpilot_studio::seo::SeoMetadata;
use brandpilot_studio::validate::{FieldRef, RuleResult, RuleStatus, Severity};
use brandpilot_studio::{BrandRules, Channel, Field, FieldText, Report, Violation, language};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The wire name serde gives a unit variant (`linkedin_post`).
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Where a variant will be published.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    Email,
    LinkedinPost,
    XPost,
    XThread,
    InstagramCaption,
    BlogOutline,
    BlogArticle,
    GoogleSearchAd,
    MetaAd,
    ReelScript,
}

impl From<ChannelName> for Channel {
    fn from(name: ChannelName) -> Self {
        match name {
            ChannelName::Email => Channel::Email,
            ChannelName::LinkedinPost => Channel::LinkedinPost,
            ChannelName::XPost => Channel::XPost,
            ChannelName::XThread => Channel::XThread,
            ChannelName::InstagramCaption => Channel::InstagramCaption,
            ChannelName::BlogOutline => Channel::BlogOutline,
            ChannelName::BlogArticle => Channel::BlogArticle,
            ChannelName::GoogleSearchAd => Channel::GoogleSearchAd,
            ChannelName::MetaAd => Channel::MetaAd,
            ChannelName::ReelScript => Channel::ReelScript,
        }
    }
}

impl From<Channel> for ChannelName {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Email => ChannelName::Email,
            Channel::LinkedinPost => ChannelName::LinkedinPost,
            Channel::XPost => ChannelName::XPost,
            Channel::XThread => ChannelName::XThread,
            Channel::InstagramCaption => ChannelName::InstagramCaption,
            Channel::BlogOutline => ChannelName::BlogOutline,
            Channel::BlogArticle => ChannelName::BlogArticle,
            Channel::GoogleSearchAd => ChannelName::GoogleSearchAd,
            Channel::MetaAd => ChannelName::MetaAd,
            Channel::ReelScript => ChannelName::ReelScript,
        }
    }
}

/// A field of a variant; which fields a channel has is the platform's (an e-mail has
/// `subject` and `body`, an X post `post`, a Google search ad `headline` and
/// `description`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldName {
    Subject,
    Body,
    Post,
    Caption,
    Title,
    Heading,
    Headline,
    Description,
    PrimaryText,
    Hook,
    OnScreenText,
    VoiceOver,
    Visual,
    ThumbnailText,
    Cta,
    Hashtags,
}

impl From<FieldName> for Field {
    fn from(name: FieldName) -> Self {
        match name {
            FieldName::Subject => Field::Subject,
            FieldName::Body => Field::Body,
            FieldName::Post => Field::Post,
            FieldName::Caption => Field::Caption,
            FieldName::Title => Field::Title,
            FieldName::Heading => Field::Heading,
            FieldName::Headline => Field::Headline,
            FieldName::Description => Field::Description,
            FieldName::PrimaryText => Field::PrimaryText,
            FieldName::Hook => Field::Hook,
            FieldName::OnScreenText => Field::OnScreenText,
            FieldName::VoiceOver => Field::VoiceOver,
            FieldName::Visual => Field::Visual,
            FieldName::ThumbnailText => Field::ThumbnailText,
            FieldName::Cta => Field::Cta,
            FieldName::Hashtags => Field::Hashtags,
        }
    }
}

impl From<Field> for FieldName {
    fn from(field: Field) -> Self {
        match field {
            Field::Subject => FieldName::Subject,
            Field::Body => FieldName::Body,
            Field::Post => FieldName::Post,
            Field::Caption => FieldName::Caption,
            Field::Title => FieldName::Title,
            Field::Heading => FieldName::Heading,
            Field::Headline => FieldName::Headline,
            Field::Description => FieldName::Description,
            Field::PrimaryText => FieldName::PrimaryText,
            Field::Hook => FieldName::Hook,
            Field::OnScreenText => FieldName::OnScreenText,
            Field::VoiceOver => FieldName::VoiceOver,
            Field::Visual => FieldName::Visual,
            Field::ThumbnailText => FieldName::ThumbnailText,
            Field::Cta => FieldName::Cta,
            Field::Hashtags => FieldName::Hashtags,
        }
    }
}

/// A banned word or phrase and what to write instead.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstitutionBody {
    pub banned: String,
    pub replacement: String,
}

/// A disclaimer and the channels that must carry it (every channel with body copy when
/// empty).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclaimerBody {
    pub text: String,
    #[serde(default)]
    pub channels: Vec<ChannelName>,
}

/// How many hashtags a post carries and which ones. Missing fields keep their defaults
/// (0 to 5 tags).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HashtagRulesBody {
    pub min: usize,
    /// The platform's own cap applies too, whichever is lower.
    pub max: usize,
    /// Tags every post must carry (with or without `#`).
    pub required: Vec<String>,
    pub banned: Vec<String>,
}

impl Default for HashtagRulesBody {
    fn default() -> Self {
        HashtagRules::default().into()
    }
}

impl From<HashtagRules> for HashtagRulesBody {
    fn from(rules: HashtagRules) -> Self {
        let HashtagRules {
            min,
            max,
            required,
            banned,
        } = rules;
        Self {
            min,
            max,
            required,
            banned,
        }
    }
}

/// `none`, `few` (at most `max`, 3 when left out) or `free`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmojiMode {
    None,
    Few,
    Free,
}

/// How many emoji a variant may carry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmojiPolicyBody {
    pub mode: EmojiMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

impl Default for EmojiPolicyBody {
    fn default() -> Self {
        EmojiPolicy::default().into()
    }
}

impl From<EmojiPolicy> for EmojiPolicyBody {
    fn from(policy: EmojiPolicy) -> Self {
        match policy {
            EmojiPolicy::None => Self {
                mode: EmojiMode::None,
                max: None,
            },
            EmojiPolicy::Few { max } => Self {
                mode: EmojiMode::Few,
                max: Some(max),
            },
            EmojiPolicy::Free => Self {
                mode: EmojiMode::Free,
                max: None,
            },
        }
    }
}

/// How plainly the brand writes, in Flesch terms; `null` turns a bound off. Missing fields
/// keep their defaults (grade 9 at most).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReadingLevelBody {
    /// The highest Flesch–Kincaid grade, 0–20.
    pub max_grade: Option<f64>,
    /// The lowest Flesch reading ease, 0–100.
    pub min_reading_ease: Option<f64>,
}

impl Default for ReadingLevelBody {
    fn default() -> Self {
        ReadingLevel::default().into()
    }
}

impl From<ReadingLevel> for ReadingLevelBody {
    fn from(level: ReadingLevel) -> Self {
        let ReadingLevel {
            max_grade,
            min_reading_ease,
        } = level;
        Self {
            max_grade,
            min_reading_ease,
        }
    }
}

/// A brand's content rules. Every field is optional in a PUT (left out, it takes its
/// default) and the whole document replaces the previous one.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BrandRulesBody {
    /// Who the brand writes for, in its own words (quoted to the model, not checked).
    pub audience: String,
    /// Single words never used, matched as whole words with simple inflections.
    #[schema(max_items = 1000)]
    pub banned_words: Vec<String>,
    /// Phrases that make a claim the brand cannot back.
    #[schema(max_items = 1000)]
    pub banned_claims: Vec<String>,
    /// What to write instead of a banned word or phrase (a repair makes the swap).
    #[schema(max_items = 1000)]
    pub substitutions: Vec<SubstitutionBody>,
    #[schema(max_items = 1000)]
    pub required_disclaimers: Vec<DisclaimerBody>,
    pub hashtags: HashtagRulesBody,
    pub emoji: EmojiPolicyBody,
    pub reading_level: ReadingLevelBody,
    /// Calls to action the brand uses; a variant with one has a specific CTA.
    #[schema(max_items = 1000)]
    pub cta_library: Vec<String>,
}

impl From<BrandRules> for BrandRulesBody {
    fn from(rules: BrandRules) -> Self {
        let BrandRules {
            audience,
            banned_words,
            banned_claims,
            substitutions,
            required_disclaimers,
            hashtags,
            emoji,
            reading_level,
            cta_library,
        } = rules;
        Self {
            audience,
            banned_words,
            banned_claims,
            substitutions: substitutions
                .into_iter()
                .map(|s| SubstitutionBody {
                    banned: s.banned,
                    replacement: s.replacement,
                })
                .collect(),
            required_disclaimers: required_disclaimers
                .into_iter()
                .map(|d| DisclaimerBody {
                    text: d.text,
                    channels: d.channels.into_iter().map(Into::into).collect(),
                })
                .collect(),
            hashtags: hashtags.into(),
            emoji: emoji.into(),
            reading_level: reading_level.into(),
            cta_library,
        }
    }
}

impl From<BrandRulesBody> for BrandRules {
    fn from(body: BrandRulesBody) -> Self {
        BrandRules {
            audience: body.audience,
            banned_words: body.banned_words,
            banned_claims: body.banned_claims,
            substitutions: body
                .substitutions
                .into_iter()
                .map(|s| Substitution {
                    banned: s.banned,
                    replacement: s.replacement,
                })
                .collect(),
            required_disclaimers: body
                .required_disclaimers
                .into_iter()
                .map(|d| RequiredDisclaimer {
                    text: d.text,
                    channels: d.channels.into_iter().map(Into::into).collect(),
                })
                .collect(),
            hashtags: HashtagRules {
                min: body.hashtags.min,
                max: body.hashtags.max,
                required: body.hashtags.required,
                banned: body.hashtags.banned,
            },
            emoji: match body.emoji.mode {
                EmojiMode::None => EmojiPolicy::None,
                EmojiMode::Few => EmojiPolicy::Few {
                    max: body.emoji.max.unwrap_or(3),
                },
                EmojiMode::Free => EmojiPolicy::Free,
            },
            reading_level: ReadingLevel {
                max_grade: body.reading_level.max_grade,
                min_reading_ease: body.reading_level.min_reading_ease,
            },
            cta_library: body.cta_library,
        }
    }
}

/// Longest list a rules document may hold in any one place.
const MAX_RULE_ENTRIES: usize = 1_000;
/// Longest text of any one rule entry.
const MAX_RULE_CHARS: usize = 2_000;

fn check_rule_sizes(rules: &BrandRules) -> Result<(), ApiError> {
    let lists = [
        ("banned_words", rules.banned_words.len()),
        ("banned_claims", rules.banned_claims.len()),
        ("substitutions", rules.substitutions.len()),
        ("required_disclaimers", rules.required_disclaimers.len()),
        ("hashtags.required", rules.hashtags.required.len()),
        ("hashtags.banned", rules.hashtags.banned.len()),
        ("cta_library", rules.cta_library.len()),
    ];
    if let Some((name, _)) = lists.iter().find(|(_, len)| *len > MAX_RULE_ENTRIES) {
        return Err(ApiError::invalid(format!(
            "{name}: at most {MAX_RULE_ENTRIES} entries"
        )));
    }
    let mut texts = std::iter::once(&rules.audience)
        .chain(&rules.banned_words)
        .chain(&rules.banned_claims)
        .chain(
            rules
                .substitutions
                .iter()
                .flat_map(|s| [&s.banned, &s.replacement]),
        )
        .chain(rules.required_disclaimers.iter().map(|d| &d.text))
        .chain(&rules.hashtags.required)
        .chain(&rules.hashtags.banned)
        .chain(&rules.cta_library);
    if texts.any(|text| text.chars().count() > MAX_RULE_CHARS) {
        return Err(ApiError::invalid(format!(
            "a rule entry (or the audience) has at most {MAX_RULE_CHARS} characters"
        )));
    }
    Ok(())
}

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

/// One entry of a variant. Repeated fields (a thread's posts, an ad's headlines) are
/// repeated entries, in order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldTextBody {
    pub field: FieldName,
    #[schema(max_length = 50000)]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    pub channel: ChannelName,
    #[schema(max_items = 60)]
    pub fields: Vec<FieldTextBody>,
    /// The language the copy was asked for (`en`, `fr`, `es`, `de`, `it`, `pt`, `nl`);
    /// `en` when left out.
    #[serde(default)]
    pub language: Option<String>,
    /// Also mend what needs no model (swap banned words for the brand's replacements,
    /// drop banned or surplus hashtags, append a missing disclaimer, cut to the platform's
    /// limit at a sentence boundary) and judge the result.
    #[serde(default)]
    pub repair: bool,
}

/// The entry a violation is about: the field and its position among that field's entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldRefOut {
    pub field: FieldName,
    pub index: usize,
}

impl From<FieldRef> for FieldRefOut {
    fn from(at: FieldRef) -> Self {
        Self {
            field: at.field.into(),
            index: at.index,
        }
    }
}

/// Where the offending text sits in its entry, in bytes.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpanOut {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ViolationOut {
    /// The rule broken (`banned_word`, `length`, `hashtag_count`, ...).
    pub rule: String,
    /// `error` (must not be published like this) or `warning`.
    pub severity: String,
    /// The entry at fault; absent when the whole variant is (a missing disclaimer).
    pub field: Option<FieldRefOut>,
    /// What is wrong and what would fix it.
    pub message: String,
    /// The offending text as written.
    pub found: Option<String>,
    pub span: Option<SpanOut>,
    /// Whether a repair can fix it without a model.
    pub auto_repairable: bool,
}

impl From<Violation> for ViolationOut {
    fn from(violation: Violation) -> Self {
        Self {
            rule: violation.rule.code().to_owned(),
            severity: match violation.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .to_owned(),
            field: violation.field.map(Into::into),
            message: violation.message,
            found: violation.found,
            span: violation.span.map(|span| SpanOut {
                start: span.start,
                end: span.end,
            }),
            auto_repairable: violation.auto_repairable,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleResultOut {
    pub rule: String,
    /// `passed`, `warned` (warnings only), `failed` or `not_applicable`.
    pub status: String,
    pub violations: Vec<ViolationOut>,
    /// Why the rule did not apply, or what satisfied it.
    pub note: Option<String>,
}

impl From<RuleResult> for RuleResultOut {
    fn from(result: RuleResult) -> Self {
        Self {
            rule: result.rule.code().to_owned(),
            status: match result.status {
                RuleStatus::Passed => "passed",
                RuleStatus::Warned => "warned",
                RuleStatus::Failed => "failed",
                RuleStatus::NotApplicable => "not_applicable",
            }
            .to_owned(),
            violations: result.violations.into_iter().map(Into::into).collect(),
            note: result.note,
        }
    }
}

/// Measurements of the variant's published text.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsOut {
    pub words: usize,
    pub hashtags: usize,
    pub emoji: usize,
    pub reading_ease: Option<f64>,
    pub grade_level: Option<f64>,
    pub detected_language: Option<String>,
}

/// The rule-by-rule verdict on a variant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub channel: ChannelName,
    /// No rule failed (warnings allowed).
    pub passed: bool,
    pub rules: Vec<RuleResultOut>,
    pub metrics: MetricsOut,
}

impl From<Report> for ReportOut {
    fn from(report: Report) -> Self {
        let finite = |value: Option<f64>| value.filter(|v| v.is_finite());
        Self {
            channel: report.channel.into(),
            passed: report.passed,
            rules: report.rules.into_iter().map(Into::into).collect(),
            metrics: MetricsOut {
                words: report.metrics.words,
                hashtags: report.metrics.hashtags,
                emoji: report.metrics.emoji,
                reading_ease: finite(report.metrics.reading_ease),
                grade_level: finite(report.metrics.grade_level),
                detected_language: report.metrics.detected_language,
            },
        }
    }
}

/// One thing a repair did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepairActionOut {
    /// The rule the repair answers.
    pub rule: String,
    pub field: Option<FieldRefOut>,
    /// `replaced_word`, `dropped_hashtag`, `added_hashtag`, `fixed_hashtag`,
    /// `removed_emoji`, `appended_disclaimer`, `cut_to_length`, `dropped_entry` or
    /// `set_duration`.
    pub kind: String,
    /// The kind's particulars (`{"from": "cheap", "to": "affordable"}` for a replaced word).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The variant after the repairs that need no model, and what is left for a model.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepairOut {
    pub passed: bool,
    pub fields: Vec<FieldTextBody>,
    pub actions: Vec<RepairActionOut>,
    /// The verdict on the repaired fields.
    pub report: ReportOut,
    /// The failures that remain: only a model (or a person) can fix these.
    pub needs_model: Vec<ViolationOut>,
}

impl From<RepairOutcome> for RepairOut {
    fn from(outcome: RepairOutcome) -> Self {
        Self {
            passed: outcome.passed(),
            fields: outcome
                .fields
                .into_iter()
                .map(|entry| FieldTextBody {
                    field: entry.field.into(),
                    text: entry.text,
                })
                .collect(),
            actions: outcome
                .actions
                .into_iter()
                .map(|action| {
                    let mut detail = serde_json::to_value(&action.kind).unwrap_or_default();
                    let kind = detail
                        .as_object_mut()
                        .and_then(|object| object.remove("kind"))
                        .and_then(|kind| kind.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    if !detail.is_object() {
                        detail = serde_json::json!({});
                    }
                    RepairActionOut {
                        rule: action.rule.code().to_owned(),
                        field: action.field.map(Into::into),
                        kind,
                        detail,
                    }
                })
                .collect(),
            report: outcome.report.into(),
            needs_model: outcome.needs_model.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationOut {
    /// The verdict on the variant as sent.
    pub report: ReportOut,
    /// With `repair`: the mended variant and its verdict.
    pub repair: Option<RepairOut>,
}

fn parse_language(code: Option<&str>) -> Result<language::Language, ApiError> {
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

/// What a piece is about.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeoBriefBody {
    /// What the piece is about, in a sentence.
    #[schema(min_length = 1, max_length = 500)]
    pub topic: String,
    /// Terms the piece should rank for.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub keywords: Vec<String>,
    /// The headline (the topic when left out); the SEO title is built from it.
    #[serde(default)]
    pub headline: Option<String>,
    /// The opening or summary the meta description is cut from (the body, else the topic,
    /// when left out).
    #[serde(default)]
    pub summary: Option<String>,
    /// The full text, for its readability score.
    #[serde(default)]
    pub body: Option<String>,
    /// `en` when left out; readability is scored for English only.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeoBody {
    pub brief: SeoBriefBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeywordOut {
    pub term: String,
    /// Relative weight, highest first; comparable within one answer only.
    pub score: f64,
    /// `brief` (only the brief uses it), `corpus` (only the brand's documents) or `both`.
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadabilityOut {
    pub words: usize,
    pub sentences: usize,
    pub syllables: usize,
    /// Flesch reading ease: higher is easier; 60 is plain English.
    pub reading_ease: f64,
    /// Flesch–Kincaid grade level.
    pub grade_level: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeoOut {
    /// At most 60 characters, so it shows whole in search results.
    pub title: String,
    /// At most 155 characters, so it is not cut off.
    pub meta_description: String,
    pub slug: String,
    pub keywords: Vec<KeywordOut>,
    /// The body's Flesch scores (English bodies only).
    pub readability: Option<ReadabilityOut>,
}

impl From<SeoMetadata> for SeoOut {
    fn from(seo: SeoMetadata) -> Self {
        Self {
            title: seo.title,
            meta_description: seo.meta_description,
            slug: seo.slug,
            keywords: seo
                .keywords
                .into_iter()
                .filter(|k| k.score.is_finite())
                .map(|k| KeywordOut {
                    term: k.term,
                    score: k.score,
                    source: wire_name(&k.source),
                })
                .collect(),
            readability: seo
                .readability
                .filter(|r| r.reading_ease.is_finite() && r.grade_level.is_finite())
                .map(|r| ReadabilityOut {
                    words: r.words,
                    sentences: r.sentences,
                    syllables: r.syllables,
                    reading_ease: r.reading_ease,
                    grade_level: r.grade_level,
                }),
        }
    }
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
