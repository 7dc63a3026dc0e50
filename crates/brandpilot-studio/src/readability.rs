//! How easy a text is to read: the Flesch reading ease and the Flesch–Kincaid grade level,
//! from counts of sentences, words and syllables. A brand sets a target reading level in its
//! rules; the readability validator and the SEO metadata both score text here.
//!
//! The formulas are the published ones:
//! - reading ease = 206.835 − 1.015 × (words / sentences) − 84.6 × (syllables / words)
//! - grade level = 0.39 × (words / sentences) + 11.8 × (syllables / words) − 15.59
//!
//! Syllables are counted by a heuristic on English spelling (vowel groups, a silent final
//! e, -es and -ed endings, a few vowel pairs that split); it agrees with a dictionary on
//! most common words, and the formulas themselves are calibrated for English only, so
//! callers score English text and say "not applicable" for other languages.

use crate::text::{fold_to_ascii, sentences, words};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The counts behind a score, and the scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Readability {
    pub words: usize,
    pub sentences: usize,
    pub syllables: usize,
    /// Flesch reading ease: about 0–100 for prose, higher is easier (can leave that range
    /// for very short or very long words and sentences).
    pub reading_ease: f64,
    /// Flesch–Kincaid grade level: the US school grade that can follow the text.
    pub grade_level: f64,
}

/// The words a reader reads in `text`, as byte spans: [`words`] without hashtags and
/// @mentions (links are never words). Numbers are words: read aloud, "50" is one.
pub fn prose_words(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = words(text);
    spans.retain(|span| span.start == 0 || !matches!(bytes[span.start - 1], b'#' | b'@'));
    spans
}

/// Scores `text`; `None` when it has no words. Hashtags, @mentions and links are not words
/// of the text; numbers are (read aloud, "50" is a word).
pub fn score(text: &str) -> Option<Readability> {
    let counted = prose_words(text);
    if counted.is_empty() {
        return None;
    }
    let syllable_count: usize = counted
        .iter()
        .map(|span| syllables(&text[span.clone()]))
        .sum();
    let sentence_count = sentences(text)
        .into_iter()
        .filter(|sentence| counted.iter().any(|word| sentence.contains(&word.start)))
        .count()
        .max(1);
    Some(from_counts(counted.len(), sentence_count, syllable_count))
}

/// The scores for given counts (`words` and `sentences` at least 1).
pub fn from_counts(words: usize, sentences: usize, syllables: usize) -> Readability {
    let words_per_sentence = words as f64 / sentences.max(1) as f64;
    let syllables_per_word = syllables as f64 / words.max(1) as f64;
    Readability {
        words,
        sentences,
        syllables,
        reading_ease: 206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word,
        grade_level: 0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59,
    }
}

fn is_vowel(letters: &[u8], at: usize) -> bool {
    match letters[at] {
        b'a' | b'e' | b'i' | b'o' | b'u' => true,
        // "y" is a vowel inside a word (gym, happy) and a consonant at its start (yes).
        b'y' => at > 0,
        _ => false,
    }
}

