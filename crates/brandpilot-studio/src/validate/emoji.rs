//! The emoji rule: the brand's emoji policy (none, a few, or free) and the platform's own
//! refusal (Google Ads does not accept emoji in ad text). Emoji are counted as a reader sees
//! them, so 👍🏽 and 👩‍💻 are one each. Too many emoji can be fixed without a model by removing
//! the surplus, last first.

use super::{Applicability, Context, RuleId, RuleResult, Violation, rule_result};
use crate::rules::EmojiPolicy;
use crate::text::emoji_spans;

pub(crate) fn check(context: &Context) -> (RuleResult, usize) {
    let found: Vec<(super::FieldRef, &str, std::ops::Range<usize>)> = context
        .published()
        .flat_map(|entry| {
            let spans = if entry.text.is_ascii() {
                Vec::new()
            } else {
                emoji_spans(entry.text)
            };
            spans
                .into_iter()
                .map(move |span| (entry.at, entry.text, span))
        })
        .collect();
    let count = found.len();
    let mut violations = Vec::new();
    if !context.spec.emoji_allowed {
        for (at, text, span) in &found {
            violations.push(
                Violation::error(
                    RuleId::Emoji,
                    Some(*at),
                    format!(
                        "{} does not accept emoji in ad text; remove it",
                        context.spec.name
                    ),
                )
                .found(text, span.clone())
                .repairable(true),
            );
        }
        return (
            rule_result(RuleId::Emoji, Applicability::Applies, violations),
            count,
        );
    }
    match context.rules.rules().emoji {
        EmojiPolicy::Free => {
            return (
                rule_result(
                    RuleId::Emoji,
                    Applicability::NotApplicable("the brand allows any emoji".to_owned()),
                    Vec::new(),
                ),
                count,
            );
        }
        EmojiPolicy::None if count > 0 => violations.push(
            Violation::error(
                RuleId::Emoji,
                None,
                format!("{count} emoji; the brand uses none: remove them"),
            )
            .repairable(true),
        ),
        EmojiPolicy::Few { max } if count > max => violations.push(
            Violation::error(
                RuleId::Emoji,
                None,
                format!("{count} emoji; the brand uses at most {max}"),
            )
            .repairable(true),
        ),
        EmojiPolicy::None | EmojiPolicy::Few { .. } => {}
    }
    (
        rule_result(RuleId::Emoji, Applicability::Applies, violations),
        count,
    )
}
