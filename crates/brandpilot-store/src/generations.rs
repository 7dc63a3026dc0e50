//! The parts of [`Store`] that keep Studio's generations: what was asked (a brief or a reel
//! request), where the answer came from (provenance), and the variants produced, each with
//! its final rule report and review state.
//!
//! A generation and its variants are written in one transaction, so a crash never leaves a
//! generation with some of its variants. Every read takes the owning brand and both backends
//! match on it in SQL, so another brand's id finds nothing. This module only dispatches and
//! defines the records; it must never hold SQL.

use crate::{Result, Store};
use brandpilot_core::{BrandId, GenerationId, VariantId};

/// A generation to store with its variants.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGeneration {
    pub brand: BrandId,
    /// `copy` (a brief) or `reel` (a reel request).
    pub kind: String,
    /// The channel's wire name (`linkedin_post`, `reel_script`…).
    pub channel: String,
    /// What was asked, as JSON.
    pub request_json: String,
    /// Sources, examples, model, prompt template and version, tokens, cost, latency, as JSON.
    pub provenance_json: String,
    /// Who asked: a person's e-mail or an API key's prefix.
    pub created_by: Option<String>,
    pub variants: Vec<NewVariant>,
}

/// A variant to store; it starts as a draft.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVariant {
    /// What the variant was asked to be (`short_form`, `long_form`, `cta_focused`…).
    pub label: String,
    pub content_json: String,
    /// The final rule-by-rule report, as JSON.
    pub report_json: String,
    pub passed: bool,
}

/// A stored variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantRecord {
    pub id: VariantId,
    pub generation: GenerationId,
    pub brand: BrandId,
    /// Its place among its generation's variants, from 0.
    pub position: i64,
    pub label: String,
    pub content_json: String,
    pub report_json: String,
    pub passed: bool,
    /// `draft`, `in_review`, `approved` or `rejected`.
    pub review_state: String,
    /// The saved version its content is, from 1 (what Studio wrote).
    pub version: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A stored generation with its variants in position order.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRecord {
    pub id: GenerationId,
    pub brand: BrandId,
    pub kind: String,
    pub channel: String,
    pub request_json: String,
    pub provenance_json: String,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
    pub variants: Vec<VariantRecord>,
}

impl Store {
    /// Stores a generation and its variants in one transaction.
    pub async fn create_generation(&self, generation: &NewGeneration) -> Result<GenerationRecord> {
        dispatch!(self, s => s.create_generation(generation).await)
    }

    /// The brand's generations, newest first: at most `limit`, older than `before` when set.
    pub async fn generations(
        &self,
        brand: BrandId,
        before: Option<GenerationId>,
        limit: u32,
    ) -> Result<Vec<GenerationRecord>> {
        dispatch!(self, s => s.generations(brand, before, limit).await)
    }

    pub async fn generation(
        &self,
        brand: BrandId,
        id: GenerationId,
    ) -> Result<Option<GenerationRecord>> {
        dispatch!(self, s => s.generation(brand, id).await)
    }
}
