//! What Studio is asked and what it gives back: the brief, the angles a brief's variants
//! take, the facts a generation was grounded in, its provenance, and a generation with its
//! variants as stored and returned (with the reading of stored rows).

use super::writer::Draft;
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::{ChunkId, ChunkLocator, GenerationId, SourceId, VariantId};
use brandpilot_store::{Brand, GenerationRecord, NewVariant, VariantRecord};
use brandpilot_studio::language::Language;
use brandpilot_studio::repair::RepairAction;
use brandpilot_studio::{Channel, FieldText, Report};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Characters a brief's free-text entries may have.
const MAX_BRIEF_TEXT: usize = 2_000;
/// Key facts a brief may list.
const MAX_KEY_FACTS: usize = 20;

/// What a person asks Studio to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub channel: Channel,
    /// What the copy must achieve ("fill the spring watercolour course").
    pub goal: String,
    /// Who it is for; the brand's audience when empty.
    #[serde(default)]
    pub audience: String,
    /// How it should sound, beyond the brand's voice ("playful").
    #[serde(default)]
    pub tone: String,
    /// What is offered ("20% off until 31 March").
    #[serde(default)]
    pub offer: String,
    /// Facts the copy may state, in the person's words.
    #[serde(default)]
    pub key_facts: Vec<String>,
    #[serde(with = "brandpilot_studio::language::code")]
    pub language: Language,
    /// How many variants, 1–3, taken in angle order (short-form, long-form, CTA-focused).
    #[serde(default = "default_variant_count")]
    pub variants: usize,
}

fn default_variant_count() -> usize {
    Angle::ALL.len()
}

impl Brief {
    /// Refuses a brief that cannot be written, naming the field.
    pub fn check(&self) -> Result<()> {
        if self.goal.trim().is_empty() {
            return Err(invalid("goal", "say what the copy must achieve"));
        }
        if self.channel == Channel::ReelScript {
            return Err(invalid(
                "channel",
                "reel scripts have their own request (sector, hook type, duration)",
            ));
        }
        for (name, text) in [
            ("goal", &self.goal),
            ("audience", &self.audience),
            ("tone", &self.tone),
            ("offer", &self.offer),
        ] {
            if text.chars().count() > MAX_BRIEF_TEXT {
                return Err(invalid(
                    name,
                    &format!("at most {MAX_BRIEF_TEXT} characters"),
                ));
            }
        }
        if self.key_facts.len() > MAX_KEY_FACTS {
            return Err(invalid(
                "key_facts",
                &format!("at most {MAX_KEY_FACTS} facts"),
            ));
        }
        if self
            .key_facts
            .iter()
            .any(|fact| fact.chars().count() > MAX_BRIEF_TEXT)
        {
            return Err(invalid(
                "key_facts",
                &format!("a fact has at most {MAX_BRIEF_TEXT} characters"),
            ));
        }
        if !(1..=Angle::ALL.len()).contains(&self.variants) {
            return Err(invalid("variants", "ask for 1 to 3 variants"));
        }
        Ok(())
    }

    /// The words a search for grounding facts starts from.
    pub(crate) fn search_text(&self) -> String {
        let mut text = self.goal.clone();
        for part in std::iter::once(&self.offer).chain(&self.key_facts) {
            if !part.trim().is_empty() {
                text.push_str(". ");
                text.push_str(part.trim());
            }
        }
        text
    }

    /// The brief as the model reads it.
    pub(crate) fn prompt_text(&self) -> String {
        let mut out = format!("Goal: {}\n", self.goal.trim());
        for (label, text) in [
            ("Audience", &self.audience),
            ("Tone", &self.tone),
            ("Offer", &self.offer),
        ] {
            if !text.trim().is_empty() {
                out.push_str(&format!("{label}: {}\n", text.trim()));
            }
        }
        if !self.key_facts.is_empty() {
            out.push_str("Key facts:\n");
            for fact in &self.key_facts {
                out.push_str(&format!("- {}\n", fact.trim()));
            }
        }
        out
    }
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::InvalidInput(format!("brief.{field}: {message}"))
}

