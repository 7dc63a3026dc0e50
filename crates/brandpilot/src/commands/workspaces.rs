//! `brandpilot workspaces ls|plan`: the operator's view of workspaces and the plan each is
//! on. Plans are defined in `[billing.plans.<name>]`; putting a workspace on one is audited.
//! Works on the store alone, so it runs beside a server (which sees the change within
//! `plans::PLAN_TTL`).

use anyhow::{Result, bail};
use brandpilot_app::plans::{self, Plan};
use brandpilot_app::{Actor, Admin, RequestOrigin, Settings};
use brandpilot_core::WorkspaceId;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args)]
pub struct WorkspacesArgs {
    #[command(subcommand)]
    action: WorkspacesAction,
}

#[derive(Subcommand)]
enum WorkspacesAction {
    /// List every workspace with its plan, credit limit and rate tier.
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Put a workspace (by id or name) on a plan from `billing.plans`, or `default` for
    /// the server's default plan.
    Plan { workspace: String, plan: String },
}

pub async fn run(settings: Settings, args: WorkspacesArgs) -> Result<ExitCode> {
    let admin = Admin::open(&settings).await?;
    let outcome = act(&settings, &admin, args.action).await;
    admin.close().await;
    outcome
}

async fn act(settings: &Settings, admin: &Admin, action: WorkspacesAction) -> Result<ExitCode> {
    let workspaces = admin.store().list_workspaces().await?;
    match action {
        WorkspacesAction::Ls { json } => {
            let mut rows = Vec::new();
            for workspace in &workspaces {
                let plan = plans::resolve(
                    &settings.billing,
                    &settings.server,
                    workspace.plan.as_deref(),
                );
                rows.push((workspace, plan));
            }
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|(workspace, plan)| match plan {
                        Ok(plan) => serde_json::json!({
                            "id": workspace.id.0, "name": workspace.name,
                            "plan": plan.name, "default_plan": workspace.plan.is_none(),
                            "monthly_credits": plan.monthly_credits,
                            "requests_per_minute": plan.rate.per_minute, "burst": plan.rate.burst,
                        }),
                        Err(error) => serde_json::json!({
                            "id": workspace.id.0, "name": workspace.name,
                            "plan": workspace.plan, "error": error.to_string(),
                        }),
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (workspace, plan) in &rows {
                    let shown = match plan {
                        Ok(plan) => describe(plan, workspace.plan.is_none()),
                        Err(error) => format!("error: {error}"),
                    };
                    println!("{:>5}  {:<24} {shown}", workspace.id.0, workspace.name);
                }
            }
        }
        WorkspacesAction::Plan { workspace, plan } => {
            let Some(target) = workspaces
                .iter()
                .find(|w| w.name == workspace || workspace.parse().ok() == Some(w.id.0))
            else {
                bail!("there is no workspace {workspace:?} (see `brandpilot workspaces ls`)");
            };
            let plan = (plan != "default").then_some(plan.as_str());
            let resolved = admin
                .assign_plan(
                    &settings.billing,
                    &settings.server,
                    WorkspaceId(target.id.0),
                    plan,
                    &Actor::Cli,
                    &RequestOrigin::default(),
                )
                .await?;
            println!(
                "workspace {} ({}) is on {}",
                target.id.0,
                target.name,
                describe(&resolved, plan.is_none())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(plan: &Plan, is_default: bool) -> String {
    let credits = plan
        .monthly_credits
        .map_or("no credit limit".to_owned(), |c| {
            format!("{c} credits/month")
        });
    let rate = match plan.rate.per_minute {
        0 => "no rate limit".to_owned(),
        n => format!("{n} requests/min, burst {}", plan.rate.burst),
    };
    let default = if is_default { " (the default)" } else { "" };
    format!("{}{default}: {credits}, {rate}", plan.name)
}
