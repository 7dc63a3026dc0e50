//! `brandpilot sources ls|rm --brand NAME`

use anyhow::Result;
use brandpilot_app::Settings;
use brandpilot_core::SourceId;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args)]
pub struct SourcesArgs {
    #[command(subcommand)]
    action: SourcesAction,
}

#[derive(Subcommand)]
enum SourcesAction {
    /// List a brand's sources with their status.
    Ls {
        #[arg(long)]
        brand: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove sources (and their chunks, everywhere) by id.
    Rm {
        #[arg(required = true)]
        ids: Vec<i64>,
        #[arg(long)]
        brand: String,
    },
}

pub async fn run(settings: Settings, args: SourcesArgs) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    match args.action {
        SourcesAction::Ls { brand, json } => {
            let brand = app.brand(&brand, false).await?;
            let sources = app.list_sources(&brand).await?;
            if json {
                let rows: Vec<serde_json::Value> = sources
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "id": s.id, "kind": s.kind, "origin": s.origin, "title": s.title,
                            "tags": s.tags, "status": s.status, "error": s.error,
                            "chunks": s.chunk_count, "bytes": s.byte_size,
                            "updated_at_ms": s.updated_at_ms,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for s in &sources {
                    let error = s
                        .error
                        .as_deref()
                        .map(|e| format!("  ({e})"))
                        .unwrap_or_default();
                    println!(
                        "{:>6}  {:<10} {:<8} {:>5} chunks  {}{error}",
                        s.id, s.status, s.kind, s.chunk_count, s.origin
                    );
                }
                println!("{} sources", sources.len());
            }
        }
        SourcesAction::Rm { ids, brand } => {
            let brand = app.brand(&brand, false).await?;
            for id in ids {
                app.remove_source(&brand, SourceId(id)).await?;
                println!("removed source {id}");
            }
        }
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}
