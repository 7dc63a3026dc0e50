//! Token-aware chunking that follows a document's structure.
//!
//! A document's blocks are joined into one canonical text (blocks separated by a blank line);
//! every chunk is a contiguous byte span of it, so a chunk's locator can point back into the
//! extracted text exactly. Chunks break where the structure changes (a new heading, page or
//! heading path), otherwise they pack whole blocks, then whole sentences, then whole words,
//! until the token budget is full. A chunk never exceeds `max_tokens` as counted by the
//! embedding model's own tokenizer, so nothing is truncated at embedding time. Consecutive
//! chunks of one section share up to `overlap_tokens` of trailing sentences or words.
//!
//! This module must never cut inside a word — except a single "word" longer than the whole
//! budget (a pasted hash or URL), which is cut at token boundaries because there is no other
//! way to keep it.

use brandpilot_core::ChunkLocator;
use brandpilot_embed::TokenCounter;
use brandpilot_extract::Block;
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// How big chunks are, in the embedding model's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkingConfig {
    pub max_tokens: usize,
    pub overlap_tokens: usize,
}

impl ChunkingConfig {
    /// Checks the budget against what the embedder reads. The overlap must leave room for
    /// new text in every chunk, or chunking would not advance.
    pub fn validated(self, embedder_max_tokens: usize) -> Result<Self, String> {
        if self.max_tokens == 0 {
            return Err("chunk size must be at least 1 token".into());
        }
        if self.max_tokens > embedder_max_tokens {
            return Err(format!(
                "chunk size {} exceeds the {embedder_max_tokens} tokens the embedding model reads; \
                 lower knowledge.chunk_tokens",
                self.max_tokens
            ));
        }
        if self.overlap_tokens * 2 > self.max_tokens {
            return Err(format!(
                "chunk overlap {} must be at most half the chunk size {}",
                self.overlap_tokens, self.max_tokens
            ));
        }
        Ok(self)
    }
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentChunk {
    pub text: String,
    pub token_count: usize,
    pub locator: ChunkLocator,
}

/// The separator between blocks in the canonical text.
pub const BLOCK_SEPARATOR: &str = "\n\n";

/// The canonical text of a document: what locators' character spans index.
pub fn canonical_text(blocks: &[Block]) -> String {
    let texts: Vec<&str> = blocks
        .iter()
        .map(|b| b.text.trim())
        .filter(|t| !t.is_empty())
        .collect();
    texts.join(BLOCK_SEPARATOR)
}

/// A piece of text that is packed whole: a block, a sentence or a run of words.
#[derive(Debug, Clone)]
struct Unit {
    span: Range<usize>,
    tokens: usize,
    block: usize,
}

pub fn chunk_blocks(
    blocks: &[Block],
    config: ChunkingConfig,
    counter: &dyn TokenCounter,
) -> Vec<DocumentChunk> {
    let mut chunker = Chunker::new(blocks, config, counter);
    chunker.run();
    chunker.chunks
}

struct Chunker<'a> {
    blocks: Vec<&'a Block>,
    /// Byte span of each kept block in `text`.
    spans: Vec<Range<usize>>,
    text: String,
    config: ChunkingConfig,
    counter: &'a dyn TokenCounter,
    chunks: Vec<DocumentChunk>,
}

impl<'a> Chunker<'a> {
    fn new(blocks: &'a [Block], config: ChunkingConfig, counter: &'a dyn TokenCounter) -> Self {
        let mut text = String::new();
        let mut kept = Vec::new();
        let mut spans = Vec::new();
        for block in blocks {
            let trimmed = block.text.trim();
            if trimmed.is_empty() {
                continue;
            }
            if !text.is_empty() {
                text.push_str(BLOCK_SEPARATOR);
            }
            let start = text.len();
            text.push_str(trimmed);
            spans.push(start..text.len());
            kept.push(block);
        }
        Self {
            blocks: kept,
            spans,
            text,
            config,
            counter,
            chunks: Vec::new(),
        }
    }

    fn run(&mut self) {
        let mut section_start = 0;
        for index in 1..=self.blocks.len() {
            if index == self.blocks.len() || self.starts_section(index) {
                let units = self.units(section_start..index);
                self.pack(&units);
                section_start = index;
            }
        }
    }

    /// Structure changes start a new chunk: a heading, or a different page or heading path.
    /// A heading always stays with what follows it, whatever that block's page or path.
    fn starts_section(&self, index: usize) -> bool {
        let (previous, block) = (self.blocks[index - 1], self.blocks[index]);
        !previous.is_heading
            && (block.is_heading
                || block.page != previous.page
                || block.heading_path != previous.heading_path)
    }

    /// Splits the blocks of a section into units that each fit the budget.
    fn units(&self, blocks: Range<usize>) -> Vec<Unit> {
        let max = self.config.max_tokens;
        let mut units = Vec::new();
        for block in blocks {
            let span = self.spans[block].clone();
            let tokens = self.counter.count(&self.text[span.clone()]);
            if tokens <= max {
                units.push(Unit {
                    span,
                    tokens,
                    block,
                });
                continue;
            }
            for sentence in sentence_spans(&self.text, span) {
                let tokens = self.counter.count(&self.text[sentence.clone()]);
                if tokens <= max {
                    units.push(Unit {
                        span: sentence,
                        tokens,
                        block,
                    });
                } else {
                    units.extend(self.word_windows(sentence, block));
                }
            }
        }
        units
    }

