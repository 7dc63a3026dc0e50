//! The validators: pure functions that judge one variant of a channel against the brand's
//! rules and the platform's limits, and report rule by rule what passed, what failed, where,
//! and whether the failure can be fixed without a model. `validate_variant` runs them all;
//! `validate_variants` also compares the variants of one generation for near-duplicates.
//!
//! A report is what a person sees next to a variant and what a repair prompt quotes, so
//! every message says what is wrong in the marketer's terms and what would fix it. The
//! validators never change the text (that is `repair`'s job), never call a model and never
//! fail: an empty or malformed variant is a report full of violations, not an error.

pub mod banned;
pub mod cta;
pub mod disclaimer;
pub mod duplicates;
pub mod emoji;
pub mod hashtags;
pub mod language_match;
pub mod length;
pub mod reading_level;

use crate::channels::{self, Channel, ChannelSpec, Field, FieldRole, FieldSpec, FieldText};
use crate::language::Language;
use crate::rules::{BrandRules, normalise_tag};
use crate::text::{lowercase, words};
use banned::{PhraseKind, PhraseMatcher};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The rules a report is made of, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// The channel's fields are all there, as many as the platform takes.
    FieldCount,
    /// Each field fits the platform's character limits.
    Length,
    /// Each field has a sensible number of words.
    WordCount,
    BannedWord,
    BannedClaim,
    Disclaimer,
    HashtagCount,
    HashtagFormat,
    HashtagBanned,
    HashtagRequired,
    /// A call to action is present and specific.
    Cta,
    Readability,
    Emoji,
    Language,
    /// The variant is not a near copy of another variant of the same generation.
    NearDuplicate,
    /// A reel script has every part (hook, scenes, thumbnail, CTA, caption, hashtags).
    ReelParts,
    /// A reel script's voice-over fits its duration.
    ReelDuration,
}

impl RuleId {
    /// The rules `validate_variant` runs, in report order.
    pub const VARIANT_RULES: [RuleId; 15] = [
        RuleId::FieldCount,
        RuleId::Length,
        RuleId::WordCount,
        RuleId::BannedWord,
        RuleId::BannedClaim,
        RuleId::Disclaimer,
        RuleId::HashtagCount,
        RuleId::HashtagFormat,
        RuleId::HashtagBanned,
        RuleId::HashtagRequired,
        RuleId::Cta,
        RuleId::Readability,
        RuleId::Emoji,
        RuleId::Language,
        RuleId::NearDuplicate,
    ];

    /// The wire name (`banned_word`).
    pub fn code(self) -> &'static str {
        match self {
            RuleId::FieldCount => "field_count",
            RuleId::Length => "length",
            RuleId::WordCount => "word_count",
            RuleId::BannedWord => "banned_word",
            RuleId::BannedClaim => "banned_claim",
            RuleId::Disclaimer => "disclaimer",
            RuleId::HashtagCount => "hashtag_count",
            RuleId::HashtagFormat => "hashtag_format",
            RuleId::HashtagBanned => "hashtag_banned",
            RuleId::HashtagRequired => "hashtag_required",
            RuleId::Cta => "cta",
            RuleId::Readability => "readability",
            RuleId::Emoji => "emoji",
            RuleId::Language => "language",
            RuleId::NearDuplicate => "near_duplicate",
            RuleId::ReelParts => "reel_parts",
            RuleId::ReelDuration => "reel_duration",
        }
    }
}

/// Whether a violation fails the variant or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The variant must not be published like this.
    Error,
    /// Advice: the platform hides or discourages it, but accepts it.
    Warning,
}

/// Which entry of a variant a violation is about: the field and its position among the
/// entries of that field (the third headline is `{headline, 2}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldRef {
    pub field: Field,
    pub index: usize,
}

/// One thing wrong with a variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: RuleId,
    pub severity: Severity,
    /// The entry at fault; `None` when the whole variant is (a missing disclaimer).
    pub field: Option<FieldRef>,
    /// What is wrong and what would fix it, for a person and for a repair prompt.
    pub message: String,
    /// The offending text as written, when there is one.
    pub found: Option<String>,
    /// Where `found` sits in the entry's text, in bytes.
    pub span: Option<Range<usize>>,
    /// Whether `repair` can fix it without a model.
    pub auto_repairable: bool,
}

