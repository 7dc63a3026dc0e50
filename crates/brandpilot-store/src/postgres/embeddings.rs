//! The PostgreSQL side of the embedding cache: vectors stored per model and content hash,
//! so unchanged text is never embedded twice and indexes rebuild without the embedder.

use super::{PostgresStore, ROWS_PER_STATEMENT, hash_from_row};
use crate::{Result, vector_from_bytes, vector_to_bytes};
use brandpilot_core::ContentHash;
use sqlx::Row;
use std::collections::HashMap;

impl PostgresStore {
    pub async fn cached_embeddings(
        &self,
        model: &str,
        hashes: &[ContentHash],
    ) -> Result<HashMap<ContentHash, Vec<f32>>> {
        let mut found = HashMap::new();
        for batch in hashes.chunks(ROWS_PER_STATEMENT) {
            let keys: Vec<[u8; 32]> = batch.iter().map(|hash| hash.0).collect();
            let rows = sqlx::query(
                "SELECT content_hash, vector FROM embeddings
                 WHERE model = $1 AND content_hash = ANY($2)",
            )
            .bind(model)
            .bind(&keys)
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
        // In key order: two writers of overlapping batches then take the rows' locks in
        // the same order and one waits for the other instead of deadlocking.
        let mut sorted: Vec<&(ContentHash, Vec<f32>)> = rows.iter().collect();
        sorted.sort_by_key(|(hash, _)| hash.0);
        let mut tx = self.pool.begin().await?;
        for batch in sorted.chunks(ROWS_PER_STATEMENT) {
            let hashes: Vec<[u8; 32]> = batch.iter().map(|(hash, _)| hash.0).collect();
            let vectors: Vec<Vec<u8>> = batch
                .iter()
                .map(|(_, vector)| vector_to_bytes(vector))
                .collect();
            sqlx::query(
                "INSERT INTO embeddings (model, content_hash, vector)
                 SELECT $1, content_hash, vector FROM UNNEST($2::bytea[], $3::bytea[])
                      AS e (content_hash, vector)
                 ON CONFLICT (model, content_hash) DO NOTHING",
            )
            .bind(model)
            .bind(&hashes)
            .bind(&vectors)
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
            "SELECT c.content_hash, MIN(c.text COLLATE \"C\") AS text FROM chunks c
             WHERE NOT EXISTS (SELECT 1 FROM embeddings e
                               WHERE e.model = $1 AND e.content_hash = c.content_hash)
             GROUP BY c.content_hash LIMIT $2",
        )
        .bind(model)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((hash_from_row(row, "content_hash")?, row.try_get("text")?)))
            .collect()
    }
}
