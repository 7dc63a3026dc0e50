//! What the brand can back up: the figures in a text that neither the request nor the
//! facts contain, the cited facts a text really draws on, and the text these are judged on.
//! Pure functions, run on the blocking pool with the rest of a draft's judgement.

use super::records::FactSource;
use brandpilot_studio::channels;
use brandpilot_studio::{Channel, FieldText};

/// The figures in `text` (numbers with their unit or sign: `20%`, `$49`, `3,000`, `2026`)
/// that `backing` (lowercased) does not contain.
pub(crate) fn unbacked_figures(text: &str, backing: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if !c.is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut end = i;
        while end + 1 < chars.len() {
            let next = chars[end + 1].1;
            let continues_number = next.is_ascii_digit()
                || ((next == ',' || next == '.')
                    && chars.get(end + 2).is_some_and(|(_, d)| d.is_ascii_digit()));
            if !continues_number {
                break;
            }
            end += 1;
        }
        let stop = chars.get(end + 1).map_or(text.len(), |(at, _)| *at);
        let digits: String = text[start..stop]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        // A figure is backed when its digits appear in the backing (20% is backed by
        // "20 percent"; 3,000 by "3000"), or it is part of a word such as a hashtag.
        let in_word = start > 0
            && text[..start]
                .chars()
                .next_back()
                .is_some_and(|p| p.is_alphanumeric() || p == '#' || p == '_');
        if !in_word && !backing_has_digits(backing, &digits) {
            found.push(text[start..stop].to_owned());
        }
        i = end + 1;
    }
    found.sort();
    found.dedup();
    found
}

/// Whether `backing` holds `digits` as a whole number, ignoring thousands separators.
fn backing_has_digits(backing: &str, digits: &str) -> bool {
    let mut current = String::new();
    let mut numbers = Vec::new();
    let mut chars = backing.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            current.push(c);
        } else if (c == ',' || c == '.')
            && !current.is_empty()
            && chars.peek().is_some_and(char::is_ascii_digit)
        {
            continue;
        } else if !current.is_empty() {
            numbers.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        numbers.push(current);
    }
    numbers.iter().any(|n| n == digits)
}

/// The published text of a variant of `channel` (what a reader sees).
pub(crate) fn published_text(channel: Channel, fields: &[FieldText]) -> String {
    let spec = channels::spec(channel);
    fields
        .iter()
        .filter(|entry| {
            spec.field(entry.field)
                .is_some_and(|s| s.role.is_published())
        })
        .map(|entry| entry.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The cited facts whose words the text really uses: at least two of the fact's content
/// words (four letters or more), or one of its figures. A citation the copy does not draw on
/// is dropped rather than shown as support.
pub(crate) fn supported_citations(text: &str, cited: &[usize], facts: &[String]) -> Vec<usize> {
    let text = text.to_lowercase();
    let words: std::collections::HashSet<&str> = content_words(&text).collect();
    cited
        .iter()
        .copied()
        .filter(|&number| {
            let Some(fact) = facts.get(number - 1) else {
                return false;
            };
            let shared = content_words(fact)
                .collect::<std::collections::HashSet<_>>()
                .intersection(&words)
                .count();
            let figure_shared = fact
                .split(|c: char| !c.is_ascii_digit())
                .filter(|d| d.len() >= 2)
                .any(|d| text.contains(d));
            shared >= 2 || figure_shared
        })
        .collect()
}

fn content_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 4 && !w.chars().all(|c| c.is_ascii_digit()))
}

/// Where a figure must come from: the request and the facts, lowercased.
pub(crate) fn backing_text_of(request: &str, facts: &[FactSource]) -> String {
    let mut text = request.to_owned();
    for fact in facts {
        text.push('\n');
        text.push_str(&fact.text);
    }
    text.to_lowercase()
}

