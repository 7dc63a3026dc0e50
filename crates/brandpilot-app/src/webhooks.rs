//! Webhooks: a workspace names URLs that are told of its events (a ticket opened, or
//! changed: assigned, resolved, reopened), so a help desk or a chat channel hears of a
//! hand-over the moment it happens.
//!
//! Deliveries follow the Standard Webhooks convention, so a receiver can verify them with an
//! existing library: a JSON body `{type, timestamp, data}` POSTed with `webhook-id` (the
//! event's id, the same on every retry: receivers drop duplicates by it),
//! `webhook-timestamp` (Unix seconds of this attempt: receivers refuse stale ones, which
//! stops replays) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 over
//! `"{id}.{timestamp}.{body}"`, keyed with the endpoint's secret, the base64 after
//! `whsec_`). Each delivery is a job on the fast lane: it survives a restart, and a
//! receiver that is down or answers outside 2xx is tried again with growing backoff until
//! `webhooks.max_attempts`. The URL goes through the same address checks as any fetch, so
//! a webhook cannot make the server call into its own network.

use crate::accounts::{AuditEvent, RequestOrigin};
use crate::{Actor, AppError, Brandpilot, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use brandpilot_core::{Fault, FaultKind, WebhookId, WorkspaceId};
use brandpilot_jobs::JobFailure;
use brandpilot_store::{ClaimedJob, JobLane, NewJob, NewWebhook, TicketRecord, WebhookRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The job kind of one delivery.
pub const DELIVER: &str = "webhook.deliver";

/// The events a webhook may subscribe to.
pub const EVENT_TYPES: [&str; 2] = [TICKET_OPENED, TICKET_UPDATED];
pub const TICKET_OPENED: &str = "ticket.opened";
/// A ticket's status or assignee changed.
pub const TICKET_UPDATED: &str = "ticket.updated";

const SECRET_PREFIX: &str = "whsec_";
/// Endpoints one workspace may have.
const MAX_WEBHOOKS: usize = 20;

/// A webhook as its owners see it (the secret only when it is made).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub created_at_ms: i64,
}

impl WebhookView {
    fn from_record(record: &WebhookRecord) -> Self {
        Self {
            id: record.id,
            url: record.url.clone(),
            events: serde_json::from_str(&record.events_json).unwrap_or_default(),
            description: record.description.clone(),
            created_at_ms: record.created_at_ms,
        }
    }
}

/// A webhook to add: where, which events, and a note for people.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    pub description: &'a str,
}

/// What a delivery job carries: the event as it was when it happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Delivery {
    webhook: i64,
    event_id: String,
    #[serde(rename = "type")]
    event_type: String,
    /// When the event happened, Unix milliseconds.
    happened_at_ms: i64,
    data: serde_json::Value,
}

