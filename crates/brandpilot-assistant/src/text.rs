//! Text primitives every step of a turn shares: sentences with their byte spans, words, a
//! light stemmer and stop words. Deliberately simple and language-tolerant: they decide
//! which retrieved sentence answers a question and whether a sentence is backed by a
//! passage, so they must behave the same on every input and never panic.

use std::collections::HashSet;
use std::ops::Range;

/// A sentence of a text and where it sits in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence<'a> {
    pub text: &'a str,
    pub span: Range<usize>,
}

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx",
    "incl", "dept", "inc", "ltd", "co", "jr", "sr", "al",
];

/// Splits `text` into sentences: at `.`, `!`, `?`, `。`, `！`, `？` followed by whitespace (or the
/// end), and at blank lines and line breaks before list items. A full stop inside a number
/// (`3.5`), after a known abbreviation or after a single capital letter (an initial) does not
/// end a sentence. Citation markers right after the punctuation (`done. [2] Next`) stay with
/// the sentence they close.
pub fn sentences(text: &str) -> Vec<Sentence<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let mut end_here = None;
        if matches!(c, '。' | '！' | '？') {
            // These scripts put no space after a sentence.
            end_here = Some(at + c.len_utf8());
        } else if matches!(c, '.' | '!' | '?') {
            // Swallow runs of terminal punctuation and closing quotes or brackets.
            let mut j = i + 1;
            while j < chars.len()
                && matches!(chars[j].1, '.' | '!' | '?' | '"' | '\'' | '”' | '’' | ')')
            {
                j += 1;
            }
            // Markers such as " [1]" or "[1][2]" belong to the sentence just closed.
            let mut k = j;
            loop {
                let mut m = k;
                while m < chars.len() && chars[m].1 == ' ' {
                    m += 1;
                }
                match marker_end(&chars, m) {
                    Some(after) => k = after,
                    None => break,
                }
            }
            let followed_by_space = k >= chars.len() || chars[k].1.is_whitespace();
            if followed_by_space && !(c == '.' && is_non_terminal_period(text, &chars, i)) {
                end_here = Some(if k < chars.len() {
                    chars[k].0
                } else {
                    text.len()
                });
                i = k;
            }
        } else if c == '\n' {
            let next_line = &text[at + 1..];
            let blank = next_line
                .trim_start_matches([' ', '\t', '\r'])
                .starts_with('\n');
            let list_item = starts_list_item(next_line.trim_start());
            if blank || list_item || at + 1 >= text.len() {
                end_here = Some(at);
            }
        }
        if let Some(end) = end_here {
            push_trimmed(text, start..end, &mut out);
            start = end;
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

fn marker_end(chars: &[(usize, char)], at: usize) -> Option<usize> {
    if chars.get(at)?.1 != '[' {
        return None;
    }
    let mut j = at + 1;
    let mut digits = 0;
    while let Some(&(_, c)) = chars.get(j) {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c == ',' || c == ' ' {
        } else if c == ']' {
            return (digits > 0).then_some(j + 1);
        } else {
            return None;
        }
        j += 1;
        if j - at > 24 {
            return None;
        }
    }
    None
}

fn is_non_terminal_period(text: &str, chars: &[(usize, char)], i: usize) -> bool {
    let next_is_digit = chars.get(i + 1).is_some_and(|(_, c)| c.is_ascii_digit());
    let previous_is_digit = i > 0 && chars[i - 1].1.is_ascii_digit();
    if previous_is_digit && next_is_digit {
        return true;
    }
    // The word before the full stop.
    let before = &text[..chars[i].0];
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if word.is_empty() {
        return false;
    }
    // "1." opening a numbered list item.
    let line_before = before[..before.len() - word.len()]
        .rsplit('\n')
        .next()
        .unwrap_or("");
    if line_before.trim().is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
        return true;
    }
    let lower = word.to_lowercase();
    if ABBREVIATIONS.contains(&lower.trim_end_matches('.')) {
        return true;
    }
    // An initial ("J. Smith"), but not a one-letter sentence end like "plan A." at the end.
    let mut letters = word.chars();
    matches!((letters.next(), letters.next()), (Some(c), None) if c.is_uppercase())
        && chars.get(i + 2).is_some_and(|(_, c)| c.is_uppercase())
}

