//! The grounded assistant's part of [`Store`]: brand profiles, customer records,
//! conversations with their messages and ratings, and tickets (hand-overs to people).
//!
//! Every operation that takes an id also takes the scope that owns it (the brand, or for
//! tickets the workspace) and both backends match on that scope in SQL: an id of another
//! brand or workspace finds nothing and changes nothing, exactly as an id that does not
//! exist. This module only dispatches; it must never hold SQL.

use crate::records::{
    ConversationRecord, MessageRecord, NewMessage, NewTicket, TicketRecord, TicketUpdate,
};
use crate::{Result, Store};
use brandpilot_core::{BrandId, ConversationId, MessageId, TicketId, WorkspaceId};

impl Store {
    /// Stores the brand's profile (a JSON document), replacing the one it had.
    pub async fn put_brand_profile(&self, brand: BrandId, profile_json: &str) -> Result<()> {
        dispatch!(self, s => s.put_brand_profile(brand, profile_json).await)
    }

    pub async fn brand_profile(&self, brand: BrandId) -> Result<Option<String>> {
        dispatch!(self, s => s.brand_profile(brand).await)
    }

    /// Stores what the brand knows of its customer `customer_id` (a JSON document),
    /// replacing what was there.
    pub async fn put_customer_record(
        &self,
        brand: BrandId,
        customer_id: &str,
        record_json: &str,
    ) -> Result<()> {
        dispatch!(self, s => s.put_customer_record(brand, customer_id, record_json).await)
    }

    pub async fn customer_record(
        &self,
        brand: BrandId,
        customer_id: &str,
    ) -> Result<Option<String>> {
        dispatch!(self, s => s.customer_record(brand, customer_id).await)
    }

    /// Forgets a customer's record; false when the brand had none under that id.
    pub async fn delete_customer_record(&self, brand: BrandId, customer_id: &str) -> Result<bool> {
        dispatch!(self, s => s.delete_customer_record(brand, customer_id).await)
    }

    pub async fn create_conversation(
        &self,
        brand: BrandId,
        end_user: &str,
    ) -> Result<ConversationRecord> {
        dispatch!(self, s => s.create_conversation(brand, end_user).await)
    }

    /// The conversation with this id, only if it is the brand's.
    pub async fn conversation(
        &self,
        brand: BrandId,
        id: ConversationId,
    ) -> Result<Option<ConversationRecord>> {
        dispatch!(self, s => s.conversation(brand, id).await)
    }

    /// The brand's conversations (only `end_user`'s when given), newest first, older than
    /// `before` when given, at most `limit`.
    pub async fn conversations(
        &self,
        brand: BrandId,
        end_user: Option<&str>,
        before: Option<ConversationId>,
        limit: i64,
    ) -> Result<Vec<ConversationRecord>> {
        dispatch!(self, s => s.conversations(brand, end_user, before, limit).await)
    }

    /// Adds a message to the brand's conversation and marks the conversation updated, in one
    /// transaction. `None` (and nothing written) when the conversation is not the brand's.
    /// Within a conversation, message ids grow in the order the messages were added.
    pub async fn append_message(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        message: &NewMessage,
    ) -> Result<Option<MessageRecord>> {
        dispatch!(self, s => s.append_message(brand, conversation, message).await)
    }

    /// The conversation's messages after `after` (from the start when `None`), oldest first,
    /// at most `limit`, each with its rating. Empty when the conversation is not the brand's.
    pub async fn messages(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        dispatch!(self, s => s.messages(brand, conversation, after, limit).await)
    }

    /// The conversation's last `limit` messages, oldest first, each with its rating.
    pub async fn recent_messages(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        dispatch!(self, s => s.recent_messages(brand, conversation, limit).await)
    }

    /// Replaces the conversation's summary with one covering its messages up to `through`.
    /// False (and nothing written) when the conversation is not the brand's, `through` is
    /// not one of its messages, or the summary already covers messages after `through` (a
    /// slower summariser never undoes a newer summary).
    pub async fn set_conversation_summary(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        summary: &str,
        through: MessageId,
    ) -> Result<bool> {
        dispatch!(self, s => s.set_conversation_summary(brand, conversation, summary, through).await)
    }

    /// Records the end user's rating (`up` or `down`) of an answer, replacing an earlier one.
    /// False when the message is not in one of the brand's conversations or is the end
    /// user's own (only `assistant` and `agent` messages are rated).
    pub async fn put_feedback(
        &self,
        brand: BrandId,
        message: MessageId,
        rating: &str,
        comment: Option<&str>,
    ) -> Result<bool> {
        dispatch!(self, s => s.put_feedback(brand, message, rating, comment).await)
    }

    /// Opens a ticket in the brand's conversation (at one of its messages, when given).
    /// The caller resolves the conversation through its brand first, so a conversation
    /// that is not the brand's, or a message of another conversation, is a bug: nothing is
    /// written and the error is [`StoreError::Database`](crate::StoreError::Database).
    pub async fn create_ticket(&self, ticket: &NewTicket) -> Result<TicketRecord> {
        dispatch!(self, s => s.create_ticket(ticket).await)
    }

    /// The workspace's tickets, only `brand`'s and only those with `status` when given,
    /// newest first, older than `before` when given, at most `limit`.
    pub async fn tickets(
        &self,
        workspace: WorkspaceId,
        brand: Option<BrandId>,
        status: Option<&str>,
        before: Option<TicketId>,
        limit: i64,
    ) -> Result<Vec<TicketRecord>> {
        dispatch!(self, s => s.tickets(workspace, brand, status, before, limit).await)
    }

    /// The ticket with this id, only if it is in one of the workspace's brands.
    pub async fn ticket(
        &self,
        workspace: WorkspaceId,
        id: TicketId,
    ) -> Result<Option<TicketRecord>> {
        dispatch!(self, s => s.ticket(workspace, id).await)
    }

    /// Changes a ticket's status and/or assignee and marks it updated; the ticket as it is
    /// now. `None` (and nothing written) when the ticket is not the workspace's, or the new
    /// assignee is not a member of the workspace. Which changes make sense (assigning an
    /// open ticket, reopening a resolved one) is the application's to decide.
    pub async fn update_ticket(
        &self,
        workspace: WorkspaceId,
        id: TicketId,
        update: &TicketUpdate,
    ) -> Result<Option<TicketRecord>> {
        dispatch!(self, s => s.update_ticket(workspace, id, update).await)
    }

    /// The conversation's newest ticket that is not resolved, so a conversation already
    /// handed over is not handed over twice.
    pub async fn open_ticket_for_conversation(
        &self,
        brand: BrandId,
        conversation: ConversationId,
    ) -> Result<Option<TicketRecord>> {
        dispatch!(self, s => s.open_ticket_for_conversation(brand, conversation).await)
    }
}
