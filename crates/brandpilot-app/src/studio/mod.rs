//! Studio's use cases: a brand's content rules, judging (and mending what needs no model in)
//! a variant against them, SEO metadata weighed against the brand's own documents, and
//! generation: briefs → grounded, validated, repaired variants (`generate.rs`) with the
//! prompts they use (`prompts.rs`).
//!
//! The rules, validators, repairs and SEO arithmetic live in `brandpilot-studio` (pure
//! functions); this module loads and stores what they need, bounds the input so a request
//! cannot make them slow, and runs them off the async executor. It never holds SQL and never
//! knows HTTP.

mod batch;
mod examples;
mod generate;
mod grounding;
mod prompts;
mod records;
mod reel;
mod review;
mod voice;
mod writer;

pub use batch::{BATCH_ITEM, Batch, BatchItem, MAX_BATCH_BRIEFS};
pub use examples::{
    Example, ExampleInput, ExampleListing, ExampleTags, ExampleUse, MAX_EXAMPLE_CHARS, MAX_EXAMPLES,
};
pub use records::{
    Angle, Brief, FactSource, GeneratedVariant, Generation, Provenance, VariantContent,
};
pub use review::{
    FeedbackSummary, Performance, PerformanceTotals, ReviewState, VariantDetail, VariantFeedback,
    VariantVersionView,
};
pub use voice::BrandVoice;

use crate::error::blocking;
use crate::{AppError, Brandpilot, Result};
use brandpilot_store::Brand;
use brandpilot_studio::language::Language;
use brandpilot_studio::repair::RepairOutcome;
use brandpilot_studio::seo::{SeoInput, SeoMetadata, build_seo};
use brandpilot_studio::{BrandRules, Channel, CompiledRules, FieldText, Report, StudioError};

/// Entries one variant may have (a long X thread has 25 posts; Google takes 15 headlines).
const MAX_FIELDS: usize = 60;
/// Characters one entry may have: far above every platform limit, low enough to stay fast.
const MAX_FIELD_CHARS: usize = 20_000;
/// The brand's chunks SEO keywords are weighed against.
const SEO_CORPUS_CHUNKS: u32 = 2_000;

/// A variant to judge.
#[derive(Debug, Clone)]
pub struct ValidationRequest {
    pub channel: Channel,
    pub fields: Vec<FieldText>,
    /// The language the copy was asked for.
    pub language: Language,
    /// Also mend what needs no model and judge the result.
    pub repair: bool,
}

/// The verdict on a variant as sent, and, when asked, on its repaired form.
#[derive(Debug, Clone)]
pub struct Validation {
    pub report: Report,
    pub repair: Option<RepairOutcome>,
}

/// What SEO metadata is built from.
#[derive(Debug, Clone)]
pub struct SeoBrief {
    /// What the piece is about, in a sentence.
    pub topic: String,
    /// Terms the piece should rank for.
    pub keywords: Vec<String>,
    /// The piece's headline; the topic when absent.
    pub headline: Option<String>,
    /// The piece's opening or summary, for the meta description.
    pub summary: Option<String>,
    /// The full text, for the readability score.
    pub body: Option<String>,
    pub language: Language,
}

fn studio_error(error: StudioError) -> AppError {
    AppError::InvalidInput(error.to_string())
}

fn too_long(what: &str, text: &str, max: usize) -> Result<()> {
    if text.chars().count() > max {
        return Err(AppError::InvalidInput(format!(
            "{what} has at most {max} characters"
        )));
    }
    Ok(())
}

impl Brandpilot {
    /// The brand's content rules: what it saved, or the defaults until it saves any.
    pub async fn studio_rules(&self, brand: &Brand) -> Result<BrandRules> {
        match self.store.studio_rules(brand.id).await? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| AppError::Task(format!("stored rules of brand {}: {e}", brand.id))),
            None => Ok(BrandRules::default()),
        }
    }

    /// Replaces the brand's content rules, refusing rules that contradict themselves.
    pub async fn put_studio_rules(&self, brand: &Brand, rules: BrandRules) -> Result<BrandRules> {
        rules.check().map_err(studio_error)?;
        let json = serde_json::to_string(&rules).map_err(|e| AppError::Task(e.to_string()))?;
        self.store.put_studio_rules(brand.id, &json).await?;
        Ok(rules)
    }

    /// Judges a variant against the brand's rules, rule by rule; with `repair`, also mends
    /// what needs no model and judges the result.
    pub async fn validate_variant(
        &self,
        brand: &Brand,
        request: ValidationRequest,
    ) -> Result<Validation> {
        if request.fields.len() > MAX_FIELDS {
            return Err(AppError::InvalidInput(format!(
                "a variant has at most {MAX_FIELDS} fields"
            )));
        }
        for entry in &request.fields {
            too_long(entry.field.code(), &entry.text, MAX_FIELD_CHARS)?;
        }
        let rules = self.studio_rules(brand).await?;
        blocking(move || {
            let compiled = CompiledRules::new(&rules);
            let report =
                compiled.validate_variant(request.channel, &request.fields, request.language);
            let repair = request.repair.then(|| {
                compiled.repair_variant(request.channel, &request.fields, request.language)
            });
            Ok(Validation { report, repair })
        })
        .await
    }

    /// SEO metadata for a piece: title, meta description, slug, keywords weighed by TF-IDF
    /// against the brand's own documents, and the body's readability.
    pub async fn seo_metadata(&self, brand: &Brand, brief: SeoBrief) -> Result<SeoMetadata> {
        let topic = brief.topic.trim();
        if topic.is_empty() {
            return Err(AppError::InvalidInput(
                "brief.topic: say what the piece is about".into(),
            ));
        }
        too_long("brief.topic", topic, 500)?;
        if brief.keywords.len() > 20 {
            return Err(AppError::InvalidInput(
                "brief.keywords: at most 20 keywords".into(),
            ));
        }
        for keyword in &brief.keywords {
            too_long("a keyword", keyword, 100)?;
        }
        let headline = brief
            .headline
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .unwrap_or(topic)
            .to_owned();
        too_long("brief.headline", &headline, 300)?;
        let summary = brief.summary.unwrap_or_default();
        too_long("brief.summary", &summary, 5_000)?;
        let body = brief.body.unwrap_or_default();
        too_long("brief.body", &body, 200_000)?;
        let summary = [summary.trim(), body.trim(), topic]
            .into_iter()
            .find(|text| !text.is_empty())
            .unwrap_or(topic)
            .to_owned();
        let mut brief_text = topic.to_owned();
        if !brief.keywords.is_empty() {
            brief_text.push_str(". ");
            brief_text.push_str(&brief.keywords.join(", "));
        }
        let input = SeoInput {
            brief: brief_text,
            headline,
            summary,
            body,
            brand_name: Some(brand.name.clone()),
            language: brief.language,
        };
        let documents = self
            .store
            .brand_chunk_texts(brand.id, SEO_CORPUS_CHUNKS)
            .await?;
        blocking(move || {
            let documents: Vec<&str> = documents.iter().map(String::as_str).collect();
            build_seo(&input, &documents).map_err(studio_error)
        })
        .await
    }
}
