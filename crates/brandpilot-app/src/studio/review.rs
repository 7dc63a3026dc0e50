//! What people do with a variant once Studio wrote it: edit it (each save is a new version,
//! judged again by the brand's rules and the grounding check, exactly as Studio's own drafts
//! are), rate and comment on it, move it through review (draft → in review → approved or
//! rejected), and report how it performed once published.
//!
//! Who may approve is the server's concern (a scope only people hold); which moves exist
//! and what an approval needs are decided here, so every front end gets the same workflow.

use super::grounding::{backing_text_of, published_text, supported_citations, unbacked_figures};
use super::records::{Brief, GeneratedVariant, Generation, VariantContent, to_json};
use super::{MAX_FIELD_CHARS, MAX_FIELDS, too_long};
use crate::error::blocking;
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::{GenerationId, VariantId};
use brandpilot_store::{
    Brand, FeedbackRecord, NewFeedback, PerformanceRecord, ReviewEvent, ReviewMove, VariantEdit,
    VariantRecord,
};
use brandpilot_studio::reel::{ReelConfig, ReelRequest, ReelScript, spoken_duration_seconds};
use brandpilot_studio::{Channel, CompiledRules, FieldText, Report};
use serde::{Deserialize, Serialize};

/// Characters a comment or a review note may have.
const MAX_NOTE_CHARS: usize = 2_000;

/// Where a variant stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    Draft,
    InReview,
    Approved,
    Rejected,
}

impl ReviewState {
    pub const ALL: [ReviewState; 4] = [
        ReviewState::Draft,
        ReviewState::InReview,
        ReviewState::Approved,
        ReviewState::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ReviewState::Draft => "draft",
            ReviewState::InReview => "in_review",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|s| s.code() == code)
    }

    /// A verdict (approved or rejected) is given only by someone allowed to approve.
    pub fn is_verdict(self) -> bool {
        matches!(self, ReviewState::Approved | ReviewState::Rejected)
    }

    /// The moves the workflow allows: a draft is sent for review; a variant in review is
    /// approved, rejected or withdrawn; a rejected one is revised or sent again; an approved
    /// one is reopened. Editing any variant sends it back to draft on its own.
    pub fn may_move_to(self, to: ReviewState) -> bool {
        use ReviewState::*;
        matches!(
            (self, to),
            (Draft, InReview)
                | (InReview, Approved | Rejected | Draft)
                | (Rejected, Draft | InReview)
                | (Approved, Draft)
        )
    }
}

/// Feedback on a variant: at least one of a rating, a thumb and a comment.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantFeedback {
    /// 1 to 5.
    pub rating: Option<u8>,
    /// `true` for up.
    pub thumb_up: Option<bool>,
    pub comment: Option<String>,
}

/// What a published variant reached on its platform, as totals so far.
pub use brandpilot_studio::examples::PostTotals as PerformanceTotals;

/// One saved content of a variant.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantVersionView {
    pub version: i64,
    pub content: VariantContent,
    pub report: Report,
    pub passed: bool,
    pub created_by: Option<String>,
    pub created_at_ms: i64,
}

/// Feedback counted up.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FeedbackSummary {
    pub count: usize,
    /// Mean of the ratings given; `None` before the first.
    pub average_rating: Option<f64>,
    pub thumbs_up: usize,
    pub thumbs_down: usize,
}

/// Performance totals with the rates people compare variants by.
#[derive(Debug, Clone, PartialEq)]
pub struct Performance {
    pub totals: PerformanceTotals,
    /// Clicks per view; `None` without views.
    pub click_rate: Option<f64>,
    /// Conversions per click; `None` without clicks.
    pub conversion_rate: Option<f64>,
    /// Likes, shares and clicks per view; `None` without views.
    pub engagement_rate: Option<f64>,
    pub recorded_by: String,
    pub updated_at_ms: i64,
}

/// A variant with everything people did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantDetail {
    pub generation: GenerationId,
    pub channel: String,
    pub variant: GeneratedVariant,
    /// Oldest first; the last is the current content.
    pub versions: Vec<VariantVersionView>,
    pub feedback: Vec<FeedbackRecord>,
    pub feedback_summary: FeedbackSummary,
    /// Every move of the review state, oldest first.
    pub history: Vec<ReviewEvent>,
    pub performance: Option<Performance>,
}

