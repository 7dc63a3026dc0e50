//! Persistence for Brandpilot: workspaces, brands, sources, chunks, cached embeddings, jobs,
//! LLM call records, the LLM answer cache, and the assistant's conversations and tickets
//! (their [`Store`] methods are in `assistant.rs`).
//!
//! [`Store`] is the one type the rest of the code sees. It dispatches to a backend module —
//! [`sqlite`] (the embedded default) or [`postgres`] (a server shared by replicas), each with
//! its own migrations — so callers never know which database they talk to. Each backend
//! keeps its SQL to itself: no SQL leaves this crate, and no backend shares SQL text with
//! another (their dialects differ in the places that matter: upserts, sequences, locking).
//! Both behave the same through [`Store`], errors included: the crate's tests run every
//! case on each (`brandpilot_testkit::backend_tests!`).
//!
//! The store is the source of truth. Search indexes are derived from it and catch up through
//! [`Store::index_high_marks`], [`Store::chunks_after`] and [`Store::deletions_after`]. That
//! needs chunk ids to grow in commit order: SQLite has one writer at a time, and PostgreSQL's
//! chunk writers and deleters serialise on one advisory lock (see [`postgres`]).

mod error;
mod group_write;
mod migrations;
pub mod postgres;
mod records;
pub mod sqlite;

pub use error::{Result, StoreError};
pub use records::{
    ApiKeyRecord, AuditEntry, Brand, CacheEntry, CacheScope, ChunkForIndex, ClaimedJob,
    ConversationRecord, Enqueued, Feedback, IndexHighMarks, Invitation, InvitationAcceptance,
    JobLane, JobRecord, JobRun, JobStatus, LlmCallOutcome, Member, Membership, MembershipChange,
    MessageRecord, NewApiKey, NewAuditEntry, NewCacheEntry, NewChunk, NewInvitation, NewJob,
    NewLlmCall, NewMessage, NewSource, NewTicket, NewUser, NewWebhook, QueueStats, RefreshRotation,
    SourceRecord, SourceUpdate, SourceWrite, StoredChunk, StoredLlmCall, TicketRecord,
    TicketUpdate, Upload, UsageGroup, UsageQuery, UsageRow, User, UserCredentials, WebhookRecord,
    WidgetRecord, WorkspaceRecord, WrittenSource,
};

use brandpilot_core::{BrandId, ChunkId, ContentHash, JobId, SourceId, UserId, WorkspaceId};
use std::collections::HashMap;

/// A handle on the database. Cheap to clone; safe to share between tasks.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PostgresStore),
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Sqlite($store) => $call,
            Store::Postgres($store) => $call,
        }
    };
}

// Declared after `dispatch!`, which it uses (a `macro_rules!` macro is visible only below
// its definition).
mod assistant;
mod batches;
mod examples;
mod generations;
mod integrations;
mod reviews;
mod studio;

pub use batches::{BatchItemRecord, BatchRecord, NewBatch};
pub use examples::{
    ExampleFilter, ExampleRecord, ExampleTotals, ExampleUpdate, NewExample, VoiceRecord,
};
pub use generations::{GenerationRecord, NewGeneration, NewVariant, VariantRecord};
pub use reviews::{
    FeedbackRecord, NewFeedback, PerformanceRecord, ReviewEvent, ReviewMove, VariantActivity,
    VariantEdit, VariantVersion,
};
pub use studio::{ArmCounts, ExperimentEvent, ExperimentRecord, NewExperiment};

