//! Cutting a text to a platform's limit: whole sentences first (keeping a closing call to
//! action), then whole words, and only a word longer than the limit is cut inside. Lengths
//! are counted the way the platform counts them (X's weights, Google's display width).

use crate::channels::{self, CountMethod};
use crate::language::Language;
use crate::text::{sentences, words};
use crate::validate::cta::is_cta_sentence;
use serde::{Deserialize, Serialize};

/// Where a cut was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// After a whole sentence.
    Sentence,
    /// After a whole word, with an ellipsis in running copy.
    Word,
    /// Inside a word too long to fit on its own.
    Character,
}

/// A cut text and where it was cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cut {
    pub text: String,
    pub boundary: Boundary,
}

/// `text` cut to at most `max` characters as `count` counts them, or `None` when it already
/// fits. Whole sentences are kept first; when the last sentence is a call to action in
/// `closing_cta` language, it is kept and sentences before it are dropped instead. Without a
/// sentence that fits, the cut falls back to a word boundary (with `…` when `ellipsis`),
/// and only a single word longer than the limit is cut inside.
pub fn cut_to_limit(
    text: &str,
    max: usize,
    count: CountMethod,
    closing_cta: Option<Language>,
    ellipsis: bool,
) -> Option<Cut> {
    let length = |s: &str| channels::count_chars(s, count);
    if length(text) <= max {
        return None;
    }
    let spans = sentences(text);
    if let (Some(language), Some(last)) = (closing_cta, spans.last())
        && spans.len() > 1
        && is_cta_sentence(&text[last.clone()], language)
    {
        let cta = &text[last.clone()];
        let before_cta = &text[spans[spans.len() - 2].end..last.start];
        let separator = if before_cta.contains('\n') {
            "\n\n"
        } else {
            " "
        };
        let kept = spans[..spans.len() - 1]
            .iter()
            .map(|span| &text[..span.end])
            .take_while(|prefix| length(prefix) + length(separator) + length(cta) <= max)
            .last();
        if let Some(prefix) = kept {
            return Some(Cut {
                text: format!("{prefix}{separator}{cta}"),
                boundary: Boundary::Sentence,
            });
        }
    }
    if let Some(prefix) = spans
        .iter()
        .map(|span| &text[..span.end])
        .take_while(|prefix| length(prefix) <= max)
        .last()
    {
        return Some(Cut {
            text: prefix.to_owned(),
            boundary: Boundary::Sentence,
        });
    }
    let suffix = if ellipsis { "…" } else { "" };
    let word_cut = words(text)
        .iter()
        .map(|span| text[..span.end].trim_end_matches(|c: char| !c.is_alphanumeric()))
        .take_while(|prefix| length(prefix) + length(suffix) <= max)
        .last();
    if let Some(prefix) = word_cut
        && !prefix.is_empty()
    {
        return Some(Cut {
            text: format!("{prefix}{suffix}"),
            boundary: Boundary::Word,
        });
    }
    let mut cut = String::new();
    for c in text.trim_start().chars() {
        let mut candidate = cut.clone();
        candidate.push(c);
        if length(&candidate) + length(suffix) > max {
            break;
        }
        cut = candidate;
    }
    cut.push_str(suffix);
    Some(Cut {
        text: cut,
        boundary: Boundary::Character,
    })
}