impl Violation {
    pub(crate) fn error(
        rule: RuleId,
        field: Option<FieldRef>,
        message: impl Into<String>,
    ) -> Violation {
        Violation {
            rule,
            severity: Severity::Error,
            field,
            message: message.into(),
            found: None,
            span: None,
            auto_repairable: false,
        }
    }

    pub(crate) fn warning(
        rule: RuleId,
        field: Option<FieldRef>,
        message: impl Into<String>,
    ) -> Violation {
        Violation {
            severity: Severity::Warning,
            ..Violation::error(rule, field, message)
        }
    }

    pub(crate) fn found(mut self, text: &str, span: Range<usize>) -> Violation {
        self.found = Some(text[span.clone()].to_owned());
        self.span = Some(span);
        self
    }

    pub(crate) fn repairable(mut self, repairable: bool) -> Violation {
        self.auto_repairable = repairable;
        self
    }
}

/// How one rule went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Passed,
    /// Only warnings.
    Warned,
    Failed,
    /// The rule does not apply to this channel or text (hashtags on an e-mail, the reading
    /// level of a text too short to score).
    NotApplicable,
}

/// One rule's outcome and its violations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    pub rule: RuleId,
    pub status: RuleStatus,
    pub violations: Vec<Violation>,
    /// Why the rule did not apply, or what satisfied it (the CTA that was found).
    pub note: Option<String>,
}

/// Measurements of a variant, shown beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Words in the published fields.
    pub words: usize,
    pub hashtags: usize,
    pub emoji: usize,
    pub reading_ease: Option<f64>,
    pub grade_level: Option<f64>,
    /// The language the copy reads as (ISO 639-1), when there is enough of it to tell.
    pub detected_language: Option<String>,
}

/// The rule-by-rule verdict on one variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub channel: Channel,
    /// No rule failed (warnings allowed).
    pub passed: bool,
    pub rules: Vec<RuleResult>,
    pub metrics: Metrics,
}

impl Report {
    pub fn rule(&self, rule: RuleId) -> Option<&RuleResult> {
        self.rules.iter().find(|result| result.rule == rule)
    }

    pub fn status(&self, rule: RuleId) -> Option<RuleStatus> {
        self.rule(rule).map(|result| result.status)
    }

    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.rules
            .iter()
            .flat_map(|result| result.violations.iter())
    }

    pub fn errors(&self) -> impl Iterator<Item = &Violation> {
        self.violations()
            .filter(|violation| violation.severity == Severity::Error)
    }

    /// The failures a model must fix (rewriting is needed).
    pub fn needs_model(&self) -> Vec<&Violation> {
        self.errors()
            .filter(|violation| !violation.auto_repairable)
            .collect()
    }

    /// The failures `repair` can fix without a model.
    pub fn repairable(&self) -> Vec<&Violation> {
        self.errors()
            .filter(|violation| violation.auto_repairable)
            .collect()
    }

    pub fn failed_rules(&self) -> Vec<RuleId> {
        self.rules
            .iter()
            .filter(|result| result.status == RuleStatus::Failed)
            .map(|result| result.rule)
            .collect()
    }

    /// Adds rule results (a reel's own rules) and recomputes `passed`.
    pub fn extend(&mut self, results: impl IntoIterator<Item = RuleResult>) {
        self.rules.extend(results);
        self.passed = self
            .rules
            .iter()
            .all(|result| result.status != RuleStatus::Failed);
    }
}

/// A rule's outcome as a checker returns it.
pub(crate) enum Applicability {
    Applies,
    AppliesWithNote(String),
    NotApplicable(String),
}

pub(crate) fn rule_result(
    rule: RuleId,
    applicability: Applicability,
    violations: Vec<Violation>,
) -> RuleResult {
    let (status, note) = match applicability {
        Applicability::NotApplicable(note) => (RuleStatus::NotApplicable, Some(note)),
        Applicability::Applies | Applicability::AppliesWithNote(_) => {
            let note = match applicability {
                Applicability::AppliesWithNote(note) => Some(note),
                _ => None,
            };
            let status = if violations.iter().any(|v| v.severity == Severity::Error) {
                RuleStatus::Failed
            } else if violations.is_empty() {
                RuleStatus::Passed
            } else {
                RuleStatus::Warned
            };
            (status, note)
        }
    };
    RuleResult {
        rule,
        status,
        violations,
        note,
    }
}

/// One entry of the variant under validation, with its words worked out once.
pub(crate) struct Entry<'a> {
    pub at: FieldRef,
    pub spec: Option<&'static FieldSpec>,
    pub text: &'a str,
    pub words: Vec<Range<usize>>,
    /// The words lower-cased, a possessive 's dropped.
    pub lower: Vec<String>,
}

