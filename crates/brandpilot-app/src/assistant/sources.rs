//! Where a turn's evidence comes from: hybrid search of the brand for each query (the
//! question and its standalone rewrite), merged by reciprocal rank, policy-tagged sources
//! first for policy questions, and the customer's own record for account questions.

use super::turn::EndUser;
use crate::{Brandpilot, Result};
use brandpilot_assistant::evidence::EvidencePassage;
use brandpilot_assistant::profile::BrandProfile;
use brandpilot_assistant::route::Specialist;
use brandpilot_assistant::trace::TurnTrace;
use brandpilot_core::{ChunkId, Passage, SearchMode};
use brandpilot_store::Brand;
use serde_json::json;
use std::collections::HashMap;
use std::time::Instant;

use super::turn::Citation;

/// Sources of evidence for one turn: retrieved passages and, for the account specialist,
/// the customer's record.
pub(super) struct Sources {
    pub(super) passages: Vec<Passage>,
    pub(super) record: Option<String>,
}

impl Sources {
    pub(super) fn texts(&self) -> Vec<EvidencePassage<'_>> {
        let mut texts: Vec<EvidencePassage<'_>> = self
            .passages
            .iter()
            .map(|p| EvidencePassage {
                text: &p.text,
                semantic: p.vector_similarity,
            })
            .collect();
        if let Some(record) = &self.record {
            // The customer's record leads: for an account question it is the best evidence.
            texts.insert(
                0,
                EvidencePassage {
                    text: record,
                    semantic: None,
                },
            );
        }
        texts
    }

    pub(super) fn citation(&self, marker_in_evidence: usize, new_marker: usize) -> Citation {
        let offset = usize::from(self.record.is_some());
        if let Some(record) = &self.record
            && marker_in_evidence == 1
        {
            return Citation {
                marker: new_marker,
                kind: "customer_record".into(),
                chunk_id: None,
                source_id: None,
                title: "Your account".into(),
                origin: None,
                locator: None,
                quote: record.clone(),
            };
        }
        let passage = &self.passages[marker_in_evidence - 1 - offset];
        Citation {
            marker: new_marker,
            kind: "passage".into(),
            chunk_id: Some(passage.chunk_id),
            source_id: Some(passage.source_id),
            title: passage.source_title.clone(),
            origin: Some(passage.source_origin.clone()),
            locator: Some(passage.locator.clone()),
            quote: passage.text.clone(),
        }
    }
}

impl Brandpilot {
    /// Retrieves the passages (and, for an account question, the customer's record).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn gather(
        &self,
        brand: &Brand,
        profile: &BrandProfile,
        specialist: Specialist,
        end_user: &EndUser,
        message: &str,
        rewritten: Option<&str>,
        trace: &mut TurnTrace,
    ) -> Result<Sources> {
        let started = Instant::now();
        let k = self.settings.assistant.passages.max(1);
        let mut queries = vec![message.to_owned()];
        if let Some(rewritten) = rewritten {
            queries.push(rewritten.to_owned());
        }
        let mut passages: Vec<Passage> = Vec::new();
        let mut looked_in_policies = false;
        let mut embed_micros = 0;
        if specialist == Specialist::Policy && !profile.policy_tags.is_empty() {
            (passages, embed_micros) = self
                .multi_search(brand, &queries, k, &profile.policy_tags)
                .await?;
            looked_in_policies = !passages.is_empty();
        }
        if passages.is_empty() {
            let more;
            (passages, more) = self.multi_search(brand, &queries, k, &[]).await?;
            embed_micros += more;
        }
        let record = match (specialist, end_user.customer_id()) {
            (Specialist::Account, Some(customer)) => self
                .store
                .customer_record(brand.id, customer)
                .await?
                .map(|json| record_as_text(&json)),
            _ => None,
        };
        trace.record(
            "retrieve",
            started,
            json!({
                "queries": queries,
                "embed_micros": embed_micros,
                "policy_sources": looked_in_policies,
                "customer_record": record.is_some(),
                "passages": passages.iter().map(|p| json!({ "chunk_id": p.chunk_id, "source": p.source_title, "score": p.score, "similarity": p.vector_similarity })).collect::<Vec<_>>(),
            }),
        );
        Ok(Sources { passages, record })
    }

    /// Searches each query and merges the lists by reciprocal rank, best first; also the
    /// time spent embedding the queries (model time, which benchmarks separate out).
    async fn multi_search(
        &self,
        brand: &Brand,
        queries: &[String],
        k: usize,
        tags: &[String],
    ) -> Result<(Vec<Passage>, u64)> {
        let mut merged: HashMap<ChunkId, (f32, Passage)> = HashMap::new();
        let mut embed_micros = 0;
        for query in queries {
            let results = self
                .search(brand, query, k, SearchMode::Hybrid, tags)
                .await?;
            embed_micros += results.timings.embed_us;
            for (rank, passage) in results.passages.into_iter().enumerate() {
                let weight = 1.0 / (10.0 + rank as f32);
                let entry = merged
                    .entry(passage.chunk_id)
                    .or_insert((0.0, passage.clone()));
                entry.0 += weight;
                // Keep the best similarity any query saw.
                if passage.vector_similarity > entry.1.vector_similarity {
                    entry.1.vector_similarity = passage.vector_similarity;
                }
            }
        }
        let mut list: Vec<(f32, Passage)> = merged.into_values().collect();
        list.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.chunk_id.cmp(&b.1.chunk_id)));
        Ok((
            list.into_iter().take(k).map(|(_, p)| p).collect(),
            embed_micros,
        ))
    }
}

/// A customer record (a JSON object) as sentences the extractive answer can quote:
/// "orders: #1042 status shipped." one line per entry.
fn record_as_text(json: &str) -> String {
    let Ok(serde_json::Value::Object(record)) = serde_json::from_str::<serde_json::Value>(json)
    else {
        return String::new();
    };
    let mut lines = Vec::new();
    for (key, value) in record {
        let label = key.replace('_', " ");
        match value {
            serde_json::Value::Array(items) => {
                for item in items {
                    lines.push(format!("Your {label}: {}.", flatten(&item)));
                }
            }
            other => lines.push(format!("Your {label}: {}.", flatten(&other))),
        }
    }
    lines.join("\n\n")
}

fn flatten(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{} {}", k.replace('_', " "), flatten(v)))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(", "),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_record_reads_as_quotable_sentences() {
        let text = record_as_text(
            r#"{"enrolments": [{"course": "Pricing 101", "progress_percent": 40}], "plan": "pro"}"#,
        );
        assert_eq!(
            text,
            "Your enrolments: course Pricing 101, progress percent 40.\n\nYour plan: pro."
        );
        assert_eq!(record_as_text("[1,2]"), "");
    }
}
