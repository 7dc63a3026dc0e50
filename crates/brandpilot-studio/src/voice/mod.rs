//! A brand's voice: how long its sentences run, how long its words are and how easily it
//! reads, how often it uses emoji, exclamation and question marks, whether it speaks to
//! "you" and as "we", and the words it keeps coming back to. [`learn_voice`] measures it
//! from the brand's example texts (better-performing examples may weigh more), a person
//! edits the resulting [`VoiceProfile`] like any other brand setting, and
//! [`voice_consistency`] (or a [`CompiledVoice`], for many texts) scores every generated
//! variant against it component by component, so a person sees why a draft sounds off.
//!
//! The profile is plain numbers a marketer can read and change; [`VoiceProfile::check`]
//! refuses an edit that cannot be scored against. This module must never call a model, read
//! a store, or keep state between calls: the same profile and text always score the same,
//! which is what lets a ranking of variants be replayed and tested.

mod learn;
mod measure;
mod score;
#[cfg(test)]
mod tests;

pub use learn::{VoiceExample, learn_voice};
pub use score::{CompiledVoice, ComponentScore, VoiceComponent, VoiceScore, voice_consistency};

use crate::error::{Result, StudioError};
use crate::language::Language;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How many signature words [`learn_voice`] keeps.
pub const SIGNATURE_WORDS: usize = 25;
/// The most vocabulary entries a profile may hold after a person's edits.
pub const MAX_VOCABULARY: usize = 100;
/// The most tone labels a profile may hold, and the longest label in characters.
pub const MAX_TONE_LABELS: usize = 12;
pub const MAX_TONE_LABEL_CHARS: usize = 40;
/// The longest sentence length, in words, a profile may describe.
pub const MAX_SENTENCE_WORDS: f64 = 200.0;

/// How a brand writes, learned from its examples and editable by a person. Rates are
/// averaged over examples (each counts by its weight, not by its length), so one long
/// article does not drown twenty short posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceProfile {
    /// The language the examples are written in; it decides which words address the reader
    /// or speak as "we", and whether a reading ease applies.
    #[serde(with = "crate::language::code")]
    pub language: Language,
    /// How many examples the profile was learned from (0 for a profile written by hand).
    pub example_count: usize,
    pub sentence_length: SentenceLength,
    /// Characters per word, on average.
    pub mean_word_length: f64,
    /// Flesch reading ease (higher is easier; 60 is plain English). English only: the
    /// formula is calibrated for it, so other languages leave it out.
    #[serde(default)]
    pub reading_ease: Option<f64>,
    /// Emoji per 100 words, over all texts (with and without emoji).
    pub emoji_per_100_words: f64,
    /// The share of texts with at least one emoji, 0 to 1.
    pub emoji_text_share: f64,
    /// The share of sentences that exclaim, 0 to 1.
    pub exclamation_rate: f64,
    /// The share of sentences that ask, 0 to 1.
    pub question_rate: f64,
    /// Words that address the reader ("you", "your"; "vous", "du", ...) per 100 words.
    pub second_person_per_100_words: f64,
    /// Words that speak as the brand ("we", "our", "us"; "nous", "wir", ...) per 100 words.
    pub first_person_plural_per_100_words: f64,
    /// The words the brand keeps coming back to, most characteristic first.
    #[serde(default)]
    pub vocabulary: Vec<VocabularyEntry>,
    /// How often the brand's own texts use the vocabulary, per 100 words, each word counted
    /// by its weight relative to the heaviest entry and at most twice a text. The vocabulary
    /// component judges a text against this rate.
    #[serde(default)]
    pub vocabulary_per_100_words: f64,
    /// Words a person reads to know the voice ("concise", "enthusiastic"). Derived from the
    /// numbers when learned ([`VoiceProfile::derived_tone`]); a person may add their own.
    /// Quoted to the model, never scored: the numbers are.
    #[serde(default)]
    pub tone: Vec<String>,
}

/// Sentence length in words: the average and the range most sentences fall in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SentenceLength {
    pub mean: f64,
    /// The 10th percentile: nine sentences in ten are at least this long.
    pub low: f64,
    /// The 90th percentile: nine sentences in ten are at most this long.
    pub high: f64,
}

