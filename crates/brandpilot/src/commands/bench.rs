//! `brandpilot bench ingest|search|chat|embed|llm`: throughput, latency and peak memory.
//!
//! Each run works in a fresh directory under `<data_dir>/bench/` (removed afterwards unless
//! `--keep`), so benchmarks never touch a user's brands.

use crate::output::{ProgressObserver, peak_rss_mb};
use anyhow::{Context, Result};
use brandpilot_app::Settings;
use brandpilot_app::bench::{SyntheticText, bench_embedder, directory_bytes};
use brandpilot_app::eval::load_beir;
use brandpilot_app::settings::EmbedderKind;
use brandpilot_core::SearchMode;
use brandpilot_llm_local::bench::{LlmBenchConfig, LlmBenchResult, bench_local_model};
use brandpilot_llm_local::{GeneratorSettings, resolve_gguf};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    what: BenchCommand,
    /// Keep the benchmark's data directory afterwards.
    #[arg(long, global = true)]
    keep: bool,
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum BenchEmbedder {
    /// The hashing embedder: measures everything but the model.
    Hashing,
    /// The embedder the settings select (the local model by default).
    Configured,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// End-to-end ingestion throughput on a generated corpus or a BEIR dataset.
    Ingest {
        /// Generated documents (about one chunk each), unless --dataset is given.
        #[arg(long, default_value_t = 20_000)]
        chunks: usize,
        /// A BEIR-layout directory whose corpus.jsonl is ingested instead.
        #[arg(long)]
        dataset: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "hashing")]
        embedder: BenchEmbedder,
    },
    /// Search latency per mode on N generated chunks, excluding the query embedding.
    Search {
        #[arg(long, default_value_t = 100_000)]
        chunks: usize,
        #[arg(long, default_value_t = 1_000)]
        queries: usize,
        #[arg(short, default_value_t = 10)]
        k: usize,
        #[arg(long, value_enum, default_value = "hashing")]
        embedder: BenchEmbedder,
    },
    /// Assistant turns on N generated chunks: the whole turn, the turn without model time
    /// (query embedding, generation), and time to the first streamed piece of the answer.
    Chat {
        #[arg(long, default_value_t = 10_000)]
        chunks: usize,
        #[arg(long, default_value_t = 300)]
        turns: usize,
        /// Turns to a conversation before a new one starts (memory and rewriting at work).
        #[arg(long, default_value_t = 4)]
        per_conversation: usize,
        #[arg(long, value_enum, default_value = "configured")]
        embedder: BenchEmbedder,
        /// Let the model on the `answer` route rephrase each extractive answer (measures its
        /// time to first token).
        #[arg(long)]
        rephrase: bool,
        /// A BEIR-layout directory (SciFact): its corpus instead of generated chunks, and
        /// its first --turns queries as the questions.
        #[arg(long)]
        dataset: Option<PathBuf>,
    },
    /// The embedding model alone: tokens/s on texts cut to its token budget.
    Embed {
        /// A BEIR-layout directory; its first --texts abstracts are embedded.
        #[arg(long)]
        dataset: Option<PathBuf>,
        #[arg(long, default_value_t = 2_000)]
        texts: usize,
        #[arg(long, default_value_t = 32)]
        batch: usize,
    },
    /// Local language models: prompt and generation tokens/s, time to first token of a
    /// retrieval-augmented prompt, and peak RSS (each model in its own child process).
    Llm {
        /// Models to measure: names under the models directory, files or directories
        /// (repeatable). Default: every installed chat model Brandpilot knows.
        #[arg(long = "model")]
        models: Vec<String>,
        /// Compute threads; 0 means one per core.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[arg(long, default_value_t = 300)]
        prompt_tokens: usize,
        #[arg(long, default_value_t = 100)]
        new_tokens: u32,
        /// Context tokens of the retrieval-augmented prompt whose time to first token is
        /// measured.
        #[arg(long, default_value_t = 1500)]
        rag_tokens: usize,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Measure the one given model in this process (what the child processes run).
        #[arg(long, hide = true)]
        in_process: bool,
    },
}

