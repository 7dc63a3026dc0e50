//! Learning a voice profile from a brand's example texts. Each example may weigh more or
//! less (a post that performed well teaches more than one that did not); every number of
//! the profile is a weighted average over examples, so one long article counts as much as
//! one short post of the same weight.

use super::measure::{Signature, TextMeasures, measure, signature_candidates};
use super::{MAX_SENTENCE_WORDS, SIGNATURE_WORDS, SentenceLength, VocabularyEntry, VoiceProfile};
use crate::error::{Result, StudioError, invalid_input};
use crate::language::Language;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One text the brand wrote, and how much it should count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VoiceExample<'a> {
    pub text: &'a str,
    /// 1 for an ordinary example, more for one that performed better, 0 to leave it out.
    /// Never negative.
    pub weight: f64,
}

impl<'a> VoiceExample<'a> {
    /// An example of ordinary weight (1).
    pub fn new(text: &'a str) -> VoiceExample<'a> {
        VoiceExample { text, weight: 1.0 }
    }

    pub fn weighted(text: &'a str, weight: f64) -> VoiceExample<'a> {
        VoiceExample { text, weight }
    }
}

/// The voice of `examples`, written in `language`. Examples weighing 0 and examples without
/// a word (only emoji, hashtags or links) are left out; a negative or non-finite weight is
/// refused, and so is a set with no example left to learn from.
pub fn learn_voice(examples: &[VoiceExample<'_>], language: Language) -> Result<VoiceProfile> {
    if let Some((at, example)) = examples
        .iter()
        .enumerate()
        .find(|(_, example)| !(example.weight.is_finite() && example.weight >= 0.0))
    {
        return Err(invalid_input(
            "examples",
            format!(
                "example {} has weight {}; a weight is 0 (left out) or more",
                at + 1,
                example.weight
            ),
        ));
    }
    let no_signature = Signature::default();
    let usable: Vec<(VoiceExample<'_>, TextMeasures)> = examples
        .iter()
        .filter(|example| example.weight > 0.0)
        .filter_map(|example| Some((*example, measure(example.text, language, &no_signature)?)))
        .collect();
    if usable.is_empty() {
        let weighing_zero = examples.iter().filter(|e| e.weight == 0.0).count();
        return Err(StudioError::InsufficientData(format!(
            "a voice is learned from at least one example with words and a weight above 0; \
             of {} examples, {weighing_zero} weigh 0 and {} have no words",
            examples.len(),
            examples.len() - weighing_zero
        )));
    }
    // Weights relative to the heaviest keep the sums finite however large the caller's are.
    let heaviest = usable
        .iter()
        .map(|(example, _)| example.weight)
        .fold(0.0, f64::max);
    let weights: Vec<f64> = usable
        .iter()
        .map(|(example, _)| example.weight / heaviest)
        .collect();
    let total: f64 = weights.iter().sum();
    let average = |value: &dyn Fn(&TextMeasures) -> f64| {
        usable
            .iter()
            .zip(&weights)
            .map(|((_, measures), weight)| weight * value(measures))
            .sum::<f64>()
            / total
    };

    // Each example spreads its weight over its sentences, so a long text's many sentences
    // do not outvote a short one's few.
    let mut sentences: Vec<(f64, f64)> = usable
        .iter()
        .zip(&weights)
        .flat_map(|((_, measures), weight)| {
            let share = weight / measures.sentences() as f64;
            measures
                .sentence_lengths
                .iter()
                .map(move |&length| (length as f64, share))
        })
        .collect();
    sentences.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sentence_length = SentenceLength {
        mean: round(average(&TextMeasures::mean_sentence_length)).min(MAX_SENTENCE_WORDS),
        low: weighted_percentile(&sentences, total, 0.1).min(MAX_SENTENCE_WORDS),
        high: weighted_percentile(&sentences, total, 0.9).min(MAX_SENTENCE_WORDS),
    };

    let vocabulary = learn_vocabulary(&usable, &weights, total, language);
    let signature = Signature::new(&vocabulary);
    let vocabulary_per_100_words = if signature.is_empty() {
        0.0
    } else {
        let rates: Vec<f64> = usable
            .iter()
            .map(|(example, _)| {
                measure(example.text, language, &signature)
                    .map_or(0.0, |measures| measures.signature_per_100_words(&signature))
            })
            .collect();
        rates
            .iter()
            .zip(&weights)
            .map(|(rate, weight)| rate * weight)
            .sum::<f64>()
            / total
    };

    let mut emoji_text_share = round(average(&|m| f64::from(u8::from(m.emoji > 0))));
    let mut emoji_per_100_words = round(average(&|m| m.per_100_words(m.emoji))).min(500.0);
    // Rounding may take one of the two to 0 and not the other; the profile must not say
    // both "never" and "sometimes".
    if emoji_text_share == 0.0 || emoji_per_100_words == 0.0 {
        emoji_text_share = 0.0;
        emoji_per_100_words = 0.0;
    }
    let mut profile = VoiceProfile {
        language,
        example_count: usable.len(),
        sentence_length,
        mean_word_length: round(average(&TextMeasures::mean_word_length)),
        reading_ease: (language == Language::En)
            .then(|| round(average(&TextMeasures::reading_ease)).clamp(-200.0, 125.0)),
        emoji_per_100_words,
        emoji_text_share,
        exclamation_rate: round(average(&|m| m.exclamations as f64 / m.sentences() as f64)),
        question_rate: round(average(&|m| m.questions as f64 / m.sentences() as f64)),
        second_person_per_100_words: round(average(&|m| m.per_100_words(m.second_person))),
        first_person_plural_per_100_words: round(average(&|m| {
            m.per_100_words(m.first_person_plural)
        })),
        // Rounded up so a vocabulary always has a rate to be judged against.
        vocabulary_per_100_words: if vocabulary.is_empty() {
            0.0
        } else {
            round(vocabulary_per_100_words).max(0.01)
        },
        vocabulary,
        tone: Vec::new(),
    };
    profile.tone = profile.derived_tone();
    Ok(profile)
}

/// A candidate signature word across the examples.
#[derive(Default)]
struct Candidate {
    /// The weighted share of examples using it.
    share: f64,
    examples: usize,
    weighted_count: f64,
    forms: BTreeMap<String, usize>,
}

/// The words most examples use, by weighted share of examples, heaviest first. With two
/// examples or more a word must appear in at least two: one text's topic is not a habit.
fn learn_vocabulary(
    usable: &[(VoiceExample<'_>, TextMeasures)],
    weights: &[f64],
    total: f64,
    language: Language,
) -> Vec<VocabularyEntry> {
    let mut candidates: HashMap<String, Candidate> = HashMap::new();
    for ((example, _), weight) in usable.iter().zip(weights) {
        let mut seen = HashSet::new();
        for (key, surface) in signature_candidates(example.text, language) {
            let candidate = candidates.entry(key.clone()).or_default();
            candidate.weighted_count += weight;
            *candidate.forms.entry(surface).or_default() += 1;
            if seen.insert(key) {
                candidate.share += weight / total;
                candidate.examples += 1;
            }
        }
    }
    let needed = usable.len().min(2);
    let mut ranked: Vec<(String, Candidate)> = candidates
        .into_iter()
        .filter(|(_, candidate)| candidate.examples >= needed)
        .collect();
    ranked.sort_by(|(a_key, a), (b_key, b)| {
        b.share
            .total_cmp(&a.share)
            .then(b.weighted_count.total_cmp(&a.weighted_count))
            .then_with(|| a_key.cmp(b_key))
    });
    ranked.truncate(SIGNATURE_WORDS);
    ranked
        .into_iter()
        .map(|(_, candidate)| VocabularyEntry {
            // The commonest written form; the alphabetically first among equals.
            word: candidate
                .forms
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(form, _)| form.clone())
                .unwrap_or_default(),
            weight: round(candidate.share).clamp(0.01, 1.0),
        })
        .collect()
}

/// The smallest value whose cumulative weight reaches `share` of `total`, over values
/// sorted ascending with their weights. Floating sums are allowed a hair of slack, so ten
/// equal weights put the 90th percentile at the ninth value, not the tenth.
fn weighted_percentile(sorted: &[(f64, f64)], total: f64, share: f64) -> f64 {
    let target = share * total * (1.0 - 1e-9);
    let mut cumulative = 0.0;
    for &(value, weight) in sorted {
        cumulative += weight;
        if cumulative >= target {
            return value;
        }
    }
    sorted.last().map_or(0.0, |&(value, _)| value)
}

/// Two decimals: what a person reads and edits.
fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
