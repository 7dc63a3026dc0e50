//! `brandpilot generate copy …` and `brandpilot generate reel …`: Studio from the command
//! line (`generate --batch` is in `batch.rs`). Prints each variant with its verdict (the rules it failed, the figures nothing
//! backs, the facts it cites) and a summary line on stderr: model, calls, repair passes,
//! tokens and wall time; `--json` prints the stored generation instead. The exit code is 0
//! when every variant passed and 3 when one is returned failing, so scripts can tell.

use anyhow::{Context, Result};
use brandpilot_app::Settings;
use brandpilot_app::studio::{Brief, Generation};
use brandpilot_studio::language::{self, Language};
use brandpilot_studio::reel::{HookType, ReelRequest, Sector};
use brandpilot_studio::{Channel, RuleStatus};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GenerateArgs {
    #[command(subcommand)]
    what: Option<GenerateCommand>,
    /// Write every brief of a CSV file (columns: channel, goal, audience, tone, offer,
    /// key_facts separated by `|`, language, variants) on the job queue with a progress
    /// bar. Run the same command again to resume after a crash.
    #[arg(long, value_name = "CSV", requires = "brand")]
    batch: Option<std::path::PathBuf>,
    /// The brand a batch writes for.
    #[arg(long, requires = "batch")]
    brand: Option<String>,
}

#[derive(Subcommand)]
enum GenerateCommand {
    /// Copy for a channel from a brief: up to three variants (short-form, long-form,
    /// CTA-focused), each judged against the brand's rules.
    Copy(CopyArgs),
    /// A reel or short-video script fitted to a duration.
    Reel(ReelArgs),
}

#[derive(Args)]
struct Common {
    /// The brand to write for.
    #[arg(long)]
    brand: String,
    /// The language to write in (en, fr, es, de, it, pt, nl).
    #[arg(long, default_value = "en", value_parser = parse_language)]
    language: Language,
    /// Print the stored generation as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CopyArgs {
    #[command(flatten)]
    common: Common,
    /// email, linkedin_post, x_post, x_thread, instagram_caption, blog_outline,
    /// blog_article, google_search_ad or meta_ad.
    #[arg(long, value_parser = parse_named::<Channel>)]
    channel: Channel,
    /// What the copy must achieve.
    #[arg(long)]
    goal: String,
    #[arg(long, default_value = "")]
    audience: String,
    #[arg(long, default_value = "")]
    tone: String,
    /// What is offered; figures in the copy must come from here, the facts or the brand's
    /// material.
    #[arg(long, default_value = "")]
    offer: String,
    /// A fact the copy may state (repeat for more).
    #[arg(long = "fact")]
    facts: Vec<String>,
    /// How many variants, 1–3.
    #[arg(long, default_value_t = 3)]
    variants: usize,
}

#[derive(Args)]
struct ReelArgs {
    #[command(flatten)]
    common: Common,
    /// The business sector (see GET /api/v1/studio/sectors), e.g. education.
    #[arg(long, value_parser = parse_named::<Sector>)]
    sector: Sector,
    /// How the reel opens (see GET /api/v1/studio/hook-types), e.g. question.
    #[arg(long, value_parser = parse_named::<HookType>)]
    hook_type: HookType,
    /// 15 to 90 seconds.
    #[arg(long, default_value_t = 30)]
    duration: u32,
    /// What the reel is about.
    #[arg(long)]
    topic: String,
}

pub(super) fn parse_language(code: &str) -> Result<Language, String> {
    language::from_code(code).ok_or_else(|| format!("unsupported language {code:?}"))
}

pub(super) fn parse_named<T: serde::de::DeserializeOwned>(name: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| format!("unknown name {name:?}"))
}

