//! Text primitives every validator and repair shares: words with their byte spans (links
//! and e-mail addresses left out), sentences, emoji, ASCII folding and case shapes. They
//! decide where a word begins and ends, so they decide whether banning "cure" flags
//! "secure"; they must behave the same on every input, never panic on any UTF-8, and stay
//! cheap enough to run on ten thousand variants a second.

use std::ops::Range;

/// Byte spans of the links and e-mail addresses in `text`: whitespace-separated chunks that
/// start with `http://`, `https://` or `www.`, or hold an `@` followed later by a dot.
/// Trailing sentence punctuation is not part of the link.
pub fn link_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut chunk_start = None;
    let bytes = text.as_bytes();
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if c.is_whitespace() {
            if let Some(start) = chunk_start.take() {
                let chunk = &text[start..at];
                let lead = chunk.len() - chunk.trim_start_matches(['(', '<', '"', '\'', '[']).len();
                let body = &chunk[lead..];
                let lower_start = body.get(..8).unwrap_or(body).to_ascii_lowercase();
                let is_link = lower_start.starts_with("http://")
                    || lower_start.starts_with("https://")
                    || lower_start.starts_with("www.")
                    || body
                        .find('@')
                        .is_some_and(|at_sign| at_sign > 0 && body[at_sign..].contains('.'));
                if is_link {
                    let body_start = start + lead;
                    let mut end = at;
                    while end > body_start
                        && matches!(
                            bytes[end - 1],
                            b'.' | b','
                                | b';'
                                | b':'
                                | b'!'
                                | b'?'
                                | b')'
                                | b']'
                                | b'"'
                                | b'\''
                                | b'>'
                        )
                    {
                        end -= 1;
                    }
                    if end > body_start {
                        spans.push(body_start..end);
                    }
                }
            }
        } else if chunk_start.is_none() {
            chunk_start = Some(at);
        }
    }
    spans
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// The words of `text` as byte spans: maximal runs of letters, digits and combining marks,
/// with an apostrophe kept inside a word (`don't`, `brand's`). Hyphens, `#`, `@` and all
/// other punctuation separate words; links and e-mail addresses hold no words.
pub fn words(text: &str) -> Vec<Range<usize>> {
    let links = if text.contains("://") || text.contains("www.") || text.contains('@') {
        link_spans(text)
    } else {
        Vec::new()
    };
    let mut out = Vec::with_capacity(text.len() / 5);
    let mut start: Option<usize> = None;
    let mut link_index = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        while link_index < links.len() && links[link_index].end <= at {
            link_index += 1;
        }
        if links.get(link_index).is_some_and(|link| link.contains(&at)) {
            if let Some(s) = start.take() {
                out.push(s..at);
            }
            continue;
        }
        let inner_apostrophe = is_apostrophe(c)
            && start.is_some()
            && chars.peek().is_some_and(|&(_, next)| next.is_alphabetic());
        if is_word_char(c) || inner_apostrophe {
            if start.is_none() {
                start = Some(at);
            }
        } else if let Some(s) = start.take() {
            out.push(s..at);
        }
    }
    if let Some(s) = start {
        out.push(s..text.len());
    }
    out
}

/// How many words `text` has, as [`words`] counts them.
pub fn word_count(text: &str) -> usize {
    words(text).len()
}

/// Abbreviations after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "no", "fig", "approx",
    "incl", "inc", "ltd", "co", "jr", "sr", "min", "max", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec",
];

/// The sentences of `text` as trimmed byte spans. A sentence ends at `.`, `!`, `?`, `…`
/// (or their CJK forms) followed by whitespace or the end, and at every line break, since
/// marketing copy uses line breaks as sentence ends (bullets, headlines, hashtag blocks). A
/// full stop after a known abbreviation or a single initial does not end one.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let mut end_here = None;
        if c == '\n' {
            end_here = Some((at, at + 1));
        } else if matches!(c, '。' | '！' | '？') {
            end_here = Some((at + c.len_utf8(), at + c.len_utf8()));
        } else if matches!(c, '.' | '!' | '?' | '…') {
            let mut j = i + 1;
            while j < chars.len()
                && matches!(
                    chars[j].1,
                    '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']'
                )
            {
                j += 1;
            }
            let followed_by_space = j >= chars.len() || chars[j].1.is_whitespace();
            if followed_by_space && !(c == '.' && j == i + 1 && is_abbreviation(text, at)) {
                let end = if j < chars.len() {
                    chars[j].0
                } else {
                    text.len()
                };
                end_here = Some((end, end));
                i = j.saturating_sub(1);
            }
        }
        if let Some((end, next_start)) = end_here {
            push_trimmed(text, start..end, &mut out);
            start = next_start;
        }
        i += 1;
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

