//! The SQLite side of Studio: brand rules, brand chunk texts and experiments.

use super::SqliteStore;
use crate::studio::{ArmCounts, ExperimentEvent, ExperimentRecord, NewExperiment};
use crate::{Result, now_ms};
use brandpilot_core::{BrandId, ExperimentId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// The columns `experiment_from_row` reads.
macro_rules! experiment_columns {
    () => {
        "id, brand_id, name, arms, weights, mode, significance, min_sample, status, winner,
         created_at, updated_at"
    };
}

impl SqliteStore {
    pub async fn studio_rules(&self, brand: BrandId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT rules FROM studio_rules WHERE brand_id = ?")
            .bind(brand.0)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(row.try_get("rules")?)).transpose()
    }

    pub async fn put_studio_rules(&self, brand: BrandId, rules_json: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO studio_rules (brand_id, rules, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (brand_id) DO UPDATE SET
                 rules = excluded.rules, updated_at = excluded.updated_at",
        )
        .bind(brand.0)
        .bind(rules_json)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn brand_chunk_texts(&self, brand: BrandId, limit: u32) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT text FROM chunks WHERE brand_id = ? ORDER BY id LIMIT ?")
            .bind(brand.0)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(row.try_get("text")?)).collect()
    }

    pub async fn create_experiment(&self, experiment: &NewExperiment) -> Result<ExperimentRecord> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO experiments (brand_id, name, arms, weights, mode, significance,
                                      min_sample, status, winner, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?) RETURNING ",
            experiment_columns!()
        ))
        .bind(experiment.brand.0)
        .bind(&experiment.name)
        .bind(&experiment.arms_json)
        .bind(&experiment.weights_json)
        .bind(&experiment.mode)
        .bind(experiment.significance)
        .bind(experiment.min_sample)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let mut record = experiment_from_row(&row)?;
        for arm in 0..experiment.arm_count {
            sqlx::query(
                "INSERT INTO experiment_arm_counts (experiment_id, arm, impressions, conversions)
                 VALUES (?, ?, 0, 0)",
            )
            .bind(record.id.0)
            .bind(arm as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        record.counts = vec![ArmCounts::default(); experiment.arm_count];
        Ok(record)
    }

    pub async fn experiments(&self, brand: BrandId) -> Result<Vec<ExperimentRecord>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            experiment_columns!(),
            " FROM experiments WHERE brand_id = ? ORDER BY id"
        ))
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        let mut records = rows
            .iter()
            .map(experiment_from_row)
            .collect::<Result<Vec<_>>>()?;
        let counts = sqlx::query(
            "SELECT c.experiment_id, c.arm, c.impressions, c.conversions
             FROM experiment_arm_counts c JOIN experiments e ON e.id = c.experiment_id
             WHERE e.brand_id = ? ORDER BY c.experiment_id, c.arm",
        )
        .bind(brand.0)
        .fetch_all(&self.pool)
        .await?;
        for row in &counts {
            let id: i64 = row.try_get("experiment_id")?;
            if let Some(record) = records.iter_mut().find(|r| r.id.0 == id) {
                record.counts.push(counts_from_row(row)?);
            }
        }
        Ok(records)
    }

    pub async fn experiment(
        &self,
        brand: BrandId,
        id: ExperimentId,
    ) -> Result<Option<ExperimentRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            experiment_columns!(),
            " FROM experiments WHERE id = ? AND brand_id = ?"
        ))
        .bind(id.0)
        .bind(brand.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut record = experiment_from_row(&row)?;
        let counts = sqlx::query(
            "SELECT arm, impressions, conversions FROM experiment_arm_counts
             WHERE experiment_id = ? ORDER BY arm",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        record.counts = counts.iter().map(counts_from_row).collect::<Result<_>>()?;
        Ok(Some(record))
    }

    pub async fn record_experiment_event(
        &self,
        brand: BrandId,
        id: ExperimentId,
        arm: usize,
        event: ExperimentEvent,
    ) -> Result<bool> {
        let sql = match event {
            ExperimentEvent::Impression => {
                "UPDATE experiment_arm_counts SET impressions = impressions + 1
                 WHERE experiment_id = ? AND arm = ? AND experiment_id IN
                     (SELECT id FROM experiments WHERE id = ? AND brand_id = ? AND status = 'running')"
            }
            ExperimentEvent::Conversion => {
                "UPDATE experiment_arm_counts SET conversions = conversions + 1
                 WHERE experiment_id = ? AND arm = ? AND conversions < impressions
                   AND experiment_id IN
                     (SELECT id FROM experiments WHERE id = ? AND brand_id = ? AND status = 'running')"
            }
        };
        let done = sqlx::query(sql)
            .bind(id.0)
            .bind(arm as i64)
            .bind(id.0)
            .bind(brand.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn stop_experiment(
        &self,
        brand: BrandId,
        id: ExperimentId,
        winner: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE experiments SET status = 'stopped', winner = ?, updated_at = ?
             WHERE id = ? AND brand_id = ? AND status = 'running'",
        )
        .bind(winner)
        .bind(now_ms())
        .bind(id.0)
        .bind(brand.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn experiment_from_row(row: &SqliteRow) -> Result<ExperimentRecord> {
    Ok(ExperimentRecord {
        id: ExperimentId(row.try_get("id")?),
        brand: BrandId(row.try_get("brand_id")?),
        name: row.try_get("name")?,
        arms_json: row.try_get("arms")?,
        weights_json: row.try_get("weights")?,
        mode: row.try_get("mode")?,
        significance: row.try_get("significance")?,
        min_sample: row.try_get("min_sample")?,
        status: row.try_get("status")?,
        winner: row.try_get("winner")?,
        counts: Vec::new(),
        created_at_ms: row.try_get("created_at")?,
        updated_at_ms: row.try_get("updated_at")?,
    })
}

fn counts_from_row(row: &SqliteRow) -> Result<ArmCounts> {
    Ok(ArmCounts {
        impressions: row.try_get("impressions")?,
        conversions: row.try_get("conversions")?,
    })
}
