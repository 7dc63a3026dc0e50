//! The language rule: the copy must be written in the language the request asked for. The
//! detector is the assistant's function-word heuristic, so the rule only judges texts long
//! enough to carry a few function words; a three-word headline is not judged.

use super::{Applicability, Context, RuleId, RuleResult, Violation, rule_result};
use crate::language::{Language, detect};

/// The fewest words a text needs before its language is judged.
pub const MIN_WORDS_TO_DETECT: usize = 8;

pub(crate) fn check(context: &Context) -> (RuleResult, Option<Language>) {
    let words: usize = context.published().map(|entry| entry.words.len()).sum();
    if words < MIN_WORDS_TO_DETECT {
        let note =
            format!("too short to tell the language: {words} words, {MIN_WORDS_TO_DETECT} needed");
        return (
            rule_result(
                RuleId::Language,
                Applicability::NotApplicable(note),
                Vec::new(),
            ),
            None,
        );
    }
    let detected = detect(&context.published_text());
    let requested = context.language;
    let violations = if detected == requested {
        Vec::new()
    } else {
        vec![Violation::error(
            RuleId::Language,
            None,
            format!(
                "the copy reads as {}, but {} was asked for; write it in {}",
                detected.name(),
                requested.name(),
                requested.name()
            ),
        )]
    };
    (
        rule_result(RuleId::Language, Applicability::Applies, violations),
        Some(detected),
    )
}
