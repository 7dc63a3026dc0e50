//! `brandpilot studio …`: Studio without a model from the command line — a brand's content
//! rules (show, or set from a JSON file), its examples library (add one, import a CSV of
//! past posts, list, remove), its voice profile (learn it from the examples, show it, or
//! set a person's edited version from a JSON file), judging a variant against the rules
//! (`validate`, with the model-free repairs), SEO metadata (`seo`) and the brand's A/B
//! experiments with their statistics. The same operations as the HTTP API's
//! `/api/v1/brands/{id}/studio/…` and `/experiments`. `validate` exits 3 when a rule fails.

use super::generate::{parse_language, parse_named};
use anyhow::{Context, Result, bail};
use brandpilot_app::studio::{
    ExampleInput, ExampleListing, PerformanceTotals, SeoBrief, ValidationRequest,
};
use brandpilot_app::{AppError, Settings};
use brandpilot_core::{ExampleId, ExperimentId};
use brandpilot_studio::experiment::winner::Decision;
use brandpilot_studio::language::Language;
use brandpilot_studio::reel::Sector;
use brandpilot_studio::{BrandRules, Channel, Field, FieldText, VoiceProfile};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct StudioArgs {
    #[command(subcommand)]
    what: StudioCommand,
}

#[derive(Subcommand)]
enum StudioCommand {
    /// Show the brand's content rules, or replace them from a JSON file.
    Rules {
        #[command(subcommand)]
        what: RulesCommand,
    },
    /// The brand's examples library: past posts shown to the model as few-shot examples.
    Examples {
        #[command(subcommand)]
        what: ExamplesCommand,
    },
    /// The brand's voice profile, learned from its examples and editable.
    Voice {
        #[command(subcommand)]
        what: VoiceCommand,
    },
    /// Judge a variant against the brand's rules and the channel's limits, rule by rule;
    /// prints the report (and the repaired variant with --repair) as JSON.
    Validate(ValidateArgs),
    /// SEO metadata for a piece: title, meta description, slug, keywords, readability.
    Seo(SeoArgs),
    /// The brand's A/B experiments: list them, or show one with its statistics.
    Experiments {
        #[command(subcommand)]
        what: ExperimentsCommand,
    },
}

#[derive(Args)]
struct ValidateArgs {
    #[command(flatten)]
    brand: BrandArg,
    #[arg(long, value_parser = parse_named::<Channel>)]
    channel: Channel,
    /// A field as NAME=TEXT (post=…, subject=…, body=…, headline=…); repeat for more.
    #[arg(long = "field", value_parser = parse_field, required = true)]
    fields: Vec<FieldText>,
    #[arg(long, default_value = "en", value_parser = parse_language)]
    language: Language,
    /// Also mend what needs no model and judge the result.
    #[arg(long)]
    repair: bool,
}

#[derive(Args)]
struct SeoArgs {
    #[command(flatten)]
    brand: BrandArg,
    /// What the piece is about, in a sentence.
    #[arg(long)]
    topic: String,
    /// A term the piece should rank for (repeat for more).
    #[arg(long = "keyword")]
    keywords: Vec<String>,
    #[arg(long)]
    headline: Option<String>,
    /// A file holding the piece's text, for the meta description and readability.
    #[arg(long)]
    body: Option<PathBuf>,
    #[arg(long, default_value = "en", value_parser = parse_language)]
    language: Language,
}

#[derive(Subcommand)]
enum ExperimentsCommand {
    /// One line per experiment: id, name, mode, status, visitors and the decision so far.
    List(BrandArg),
    /// One experiment's arms and statistics as JSON.
    Show {
        #[command(flatten)]
        brand: BrandArg,
        id: i64,
    },
}

