//! Who may do what from outside: brands looked up inside the caller's workspace, and API
//! keys with scopes.
//!
//! Every use case here takes the caller's [`WorkspaceId`] explicitly instead of using
//! [`Brandpilot::workspace`] (the command line's default workspace), so the server can serve
//! many workspaces from one process and a brand id of another workspace is simply not found.
//!
//! An API key reads `bpk_<prefix>_<secret>`: the prefix (8 hex characters) is what a person
//! sees in lists; the secret is 32 random bytes. Only the SHA-256 of the whole key is
//! stored, so the key is shown once, when it is created.

use crate::Settings;
use crate::accounts::{Actor, AuditEvent, RequestOrigin};
use crate::{AppError, Brandpilot, Result};
use base64::Engine as _;
use brandpilot_core::{BrandId, WorkspaceId};
use brandpilot_store::{ApiKeyRecord, Brand, NewApiKey, Store, StoreError};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// What an API key may do. Stored by name, so names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    BrandsRead,
    BrandsWrite,
    SourcesRead,
    SourcesWrite,
    Search,
    JobsRead,
    AuditRead,
    /// LLM calls, tokens and cost per day, model, route and brand.
    UsageRead,
    MembersRead,
    /// Invite, change roles, remove members. People only: no API key holds it.
    MembersManage,
    /// Create, list and revoke API keys. People only: a leaked key cannot mint more.
    KeysManage,
    /// Talk to a brand's assistant and rate its answers.
    Chat,
    /// Read conversations, with each answer's trace.
    ConversationsRead,
    TicketsRead,
    /// Assign, resolve and reply to tickets.
    TicketsWrite,
    /// Push and remove customer records (enrolments, progress, orders) the assistant reads.
    CustomersWrite,
    /// Add and remove the webhooks told of the workspace's events. Owners only, and people
    /// only: a webhook sends customers' questions to an outside address.
    WebhooksManage,
    /// Assign visitors to a brand's experiments and report impressions and conversions: a
    /// website backend can hold just this.
    ExperimentsWrite,
    /// Generate copy and reel scripts with the brand's model (this spends credits).
    StudioWrite,
    /// Give a Studio variant its verdict (approved or rejected). People only: approval is
    /// a person vouching for what the brand publishes.
    StudioApprove,
}

impl Scope {
    pub const ALL: [Scope; 20] = [
        Scope::BrandsRead,
        Scope::BrandsWrite,
        Scope::SourcesRead,
        Scope::SourcesWrite,
        Scope::Search,
        Scope::JobsRead,
        Scope::AuditRead,
        Scope::UsageRead,
        Scope::MembersRead,
        Scope::MembersManage,
        Scope::KeysManage,
        Scope::Chat,
        Scope::ConversationsRead,
        Scope::TicketsRead,
        Scope::TicketsWrite,
        Scope::CustomersWrite,
        Scope::WebhooksManage,
        Scope::ExperimentsWrite,
        Scope::StudioWrite,
        Scope::StudioApprove,
    ];

    /// The scopes an API key may hold: all but the people-only ones.
    pub fn for_keys() -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|scope| scope.key_may_hold())
            .collect()
    }

    pub fn key_may_hold(self) -> bool {
        !matches!(
            self,
            Scope::MembersManage | Scope::KeysManage | Scope::WebhooksManage | Scope::StudioApprove
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::BrandsRead => "brands:read",
            Scope::BrandsWrite => "brands:write",
            Scope::SourcesRead => "sources:read",
            Scope::SourcesWrite => "sources:write",
            Scope::Search => "search",
            Scope::JobsRead => "jobs:read",
            Scope::AuditRead => "audit:read",
            Scope::UsageRead => "usage:read",
            Scope::MembersRead => "members:read",
            Scope::MembersManage => "members:manage",
            Scope::KeysManage => "keys:manage",
            Scope::Chat => "chat",
            Scope::ConversationsRead => "conversations:read",
            Scope::TicketsRead => "tickets:read",
            Scope::TicketsWrite => "tickets:write",
            Scope::CustomersWrite => "customers:write",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::ExperimentsWrite => "experiments:write",
            Scope::StudioWrite => "studio:write",
            Scope::StudioApprove => "studio:approve",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = AppError;
    fn from_str(text: &str) -> Result<Self> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == text)
            .ok_or_else(|| {
                let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                AppError::InvalidInput(format!(
                    "unknown scope {text:?}; known scopes: {}",
                    known.join(", ")
                ))
            })
    }
}

