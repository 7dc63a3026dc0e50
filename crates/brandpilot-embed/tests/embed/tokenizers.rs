//! Token counters: the word approximation's span invariants, a tiny WordPiece tokenizer built
//! here, and the real MiniLM tokenizer with counts derived by hand from its vocab.txt.

use crate::minilm_dir;
use brandpilot_embed::{HfTokenizer, TokenCounter, WordTokenCounter};
use std::ops::Range;

const SAMPLES: &[&str] = &[
    "",
    "   ",
    "Hello, world!",
    "Don't over-promise: our Q3 roadmap (v2.1) ships 12 features.",
    "Café NAÏVE Résumé — naïve cafés",
    "e\u{0301}te\u{0301} décomposé",
    "東京タワー and 北京 in one line",
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "emoji 🎉🚀 between words, and a very-long-hyphenated-compound",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is long.",
];

/// Spans are in bounds, on char boundaries, ordered, non-overlapping, and together cover
/// every character that is not whitespace.
fn assert_span_invariants(counter: &dyn TokenCounter, text: &str) {
    let spans = counter.token_spans(text);
    assert_eq!(
        counter.count(text),
        spans.len(),
        "count disagrees with spans for {text:?}"
    );
    let mut previous_end = 0;
    for span in &spans {
        assert!(span.start < span.end, "empty span {span:?} in {text:?}");
        assert!(
            span.end <= text.len(),
            "span {span:?} past the end of {text:?}"
        );
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        assert!(
            span.start >= previous_end,
            "span {span:?} overlaps or is out of order in {text:?}"
        );
        assert!(
            text[previous_end..span.start]
                .chars()
                .all(char::is_whitespace),
            "gap before {span:?} in {text:?} holds text"
        );
        previous_end = span.end;
    }
    assert!(
        text[previous_end..].chars().all(char::is_whitespace),
        "uncovered tail in {text:?}"
    );
}

fn pieces<'a>(counter: &dyn TokenCounter, text: &'a str) -> Vec<&'a str> {
    counter
        .token_spans(text)
        .into_iter()
        .map(|r: Range<usize>| &text[r])
        .collect()
}

#[test]
fn word_counter_spans_cover_text_in_order() {
    let counter = WordTokenCounter::new();
    for text in SAMPLES {
        assert_span_invariants(&counter, text);
    }
}

#[test]
fn word_counter_splits_punctuation_and_cjk() {
    let counter = WordTokenCounter::new();
    assert_eq!(
        pieces(&counter, "Hello, world!"),
        ["Hello", ",", "world", "!"]
    );
    assert_eq!(pieces(&counter, "北京 ok"), ["北", "京", "ok"]);
    // Accented letters are word characters, so "Café" is one word, not "Caf" + "é".
    assert_eq!(pieces(&counter, "Café!"), ["Café", "!"]);
}

/// A WordPiece tokenizer over 30 entries, in the same format as MiniLM's tokenizer.json,
/// with truncation and padding set so the test sees that loading disables them.
fn tiny_tokenizer_json() -> String {
    let vocab = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "brand", "voice", "is", "warm", "and", "clear",
        "un", "##af", "##ford", "##able", "cafe", "##s", "market", "##ing", "price", "##y", ".",
        ",", "!", "our", "team", "naive", "resume", "go", "##od",
    ];
    let vocab: serde_json::Map<String, serde_json::Value> = vocab
        .iter()
        .enumerate()
        .map(|(id, token)| (token.to_string(), id.into()))
        .collect();
    let special = |id: u32, content: &str| {
        serde_json::json!({ "id": id, "content": content, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true })
    };
    serde_json::json!({
        "version": "1.0",
        "truncation": { "max_length": 4, "strategy": "LongestFirst", "stride": 0 },
        "padding": { "strategy": { "Fixed": 16 }, "direction": "Right", "pad_to_multiple_of": null,
            "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]" },
        "added_tokens": [special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]")],
        "normalizer": { "type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
            "strip_accents": null, "lowercase": true },
        "pre_tokenizer": { "type": "BertPreTokenizer" },
        "post_processor": { "type": "TemplateProcessing",
            "single": [ { "SpecialToken": { "id": "[CLS]", "type_id": 0 } },
                        { "Sequence": { "id": "A", "type_id": 0 } },
                        { "SpecialToken": { "id": "[SEP]", "type_id": 0 } } ],
            "pair": [ { "SpecialToken": { "id": "[CLS]", "type_id": 0 } },
                      { "Sequence": { "id": "A", "type_id": 0 } },
                      { "SpecialToken": { "id": "[SEP]", "type_id": 0 } },
                      { "Sequence": { "id": "B", "type_id": 1 } },
                      { "SpecialToken": { "id": "[SEP]", "type_id": 1 } } ],
            "special_tokens": {
                "[CLS]": { "id": "[CLS]", "ids": [2], "tokens": ["[CLS]"] },
                "[SEP]": { "id": "[SEP]", "ids": [3], "tokens": ["[SEP]"] } } },
        "decoder": { "type": "WordPiece", "prefix": "##", "cleanup": true },
        "model": { "type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100, "vocab": vocab }
    })
    .to_string()
}

