//! A brand's voice profile: learned from its examples library (each example weighted by
//! how it performed, as few-shot choice weighs them), stored, and editable by a person like
//! any other brand setting. Once a brand has one, every variant Studio writes or a person
//! edits carries a voice-consistency score against it, and the prompt describes the voice
//! to the model. The measuring and scoring are `brandpilot-studio::voice`'s.

use super::examples::from_store_totals;
use crate::{AppError, Brandpilot, Result, blocking};
use brandpilot_store::{Brand, VoiceRecord};
use brandpilot_studio::examples::performance_weights;
use brandpilot_studio::language::{self, Language};
use brandpilot_studio::{CompiledVoice, StudioError, VoiceExample, VoiceProfile, learn_voice};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A brand's stored voice profile and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandVoice {
    pub profile: VoiceProfile,
    /// `learned` (from the examples) or `edited` (saved by a person).
    pub origin: String,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

impl Brandpilot {
    /// The brand's voice profile, if one was learned or saved.
    pub async fn studio_voice(&self, brand: &Brand) -> Result<Option<BrandVoice>> {
        let Some(record) = self.store.studio_voice(brand.id).await? else {
            return Ok(None);
        };
        let profile = serde_json::from_str(&record.profile_json)
            .map_err(|e| AppError::Task(format!("stored voice of brand {}: {e}", brand.id)))?;
        Ok(Some(BrandVoice {
            profile,
            origin: record.origin,
            updated_by: record.updated_by,
            updated_at_ms: record.updated_at_ms,
        }))
    }

    /// Learns the brand's voice from its examples library, better performers weighing more,
    /// and stores it (replacing a person's edits: learning is asked for explicitly). The
    /// language is detected over all the examples together, and every example is learned
    /// from: a short post's own detected language is a guess, and one misread must not drop
    /// it. A caller who names a language learns from the examples detected in it.
    pub async fn learn_studio_voice(
        &self,
        brand: &Brand,
        language: Option<Language>,
        by: &str,
    ) -> Result<BrandVoice> {
        let library = self.library(brand).await?;
        if library.is_empty() {
            return Err(AppError::Conflict(
                "the brand has no examples to learn a voice from; add past posts to its \
                 examples library first"
                    .into(),
            ));
        }
        let profile = blocking(move || {
            let texts: Vec<&str> = library.iter().map(|e| e.text.as_str()).collect();
            let (language, only_in_it) = match language {
                Some(named) => (named, true),
                None => (language::detect(&texts.join("\n\n")), false),
            };
            let weights = performance_weights(
                &library
                    .iter()
                    .map(|e| e.performance().map(from_store_totals))
                    .collect::<Vec<_>>(),
            );
            let examples: Vec<VoiceExample<'_>> = texts
                .iter()
                .zip(&weights)
                .filter(|(text, _)| !only_in_it || language::detect(text) == language)
                .map(|(text, weight)| VoiceExample::weighted(text, *weight))
                .collect();
            learn_voice(&examples, language).map_err(voice_error)
        })
        .await?;
        self.save_voice(brand, profile, "learned", by).await
    }

    /// Saves a person's version of the brand's voice, refusing one that cannot be scored
    /// against.
    pub async fn put_studio_voice(
        &self,
        brand: &Brand,
        profile: VoiceProfile,
        by: &str,
    ) -> Result<BrandVoice> {
        profile.check().map_err(voice_error)?;
        self.save_voice(brand, profile, "edited", by).await
    }

    async fn save_voice(
        &self,
        brand: &Brand,
        profile: VoiceProfile,
        origin: &str,
        by: &str,
    ) -> Result<BrandVoice> {
        let record = VoiceRecord {
            profile_json: super::records::to_json(&profile)?,
            origin: origin.to_owned(),
            updated_by: by.to_owned(),
            updated_at_ms: crate::llm_calls::now_ms(),
        };
        self.store.put_studio_voice(brand.id, &record).await?;
        Ok(BrandVoice {
            profile,
            origin: record.origin,
            updated_by: record.updated_by,
            updated_at_ms: record.updated_at_ms,
        })
    }

    /// The brand's voice compiled for scoring many variants, if it has one.
    pub(crate) async fn compiled_voice(&self, brand: &Brand) -> Result<Option<Arc<CompiledVoice>>> {
        Ok(self
            .studio_voice(brand)
            .await?
            .map(|voice| Arc::new(CompiledVoice::new(&voice.profile))))
    }
}

fn voice_error(error: StudioError) -> AppError {
    AppError::InvalidInput(error.to_string())
}
