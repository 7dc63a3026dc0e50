//! `brandpilot ingest PATH… --brand NAME [--tag T]`

use crate::output::ProgressObserver;
use anyhow::Result;
use brandpilot_app::Settings;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct IngestArgs {
    /// Files or directories (read recursively).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The brand to add them to (created if new).
    #[arg(long)]
    brand: String,
    /// Tags to attach to every source (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(settings: Settings, args: IngestArgs) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    let brand = app.brand(&args.brand, true).await?;
    let progress = ProgressObserver::new("ingesting");
    let report = app
        .ingest_paths(&brand, &args.paths, &args.tags, &progress)
        .await?;
    progress.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} files: {} added, {} updated, {} unchanged, {} failed — {} chunks ({} embedded) in {:.1}s",
            report.files,
            report.added,
            report.updated,
            report.unchanged,
            report.failed.len(),
            report.chunks,
            report.embedded,
            report.seconds
        );
        for (origin, reason) in &report.failed {
            println!("  failed: {origin}: {reason}");
        }
    }
    app.close().await;
    // Partial failure is still a failure for scripts, but the rest of the batch is stored.
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
