//! The brand's assistant: its profile, chat turns (JSON or server-sent events),
//! conversations, feedback on answers and the customer records it may read.

use crate::auth::{Caller, Principal};
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::search::LocatorView;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use brandpilot_app::Scope;
use brandpilot_app::assistant::{
    ChatTurn, Citation, ConversationRecordView, EndUser, MessageView, TurnEvent, TurnInput,
};
use brandpilot_assistant::profile::BrandProfile;
use brandpilot_core::{BrandId, ConversationId, MessageId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

/// How the assistant speaks for the brand and when it hands over. Every field is optional
/// when saving; what is left out takes its default.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// Who the assistant sounds like ("a warm, plain-spoken coach"); at most 1000 characters.
    #[serde(default)]
    pub voice: String,
    /// How it speaks ("friendly, concise"); at most 1000 characters.
    #[serde(default)]
    pub tone: String,
    /// Things to do, at most 30 of at most 300 characters.
    #[serde(default)]
    pub dos: Vec<String>,
    /// Things never to do, at most 30 of at most 300 characters.
    #[serde(default)]
    pub donts: Vec<String>,
    /// The first message a visitor sees; empty for a default in their language.
    #[serde(default)]
    pub greeting: String,
    /// Answers less confident than this (0–1) are not given: the assistant says it does not
    /// know and opens a ticket. Default 0.4.
    #[serde(default)]
    pub escalation_threshold: Option<f32>,
    /// Sources with one of these tags are the brand's policies (default `["policy"]`).
    #[serde(default)]
    pub policy_tags: Option<Vec<String>>,
    /// `auto` (extractive for small models, generative for capable ones), `extractive` or
    /// `generative`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub answer_mode: Option<brandpilot_assistant::profile::AnswerMode>,
}

impl From<BrandProfile> for ProfileBody {
    fn from(profile: BrandProfile) -> Self {
        Self {
            voice: profile.voice,
            tone: profile.tone,
            dos: profile.dos,
            donts: profile.donts,
            greeting: profile.greeting,
            escalation_threshold: Some(profile.escalation_threshold),
            policy_tags: Some(profile.policy_tags),
            answer_mode: Some(profile.answer_mode),
        }
    }
}

impl From<ProfileBody> for BrandProfile {
    fn from(body: ProfileBody) -> Self {
        let defaults = BrandProfile::default();
        Self {
            voice: body.voice,
            tone: body.tone,
            dos: body.dos,
            donts: body.donts,
            greeting: body.greeting,
            escalation_threshold: body
                .escalation_threshold
                .unwrap_or(defaults.escalation_threshold),
            policy_tags: body.policy_tags.unwrap_or(defaults.policy_tags),
            answer_mode: body.answer_mode.unwrap_or(defaults.answer_mode),
        }
    }
}

/// The brand's assistant profile (defaults when none was saved).
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/profile", tag = "assistant",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = ProfileBody),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_profile(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<ProfileBody>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    Ok(Json(state.app.brand_profile(&brand).await?.into()))
}

