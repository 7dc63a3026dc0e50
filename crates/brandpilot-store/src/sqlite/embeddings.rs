//! The SQLite side of the embedding cache: vectors stored per model and content hash, so
//! unchanged text is never embedded twice and indexes rebuild without the embedder.

use super::{ROWS_PER_STATEMENT, SqliteStore, hash_from_row, json_array};
use crate::{Result, vector_from_bytes, vector_to_bytes};
use brandpilot_core::ContentHash;
use sqlx::Row;
use std::collections::HashMap;

impl SqliteStore {
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
        for batch in rows.chunks(ROWS_PER_STATEMENT) {
            let width = batch.first().map_or(0, |(_, vector)| vector.len());
            if batch.iter().any(|(_, vector)| vector.len() != width) {
                // Never produced by one embedder; kept correct rather than fast.
                for (hash, vector) in batch {
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
                continue;
            }
            // One statement per batch: the hashes as a JSON array, the vectors as one blob
            // cut by `substr` (byte offsets on a blob), so no vector is re-encoded as text.
            let hashes: Vec<String> = batch.iter().map(|(hash, _)| hash.to_hex()).collect();
            let vectors: Vec<u8> = batch
                .iter()
                .flat_map(|(_, vector)| vector.iter().flat_map(|x| x.to_le_bytes()))
                .collect();
            let stride = (width * 4) as i64;
            sqlx::query(
                "INSERT INTO embeddings (model, content_hash, vector)
                 SELECT ?, unhex(value), substr(?, key * ? + 1, ?) FROM json_each(?) WHERE true
                 ON CONFLICT (model, content_hash) DO NOTHING",
            )
            .bind(model)
            .bind(vectors)
            .bind(stride)
            .bind(stride)
            .bind(json_array(&hashes))
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
}
