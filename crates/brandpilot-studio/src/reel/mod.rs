//! Reel and short-video scripts (seed 003): the request (sector, hook type, 15–90 seconds,
//! topic, language), the script's shape (a hook, scenes each with on-screen text, voice-over
//! and a visual or b-roll suggestion, thumbnail text, a CTA, a caption, hashtags and the
//! estimated spoken duration), the word budget a duration allows at a speaking rate, and the
//! checks that a script has every part and fits its duration. The JSON Schemas here let a
//! model generate the script as grammar-constrained JSON.
//!
//! The spoken script is the hook, then each scene's voice-over, then the CTA: a script must
//! not repeat the hook in the first voice-over. A script is judged like any variant of the
//! `reel_script` channel (banned words, hashtags, caption length, CTA…) plus the reel's own
//! rules; `repair_script` fixes what needs no model, including a wrong duration estimate.

pub mod catalog;

pub use catalog::{
    HookType, HookTypeInfo, Sector, SectorInfo, hook_type_info, hook_types, sector_info, sectors,
};

use crate::channels::{Channel, Field, FieldText, spec};
use crate::error::{Result, StudioError, invalid_input};
use crate::language::Language;
use crate::repair::{RepairAction, RepairKind};
use crate::rules::BrandRules;
use crate::text::word_count;
use crate::validate::{Applicability, CompiledRules, Report, RuleId, Violation, rule_result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The shortest and longest reel Studio writes, in seconds.
pub const MIN_DURATION_SECONDS: u32 = 15;
pub const MAX_DURATION_SECONDS: u32 = 90;
/// A brisk but clear speaking rate for short video voice-over.
pub const DEFAULT_WORDS_PER_MINUTE: f64 = 150.0;

/// What a person asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReelRequest {
    pub sector: Sector,
    pub hook_type: HookType,
    pub duration_seconds: u32,
    pub topic: String,
    #[serde(with = "crate::language::code")]
    pub language: Language,
}

impl ReelRequest {
    pub fn check(&self) -> Result<()> {
        check_duration(self.duration_seconds)?;
        if self.topic.trim().is_empty() {
            return Err(invalid_input("topic", "say what the reel is about"));
        }
        Ok(())
    }
}

fn check_duration(duration_seconds: u32) -> Result<()> {
    if (MIN_DURATION_SECONDS..=MAX_DURATION_SECONDS).contains(&duration_seconds) {
        Ok(())
    } else {
        Err(StudioError::DurationOutOfRange(duration_seconds))
    }
}

/// How fast the voice-over is read and how far a script may stray from its budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReelConfig {
    pub words_per_minute: f64,
    /// The share of the word budget a script may be over or under (0.15 = ±15%).
    pub tolerance: f64,
}

impl Default for ReelConfig {
    fn default() -> Self {
        ReelConfig {
            words_per_minute: DEFAULT_WORDS_PER_MINUTE,
            tolerance: 0.15,
        }
    }
}

impl ReelConfig {
    pub fn check(&self) -> Result<()> {
        if !(80.0..=250.0).contains(&self.words_per_minute) {
            return Err(invalid_input(
                "words_per_minute",
                format!(
                    "{} is not a speaking rate (80–250 words a minute)",
                    self.words_per_minute
                ),
            ));
        }
        if !(0.0..0.5).contains(&self.tolerance) {
            return Err(invalid_input(
                "tolerance",
                format!("{} is not between 0 and 0.5", self.tolerance),
            ));
        }
        Ok(())
    }
}

/// How many spoken words a reel of a given duration holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WordBudget {
    pub duration_seconds: u32,
    pub words_per_minute: f64,
    /// duration × rate / 60, rounded.
    pub target_words: usize,
    pub min_words: usize,
    pub max_words: usize,
}

