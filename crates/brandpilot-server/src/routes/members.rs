//! Workspaces people share: new workspaces, members and roles, invitations.

use crate::auth::{Caller, SignedIn};
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::{RequestOrigin, Role, Scope};
use brandpilot_core::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `owner`, `editor` or `viewer`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Owner,
    Editor,
    Viewer,
}

impl From<RoleName> for Role {
    fn from(role: RoleName) -> Self {
        match role {
            RoleName::Owner => Role::Owner,
            RoleName::Editor => Role::Editor,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    /// Unique on this server; 1–100 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceView {
    pub id: i64,
    pub name: String,
    /// Your role in it.
    pub role: String,
}

/// Creates a workspace; you are its owner. Act in it with `X-Workspace-Id`.
#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces",
    security(("api_key" = [])),
    request_body = NewWorkspace,
    responses(
        (status = 201, body = WorkspaceView),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, description = "Called with an API key", body = ErrorResponse),
        (status = 409, description = "A workspace of that name exists", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn create_workspace(
    State(state): State<ServerState>,
    SignedIn(user): SignedIn,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<NewWorkspace>,
) -> Result<(StatusCode, Json<WorkspaceView>), ApiError> {
    let workspace = state
        .accounts
        .create_workspace(user, &body.name, &origin)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WorkspaceView {
            id: workspace.0,
            name: body.name.trim().to_owned(),
            role: Role::Owner.to_string(),
        }),
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// Milliseconds since the Unix epoch.
    pub joined_at_ms: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberView>,
}

/// The workspace's members and their roles.
#[utoipa::path(get, path = "/api/v1/members", tag = "workspaces",
    security(("api_key" = ["members:read"])),
    responses(
        (status = 200, body = MemberList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_members(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<MemberList>, ApiError> {
    caller.require(Scope::MembersRead)?;
    let members = state.accounts.members(caller.workspace).await?;
    Ok(Json(MemberList {
        members: members
            .into_iter()
            .map(|member| MemberView {
                user_id: member.user.id.0,
                email: member.user.email,
                display_name: member.user.display_name,
                role: member.role,
                joined_at_ms: member.joined_at_ms,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: RoleName,
}

/// Gives a member another role. The last owner cannot step down (409).
#[utoipa::path(patch, path = "/api/v1/members/{user_id}", tag = "workspaces",
    security(("api_key" = ["members:manage"])),
    params(("user_id" = i64, Path, description = "The member's user id")),
    request_body = RoleChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "The workspace would have no owner", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn change_role(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath(user_id): ApiPath<i64>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::MembersManage)?;
    state
        .accounts
        .change_role(
            caller.workspace,
            &caller.actor(),
            UserId(user_id),
            body.role.into(),
            &origin,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member from the workspace. The last owner cannot be removed (409).
#[utoipa::path(delete, path = "/api/v1/members/{user_id}", tag = "workspaces",
    security(("api_key" = ["members:manage"])),
    params(("user_id" = i64, Path, description = "The member's user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 409, description = "The workspace would have no owner", body = ErrorResponse),
    ))]
pub(crate) async fn remove_member(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::MembersManage)?;
    state
        .accounts
        .remove_member(caller.workspace, &caller.actor(), UserId(user_id), &origin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// Who may accept it: the signed-in person whose account has this email.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001f\u007f-\u009f]+@[^@\s.\u0000-\u001f\u007f-\u009f]+(\.[^@\s.\u0000-\u001f\u007f-\u009f]+)+$"
    )]
    pub email: String,
    pub role: RoleName,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationView {
    pub id: i64,
    pub email: String,
    pub role: String,
    /// Milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
}

impl From<brandpilot_store::Invitation> for InvitationView {
    fn from(invitation: brandpilot_store::Invitation) -> Self {
        Self {
            id: invitation.id,
            email: invitation.email,
            role: invitation.role,
            expires_at_ms: invitation.expires_at_ms,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedInvitationView {
    pub invitation: InvitationView,
    /// Pass this to the person invited (they accept it signed in); shown only now.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationList {
    pub invitations: Vec<InvitationView>,
}

/// Invites someone by email with a role, for seven days. The answer carries the token to
/// pass on; it is not shown again.
#[utoipa::path(post, path = "/api/v1/invitations", tag = "workspaces",
    security(("api_key" = ["members:manage"])),
    request_body = NewInvitation,
    responses(
        (status = 201, body = CreatedInvitationView),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn invite(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<NewInvitation>,
) -> Result<(StatusCode, Json<CreatedInvitationView>), ApiError> {
    caller.require(Scope::MembersManage)?;
    let created = state
        .accounts
        .invite(
            caller.workspace,
            &caller.actor(),
            &body.email,
            body.role.into(),
            &origin,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitationView {
            invitation: created.invitation.into(),
            token: created.token,
        }),
    ))
}

/// Invitations not yet accepted, revoked or expired.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "workspaces",
    security(("api_key" = ["members:manage"])),
    responses(
        (status = 200, body = InvitationList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_invitations(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<InvitationList>, ApiError> {
    caller.require(Scope::MembersManage)?;
    let invitations = state.accounts.pending_invitations(caller.workspace).await?;
    Ok(Json(InvitationList {
        invitations: invitations.into_iter().map(InvitationView::from).collect(),
    }))
}

/// Withdraws an invitation that has not been accepted.
#[utoipa::path(delete, path = "/api/v1/invitations/{invitation_id}", tag = "workspaces",
    security(("api_key" = ["members:manage"])),
    params(("invitation_id" = i64, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn revoke_invitation(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath(invitation_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::MembersManage)?;
    state
        .accounts
        .revoke_invitation(caller.workspace, &caller.actor(), invitation_id, &origin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The token from the invitation.
    #[schema(pattern = r"^bpi_[A-Za-z0-9_-]{43}$")]
    pub token: String,
}

/// Joins the workspace an invitation is for, as the signed-in person it names.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "workspaces",
    security(("api_key" = [])),
    request_body = AcceptInvitation,
    responses(
        (status = 200, body = WorkspaceView),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, description = "For another email, or called with an API key", body = ErrorResponse),
        (status = 404, description = "Unknown, used, revoked or expired", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn accept_invitation(
    State(state): State<ServerState>,
    SignedIn(user): SignedIn,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> Result<Json<WorkspaceView>, ApiError> {
    let (workspace, role) = state
        .accounts
        .accept_invitation(user, &body.token, &origin)
        .await?;
    let name = state
        .accounts
        .memberships(user)
        .await?
        .into_iter()
        .find(|(membership, _)| membership.workspace == workspace)
        .map(|(membership, _)| membership.workspace_name)
        .unwrap_or_default();
    Ok(Json(WorkspaceView {
        id: workspace.0,
        name,
        role: role.to_string(),
    }))
}
