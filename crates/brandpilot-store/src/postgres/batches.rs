//! The PostgreSQL side of Studio's batches.

use super::PostgresStore;
use super::generations::insert_generation;
use crate::batches::{BatchItemRecord, BatchRecord, NewBatch};
use crate::{GenerationRecord, NewGeneration, Result, now_ms};
use brandpilot_core::{BrandId, JobId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::PgRow;

/// The columns `item_from_row` reads.
macro_rules! item_columns {
    () => {
        "id, batch_id, brand_id, position, request, status, job_id, generation_id, error, \
         updated_at, \
         (SELECT created_by FROM studio_batches WHERE studio_batches.id = batch_id) \
             AS created_by"
    };
}

impl PostgresStore {
    pub async fn create_batch(&self, batch: &NewBatch) -> Result<(BatchRecord, bool)> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO studio_batches (brand_id, idempotency_key, created_by, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (brand_id, idempotency_key) DO NOTHING
             RETURNING id",
        )
        .bind(batch.brand.0)
        .bind(&batch.idempotency_key)
        .bind(&batch.created_by)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(created) = created else {
            tx.rollback().await?;
            let existing: i64 = sqlx::query(
                "SELECT id FROM studio_batches WHERE brand_id = $1 AND idempotency_key = $2",
            )
            .bind(batch.brand.0)
            .bind(&batch.idempotency_key)
            .fetch_one(&self.pool)
            .await?
            .try_get("id")?;
            let record = self
                .batch(existing)
                .await?
                .ok_or_else(|| crate::StoreError::Corrupt(format!("batch {existing} vanished")))?;
            return Ok((record, false));
        };
        let id: i64 = created.try_get("id")?;
        for (position, request) in batch.requests.iter().enumerate() {
            sqlx::query(
                "INSERT INTO studio_batch_items (batch_id, brand_id, position, request, status,
                     updated_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5)",
            )
            .bind(id)
            .bind(batch.brand.0)
            .bind(position as i64)
            .bind(request)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let record = self
            .batch(id)
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt(format!("batch {id} vanished")))?;
        Ok((record, true))
    }

    pub async fn batch(&self, id: i64) -> Result<Option<BatchRecord>> {
        let row = sqlx::query(
            "SELECT id, brand_id, idempotency_key, created_by, created_at
             FROM studio_batches WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let items = sqlx::query(concat!(
            "SELECT ",
            item_columns!(),
            " FROM studio_batch_items WHERE batch_id = $1 ORDER BY position"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(BatchRecord {
            id: row.try_get("id")?,
            brand: BrandId(row.try_get("brand_id")?),
            idempotency_key: row.try_get("idempotency_key")?,
            created_by: row.try_get("created_by")?,
            created_at_ms: row.try_get("created_at")?,
            items: items.iter().map(item_from_row).collect::<Result<_>>()?,
        }))
    }

    pub async fn batch_item(&self, id: i64) -> Result<Option<BatchItemRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            item_columns!(),
            " FROM studio_batch_items WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(item_from_row).transpose()
    }

    pub async fn set_batch_item_job(&self, item: i64, job: JobId) -> Result<()> {
        sqlx::query("UPDATE studio_batch_items SET job_id = $1 WHERE id = $2")
            .bind(job.0)
            .bind(item)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn complete_batch_item(
        &self,
        item: i64,
        generation: &NewGeneration,
    ) -> Result<Option<GenerationRecord>> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE studio_batch_items SET status = 'done', error = NULL, updated_at = $1
             WHERE id = $2 AND status = 'pending' AND brand_id = $3 RETURNING id",
        )
        .bind(now_ms())
        .bind(item)
        .bind(generation.brand.0)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            return Ok(None);
        }
        let record = insert_generation(&mut tx, generation).await?;
        sqlx::query("UPDATE studio_batch_items SET generation_id = $1 WHERE id = $2")
            .bind(record.id.0)
            .bind(item)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    pub async fn fail_batch_item(&self, item: i64, error: &str) -> Result<bool> {
        let result = sqlx::query(
            "UPDATE studio_batch_items SET status = 'failed', error = $1, updated_at = $2
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(error)
        .bind(now_ms())
        .bind(item)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn unqueued_batch_items(
        &self,
        limit: u32,
    ) -> Result<Vec<(WorkspaceId, BatchItemRecord)>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            item_columns!(),
            ", (SELECT workspace_id FROM brands WHERE brands.id = studio_batch_items.brand_id)
                 AS workspace_id
             FROM studio_batch_items
             WHERE status = 'pending' AND job_id IS NULL ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    WorkspaceId(row.try_get("workspace_id")?),
                    item_from_row(row)?,
                ))
            })
            .collect()
    }
}

fn item_from_row(row: &PgRow) -> Result<BatchItemRecord> {
    Ok(BatchItemRecord {
        id: row.try_get("id")?,
        batch: row.try_get("batch_id")?,
        brand: BrandId(row.try_get("brand_id")?),
        position: row.try_get("position")?,
        request_json: row.try_get("request")?,
        status: row.try_get("status")?,
        job: row.try_get::<Option<i64>, _>("job_id")?.map(JobId),
        generation: row.try_get("generation_id")?,
        error: row.try_get("error")?,
        updated_at_ms: row.try_get("updated_at")?,
        created_by: row.try_get("created_by")?,
    })
}
