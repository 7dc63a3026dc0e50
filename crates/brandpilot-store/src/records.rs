//! Rows as the rest of the code sees them: plain data, no database types.

use brandpilot_core::{
    BrandId, ChunkId, ChunkLocator, ContentHash, ConversationId, FaultKind, JobId, MessageId,
    SourceId, SourceKind, SourceStatus, TicketId, UserId, WebhookId, WorkspaceId,
};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub id: BrandId,
    pub workspace: WorkspaceId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    pub id: SourceId,
    pub brand: BrandId,
    pub kind: SourceKind,
    pub origin: String,
    pub title: String,
    pub tags: Vec<String>,
    /// Set only when the source's chunks are stored and current.
    pub content_hash: Option<ContentHash>,
    pub byte_size: u64,
    pub status: SourceStatus,
    pub error: Option<String>,
    pub chunk_count: u64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// What is known of a source before it is extracted.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub kind: SourceKind,
    pub origin: String,
    pub title: String,
    pub tags: Vec<String>,
    pub byte_size: u64,
}

/// What extraction learned, stored together with the chunks.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub kind: SourceKind,
    pub title: String,
    pub tags: Vec<String>,
    pub content_hash: ContentHash,
    pub byte_size: u64,
}

/// One source's complete new state: its row and all its chunks, written together.
#[derive(Debug, Clone)]
pub struct SourceWrite {
    pub source: NewSource,
    pub update: SourceUpdate,
    pub chunks: Vec<NewChunk>,
}

#[derive(Debug, Clone)]
pub struct NewChunk {
    pub text: String,
    pub token_count: u32,
    pub content_hash: ContentHash,
    pub locator: ChunkLocator,
}

/// What writing one source stored: its id and its chunks' ids, in the chunks' order. A
/// source written twice in one call keeps only its last version; the earlier ones get no
/// chunk ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenSource {
    pub id: SourceId,
    pub chunks: Vec<ChunkId>,
}

/// A chunk with what the search indexes need about it.
#[derive(Debug, Clone)]
pub struct ChunkForIndex {
    pub id: ChunkId,
    pub brand: BrandId,
    pub source: SourceId,
    pub source_title: String,
    pub tags: Vec<String>,
    pub heading_path: Vec<String>,
    pub text: String,
    pub content_hash: ContentHash,
    /// The cached embedding for the requested model, if there is one.
    pub vector: Option<Vec<f32>>,
}

/// A chunk with its source, as a search result is built from it.
#[derive(Debug, Clone)]
pub struct StoredChunk {
    pub id: ChunkId,
    pub source: SourceId,
    pub source_title: String,
    pub source_origin: String,
    pub source_kind: SourceKind,
    pub ordinal: u32,
    pub text: String,
    pub token_count: u32,
    pub locator: ChunkLocator,
}

/// The newest chunk id and deletion sequence number: what an index must have applied to be
/// current.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IndexHighMarks {
    pub last_chunk: ChunkId,
    pub last_deletion: i64,
}

#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: JobId,
    pub workspace: Option<WorkspaceId>,
    pub lane: JobLane,
    pub kind: String,
    pub status: JobStatus,
    pub payload: Value,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at_ms: i64,
    pub progress_done: u64,
    pub progress_total: u64,
    /// The last failure's user-safe message.
    pub error: Option<String>,
    pub result: Option<Value>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    /// Failed in a way retrying cannot fix (the input's fault).
    Failed,
    /// Failed on every attempt it was allowed.
    Dead,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Dead,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    /// Whether the job will not run again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Dead | JobStatus::Cancelled
        )
    }
}

/// The two queues: quick work, and work that may take minutes (ingestion); each has its own
/// workers so a long job never delays a quick one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobLane {
    Fast,
    Long,
    /// Studio's batch items: writing with a model, so few at a time, and never in the way of
    /// ingestion on the long lane.
    Generate,
}

