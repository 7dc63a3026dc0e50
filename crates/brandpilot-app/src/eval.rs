//! Retrieval evaluation on a BEIR-layout dataset (`corpus.jsonl`, `queries.jsonl`,
//! `qrels/<split>.tsv`).
//!
//! The corpus is ingested like any other material (one text source per document, title as
//! its heading), so the evaluation measures the real pipeline: chunking, embedding, both
//! indexes and fusion. Chunk hits are aggregated to documents by their best-ranked chunk
//! (max-passage), the usual way to rank documents that were split. Ingestion is idempotent,
//! so re-running an evaluation only re-embeds what changed.

use crate::{AppError, Brandpilot, IngestObserver, Result, TextDocument, blocking};
use brandpilot_core::{SearchFilter, SearchMode};
use brandpilot_index::metrics;
use brandpilot_store::Brand;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

/// Chunks fetched per query before aggregation to documents; comfortably more than the 100
/// documents recall@100 needs, since a long document can hold several top chunks.
const CHUNKS_PER_QUERY: usize = 200;

pub struct BeirDataset {
    pub name: String,
    pub corpus: Vec<TextDocument>,
    /// Query id → text, only the queries judged in the split.
    pub queries: Vec<(String, String)>,
    /// Query id → (document id → graded relevance).
    pub qrels: HashMap<String, HashMap<String, u32>>,
}

#[derive(Deserialize)]
struct CorpusLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

/// Every document's origin is `beir:<id>`, so hits map back to corpus ids.
const ORIGIN_PREFIX: &str = "beir:";

