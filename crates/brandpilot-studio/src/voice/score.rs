//! How consistent a text is with a voice profile: one closeness in 0–1 per component
//! (sentence length, word length and reading ease, emoji habit, punctuation energy, address,
//! signature vocabulary) and their weighted mean. Every closeness is a smooth function of
//! the distance between the text's number and the profile's, scaled by a tolerance with a
//! floor, so a 20-word post is not judged as precisely as a 400-word article and a profile
//! learned from one example does not demand an exact match.
//!
//! Short texts are noisy: one exclamation in a one-sentence post is 100% of its sentences.
//! Rates are therefore judged as if the text had one more sentence (or ten more words) of
//! the brand's usual kind, which pulls a short text's rate toward the profile in proportion
//! to how little evidence it holds.

use super::measure::{Signature, TextMeasures, measure};
use super::{SentenceLength, VoiceProfile};
use crate::language::Language;
use serde::{Deserialize, Serialize};

/// One aspect of a voice a text is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceComponent {
    /// Each sentence against the brand's usual range of sentence lengths.
    SentenceLength,
    /// Characters per word and, in English, the Flesch reading ease.
    Readability,
    /// Whether the text uses emoji as often as the brand's texts do, and as many.
    Emoji,
    /// Exclamations and questions per sentence.
    Punctuation,
    /// Addressing the reader ("you") and speaking as the brand ("we"), per 100 words.
    Address,
    /// The brand's signature words, per 100 words.
    Vocabulary,
}

impl VoiceComponent {
    /// Every component, in report order.
    pub const ALL: [VoiceComponent; 6] = [
        VoiceComponent::SentenceLength,
        VoiceComponent::Readability,
        VoiceComponent::Emoji,
        VoiceComponent::Punctuation,
        VoiceComponent::Address,
        VoiceComponent::Vocabulary,
    ];

    /// The wire name (`sentence_length`).
    pub fn code(self) -> &'static str {
        match self {
            VoiceComponent::SentenceLength => "sentence_length",
            VoiceComponent::Readability => "readability",
            VoiceComponent::Emoji => "emoji",
            VoiceComponent::Punctuation => "punctuation",
            VoiceComponent::Address => "address",
            VoiceComponent::Vocabulary => "vocabulary",
        }
    }

    /// The component's share of the score when every component applies. Sentence length
    /// weighs most: it is what a reader notices first about a register.
    pub fn weight(self) -> f64 {
        match self {
            VoiceComponent::SentenceLength => 0.25,
            VoiceComponent::Readability
            | VoiceComponent::Emoji
            | VoiceComponent::Punctuation
            | VoiceComponent::Address
            | VoiceComponent::Vocabulary => 0.15,
        }
    }
}

/// How one component judged the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentScore {
    pub component: VoiceComponent,
    /// 0 (nothing like the brand) to 1 (just like it).
    pub score: f64,
    /// The component's share of [`VoiceScore::score`]: its weight among the components that
    /// applied to this text and profile.
    pub weight: f64,
    /// What the text does against what the brand does, in a marketer's words.
    pub note: String,
}

/// How consistent a text is with a voice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoiceScore {
    /// 0 to 1: the weighted mean of the components. 0 for a text without a word.
    pub score: f64,
    /// The words the text was judged on (hashtags, mentions and links left out).
    pub words: usize,
    /// The components that applied, in [`VoiceComponent::ALL`] order: vocabulary only when
    /// the profile has one. Empty for a text without a word.
    pub components: Vec<ComponentScore>,
}

impl VoiceScore {
    /// How `component` judged the text, if it applied.
    pub fn component(&self, component: VoiceComponent) -> Option<&ComponentScore> {
        self.components
            .iter()
            .find(|score| score.component == component)
    }
}

/// Sentences within this share of the brand's mean length (or `MIN_SENTENCE_TOLERANCE`
/// words, whichever is more) outside its usual range still score above 0.6.
const SENTENCE_TOLERANCE_SHARE: f64 = 0.25;
const MIN_SENTENCE_TOLERANCE: f64 = 2.0;
/// Characters per word: a tenth of the brand's mean, at least 0.4 characters.
const WORD_LENGTH_TOLERANCE_SHARE: f64 = 0.1;
const MIN_WORD_LENGTH_TOLERANCE: f64 = 0.4;
/// Flesch reading ease points; a short text's score swings by about this much.
const READING_EASE_TOLERANCE: f64 = 15.0;
/// Emoji per 100 words: half the brand's rate, at least 2.
const EMOJI_TOLERANCE_SHARE: f64 = 0.5;
const MIN_EMOJI_TOLERANCE: f64 = 2.0;
/// Share of sentences that exclaim or ask.
const PUNCTUATION_TOLERANCE: f64 = 0.25;
/// "You" and "we" per 100 words: half the brand's rate, at least 1.5.
const ADDRESS_TOLERANCE_SHARE: f64 = 0.5;
const MIN_ADDRESS_TOLERANCE: f64 = 1.5;
/// The evidence of the brand's own habit a text's rates are pooled with.
const PRIOR_SENTENCES: f64 = 1.0;
const PRIOR_WORDS: f64 = 10.0;
/// Signature words at half the rate of the brand's own examples earn full marks: the
/// examples' rate is flattering, since the vocabulary was picked from them.
const VOCABULARY_FULL_SHARE: f64 = 0.5;