pub async fn run(mut settings: Settings, args: BenchArgs) -> Result<ExitCode> {
    let run_dir = settings
        .data_dir
        .join("bench")
        .join(format!("run-{}", std::process::id()));
    settings.data_dir = run_dir.clone();
    let result = match args.what {
        BenchCommand::Ingest {
            chunks,
            dataset,
            embedder,
        } => {
            use_embedder(&mut settings, embedder);
            ingest(settings, chunks, dataset, args.json).await
        }
        BenchCommand::Search {
            chunks,
            queries,
            k,
            embedder,
        } => {
            use_embedder(&mut settings, embedder);
            search(settings, chunks, queries, k, args.json).await
        }
        BenchCommand::Embed {
            dataset,
            texts,
            batch,
        } => embed(settings, dataset, texts, batch, args.json).await,
        BenchCommand::Chat {
            chunks,
            turns,
            per_conversation,
            embedder,
            rephrase,
            dataset,
        } => {
            use_embedder(&mut settings, embedder);
            settings.assistant.rephrase = rephrase;
            let corpus = match dataset {
                Some(dir) => ChatCorpus::Dataset(dir),
                None => ChatCorpus::Synthetic(chunks),
            };
            chat(settings, corpus, turns, per_conversation, args.json).await
        }
        BenchCommand::Llm {
            models,
            threads,
            prompt_tokens,
            new_tokens,
            rag_tokens,
            runs,
            in_process,
        } => {
            let config = LlmBenchConfig {
                prompt_tokens,
                new_tokens,
                rag_context_tokens: rag_tokens,
                runs,
            };
            if in_process {
                llm_in_process(&settings, &models, threads, &config).await
            } else {
                llm(&settings, models, threads, &config, args.json).await
            }
        }
    };
    if !args.keep && run_dir.exists() {
        fs_err::remove_dir_all(&run_dir)?;
    }
    result
}

fn use_embedder(settings: &mut Settings, choice: BenchEmbedder) {
    if choice == BenchEmbedder::Hashing {
        settings.embedder.kind = EmbedderKind::Hashing;
    }
}

