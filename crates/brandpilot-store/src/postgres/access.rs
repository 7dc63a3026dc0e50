//! The PostgreSQL side of workspaces, brands and API keys: brands are found by name or id
//! only inside their workspace, and keys by the hash of their secret.

use super::{PostgresStore, json_from_row};
use crate::records::{ApiKeyRecord, Brand, NewApiKey, WorkspaceRecord};
use crate::{Result, StoreError, now_ms};
use brandpilot_core::{BrandId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::PgRow;

impl PostgresStore {
    pub async fn ensure_workspace(&self, name: &str) -> Result<WorkspaceId> {
        // The no-op update makes RETURNING give the existing row's id.
        let row = sqlx::query(
            "INSERT INTO workspaces (name, created_at) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(WorkspaceId(row.try_get("id")?))
    }

    pub async fn ensure_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Brand> {
        let row = sqlx::query(
            "INSERT INTO brands (workspace_id, name, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (workspace_id, name) DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(workspace.0)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(Brand {
            id: BrandId(row.try_get("id")?),
            workspace,
            name: name.to_owned(),
        })
    }

    pub async fn find_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Option<Brand>> {
        let row = sqlx::query("SELECT id FROM brands WHERE workspace_id = $1 AND name = $2")
            .bind(workspace.0)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Brand {
                id: BrandId(row.try_get("id")?),
                workspace,
                name: name.to_owned(),
            })
        })
        .transpose()
    }

    pub async fn list_brands(&self, workspace: WorkspaceId) -> Result<Vec<Brand>> {
        // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        let rows = sqlx::query(
            "SELECT id, name FROM brands WHERE workspace_id = $1 ORDER BY name COLLATE \"C\"",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Brand {
                    id: BrandId(row.try_get("id")?),
                    workspace,
                    name: row.try_get("name")?,
                })
            })
            .collect()
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn find_workspace(&self, name: &str) -> Result<Option<WorkspaceId>> {
        let row = sqlx::query("SELECT id FROM workspaces WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(WorkspaceId(row.try_get("id")?)))
            .transpose()
    }

    pub async fn list_workspaces(&self) -> Result<Vec<WorkspaceRecord>> {
        let rows = sqlx::query("SELECT id, name, plan FROM workspaces ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(WorkspaceRecord {
                    id: WorkspaceId(row.try_get("id")?),
                    name: row.try_get("name")?,
                    plan: row.try_get("plan")?,
                })
            })
            .collect()
    }

    pub async fn workspace_plan(&self, workspace: WorkspaceId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT plan FROM workspaces WHERE id = $1")
            .bind(workspace.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("plan")?,
            None => None,
        })
    }

    pub async fn set_workspace_plan(
        &self,
        workspace: WorkspaceId,
        plan: Option<&str>,
    ) -> Result<bool> {
        let updated = sqlx::query("UPDATE workspaces SET plan = $1 WHERE id = $2")
            .bind(plan)
            .bind(workspace.0)
            .execute(&self.pool)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    pub async fn get_brand(&self, workspace: WorkspaceId, brand: BrandId) -> Result<Option<Brand>> {
        let row = sqlx::query("SELECT name FROM brands WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(brand.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Brand {
                id: brand,
                workspace,
                name: row.try_get("name")?,
            })
        })
        .transpose()
    }

    pub async fn create_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Brand> {
        let row = sqlx::query(
            "INSERT INTO brands (workspace_id, name, created_at) VALUES ($1, $2, $3)
             RETURNING id",
        )
        .bind(workspace.0)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(Brand {
            id: BrandId(row.try_get("id")?),
            workspace,
            name: name.to_owned(),
        })
    }

    pub async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord> {
        let scopes = serde_json::to_string(&key.scopes)
            .map_err(|e| StoreError::Corrupt(format!("API key scopes: {e}")))?;
        let created_at = now_ms();
        let row = sqlx::query(
            "INSERT INTO api_keys (workspace_id, name, prefix, secret_hash, scopes, created_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6) RETURNING id",
        )
        .bind(key.workspace.0)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(&key.secret_hash[..])
        .bind(scopes)
        .bind(created_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(ApiKeyRecord {
            id: row.try_get("id")?,
            workspace: key.workspace,
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            scopes: key.scopes.clone(),
            created_at_ms: created_at,
            revoked_at_ms: None,
        })
    }

    /// The key whose secret hashes to `secret_hash`, revoked or not.
    pub async fn api_key_by_hash(&self, secret_hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query(
            "SELECT id, workspace_id, name, prefix, scopes::text AS scopes, created_at,
                    revoked_at
             FROM api_keys WHERE secret_hash = $1",
        )
        .bind(&secret_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(api_key_from_row).transpose()
    }

    pub async fn list_api_keys(&self, workspace: WorkspaceId) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, name, prefix, scopes::text AS scopes, created_at,
                    revoked_at
             FROM api_keys WHERE workspace_id = $1 ORDER BY id",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(api_key_from_row).collect()
    }

    /// Revokes a key of this workspace. False when the workspace has no such key or it was
    /// already revoked (the first revocation time is kept).
    pub async fn revoke_api_key(&self, workspace: WorkspaceId, key: i64) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1
             WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(workspace.0)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }
}

fn api_key_from_row(row: &PgRow) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        workspace: WorkspaceId(row.try_get("workspace_id")?),
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        scopes: serde_json::from_value(json_from_row(row, "scopes")?)
            .map_err(|e| StoreError::Corrupt(format!("API key scopes: {e}")))?,
        created_at_ms: row.try_get("created_at")?,
        revoked_at_ms: row.try_get("revoked_at")?,
    })
}