fn tiny() -> HfTokenizer {
    HfTokenizer::from_bytes(tiny_tokenizer_json().as_bytes(), "tiny test tokenizer")
        .expect("the tiny tokenizer.json loads")
}

#[test]
fn tiny_tokenizer_counts_word_pieces_without_truncating() {
    let tokenizer = tiny();
    // Six pieces: more than the file's truncation length of 4, so truncation is off.
    let text = "Unaffordable cafes";
    assert_eq!(
        pieces(&tokenizer, text),
        ["Un", "af", "ford", "able", "cafe", "s"]
    );
    assert_eq!(tokenizer.count("The brand voice is warm, and clear!"), 9);
    assert_eq!(tokenizer.count("marketing pricey"), 4);
    // A word the vocabulary cannot spell is one [UNK] covering the whole word.
    assert_eq!(
        pieces(&tokenizer, "our zebra team"),
        ["our", "zebra", "team"]
    );
    assert_eq!(
        tokenizer.encode_ids("our zebra team", false).ok(),
        Some(vec![24, 1, 25])
    );
    // No padding either, and special tokens only on request.
    assert_eq!(tokenizer.encode_ids("go", true).ok(), Some(vec![2, 28, 3]));
    for text in SAMPLES {
        assert_span_invariants(&tokenizer, text);
    }
}

#[test]
fn broken_tokenizer_json_is_a_clear_error() {
    let error = HfTokenizer::from_bytes(b"{\"not\": \"a tokenizer\"}", "broken.json")
        .expect_err("garbage must not load");
    assert!(error.to_string().contains("broken.json"), "{error}");
}

fn minilm() -> HfTokenizer {
    HfTokenizer::from_file(&minilm_dir().join("tokenizer.json")).expect("MiniLM tokenizer loads")
}

#[test]
fn minilm_counts_match_hand_derived_word_pieces() {
    let tokenizer = minilm();
    // Every word is a whole entry of vocab.txt once lower-cased (the, quick, brown, fox,
    // jumps, over, lazy, dog are lines 1997, 4249, 2830, 4420, 14524, 2059, 13972, 3900), and
    // "." is a token of its own: 9 words + 1.
    assert_eq!(
        tokenizer.count("The quick brown fox jumps over the lazy dog."),
        10
    );
    // WordPiece takes the longest vocab entry that starts the rest of the word:
    // - "brandpilot" is not in vocab.txt; of its prefixes, brand, bran, bra, br, b are, so
    //   "brand"; then of "##pilot", "##pilo", "##pil", "##pi", "##p" only ##pi and ##p exist,
    //   so "##pi"; then "##lot" is an entry. 3 pieces.
    // - "unaffordable": prefixes present are una, un, u → "una"; of "##ffordable…" only
    //   ##ff and ##f → "##ff"; of "##ordable…" ##ord, ##or, ##o → "##ord"; "##able" is an
    //   entry. 4 pieces.
    // - "is" and "!" are entries. Total 3 + 1 + 4 + 1 = 9.
    let text = "Brandpilot is unaffordable!";
    assert_eq!(tokenizer.count(text), 9);
    assert_eq!(
        pieces(&tokenizer, text),
        ["Brand", "pi", "lot", "is", "una", "ff", "ord", "able", "!"]
    );
    // The file truncates to 128 tokens; the counter must see all 300.
    assert_eq!(tokenizer.count(&"word ".repeat(300)), 300);
}

#[test]
fn minilm_spans_point_into_the_original_accented_text() {
    let tokenizer = minilm();
    // The normaliser lower-cases and strips accents ("Café" → "cafe", an entry of vocab.txt,
    // as are "naive" and "resume"), but spans index the text as given.
    let text = "Café NAÏVE Résumé";
    assert_eq!(tokenizer.count(text), 3);
    assert_eq!(pieces(&tokenizer, text), ["Café", "NAÏVE", "Résumé"]);
    for sample in SAMPLES {
        assert_span_invariants(&tokenizer, sample);
    }
}

#[test]
fn word_approximation_stays_near_minilm_on_prose() {
    let prose = "Brandpilot helps small marketing teams keep one voice across every channel. \
        Upload your brand guidelines, past campaigns and customer interviews; the copilot \
        retrieves the passages that matter and drafts newsletters, landing pages and social \
        posts that cite their sources. Nothing leaves your server unless you configure a \
        hosted model, and every suggestion shows which documents it relied on.";
    let exact = minilm().count(prose) as f64;
    let approximate = WordTokenCounter::new().count(prose) as f64;
    let ratio = approximate / exact;
    assert!(
        (0.8..=1.25).contains(&ratio),
        "approximation {approximate} vs MiniLM {exact}"
    );
}