async fn ingest(
    settings: Settings,
    chunks: usize,
    dataset: Option<PathBuf>,
    json: bool,
) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    let brand = app.brand("bench", true).await?;
    let progress = ProgressObserver::new("ingesting");
    let report = match dataset {
        Some(dir) => {
            let data = tokio::task::spawn_blocking(move || load_beir(&dir, "test")).await??;
            app.ingest_texts(&brand, data.corpus, &[], &progress)
                .await?
        }
        None => app.ingest_synthetic(&brand, chunks, &progress).await?,
    };
    progress.finish();
    let index_bytes = directory_bytes(&app.settings.index_dir());
    let summary = serde_json::json!({
        "embedder": app.embedder().model_id(),
        "documents": report.files,
        "chunks": report.chunks,
        "embedded": report.embedded,
        "seconds": report.seconds,
        "chunks_per_second": report.chunks as f64 / report.seconds,
        "index_seconds": report.index_seconds,
        "index_overlapped_seconds": report.index_overlapped_seconds,
        "index_mb": index_bytes as f64 / 1e6,
        "peak_rss_mb": peak_rss_mb(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "ingest: {} documents → {} chunks in {:.2}s = {:.0} chunks/s end to end ({}); \
             index work after the last store write {:.2}s (index follower busy {:.2}s in all)",
            report.files,
            report.chunks,
            report.seconds,
            report.chunks as f64 / report.seconds,
            app.embedder().model_id(),
            report.index_seconds,
            report.index_overlapped_seconds
        );
        println!(
            "index on disk {:.1} MB, peak RSS {:.0} MB",
            index_bytes as f64 / 1e6,
            peak_rss_mb().unwrap_or(0.0)
        );
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

/// What `bench chat` asks about.
enum ChatCorpus {
    /// Generated chunks and generated questions.
    Synthetic(usize),
    /// A BEIR dataset's corpus and queries.
    Dataset(PathBuf),
}

async fn chat(
    settings: Settings,
    corpus: ChatCorpus,
    turns: usize,
    per_conversation: usize,
    json: bool,
) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    let brand = app.brand("bench", true).await?;
    let progress = ProgressObserver::new("building corpus");
    let (questions, chunks): (Vec<String>, usize) = match corpus {
        ChatCorpus::Synthetic(chunks) => {
            app.ingest_synthetic(&brand, chunks, &progress).await?;
            let mut generator = SyntheticText::new(7, 30_000);
            let questions = (0..turns)
                .map(|i| match i % 3 {
                    0 => format!("What do you say about {}?", generator.query()),
                    1 => format!("And how does that relate to {}?", generator.query()),
                    _ => format!("Tell me about {}", generator.query()),
                })
                .collect();
            (questions, chunks)
        }
        ChatCorpus::Dataset(dir) => {
            let data =
                tokio::task::spawn_blocking(move || brandpilot_app::eval::load_beir(&dir, "test"))
                    .await??;
            let report = app
                .ingest_texts(&brand, data.corpus.clone(), &[], &progress)
                .await?;
            let questions = data
                .queries
                .iter()
                .take(turns)
                .map(|(_, text)| text.clone())
                .collect();
            (questions, report.chunks)
        }
    };
    progress.finish();
    // Turns are answered whenever anything is found (none handed over for low confidence,
    // which would skip drafting and the model): what is measured is the cost of answering.
    let profile = brandpilot_assistant::profile::BrandProfile {
        escalation_threshold: 0.0,
        ..Default::default()
    };
    app.put_brand_profile(&brand, &profile).await?;
    let llm = brandpilot_app::llm::LazyLlm::default();
    let result = app
        .bench_chat(&llm, &brand, questions, per_conversation)
        .await?;
    if json {
        let mut value = serde_json::to_value(&result)?;
        value["embedder"] = app.embedder().model_id().into();
        value["chunks"] = chunks.into();
        value["peak_rss_mb"] = peak_rss_mb().into();
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!(
            "chat: {} turns on {chunks} chunks ({}): turn p50 {:.1} ms, p99 {:.1} ms; without \
             model time p50 {:.1} ms, p99 {:.1} ms; first token p50 {:.1} ms, p99 {:.1} ms; \
             {} escalated",
            result.turns,
            app.embedder().model_id(),
            result.turn_p50_ms,
            result.turn_p99_ms,
            result.overhead_p50_ms,
            result.overhead_p99_ms,
            result.first_token_p50_ms,
            result.first_token_p99_ms,
            result.escalated,
        );
        for (step, ms) in &result.mean_step_ms {
            println!("  {step:<10} {ms:>8.2} ms mean");
        }
        println!("peak RSS {:.0} MB", peak_rss_mb().unwrap_or(0.0));
    }
    llm.flush().await;
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn search(
    settings: Settings,
    chunks: usize,
    queries: usize,
    k: usize,
    json: bool,
) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    let brand = app.brand("bench", true).await?;
    let progress = ProgressObserver::new("building corpus");
    let report = app.ingest_synthetic(&brand, chunks, &progress).await?;
    progress.finish();
    let mut generator = SyntheticText::new(7, 30_000);
    let texts: Vec<String> = (0..queries).map(|_| generator.query()).collect();
    let modes = [SearchMode::Bm25, SearchMode::Vector, SearchMode::Hybrid];
    let summaries = app.bench_search(&brand, texts, k, &modes).await?;
    let index_bytes = directory_bytes(&app.settings.index_dir());
    let store_bytes = fs_err::metadata(app.settings.data_dir.join("brandpilot.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "chunks": report.chunks, "k": k, "latency": summaries,
                "index_mb": index_bytes as f64 / 1e6, "store_mb": store_bytes as f64 / 1e6,
                "peak_rss_mb": peak_rss_mb(), "embedder": app.embedder().model_id(),
            }))?
        );
    } else {
        println!(
            "search over {} chunks, k={k}, query embedding excluded ({}):",
            report.chunks,
            app.embedder().model_id()
        );
        println!("mode     queries  p50 ms  p99 ms  mean ms");
        for s in &summaries {
            println!(
                "{:<8} {:>7} {:>7.2} {:>7.2} {:>8.2}",
                s.mode, s.queries, s.p50_ms, s.p99_ms, s.mean_ms
            );
        }
        println!(
            "index on disk {:.1} MB (store {:.1} MB), peak RSS {:.0} MB",
            index_bytes as f64 / 1e6,
            store_bytes as f64 / 1e6,
            peak_rss_mb().unwrap_or(0.0)
        );
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn embed(
    settings: Settings,
    dataset: Option<PathBuf>,
    count: usize,
    batch: usize,
    json: bool,
) -> Result<ExitCode> {
    let choice = tokio::task::spawn_blocking({
        let settings = settings.clone();
        move || brandpilot_app::build_embedder(&settings)
    })
    .await??;
    if let Some(note) = &choice.note {
        eprintln!("warning: {note}");
    }
    let texts: Vec<String> = match dataset {
        Some(dir) => {
            let data = tokio::task::spawn_blocking(move || load_beir(&dir, "test")).await??;
            data.corpus
                .into_iter()
                .take(count)
                .map(|d| format!("{} {}", d.title, d.text))
                .collect()
        }
        None => {
            let mut generator = SyntheticText::new(3, 30_000);
            (0..count).map(|_| generator.paragraph(200)).collect()
        }
    };
    let rss_before = peak_rss_mb();
    let result = tokio::task::spawn_blocking(move || {
        bench_embedder(&choice.embedder, &choice.counter, &texts, batch)
    })
    .await?
    .context("embedding failed")?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"result": result, "peak_rss_mb": peak_rss_mb()})
            )?
        );
    } else {
        println!(
            "{}: {} texts, {} tokens in {:.2}s = {:.0} tokens/s, {:.1} texts/s; peak RSS {:.0} MB (before embedding {:.0} MB)",
            result.model,
            result.texts,
            result.tokens,
            result.seconds,
            result.tokens_per_second,
            result.texts_per_second,
            peak_rss_mb().unwrap_or(0.0),
            rss_before.unwrap_or(0.0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One child process per model, so each peak RSS is that model's alone.
async fn llm(
    settings: &Settings,
    mut models: Vec<String>,
    threads: usize,
    config: &LlmBenchConfig,
    json: bool,
) -> Result<ExitCode> {
    if models.is_empty() {
        models = brandpilot_app::models::known_models(settings)
            .into_iter()
            .filter(|m| m.installed.is_some() && m.name != "all-minilm-l6-v2")
            .map(|m| m.name.to_owned())
            .collect();
        if models.is_empty() {
            anyhow::bail!(
                "no local chat model is installed in {}: run `brandpilot models pull \
                 smollm2-135m-instruct` or scripts/setup-models.sh",
                settings.models_dir.display()
            );
        }
    }
    let program = std::env::current_exe().context("cannot locate the brandpilot binary")?;
    let mut results = Vec::new();
    for model in &models {
        eprintln!("measuring {model} ...");
        let output = tokio::process::Command::new(&program)
            .arg("--models-dir")
            .arg(&settings.models_dir)
            .args(["bench", "llm", "--in-process", "--model", model])
            .args(["--threads", &threads.to_string()])
            .args(["--prompt-tokens", &config.prompt_tokens.to_string()])
            .args(["--new-tokens", &config.new_tokens.to_string()])
            .args(["--rag-tokens", &config.rag_context_tokens.to_string()])
            .args(["--runs", &config.runs.to_string()])
            .stderr(std::process::Stdio::inherit())
            .output()
            .await?;
        if !output.status.success() {
            anyhow::bail!("benchmarking {model} failed ({})", output.status);
        }
        let value: serde_json::Value = serde_json::from_slice(&output.stdout)
            .context("the benchmark child printed no JSON")?;
        results.push(value);
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "model                          threads  prompt tok/s  gen tok/s  TTFT ms (RAG prompt)  peak RSS MB"
    );
    for r in &results {
        println!(
            "{:<30} {:>7} {:>13.0} {:>10.1} {:>10.0} ({:>4} tok) {:>12.0}",
            r["model"].as_str().unwrap_or("?"),
            r["threads"],
            r["prompt_tokens_per_second"].as_f64().unwrap_or(0.0),
            r["generation_tokens_per_second"].as_f64().unwrap_or(0.0),
            r["rag_time_to_first_token_ms"].as_f64().unwrap_or(0.0),
            r["rag_prompt_tokens"],
            r["peak_rss_mb"].as_f64().unwrap_or(0.0),
        );
    }
    println!(
        "prompt: {} tokens evaluated at once; generation: {} tokens, end-of-turn ignored; \
         medians of {} runs after a warm-up",
        config.prompt_tokens, config.new_tokens, config.runs
    );
    Ok(ExitCode::SUCCESS)
}

async fn llm_in_process(
    settings: &Settings,
    models: &[String],
    threads: usize,
    config: &LlmBenchConfig,
) -> Result<ExitCode> {
    let [model] = models else {
        anyhow::bail!("--in-process measures exactly one --model");
    };
    let path = resolve_gguf(model, &settings.models_dir)?;
    let config = config.clone();
    let result: LlmBenchResult = tokio::task::spawn_blocking(move || {
        bench_local_model(
            &path,
            GeneratorSettings {
                threads,
                ..GeneratorSettings::default()
            },
            &config,
        )
    })
    .await??;
    let mut value = serde_json::to_value(&result)?;
    // The name the user gave: GGUF `general.name`s are often training-run labels.
    value["model"] = serde_json::json!(model);
    value["peak_rss_mb"] = serde_json::json!(peak_rss_mb());
    println!("{}", serde_json::to_string(&value)?);
    Ok(ExitCode::SUCCESS)
}
