//! Retrieval tuning on a BEIR split: scores BM25 field weights, index layouts, passage
//! aggregation and fusion settings in one process, from a corpus that `brandpilot eval
//! retrieval` has already ingested (so nothing is re-embedded).
//!
//! ```text
//! cargo run --release -p brandpilot-app --example tune_retrieval -- \
//!     DATA_DIR MODELS_DIR DATASET_DIR train
//! ```
//! `DATA_DIR` is the evaluation data directory (`<data_dir>/eval/<name>`). Run it on a
//! training split only; the test split is for reporting the settings chosen here.

use brandpilot_app::eval::{BeirDataset, load_beir};
use brandpilot_app::{Settings, build_embedder};
use brandpilot_core::{BrandId, ChunkId, SearchFilter, SourceId};
use brandpilot_index::fusion::{self, ScoreNormalization, WeightedList};
use brandpilot_index::{Bm25Config, Bm25Index, IndexedChunk, Watermark, metrics};
use brandpilot_store::{ChunkForIndex, Store};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

type Hits = Vec<(ChunkId, f32)>;
const DEPTH: usize = 200;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, data_dir, models_dir, dataset_dir, split] = &args[..] else {
        panic!("usage: tune_retrieval DATA_DIR MODELS_DIR DATASET_DIR SPLIT");
    };
    let settings = Settings {
        data_dir: PathBuf::from(data_dir),
        models_dir: PathBuf::from(models_dir),
        ..Settings::default()
    };
    let dataset = load_beir(&PathBuf::from(dataset_dir), split).unwrap();
    let choice = build_embedder(&settings).unwrap();
    let model = choice.embedder.model_id().to_owned();
    let store = Store::open(&settings.database_url()).await.unwrap();
    let workspace = store.ensure_workspace(&settings.workspace).await.unwrap();
    let brand = store
        .find_brand(workspace, &format!("beir-{}", dataset.name))
        .await
        .unwrap()
        .expect("run `brandpilot eval retrieval` first");
    let origins: HashMap<SourceId, String> = store
        .list_sources(brand.id)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| Some((s.id, s.origin.strip_prefix("beir:")?.to_owned())))
        .collect();
    let marks = store.index_high_marks().await.unwrap();
    let mut chunks: Vec<ChunkForIndex> = Vec::new();
    let mut after = ChunkId(0);
    loop {
        let page = store
            .chunks_after(after, marks.last_chunk, &model, 5_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        chunks.extend(page.into_iter().filter(|c| c.brand == brand.id));
    }
    eprintln!("{} chunks, {} queries", chunks.len(), dataset.queries.len());
    let chunk_doc: HashMap<ChunkId, String> = chunks
        .iter()
        .map(|c| (c.id, origins[&c.source].clone()))
        .collect();

    let texts: Vec<&str> = dataset.queries.iter().map(|(_, t)| t.as_str()).collect();
    let query_vectors = choice.embedder.embed(&texts).unwrap();
    let vector_runs: Vec<Hits> = query_vectors
        .iter()
        .map(|q| exact_top(q, &chunks, DEPTH))
        .collect();

    let mut canonical: HashMap<String, ChunkId> = HashMap::new();
    for (chunk, doc) in &chunk_doc {
        let entry = canonical.entry(doc.clone()).or_insert(*chunk);
        *entry = (*entry).min(*chunk);
    }
    let context_runs: Option<Vec<Hits>> = std::env::var_os("CONTEXT_EMBED").map(|_| {
        // Chunks that do not carry their title are embedded again as "title\n\ntext".
        let mut contextual = chunks.clone();
        let pending: Vec<usize> = (0..contextual.len())
            .filter(|&i| {
                let c = &contextual[i];
                !c.text.contains(&c.source_title)
                    && choice
                        .counter
                        .count(&format!("{}\n\n{}", c.source_title, c.text))
                        <= choice.embedder.max_tokens()
            })
            .collect();
        eprintln!("re-embedding {} chunks with their title", pending.len());
        for batch in pending.chunks(64) {
            let texts: Vec<String> = batch
                .iter()
                .map(|&i| format!("{}\n\n{}", contextual[i].source_title, contextual[i].text))
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            for (&i, v) in batch.iter().zip(choice.embedder.embed(&refs).unwrap()) {
                contextual[i].vector = Some(v);
            }
        }
        query_vectors
            .iter()
            .map(|q| exact_top(q, &contextual, DEPTH))
            .collect()
    });
    let tuner = Tuner {
        dataset: &dataset,
        chunk_doc: &chunk_doc,
        canonical,
    };
    println!(
        "vector            max-passage {:.4}",
        tuner.score(&vector_runs, Aggregate::Max)
    );

    if let Some(runs) = &context_runs {
        println!(
            "vector+title      max-passage {:.4}",
            tuner.score(runs, Aggregate::Max)
        );
    }
    let scratch = tempfile::tempdir().unwrap();
    let layouts: [(&str, Layout); 2] = [("fields", Layout::Fields), ("window", Layout::Window)];
    let mut choices: Vec<(String, Vec<Hits>)> = Vec::new();
    let mut best_bm25: Option<(f64, String, Vec<Hits>)> = None;
    for (name, layout) in layouts {
        let mut index = build_bm25(&scratch.path().join(name), &chunks, layout, brand.id);
        let grid: &[(f32, f32, f32)] = match layout {
            Layout::Window => &[(0.3, 0.3, 1.0)],
            Layout::Fields => &[
                (1.0, 1.0, 1.0),
                (0.5, 0.5, 1.0),
                (0.3, 0.3, 1.0),
                (0.2, 0.2, 1.0),
                (0.0, 0.0, 1.0),
            ],
        };
        for &(title, heading, body) in grid {
            index.set_config(Bm25Config {
                title_boost: title,
                heading_boost: heading,
                body_boost: body,
            });
            let runs = bm25_runs(&index, &dataset, brand.id);
            if [("window", 0.3), ("fields", 0.3)].contains(&(name, title)) {
                choices.push((format!("{name} t{title} h{heading}"), runs.clone()));
            }
            for aggregate in [Aggregate::Max, Aggregate::MaxPlus(0.3)] {
                let score = tuner.score(&runs, aggregate);
                println!("bm25 {name:<15} t{title} h{heading} b{body} {aggregate:?} {score:.4}");
                if aggregate == Aggregate::Max
                    && best_bm25.as_ref().is_none_or(|(best, _, _)| score > *best)
                {
                    best_bm25 = Some((score, format!("{name} t{title} h{heading}"), runs.clone()));
                }
            }
        }
    }
    let (_, best_name, bm25) = best_bm25.unwrap();
    let vector_runs = context_runs.unwrap_or(vector_runs);
    // Whole-document embeddings: the normalised mean of a document's chunk vectors.
    let mut sums: HashMap<String, Vec<f32>> = HashMap::new();
    for c in &chunks {
        let Some(v) = &c.vector else { continue };
        let sum = sums
            .entry(chunk_doc[&c.id].clone())
            .or_insert_with(|| vec![0.0; v.len()]);
        sum.iter_mut().zip(v).for_each(|(s, x)| *s += x);
    }
    let doc_vectors: Vec<(ChunkId, Vec<f32>)> = sums
        .into_iter()
        .map(|(doc, mut v)| {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            v.iter_mut().for_each(|x| *x /= norm);
            (tuner.canonical[&doc], v)
        })
        .collect();
    let mean_runs: Vec<Hits> = query_vectors
        .iter()
        .map(|q| {
            let mut scored: Hits = doc_vectors
                .iter()
                .map(|(c, v)| (*c, v.iter().zip(q).map(|(a, b)| a * b).sum::<f32>()))
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored.truncate(DEPTH);
            scored
        })
        .collect();
    println!(
        "doc-mean vector {:.4}",
        tuner.score(&mean_runs, Aggregate::Max)
    );
    let vector_docs_all = tuner.document_lists(&vector_runs);
    for (name, runs) in &choices {
        let bm25_docs = tuner.document_lists(runs);
        for (normalization, vector_weight) in [
            (ScoreNormalization::MinMax, 0.8),
            (ScoreNormalization::MinMax, 1.0),
            (ScoreNormalization::ZScore, 0.8),
            (ScoreNormalization::ZScore, 1.0),
            (ScoreNormalization::ZScore, 1.3),
        ] {
            let fused = fuse(
                runs,
                &vector_runs,
                |lists| fusion::convex_fusion(lists, normalization),
                vector_weight,
            );
            println!(
                "choice {name}: convex {normalization:?} wv{vector_weight} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
        for depth in [20usize, 50, 100, 200] {
            let cut = |r: &[Hits]| -> Vec<Hits> {
                r.iter().map(|h| h[..h.len().min(depth)].to_vec()).collect()
            };
            let fused = fuse(
                &cut(runs),
                &cut(&vector_runs),
                |lists| fusion::convex_fusion(lists, ScoreNormalization::MinMax),
                1.0,
            );
            println!(
                "choice {name}: minmax depth {depth} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
        for k in [10.0, 60.0] {
            let fused = fuse(
                runs,
                &vector_runs,
                |lists| fusion::reciprocal_rank_fusion(lists, k),
                1.0,
            );
            println!(
                "choice {name}: rrf k{k} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
        for mean_weight in [0.2, 0.4, 0.6] {
            let fused: Vec<Hits> = bm25_docs
                .iter()
                .zip(&vector_docs_all)
                .zip(&mean_runs)
                .map(|((b, v), m)| {
                    fusion::convex_fusion(
                        &[
                            WeightedList::new(b, 1.0),
                            WeightedList::new(v, 1.0),
                            WeightedList::new(m, mean_weight),
                        ],
                        ScoreNormalization::ZScore,
                    )
                })
                .collect();
            println!(
                "choice {name}: 3-way zscore mean{mean_weight} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
    }
    if std::env::var_os("GRID").is_none() {
        return;
    }
    println!("fusion over bm25 {best_name}");
    for k in [5.0, 10.0, 20.0, 40.0, 60.0, 100.0] {
        for vector_weight in [0.7, 1.0, 1.3, 1.6, 2.0] {
            let fused = fuse(
                &bm25,
                &vector_runs,
                |lists| fusion::reciprocal_rank_fusion(lists, k),
                vector_weight,
            );
            println!(
                "rrf k{k} wv{vector_weight} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
    }
    let bm25_docs = tuner.document_lists(&bm25);
    let vector_docs = tuner.document_lists(&vector_runs);
    for normalization in [ScoreNormalization::MinMax, ScoreNormalization::ZScore] {
        for vector_weight in [0.5, 0.8, 1.0, 1.3, 1.6] {
            let fused = fuse(
                &bm25_docs,
                &vector_docs,
                |lists| fusion::convex_fusion(lists, normalization),
                vector_weight,
            );
            println!(
                "doc-level convex {normalization:?} wv{vector_weight} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
    }
    for k in [10.0, 20.0, 60.0] {
        let fused = fuse(
            &bm25_docs,
            &vector_docs,
            |lists| fusion::reciprocal_rank_fusion(lists, k),
            1.0,
        );
        println!(
            "doc-level rrf k{k} {:.4}",
            tuner.score(&fused, Aggregate::Max)
        );
    }
    for normalization in [ScoreNormalization::MinMax, ScoreNormalization::ZScore] {
        for vector_weight in [0.5, 0.8, 1.0, 1.3, 1.6, 2.0, 3.0] {
            let fused = fuse(
                &bm25,
                &vector_runs,
                |lists| fusion::convex_fusion(lists, normalization),
                vector_weight,
            );
            println!(
                "convex {normalization:?} wv{vector_weight} {:.4}",
                tuner.score(&fused, Aggregate::Max)
            );
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Aggregate {
    /// A document scores its best chunk's rank position.
    Max,
    /// Best chunk's score plus this share of the second best (fused or raw scores).
    MaxPlus(f32),
}

#[derive(Clone, Copy)]
enum Layout {
    /// As the product indexes: title, heading path and body fields.
    Fields,
    /// Body holds the chunk with its neighbours in the same source.
    Window,
}

struct Tuner<'a> {
    dataset: &'a BeirDataset,
    chunk_doc: &'a HashMap<ChunkId, String>,
    /// Each document's first chunk, standing for the whole document in doc-level fusion.
    canonical: HashMap<String, ChunkId>,
}

impl Tuner<'_> {
    fn score(&self, runs: &[Hits], aggregate: Aggregate) -> f64 {
        let mut total = 0.0;
        for ((query, _), hits) in self.dataset.queries.iter().zip(runs) {
            let ranked = self.documents(hits, aggregate);
            total += metrics::ndcg_at_k(&ranked, &self.dataset.qrels[query], 10);
        }
        total / self.dataset.queries.len() as f64
    }

    /// Each run reduced to one entry per document (its best chunk), keyed by that chunk, so
    /// fusion works on documents while `score` still maps them back.
    fn document_lists(&self, runs: &[Hits]) -> Vec<Hits> {
        runs.iter()
            .map(|hits| {
                let mut seen = HashSet::new();
                hits.iter()
                    .filter_map(|(c, score)| {
                        let doc = self.chunk_doc.get(c)?;
                        seen.insert(doc.clone())
                            .then(|| (self.canonical[doc], *score))
                    })
                    .collect()
            })
            .collect()
    }

    fn documents(&self, hits: &[(ChunkId, f32)], aggregate: Aggregate) -> Vec<String> {
        match aggregate {
            Aggregate::Max => {
                let mut seen = HashSet::new();
                hits.iter()
                    .filter_map(|(c, _)| self.chunk_doc.get(c))
                    .filter(|d| seen.insert(d.as_str()))
                    .take(100)
                    .cloned()
                    .collect()
            }
            Aggregate::MaxPlus(share) => {
                let mut scores: HashMap<&str, (f32, f32)> = HashMap::new();
                for (chunk, score) in hits {
                    let Some(doc) = self.chunk_doc.get(chunk) else {
                        continue;
                    };
                    let entry = scores.entry(doc).or_insert((f32::MIN, 0.0));
                    if entry.0 == f32::MIN {
                        entry.0 = *score;
                    } else if entry.1 == 0.0 {
                        entry.1 = *score;
                    }
                }
                let mut ranked: Vec<(&str, f32)> = scores
                    .into_iter()
                    .map(|(d, (a, b))| (d, a + share * b))
                    .collect();
                ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
                ranked
                    .into_iter()
                    .take(100)
                    .map(|(d, _)| d.to_owned())
                    .collect()
            }
        }
    }
}

fn exact_top(query: &[f32], chunks: &[ChunkForIndex], k: usize) -> Hits {
    let mut scored: Hits = chunks
        .iter()
        .filter_map(|c| {
            let v = c.vector.as_ref()?;
            Some((c.id, v.iter().zip(query).map(|(a, b)| a * b).sum::<f32>()))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(k);
    scored
}

fn build_bm25(
    dir: &std::path::Path,
    chunks: &[ChunkForIndex],
    layout: Layout,
    brand: BrandId,
) -> Bm25Index {
    let index = Bm25Index::open(dir).unwrap();
    let mut by_source: HashMap<SourceId, Vec<usize>> = HashMap::new();
    for (i, c) in chunks.iter().enumerate() {
        by_source.entry(c.source).or_default().push(i);
    }
    let indexed: Vec<IndexedChunk> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let text = match layout {
                Layout::Window => {
                    let siblings = &by_source[&c.source];
                    let at = siblings.iter().position(|&s| s == i).unwrap();
                    let from = at.saturating_sub(1);
                    let to = (at + 2).min(siblings.len());
                    siblings[from..to]
                        .iter()
                        .map(|&s| chunks[s].text.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                }
                _ => c.text.clone(),
            };
            IndexedChunk {
                chunk_id: c.id,
                brand,
                source: c.source,
                tags: Vec::new(),
                title: c.source_title.clone(),
                heading_path: c.heading_path.clone(),
                text,
                vector: Vec::new(),
            }
        })
        .collect();
    index.upsert(&indexed).unwrap();
    index
        .commit(Watermark {
            last_chunk: 1,
            last_deletion: 0,
        })
        .unwrap();
    index
}

fn bm25_runs(index: &Bm25Index, dataset: &BeirDataset, brand: BrandId) -> Vec<Hits> {
    let filter = SearchFilter::brand(brand);
    dataset
        .queries
        .iter()
        .map(|(_, text)| index.search(text, &filter, DEPTH).unwrap())
        .collect()
}

fn fuse(
    bm25: &[Hits],
    vector: &[Hits],
    method: impl Fn(&[WeightedList<'_>]) -> Hits,
    vector_weight: f32,
) -> Vec<Hits> {
    bm25.iter()
        .zip(vector)
        .map(|(b, v)| {
            method(&[
                WeightedList::new(b, 1.0),
                WeightedList::new(v, vector_weight),
            ])
        })
        .collect()
}