fn is_abbreviation(text: &str, dot: usize) -> bool {
    let before = &text[..dot];
    let word_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '.'))
        .map(|(at, c)| at + c.len_utf8())
        .unwrap_or(0);
    let word = &before[word_start..];
    if word.is_empty() {
        return false;
    }
    let mut letters = word.chars();
    let single_initial =
        matches!((letters.next(), letters.next()), (Some(first), None) if first.is_uppercase());
    single_initial
        || ABBREVIATIONS
            .iter()
            .any(|abbreviation| word.eq_ignore_ascii_case(abbreviation))
}

fn push_trimmed(text: &str, span: Range<usize>, out: &mut Vec<Range<usize>>) {
    let slice = &text[span.clone()];
    let trimmed_start = span.start + (slice.len() - slice.trim_start().len());
    let trimmed_end = span.start + slice.trim_end().len();
    if trimmed_end > trimmed_start {
        out.push(trimmed_start..trimmed_end);
    }
}

/// Whether `c` starts an emoji on its own: pictographs and the symbol blocks that render as
/// emoji. Letters, digits, ©, ® and ™ only become emoji with a variation selector, which
/// [`emoji_spans`] handles.
fn is_pictograph(c: char) -> bool {
    matches!(c as u32,
        0x231A..=0x231B | 0x2328 | 0x23CF | 0x23E9..=0x23F3 | 0x23F8..=0x23FA | 0x24C2
        | 0x25AA..=0x25AB | 0x25B6 | 0x25C0 | 0x25FB..=0x25FE | 0x2600..=0x27BF
        | 0x2934..=0x2935 | 0x2B05..=0x2B07 | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55 | 0x3030
        | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1F1E5 | 0x1F200..=0x1F3FA | 0x1F400..=0x1FAFF)
}

/// Whether `c` on its own is an emoji (a pictograph or half of a flag).
pub fn is_emoji_char(c: char) -> bool {
    is_pictograph(c) || is_regional_indicator(c)
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}

fn is_emoji_modifier(c: char) -> bool {
    matches!(c as u32, 0xFE0F | 0x1F3FB..=0x1F3FF | 0x20E3 | 0xE0020..=0xE007F)
}

/// The emoji in `text` as byte spans, one span per emoji as a reader sees it: a skin tone,
/// a variation selector, a keycap, tag characters and zero-width-joined sequences (👩‍💻)
/// belong to the emoji they modify, and two regional indicators make one flag.
pub fn emoji_spans(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(at, _)| at);
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let starts_emoji = if is_emoji_char(c) {
            true
        } else if c.is_ascii_digit() || c == '#' || c == '*' {
            // Keycaps: 1️⃣ is the digit, an optional VS16 and U+20E3.
            next == Some('\u{20E3}')
                || (next == Some('\u{FE0F}')
                    && chars.get(i + 2).map(|&(_, n)| n) == Some('\u{20E3}'))
        } else {
            matches!(c, '©' | '®' | '™' | '‼' | '⁉' | 'ℹ' | '↔'..='↙' | '↩' | '↪')
                && next == Some('\u{FE0F}')
        };
        if !starts_emoji {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if is_regional_indicator(c) && chars.get(j).is_some_and(|&(_, n)| is_regional_indicator(n))
        {
            j += 1;
        }
        loop {
            while chars.get(j).is_some_and(|&(_, n)| is_emoji_modifier(n)) {
                j += 1;
            }
            if chars.get(j).is_some_and(|&(_, n)| n == '\u{200D}')
                && chars.get(j + 1).is_some_and(|&(_, n)| is_pictograph(n))
            {
                j += 2;
                continue;
            }
            break;
        }
        out.push(at..end_of(j));
        i = j;
    }
    out
}

/// How many emoji `text` holds, each sequence counted once.
pub fn emoji_count(text: &str) -> usize {
    if text.is_ascii() {
        return 0;
    }
    emoji_spans(text).len()
}

