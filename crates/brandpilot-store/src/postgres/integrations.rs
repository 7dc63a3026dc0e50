//! The PostgreSQL side of webhook endpoints and brand widgets.

use super::PostgresStore;
use crate::records::{NewWebhook, WebhookRecord, WidgetRecord};
use crate::{Result, now_ms};
use brandpilot_core::{BrandId, WebhookId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The columns `webhook_from_row` reads.
macro_rules! webhook_columns {
    () => {
        "id, workspace_id, url, secret, events, description, created_at"
    };
}

/// The columns `widget_from_row` reads.
macro_rules! widget_columns {
    () => {
        "brand_id, public_key, allowed_origins, theme, enabled, created_at, updated_at"
    };
}

impl PostgresStore {
    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<WebhookRecord> {
        let row = sqlx::query(concat!(
            "INSERT INTO webhook_endpoints (workspace_id, url, secret, events, description,
                                            created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
            webhook_columns!()
        ))
        .bind(webhook.workspace.0)
        .bind(&webhook.url)
        .bind(&webhook.secret)
        .bind(&webhook.events_json)
        .bind(&webhook.description)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        webhook_from_row(&row)
    }

    pub async fn webhooks(&self, workspace: WorkspaceId) -> Result<Vec<WebhookRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id"
        ))
        .bind(workspace.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(webhook_from_row).collect()
    }

    pub async fn webhook(
        &self,
        workspace: WorkspaceId,
        id: WebhookId,
    ) -> Result<Option<WebhookRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            webhook_columns!(),
            " FROM webhook_endpoints WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id.0)
        .bind(workspace.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(webhook_from_row).transpose()
    }

    pub async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND workspace_id = $2")
            .bind(id.0)
            .bind(workspace.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn put_widget(&self, widget: &WidgetRecord) -> Result<WidgetRecord> {
        let now = now_ms();
        let row = sqlx::query(concat!(
            "INSERT INTO brand_widgets (brand_id, public_key, allowed_origins, theme, enabled,
                                        created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (brand_id) DO UPDATE SET
                 public_key = excluded.public_key, allowed_origins = excluded.allowed_origins,
                 theme = excluded.theme, enabled = excluded.enabled,
                 updated_at = excluded.updated_at
             RETURNING ",
            widget_columns!()
        ))
        .bind(widget.brand.0)
        .bind(&widget.public_key)
        .bind(&widget.allowed_origins_json)
        .bind(&widget.theme_json)
        .bind(widget.enabled)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        widget_from_row(&row)
    }

    pub async fn widget(&self, brand: BrandId) -> Result<Option<WidgetRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            widget_columns!(),
            " FROM brand_widgets WHERE brand_id = $1"
        ))
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(widget_from_row).transpose()
    }

    pub async fn widget_by_key(
        &self,
        public_key: &str,
    ) -> Result<Option<(WidgetRecord, WorkspaceId)>> {
        let row = sqlx::query(
            "SELECT w.brand_id, w.public_key, w.allowed_origins, w.theme, w.enabled,
                    w.created_at, w.updated_at, b.workspace_id
             FROM brand_widgets w JOIN brands b ON b.id = w.brand_id
             WHERE w.public_key = $1",
        )
        .bind(public_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref()
            .map(|row| {
                Ok((
                    widget_from_row(row)?,
                    WorkspaceId(row.try_get("workspace_id")?),
                ))
            })
            .transpose()
    }
}

fn webhook_from_row(row: &PgRow) -> Result<WebhookRecord> {
    Ok(WebhookRecord {
        id: WebhookId(row.try_get("id")?),
        workspace: WorkspaceId(row.try_get("workspace_id")?),
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        events_json: row.try_get("events")?,
        description: row.try_get("description")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

fn widget_from_row(row: &PgRow) -> Result<WidgetRecord> {
    Ok(WidgetRecord {
        brand: BrandId(row.try_get("brand_id")?),
        public_key: row.try_get("public_key")?,
        allowed_origins_json: row.try_get("allowed_origins")?,
        theme_json: row.try_get("theme")?,
        enabled: row.try_get("enabled")?,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}