/// One signature word and how characteristic it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VocabularyEntry {
    /// One word, as the brand writes it (lower case when learned). Plurals and possessives
    /// match it ("class" matches "classes" and "class's").
    pub word: String,
    /// Above 0 and at most 1; learned as the (weighted) share of examples that use the word.
    pub weight: f64,
}

/// The tone labels [`VoiceProfile::derived_tone`] can give, and the thresholds behind them.
/// A mean sentence of at most this many words is concise; at least `ELABORATE_SENTENCE`,
/// elaborate.
const CONCISE_SENTENCE: f64 = 12.0;
const ELABORATE_SENTENCE: f64 = 22.0;
/// One sentence in five exclaiming reads as enthusiastic.
const ENTHUSIASTIC_EXCLAMATIONS: f64 = 0.2;
/// Emoji in at least half the texts reads as playful.
const PLAYFUL_EMOJI_SHARE: f64 = 0.5;
/// Two "you" in 100 words, or a question in one sentence of seven, reads as conversational.
const CONVERSATIONAL_SECOND_PERSON: f64 = 2.0;
const CONVERSATIONAL_QUESTIONS: f64 = 0.15;
/// Two "we" in 100 words reads as a brand speaking personally.
const PERSONAL_FIRST_PERSON: f64 = 2.0;
/// Flesch reading ease: 70 and above is plain, under 40 is technical.
const PLAIN_READING_EASE: f64 = 70.0;
const TECHNICAL_READING_EASE: f64 = 40.0;
/// Words this long on average, or sentences this long, with no emoji, no exclamation and
/// little "you", read as formal.
const FORMAL_WORD_LENGTH: f64 = 5.0;
const FORMAL_SENTENCE: f64 = 18.0;

impl VoiceProfile {
    /// Checks that the profile can be scored against, naming the first field to fix.
    pub fn check(&self) -> Result<()> {
        let invalid =
            |field: &'static str, reason: String| Err(StudioError::InvalidVoice { field, reason });
        let SentenceLength { mean, low, high } = self.sentence_length;
        for (name, value) in [("mean", mean), ("low", low), ("high", high)] {
            if !within(value, 1.0, MAX_SENTENCE_WORDS) {
                return invalid(
                    "sentence_length",
                    format!("{name} {value} is outside 1–{MAX_SENTENCE_WORDS} words"),
                );
            }
        }
        if low > high {
            return invalid("sentence_length", format!("low {low} is above high {high}"));
        }
        if !within(self.mean_word_length, 1.0, 30.0) {
            return invalid(
                "mean_word_length",
                format!("{} is outside 1–30 characters", self.mean_word_length),
            );
        }
        if let Some(ease) = self.reading_ease
            && !within(ease, -200.0, 125.0)
        {
            return invalid(
                "reading_ease",
                format!("{ease} is outside −200–125 (a Flesch score; 60 is plain English)"),
            );
        }
        for (field, share) in [
            ("emoji_text_share", self.emoji_text_share),
            ("exclamation_rate", self.exclamation_rate),
            ("question_rate", self.question_rate),
        ] {
            if !within(share, 0.0, 1.0) {
                return invalid(field, format!("{share} is outside 0–1 (a share)"));
            }
        }
        for (field, rate, max) in [
            ("emoji_per_100_words", self.emoji_per_100_words, 500.0),
            (
                "second_person_per_100_words",
                self.second_person_per_100_words,
                100.0,
            ),
            (
                "first_person_plural_per_100_words",
                self.first_person_plural_per_100_words,
                100.0,
            ),
            (
                "vocabulary_per_100_words",
                self.vocabulary_per_100_words,
                100.0,
            ),
        ] {
            if !within(rate, 0.0, max) {
                return invalid(field, format!("{rate} is outside 0–{max} per 100 words"));
            }
        }
        if (self.emoji_text_share == 0.0) != (self.emoji_per_100_words == 0.0) {
            return invalid(
                "emoji_per_100_words",
                format!(
                    "{} per 100 words contradicts an emoji_text_share of {}: both are 0 when \
                     the brand uses no emoji, or neither",
                    self.emoji_per_100_words, self.emoji_text_share
                ),
            );
        }
        self.check_vocabulary()?;
        if self.tone.len() > MAX_TONE_LABELS {
            return invalid(
                "tone",
                format!(
                    "{} labels; a voice is described in at most {MAX_TONE_LABELS}",
                    self.tone.len()
                ),
            );
        }
        if let Some(label) = self
            .tone
            .iter()
            .find(|label| label.trim().is_empty() || label.chars().count() > MAX_TONE_LABEL_CHARS)
        {
            return invalid(
                "tone",
                format!("{label:?} is not a label of 1–{MAX_TONE_LABEL_CHARS} characters"),
            );
        }
        Ok(())
    }

