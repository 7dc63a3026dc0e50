//! The rolling summary written by a model. Every turn folds the messages that left the
//! memory window into the conversation's summary without a model (`memory::fold_summary`),
//! so the budget always holds. When the model on the `summarize` route is capable enough
//! (`assistant.generative_min_capability`) and `assistant.summarize_with_model` is on, the
//! turn also queues a `summarize_conversation` job: off the turn's path, a worker asks the
//! model to rewrite the summary from the previous one and the full dropped messages, and
//! stores it only if no later fold has moved the summary on in the meantime (the store's
//! `set_conversation_summary` refuses an older `through`).

use crate::llm::{LazyLlm, route_capability};
use crate::{AppError, Brandpilot, Result};
use brandpilot_assistant::memory::{Remembered, fit_summary, summary_prompt};
use brandpilot_core::{BrandId, ConversationId, Fault, FaultKind, MessageId};
use brandpilot_jobs::JobFailure;
use brandpilot_llm::{ChatRequest, Message};
use brandpilot_store::{Brand, ClaimedJob, JobLane, NewJob};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The job kind.
pub const SUMMARIZE: &str = "summarize_conversation";

#[derive(Debug, Serialize, Deserialize)]
struct SummaryJob {
    brand: i64,
    conversation: i64,
    /// The summary before this fold (the model's own, or the first fold's).
    previous: String,
    /// The messages after `after` up to and including `through` left the window.
    after: i64,
    through: i64,
}

impl Brandpilot {
    /// Whether a model writes the rolling summary (see the module documentation).
    pub(crate) fn summarizes_with_model(&self) -> bool {
        self.settings.assistant.summarize_with_model
            && route_capability(&self.settings.llm, "summarize")
                >= self.settings.assistant.generative_min_capability
    }

    /// Queues the model's summary of the messages after `after` through `through`.
    pub(crate) async fn queue_summary(
        &self,
        brand: &Brand,
        conversation: ConversationId,
        previous: &str,
        after: MessageId,
        through: MessageId,
    ) -> Result<()> {
        let payload = SummaryJob {
            brand: brand.id.0,
            conversation: conversation.0,
            previous: previous.to_owned(),
            after: after.0,
            through: through.0,
        };
        let job = NewJob {
            workspace: Some(brand.workspace),
            lane: JobLane::Fast,
            kind: SUMMARIZE.into(),
            payload: serde_json::to_value(&payload).map_err(|e| AppError::Task(e.to_string()))?,
            idempotency_key: Some(format!("summary:{}:{}", conversation.0, through.0)),
            max_attempts: 3,
            run_at_ms: crate::llm_calls::now_ms(),
        };
        self.store.enqueue_job(&job).await?;
        Ok(())
    }
}

/// Runs one summary job.
pub(crate) async fn run_summary(
    app: &Brandpilot,
    llm: &LazyLlm,
    job: ClaimedJob,
) -> std::result::Result<serde_json::Value, JobFailure> {
    let failure = |error: AppError| JobFailure {
        message: match error.fault() {
            FaultKind::User => error.to_string(),
            _ => "the summary could not be written; it will be retried".into(),
        },
        fault: error.fault(),
    };
    let payload: SummaryJob = serde_json::from_value(job.payload).map_err(|error| JobFailure {
        message: format!("the summary job is malformed: {error}"),
        fault: FaultKind::User,
    })?;
    let workspace = job.workspace.ok_or_else(|| JobFailure {
        message: "a summary job belongs to a workspace".into(),
        fault: FaultKind::User,
    })?;
    let brand = match app.brand_by_id(workspace, BrandId(payload.brand)).await {
        Ok(brand) => brand,
        Err(AppError::BrandNotFound(_)) => return Ok(json!({ "skipped": "the brand is gone" })),
        Err(error) => return Err(failure(error)),
    };
    let conversation = ConversationId(payload.conversation);
    let messages = app
        .store
        .messages(brand.id, conversation, Some(MessageId(payload.after)), 500)
        .await
        .map_err(|e| failure(e.into()))?;
    let dropped: Vec<Remembered<'_>> = messages
        .iter()
        .filter(|m| m.id.0 <= payload.through)
        .map(|m| Remembered {
            role: &m.role,
            content: &m.content,
        })
        .collect();
    if dropped.is_empty() {
        return Ok(json!({ "skipped": "the conversation is gone" }));
    }
    let max_chars = app.settings.assistant.summary_chars;
    let prompt = summary_prompt(&payload.previous, &dropped, max_chars);
    let mut request = ChatRequest::new(vec![
        Message::system(prompt.system),
        Message::user(prompt.user),
    ]);
    request.temperature = Some(0.0);
    // About four characters a token, and room to finish the last line.
    request.max_tokens = Some((max_chars / 3).clamp(64, 2_048) as u32);
    let service = llm.get(app).await.map_err(failure)?;
    let (response, _) = service
        .complete_in(workspace, Some(brand.id), "summarize", &request)
        .await
        .map_err(failure)?;
    let Some(summary) = fit_summary(&response.text, max_chars) else {
        return Ok(json!({ "stored": false, "reason": "the model wrote nothing" }));
    };
    let stored = app
        .store
        .set_conversation_summary(brand.id, conversation, &summary, MessageId(payload.through))
        .await
        .map_err(|e| failure(e.into()))?;
    Ok(json!({ "stored": stored, "chars": summary.chars().count() }))
}
