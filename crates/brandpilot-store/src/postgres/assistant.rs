//! The PostgreSQL side of the grounded assistant: brand profiles, customer records,
//! conversations, messages with their ratings, and tickets.
//!
//! Every query that takes an id matches on its owner too (the brand; for tickets, the
//! workspace through its brands), so an id of another tenant finds and changes nothing.

use super::PostgresStore;
use crate::records::{
    ConversationRecord, Feedback, MessageRecord, NewMessage, NewTicket, TicketRecord, TicketUpdate,
};
use crate::{Result, now_ms};
use brandpilot_core::{BrandId, ConversationId, MessageId, TicketId, UserId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The columns `conversation_from_row` reads.
macro_rules! conversation_columns {
    () => {
        "id, brand_id, end_user, summary, summarized_through, created_at, updated_at"
    };
}

/// The columns `ticket_from_row` reads.
macro_rules! ticket_columns {
    () => {
        "id, brand_id, conversation_id, message_id, question, reason, status, assignee, \
         created_at, updated_at"
    };
}

/// Messages with their rating, in a conversation that must be the brand's (`c`).
macro_rules! select_messages {
    ($($rest:literal)*) => {
        concat!(
            "SELECT m.id, m.conversation_id, m.role, m.content, m.citations, m.confidence, ",
            "m.escalated, m.trace, m.token_count, m.created_at, f.rating, ",
            "f.comment AS feedback_comment, f.created_at AS feedback_at ",
            "FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id ",
            "LEFT JOIN message_feedback f ON f.message_id = m.id ",
            $($rest),*
        )
    };
}

impl PostgresStore {
    pub async fn put_brand_profile(&self, brand: BrandId, profile_json: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO brand_profiles (brand_id, profile, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (brand_id) DO UPDATE SET
                 profile = excluded.profile, updated_at = excluded.updated_at",
        )
        .bind(brand.0)
        .bind(profile_json)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn brand_profile(&self, brand: BrandId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT profile FROM brand_profiles WHERE brand_id = $1")
            .bind(brand.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("profile")).transpose()?)
    }

    pub async fn put_customer_record(
        &self,
        brand: BrandId,
        customer_id: &str,
        record_json: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO customer_records (brand_id, customer_id, record, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (brand_id, customer_id) DO UPDATE SET
                 record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(brand.0)
        .bind(customer_id)
        .bind(record_json)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn customer_record(
        &self,
        brand: BrandId,
        customer_id: &str,
    ) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT record FROM customer_records WHERE brand_id = $1 AND customer_id = $2",
        )
        .bind(brand.0)
        .bind(customer_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("record")).transpose()?)
    }

    pub async fn delete_customer_record(&self, brand: BrandId, customer_id: &str) -> Result<bool> {
        let result =
            sqlx::query("DELETE FROM customer_records WHERE brand_id = $1 AND customer_id = $2")
                .bind(brand.0)
                .bind(customer_id)
                .execute(&self.pool)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn create_conversation(
        &self,
        brand: BrandId,
        end_user: &str,
    ) -> Result<ConversationRecord> {
        let row = sqlx::query(concat!(
            "INSERT INTO conversations (brand_id, end_user, created_at, updated_at)
             VALUES ($1, $2, $3, $3) RETURNING ",
            conversation_columns!()
        ))
        .bind(brand.0)
        .bind(end_user)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        conversation_from_row(&row)
    }

    pub async fn conversation(
        &self,
        brand: BrandId,
        id: ConversationId,
    ) -> Result<Option<ConversationRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE brand_id = $1 AND id = $2"
        ))
        .bind(brand.0)
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    pub async fn conversations(
        &self,
        brand: BrandId,
        end_user: Option<&str>,
        before: Option<ConversationId>,
        limit: i64,
    ) -> Result<Vec<ConversationRecord>> {
        let before = before.map_or(i64::MAX, |id| id.0);
        // Two statements rather than `($2::text IS NULL OR end_user = $2)`, whose generic
        // plan could not use the end-user index.
        let rows = match end_user {
            Some(end_user) => {
                sqlx::query(concat!(
                    "SELECT ",
                    conversation_columns!(),
                    " FROM conversations WHERE brand_id = $1 AND end_user = $2 AND id < $3
                      ORDER BY id DESC LIMIT $4"
                ))
                .bind(brand.0)
                .bind(end_user)
                .bind(before)
                .bind(limit.max(0))
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    conversation_columns!(),
                    " FROM conversations WHERE brand_id = $1 AND id < $2
                      ORDER BY id DESC LIMIT $3"
                ))
                .bind(brand.0)
                .bind(before)
                .bind(limit.max(0))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(conversation_from_row).collect()
    }

    pub async fn append_message(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        message: &NewMessage,
    ) -> Result<Option<MessageRecord>> {
        let now = now_ms();
        // The update comes first: it finds the conversation only in its brand, and it locks
        // the conversation's row until this transaction ends. Appends to one conversation
        // therefore commit one at a time, and its message ids (drawn at insert time) grow
        // in commit order, as they do on SQLite: `after` and `summarized_through` rely on
        // that.
        let mut tx = self.pool.begin().await?;
        let found =
            sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2 AND brand_id = $3")
                .bind(now)
                .bind(conversation.0)
                .bind(brand.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if found == 0 {
            return Ok(None);
        }
        let confidence = message.confidence.filter(|value| value.is_finite());
        let id: i64 = sqlx::query(
            "INSERT INTO conversation_messages (conversation_id, role, content, citations,
                 confidence, escalated, trace, token_count, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(conversation.0)
        .bind(&message.role)
        .bind(&message.content)
        .bind(&message.citations_json)
        .bind(confidence)
        .bind(message.escalated)
        .bind(message.trace_json.as_deref())
        .bind(message.token_count)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        tx.commit().await?;
        Ok(Some(MessageRecord {
            id: MessageId(id),
            conversation,
            role: message.role.clone(),
            content: message.content.clone(),
            citations_json: message.citations_json.clone(),
            confidence,
            escalated: message.escalated,
            trace_json: message.trace_json.clone(),
            token_count: message.token_count,
            created_at_ms: now,
            feedback: None,
        }))
    }

    pub async fn messages(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(select_messages!(
            "WHERE c.brand_id = $1 AND c.id = $2 AND m.id > $3 ORDER BY m.id LIMIT $4"
        ))
        .bind(brand.0)
        .bind(conversation.0)
        .bind(after.map_or(i64::MIN, |id| id.0))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(message_from_row).collect()
    }

    pub async fn recent_messages(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(select_messages!(
            "WHERE c.brand_id = $1 AND c.id = $2 ORDER BY m.id DESC LIMIT $3"
        ))
        .bind(brand.0)
        .bind(conversation.0)
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().rev().map(message_from_row).collect()
    }

    pub async fn set_conversation_summary(
        &self,
        brand: BrandId,
        conversation: ConversationId,
        summary: &str,
        through: MessageId,
    ) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE conversations SET summary = $1, summarized_through = $2
             WHERE id = $3 AND brand_id = $4 AND summarized_through <= $2
               AND EXISTS (SELECT 1 FROM conversation_messages m
                           WHERE m.id = $2 AND m.conversation_id = conversations.id)",
        )
        .bind(summary)
        .bind(through.0)
        .bind(conversation.0)
        .bind(brand.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn put_feedback(
        &self,
        brand: BrandId,
        message: MessageId,
        rating: &str,
        comment: Option<&str>,
    ) -> Result<bool> {
        // The SELECT admits only an answer (not the end user's own message) in one of the
        // brand's conversations.
        let result = sqlx::query(
            "INSERT INTO message_feedback (message_id, rating, comment, created_at)
             SELECT m.id, $1, $2, $3
             FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.id = $4 AND c.brand_id = $5 AND m.role IN ('assistant', 'agent')
             ON CONFLICT (message_id) DO UPDATE SET
                 rating = excluded.rating, comment = excluded.comment,
                 created_at = excluded.created_at",
        )
        .bind(rating)
        .bind(comment)
        .bind(now_ms())
        .bind(message.0)
        .bind(brand.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn create_ticket(&self, ticket: &NewTicket) -> Result<TicketRecord> {
        // Inserted only when the conversation is the brand's and the message (if any) is
        // the conversation's; otherwise no row comes back and `fetch_one` fails.
        let row = sqlx::query(concat!(
            "INSERT INTO tickets (brand_id, conversation_id, message_id, question, reason,
                                  status, created_at, updated_at)
             SELECT c.brand_id, c.id, $1, $2, $3, 'open', $4, $4
             FROM conversations c
             WHERE c.id = $5 AND c.brand_id = $6
               AND ($1::bigint IS NULL OR EXISTS (SELECT 1 FROM conversation_messages m
                                                  WHERE m.id = $1 AND m.conversation_id = c.id))
             RETURNING ",
            ticket_columns!()
        ))
        .bind(ticket.message.map(|id| id.0))
        .bind(&ticket.question)
        .bind(&ticket.reason)
        .bind(now_ms())
        .bind(ticket.conversation.0)
        .bind(ticket.brand.0)
        .fetch_one(&self.pool)
        .await?;
        ticket_from_row(&row)
    }

    pub async fn tickets(
        &self,
        workspace: WorkspaceId,
        brand: Option<BrandId>,
        status: Option<&str>,
        before: Option<TicketId>,
        limit: i64,
    ) -> Result<Vec<TicketRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets
              WHERE brand_id IN (SELECT id FROM brands WHERE workspace_id = $1)
                AND ($2::bigint IS NULL OR brand_id = $2)
                AND ($3::text IS NULL OR status = $3) AND id < $4
              ORDER BY id DESC LIMIT $5"
        ))
        .bind(workspace.0)
        .bind(brand.map(|brand| brand.0))
        .bind(status)
        .bind(before.map_or(i64::MAX, |id| id.0))
        .bind(limit.max(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ticket_from_row).collect()
    }

    pub async fn ticket(
        &self,
        workspace: WorkspaceId,
        id: TicketId,
    ) -> Result<Option<TicketRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets
              WHERE id = $1 AND brand_id IN (SELECT id FROM brands WHERE workspace_id = $2)"
        ))
        .bind(id.0)
        .bind(workspace.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    pub async fn update_ticket(
        &self,
        workspace: WorkspaceId,
        id: TicketId,
        update: &TicketUpdate,
    ) -> Result<Option<TicketRecord>> {
        // A new assignee must be a member of the ticket's workspace: a user id from
        // elsewhere matches nothing, as a ticket id from elsewhere does.
        let row = sqlx::query(concat!(
            "UPDATE tickets SET status = COALESCE($1, status),
                 assignee = CASE WHEN $2 THEN $3 ELSE assignee END, updated_at = $4
             WHERE id = $5 AND brand_id IN (SELECT id FROM brands WHERE workspace_id = $6)
               AND ($3::bigint IS NULL OR EXISTS (SELECT 1 FROM memberships
                                                  WHERE workspace_id = $6 AND user_id = $3))
             RETURNING ",
            ticket_columns!()
        ))
        .bind(update.status.as_deref())
        .bind(update.assignee.is_some())
        .bind(update.assignee.flatten().map(|user| user.0))
        .bind(now_ms())
        .bind(id.0)
        .bind(workspace.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }

    pub async fn open_ticket_for_conversation(
        &self,
        brand: BrandId,
        conversation: ConversationId,
    ) -> Result<Option<TicketRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            ticket_columns!(),
            " FROM tickets
              WHERE conversation_id = $1 AND brand_id = $2 AND status <> 'resolved'
              ORDER BY id DESC LIMIT 1"
        ))
        .bind(conversation.0)
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ticket_from_row).transpose()
    }
}

