//! The parts of [`Store`] that keep what people do with a Studio variant once it is written:
//! the versions they save (with who, when and each version's rule report), their feedback,
//! every move of the review state, and the totals a published variant reached.
//!
//! A saved version and the variant's new current content are written in one transaction,
//! and so are a review move and its event, so history never disagrees with the variant. A
//! review move names the state it expects to leave: two reviewers acting at once cannot both
//! win. Every call takes the owning brand and both backends match on it in SQL. This module
//! only dispatches and defines the records; it must never hold SQL.

use crate::{Result, Store, VariantRecord};
use brandpilot_core::{BrandId, VariantId};

/// New content a person saves for a variant. It becomes the next version and moves the
/// variant back to `draft`: what was reviewed is no longer what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantEdit {
    pub brand: BrandId,
    pub variant: VariantId,
    pub content_json: String,
    pub report_json: String,
    pub passed: bool,
    /// Who saved it (`user:3`, `key:bpk_ab12`).
    pub by: String,
}

/// One saved content of a variant; version 1 is what Studio wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantVersion {
    pub version: i64,
    pub content_json: String,
    pub report_json: String,
    pub passed: bool,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
}

/// Feedback to record on a variant: a rating, a thumb and/or a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub brand: BrandId,
    pub variant: VariantId,
    /// 1 to 5.
    pub rating: Option<i64>,
    /// `up` or `down`.
    pub thumb: Option<String>,
    pub comment: Option<String>,
    pub author: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRecord {
    pub id: i64,
    pub rating: Option<i64>,
    pub thumb: Option<String>,
    pub comment: Option<String>,
    pub author: String,
    pub created_at_ms: i64,
}

/// A move of a variant's review state, made only if the variant is still in `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewMove {
    pub brand: BrandId,
    pub variant: VariantId,
    pub from: String,
    pub to: String,
    pub actor: String,
    pub note: Option<String>,
}

/// A recorded move of a variant's review state.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewEvent {
    pub from_state: String,
    pub to_state: String,
    pub actor: String,
    pub note: Option<String>,
    pub created_at_ms: i64,
}

/// The latest totals a published variant reached on its platform.
#[derive(Debug, Clone, PartialEq)]
pub struct PerformanceRecord {
    pub views: i64,
    pub likes: i64,
    pub shares: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub recorded_by: String,
    pub updated_at_ms: i64,
}

/// Everything people did with a variant, oldest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VariantActivity {
    pub versions: Vec<VariantVersion>,
    pub feedback: Vec<FeedbackRecord>,
    pub events: Vec<ReviewEvent>,
    pub performance: Option<PerformanceRecord>,
}

impl Store {
    /// One of the brand's variants.
    pub async fn variant(&self, brand: BrandId, id: VariantId) -> Result<Option<VariantRecord>> {
        dispatch!(self, s => s.variant(brand, id).await)
    }

    /// Saves new content as the variant's next version and moves it back to `draft`
    /// (recording that move when it was elsewhere); `None` when the brand has no such
    /// variant.
    pub async fn save_variant_version(&self, edit: &VariantEdit) -> Result<Option<VariantRecord>> {
        dispatch!(self, s => s.save_variant_version(edit).await)
    }

    /// Records feedback; `None` when the brand has no such variant.
    pub async fn add_variant_feedback(
        &self,
        feedback: &NewFeedback,
    ) -> Result<Option<FeedbackRecord>> {
        dispatch!(self, s => s.add_variant_feedback(feedback).await)
    }

    /// Moves the review state and records the move; `None` when the brand has no such
    /// variant or it is no longer in `from` (someone else moved it first).
    pub async fn move_variant_review(&self, review: &ReviewMove) -> Result<Option<VariantRecord>> {
        dispatch!(self, s => s.move_variant_review(review).await)
    }

    /// Replaces the variant's performance totals; `None` when the brand has no such variant.
    pub async fn put_variant_performance(
        &self,
        brand: BrandId,
        variant: VariantId,
        totals: &PerformanceRecord,
    ) -> Result<Option<PerformanceRecord>> {
        dispatch!(self, s => s.put_variant_performance(brand, variant, totals).await)
    }

    /// The variant's versions, feedback, review events and performance (empty for another
    /// brand's variant).
    pub async fn variant_activity(
        &self,
        brand: BrandId,
        variant: VariantId,
    ) -> Result<VariantActivity> {
        dispatch!(self, s => s.variant_activity(brand, variant).await)
    }
}