impl Brandpilot {
    /// Adds a webhook to the workspace; its view and its signing secret, which is shown
    /// this once.
    pub async fn create_webhook(
        &self,
        workspace: WorkspaceId,
        request: &WebhookRequest<'_>,
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<(WebhookView, String)> {
        let WebhookRequest {
            url,
            events,
            description,
        } = *request;
        let url = self.fetcher.check(url)?.to_string();
        if events.is_empty() {
            return Err(AppError::InvalidInput(format!(
                "name at least one event of {EVENT_TYPES:?}"
            )));
        }
        if let Some(unknown) = events.iter().find(|e| !EVENT_TYPES.contains(&e.as_str())) {
            return Err(AppError::InvalidInput(format!(
                "{unknown:?} is not an event; the events are {EVENT_TYPES:?}"
            )));
        }
        let description = description.trim();
        if description.chars().count() > 200 || description.chars().any(char::is_control) {
            return Err(AppError::InvalidInput(
                "a description is at most 200 characters, without control characters".into(),
            ));
        }
        if self.store.webhooks(workspace).await?.len() >= MAX_WEBHOOKS {
            return Err(AppError::InvalidInput(format!(
                "a workspace has at most {MAX_WEBHOOKS} webhooks; delete one first"
            )));
        }
        let mut events = events.to_vec();
        events.sort();
        events.dedup();
        let secret = format!(
            "{SECRET_PREFIX}{}",
            BASE64.encode(crate::accounts::random_bytes::<32>()?)
        );
        let record = self
            .store
            .create_webhook(&NewWebhook {
                workspace,
                url,
                secret: secret.clone(),
                events_json: serde_json::to_string(&events).unwrap_or_else(|_| "[]".into()),
                description: description.to_owned(),
            })
            .await?;
        let event = AuditEvent {
            workspace: Some(workspace),
            actor,
            action: "webhook.create",
            target: Some(format!("webhook:{}", record.id.0)),
            detail: json!({ "url": record.url, "events": events }),
        };
        crate::accounts::record(&self.store, &event, origin).await;
        Ok((WebhookView::from_record(&record), secret))
    }

    pub async fn webhooks(&self, workspace: WorkspaceId) -> Result<Vec<WebhookView>> {
        let records = self.store.webhooks(workspace).await?;
        Ok(records.iter().map(WebhookView::from_record).collect())
    }

    /// Removes a webhook; deliveries still queued for it are dropped when they run.
    pub async fn delete_webhook(
        &self,
        workspace: WorkspaceId,
        id: WebhookId,
        actor: &Actor,
        origin: &RequestOrigin,
    ) -> Result<()> {
        if !self.store.delete_webhook(workspace, id).await? {
            return Err(AppError::WebhookNotFound(id.0));
        }
        let event = AuditEvent {
            workspace: Some(workspace),
            actor,
            action: "webhook.delete",
            target: Some(format!("webhook:{}", id.0)),
            detail: json!({}),
        };
        crate::accounts::record(&self.store, &event, origin).await;
        Ok(())
    }

    /// Queues a delivery of a ticket event to each of the workspace's webhooks that
    /// subscribes to it. A failure to queue is logged, never the caller's failure: the
    /// ticket exists either way and is in the queue of `GET /tickets`.
    pub(crate) async fn announce_ticket(
        &self,
        workspace: WorkspaceId,
        event_type: &str,
        ticket: &TicketRecord,
    ) {
        if let Err(error) = self
            .try_announce_ticket(workspace, event_type, ticket)
            .await
        {
            tracing::warn!(%error, ticket = ticket.id.0, event_type, "cannot queue webhook deliveries");
        }
    }

    async fn try_announce_ticket(
        &self,
        workspace: WorkspaceId,
        event_type: &str,
        ticket: &TicketRecord,
    ) -> Result<()> {
        let webhooks = self.store.webhooks(workspace).await?;
        let subscribed: Vec<_> = webhooks
            .iter()
            .filter(|w| {
                WebhookView::from_record(w)
                    .events
                    .iter()
                    .any(|e| e == event_type)
            })
            .collect();
        if subscribed.is_empty() {
            return Ok(());
        }
        let brand = self.store.get_brand(workspace, ticket.brand).await?;
        let data = json!({
            "ticket": {
                "id": ticket.id,
                "brand_id": ticket.brand,
                "brand": brand.map(|b| b.name),
                "conversation_id": ticket.conversation,
                "message_id": ticket.message,
                "question": ticket.question,
                "reason": ticket.reason,
                "status": ticket.status,
                "assignee_id": ticket.assignee,
                "created_at_ms": ticket.created_at_ms,
                "updated_at_ms": ticket.updated_at_ms,
            }
        });
        let event_id = format!(
            "evt_{}",
            hex::encode(crate::accounts::random_bytes::<16>()?)
        );
        let happened_at_ms = crate::llm_calls::now_ms();
        for webhook in subscribed {
            let delivery = Delivery {
                webhook: webhook.id.0,
                event_id: event_id.clone(),
                event_type: event_type.to_owned(),
                happened_at_ms,
                data: data.clone(),
            };
            let job = NewJob {
                workspace: Some(workspace),
                lane: JobLane::Fast,
                kind: DELIVER.into(),
                payload: serde_json::to_value(&delivery)
                    .map_err(|e| AppError::Task(e.to_string()))?,
                idempotency_key: Some(format!("webhook:{}:{event_id}", webhook.id.0)),
                max_attempts: self.settings.webhooks.max_attempts.max(1),
                run_at_ms: happened_at_ms,
            };
            self.store.enqueue_job(&job).await?;
        }
        Ok(())
    }
}

/// Runs one delivery job: signs the event and posts it.
pub(crate) async fn deliver(
    app: &Brandpilot,
    job: ClaimedJob,
) -> std::result::Result<serde_json::Value, JobFailure> {
    let malformed = |message: String| JobFailure {
        message,
        fault: FaultKind::User,
    };
    let delivery: Delivery = serde_json::from_value(job.payload)
        .map_err(|error| malformed(format!("the delivery is malformed: {error}")))?;
    let workspace = job
        .workspace
        .ok_or_else(|| malformed("a delivery belongs to a workspace".into()))?;
    let webhook = app
        .store
        .webhook(workspace, WebhookId(delivery.webhook))
        .await
        .map_err(|error| JobFailure {
            message: "the webhook could not be read; it will be retried".into(),
            fault: AppError::from(error).fault(),
        })?;
    let Some(webhook) = webhook else {
        return Ok(json!({ "skipped": "the webhook was deleted" }));
    };
    let body = serde_json::to_vec(&json!({
        "type": delivery.event_type,
        "timestamp": rfc3339_ms(delivery.happened_at_ms),
        "data": delivery.data,
    }))
    .map_err(|error| malformed(error.to_string()))?;
    let timestamp = crate::llm_calls::now_ms() / 1000;
    let signature = sign(&webhook.secret, &delivery.event_id, timestamp, &body)
        .ok_or_else(|| malformed("the webhook's secret is not valid base64".into()))?;
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("webhook-id", delivery.event_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ];
    match app.fetcher.post(&webhook.url, &headers, body).await {
        Ok(status) => Ok(json!({ "webhook_id": webhook.id, "status": status })),
        Err(error) => Err(JobFailure {
            message: format!("the webhook at {} failed: {error}", webhook.url),
            // Any answer outside 2xx may be a receiver being deployed; only what the
            // address checks refuse can never work.
            fault: match error {
                brandpilot_fetch::FetchError::Status(_)
                | brandpilot_fetch::FetchError::Timeout
                | brandpilot_fetch::FetchError::Unreachable(_)
                | brandpilot_fetch::FetchError::Unresolvable => FaultKind::Transient,
                _ => FaultKind::User,
            },
        }),
    }
}

/// The `webhook-signature` header: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
/// keyed with the secret's bytes. `None` for a secret that is not `whsec_` + base64.
pub fn sign(secret: &str, event_id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = BASE64.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(event_id.as_bytes());
    context.update(b".");
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    Some(format!("v1,{}", BASE64.encode(context.sign().as_ref())))
}

/// `2026-11-24T09:30:00.123Z` for Unix milliseconds (UTC, proleptic Gregorian).
fn rfc3339_ms(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1_000 % 60,
        ms_of_day % 1_000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_rfc3339_with_milliseconds() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a century leap year) 12:34:56.789.
        assert_eq!(rfc3339_ms(951_827_696_789), "2000-02-29T12:34:56.789Z");
        // 2026-11-24 00:00:00 is 20,781 days after the epoch.
        assert_eq!(rfc3339_ms(20_781 * 86_400_000), "2026-11-24T00:00:00.000Z");
        assert_eq!(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification (a fact of the protocol):
        // this secret, id, timestamp and body sign to this value.
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert_eq!(sign("not-a-secret", "id", 1, b"{}"), None);
        assert_eq!(sign("whsec_***", "id", 1, b"{}"), None);
    }
}