fn conversation_from_row(row: &PgRow) -> Result<ConversationRecord> {
    Ok(ConversationRecord {
        id: ConversationId(row.try_get("id")?),
        brand: BrandId(row.try_get("brand_id")?),
        end_user: row.try_get("end_user")?,
        summary: row.try_get("summary")?,
        summarized_through: MessageId(row.try_get("summarized_through")?),
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}

fn message_from_row(row: &PgRow) -> Result<MessageRecord> {
    let rating: Option<String> = row.try_get("rating")?;
    let feedback = match rating {
        Some(rating) => Some(Feedback {
            rating,
            comment: row.try_get("feedback_comment")?,
            created_at_ms: row.try_get("feedback_at")?,
        }),
        None => None,
    };
    Ok(MessageRecord {
        id: MessageId(row.try_get("id")?),
        conversation: ConversationId(row.try_get("conversation_id")?),
        role: row.try_get("role")?,
        content: row.try_get("content")?,
        citations_json: row.try_get("citations")?,
        confidence: row.try_get("confidence")?,
        escalated: row.try_get("escalated")?,
        trace_json: row.try_get("trace")?,
        token_count: row.try_get("token_count")?,
        created_at_ms: row.try_get("created_at")?,
        feedback,
    })
}

fn ticket_from_row(row: &PgRow) -> Result<TicketRecord> {
    let message: Option<i64> = row.try_get("message_id")?;
    let assignee: Option<i64> = row.try_get("assignee")?;
    Ok(TicketRecord {
        id: TicketId(row.try_get("id")?),
        brand: BrandId(row.try_get("brand_id")?),
        conversation: ConversationId(row.try_get("conversation_id")?),
        message: message.map(MessageId),
        question: row.try_get("question")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
        assignee: assignee.map(UserId),
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}
