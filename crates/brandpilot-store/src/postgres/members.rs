//! The PostgreSQL side of workspace membership: members and their roles (a workspace never
//! loses its last owner) and invitations.

use super::PostgresStore;
use crate::records::{
    Invitation, InvitationAcceptance, Member, MembershipChange, NewInvitation, User,
};
use crate::{Result, now_ms};
use brandpilot_core::{UserId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

impl PostgresStore {
    pub async fn create_owned_workspace(&self, name: &str, owner: UserId) -> Result<WorkspaceId> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let workspace: i64 =
            sqlx::query("INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(name)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at)
             VALUES ($1, $2, 'owner', $3)",
        )
        .bind(workspace)
        .bind(owner.0)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(WorkspaceId(workspace))
    }

    pub async fn list_members(&self, workspace: WorkspaceId) -> Result<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.display_name, u.created_at, m.role,
                    m.created_at AS joined_at
             FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.workspace_id = $1 ORDER BY m.created_at, u.id",
        )
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Member {
                    user: User {
                        id: UserId(row.try_get("id")?),
                        email: row.try_get("email")?,
                        display_name: row.try_get("display_name")?,
                        created_at_ms: row.try_get("created_at")?,
                    },
                    role: row.try_get("role")?,
                    joined_at_ms: row.try_get("joined_at")?,
                })
            })
            .collect()
    }

    pub async fn change_member_role(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: &str,
    ) -> Result<MembershipChange> {
        let mut tx = self.pool.begin().await?;
        lock_membership_changes(&mut tx, workspace).await?;
        let changed = sqlx::query(
            "UPDATE memberships SET role = $1 WHERE workspace_id = $2 AND user_id = $3",
        )
        .bind(role)
        .bind(workspace.0)
        .bind(user.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(MembershipChange::NotMember);
        }
        if owners(&mut tx, workspace).await? == 0 {
            tx.rollback().await?;
            return Ok(MembershipChange::LastOwner);
        }
        tx.commit().await?;
        Ok(MembershipChange::Done)
    }

    pub async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<MembershipChange> {
        let mut tx = self.pool.begin().await?;
        lock_membership_changes(&mut tx, workspace).await?;
        let removed =
            sqlx::query("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace.0)
                .bind(user.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if removed == 0 {
            return Ok(MembershipChange::NotMember);
        }
        if owners(&mut tx, workspace).await? == 0 {
            tx.rollback().await?;
            return Ok(MembershipChange::LastOwner);
        }
        tx.commit().await?;
        Ok(MembershipChange::Done)
    }

    pub async fn create_invitation(&self, invitation: &NewInvitation) -> Result<Invitation> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO invitations
                 (workspace_id, email, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(invitation.workspace.0)
        .bind(&invitation.email)
        .bind(&invitation.role)
        .bind(&invitation.token_hash[..])
        .bind(invitation.invited_by.map(|u| u.0))
        .bind(now)
        .bind(invitation.expires_at_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok(Invitation {
            id: row.try_get("id")?,
            workspace: invitation.workspace,
            email: invitation.email.clone(),
            role: invitation.role.clone(),
            invited_by: invitation.invited_by,
            created_at_ms: now,
            expires_at_ms: invitation.expires_at_ms,
        })
    }

    pub async fn pending_invitations(
        &self,
        workspace: WorkspaceId,
        now_ms: i64,
    ) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, email, role, invited_by, created_at, expires_at
             FROM invitations
             WHERE workspace_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL
               AND expires_at > $2
             ORDER BY id",
        )
        .bind(workspace.0)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(invitation_from_row).collect()
    }

    pub async fn revoke_invitation(&self, workspace: WorkspaceId, id: i64) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE invitations SET revoked_at = $1
             WHERE workspace_id = $2 AND id = $3 AND accepted_at IS NULL
               AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(workspace.0)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn accept_invitation(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        email: &str,
        now_ms: i64,
    ) -> Result<InvitationAcceptance> {
        let mut tx = self.pool.begin().await?;
        // One UPDATE spends the invitation: a concurrent acceptance waits for the row lock,
        // re-reads it accepted and matches nothing.
        let accepted = sqlx::query(
            "UPDATE invitations SET accepted_at = $1, accepted_by = $2
             WHERE token_hash = $3 AND email = $4 AND accepted_at IS NULL
               AND revoked_at IS NULL AND expires_at > $1
             RETURNING workspace_id, role",
        )
        .bind(now_ms)
        .bind(user.0)
        .bind(&token_hash[..])
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = accepted else {
            let found = sqlx::query("SELECT email FROM invitations WHERE token_hash = $1")
                .bind(&token_hash[..])
                .fetch_optional(&mut *tx)
                .await?;
            return Ok(match found {
                None => InvitationAcceptance::Unknown,
                Some(row) if row.try_get::<String, _>("email")? != email => {
                    InvitationAcceptance::WrongEmail
                }
                Some(_) => InvitationAcceptance::Ended,
            });
        };
        let workspace: i64 = row.try_get("workspace_id")?;
        let role: String = row.try_get("role")?;
        // Someone already in the workspace keeps the role they have.
        sqlx::query(
            "INSERT INTO memberships (workspace_id, user_id, role, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (workspace_id, user_id) DO NOTHING",
        )
        .bind(workspace)
        .bind(user.0)
        .bind(&role)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let role: String =
            sqlx::query("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
                .bind(workspace)
                .bind(user.0)
                .fetch_one(&mut *tx)
                .await?
                .try_get("role")?;
        tx.commit().await?;
        Ok(InvitationAcceptance::Joined {
            workspace: WorkspaceId(workspace),
            role,
        })
    }
}

/// Serialises the changes that can take an owner away, per workspace. SQLite's single
/// writer does this by itself; here, without the lock, two owners demoting each other at
/// once would each count the other as the owner that is left, and both would commit. The
/// workspace row's lock (NO KEY UPDATE: it does not block inserts that reference the
/// workspace) makes the second wait, then count what the first committed.
async fn lock_membership_changes(
    connection: &mut PgConnection,
    workspace: WorkspaceId,
) -> Result<()> {
    sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR NO KEY UPDATE")
        .bind(workspace.0)
        .fetch_optional(&mut *connection)
        .await?;
    Ok(())
}

async fn owners(connection: &mut PgConnection, workspace: WorkspaceId) -> Result<i64> {
    let row = sqlx::query(
        "SELECT count(*) AS owners FROM memberships WHERE workspace_id = $1 AND role = 'owner'",
    )
    .bind(workspace.0)
    .fetch_one(&mut *connection)
    .await?;
    Ok(row.try_get("owners")?)
}

fn invitation_from_row(row: &PgRow) -> Result<Invitation> {
    let invited_by: Option<i64> = row.try_get("invited_by")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        workspace: WorkspaceId(row.try_get("workspace_id")?),
        email: row.try_get("email")?,
        role: row.try_get("role")?,
        invited_by: invited_by.map(UserId),
        created_at_ms: row.try_get("created_at")?,
        expires_at_ms: row.try_get("expires_at")?,
    })
}
