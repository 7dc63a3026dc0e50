//! Who is calling, and in which workspace: an API key (`bpk_…`) or a signed-in person's
//! access token (a JWT from `/api/v1/auth/login`), both presented as
//! `Authorization: Bearer <credential>` (a key may also come as `X-Api-Key`).
//!
//! A key belongs to one workspace and holds scopes. A person acts in the workspace named by
//! the `X-Workspace-Id` header, else in their first (personal) one, with the role they hold
//! there, read from the store on every request. Handlers take a [`Caller`] and state the
//! scope they need with [`Caller::require`]; a role allows the scopes
//! [`Role::allows`] lists. The OpenAPI document names the same scope on the operation, and
//! a test checks that the two agree for every operation.

use crate::middleware::RequestId;
use crate::tokens::{TokenError, now_secs};
use crate::{ApiError, ServerState};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use brandpilot_app::{Actor, ApiKey, AuditEvent, RequestOrigin, Role, Scope};
use brandpilot_core::{UserId, WorkspaceId};
use std::net::SocketAddr;

/// The header a signed-in person names the workspace they act in with.
pub const WORKSPACE_HEADER: &str = "x-workspace-id";

/// Who the caller is.
#[derive(Debug, Clone)]
pub enum Principal {
    Key(ApiKey),
    User { id: UserId, role: Role },
}

/// An authenticated caller, acting in one workspace.
#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace: WorkspaceId,
    pub principal: Principal,
}

impl Caller {
    /// Refuses with 403 unless the caller may act with `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match &self.principal {
            Principal::Key(key) if key.allows(scope) => Ok(()),
            Principal::Key(_) => Err(ApiError::forbidden(format!(
                "this API key lacks the `{scope}` scope"
            ))),
            Principal::User { role, .. } if role.allows(scope) => Ok(()),
            Principal::User { role, .. } => Err(ApiError::forbidden(format!(
                "your role in this workspace ({role}) does not allow `{scope}`"
            ))),
        }
    }

    /// Writes what the caller did to the workspace's audit trail.
    pub async fn audit(
        &self,
        state: &ServerState,
        origin: &RequestOrigin,
        action: &str,
        target: String,
        detail: serde_json::Value,
    ) {
        let actor = self.actor();
        let event = AuditEvent {
            workspace: Some(self.workspace),
            actor: &actor,
            action,
            target: Some(target),
            detail,
        };
        state.accounts.record(&event, origin).await;
    }

    /// The caller as the audit trail names them.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::Key(key) => Actor::Key(key.prefix.clone()),
            Principal::User { id, .. } => Actor::User(*id),
        }
    }
}

impl FromRequestParts<ServerState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, ApiError> {
        let presented = presented_key(&parts.headers).ok_or_else(|| {
            ApiError::unauthenticated(
                "send an API key or an access token as `Authorization: Bearer <credential>`",
            )
        })?;
        if presented.starts_with("bpk_") {
            let key = state
                .admin
                .authenticate_api_key(presented)
                .await?
                .ok_or_else(|| ApiError::unauthenticated("the API key is unknown or revoked"))?;
            tracing::Span::current().record("key", key.prefix.as_str());
            remember_tier(state, presented, key.workspace).await?;
            return Ok(Caller {
                workspace: key.workspace,
                principal: Principal::Key(key),
            });
        }
        let user = state
            .tokens
            .verify(presented, now_secs())
            .map_err(token_refusal)?;
        let asked = match parts.headers.get(WORKSPACE_HEADER) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|text| text.trim().parse().ok())
                    .map(WorkspaceId)
                    .ok_or_else(|| {
                        ApiError::invalid("X-Workspace-Id must be a workspace id (an integer)")
                    })?,
            ),
        };
        let (workspace, role) = state.accounts.acting_in(user, asked).await?;
        tracing::Span::current().record("key", format!("user:{user}").as_str());
        remember_tier(state, presented, workspace).await?;
        Ok(Caller {
            workspace,
            principal: Principal::User { id: user, role },
        })
    }
}

/// Tells the rate limiter the tier of the caller's workspace plan, for their next request.
async fn remember_tier(
    state: &ServerState,
    credential: &str,
    workspace: WorkspaceId,
) -> Result<(), ApiError> {
    let plan = state.app.plan(workspace).await?;
    let key = crate::rate_limit::credential_key(credential, &state.tokens);
    state.rate_tiers.remember(
        key,
        crate::rate_limit::Quota {
            per_minute: plan.rate.per_minute,
            burst: plan.rate.burst,
        },
    );
    Ok(())
}

/// A signed-in person, whatever workspace (for `/me`): an access token, never a key.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub UserId);

impl FromRequestParts<ServerState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, ApiError> {
        let presented = presented_key(&parts.headers).ok_or_else(|| {
            ApiError::unauthenticated("send an access token as `Authorization: Bearer <token>`")
        })?;
        if presented.starts_with("bpk_") {
            return Err(ApiError::forbidden(
                "this describes a signed-in person; an API key has no account",
            ));
        }
        let user = state
            .tokens
            .verify(presented, now_secs())
            .map_err(token_refusal)?;
        tracing::Span::current().record("key", format!("user:{user}").as_str());
        Ok(SignedIn(user))
    }
}

/// Where a request came from, for the audit trail: the client address (as the rate
/// limiter sees it, behind trusted proxies) and the request id.
impl FromRequestParts<ServerState> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<Self, std::convert::Infallible> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| {
                crate::rate_limit::client_ip(peer.ip(), &parts.headers, &state.trusted_proxies)
                    .to_string()
            });
        let request_id = parts.extensions.get::<RequestId>().map(|id| id.0.clone());
        Ok(RequestOrigin { ip, request_id })
    }
}

fn token_refusal(error: TokenError) -> ApiError {
    let code = match error {
        TokenError::Expired => "token_expired",
        _ => "unauthenticated",
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, error.to_string())
}

/// The credential a request presents: `Authorization: Bearer <credential>`, else
/// `X-Api-Key`.
pub(crate) fn presented_key(headers: &axum::http::HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|token| !token.is_empty());
    }
    headers
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|token| !token.is_empty())
}
