//! `brandpilot chat "prompt"`: one routed LLM call from the command line, streamed to
//! stdout as it is generated (or printed whole with `--no-stream`), with a one-line summary
//! on stderr: who answered, tokens, time, and whether the cache served it.

use anyhow::{Context, Result, bail};
use brandpilot_app::Settings;
use brandpilot_llm::{ChatRequest, FinishReason, Message, StreamEvent, Usage};
use clap::Args;
use futures_util::StreamExt;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct ChatArgs {
    /// What to ask.
    prompt: String,
    /// The route to call (classify, rewrite, answer, generate, summarize, judge, or one from
    /// the settings).
    #[arg(long, default_value = "generate")]
    route: String,
    /// Call this configured provider directly, bypassing the route's chain.
    #[arg(long)]
    provider: Option<String>,
    /// Print the answer when it is complete instead of streaming it.
    #[arg(long)]
    no_stream: bool,
    /// A system prompt.
    #[arg(long)]
    system: Option<String>,
    #[arg(long)]
    max_tokens: Option<u32>,
    #[arg(long)]
    temperature: Option<f32>,
    #[arg(long)]
    seed: Option<u64>,
    /// Attribute the call (and its cache entry) to this brand.
    #[arg(long)]
    brand: Option<String>,
}

pub async fn run(mut settings: Settings, args: ChatArgs) -> Result<ExitCode> {
    if let Some(provider) = &args.provider {
        if !brandpilot_app::llm::effective_providers(&settings.llm).contains_key(provider) {
            bail!("no LLM provider named {provider:?} is configured (see `brandpilot models ls`)");
        }
        settings.llm.routes.clear();
        settings.llm.default_chain = vec![provider.clone()];
    }
    let app = super::open(settings).await?;
    let brand = match &args.brand {
        Some(name) => Some(app.brand(name, false).await?.id),
        None => None,
    };
    let llm = app.llm().await.context("cannot set up the LLM layer")?;
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(args.prompt.clone()));
    let mut request = ChatRequest::new(messages);
    request.max_tokens = args.max_tokens;
    request.temperature = args.temperature;
    request.seed = args.seed;

    let chain = llm
        .router()
        .routes()
        .into_iter()
        .find(|(route, _)| *route == args.route)
        .map(|(_, chain)| chain)
        .unwrap_or_default();
    let started = Instant::now();
    let mut stdout = std::io::stdout().lock();
    let (usage, finish, cached) = if args.no_stream {
        let (response, hit) = llm.complete(brand, &args.route, &request).await?;
        writeln!(stdout, "{}", response.text)?;
        (response.usage, response.finish_reason, hit.is_some())
    } else {
        let (mut stream, hit) = llm.stream(brand, &args.route, &request).await?;
        let mut done = None;
        let mut first_token = None;
        while let Some(event) = stream.next().await {
            match event? {
                StreamEvent::Delta(text) => {
                    first_token.get_or_insert_with(|| started.elapsed());
                    write!(stdout, "{text}")?;
                    stdout.flush()?;
                }
                StreamEvent::Done {
                    usage,
                    finish_reason,
                } => done = Some((usage, finish_reason)),
                StreamEvent::ToolCallStart { .. } | StreamEvent::ToolCallDelta { .. } => {}
            }
        }
        writeln!(stdout)?;
        let (usage, finish) = done.context("the answer stream ended without its final event")?;
        (usage, finish, hit.is_some())
    };
    drop(stdout);
    llm.flush().await;
    eprintln!(
        "— {}{} · {} · {:.2} s{}",
        chain
            .first()
            .map(|(provider, model)| format!("{provider} ({model})"))
            .unwrap_or_default(),
        if chain.len() > 1 {
            " first in chain"
        } else {
            ""
        },
        describe_usage(usage),
        started.elapsed().as_secs_f64(),
        match (cached, &finish) {
            (true, _) => " · from the answer cache".to_owned(),
            (false, FinishReason::Length) => " · cut at max tokens".to_owned(),
            _ => String::new(),
        }
    );
    app.close().await;
    Ok(ExitCode::SUCCESS)
}

fn describe_usage(usage: Option<Usage>) -> String {
    match usage {
        Some(usage) => format!(
            "{} prompt + {} answer tokens",
            usage.prompt_tokens, usage.completion_tokens
        ),
        None => "usage not reported".into(),
    }
}