/// Replaces the brand's assistant profile.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/profile", tag = "assistant",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = ProfileBody,
    responses(
        (status = 200, body = ProfileBody),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn put_profile(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> Result<Json<ProfileBody>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let profile = BrandProfile::from(body);
    state.app.put_brand_profile(&brand, &profile).await?;
    Ok(Json(profile.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatBody {
    /// The customer's message, 1–4000 characters.
    #[schema(min_length = 1, max_length = 4000)]
    pub message: String,
    /// Continue this conversation (it must be the same end user's); omit to start one.
    #[serde(default)]
    pub conversation_id: Option<i64>,
    /// The brand's own id for the customer, when the brand knows who is asking: the
    /// assistant may then read that customer's record. Conversations are kept per customer.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub customer_id: Option<String>,
    /// Stream the answer as server-sent events (also chosen by `Accept: text/event-stream`).
    #[serde(default)]
    pub stream: bool,
    /// Include the turn's trace (each step, its time and decision).
    #[serde(default)]
    pub trace: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CitationView {
    /// The number used in the answer's text: `[1]`.
    pub marker: usize,
    /// `passage` (the brand's material) or `customer_record`.
    pub kind: String,
    pub chunk_id: Option<i64>,
    pub source_id: Option<i64>,
    pub title: String,
    pub origin: Option<String>,
    /// Where in the source, for people: "p. 3 · Pricing › Refunds".
    pub citation: Option<String>,
    pub locator: Option<LocatorView>,
    /// The cited text.
    pub quote: String,
}

impl From<Citation> for CitationView {
    fn from(citation: Citation) -> Self {
        Self {
            marker: citation.marker,
            kind: citation.kind,
            chunk_id: citation.chunk_id.map(|id| id.0),
            source_id: citation.source_id.map(|id| id.0),
            title: citation.title,
            origin: citation.origin,
            citation: citation.locator.as_ref().map(|l| l.label()),
            locator: citation.locator.map(Into::into),
            quote: citation.quote,
        }
    }
}

/// One sentence of an answer as the verifier saw it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentenceCheckView {
    pub text: String,
    /// `supported`, `uncited` (backed by a passage it does not cite), `unsupported` or
    /// `neutral` (too short to carry a claim).
    pub status: String,
    pub support: Option<f32>,
}

/// One server-sent event of an answer's stream: its name (`started`, `token`, `replace`,
/// `citations`, `confidence`, `escalation`, `done`) and its JSON data as text.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerEvent {
    pub event: String,
    pub data: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChatAnswer {
    pub conversation_id: i64,
    /// The customer's message as stored.
    pub question_message_id: i64,
    /// The answer as stored (rate it with `/messages/{id}/feedback`).
    pub message_id: i64,
    /// The answer, with markers `[1]` bound to `citations`.
    pub answer: String,
    pub citations: Vec<CitationView>,
    /// 0–1.
    pub confidence: f32,
    /// Whether the question went to a person.
    pub escalated: bool,
    pub ticket_id: Option<i64>,
    /// `asked_for_human`, `low_confidence`, `no_answer` or `account_needs_human`.
    pub escalation_reason: Option<String>,
    /// `course_content`, `policy`, `account`, `escalation`, `small_talk` or `out_of_scope`.
    pub specialist: String,
    /// The language of the question (ISO 639-1).
    pub language: String,
    /// `extractive`, `rephrased`, `generative` or `fixed`.
    pub mode: String,
    pub sentences: Vec<SentenceCheckView>,
    /// The steps of the turn, when asked for.
    #[schema(value_type = Option<Object>)]
    pub trace: Option<serde_json::Value>,
}

impl ChatAnswer {
    fn from_turn(turn: ChatTurn, with_trace: bool) -> Self {
        Self {
            conversation_id: turn.conversation.0,
            question_message_id: turn.question_message.0,
            message_id: turn.message.id.0,
            answer: turn.answer,
            citations: turn.citations.into_iter().map(Into::into).collect(),
            confidence: turn.confidence,
            escalated: turn.escalated,
            ticket_id: turn.ticket.map(|t| t.0),
            escalation_reason: turn.escalation_reason,
            specialist: turn.specialist.as_str().to_owned(),
            language: turn.language.code().to_owned(),
            mode: turn.mode,
            sentences: turn
                .verification
                .sentences
                .into_iter()
                .map(|s| SentenceCheckView {
                    text: s.text,
                    status: serde_json::to_value(s.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    support: s.support,
                })
                .collect(),
            trace: with_trace.then(|| serde_json::to_value(&turn.trace).unwrap_or_default()),
        }
    }
}

/// Who a chat caller speaks for: the customer the brand names, else the key or person.
pub(crate) fn end_user(caller: &Caller, customer_id: Option<String>) -> EndUser {
    match (customer_id, &caller.principal) {
        (Some(customer), _) => EndUser::Customer(customer),
        (None, Principal::Key(key)) => EndUser::Operator(format!("key-{}", key.id)),
        (None, Principal::User { id, .. }) => EndUser::Operator(format!("user-{id}")),
    }
}

/// Asks the brand's assistant. The answer is grounded in the brand's sources, each claim
/// cited; under the brand's confidence threshold, or when the customer asks for a person,
/// the assistant says so and opens a ticket. With `stream` (or `Accept:
/// text/event-stream`) the answer comes as server-sent events: `started`, `token` (text as
/// it is made), at most one `replace` (the whole answer, when a generated one failed
/// verification or the assistant hands over instead), then `citations`, `confidence`,
/// `escalation` and `done` (the whole answer as in the JSON response).
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/chat", tag = "assistant",
    security(("api_key" = ["chat"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = ChatBody,
    responses(
        (status = 200, description = "The answer (JSON), or with `stream` its events",
            content((ChatAnswer = "application/json"), (AnswerEvent = "text/event-stream"))),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn chat(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ChatBody>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Chat)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    if let Some(customer) = &body.customer_id
        && (customer.is_empty() || customer.len() > 200 || customer.chars().any(char::is_control))
    {
        return Err(ApiError::invalid(
            "customer_id must be 1 to 200 characters without control characters",
        ));
    }
    let wants_stream = body.stream
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.starts_with("text/event-stream"));
    let input = TurnInput {
        conversation: body.conversation_id.map(ConversationId),
        end_user: end_user(&caller, body.customer_id),
        message: body.message,
        earlier_messages: Vec::new(),
    };
    answer(&state, brand, input, wants_stream, body.trace).await
}

/// Runs a chat turn and answers with it: JSON, or its events as a stream.
pub(crate) async fn answer(
    state: &ServerState,
    brand: brandpilot_store::Brand,
    input: TurnInput,
    wants_stream: bool,
    with_trace: bool,
) -> Result<Response, ApiError> {
    if !wants_stream {
        let turn = state.app.chat_turn(&state.llm, &brand, input, None).await?;
        return Ok(Json(ChatAnswer::from_turn(turn, with_trace)).into_response());
    }
    // The turn runs on its own task: a client that disconnects mid-answer does not lose the
    // stored conversation.
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let app = state.app.clone();
    let llm = state.llm.clone();
    let turn = tokio::spawn(async move { app.chat_turn(&llm, &brand, input, Some(sender)).await });
    // Wait for the first event so that a bad request (an unknown conversation) is still an
    // error status, not a stream.
    let first = match receiver.recv().await {
        Some(event) => event,
        None => {
            return match turn.await {
                Ok(Err(error)) => Err(error.into()),
                _ => Err(ApiError::internal()),
            };
        }
    };
    let stream = async_stream_of(first, receiver, with_trace);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response())
}

fn async_stream_of(
    first: TurnEvent,
    receiver: tokio::sync::mpsc::UnboundedReceiver<TurnEvent>,
    with_trace: bool,
) -> impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>> {
    use futures_util::StreamExt;
    let events = futures_util::stream::once(async move { first }).chain(
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|event| (event, receiver))
        }),
    );
    events.flat_map(move |event| futures_util::stream::iter(sse_events(event, with_trace)))
}

fn sse_events(
    turn_event: TurnEvent,
    with_trace: bool,
) -> Vec<Result<Event, std::convert::Infallible>> {
    let event = |name: &str, data: serde_json::Value| {
        Ok(Event::default().event(name).data(data.to_string()))
    };
    match event_kind(turn_event, with_trace) {
        Stage::Started(data) => vec![event("started", data)],
        Stage::Token(text) => vec![event("token", json!({ "text": text }))],
        Stage::Replace(text) => vec![event("replace", json!({ "text": text }))],
        Stage::Done(answer) => vec![
            event("citations", json!({ "citations": answer.citations })),
            event(
                "confidence",
                json!({ "confidence": answer.confidence, "sentences": answer.sentences }),
            ),
            event(
                "escalation",
                json!({ "escalated": answer.escalated, "ticket_id": answer.ticket_id, "reason": answer.escalation_reason }),
            ),
            event("done", serde_json::to_value(&*answer).unwrap_or_default()),
        ],
    }
}

enum Stage {
    Started(serde_json::Value),
    Token(String),
    Replace(String),
    Done(Box<ChatAnswer>),
}

fn event_kind(event: TurnEvent, with_trace: bool) -> Stage {
    match event {
        TurnEvent::Started {
            conversation,
            question_message,
        } => Stage::Started(
            json!({ "conversation_id": conversation, "question_message_id": question_message }),
        ),
        TurnEvent::Delta(text) => Stage::Token(text),
        TurnEvent::Replace(text) => Stage::Replace(text),
        TurnEvent::Done(turn) => Stage::Done(Box::new(ChatAnswer::from_turn(*turn, with_trace))),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    /// `user`, `assistant` or `agent` (a person of the team).
    pub role: String,
    pub content: String,
    pub citations: Vec<CitationView>,
    pub confidence: Option<f64>,
    pub escalated: bool,
    pub created_at_ms: i64,
    /// `up` or `down`, with the comment, when the answer was rated.
    pub rating: Option<String>,
    pub comment: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub trace: Option<serde_json::Value>,
}

impl From<MessageView> for MessageOut {
    fn from(message: MessageView) -> Self {
        Self {
            id: message.id.0,
            role: message.role,
            content: message.content,
            citations: message.citations.into_iter().map(Into::into).collect(),
            confidence: message.confidence,
            escalated: message.escalated,
            created_at_ms: message.created_at_ms,
            rating: message.feedback.as_ref().map(|f| f.rating.clone()),
            comment: message.feedback.and_then(|f| f.comment),
            trace: message.trace,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: i64,
    /// `customer:<id>`, `visitor:<id>` or `operator:<who>`.
    pub end_user: String,
    /// What the conversation was about before its memory window.
    pub summary: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<ConversationRecordView> for ConversationOut {
    fn from(conversation: ConversationRecordView) -> Self {
        Self {
            id: conversation.id.0,
            end_user: conversation.end_user,
            summary: conversation.summary,
            created_at_ms: conversation.created_at_ms,
            updated_at_ms: conversation.updated_at_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationWithMessages {
    pub conversation: ConversationOut,
    pub messages: Vec<MessageOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// Only this end user's conversations (`customer:<id>`, …).
    pub end_user: Option<String>,
    /// Conversations older than this id (paging).
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// The brand's conversations, newest first.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/conversations", tag = "assistant",
    security(("api_key" = ["conversations:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id"), ConversationQuery),
    responses(
        (status = 200, body = ConversationList),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn list_conversations(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ConversationQuery>,
) -> Result<Json<ConversationList>, ApiError> {
    caller.require(Scope::ConversationsRead)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::invalid("limit must be between 1 and 200"));
    }
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let conversations = state
        .app
        .conversations(
            &brand,
            query.end_user.as_deref(),
            query.before.map(ConversationId),
            limit,
        )
        .await?;
    Ok(Json(ConversationList {
        conversations: conversations
            .into_iter()
            .map(ConversationOut::from)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TraceQuery {
    /// Include each answer's trace.
    #[serde(default)]
    pub traces: bool,
}

/// One conversation with its messages, oldest first.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/conversations/{conversation_id}", tag = "assistant",
    security(("api_key" = ["conversations:read"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("conversation_id" = i64, Path, description = "The conversation's id"),
        TraceQuery,
    ),
    responses(
        (status = 200, body = ConversationWithMessages),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn get_conversation(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, conversation_id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<TraceQuery>,
) -> Result<Json<ConversationWithMessages>, ApiError> {
    caller.require(Scope::ConversationsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let view = state
        .app
        .conversation(&brand, ConversationId(conversation_id), None, query.traces)
        .await?;
    Ok(Json(ConversationWithMessages {
        conversation: view.conversation.into(),
        messages: view.messages.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// `up` or `down`.
    #[schema(pattern = "^(up|down)$")]
    pub rating: String,
    /// At most 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Rates an answer (thumbs up or down, with an optional comment); rating again replaces it.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/messages/{message_id}/feedback", tag = "assistant",
    security(("api_key" = ["chat"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("message_id" = i64, Path, description = "The answer's message id"),
    ),
    request_body = FeedbackBody,
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn rate_message(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, message_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::Chat)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    state
        .app
        .rate_message(
            &brand,
            MessageId(message_id),
            &body.rating,
            body.comment.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Saves what the brand knows about one of its customers (a JSON object: enrolments,
/// progress, orders…), replacing what was there. The assistant reads it only in
/// conversations of that customer (`customer_id` in the chat request).
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/customers/{customer_id}", tag = "assistant",
    security(("api_key" = ["customers:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("customer_id" = String, Path, description = "The brand's own id for the customer"),
    ),
    request_body(content = Object, description = "The customer's record, at most 64 KiB"),
    responses(
        (status = 204, description = "Saved"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn put_customer(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, customer_id)): ApiPath<(i64, String)>,
    ApiJson(record): ApiJson<serde_json::Value>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    state
        .app
        .put_customer_record(&brand, &customer_id, &record)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a customer's record.
#[utoipa::path(delete, path = "/api/v1/brands/{brand_id}/customers/{customer_id}", tag = "assistant",
    security(("api_key" = ["customers:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("customer_id" = String, Path, description = "The brand's own id for the customer"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
    ))]
pub(crate) async fn delete_customer(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath((brand_id, customer_id)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(Scope::CustomersWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    if state
        .app
        .delete_customer_record(&brand, &customer_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no record for that customer"))
    }
}
