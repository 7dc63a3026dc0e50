//! The SQLite side of Studio's generations.

use super::SqliteStore;
use crate::generations::{GenerationRecord, NewGeneration, VariantRecord};
use crate::{Result, now_ms};
use brandpilot_core::{BrandId, GenerationId, VariantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// The columns `generation_from_row` reads.
macro_rules! generation_columns {
    () => {
        "id, brand_id, kind, channel, request, provenance, created_by, created_at"
    };
}

/// The columns `variant_from_row` reads.
macro_rules! variant_columns {
    () => {
        "id, generation_id, brand_id, position, label, content, report, passed, review_state,
         version, created_at, updated_at"
    };
}

impl SqliteStore {
    pub async fn create_generation(&self, generation: &NewGeneration) -> Result<GenerationRecord> {
        let mut tx = self.pool.begin().await?;
        let record = insert_generation(&mut tx, generation).await?;
        tx.commit().await?;
        Ok(record)
    }

    pub async fn generations(
        &self,
        brand: BrandId,
        before: Option<GenerationId>,
        limit: u32,
    ) -> Result<Vec<GenerationRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            generation_columns!(),
            " FROM generations WHERE brand_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
        ))
        .bind(brand.0)
        .bind(before.map_or(i64::MAX, |id| id.0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut records = rows
            .iter()
            .map(generation_from_row)
            .collect::<Result<Vec<_>>>()?;
        let Some(oldest) = records.last().map(|r| r.id.0) else {
            return Ok(records);
        };
        let newest = records[0].id.0;
        let variants = sqlx::query(concat!(
            "SELECT ",
            variant_columns!(),
            " FROM generation_variants
             WHERE brand_id = ? AND generation_id BETWEEN ? AND ?
             ORDER BY generation_id, position"
        ))
        .bind(brand.0)
        .bind(oldest)
        .bind(newest)
        .fetch_all(&self.pool)
        .await?;
        for row in &variants {
            let variant = variant_from_row(row)?;
            if let Some(record) = records.iter_mut().find(|r| r.id == variant.generation) {
                record.variants.push(variant);
            }
        }
        Ok(records)
    }

    pub async fn generation(
        &self,
        brand: BrandId,
        id: GenerationId,
    ) -> Result<Option<GenerationRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            generation_columns!(),
            " FROM generations WHERE id = ? AND brand_id = ?"
        ))
        .bind(id.0)
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record = generation_from_row(&row)?;
        let variants = sqlx::query(concat!(
            "SELECT ",
            variant_columns!(),
            " FROM generation_variants WHERE generation_id = ? AND brand_id = ? ORDER BY position"
        ))
        .bind(id.0)
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        record.variants = variants
            .iter()
            .map(variant_from_row)
            .collect::<Result<_>>()?;
        Ok(Some(record))
    }
}

/// Writes a generation, its variants and their first versions on `conn` (inside the
/// caller's transaction).
pub(super) async fn insert_generation(
    conn: &mut sqlx::SqliteConnection,
    generation: &NewGeneration,
) -> Result<GenerationRecord> {
    let now = now_ms();
    let row = sqlx::query(concat!(
        "INSERT INTO generations (brand_id, kind, channel, request, provenance, created_by,
                                  created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING ",
        generation_columns!()
    ))
    .bind(generation.brand.0)
    .bind(&generation.kind)
    .bind(&generation.channel)
    .bind(&generation.request_json)
    .bind(&generation.provenance_json)
    .bind(&generation.created_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let mut record = generation_from_row(&row)?;
    for (position, variant) in generation.variants.iter().enumerate() {
        let row = sqlx::query(concat!(
            "INSERT INTO generation_variants (generation_id, brand_id, position, label,
                 content, report, passed, review_state, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?) RETURNING ",
            variant_columns!()
        ))
        .bind(record.id.0)
        .bind(generation.brand.0)
        .bind(position as i64)
        .bind(&variant.label)
        .bind(&variant.content_json)
        .bind(&variant.report_json)
        .bind(variant.passed)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        let variant_record = variant_from_row(&row)?;
        sqlx::query(
            "INSERT INTO variant_versions (variant_id, brand_id, version, content, report,
                 passed, created_by, created_at)
             VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
        )
        .bind(variant_record.id.0)
        .bind(generation.brand.0)
        .bind(&variant.content_json)
        .bind(&variant.report_json)
        .bind(variant.passed)
        .bind(&generation.created_by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        record.variants.push(variant_record);
    }
    Ok(record)
}

fn generation_from_row(row: &SqliteRow) -> Result<GenerationRecord> {
    Ok(GenerationRecord {
        id: GenerationId(row.try_get("id")?),
        brand: BrandId(row.try_get("brand_id")?),
        kind: row.try_get("kind")?,
        channel: row.try_get("channel")?,
        request_json: row.try_get("request")?,
        provenance_json: row.try_get("provenance")?,
        created_by: row.try_get("created_by")?,
        created_at_ms: row.try_get("created_at")?,
        variants: Vec::new(),
    })
}

pub(super) fn variant_from_row(row: &SqliteRow) -> Result<VariantRecord> {
    Ok(VariantRecord {
        id: VariantId(row.try_get("id")?),
        generation: GenerationId(row.try_get("generation_id")?),
        brand: BrandId(row.try_get("brand_id")?),
        position: row.try_get("position")?,
        label: row.try_get("label")?,
        content_json: row.try_get("content")?,
        report_json: row.try_get("report")?,
        passed: row.try_get("passed")?,
        review_state: row.try_get("review_state")?,
        version: row.try_get("version")?,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}
