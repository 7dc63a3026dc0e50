//! What the voice reads in one text: sentence lengths, word lengths and syllables, emoji,
//! exclamations and questions, the words that address the reader or speak as "we", and the
//! signature words it uses. Learning and scoring both measure through here, so a text is
//! judged by exactly the counts its profile was learned from.
//!
//! Words are the prose words a reader reads ([`readability::prose_words`]: no hashtags,
//! mentions or links) and sentences are [`text::sentences`] that hold at least one of them,
//! the same counts the reading-level rule uses.

use super::VocabularyEntry;
use crate::language::Language;
use crate::readability;
use crate::text;
use brandpilot_assistant::text::is_stop_word;
use std::borrow::Cow;
use std::collections::HashMap;

/// The counts of one text with at least one word.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TextMeasures {
    pub words: usize,
    /// The word count of each sentence that has words, in order.
    pub sentence_lengths: Vec<usize>,
    /// Characters in words, summed.
    pub characters: usize,
    /// Syllables in words, summed; counted for English only (0 otherwise).
    pub syllables: usize,
    pub emoji: usize,
    /// Sentences holding an exclamation mark, and a question mark.
    pub exclamations: usize,
    pub questions: usize,
    pub second_person: usize,
    pub first_person_plural: usize,
    /// How often each signature word occurs, by its index in the [`Signature`].
    pub signature_counts: Vec<u32>,
}

impl TextMeasures {
    pub fn sentences(&self) -> usize {
        self.sentence_lengths.len()
    }

    pub fn mean_sentence_length(&self) -> f64 {
        self.words as f64 / self.sentences().max(1) as f64
    }

    pub fn mean_word_length(&self) -> f64 {
        self.characters as f64 / self.words.max(1) as f64
    }

    /// Flesch reading ease from the counts (meaningful for English only).
    pub fn reading_ease(&self) -> f64 {
        readability::from_counts(self.words, self.sentences(), self.syllables).reading_ease
    }

    pub fn per_100_words(&self, count: usize) -> f64 {
        100.0 * count as f64 / self.words.max(1) as f64
    }

    /// Signature words used, each occurrence counted by its word's relative weight and a
    /// word counted at most twice (repeating one word is stuffing, not voice), per 100
    /// words.
    pub fn signature_per_100_words(&self, signature: &Signature) -> f64 {
        let hits: f64 = self
            .signature_counts
            .iter()
            .zip(&signature.weights)
            .map(|(&count, weight)| f64::from(count.min(MAX_COUNTED_REPEATS)) * weight)
            .sum();
        100.0 * hits / self.words.max(1) as f64
    }
}

/// How many occurrences of one signature word a text gets credit for.
const MAX_COUNTED_REPEATS: u32 = 2;

/// A profile's vocabulary prepared for lookups: each word's matching form, its weight
/// relative to the heaviest entry (so only the proportions a person sets matter) and the
/// word as written.
#[derive(Debug, Clone, Default)]
pub(super) struct Signature {
    index: HashMap<String, usize>,
    /// One bit per pair of leading bytes a matching form starts with. Most words of a text
    /// share no pair with any of the 25 signature words, so they are passed over without
    /// building their matching form.
    leading_pairs: Vec<u64>,
    pub weights: Vec<f64>,
    pub words: Vec<String>,
}

impl Signature {
    pub fn new(vocabulary: &[VocabularyEntry]) -> Signature {
        let heaviest = vocabulary
            .iter()
            .map(|entry| entry.weight)
            .filter(|weight| weight.is_finite())
            .fold(0.0, f64::max);
        let mut signature = Signature {
            leading_pairs: vec![0; 1 << 10],
            ..Signature::default()
        };
        for entry in vocabulary {
            let word = entry.word.trim();
            let key = term(&lowercase_word(word));
            if key.is_empty() || signature.index.contains_key(&key) {
                continue;
            }
            if let [first, second, ..] = *key.as_bytes() {
                let pair = leading_pair(first, second);
                signature.leading_pairs[pair >> 6] |= 1 << (pair & 63);
            }
            let relative = if heaviest > 0.0 && entry.weight.is_finite() {
                (entry.weight / heaviest).clamp(0.0, 1.0)
            } else {
                0.0
            };
            signature.index.insert(key, signature.weights.len());
            signature.weights.push(relative);
            signature.words.push(word.to_owned());
        }
        signature
    }

    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    fn find(&self, lower_word: &str) -> Option<usize> {
        let form = trimmed_form(lower_word);
        let worth_looking = match *form.as_bytes() {
            [first, second, ..] => {
                let pair = leading_pair(first, second);
                self.leading_pairs
                    .get(pair >> 6)
                    .is_some_and(|bits| bits & (1 << (pair & 63)) != 0)
            }
            [_] => true,
            [] => false,
        };
        if !worth_looking {
            return None;
        }
        self.index.get(&crate::seo::term_key(&form)).copied()
    }
}