pub fn load_beir(dir: &Path, split: &str) -> Result<BeirDataset> {
    let open = |name: &str| {
        let path = dir.join(name);
        fs_err::File::open(&path)
            .map(std::io::BufReader::new)
            .map_err(|source| AppError::Io {
                context: "cannot open the dataset".into(),
                source,
            })
    };
    let qrels_path = format!("qrels/{split}.tsv");
    let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for (number, line) in open(&qrels_path)?.lines().enumerate() {
        let line = line.map_err(|source| AppError::Io {
            context: qrels_path.clone(),
            source,
        })?;
        let fields: Vec<&str> = line.split('\t').collect();
        if number == 0 && fields.first() == Some(&"query-id") {
            continue;
        }
        let [query, document, score] = fields[..] else {
            return Err(AppError::Dataset(format!(
                "{qrels_path} line {}: expected 3 columns",
                number + 1
            )));
        };
        let score: i64 = score.trim().parse().map_err(|_| {
            AppError::Dataset(format!("{qrels_path} line {}: score {score:?}", number + 1))
        })?;
        if score > 0 {
            qrels
                .entry(query.to_owned())
                .or_default()
                .insert(document.to_owned(), score as u32);
        }
    }
    let mut queries = Vec::new();
    for (number, line) in open("queries.jsonl")?.lines().enumerate() {
        let line = line.map_err(|source| AppError::Io {
            context: "queries.jsonl".into(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let query: QueryLine = serde_json::from_str(&line)
            .map_err(|e| AppError::Dataset(format!("queries.jsonl line {}: {e}", number + 1)))?;
        if qrels.contains_key(&query.id) {
            queries.push((query.id, query.text));
        }
    }
    let mut corpus = Vec::new();
    for (number, line) in open("corpus.jsonl")?.lines().enumerate() {
        let line = line.map_err(|source| AppError::Io {
            context: "corpus.jsonl".into(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let document: CorpusLine = serde_json::from_str(&line)
            .map_err(|e| AppError::Dataset(format!("corpus.jsonl line {}: {e}", number + 1)))?;
        corpus.push(TextDocument {
            origin: format!("{ORIGIN_PREFIX}{}", document.id),
            title: document.title,
            text: document.text,
        });
    }
    if queries.is_empty() {
        return Err(AppError::Dataset(format!(
            "no judged queries for split {split:?}"
        )));
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BeirDataset {
        name,
        corpus,
        queries,
        qrels,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct RetrievalScores {
    pub mode: String,
    pub queries: usize,
    pub ndcg_at_10: f64,
    pub recall_at_10: f64,
    pub recall_at_100: f64,
    pub mrr_at_10: f64,
    /// Query latency including the query embedding, in milliseconds.
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl Brandpilot {
    /// Ingests the corpus into `brand` (idempotently) and scores each mode.
    pub async fn eval_retrieval(
        &self,
        brand: &Brand,
        dataset: &BeirDataset,
        modes: &[SearchMode],
        observer: &dyn IngestObserver,
    ) -> Result<Vec<RetrievalScores>> {
        self.ingest_texts(brand, dataset.corpus.clone(), &[], observer)
            .await?;
        let chunk_to_document = self.chunk_documents(brand).await?;
        let mut scores = Vec::new();
        for &mode in modes {
            let retriever = self.retriever.clone();
            let queries = dataset.queries.clone();
            let filter = SearchFilter::brand(brand.id);
            let chunk_to_document = chunk_to_document.clone();
            let runs = blocking(move || {
                let mut runs = Vec::with_capacity(queries.len());
                for (id, text) in &queries {
                    let started = Instant::now();
                    let (hits, _) = retriever.search(text, &filter, CHUNKS_PER_QUERY, mode)?;
                    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                    let mut seen = HashSet::new();
                    let documents: Vec<String> = hits
                        .iter()
                        .filter_map(|hit| chunk_to_document.get(&hit.chunk_id.0))
                        .filter(|doc| seen.insert(doc.as_str()))
                        .take(100)
                        .cloned()
                        .collect();
                    runs.push((id.clone(), documents, elapsed));
                }
                Ok(runs)
            })
            .await?;
            scores.push(score_runs(mode, &runs, &dataset.qrels));
        }
        Ok(scores)
    }

    /// Chunk id → corpus document id, for every chunk of the brand.
    async fn chunk_documents(&self, brand: &Brand) -> Result<HashMap<i64, String>> {
        let sources = self.store.list_sources(brand.id).await?;
        let by_source: HashMap<i64, String> = sources
            .into_iter()
            .filter_map(|s| Some((s.id.0, s.origin.strip_prefix(ORIGIN_PREFIX)?.to_owned())))
            .collect();
        let marks = self.store.index_high_marks().await?;
        let mut map = HashMap::new();
        let mut after = brandpilot_core::ChunkId(0);
        loop {
            let page = self
                .store
                .chunks_after(after, marks.last_chunk, "", 5_000)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for chunk in page {
                if let Some(document) = by_source.get(&chunk.source.0) {
                    map.insert(chunk.id.0, document.clone());
                }
            }
        }
        Ok(map)
    }
}

fn score_runs(
    mode: SearchMode,
    runs: &[(String, Vec<String>, f64)],
    qrels: &HashMap<String, HashMap<String, u32>>,
) -> RetrievalScores {
    let empty = HashMap::new();
    let mut totals = [0.0f64; 4];
    let mut latencies = Vec::with_capacity(runs.len());
    for (query, ranked, latency) in runs {
        let judged = qrels.get(query).unwrap_or(&empty);
        totals[0] += metrics::ndcg_at_k(ranked, judged, 10);
        totals[1] += metrics::recall_at_k(ranked, judged, 10);
        totals[2] += metrics::recall_at_k(ranked, judged, 100);
        totals[3] += metrics::mrr_at_k(ranked, judged, 10);
        latencies.push(*latency);
    }
    let n = runs.len().max(1) as f64;
    RetrievalScores {
        mode: mode.to_string(),
        queries: runs.len(),
        ndcg_at_10: totals[0] / n,
        recall_at_10: totals[1] / n,
        recall_at_100: totals[2] / n,
        mrr_at_10: totals[3] / n,
        p50_ms: metrics::percentile(&latencies, 50.0).unwrap_or(0.0),
        p99_ms: metrics::percentile(&latencies, 99.0).unwrap_or(0.0),
    }
}
