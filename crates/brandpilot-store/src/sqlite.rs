//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! WAL mode so readers never block the writer; foreign keys on, because SQLite leaves them
//! off unless asked; a busy timeout so a second process (the CLI next to a running server)
//! waits for the write lock instead of failing at once. Lists of ids are passed as one JSON
//! array and expanded with `json_each`, so no SQL text is ever built from data.

use crate::group_write::LastVersions;
use crate::migrations::{MigrationFile, migrator_up_to};
use crate::records::*;
use crate::{Result, StoreError, now_ms, vector_from_bytes};
use brandpilot_core::{
    BrandId, ChunkId, ChunkLocator, ContentHash, SourceId, SourceKind, SourceStatus,
};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

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
pub(crate) const MIGRATIONS: &[MigrationFile] = &[
    (
        1,
        "knowledge",
        include_str!("../migrations/sqlite/0001_knowledge.sql"),
    ),
    (2, "llm", include_str!("../migrations/sqlite/0002_llm.sql")),
    (
        3,
        "api_keys",
        include_str!("../migrations/sqlite/0003_api_keys.sql"),
    ),
    (
        4,
        "job_queue",
        include_str!("../migrations/sqlite/0004_job_queue.sql"),
    ),
    (
        5,
        "uploads",
        include_str!("../migrations/sqlite/0005_uploads.sql"),
    ),
    (
        6,
        "accounts",
        include_str!("../migrations/sqlite/0006_accounts.sql"),
    ),
    (
        7,
        "invitations",
        include_str!("../migrations/sqlite/0007_invitations.sql"),
    ),
    (
        8,
        "assistant",
        include_str!("../migrations/sqlite/0008_assistant.sql"),
    ),
    (
        9,
        "webhooks",
        include_str!("../migrations/sqlite/0009_webhooks.sql"),
    ),
    (
        10,
        "widgets",
        include_str!("../migrations/sqlite/0010_widgets.sql"),
    ),
    (
        11,
        "studio",
        include_str!("../migrations/sqlite/0011_studio.sql"),
    ),
    (
        12,
        "generations",
        include_str!("../migrations/sqlite/0012_generations.sql"),
    ),
    (
        13,
        "variant_reviews",
        include_str!("../migrations/sqlite/0013_variant_reviews.sql"),
    ),
    (
        14,
        "studio_batches",
        include_str!("../migrations/sqlite/0014_studio_batches.sql"),
    ),
    (
        15,
        "generate_lane",
        include_str!("../migrations/sqlite/0015_generate_lane.sql"),
    ),
    (
        16,
        "studio_examples",
        include_str!("../migrations/sqlite/0016_studio_examples.sql"),
    ),
    (
        17,
        "workspace_plans",
        include_str!("../migrations/sqlite/0017_workspace_plans.sql"),
    ),
    (
        18,
        "embeddings_by_rowid",
        include_str!("../migrations/sqlite/0018_embeddings_by_rowid.sql"),
    ),
];

