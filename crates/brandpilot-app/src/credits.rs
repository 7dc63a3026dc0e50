//! Credits: a workspace's monthly allowance of model work (LLM calls and embeddings), from
//! its plan (see [`crate::plans`]). Use is counted from the model-call records (every LLM call and
//! every ingestion's embeddings is one), in tokens, per UTC calendar month.
//!
//! Work is checked before it starts and debited after it ran (its tokens are known only
//! then), so the last job or call of a month can overshoot the allowance by its own size;
//! everything after it is refused until the month turns.

use crate::{AppError, Brandpilot, Result};
use brandpilot_core::WorkspaceId;
use brandpilot_store::UsageQuery;

/// A workspace's credits this month.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditStatus {
    pub plan: String,
    pub used: u64,
    /// `None`: no limit.
    pub limit: Option<u64>,
    /// When the month turns (Unix ms).
    pub resets_at_ms: i64,
}

impl Brandpilot {
    /// The workspace's plan, its credits used this month and when they reset.
    pub async fn credits(&self, workspace: WorkspaceId) -> Result<CreditStatus> {
        let billing = &self.settings.billing;
        let plan = self.plan(workspace).await?;
        let limit = plan.monthly_credits;
        let now = crate::llm_calls::now_ms();
        let (month_start, resets_at_ms) = month_bounds(now);
        let used = match limit {
            // Nothing to count against: spare the query.
            None => 0,
            Some(_) => {
                let rows = self
                    .store
                    .llm_usage(
                        workspace,
                        &UsageQuery {
                            since_ms: Some(month_start),
                            until_ms: None,
                            group_by: Vec::new(),
                            brand: None,
                        },
                    )
                    .await?;
                let tokens: u64 = rows
                    .iter()
                    .map(|row| row.prompt_tokens + row.completion_tokens)
                    .sum();
                tokens / billing.tokens_per_credit.max(1)
            }
        };
        Ok(CreditStatus {
            plan: plan.name,
            used,
            limit,
            resets_at_ms,
        })
    }

    /// Refuses with [`AppError::CreditsExhausted`] when the workspace has used its month.
    pub async fn check_credits(&self, workspace: WorkspaceId) -> Result<()> {
        let status = self.credits(workspace).await?;
        match status.limit {
            Some(limit) if status.used >= limit => Err(AppError::CreditsExhausted {
                used: status.used,
                limit,
                resets_at_ms: status.resets_at_ms,
            }),
            _ => Ok(()),
        }
    }
}

/// The start of the UTC calendar month holding `now_ms`, and the start of the next one.
fn month_bounds(now_ms: i64) -> (i64, i64) {
    let days = now_ms.div_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let start = days - i64::from(day - 1);
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let next = days_from_civil(next_year, next_month, 1);
    (start * 86_400_000, next * 86_400_000)
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse: (year, month, day) to days since 1970-01-01.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn months_start_on_the_first_at_midnight_utc_and_turn_over_years() {
        // 2026-11-24T08:00:00Z is in November 2026.
        let (start, next) = month_bounds(1_795_478_400_000 + 8 * 3_600_000);
        assert_eq!(start, 1_793_491_200_000, "2026-11-01T00:00:00Z");
        assert_eq!(next, 1_796_083_200_000, "2026-12-01T00:00:00Z");
        // December rolls into January of the next year; February 2028 has 29 days.
        let (_, january) = month_bounds(1_796_083_200_000 + DAY);
        assert_eq!(january, 1_798_761_600_000, "2027-01-01T00:00:00Z");
        let (feb, march) = month_bounds(days_from_civil(2028, 2, 15) * DAY);
        assert_eq!((march - feb) / DAY, 29);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        // The first instant of a month belongs to it, the last to the one before.
        let first = 1_793_491_200_000;
        assert_eq!(month_bounds(first).0, first);
        assert_eq!(month_bounds(first - 1).1, first);
    }
}
