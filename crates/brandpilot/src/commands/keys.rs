//! `brandpilot keys create|ls|revoke`: API keys for the HTTP API. The secret is printed
//! once, at creation; only its hash is stored.

use anyhow::Result;
use brandpilot_app::{Actor, Admin, RequestOrigin, Scope, Settings};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    action: KeysAction,
    /// The workspace the keys belong to (default: `workspace` from the settings).
    #[arg(long, global = true)]
    workspace: Option<String>,
}

#[derive(Subcommand)]
enum KeysAction {
    /// Create a key and print its secret (shown this once).
    Create {
        /// A name that says who or what uses the key.
        #[arg(long)]
        name: String,
        /// A scope the key grants (repeatable): brands:read, brands:write, sources:read,
        /// sources:write, search. Default: all of them.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the workspace's keys (never their secrets).
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id; requests with it fail from then on.
    Revoke { id: i64 },
}

pub async fn run(settings: Settings, args: KeysArgs) -> Result<ExitCode> {
    let workspace_name = args
        .workspace
        .clone()
        .unwrap_or_else(|| settings.workspace.clone());
    // The store alone: keys can be managed while a server holds the indexes.
    let app = Admin::open(&settings).await?;
    let workspace = app.workspace_named(&workspace_name).await?;
    match args.action {
        KeysAction::Create { name, scopes, json } => {
            let scopes = if scopes.is_empty() {
                Scope::for_keys()
            } else {
                scopes
                    .iter()
                    .map(|s| s.parse::<Scope>())
                    .collect::<Result<Vec<_>, _>>()?
            };
            let created = app
                .create_api_key(
                    workspace,
                    &name,
                    &scopes,
                    &Actor::Cli,
                    &RequestOrigin::default(),
                )
                .await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": created.record.id, "name": created.record.name,
                        "prefix": created.record.prefix, "scopes": created.record.scopes,
                        "workspace": workspace_name, "key": created.secret,
                    })
                );
            } else {
                println!("{}", created.secret);
                eprintln!(
                    "API key {} ({}) for workspace {workspace_name:?}, scopes: {}. \
                     Store it now: it is not shown again.",
                    created.record.id,
                    created.record.name,
                    created.record.scopes.join(", ")
                );
            }
        }
        KeysAction::Ls { json } => {
            let keys = app.list_api_keys(workspace).await?;
            if json {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "id": k.id, "name": k.name, "prefix": k.prefix, "scopes": k.scopes,
                            "created_at_ms": k.created_at_ms, "revoked_at_ms": k.revoked_at_ms,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for k in &keys {
                    let state = if k.revoked_at_ms.is_some() {
                        "revoked"
                    } else {
                        "live"
                    };
                    println!(
                        "{:>5}  bpk_{}_…  {:<8} {:<24} {}",
                        k.id,
                        k.prefix,
                        state,
                        k.name,
                        k.scopes.join(",")
                    );
                }
            }
        }
        KeysAction::Revoke { id } => {
            app.revoke_api_key(workspace, id, &Actor::Cli, &RequestOrigin::default())
                .await?;
            println!("revoked API key {id}");
        }
    }
    app.close().await;
    Ok(ExitCode::SUCCESS)
}