impl Entry<'_> {
    pub fn role(&self) -> Option<FieldRole> {
        self.spec.map(|spec| spec.role)
    }

    pub fn is_published(&self) -> bool {
        self.role().is_some_and(FieldRole::is_published)
    }
}

/// Everything the checkers read.
pub(crate) struct Context<'a> {
    pub rules: &'a CompiledRules,
    pub spec: &'static ChannelSpec,
    pub entries: Vec<Entry<'a>>,
    pub language: Language,
}

impl<'a> Context<'a> {
    pub fn new(
        rules: &'a CompiledRules,
        channel: Channel,
        fields: &'a [FieldText],
        language: Language,
    ) -> Self {
        let spec = channels::spec(channel);
        let mut seen: Vec<(Field, usize)> = Vec::new();
        let entries = fields
            .iter()
            .map(|entry| {
                let index = match seen.iter_mut().find(|(field, _)| *field == entry.field) {
                    Some((_, count)) => {
                        *count += 1;
                        *count - 1
                    }
                    None => {
                        seen.push((entry.field, 1));
                        0
                    }
                };
                let field_spec = spec.field(entry.field);
                let published = field_spec.is_some_and(|s| s.role.is_published());
                let spans = if published {
                    words(&entry.text)
                } else {
                    Vec::new()
                };
                let lower = spans
                    .iter()
                    .map(|span| match_form(&entry.text[span.clone()]))
                    .collect();
                Entry {
                    at: FieldRef {
                        field: entry.field,
                        index,
                    },
                    spec: field_spec,
                    text: &entry.text,
                    words: spans,
                    lower,
                }
            })
            .collect();
        Context {
            rules,
            spec,
            entries,
            language,
        }
    }

    /// The entries the audience sees or hears.
    pub fn published(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.entries.iter().filter(|entry| entry.is_published())
    }

    /// The published text, entries joined by line breaks.
    pub fn published_text(&self) -> String {
        let mut text = String::new();
        for entry in self.published() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(entry.text);
        }
        text
    }
}

/// A word as the matchers compare it: lower-cased, a possessive `'s` dropped.
pub(crate) fn match_form(word: &str) -> String {
    let mut lower = lowercase(word);
    for possessive in ["'s", "’s"] {
        if lower.len() > possessive.len() + 1 && lower.ends_with(possessive) {
            lower.truncate(lower.len() - possessive.len());
        }
    }
    lower
}

/// A brand's rules prepared for validating many variants: banned words with their
/// inflections, the CTA library and the tag lists are worked out once. Build it once per
/// brand and generation; `validate_variant` builds one per call.
#[derive(Debug, Clone)]
pub struct CompiledRules {
    rules: BrandRules,
    pub(crate) banned: PhraseMatcher,
    pub(crate) cta_library: PhraseMatcher,
    pub(crate) banned_tags: Vec<String>,
    pub(crate) required_tags: Vec<String>,
}

impl CompiledRules {
    pub fn new(rules: &BrandRules) -> CompiledRules {
        let mut banned_entries: Vec<(String, PhraseKind, Option<String>)> = Vec::new();
        for word in &rules.banned_words {
            banned_entries.push((word.clone(), PhraseKind::Word, None));
        }
        for claim in &rules.banned_claims {
            banned_entries.push((claim.clone(), PhraseKind::Claim, None));
        }
        for substitution in &rules.substitutions {
            let kind = if words(&substitution.banned).len() > 1 {
                PhraseKind::Claim
            } else {
                PhraseKind::Word
            };
            banned_entries.push((
                substitution.banned.clone(),
                kind,
                Some(substitution.replacement.clone()),
            ));
        }
        CompiledRules {
            banned: PhraseMatcher::new(banned_entries, true),
            cta_library: PhraseMatcher::new(
                rules
                    .cta_library
                    .iter()
                    .map(|cta| (cta.clone(), PhraseKind::Cta, None))
                    .collect(),
                false,
            ),
            banned_tags: rules
                .hashtags
                .banned
                .iter()
                .map(|tag| normalise_tag(tag))
                .collect(),
            required_tags: rules
                .hashtags
                .required
                .iter()
                .map(|tag| normalise_tag(tag))
                .collect(),
            rules: rules.clone(),
        }
    }

    pub fn rules(&self) -> &BrandRules {
        &self.rules
    }

