//! The PostgreSQL backend: a server shared by every replica of Brandpilot.
//!
//! The same operations as [`crate::sqlite`], in PostgreSQL's own SQL: `$n` parameters,
//! lists bound as arrays (`= ANY($1)`, `UNNEST`) so no SQL text is ever built from data,
//! `ON CONFLICT` upserts, identities for ids. Migrations live in `migrations/postgres/` and
//! never name a schema: tables go to the first schema of the connection's `search_path`,
//! which is how each test gets a database of its own.
//!
//! **Architecture Invariant: chunk ids grow in commit order.** The search indexes replay
//! "every chunk id above my watermark" (see [`crate::Store::index_high_marks`]). PostgreSQL
//! hands identities out at insert time, not at commit: transaction A takes id 100, B takes
//! 101 and commits first, an index syncs to 101, then A commits and chunk 100 is never
//! indexed. So every transaction that inserts or deletes chunks — directly, or through a
//! cascade from its source, brand or workspace — takes `CHUNK_WRITERS` as its first
//! statement (see `lock_chunk_writers`). One writer at a time, as in SQLite, and ids (and
//! deletion sequence numbers) are handed out in the order their transactions commit.
//! Readers never take the lock. A new operation that deletes a brand or workspace must take
//! it too; without it, the test in `tests/store/postgres.rs` sees an index go wrong.
//!
//! Elsewhere, where SQLite's one writer made a read-then-write safe, this backend locks
//! what it reads: job claims take their rows `FOR UPDATE SKIP LOCKED`, and membership
//! changes that could remove the last owner lock the workspace row first.

use crate::group_write::LastVersions;
use crate::migrations::{MigrationFile, migrator_up_to};
use crate::records::*;
use crate::{Result, StoreError, now_ms, vector_from_bytes};
use brandpilot_core::{
    BrandId, ChunkId, ChunkLocator, ContentHash, SourceId, SourceKind, SourceStatus,
};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions, PgRow};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

mod access;
mod accounts;
mod assistant;
mod batches;
mod embeddings;
mod examples;
#[macro_use]
mod generations;
mod integrations;
mod jobs;
mod llm;
mod members;
mod reviews;
mod studio;

/// The schema's migrations in order, embedded at compile time (see [`crate::migrations`]).
/// Same numbers and meaning as SQLite's, in PostgreSQL's own text.
pub(crate) const MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "knowledge",
        include_str!("../migrations/postgres/0001_knowledge.sql"),
    ),
    (
        2,
        "llm",
        include_str!("../migrations/postgres/0002_llm.sql"),
    ),
    (
        3,
        "api_keys",
        include_str!("../migrations/postgres/0003_api_keys.sql"),
    ),
    (
        4,
        "job_queue",
        include_str!("../migrations/postgres/0004_job_queue.sql"),
    ),
    (
        5,
        "uploads",
        include_str!("../migrations/postgres/0005_uploads.sql"),
    ),
    (
        6,
        "accounts",
        include_str!("../migrations/postgres/0006_accounts.sql"),
    ),
    (
        7,
        "invitations",
        include_str!("../migrations/postgres/0007_invitations.sql"),
    ),
    (
        8,
        "assistant",
        include_str!("../migrations/postgres/0008_assistant.sql"),
    ),
    (
        9,
        "webhooks",
        include_str!("../migrations/postgres/0009_webhooks.sql"),
    ),
    (
        10,
        "widgets",
        include_str!("../migrations/postgres/0010_widgets.sql"),
    ),
    (
        11,
        "studio",
        include_str!("../migrations/postgres/0011_studio.sql"),
    ),
    (
        12,
        "generations",
        include_str!("../migrations/postgres/0012_generations.sql"),
    ),
    (
        13,
        "variant_reviews",
        include_str!("../migrations/postgres/0013_variant_reviews.sql"),
    ),
    (
        14,
        "studio_batches",
        include_str!("../migrations/postgres/0014_studio_batches.sql"),
    ),
    (
        15,
        "generate_lane",
        include_str!("../migrations/postgres/0015_generate_lane.sql"),
    ),
    (
        16,
        "studio_examples",
        include_str!("../migrations/postgres/0016_studio_examples.sql"),
    ),
    (
        17,
        "workspace_plans",
        include_str!("../migrations/postgres/0017_workspace_plans.sql"),
    ),
];