/// The ASCII spelling of a Latin letter with a diacritic (`é` → `e`, `ß` → `ss`, `Æ` → `AE`),
/// `None` for characters with no simple ASCII form.
pub fn fold_to_ascii(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'æ' => "ae",
        'Æ' => "AE",
        'ç' | 'ć' | 'ĉ' | 'č' => "c",
        'Ç' | 'Ć' | 'Ĉ' | 'Č' => "C",
        'ď' | 'đ' | 'ð' => "d",
        'Ď' | 'Đ' | 'Ð' => "D",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'ğ' | 'ģ' => "g",
        'Ğ' | 'Ģ' => "G",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => "I",
        'ķ' => "k",
        'Ķ' => "K",
        'ł' | 'ľ' | 'ļ' => "l",
        'Ł' | 'Ľ' | 'Ļ' => "L",
        'ñ' | 'ń' | 'ň' | 'ņ' => "n",
        'Ñ' | 'Ń' | 'Ň' | 'Ņ' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'œ' => "oe",
        'Œ' => "OE",
        'ř' | 'ŕ' => "r",
        'Ř' | 'Ŕ' => "R",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'Ś' | 'Š' | 'Ş' | 'Ș' => "S",
        'ß' => "ss",
        'ť' | 'ţ' | 'ț' => "t",
        'Ť' | 'Ţ' | 'Ț' => "T",
        'þ' => "th",
        'Þ' => "TH",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' | 'Ų' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' | 'Ÿ' => "Y",
        'ź' | 'ż' | 'ž' => "z",
        'Ź' | 'Ż' | 'Ž' => "Z",
        _ => return None,
    })
}

/// How a word is capitalised, so a replacement can be written the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseShape {
    Lower,
    /// First letter upper, the rest lower: "Cure".
    Capitalised,
    /// Every letter upper (and more than one letter): "CURE".
    Upper,
    /// Anything else ("iPhone", "McDonald"): the replacement is used as written.
    Mixed,
}

impl CaseShape {
    pub fn of(word: &str) -> CaseShape {
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        let Some((first, rest)) = letters.split_first() else {
            return CaseShape::Lower;
        };
        let rest_lower = rest.iter().all(|c| !c.is_uppercase());
        let rest_upper = rest.iter().all(|c| !c.is_lowercase());
        if !first.is_uppercase() && rest_lower {
            CaseShape::Lower
        } else if first.is_uppercase() && !rest.is_empty() && rest_upper {
            CaseShape::Upper
        } else if first.is_uppercase() && rest_lower {
            CaseShape::Capitalised
        } else {
            CaseShape::Mixed
        }
    }

    /// `replacement` written in this shape.
    pub fn apply(self, replacement: &str) -> String {
        match self {
            CaseShape::Lower | CaseShape::Mixed => replacement.to_owned(),
            CaseShape::Upper => replacement.to_uppercase(),
            CaseShape::Capitalised => {
                let mut chars = replacement.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
        }
    }
}

/// `text` lower-cased, with a fast path for ASCII.
pub fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    }
}

