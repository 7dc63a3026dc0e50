//! Chunker properties: every word of the document lands in some chunk, chunks respect the
//! token budget, never start or end inside a word, overlap when asked, and carry locators
//! that point at exactly their text.

use brandpilot_embed::TokenCounter;
use brandpilot_extract::Block;
use brandpilot_knowledge::chunk::{ChunkingConfig, DocumentChunk, canonical_text, chunk_blocks};
use std::ops::Range;

/// One token per whitespace-separated word, plus one per 6 bytes of a long word: simple
/// enough that the expected counts in these tests can be worked out by hand.
struct Words;

impl TokenCounter for Words {
    fn count(&self, text: &str) -> usize {
        self.token_spans(text).len()
    }
    fn token_spans(&self, text: &str) -> Vec<Range<usize>> {
        let mut spans = Vec::new();
        let mut offset = 0;
        for word in text.split_whitespace() {
            let start = offset + text[offset..].find(word).unwrap();
            let mut piece = start;
            while piece < start + word.len() {
                let mut end = (piece + 6).min(start + word.len());
                while !text.is_char_boundary(end) {
                    end += 1;
                }
                spans.push(piece..end);
                piece = end;
            }
            offset = start + word.len();
        }
        spans
    }
}

fn paragraph(text: &str) -> Block {
    Block {
        text: text.into(),
        ..Block::default()
    }
}

fn config(max: usize, overlap: usize) -> ChunkingConfig {
    ChunkingConfig {
        max_tokens: max,
        overlap_tokens: overlap,
    }
}

fn sentence(i: usize) -> String {
    format!("Sentence number {i} talks about oat milk lattes.")
}

/// Asserts the properties every chunking must have.
fn check(blocks: &[Block], chunks: &[DocumentChunk], max: usize) {
    let canonical = canonical_text(blocks);
    let mut covered = vec![false; canonical.len()];
    for chunk in chunks {
        assert!(!chunk.text.trim().is_empty(), "empty chunk");
        assert!(
            chunk.token_count <= max,
            "{} tokens > {max}",
            chunk.token_count
        );
        assert_eq!(chunk.token_count, Words.count(&chunk.text));
        let (start, end) = (
            chunk.locator.char_start as usize,
            chunk.locator.char_end as usize,
        );
        assert_eq!(
            &canonical[start..end],
            chunk.text,
            "locator span must be the chunk's text"
        );
        let bytes = canonical.as_bytes();
        assert!(
            start == 0 || bytes[start - 1].is_ascii_whitespace(),
            "starts inside a word"
        );
        assert!(
            end == bytes.len() || bytes[end].is_ascii_whitespace(),
            "ends inside a word"
        );
        covered[start..end].iter_mut().for_each(|c| *c = true);
    }
    for (i, ch) in canonical.char_indices() {
        assert!(
            ch.is_whitespace() || covered[i],
            "byte {i} ({ch:?}) is in no chunk"
        );
    }
}

#[test]
fn short_document_is_one_chunk() {
    let blocks = vec![
        paragraph("Our refund window is 30 days."),
        paragraph("Email us to start one."),
    ];
    let chunks = chunk_blocks(&blocks, config(50, 10), &Words);
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0].text,
        "Our refund window is 30 days.\n\nEmail us to start one."
    );
    assert_eq!(chunks[0].token_count, 11);
    check(&blocks, &chunks, 50);
}

#[test]
fn long_paragraph_splits_at_sentences_with_overlap() {
    let text: Vec<String> = (0..30).map(sentence).collect();
    let blocks = vec![paragraph(&text.join(" "))];
    // Each sentence is 8 words = 8 tokens; 40-token chunks hold 5 sentences, and a 10-token
    // overlap repeats the last sentence of each chunk at the start of the next.
    let chunks = chunk_blocks(&blocks, config(40, 10), &Words);
    check(&blocks, &chunks, 40);
    assert!(chunks.len() >= 7, "{} chunks", chunks.len());
    for pair in chunks.windows(2) {
        let last_sentence = pair[0].text.rsplit(". ").next().unwrap();
        assert!(
            pair[1]
                .text
                .starts_with(last_sentence.trim_end_matches('.')),
            "no overlap"
        );
        assert!(pair[1].locator.char_start < pair[0].locator.char_end);
    }
}

#[test]
fn no_overlap_means_disjoint_chunks() {
    let text: Vec<String> = (0..20).map(sentence).collect();
    let blocks = vec![paragraph(&text.join(" "))];
    let chunks = chunk_blocks(&blocks, config(24, 0), &Words);
    check(&blocks, &chunks, 24);
    for pair in chunks.windows(2) {
        assert!(pair[1].locator.char_start >= pair[0].locator.char_end);
    }
}

#[test]
fn a_sentence_longer_than_the_budget_splits_between_words() {
    let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
    let blocks = vec![paragraph(&words.join(" "))];
    let chunks = chunk_blocks(&blocks, config(16, 4), &Words);
    check(&blocks, &chunks, 16);
    assert!(chunks.len() >= 100 / 16);
}