#[derive(Args)]
struct BrandArg {
    /// The brand.
    #[arg(long)]
    brand: String,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print the rules as JSON (the defaults until the brand saves its own).
    Show(BrandArg),
    /// Replace the rules with a JSON file's (the shape `show` prints).
    Set {
        #[command(flatten)]
        brand: BrandArg,
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ExamplesCommand {
    /// Add one past post.
    Add(AddExample),
    /// Add every row of a CSV file (columns: channel, text, and optionally sector, title,
    /// views, likes, shares, clicks, conversions). A text already in the library is
    /// skipped; the import goes on.
    Import {
        #[command(flatten)]
        brand: BrandArg,
        file: PathBuf,
    },
    /// List the library, newest first.
    List {
        #[command(flatten)]
        brand: BrandArg,
        #[arg(long, value_parser = parse_named::<Channel>)]
        channel: Option<Channel>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Remove an example.
    Remove {
        #[command(flatten)]
        brand: BrandArg,
        id: i64,
    },
}

#[derive(Args)]
struct AddExample {
    #[command(flatten)]
    brand: BrandArg,
    /// What it was written for (linkedin_post, email, reel_script, ...).
    #[arg(long, value_parser = parse_named::<Channel>)]
    channel: Channel,
    /// The business sector (see GET /api/v1/studio/sectors).
    #[arg(long, value_parser = parse_named::<Sector>)]
    sector: Option<Sector>,
    #[arg(long)]
    title: Option<String>,
    /// The post's text.
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    text: Option<String>,
    /// A file holding the post's text.
    #[arg(long)]
    file: Option<PathBuf>,
    /// What it reached (views, then likes, shares, clicks, conversions).
    #[arg(long)]
    views: Option<u64>,
    #[arg(long, requires = "views")]
    likes: Option<u64>,
    #[arg(long, requires = "views")]
    shares: Option<u64>,
    #[arg(long, requires = "views")]
    clicks: Option<u64>,
    #[arg(long, requires = "views")]
    conversions: Option<u64>,
}

#[derive(Subcommand)]
enum VoiceCommand {
    /// Learn the voice from the examples library (better performers weigh more) and save it.
    Learn {
        #[command(flatten)]
        brand: BrandArg,
        /// Learn from the examples in this language (default: the most common).
        #[arg(long, value_parser = parse_language)]
        language: Option<Language>,
    },
    /// Print the voice profile as JSON.
    Show(BrandArg),
    /// Save a person's version of the profile from a JSON file (the shape `show` prints).
    Set {
        #[command(flatten)]
        brand: BrandArg,
        #[arg(long)]
        file: PathBuf,
    },
}

fn parse_field(text: &str) -> Result<FieldText, String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: write a field as NAME=TEXT"))?;
    let field = parse_named::<Field>(name.trim())?;
    Ok(FieldText::new(field, value))
}

fn read_json<T: serde::de::DeserializeOwned>(file: &PathBuf) -> Result<T> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", file.display()))
}

pub async fn run(settings: Settings, args: StudioArgs) -> Result<ExitCode> {
    let app = super::open(settings).await?;
    let outcome = match args.what {
        StudioCommand::Rules { what } => match what {
            RulesCommand::Show(brand) => {
                let brand = app.brand(&brand.brand, false).await?;
                let rules = app.studio_rules(&brand).await?;
                println!("{}", serde_json::to_string_pretty(&rules)?);
                Ok(ExitCode::SUCCESS)
            }
            RulesCommand::Set { brand, file } => {
                let rules: BrandRules = read_json(&file)?;
                let brand = app.brand(&brand.brand, false).await?;
                app.put_studio_rules(&brand, rules).await?;
                eprintln!("saved the rules of {}", brand.name);
                Ok(ExitCode::SUCCESS)
            }
        },
        StudioCommand::Examples { what } => examples(&app, what).await,
        StudioCommand::Validate(args) => {
            let brand = app.brand(&args.brand.brand, false).await?;
            let request = ValidationRequest {
                channel: args.channel,
                fields: args.fields,
                language: args.language,
                repair: args.repair,
            };
            let validation = app.validate_variant(&brand, request).await?;
            let passed = match &validation.repair {
                Some(repair) => repair.report.passed,
                None => validation.report.passed,
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "report": validation.report,
                    "repair": validation.repair,
                }))?
            );
            Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            })
        }
        StudioCommand::Seo(args) => {
            let brand = app.brand(&args.brand.brand, false).await?;
            let body = args
                .body
                .map(|file| {
                    std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))
                })
                .transpose()?;
            let brief = SeoBrief {
                topic: args.topic,
                keywords: args.keywords,
                headline: args.headline,
                summary: None,
                body,
                language: args.language,
            };
            let seo = app.seo_metadata(&brand, brief).await?;
            println!("{}", serde_json::to_string_pretty(&seo)?);
            Ok(ExitCode::SUCCESS)
        }
        StudioCommand::Experiments { what } => experiments(&app, what).await,
        StudioCommand::Voice { what } => match what {
            VoiceCommand::Learn { brand, language } => {
                let brand = app.brand(&brand.brand, false).await?;
                let voice = app.learn_studio_voice(&brand, language, "cli").await?;
                println!("{}", serde_json::to_string_pretty(&voice.profile)?);
                eprintln!(
                    "learned the voice of {} from {} examples: {}",
                    brand.name,
                    voice.profile.example_count,
                    voice.profile.derived_tone().join(", ")
                );
                Ok(ExitCode::SUCCESS)
            }
            VoiceCommand::Show(brand) => {
                let brand = app.brand(&brand.brand, false).await?;
                match app.studio_voice(&brand).await? {
                    Some(voice) => {
                        println!("{}", serde_json::to_string_pretty(&voice.profile)?);
                        eprintln!("{} by {}", voice.origin, voice.updated_by);
                        Ok(ExitCode::SUCCESS)
                    }
                    None => bail!(
                        "{} has no voice profile yet: add examples and run `studio voice learn`",
                        brand.name
                    ),
                }
            }
            VoiceCommand::Set { brand, file } => {
                let profile: VoiceProfile = read_json(&file)?;
                let brand = app.brand(&brand.brand, false).await?;
                app.put_studio_voice(&brand, profile, "cli").await?;
                eprintln!("saved the voice of {}", brand.name);
                Ok(ExitCode::SUCCESS)
            }
        },
    };
    app.close().await;
    outcome
}