/// A member's role in a workspace. Stored by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads brands, sources, jobs and searches.
    Viewer,
    /// A viewer who also adds, changes and deletes brands and sources, and makes API keys
    /// with at most their own permissions.
    Editor,
    /// An editor who also manages members and reads the audit trail and usage.
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    /// What a member in this role may do, in the same terms as an API key's scopes.
    pub fn allows(self, scope: Scope) -> bool {
        match scope {
            Scope::BrandsRead
            | Scope::SourcesRead
            | Scope::Search
            | Scope::JobsRead
            | Scope::MembersRead
            | Scope::Chat
            | Scope::ConversationsRead
            | Scope::TicketsRead => true,
            Scope::BrandsWrite
            | Scope::SourcesWrite
            | Scope::KeysManage
            | Scope::TicketsWrite
            | Scope::CustomersWrite
            | Scope::ExperimentsWrite
            | Scope::StudioWrite
            | Scope::StudioApprove => self >= Role::Editor,
            Scope::AuditRead | Scope::UsageRead | Scope::MembersManage | Scope::WebhooksManage => {
                self == Role::Owner
            }
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AppError;
    fn from_str(text: &str) -> Result<Self> {
        [Role::Viewer, Role::Editor, Role::Owner]
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                AppError::InvalidInput(format!(
                    "unknown role {text:?}; roles are owner, editor and viewer"
                ))
            })
    }
}

/// A live API key as the server sees it after authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    pub workspace: WorkspaceId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<Scope>,
}

impl ApiKey {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A key just created: the only moment its secret exists outside the caller's hands.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

const KEY_MARK: &str = "bpk_";
/// Longer input is never a key of ours; refused before hashing.
const MAX_KEY_LEN: usize = 128;
const MAX_NAME_CHARS: usize = 100;

impl Brandpilot {
    pub async fn create_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Brand> {
        let name = checked_name("brand", name)?;
        self.store
            .create_brand(workspace, name)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => {
                    AppError::Conflict(format!("this workspace already has a brand named {name:?}"))
                }
                other => other.into(),
            })
    }

    /// The brand, only if it belongs to `workspace`.
    pub async fn brand_by_id(&self, workspace: WorkspaceId, brand: BrandId) -> Result<Brand> {
        self.store
            .get_brand(workspace, brand)
            .await?
            .ok_or(AppError::BrandNotFound(brand))
    }

    pub async fn list_brands(&self, workspace: WorkspaceId) -> Result<Vec<Brand>> {
        Ok(self.store.list_brands(workspace).await?)
    }

    /// Deletes a brand with its sources and chunks, then drops them from the indexes.
    pub async fn delete_brand(&self, workspace: WorkspaceId, brand: BrandId) -> Result<()> {
        if !self.store.delete_brand(workspace, brand).await? {
            return Err(AppError::BrandNotFound(brand));
        }
        self.sync_indexes().await?;
        Ok(())
    }

    /// Workspaces and API keys of this app's store.
    pub fn admin(&self) -> Admin {
        Admin::new(self.store.clone())
    }

    /// Accounts, sessions and the audit trail of this app's store.
    pub fn accounts(&self) -> crate::Accounts {
        crate::Accounts::new(self.store.clone(), &self.settings)
    }
}

/// Workspaces and API keys. Needs only the store, never the indexes, so the command line
/// can manage keys while a server holds the data directory's indexes.
#[derive(Clone)]
pub struct Admin {
    pub(crate) store: Store,
}

impl Admin {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Opens the database the settings name (running its migrations).
    pub async fn open(settings: &Settings) -> Result<Self> {
        Ok(Self::new(Store::open(&settings.database_url()).await?))
    }