fn leading_pair(first: u8, second: u8) -> usize {
    usize::from(first) << 8 | usize::from(second)
}

/// Measures `text` as a voice in `language` reads it; `None` when it has no words.
pub(super) fn measure(
    text: &str,
    language: Language,
    signature: &Signature,
) -> Option<TextMeasures> {
    let spans = readability::prose_words(text);
    if spans.is_empty() {
        return None;
    }
    let pronouns = Pronouns::of(language);
    let english = language == Language::En;
    // Lower-casing ASCII keeps every byte where it was, so one pass serves all words;
    // otherwise each word is lower-cased into one reused buffer.
    let ascii_lower = text.is_ascii().then(|| text.to_ascii_lowercase());
    let mut buffer = String::new();
    let mut measures = TextMeasures {
        words: spans.len(),
        sentence_lengths: Vec::new(),
        characters: 0,
        syllables: 0,
        emoji: text::emoji_count(text),
        exclamations: 0,
        questions: 0,
        second_person: 0,
        first_person_plural: 0,
        signature_counts: vec![0; signature.weights.len()],
    };
    for span in &spans {
        let word = &text[span.clone()];
        let lower = match &ascii_lower {
            Some(lower) => &lower[span.clone()],
            None => {
                lower_into(word, &mut buffer);
                buffer.as_str()
            }
        };
        measures.characters += word.chars().count();
        if english {
            measures.syllables += readability::syllables(word);
        }
        match pronouns.person(word, lower) {
            Some(Person::Second) => measures.second_person += 1,
            Some(Person::FirstPlural) => measures.first_person_plural += 1,
            None => {}
        }
        if !signature.is_empty()
            && let Some(at) = signature.find(lower)
        {
            measures.signature_counts[at] += 1;
        }
    }
    let mut next_word = 0;
    for sentence in text::sentences(text) {
        while next_word < spans.len() && spans[next_word].start < sentence.start {
            next_word += 1;
        }
        let first = next_word;
        while next_word < spans.len() && spans[next_word].start < sentence.end {
            next_word += 1;
        }
        if next_word > first {
            measures.sentence_lengths.push(next_word - first);
            let sentence = &text[sentence];
            measures.exclamations += usize::from(sentence.contains(['!', '！']));
            measures.questions += usize::from(sentence.contains(['?', '？']));
        }
    }
    Some(measures)
}

/// The content words of `text` that could be signature words, as (matching form, form
/// written in lower case without possessive or elided article): three letters or more, no
/// digits, not a stop word, not a word that addresses the reader or speaks as "we" (the
/// address component covers those).
pub(super) fn signature_candidates(text: &str, language: Language) -> Vec<(String, String)> {
    let pronouns = Pronouns::of(language);
    readability::prose_words(text)
        .into_iter()
        .filter_map(|span| {
            let word = &text[span];
            let lower = lowercase_word(word);
            if is_stop_word(&lower) || pronouns.person(word, &lower).is_some() {
                return None;
            }
            let key = term(&lower);
            let letters = key.chars().filter(|c| c.is_alphabetic()).count();
            let only_letters = key.chars().all(|c| c.is_alphabetic() || c == '\'');
            (letters >= 3 && only_letters && !is_stop_word(&key))
                .then(|| (key, trimmed_form(&lower).into_owned()))
        })
        .collect()
}

/// The form a word is matched in: lower case (the caller's), a straight apostrophe, no
/// possessive `'s`, no elided article or pronoun (`l'atelier` → `atelier`), plurals with
/// their singular (`classes` → `class`).
pub(super) fn term(lower_word: &str) -> String {
    crate::seo::term_key(&trimmed_form(lower_word))
}

/// `term` before plurals meet their singular: the apostrophe straightened, the possessive
/// and the elision taken off. The plural grouping after it only changes endings and always
/// leaves two bytes or more, so a word's form and its term start with the same two bytes:
/// what [`Signature`]'s leading pairs rely on.
fn trimmed_form(lower_word: &str) -> Cow<'_, str> {
    let mut word = Cow::Borrowed(lower_word);
    if word.contains('’') {
        word = Cow::Owned(word.replace('’', "'"));
    }
    if word.len() > 3 && word.ends_with("'s") {
        match &mut word {
            Cow::Borrowed(borrowed) => *borrowed = &borrowed[..borrowed.len() - 2],
            Cow::Owned(owned) => owned.truncate(owned.len() - 2),
        }
    }
    if let Some(apostrophe) = word.find('\'')
        && (1..=2).contains(&word[..apostrophe].chars().count())
    {
        match &mut word {
            Cow::Borrowed(borrowed) => *borrowed = &borrowed[apostrophe + 1..],
            Cow::Owned(owned) => {
                owned.drain(..=apostrophe);
            }
        }
    }
    word
}

