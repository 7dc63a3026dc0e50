//! One module per command. Each opens the app, calls one use case and prints the result as
//! text for a person or, with `--json`, as JSON for a program.

pub mod backup;
pub mod batch;
pub mod bench;
pub mod chat;
pub mod eval;
pub mod generate;
pub mod ingest;
pub mod keys;
pub mod models;
pub mod search;
pub mod serve;
pub mod sources;
pub mod studio;
pub mod workspaces;

use anyhow::{Context, Result};
use brandpilot_app::{Brandpilot, Settings};
use brandpilot_extract::PdfRunner;
use std::process::ExitCode;

/// Opens the app with PDFs parsed in a child process of this binary.
pub async fn open(settings: Settings) -> Result<Brandpilot> {
    let runner = if settings.extract.pdf_subprocess {
        let program = std::env::current_exe().context("cannot locate the brandpilot binary")?;
        PdfRunner::Subprocess {
            program,
            args: vec!["__extract-pdf".into()],
        }
    } else {
        PdfRunner::InProcess
    };
    let app = Brandpilot::open(settings, runner).await?;
    if let Some(note) = &app.embedder_note {
        eprintln!("warning: {note}");
    }
    Ok(app)
}

pub async fn reindex(settings: Settings) -> Result<ExitCode> {
    let app = open(settings).await?;
    let report = app.reindex().await?;
    println!(
        "reindexed {} chunks ({} embedded with {})",
        report.upserted,
        report.embedded,
        app.embedder().model_id()
    );
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

pub fn show_settings(settings: &Settings) -> Result<ExitCode> {
    let mut shown = settings.clone();
    for secret in [
        &mut shown.embedder.api_key,
        &mut shown.transcription.api_key,
        &mut shown.server.metrics_token,
    ] {
        if secret.is_some() {
            *secret = Some("***".into());
        }
    }
    for provider in shown.llm.providers.values_mut() {
        if provider.api_key.is_some() {
            provider.api_key = Some("***".into());
        }
    }
    for value in shown.telemetry.otlp_headers.values_mut() {
        *value = "***".into();
    }
    println!("{}", toml::to_string_pretty(&shown)?);
    Ok(ExitCode::SUCCESS)
}

/// The binary uses every SIMD extension it was compiled for (`.cargo/config.toml` builds for
/// the CPU it is built on, so llama.cpp gets the same kernels as a native llama.cpp build);
/// on a CPU without one of them it would die with an illegal instruction somewhere deep in a
/// kernel. Say so plainly instead.
pub fn check_cpu() -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! compiled_but_missing {
            ($($feature:tt),*) => {{
                let mut missing: Vec<&str> = Vec::new();
                $(
                    if cfg!(target_feature = $feature)
                        && !std::arch::is_x86_feature_detected!($feature)
                    {
                        missing.push($feature);
                    }
                )*
                missing
            }};
        }
        let missing = compiled_but_missing!(
            "avx",
            "avx2",
            "fma",
            "f16c",
            "bmi2",
            "avx512f",
            "avx512bw",
            "avx512dq",
            "avx512vl",
            "avx512vnni",
            "avx512vbmi",
            "avx512bf16",
            "avxvnni"
        );
        if !missing.is_empty() {
            anyhow::bail!(
                "this CPU lacks {} which this build of brandpilot was compiled for; rebuild \
                 on this machine (cargo build --release), or for any x86-64 CPU from 2015 on \
                 with RUSTFLAGS=\"-C target-cpu=x86-64-v3\"",
                missing.join(", ")
            );
        }
    }
    Ok(())
}
