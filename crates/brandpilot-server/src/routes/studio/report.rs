//! The wire types of a validation (the variant sent, the rule-by-rule report and its
//! violations), of a repair (the mended fields and what was done) and of SEO metadata (the
//! brief in, the title, description, slug, keywords and readability out), with conversions
//! from `brandpilot_studio`'s reports that drop non-finite scores JSON cannot carry. Nothing
//! here calls the application; the handlers in the parent module do.

use super::names::{ChannelName, FieldName, wire_name};
use brandpilot_studio::repair::{RepairAction, RepairOutcome};
use brandpilot_studio::seo::SeoMetadata;
use brandpilot_studio::validate::{FieldRef, RuleResult, RuleStatus, Severity};
use brandpilot_studio::{Report, Violation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One entry of a variant. Repeated fields (a thread's posts, an ad's headlines) are
/// repeated entries, in order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldTextBody {
    pub field: FieldName,
    /// At most 20,000 characters (a long article), so a whole variant fits the request
    /// body limit.
    #[schema(max_length = 20000)]
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    pub channel: ChannelName,
    #[schema(max_items = 60)]
    #[serde(deserialize_with = "crate::extract::objects::list")]
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
    /// `removed_emoji`, `added_cta`, `appended_disclaimer`, `cut_to_length`,
    /// `dropped_entry` or `set_duration`.
    pub kind: String,
    /// The kind's particulars (`{"from": "cheap", "to": "affordable"}` for a replaced word).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<RepairAction> for RepairActionOut {
    fn from(action: RepairAction) -> Self {
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
    }
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
            actions: outcome.actions.into_iter().map(Into::into).collect(),
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
    #[serde(deserialize_with = "crate::extract::objects::object")]
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
