//! Standalone queries: a follow-up such as "and how long does it take?" means nothing to a
//! search index on its own. Without a model, the topic terms of the customer's previous
//! message are added to a follow-up that leans on it (a pronoun, "what about", very few
//! topic terms); a capable model on the `rewrite` route may do better, and the turn searches
//! with both (multi-query) when they differ.

use crate::text::{content_terms, words};

const ANAPHORA: &[&str] = &[
    "it", "its", "that", "this", "those", "these", "they", "them", "there", "he", "she", "one",
    "ones", "same", "else", "también", "aussi", "auch", "anche", "ook", "lui", "elle", "ça", "eso",
    "esto", "das", "dies",
];
const FOLLOW_UP_OPENINGS: &[&str] = &[
    "and",
    "what about",
    "how about",
    "also",
    "then",
    "et",
    "y",
    "und",
    "e",
    "en",
];

/// The query to search with for `question`, given the customer's earlier messages (oldest
/// first). `None` when the question stands on its own.
pub fn standalone_query(question: &str, earlier_user_messages: &[&str]) -> Option<String> {
    let previous = earlier_user_messages.iter().rev().find(|m| {
        !content_terms(m).is_empty()
            && crate::route::route_by_rules(m).specialist != crate::route::Specialist::SmallTalk
    })?;
    let tokens = words(question);
    let lower = question.trim().to_lowercase();
    let leans_on_context = tokens.iter().any(|w| ANAPHORA.contains(&w.as_str()))
        || FOLLOW_UP_OPENINGS
            .iter()
            .any(|opening| lower.starts_with(&format!("{opening} ")))
        || content_terms(question).len() <= 1;
    if !leans_on_context {
        return None;
    }
    let own = content_terms(question);
    let borrowed: Vec<String> = words(previous)
        .into_iter()
        .filter(|w| !crate::text::is_stop_word(w))
        .filter(|w| !own.contains(&crate::text::stem(w)))
        .take(12)
        .collect();
    if borrowed.is_empty() {
        return None;
    }
    Some(format!("{} {}", question.trim(), borrowed.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_borrows_the_topic_of_the_previous_question() {
        let query =
            standalone_query("And how long does it take?", &["Do you ship to Canada?"]).unwrap();
        assert!(query.starts_with("And how long does it take?"), "{query}");
        assert!(
            query.contains("ship") && query.contains("canada"),
            "{query}"
        );
    }

    #[test]
    fn a_question_that_stands_alone_is_left_alone() {
        assert_eq!(
            standalone_query("What does module 3 cover?", &["Do you ship to Canada?"]),
            None
        );
        assert_eq!(standalone_query("How long does it take?", &[]), None);
        assert_eq!(standalone_query("What about it?", &["hi", "thanks"]), None);
    }

    #[test]
    fn the_newest_earlier_question_with_a_topic_is_used() {
        let query = standalone_query(
            "what about refunds for it?",
            &["Is the pricing course online?", "ok"],
        )
        .unwrap();
        assert!(query.contains("pricing"), "{query}");
    }
}
