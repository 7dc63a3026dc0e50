//! Hashtags: finding them in copy (or reading them from a reel's list), and checking their
//! number against the brand's range and the platform's cap, their format, the brand's banned
//! tags and its required ones. A hashtag is `#` followed by letters, digits and underscores
//! (ASCII, as most brands' tags are written), not only digits, with nothing glued to it: a
//! platform links `#summer-sale` as `#summer`, and `#1` not at all. `C#`, `&#39;` and a link's
//! `/#section` are not hashtags.

use super::{Applicability, Context, FieldRef, RuleId, RuleResult, Violation, rule_result};
use crate::channels::HashtagPlacement;
use crate::rules::normalise_tag;
use crate::text::{is_emoji_char, link_spans};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The JSON Schema pattern of one hashtag in a list: `#`, then ASCII letters, digits and
/// underscores, at least one of them not a digit.
pub const TAG_PATTERN: &str = "^#[A-Za-z0-9_]*[A-Za-z_][A-Za-z0-9_]*$";

/// What is wrong with the way a hashtag is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HashtagProblem {
    /// Nothing after the `#`.
    Empty,
    /// Only digits (`#1`): platforms do not link it.
    DigitsOnly,
    /// Letters outside A–Z (`#café`).
    NotAscii,
    /// A space inside a tag given as a list entry (`#summer sale`).
    ContainsSpace,
    /// A list entry without its `#`.
    MissingHash,
    /// A character that ends the tag early (`#summer-sale` is linked as `#summer`).
    BrokenBy { character: char },
}

impl HashtagProblem {
    pub fn describe(&self) -> String {
        match self {
            HashtagProblem::Empty => "a # with no tag after it".to_owned(),
            HashtagProblem::DigitsOnly => {
                "platforms do not link a tag of digits only; add letters".to_owned()
            }
            HashtagProblem::NotAscii => "use plain letters A–Z, digits and underscores".to_owned(),
            HashtagProblem::ContainsSpace => {
                "a hashtag cannot hold a space; join the words".to_owned()
            }
            HashtagProblem::MissingHash => "a hashtag starts with #".to_owned(),
            HashtagProblem::BrokenBy { character } => {
                format!(
                    "{character:?} ends the tag early; use only letters, digits and underscores"
                )
            }
        }
    }
}

/// A hashtag as written in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashtag {
    /// The tag after `#`, up to where the platform would end it.
    pub tag: String,
    /// The whole written token, `#` included (to the next space when it is broken).
    pub span: Range<usize>,
    pub problem: Option<HashtagProblem>,
}

fn ends_tag(c: char) -> bool {
    const PUNCTUATION: &[char] = &[
        '.', ',', '!', '?', ';', ':', ')', ']', '}', '"', '\'', '”', '’', '»', '…', '#', '—', '–',
    ];
    c.is_whitespace()
        || PUNCTUATION.contains(&c)
        || is_emoji_char(c)
        || c == '\u{FE0F}'
        || c == '\u{200D}'
}

/// The hashtags written in `text`, in order.
pub fn find_hashtags(text: &str) -> Vec<Hashtag> {
    let mut found = Vec::new();
    if !text.contains('#') {
        return found;
    }
    let links = link_spans(text);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let preceded_by_word = i > 0 && {
            let previous = chars[i - 1].1;
            previous.is_alphanumeric() || matches!(previous, '_' | '&' | '#' | '/')
        };
        if c != '#' || preceded_by_word || links.iter().any(|link| link.contains(&at)) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && (chars[j].1.is_alphanumeric() || chars[j].1 == '_') {
            j += 1;
        }
        if j == i + 1 {
            // A lone "#", "# Heading" or "#!": not a tag.
            i += 1;
            continue;
        }
        let tag_end = chars.get(j).map_or(text.len(), |&(position, _)| position);
        let tag = &text[at + 1..tag_end];
        let breaker = chars
            .get(j)
            .map(|&(_, next)| next)
            .filter(|&next| !ends_tag(next));
        let mut end = j;
        if breaker.is_some() {
            while end < chars.len() && !chars[end].1.is_whitespace() {
                end += 1;
            }
        }
        let span_end = chars.get(end).map_or(text.len(), |&(position, _)| position);
        let problem = if let Some(character) = breaker {
            Some(HashtagProblem::BrokenBy { character })
        } else if !tag.is_ascii() {
            Some(HashtagProblem::NotAscii)
        } else if tag.bytes().all(|b| b.is_ascii_digit()) {
            Some(HashtagProblem::DigitsOnly)
        } else {
            None
        };
        found.push(Hashtag {
            tag: tag.to_owned(),
            span: at..span_end,
            problem,
        });
        i = end;
    }
    found
}

