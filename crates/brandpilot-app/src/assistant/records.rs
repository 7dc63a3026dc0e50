//! Brand profiles, conversations, feedback, customer records and tickets: reads and writes
//! scoped to a brand already resolved inside the caller's workspace (or, for tickets, to the
//! workspace), so an id from elsewhere finds nothing.

use super::turn::{Citation, EndUser};
use crate::{AppError, Brandpilot, Result};
use brandpilot_assistant::profile::BrandProfile;
use brandpilot_core::{ConversationId, MessageId, TicketId, UserId, WorkspaceId};
use brandpilot_store::{
    Brand, ConversationRecord, MessageRecord, NewMessage, TicketRecord, TicketUpdate,
};
use serde::Serialize;

/// Largest customer record accepted, in bytes of JSON.
const MAX_RECORD_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize)]
pub struct ConversationView {
    pub conversation: ConversationRecordView,
    pub messages: Vec<MessageView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConversationRecordView {
    pub id: ConversationId,
    pub end_user: String,
    pub summary: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: MessageId,
    pub role: String,
    pub content: String,
    pub citations: Vec<Citation>,
    pub confidence: Option<f64>,
    pub escalated: bool,
    pub created_at_ms: i64,
    pub feedback: Option<FeedbackView>,
    /// The turn's trace, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedbackView {
    pub rating: String,
    pub comment: Option<String>,
}

impl MessageView {
    pub(crate) fn from_record(record: MessageRecord, with_trace: bool) -> Self {
        Self {
            id: record.id,
            role: record.role,
            content: record.content,
            citations: serde_json::from_str(&record.citations_json).unwrap_or_default(),
            confidence: record.confidence,
            escalated: record.escalated,
            created_at_ms: record.created_at_ms,
            feedback: record.feedback.map(|f| FeedbackView {
                rating: f.rating,
                comment: f.comment,
            }),
            trace: with_trace
                .then(|| {
                    record
                        .trace_json
                        .and_then(|t| serde_json::from_str(&t).ok())
                })
                .flatten(),
        }
    }
}

impl From<ConversationRecord> for ConversationRecordView {
    fn from(record: ConversationRecord) -> Self {
        Self {
            id: record.id,
            end_user: record.end_user,
            summary: record.summary,
            created_at_ms: record.created_at_ms,
            updated_at_ms: record.updated_at_ms,
        }
    }
}

/// A person's change to a ticket.
#[derive(Debug, Clone, Default)]
pub struct TicketChange {
    pub status: Option<String>,
    pub assignee: Option<Option<UserId>>,
}

impl Brandpilot {
    /// The brand's assistant profile (the defaults when none was saved).
    pub async fn brand_profile(&self, brand: &Brand) -> Result<BrandProfile> {
        match self.store.brand_profile(brand.id).await? {
            None => Ok(BrandProfile::default()),
            Some(json) => serde_json::from_str(&json).map_err(|error| {
                AppError::Task(format!(
                    "the stored profile of brand {} is unreadable: {error}",
                    brand.id
                ))
            }),
        }
    }

    /// Validates and saves the brand's profile.
    pub async fn put_brand_profile(&self, brand: &Brand, profile: &BrandProfile) -> Result<()> {
        let problems = profile.problems();
        if !problems.is_empty() {
            return Err(AppError::InvalidInput(problems.join("; ")));
        }
        let json = serde_json::to_string(profile)
            .map_err(|error| AppError::InvalidInput(error.to_string()))?;
        self.store.put_brand_profile(brand.id, &json).await?;
        Ok(())
    }

    /// Saves what the brand knows about one of its customers (enrolments, progress, orders),
    /// which the account specialist reads for that customer only.
    pub async fn put_customer_record(
        &self,
        brand: &Brand,
        customer_id: &str,
        record: &serde_json::Value,
    ) -> Result<()> {
        check_customer_id(customer_id)?;
        if !record.is_object() {
            return Err(AppError::InvalidInput(
                "a customer record must be a JSON object".into(),
            ));
        }
        let json = record.to_string();
        if json.len() > MAX_RECORD_BYTES {
            return Err(AppError::InvalidInput(format!(
                "a customer record may hold at most {MAX_RECORD_BYTES} bytes of JSON"
            )));
        }
        self.store
            .put_customer_record(brand.id, customer_id, &json)
            .await?;
        Ok(())
    }

    pub async fn customer_record(
        &self,
        brand: &Brand,
        customer_id: &str,
    ) -> Result<Option<serde_json::Value>> {
        check_customer_id(customer_id)?;
        Ok(self
            .store
            .customer_record(brand.id, customer_id)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok()))
    }

    pub async fn delete_customer_record(&self, brand: &Brand, customer_id: &str) -> Result<bool> {
        check_customer_id(customer_id)?;
        Ok(self
            .store
            .delete_customer_record(brand.id, customer_id)
            .await?)
    }

    /// A conversation with its messages, for `end_user` when one is given (a visitor sees
    /// only their own; people of the workspace see all).
    pub async fn conversation(
        &self,
        brand: &Brand,
        id: ConversationId,
        end_user: Option<&EndUser>,
        with_traces: bool,
    ) -> Result<ConversationView> {
        let record = self
            .store
            .conversation(brand.id, id)
            .await?
            .filter(|c| end_user.is_none_or(|user| user.key() == c.end_user))
            .ok_or(AppError::ConversationNotFound(id.0))?;
        let messages = self
            .store
            .messages(brand.id, id, None, 1_000)
            .await?
            .into_iter()
            .map(|m| MessageView::from_record(m, with_traces))
            .collect();
        Ok(ConversationView {
            conversation: record.into(),
            messages,
        })
    }

