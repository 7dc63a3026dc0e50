//! `brandpilot generate --batch briefs.csv --brand NAME`: many briefs through Studio on the
//! durable job queue, with a progress bar. The batch is keyed by the file's content, so
//! running the same command again after a crash (or Ctrl-C) resumes the same batch: done
//! briefs stay done, and the rest are written once each. Jobs a killed run held are taken
//! over once their lease (`jobs.lease_secs`) runs out.
//!
//! The CSV has a header row. `channel` and `goal` are required; `audience`, `tone`,
//! `offer`, `key_facts` (separated by `|`), `language` (`en` when empty) and `variants`
//! (3 when empty) are optional; any other column is refused, naming it.

use anyhow::{Context, Result, bail};
use brandpilot_app::Settings;
use brandpilot_app::studio::{Batch, Brief};
use brandpilot_studio::Channel;
use brandpilot_studio::language;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const COLUMNS: [&str; 8] = [
    "channel",
    "goal",
    "audience",
    "tone",
    "offer",
    "key_facts",
    "language",
    "variants",
];

/// The briefs of a CSV file, each checked; errors name the row (1 is the first data row)
/// and the column.
pub fn briefs_from_csv(bytes: &[u8]) -> Result<Vec<Brief>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .context("the CSV has no readable header row")?
        .iter()
        .map(str::to_lowercase)
        .collect();
    for header in &headers {
        if !COLUMNS.contains(&header.as_str()) {
            bail!(
                "unknown column {header:?}; the columns are {}",
                COLUMNS.join(", ")
            );
        }
    }
    for required in ["channel", "goal"] {
        if !headers.iter().any(|h| h == required) {
            bail!("the CSV needs a {required:?} column");
        }
    }
    let mut briefs = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 1;
        let record = record.with_context(|| format!("row {row}: unreadable"))?;
        let cell = |name: &str| -> String {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .to_owned()
        };
        let channel: Channel =
            serde_json::from_value(serde_json::Value::String(cell("channel")))
                .map_err(|_| anyhow::anyhow!("row {row}: unknown channel {:?}", cell("channel")))?;
        let language = match cell("language").as_str() {
            "" => language::Language::En,
            code => language::from_code(code)
                .with_context(|| format!("row {row}: unsupported language {code:?}"))?,
        };
        let variants = match cell("variants").as_str() {
            "" => 3,
            text => text
                .parse()
                .with_context(|| format!("row {row}: variants is a number from 1 to 3"))?,
        };
        let brief = Brief {
            channel,
            goal: cell("goal"),
            audience: cell("audience"),
            tone: cell("tone"),
            offer: cell("offer"),
            key_facts: cell("key_facts")
                .split('|')
                .map(str::trim)
                .filter(|fact| !fact.is_empty())
                .map(str::to_owned)
                .collect(),
            language,
            variants,
        };
        brief.check().with_context(|| format!("row {row}"))?;
        briefs.push(brief);
    }
    if briefs.is_empty() {
        bail!("the CSV has no briefs below its header");
    }
    Ok(briefs)
}

pub async fn run(settings: Settings, file: &Path, brand: &str) -> Result<ExitCode> {
    let bytes = fs_err::read(file)?;
    let briefs = briefs_from_csv(&bytes).with_context(|| format!("{}", file.display()))?;
    let key = format!("csv:{}", brandpilot_core::ContentHash::of(&bytes).to_hex());
    let app = Arc::new(super::open(settings).await?);
    let brand = app.brand(brand, false).await?;
    app.resume_batches().await?;
    let (batch, created) = app
        .queue_batch(&brand, briefs, Some(key), Some("cli".into()))
        .await?;
    eprintln!(
        "{} batch {} · {} briefs ({} done, {} failed before this run)",
        if created { "Writing" } else { "Resuming" },
        batch.id,
        batch.items.len(),
        batch.count("done"),
        batch.count("failed"),
    );
    let jobs = &app.settings.jobs;
    let runner = brandpilot_jobs::Runner::start(
        app.store.clone(),
        Arc::new(brandpilot_app::uploads::AppJobs::new(app.clone())),
        brandpilot_jobs::RunnerConfig {
            fast_workers: 0,
            long_workers: 0,
            generate_workers: jobs.generate_workers.max(1),
            lease: Duration::from_secs(jobs.lease_secs.max(1)),
            poll: Duration::from_millis(200),
            grace: Duration::from_secs(jobs.grace_secs),
            ..brandpilot_jobs::RunnerConfig::default()
        },
    );
    let bar = crate::output::ProgressObserver::new("writing");
    bar.set_length(batch.items.len());
    let batch = loop {
        let batch = app.batch(brand.workspace, batch.id).await?;
        bar.set_position(batch.count("done") + batch.count("failed"));
        if batch.finished() {
            break batch;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    bar.finish();
    runner.stop().await;
    print_batch(&batch);
    let failed = batch.count("failed");
    eprintln!(
        "— batch {} · {} done, {failed} failed",
        batch.id,
        batch.count("done")
    );
    app.close().await;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn print_batch(batch: &Batch) {
    for item in &batch.items {
        let goal: String = item.brief.goal.chars().take(60).collect();
        match (&item.generation, &item.error) {
            (Some(generation), _) => println!(
                "{:>4} {} · {goal} → generation {generation}",
                item.position + 1,
                item.brief.channel.code()
            ),
            (None, error) => println!(
                "{:>4} {} · {goal} → FAILED: {}",
                item.position + 1,
                item.brief.channel.code(),
                error.as_deref().unwrap_or("unknown error")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_becomes_checked_briefs_and_a_bad_row_is_named() {
        let csv = "channel,goal,offer,key_facts,language,variants\n\
                   linkedin_post,Fill the spring course,20% off,Twelve weeks | Live lessons,fr,2\n\
                   x_post,\"Announce the open day, Saturday\",,,,\n";
        let briefs = briefs_from_csv(csv.as_bytes()).unwrap();
        assert_eq!(briefs.len(), 2);
        assert_eq!(briefs[0].channel, Channel::LinkedinPost);
        assert_eq!(briefs[0].key_facts, ["Twelve weeks", "Live lessons"]);
        assert_eq!(briefs[0].language, language::Language::Fr);
        assert_eq!(briefs[0].variants, 2);
        assert_eq!(briefs[1].goal, "Announce the open day, Saturday");
        assert_eq!(
            (briefs[1].variants, briefs[1].language),
            (3, language::Language::En)
        );

        for (bad, says) in [
            (
                "channel,goal,budget\nx_post,Hi,5\n",
                "unknown column \"budget\"",
            ),
            ("goal\nHi\n", "\"channel\" column"),
            ("channel,goal\nfax,Hi\n", "row 1: unknown channel"),
            ("channel,goal\nx_post,Hi\nx_post,\n", "row 2"),
            (
                "channel,goal,variants\nx_post,Hi,many\n",
                "variants is a number",
            ),
            ("channel,goal\n", "no briefs"),
            ("channel,goal\nx_post\n", "row 1"),
        ] {
            let error = format!("{:#}", briefs_from_csv(bad.as_bytes()).unwrap_err());
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }
}