/// `word` in lower case, letter by letter (the same wherever the voice lower-cases a word).
pub(super) fn lowercase_word(word: &str) -> String {
    let mut lower = String::with_capacity(word.len());
    lower_into(word, &mut lower);
    lower
}

fn lower_into(word: &str, buffer: &mut String) {
    buffer.clear();
    buffer.extend(word.chars().flat_map(char::to_lowercase));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Person {
    Second,
    FirstPlural,
}

/// The words of one language that address the reader or speak as "we", in lower case.
/// Words that mean something else as often (Portuguese "nos" is also "in the", Italian "ci"
/// also "there", German "ihr" also "her") are left out: a miss costs less than a false
/// count.
struct Pronouns {
    second_person: &'static [&'static str],
    first_person_plural: &'static [&'static str],
    /// Formal address matched in its exact case (German "Sie", "Ihnen"): in lower case they
    /// are "they" and "them".
    formal_second_person: &'static [&'static str],
}

impl Pronouns {
    fn of(language: Language) -> Pronouns {
        let (second_person, first_person_plural, formal_second_person): (
            &'static [&'static str],
            &'static [&'static str],
            &'static [&'static str],
        ) = match language {
            Language::En => (
                &["you", "your", "yours", "yourself", "yourselves", "y'all"],
                &["we", "our", "ours", "us", "ourselves", "let's"],
                &[],
            ),
            Language::Fr => (
                &[
                    "vous", "votre", "vos", "vôtre", "vôtres", "tu", "te", "t", "toi", "ton", "ta",
                    "tes",
                ],
                &["nous", "notre", "nos", "nôtre", "nôtres"],
                &[],
            ),
            Language::Es => (
                &[
                    "tú", "tu", "tus", "te", "ti", "contigo", "tuyo", "tuya", "tuyos", "tuyas",
                    "usted", "ustedes", "vosotros", "vosotras", "vuestro", "vuestra", "vuestros",
                    "vuestras", "os",
                ],
                &[
                    "nosotros", "nosotras", "nuestro", "nuestra", "nuestros", "nuestras", "nos",
                ],
                &[],
            ),
            Language::De => (
                &[
                    "du", "dich", "dir", "dein", "deine", "deinen", "deinem", "deiner", "deines",
                    "euch", "euer", "eure", "euren", "eurem", "eurer", "eures",
                ],
                &[
                    "wir", "uns", "unser", "unsere", "unseren", "unserem", "unserer", "unseres",
                ],
                &[
                    "Sie", "Ihnen", "Ihr", "Ihre", "Ihren", "Ihrem", "Ihrer", "Ihres",
                ],
            ),
            Language::It => (
                &[
                    "tu", "te", "ti", "t", "tuo", "tua", "tuoi", "tue", "voi", "vostro", "vostra",
                    "vostri", "vostre",
                ],
                &["noi", "nostro", "nostra", "nostri", "nostre"],
                &[],
            ),
            Language::Pt => (
                &[
                    "você", "vocês", "tu", "te", "ti", "contigo", "teu", "tua", "teus", "tuas",
                    "convosco", "vosso", "vossa", "vossos", "vossas",
                ],
                &[
                    "nós", "nosso", "nossa", "nossos", "nossas", "conosco", "connosco",
                ],
                &[],
            ),
            Language::Nl => (
                &["je", "jij", "jou", "jouw", "jouwe", "jullie", "u", "uw"],
                &["we", "wij", "ons", "onze"],
                &[],
            ),
        };
        Pronouns {
            second_person,
            first_person_plural,
            formal_second_person,
        }
    }

    /// Whether `word` (and its lower case) addresses the reader or speaks as "we". A
    /// contraction or elision counts by its pronoun: "you're", "we'll", "t'attend".
    fn person(&self, word: &str, lower: &str) -> Option<Person> {
        if self.formal_second_person.contains(&word) {
            return Some(Person::Second);
        }
        // "US" in capitals is the country, not "us".
        if word == "US" {
            return None;
        }
        let classify = |candidate: &str| {
            if self.second_person.contains(&candidate) {
                Some(Person::Second)
            } else if self.first_person_plural.contains(&candidate) {
                Some(Person::FirstPlural)
            } else {
                None
            }
        };
        let straight;
        let lower = if lower.contains('’') {
            straight = lower.replace('’', "'");
            straight.as_str()
        } else {
            lower
        };
        classify(lower).or_else(|| {
            let apostrophe = lower.find('\'')?;
            classify(&lower[..apostrophe])
        })
    }
}