/// What a variant is asked to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Angle {
    ShortForm,
    LongForm,
    CtaFocused,
}

impl Angle {
    pub const ALL: [Angle; 3] = [Angle::ShortForm, Angle::LongForm, Angle::CtaFocused];

    pub fn code(self) -> &'static str {
        match self {
            Angle::ShortForm => "short_form",
            Angle::LongForm => "long_form",
            Angle::CtaFocused => "cta_focused",
        }
    }

    pub(crate) fn instruction(self) -> &'static str {
        match self {
            Angle::ShortForm => {
                "Angle: short-form. As short as the channel allows while still making the point: \
                 one idea, plain words, no filler."
            }
            Angle::LongForm => {
                "Angle: long-form. Use the room the channel gives: the problem, what the offer \
                 changes, a concrete detail from the facts, then the call to action."
            }
            Angle::CtaFocused => {
                "Angle: CTA-focused. Lead with the action and the reason to act now; every \
                 sentence pushes toward the call to action."
            }
        }
    }
}

/// A passage of the brand's material a generation was grounded in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactSource {
    /// The number the model cites it by, from 1.
    pub number: usize,
    pub chunk_id: ChunkId,
    pub source_id: SourceId,
    pub source_title: String,
    pub locator: ChunkLocator,
    pub text: String,
}

/// Where a generation came from: enough to reproduce it and to account for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub sources: Vec<FactSource>,
    /// Past posts of the brand shown to the model as few-shot examples, and why each.
    #[serde(default)]
    pub examples: Vec<super::examples::ExampleUse>,
    /// The provider and model that served the calls (the last one, after any fallback).
    pub provider: Option<String>,
    pub model: Option<String>,
    pub prompt_template: String,
    pub prompt_version: u32,
    pub model_calls: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// `None` when a model used has no price.
    pub cost_usd: Option<f64>,
    pub latency_ms: u64,
    /// Rewrites asked of the model across all variants, after the first drafts.
    pub repair_passes: u32,
}

/// One variant as Studio returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedVariant {
    pub id: VariantId,
    /// The angle it was asked for (`short_form`, `long_form`, `cta_focused`; `script` for reels).
    pub label: String,
    pub content: VariantContent,
    /// The final rule-by-rule report.
    pub report: Report,
    /// Every rule passed and every figure is backed.
    pub passed: bool,
    pub review_state: String,
    /// The saved version its content is, from 1 (what Studio wrote).
    pub version: i64,
}

/// What a variant holds besides its report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VariantContent {
    pub fields: Vec<FieldText>,
    /// The reel script, for a reel generation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<brandpilot_studio::reel::ReelScript>,
    /// The facts (by number) the variant cites and whose words it uses.
    pub citations: Vec<usize>,
    /// Figures (numbers, prices, percentages) that neither the brief nor the facts contain.
    pub unbacked_figures: Vec<String>,
    /// Rewrites the model was asked for.
    pub repair_passes: u32,
    /// Repairs made without a model, in order.
    pub repairs: Vec<RepairAction>,
    /// Why the model could not improve the variant further, when a rewrite failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How consistent the published text is with the brand's voice profile, component by
    /// component; absent while the brand has no voice profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<brandpilot_studio::VoiceScore>,
    /// Sentences taken out, after the model's last pass, because they stated figures
    /// neither the brief nor the brand's material gives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_sentences: Vec<String>,
}

/// A generation as Studio returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub id: GenerationId,
    /// `copy` or `reel`.
    pub kind: String,
    pub channel: String,
    pub request: Value,
    pub provenance: Provenance,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub variants: Vec<GeneratedVariant>,
}