/// Connections per process. A server's request handlers, job workers and index sync share
/// them; PostgreSQL's own default limit is 100 connections for all replicas together.
const MAX_CONNECTIONS: u32 = 16;

/// The advisory lock every chunk writer and deleter holds until it commits (the module's
/// invariant). One constant for the whole database: writers of different brands serialise
/// too, because the indexes share one watermark. (The digits spell "BPCHUNKS" on a phone.)
pub(crate) const CHUNK_WRITERS: i64 = 27_248_657;

/// Takes [`CHUNK_WRITERS`] for the rest of the transaction. Must be the transaction's first
/// statement: an identity drawn before the lock could commit after a later writer's.
pub(crate) async fn lock_chunk_writers(connection: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHUNK_WRITERS)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// The columns `source_from_row` reads, as a literal so that queries stay `&'static str`.
macro_rules! select_sources {
    ($($rest:literal)*) => {
        concat!(
            "SELECT id, brand_id, kind, origin, title, tags, content_hash, byte_size, status, ",
            "error, chunk_count, created_at, updated_at FROM sources ",
            $($rest),*
        )
    };
}

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database `url` names (`postgres://` or `postgresql://`, with sqlx's
    /// parameters, e.g. `?options[search_path]=tenant`) and runs the migrations. sqlx's
    /// migrator holds an advisory lock while it runs, so replicas starting together apply
    /// each migration once.
    pub async fn open(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await?;
        migrator_up_to(MIGRATIONS, i64::MAX).run(&pool).await?;
        Ok(Self { pool })
    }

    /// A PostgreSQL deployment backs up with its own tools (`pg_dump`, base backups): the
    /// file snapshot is SQLite's.
    pub async fn snapshot_into(&self, _path: &Path) -> Result<()> {
        Err(StoreError::UnsupportedUrl(
            "snapshots are for SQLite stores; back PostgreSQL up with pg_dump".into(),
        ))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn find_source(&self, brand: BrandId, origin: &str) -> Result<Option<SourceRecord>> {
        let row = sqlx::query(select_sources!("WHERE brand_id = $1 AND origin = $2"))
            .bind(brand.0)
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(source_from_row).transpose()
    }

    pub async fn find_sources(
        &self,
        brand: BrandId,
        origins: &[String],
    ) -> Result<HashMap<String, SourceRecord>> {
        let mut found = HashMap::new();
        for batch in origins.chunks(ROWS_PER_STATEMENT) {
            let rows = sqlx::query(select_sources!("WHERE brand_id = $1 AND origin = ANY($2)"))
                .bind(brand.0)
                .bind(batch)
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                let record = source_from_row(row)?;
                found.insert(record.origin.clone(), record);
            }
        }
        Ok(found)
    }

    pub async fn write_sources(
        &self,
        brand: BrandId,
        writes: &[SourceWrite],
    ) -> Result<Vec<WrittenSource>> {
        let mut tx = self.pool.begin().await?;
        // Inserts and deletes chunks: first the lock that keeps ids in commit order.
        lock_chunk_writers(&mut tx).await?;
        let ids = upsert_ready_sources(&mut tx, brand.0, writes).await?;
        let sources: Vec<(i64, &[NewChunk])> = ids
            .iter()
            .zip(writes)
            .map(|(id, write)| (id.0, write.chunks.as_slice()))
            .collect();
        let chunks = replace_source_chunks(&mut tx, brand.0, &sources).await?;
        tx.commit().await?;
        Ok(ids
            .into_iter()
            .zip(chunks)
            .map(|(id, chunks)| WrittenSource { id, chunks })
            .collect())
    }

    pub async fn get_source(&self, brand: BrandId, id: SourceId) -> Result<Option<SourceRecord>> {
        let row = sqlx::query(select_sources!("WHERE brand_id = $1 AND id = $2"))
            .bind(brand.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(source_from_row).transpose()
    }

    pub async fn begin_source(&self, brand: BrandId, source: &NewSource) -> Result<SourceId> {
        let row = sqlx::query(
            "INSERT INTO sources (brand_id, kind, origin, title, tags, byte_size, status,
                                  created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'processing', $7, $7)
             ON CONFLICT (brand_id, origin) DO UPDATE SET
                 status = 'processing', content_hash = NULL, error = NULL,
                 byte_size = excluded.byte_size, updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(brand.0)
        .bind(source.kind.as_str())
        .bind(&source.origin)
        .bind(&source.title)
        .bind(tags_json(&source.tags))
        .bind(source.byte_size as i64)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(SourceId(row.try_get("id")?))
    }

    pub async fn replace_chunks(
        &self,
        source: SourceId,
        update: &SourceUpdate,
        chunks: &[NewChunk],
    ) -> Result<Vec<ChunkId>> {
        let mut tx = self.pool.begin().await?;
        // Inserts and deletes chunks: first the lock that keeps ids in commit order.
        lock_chunk_writers(&mut tx).await?;
        let brand: i64 = sqlx::query("SELECT brand_id FROM sources WHERE id = $1")
            .bind(source.0)
            .fetch_one(&mut *tx)
            .await?
            .try_get("brand_id")?;
        let ids = replace_source_chunks(&mut tx, brand, &[(source.0, chunks)])
            .await?
            .concat();
        sqlx::query(
            "UPDATE sources SET kind = $1, title = $2, tags = $3, content_hash = $4,
                    byte_size = $5, status = 'ready', error = NULL, chunk_count = $6,
                    updated_at = $7
             WHERE id = $8",
        )
        .bind(update.kind.as_str())
        .bind(&update.title)
        .bind(tags_json(&update.tags))
        .bind(&update.content_hash.0[..])
        .bind(update.byte_size as i64)
        .bind(chunks.len() as i64)
        .bind(now_ms())
        .bind(source.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn mark_source_failed(&self, source: SourceId, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE sources SET status = 'failed', error = $1, content_hash = NULL,
                    updated_at = $2
             WHERE id = $3",
        )
        .bind(error)
        .bind(now_ms())
        .bind(source.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_sources(&self, brand: BrandId) -> Result<Vec<SourceRecord>> {
        // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
        let rows = sqlx::query(select_sources!(
            "WHERE brand_id = $1 ORDER BY origin COLLATE \"C\""
        ))
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(source_from_row).collect()
    }

    pub async fn delete_source(&self, brand: BrandId, id: SourceId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // The cascade deletes chunks and draws deletion sequence numbers: lock first.
        lock_chunk_writers(&mut tx).await?;
        let result = sqlx::query("DELETE FROM sources WHERE brand_id = $1 AND id = $2")
            .bind(brand.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn index_high_marks(&self) -> Result<IndexHighMarks> {
        // The highest chunk id ever committed is in `chunks` or, once deleted, in the
        // deletion log (which is never pruned), so the mark does not go backwards when the
        // newest chunks are deleted. One statement, one snapshot: because chunk writers
        // commit in id order (the module's invariant), every id at or below the mark that
        // will ever be visible already is.
        let row = sqlx::query(
            "SELECT GREATEST((SELECT max(id) FROM chunks),
                             (SELECT max(chunk_id) FROM chunk_deletions), 0) AS last_chunk,
                    COALESCE((SELECT max(seq) FROM chunk_deletions), 0) AS last_deletion",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(IndexHighMarks {
            last_chunk: ChunkId(row.try_get("last_chunk")?),
            last_deletion: row.try_get("last_deletion")?,
        })
    }

    pub async fn chunks_after(
        &self,
        after: ChunkId,
        up_to: ChunkId,
        model: &str,
        limit: u32,
    ) -> Result<Vec<ChunkForIndex>> {
        let rows = sqlx::query(
            "SELECT c.id, c.brand_id, c.source_id, c.text, c.content_hash, c.locator,
                    s.title, s.tags, e.vector
             FROM chunks c
             JOIN sources s ON s.id = c.source_id
             LEFT JOIN embeddings e ON e.model = $1 AND e.content_hash = c.content_hash
             WHERE c.id > $2 AND c.id <= $3
             ORDER BY c.id LIMIT $4",
        )
        .bind(model)
        .bind(after.0)
        .bind(up_to.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let locator = locator_from_row(row)?;
                let vector = row
                    .try_get::<Option<&[u8]>, _>("vector")?
                    .map(vector_from_bytes)
                    .transpose()?;
                Ok(ChunkForIndex {
                    id: ChunkId(row.try_get("id")?),
                    brand: BrandId(row.try_get("brand_id")?),
                    source: SourceId(row.try_get("source_id")?),
                    source_title: row.try_get("title")?,
                    tags: tags_from_row(row)?,
                    heading_path: locator.heading_path,
                    text: row.try_get("text")?,
                    content_hash: hash_from_row(row, "content_hash")?,
                    vector,
                })
            })
            .collect()
    }

    pub async fn deletions_after(&self, after: i64, up_to: i64) -> Result<Vec<ChunkId>> {
        let rows = sqlx::query(
            "SELECT chunk_id FROM chunk_deletions WHERE seq > $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(after)
        .bind(up_to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(ChunkId(row.try_get("chunk_id")?)))
            .collect()
    }

    pub async fn chunks_by_ids(&self, brand: BrandId, ids: &[ChunkId]) -> Result<Vec<StoredChunk>> {
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query(
            "SELECT c.id, c.source_id, c.ordinal, c.text, c.token_count, c.locator,
                    s.title, s.origin, s.kind
             FROM chunks c JOIN sources s ON s.id = c.source_id
             WHERE c.brand_id = $1 AND c.id = ANY($2)",
        )
        .bind(brand.0)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredChunk {
                    id: ChunkId(row.try_get("id")?),
                    source: SourceId(row.try_get("source_id")?),
                    source_title: row.try_get("title")?,
                    source_origin: row.try_get("origin")?,
                    source_kind: parse_column(row, "kind")?,
                    ordinal: row.try_get::<i64, _>("ordinal")? as u32,
                    text: row.try_get("text")?,
                    token_count: row.try_get::<i64, _>("token_count")? as u32,
                    locator: locator_from_row(row)?,
                })
            })
            .collect()
    }

    pub async fn count_chunks(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM chunks")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }
}

fn source_from_row(row: &PgRow) -> Result<SourceRecord> {
    let hash = row
        .try_get::<Option<&[u8]>, _>("content_hash")?
        .map(|bytes| {
            ContentHash::from_slice(bytes)
                .ok_or_else(|| StoreError::Corrupt("source content hash length".into()))
        })
        .transpose()?;
    Ok(SourceRecord {
        id: SourceId(row.try_get("id")?),
        brand: BrandId(row.try_get("brand_id")?),
        kind: parse_column::<SourceKind>(row, "kind")?,
        origin: row.try_get("origin")?,
        title: row.try_get("title")?,
        tags: tags_from_row(row)?,
        content_hash: hash,
        byte_size: row.try_get::<i64, _>("byte_size")? as u64,
        status: parse_column::<SourceStatus>(row, "status")?,
        error: row.try_get("error")?,
        chunk_count: row.try_get::<i64, _>("chunk_count")? as u64,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}

fn parse_column<T: FromStr<Err = brandpilot_core::UnknownVariant>>(
    row: &PgRow,
    column: &str,
) -> Result<T> {
    let text: &str = row.try_get(column)?;
    text.parse()
        .map_err(|e: brandpilot_core::UnknownVariant| StoreError::Corrupt(e.to_string()))
}

pub(super) fn hash_from_row(row: &PgRow, column: &str) -> Result<ContentHash> {
    ContentHash::from_slice(row.try_get::<&[u8], _>(column)?)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} is not 32 bytes")))
}

/// A JSON column, selected as text (`column::text AS column`), parsed.
pub(super) fn json_from_row(row: &PgRow, column: &str) -> Result<serde_json::Value> {
    let text: &str = row.try_get(column)?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn locator_from_row(row: &PgRow) -> Result<ChunkLocator> {
    let text: &str = row.try_get("locator")?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("chunk locator: {e}")))
}

fn tags_from_row(row: &PgRow) -> Result<Vec<String>> {
    let text: &str = row.try_get("tags")?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("source tags: {e}")))
}