/// The word budget of a `duration_seconds` reel (15–90 s) under `config`.
pub fn word_budget(duration_seconds: u32, config: &ReelConfig) -> Result<WordBudget> {
    check_duration(duration_seconds)?;
    config.check()?;
    let target = f64::from(duration_seconds) * config.words_per_minute / 60.0;
    Ok(WordBudget {
        duration_seconds,
        words_per_minute: config.words_per_minute,
        target_words: target.round() as usize,
        min_words: (target * (1.0 - config.tolerance)).round() as usize,
        max_words: (target * (1.0 + config.tolerance)).round() as usize,
    })
}

/// How long `words` take to say at `words_per_minute`, in seconds.
pub fn spoken_duration_seconds(words: usize, words_per_minute: f64) -> f64 {
    words as f64 * 60.0 / words_per_minute
}

/// How many scenes suit a duration: at least one per 15 seconds, at most one per 3.
pub fn scene_range(duration_seconds: u32) -> (usize, usize) {
    let seconds = duration_seconds as usize;
    ((seconds / 15).max(1), (seconds / 3).max(3))
}

/// One shot of the reel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scene {
    /// The words shown on screen.
    pub on_screen_text: String,
    /// What is said over the shot.
    pub voice_over: String,
    /// What to film or which b-roll to use.
    pub visual: String,
}

/// A reel script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReelScript {
    /// The opening line, spoken and shown in the first seconds.
    pub hook: String,
    pub scenes: Vec<Scene>,
    pub thumbnail_text: String,
    /// The closing call to action, spoken.
    pub cta: String,
    pub caption: String,
    pub hashtags: Vec<String>,
    /// The spoken duration the script claims.
    pub estimated_duration_seconds: f64,
}