impl Store {
    /// Opens the database named by `url` and runs its migrations. `postgres://…` or
    /// `postgresql://…` select PostgreSQL (a pool of up to 16 connections; the database
    /// must exist); `sqlite://path`, `sqlite:path` or a bare path select SQLite, creating
    /// the file if needed.
    pub async fn open(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::Postgres(postgres::PostgresStore::open(url).await?));
        }
        Ok(Store::Sqlite(sqlite::SqliteStore::open(url).await?))
    }

    pub async fn ensure_workspace(&self, name: &str) -> Result<WorkspaceId> {
        dispatch!(self, s => s.ensure_workspace(name).await)
    }

    pub async fn ensure_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Brand> {
        dispatch!(self, s => s.ensure_brand(workspace, name).await)
    }

    pub async fn find_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Option<Brand>> {
        dispatch!(self, s => s.find_brand(workspace, name).await)
    }

    /// Writes a consistent copy of the database to `path` (a new file) while the store
    /// stays in use. SQLite only: a PostgreSQL deployment backs up with its own tools.
    pub async fn snapshot_into(&self, path: &std::path::Path) -> Result<()> {
        dispatch!(self, s => s.snapshot_into(path).await)
    }

    /// One round trip to the database: readiness probes.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, s => s.ping().await)
    }

    pub async fn find_workspace(&self, name: &str) -> Result<Option<WorkspaceId>> {
        dispatch!(self, s => s.find_workspace(name).await)
    }

    /// Every workspace with its plan, oldest first (for operators).
    pub async fn list_workspaces(&self) -> Result<Vec<WorkspaceRecord>> {
        dispatch!(self, s => s.list_workspaces().await)
    }

    /// The plan the workspace is on; `None` for the server's default (or no such workspace).
    pub async fn workspace_plan(&self, workspace: WorkspaceId) -> Result<Option<String>> {
        dispatch!(self, s => s.workspace_plan(workspace).await)
    }

    /// Puts the workspace on `plan` (`None`: back to the server's default); false when
    /// there is no such workspace.
    pub async fn set_workspace_plan(
        &self,
        workspace: WorkspaceId,
        plan: Option<&str>,
    ) -> Result<bool> {
        dispatch!(self, s => s.set_workspace_plan(workspace, plan).await)
    }

    /// Creates a brand; [`StoreError::Conflict`] when the workspace already has one by
    /// that name.
    pub async fn create_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Brand> {
        dispatch!(self, s => s.create_brand(workspace, name).await)
    }

    /// The brand with this id, only if it belongs to `workspace`: the lookup every request
    /// from outside goes through, so another workspace's brand ids simply do not exist.
    pub async fn get_brand(&self, workspace: WorkspaceId, brand: BrandId) -> Result<Option<Brand>> {
        dispatch!(self, s => s.get_brand(workspace, brand).await)
    }

    /// Stores a new API key; [`StoreError::Conflict`] if its prefix or hash is taken.
    pub async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord> {
        dispatch!(self, s => s.insert_api_key(key).await)
    }

    /// The key whose secret hashes to `secret_hash`, revoked or not.
    pub async fn api_key_by_hash(&self, secret_hash: &[u8; 32]) -> Result<Option<ApiKeyRecord>> {
        dispatch!(self, s => s.api_key_by_hash(secret_hash).await)
    }

    pub async fn list_api_keys(&self, workspace: WorkspaceId) -> Result<Vec<ApiKeyRecord>> {
        dispatch!(self, s => s.list_api_keys(workspace).await)
    }

    /// Revokes a key of this workspace; false when there is no such live key.
    pub async fn revoke_api_key(&self, workspace: WorkspaceId, key: i64) -> Result<bool> {
        dispatch!(self, s => s.revoke_api_key(workspace, key).await)
    }

    /// Creates a user with a personal workspace they own, in one transaction.
    /// [`StoreError::Conflict`] names the constraint when the email or the workspace name
    /// is taken.
    pub async fn create_user(&self, user: &NewUser) -> Result<(User, WorkspaceId)> {
        dispatch!(self, s => s.create_user(user).await)
    }

    /// The user with this (normalised) email, with their password hash.
    pub async fn user_credentials(&self, email: &str) -> Result<Option<UserCredentials>> {
        dispatch!(self, s => s.user_credentials(email).await)
    }

    pub async fn get_user(&self, user: UserId) -> Result<Option<User>> {
        dispatch!(self, s => s.get_user(user).await)
    }

    /// The workspaces a user belongs to, oldest membership first (their personal one).
    pub async fn memberships(&self, user: UserId) -> Result<Vec<Membership>> {
        dispatch!(self, s => s.memberships(user).await)
    }

    /// The user's role in the workspace; `None` when they are not a member.
    pub async fn membership_role(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<Option<String>> {
        dispatch!(self, s => s.membership_role(workspace, user).await)
    }

    /// Makes the user a member of the workspace with `role`, or changes their role.
    pub async fn put_membership(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: &str,
    ) -> Result<()> {
        dispatch!(self, s => s.put_membership(workspace, user, role).await)
    }

    /// Creates a workspace owned by `owner`, in one transaction; [`StoreError::Conflict`]
    /// when the name is taken.
    pub async fn create_owned_workspace(&self, name: &str, owner: UserId) -> Result<WorkspaceId> {
        dispatch!(self, s => s.create_owned_workspace(name, owner).await)
    }

    /// A workspace's members, oldest first.
    pub async fn list_members(&self, workspace: WorkspaceId) -> Result<Vec<Member>> {
        dispatch!(self, s => s.list_members(workspace).await)
    }

    /// Changes a member's role, unless that would leave the workspace without an owner.
    pub async fn change_member_role(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: &str,
    ) -> Result<MembershipChange> {
        dispatch!(self, s => s.change_member_role(workspace, user, role).await)
    }

    /// Removes a member, unless they are the workspace's last owner.
    pub async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> Result<MembershipChange> {
        dispatch!(self, s => s.remove_member(workspace, user).await)
    }

    pub async fn create_invitation(&self, invitation: &NewInvitation) -> Result<Invitation> {
        dispatch!(self, s => s.create_invitation(invitation).await)
    }

    /// Invitations neither accepted, revoked nor expired at `now_ms`.
    pub async fn pending_invitations(
        &self,
        workspace: WorkspaceId,
        now_ms: i64,
    ) -> Result<Vec<Invitation>> {
        dispatch!(self, s => s.pending_invitations(workspace, now_ms).await)
    }

    /// Revokes a pending invitation of this workspace; false when there is none.
    pub async fn revoke_invitation(&self, workspace: WorkspaceId, id: i64) -> Result<bool> {
        dispatch!(self, s => s.revoke_invitation(workspace, id).await)
    }

    /// Spends an invitation for `user` (whose account has `email`), in one transaction.
    pub async fn accept_invitation(
        &self,
        token_hash: &[u8; 32],
        user: UserId,
        email: &str,
        now_ms: i64,
    ) -> Result<InvitationAcceptance> {
        dispatch!(self, s => s.accept_invitation(token_hash, user, email, now_ms).await)
    }

    /// Starts a sign-in session whose first refresh token hashes to `token_hash`.
    pub async fn start_refresh_family(
        &self,
        user: UserId,
        token_hash: &[u8; 32],
        expires_at_ms: i64,
    ) -> Result<i64> {
        dispatch!(self, s => s.start_refresh_family(user, token_hash, expires_at_ms).await)
    }

    /// Spends a refresh token and issues `new_hash` in its family, in one transaction; a
    /// token spent before revokes its family (see [`RefreshRotation`]).
    pub async fn rotate_refresh_token(
        &self,
        presented_hash: &[u8; 32],
        new_hash: &[u8; 32],
        now_ms: i64,
        new_expires_at_ms: i64,
    ) -> Result<RefreshRotation> {
        dispatch!(self, s => s.rotate_refresh_token(presented_hash, new_hash, now_ms, new_expires_at_ms).await)
    }

    /// Revokes the family of this refresh token (logout); the user when it was live.
    pub async fn revoke_refresh_family(&self, token_hash: &[u8; 32]) -> Result<Option<UserId>> {
        dispatch!(self, s => s.revoke_refresh_family(token_hash).await)
    }

    /// The secret stored under `name`; `candidate` becomes it when there is none yet (the
    /// first replica to ask wins, and every other one gets the same value).
    pub async fn server_secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>> {
        dispatch!(self, s => s.server_secret(name, candidate).await)
    }

    /// Appends to the audit trail, the only write it accepts.
    pub async fn append_audit(&self, entry: &NewAuditEntry) -> Result<i64> {
        dispatch!(self, s => s.append_audit(entry).await)
    }

    /// A workspace's audit entries, newest first, older than `before_id` when given.
    pub async fn list_audit(
        &self,
        workspace: WorkspaceId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        dispatch!(self, s => s.list_audit(workspace, before_id, limit).await)
    }

    pub async fn list_brands(&self, workspace: WorkspaceId) -> Result<Vec<Brand>> {
        dispatch!(self, s => s.list_brands(workspace).await)
    }

    /// Deletes a brand with its sources, chunks and cached answers; its LLM call records
    /// stay with the workspace, without a brand. Returns false when the workspace has no
    /// such brand.
    pub async fn delete_brand(&self, workspace: WorkspaceId, brand: BrandId) -> Result<bool> {
        dispatch!(self, s => s.delete_brand(workspace, brand).await)
    }

    pub async fn find_source(&self, brand: BrandId, origin: &str) -> Result<Option<SourceRecord>> {
        dispatch!(self, s => s.find_source(brand, origin).await)
    }

    pub async fn get_source(&self, brand: BrandId, id: SourceId) -> Result<Option<SourceRecord>> {
        dispatch!(self, s => s.get_source(brand, id).await)
    }

    /// Creates the source, or marks the existing one with this origin as being processed.
    /// Its content hash is cleared until [`Store::replace_chunks`] succeeds.
    pub async fn begin_source(&self, brand: BrandId, source: &NewSource) -> Result<SourceId> {
        dispatch!(self, s => s.begin_source(brand, source).await)
    }

    /// Replaces all chunks of a source and marks it ready, in one transaction.
    pub async fn replace_chunks(
        &self,
        source: SourceId,
        update: &SourceUpdate,
        chunks: &[NewChunk],
    ) -> Result<Vec<ChunkId>> {
        dispatch!(self, s => s.replace_chunks(source, update, chunks).await)
    }

    /// The brand's sources among `origins`, by origin, in one query.
    pub async fn find_sources(
        &self,
        brand: BrandId,
        origins: &[String],
    ) -> Result<HashMap<String, SourceRecord>> {
        dispatch!(self, s => s.find_sources(brand, origins).await)
    }

    /// Creates or replaces many sources with all their chunks, marking each ready, in one
    /// transaction: a crash leaves every one of them either as it was or fully replaced.
    /// Returns each source's id, in order.
    pub async fn write_sources(
        &self,
        brand: BrandId,
        writes: &[SourceWrite],
    ) -> Result<Vec<WrittenSource>> {
        dispatch!(self, s => s.write_sources(brand, writes).await)
    }

    /// Records why a source failed. Chunks from an earlier successful ingestion are kept.
    pub async fn mark_source_failed(&self, source: SourceId, error: &str) -> Result<()> {
        dispatch!(self, s => s.mark_source_failed(source, error).await)
    }

    pub async fn list_sources(&self, brand: BrandId) -> Result<Vec<SourceRecord>> {
        dispatch!(self, s => s.list_sources(brand).await)
    }

    /// Deletes a source and its chunks. Returns false when the brand has no such source.
    pub async fn delete_source(&self, brand: BrandId, id: SourceId) -> Result<bool> {
        dispatch!(self, s => s.delete_source(brand, id).await)
    }

    pub async fn cached_embeddings(
        &self,
        model: &str,
        hashes: &[ContentHash],
    ) -> Result<HashMap<ContentHash, Vec<f32>>> {
        dispatch!(self, s => s.cached_embeddings(model, hashes).await)
    }

    pub async fn put_embeddings(
        &self,
        model: &str,
        rows: &[(ContentHash, Vec<f32>)],
    ) -> Result<()> {
        dispatch!(self, s => s.put_embeddings(model, rows).await)
    }

    /// Content hashes of chunks that have no embedding for `model` yet, at most `limit`.
    pub async fn chunk_hashes_missing_embedding(
        &self,
        model: &str,
        limit: u32,
    ) -> Result<Vec<(ContentHash, String)>> {
        dispatch!(self, s => s.chunk_hashes_missing_embedding(model, limit).await)
    }

    pub async fn index_high_marks(&self) -> Result<IndexHighMarks> {
        dispatch!(self, s => s.index_high_marks().await)
    }

    /// Chunks with `after < id <= up_to`, in id order, at most `limit`, with the vector of
    /// `model` when one is cached.
    pub async fn chunks_after(
        &self,
        after: ChunkId,
        up_to: ChunkId,
        model: &str,
        limit: u32,
    ) -> Result<Vec<ChunkForIndex>> {
        dispatch!(self, s => s.chunks_after(after, up_to, model, limit).await)
    }

    /// Deleted chunk ids with `after < seq <= up_to`, in order.
    pub async fn deletions_after(&self, after: i64, up_to: i64) -> Result<Vec<ChunkId>> {
        dispatch!(self, s => s.deletions_after(after, up_to).await)
    }

    /// The chunks among `ids` that belong to `brand`, with their source, in no set order.
    /// Ids of other brands are silently absent: this is the last guard against a leak.
    pub async fn chunks_by_ids(&self, brand: BrandId, ids: &[ChunkId]) -> Result<Vec<StoredChunk>> {
        dispatch!(self, s => s.chunks_by_ids(brand, ids).await)
    }

    pub async fn count_chunks(&self) -> Result<u64> {
        dispatch!(self, s => s.count_chunks().await)
    }

    /// Records a job this process runs itself (the command line's ingestion): `running`
    /// from the start, without a lease, so no worker or reaper touches it.
    pub async fn create_job(
        &self,
        workspace: WorkspaceId,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<JobId> {
        dispatch!(self, s => s.create_job(workspace, kind, payload).await)
    }

    /// Progress and status of a job this process runs itself.
    pub async fn update_job(
        &self,
        job: JobId,
        status: JobStatus,
        done: u64,
        total: u64,
        error: Option<&str>,
    ) -> Result<()> {
        dispatch!(self, s => s.update_job(job, status, done, total, error).await)
    }

    pub async fn get_job(&self, job: JobId) -> Result<Option<JobRecord>> {
        dispatch!(self, s => s.get_job(job).await)
    }

    /// Queues a job, or finds the job already queued under its idempotency key.
    pub async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued> {
        dispatch!(self, s => s.enqueue_job(job).await)
    }

    /// Claims up to `limit` due jobs of `lane` for `worker`, oldest due first, each leased
    /// until `now_ms + lease_ms`. Two workers never claim the same job.
    pub async fn claim_jobs(
        &self,
        lane: JobLane,
        worker: &str,
        limit: u32,
        lease_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<ClaimedJob>> {
        dispatch!(self, s => s.claim_jobs(lane, worker, limit, lease_ms, now_ms).await)
    }

    /// Extends a claimed job's lease and records its progress; false when the claim is no
    /// longer this attempt's (the lease expired and the job moved on): stop working on it.
    pub async fn heartbeat_job(
        &self,
        job: JobId,
        attempt: u32,
        lease_until_ms: i64,
        progress: Option<(u64, u64)>,
    ) -> Result<bool> {
        dispatch!(self, s => s.heartbeat_job(job, attempt, lease_until_ms, progress).await)
    }

    /// Marks a claimed job succeeded; false (and nothing written) when the claim is stale.
    pub async fn complete_job(
        &self,
        job: JobId,
        attempt: u32,
        result: &serde_json::Value,
        now_ms: i64,
    ) -> Result<bool> {
        dispatch!(self, s => s.complete_job(job, attempt, result, now_ms).await)
    }

    /// Records a claimed job's failure: with `retry_at_ms` it is queued again for then (or
    /// `dead` when its attempts are used up); without, it is `failed` for good. Returns the
    /// status the job was left in (`Queued`, `Dead` or `Failed`); `None` when the claim is
    /// stale and nothing was written.
    pub async fn fail_job(
        &self,
        job: JobId,
        attempt: u32,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<Option<JobStatus>> {
        dispatch!(self, s => s.fail_job(job, attempt, error, retry_at_ms, now_ms).await)
    }

    /// Gives a claimed job back untried (graceful shutdown): queued at once, the attempt not
    /// counted.
    pub async fn release_job(&self, job: JobId, attempt: u32, now_ms: i64) -> Result<bool> {
        dispatch!(self, s => s.release_job(job, attempt, now_ms).await)
    }

    /// Returns the jobs of `lane` whose lease expired before `now_ms` (their worker died)
    /// to the queue, due at `retry_at_ms`, or marks them dead when their attempts are used
    /// up. Returns how many were reaped.
    pub async fn reap_expired_jobs(
        &self,
        lane: JobLane,
        now_ms: i64,
        retry_at_ms: i64,
    ) -> Result<u64> {
        dispatch!(self, s => s.reap_expired_jobs(lane, now_ms, retry_at_ms).await)
    }

    /// Keeps an uploaded file for the brand until its ingestion job ends.
    pub async fn put_upload(
        &self,
        brand: BrandId,
        filename: &str,
        sha256: &[u8; 32],
        bytes: &[u8],
    ) -> Result<i64> {
        dispatch!(self, s => s.put_upload(brand, filename, sha256, bytes).await)
    }

    /// The brand's uploads with these ids (others' ids are not found).
    pub async fn uploads(&self, brand: BrandId, ids: &[i64]) -> Result<Vec<Upload>> {
        dispatch!(self, s => s.uploads(brand, ids).await)
    }

    pub async fn delete_uploads(&self, ids: &[i64]) -> Result<u64> {
        dispatch!(self, s => s.delete_uploads(ids).await)
    }

    /// Deletes uploads stored before `before_ms`: bytes a finished job normally drops
    /// itself, left behind when a job died with its worker or a server stopped between
    /// storing them and queueing their job.
    pub async fn delete_uploads_before(&self, before_ms: i64) -> Result<u64> {
        dispatch!(self, s => s.delete_uploads_before(before_ms).await)
    }

    /// Per lane: jobs waiting and running, and how long the oldest due one has waited.
    pub async fn queue_stats(&self, now_ms: i64) -> Result<Vec<QueueStats>> {
        dispatch!(self, s => s.queue_stats(now_ms).await)
    }

    /// The executions of a job, in order.
    pub async fn job_runs(&self, job: JobId) -> Result<Vec<JobRun>> {
        dispatch!(self, s => s.job_runs(job).await)
    }

    /// Records LLM calls in one transaction. A call whose workspace does not exist is
    /// skipped; a brand outside the call's workspace is recorded as none. Returns the number
    /// of rows written.
    pub async fn record_llm_calls(&self, calls: &[NewLlmCall]) -> Result<u64> {
        dispatch!(self, s => s.record_llm_calls(calls).await)
    }

    /// The workspace's most recent LLM calls, newest first, at most `limit`.
    pub async fn list_llm_calls(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> Result<Vec<StoredLlmCall>> {
        dispatch!(self, s => s.list_llm_calls(workspace, limit).await)
    }

    /// The workspace's LLM calls in the query's window, summed per group, ordered by the
    /// group keys. Never includes another workspace's calls.
    pub async fn llm_usage(
        &self,
        workspace: WorkspaceId,
        query: &UsageQuery,
    ) -> Result<Vec<UsageRow>> {
        dispatch!(self, s => s.llm_usage(workspace, query).await)
    }

    /// The cached answer to exactly this request (by `key_hash`) in this scope and route,
    /// unless it expired at `now_ms`.
    pub async fn llm_cache_get(
        &self,
        scope: CacheScope,
        route: &str,
        key_hash: &ContentHash,
        now_ms: i64,
    ) -> Result<Option<CacheEntry>> {
        dispatch!(self, s => s.llm_cache_get(scope, route, key_hash, now_ms).await)
    }

    /// A cached answer by id, only if it belongs to `scope` and has not expired.
    pub async fn llm_cache_entry(
        &self,
        scope: CacheScope,
        id: i64,
        now_ms: i64,
    ) -> Result<Option<CacheEntry>> {
        dispatch!(self, s => s.llm_cache_entry(scope, id, now_ms).await)
    }

    /// Candidates for a similar question: the ids and question embeddings of at most `limit`
    /// live entries of this scope and route with the same context hash, newest first.
    pub async fn llm_cache_similar(
        &self,
        scope: CacheScope,
        route: &str,
        context_hash: &ContentHash,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Vec<f32>)>> {
        dispatch!(self, s => s.llm_cache_similar(scope, route, context_hash, now_ms, limit).await)
    }

    /// Stores an answer, replacing the one for the same request in the same scope and route.
    /// Returns false (and stores nothing) when the scope's workspace does not exist or its
    /// brand is not in that workspace.
    pub async fn llm_cache_put(&self, entry: &NewCacheEntry) -> Result<bool> {
        dispatch!(self, s => s.llm_cache_put(entry).await)
    }

    /// Deletes every entry expired at `now_ms` (in all scopes) and, in this scope and route,
    /// all but the `max_entries` newest. Returns how many entries went.
    pub async fn llm_cache_evict(
        &self,
        scope: CacheScope,
        route: &str,
        max_entries: u32,
        now_ms: i64,
    ) -> Result<u64> {
        dispatch!(self, s => s.llm_cache_evict(scope, route, max_entries, now_ms).await)
    }

    /// Closes every connection (on SQLite after checkpointing the write-ahead log).
    pub async fn close(&self) {
        dispatch!(self, s => s.close().await)
    }
}

/// Milliseconds since the Unix epoch, as stored in every `*_at` column.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Vectors are stored as little-endian f32 bytes.
pub(crate) fn vector_to_bytes(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn vector_from_bytes(bytes: &[u8]) -> Result<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return Err(StoreError::Corrupt(format!(
            "vector blob of {} bytes",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}