impl JobLane {
    pub fn as_str(self) -> &'static str {
        match self {
            JobLane::Fast => "fast",
            JobLane::Long => "long",
            JobLane::Generate => "generate",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "fast" => Some(JobLane::Fast),
            "long" => Some(JobLane::Long),
            "generate" => Some(JobLane::Generate),
            _ => None,
        }
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub workspace: Option<WorkspaceId>,
    pub lane: JobLane,
    pub kind: String,
    pub payload: Value,
    /// A second job with the same workspace, kind and key is not queued: the first one is
    /// returned instead.
    pub idempotency_key: Option<String>,
    pub max_attempts: u32,
    pub run_at_ms: i64,
}

/// What queueing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    New(JobId),
    /// A job with the same idempotency key already existed.
    Existing(JobId),
}

impl Enqueued {
    pub fn id(self) -> JobId {
        match self {
            Enqueued::New(id) | Enqueued::Existing(id) => id,
        }
    }
}

/// A job a worker now holds. `attempt` fences every later write: it only takes effect while
/// the job is still this worker's attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: JobId,
    pub workspace: Option<WorkspaceId>,
    pub kind: String,
    pub payload: Value,
    pub attempt: u32,
    pub max_attempts: u32,
}

/// One execution of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRun {
    pub attempt: u32,
    pub worker: String,
    pub outcome: Option<String>,
    pub error: Option<String>,
}

/// How an LLM call ended, as stored in `llm_calls.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LlmCallOutcome {
    /// An answer was delivered whole.
    Success,
    /// No answer at all.
    Failed,
    /// A stream broke after part of the answer was delivered.
    Interrupted,
    /// The caller stopped reading the stream before its end.
    Cancelled,
}

impl LlmCallOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            LlmCallOutcome::Success => "success",
            LlmCallOutcome::Failed => "failed",
            LlmCallOutcome::Interrupted => "interrupted",
            LlmCallOutcome::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for LlmCallOutcome {
    type Err = brandpilot_core::UnknownVariant;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "success" => Ok(LlmCallOutcome::Success),
            "failed" => Ok(LlmCallOutcome::Failed),
            "interrupted" => Ok(LlmCallOutcome::Interrupted),
            "cancelled" => Ok(LlmCallOutcome::Cancelled),
            other => Err(brandpilot_core::UnknownVariant {
                what: "LLM call outcome",
                value: other.to_owned(),
            }),
        }
    }
}

/// One routed LLM call to record. The store's own type, so that the store does not depend on
/// the LLM crate; the app maps the router's call records onto it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLlmCall {
    pub workspace: WorkspaceId,
    /// The brand the call was made for. A brand that is not in `workspace` (or no longer
    /// exists) is recorded as none: a row never points into another workspace.
    pub brand: Option<BrandId>,
    pub route: String,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub tokens_estimated: bool,
    pub cost_usd: Option<f64>,
    pub latency_ms: u64,
    pub outcome: LlmCallOutcome,
    /// Whose fault the failure was; `None` for a success or a cancellation.
    pub fault: Option<FaultKind>,
    pub fallback_depth: u32,
    pub retries: u32,
    pub streamed: bool,
    pub created_at_ms: i64,
}

/// A recorded LLM call read back, with its row id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLlmCall {
    pub id: i64,
    pub call: NewLlmCall,
}

/// A dimension a usage report is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsageGroup {
    /// The UTC calendar day of the call.
    Day,
    Model,
    Route,
    Brand,
    Provider,
}

/// Which of a workspace's LLM calls a usage report covers and how it breaks them down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageQuery {
    /// Calls made at or after this time (Unix ms); `None`: from the start.
    pub since_ms: Option<i64>,
    /// Calls made before this time (Unix ms); `None`: up to now.
    pub until_ms: Option<i64>,
    /// The dimensions to group by, in any order; empty gives one total row (or none when
    /// there were no calls).
    pub group_by: Vec<UsageGroup>,
    /// Only the calls made for this brand.
    pub brand: Option<BrandId>,
}

