//! Benchmarks behind `brandpilot bench`: ingestion throughput, search latency and embedder
//! throughput, each with peak memory. They measure the real pipeline on a generated corpus
//! (or a given dataset) and report numbers; they assert nothing, and the test suite never
//! times anything.

use crate::{Brandpilot, IngestObserver, Result, TextDocument, blocking};
use brandpilot_core::{SearchFilter, SearchMode};
use brandpilot_embed::{Embedder, TokenCounter};
use brandpilot_index::metrics::percentile;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// A deterministic generator of English-looking text: a vocabulary of made-up words drawn
/// with a Zipf-like skew, so posting lists have realistic lengths (a few very common words,
/// a long tail of rare ones).
pub struct SyntheticText {
    vocabulary: Vec<String>,
    /// Cumulative weights for sampling by rank.
    cumulative: Vec<f64>,
    state: u64,
}

impl SyntheticText {
    pub fn new(seed: u64, vocabulary_size: usize) -> Self {
        const SYLLABLES: [&str; 24] = [
            "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fi", "go", "ha", "ju",
            "pe", "qui", "ra", "se", "to", "um", "va", "wi", "xo", "ze",
        ];
        let mut generator = Self {
            vocabulary: Vec::new(),
            cumulative: Vec::new(),
            state: seed | 1,
        };
        let mut total = 0.0;
        for rank in 0..vocabulary_size {
            let syllables = 1 + generator.next() % 3 + u64::from(rank > 500);
            let word: String = (0..syllables)
                .map(|_| SYLLABLES[(generator.next() % SYLLABLES.len() as u64) as usize])
                .collect();
            generator.vocabulary.push(format!(
                "{word}{}",
                if rank > 2000 {
                    rank.to_string()
                } else {
                    String::new()
                }
            ));
            total += 1.0 / (rank as f64 + 2.7);
            generator.cumulative.push(total);
        }
        generator
    }

    fn next(&mut self) -> u64 {
        // xorshift64*: fast, deterministic, good enough for text that only needs to look
        // statistically like text.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn word(&mut self) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let target = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let rank = self.cumulative.partition_point(|c| *c < target);
        &self.vocabulary[rank.min(self.vocabulary.len() - 1)]
    }

    /// `words` words in sentences of 8–20 words.
    pub fn paragraph(&mut self, words: usize) -> String {
        let mut text = String::with_capacity(words * 7);
        let mut sentence_left = 0;
        for index in 0..words {
            if sentence_left == 0 {
                if index > 0 {
                    text.push_str(". ");
                }
                sentence_left = 8 + (self.next() % 13) as usize;
                let word = self.word().to_owned();
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    text.extend(first.to_uppercase());
                    text.push_str(chars.as_str());
                }
            } else {
                text.push(' ');
                let word = self.word().to_owned();
                text.push_str(&word);
            }
            sentence_left -= 1;
        }
        text.push('.');
        text
    }

    /// A query of 2–5 words from the middle of the vocabulary (not stop-word-like, not
    /// unique), like a person's keywords.
    pub fn query(&mut self) -> String {
        let count = 2 + (self.next() % 4) as usize;
        let middle = self.vocabulary.len().saturating_sub(50).max(1);
        let mut words = Vec::with_capacity(count);
        for _ in 0..count {
            let rank = 50 + (self.next() as usize % middle).min(middle - 1);
            words.push(self.vocabulary[rank.min(self.vocabulary.len() - 1)].clone());
        }
        words.join(" ")
    }
}

