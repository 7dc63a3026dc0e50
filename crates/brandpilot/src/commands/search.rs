//! `brandpilot search "query" --brand NAME [-k N] [--mode hybrid|bm25|vector] [--json]`

use crate::output::{highlight, snippet};
use anyhow::Result;
use brandpilot_app::Settings;
use brandpilot_core::SearchMode;
use clap::Args;
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Args)]
pub struct SearchArgs {
    query: String,
    #[arg(long)]
    brand: String,
    /// Number of passages.
    #[arg(short, default_value_t = 5)]
    k: usize,
    /// hybrid, bm25 or vector.
    #[arg(long, default_value = "hybrid")]
    mode: SearchMode,
    /// Only sources with one of these tags (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[arg(long)]
    json: bool,
}

pub async fn run(settings: Settings, args: SearchArgs) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    let brand = app.brand(&args.brand, false).await?;
    let results = app
        .search(
            &brand,
            &args.query,
            args.k.clamp(1, 1000),
            args.mode,
            &args.tags,
        )
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        if !results.semantic && args.mode != SearchMode::Bm25 {
            println!(
                "(lexical matching only: {} is not a semantic model)\n",
                results.embedder
            );
        }
        if results.passages.is_empty() {
            println!("no passages found");
        }
        let color = std::io::stdout().is_terminal();
        for (rank, passage) in results.passages.iter().enumerate() {
            println!(
                "[{}] {} — {}  (score {:.4})",
                rank + 1,
                passage.source_title,
                passage.locator.label(),
                passage.score
            );
            println!(
                "    {}",
                highlight(&snippet(&passage.text, 300), &args.query, color)
            );
            println!("    {}\n", passage.source_origin);
        }
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}
