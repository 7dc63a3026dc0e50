//! The reading-level rule: the copy must read at or below the brand's Flesch–Kincaid grade
//! and at or above its Flesch reading ease. Only sentences people read are scored (bodies,
//! posts, captions, voice-over; not headlines or hashtags), only in English (the formulas
//! are calibrated for it), and only when there are enough words for the score to mean
//! something: a 12-word post's grade swings by several points with one long word.

use super::{Applicability, Context, RuleId, RuleResult, Violation, rule_result};
use crate::channels::FieldRole;
use crate::language::Language;
use crate::readability::{self, Readability};

/// The fewest words a text needs before its reading level is judged.
pub const MIN_WORDS_TO_SCORE: usize = 30;

pub(crate) fn check(context: &Context) -> (RuleResult, Option<Readability>) {
    let mut copy = String::new();
    for entry in context
        .entries
        .iter()
        .filter(|entry| entry.role() == Some(FieldRole::Copy))
    {
        if !copy.is_empty() {
            copy.push('\n');
        }
        copy.push_str(entry.text);
    }
    if context.language != Language::En {
        let note = format!(
            "Flesch scores are calibrated for English, not {}",
            context.language.name()
        );
        return (
            rule_result(
                RuleId::Readability,
                Applicability::NotApplicable(note),
                Vec::new(),
            ),
            None,
        );
    }
    let score = readability::score(&copy);
    let target = context.rules.rules().reading_level;
    let applicability = match score {
        _ if target.max_grade.is_none() && target.min_reading_ease.is_none() => {
            Applicability::NotApplicable("the brand sets no reading level".to_owned())
        }
        Some(score) if score.words >= MIN_WORDS_TO_SCORE => Applicability::Applies,
        _ => Applicability::NotApplicable(format!(
            "too short to score: {} words, {MIN_WORDS_TO_SCORE} needed",
            score.map_or(0, |score| score.words)
        )),
    };
    let mut violations = Vec::new();
    if let (Applicability::Applies, Some(score)) = (&applicability, score) {
        let shape = format!(
            "{:.1} words a sentence, {:.2} syllables a word",
            score.words as f64 / score.sentences as f64,
            score.syllables as f64 / score.words as f64
        );
        if let Some(max) = target.max_grade
            && score.grade_level > max
        {
            violations.push(Violation::error(
                RuleId::Readability,
                None,
                format!(
                    "reads at grade {:.1}, above the brand's grade {max:.1} ({shape}); use shorter sentences and plainer words",
                    score.grade_level
                ),
            ));
        }
        if let Some(min) = target.min_reading_ease
            && score.reading_ease < min
        {
            violations.push(Violation::error(
                RuleId::Readability,
                None,
                format!(
                    "reading ease {:.1}, below the brand's {min:.1} ({shape}); use shorter sentences and plainer words",
                    score.reading_ease
                ),
            ));
        }
    }
    (
        rule_result(RuleId::Readability, applicability, violations),
        score,
    )
}