fn tags_json(tags: &[String]) -> String {
    let mut sorted = tags.to_vec();
    sorted.sort();
    sorted.dedup();
    serde_json::Value::from(sorted).to_string()
}

/// Rows written by one multi-row statement. Each column travels as one array parameter, so
/// the limit is only there to keep a statement's message to a few megabytes.
pub(super) const ROWS_PER_STATEMENT: usize = 1_000;

/// Upserts sources as ready, returning their ids in the order given. An origin named twice
/// keeps its last version, as writing them one after another would.
async fn upsert_ready_sources(
    connection: &mut PgConnection,
    brand: i64,
    writes: &[SourceWrite],
) -> Result<Vec<SourceId>> {
    let now = now_ms();
    let mut by_origin: HashMap<String, SourceId> = HashMap::with_capacity(writes.len());
    let mut latest: HashMap<&str, &SourceWrite> = HashMap::with_capacity(writes.len());
    for write in writes {
        latest.insert(write.source.origin.as_str(), write);
    }
    // The last version of each origin, in the order of first appearance (an upsert cannot
    // touch the same row twice in one statement).
    let mut unique: Vec<&SourceWrite> = Vec::with_capacity(latest.len());
    for write in writes {
        if let Some(last) = latest.remove(write.source.origin.as_str()) {
            unique.push(last);
        }
    }
    for batch in unique.chunks(ROWS_PER_STATEMENT) {
        let kinds: Vec<&str> = batch.iter().map(|w| w.update.kind.as_str()).collect();
        let origins: Vec<&str> = batch.iter().map(|w| w.source.origin.as_str()).collect();
        let titles: Vec<&str> = batch.iter().map(|w| w.update.title.as_str()).collect();
        let tags: Vec<String> = batch.iter().map(|w| tags_json(&w.update.tags)).collect();
        let sizes: Vec<i64> = batch.iter().map(|w| w.update.byte_size as i64).collect();
        let hashes: Vec<[u8; 32]> = batch.iter().map(|w| w.update.content_hash.0).collect();
        let counts: Vec<i64> = batch.iter().map(|w| w.chunks.len() as i64).collect();
        let returned = sqlx::query(
            "INSERT INTO sources (brand_id, kind, origin, title, tags, byte_size, status,
                                  content_hash, chunk_count, created_at, updated_at)
             SELECT $1, kind, origin, title, tags, byte_size, 'ready', content_hash,
                    chunk_count, $2, $2
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                         $8::bytea[], $9::bigint[])
                  AS w (kind, origin, title, tags, byte_size, content_hash, chunk_count)
             ON CONFLICT (brand_id, origin) DO UPDATE SET
                 kind = excluded.kind, title = excluded.title, tags = excluded.tags,
                 byte_size = excluded.byte_size, status = 'ready', error = NULL,
                 content_hash = excluded.content_hash, chunk_count = excluded.chunk_count,
                 updated_at = excluded.updated_at
             RETURNING id, origin",
        )
        .bind(brand)
        .bind(now)
        .bind(&kinds)
        .bind(&origins)
        .bind(&titles)
        .bind(&tags)
        .bind(&sizes)
        .bind(&hashes)
        .bind(&counts)
        .fetch_all(&mut *connection)
        .await?;
        for row in returned {
            by_origin.insert(row.try_get("origin")?, SourceId(row.try_get("id")?));
        }
    }
    writes
        .iter()
        .map(|write| {
            by_origin
                .get(&write.source.origin)
                .copied()
                .ok_or_else(|| StoreError::Corrupt("an upserted source returned no id".into()))
        })
        .collect()
}