/// `fields` with every published sentence that states a figure `backing` (lowercased)
/// does not hold taken out, and the sentences taken out. A field whose every sentence
/// states one is kept whole: only a rewrite can mend it. Separators between the kept
/// sentences stay as written (a line break stays a line break).
pub(crate) fn drop_unbacked_sentences(
    channel: Channel,
    fields: &[FieldText],
    backing: &str,
) -> (Vec<FieldText>, Vec<String>) {
    let spec = channels::spec(channel);
    let mut dropped = Vec::new();
    let kept = fields
        .iter()
        .map(|entry| {
            if !spec
                .field(entry.field)
                .is_some_and(|s| s.role.is_published())
            {
                return entry.clone();
            }
            let text = entry.text.as_str();
            let spans = brandpilot_studio::text::sentences(text);
            let unbacked: Vec<bool> = spans
                .iter()
                .map(|span| !unbacked_figures(&text[span.clone()], backing).is_empty())
                .collect();
            if !unbacked.contains(&true) || !unbacked.contains(&false) {
                return entry.clone();
            }
            let mut out = String::new();
            let mut previous_end = 0;
            // The separator before a run of dropped sentences is the one the next kept
            // sentence gets: a paragraph that began with a dropped sentence still begins.
            let mut separator: Option<&str> = None;
            for (span, unbacked) in spans.iter().zip(&unbacked) {
                let gap = &text[previous_end..span.start];
                if *unbacked {
                    dropped.push(text[span.clone()].to_owned());
                    separator.get_or_insert(gap);
                } else {
                    let gap = separator.take().unwrap_or(gap);
                    if !out.is_empty() {
                        out.push_str(gap);
                    }
                    out.push_str(&text[span.clone()]);
                }
                previous_end = span.end;
            }
            FieldText::new(entry.field, out)
        })
        .collect();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_stating_unbacked_figures_are_taken_out_unless_nothing_would_be_left() {
        let backing = "goal: fill the spring course. the course has 12 lessons.";
        let fields = vec![FieldText::new(
            brandpilot_studio::Field::Post,
            "Save 50% this week! Twelve lessons with Mara.\nJoin 3,000 painters. Book your seat.\n#watercolour",
        )];
        let (kept, dropped) = drop_unbacked_sentences(Channel::LinkedinPost, &fields, backing);
        assert_eq!(
            kept[0].text,
            "Twelve lessons with Mara.\nBook your seat.\n#watercolour"
        );
        assert_eq!(dropped, ["Save 50% this week!", "Join 3,000 painters."]);
        // Backed figures stay, and a field that is all unbacked claims is left to a rewrite.
        let backed = vec![FieldText::new(
            brandpilot_studio::Field::Post,
            "All 12 lessons are live. Book now.",
        )];
        assert_eq!(
            drop_unbacked_sentences(Channel::XPost, &backed, backing),
            (backed.clone(), Vec::new())
        );
        let only = vec![FieldText::new(
            brandpilot_studio::Field::Post,
            "Save 50% today.",
        )];
        assert_eq!(
            drop_unbacked_sentences(Channel::XPost, &only, backing),
            (only.clone(), Vec::new())
        );
    }

    #[test]
    fn a_figure_is_backed_only_when_the_brief_or_a_fact_gives_it() {
        let backing = "offer: 20% off the spring course until 31 march. the course costs $1,200 and has 12 lessons.";
        assert!(unbacked_figures("Save 20% on 12 lessons!", backing).is_empty());
        assert!(unbacked_figures("Only $1200, or $1,200.", backing).is_empty());
        assert_eq!(
            unbacked_figures("Save 50% today, 12 lessons.", backing),
            ["50"]
        );
        assert_eq!(unbacked_figures("Join 3,000 painters.", backing), ["3,000"]);
        // Digits inside a word or a hashtag are not figures.
        assert!(unbacked_figures("#Spring2026 with COVID19 rules", backing).is_empty());
        // A number is compared whole: 2 is not backed by 20 or 12.
        assert_eq!(unbacked_figures("2 weeks left", backing), ["2"]);
    }

    #[test]
    fn a_citation_stays_only_when_the_copy_uses_the_fact() {
        let facts = vec![
            "the watercolour course runs for twelve weeks in spring".to_owned(),
            "refunds are paid within 14 days of a request".to_owned(),
        ];
        let text = "Our watercolour course: twelve weeks of spring painting.";
        assert_eq!(supported_citations(text, &[1, 2], &facts), [1]);
        assert_eq!(
            supported_citations("Refunds in 14 days, always.", &[2], &facts),
            [2]
        );
        assert!(supported_citations(text, &[3], &facts).is_empty());
    }
}
