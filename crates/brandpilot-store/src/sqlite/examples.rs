//! The SQLite side of Studio's examples library and voice profiles.

use super::{SqliteStore, hash_from_row};
use crate::examples::{
    ExampleFilter, ExampleRecord, ExampleTotals, ExampleUpdate, NewExample, VoiceRecord,
};
use crate::{Result, now_ms};
use brandpilot_core::{BrandId, ExampleId, VariantId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// What `example_from_row` reads: the example (`e`) and its promoted variant's totals (`vp`).
macro_rules! example_select {
    ($($rest:literal)*) => {
        concat!(
            "SELECT e.id, e.brand_id, e.channel, e.sector, e.title, e.text, e.content_hash,
                    e.variant_id, e.views, e.likes, e.shares, e.clicks, e.conversions,
                    e.created_by, e.created_at, e.updated_at,
                    vp.views AS vp_views, vp.likes AS vp_likes, vp.shares AS vp_shares,
                    vp.clicks AS vp_clicks, vp.conversions AS vp_conversions
             FROM studio_examples e
             LEFT JOIN variant_performance vp
                 ON vp.variant_id = e.variant_id AND vp.brand_id = e.brand_id ",
            $($rest),*
        )
    };
}

impl SqliteStore {
    pub async fn create_example(&self, example: &NewExample) -> Result<ExampleRecord> {
        let now = now_ms();
        let totals = example.performance;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO studio_examples (brand_id, channel, sector, title, text, content_hash,
                 variant_id, views, likes, shares, clicks, conversions, created_by, created_at,
                 updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(example.brand.0)
        .bind(&example.channel)
        .bind(&example.sector)
        .bind(&example.title)
        .bind(&example.text)
        .bind(&example.content_hash.0[..])
        .bind(example.variant.map(|v| v.0))
        .bind(totals.map(|t| t.views))
        .bind(totals.map(|t| t.likes))
        .bind(totals.map(|t| t.shares))
        .bind(totals.map(|t| t.clicks))
        .bind(totals.map(|t| t.conversions))
        .bind(&example.created_by)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        self.example(example.brand, ExampleId(id))
            .await?
            .ok_or_else(|| crate::StoreError::Corrupt(format!("example {id} vanished")))
    }

    pub async fn example(&self, brand: BrandId, id: ExampleId) -> Result<Option<ExampleRecord>> {
        let row = sqlx::query(example_select!("WHERE e.id = ? AND e.brand_id = ?"))
            .bind(id.0)
            .bind(brand.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(example_from_row).transpose()
    }

    pub async fn example_of_variant(
        &self,
        brand: BrandId,
        variant: VariantId,
    ) -> Result<Option<ExampleRecord>> {
        let row = sqlx::query(example_select!("WHERE e.variant_id = ? AND e.brand_id = ?"))
            .bind(variant.0)
            .bind(brand.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(example_from_row).transpose()
    }

    pub async fn examples(
        &self,
        brand: BrandId,
        filter: &ExampleFilter,
    ) -> Result<Vec<ExampleRecord>> {
        let rows = sqlx::query(example_select!(
            "WHERE e.brand_id = ? AND e.id < ?
               AND (? IS NULL OR e.channel = ?) AND (? IS NULL OR e.sector = ?)
             ORDER BY e.id DESC LIMIT ?"
        ))
        .bind(brand.0)
        .bind(filter.before.map_or(i64::MAX, |id| id.0))
        .bind(&filter.channel)
        .bind(&filter.channel)
        .bind(&filter.sector)
        .bind(&filter.sector)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(example_from_row).collect()
    }

    pub async fn example_count(&self, brand: BrandId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM studio_examples WHERE brand_id = ?")
                .bind(brand.0)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub async fn update_example(&self, update: &ExampleUpdate) -> Result<Option<ExampleRecord>> {
        let totals = update.performance;
        let changed = sqlx::query(
            "UPDATE studio_examples
             SET channel = ?, sector = ?, title = ?, views = ?, likes = ?, shares = ?,
                 clicks = ?, conversions = ?, updated_at = ?
             WHERE id = ? AND brand_id = ?",
        )
        .bind(&update.channel)
        .bind(&update.sector)
        .bind(&update.title)
        .bind(totals.map(|t| t.views))
        .bind(totals.map(|t| t.likes))
        .bind(totals.map(|t| t.shares))
        .bind(totals.map(|t| t.clicks))
        .bind(totals.map(|t| t.conversions))
        .bind(now_ms())
        .bind(update.id.0)
        .bind(update.brand.0)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        self.example(update.brand, update.id).await
    }

    pub async fn delete_example(&self, brand: BrandId, id: ExampleId) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM studio_examples WHERE id = ? AND brand_id = ?")
            .bind(id.0)
            .bind(brand.0)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    pub async fn studio_voice(&self, brand: BrandId) -> Result<Option<VoiceRecord>> {
        let row = sqlx::query(
            "SELECT profile, origin, updated_by, updated_at FROM studio_voice WHERE brand_id = ?",
        )
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(VoiceRecord {
                profile_json: row.try_get("profile")?,
                origin: row.try_get("origin")?,
                updated_by: row.try_get("updated_by")?,
                updated_at_ms: row.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    pub async fn put_studio_voice(&self, brand: BrandId, voice: &VoiceRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO studio_voice (brand_id, profile, origin, updated_by, updated_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (brand_id) DO UPDATE SET
                 profile = excluded.profile, origin = excluded.origin,
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(brand.0)
        .bind(&voice.profile_json)
        .bind(&voice.origin)
        .bind(&voice.updated_by)
        .bind(voice.updated_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn totals_from_row(row: &SqliteRow, prefix: &str) -> Result<Option<ExampleTotals>> {
    let get = |name: &str| row.try_get::<Option<i64>, _>(format!("{prefix}{name}").as_str());
    let Some(views) = get("views")? else {
        return Ok(None);
    };
    Ok(Some(ExampleTotals {
        views,
        likes: get("likes")?.unwrap_or(0),
        shares: get("shares")?.unwrap_or(0),
        clicks: get("clicks")?.unwrap_or(0),
        conversions: get("conversions")?.unwrap_or(0),
    }))
}

fn example_from_row(row: &SqliteRow) -> Result<ExampleRecord> {
    Ok(ExampleRecord {
        id: ExampleId(row.try_get("id")?),
        brand: BrandId(row.try_get("brand_id")?),
        channel: row.try_get("channel")?,
        sector: row.try_get("sector")?,
        title: row.try_get("title")?,
        text: row.try_get("text")?,
        content_hash: hash_from_row(row, "content_hash")?,
        variant: row.try_get::<Option<i64>, _>("variant_id")?.map(VariantId),
        recorded_performance: totals_from_row(row, "")?,
        variant_performance: totals_from_row(row, "vp_")?,
        created_by: row.try_get("created_by")?,
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}
