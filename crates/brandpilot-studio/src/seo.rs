//! SEO metadata for a blog article or landing page: keywords, a title that shows whole in
//! search results (≤ 60 characters), a meta description that is not cut off (≤ 155), a URL
//! slug, and the readability score.
//!
//! Keywords come from two places. The brief's own terms are weighted by TF-IDF against the
//! brand's documents, so what makes this piece specific ("watercolour", "Leeds") outranks
//! what every page of the brand says ("course"). The documents' own TF-IDF terms add what
//! the brand is known for. Terms are single words and two-word phrases without stop words;
//! plurals are grouped with their singular. The caller passes the documents' text: this
//! module reads nothing.

use crate::error::{Result, StudioError};
use crate::language::Language;
use crate::readability::{self, Readability};
use crate::text::{fold_to_ascii, lowercase, sentences, words};
use brandpilot_assistant::text::is_stop_word;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const TITLE_MAX_CHARS: usize = 60;
pub const META_DESCRIPTION_MAX_CHARS: usize = 155;
pub const SLUG_MAX_CHARS: usize = 60;

/// Where a keyword came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordSource {
    /// The brief, and the brand's documents never use it.
    Brief,
    /// The brand's documents only.
    Corpus,
    /// Both.
    Both,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keyword {
    pub term: String,
    /// Relative weight, highest first; comparable within one list only.
    pub score: f64,
    pub source: KeywordSource,
}

/// Inverse document frequency with smoothing: ln((1 + n) / (1 + df)) + 1. A term in every
/// document weighs 1, a term in none ln(1 + n) + 1.
pub fn inverse_document_frequency(document_frequency: usize, documents: usize) -> f64 {
    ((1 + documents) as f64 / (1 + document_frequency) as f64).ln() + 1.0
}

/// TF-IDF of a term seen `count` times in a text of `length` terms.
pub fn tf_idf(count: usize, length: usize, document_frequency: usize, documents: usize) -> f64 {
    if length == 0 {
        return 0.0;
    }
    count as f64 / length as f64 * inverse_document_frequency(document_frequency, documents)
}

/// The grouping key of a word: plurals meet their singular ("courses" → "course",
/// "classes" → "class", "studies" → "study").
pub(crate) fn term_key(word: &str) -> String {
    if word.len() > 4 && word.ends_with("ies") {
        format!("{}y", &word[..word.len() - 3])
    } else if word.len() > 4
        && (word.ends_with("sses")
            || word.ends_with("shes")
            || word.ends_with("ches")
            || word.ends_with("xes"))
    {
        word[..word.len() - 2].to_owned()
    } else if word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

/// The terms of a text: single content words and adjacent pairs of them, each with its
/// grouping key and the form written.
struct Terms {
    /// key → (count, surface forms and their counts)
    counts: HashMap<String, (usize, BTreeMap<String, usize>)>,
    unigrams: usize,
}

fn is_content_word(word: &str) -> bool {
    word.chars().count() >= 3 && word.chars().any(char::is_alphabetic) && !is_stop_word(word)
}

fn extract_terms(text: &str) -> Terms {
    let lower = lowercase(text);
    let mut terms = Terms {
        counts: HashMap::new(),
        unigrams: 0,
    };
    let add = |key: String, surface: String, terms: &mut Terms| {
        let entry = terms.counts.entry(key).or_default();
        entry.0 += 1;
        *entry.1.entry(surface).or_default() += 1;
    };
    let spans = words(&lower);
    let mut previous: Option<(usize, String, String)> = None;
    for span in spans {
        let word = crate::validate::match_form(&lower[span.clone()]);
        if !is_content_word(&word) {
            previous = None;
            continue;
        }
        let key = term_key(&word);
        terms.unigrams += 1;
        add(key.clone(), word.clone(), &mut terms);
        if let Some((end, previous_key, previous_word)) = previous.take() {
            let gap = &lower[end..span.start];
            if gap.chars().all(|c| c == ' ' || c == '-') {
                add(
                    format!("{previous_key} {key}"),
                    format!("{previous_word} {word}"),
                    &mut terms,
                );
            }
        }
        previous = Some((span.end, key, word));
    }
    terms
}

fn most_common_form(forms: &BTreeMap<String, usize>) -> String {
    forms
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(form, _)| form.clone())
        .unwrap_or_default()
}