fn migrator() -> sqlx::migrate::Migrator {
    migrator_up_to(MIGRATIONS, i64::MAX)
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
pub struct SqliteStore {
    pool: SqlitePool,
}

/// The file a SQLite URL names: `sqlite://path`, `sqlite:path` or a bare path.
pub fn database_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl SqliteStore {
    /// Writes a consistent copy of the whole database to `path` (which must not exist)
    /// while other connections keep reading and writing: `VACUUM INTO` reads one snapshot.
    pub async fn snapshot_into(&self, path: &Path) -> Result<()> {
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::UnsupportedUrl("a backup path must be UTF-8".into()))?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn open(url: &str) -> Result<Self> {
        let path = database_path(url);
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            fs_err::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.display().to_string(),
                source,
            })?;
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a committed transaction survives a process crash (SIGKILL);
            // only a power cut can lose the last commits, never corrupt the file.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // SQLite's default page cache (2 MB) misses on most inserts into the embedding
            // cache and the chunk-hash index, whose keys are random hashes, and each miss is
            // a pread system call. 32 MB: 20k-chunk ingest 12.4 → 11.3 CPU seconds. (Reading
            // through a memory map instead cost more: 14.3 CPU s and twice the RSS, as the
            // growing file is remapped.)
            .pragma("cache_size", "-32768")
            // Statement journals (multi-row inserts that may need a partial rollback) in
            // memory instead of temporary files: 20k-chunk ingest 5.4 → 4.8 s.
            .pragma("temp_store", "memory")
            .busy_timeout(Duration::from_secs(10));
        // Two processes opening a new database at once (a CLI beside a server, a test
        // watching a child) race twice: switching a new file to WAL needs an exclusive lock
        // that SQLite refuses at once (no busy wait) while another connection is mid-switch,
        // and both would see no migrations applied and both create the tables. An exclusive
        // lock on a file beside the database makes the first connection and the migrations
        // run one opener at a time; the next one finds WAL set and migrations applied.
        let lock_path = format!("{path}.migrate-lock");
        let lock = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StoreError::CreateDir {
                path: lock_path.clone(),
                source,
            })?;
        let lock = tokio::task::spawn_blocking(move || lock.file().lock().map(|()| lock))
            .await
            .map_err(|e| StoreError::Corrupt(format!("migration lock task: {e}")))?
            .map_err(|source| StoreError::CreateDir {
                path: lock_path,
                source,
            })?;
        let opened = async {
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            migrator().run(&pool).await?;
            Ok::<_, StoreError>(pool)
        }
        .await;
        drop(lock);
        Ok(Self { pool: opened? })
    }

    pub async fn close(&self) {
        let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await;
        self.pool.close().await;
    }

    pub async fn find_source(&self, brand: BrandId, origin: &str) -> Result<Option<SourceRecord>> {
        let row = sqlx::query(select_sources!("WHERE brand_id = ? AND origin = ?"))
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
        for batch in origins.chunks(500) {
            let rows = sqlx::query(select_sources!(
                "WHERE brand_id = ? AND origin IN (SELECT value FROM json_each(?))"
            ))
            .bind(brand.0)
            .bind(json_array(batch))
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
        let row = sqlx::query(select_sources!("WHERE brand_id = ? AND id = ?"))
            .bind(brand.0)
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(source_from_row).transpose()
    }

    pub async fn begin_source(&self, brand: BrandId, source: &NewSource) -> Result<SourceId> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO sources (brand_id, kind, origin, title, tags, byte_size, status,
                                  created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 'processing', ?, ?)
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
        .bind(now)
        .bind(now)
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
        let brand: i64 = sqlx::query("SELECT brand_id FROM sources WHERE id = ?")
            .bind(source.0)
            .fetch_one(&mut *tx)
            .await?
            .try_get("brand_id")?;
        let ids = replace_source_chunks(&mut tx, brand, &[(source.0, chunks)])
            .await?
            .concat();
        sqlx::query(
            "UPDATE sources SET kind = ?, title = ?, tags = ?, content_hash = ?, byte_size = ?,
                    status = 'ready', error = NULL, chunk_count = ?, updated_at = ?
             WHERE id = ?",
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
            "UPDATE sources SET status = 'failed', error = ?, content_hash = NULL, updated_at = ?
             WHERE id = ?",
        )
        .bind(error)
        .bind(now_ms())
        .bind(source.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_sources(&self, brand: BrandId) -> Result<Vec<SourceRecord>> {
        let rows = sqlx::query(select_sources!("WHERE brand_id = ? ORDER BY origin"))
            .bind(brand.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(source_from_row).collect()
    }

    pub async fn delete_source(&self, brand: BrandId, id: SourceId) -> Result<bool> {
        let result = sqlx::query("DELETE FROM sources WHERE brand_id = ? AND id = ?")
            .bind(brand.0)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn index_high_marks(&self) -> Result<IndexHighMarks> {
        // Both maxima come from sqlite_sequence, which AUTOINCREMENT keeps and never lowers,
        // so a deleted highest row does not make the mark go backwards.
        let rows = sqlx::query("SELECT name, seq FROM sqlite_sequence")
            .fetch_all(&self.pool)
            .await?;
        let mut marks = IndexHighMarks::default();
        for row in rows {
            let name: String = row.try_get("name")?;
            let seq: i64 = row.try_get("seq")?;
            match name.as_str() {
                "chunks" => marks.last_chunk = ChunkId(seq),
                "chunk_deletions" => marks.last_deletion = seq,
                _ => {}
            }
        }
        Ok(marks)
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
             LEFT JOIN embeddings e ON e.model = ? AND e.content_hash = c.content_hash
             WHERE c.id > ? AND c.id <= ?
             ORDER BY c.id LIMIT ?",
        )
        .bind(model)
        .bind(after.0)
        .bind(up_to.0)
        .bind(limit as i64)
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
            "SELECT chunk_id FROM chunk_deletions WHERE seq > ? AND seq <= ? ORDER BY seq",
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
             WHERE c.brand_id = ? AND c.id IN (SELECT value FROM json_each(?))",
        )
        .bind(brand.0)
        .bind(serde_json::Value::from(ids).to_string())
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

fn source_from_row(row: &SqliteRow) -> Result<SourceRecord> {
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
    row: &SqliteRow,
    column: &str,
) -> Result<T> {
    let text: &str = row.try_get(column)?;
    text.parse()
        .map_err(|e: brandpilot_core::UnknownVariant| StoreError::Corrupt(e.to_string()))
}

pub(super) fn hash_from_row(row: &SqliteRow, column: &str) -> Result<ContentHash> {
    ContentHash::from_slice(row.try_get::<&[u8], _>(column)?)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} is not 32 bytes")))
}

fn locator_from_row(row: &SqliteRow) -> Result<ChunkLocator> {
    let text: &str = row.try_get("locator")?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("chunk locator: {e}")))
}

