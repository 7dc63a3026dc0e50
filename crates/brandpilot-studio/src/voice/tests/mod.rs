//! The voice end to end, from a marketer's side: what a profile learned from a small
//! painting studio's posts says, which edits a person may make, and which drafts read like
//! the brand. Every exact number expected is counted or computed by hand in a comment beside
//! it; the few thresholds are bounds reasoned from such numbers.

mod edit;
mod learn;
mod score;

use super::*;
use crate::language::Language;

/// Four short posts: a few words a sentence, an emoji in each, exclamations, "you" and "we".
pub(super) const PUNCHY: &[&str] = &[
    "New colours just landed! 🎨 Come paint with us this Saturday. Bring a friend! ✨",
    "Your first watercolour class is on us! 🎉 Grab a brush. We bring the paint.",
    "Rainy day? Paint it bright! 🌈 Our Saturday watercolour class has three seats left.",
    "You don't need talent. You need a brush! 🖌️ See you Saturday at the studio.",
];

/// Two long sentences (29 and 25 words) of long words: no emoji, no exclamation, no "you".
pub(super) const FORMAL: &str = "The institute offers a comprehensive programme of \
    professional development for practitioners seeking to consolidate their methodological \
    expertise, and participants receive formal certification upon successful completion of \
    the assessment requirements. Enrolment is subject to the availability of places and to \
    the prior approval of the academic committee, which evaluates each application according \
    to established criteria.";

pub(super) fn examples<'a>(texts: &[&'a str]) -> Vec<VoiceExample<'a>> {
    texts.iter().map(|text| VoiceExample::new(text)).collect()
}

pub(super) fn punchy_profile() -> VoiceProfile {
    learn_voice(&examples(PUNCHY), Language::En).unwrap()
}

/// A profile written by hand, every habit at its simplest: sentences of 3–7 words, words of
/// 4 characters, no emoji, no exclamation or question, no "you" or "we", no vocabulary and
/// no reading ease (so the readability component is word length alone).
pub(super) fn plain_profile() -> VoiceProfile {
    VoiceProfile {
        language: Language::En,
        example_count: 0,
        sentence_length: SentenceLength {
            mean: 5.0,
            low: 3.0,
            high: 7.0,
        },
        mean_word_length: 4.0,
        reading_ease: None,
        emoji_per_100_words: 0.0,
        emoji_text_share: 0.0,
        exclamation_rate: 0.0,
        question_rate: 0.0,
        second_person_per_100_words: 0.0,
        first_person_plural_per_100_words: 0.0,
        vocabulary: Vec::new(),
        vocabulary_per_100_words: 0.0,
        tone: vec!["plain".into()],
    }
}

pub(super) fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-9
}