    /// Judges one variant of `channel`, written for `request_language`.
    pub fn validate_variant(
        &self,
        channel: Channel,
        fields: &[FieldText],
        request_language: Language,
    ) -> Report {
        let context = Context::new(self, channel, fields, request_language);
        let mut rules = Vec::with_capacity(RuleId::VARIANT_RULES.len());
        rules.extend(length::check(&context));
        rules.extend(banned::check(&context));
        rules.push(disclaimer::check(&context));
        let hashtag_summary = hashtags::check(&context, &mut rules);
        rules.push(cta::check(&context));
        let (reading_result, reading) = reading_level::check(&context);
        rules.push(reading_result);
        let (emoji_result, emoji_count) = emoji::check(&context);
        rules.push(emoji_result);
        let (language_result, detected) = language_match::check(&context);
        rules.push(language_result);
        rules.push(rule_result(
            RuleId::NearDuplicate,
            Applicability::NotApplicable("compared across the variants of a generation".to_owned()),
            Vec::new(),
        ));
        let metrics = Metrics {
            words: context.published().map(|entry| entry.words.len()).sum(),
            hashtags: hashtag_summary,
            emoji: emoji_count,
            reading_ease: reading.map(|score| score.reading_ease),
            grade_level: reading.map(|score| score.grade_level),
            detected_language: detected.map(|language| language.code().to_owned()),
        };
        let passed = rules
            .iter()
            .all(|result| result.status != RuleStatus::Failed);
        Report {
            channel,
            passed,
            rules,
            metrics,
        }
    }

    /// Judges the variants of one generation: each on its own, and each against the earlier
    /// ones for near-duplicates (word 3-shingle Jaccard similarity at or above
    /// `duplicate_threshold`; see [`duplicates::DEFAULT_THRESHOLD`]). The later variant of a
    /// near-duplicate pair fails, so a repair pass rewrites that one.
    pub fn validate_variants(
        &self,
        channel: Channel,
        variants: &[Vec<FieldText>],
        request_language: Language,
        duplicate_threshold: f64,
    ) -> Vec<Report> {
        let mut reports: Vec<Report> = variants
            .iter()
            .map(|fields| self.validate_variant(channel, fields, request_language))
            .collect();
        let texts: Vec<String> = variants
            .iter()
            .map(|fields| {
                let spec = channels::spec(channel);
                fields
                    .iter()
                    .filter(|entry| {
                        spec.field(entry.field)
                            .is_some_and(|s| s.role.is_published())
                    })
                    .map(|entry| entry.text.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let pairs = duplicates::near_duplicates(&text_refs, duplicate_threshold);
        for (index, report) in reports.iter_mut().enumerate() {
            let violations: Vec<Violation> = pairs
                .iter()
                .filter(|pair| pair.second == index)
                .map(|pair| {
                    Violation::error(
                        RuleId::NearDuplicate,
                        None,
                        format!(
                            "variant {} repeats variant {} ({:.0}% of their three-word phrases are shared); \
                             change the angle, the opening and the wording",
                            index + 1,
                            pair.first + 1,
                            pair.similarity * 100.0
                        ),
                    )
                })
                .collect();
            let result = rule_result(RuleId::NearDuplicate, Applicability::Applies, violations);
            if let Some(slot) = report
                .rules
                .iter_mut()
                .find(|r| r.rule == RuleId::NearDuplicate)
            {
                *slot = result;
            }
            report.passed = report.rules.iter().all(|r| r.status != RuleStatus::Failed);
        }
        reports
    }
}

/// Judges one variant of `channel` against `rules`, for a request in `request_language`.
/// To judge many variants of one brand, build a [`CompiledRules`] once instead.
pub fn validate_variant(
    rules: &BrandRules,
    channel: Channel,
    fields: &[FieldText],
    request_language: Language,
) -> Report {
    CompiledRules::new(rules).validate_variant(channel, fields, request_language)
}

/// Judges the variants of one generation, near-duplicates included (see
/// [`CompiledRules::validate_variants`]).
pub fn validate_variants(
    rules: &BrandRules,
    channel: Channel,
    variants: &[Vec<FieldText>],
    request_language: Language,
    duplicate_threshold: f64,
) -> Vec<Report> {
    CompiledRules::new(rules).validate_variants(
        channel,
        variants,
        request_language,
        duplicate_threshold,
    )
}

#[cfg(test)]
pub(crate) mod tests;
