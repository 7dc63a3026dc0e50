//! The PostgreSQL side of the LLM layer's state: call records with their usage reports, and
//! the answer cache (plus brand deletion, whose cascade reaches both). Like the rest of this
//! backend, no SQL text is built from data: optional filters and groupings are bound
//! parameters of one fixed statement.

use super::{PostgresStore, lock_chunk_writers};
use crate::records::{
    CacheEntry, CacheScope, NewCacheEntry, NewLlmCall, StoredLlmCall, UsageGroup, UsageQuery,
    UsageRow,
};
use crate::{Result, StoreError, vector_from_bytes, vector_to_bytes};
use brandpilot_core::{BrandId, ContentHash, FaultKind, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::PgRow;

impl PostgresStore {
    pub async fn delete_brand(&self, workspace: WorkspaceId, brand: BrandId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // The cascade deletes the brand's chunks and draws deletion sequence numbers:
        // first the lock that keeps them in commit order.
        lock_chunk_writers(&mut tx).await?;
        let result = sqlx::query("DELETE FROM brands WHERE workspace_id = $1 AND id = $2")
            .bind(workspace.0)
            .bind(brand.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn record_llm_calls(&self, calls: &[NewLlmCall]) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for call in calls {
            // Selecting from workspaces skips a call of an unknown workspace instead of
            // failing the whole batch on the foreign key; the brand subquery records a
            // brand of another workspace (or one deleted since the call) as none.
            let result = sqlx::query(
                "INSERT INTO llm_calls (workspace_id, brand_id, route, provider, model,
                     prompt_tokens, completion_tokens, tokens_estimated, cost_usd, latency_ms,
                     outcome, fault, fallback_depth, retries, streamed, created_at)
                 SELECT w.id,
                        (SELECT b.id FROM brands b WHERE b.id = $1 AND b.workspace_id = w.id),
                        $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
                 FROM workspaces w WHERE w.id = $16",
            )
            .bind(call.brand.map(|brand| brand.0))
            .bind(&call.route)
            .bind(&call.provider)
            .bind(&call.model)
            .bind(i64::from(call.prompt_tokens))
            .bind(i64::from(call.completion_tokens))
            .bind(call.tokens_estimated)
            .bind(call.cost_usd.filter(|cost| cost.is_finite()))
            .bind(i64::try_from(call.latency_ms).unwrap_or(i64::MAX))
            .bind(call.outcome.as_str())
            .bind(call.fault.map(fault_name))
            .bind(i64::from(call.fallback_depth))
            .bind(i64::from(call.retries))
            .bind(call.streamed)
            .bind(call.created_at_ms)
            .bind(call.workspace.0)
            .execute(&mut *tx)
            .await?;
            written += result.rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    pub async fn list_llm_calls(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> Result<Vec<StoredLlmCall>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, brand_id, route, provider, model, prompt_tokens,
                    completion_tokens, tokens_estimated, cost_usd, latency_ms, outcome, fault,
                    fallback_depth, retries, streamed, created_at
             FROM llm_calls WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(workspace.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(llm_call_from_row).collect()
    }

    pub async fn llm_usage(
        &self,
        workspace: WorkspaceId,
        query: &UsageQuery,
    ) -> Result<Vec<UsageRow>> {
        let by = |group: UsageGroup| query.group_by.contains(&group);
        // One statement for every grouping: a dimension not asked for is the constant NULL,
        // which puts every call in the same group, so no SQL text is assembled at run time.
        // SUM of BIGINT is NUMERIC in PostgreSQL, hence the casts back; NULLS FIRST and
        // COLLATE "C" order the groups as SQLite does.
        let rows = sqlx::query(
            "SELECT CASE WHEN $1 THEN (created_at / 86400000) * 86400000 END AS day_key,
                    CASE WHEN $2 THEN model COLLATE \"C\" END AS model_key,
                    CASE WHEN $3 THEN route COLLATE \"C\" END AS route_key,
                    CASE WHEN $4 THEN brand_id END AS brand_key,
                    CASE WHEN $5 THEN provider COLLATE \"C\" END AS provider_key,
                    COUNT(*) AS calls,
                    SUM(CASE WHEN outcome IN ('failed', 'interrupted') THEN 1 ELSE 0 END)::bigint
                        AS failed,
                    SUM(prompt_tokens)::bigint AS prompt_tokens,
                    SUM(completion_tokens)::bigint AS completion_tokens,
                    COALESCE(SUM(cost_usd), 0.0::float8) AS cost_usd,
                    SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END)::bigint AS unpriced_calls
             FROM llm_calls
             WHERE workspace_id = $6 AND created_at >= $7 AND created_at < $8
               AND ($9::bigint IS NULL OR brand_id = $9)
             GROUP BY day_key, model_key, route_key, brand_key, provider_key
             ORDER BY day_key NULLS FIRST, model_key NULLS FIRST, route_key NULLS FIRST,
                      brand_key NULLS FIRST, provider_key NULLS FIRST",
        )
        .bind(by(UsageGroup::Day))
        .bind(by(UsageGroup::Model))
        .bind(by(UsageGroup::Route))
        .bind(by(UsageGroup::Brand))
        .bind(by(UsageGroup::Provider))
        .bind(workspace.0)
        .bind(query.since_ms.unwrap_or(i64::MIN))
        .bind(query.until_ms.unwrap_or(i64::MAX))
        .bind(query.brand.map(|brand| brand.0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(usage_row_from_row).collect()
    }

    pub async fn llm_cache_get(
        &self,
        scope: CacheScope,
        route: &str,
        key_hash: &ContentHash,
        now_ms: i64,
    ) -> Result<Option<CacheEntry>> {
        // COALESCE(brand_id, 0) is the unique index's expression: one index lookup.
        let row = sqlx::query(
            "SELECT id, response, created_at, expires_at FROM llm_cache
             WHERE workspace_id = $1 AND COALESCE(brand_id, 0) = $2 AND route = $3
               AND key_hash = $4 AND expires_at > $5",
        )
        .bind(scope.workspace.0)
        .bind(scope.brand.map_or(0, |brand| brand.0))
        .bind(route)
        .bind(&key_hash.0[..])
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(cache_entry_from_row).transpose()
    }

    pub async fn llm_cache_entry(
        &self,
        scope: CacheScope,
        id: i64,
        now_ms: i64,
    ) -> Result<Option<CacheEntry>> {
        let row = sqlx::query(
            "SELECT id, response, created_at, expires_at FROM llm_cache
             WHERE id = $1 AND workspace_id = $2 AND brand_id IS NOT DISTINCT FROM $3
               AND expires_at > $4",
        )
        .bind(id)
        .bind(scope.workspace.0)
        .bind(scope.brand.map(|brand| brand.0))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(cache_entry_from_row).transpose()
    }

    pub async fn llm_cache_similar(
        &self,
        scope: CacheScope,
        route: &str,
        context_hash: &ContentHash,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<(i64, Vec<f32>)>> {
        let rows = sqlx::query(
            "SELECT id, embedding FROM llm_cache
             WHERE workspace_id = $1 AND brand_id IS NOT DISTINCT FROM $2 AND route = $3
               AND context_hash = $4 AND expires_at > $5 AND embedding IS NOT NULL
             ORDER BY created_at DESC, id DESC LIMIT $6",
        )
        .bind(scope.workspace.0)
        .bind(scope.brand.map(|brand| brand.0))
        .bind(route)
        .bind(&context_hash.0[..])
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let embedding = vector_from_bytes(row.try_get::<&[u8], _>("embedding")?)?;
                Ok((row.try_get("id")?, embedding))
            })
            .collect()
    }

    pub async fn llm_cache_put(&self, entry: &NewCacheEntry) -> Result<bool> {
        // The WHERE admits the entry only when its brand is in its workspace, so a wrong
        // scope can never file an answer under another workspace's brand.
        let result = sqlx::query(
            "INSERT INTO llm_cache (workspace_id, brand_id, route, key_hash, context_hash,
                                    embedding, response, created_at, expires_at)
             SELECT w.id, $1, $2, $3, $4, $5, $6, $7, $8 FROM workspaces w
             WHERE w.id = $9
               AND ($1::bigint IS NULL OR EXISTS (SELECT 1 FROM brands b
                                                  WHERE b.id = $1 AND b.workspace_id = w.id))
             ON CONFLICT (workspace_id, COALESCE(brand_id, 0), route, key_hash) DO UPDATE SET
                 context_hash = excluded.context_hash, embedding = excluded.embedding,
                 response = excluded.response, created_at = excluded.created_at,
                 expires_at = excluded.expires_at",
        )
        .bind(entry.scope.brand.map(|brand| brand.0))
        .bind(&entry.route)
        .bind(&entry.key_hash.0[..])
        .bind(&entry.context_hash.0[..])
        .bind(entry.embedding.as_deref().map(vector_to_bytes))
        .bind(&entry.response)
        .bind(entry.created_at_ms)
        .bind(entry.expires_at_ms)
        .bind(entry.scope.workspace.0)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    pub async fn llm_cache_evict(
        &self,
        scope: CacheScope,
        route: &str,
        max_entries: u32,
        now_ms: i64,
    ) -> Result<u64> {
        let mut tx = self.pool.begin().await?;
        let expired = sqlx::query("DELETE FROM llm_cache WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let surplus = sqlx::query(
            "DELETE FROM llm_cache WHERE id IN (
                 SELECT id FROM llm_cache
                 WHERE workspace_id = $1 AND brand_id IS NOT DISTINCT FROM $2 AND route = $3
                 ORDER BY created_at DESC, id DESC OFFSET $4)",
        )
        .bind(scope.workspace.0)
        .bind(scope.brand.map(|brand| brand.0))
        .bind(route)
        .bind(i64::from(max_entries))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(expired + surplus)
    }
}

fn fault_name(fault: FaultKind) -> &'static str {
    match fault {
        FaultKind::User => "user",
        FaultKind::Transient => "transient",
        FaultKind::Bug => "bug",
    }
}

fn fault_from_name(name: &str) -> Result<FaultKind> {
    match name {
        "user" => Ok(FaultKind::User),
        "transient" => Ok(FaultKind::Transient),
        "bug" => Ok(FaultKind::Bug),
        other => Err(StoreError::Corrupt(format!("LLM call fault {other:?}"))),
    }
}

fn llm_call_from_row(row: &PgRow) -> Result<StoredLlmCall> {
    let outcome: &str = row.try_get("outcome")?;
    let small = |column: &str| -> Result<u32> {
        let value: i64 = row.try_get(column)?;
        u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} is {value}")))
    };
    Ok(StoredLlmCall {
        id: row.try_get("id")?,
        call: NewLlmCall {
            workspace: WorkspaceId(row.try_get("workspace_id")?),
            brand: row.try_get::<Option<i64>, _>("brand_id")?.map(BrandId),
            route: row.try_get("route")?,
            provider: row.try_get("provider")?,
            model: row.try_get("model")?,
            prompt_tokens: small("prompt_tokens")?,
            completion_tokens: small("completion_tokens")?,
            tokens_estimated: row.try_get("tokens_estimated")?,
            cost_usd: row.try_get("cost_usd")?,
            latency_ms: row.try_get::<i64, _>("latency_ms")?.max(0) as u64,
            outcome: outcome
                .parse()
                .map_err(|e: brandpilot_core::UnknownVariant| StoreError::Corrupt(e.to_string()))?,
            fault: row
                .try_get::<Option<&str>, _>("fault")?
                .map(fault_from_name)
                .transpose()?,
            fallback_depth: small("fallback_depth")?,
            retries: small("retries")?,
            streamed: row.try_get("streamed")?,
            created_at_ms: row.try_get("created_at")?,
        },
    })
}

fn usage_row_from_row(row: &PgRow) -> Result<UsageRow> {
    let count = |column: &str| -> Result<u64> {
        // Counts and token sums are never negative; a negative one would be corruption
        // better shown as zero than wrapped into a huge number.
        Ok(row.try_get::<i64, _>(column)?.max(0) as u64)
    };
    Ok(UsageRow {
        day_ms: row.try_get("day_key")?,
        model: row.try_get("model_key")?,
        route: row.try_get("route_key")?,
        brand: row.try_get::<Option<i64>, _>("brand_key")?.map(BrandId),
        provider: row.try_get("provider_key")?,
        calls: count("calls")?,
        failed: count("failed")?,
        prompt_tokens: count("prompt_tokens")?,
        completion_tokens: count("completion_tokens")?,
        cost_usd: row.try_get("cost_usd")?,
        unpriced_calls: count("unpriced_calls")?,
    })
}

fn cache_entry_from_row(row: &PgRow) -> Result<CacheEntry> {
    Ok(CacheEntry {
        id: row.try_get("id")?,
        response: row.try_get("response")?,
        created_at_ms: row.try_get("created_at")?,
        expires_at_ms: row.try_get("expires_at")?,
    })
}