impl Generation {
    pub(crate) fn from_record(record: GenerationRecord) -> Result<Generation> {
        let corrupt = |what: &str, e: serde_json::Error| {
            AppError::Task(format!("stored generation {}: {what}: {e}", record.id))
        };
        let variants = record
            .variants
            .iter()
            .map(GeneratedVariant::from_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(Generation {
            id: record.id,
            kind: record.kind.clone(),
            channel: record.channel.clone(),
            request: serde_json::from_str(&record.request_json)
                .map_err(|e| corrupt("request", e))?,
            provenance: serde_json::from_str(&record.provenance_json)
                .map_err(|e| corrupt("provenance", e))?,
            created_by: record.created_by.clone(),
            created_at_ms: record.created_at_ms,
            variants,
        })
    }
}

impl GeneratedVariant {
    pub(crate) fn from_record(record: &VariantRecord) -> Result<GeneratedVariant> {
        let corrupt = |what: &str, e: serde_json::Error| {
            AppError::Task(format!("stored variant {}: {what}: {e}", record.id))
        };
        Ok(GeneratedVariant {
            id: record.id,
            label: record.label.clone(),
            content: serde_json::from_str(&record.content_json)
                .map_err(|e| corrupt("content", e))?,
            report: serde_json::from_str(&record.report_json).map_err(|e| corrupt("report", e))?,
            passed: record.passed,
            review_state: record.review_state.clone(),
            version: record.version,
        })
    }
}

impl Brandpilot {
    /// The brand's generations, newest first: at most `limit`, older than `before`.
    pub async fn generations(
        &self,
        brand: &Brand,
        before: Option<GenerationId>,
        limit: u32,
    ) -> Result<Vec<Generation>> {
        self.store
            .generations(brand.id, before, limit)
            .await?
            .into_iter()
            .map(Generation::from_record)
            .collect()
    }

    pub async fn generation(&self, brand: &Brand, id: GenerationId) -> Result<Generation> {
        let record = self
            .store
            .generation(brand.id, id)
            .await?
            .ok_or(AppError::GenerationNotFound(id.0))?;
        Generation::from_record(record)
    }
}

pub(crate) fn variant_to_store(
    label: &str,
    draft: Draft,
    script: Option<brandpilot_studio::reel::ReelScript>,
) -> Result<NewVariant> {
    let passed = draft.passed();
    let content = VariantContent {
        fields: draft.fields,
        script,
        citations: draft.cited,
        unbacked_figures: draft.unbacked,
        repair_passes: draft.passes,
        repairs: draft.repairs,
        note: draft.note,
        voice: draft.voice,
        dropped_sentences: draft.dropped,
    };
    Ok(NewVariant {
        label: label.to_owned(),
        content_json: to_json(&content)?,
        report_json: to_json(&draft.report)?,
        passed,
    })
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| AppError::Task(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn briefs_that_cannot_be_written_are_refused_naming_the_field() {
        let brief = Brief {
            channel: Channel::LinkedinPost,
            goal: "Fill the spring course".into(),
            audience: String::new(),
            tone: String::new(),
            offer: String::new(),
            key_facts: Vec::new(),
            language: Language::En,
            variants: 3,
        };
        assert!(brief.check().is_ok());
        for (broken, field) in [
            (
                Brief {
                    goal: "  ".into(),
                    ..brief.clone()
                },
                "brief.goal",
            ),
            (
                Brief {
                    variants: 4,
                    ..brief.clone()
                },
                "brief.variants",
            ),
            (
                Brief {
                    channel: Channel::ReelScript,
                    ..brief.clone()
                },
                "brief.channel",
            ),
            (
                Brief {
                    key_facts: vec!["x".into(); 21],
                    ..brief.clone()
                },
                "brief.key_facts",
            ),
        ] {
            let error = broken.check().unwrap_err().to_string();
            assert!(error.contains(field), "{error}");
        }
    }
}
