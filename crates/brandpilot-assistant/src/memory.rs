//! Conversation memory within a token budget: the newest messages that fit (a sliding
//! window), and a rolling summary of everything older. The window is what the model reads
//! verbatim; the summary keeps the gist (what the customer asked) so a long conversation
//! neither overflows the prompt nor forgets its beginning.

use crate::text::sentences;

/// How many of the newest messages fit in `budget` tokens, given each message's token
/// count (oldest first); returns the index of the first message kept. The newest message is
/// always kept, even over budget: it is the question being answered.
pub fn window_start(token_counts: &[usize], budget: usize) -> usize {
    let mut used = 0usize;
    let mut start = token_counts.len();
    for (index, &tokens) in token_counts.iter().enumerate().rev() {
        let next = used.saturating_add(tokens);
        if next > budget && start < token_counts.len() {
            break;
        }
        used = next;
        start = index;
    }
    start
}

/// A message as memory sees it.
#[derive(Debug, Clone, Copy)]
pub struct Remembered<'a> {
    pub role: &'a str,
    pub content: &'a str,
}

/// Folds messages that left the window into the running summary without a model: the first
/// sentence of each customer message (what they asked) and whether a human was involved,
/// newest kept when the summary outgrows `max_chars`.
pub fn fold_summary(previous: &str, dropped: &[Remembered<'_>], max_chars: usize) -> String {
    let mut lines: Vec<String> = previous
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    for message in dropped {
        let first = sentences(message.content)
            .first()
            .map(|s| s.text.to_owned())
            .unwrap_or_default();
        if first.is_empty() {
            continue;
        }
        let line = match message.role {
            "user" => format!("- The customer asked: {}", shorten(&first, 200)),
            "agent" => format!("- A person from the team replied: {}", shorten(&first, 200)),
            _ => continue,
        };
        lines.push(line);
    }
    // Keep the newest lines that fit.
    let mut kept = Vec::new();
    let mut length = 0;
    for line in lines.iter().rev() {
        if length + line.len() + 1 > max_chars {
            break;
        }
        length += line.len() + 1;
        kept.push(line.as_str());
    }
    kept.reverse();
    kept.join("\n")
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let at_word = cut.rfind(' ').map_or(cut.as_str(), |i| &cut[..i]);
    format!("{at_word}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_newest_messages_that_fit() {
        assert_eq!(window_start(&[10, 10, 10, 10], 25), 2);
        assert_eq!(window_start(&[10, 10, 10, 10], 40), 0);
        assert_eq!(window_start(&[], 40), 0);
        // Never more than the budget, except the question itself.
        assert_eq!(window_start(&[5, 50], 20), 1);
        assert_eq!(window_start(&[5, 10, 6], 16), 1);
    }

    #[test]
    fn the_window_never_exceeds_the_budget_unless_only_the_question_is_kept() {
        let counts = [7, 3, 12, 9, 1, 30, 4, 4, 8];
        for budget in 0..80 {
            let start = window_start(&counts, budget);
            let used: usize = counts[start..].iter().sum();
            assert!(
                used <= budget || start == counts.len() - 1,
                "{budget}: {start}"
            );
            if start > 0 {
                assert!(
                    used + counts[start - 1] > budget,
                    "{budget}: one more would fit"
                );
            }
        }
    }

    #[test]
    fn the_summary_keeps_what_the_customer_asked_newest_first_to_stay() {
        let dropped = [
            Remembered {
                role: "user",
                content: "Do you ship to Canada? I live in Toronto.",
            },
            Remembered {
                role: "assistant",
                content: "Yes, we ship to Canada [1].",
            },
            Remembered {
                role: "agent",
                content: "Hi, Sam here. Your parcel left today.",
            },
        ];
        let summary = fold_summary("- The customer asked: Hi", &dropped, 1_000);
        assert_eq!(
            summary,
            "- The customer asked: Hi\n- The customer asked: Do you ship to Canada?\n\
             - A person from the team replied: Hi, Sam here."
        );
        let short = fold_summary(&summary, &[], 60);
        assert!(short.len() <= 60, "{short}");
        assert!(short.contains("Sam here"), "the newest line stays: {short}");
    }
}
