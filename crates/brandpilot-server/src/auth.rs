//! Who is calling: an API key presented as `Authorization: Bearer <key>` or `X-Api-Key`,
//! resolved to its workspace and scopes. Handlers take a [`Caller`] and state the scope
//! they need with [`Caller::require`]; the OpenAPI document names the same scope on the
//! operation, and a test checks that the two agree for every operation.

use crate::{ApiError, ServerState};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use brandpilot_app::{ApiKey, Scope};
use brandpilot_core::WorkspaceId;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace: WorkspaceId,
    pub key: ApiKey,
}

impl Caller {
    /// Refuses with 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.key.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this API key lacks the `{scope}` scope"
            )))
        }
    }
}

impl FromRequestParts<ServerState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ServerState) -> Result<Self, ApiError> {
        let presented = presented_key(&parts.headers).ok_or_else(|| {
            ApiError::unauthenticated(
                "send an API key as `Authorization: Bearer <key>` or `X-Api-Key: <key>`",
            )
        })?;
        let key = state
            .admin
            .authenticate_api_key(presented)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("the API key is unknown or revoked"))?;
        tracing::Span::current().record("key", key.prefix.as_str());
        Ok(Caller {
            workspace: key.workspace,
            key,
        })
    }
}

/// The API key a request presents: `Authorization: Bearer <key>`, else `X-Api-Key`.
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
