//! API keys of the workspace, managed by people (editors and owners): a key is made with
//! at most its maker's own permissions, and no key can make keys or manage members.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::{RequestOrigin, Scope};
use brandpilot_store::ApiKeyRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    /// The visible part of the key (`bpk_<prefix>_…`), to recognise it by.
    pub prefix: String,
    pub scopes: Vec<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id,
            name: key.name,
            prefix: key.prefix,
            scopes: key.scopes,
            created_at_ms: key.created_at_ms,
            revoked_at_ms: key.revoked_at_ms,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// 1–100 characters, not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Scopes to grant (each one you hold yourself); all that your role allows a key when
    /// left out. `members:manage`, `keys:manage` and `webhooks:manage` are never granted
    /// to keys.
    #[schema(min_items = 1, max_items = 16)]
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedKey {
    pub key: KeyView,
    /// The key itself: send it as `Authorization: Bearer <secret>`. Shown only now.
    pub secret: String,
}

/// The workspace's API keys, revoked ones included (never their secrets).
#[utoipa::path(get, path = "/api/v1/keys", tag = "workspaces",
    security(("api_key" = ["keys:manage"])),
    responses(
        (status = 200, body = KeyList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_keys(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<KeyList>, ApiError> {
    caller.require(Scope::KeysManage)?;
    let keys = state.admin.list_api_keys(caller.workspace).await?;
    Ok(Json(KeyList {
        keys: keys.into_iter().map(KeyView::from).collect(),
    }))
}

/// Makes an API key for the workspace. The answer carries the secret, once.
#[utoipa::path(post, path = "/api/v1/keys", tag = "workspaces",
    security(("api_key" = ["keys:manage"])),
    request_body = NewKey,
    responses(
        (status = 201, body = CreatedKey),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, description = "A scope you do not hold", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn create_key(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    caller.require(Scope::KeysManage)?;
    let scopes: Vec<Scope> = match &body.scopes {
        Some(names) => names
            .iter()
            .map(|name| name.parse::<Scope>())
            .collect::<Result<_, _>>()?,
        None => Scope::for_keys()
            .into_iter()
            .filter(|scope| caller.require(*scope).is_ok())
            .collect(),
    };
    for scope in &scopes {
        caller.require(*scope).map_err(|_| {
            ApiError::forbidden(format!(
                "you cannot give a key the `{scope}` scope: you do not hold it"
            ))
        })?;
    }
    let created = state
        .admin
        .create_api_key(
            caller.workspace,
            &body.name,
            &scopes,
            &caller.actor(),
            &origin,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key: created.record.into(),
            secret: created.secret,
        }),
    ))
}

/// Revokes a key at once; it stays listed, revoked.
#[utoipa::path(delete, path = "/api/v1/keys/{key_id}", tag = "workspaces",
    security(("api_key" = ["keys:manage"])),
    params(("key_id" = i64, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn revoke_key(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath(key_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::KeysManage)?;
    state
        .admin
        .revoke_api_key(caller.workspace, key_id, &caller.actor(), &origin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
