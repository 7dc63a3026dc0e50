//! The parts of [`Store`] that keep Studio's examples library and each brand's voice
//! profile. An example is a past post or script the brand is proud of, tagged by channel
//! and sector; the same text is in a brand's library once (a second copy is a conflict). A
//! variant promoted to an example stays linked to it, and its performance is then read from
//! the variant's live totals, so what the brand reports later keeps weighting the example.
//!
//! Every call takes the owning brand and both backends match on it in SQL. This module only
//! dispatches and defines the records; it must never hold SQL.

use crate::{Result, Store};
use brandpilot_core::{BrandId, ContentHash, ExampleId, VariantId};

/// The totals a post reached on its platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExampleTotals {
    pub views: i64,
    pub likes: i64,
    pub shares: i64,
    pub clicks: i64,
    pub conversions: i64,
}

/// An example to add to a brand's library.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExample {
    pub brand: BrandId,
    /// The channel code it was written for (`linkedin_post`, `reel_script`, ...).
    pub channel: String,
    pub sector: Option<String>,
    pub title: Option<String>,
    pub text: String,
    /// Of the text; its embedding is cached under it.
    pub content_hash: ContentHash,
    /// The variant it was promoted from.
    pub variant: Option<VariantId>,
    /// What it reached, when the person knows (a promoted variant's come from the variant).
    pub performance: Option<ExampleTotals>,
    /// Who added it (`user:3`, `key:bpk_ab12`).
    pub created_by: String,
}

/// A stored example.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleRecord {
    pub id: ExampleId,
    pub brand: BrandId,
    pub channel: String,
    pub sector: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub content_hash: ContentHash,
    pub variant: Option<VariantId>,
    /// The totals recorded with the example.
    pub recorded_performance: Option<ExampleTotals>,
    /// The promoted variant's latest totals, which win over the recorded ones.
    pub variant_performance: Option<ExampleTotals>,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl ExampleRecord {
    /// What the example reached: the promoted variant's live totals, else the recorded ones.
    pub fn performance(&self) -> Option<ExampleTotals> {
        self.variant_performance.or(self.recorded_performance)
    }
}

/// New tags and totals for an example; its text never changes (add a new example instead).
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleUpdate {
    pub brand: BrandId,
    pub id: ExampleId,
    pub channel: String,
    pub sector: Option<String>,
    pub title: Option<String>,
    pub performance: Option<ExampleTotals>,
}

/// Which of a brand's examples to list, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExampleFilter {
    pub channel: Option<String>,
    pub sector: Option<String>,
    /// Only examples older than this one (the next page).
    pub before: Option<ExampleId>,
    pub limit: u32,
}

/// A brand's stored voice profile.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceRecord {
    /// The profile as a JSON document.
    pub profile_json: String,
    /// `learned` (from the examples) or `edited` (saved by a person).
    pub origin: String,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

impl Store {
    /// Adds an example; [`crate::StoreError::Conflict`] when the brand's library already
    /// holds the same text or the variant was already promoted.
    pub async fn create_example(&self, example: &NewExample) -> Result<ExampleRecord> {
        dispatch!(self, s => s.create_example(example).await)
    }

    /// One of the brand's examples.
    pub async fn example(&self, brand: BrandId, id: ExampleId) -> Result<Option<ExampleRecord>> {
        dispatch!(self, s => s.example(brand, id).await)
    }

    /// The example a variant was promoted to, if any.
    pub async fn example_of_variant(
        &self,
        brand: BrandId,
        variant: VariantId,
    ) -> Result<Option<ExampleRecord>> {
        dispatch!(self, s => s.example_of_variant(brand, variant).await)
    }

    /// The brand's examples matching `filter`, newest first.
    pub async fn examples(
        &self,
        brand: BrandId,
        filter: &ExampleFilter,
    ) -> Result<Vec<ExampleRecord>> {
        dispatch!(self, s => s.examples(brand, filter).await)
    }

    /// How many examples the brand's library holds.
    pub async fn example_count(&self, brand: BrandId) -> Result<i64> {
        dispatch!(self, s => s.example_count(brand).await)
    }

    /// Replaces an example's tags and recorded totals; `None` when the brand has no such
    /// example.
    pub async fn update_example(&self, update: &ExampleUpdate) -> Result<Option<ExampleRecord>> {
        dispatch!(self, s => s.update_example(update).await)
    }

    /// Removes an example; false when the brand has no such example.
    pub async fn delete_example(&self, brand: BrandId, id: ExampleId) -> Result<bool> {
        dispatch!(self, s => s.delete_example(brand, id).await)
    }

    /// The brand's voice profile, if one was learned or saved.
    pub async fn studio_voice(&self, brand: BrandId) -> Result<Option<VoiceRecord>> {
        dispatch!(self, s => s.studio_voice(brand).await)
    }

    /// Creates or replaces the brand's voice profile.
    pub async fn put_studio_voice(&self, brand: BrandId, voice: &VoiceRecord) -> Result<()> {
        dispatch!(self, s => s.put_studio_voice(brand, voice).await)
    }
}
