//! Plans: what a workspace may spend and how fast it may call. A plan is configuration
//! (`[billing.plans.<name>]`: monthly credits and a rate tier); which plan a workspace is
//! on is data (`workspaces.plan`, set by an operator with `brandpilot workspaces plan`),
//! and a workspace without one is on the server's default (`billing.plan`). `unlimited` is
//! built in: no credit limit, the server's own per-key rate.
//!
//! The HTTP layer asks for a workspace's plan on every authenticated request (to pick its
//! rate tier), so plans are remembered for [`PLAN_TTL`]: another replica's plan change
//! reaches this one within that time; this process's own changes apply at once.

use crate::access::Admin;
use crate::accounts::{Actor, AuditEvent, RequestOrigin};
use crate::settings::{BillingSettings, ServerSettings};
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::WorkspaceId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The built-in plan: no credit limit, the server's default rate.
pub const UNLIMITED: &str = "unlimited";

/// How long a workspace's plan is remembered before the store is asked again.
pub const PLAN_TTL: Duration = Duration::from_secs(30);

/// A plan, resolved against the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    /// Credits per calendar month; `None`: no limit.
    pub monthly_credits: Option<u64>,
    pub rate: RateTier,
}

/// Requests per minute one API key or signed-in person of the workspace may make, and how
/// many at once; `per_minute == 0` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateTier {
    pub per_minute: u32,
    pub burst: u32,
}

/// The plan called `name` (`None`: the server's default), or a settings error naming it.
pub fn resolve(
    billing: &BillingSettings,
    server: &ServerSettings,
    name: Option<&str>,
) -> Result<Plan> {
    let name = name.unwrap_or(&billing.plan);
    let default_rate = RateTier {
        per_minute: server.per_key_per_minute,
        burst: server.per_key_burst,
    };
    if name == UNLIMITED && !billing.plans.contains_key(UNLIMITED) {
        return Ok(Plan {
            name: UNLIMITED.into(),
            monthly_credits: None,
            rate: default_rate,
        });
    }
    let plan = billing.plans.get(name).ok_or_else(|| {
        AppError::Settings(format!(
            "plan {name:?} is not in billing.plans (defined: {})",
            defined(billing)
        ))
    })?;
    Ok(Plan {
        name: name.to_owned(),
        monthly_credits: plan.monthly_credits,
        rate: RateTier {
            per_minute: plan.requests_per_minute.unwrap_or(default_rate.per_minute),
            burst: plan.burst.unwrap_or(default_rate.burst),
        },
    })
}

fn defined(billing: &BillingSettings) -> String {
    let mut names: Vec<&str> = billing.plans.keys().map(String::as_str).collect();
    if !names.contains(&UNLIMITED) {
        names.insert(0, UNLIMITED);
    }
    names.join(", ")
}

/// Workspaces' plan names as recently read from the store.
#[derive(Default)]
pub(crate) struct PlanCache {
    entries: Mutex<HashMap<WorkspaceId, (Option<String>, Instant)>>,
}

impl PlanCache {
    fn get(&self, workspace: WorkspaceId) -> Option<Option<String>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&workspace)
            .filter(|(_, at)| at.elapsed() < PLAN_TTL)
            .map(|(name, _)| name.clone())
    }

    fn put(&self, workspace: WorkspaceId, name: Option<String>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (_, at)| at.elapsed() < PLAN_TTL);
        }
        entries.insert(workspace, (name, Instant::now()));
    }
}

impl Brandpilot {
    /// The plan the workspace is on.
    pub async fn plan(&self, workspace: WorkspaceId) -> Result<Plan> {
        let name = match self.plans.get(workspace) {
            Some(name) => name,
            None => {
                let name = self.store.workspace_plan(workspace).await?;
                self.plans.put(workspace, name.clone());
                name
            }
        };
        resolve(
            &self.settings.billing,
            &self.settings.server,
            name.as_deref(),
        )
    }