/// A voice profile prepared for scoring many texts: its vocabulary is indexed once. Build it
/// once per brand and generation. The profile should have passed [`VoiceProfile::check`];
/// if it did not, scores stay within 0–1 but mean little.
#[derive(Debug, Clone)]
pub struct CompiledVoice {
    profile: VoiceProfile,
    signature: Signature,
}

impl CompiledVoice {
    pub fn new(profile: &VoiceProfile) -> CompiledVoice {
        CompiledVoice {
            profile: profile.clone(),
            signature: Signature::new(&profile.vocabulary),
        }
    }

    pub fn profile(&self) -> &VoiceProfile {
        &self.profile
    }

    /// How consistent `text` is with the voice.
    pub fn score(&self, text: &str) -> VoiceScore {
        let Some(measures) = measure(text, self.profile.language, &self.signature) else {
            return VoiceScore {
                score: 0.0,
                words: 0,
                components: Vec::new(),
            };
        };
        let mut components = vec![
            self.sentence_length(&measures),
            self.readability(&measures),
            self.emoji(&measures),
            self.punctuation(&measures),
            self.address(&measures),
        ];
        if !self.signature.is_empty() && self.profile.vocabulary_per_100_words > 0.0 {
            components.push(self.vocabulary(&measures));
        }
        let total_weight: f64 = components.iter().map(|c| c.component.weight()).sum();
        let mut score = 0.0;
        for component in &mut components {
            component.score = unit(component.score);
            component.weight = component.component.weight() / total_weight;
            score += component.weight * component.score;
        }
        VoiceScore {
            score: unit(score),
            words: measures.words,
            components,
        }
    }

    fn sentence_length(&self, measures: &TextMeasures) -> ComponentScore {
        let SentenceLength { mean, low, high } = self.profile.sentence_length;
        let tolerance = (SENTENCE_TOLERANCE_SHARE * mean).max(MIN_SENTENCE_TOLERANCE);
        let lengths = &measures.sentence_lengths;
        let total: f64 = lengths
            .iter()
            .map(|&length| band_closeness(length as f64, low, high, tolerance))
            .sum();
        let inside = lengths
            .iter()
            .filter(|&&length| (low..=high).contains(&(length as f64)))
            .count();
        component(
            VoiceComponent::SentenceLength,
            total / lengths.len().max(1) as f64,
            format!(
                "{inside} of {} sentences run {}–{} words like the brand's; these average {}",
                lengths.len(),
                shown(low),
                shown(high),
                shown(measures.mean_sentence_length())
            ),
        )
    }

    fn readability(&self, measures: &TextMeasures) -> ComponentScore {
        let profile = &self.profile;
        let tolerance =
            (WORD_LENGTH_TOLERANCE_SHARE * profile.mean_word_length).max(MIN_WORD_LENGTH_TOLERANCE);
        let word_length = measures.mean_word_length();
        let by_length = gaussian_closeness(word_length - profile.mean_word_length, tolerance);
        let mut note = format!(
            "words average {} characters (the brand's {})",
            shown(word_length),
            shown(profile.mean_word_length)
        );
        // Syllables are counted for English only, so is the reading ease.
        let score = match profile.reading_ease {
            Some(brand_ease) if profile.language == Language::En => {
                let ease = measures.reading_ease();
                note.push_str(&format!(
                    "; reading ease {} (the brand's {})",
                    ease.round(),
                    brand_ease.round()
                ));
                (by_length + gaussian_closeness(ease - brand_ease, READING_EASE_TOLERANCE)) / 2.0
            }
            Some(_) | None => by_length,
        };
        component(VoiceComponent::Readability, score, note)
    }

    fn emoji(&self, measures: &TextMeasures) -> ComponentScore {
        let share = self.profile.emoji_text_share.clamp(0.0, 1.0);
        // The likelier of "with emoji" and "without" scores 1, the other in proportion.
        let likelier = share.max(1.0 - share);
        let rate = measures.per_100_words(measures.emoji);
        let habit = if share == 0.0 {
            "the brand uses none".to_owned()
        } else {
            format!(
                "the brand uses emoji in {}% of its texts, {} per 100 words when it does",
                (share * 100.0).round(),
                shown(self.profile.emoji_per_100_words / share)
            )
        };
        let (score, note) = if measures.emoji == 0 {
            ((1.0 - share) / likelier, format!("no emoji; {habit}"))
        } else {
            let presence = share / likelier;
            let by_rate = if share > 0.0 {
                let expected = self.profile.emoji_per_100_words / share;
                let tolerance = (EMOJI_TOLERANCE_SHARE * expected).max(MIN_EMOJI_TOLERANCE);
                gaussian_closeness(rate - expected, tolerance)
            } else {
                0.0
            };
            (
                presence * by_rate,
                format!(
                    "{} emoji ({} per 100 words); {habit}",
                    measures.emoji,
                    shown(rate)
                ),
            )
        };
        component(VoiceComponent::Emoji, score, note)
    }

