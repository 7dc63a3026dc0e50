//! Required disclaimers: each disclaimer the brand requires on this channel must appear in
//! the published copy. The comparison is by words, so line breaks, punctuation and case do
//! not matter ("Results may vary." is present in "…results may vary!"), but every word must
//! be there in order: a disclaimer is legal text and a paraphrase does not count.

use super::{Applicability, Context, RuleId, RuleResult, Violation, rule_result};
use crate::channels;
use crate::text::{lowercase, words};

/// `text` as a run of lower-case words separated by single spaces, padded with a space on
/// each side so a containment test respects word boundaries.
pub fn word_run(text: &str) -> String {
    let lower = lowercase(text);
    let mut run = String::with_capacity(lower.len() + 2);
    run.push(' ');
    for span in words(&lower) {
        run.push_str(&lower[span]);
        run.push(' ');
    }
    run
}

/// Whether `disclaimer` appears, word for word, in `text`.
pub fn contains_disclaimer(text: &str, disclaimer: &str) -> bool {
    let wanted = word_run(disclaimer);
    wanted.trim().is_empty() || word_run(text).contains(&wanted)
}

pub(crate) fn check(context: &Context) -> RuleResult {
    let rules = context.rules.rules();
    let channel = context.spec.channel;
    let required: Vec<&str> = rules
        .required_disclaimers
        .iter()
        .filter(|disclaimer| disclaimer.applies_to(channel))
        .map(|disclaimer| disclaimer.text.as_str())
        .collect();
    if required.is_empty() {
        return rule_result(
            RuleId::Disclaimer,
            Applicability::NotApplicable(format!(
                "no disclaimer is required on {}",
                context.spec.name
            )),
            Vec::new(),
        );
    }
    let copy = word_run(&context.published_text());
    let target = context.spec.disclaimer_field;
    let violations = required
        .into_iter()
        .filter(|disclaimer| !copy.contains(&word_run(disclaimer)))
        .map(|disclaimer| {
            let fits = target.is_some_and(|field| disclaimer_fits(context.spec, field, disclaimer));
            let place = match target {
                Some(field) => format!(" at the end of the {}", field.code().replace('_', " ")),
                None => String::new(),
            };
            Violation::error(
                RuleId::Disclaimer,
                None,
                format!(
                    "the required disclaimer \"{}\" is missing; add it word for word{place}",
                    disclaimer.trim()
                ),
            )
            .repairable(fits)
        })
        .collect();
    rule_result(RuleId::Disclaimer, Applicability::Applies, violations)
}

/// Whether `disclaimer` could be appended to `field` and still leave room within the hard
/// limit for at least a short sentence of copy.
pub(crate) fn disclaimer_fits(
    spec: &channels::ChannelSpec,
    field: channels::Field,
    disclaimer: &str,
) -> bool {
    let Some(field_spec) = spec.field(field) else {
        return false;
    };
    match field_spec.max_chars {
        None => true,
        Some(max) => channels::count_chars(disclaimer.trim(), field_spec.count) + 2 + 20 <= max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disclaimer_is_found_whatever_its_punctuation_case_or_line_breaks() {
        let text = "Join the programme today!\n\nRESULTS may vary;\nnot medical advice";
        assert!(contains_disclaimer(
            text,
            "Results may vary. Not medical advice."
        ));
    }

    #[test]
    fn a_paraphrase_or_a_partial_disclaimer_does_not_count() {
        assert!(!contains_disclaimer(
            "Results can vary.",
            "Results may vary."
        ));
        assert!(!contains_disclaimer("Results may", "Results may vary."));
        // Word boundaries: "vary" inside "varying" is not the word.
        assert!(!contains_disclaimer(
            "Results may varying",
            "Results may vary"
        ));
    }

    #[test]
    fn an_empty_text_holds_no_disclaimer_and_an_empty_disclaimer_is_always_there() {
        assert!(!contains_disclaimer("", "Terms apply."));
        assert!(contains_disclaimer("", "  "));
    }
}