/// What is wrong with one tag written on its own (a rule's required tag, with or without
/// its `#`); `None` when it is a valid tag.
pub fn tag_format_problem(tag: &str) -> Option<HashtagProblem> {
    let trimmed = tag.trim();
    let body = trimmed.strip_prefix('#').unwrap_or(trimmed);
    if body.is_empty() {
        return Some(HashtagProblem::Empty);
    }
    if body.chars().any(char::is_whitespace) {
        return Some(HashtagProblem::ContainsSpace);
    }
    if let Some(bad) = body
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(if bad.is_alphanumeric() {
            HashtagProblem::NotAscii
        } else {
            HashtagProblem::BrokenBy { character: bad }
        });
    }
    if body.bytes().all(|b| b.is_ascii_digit()) {
        return Some(HashtagProblem::DigitsOnly);
    }
    None
}

/// What is wrong with one entry of a hashtag list, where the `#` is required.
pub fn list_entry_problem(entry: &str) -> Option<HashtagProblem> {
    tag_format_problem(entry)
        .or_else(|| (!entry.trim().starts_with('#')).then_some(HashtagProblem::MissingHash))
}

/// A hashtag of the variant under validation.
#[derive(Debug, Clone)]
pub(crate) struct FoundTag {
    pub at: FieldRef,
    /// Lower-case, without `#`.
    pub normalised: String,
    pub written: String,
    pub span: Range<usize>,
    pub problem: Option<HashtagProblem>,
}

impl FoundTag {
    /// Whether a platform counts it as a tag at all.
    pub fn counts(&self) -> bool {
        !matches!(
            self.problem,
            Some(HashtagProblem::DigitsOnly | HashtagProblem::Empty)
        )
    }
}

/// The hashtags of the variant, where the channel keeps them; `None` when the channel does
/// not use hashtags.
pub(crate) fn collect(context: &Context) -> Option<Vec<FoundTag>> {
    match context.spec.hashtags {
        HashtagPlacement::None => None,
        HashtagPlacement::Inline { field, .. } => Some(
            context
                .entries
                .iter()
                .filter(|entry| entry.at.field == field)
                .flat_map(|entry| {
                    find_hashtags(entry.text)
                        .into_iter()
                        .map(move |hashtag| FoundTag {
                            at: entry.at,
                            normalised: normalise_tag(&hashtag.tag),
                            written: entry.text[hashtag.span.clone()].to_owned(),
                            span: hashtag.span,
                            problem: hashtag.problem,
                        })
                })
                .collect(),
        ),
        HashtagPlacement::List { field, .. } => Some(
            context
                .entries
                .iter()
                .filter(|entry| entry.at.field == field)
                .map(|entry| FoundTag {
                    at: entry.at,
                    normalised: normalise_tag(entry.text),
                    written: entry.text.trim().to_owned(),
                    span: 0..entry.text.len(),
                    problem: list_entry_problem(entry.text),
                })
                .collect(),
        ),
    }
}