/// One group of a usage report. A key field is `None` when the report is not grouped by it;
/// when grouped by brand, `brand: None` is the calls made for no brand (workspace-level calls
/// and those of brands since deleted).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    /// Start of the UTC day (Unix ms).
    pub day_ms: Option<i64>,
    pub model: Option<String>,
    pub route: Option<String>,
    pub brand: Option<BrandId>,
    pub provider: Option<String>,
    pub calls: u64,
    /// Calls that did not deliver a whole answer (failed or interrupted; not cancelled).
    pub failed: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Sum over the calls whose model has a price.
    pub cost_usd: f64,
    /// Calls whose model had no price, so `cost_usd` leaves them out.
    pub unpriced_calls: u64,
}

/// Who a cached answer belongs to: a workspace, and a brand in it or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheScope {
    pub workspace: WorkspaceId,
    pub brand: Option<BrandId>,
}

/// An answer to keep in the LLM answer cache.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCacheEntry {
    pub scope: CacheScope,
    pub route: String,
    /// Identifies the exact request.
    pub key_hash: ContentHash,
    /// Identifies everything in the request but its last user message.
    pub context_hash: ContentHash,
    /// The last user message's embedding, if it was embedded.
    pub embedding: Option<Vec<f32>>,
    /// The answer, as JSON the app reads back.
    pub response: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A cached answer read back.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntry {
    pub id: i64,
    pub response: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// An API key to store: the caller has already drawn the secret and hashed it.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub workspace: WorkspaceId,
    pub name: String,
    pub prefix: String,
    pub secret_hash: [u8; 32],
    pub scopes: Vec<String>,
}

/// A stored API key (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: i64,
    pub workspace: WorkspaceId,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// A file uploaded for ingestion, read back by the job that ingests it.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub id: i64,
    pub filename: String,
    pub sha256: [u8; 32],
    pub bytes: Vec<u8>,
}

/// Jobs waiting or running in one lane, for monitoring.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    pub lane: JobLane,
    pub queued: u64,
    pub running: u64,
    /// When the longest-waiting due job became due (ms), if any is waiting.
    pub oldest_due_ms: Option<i64>,
}

/// A person who signs in (never their password hash; see [`UserCredentials`]).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub created_at_ms: i64,
}

/// A user with the password hash a login checks against.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// A new account with its personal workspace, where it is the owner.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub workspace_name: String,
}

/// A workspace as operators see it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceRecord {
    pub id: WorkspaceId,
    pub name: String,
    /// The plan's name in `billing.plans`; `None` for the server's default.
    pub plan: Option<String>,
}

/// One workspace a user belongs to, with their role there (`owner`, `editor`, `viewer`).
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub workspace: WorkspaceId,
    pub workspace_name: String,
    pub role: String,
    pub created_at_ms: i64,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq)]
pub enum RefreshRotation {
    /// The token was live: it is now spent and `new_hash` is the family's live token.
    Rotated { user: UserId, family: i64 },
    /// The token had already been spent: somebody replayed it, so the whole family is now
    /// revoked (a stolen token and the legitimate client both lose the session).
    Reused { user: UserId, family: i64 },
    /// Expired, or its family was revoked (logout, an earlier reuse).
    Ended,
    /// No such token.
    Unknown,
}

/// An entry for the audit trail.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewAuditEntry {
    pub workspace: Option<WorkspaceId>,
    /// `user:<id>`, `key:<prefix>`, `cli` or `anonymous`.
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// A JSON object with whatever else matters (never a secret).
    pub detail: serde_json::Value,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
    pub created_at_ms: i64,
}

/// A member of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user: User,
    pub role: String,
    pub joined_at_ms: i64,
}

/// What a guarded change to a membership did.
#[derive(Debug, Clone, PartialEq)]
pub enum MembershipChange {
    Done,
    /// No such member in the workspace.
    NotMember,
    /// Refused: the workspace would be left without an owner.
    LastOwner,
}

