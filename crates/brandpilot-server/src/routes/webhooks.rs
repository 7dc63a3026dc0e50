//! The workspace's webhooks: URLs told of its events (a ticket opened or changed) by signed
//! POSTs, following the Standard Webhooks convention. Owners manage them.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::webhooks::{WebhookRequest, WebhookView};
use brandpilot_app::{RequestOrigin, Scope};
use brandpilot_core::WebhookId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: i64,
    pub url: String,
    /// `ticket.opened`, `ticket.updated`.
    pub events: Vec<String>,
    pub description: String,
    pub created_at_ms: i64,
}

impl From<WebhookView> for WebhookOut {
    fn from(webhook: WebhookView) -> Self {
        Self {
            id: webhook.id.0,
            url: webhook.url,
            events: webhook.events,
            description: webhook.description,
            created_at_ms: webhook.created_at_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookBody {
    /// Where events are POSTed: an http(s) URL on the public internet (internal networks
    /// only where the server's `fetch.allow_networks` opens them).
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    /// The events to send: `ticket.opened` (the assistant handed a question over) and
    /// `ticket.updated` (a ticket was assigned, resolved or reopened).
    #[schema(min_items = 1, max_items = 2)]
    pub events: Vec<String>,
    /// A note for people, at most 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub webhook: WebhookOut,
    /// The signing secret (`whsec_` + base64 of the HMAC key). Shown only now: verify each
    /// delivery's `webhook-signature` with it (`v1,` + base64 HMAC-SHA256 of
    /// `{webhook-id}.{webhook-timestamp}.{body}`), and refuse timestamps more than a few
    /// minutes old.
    pub secret: String,
}

/// The workspace's webhooks (never their secrets).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "workspaces",
    security(("api_key" = ["webhooks:manage"])),
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_webhooks(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<WebhookList>, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let webhooks = state.app.webhooks(caller.workspace).await?;
    Ok(Json(WebhookList {
        webhooks: webhooks.into_iter().map(Into::into).collect(),
    }))
}

/// Adds a webhook. Each event is POSTed as JSON `{type, timestamp, data}` with the headers
/// `webhook-id` (the same on every retry of one event), `webhook-timestamp` (Unix seconds)
/// and `webhook-signature`; a receiver that does not answer 2xx is tried again with
/// growing backoff (`webhooks.max_attempts`).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "workspaces",
    security(("api_key" = ["webhooks:manage"])),
    request_body = NewWebhookBody,
    responses(
        (status = 201, body = CreatedWebhook),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn create_webhook(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiJson(body): ApiJson<NewWebhookBody>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    caller.require(Scope::WebhooksManage)?;
    let request = WebhookRequest {
        url: &body.url,
        events: &body.events,
        description: &body.description,
    };
    let (webhook, secret) = state
        .app
        .create_webhook(caller.workspace, &request, &caller.actor(), &origin)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            webhook: webhook.into(),
            secret,
        }),
    ))
}

/// Removes a webhook; deliveries still queued for it are dropped.
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "workspaces",
    security(("api_key" = ["webhooks:manage"])),
    params(("webhook_id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn delete_webhook(
    State(state): State<ServerState>,
    caller: Caller,
    origin: RequestOrigin,
    ApiPath(webhook_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::WebhooksManage)?;
    state
        .app
        .delete_webhook(
            caller.workspace,
            WebhookId(webhook_id),
            &caller.actor(),
            &origin,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
