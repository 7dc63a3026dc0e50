//! The PostgreSQL side of what people do with a Studio variant: versions, feedback, review
//! moves and performance. Each transaction writes first, as on SQLite; here the row lock
//! the first write takes is what orders two people acting on one variant.

use super::PostgresStore;
use super::generations::variant_from_row;
use crate::reviews::{
    FeedbackRecord, NewFeedback, PerformanceRecord, ReviewEvent, ReviewMove, VariantActivity,
    VariantEdit, VariantVersion,
};
use crate::{Result, VariantRecord, now_ms};
use brandpilot_core::{BrandId, VariantId};
use sqlx::Row;
use sqlx::postgres::PgRow;

impl PostgresStore {
    pub async fn variant(&self, brand: BrandId, id: VariantId) -> Result<Option<VariantRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            variant_columns!(),
            " FROM generation_variants WHERE id = $1 AND brand_id = $2"
        ))
        .bind(id.0)
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(variant_from_row).transpose()
    }

    pub async fn save_variant_version(&self, edit: &VariantEdit) -> Result<Option<VariantRecord>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO variant_review_events (variant_id, brand_id, from_state, to_state, actor,
                 note, created_at)
             SELECT id, brand_id, review_state, 'draft', $1, 'edited', $2
             FROM generation_variants
             WHERE id = $3 AND brand_id = $4 AND review_state <> 'draft'
             FOR UPDATE",
        )
        .bind(&edit.by)
        .bind(now)
        .bind(edit.variant.0)
        .bind(edit.brand.0)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(concat!(
            "UPDATE generation_variants
             SET content = $1, report = $2, passed = $3, version = version + 1,
                 review_state = 'draft', updated_at = $4
             WHERE id = $5 AND brand_id = $6 RETURNING ",
            variant_columns!()
        ))
        .bind(&edit.content_json)
        .bind(&edit.report_json)
        .bind(edit.passed)
        .bind(now)
        .bind(edit.variant.0)
        .bind(edit.brand.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let record = variant_from_row(&row)?;
        sqlx::query(
            "INSERT INTO variant_versions (variant_id, brand_id, version, content, report, passed,
                 created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(record.id.0)
        .bind(edit.brand.0)
        .bind(record.version)
        .bind(&edit.content_json)
        .bind(&edit.report_json)
        .bind(edit.passed)
        .bind(&edit.by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    pub async fn add_variant_feedback(
        &self,
        feedback: &NewFeedback,
    ) -> Result<Option<FeedbackRecord>> {
        let row = sqlx::query(
            "INSERT INTO variant_feedback (variant_id, brand_id, rating, thumb, comment, author,
                 created_at)
             SELECT id, brand_id, $1, $2, $3, $4, $5 FROM generation_variants
             WHERE id = $6 AND brand_id = $7
             RETURNING id, rating, thumb, comment, author, created_at",
        )
        .bind(feedback.rating)
        .bind(&feedback.thumb)
        .bind(&feedback.comment)
        .bind(&feedback.author)
        .bind(now_ms())
        .bind(feedback.variant.0)
        .bind(feedback.brand.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(feedback_from_row).transpose()
    }

    pub async fn move_variant_review(&self, review: &ReviewMove) -> Result<Option<VariantRecord>> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!(
            "UPDATE generation_variants SET review_state = $1, updated_at = $2
             WHERE id = $3 AND brand_id = $4 AND review_state = $5 RETURNING ",
            variant_columns!()
        ))
        .bind(&review.to)
        .bind(now)
        .bind(review.variant.0)
        .bind(review.brand.0)
        .bind(&review.from)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO variant_review_events (variant_id, brand_id, from_state, to_state, actor,
                 note, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(review.variant.0)
        .bind(review.brand.0)
        .bind(&review.from)
        .bind(&review.to)
        .bind(&review.actor)
        .bind(&review.note)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        variant_from_row(&row).map(Some)
    }

    pub async fn put_variant_performance(
        &self,
        brand: BrandId,
        variant: VariantId,
        totals: &PerformanceRecord,
    ) -> Result<Option<PerformanceRecord>> {
        let row = sqlx::query(
            "INSERT INTO variant_performance (variant_id, brand_id, views, likes, shares, clicks,
                 conversions, recorded_by, updated_at)
             SELECT id, brand_id, $1, $2, $3, $4, $5, $6, $7 FROM generation_variants
             WHERE id = $8 AND brand_id = $9
             ON CONFLICT (variant_id) DO UPDATE SET
                 views = excluded.views, likes = excluded.likes, shares = excluded.shares,
                 clicks = excluded.clicks, conversions = excluded.conversions,
                 recorded_by = excluded.recorded_by, updated_at = excluded.updated_at
             RETURNING views, likes, shares, clicks, conversions, recorded_by, updated_at",
        )
        .bind(totals.views)
        .bind(totals.likes)
        .bind(totals.shares)
        .bind(totals.clicks)
        .bind(totals.conversions)
        .bind(&totals.recorded_by)
        .bind(now_ms())
        .bind(variant.0)
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(performance_from_row).transpose()
    }

    pub async fn variant_activity(
        &self,
        brand: BrandId,
        variant: VariantId,
    ) -> Result<VariantActivity> {
        let versions = sqlx::query(
            "SELECT version, content, report, passed, created_by, created_at
             FROM variant_versions WHERE variant_id = $1 AND brand_id = $2 ORDER BY version",
        )
        .bind(variant.0)
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        let feedback = sqlx::query(
            "SELECT id, rating, thumb, comment, author, created_at
             FROM variant_feedback WHERE variant_id = $1 AND brand_id = $2 ORDER BY id",
        )
        .bind(variant.0)
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        let events = sqlx::query(
            "SELECT from_state, to_state, actor, note, created_at
             FROM variant_review_events WHERE variant_id = $1 AND brand_id = $2 ORDER BY id",
        )
        .bind(variant.0)
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        let performance = sqlx::query(
            "SELECT views, likes, shares, clicks, conversions, recorded_by, updated_at
             FROM variant_performance WHERE variant_id = $1 AND brand_id = $2",
        )
        .bind(variant.0)
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(VariantActivity {
            versions: versions
                .iter()
                .map(version_from_row)
                .collect::<Result<_>>()?,
            feedback: feedback
                .iter()
                .map(feedback_from_row)
                .collect::<Result<_>>()?,
            events: events.iter().map(event_from_row).collect::<Result<_>>()?,
            performance: performance.as_ref().map(performance_from_row).transpose()?,
        })
    }
}

fn version_from_row(row: &PgRow) -> Result<VariantVersion> {
    Ok(VariantVersion {
        version: row.try_get("version")?,
        content_json: row.try_get("content")?,
        report_json: row.try_get("report")?,
        passed: row.try_get("passed")?,
        created_by: row.try_get("created_by")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

fn feedback_from_row(row: &PgRow) -> Result<FeedbackRecord> {
    Ok(FeedbackRecord {
        id: row.try_get("id")?,
        rating: row.try_get("rating")?,
        thumb: row.try_get("thumb")?,
        comment: row.try_get("comment")?,
        author: row.try_get("author")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

fn event_from_row(row: &PgRow) -> Result<ReviewEvent> {
    Ok(ReviewEvent {
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        actor: row.try_get("actor")?,
        note: row.try_get("note")?,
        created_at_ms: row.try_get("created_at")?,
    })
}

fn performance_from_row(row: &PgRow) -> Result<PerformanceRecord> {
    Ok(PerformanceRecord {
        views: row.try_get("views")?,
        likes: row.try_get("likes")?,
        shares: row.try_get("shares")?,
        clicks: row.try_get("clicks")?,
        conversions: row.try_get("conversions")?,
        recorded_by: row.try_get("recorded_by")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}