/// An invitation to store.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub workspace: WorkspaceId,
    pub email: String,
    pub role: String,
    pub token_hash: [u8; 32],
    pub invited_by: Option<UserId>,
    pub expires_at_ms: i64,
}

/// A stored invitation (never its token).
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub id: i64,
    pub workspace: WorkspaceId,
    pub email: String,
    pub role: String,
    pub invited_by: Option<UserId>,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// What presenting an invitation token did.
#[derive(Debug, Clone, PartialEq)]
pub enum InvitationAcceptance {
    /// The person is now a member (or already was, keeping their role).
    Joined {
        workspace: WorkspaceId,
        role: String,
    },
    /// The invitation is for another email address.
    WrongEmail,
    /// Accepted before, revoked or expired.
    Ended,
    Unknown,
}

/// A conversation between a brand's assistant and one end user.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRecord {
    pub id: ConversationId,
    pub brand: BrandId,
    /// The end user's id as the brand's site gave it (not one of our users).
    pub end_user: String,
    /// The earlier part of the conversation, folded into prose; empty until the first fold.
    pub summary: String,
    /// The last message `summary` covers; `MessageId(0)` when there is no summary yet.
    pub summarized_through: MessageId,
    pub created_at_ms: i64,
    /// When the last message was added (the creation time until then).
    pub updated_at_ms: i64,
}

/// A message to add to a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// `user`, `assistant` or `agent` (a person answering after a hand-over).
    pub role: String,
    pub content: String,
    /// A JSON array of the passages the answer cites (`[]` for none).
    pub citations_json: String,
    /// How sure the assistant was, when it scored its answer. A value that is not finite is
    /// stored as none.
    pub confidence: Option<f64>,
    /// Whether the answer handed the conversation over to a person.
    pub escalated: bool,
    /// A JSON object tracing how the answer was made, when kept.
    pub trace_json: Option<String>,
    pub token_count: i64,
}

/// A stored message, with the end user's rating of it if any.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub role: String,
    pub content: String,
    pub citations_json: String,
    pub confidence: Option<f64>,
    pub escalated: bool,
    pub trace_json: Option<String>,
    pub token_count: i64,
    pub created_at_ms: i64,
    pub feedback: Option<Feedback>,
}

/// An end user's rating of an answer: `up` or `down`, with an optional comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub rating: String,
    pub comment: Option<String>,
    pub created_at_ms: i64,
}

/// A hand-over to a person, raised in a conversation of the brand (at one of its messages,
/// when given).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub brand: BrandId,
    pub conversation: ConversationId,
    pub message: Option<MessageId>,
    pub question: String,
    pub reason: String,
}

/// A stored ticket. `message` becomes none if that message is deleted; `assignee` if that
/// user is.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub id: TicketId,
    pub brand: BrandId,
    pub conversation: ConversationId,
    pub message: Option<MessageId>,
    pub question: String,
    pub reason: String,
    /// `open`, `assigned` or `resolved`.
    pub status: String,
    pub assignee: Option<UserId>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A change to a ticket: each field that is `Some` is set (`assignee: Some(None)`
/// unassigns), the others keep their value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TicketUpdate {
    pub status: Option<String>,
    pub assignee: Option<Option<UserId>>,
}

/// A webhook endpoint to add to a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub workspace: WorkspaceId,
    pub url: String,
    pub secret: String,
    /// The event types it is sent, as a JSON array.
    pub events_json: String,
    pub description: String,
}

/// A stored webhook endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub workspace: WorkspaceId,
    pub url: String,
    pub secret: String,
    pub events_json: String,
    pub description: String,
    pub created_at_ms: i64,
}

/// A brand's website widget as stored. `allowed_origins_json` is a JSON array of web
/// origins, `theme_json` a JSON document of how it looks.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetRecord {
    pub brand: BrandId,
    pub public_key: String,
    pub allowed_origins_json: String,
    pub theme_json: String,
    pub enabled: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}