impl ReelScript {
    /// Everything said aloud, in order: the hook, each voice-over, the CTA.
    pub fn spoken_text(&self) -> String {
        let mut parts = vec![self.hook.as_str()];
        parts.extend(self.scenes.iter().map(|scene| scene.voice_over.as_str()));
        parts.push(self.cta.as_str());
        parts
            .into_iter()
            .filter(|part| !part.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn spoken_words(&self) -> usize {
        word_count(&self.spoken_text())
    }

    /// The script as fields of the `reel_script` channel, for the validators.
    pub fn to_fields(&self) -> Vec<FieldText> {
        let mut fields = vec![FieldText::new(Field::Hook, &self.hook)];
        for scene in &self.scenes {
            fields.push(FieldText::new(Field::OnScreenText, &scene.on_screen_text));
            fields.push(FieldText::new(Field::VoiceOver, &scene.voice_over));
            fields.push(FieldText::new(Field::Visual, &scene.visual));
        }
        fields.push(FieldText::new(Field::ThumbnailText, &self.thumbnail_text));
        fields.push(FieldText::new(Field::Cta, &self.cta));
        fields.push(FieldText::new(Field::Caption, &self.caption));
        fields.extend(
            self.hashtags
                .iter()
                .map(|tag| FieldText::new(Field::Hashtags, tag)),
        );
        fields
    }

    /// A script from `reel_script` fields (as [`to_fields`](Self::to_fields) writes them):
    /// scenes pair the n-th on-screen text, voice-over and visual; a missing part is empty.
    pub fn from_fields(fields: &[FieldText], estimated_duration_seconds: f64) -> ReelScript {
        let all = |field: Field| {
            fields
                .iter()
                .filter(move |e| e.field == field)
                .map(|e| e.text.clone())
        };
        let first = |field: Field| all(field).next().unwrap_or_default();
        let on_screen: Vec<String> = all(Field::OnScreenText).collect();
        let voice: Vec<String> = all(Field::VoiceOver).collect();
        let visual: Vec<String> = all(Field::Visual).collect();
        let count = on_screen.len().max(voice.len()).max(visual.len());
        let part = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
        ReelScript {
            hook: first(Field::Hook),
            scenes: (0..count)
                .map(|i| Scene {
                    on_screen_text: part(&on_screen, i),
                    voice_over: part(&voice, i),
                    visual: part(&visual, i),
                })
                .collect(),
            thumbnail_text: first(Field::ThumbnailText),
            cta: first(Field::Cta),
            caption: first(Field::Caption),
            hashtags: all(Field::Hashtags).collect(),
            estimated_duration_seconds,
        }
    }
}

/// The reel's own rules: the scene structure and whether the voice-over fits the duration.
/// Every part being present is the field-count rule's job over [`ReelScript::to_fields`].
fn reel_rules(script: &ReelScript, budget: &WordBudget) -> [crate::validate::RuleResult; 2] {
    let mut parts = Vec::new();
    let (min_scenes, max_scenes) = scene_range(budget.duration_seconds);
    let scenes = script.scenes.len();
    if scenes > 0 && scenes < min_scenes {
        parts.push(Violation::warning(
            RuleId::ReelParts,
            None,
            format!(
                "{scenes} scenes for {} seconds; at least {min_scenes} keep a reel moving",
                budget.duration_seconds
            ),
        ));
    } else if scenes > max_scenes {
        parts.push(Violation::warning(
            RuleId::ReelParts,
            None,
            format!(
                "{scenes} scenes in {} seconds is under 3 seconds a shot; use at most {max_scenes}",
                budget.duration_seconds
            ),
        ));
    }
    for (index, scene) in script.scenes.iter().enumerate() {
        let missing: Vec<&str> = [
            (scene.on_screen_text.trim().is_empty(), "on-screen text"),
            (scene.voice_over.trim().is_empty(), "voice-over"),
            (scene.visual.trim().is_empty(), "visual suggestion"),
        ]
        .into_iter()
        .filter_map(|(absent, name)| absent.then_some(name))
        .collect();
        if !missing.is_empty() {
            parts.push(Violation::error(
                RuleId::ReelParts,
                None,
                format!("scene {} has no {}", index + 1, missing.join(" and no ")),
            ));
        }
    }

    let mut duration = Vec::new();
    let words = script.spoken_words();
    let seconds = spoken_duration_seconds(words, budget.words_per_minute);
    let rate = budget.words_per_minute;
    if words > budget.max_words {
        duration.push(Violation::error(
            RuleId::ReelDuration,
            None,
            format!(
                "the hook, voice-over and CTA run {words} words, about {seconds:.0} seconds at {rate:.0} words a minute; \
                 a {}-second reel holds {}–{}: cut about {} words",
                budget.duration_seconds,
                budget.min_words,
                budget.max_words,
                words - budget.target_words
            ),
        ));
    } else if words < budget.min_words {
        duration.push(Violation::error(
            RuleId::ReelDuration,
            None,
            format!(
                "the hook, voice-over and CTA run {words} words, about {seconds:.0} seconds; a {}-second reel needs {}–{}: \
                 add about {} words",
                budget.duration_seconds,
                budget.min_words,
                budget.max_words,
                budget.target_words - words
            ),
        ));
    }
    let allowed_gap = (f64::from(budget.duration_seconds) * 0.1).max(2.0);
    if (script.estimated_duration_seconds - seconds).abs() > allowed_gap
        || !script.estimated_duration_seconds.is_finite()
    {
        duration.push(
            Violation::error(
                RuleId::ReelDuration,
                None,
                format!(
                    "the script estimates {:.0} seconds but its {words} spoken words take {seconds:.0}",
                    script.estimated_duration_seconds
                ),
            )
            .repairable(true),
        );
    }
    [
        rule_result(RuleId::ReelParts, Applicability::Applies, parts),
        rule_result(RuleId::ReelDuration, Applicability::Applies, duration),
    ]
}

/// Judges a reel script: every rule of the `reel_script` channel, then the reel's own.
pub fn validate_script(
    rules: &CompiledRules,
    request: &ReelRequest,
    script: &ReelScript,
    config: &ReelConfig,
) -> Result<Report> {
    request.check()?;
    let budget = word_budget(request.duration_seconds, config)?;
    let mut report =
        rules.validate_variant(Channel::ReelScript, &script.to_fields(), request.language);
    report.extend(reel_rules(script, &budget));
    Ok(report)
}

/// A repaired script and what is left to fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReelRepair {
    pub script: ReelScript,
    pub actions: Vec<RepairAction>,
    pub report: Report,
    pub needs_model: Vec<Violation>,
}

/// Repairs what needs no model in a script (see `repair`), and sets its duration estimate to
/// what its voice-over actually takes.
pub fn repair_script(
    rules: &CompiledRules,
    request: &ReelRequest,
    script: &ReelScript,
    config: &ReelConfig,
) -> Result<ReelRepair> {
    request.check()?;
    let budget = word_budget(request.duration_seconds, config)?;
    let outcome = rules.repair_variant(Channel::ReelScript, &script.to_fields(), request.language);
    let mut actions = outcome.actions;
    let mut repaired = ReelScript::from_fields(&outcome.fields, script.estimated_duration_seconds);
    let actual = (spoken_duration_seconds(repaired.spoken_words(), budget.words_per_minute) * 10.0)
        .round()
        / 10.0;
    if (repaired.estimated_duration_seconds - actual).abs() > f64::EPSILON {
        actions.push(RepairAction {
            rule: RuleId::ReelDuration,
            field: None,
            kind: RepairKind::SetDuration {
                from_seconds: repaired.estimated_duration_seconds,
                to_seconds: actual,
            },
        });
        repaired.estimated_duration_seconds = actual;
    }
    let report = validate_script(rules, request, &repaired, config)?;
    let needs_model = report.errors().cloned().collect();
    Ok(ReelRepair {
        script: repaired,
        actions,
        report,
        needs_model,
    })
}

fn text_schema(max_length: Option<usize>) -> Value {
    let mut schema = json!({"type": "string", "minLength": 1});
    if let Some(max) = max_length {
        schema["maxLength"] = json!(max);
    }
    schema
}

/// A JSON Schema for one script of `duration_seconds` under `rules`, for grammar-constrained
/// generation: every part required, the scene count and hashtag count bounded, captions and
/// thumbnail text capped.
pub fn script_schema(duration_seconds: u32, rules: &BrandRules) -> Result<Value> {
    check_duration(duration_seconds)?;
    let (min_scenes, max_scenes) = scene_range(duration_seconds);
    let reel = spec(Channel::ReelScript);
    let platform_max = reel.hashtags.platform_max().unwrap_or(usize::MAX);
    let max_tags = rules.hashtags.max.min(platform_max).max(1);
    let min_tags = rules.hashtags.min.clamp(1, max_tags);
    let caption_max = reel.field(Field::Caption).and_then(|f| f.max_chars);
    let thumbnail_max = reel
        .field(Field::ThumbnailText)
        .and_then(|f| f.recommended_max_chars);
    Ok(json!({
        "type": "object",
        "properties": {
            "hook": text_schema(Some(120)),
            "scenes": {
                "type": "array",
                "minItems": min_scenes,
                "maxItems": max_scenes,
                "items": {
                    "type": "object",
                    "properties": {
                        "on_screen_text": text_schema(Some(80)),
                        "voice_over": text_schema(None),
                        "visual": text_schema(None),
                    },
                    "required": ["on_screen_text", "voice_over", "visual"],
                    "additionalProperties": false,
                },
            },
            "thumbnail_text": text_schema(thumbnail_max),
            "cta": text_schema(Some(120)),
            "caption": text_schema(caption_max),
            "hashtags": {
                "type": "array",
                "minItems": min_tags,
                "maxItems": max_tags,
                "items": crate::channels::tag_schema(),
            },
            "estimated_duration_seconds": {"type": "number", "minimum": 0, "maximum": 120},
        },
        "required": ["hook", "scenes", "thumbnail_text", "cta", "caption", "hashtags", "estimated_duration_seconds"],
        "additionalProperties": false,
    }))
}

/// A JSON Schema for `count` script variants: `{"variants": [script, ...]}`.
pub fn variants_schema(duration_seconds: u32, rules: &BrandRules, count: usize) -> Result<Value> {
    Ok(json!({
        "type": "object",
        "properties": {
            "variants": {"type": "array", "items": script_schema(duration_seconds, rules)?, "minItems": count, "maxItems": count},
        },
        "required": ["variants"],
        "additionalProperties": false,
    }))
}

#[cfg(test)]
mod tests;