fn tags_from_row(row: &SqliteRow) -> Result<Vec<String>> {
    let text: &str = row.try_get("tags")?;
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("source tags: {e}")))
}

fn tags_json(tags: &[String]) -> String {
    let mut sorted = tags.to_vec();
    sorted.sort();
    sorted.dedup();
    json_array(&sorted)
}

/// Rows written by one multi-row statement. Each statement is a round trip to SQLite's
/// worker thread, which per row cost more than the insert itself (one-chunk sources ingested
/// at about 2,600 chunks/s with three statements per source).
pub(super) const ROWS_PER_STATEMENT: usize = 500;

/// Upserts sources as ready, returning their ids in the order given. An origin named twice
/// keeps its last version, as writing them one after another would.
async fn upsert_ready_sources(
    connection: &mut sqlx::SqliteConnection,
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
        let rows: Vec<serde_json::Value> = batch
            .iter()
            .map(|write| {
                let update = &write.update;
                serde_json::json!([
                    update.kind.as_str(),
                    write.source.origin,
                    update.title,
                    tags_json(&update.tags),
                    update.byte_size as i64,
                    update.content_hash.to_hex(),
                    write.chunks.len() as i64,
                ])
            })
            .collect();
        let returned = sqlx::query(
            "INSERT INTO sources (brand_id, kind, origin, title, tags, byte_size, status,
                                  content_hash, chunk_count, created_at, updated_at)
             SELECT ?, value->>0, value->>1, value->>2, value->>3, value->>4, 'ready',
                    unhex(value->>5), value->>6, ?, ? FROM json_each(?) WHERE true
             ON CONFLICT (brand_id, origin) DO UPDATE SET
                 kind = excluded.kind, title = excluded.title, tags = excluded.tags,
                 byte_size = excluded.byte_size, status = 'ready', error = NULL,
                 content_hash = excluded.content_hash, chunk_count = excluded.chunk_count,
                 updated_at = excluded.updated_at
             RETURNING id, origin",
        )
        .bind(brand)
        .bind(now)
        .bind(now)
        .bind(serde_json::Value::from(rows).to_string())
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
/// listed twice keeps the chunks of its last entry.
async fn replace_source_chunks(
    connection: &mut sqlx::SqliteConnection,
    brand: i64,
    sources: &[(i64, &[NewChunk])],
) -> Result<Vec<Vec<ChunkId>>> {
    let latest = LastVersions::of(sources);
    let source_ids: Vec<String> = latest.sources().iter().map(i64::to_string).collect();
    for batch in source_ids.chunks(ROWS_PER_STATEMENT) {
        sqlx::query("DELETE FROM chunks WHERE source_id IN (SELECT value FROM json_each(?))")
            .bind(format!("[{}]", batch.join(",")))
            .execute(&mut *connection)
            .await?;
    }
    let mut rows: Vec<serde_json::Value> = Vec::new();
    for (position, (source, chunks)) in sources.iter().enumerate() {
        if !latest.is_last(*source, position) {
            continue;
        }
        for (ordinal, chunk) in chunks.iter().enumerate() {
            let locator = serde_json::to_string(&chunk.locator)
                .map_err(|e| StoreError::Corrupt(format!("locator not serialisable: {e}")))?;
            rows.push(serde_json::json!([
                source,
                ordinal as i64,
                chunk.text,
                chunk.token_count as i64,
                chunk.content_hash.to_hex(),
                locator,
            ]));
        }
    }
    let mut ids: Vec<ChunkId> = Vec::with_capacity(rows.len());
    for batch in rows.chunks(ROWS_PER_STATEMENT) {
        // json_each yields the array in order and AUTOINCREMENT numbers rows in insertion
        // order, but RETURNING's order is unspecified: sorting the ids restores it.
        let returned = sqlx::query(
            "INSERT INTO chunks (source_id, brand_id, ordinal, text, token_count,
                                 content_hash, locator)
             SELECT value->>0, ?, value->>1, value->>2, value->>3, unhex(value->>4), value->>5
             FROM json_each(?) RETURNING id",
        )
        .bind(brand)
        .bind(serde_json::Value::from(batch.to_vec()).to_string())
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

pub(super) fn json_array(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

#[cfg(test)]
mod migration_tests {
    use super::{MIGRATIONS, migrator, migrator_up_to};
    use sqlx::Row;

    /// The queue migration keeps the command line's job records: finished ones as
    /// succeeded, unfinished ones as failed with a reason.
    #[tokio::test]
    async fn the_job_queue_migration_keeps_earlier_job_records() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        migrator_up_to(MIGRATIONS, 3).run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 0);
             INSERT INTO jobs (id, workspace_id, kind, status, payload, progress_done,
                               progress_total, created_at, updated_at)
             VALUES (7, 1, 'ingest', 'done', '{\"paths\":[\"/a\"]}', 3, 3, 10, 20),
                    (8, 1, 'ingest', 'running', '{}', 1, 4, 30, 40);",
        )
        .execute(&pool)
        .await
        .unwrap();
        migrator().run(&pool).await.unwrap();
        let rows = sqlx::query(
            "SELECT id, status, payload, progress_done, last_error, finished_at FROM jobs ORDER BY id",
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
        assert_eq!(rows[0].get::<String, _>("payload"), r#"{"paths":["/a"]}"#);
    }

    #[tokio::test]
    async fn the_generate_lane_migration_keeps_jobs_and_their_runs() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                "sqlite::memory:"
                    .parse::<sqlx::sqlite::SqliteConnectOptions>()
                    .unwrap()
                    .foreign_keys(true),
            )
            .await
            .unwrap();
        migrator_up_to(MIGRATIONS, 14).run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO workspaces (id, name, created_at) VALUES (1, 'w', 0);
             INSERT INTO jobs (id, workspace_id, lane, kind, status, idempotency_key, run_at,
                               created_at, updated_at)
             VALUES (5, 1, 'long', 'ingest_uploads', 'succeeded', 'k', 0, 10, 20);
             INSERT INTO job_runs (job_id, attempt, worker, started_at, finished_at, outcome)
             VALUES (5, 1, 'w-1', 10, 20, 'succeeded');",
        )
        .execute(&pool)
        .await
        .unwrap();
        migrator().run(&pool).await.unwrap();
        let runs: Vec<(i64, String)> =
            sqlx::query_as("SELECT job_id, outcome FROM job_runs ORDER BY job_id")
                .fetch_all(&pool)
                .await
                .unwrap();
        assert_eq!(runs, [(5, "succeeded".to_owned())]);
        let key: String = sqlx::query_scalar("SELECT idempotency_key FROM jobs WHERE id = 5")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(key, "k");
        sqlx::query(
            "INSERT INTO jobs (workspace_id, lane, kind, status, run_at, created_at, updated_at)
             VALUES (1, 'generate', 'studio_batch_item', 'queued', 0, 0, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        // The rebuilt tables keep their constraints: a run of no job is refused.
        let orphan = sqlx::query(
            "INSERT INTO job_runs (job_id, attempt, worker, started_at) VALUES (99, 1, 'w', 0)",
        )
        .execute(&pool)
        .await;
        assert!(orphan.is_err());
    }

    /// The embedding cache's move to a rowid table keeps every cached vector, and its key
    /// still refuses a second vector for the same model and text.
    #[tokio::test]
    async fn the_embeddings_migration_keeps_cached_vectors_and_their_key() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        migrator_up_to(MIGRATIONS, 17).run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO embeddings (model, content_hash, vector)
             VALUES ('m', x'01', x'0000803f'), ('m', x'02', x'00000040'),
                    ('other', x'01', x'00004040')",
        )
        .execute(&pool)
        .await
        .unwrap();
        migrator().run(&pool).await.unwrap();
        let rows: Vec<(String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT model, content_hash, vector FROM embeddings ORDER BY model, content_hash",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(
            rows,
            [
                ("m".to_owned(), vec![1], vec![0, 0, 0x80, 0x3f]),
                ("m".to_owned(), vec![2], vec![0, 0, 0, 0x40]),
                ("other".to_owned(), vec![1], vec![0, 0, 0x40, 0x40]),
            ]
        );
        let duplicate = sqlx::query(
            "INSERT INTO embeddings (model, content_hash, vector) VALUES ('m', x'01', x'00')",
        )
        .execute(&pool)
        .await;
        assert!(duplicate.is_err());
    }

    #[test]
    fn every_migration_file_is_listed_in_order_with_its_text() {
        crate::migrations::assert_lists_every_file("sqlite", MIGRATIONS);
    }
}