fn starts_list_item(line: &str) -> bool {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("• ") {
        return true;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") "))
}

fn push_trimmed<'a>(text: &'a str, span: Range<usize>, out: &mut Vec<Sentence<'a>>) {
    let slice = &text[span.clone()];
    let leading = slice.len() - slice.trim_start().len();
    let trimmed = slice.trim();
    if trimmed.chars().any(char::is_alphanumeric) {
        let begin = span.start + leading;
        out.push(Sentence {
            text: trimmed,
            span: begin..begin + trimmed.len(),
        });
    }
}

/// The words of `text`, lower-cased: runs of letters and digits (apostrophes inside a word
/// kept, so "don't" is one word).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
        } else if (c == '\'' || c == '’')
            && !current.is_empty()
            && chars.peek().is_some_and(|next| next.is_alphabetic())
        {
            current.push('\'');
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A crude suffix-stripping stem, enough to match "refunds" with "refund" and "charged" with
/// "charge". It only ever shortens words of five letters or more, so short words stay whole.
pub fn stem(word: &str) -> String {
    let word = word.trim_end_matches("'s");
    let count = word.chars().count();
    if count == 4 && word.is_ascii() {
        // "days" → "day", but "plus", "this", "less" stay.
        let bytes = word.as_bytes();
        if bytes[3] == b's' && !b"suia".contains(&bytes[2]) {
            return word[..3].to_owned();
        }
    }
    if count < 5 || !word.is_ascii() {
        return word.to_owned();
    }
    for (suffix, replacement) in [
        ("ies", "y"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("es", ""),
        ("ly", ""),
        ("s", ""),
    ] {
        if let Some(root) = word.strip_suffix(suffix)
            && root.len() >= 3
            && !(suffix == "s" && root.ends_with('s'))
        {
            let mut stemmed = format!("{root}{replacement}");
            // "shipping" → "shipp" → "ship"; "billing" keeps its double l.
            let bytes = stemmed.as_bytes();
            if replacement.is_empty()
                && bytes.len() >= 4
                && bytes[bytes.len() - 1] == bytes[bytes.len() - 2]
                && !b"aeioulsz".contains(&bytes[bytes.len() - 1])
            {
                stemmed.pop();
            }
            // "charged" → "charg" and "charge" → "charg" must meet.
            if stemmed.ends_with('e') && stemmed.len() > 4 {
                stemmed.pop();
            }
            return stemmed;
        }
    }
    let mut stemmed = word.to_owned();
    if stemmed.ends_with('e') {
        stemmed.pop();
    }
    stemmed
}

/// Function words of the languages Brandpilot detects; they carry no topic.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

const STOP_WORDS: &[&str] = &[
    // English
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "for",
    "from",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "i",
    "i'm",
    "if",
    "in",
    "into",
    "is",
    "it",
    "it's",
    "its",
    "just",
    "me",
    "might",
    "more",
    "most",
    "much",
    "my",
    "no",
    "nor",
    "not",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "please",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "tell",
    "know",
    "want",
    "need",
    "let",
    "may",
    "shall",
    "there's",
    "what's",
    "don't",
    "doesn't",
    "can't",
    "isn't",
    "i've",
    "i'd",
    "you're",
    // Words of asking rather than of the topic: answers rarely repeat them.
    "many",
    "ask",
    "asking",
    "long",
    "often",
    "way",
    "possible",
    "anyone",
    "something",
    "anything",
    "thing",
    "things",
    "like",
    "explain",
    "mean",
    "means",
    // French
    "le",
    "la",
    "les",
    "un",
    "une",
    "des",
    "du",
    "de",
    "et",
    "est",
    "que",
    "qui",
    "pour",
    "dans",
    "sur",
    "avec",
    "ce",
    "cette",
    "je",
    "vous",
    "nous",
    "il",
    "elle",
    "pas",
    "ne",
    "mon",
    "ma",
    "mes",
    "votre",
    "vos",
    "comment",
    "quel",
    "quelle",
    "au",
    "aux",
    "en",
    "se",
    "sont",
    "puis",
    "peux",
    "est-ce",
    // Spanish
    "el",
    "los",
    "las",
    "una",
    "unos",
    "y",
    "es",
    "por",
    "para",
    "con",
    "mi",
    "mis",
    "su",
    "sus",
    "como",
    "qué",
    "cómo",
    "cuál",
    "puedo",
    "del",
    "al",
    "lo",
    "yo",
    "usted",
    // German
    "der",
    "die",
    "das",
    "und",
    "ist",
    "ein",
    "eine",
    "ich",
    "sie",
    "wie",
    "was",
    "mit",
    "für",
    "auf",
    "nicht",
    "mein",
    "meine",
    "kann",
    "ihr",
    "den",
    "dem",
    "zu",
    // Italian, Portuguese, Dutch (the commonest few)
    "il",
    "di",
    "che",
    "non",
    "sono",
    "della",
    "o",
    "os",
    "um",
    "uma",
    "não",
    "eu",
    "het",
    "een",
    "ik",
    "niet",
    "van",
    "je",
    "hoe",
    "wat",
];

/// The topic words of `text`: words without stop words, stemmed, unique.
pub fn content_terms(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    words(text)
        .into_iter()
        .filter(|word| !is_stop_word(word))
        .map(|word| stem(&word))
        .filter(|term| seen.insert(term.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn sentences_end_at_terminal_punctuation_followed_by_space() {
        assert_eq!(
            texts("Refunds take 5 days. Contact us! Why wait? Done"),
            ["Refunds take 5 days.", "Contact us!", "Why wait?", "Done"]
        );
    }

    #[test]
    fn numbers_abbreviations_and_initials_do_not_end_sentences() {
        assert_eq!(
            texts("Version 3.5 ships e.g. on Monday. Ask Dr. Lee or J. Smith about it. Fine."),
            [
                "Version 3.5 ships e.g. on Monday.",
                "Ask Dr. Lee or J. Smith about it.",
                "Fine."
            ]
        );
    }

    #[test]
    fn markers_stay_with_the_sentence_they_close() {
        assert_eq!(
            texts("Refunds take 5 days. [1] Shipping is free.[2][3] Thanks."),
            [
                "Refunds take 5 days. [1]",
                "Shipping is free.[2][3]",
                "Thanks."
            ]
        );
    }

    #[test]
    fn blank_lines_and_list_items_split_and_spans_point_back_into_the_text() {
        let text = "Our plans\n\n- Basic costs $10\n- Pro costs $20\n1. Sign up";
        let found = sentences(text);
        assert_eq!(
            found.iter().map(|s| s.text).collect::<Vec<_>>(),
            [
                "Our plans",
                "- Basic costs $10",
                "- Pro costs $20",
                "1. Sign up"
            ]
        );
        for sentence in &found {
            assert_eq!(&text[sentence.span.clone()], sentence.text);
        }
    }

    #[test]
    fn odd_input_never_panics_and_yields_no_empty_sentences() {
        for text in [
            "",
            "...",
            "!!!",
            "a.b.c",
            "é. ü? 中文。好",
            "[1] [",
            "x\n\n\n",
            "3.",
            "[99999999999999999999999].",
        ] {
            for sentence in sentences(text) {
                assert!(!sentence.text.is_empty());
                assert_eq!(&text[sentence.span.clone()], sentence.text);
            }
        }
        assert_eq!(texts("中文。好的"), ["中文。", "好的"]);
    }

    #[test]
    fn words_lowercase_and_keep_inner_apostrophes() {
        assert_eq!(
            words("Don't PANIC: it's 42€!"),
            ["don't", "panic", "it's", "42"]
        );
        assert_eq!(words("Crème brûlée"), ["crème", "brûlée"]);
    }

    #[test]
    fn stems_meet_across_inflections_and_short_words_stay() {
        assert_eq!(stem("refunds"), stem("refund"));
        assert_eq!(stem("charged"), stem("charge"));
        assert_eq!(stem("policies"), stem("policy"));
        assert_eq!(stem("shipping"), stem("ship"));
        assert_eq!(stem("bus"), "bus");
        assert_eq!(stem("days"), stem("day"));
        assert_eq!(stem("plus"), "plus");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("course's"), stem("course"));
    }

    #[test]
    fn content_terms_drop_stop_words_and_repeat_nothing() {
        assert_eq!(
            content_terms("How do I get a refund for the refunds?"),
            ["refund"]
        );
    }
}