    /// The brand's conversations, newest first, optionally one end user's.
    pub async fn conversations(
        &self,
        brand: &Brand,
        end_user: Option<&str>,
        before: Option<ConversationId>,
        limit: i64,
    ) -> Result<Vec<ConversationRecordView>> {
        Ok(self
            .store
            .conversations(brand.id, end_user, before, limit.clamp(1, 200))
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Thumbs up or down on an answer, with an optional comment; giving it again replaces it.
    pub async fn rate_message(
        &self,
        brand: &Brand,
        message: MessageId,
        rating: &str,
        comment: Option<&str>,
    ) -> Result<()> {
        if !matches!(rating, "up" | "down") {
            return Err(AppError::InvalidInput(
                "rating must be \"up\" or \"down\"".into(),
            ));
        }
        if comment.is_some_and(|c| c.chars().count() > 2_000) {
            return Err(AppError::InvalidInput(
                "a comment may be at most 2000 characters".into(),
            ));
        }
        if self
            .store
            .put_feedback(brand.id, message, rating, comment)
            .await?
        {
            Ok(())
        } else {
            Err(AppError::MessageNotFound(message.0))
        }
    }

    pub async fn tickets(
        &self,
        workspace: WorkspaceId,
        brand: Option<&Brand>,
        status: Option<&str>,
        before: Option<TicketId>,
        limit: i64,
    ) -> Result<Vec<TicketRecord>> {
        if let Some(status) = status {
            check_status(status)?;
        }
        Ok(self
            .store
            .tickets(
                workspace,
                brand.map(|b| b.id),
                status,
                before,
                limit.clamp(1, 200),
            )
            .await?)
    }

    pub async fn ticket(&self, workspace: WorkspaceId, id: TicketId) -> Result<TicketRecord> {
        self.store
            .ticket(workspace, id)
            .await?
            .ok_or(AppError::TicketNotFound(id.0))
    }

    /// Moves a ticket (open → assigned → resolved, or back) or changes its assignee, who
    /// must be a member of the workspace.
    pub async fn change_ticket(
        &self,
        workspace: WorkspaceId,
        id: TicketId,
        change: &TicketChange,
    ) -> Result<TicketRecord> {
        if let Some(status) = &change.status {
            check_status(status)?;
        }
        if let Some(Some(user)) = change.assignee
            && self.store.membership_role(workspace, user).await?.is_none()
        {
            return Err(AppError::InvalidInput(format!(
                "user {user} is not a member of this workspace"
            )));
        }
        let before = self.ticket(workspace, id).await?;
        let mut update = TicketUpdate {
            status: change.status.clone(),
            assignee: change.assignee,
        };
        // Assigning someone to an open ticket moves it to assigned.
        if update.status.is_none()
            && matches!(change.assignee, Some(Some(_)))
            && before.status == "open"
        {
            update.status = Some("assigned".into());
        }
        let after = self
            .store
            .update_ticket(workspace, id, &update)
            .await?
            .ok_or(AppError::TicketNotFound(id.0))?;
        if (&after.status, after.assignee) != (&before.status, before.assignee) {
            self.announce_ticket(workspace, crate::webhooks::TICKET_UPDATED, &after)
                .await;
        }
        Ok(after)
    }

    /// A person's reply to a ticket: it goes into the conversation as an `agent` message the
    /// customer sees (in the widget or through the API).
    pub async fn reply_to_ticket(
        &self,
        workspace: WorkspaceId,
        id: TicketId,
        text: &str,
    ) -> Result<MessageView> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 8_000 {
            return Err(AppError::InvalidInput(
                "a reply must hold between 1 and 8000 characters".into(),
            ));
        }
        let ticket = self.ticket(workspace, id).await?;
        let message = NewMessage {
            role: "agent".into(),
            content: text.to_owned(),
            citations_json: "[]".into(),
            confidence: None,
            escalated: false,
            trace_json: None,
            token_count: self.token_counter().count(text) as i64,
        };
        let stored = self
            .store
            .append_message(ticket.brand, ticket.conversation, &message)
            .await?
            .ok_or(AppError::TicketNotFound(id.0))?;
        if ticket.status == "open" {
            let update = TicketUpdate {
                status: Some("assigned".into()),
                assignee: None,
            };
            self.store.update_ticket(workspace, id, &update).await?;
        }
        Ok(MessageView::from_record(stored, false))
    }
}

fn check_customer_id(customer_id: &str) -> Result<()> {
    if customer_id.is_empty()
        || customer_id.len() > 200
        || customer_id.chars().any(|c| c.is_control())
    {
        return Err(AppError::InvalidInput(
            "a customer id must be 1 to 200 characters without control characters".into(),
        ));
    }
    Ok(())
}

fn check_status(status: &str) -> Result<()> {
    if matches!(status, "open" | "assigned" | "resolved") {
        Ok(())
    } else {
        Err(AppError::InvalidInput(
            "status must be open, assigned or resolved".into(),
        ))
    }
}
