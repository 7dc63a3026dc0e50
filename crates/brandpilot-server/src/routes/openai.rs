//! An OpenAI-compatible face on the assistant, so existing OpenAI clients and tools can talk
//! to a brand: `POST /v1/chat/completions` where `model` names a brand of the API key's
//! workspace (by name or id), and `GET /v1/models` listing those brands. The answer is a
//! grounded assistant turn; its citations travel in the extra top-level field `citations`
//! (and `brandpilot` carries the confidence and any ticket), which OpenAI clients keep and
//! ignore. A stream is sent once the answer is verified, in OpenAI's chunk format.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::ApiJson;
use crate::routes::assistant::CitationView;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use brandpilot_app::Scope;
use brandpilot_app::assistant::{ChatTurn, TurnInput};
use brandpilot_store::Brand;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletionRequest {
    /// A brand of the key's workspace, by name or id.
    #[schema(min_length = 1)]
    pub model: String,
    /// The conversation so far; the last `user` message is the question. At most 100.
    #[schema(min_items = 1, max_items = 100)]
    #[serde(deserialize_with = "crate::extract::objects::list")]
    pub messages: Vec<CompletionMessage>,
    #[serde(default)]
    pub stream: bool,
    /// The brand's own id for the customer: the assistant may read their record, and keeps
    /// their conversations apart.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub user: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CompletionMessage {
    /// `system`, `user`, `assistant` (or `developer`, `tool`): only `user` messages are read;
    /// the brand's profile, not the caller, sets the assistant's instructions.
    pub role: String,
    /// Text (or, as OpenAI allows, a list of parts of which the `text` ones are read).
    #[schema(value_type = String)]
    pub content: Value,
}