    /// Cuts an over-long sentence into runs of whole words of at most the budget (and, for
    /// overlap, of small runs: windows are at most a quarter of the budget when possible).
    fn word_windows(&self, span: Range<usize>, block: usize) -> Vec<Unit> {
        let piece = &self.text[span.clone()];
        let tokens = self.counter.token_spans(piece);
        let window = (self.config.max_tokens / 4).max(1);
        let mut units = Vec::new();
        let mut start_token = 0;
        while start_token < tokens.len() {
            let mut end_token = (start_token + window).min(tokens.len());
            // Move the cut back to a word boundary: a token that follows the previous one
            // without whitespace continues the same word.
            while end_token < tokens.len()
                && end_token > start_token + 1
                && tokens[end_token].start == tokens[end_token - 1].end
            {
                end_token -= 1;
            }
            if end_token < tokens.len() && tokens[end_token].start == tokens[end_token - 1].end {
                // One word longer than the window: extend it to its end if it fits the whole
                // budget, else cut at the budget (the only cut inside a word).
                let mut word_end = end_token;
                while word_end < tokens.len()
                    && tokens[word_end].start == tokens[word_end - 1].end
                    && word_end - start_token < self.config.max_tokens
                {
                    word_end += 1;
                }
                end_token = word_end;
            }
            let start = span.start + tokens[start_token].start;
            let end = span.start + tokens[end_token - 1].end;
            units.push(Unit {
                span: start..end,
                tokens: end_token - start_token,
                block,
            });
            start_token = end_token;
        }
        units
    }

    /// Greedy packing with overlap inside one section.
    fn pack(&mut self, units: &[Unit]) {
        let max = self.config.max_tokens;
        let mut first = 0;
        while first < units.len() {
            let mut last = first;
            let mut tokens = units[first].tokens;
            while last + 1 < units.len() && tokens + units[last + 1].tokens <= max {
                last += 1;
                tokens += units[last].tokens;
            }
            self.emit(&units[first..=last]);
            if last + 1 >= units.len() {
                break;
            }
            // Start the next chunk with trailing units of this one, up to the overlap, while
            // always advancing by at least one unit.
            let mut next = last + 1;
            let mut overlap = 0;
            while next - 1 > first && overlap + units[next - 1].tokens <= self.config.overlap_tokens
            {
                next -= 1;
                overlap += units[next].tokens;
            }
            first = next;
        }
    }

    fn emit(&mut self, units: &[Unit]) {
        let (Some(first), Some(last)) = (units.first(), units.last()) else {
            return;
        };
        let span = first.span.start..last.span.end;
        let mut text = self.text[span.clone()].to_owned();
        let mut token_count = self.counter.count(&text);
        // Token counts of parts add up for word-piece tokenizers, but a tokenizer may merge
        // across a boundary: never trust the sum when it matters.
        if token_count > self.config.max_tokens && units.len() > 1 {
            let (head, tail) = units.split_at(units.len() / 2);
            self.emit(head);
            self.emit(tail);
            return;
        }
        if token_count > self.config.max_tokens {
            // A single unit the tokenizer counts differently in context: cut by tokens.
            let spans = self.counter.token_spans(&text);
            let end = spans
                .get(self.config.max_tokens - 1)
                .map_or(text.len(), |s| s.end);
            text.truncate(end);
            token_count = self.counter.count(&text);
        }
        let blocks = &self.blocks[first.block..=last.block];
        let locator = locator_for(blocks, span);
        self.chunks.push(DocumentChunk {
            text,
            token_count,
            locator,
        });
    }
}

fn locator_for(blocks: &[&Block], span: Range<usize>) -> ChunkLocator {
    // The last heading-path-bearing block describes where the chunk's text sits.
    let located = blocks
        .iter()
        .rev()
        .find(|b| !b.is_heading)
        .unwrap_or(&blocks[0]);
    let start_ms = blocks.iter().find_map(|b| b.start_ms);
    let end_ms = blocks.iter().rev().find_map(|b| b.end_ms);
    let rows = blocks
        .iter()
        .filter_map(|b| b.row)
        .fold(None, |acc: Option<(u64, u64)>, row| {
            Some(acc.map_or((row, row), |(lo, hi)| (lo.min(row), hi.max(row))))
        });
    ChunkLocator {
        page: located.page,
        heading_path: located.heading_path.clone(),
        start_ms,
        end_ms,
        rows,
        char_start: span.start as u64,
        char_end: span.end as u64,
    }
}

/// Sentence spans inside `span` of `text`, trimmed, never empty.
fn sentence_spans(text: &str, span: Range<usize>) -> Vec<Range<usize>> {
    let piece = &text[span.clone()];
    piece
        .split_sentence_bound_indices()
        .filter_map(|(offset, sentence)| {
            let leading = sentence.len() - sentence.trim_start().len();
            let trimmed = sentence.trim();
            (!trimmed.is_empty()).then(|| {
                let start = span.start + offset + leading;
                start..start + trimmed.len()
            })
        })
        .collect()
}
