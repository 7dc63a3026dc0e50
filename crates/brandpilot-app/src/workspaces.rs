//! Workspaces people share: creating one, its members and their roles, and invitations.
//!
//! A workspace always keeps an owner: the store refuses, in the same transaction, a role
//! change or removal that would leave none. An invitation names an email and a role; its
//! token (shown once, to whoever invites) lets the signed-in person with that email join,
//! once, within seven days. Every change is written to the audit trail.

use crate::access::{Role, checked_name};
use crate::accounts::{Accounts, Actor, AuditEvent, RequestOrigin, normalized_email};
use crate::{AppError, Result};
use base64::Engine as _;
use brandpilot_core::{UserId, WorkspaceId};
use brandpilot_store::{
    Invitation, InvitationAcceptance, Member, MembershipChange, NewInvitation, StoreError,
};
use sha2::{Digest, Sha256};

const INVITATION_MARK: &str = "bpi_";
const INVITATION_TTL_MS: i64 = 7 * 86_400_000;

/// An invitation just made: its token exists only here and in the answer to the owner.
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub token: String,
}

impl std::fmt::Debug for CreatedInvitation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedInvitation")
            .field("invitation", &self.invitation)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Accounts {
    /// A new workspace owned by `user`.
    pub async fn create_workspace(
        &self,
        user: UserId,
        name: &str,
        origin: &RequestOrigin,
    ) -> Result<WorkspaceId> {
        let name = checked_name("workspace", name)?;
        let workspace = self
            .store()
            .create_owned_workspace(name, user)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(_) => {
                    AppError::Conflict(format!("a workspace named {name:?} exists"))
                }
                other => other.into(),
            })?;
        let actor = Actor::User(user);
        self.record(
            &AuditEvent {
                workspace: Some(workspace),
                actor: &actor,
                action: "workspace.create",
                target: Some(format!("workspace:{workspace}")),
                detail: serde_json::json!({ "name": name }),
            },
            origin,
        )
        .await;
        Ok(workspace)
    }

    pub async fn members(&self, workspace: WorkspaceId) -> Result<Vec<Member>> {
        Ok(self.store().list_members(workspace).await?)
    }

    /// Gives a member another role; refused when it would leave the workspace ownerless.
    pub async fn change_role(
        &self,
        workspace: WorkspaceId,
        actor: &Actor,
        user: UserId,
        role: Role,
        origin: &RequestOrigin,
    ) -> Result<()> {
        let before = self.store().membership_role(workspace, user).await?;
        let change = self
            .store()
            .change_member_role(workspace, user, role.as_str())
            .await?;
        self.membership_changed(change, user)?;
        self.record(
            &AuditEvent {
                workspace: Some(workspace),
                actor,
                action: "member.role_change",
                target: Some(Actor::User(user).label()),
                detail: serde_json::json!({ "from": before, "to": role.as_str() }),
            },
            origin,
        )
        .await;
        Ok(())
    }

    /// Removes a member; refused for the last owner.
    pub async fn remove_member(
        &self,
        workspace: WorkspaceId,
        actor: &Actor,
        user: UserId,
        origin: &RequestOrigin,
    ) -> Result<()> {
        let change = self.store().remove_member(workspace, user).await?;
        self.membership_changed(change, user)?;
        self.record(
            &AuditEvent {
                workspace: Some(workspace),
                actor,
                action: "member.remove",
                target: Some(Actor::User(user).label()),
                detail: serde_json::json!({}),
            },
            origin,
        )
        .await;
        Ok(())
    }

    fn membership_changed(&self, change: MembershipChange, user: UserId) -> Result<()> {
        match change {
            MembershipChange::Done => Ok(()),
            MembershipChange::NotMember => Err(AppError::MemberNotFound(user.0)),
            MembershipChange::LastOwner => Err(AppError::Conflict(
                "a workspace needs an owner: make someone else owner first".into(),
            )),
        }
    }

    /// Invites `email` to join with `role`; the token is for the inviter to pass on.
    pub async fn invite(
        &self,
        workspace: WorkspaceId,
        inviter: &Actor,
        email: &str,
        role: Role,
        origin: &RequestOrigin,
    ) -> Result<CreatedInvitation> {
        let email = normalized_email(email)?;
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| AppError::Task(format!("no randomness: {e}")))?;
        let token = format!(
            "{INVITATION_MARK}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
        );
        let invited_by = match inviter {
            Actor::User(user) => Some(*user),
            _ => None,
        };
        let invitation = self
            .store()
            .create_invitation(&NewInvitation {
                workspace,
                email: email.clone(),
                role: role.as_str().to_owned(),
                token_hash: Sha256::digest(token.as_bytes()).into(),
                invited_by,
                expires_at_ms: crate::llm_calls::now_ms() + INVITATION_TTL_MS,
            })
            .await?;
        self.record(
            &AuditEvent {
                workspace: Some(workspace),
                actor: inviter,
                action: "invitation.create",
                target: Some(format!("invitation:{}", invitation.id)),
                detail: serde_json::json!({ "email": email, "role": role.as_str() }),
            },
            origin,
        )
        .await;
        Ok(CreatedInvitation { invitation, token })
    }

    pub async fn pending_invitations(&self, workspace: WorkspaceId) -> Result<Vec<Invitation>> {
        Ok(self
            .store()
            .pending_invitations(workspace, crate::llm_calls::now_ms())
            .await?)
    }

    pub async fn revoke_invitation(
        &self,
        workspace: WorkspaceId,
        actor: &Actor,
        id: i64,
        origin: &RequestOrigin,
    ) -> Result<()> {
        if !self.store().revoke_invitation(workspace, id).await? {
            return Err(AppError::InvitationNotFound);
        }
        self.record(
            &AuditEvent {
                workspace: Some(workspace),
                actor,
                action: "invitation.revoke",
                target: Some(format!("invitation:{id}")),
                detail: serde_json::json!({}),
            },
            origin,
        )
        .await;
        Ok(())
    }

    /// Joins the workspace an invitation is for, as the signed-in `user`.
    pub async fn accept_invitation(
        &self,
        user: UserId,
        token: &str,
        origin: &RequestOrigin,
    ) -> Result<(WorkspaceId, Role)> {
        let token = token.trim();
        if !token.starts_with(INVITATION_MARK) || token.len() > 64 {
            return Err(AppError::InvitationNotFound);
        }
        let email = self.user(user).await?.email;
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let outcome = self
            .store()
            .accept_invitation(&hash, user, &email, crate::llm_calls::now_ms())
            .await?;
        match outcome {
            InvitationAcceptance::Joined { workspace, role } => {
                let role: Role = role.parse()?;
                self.record(
                    &AuditEvent {
                        workspace: Some(workspace),
                        actor: &Actor::User(user),
                        action: "member.add",
                        target: Some(Actor::User(user).label()),
                        detail: serde_json::json!({ "role": role.as_str(), "by": "invitation" }),
                    },
                    origin,
                )
                .await;
                Ok((workspace, role))
            }
            InvitationAcceptance::WrongEmail => Err(AppError::Forbidden(
                "this invitation is for another email address".into(),
            )),
            InvitationAcceptance::Ended | InvitationAcceptance::Unknown => {
                Err(AppError::InvitationNotFound)
            }
        }
    }
}
