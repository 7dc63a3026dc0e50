//! The PostgreSQL side of accounts: users, memberships, refresh-token families and the
//! append-only audit log.

use super::{PostgresStore, json_from_row};
use crate::records::{
    AuditEntry, Membership, NewAuditEntry, NewUser, RefreshRotation, User, UserCredentials,
};
use crate::{Result, StoreError, now_ms};
use brandpilot_core::{UserId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

impl PostgresStore {
    pub async fn create_user(&self, user: &NewUser) -> Result<(User, WorkspaceId)> {
        let created_at = now_ms();
        // A taken name or email aborts the transaction, and dropping it rolls back: no
        // workspace is left behind without its owner.
        let mut tx = self.pool.begin().await?;
        let workspace: i64 =
            sqlx::query("INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(&user.workspace_name)
                .bind(created_at)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
        let id: i64 = sqlx::query(
            "INSERT INTO users (email, display_name, password_hash, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(&user.password_hash)
        .bind(created_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at)
             VALUES ($1, $2, 'owner', $3)",
        )
        .bind(workspace)
        .bind(id)
        .bind(created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((
            User {
                id: UserId(id),
                email: user.email.clone(),
                display_name: user.display_name.clone(),
                created_at_ms: created_at,
            },
            WorkspaceId(workspace),
        ))
    }

    pub async fn user_credentials(&self, email: &str) -> Result<Option<UserCredentials>> {
        let row = sqlx::query(
            "SELECT id, email, display_name, created_at, password_hash FROM users
             WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(UserCredentials {
                user: user_from_row(&row)?,
                password_hash: row.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn get_user(&self, user: UserId) -> Result<Option<User>> {
        let row =
            sqlx::query("SELECT id, email, display_name, created_at FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// A person's workspaces, the one they joined first leading (their default); a join in
    /// the same millisecond as their sign-up goes after the workspace they own.
    pub async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT m.workspace_id, w.name, m.role, m.created_at
             FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = $1
             ORDER BY m.created_at, m.role <> 'owner', m.workspace_id",
        )
        .bind(user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Membership {
                    workspace: WorkspaceId(row.try_get("workspace_id")?),
                    workspace_name: row.try_get("name")?,
                    role: row.try_get("role")?,
                    created_at_ms: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn membership_role(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.0)
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok(row.try_get("role")?)).transpose()
    }

    pub async fn put_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(workspace.0)
        .bind(user.0)
        .bind(role)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn start_refresh_family(
        &self,
        user: UserId,
        token_hash: &[u8; 32],
        expires_at_ms: i64,
    ) -> Result<i64> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let family: i64 = sqlx::query(
            "INSERT INTO refresh_families (user_id, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(user.0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query(
            "INSERT INTO refresh_tokens (family_id, token_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(family)
        .bind(&token_hash[..])
        .bind(now)
        .bind(expires_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(family)
    }

    pub async fn rotate_refresh_token(
        &self,
        presented_hash: &[u8; 32],
        new_hash: &[u8; 32],
        now_ms: i64,
        new_expires_at_ms: i64,
    ) -> Result<RefreshRotation> {
        let mut tx = self.pool.begin().await?;
        // Spending the token is one UPDATE that locks its row: of two concurrent refreshes
        // with one token, the second waits, re-reads the row, finds it spent and matches
        // nothing, so exactly one spends it.
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $1
             WHERE token_hash = $2 AND rotated_at IS NULL
             RETURNING family_id, expires_at",
        )
        .bind(now_ms)
        .bind(&presented_hash[..])
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match spent {
            Some(row) => {
                let family: i64 = row.try_get("family_id")?;
                let expires_at: i64 = row.try_get("expires_at")?;
                let live = sqlx::query(
                    "SELECT user_id FROM refresh_families WHERE id = $1 AND revoked_at IS NULL",
                )
                .bind(family)
                .fetch_optional(&mut *tx)
                .await?;
                match live {
                    Some(row) if expires_at > now_ms => {
                        sqlx::query(
                            "INSERT INTO refresh_tokens
                                 (family_id, token_hash, created_at, expires_at)
                             VALUES ($1, $2, $3, $4)",
                        )
                        .bind(family)
                        .bind(&new_hash[..])
                        .bind(now_ms)
                        .bind(new_expires_at_ms)
                        .execute(&mut *tx)
                        .await?;
                        RefreshRotation::Rotated {
                            user: UserId(row.try_get("user_id")?),
                            family,
                        }
                    }
                    _ => RefreshRotation::Ended,
                }
            }
            None => {
                let row = sqlx::query(
                    "SELECT t.family_id, f.user_id, f.revoked_at
                     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
                     WHERE t.token_hash = $1",
                )
                .bind(&presented_hash[..])
                .fetch_optional(&mut *tx)
                .await?;
                match row {
                    None => RefreshRotation::Unknown,
                    Some(row) => {
                        let family: i64 = row.try_get("family_id")?;
                        let revoked: Option<i64> = row.try_get("revoked_at")?;
                        if revoked.is_some() {
                            RefreshRotation::Ended
                        } else {
                            revoke_family(&mut tx, family, now_ms).await?;
                            RefreshRotation::Reused {
                                user: UserId(row.try_get("user_id")?),
                                family,
                            }
                        }
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    pub async fn revoke_refresh_family(&self, token_hash: &[u8; 32]) -> Result<Option<UserId>> {
        let row = sqlx::query(
            "UPDATE refresh_families SET revoked_at = $1
             WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $2)
               AND revoked_at IS NULL
             RETURNING user_id",
        )
        .bind(now_ms())
        .bind(&token_hash[..])
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok(UserId(row.try_get("user_id")?)))
            .transpose()
    }

    pub async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
        // The no-op update returns the stored value: the first replica to ask wins.
        let row = sqlx::query(
            "INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name
             RETURNING value",
        )
        .bind(name)
        .bind(candidate)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("value")?)
    }

    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64> {
        let detail = serde_json::to_string(&entry.detail)
            .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?;
        let row = sqlx::query(
            "INSERT INTO audit_log
                 (workspace_id, actor, action, target, detail, ip, request_id, created_at)
             VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING id",
        )
        .bind(entry.workspace.map(|w| w.0))
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(detail)
        .bind(&entry.ip)
        .bind(&entry.request_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("id")?)
    }

    pub async fn list_audit(
        &self,
        workspace: WorkspaceId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, actor, action, target, detail::text AS detail, ip,
                    request_id, created_at
             FROM audit_log WHERE workspace_id = $1 AND id < $2
             ORDER BY id DESC LIMIT $3",
        )
        .bind(workspace.0)
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }
}

async fn revoke_family(connection: &mut PgConnection, family: i64, now_ms: i64) -> Result<()> {
    sqlx::query("UPDATE refresh_families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(family)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

fn user_from_row(row: &PgRow) -> Result<User> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

fn audit_from_row(row: &PgRow) -> Result<AuditEntry> {
    let workspace: Option<i64> = row.try_get("workspace_id")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        entry: NewAuditEntry {
            workspace: workspace.map(WorkspaceId),
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            target: row.try_get("target")?,
            detail: json_from_row(row, "detail")?,
            ip: row.try_get("ip")?,
            request_id: row.try_get("request_id")?,
        },
        created_at_ms: row.try_get("created_at")?,
    })
}
