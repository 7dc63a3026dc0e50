//! `brandpilot backup FILE` and `brandpilot restore FILE [--force]`.

use anyhow::{Result, bail};
use brandpilot_app::{Settings, backup};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct BackupArgs {
    /// The archive to write (a zip); safe to take while a server runs.
    file: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// An archive written by `brandpilot backup`.
    file: PathBuf,
    /// Replace the database already in the data directory.
    #[arg(long)]
    force: bool,
}

pub async fn backup(settings: Settings, args: BackupArgs) -> Result<ExitCode> {
    let manifest = backup::backup(&settings, &args.file).await?;
    println!(
        "backed up {} chunks to {} (database sha256 {})",
        manifest.chunks,
        args.file.display(),
        &manifest.database_sha256[..16]
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(settings: Settings, args: RestoreArgs) -> Result<ExitCode> {
    let manifest = backup::restore(&settings, &args.file, args.force).await?;
    // The indexes are rebuilt from the restored store (its embedding cache included).
    let app = super::open(settings).await?;
    let report = app.reindex().await?;
    let chunks = app.store.count_chunks().await?;
    app.close().await;
    if chunks != manifest.chunks {
        bail!(
            "the restored database holds {chunks} chunks, the backup's manifest says {}",
            manifest.chunks
        );
    }
    println!(
        "restored {chunks} chunks from {} (taken {} ms after the epoch); indexes rebuilt \
         ({} embedded anew)",
        args.file.display(),
        manifest.created_at_ms,
        report.embedded
    );
    Ok(ExitCode::SUCCESS)
}