/// One server-sent event of a streamed completion: a `chat.completion.chunk` as JSON text,
/// and last the text `[DONE]`, as OpenAI streams them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionEvent {
    pub data: String,
    /// Not sent (OpenAI's streams name no events).
    pub event: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Completion {
    /// `chatcmpl-<message id>`.
    pub id: String,
    /// `chat.completion`.
    pub object: String,
    pub created: i64,
    /// The brand's name.
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    pub usage: CompletionUsage,
    /// The passages the answer's markers `[1]`… point to.
    pub citations: Vec<CitationView>,
    #[schema(value_type = Object)]
    pub brandpilot: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionChoice {
    pub index: u32,
    pub message: CompletionAnswer,
    /// `stop`.
    pub finish_reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionAnswer {
    /// `assistant`.
    pub role: String,
    pub content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelList {
    /// `list`.
    pub object: String,
    pub data: Vec<ModelEntry>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ModelEntry {
    /// The brand's name (what `model` takes).
    pub id: String,
    /// `model`.
    pub object: String,
    pub created: i64,
    pub owned_by: String,
}

/// The text of a message's content: a string, or the `text` parts of a list.
fn text_of(content: &Value) -> Option<String> {
    match content {
        Value::String(text) => Some(text.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|part| part["type"] == "text")
                .filter_map(|part| part["text"].as_str())
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        _ => None,
    }
}

async fn brand_named(state: &ServerState, caller: &Caller, model: &str) -> Result<Brand, ApiError> {
    let brands = state.app.list_brands(caller.workspace).await?;
    brands
        .into_iter()
        .find(|brand| brand.name == model || brand.id.0.to_string() == model)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no brand (model) named {model:?} in this workspace"
            ))
        })
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Answers as an OpenAI chat completion: `model` names a brand, the last `user` message is
/// the question, the earlier ones give it context. Citations come in the extra field
/// `citations`; `brandpilot` holds the conversation, confidence and any ticket. With
/// `stream`, OpenAI's `chat.completion.chunk` events follow once the answer is verified,
/// the last carrying `citations`, then `data: [DONE]`.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "assistant",
    security(("api_key" = ["chat"])),
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "The completion (JSON), or with `stream` its chunks",
            content((Completion = "application/json"), (CompletionEvent = "text/event-stream"))),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn chat_completions(
    State(state): State<ServerState>,
    caller: Caller,
    ApiJson(body): ApiJson<CompletionRequest>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Chat)?;
    if body.messages.is_empty() || body.messages.len() > 100 {
        return Err(ApiError::invalid("messages must hold 1 to 100 messages"));
    }
    let mut questions = Vec::new();
    for message in &body.messages {
        if message.role == "user" {
            let text = text_of(&message.content).ok_or_else(|| {
                ApiError::invalid("a user message's content must be text or a list of text parts")
            })?;
            questions.push(text);
        }
    }
    let Some(question) = questions.pop() else {
        return Err(ApiError::invalid("messages must include a user message"));
    };
    if let Some(user) = &body.user
        && (user.is_empty() || user.len() > 200 || user.chars().any(char::is_control))
    {
        return Err(ApiError::invalid(
            "user must be 1 to 200 characters without control characters",
        ));
    }
    let brand = brand_named(&state, &caller, &body.model).await?;
    let end_user = crate::routes::assistant::end_user(&caller, body.user.clone());
    let input = TurnInput {
        conversation: None,
        end_user,
        message: question,
        earlier_messages: questions,
    };
    let turn = state.app.chat_turn(&state.llm, &brand, input, None).await?;
    let counter = state.app.token_counter();
    let prompt_tokens = body
        .messages
        .iter()
        .filter_map(|m| text_of(&m.content))
        .map(|text| counter.count(&text) as u64)
        .sum::<u64>();
    let completion_tokens = counter.count(&turn.answer) as u64;
    let extras = extras(&turn);
    let citations: Vec<CitationView> = turn.citations.iter().cloned().map(Into::into).collect();
    let id = format!("chatcmpl-{}", turn.message.id.0);
    let created = now_secs();
    if !body.stream {
        return Ok(Json(Completion {
            id,
            object: "chat.completion".into(),
            created,
            model: brand.name.clone(),
            choices: vec![CompletionChoice {
                index: 0,
                message: CompletionAnswer {
                    role: "assistant".into(),
                    content: turn.answer,
                },
                finish_reason: "stop".into(),
            }],
            usage: CompletionUsage {
                prompt_tokens,
                completion_tokens,
                total_tokens: prompt_tokens + completion_tokens,
            },
            citations,
            brandpilot: extras,
        })
        .into_response());
    }
    let chunk = |delta: Value, finish: Value| {
        json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": brand.name,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
        })
    };
    let mut events = vec![chunk(
        json!({ "role": "assistant", "content": "" }),
        Value::Null,
    )];
    for (index, word) in turn.answer.split(' ').enumerate() {
        let piece = if index == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        };
        events.push(chunk(json!({ "content": piece }), Value::Null));
    }
    let mut last = chunk(json!({}), json!("stop"));
    last["citations"] = serde_json::to_value(&citations).unwrap_or_default();
    last["brandpilot"] = extras;
    last["usage"] = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    });
    events.push(last);
    let stream = futures_util::stream::iter(
        events
            .into_iter()
            .map(|event| Event::default().data(event.to_string()))
            .chain(std::iter::once(Event::default().data("[DONE]")))
            .map(Ok::<_, std::convert::Infallible>),
    );
    Ok(Sse::new(stream).into_response())
}

fn extras(turn: &ChatTurn) -> Value {
    json!({
        "conversation_id": turn.conversation,
        "message_id": turn.message.id,
        "confidence": turn.confidence,
        "escalated": turn.escalated,
        "ticket_id": turn.ticket,
        "mode": turn.mode,
    })
}

/// The workspace's brands as OpenAI models.
#[utoipa::path(get, path = "/v1/models", tag = "assistant",
    security(("api_key" = ["brands:read"])),
    responses(
        (status = 200, body = ModelList),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
    ))]
pub(crate) async fn list_models(
    State(state): State<ServerState>,
    caller: Caller,
) -> Result<Json<ModelList>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brands = state.app.list_brands(caller.workspace).await?;
    Ok(Json(ModelList {
        object: "list".into(),
        data: brands
            .into_iter()
            .map(|brand| ModelEntry {
                id: brand.name,
                object: "model".into(),
                created: 0,
                owned_by: "brandpilot".into(),
            })
            .collect(),
    }))
}
