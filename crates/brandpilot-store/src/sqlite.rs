//! The SQLite backend: the embedded default, one file in the data directory.
//!
//! WAL mode so readers never block the writer; foreign keys on, because SQLite leaves them
//! off unless asked; a busy timeout so a second process (the CLI next to a running server)
//! waits for the write lock instead of failing at once. Lists of ids are passed as one JSON
//! array and expanded with `json_each`, so no SQL text is ever built from data.

use crate::records::*;
use crate::{Result, StoreError, now_ms, vector_from_bytes, vector_to_bytes};
use brandpilot_core::{
    BrandId, ChunkId, ChunkLocator, ContentHash, JobId, SourceId, SourceKind, SourceStatus,
    WorkspaceId,
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

mod llm;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

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

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
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
            MIGRATOR.run(&pool).await?;
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

    pub async fn ensure_workspace(&self, name: &str) -> Result<WorkspaceId> {
        let row = sqlx::query(
            "INSERT INTO workspaces (name, created_at) VALUES (?, ?)
             ON CONFLICT (name) DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(WorkspaceId(row.try_get("id")?))
    }

    pub async fn ensure_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Brand> {
        let row = sqlx::query(
            "INSERT INTO brands (workspace_id, name, created_at) VALUES (?, ?, ?)
             ON CONFLICT (workspace_id, name) DO UPDATE SET name = excluded.name
             RETURNING id",
        )
        .bind(workspace.0)
        .bind(name)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(Brand {
            id: BrandId(row.try_get("id")?),
            workspace,
            name: name.to_owned(),
        })
    }

    pub async fn find_brand(&self, workspace: WorkspaceId, name: &str) -> Result<Option<Brand>> {
        let row = sqlx::query("SELECT id FROM brands WHERE workspace_id = ? AND name = ?")
            .bind(workspace.0)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(Brand {
                id: BrandId(row.try_get("id")?),
                workspace,
                name: name.to_owned(),
            })
        })
        .transpose()
    }

    pub async fn list_brands(&self, workspace: WorkspaceId) -> Result<Vec<Brand>> {
        let rows = sqlx::query("SELECT id, name FROM brands WHERE workspace_id = ? ORDER BY name")
            .bind(workspace.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Brand {
                    id: BrandId(row.try_get("id")?),
                    workspace,
                    name: row.try_get("name")?,
                })
            })
            .collect()
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
    ) -> Result<Vec<SourceId>> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(writes.len());
        let now = now_ms();
        for write in writes {
            let (source, update) = (&write.source, &write.update);
            let row = sqlx::query(
                "INSERT INTO sources (brand_id, kind, origin, title, tags, byte_size, status,
                                      content_hash, chunk_count, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, 'ready', ?, ?, ?, ?)
                 ON CONFLICT (brand_id, origin) DO UPDATE SET
                     kind = excluded.kind, title = excluded.title, tags = excluded.tags,
                     byte_size = excluded.byte_size, status = 'ready', error = NULL,
                     content_hash = excluded.content_hash, chunk_count = excluded.chunk_count,
                     updated_at = excluded.updated_at
                 RETURNING id",
            )
            .bind(brand.0)
            .bind(update.kind.as_str())
            .bind(&source.origin)
            .bind(&update.title)
            .bind(tags_json(&update.tags))
            .bind(update.byte_size as i64)
            .bind(&update.content_hash.0[..])
            .bind(write.chunks.len() as i64)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = row.try_get("id")?;
            replace_source_chunks(&mut tx, id, brand.0, &write.chunks).await?;
            ids.push(SourceId(id));
        }
        tx.commit().await?;
        Ok(ids)
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
        let ids = replace_source_chunks(&mut tx, source.0, brand, chunks).await?;
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

    pub async fn cached_embeddings(
        &self,
        model: &str,
        hashes: &[ContentHash],
    ) -> Result<HashMap<ContentHash, Vec<f32>>> {
        let mut found = HashMap::new();
        for batch in hashes.chunks(500) {
            let hex: Vec<String> = batch.iter().map(ContentHash::to_hex).collect();
            let rows = sqlx::query(
                "SELECT content_hash, vector FROM embeddings
                 WHERE model = ? AND content_hash IN (SELECT unhex(value) FROM json_each(?))",
            )
            .bind(model)
            .bind(json_array(&hex))
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                let hash = hash_from_row(&row, "content_hash")?;
                found.insert(hash, vector_from_bytes(row.try_get::<&[u8], _>("vector")?)?);
            }
        }
        Ok(found)
    }

    pub async fn put_embeddings(
        &self,
        model: &str,
        rows: &[(ContentHash, Vec<f32>)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (hash, vector) in rows {
            sqlx::query(
                "INSERT INTO embeddings (model, content_hash, vector) VALUES (?, ?, ?)
                 ON CONFLICT (model, content_hash) DO NOTHING",
            )
            .bind(model)
            .bind(&hash.0[..])
            .bind(vector_to_bytes(vector))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn chunk_hashes_missing_embedding(
        &self,
        model: &str,
        limit: u32,
    ) -> Result<Vec<(ContentHash, String)>> {
        let rows = sqlx::query(
            "SELECT c.content_hash, MIN(c.text) AS text FROM chunks c
             WHERE NOT EXISTS (SELECT 1 FROM embeddings e
                               WHERE e.model = ? AND e.content_hash = c.content_hash)
             GROUP BY c.content_hash LIMIT ?",
        )
        .bind(model)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((hash_from_row(row, "content_hash")?, row.try_get("text")?)))
            .collect()
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

    pub async fn create_job(
        &self,
        workspace: WorkspaceId,
        kind: &str,
        payload: &serde_json::Value,
    ) -> Result<JobId> {
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO jobs (workspace_id, kind, status, payload, created_at, updated_at)
             VALUES (?, ?, 'running', ?, ?, ?) RETURNING id",
        )
        .bind(workspace.0)
        .bind(kind)
        .bind(payload.to_string())
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(JobId(row.try_get("id")?))
    }

    pub async fn update_job(
        &self,
        job: JobId,
        status: &str,
        done: u64,
        total: u64,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET status = ?, progress_done = ?, progress_total = ?, error = ?,
                    updated_at = ? WHERE id = ?",
        )
        .bind(status)
        .bind(done as i64)
        .bind(total as i64)
        .bind(error)
        .bind(now_ms())
        .bind(job.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_job(&self, job: JobId) -> Result<Option<JobRecord>> {
        let row = sqlx::query(
            "SELECT id, kind, status, payload, progress_done, progress_total, error
             FROM jobs WHERE id = ?",
        )
        .bind(job.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(JobRecord {
                id: JobId(row.try_get("id")?),
                kind: row.try_get("kind")?,
                status: row.try_get("status")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("job payload: {e}")))?,
                progress_done: row.try_get::<i64, _>("progress_done")? as u64,
                progress_total: row.try_get::<i64, _>("progress_total")? as u64,
                error: row.try_get("error")?,
            })
        })
        .transpose()
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

fn hash_from_row(row: &SqliteRow, column: &str) -> Result<ContentHash> {
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

/// Deletes a source's chunks (the trigger logs each deletion for the indexes) and inserts
/// the new ones in order, returning their ids.
async fn replace_source_chunks(
    connection: &mut sqlx::SqliteConnection,
    source: i64,
    brand: i64,
    chunks: &[NewChunk],
) -> Result<Vec<ChunkId>> {
    sqlx::query("DELETE FROM chunks WHERE source_id = ?")
        .bind(source)
        .execute(&mut *connection)
        .await?;
    let mut ids = Vec::with_capacity(chunks.len());
    for (ordinal, chunk) in chunks.iter().enumerate() {
        let locator = serde_json::to_string(&chunk.locator)
            .map_err(|e| StoreError::Corrupt(format!("locator not serialisable: {e}")))?;
        let row = sqlx::query(
            "INSERT INTO chunks (source_id, brand_id, ordinal, text, token_count,
                                 content_hash, locator)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(source)
        .bind(brand)
        .bind(ordinal as i64)
        .bind(&chunk.text)
        .bind(chunk.token_count as i64)
        .bind(&chunk.content_hash.0[..])
        .bind(locator)
        .fetch_one(&mut *connection)
        .await?;
        ids.push(ChunkId(row.try_get("id")?));
    }
    Ok(ids)
}

fn json_array(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}
