//! `brandpilot eval retrieval --dataset DIR [--mode M]… [--split test] [--json]`
//! `brandpilot eval answers --dataset DIR [--mode extractive|generative]… [--limit N] [--judge] [--cases-out F]`

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
    /// The assistant's answers to a BEIR dataset's claims (SciFact): citation precision,
    /// answer coverage, refusal accuracy on claims whose documents are held out, latency.
    Answers {
        #[arg(long)]
        dataset: PathBuf,
        #[arg(long, default_value = "test")]
        split: String,
        /// Ask the first N judged claims.
        #[arg(long, default_value_t = 300)]
        limit: usize,
        /// Every N-th claim has its documents held out of the corpus (unanswerable).
        #[arg(long, default_value_t = 3)]
        holdout_every: usize,
        /// `extractive`, `generative` (the model on the `answer` route writes; verified), or
        /// both when repeated. Default: extractive.
        #[arg(long = "mode")]
        modes: Vec<String>,
        /// Score citation precision with the model on the `judge` route instead of the
        /// verifier (set `llm.routes.judge` to a capable model).
        #[arg(long)]
        judge: bool,
        /// Write each question's outcome and confidence inputs here, one JSON line each
        /// (for calibrating `escalation_threshold`).
        #[arg(long)]
        cases_out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: Settings, command: EvalCommand) -> Result<ExitCode> {
    match command {
        EvalCommand::Retrieval {
            dataset,
            modes,
            split,
            json,
        } => retrieval(settings, dataset, modes, split, json).await,
        EvalCommand::Answers {
            dataset,
            split,
            limit,
            holdout_every,
            modes,
            cases_out,
            judge,
            json,
        } => {
            let options = AnswerOptions {
                judge,
                split,
                limit,
                holdout_every,
                modes,
                cases_out,
                json,
            };
            answers(settings, dataset, options).await
        }
    }
}

struct AnswerOptions {
    judge: bool,
    split: String,
    limit: usize,
    holdout_every: usize,
    modes: Vec<String>,
    cases_out: Option<PathBuf>,
    json: bool,
}

async fn answers(
    mut settings: Settings,
    dataset: PathBuf,
    options: AnswerOptions,
) -> Result<ExitCode> {
    let AnswerOptions {
        judge,
        split,
        limit,
        holdout_every,
        modes,
        cases_out,
        json,
    } = options;
    use brandpilot_app::eval_answers::answer_set_from_beir;
    use brandpilot_assistant::profile::AnswerMode;
    let modes = if modes.is_empty() {
        vec![AnswerMode::Extractive]
    } else {
        modes
            .iter()
            .map(|mode| match mode.as_str() {
                "extractive" => Ok(AnswerMode::Extractive),
                "generative" => Ok(AnswerMode::Generative),
                other => anyhow::bail!("unknown answer mode {other:?} (extractive or generative)"),
            })
            .collect::<Result<Vec<_>>>()?
    };
    let data = tokio::task::spawn_blocking(move || load_beir(&dataset, &split)).await??;
    let set = answer_set_from_beir(&data, holdout_every, limit);
    settings.data_dir = settings
        .data_dir
        .join("eval")
        .join(format!("{}-answers-{holdout_every}", data.name));
    let app = super::open(settings).await?;
    let brand = app.brand(&format!("answers-{}", data.name), true).await?;
    let llm = brandpilot_app::llm::LazyLlm::default();
    let mut all = Vec::new();
    for mode in modes {
        let progress = ProgressObserver::new("ingesting corpus");
        let scores = app
            .eval_answers(&llm, &brand, &set, mode, judge, &progress)
            .await?;
        progress.finish();
        all.push(scores);
    }
    if let Some(path) = &cases_out {
        let mut lines = String::new();
        for scores in &all {
            for case in &scores.cases {
                let mut line = serde_json::to_value(case)?;
                line["mode"] = serde_json::json!(scores.mode);
                lines.push_str(&line.to_string());
                lines.push('\n');
            }
        }
        fs_err::write(path, lines)?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        println!(
            "{}: {} claims ({} answerable, {} with their documents held out), embedder {}",
            data.name,
            set.cases.len(),
            all.first().map_or(0, |s| s.answerable),
            all.first().map_or(0, |s| s.unanswerable),
            app.embedder().model_id()
        );
        println!(
            "citation precision judged by the {}",
            all.first().map_or("verifier", |s| s.judged_by.as_str())
        );
        println!(
            "mode        citation-precision  relevant-cited  coverage  refusal-acc  p50 ms  p95 ms"
        );
        for s in &all {
            println!(
                "{:<11} {:>18.3}  {:>14.3}  {:>8.3}  {:>11.3}  {:>6.0}  {:>6.0}",
                s.mode,
                s.citation_precision,
                s.relevant_citation_share,
                s.answer_coverage,
                s.refusal_accuracy,
                s.turn_p50_ms,
                s.turn_p95_ms
            );
            let curve: Vec<String> = s
                .threshold_curve
                .iter()
                .map(|(t, coverage, refusal)| format!("{t:.1}: {coverage:.2}/{refusal:.2}"))
                .collect();
            println!("  threshold → coverage/refusal: {}", curve.join("  "));
        }
    }
    llm.flush().await;
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn retrieval(
    mut settings: Settings,
    dataset: PathBuf,
    modes: Vec<SearchMode>,
    split: String,
    json: bool,
) -> Result<ExitCode> {
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