/// Runs the four hashtag rules into `out`; returns how many hashtags the variant carries.
pub(crate) fn check(context: &Context, out: &mut Vec<RuleResult>) -> usize {
    let Some(tags) = collect(context) else {
        let note = format!("{} does not use hashtags", context.spec.name);
        for rule in [
            RuleId::HashtagCount,
            RuleId::HashtagFormat,
            RuleId::HashtagBanned,
            RuleId::HashtagRequired,
        ] {
            out.push(rule_result(
                rule,
                Applicability::NotApplicable(note.clone()),
                Vec::new(),
            ));
        }
        return 0;
    };
    let rules = context.rules.rules();
    let is_list = matches!(context.spec.hashtags, HashtagPlacement::List { .. });
    let counted = tags.iter().filter(|tag| tag.counts()).count();
    let missing_required: Vec<&String> = rules
        .hashtags
        .required
        .iter()
        .zip(&context.rules.required_tags)
        .filter(|(_, normalised)| !tags.iter().any(|tag| tag.normalised == **normalised))
        .map(|(written, _)| written)
        .collect();

    let mut count_violations = Vec::new();
    let platform_max = context.spec.hashtags.platform_max();
    let limit = platform_max.map_or(rules.hashtags.max, |cap| cap.min(rules.hashtags.max));
    if counted > limit {
        let who = if platform_max == Some(limit) && limit < rules.hashtags.max {
            context.spec.name.to_owned()
        } else {
            "the brand".to_owned()
        };
        count_violations.push(
            Violation::error(
                RuleId::HashtagCount,
                None,
                format!("{counted} hashtags; {who} allows at most {limit}: keep the {limit} most relevant"),
            )
            .repairable(true),
        );
    } else if counted < rules.hashtags.min {
        let can_fill = counted + missing_required.len() >= rules.hashtags.min;
        count_violations.push(
            Violation::error(
                RuleId::HashtagCount,
                None,
                format!(
                    "{counted} hashtags; the brand uses at least {}: add specific, relevant tags",
                    rules.hashtags.min
                ),
            )
            .repairable(can_fill),
        );
    }

    let format_violations = tags
        .iter()
        .filter_map(|tag| {
            let problem = tag.problem?;
            let repairable = is_list || problem == HashtagProblem::MissingHash;
            let text = context
                .entries
                .iter()
                .find(|entry| entry.at == tag.at)
                .map_or("", |entry| entry.text);
            let violation = Violation::error(
                RuleId::HashtagFormat,
                Some(tag.at),
                format!(
                    "\"{}\" is not a usable hashtag: {}",
                    tag.written,
                    problem.describe()
                ),
            )
            .repairable(repairable);
            Some(if text.is_empty() {
                violation
            } else {
                violation.found(text, tag.span.clone())
            })
        })
        .collect();

    let banned_violations = tags
        .iter()
        .filter(|tag| context.rules.banned_tags.contains(&tag.normalised))
        .map(|tag| {
            let text = context
                .entries
                .iter()
                .find(|entry| entry.at == tag.at)
                .map_or("", |entry| entry.text);
            Violation::error(
                RuleId::HashtagBanned,
                Some(tag.at),
                format!(
                    "\"{}\" is a hashtag the brand does not use; remove it",
                    tag.written
                ),
            )
            .found(text, tag.span.clone())
            .repairable(true)
        })
        .collect();

    let required_violations = missing_required
        .iter()
        .map(|written| {
            let tag = format!("#{}", written.trim().trim_start_matches('#'));
            Violation::error(
                RuleId::HashtagRequired,
                None,
                format!("the brand's hashtag {tag} is missing; add it"),
            )
            .repairable(true)
        })
        .collect();

    let required_applies = if rules.hashtags.required.is_empty() {
        Applicability::NotApplicable("the brand requires no hashtag".to_owned())
    } else {
        Applicability::Applies
    };
    let banned_applies = if rules.hashtags.banned.is_empty() {
        Applicability::NotApplicable("the brand bans no hashtag".to_owned())
    } else {
        Applicability::Applies
    };
    out.push(rule_result(
        RuleId::HashtagCount,
        Applicability::Applies,
        count_violations,
    ));
    out.push(rule_result(
        RuleId::HashtagFormat,
        Applicability::Applies,
        format_violations,
    ));
    out.push(rule_result(
        RuleId::HashtagBanned,
        banned_applies,
        banned_violations,
    ));
    out.push(rule_result(
        RuleId::HashtagRequired,
        required_applies,
        required_violations,
    ));
    counted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(text: &str) -> Vec<(String, Option<HashtagProblem>)> {
        find_hashtags(text)
            .into_iter()
            .map(|h| (h.tag, h.problem))
            .collect()
    }

    #[test]
    fn hashtags_at_the_edges_of_the_text_and_next_to_punctuation_are_found() {
        assert_eq!(
            tags("#start middle #mid. (#paren) end #end"),
            [
                ("start".to_owned(), None),
                ("mid".to_owned(), None),
                ("paren".to_owned(), None),
                ("end".to_owned(), None)
            ]
        );
        let found = find_hashtags("#only");
        assert_eq!(found[0].span, 0..5);
        // Dashes are punctuation: "#sale—today" is the tag #sale.
        assert_eq!(
            tags("#sale—today #spring–summer"),
            [("sale".to_owned(), None), ("spring".to_owned(), None)]
        );
    }

    #[test]
    fn things_that_look_like_hashtags_but_are_not() {
        assert!(
            find_hashtags("I code in C# and F#, see &#39; or https://example.com/#pricing")
                .is_empty()
        );
        assert!(find_hashtags("# Heading\n#\n#! and ## twice").is_empty());
        assert!(find_hashtags("").is_empty());
    }

    #[test]
    fn malformed_hashtags_are_found_with_what_is_wrong() {
        assert_eq!(
            tags("We're #1! #summer-sale #café #ok🎉 #brand's"),
            [
                ("1".to_owned(), Some(HashtagProblem::DigitsOnly)),
                (
                    "summer".to_owned(),
                    Some(HashtagProblem::BrokenBy { character: '-' })
                ),
                ("café".to_owned(), Some(HashtagProblem::NotAscii)),
                ("ok".to_owned(), None),
                ("brand".to_owned(), None),
            ]
        );
        let text = "Shop #summer-sale now";
        let broken = &find_hashtags(text)[0];
        assert_eq!(&text[broken.span.clone()], "#summer-sale");
    }

    #[test]
    fn tags_written_on_their_own_are_checked_strictly() {
        assert_eq!(tag_format_problem("#Watercolour_2026"), None);
        assert_eq!(tag_format_problem("watercolour"), None);
        assert_eq!(
            tag_format_problem("#2026"),
            Some(HashtagProblem::DigitsOnly)
        );
        assert_eq!(
            tag_format_problem("#summer sale"),
            Some(HashtagProblem::ContainsSpace)
        );
        assert_eq!(tag_format_problem("#"), Some(HashtagProblem::Empty));
        assert_eq!(tag_format_problem("#été"), Some(HashtagProblem::NotAscii));
        assert_eq!(
            tag_format_problem("#a.b"),
            Some(HashtagProblem::BrokenBy { character: '.' })
        );
        assert_eq!(
            list_entry_problem("watercolour"),
            Some(HashtagProblem::MissingHash)
        );
        assert_eq!(list_entry_problem(" #watercolour "), None);
    }

    #[test]
    fn the_schema_pattern_agrees_with_the_checker() {
        // The pattern is anchored and needs one non-digit; spot-check its pieces.
        assert!(TAG_PATTERN.starts_with("^#") && TAG_PATTERN.ends_with('$'));
        assert!(TAG_PATTERN.contains("[A-Za-z_]"));
    }
}