#[test]
fn a_word_longer_than_the_budget_is_the_only_thing_cut_inside() {
    let giant = "x".repeat(6 * 30); // 30 tokens of 6 bytes, no whitespace
    let blocks = vec![paragraph(&format!("before {giant} after"))];
    let chunks = chunk_blocks(&blocks, config(8, 0), &Words);
    for chunk in &chunks {
        assert!(chunk.token_count <= 8 && !chunk.text.is_empty());
    }
    let joined: String = chunks.iter().map(|c| c.text.replace(' ', "")).collect();
    assert_eq!(joined, format!("before{giant}after"), "nothing lost");
}

#[test]
fn headings_and_pages_start_new_chunks_and_set_locators() {
    let heading = |text: &str, path: &[&str]| Block {
        text: text.into(),
        heading_path: path.iter().map(|s| s.to_string()).collect(),
        is_heading: true,
        ..Block::default()
    };
    let body = |text: &str, path: &[&str], page: u32| Block {
        text: text.into(),
        heading_path: path.iter().map(|s| s.to_string()).collect(),
        page: Some(page),
        ..Block::default()
    };
    let blocks = vec![
        heading("Pricing", &["Pricing"]),
        body("Plans start at 9 euros.", &["Pricing"], 1),
        body("Annual plans save 20 percent.", &["Pricing"], 2),
        heading("Refunds", &["Refunds"]),
        body("Refunds take 5 days.", &["Refunds"], 2),
    ];
    let chunks = chunk_blocks(&blocks, config(100, 0), &Words);
    check(&blocks, &chunks, 100);
    let summary: Vec<(String, Option<u32>, Vec<String>)> = chunks
        .iter()
        .map(|c| {
            (
                c.text.clone(),
                c.locator.page,
                c.locator.heading_path.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "Pricing\n\nPlans start at 9 euros.".into(),
                Some(1),
                vec!["Pricing".into()]
            ),
            (
                "Annual plans save 20 percent.".into(),
                Some(2),
                vec!["Pricing".into()]
            ),
            (
                "Refunds\n\nRefunds take 5 days.".into(),
                Some(2),
                vec!["Refunds".into()]
            ),
        ]
    );
}

#[test]
fn transcript_cues_merge_with_their_time_span_and_csv_rows_with_their_range() {
    let cue = |i: u64| Block {
        text: format!("cue number {i} says words"),
        start_ms: Some(i * 1000),
        end_ms: Some(i * 1000 + 900),
        ..Block::default()
    };
    let blocks: Vec<Block> = (0..10).map(cue).collect();
    let chunks = chunk_blocks(&blocks, config(15, 0), &Words);
    check(&blocks, &chunks, 15);
    // 5 tokens a cue, 3 cues a chunk.
    assert_eq!(chunks[0].locator.start_ms, Some(0));
    assert_eq!(chunks[0].locator.end_ms, Some(2900));
    assert_eq!(chunks[1].locator.start_ms, Some(3000));

    let row = |i: u64| Block {
        text: format!("name: item {i}; price: {i}"),
        row: Some(i),
        ..Block::default()
    };
    let rows: Vec<Block> = (1..=6).map(row).collect();
    let chunks = chunk_blocks(&rows, config(10, 0), &Words);
    check(&rows, &chunks, 10);
    assert_eq!(chunks[0].locator.rows, Some((1, 2)));
    assert_eq!(chunks.last().unwrap().locator.rows, Some((5, 6)));
}

#[test]
fn empty_and_blank_blocks_give_no_chunks() {
    let blocks = vec![paragraph(""), paragraph("   \n ")];
    assert!(chunk_blocks(&blocks, config(10, 2), &Words).is_empty());
}

#[test]
fn config_is_checked_against_the_embedder() {
    assert!(config(300, 30).validated(254).is_err());
    assert!(config(200, 150).validated(254).is_err());
    assert!(config(0, 0).validated(254).is_err());
    assert_eq!(config(200, 40).validated(254), Ok(config(200, 40)));
}

#[test]
fn random_documents_keep_every_property() {
    // A small deterministic generator: documents of random sentences, words and headings.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    for _ in 0..200 {
        let mut blocks = Vec::new();
        for b in 0..=next(8) {
            let words: Vec<String> = (0..=next(60))
                .map(|w| {
                    let word = "ab".repeat(1 + next(9) as usize);
                    if next(7) == 0 {
                        format!("{word}{w}.")
                    } else {
                        word
                    }
                })
                .collect();
            blocks.push(Block {
                text: words.join(if next(3) == 0 { "\n" } else { " " }),
                is_heading: next(6) == 0,
                page: Some(1 + (b as u32) / 3),
                ..Block::default()
            });
        }
        let max = 4 + next(40) as usize;
        let overlap = next(max as u64 / 2 + 1) as usize;
        let chunks = chunk_blocks(&blocks, config(max, overlap), &Words);
        check(&blocks, &chunks, max);
    }
}