/// Deletes the sources' chunks (the trigger logs each deletion for the indexes) and inserts
/// the new ones, source by source in order, returning their ids in that order. A source
/// listed twice keeps the chunks of its last entry. The caller holds [`CHUNK_WRITERS`].
async fn replace_source_chunks(
    connection: &mut PgConnection,
    brand: i64,
    sources: &[(i64, &[NewChunk])],
) -> Result<Vec<Vec<ChunkId>>> {
    let latest = LastVersions::of(sources);
    let source_ids: Vec<i64> = latest.sources();
    for batch in source_ids.chunks(ROWS_PER_STATEMENT) {
        sqlx::query("DELETE FROM chunks WHERE source_id = ANY($1)")
            .bind(batch)
            .execute(&mut *connection)
            .await?;
    }
    let mut rows: Vec<(i64, i64, &NewChunk)> = Vec::new();
    for (position, (source, chunks)) in sources.iter().enumerate() {
        if !latest.is_last(*source, position) {
            continue;
        }
        for (ordinal, chunk) in chunks.iter().enumerate() {
            rows.push((*source, ordinal as i64, chunk));
        }
    }
    let mut ids: Vec<ChunkId> = Vec::with_capacity(rows.len());
    for batch in rows.chunks(ROWS_PER_STATEMENT) {
        let source_ids: Vec<i64> = batch.iter().map(|(source, _, _)| *source).collect();
        let ordinals: Vec<i64> = batch.iter().map(|(_, ordinal, _)| *ordinal).collect();
        let texts: Vec<&str> = batch.iter().map(|(_, _, c)| c.text.as_str()).collect();
        let tokens: Vec<i64> = batch
            .iter()
            .map(|(_, _, c)| i64::from(c.token_count))
            .collect();
        let hashes: Vec<[u8; 32]> = batch.iter().map(|(_, _, c)| c.content_hash.0).collect();
        let locators = batch
            .iter()
            .map(|(_, _, c)| {
                serde_json::to_string(&c.locator)
                    .map_err(|e| StoreError::Corrupt(format!("locator not serialisable: {e}")))
            })
            .collect::<Result<Vec<String>>>()?;
        // Identities are drawn as the ordered SELECT produces rows, so they follow the
        // arrays' order; RETURNING's order is unspecified, and sorting the ids restores it.
        let returned = sqlx::query(
            "INSERT INTO chunks (source_id, brand_id, ordinal, text, token_count,
                                 content_hash, locator)
             SELECT source_id, $1, ordinal, text, token_count, content_hash, locator
             FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bytea[],
                         $7::text[]) WITH ORDINALITY
                  AS c (source_id, ordinal, text, token_count, content_hash, locator, position)
             ORDER BY position
             RETURNING id",
        )
        .bind(brand)
        .bind(&source_ids)
        .bind(&ordinals)
        .bind(&texts)
        .bind(&tokens)
        .bind(&hashes)
        .bind(&locators)
        .fetch_all(&mut *connection)
        .await?;
        let mut batch_ids = returned
            .iter()
            .map(|row| Ok(ChunkId(row.try_get("id")?)))
            .collect::<Result<Vec<_>>>()?;
        batch_ids.sort_unstable_by_key(|id| id.0);
        ids.extend(batch_ids);
    }
    Ok(latest.ids_per_entry(sources, ids))
}