async fn examples(app: &brandpilot_app::Brandpilot, what: ExamplesCommand) -> Result<ExitCode> {
    match what {
        ExamplesCommand::Add(add) => {
            let text = match (add.text, add.file) {
                (Some(text), _) => text,
                (None, Some(file)) => std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
                (None, None) => bail!("give the post with --text or --file"),
            };
            let performance = add.views.map(|views| PerformanceTotals {
                views,
                likes: add.likes.unwrap_or(0),
                shares: add.shares.unwrap_or(0),
                clicks: add.clicks.unwrap_or(0),
                conversions: add.conversions.unwrap_or(0),
            });
            let brand = app.brand(&add.brand.brand, false).await?;
            let input = ExampleInput {
                channel: add.channel,
                sector: add.sector,
                title: add.title,
                text,
                performance,
            };
            let example = app.add_example(&brand, input, "cli").await?;
            println!("{}", example.id);
            Ok(ExitCode::SUCCESS)
        }
        ExamplesCommand::Import { brand, file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let rows = examples_from_csv(&bytes)?;
            let brand = app.brand(&brand.brand, false).await?;
            let (mut added, mut skipped) = (0, 0);
            for (row, input) in rows.into_iter().enumerate() {
                match app.add_example(&brand, input, "cli").await {
                    Ok(_) => added += 1,
                    Err(AppError::Conflict(why)) => {
                        eprintln!("row {}: skipped: {why}", row + 1);
                        skipped += 1;
                    }
                    Err(other) => return Err(other).context(format!("row {}", row + 1)),
                }
            }
            eprintln!(
                "added {added} examples to {}, skipped {skipped}",
                brand.name
            );
            Ok(ExitCode::SUCCESS)
        }
        ExamplesCommand::List {
            brand,
            channel,
            limit,
        } => {
            let brand = app.brand(&brand.brand, false).await?;
            let listing = ExampleListing {
                channel,
                limit,
                ..Default::default()
            };
            for example in app.examples(&brand, listing).await? {
                let text: String = example
                    .text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let text: String = text.chars().take(70).collect();
                let rate = example
                    .engagement_rate
                    .map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0));
                println!(
                    "{:>5} {:<17} {:>6} {text}",
                    example.id.0,
                    example.channel.code(),
                    rate
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ExamplesCommand::Remove { brand, id } => {
            let brand = app.brand(&brand.brand, false).await?;
            app.delete_example(&brand, ExampleId(id)).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn experiments(
    app: &brandpilot_app::Brandpilot,
    what: ExperimentsCommand,
) -> Result<ExitCode> {
    match what {
        ExperimentsCommand::List(brand) => {
            let brand = app.brand(&brand.brand, false).await?;
            for experiment in app.experiments(&brand).await? {
                let visitors: u64 = experiment.stats.iter().map(|arm| arm.visitors).sum();
                let decision = match experiment.analysis()?.decision {
                    Decision::NeedMoreData { .. } => "needs more data".to_owned(),
                    Decision::NoWinnerYet { .. } => "no winner yet".to_owned(),
                    Decision::Winner { name, .. } => format!("winner: {name}"),
                };
                println!(
                    "{:>5} {} · {} · {} · {visitors} visitors · {decision}",
                    experiment.id.0,
                    experiment.name,
                    experiment.mode.as_str(),
                    if experiment.running {
                        "running"
                    } else {
                        "stopped"
                    },
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ExperimentsCommand::Show { brand, id } => {
            let brand = app.brand(&brand.brand, false).await?;
            let experiment = app.experiment(&brand, ExperimentId(id)).await?;
            let analysis = experiment.analysis()?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "id": experiment.id.0,
                    "name": experiment.name,
                    "mode": experiment.mode.as_str(),
                    "running": experiment.running,
                    "winner": experiment.winner,
                    "arms": experiment.arms,
                    "analysis": analysis,
                }))?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The examples of a CSV file: a header naming the columns, then one post per row.
pub fn examples_from_csv(bytes: &[u8]) -> Result<Vec<ExampleInput>> {
    const COLUMNS: [&str; 9] = [
        "channel",
        "text",
        "sector",
        "title",
        "views",
        "likes",
        "shares",
        "clicks",
        "conversions",
    ];
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .context("cannot read the header row")?
        .clone();
    for header in &headers {
        if !COLUMNS.contains(&header) {
            bail!(
                "unknown column {header:?}; the columns are {}",
                COLUMNS.join(", ")
            );
        }
    }
    for required in ["channel", "text"] {
        if !headers.iter().any(|h| h == required) {
            bail!("the file needs a {required:?} column");
        }
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut examples = Vec::new();
    for (at, record) in reader.records().enumerate() {
        let row = at + 1;
        let record = record.with_context(|| format!("row {row}"))?;
        let cell = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let channel = cell("channel")
            .map(parse_named::<Channel>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("row {row}: {e} (channel)"))?
            .with_context(|| format!("row {row}: no channel"))?;
        let sector = cell("sector")
            .map(parse_named::<Sector>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("row {row}: {e} (sector)"))?;
        let text = cell("text").with_context(|| format!("row {row}: no text"))?;
        let number = |name: &str| -> Result<Option<u64>> {
            cell(name)
                .map(|v| {
                    v.parse::<u64>()
                        .with_context(|| format!("row {row}: {name} is a whole number, not {v:?}"))
                })
                .transpose()
        };
        let views = number("views")?;
        let (likes, shares, clicks, conversions) = (
            number("likes")?,
            number("shares")?,
            number("clicks")?,
            number("conversions")?,
        );
        if views.is_none()
            && [likes, shares, clicks, conversions]
                .iter()
                .any(Option::is_some)
        {
            bail!("row {row}: totals need the views they came from");
        }
        examples.push(ExampleInput {
            channel,
            sector,
            title: cell("title").map(str::to_owned),
            text: text.to_owned(),
            performance: views.map(|views| PerformanceTotals {
                views,
                likes: likes.unwrap_or(0),
                shares: shares.unwrap_or(0),
                clicks: clicks.unwrap_or(0),
                conversions: conversions.unwrap_or(0),
            }),
        });
    }
    if examples.is_empty() {
        bail!("the file holds no examples");
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_becomes_examples_and_a_bad_row_is_named() {
        let csv = "channel,text,sector,views,likes,clicks\n\
                   linkedin_post,\"Paint with us, every Sunday.\",creative_arts,1200,80,12\n\
                   email,Our spring course opens Monday.,,,,\n";
        let examples = examples_from_csv(csv.as_bytes()).unwrap();
        assert_eq!(examples.len(), 2);
        assert_eq!(examples[0].channel, Channel::LinkedinPost);
        assert_eq!(examples[0].text, "Paint with us, every Sunday.");
        assert_eq!(examples[0].sector, Some(Sector::CreativeArts));
        let totals = examples[0].performance.unwrap();
        assert_eq!(
            (totals.views, totals.likes, totals.shares, totals.clicks),
            (1200, 80, 0, 12)
        );
        assert_eq!((examples[1].sector, examples[1].performance), (None, None));

        for (bad, says) in [
            (
                "channel,text,budget\nemail,Hi,5\n",
                "unknown column \"budget\"",
            ),
            ("text\nHi\n", "\"channel\" column"),
            ("channel,text\nfax,Hi\n", "row 1: unknown name \"fax\""),
            ("channel,text\nemail,Hi\nemail,\n", "row 2: no text"),
            (
                "channel,text,views\nemail,Hi,many\n",
                "views is a whole number",
            ),
            ("channel,text,likes\nemail,Hi,4\n", "need the views"),
            ("channel,text,sector\nemail,Hi,space\n", "(sector)"),
            ("channel,text\n", "no examples"),
        ] {
            let error = format!("{:#}", examples_from_csv(bad.as_bytes()).unwrap_err());
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }
}