pub async fn run(settings: Settings, args: GenerateArgs) -> Result<ExitCode> {
    let what = match (args.what, args.batch, args.brand) {
        (_, Some(file), Some(brand)) => return super::batch::run(settings, &file, &brand).await,
        (Some(what), _, _) => what,
        _ => anyhow::bail!(
            "say what to write: `generate copy`, `generate reel` or `generate --batch FILE --brand NAME`"
        ),
    };
    let app = super::open(settings).await?;
    let llm = brandpilot_app::llm::LazyLlm::default();
    let (common, generation) = match what {
        GenerateCommand::Copy(copy) => {
            let brand = app.brand(&copy.common.brand, false).await?;
            let brief = Brief {
                channel: copy.channel,
                goal: copy.goal,
                audience: copy.audience,
                tone: copy.tone,
                offer: copy.offer,
                key_facts: copy.facts,
                language: copy.common.language,
                variants: copy.variants,
            };
            let generation = app
                .generate_copy(&llm, &brand, brief, Some("cli".into()))
                .await;
            (copy.common, generation)
        }
        GenerateCommand::Reel(reel) => {
            let brand = app.brand(&reel.common.brand, false).await?;
            let request = ReelRequest {
                sector: reel.sector,
                hook_type: reel.hook_type,
                duration_seconds: reel.duration,
                topic: reel.topic,
                language: reel.common.language,
            };
            let generation = app
                .generate_reel(&llm, &brand, request, Some("cli".into()))
                .await;
            (reel.common, generation)
        }
    };
    llm.flush().await;
    let generation = generation.context("generation failed")?;
    if common.json {
        println!("{}", serde_json::to_string_pretty(&generation)?);
    } else {
        print_generation(&generation);
    }
    let provenance = &generation.provenance;
    let passed = generation.variants.iter().filter(|v| v.passed).count();
    eprintln!(
        "— generation {} · {} of {} passed · {} ({}) · {} calls, {} repair passes · {} + {} tokens · {:.1} s",
        generation.id,
        passed,
        generation.variants.len(),
        provenance.provider.as_deref().unwrap_or("-"),
        provenance.model.as_deref().unwrap_or("-"),
        provenance.model_calls,
        provenance.repair_passes,
        provenance.prompt_tokens,
        provenance.completion_tokens,
        provenance.latency_ms as f64 / 1000.0,
    );
    Ok(if passed == generation.variants.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn print_generation(generation: &Generation) {
    for variant in &generation.variants {
        let verdict = if variant.passed { "passed" } else { "FAILED" };
        println!(
            "=== {} · {verdict} · {} repair passes",
            variant.label, variant.content.repair_passes
        );
        match &variant.content.script {
            Some(script) => {
                println!("hook: {}", script.hook);
                for (number, scene) in script.scenes.iter().enumerate() {
                    println!("scene {}: [{}]", number + 1, scene.on_screen_text);
                    println!("  voice-over: {}", scene.voice_over);
                    println!("  visual: {}", scene.visual);
                }
                println!("cta: {}", script.cta);
                println!("thumbnail: {}", script.thumbnail_text);
                println!("caption: {}", script.caption);
                println!("hashtags: {}", script.hashtags.join(" "));
                println!("spoken: {:.1} s", script.estimated_duration_seconds);
            }
            None => {
                for entry in &variant.content.fields {
                    println!("{}: {}", entry.field.code(), entry.text);
                }
            }
        }
        for rule in &variant.report.rules {
            if rule.status == RuleStatus::Failed {
                for violation in &rule.violations {
                    println!("  ✗ [{}] {}", rule.rule.code(), violation.message);
                }
            }
        }
        for figure in &variant.content.unbacked_figures {
            println!("  ✗ [grounded] {figure:?} is in neither the brief nor the brand's material");
        }
        for number in &variant.content.citations {
            if let Some(fact) = generation
                .provenance
                .sources
                .iter()
                .find(|f| f.number == *number)
            {
                println!(
                    "  [{number}] {} · {}",
                    fact.source_title,
                    fact.locator.label()
                );
            }
        }
        if let Some(voice) = &variant.content.voice {
            let parts: Vec<String> = voice
                .components
                .iter()
                .map(|c| format!("{} {:.2}", c.component.code(), c.score))
                .collect();
            println!("  voice {:.2} ({})", voice.score, parts.join(", "));
        }
        if let Some(note) = &variant.content.note {
            println!("  note: {note}");
        }
        println!();
    }
    for example in &generation.provenance.examples {
        println!(
            "example {} ({}) · similarity {:.2} · performance ×{:.2}",
            example.id,
            example.channel.code(),
            example.similarity,
            example.performance_weight
        );
    }
}