/// Phrases count a little more than single words: "watercolour course" says more than either.
const PHRASE_WEIGHT: f64 = 1.5;
/// How much the brand's own terms weigh against the brief's: the strongest of them ranks
/// with a brief term a quarter as strong as the brief's best.
const CORPUS_WEIGHT: f64 = 0.25;

/// Up to `limit` keywords for a piece written from `brief`, against the brand's `documents`.
pub fn keywords(brief: &str, documents: &[&str], limit: usize) -> Vec<Keyword> {
    let brief_terms = extract_terms(brief);
    let document_terms: Vec<Terms> = documents
        .iter()
        .map(|document| extract_terms(document))
        .collect();
    let n = documents.len();
    let mut document_frequency: HashMap<&str, usize> = HashMap::new();
    for terms in &document_terms {
        for key in terms.counts.keys() {
            *document_frequency.entry(key.as_str()).or_default() += 1;
        }
    }
    let weight = |key: &str| {
        if key.contains(' ') {
            PHRASE_WEIGHT
        } else {
            1.0
        }
    };
    let df = |key: &str| document_frequency.get(key).copied().unwrap_or(0);

    let brief_scores: HashMap<&str, f64> = brief_terms
        .counts
        .iter()
        .map(|(key, (count, _))| {
            (
                key.as_str(),
                tf_idf(*count, brief_terms.unigrams, df(key), n) * weight(key),
            )
        })
        .collect();
    let mut corpus_scores: HashMap<&str, f64> = HashMap::new();
    for terms in &document_terms {
        for (key, (count, _)) in &terms.counts {
            *corpus_scores.entry(key.as_str()).or_default() +=
                tf_idf(*count, terms.unigrams, df(key), n) * weight(key) / n as f64;
        }
    }
    let max_of = |scores: &HashMap<&str, f64>| scores.values().copied().fold(0.0, f64::max);
    let (brief_max, corpus_max) = (max_of(&brief_scores), max_of(&corpus_scores));
    let normalised = |score: f64, max: f64| if max > 0.0 { score / max } else { 0.0 };

    let mut surface: HashMap<&str, BTreeMap<String, usize>> = HashMap::new();
    for terms in document_terms.iter().chain(std::iter::once(&brief_terms)) {
        for (key, (_, forms)) in &terms.counts {
            let merged = surface.entry(key.as_str()).or_default();
            for (form, count) in forms {
                *merged.entry(form.clone()).or_default() += count;
            }
        }
    }
    let keys: HashSet<&str> = brief_scores
        .keys()
        .chain(corpus_scores.keys())
        .copied()
        .collect();
    let mut found: Vec<Keyword> = keys
        .into_iter()
        .map(|key| {
            // A brief term's weight already reflects the documents through its IDF; the
            // documents' own scores only rank the terms the brief does not use.
            let (score, source) = match brief_scores.get(key) {
                Some(&score) if df(key) > 0 => (normalised(score, brief_max), KeywordSource::Both),
                Some(&score) => (normalised(score, brief_max), KeywordSource::Brief),
                None => (
                    normalised(corpus_scores.get(key).copied().unwrap_or(0.0), corpus_max)
                        * CORPUS_WEIGHT,
                    KeywordSource::Corpus,
                ),
            };
            // The brief's own form wins: it is how this piece will say it.
            let term = brief_terms
                .counts
                .get(key)
                .map(|(_, forms)| most_common_form(forms))
                .unwrap_or_else(|| most_common_form(&surface[key]));
            Keyword {
                term,
                score,
                source,
            }
        })
        .collect();
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.term.cmp(&b.term))
    });
    found.truncate(limit);
    found
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` cut to at most `max` characters at a word boundary, without trailing stop words
/// or punctuation ("…painting for" → "…painting").
fn cut_at_word(text: &str, max: usize) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let mut length = 0;
    for word in text.split(' ') {
        let added = word.chars().count() + usize::from(!kept.is_empty());
        if length + added > max {
            break;
        }
        length += added;
        kept.push(word);
    }
    while let Some(last) = kept.last() {
        let bare = last.trim_end_matches(|c: char| !c.is_alphanumeric());
        if bare.is_empty() || is_stop_word(&lowercase(bare)) {
            kept.pop();
        } else {
            break;
        }
    }
    let joined = kept.join(" ");
    joined
        .trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')' && c != '"' && c != '”')
        .to_owned()
}

/// A page title of at most 60 characters: the headline, with " | Brand" when it fits, cut
/// at a word boundary when the headline alone is too long.
pub fn seo_title(headline: &str, brand: Option<&str>) -> String {
    let headline = collapse_whitespace(headline);
    let headline = headline.trim_end_matches('.');
    if let Some(brand) = brand.map(collapse_whitespace).filter(|b| !b.is_empty()) {
        let with_brand = format!("{headline} | {brand}");
        if with_brand.chars().count() <= TITLE_MAX_CHARS {
            return with_brand;
        }
    }
    if headline.chars().count() <= TITLE_MAX_CHARS {
        return headline.to_owned();
    }
    cut_at_word(headline, TITLE_MAX_CHARS)
}

/// A meta description of at most 155 characters: whole sentences when they fill most of it,
/// otherwise cut at a word boundary with an ellipsis.
pub fn meta_description(text: &str) -> String {
    let text = collapse_whitespace(text);
    if text.chars().count() <= META_DESCRIPTION_MAX_CHARS {
        return text;
    }
    let whole_sentences = sentences(&text)
        .into_iter()
        .map(|span| &text[..span.end])
        .take_while(|prefix| prefix.chars().count() <= META_DESCRIPTION_MAX_CHARS)
        .last();
    if let Some(prefix) = whole_sentences
        && prefix.chars().count() >= 100
    {
        return prefix.to_owned();
    }
    format!("{}…", cut_at_word(&text, META_DESCRIPTION_MAX_CHARS - 1))
}

/// A URL slug: lower case, accents folded to ASCII where simple (other letters kept),
/// words joined by hyphens, stop words dropped, at most 60 characters cut at a hyphen. A
/// text of stop words only has no slug.
pub fn slugify(text: &str) -> Result<String> {
    let lower = lowercase(text);
    let mut folded = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c == '\'' || c == '’' {
            continue;
        }
        match fold_to_ascii(c) {
            Some(ascii) => folded.push_str(ascii),
            None if c.is_alphanumeric() => folded.push(c),
            None => folded.push(' '),
        }
    }
    let all: Vec<&str> = folded.split_whitespace().collect();
    let content: Vec<&str> = all
        .iter()
        .copied()
        .filter(|word| !is_stop_word(word))
        .collect();
    if content.is_empty() {
        return Err(StudioError::EmptySlug(text.to_owned()));
    }
    let mut slug = String::new();
    for word in content {
        let extra = word.chars().count() + usize::from(!slug.is_empty());
        if slug.chars().count() + extra > SLUG_MAX_CHARS {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(word);
    }
    if slug.is_empty() {
        // One word longer than the limit: cut it.
        slug = folded
            .split_whitespace()
            .find(|w| !is_stop_word(w))
            .unwrap_or("")
            .chars()
            .take(SLUG_MAX_CHARS)
            .collect();
    }
    Ok(slug)
}

/// What SEO metadata is built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeoInput {
    /// The brief the piece was written from.
    pub brief: String,
    pub headline: String,
    /// The piece's opening or summary, for the meta description.
    pub summary: String,
    /// The full text, for the readability score.
    pub body: String,
    pub brand_name: Option<String>,
    #[serde(with = "crate::language::code")]
    pub language: Language,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeoMetadata {
    pub title: String,
    pub meta_description: String,
    pub slug: String,
    pub keywords: Vec<Keyword>,
    /// Flesch scores of the body (English only).
    pub readability: Option<Readability>,
}

/// How many keywords [`build_seo`] returns.
pub const KEYWORD_COUNT: usize = 10;

/// The SEO metadata of a piece, against the brand's `documents`.
pub fn build_seo(input: &SeoInput, documents: &[&str]) -> Result<SeoMetadata> {
    Ok(SeoMetadata {
        title: seo_title(&input.headline, input.brand_name.as_deref()),
        meta_description: meta_description(&input.summary),
        slug: slugify(&input.headline)?,
        keywords: keywords(&input.brief, documents, KEYWORD_COUNT),
        readability: if input.language == Language::En {
            readability::score(&input.body)
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tf_idf_matches_the_hand_computation() {
        // Two documents, "paint paint brush" and "paint canvas".
        // idf(paint) = ln(3/3) + 1 = 1;  idf(brush) = ln(3/2) + 1 = 1.4054651
        // tf-idf in document 1: paint 2/3 × 1 = 0.6666667; brush 1/3 × 1.4054651 = 0.4684884
        assert!((inverse_document_frequency(2, 2) - 1.0).abs() < 1e-15);
        assert!((inverse_document_frequency(1, 2) - (1.5f64.ln() + 1.0)).abs() < 1e-15);
        assert!((tf_idf(2, 3, 2, 2) - 2.0 / 3.0).abs() < 1e-15);
        assert!((tf_idf(1, 3, 1, 2) - 0.468_488_4).abs() < 1e-7);
        assert_eq!(tf_idf(1, 0, 0, 0), 0.0);
    }

    const DOCUMENTS: [&str; 3] = [
        "Our studio runs painting courses for adults. Every course is small and friendly, and the studio \
         supplies brushes and paper.",
        "Painting courses at the studio: oil painting, acrylic painting and drawing. Book a course online.",
        "The studio newsletter: new courses, student painting of the month, and one watercolour tip.",
    ];

    #[test]
    fn what_makes_the_brief_specific_ranks_above_what_every_page_says() {
        let found = keywords(
            "Spring watercolour course for adult beginners in Leeds",
            &DOCUMENTS,
            20,
        );
        let rank = |term: &str| {
            found
                .iter()
                .position(|k| k.term == term)
                .unwrap_or_else(|| panic!("{term}: {found:?}"))
        };
        // "leeds" never appears in the brand's documents; "course" appears in all three.
        assert!(rank("leeds") < rank("course"), "{found:?}");
        assert!(rank("watercolour") < rank("course"), "{found:?}");
        let leeds = &found[rank("leeds")];
        assert_eq!(leeds.source, KeywordSource::Brief);
        assert_eq!(found[rank("course")].source, KeywordSource::Both);
        assert!(
            found.iter().any(|k| k.term == "watercolour course"),
            "phrases are keywords too: {found:?}"
        );
    }

    #[test]
    fn the_brands_own_terms_fill_the_list() {
        let found = keywords("Spring watercolour course", &DOCUMENTS, 20);
        let studio = found
            .iter()
            .find(|k| k.term == "studio")
            .expect("the brand's word");
        assert_eq!(studio.source, KeywordSource::Corpus);
        assert!(found.windows(2).all(|pair| pair[0].score >= pair[1].score));
    }

    #[test]
    fn stop_words_short_words_and_numbers_are_never_keywords() {
        let found = keywords(
            "The best of the best: 10 ways to get it done in 2026",
            &[],
            50,
        );
        for keyword in &found {
            for word in keyword.term.split(' ') {
                assert!(
                    !is_stop_word(word)
                        && word.len() >= 3
                        && !word.chars().all(|c| c.is_ascii_digit()),
                    "{keyword:?}"
                );
            }
        }
        assert!(keywords("", &[], 10).is_empty());
        assert!(
            keywords("the and of", &DOCUMENTS[..1], 10)
                .iter()
                .all(|k| k.source == KeywordSource::Corpus)
        );
    }

    #[test]
    fn plurals_are_grouped_with_their_singular() {
        let found = keywords("courses course classes class studies", &[], 10);
        let terms: Vec<&str> = found
            .iter()
            .filter(|k| !k.term.contains(' '))
            .map(|k| k.term.as_str())
            .collect();
        assert_eq!(terms.len(), 3, "{found:?}");
        assert_eq!(term_key("studies"), "study");
        assert_eq!(term_key("classes"), "class");
        assert_eq!(term_key("bus"), "bus");
        assert_eq!(term_key("basis"), "basis");
    }

    #[test]
    fn a_title_fits_sixty_characters_with_the_brand_when_there_is_room() {
        assert_eq!(
            seo_title("Watercolour for beginners", Some("Ink & Water")),
            "Watercolour for beginners | Ink & Water"
        );
        let long =
            "The complete beginner's guide to watercolour painting for adults who never painted";
        // Words up to 60: "… painting for" (57 characters); the trailing stop word "for" goes.
        assert_eq!(
            seo_title(long, Some("Ink & Water")),
            "The complete beginner's guide to watercolour painting"
        );
        let exact = "a".repeat(60);
        assert_eq!(seo_title(&exact, Some("Brand")), exact);
        assert_eq!(
            seo_title("  Spaced   out  title. ", None),
            "Spaced out title"
        );
    }

    #[test]
    fn a_meta_description_keeps_whole_sentences_or_ends_with_an_ellipsis() {
        let first = "Learn watercolour in six relaxed evenings at our Leeds studio, with a patient teacher and every material included.";
        let text = format!(
            "{first} Then keep painting at home with our weekly video lessons and a friendly online group of fellow beginners."
        );
        assert_eq!(meta_description(&text), first);
        let run_on = "Learn watercolour in six relaxed evenings at our Leeds studio with a patient teacher and every material included \
            and then keep painting at home with weekly lessons and friends";
        let cut = meta_description(run_on);
        assert!(cut.chars().count() <= 155, "{cut}");
        assert!(cut.ends_with('…'), "{cut}");
        assert!(run_on.starts_with(cut.trim_end_matches('…')));
        assert!(!cut.trim_end_matches('…').ends_with(" and"), "{cut}");
        assert_eq!(meta_description("Short and sweet."), "Short and sweet.");
    }

    #[test]
    fn slugs_are_lower_case_folded_hyphenated_and_meaningful() {
        assert_eq!(
            slugify("Crème Brûlée: 10 Easy Steps!").unwrap(),
            "creme-brulee-10-easy-steps"
        );
        assert_eq!(
            slugify("How to Paint a Sunset in Watercolour").unwrap(),
            "paint-sunset-watercolour"
        );
        assert_eq!(slugify("A beginner's guide").unwrap(), "beginners-guide");
        assert_eq!(slugify("Straße nach Łódź").unwrap(), "strasse-nach-lodz");
        assert_eq!(
            slugify("Москва travel guide").unwrap(),
            "москва-travel-guide"
        );
        let long = slugify(&"watercolour ".repeat(20)).unwrap();
        assert!(
            long.chars().count() <= 60 && !long.ends_with('-') && long.starts_with("watercolour-"),
            "{long}"
        );
    }

    #[test]
    fn a_slug_of_stop_words_only_is_refused() {
        for text in ["The and of", "", "!!! ???", "how to"] {
            let error = slugify(text).unwrap_err();
            assert_eq!(error.code(), "empty_slug", "{text:?}");
        }
    }

    #[test]
    fn seo_metadata_is_built_in_one_call() {
        let input = SeoInput {
            brief: "Spring watercolour course for adult beginners in Leeds".into(),
            headline: "Watercolour for Beginners: A Spring Course in Leeds".into(),
            summary: "Six relaxed evenings of watercolour in Leeds for adults who never painted.".into(),
            body: "Paint with us this spring. Bring a friend. We bring the paper, the paint and the tea.".into(),
            brand_name: Some("Ink & Water".into()),
            language: Language::En,
        };
        let seo = build_seo(&input, &DOCUMENTS).unwrap();
        assert!(seo.title.chars().count() <= 60);
        assert_eq!(seo.slug, "watercolour-beginners-spring-course-leeds");
        assert_eq!(seo.meta_description, input.summary);
        assert!(seo.keywords.len() <= KEYWORD_COUNT && !seo.keywords.is_empty());
        assert!(seo.readability.unwrap().reading_ease > 80.0);
        let french = SeoInput {
            language: Language::Fr,
            ..input
        };
        assert_eq!(build_seo(&french, &DOCUMENTS).unwrap().readability, None);
    }
}
