//! `brandpilot eval retrieval --dataset DIR [--mode M]… [--split test] [--json]`

use crate::output::ProgressObserver;
use anyhow::Result;
use brandpilot_app::Settings;
use brandpilot_app::eval::load_beir;
use brandpilot_core::SearchMode;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// nDCG@10, recall@10/100, MRR@10 and query latency on a BEIR dataset.
    Retrieval {
        /// A directory with corpus.jsonl, queries.jsonl and qrels/<split>.tsv.
        #[arg(long)]
        dataset: PathBuf,
        /// Modes to score (repeatable; default: bm25, vector and hybrid).
        #[arg(long = "mode")]
        modes: Vec<SearchMode>,
        #[arg(long, default_value = "test")]
        split: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(mut settings: Settings, command: EvalCommand) -> Result<ExitCode> {
    let EvalCommand::Retrieval {
        dataset,
        modes,
        split,
        json,
    } = command;
    let data = tokio::task::spawn_blocking({
        let dataset = dataset.clone();
        move || load_beir(&dataset, &split)
    })
    .await??;
    // Each dataset gets its own data directory, so evaluation never mixes with a user's
    // brands and re-runs reuse the ingested corpus.
    settings.data_dir = settings.data_dir.join("eval").join(&data.name);
    let app = super::open(settings).await?;
    let brand = app.brand(&format!("beir-{}", data.name), true).await?;
    let modes = if modes.is_empty() {
        vec![SearchMode::Bm25, SearchMode::Vector, SearchMode::Hybrid]
    } else {
        modes
    };
    let progress = ProgressObserver::new("ingesting corpus");
    let scores = app.eval_retrieval(&brand, &data, &modes, &progress).await?;
    progress.finish();
    if json {
        println!("{}", serde_json::to_string_pretty(&scores)?);
    } else {
        println!(
            "{} ({} queries, embedder {}, chunks {}/{} tokens)",
            data.name,
            data.queries.len(),
            app.embedder().model_id(),
            app.chunking().max_tokens,
            app.chunking().overlap_tokens
        );
        println!("mode     nDCG@10  recall@10  recall@100  MRR@10   p50 ms  p99 ms");
        for s in &scores {
            println!(
                "{:<8} {:>7.4}  {:>9.4}  {:>10.4}  {:>6.4}  {:>7.2} {:>7.2}",
                s.mode,
                s.ndcg_at_10,
                s.recall_at_10,
                s.recall_at_100,
                s.mrr_at_10,
                s.p50_ms,
                s.p99_ms
            );
        }
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}
