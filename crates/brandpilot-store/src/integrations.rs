//! The parts of [`Store`] that connect a workspace to the outside: webhook endpoints told
//! of its events, and each brand's website widget (its public key, allowed origins, look).
//!
//! Every operation takes the scope that owns the row (the workspace of a webhook, the brand
//! of a widget) and both backends match on it in SQL, so another tenant's id finds and
//! changes nothing. The one lookup without a scope, a widget by its public key, is how an
//! anonymous web page names its brand; the caller checks the page's origin against what it
//! returns. This module only dispatches; it must never hold SQL.

use crate::records::{NewWebhook, WebhookRecord, WidgetRecord};
use crate::{Result, Store};
use brandpilot_core::{BrandId, WebhookId, WorkspaceId};

impl Store {
    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<WebhookRecord> {
        dispatch!(self, s => s.create_webhook(webhook).await)
    }

    /// The workspace's webhook endpoints, oldest first.
    pub async fn webhooks(&self, workspace: WorkspaceId) -> Result<Vec<WebhookRecord>> {
        dispatch!(self, s => s.webhooks(workspace).await)
    }

    pub async fn webhook(
        &self,
        workspace: WorkspaceId,
        id: WebhookId,
    ) -> Result<Option<WebhookRecord>> {
        dispatch!(self, s => s.webhook(workspace, id).await)
    }

    /// Whether a webhook of the workspace was deleted.
    pub async fn delete_webhook(&self, workspace: WorkspaceId, id: WebhookId) -> Result<bool> {
        dispatch!(self, s => s.delete_webhook(workspace, id).await)
    }

    /// Creates or replaces the brand's widget; the widget as stored.
    pub async fn put_widget(&self, widget: &WidgetRecord) -> Result<WidgetRecord> {
        dispatch!(self, s => s.put_widget(widget).await)
    }

    pub async fn widget(&self, brand: BrandId) -> Result<Option<WidgetRecord>> {
        dispatch!(self, s => s.widget(brand).await)
    }

    /// The widget a web page names by its public key, whichever brand it is, with the
    /// brand's workspace.
    pub async fn widget_by_key(
        &self,
        public_key: &str,
    ) -> Result<Option<(WidgetRecord, WorkspaceId)>> {
        dispatch!(self, s => s.widget_by_key(public_key).await)
    }
}