/// The syllables of one word, by English spelling. Digits-only words count one syllable per
/// two digits ("50" one, "2026" two); a word with no letters or digits counts zero.
pub fn syllables(word: &str) -> usize {
    let mut letters = Vec::with_capacity(word.len());
    let mut digits: usize = 0;
    for c in word.chars() {
        if c.is_ascii_alphabetic() {
            letters.push(c.to_ascii_lowercase() as u8);
        } else if c.is_ascii_digit() {
            digits += 1;
        } else if let Some(folded) = fold_to_ascii(c) {
            letters.extend(folded.bytes().map(|b| b.to_ascii_lowercase()));
        } else if c.is_alphabetic() {
            // A letter of another script: count it as a vowel so the word gets a syllable.
            letters.push(b'a');
        }
    }
    if letters.is_empty() {
        return digits.div_ceil(2);
    }
    let n = letters.len();
    if n <= 3 {
        return 1;
    }
    let mut count = 0;
    let mut previous_vowel = false;
    for at in 0..n {
        let vowel = is_vowel(&letters, at);
        if vowel && !previous_vowel {
            count += 1;
        }
        previous_vowel = vowel;
    }
    // Vowel pairs that are two syllables: cu-ri-ous, ra-di-o, ac-tu-al, pre-mi-um. Not in
    // -tion, -cial, -sion, -gion, -cious, nor "qu" (quality).
    for at in 1..n - 1 {
        let pair = (letters[at], letters[at + 1]);
        let before = letters[at - 1];
        let splits = match pair {
            (b'i', b'a' | b'o' | b'u') => !matches!(before, b'c' | b't' | b's' | b'g' | b'x'),
            (b'u', b'a' | b'o') => before != b'q' && before != b'g',
            _ => false,
        };
        if splits {
            count += 1;
        }
    }
    let ends_with = |suffix: &[u8]| letters.ends_with(suffix);
    let consonant_at = |at: usize| !is_vowel(&letters, at);
    // A final "é" (café, résumé) is spoken.
    let spoken_final_e = word.ends_with(['é', 'É']);
    if ends_with(b"e") && consonant_at(n - 2) && !spoken_final_e {
        // A silent final e (cake, time), but not -le after a consonant (ta-ble).
        let syllabic_le = letters[n - 2] == b'l' && n >= 3 && consonant_at(n - 3);
        if !syllabic_le {
            count -= 1;
        }
    } else if ends_with(b"es") && n >= 4 && consonant_at(n - 3) {
        // -es is silent (makes, times) unless it follows a sibilant (box-es, wish-es,
        // pla-ces, pa-ges) or a syllabic -le (ta-bles).
        let before = &letters[..n - 2];
        let sibilant = before.ends_with(b"s")
            || before.ends_with(b"x")
            || before.ends_with(b"z")
            || before.ends_with(b"ch")
            || before.ends_with(b"sh")
            || before.ends_with(b"c")
            || before.ends_with(b"g");
        let syllabic_les = before.ends_with(b"l") && n >= 5 && consonant_at(n - 4);
        if !sibilant && !syllabic_les {
            count -= 1;
        }
    } else if ends_with(b"ed") && n >= 4 && consonant_at(n - 3) {
        // -ed is silent (jumped, played) unless it follows t or d (want-ed, need-ed).
        if !matches!(letters[n - 3], b't' | b'd') {
            count -= 1;
        }
    }
    if ends_with(b"ism") {
        count += 1;
    }
    count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-9
    }

    #[test]
    fn syllables_match_the_dictionary_on_common_words() {
        // Syllable counts from a dictionary's hyphenation.
        let dictionary: &[(&str, usize)] = &[
            ("the", 1),
            ("cat", 1),
            ("cake", 1),
            ("time", 1),
            ("free", 1),
            ("queue", 1),
            ("table", 2),
            ("tables", 2),
            ("simple", 2),
            ("people", 2),
            ("people's", 2),
            ("wanted", 2),
            ("needed", 2),
            ("jumped", 1),
            ("played", 1),
            ("agreed", 2),
            ("boxes", 2),
            ("wishes", 2),
            ("places", 2),
            ("makes", 1),
            ("goes", 1),
            ("every", 3),
            ("beautiful", 3),
            ("readability", 5),
            ("complicated", 4),
            ("sentences", 3),
            ("discourage", 3),
            ("customers", 3),
            ("matters", 2),
            ("curious", 3),
            ("radio", 3),
            ("actual", 3),
            ("premium", 3),
            ("quality", 3),
            ("nation", 2),
            ("special", 2),
            ("region", 2),
            ("conscious", 2),
            ("realism", 3),
            ("marketing", 3),
            ("course", 1),
            ("watercolour", 4),
            ("brand", 1),
            ("yes", 1),
            ("happy", 2),
            ("gym", 1),
            ("created", 3),
            ("education", 4),
            ("results", 2),
            ("guarantee", 3),
            ("discover", 3),
            ("today", 2),
            ("business", 2),
        ];
        let wrong: Vec<_> = dictionary
            .iter()
            .filter(|(word, expected)| syllables(word) != *expected)
            .map(|(word, expected)| format!("{word}: {} vs {expected}", syllables(word)))
            .collect();
        // The heuristic may miss a few irregular spellings, never many.
        assert!(wrong.len() * 10 <= dictionary.len(), "{wrong:?}");
    }

    #[test]
    fn syllables_of_odd_words_are_sane() {
        assert_eq!(syllables(""), 0);
        assert_eq!(syllables("—"), 0);
        assert_eq!(syllables("50"), 1);
        assert_eq!(syllables("2026"), 2);
        assert_eq!(syllables("CAKE"), 1);
        assert_eq!(syllables("café"), 2);
        assert!(syllables("東京") >= 1);
    }

    #[test]
    fn a_sentence_of_one_syllable_words_scores_as_computed_by_hand() {
        // 6 words, 1 sentence, 6 syllables:
        // ease  = 206.835 − 1.015 × 6 − 84.6 × 1 = 206.835 − 6.09 − 84.6 = 116.145
        // grade = 0.39 × 6 + 11.8 × 1 − 15.59 = 2.34 + 11.8 − 15.59 = −1.45
        let score = score("The cat sat on the mat.").unwrap();
        assert_eq!((score.words, score.sentences, score.syllables), (6, 1, 6));
        assert!(close(score.reading_ease, 116.145), "{score:?}");
        assert!(close(score.grade_level, -1.45), "{score:?}");
    }

    #[test]
    fn dense_jargon_scores_as_computed_by_hand() {
        // Readability(5) matters(2). Complicated(4) sentences(3) discourage(3) customers(3).
        // 6 words, 2 sentences, 20 syllables: words/sentence = 3, syllables/word = 10/3.
        // ease  = 206.835 − 1.015 × 3 − 84.6 × 10/3 = 206.835 − 3.045 − 282 = −78.21
        // grade = 0.39 × 3 + 11.8 × 10/3 − 15.59 = 1.17 + 39.3333… − 15.59 = 24.91333…
        let score =
            score("Readability matters. Complicated sentences discourage customers.").unwrap();
        assert_eq!((score.words, score.sentences, score.syllables), (6, 2, 20));
        assert!(close(score.reading_ease, -78.21), "{score:?}");
        assert!(
            close(score.grade_level, 1.17 + 118.0 / 3.0 - 15.59),
            "{score:?}"
        );
    }

    #[test]
    fn a_plain_marketing_paragraph_reads_easier_than_jargon() {
        let plain = score(
            "Paint with us this spring. Bring a brush. We bring the rest. Book your seat today.",
        )
        .unwrap();
        let jargon = score(
            "Our comprehensive, interdisciplinary curriculum operationalises experiential \
             methodologies, facilitating transformational competencies.",
        )
        .unwrap();
        assert!(plain.reading_ease > 80.0, "{plain:?}");
        assert!(plain.grade_level < 4.0, "{plain:?}");
        assert!(jargon.reading_ease < 0.0, "{jargon:?}");
        assert!(jargon.grade_level > 20.0, "{jargon:?}");
    }

    #[test]
    fn hashtags_mentions_links_and_emoji_are_not_words() {
        let with_extras =
            score("Book your seat today. 🎨 #watercolour @studio https://example.com/book")
                .unwrap();
        let without = score("Book your seat today.").unwrap();
        assert_eq!(with_extras.words, without.words);
        assert_eq!(with_extras.syllables, without.syllables);
    }

    #[test]
    fn nothing_to_read_has_no_score() {
        assert_eq!(score(""), None);
        assert_eq!(score("🎉🎉 #sale"), None);
    }
}
