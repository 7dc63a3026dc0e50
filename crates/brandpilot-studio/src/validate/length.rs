//! The shape rules: every field of the channel is there as many times as the platform takes
//! (an e-mail has one subject, a search ad 3–15 headlines), each entry fits the platform's
//! character limit as the platform counts it, and has a sensible number of words. Over a
//! hard limit fails and can be cut without a model; over a recommended one only warns.

use super::{Applicability, Context, RuleId, RuleResult, Violation, rule_result};
use crate::channels::{FieldRole, count_chars};

fn plural(field: &str, count: usize) -> String {
    if count == 1 {
        field.to_owned()
    } else {
        format!("{field}s")
    }
}

pub(crate) fn check(context: &Context) -> [RuleResult; 3] {
    let spec = context.spec;
    let mut field_count = Vec::new();
    for field_spec in spec.fields {
        let name = field_spec.field.code().replace('_', " ");
        let entries: Vec<_> = context
            .entries
            .iter()
            .filter(|entry| entry.at.field == field_spec.field)
            .collect();
        let filled = entries
            .iter()
            .filter(|entry| !entry.text.trim().is_empty())
            .count();
        for entry in entries.iter().filter(|entry| entry.text.trim().is_empty()) {
            field_count.push(
                Violation::error(
                    RuleId::FieldCount,
                    Some(entry.at),
                    format!("the {name} is empty"),
                )
                .repairable(filled >= field_spec.min_entries),
            );
        }
        if filled < field_spec.min_entries {
            let message = if field_spec.min_entries == 1 {
                format!("the {name} is missing; {} needs one", spec.name)
            } else {
                format!(
                    "{filled} {}; {} needs at least {}",
                    plural(&name, filled),
                    spec.name,
                    field_spec.min_entries
                )
            };
            field_count.push(Violation::error(RuleId::FieldCount, None, message));
        }
        if filled > field_spec.max_entries {
            field_count.push(
                Violation::error(
                    RuleId::FieldCount,
                    None,
                    format!(
                        "{filled} {}; {} takes at most {}",
                        plural(&name, filled),
                        spec.name,
                        field_spec.max_entries
                    ),
                )
                .repairable(true),
            );
        }
    }
    for entry in context.entries.iter().filter(|entry| entry.spec.is_none()) {
        field_count.push(
            Violation::warning(
                RuleId::FieldCount,
                Some(entry.at),
                format!(
                    "{} has no {} field; it is ignored",
                    spec.name,
                    entry.at.field.code().replace('_', " ")
                ),
            )
            .repairable(true),
        );
    }

    let mut length = Vec::new();
    let mut word_count = Vec::new();
    for entry in &context.entries {
        let Some(field_spec) = entry.spec else {
            continue;
        };
        if field_spec.role == FieldRole::Tags {
            continue;
        }
        let text = entry.text.trim();
        let name = entry.at.field.code().replace('_', " ");
        let chars = count_chars(text, field_spec.count);
        if let Some(max) = field_spec.max_chars
            && chars > max
        {
            length.push(
                Violation::error(
                    RuleId::Length,
                    Some(entry.at),
                    format!(
                        "the {name} is {chars} characters; {} takes at most {max}",
                        spec.name
                    ),
                )
                .repairable(true),
            );
        } else if let Some(max) = field_spec.recommended_max_chars
            && chars > max
        {
            length.push(Violation::warning(
                RuleId::Length,
                Some(entry.at),
                format!(
                    "the {name} is {chars} characters; beyond {max} it is cut off or hidden on {}",
                    spec.name
                ),
            ));
        }
        let words = if entry.is_published() {
            entry.words.len()
        } else {
            crate::text::word_count(text)
        };
        if let Some(min) = field_spec.recommended_min_words
            && words < min
            && !text.is_empty()
        {
            word_count.push(Violation::warning(
                RuleId::WordCount,
                Some(entry.at),
                format!(
                    "the {name} has {words} words; {min} or more gives the reader enough to act on"
                ),
            ));
        }
        if let Some(max) = field_spec.recommended_max_words
            && words > max
        {
            word_count.push(Violation::warning(
                RuleId::WordCount,
                Some(entry.at),
                format!("the {name} has {words} words; keep it to {max} or fewer"),
            ));
        }
    }
    [
        rule_result(RuleId::FieldCount, Applicability::Applies, field_count),
        rule_result(RuleId::Length, Applicability::Applies, length),
        rule_result(RuleId::WordCount, Applicability::Applies, word_count),
    ]
}