impl Brandpilot {
    async fn stored_variant(&self, brand: &Brand, id: VariantId) -> Result<VariantRecord> {
        self.store
            .variant(brand.id, id)
            .await?
            .ok_or(AppError::VariantNotFound(id.0))
    }

    /// One of the brand's variants with its versions, feedback, review history and
    /// performance.
    pub async fn variant_detail(&self, brand: &Brand, id: VariantId) -> Result<VariantDetail> {
        let record = self.stored_variant(brand, id).await?;
        let generation = self
            .store
            .generation(brand.id, record.generation)
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        let activity = self.store.variant_activity(brand.id, id).await?;
        let corrupt = |e: serde_json::Error| {
            AppError::Task(format!("stored version of variant {}: {e}", id.0))
        };
        let versions = activity
            .versions
            .into_iter()
            .map(|v| {
                Ok(VariantVersionView {
                    version: v.version,
                    content: serde_json::from_str(&v.content_json).map_err(corrupt)?,
                    report: serde_json::from_str(&v.report_json).map_err(corrupt)?,
                    passed: v.passed,
                    created_by: v.created_by,
                    created_at_ms: v.created_at_ms,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(VariantDetail {
            generation: generation.id,
            channel: generation.channel,
            variant: GeneratedVariant::from_record(&record)?,
            versions,
            feedback_summary: summarise(&activity.feedback),
            feedback: activity.feedback,
            history: activity.events,
            performance: activity.performance.map(performance_view),
        })
    }

    /// Saves `fields` as the variant's next version, judged like Studio's own drafts: the
    /// brand's rules, the channel's limits and, for figures, what the brief and the
    /// generation's facts back. A reel's fields are its script's (`hook`, then each scene's
    /// `on_screen_text`, `voice_over` and `visual`, then `thumbnail_text`, `cta`, `caption`
    /// and `hashtags`). The variant goes back to draft: what was reviewed has changed.
    pub async fn edit_variant(
        &self,
        brand: &Brand,
        id: VariantId,
        fields: Vec<FieldText>,
        by: &str,
    ) -> Result<VariantDetail> {
        if fields.len() > MAX_FIELDS {
            return Err(AppError::InvalidInput(format!(
                "a variant has at most {MAX_FIELDS} fields"
            )));
        }
        for entry in &fields {
            too_long(entry.field.code(), &entry.text, MAX_FIELD_CHARS)?;
        }
        let record = self.stored_variant(brand, id).await?;
        let generation = self
            .store
            .generation(brand.id, record.generation)
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        let generation = Generation::from_record(generation)?;
        let previous = GeneratedVariant::from_record(&record)?;
        let rules = self.studio_rules(brand).await?;
        let reel = ReelConfig {
            words_per_minute: self.settings.studio.words_per_minute,
            tolerance: self.settings.studio.duration_tolerance,
        };
        let voice = self.compiled_voice(brand).await?;
        let (content, report) = blocking(move || {
            judge_edit(
                &generation,
                previous,
                fields,
                &rules,
                reel,
                voice.as_deref(),
            )
        })
        .await?;
        let passed = report.passed && content.unbacked_figures.is_empty();
        self.store
            .save_variant_version(&VariantEdit {
                brand: brand.id,
                variant: id,
                content_json: to_json(&content)?,
                report_json: to_json(&report)?,
                passed,
                by: by.to_owned(),
            })
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        self.variant_detail(brand, id).await
    }

    /// Records a rating, a thumb and/or a comment on a variant.
    pub async fn rate_variant(
        &self,
        brand: &Brand,
        id: VariantId,
        feedback: VariantFeedback,
        by: &str,
    ) -> Result<VariantDetail> {
        let comment = feedback
            .comment
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if feedback.rating.is_none() && feedback.thumb_up.is_none() && comment.is_none() {
            return Err(AppError::InvalidInput(
                "feedback: give a rating, a thumb or a comment".into(),
            ));
        }
        if let Some(rating) = feedback.rating
            && !(1..=5).contains(&rating)
        {
            return Err(AppError::InvalidInput("rating: 1 to 5".into()));
        }
        if let Some(comment) = &comment {
            too_long("comment", comment, MAX_NOTE_CHARS)?;
        }
        self.store
            .add_variant_feedback(&NewFeedback {
                brand: brand.id,
                variant: id,
                rating: feedback.rating.map(i64::from),
                thumb: feedback
                    .thumb_up
                    .map(|up| if up { "up" } else { "down" }.to_owned()),
                comment,
                author: by.to_owned(),
            })
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        self.variant_detail(brand, id).await
    }

    /// Moves a variant's review state. A move the workflow does not have is a conflict
    /// naming the moves there are; approving a variant that fails its rules needs a note
    /// saying why it ships anyway, which stays in the history.
    pub async fn review_variant(
        &self,
        brand: &Brand,
        id: VariantId,
        to: ReviewState,
        note: Option<String>,
        by: &str,
    ) -> Result<VariantDetail> {
        let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if let Some(note) = &note {
            too_long("note", note, MAX_NOTE_CHARS)?;
        }
        let record = self.stored_variant(brand, id).await?;
        let from = ReviewState::from_code(&record.review_state).ok_or_else(|| {
            AppError::Task(format!(
                "variant {} has an unknown review state {:?}",
                id.0, record.review_state
            ))
        })?;
        if !from.may_move_to(to) {
            let moves: Vec<&str> = ReviewState::ALL
                .into_iter()
                .filter(|s| from.may_move_to(*s))
                .map(ReviewState::code)
                .collect();
            return Err(AppError::Conflict(format!(
                "a variant in {} cannot move to {}; it can move to {}",
                from.code(),
                to.code(),
                moves.join(" or ")
            )));
        }
        if to == ReviewState::Approved && !record.passed && note.is_none() {
            return Err(AppError::Conflict(
                "this variant fails the brand's rules (see its report): fix and save a new \
                 version, or approve with a note saying why it ships anyway"
                    .into(),
            ));
        }
        self.store
            .move_variant_review(&ReviewMove {
                brand: brand.id,
                variant: id,
                from: from.code().into(),
                to: to.code().into(),
                actor: by.to_owned(),
                note,
            })
            .await?
            .ok_or_else(|| {
                AppError::Conflict(
                    "someone else moved or edited this variant meanwhile; read it again".into(),
                )
            })?;
        self.variant_detail(brand, id).await
    }

    /// Records how an approved variant performed once published, as the latest totals.
    pub async fn record_performance(
        &self,
        brand: &Brand,
        id: VariantId,
        totals: PerformanceTotals,
        by: &str,
    ) -> Result<VariantDetail> {
        let record = self.stored_variant(brand, id).await?;
        if record.review_state != ReviewState::Approved.code() {
            return Err(AppError::Conflict(
                "only an approved (published) variant has performance to record".into(),
            ));
        }
        let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        self.store
            .put_variant_performance(
                brand.id,
                id,
                &PerformanceRecord {
                    views: count(totals.views),
                    likes: count(totals.likes),
                    shares: count(totals.shares),
                    clicks: count(totals.clicks),
                    conversions: count(totals.conversions),
                    recorded_by: by.to_owned(),
                    updated_at_ms: 0,
                },
            )
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        self.variant_detail(brand, id).await
    }
}

/// Judges an edited variant of `generation` the way the generation loop judges a draft.
fn judge_edit(
    generation: &Generation,
    previous: GeneratedVariant,
    fields: Vec<FieldText>,
    rules: &brandpilot_studio::BrandRules,
    reel: ReelConfig,
    voice: Option<&brandpilot_studio::CompiledVoice>,
) -> Result<(VariantContent, Report)> {
    let compiled = CompiledRules::new(rules);
    let corrupt = |e: serde_json::Error| {
        AppError::Task(format!(
            "stored request of generation {}: {e}",
            generation.id
        ))
    };
    let (channel, report, request_text, script) = if generation.kind == "reel" {
        let request: ReelRequest =
            serde_json::from_value(generation.request.clone()).map_err(corrupt)?;
        let mut script = ReelScript::from_fields(&fields, 0.0);
        script.estimated_duration_seconds =
            spoken_duration_seconds(script.spoken_words(), reel.words_per_minute);
        let report = brandpilot_studio::reel::validate_script(&compiled, &request, &script, &reel)
            .map_err(|e| AppError::InvalidInput(e.to_string()))?;
        let text = format!("Topic: {}\n", request.topic.trim());
        (Channel::ReelScript, report, text, Some(script))
    } else {
        let brief: Brief = serde_json::from_value(generation.request.clone()).map_err(corrupt)?;
        let report = compiled.validate_variant(brief.channel, &fields, brief.language);
        (brief.channel, report, brief.prompt_text(), None)
    };
    let fields = match &script {
        Some(script) => script.to_fields(),
        None => fields,
    };
    let backing = backing_text_of(&request_text, &generation.provenance.sources);
    let fact_texts: Vec<String> = generation
        .provenance
        .sources
        .iter()
        .map(|f| f.text.to_lowercase())
        .collect();
    let text = published_text(channel, &fields);
    let content = VariantContent {
        citations: supported_citations(&text, &previous.content.citations, &fact_texts),
        unbacked_figures: unbacked_figures(&text, &backing),
        fields,
        script,
        repair_passes: previous.content.repair_passes,
        repairs: Vec::new(),
        note: None,
        voice: voice.map(|voice| voice.score(&text)),
        dropped_sentences: Vec::new(),
    };
    Ok((content, report))
}

fn summarise(feedback: &[FeedbackRecord]) -> FeedbackSummary {
    let ratings: Vec<f64> = feedback
        .iter()
        .filter_map(|f| f.rating)
        .map(|r| r as f64)
        .collect();
    FeedbackSummary {
        count: feedback.len(),
        average_rating: (!ratings.is_empty())
            .then(|| ratings.iter().sum::<f64>() / ratings.len() as f64),
        thumbs_up: feedback
            .iter()
            .filter(|f| f.thumb.as_deref() == Some("up"))
            .count(),
        thumbs_down: feedback
            .iter()
            .filter(|f| f.thumb.as_deref() == Some("down"))
            .count(),
    }
}

fn performance_view(record: PerformanceRecord) -> Performance {
    let totals = PerformanceTotals {
        views: record.views.max(0) as u64,
        likes: record.likes.max(0) as u64,
        shares: record.shares.max(0) as u64,
        clicks: record.clicks.max(0) as u64,
        conversions: record.conversions.max(0) as u64,
    };
    let per = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    Performance {
        click_rate: per(totals.clicks, totals.views),
        conversion_rate: per(totals.conversions, totals.clicks),
        engagement_rate: per(totals.likes + totals.shares + totals.clicks, totals.views),
        totals,
        recorded_by: record.recorded_by,
        updated_at_ms: record.updated_at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_has_exactly_its_moves() {
        use ReviewState::*;
        let allowed: Vec<(ReviewState, ReviewState)> = ReviewState::ALL
            .into_iter()
            .flat_map(|from| ReviewState::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from.may_move_to(*to))
            .collect();
        assert_eq!(
            allowed,
            [
                (Draft, InReview),
                (InReview, Draft),
                (InReview, Approved),
                (InReview, Rejected),
                (Approved, Draft),
                (Rejected, Draft),
                (Rejected, InReview),
            ]
        );
        // Nothing is approved without passing through review.
        assert!(!Draft.may_move_to(Approved) && !Rejected.may_move_to(Approved));
        for state in ReviewState::ALL {
            assert_eq!(ReviewState::from_code(state.code()), Some(state));
        }
    }

    #[test]
    fn feedback_and_performance_are_counted_as_people_read_them() {
        let feedback = |rating, thumb: Option<&str>| FeedbackRecord {
            id: 0,
            rating,
            thumb: thumb.map(str::to_owned),
            comment: None,
            author: "user:1".into(),
            created_at_ms: 0,
        };
        let summary = summarise(&[
            feedback(Some(5), Some("up")),
            feedback(Some(2), None),
            feedback(None, Some("down")),
            feedback(None, Some("up")),
        ]);
        assert_eq!(summary.count, 4);
        assert_eq!(summary.average_rating, Some(3.5));
        assert_eq!((summary.thumbs_up, summary.thumbs_down), (2, 1));
        assert_eq!(summarise(&[]).average_rating, None);

        let view = performance_view(PerformanceRecord {
            views: 2_000,
            likes: 100,
            shares: 20,
            clicks: 80,
            conversions: 4,
            recorded_by: "key:bpk_1".into(),
            updated_at_ms: 1,
        });
        assert_eq!(view.click_rate, Some(0.04));
        assert_eq!(view.conversion_rate, Some(0.05));
        assert_eq!(view.engagement_rate, Some(0.1));
        let unseen = performance_view(PerformanceRecord {
            views: 0,
            likes: 0,
            shares: 0,
            clicks: 0,
            conversions: 0,
            recorded_by: String::new(),
            updated_at_ms: 0,
        });
        assert_eq!((unseen.click_rate, unseen.conversion_rate), (None, None));
    }
}
