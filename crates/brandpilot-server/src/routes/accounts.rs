//! Accounts: sign up, log in, refresh, log out, who am I, and the workspace's audit trail.
//!
//! Signing in answers a short-lived access token (send it as `Authorization: Bearer`) and a
//! refresh token (spend it at `/auth/refresh` for a new pair; each is good once).

use crate::auth::{Caller, SignedIn};
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiQuery};
use crate::tokens::now_secs;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::{RequestOrigin, Scope, Session};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// Your email address; one account per address (case does not matter).
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001f\u007f-\u009f]+@[^@\s.\u0000-\u001f\u007f-\u009f]+(\.[^@\s.\u0000-\u001f\u007f-\u009f]+)+$",
        example = "ada@example.com"
    )]
    pub email: String,
    /// At least 8 and at most 256 characters, not only spaces.
    #[schema(min_length = 8, max_length = 256, pattern = r"\S")]
    pub password: String,
    /// How others see you; defaults to the part of the email before `@`. 1–100
    /// characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogIn {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 256)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last sign-in or refresh.
    #[schema(pattern = r"^bpr_[A-Za-z0-9_-]{43}$")]
    pub refresh_token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub email: String,
    pub display_name: String,
}

impl From<brandpilot_store::User> for UserView {
    fn from(user: brandpilot_store::User) -> Self {
        Self {
            id: user.id.0,
            email: user.email,
            display_name: user.display_name,
        }
    }
}

/// A signed-in session's credentials.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionTokens {
    pub user: UserView,
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token is good for.
    pub expires_in: i64,
    /// Spend at `POST /api/v1/auth/refresh` for a new pair; good once.
    pub refresh_token: String,
    /// Seconds the refresh token is good for.
    pub refresh_expires_in: i64,
}

fn session_tokens(state: &ServerState, session: Session) -> SessionTokens {
    let now = now_secs();
    SessionTokens {
        access_token: state.tokens.issue(session.user.id, now),
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl_secs(),
        refresh_token: session.refresh_token,
        refresh_expires_in: (session.refresh_expires_at_ms / 1000 - now).max(0),
        user: session.user.into(),
    }
}

/// Creates an account with a workspace of its own, and signs in.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "accounts",
    request_body = SignUp,
    responses(
        (status = 201, body = SessionTokens),
        (status = 400, body = ErrorResponse),
        (status = 403, description = "Sign-up is closed on this server", body = ErrorResponse),
        (status = 409, description = "An account with this email exists", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 429, body = ErrorResponse), (status = 500, body = ErrorResponse),
        (status = 503, body = ErrorResponse),
    ))]
pub(crate) async fn sign_up(
    State(state): State<ServerState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<(StatusCode, Json<SessionTokens>), ApiError> {
    let session = state
        .accounts
        .sign_up(
            &body.email,
            &body.password,
            body.display_name.as_deref(),
            &origin,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(session_tokens(&state, session))))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = LogIn,
    responses(
        (status = 200, body = SessionTokens),
        (status = 400, body = ErrorResponse),
        (status = 401, description = "Wrong email or password (`invalid_credentials`)", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 429, body = ErrorResponse), (status = 500, body = ErrorResponse),
        (status = 503, body = ErrorResponse),
    ))]
pub(crate) async fn log_in(
    State(state): State<ServerState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<LogIn>,
) -> Result<Json<SessionTokens>, ApiError> {
    let session = state
        .accounts
        .log_in(&body.email, &body.password, &origin)
        .await?;
    Ok(Json(session_tokens(&state, session)))
}

/// Spends a refresh token for a new access token and refresh token. Presenting a spent
/// refresh token again ends the whole session (it was copied).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = SessionTokens),
        (status = 400, body = ErrorResponse),
        (status = 401, description = "The session has ended (`session_ended`)", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 429, body = ErrorResponse), (status = 500, body = ErrorResponse),
        (status = 503, body = ErrorResponse),
    ))]
pub(crate) async fn refresh(
    State(state): State<ServerState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<SessionTokens>, ApiError> {
    let session = state.accounts.refresh(&body.refresh_token, &origin).await?;
    Ok(Json(session_tokens(&state, session)))
}

/// Ends the session the refresh token belongs to. Access tokens already issued stay good
/// until they expire (minutes).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out (also when the session had already ended)"),
        (status = 400, description = "Not a refresh token", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 429, body = ErrorResponse), (status = 500, body = ErrorResponse),
        (status = 503, body = ErrorResponse),
    ))]
pub(crate) async fn log_out(
    State(state): State<ServerState>,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    state.accounts.log_out(&body.refresh_token, &origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceMembership {
    pub id: i64,
    pub name: String,
    /// `owner`, `editor` or `viewer`.
    pub role: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Me {
    pub user: UserView,
    /// Oldest first; the first is where requests without `X-Workspace-Id` act.
    pub workspaces: Vec<WorkspaceMembership>,
}

/// The signed-in person and the workspaces they belong to. Needs an access token, not an
/// API key.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    security(("api_key" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, body = ErrorResponse),
        (status = 403, description = "Called with an API key", body = ErrorResponse),
    ))]
pub(crate) async fn me(
    State(state): State<ServerState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Me>, ApiError> {
    let accounts = &state.accounts;
    let (user, memberships) = tokio::try_join!(accounts.user(user), accounts.memberships(user))?;
    Ok(Json(Me {
        user: user.into(),
        workspaces: memberships
            .into_iter()
            .map(|(membership, role)| WorkspaceMembership {
                id: membership.workspace.0,
                name: membership.workspace_name,
                role: role.to_string(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this id (the last id of the previous page).
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// Entries per page, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    /// `user:<id>`, `key:<prefix>`, `cli` or `anonymous`.
    pub actor: String,
    /// What happened, e.g. `login`, `login_failed`, `brand.delete`.
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub entries: Vec<AuditEntryView>,
}

/// The workspace's security audit trail (sign-ins, failed sign-ins, key changes,
/// deletions), newest first. Nothing can edit or delete it.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts",
    security(("api_key" = ["audit:read"])),
    params(AuditQuery),
    responses(
        (status = 200, body = AuditPage),
        (status = 400, body = ErrorResponse),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn audit_trail(
    State(state): State<ServerState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require(Scope::AuditRead)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 500"));
    }
    if query.before.is_some_and(|before| before < 1) {
        return Err(ApiError::invalid("before must be an entry id (at least 1)"));
    }
    let entries = state
        .accounts
        .audit_trail(caller.workspace, query.before, limit)
        .await?;
    Ok(Json(AuditPage {
        entries: entries
            .into_iter()
            .map(|entry| AuditEntryView {
                id: entry.id,
                actor: entry.entry.actor,
                action: entry.entry.action,
                target: entry.entry.target,
                detail: entry.entry.detail,
                ip: entry.entry.ip,
                request_id: entry.entry.request_id,
                created_at_ms: entry.created_at_ms,
            })
            .collect(),
    }))
}