#[cfg(test)]
mod migration_tests {
    use super::{MIGRATIONS, migrator_up_to};
    use sqlx::Row;

    /// The queue migration keeps the command line's job records: finished ones as
    /// succeeded, unfinished ones as failed with a reason.
    #[tokio::test]
    async fn the_job_queue_migration_keeps_earlier_job_records() {
        let database = brandpilot_testkit::TestDatabase::postgres().await;
        let pool = sqlx::PgPool::connect(database.url()).await.unwrap();
        migrator_up_to(MIGRATIONS, 3).run(&pool).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO workspaces (id, name, created_at) OVERRIDING SYSTEM VALUE
             VALUES (1, 'w', 0);
             INSERT INTO jobs (id, workspace_id, kind, status, payload, progress_done,
                               progress_total, created_at, updated_at) OVERRIDING SYSTEM VALUE
             VALUES (7, 1, 'ingest', 'done', '{\"paths\":[\"/a\"]}', 3, 3, 10, 20),
                    (8, 1, 'ingest', 'running', '{}', 1, 4, 30, 40);",
        )
        .execute(&pool)
        .await
        .unwrap();
        migrator_up_to(MIGRATIONS, i64::MAX)
            .run(&pool)
            .await
            .unwrap();
        let rows = sqlx::query(
            "SELECT id, status, payload::text AS payload, progress_done, last_error,
                    finished_at, lane, run_at
             FROM jobs ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let read = |i: usize| {
            let row = &rows[i];
            (
                row.get::<i64, _>("id"),
                row.get::<String, _>("status"),
                row.get::<i64, _>("progress_done"),
                row.get::<Option<String>, _>("last_error").is_some(),
                row.get::<Option<i64>, _>("finished_at"),
            )
        };
        assert_eq!(read(0), (7, "succeeded".into(), 3, false, Some(20)));
        assert_eq!(read(1), (8, "failed".into(), 1, true, Some(40)));
        let payload: serde_json::Value =
            serde_json::from_str(&rows[0].get::<String, _>("payload")).unwrap();
        assert_eq!(payload, serde_json::json!({"paths": ["/a"]}));
        assert_eq!(rows[1].get::<String, _>("lane"), "long");
        assert_eq!(rows[1].get::<i64, _>("run_at"), 30);
        pool.close().await;
    }

    #[test]
    fn every_migration_file_is_listed_in_order_with_its_text() {
        crate::migrations::assert_lists_every_file("postgres", MIGRATIONS);
    }
}
