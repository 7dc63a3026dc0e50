//! The `brandpilot` binary: reads configuration, sets up logging, opens the app and runs one
//! command. It holds no logic of its own beyond parsing and printing; everything else is in
//! `brandpilot-app` and below.

mod commands;
mod config;
mod output;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "brandpilot",
    version,
    about = "Self-hosted AI marketing copilot"
)]
struct Cli {
    /// Settings file (default: ./brandpilot.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory (default: ./brandpilot-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Model directory filled by scripts/setup-models.sh (default: ./models).
    #[arg(long, global = true)]
    models_dir: Option<PathBuf>,
    /// Log filter, e.g. "info" or "brandpilot_app=debug" (or RUST_LOG).
    #[arg(long, global = true)]
    log: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest files and directories into a brand's knowledge base.
    Ingest(commands::ingest::IngestArgs),
    /// Search a brand's knowledge base; prints passages with citations.
    Search(commands::search::SearchArgs),
    /// List or remove a brand's sources.
    Sources(commands::sources::SourcesArgs),
    /// Rebuild the search indexes from the store.
    Reindex,
    /// Evaluate retrieval on a BEIR-layout dataset.
    Eval(EvalArgs),
    /// Write on-brand copy from a brief, or a reel script, judged against the brand's rules.
    Generate(commands::generate::GenerateArgs),
    /// A brand's Studio settings: content rules, examples library and voice profile.
    Studio(commands::studio::StudioArgs),
    /// Ask a language model through a route; streams the answer.
    Chat(commands::chat::ChatArgs),
    /// List LLM providers, routes and local models, or pull a local model.
    Models {
        #[command(subcommand)]
        what: commands::models::ModelsCommand,
    },
    /// Measure throughput, latency and memory.
    Bench(commands::bench::BenchArgs),
    /// Serve the HTTP API (with its docs page at /api/v1/docs).
    Serve(commands::serve::ServeArgs),
    /// Create, list or revoke API keys for the HTTP API.
    Keys(commands::keys::KeysArgs),
    /// List workspaces and put them on billing plans.
    Workspaces(commands::workspaces::WorkspacesArgs),
    /// Back up the store (a consistent snapshot, also while a server runs).
    Backup(commands::backup::BackupArgs),
    /// Restore a backup into the data directory and rebuild the indexes.
    Restore(commands::backup::RestoreArgs),
    /// Print the effective settings (secrets hidden).
    Settings,
    /// Internal: parse a PDF from stdin in this child process (crash isolation).
    #[command(name = "__extract-pdf", hide = true)]
    ExtractPdf,
}

#[derive(Args)]
struct EvalArgs {
    #[command(subcommand)]
    what: commands::eval::EvalCommand,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::ExtractPdf = cli.command {
        return brandpilot_extract::pdf_worker_main();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let mut flags = Vec::new();
    if let Some(dir) = &cli.data_dir {
        flags.push(("data_dir", toml::Value::String(dir.display().to_string())));
    }
    if let Some(dir) = &cli.models_dir {
        flags.push(("models_dir", toml::Value::String(dir.display().to_string())));
    }
    let settings = config::load(cli.config.as_deref(), std::env::vars(), &flags)?;
    // A server logs every request (with its id) at info; other commands only warnings.
    let default_log = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let _traces = output::init_logging(cli.log.as_deref(), default_log, &settings.telemetry)?;
    commands::check_cpu()?;
    match cli.command {
        Command::Ingest(args) => commands::ingest::run(settings, args).await,
        Command::Search(args) => commands::search::run(settings, args).await,
        Command::Sources(args) => commands::sources::run(settings, args).await,
        Command::Reindex => commands::reindex(settings).await,
        Command::Eval(args) => commands::eval::run(settings, args.what).await,
        Command::Bench(args) => commands::bench::run(settings, args).await,
        Command::Chat(args) => commands::chat::run(settings, args).await,
        Command::Generate(args) => commands::generate::run(settings, args).await,
        Command::Studio(args) => commands::studio::run(settings, args).await,
        Command::Models { what } => commands::models::run(settings, what),
        Command::Serve(args) => commands::serve::run(settings, args).await,
        Command::Keys(args) => commands::keys::run(settings, args).await,
        Command::Workspaces(args) => commands::workspaces::run(settings, args).await,
        Command::Backup(args) => commands::backup::backup(settings, args).await,
        Command::Restore(args) => commands::backup::restore(settings, args).await,
        Command::Settings => commands::show_settings(&settings),
        Command::ExtractPdf => Ok(ExitCode::SUCCESS),
    }
}
