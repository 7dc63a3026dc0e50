//! A dependency-free token counter for when no model tokenizer exists, and the character
//! helpers (word characters, accent folding) that the hashing embedder shares with it.
//!
//! The counts here approximate BERT-style word pieces; they must never be used where an exact
//! count matters (sizing chunks for a model whose tokenizer we have: use `HfTokenizer`).

use crate::TokenCounter;
use std::ops::Range;

/// Approximates the word pieces a BERT-style (WordPiece) tokenizer would produce, without a
/// vocabulary.
///
/// The approximation, and why:
/// - Text is split at whitespace. A run of letters, digits and combining marks is a word;
///   every other visible character (punctuation, symbols) is a token of its own, as BERT's
///   pre-tokenizer makes it. Each CJK ideograph is a token of its own, as BERT's
///   `handle_chinese_chars` makes it.
/// - A word of up to 6 characters counts as one piece (a 30k vocabulary holds most short
///   words whole); a longer word counts one piece for its first 6 characters and one for
///   each further 4 started (`unaffordable`, 12 characters: 3 pieces; MiniLM says 4,
///   `una ##ff ##ord ##able`; `marketing`, 9: 2 pieces; MiniLM says 1). On English prose
///   this lands within about ±20% of MiniLM's real count; it errs high on common long words
///   and low on rare ones, so leave headroom when sizing chunks with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordTokenCounter;

/// Characters a first word piece covers, and each further piece.
const FIRST_PIECE_CHARS: usize = 6;
const NEXT_PIECE_CHARS: usize = 4;

impl WordTokenCounter {
    pub fn new() -> Self {
        Self
    }

    /// Calls `emit` with the byte range of each approximate token, in order.
    fn for_each_token(text: &str, mut emit: impl FnMut(Range<usize>)) {
        // Start byte and char count of the word being read, and the byte offsets at which its
        // pieces start (kept so long words can be cut without a second pass).
        let mut word_start: Option<usize> = None;
        let mut word_chars = 0usize;
        let mut piece_starts: Vec<usize> = Vec::new();
        // Emits the pending word's pieces, the last one ending at `end`, and resets the state.
        fn flush(
            start: &mut Option<usize>,
            chars: &mut usize,
            pieces: &mut Vec<usize>,
            end: usize,
            emit: &mut dyn FnMut(Range<usize>),
        ) {
            if start.take().is_some() {
                for (i, &piece_start) in pieces.iter().enumerate() {
                    let piece_end = pieces.get(i + 1).copied().unwrap_or(end);
                    emit(piece_start..piece_end);
                }
            }
            *chars = 0;
            pieces.clear();
        }
        for (offset, c) in text.char_indices() {
            if is_word_char(c) && !is_cjk(c) {
                if word_start.is_none() {
                    word_start = Some(offset);
                }
                if word_chars == 0
                    || (word_chars >= FIRST_PIECE_CHARS
                        && (word_chars - FIRST_PIECE_CHARS).is_multiple_of(NEXT_PIECE_CHARS))
                {
                    piece_starts.push(offset);
                }
                word_chars += 1;
                continue;
            }
            flush(
                &mut word_start,
                &mut word_chars,
                &mut piece_starts,
                offset,
                &mut emit,
            );
            if !c.is_whitespace() && !c.is_control() {
                emit(offset..offset + c.len_utf8());
            }
        }
        flush(
            &mut word_start,
            &mut word_chars,
            &mut piece_starts,
            text.len(),
            &mut emit,
        );
    }
}

impl TokenCounter for WordTokenCounter {
    fn count(&self, text: &str) -> usize {
        let mut count = 0;
        Self::for_each_token(text, |_| count += 1);
        count
    }

    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        Self::for_each_token(text, |span| spans.push(span));
        spans
    }
}

/// Letters, digits and combining marks (so a decomposed "é" stays one word).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

pub(crate) fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}')
}

/// CJK ideographs, which BERT tokenizes one character at a time.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2B73F}' | '\u{2B740}'..='\u{2B81F}' | '\u{2B820}'..='\u{2CEAF}'
        | '\u{F900}'..='\u{FAFF}' | '\u{2F800}'..='\u{2FA1F}')
}

/// Base letters of U+0100..=U+017F (Latin Extended-A), one per code point; `1` stands for
/// "ij" and `2` for "oe", the two ligatures.
const LATIN_EXTENDED_A: &[u8; 128] =
    b"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii11jjkkklllllllllln\
nnnnnnnnoooooo22rrrrrrsssssssstttttt\
uuuuuuuuuuuuwwyyyzzzzzzs";

/// Pushes the lower-cased, accent-folded form of `c` onto `out`: "É" → "e", "ß" → "ss",
/// "Œ" → "oe"; combining marks vanish. Covers Latin-1 and Latin Extended-A, where nearly all
/// accented letters of Western European marketing copy live; other scripts are only
/// lower-cased.
pub(crate) fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let folded: &str = match c {
        'À'..='Å' | 'à'..='å' => "a",
        'Æ' | 'æ' => "ae",
        'Ç' | 'ç' => "c",
        'È'..='Ë' | 'è'..='ë' => "e",
        'Ì'..='Ï' | 'ì'..='ï' => "i",
        'Ð' | 'ð' => "d",
        'Ñ' | 'ñ' => "n",
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' => "o",
        'Ù'..='Ü' | 'ù'..='ü' => "u",
        'Ý' | 'ý' | 'ÿ' => "y",
        'Þ' | 'þ' => "th",
        'ß' => "ss",
        '\u{0100}'..='\u{017F}' => {
            let index = c as usize - 0x100;
            match LATIN_EXTENDED_A.get(index) {
                Some(b'1') => "ij",
                Some(b'2') => "oe",
                Some(&byte) => {
                    out.push(char::from(byte));
                    return;
                }
                None => "",
            }
        }
        c if is_combining_mark(c) => "",
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push_str(folded);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(text: &str) -> String {
        let mut out = String::new();
        text.chars().for_each(|c| push_folded(c, &mut out));
        out
    }

    #[test]
    fn folds_accents_case_and_ligatures() {
        assert_eq!(
            fold("Café NAÏVE Œuvre Straße Łódź Ĳssel"),
            "cafe naive oeuvre strasse lodz ijssel"
        );
        // "e" followed by a combining acute accent folds like the precomposed "é".
        assert_eq!(fold("Cafe\u{0301}"), "cafe");
        assert_eq!(fold("ΣΟΦΙΑ"), "σοφια");
    }

    #[test]
    fn extended_a_table_lines_up_with_code_points() {
        // Spot checks at both ends and in the middle guard against an off-by-one in the table.
        assert_eq!(
            fold("\u{0100}\u{0107}\u{010E}\u{011B}\u{0141}\u{0160}\u{017D}\u{017F}"),
            "acdelszs"
        );
    }

    #[test]
    fn splits_words_punctuation_and_long_words() {
        let counter = WordTokenCounter::new();
        let text = "Don't panic, unaffordable!";
        let pieces: Vec<&str> = counter
            .token_spans(text)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(
            pieces,
            ["Don", "'", "t", "panic", ",", "unaffo", "rdab", "le", "!"]
        );
        assert_eq!(counter.count(text), 9);
        assert_eq!(counter.count("东京 tower"), 3);
        assert_eq!(counter.count("   \n\t"), 0);
    }
}
