//! Uploading files into a brand's knowledge base: the files are kept in the store and one
//! ingestion job is queued; the answer is `202` with the job to follow at `/api/v1/jobs/{id}`.
//! Bytes are counted while they stream in, against the per-file and per-request caps; the
//! client's file name is only a title and a format hint (the format is sniffed from the
//! bytes, and any path in the name is dropped).

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::ApiPath;
use crate::routes::jobs::JobView;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use brandpilot_app::Scope;
use brandpilot_core::BrandId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const MAX_TAGS: usize = 20;
const MAX_TAG_CHARS: usize = 64;
const MAX_IDEMPOTENCY_KEY: usize = 200;

/// The form: one or more `file` fields and an optional `tags` field. It only documents
/// the form: the handler reads the fields as they stream in, to count bytes as they come.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// A file to ingest (repeat the field for several): PDF, DOCX, Markdown, HTML, text,
    /// CSV, SRT or WebVTT.
    /// (20 files per request by default: `server.max_upload_files`.)
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1, max_items = 20)]
    pub file: Vec<Vec<u8>>,
    /// Comma-separated tags given to every uploaded source.
    pub tags: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UploadAccepted {
    pub job: JobView,
}

/// Uploads files and queues their ingestion.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/uploads", tag = "sources",
    security(("api_key" = ["sources:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating a request with the same key returns the first job"),
    ),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued; follow the job", body = UploadAccepted),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 402, description = "The month's credits are used up (`credits_exhausted`); see Retry-After", body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn upload(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<UploadAccepted>,
    ),
    ApiError,
> {
    caller.require(Scope::SourcesWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let idempotency_key = idempotency_key(&headers)?;
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the files as multipart/form-data",
        )
    })?;
    let settings = &state.app.settings;
    let max_file = settings.extract.max_file_mb * 1024 * 1024;
    let max_files = settings.server.max_upload_files;
    let mut files = Vec::new();
    let mut tags = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => {
                if files.len() == max_files {
                    // The form's documented limit (`maxItems`), so a validation error.
                    return Err(ApiError::invalid(format!(
                        "at most {max_files} files per request"
                    )));
                }
                let name = field.file_name().unwrap_or("upload").to_owned();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if (bytes.len() + chunk.len()) as u64 > max_file {
                        return Err(too_large(format!(
                            "a file is larger than the {} MB limit",
                            settings.extract.max_file_mb
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                files.push((name, bytes));
            }
            Some("tags") => {
                let text = field.text().await.map_err(multipart_error)?;
                tags = parse_tags(&text)?;
            }
            _ => {}
        }
    }
    if files.is_empty() {
        return Err(ApiError::invalid("the form has no `file` field"));
    }
    let enqueued = state
        .app
        .queue_upload(&brand, files, &tags, idempotency_key)
        .await?;
    accepted(&state, &caller, enqueued).await
}

/// `202 Accepted` with the queued job and where to follow it; this process's workers are
/// woken to take it.
async fn accepted(
    state: &ServerState,
    caller: &Caller,
    enqueued: brandpilot_store::Enqueued,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<UploadAccepted>,
    ),
    ApiError,
> {
    if let Some(jobs) = &state.jobs {
        jobs.notify();
    }
    let job = state.app.job_by_id(caller.workspace, enqueued.id()).await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/jobs/{}", job.id.0))],
        Json(UploadAccepted { job: job.into() }),
    ))
}

fn too_large(message: String) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}

fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large("the upload is larger than the server accepts".into())
    } else {
        ApiError::invalid(format!(
            "the multipart body is malformed: {}",
            error.body_text()
        ))
    }
}

fn parse_tags(text: &str) -> Result<Vec<String>, ApiError> {
    check_tags(text.split(',').map(str::to_owned).collect())
}

/// Tags trimmed, blanks dropped, within the count and length limits.
fn check_tags(tags: Vec<String>) -> Result<Vec<String>, ApiError> {
    let tags: Vec<String> = tags
        .iter()
        .map(|tag| tag.trim())
        .filter(|tag| !tag.is_empty())
        .map(str::to_owned)
        .collect();
    if tags.len() > MAX_TAGS {
        return Err(ApiError::invalid(format!("at most {MAX_TAGS} tags")));
    }
    if tags
        .iter()
        .any(|tag| tag.chars().count() > MAX_TAG_CHARS || tag.chars().any(char::is_control))
    {
        return Err(ApiError::invalid(format!(
            "a tag has at most {MAX_TAG_CHARS} characters and no control characters"
        )));
    }
    Ok(tags)
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .filter(|key| {
            (1..=MAX_IDEMPOTENCY_KEY).contains(&key.len())
                && key.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(|key| Some(key.to_owned()))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "an Idempotency-Key is 1–{MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))
        })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUrlSource {
    /// An http or https page (HTML, PDF, text…). Pages on private, loopback or reserved
    /// networks are refused unless the server's `fetch.allow_networks` opens them.
    #[schema(
        min_length = 1,
        max_length = 2048,
        example = "https://example.com/returns"
    )]
    pub url: String,
    /// Tags given to the source.
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

/// Adds a web page by URL: the server fetches it in a job (within its SSRF policy) and
/// ingests it; adding the same URL again refreshes it.
#[utoipa::path(post, path = "/api/v1/brands/{brand_id}/sources/url", tag = "sources",
    security(("api_key" = ["sources:write"])),
    params(
        ("brand_id" = i64, Path, description = "The brand's id"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "Repeating a request with the same key returns the first job"),
    ),
    request_body = NewUrlSource,
    responses(
        (status = 202, description = "Queued; follow the job", body = UploadAccepted),
        (status = 400, description = "Not a URL the server fetches (`url_refused`)", body = ErrorResponse),
        (status = 401, body = ErrorResponse),
        (status = 402, description = "The month's credits are used up (`credits_exhausted`); see Retry-After", body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn add_url(
    State(state): State<ServerState>,
    caller: Caller,
    ApiPath(brand_id): ApiPath<i64>,
    headers: HeaderMap,
    crate::extract::ApiJson(body): crate::extract::ApiJson<NewUrlSource>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<UploadAccepted>,
    ),
    ApiError,
> {
    caller.require(Scope::SourcesWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let idempotency_key = idempotency_key(&headers)?;
    let tags = check_tags(body.tags.unwrap_or_default())?;
    let enqueued = state
        .app
        .queue_url(&brand, &body.url, &tags, idempotency_key)
        .await?;
    accepted(&state, &caller, enqueued).await
}
