//! Sources added by URL: [`Brandpilot::queue_url`] checks the URL (scheme, port, an address
//! host) at once and queues an `ingest_url` job on the long lane; the job fetches the page
//! within the SSRF policy of `brandpilot-fetch` and ingests it with the URL as its origin.

use crate::{AppError, Brandpilot, IngestObserver, IngestReport, Result};
use brandpilot_core::{BrandId, WorkspaceId};
use brandpilot_store::{Brand, Enqueued};
use serde::{Deserialize, Serialize};

/// The job kind of a URL's ingestion.
pub const INGEST_URL: &str = "ingest_url";

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UrlJob {
    pub brand: i64,
    pub url: String,
    pub tags: Vec<String>,
}

impl Brandpilot {
    /// Queues the fetching and ingestion of a page. A URL the server will never fetch
    /// (another scheme, a port not allowed, an internal address) is refused here.
    pub async fn queue_url(
        &self,
        brand: &Brand,
        url: &str,
        tags: &[String],
        idempotency_key: Option<String>,
    ) -> Result<Enqueued> {
        let url = self.fetcher.check(url)?;
        self.check_credits(brand.workspace).await?;
        let payload = UrlJob {
            brand: brand.id.0,
            url: url.to_string(),
            tags: tags.to_vec(),
        };
        self.enqueue_long_job(brand, INGEST_URL, &payload, idempotency_key)
            .await
    }

    /// Fetches the job's page and ingests it.
    pub(crate) async fn run_url_job(
        &self,
        workspace: Option<WorkspaceId>,
        job: &UrlJob,
        observer: &dyn IngestObserver,
    ) -> Result<IngestReport> {
        let workspace = workspace.ok_or_else(|| AppError::InvalidInput("no workspace".into()))?;
        let brand = self.brand_by_id(workspace, BrandId(job.brand)).await?;
        observer.started(1);
        let fetched = self.fetcher.fetch(&job.url).await?;
        let name = page_name(fetched.url.path(), fetched.content_type.as_deref());
        self.ingest_fetched(&brand, &job.url, &name, fetched.bytes, &job.tags, observer)
            .await
    }
}

/// A file name for the page: the last part of its path, or a name whose extension says
/// what the server called it (the format is sniffed from the bytes either way).
fn page_name(path: &str, content_type: Option<&str>) -> String {
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return last.to_owned();
    }
    let extension = match content_type.map(|c| c.split(';').next().unwrap_or("").trim()) {
        Some("application/pdf") => "pdf",
        Some("text/plain") => "txt",
        Some("text/markdown") => "md",
        Some("text/csv") => "csv",
        _ => "html",
    };
    let stem = if last.is_empty() { "page" } else { last };
    format!("{stem}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::page_name;

    #[test]
    fn a_page_is_named_by_its_path_or_its_declared_type() {
        assert_eq!(
            page_name("/guide/returns.pdf", Some("text/html")),
            "returns.pdf"
        );
        assert_eq!(page_name("/", None), "page.html");
        assert_eq!(
            page_name("/pricing", Some("text/html; charset=utf-8")),
            "pricing.html"
        );
        assert_eq!(page_name("/terms", Some("application/pdf")), "terms.pdf");
        assert_eq!(page_name("/notes", Some("text/plain")), "notes.txt");
    }
}
