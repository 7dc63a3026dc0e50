//! How the customer feels, from their message alone: a lexicon of frustration and anger
//! (several languages), intensified by capitals, repeated punctuation and "still"/"again"
//! (the marks of someone who has asked before). A frustrated customer is offered a human
//! sooner; the score is in every turn's trace so a person can see why.

use crate::text::words;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    /// From −1 (furious) to 1 (delighted); 0 is neutral.
    pub score: f32,
    /// Whether the message reads as frustrated or angry.
    pub frustrated: bool,
    /// The words and marks that moved the score.
    pub cues: Vec<String>,
}

const NEGATIVE: &[&str] = &[
    "angry",
    "furious",
    "annoyed",
    "annoying",
    "frustrated",
    "frustrating",
    "ridiculous",
    "terrible",
    "awful",
    "horrible",
    "worst",
    "useless",
    "scam",
    "fraud",
    "unacceptable",
    "disappointed",
    "disappointing",
    "waste",
    "wasted",
    "pathetic",
    "rubbish",
    "garbage",
    "broken",
    "hate",
    "sick",
    "fed",
    "complaint",
    "complain",
    "lawyer",
    "chargeback",
    "ripoff",
    "rip-off",
    "incompetent",
    "nobody",
    "ignored",
    "joke",
    "insane",
    "stupid",
    // French, Spanish, German, Italian, Portuguese, Dutch
    "énervé",
    "furieux",
    "inadmissible",
    "nul",
    "arnaque",
    "déçu",
    "inacceptable",
    "enfadado",
    "furioso",
    "estafa",
    "inaceptable",
    "decepcionado",
    "harto",
    "wütend",
    "verärgert",
    "betrug",
    "unverschämt",
    "enttäuscht",
    "inaccettabile",
    "truffa",
    "deluso",
    "arrabbiato",
    "absurdo",
    "irritado",
    "golpe",
    "boos",
    "oplichting",
    "teleurgesteld",
    "belachelijk",
];
const POSITIVE: &[&str] = &[
    "thanks",
    "thank",
    "great",
    "love",
    "awesome",
    "perfect",
    "excellent",
    "helpful",
    "happy",
    "amazing",
    "wonderful",
    "merci",
    "gracias",
    "danke",
    "grazie",
    "obrigado",
    "obrigada",
    "bedankt",
    "génial",
    "genial",
    "super",
];
/// Words that say this is not the first time.
const REPEAT: &[&str] = &[
    "still", "again", "already", "toujours", "encore", "todavía", "otra", "immer", "noch", "schon",
];

/// Reads one message.
pub fn sentiment(text: &str) -> Sentiment {
    let tokens = words(text);
    let mut cues = Vec::new();
    let mut negative = 0.0f32;
    let mut positive = 0.0f32;
    for word in &tokens {
        if NEGATIVE.contains(&word.as_str()) {
            negative += 1.0;
            cues.push(word.clone());
        } else if POSITIVE.contains(&word.as_str()) {
            positive += 1.0;
            cues.push(word.clone());
        }
    }
    if (negative > 0.0 || text.contains("!!") || text.contains("?!"))
        && let Some(repeat) = tokens.iter().find(|w| REPEAT.contains(&w.as_str()))
    {
        negative += 0.5;
        cues.push(repeat.clone());
    }
    if text.contains("!!") || text.contains("?!") || text.contains("??") {
        negative += 0.5;
        cues.push("repeated punctuation".into());
    }
    let shouted = text
        .split_whitespace()
        .filter(|w| {
            let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
            letters.len() >= 3 && letters.iter().all(|c| c.is_uppercase())
        })
        .count();
    if shouted >= 2 {
        negative += 1.0;
        cues.push("capitals".into());
    }
    // Politeness next to a complaint ("thanks for nothing") does not cancel it.
    if negative > 0.0 {
        positive *= 0.3;
    }
    let raw = positive - negative;
    let score = (raw / (1.0 + raw.abs())).clamp(-1.0, 1.0);
    Sentiment {
        score,
        // One sharp word is not yet frustration ("my video is broken"); two marks are.
        frustrated: score < -0.5,
        cues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angry_messages_are_frustrated() {
        for text in [
            "This is ridiculous, I STILL can't log in!!",
            "Worst course ever, total scam",
            "I've asked THREE TIMES already and nobody answers?!",
            "C'est inadmissible, je suis furieux",
            "Das ist unverschämt, ich bin wütend",
        ] {
            let s = sentiment(text);
            assert!(s.frustrated, "{text}: {s:?}");
            assert!(s.score < 0.0);
        }
    }

    #[test]
    fn calm_and_happy_messages_are_not() {
        for text in [
            "How do I reset my password?",
            "Thanks, that was really helpful!",
            "Is the course still available in March?",
            "Can I take the exam again?",
            "I use NASA data in my project",
        ] {
            let s = sentiment(text);
            assert!(!s.frustrated, "{text}: {s:?}");
        }
        assert!(sentiment("Thanks, this is great").score > 0.3);
        assert_eq!(sentiment("When does module 3 open?").score, 0.0);
    }

    #[test]
    fn thanks_for_nothing_is_still_negative() {
        assert!(sentiment("Thanks for nothing, this is useless").score < 0.0);
    }
}
