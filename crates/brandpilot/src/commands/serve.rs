//! `brandpilot serve`: the HTTP API on the embedded defaults, until SIGINT or SIGTERM; then
//! it stops accepting connections, lets the requests in flight finish, stops following the
//! store and closes the database.

use anyhow::{Context, Result};
use brandpilot_app::Settings;
use brandpilot_server::{ServerState, build_router, serve};
use clap::Args;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 or 0.0.0.0:8080 (default: `server.bind`).
    /// Port 0 picks a free port; the address is printed.
    #[arg(long)]
    bind: Option<String>,
}

pub async fn run(settings: Settings, args: ServeArgs) -> Result<ExitCode> {
    let bind = args.bind.unwrap_or_else(|| settings.server.bind.clone());
    for proxy in &settings.server.trusted_proxies {
        if proxy.parse::<std::net::IpAddr>().is_err() {
            anyhow::bail!("server.trusted_proxies: {proxy:?} is not an IP address");
        }
    }
    let follow_every = Duration::from_millis(settings.server.index_follow_ms);
    let app = Arc::new(super::open(settings).await?);
    app.check_plans().await?;
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    // Everything that can fail at start-up happens before the address is announced, so a
    // caller who saw "listening on" has a server that stays up (and holds the indexes).
    let jobs = brandpilot_app::uploads::AppJobs::new(app.clone());
    let llm = jobs.llm.clone();
    let queued = app.resume_batches().await?;
    if queued > 0 {
        tracing::info!(queued, "queued batch items a stopped server left unqueued");
    }
    let runner = brandpilot_jobs::Runner::start(
        app.store.clone(),
        Arc::new(jobs),
        runner_config(&app.settings.jobs),
    );
    let state = ServerState::new(app.clone())
        .await?
        .with_llm(llm)
        .with_jobs(runner.waker());
    let has_key = app
        .admin()
        .list_api_keys(app.workspace)
        .await?
        .iter()
        .any(|key| key.revoked_at_ms.is_none());
    {
        let mut announcement = format!(
            "Brandpilot is listening on http://{address} — API docs at http://{address}/api/v1/docs\n"
        );
        if !has_key {
            announcement.push_str(
                "No API key yet: create one with `brandpilot keys create --name my-key`\n",
            );
        }
        // One write, and its failure ignored: a caller that read the first line and closed
        // the pipe (a supervisor, a test) must not stop a server that is up.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(announcement.as_bytes());
        let _ = out.flush();
    }

    let (stop_following, stopped) = tokio::sync::watch::channel(false);
    let follower = (!follow_every.is_zero()).then(|| {
        let app = app.clone();
        tokio::spawn(async move { app.follow_store(follow_every, stopped).await })
    });
    let sweeper = {
        let app = app.clone();
        let stopped = stop_following.subscribe();
        tokio::spawn(async move { app.sweep_uploads(stopped).await })
    };
    let query_usage = {
        let app = app.clone();
        let stopped = stop_following.subscribe();
        tokio::spawn(async move {
            app.record_query_usage(Duration::from_secs(10), stopped)
                .await
        })
    };
    let stopping = state.stopping.clone();
    let router = build_router(state, brandpilot_server::ExtraRoutes::new());
    serve(listener, router, async move {
        shutdown_signal().await;
        // Event streams end now instead of holding the shutdown open.
        stopping.cancel();
    })
    .await?;
    // Requests are done; jobs in flight get their grace period, then go back to the queue.
    runner.stop().await;
    let _ = stop_following.send(true);
    if let Some(follower) = follower {
        let _ = follower.await;
    }
    let _ = sweeper.await;
    let _ = query_usage.await;
    app.close().await;
    eprintln!("Brandpilot stopped");
    Ok(ExitCode::SUCCESS)
}

fn runner_config(jobs: &brandpilot_app::settings::JobSettings) -> brandpilot_jobs::RunnerConfig {
    brandpilot_jobs::RunnerConfig {
        fast_workers: jobs.fast_workers,
        long_workers: jobs.long_workers,
        generate_workers: jobs.generate_workers,
        lease: Duration::from_secs(jobs.lease_secs.max(1)),
        grace: Duration::from_secs(jobs.grace_secs),
        ..brandpilot_jobs::RunnerConfig::default()
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and systemd send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