    fn check_vocabulary(&self) -> Result<()> {
        let invalid = |reason: String| {
            Err(StudioError::InvalidVoice {
                field: "vocabulary",
                reason,
            })
        };
        if self.vocabulary.len() > MAX_VOCABULARY {
            return invalid(format!(
                "{} entries; at most {MAX_VOCABULARY}",
                self.vocabulary.len()
            ));
        }
        let mut seen = HashSet::new();
        for entry in &self.vocabulary {
            let word = entry.word.trim();
            let spans = crate::text::words(word);
            if spans.len() != 1 || spans[0] != (0..word.len()) {
                return invalid(format!(
                    "{:?} is not one word (letters and digits only, no spaces or hyphens)",
                    entry.word
                ));
            }
            if !(entry.weight.is_finite() && entry.weight > 0.0 && entry.weight <= 1.0) {
                return invalid(format!(
                    "{:?} has weight {}; a weight is above 0 and at most 1 (remove the word \
                     instead of weighing it 0)",
                    entry.word, entry.weight
                ));
            }
            if !seen.insert(measure::term(&measure::lowercase_word(word))) {
                return invalid(format!(
                    "{:?} is listed twice (plurals and case count as the same word)",
                    entry.word
                ));
            }
        }
        if !self.vocabulary.is_empty() && self.vocabulary_per_100_words == 0.0 {
            return invalid(
                "a vocabulary needs vocabulary_per_100_words above 0: how often the brand's \
                 texts use these words (5 is common)"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Tone labels that follow from the numbers, in a stable order: "concise" or
    /// "elaborate", "enthusiastic", "playful", "conversational", "personal", "formal",
    /// "plain" or "technical"; "neutral" when none applies.
    pub fn derived_tone(&self) -> Vec<String> {
        let mut labels = Vec::new();
        let mean_sentence = self.sentence_length.mean;
        if mean_sentence <= CONCISE_SENTENCE {
            labels.push("concise");
        } else if mean_sentence >= ELABORATE_SENTENCE {
            labels.push("elaborate");
        }
        if self.exclamation_rate >= ENTHUSIASTIC_EXCLAMATIONS {
            labels.push("enthusiastic");
        }
        if self.emoji_text_share >= PLAYFUL_EMOJI_SHARE {
            labels.push("playful");
        }
        if self.second_person_per_100_words >= CONVERSATIONAL_SECOND_PERSON
            || self.question_rate >= CONVERSATIONAL_QUESTIONS
        {
            labels.push("conversational");
        }
        if self.first_person_plural_per_100_words >= PERSONAL_FIRST_PERSON {
            labels.push("personal");
        }
        let restrained = self.emoji_text_share < 0.1
            && self.exclamation_rate < 0.05
            && self.second_person_per_100_words < 1.0;
        if restrained
            && (self.mean_word_length >= FORMAL_WORD_LENGTH || mean_sentence >= FORMAL_SENTENCE)
        {
            labels.push("formal");
        }
        match self.reading_ease {
            Some(ease) if ease >= PLAIN_READING_EASE => labels.push("plain"),
            Some(ease) if ease < TECHNICAL_READING_EASE => labels.push("technical"),
            Some(_) | None => {}
        }
        if labels.is_empty() {
            labels.push("neutral");
        }
        labels.into_iter().map(str::to_owned).collect()
    }
}

/// Whether `value` is a number within `min..=max` (NaN and infinities are not).
fn within(value: f64, min: f64, max: f64) -> bool {
    value.is_finite() && (min..=max).contains(&value)
}