/// `count` documents of about one chunk each (90–130 words).
pub fn synthetic_documents(count: usize, seed: u64) -> Vec<TextDocument> {
    let mut text = SyntheticText::new(seed, 30_000);
    (0..count)
        .map(|index| {
            let words = 90 + (index * 7919) % 41;
            TextDocument {
                origin: format!("synthetic:{index}"),
                title: format!("Document {index}"),
                text: text.paragraph(words),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    pub mode: String,
    pub queries: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
}

impl Brandpilot {
    /// Times searches with pre-embedded queries, so the numbers exclude the query embedding.
    pub async fn bench_search(
        &self,
        brand: &brandpilot_store::Brand,
        queries: Vec<String>,
        k: usize,
        modes: &[SearchMode],
    ) -> Result<Vec<LatencySummary>> {
        let retriever = self.retriever.clone();
        let embedder = self.embedder.clone();
        let filter = SearchFilter::brand(brand.id);
        let modes = modes.to_vec();
        blocking(move || {
            let texts: Vec<&str> = queries.iter().map(String::as_str).collect();
            let vectors = embedder.embed(&texts)?;
            // Warm caches (index pages, allocator) the way a running server has them warm.
            for (query, vector) in queries.iter().zip(&vectors).take(50) {
                retriever.search_embedded(query, Some(vector), &filter, k, SearchMode::Hybrid)?;
            }
            let mut summaries = Vec::new();
            for mode in modes {
                let mut samples = Vec::with_capacity(queries.len());
                for (query, vector) in queries.iter().zip(&vectors) {
                    let started = Instant::now();
                    retriever.search_embedded(query, Some(vector), &filter, k, mode)?;
                    samples.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                summaries.push(LatencySummary {
                    mode: mode.to_string(),
                    queries: samples.len(),
                    p50_ms: percentile(&samples, 50.0).unwrap_or(0.0),
                    p99_ms: percentile(&samples, 99.0).unwrap_or(0.0),
                    mean_ms: samples.iter().sum::<f64>() / samples.len().max(1) as f64,
                });
            }
            Ok(summaries)
        })
        .await
    }

    pub async fn ingest_synthetic(
        &self,
        brand: &brandpilot_store::Brand,
        count: usize,
        observer: &dyn IngestObserver,
    ) -> Result<crate::IngestReport> {
        let documents = blocking(move || Ok(synthetic_documents(count, 42))).await?;
        self.ingest_texts(brand, documents, &[], observer).await
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EmbedThroughput {
    pub model: String,
    pub texts: usize,
    pub tokens: usize,
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub texts_per_second: f64,
}

/// Embeds `texts` (each cut to the model's token budget, as the reference measurement does)
/// in batches of `batch`, timing only the embedding.
pub fn bench_embedder(
    embedder: &Arc<dyn Embedder>,
    counter: &Arc<dyn TokenCounter>,
    texts: &[String],
    batch: usize,
) -> Result<EmbedThroughput> {
    let max = embedder.max_tokens();
    let mut tokens = 0;
    let cut: Vec<String> = texts
        .iter()
        .map(|text| {
            let spans = counter.token_spans(text);
            tokens += spans.len().min(max) + 2;
            match spans.get(max.saturating_sub(1)) {
                Some(last) if spans.len() > max => text[..last.end].to_owned(),
                _ => text.clone(),
            }
        })
        .collect();
    let started = Instant::now();
    for group in cut.chunks(batch.max(1)) {
        let inputs: Vec<&str> = group.iter().map(String::as_str).collect();
        embedder.embed(&inputs)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(EmbedThroughput {
        model: embedder.model_id().to_owned(),
        texts: cut.len(),
        tokens,
        seconds,
        tokens_per_second: tokens as f64 / seconds,
        texts_per_second: cut.len() as f64 / seconds,
    })
}

/// Total size of the files under `dir`.
pub fn directory_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|entry| entry.ok())
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => directory_bytes(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

/// What `bench chat` measured over a run of assistant turns.
#[derive(Debug, Clone, Serialize)]
pub struct ChatBenchResult {
    pub turns: usize,
    /// The whole turn as a caller waits for it.
    pub turn_p50_ms: f64,
    pub turn_p99_ms: f64,
    /// The turn without model time (query embedding and any generation): routing,
    /// retrieval, composition, verification and storage.
    pub overhead_p50_ms: f64,
    pub overhead_p99_ms: f64,
    /// From the call to the first streamed piece of the answer.
    pub first_token_p50_ms: f64,
    pub first_token_p99_ms: f64,
    /// Mean time per step of the trace, in milliseconds.
    pub mean_step_ms: Vec<(String, f64)>,
    pub escalated: usize,
}

impl Brandpilot {
    /// Runs `questions` as assistant turns, `per_conversation` turns to a conversation, and
    /// times them from the outside and through each turn's trace.
    pub async fn bench_chat(
        &self,
        llm: &crate::llm::LazyLlm,
        brand: &brandpilot_store::Brand,
        questions: Vec<String>,
        per_conversation: usize,
    ) -> Result<ChatBenchResult> {
        use crate::assistant::{EndUser, TurnEvent, TurnInput};
        let mut turn_ms = Vec::new();
        let mut overhead_ms = Vec::new();
        let mut first_ms = Vec::new();
        let mut step_totals: Vec<(String, f64)> = Vec::new();
        let mut escalated = 0;
        let mut conversation = None;
        for (index, question) in questions.into_iter().enumerate() {
            if index % per_conversation.max(1) == 0 {
                conversation = None;
            }
            let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
            let started = Instant::now();
            let first_token = tokio::spawn(async move {
                while let Some(event) = receiver.recv().await {
                    if matches!(event, TurnEvent::Delta(_) | TurnEvent::Replace(_)) {
                        return Some(started.elapsed());
                    }
                }
                None
            });
            let input = TurnInput {
                conversation,
                end_user: EndUser::Visitor(format!("bench-{}", index / per_conversation.max(1))),
                message: question,
                earlier_messages: Vec::new(),
            };
            let turn = self.chat_turn(llm, brand, input, Some(sender)).await?;
            let total = started.elapsed().as_secs_f64() * 1000.0;
            conversation = Some(turn.conversation);
            let model_micros: u64 = turn
                .trace
                .steps
                .iter()
                .map(|step| match step.step {
                    "generate" => step.micros,
                    "retrieve" => step.detail["embed_micros"].as_u64().unwrap_or(0),
                    _ => 0,
                })
                .sum();
            turn_ms.push(total);
            overhead_ms.push((total - model_micros as f64 / 1000.0).max(0.0));
            if let Ok(Some(first)) = first_token.await {
                first_ms.push(first.as_secs_f64() * 1000.0);
            }
            for step in &turn.trace.steps {
                let ms = step.micros as f64 / 1000.0;
                match step_totals.iter_mut().find(|(name, _)| name == step.step) {
                    Some((_, sum)) => *sum += ms,
                    None => step_totals.push((step.step.to_owned(), ms)),
                }
            }
            escalated += usize::from(turn.escalated);
        }
        let turns = turn_ms.len();
        let p = |samples: &[f64], q: f64| percentile(samples, q).unwrap_or(0.0);
        Ok(ChatBenchResult {
            turns,
            turn_p50_ms: p(&turn_ms, 50.0),
            turn_p99_ms: p(&turn_ms, 99.0),
            overhead_p50_ms: p(&overhead_ms, 50.0),
            overhead_p99_ms: p(&overhead_ms, 99.0),
            first_token_p50_ms: p(&first_ms, 50.0),
            first_token_p99_ms: p(&first_ms, 99.0),
            mean_step_ms: step_totals
                .into_iter()
                .map(|(name, sum)| (name, sum / turns.max(1) as f64))
                .collect(),
            escalated,
        })
    }
}