    fn punctuation(&self, measures: &TextMeasures) -> ComponentScore {
        let sentences = measures.sentences() as f64;
        // The text's share pooled with one sentence at the brand's rate, minus the brand's
        // rate: (count + rate) / (sentences + 1) − rate.
        let closeness = |count: usize, brand_rate: f64| {
            let distance = (count as f64 - sentences * brand_rate) / (sentences + PRIOR_SENTENCES);
            gaussian_closeness(distance, PUNCTUATION_TOLERANCE)
        };
        let exclaiming = closeness(measures.exclamations, self.profile.exclamation_rate);
        let asking = closeness(measures.questions, self.profile.question_rate);
        component(
            VoiceComponent::Punctuation,
            (exclaiming + asking) / 2.0,
            format!(
                "{} of {} sentences exclaim and {} ask (the brand: {}% and {}%)",
                measures.exclamations,
                measures.sentences(),
                measures.questions,
                (self.profile.exclamation_rate * 100.0).round(),
                (self.profile.question_rate * 100.0).round()
            ),
        )
    }

    fn address(&self, measures: &TextMeasures) -> ComponentScore {
        let words = measures.words as f64;
        // The text's rate pooled with ten words at the brand's rate, minus the brand's rate.
        let closeness = |count: usize, brand_rate: f64| {
            let distance = (100.0 * count as f64 - words * brand_rate) / (words + PRIOR_WORDS);
            let tolerance = (ADDRESS_TOLERANCE_SHARE * brand_rate).max(MIN_ADDRESS_TOLERANCE);
            gaussian_closeness(distance, tolerance)
        };
        let profile = &self.profile;
        let to_reader = closeness(measures.second_person, profile.second_person_per_100_words);
        let as_brand = closeness(
            measures.first_person_plural,
            profile.first_person_plural_per_100_words,
        );
        component(
            VoiceComponent::Address,
            (to_reader + as_brand) / 2.0,
            format!(
                "per 100 words, {} addressing the reader and {} speaking as \"we\" (the \
                 brand: {} and {})",
                shown(measures.per_100_words(measures.second_person)),
                shown(measures.per_100_words(measures.first_person_plural)),
                shown(profile.second_person_per_100_words),
                shown(profile.first_person_plural_per_100_words)
            ),
        )
    }

    fn vocabulary(&self, measures: &TextMeasures) -> ComponentScore {
        let rate = measures.signature_per_100_words(&self.signature);
        let full_marks = VOCABULARY_FULL_SHARE * self.profile.vocabulary_per_100_words;
        let used: Vec<&str> = measures
            .signature_counts
            .iter()
            .zip(&self.signature.words)
            .filter(|(count, _)| **count > 0)
            .map(|(_, word)| word.as_str())
            .collect();
        let named = used.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        let note = if used.is_empty() {
            format!(
                "none of the brand's signature words; its texts use {} per 100 words",
                shown(self.profile.vocabulary_per_100_words)
            )
        } else {
            format!(
                "{} signature words ({named}{}): {} per 100 words, full marks from {}",
                used.len(),
                if used.len() > 5 { ", …" } else { "" },
                shown(rate),
                shown(full_marks)
            )
        };
        component(
            VoiceComponent::Vocabulary,
            (rate / full_marks).min(1.0),
            note,
        )
    }
}

/// How consistent `text` is with `profile`. For many texts, build a [`CompiledVoice`] once.
pub fn voice_consistency(profile: &VoiceProfile, text: &str) -> VoiceScore {
    CompiledVoice::new(profile).score(text)
}

fn component(component: VoiceComponent, score: f64, note: String) -> ComponentScore {
    ComponentScore {
        component,
        score,
        weight: component.weight(),
        note,
    }
}

/// exp(−½ (distance / tolerance)²): 1 at no distance, 0.61 at one tolerance, 0.14 at two,
/// 0.01 at three.
fn gaussian_closeness(distance: f64, tolerance: f64) -> f64 {
    let z = distance / tolerance;
    unit((-0.5 * z * z).exp())
}

/// 1 inside `low..=high`, then falling off with the distance to the nearer end.
fn band_closeness(value: f64, low: f64, high: f64, tolerance: f64) -> f64 {
    let distance = if value < low {
        low - value
    } else if value > high {
        value - high
    } else {
        0.0
    };
    gaussian_closeness(distance, tolerance)
}

/// `value` within 0–1; 0 for NaN, so an unchecked profile cannot make a score leave 0–1.
fn unit(value: f64) -> f64 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    }
}

/// A number as a person reads it: whole when it is, else one decimal.
fn shown(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 {
        // Adding 0 turns a rounded −0 into 0.
        format!("{}", value.round() + 0.0)
    } else {
        format!("{value:.1}")
    }
}
