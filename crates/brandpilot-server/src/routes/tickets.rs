//! Tickets: questions the assistant handed over to a person, across the workspace's
//! brands. People assign and resolve them and reply; a reply goes into the conversation.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::assistant::MessageOut;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use brandpilot_app::Scope;
use brandpilot_app::assistant::TicketChange;
use brandpilot_core::{BrandId, TicketId, UserId};
use brandpilot_store::TicketRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: i64,
    pub brand_id: i64,
    pub conversation_id: i64,
    /// The answer that handed over, when there was one.
    pub message_id: Option<i64>,
    /// The customer's question.
    pub question: String,
    /// `asked_for_human`, `low_confidence`, `no_answer` or `account_needs_human`.
    pub reason: String,
    /// `open`, `assigned` or `resolved`.
    pub status: String,
    pub assignee: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<TicketRecord> for TicketView {
    fn from(ticket: TicketRecord) -> Self {
        Self {
            id: ticket.id.0,
            brand_id: ticket.brand.0,
            conversation_id: ticket.conversation.0,
            message_id: ticket.message.map(|m| m.0),
            question: ticket.question,
            reason: ticket.reason,
            status: ticket.status,
            assignee: ticket.assignee.map(|u| u.0),
            created_at_ms: ticket.created_at_ms,
            updated_at_ms: ticket.updated_at_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketList {
    pub tickets: Vec<TicketView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketQuery {
    /// `open`, `assigned` or `resolved`.
    pub status: Option<String>,
    /// Only this brand's tickets.
    pub brand_id: Option<i64>,
    /// Tickets older than this id (paging).
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The workspace's tickets, newest first.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets",
    security(("api_key" = ["tickets:read"])),
    params(TicketQuery),
    responses(
        (status = 200, body = TicketList),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn list_tickets(
    State(state): State<ServerState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TicketQuery>,
) -> Result<Json<TicketList>, ApiError> {
    caller.require(Scope::TicketsRead)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 200"));
    }
    let brand = match query.brand_id {
        Some(id) => Some(state.app.brand_by_id(caller.workspace, BrandId(id)).await?),
        None => None,
    };
    let tickets = state
        .app
        .tickets(
            caller.workspace,
            brand.as_ref(),
            query.status.as_deref(),
            query.before.map(TicketId),
            limit,
        )
        .await?;
    Ok(Json(TicketList {
        tickets: tickets.into_iter().map(Into::into).collect(),
    }))
}

/// One ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{ticket_id}", tag = "tickets",
    security(("api_key" = ["tickets:read"])),
    params(("ticket_id" = i64, Path, description = "The ticket's id")),
    responses(
        (status = 200, body = TicketView),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_ticket(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(ticket_id): ApiPath<i64>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Scope::TicketsRead)?;
    Ok(Json(
        state
            .app
            .ticket(caller.workspace, TicketId(ticket_id))
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    /// `open`, `assigned` or `resolved`.
    #[serde(default)]
    #[schema(pattern = "^(open|assigned|resolved)$")]
    pub status: Option<String>,
    /// A member's user id; `null` to unassign. Assigning an open ticket makes it assigned.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee: Option<Option<i64>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one left out (`None`).
fn double_option<'de, D>(deserializer: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<i64>::deserialize(deserializer).map(Some)
}

/// Assigns, unassigns, resolves or reopens a ticket.
#[utoipa::path(patch, path = "/api/v1/tickets/{ticket_id}", tag = "tickets",
    security(("api_key" = ["tickets:write"])),
    params(("ticket_id" = i64, Path, description = "The ticket's id")),
    request_body = TicketPatch,
    responses(
        (status = 200, body = TicketView),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn change_ticket(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(ticket_id): ApiPath<i64>,
    ApiJson(body): ApiJson<TicketPatch>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Scope::TicketsWrite)?;
    let change = TicketChange {
        status: body.status,
        assignee: body.assignee.map(|a| a.map(UserId)),
    };
    let ticket = state
        .app
        .change_ticket(caller.workspace, TicketId(ticket_id), &change)
        .await?;
    Ok(Json(ticket.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    /// 1–8000 characters; the customer sees it in their conversation.
    #[schema(min_length = 1, max_length = 8000)]
    pub text: String,
}

/// A person's reply to the customer: it is added to the conversation as an `agent`
/// message (an open ticket becomes assigned).
#[utoipa::path(post, path = "/api/v1/tickets/{ticket_id}/replies", tag = "tickets",
    security(("api_key" = ["tickets:write"])),
    params(("ticket_id" = i64, Path, description = "The ticket's id")),
    request_body = ReplyBody,
    responses(
        (status = 201, body = MessageOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn reply_to_ticket(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(ticket_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReplyBody>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
    caller.require(Scope::TicketsWrite)?;
    let message = state
        .app
        .reply_to_ticket(caller.workspace, TicketId(ticket_id), &body.text)
        .await?;
    Ok((StatusCode::CREATED, Json(message.into())))
}