    /// [`Admin::assign_plan`], taking effect in this process at once.
    pub async fn assign_plan(
        &self,
        workspace: WorkspaceId,
        plan: Option<&str>,
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<Plan> {
        let settings = &self.settings;
        let resolved = self
            .admin()
            .assign_plan(
                &settings.billing,
                &settings.server,
                workspace,
                plan,
                actor,
                origin,
            )
            .await?;
        self.plans.put(workspace, plan.map(str::to_owned));
        Ok(resolved)
    }

    /// Refuses to go on when the default plan, or a plan some workspace is on, is not in the
    /// configuration (a plan removed from `billing.plans` while workspaces still use it):
    /// `serve` checks this before it takes requests.
    pub async fn check_plans(&self) -> Result<()> {
        let billing = &self.settings.billing;
        resolve(billing, &self.settings.server, None)?;
        for workspace in self.store.list_workspaces().await? {
            if let Some(name) = &workspace.plan {
                resolve(billing, &self.settings.server, Some(name)).map_err(|_| {
                    AppError::Settings(format!(
                        "workspace {} ({:?}) is on plan {name:?}, which billing.plans does not \
                         define (defined: {}); define it again or move the workspace with \
                         `brandpilot workspaces plan`",
                        workspace.id.0,
                        workspace.name,
                        defined(billing)
                    ))
                })?;
            }
        }
        Ok(())
    }
}

impl Admin {
    /// Puts a workspace on a plan from the configuration (`None`: back to the default),
    /// audited as done by `actor`.
    pub async fn assign_plan(
        &self,
        billing: &BillingSettings,
        server: &ServerSettings,
        workspace: WorkspaceId,
        plan: Option<&str>,
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<Plan> {
        let resolved = resolve(billing, server, plan).map_err(|_| {
            AppError::InvalidInput(format!(
                "there is no plan {:?}; defined: {}",
                plan.unwrap_or_default(),
                defined(billing)
            ))
        })?;
        if !self.store.set_workspace_plan(workspace, plan).await? {
            return Err(AppError::InvalidInput(format!(
                "there is no workspace {}",
                workspace.0
            )));
        }
        let event = AuditEvent {
            workspace: Some(workspace),
            actor,
            action: "workspace.plan",
            target: Some(format!("workspace_id:{}", workspace.0)),
            detail: serde_json::json!({ "plan": plan }),
        };
        crate::accounts::record(&self.store, &event, origin).await;
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::PlanSettings;

    fn billing() -> BillingSettings {
        let mut billing = BillingSettings::default();
        billing.plans.insert(
            "starter".into(),
            PlanSettings {
                monthly_credits: Some(5_000),
                requests_per_minute: Some(60),
                burst: Some(10),
            },
        );
        billing.plans.insert(
            "pro".into(),
            PlanSettings {
                monthly_credits: None,
                requests_per_minute: None,
                burst: None,
            },
        );
        billing
    }

    #[test]
    fn a_plan_takes_its_own_limits_and_the_servers_rate_where_it_names_none() {
        let server = ServerSettings::default();
        let billing = billing();
        let starter = resolve(&billing, &server, Some("starter")).unwrap();
        assert_eq!(starter.monthly_credits, Some(5_000));
        assert_eq!(
            starter.rate,
            RateTier {
                per_minute: 60,
                burst: 10
            }
        );
        let pro = resolve(&billing, &server, Some("pro")).unwrap();
        assert_eq!(pro.monthly_credits, None);
        assert_eq!(pro.rate.per_minute, server.per_key_per_minute);
        assert_eq!(pro.rate.burst, server.per_key_burst);
        // No name: the server's default plan, built-in `unlimited` unless configured.
        let default = resolve(&billing, &server, None).unwrap();
        assert_eq!(
            (default.name.as_str(), default.monthly_credits),
            ("unlimited", None)
        );
        let error = resolve(&billing, &server, Some("gold"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("\"gold\"") && error.contains("unlimited, pro, starter"),
            "{error}"
        );
    }
}