    pub async fn close(&self) {
        self.store.close().await;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The workspace of this name, created when missing (the command line's way in).
    pub async fn workspace_named(&self, name: &str) -> Result<WorkspaceId> {
        let name = checked_name("workspace", name)?;
        Ok(self.store.ensure_workspace(name).await?)
    }

    /// Creates a key (audited as made by `actor`).
    pub async fn create_api_key(
        &self,
        workspace: WorkspaceId,
        name: &str,
        scopes: &[Scope],
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<CreatedApiKey> {
        let name = checked_name("key", name)?;
        if let Some(scope) = scopes.iter().find(|scope| !scope.key_may_hold()) {
            return Err(AppError::InvalidInput(format!(
                "an API key cannot hold `{scope}`: only people manage members and keys"
            )));
        }
        if scopes.is_empty() {
            return Err(AppError::InvalidInput(
                "an API key needs at least one scope".into(),
            ));
        }
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let mut random = [0u8; 36];
        getrandom::fill(&mut random)
            .map_err(|e| AppError::Task(format!("no randomness for a key: {e}")))?;
        let prefix = hex::encode(&random[..4]);
        let secret = format!(
            "{KEY_MARK}{prefix}_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&random[4..])
        );
        let record = self
            .store
            .insert_api_key(&NewApiKey {
                workspace,
                name: name.to_owned(),
                prefix,
                secret_hash: Sha256::digest(secret.as_bytes()).into(),
                scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            })
            .await?;
        let event = AuditEvent {
            workspace: Some(workspace),
            actor,
            action: "key.create",
            target: Some(format!("key:{}", record.prefix)),
            detail: serde_json::json!({ "name": record.name, "scopes": record.scopes }),
        };
        crate::accounts::record(&self.store, &event, origin).await;
        Ok(CreatedApiKey { record, secret })
    }

    pub async fn list_api_keys(&self, workspace: WorkspaceId) -> Result<Vec<ApiKeyRecord>> {
        Ok(self.store.list_api_keys(workspace).await?)
    }

    /// Revokes a key (audited as done by `actor`).
    pub async fn revoke_api_key(
        &self,
        workspace: WorkspaceId,
        key: i64,
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<()> {
        if self.store.revoke_api_key(workspace, key).await? {
            let event = AuditEvent {
                workspace: Some(workspace),
                actor,
                action: "key.revoke",
                target: Some(format!("key_id:{key}")),
                detail: serde_json::json!({}),
            };
            crate::accounts::record(&self.store, &event, origin).await;
            Ok(())
        } else {
            Err(AppError::ApiKeyNotFound(key))
        }
    }

    /// The workspace's LLM usage, grouped as asked; a brand filter must name a brand of the
    /// workspace.
    pub async fn llm_usage(
        &self,
        workspace: WorkspaceId,
        query: &brandpilot_store::UsageQuery,
    ) -> Result<Vec<brandpilot_store::UsageRow>> {
        if let Some(brand) = query.brand
            && self.store.get_brand(workspace, brand).await?.is_none()
        {
            return Err(AppError::BrandNotFound(brand));
        }
        Ok(self.store.llm_usage(workspace, query).await?)
    }

    /// The live key a caller presented, or `None` for anything that is not one (unknown,
    /// revoked, malformed): the caller cannot tell which, and need not.
    pub async fn authenticate_api_key(&self, presented: &str) -> Result<Option<ApiKey>> {
        if !presented.starts_with(KEY_MARK) || presented.len() > MAX_KEY_LEN {
            return Ok(None);
        }
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let Some(record) = self.store.api_key_by_hash(&hash).await? else {
            return Ok(None);
        };
        if record.revoked_at_ms.is_some() {
            return Ok(None);
        }
        // Scopes this build does not know (written by a newer version) grant nothing.
        let scopes = record
            .scopes
            .iter()
            .filter_map(|name| name.parse().ok())
            .collect();
        Ok(Some(ApiKey {
            id: record.id,
            workspace: record.workspace,
            name: record.name,
            prefix: record.prefix,
            scopes,
        }))
    }
}

/// A display name: trimmed, not empty, at most 100 characters, no control characters.
pub(crate) fn checked_name<'a>(what: &str, name: &'a str) -> Result<&'a str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::InvalidInput(format!(
            "a {what} name cannot be empty"
        )));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::InvalidInput(format!(
            "a {what} name has at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::InvalidInput(format!(
            "a {what} name cannot contain control characters"
        )));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>().unwrap(), scope);
        }
        assert!(matches!(
            "brands:admin".parse::<Scope>(),
            Err(AppError::InvalidInput(message)) if message.contains("brands:read")
        ));
    }

    #[test]
    fn roles_grow_by_inclusion_and_only_owners_read_the_audit_trail() {
        for scope in Scope::ALL {
            assert!(
                !Role::Viewer.allows(scope) || Role::Editor.allows(scope),
                "{scope}"
            );
            assert!(
                !Role::Editor.allows(scope) || Role::Owner.allows(scope),
                "{scope}"
            );
        }
        assert!(Role::Viewer.allows(Scope::Search));
        assert!(!Role::Viewer.allows(Scope::BrandsWrite));
        assert!(Role::Editor.allows(Scope::SourcesWrite));
        assert!(!Role::Editor.allows(Scope::AuditRead));
        assert!(Role::Owner.allows(Scope::AuditRead));
        for role in [Role::Viewer, Role::Editor, Role::Owner] {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(checked_name("brand", "  Acme  ").unwrap(), "Acme");
        assert!(checked_name("brand", "   ").is_err());
        assert!(checked_name("brand", "a\u{0}b").is_err());
        assert!(checked_name("brand", &"é".repeat(100)).is_ok());
        assert!(checked_name("brand", &"é".repeat(101)).is_err());
    }
}