/// `text` with runs of spaces and tabs inside a line made single, trailing spaces on each
/// line removed, more than one blank line made one, and the whole trimmed. Used after a
/// repair removed a word or a hashtag so no double space or dangling line is left behind.
pub fn tidy_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n') {
        let mut cleaned = String::with_capacity(line.len());
        for piece in line.split([' ', '\t']).filter(|piece| !piece.is_empty()) {
            if !cleaned.is_empty() {
                cleaned.push(' ');
            }
            cleaned.push_str(piece);
        }
        // A space left before a comma or full stop by a removed word ("now , then") goes
        // too. Not before ! ? ; : which French typography spaces on purpose.
        for punctuation in [" ,", " ."] {
            while let Some(at) = cleaned.find(punctuation) {
                cleaned.remove(at);
            }
        }
        if cleaned.is_empty() {
            blank_run += 1;
            if blank_run > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(&cleaned);
        out.push('\n');
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word_texts(text: &str) -> Vec<&str> {
        words(text).into_iter().map(|span| &text[span]).collect()
    }

    #[test]
    fn words_keep_inner_apostrophes_and_split_at_hyphens() {
        assert_eq!(
            word_texts("Don't miss the brand’s cure-all, #sale!"),
            ["Don't", "miss", "the", "brand’s", "cure", "all", "sale"]
        );
    }

    #[test]
    fn words_in_links_and_addresses_are_not_words() {
        // A banned "cure" must not be found in a link to secure.example.com/cure.
        assert_eq!(
            word_texts("Visit https://secure.example.com/cure. Or mail cure@example.com today"),
            ["Visit", "Or", "mail", "today"]
        );
        assert_eq!(word_texts("(www.example.com/cure) works"), ["works"]);
    }

    #[test]
    fn words_handle_accents_combining_marks_and_empty_text() {
        assert_eq!(word_texts("Café déjà vu"), ["Café", "déjà", "vu"]);
        // "e" followed by a combining acute accent stays one word.
        assert_eq!(word_texts("cafe\u{301} ok"), ["cafe\u{301}", "ok"]);
        assert!(words("").is_empty());
        assert!(words("  🎉 — !!! ").is_empty());
    }

    #[test]
    fn sentences_end_at_terminal_punctuation_and_line_breaks() {
        let text =
            "Big news! Our spring course opens Monday. Ready?\nBook your seat\n\n#art #course";
        let found: Vec<&str> = sentences(text).into_iter().map(|s| &text[s]).collect();
        assert_eq!(
            found,
            [
                "Big news!",
                "Our spring course opens Monday.",
                "Ready?",
                "Book your seat",
                "#art #course"
            ]
        );
    }

    #[test]
    fn abbreviations_initials_and_decimals_do_not_end_sentences() {
        let text = "Dr. Smith paid $3.50 for e.g. tea with J. Doe. Then left.";
        let found: Vec<&str> = sentences(text).into_iter().map(|s| &text[s]).collect();
        assert_eq!(
            found,
            [
                "Dr. Smith paid $3.50 for e.g. tea with J. Doe.",
                "Then left."
            ]
        );
    }

    #[test]
    fn a_text_without_punctuation_is_one_sentence_and_empty_text_none() {
        assert_eq!(sentences("  hello world  "), vec![2..13]);
        assert!(sentences("").is_empty());
        assert!(sentences(" \n \n").is_empty());
    }

    #[test]
    fn emoji_sequences_count_once() {
        // A family (ZWJ), a thumbs-up with skin tone, a flag, a keycap, a red heart with VS16.
        let text = "👨‍👩‍👧 👍🏽 🇫🇷 1️⃣ ❤️ done";
        assert_eq!(emoji_count(text), 5);
        let spans = emoji_spans(text);
        assert_eq!(&text[spans[0].clone()], "👨‍👩‍👧");
        assert_eq!(&text[spans[2].clone()], "🇫🇷");
    }

    #[test]
    fn plain_text_symbols_and_digits_are_not_emoji() {
        assert_eq!(
            emoji_count("Brandpilot™ © 2026 #1 — 50% off, 3 × faster"),
            0
        );
        assert_eq!(emoji_count(""), 0);
        assert_eq!(emoji_count("™️"), 1);
    }

    #[test]
    fn case_shapes_round_trip() {
        assert_eq!(CaseShape::of("cure"), CaseShape::Lower);
        assert_eq!(CaseShape::of("Cure"), CaseShape::Capitalised);
        assert_eq!(CaseShape::of("CURE"), CaseShape::Upper);
        assert_eq!(CaseShape::of("iPhone"), CaseShape::Mixed);
        assert_eq!(CaseShape::of("A"), CaseShape::Capitalised);
        assert_eq!(CaseShape::Capitalised.apply("remedy"), "Remedy");
        assert_eq!(CaseShape::Upper.apply("remedy"), "REMEDY");
        assert_eq!(CaseShape::Capitalised.apply("élan"), "Élan");
    }

    #[test]
    fn folding_covers_common_latin_letters() {
        let folded: String = "Crème brûlée à Łódź, Straße"
            .chars()
            .map(|c| {
                fold_to_ascii(c)
                    .map(str::to_owned)
                    .unwrap_or_else(|| c.to_string())
            })
            .collect();
        assert_eq!(folded, "Creme brulee a Lodz, Strasse");
        assert_eq!(fold_to_ascii('東'), None);
    }

    #[test]
    fn tidy_whitespace_leaves_no_gaps_behind() {
        assert_eq!(
            tidy_whitespace("Buy  now ,\tthen   rest .  \n\n\n\n#a  #b  "),
            "Buy now, then rest.\n\n#a #b"
        );
        assert_eq!(
            tidy_whitespace("Réservez maintenant !"),
            "Réservez maintenant !"
        );
        assert_eq!(tidy_whitespace("   "), "");
    }
}
