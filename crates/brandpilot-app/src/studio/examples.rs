//! A brand's examples library: past posts and scripts it is proud of, tagged by channel and
//! sector, with what they reached when the brand knows. Each example's embedding is cached
//! under its content hash (the same cache chunks use), so a generation finds the examples
//! that resemble its brief by cosine similarity without an index of its own: a library
//! holds at most [`MAX_EXAMPLES`], a brute-force scan of which takes well under a
//! millisecond. `brandpilot-studio::examples` decides which to show (similarity, channel,
//! sector, performance); this module loads, embeds and stores.
//!
//! An approved variant can be promoted to an example; it stays linked, so the performance
//! the brand later records for the variant keeps weighting the example.

use super::grounding::published_text;
use super::records::VariantContent;
use super::review::{PerformanceTotals, ReviewState};
use crate::{AppError, Brandpilot, Result, blocking};
use brandpilot_core::{ContentHash, ExampleId, VariantId};
use brandpilot_store::{
    Brand, ExampleFilter, ExampleRecord, ExampleTotals, ExampleUpdate, NewExample, StoreError,
};
use brandpilot_studio::Channel;
use brandpilot_studio::examples::{
    ExampleCandidate, ExampleWanted, choose_examples, cosine, performance_weights,
};
use brandpilot_studio::reel::Sector;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Examples one brand's library may hold.
pub const MAX_EXAMPLES: i64 = 1_000;
/// Characters an example may have (a long blog article).
pub const MAX_EXAMPLE_CHARS: usize = 20_000;
/// Characters an example's title may have.
const MAX_TITLE_CHARS: usize = 200;
/// Totals above this are not a post's real numbers.
const MAX_TOTAL: u64 = 1_000_000_000_000;

/// An example to add to the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleInput {
    /// What it was written for.
    pub channel: Channel,
    #[serde(default)]
    pub sector: Option<Sector>,
    #[serde(default)]
    pub title: Option<String>,
    /// The post or script as it was published.
    pub text: String,
    /// What it reached, when known.
    #[serde(default)]
    pub performance: Option<PerformanceTotals>,
}

/// New tags and totals for an example (its text never changes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleTags {
    pub channel: Channel,
    #[serde(default)]
    pub sector: Option<Sector>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub performance: Option<PerformanceTotals>,
}

/// An example as Studio returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: ExampleId,
    pub channel: Channel,
    pub sector: Option<Sector>,
    pub title: Option<String>,
    pub text: String,
    /// The variant it was promoted from; its performance is then the variant's.
    pub variant_id: Option<VariantId>,
    pub performance: Option<PerformanceTotals>,
    /// Likes, shares and clicks per view; `None` without views.
    pub engagement_rate: Option<f64>,
    pub created_by: String,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// An example a generation showed the model, and why it was chosen; kept in provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExampleUse {
    pub id: ExampleId,
    pub channel: Channel,
    #[serde(default)]
    pub sector: Option<Sector>,
    /// Cosine similarity of the example to the brief, −1 to 1.
    pub similarity: f64,
    /// How much its performance counted, 0.5–2 (1 when unmeasured).
    pub performance_weight: f64,
    /// What the choice was ranked by: relevance times performance weight.
    pub score: f64,
    /// The text shown (the prompt may shorten it).
    #[serde(skip)]
    pub text: String,
}

/// Which of a brand's examples to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExampleListing {
    pub channel: Option<Channel>,
    pub sector: Option<Sector>,
    pub before: Option<ExampleId>,
    pub limit: u32,
}

impl Brandpilot {
    /// Adds an example to the brand's library and embeds it, refusing an empty or
    /// oversized text, a full library, and a text the library already holds.
    pub async fn add_example(
        &self,
        brand: &Brand,
        input: ExampleInput,
        by: &str,
    ) -> Result<Example> {
        let text = input.text.trim().to_owned();
        check_text(&text)?;
        self.insert_example(
            brand,
            NewExample {
                brand: brand.id,
                channel: input.channel.code().to_owned(),
                sector: input.sector.map(sector_code),
                title: clean_title(input.title)?,
                content_hash: ContentHash::of(text.as_bytes()),
                text,
                variant: None,
                performance: input.performance.map(to_store_totals).transpose()?,
                created_by: by.to_owned(),
            },
        )
        .await
    }

    /// Adds an approved variant's published text to the library, linked to the variant so
    /// its recorded performance weights the example. A reel keeps its request's sector.
    pub async fn promote_variant(
        &self,
        brand: &Brand,
        id: VariantId,
        sector: Option<Sector>,
        by: &str,
    ) -> Result<Example> {
        let record = self
            .store
            .variant(brand.id, id)
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        if record.review_state != ReviewState::Approved.code() {
            return Err(AppError::Conflict(format!(
                "only an approved variant becomes an example; variant {} is {}",
                id.0, record.review_state
            )));
        }
        if let Some(existing) = self.store.example_of_variant(brand.id, id).await? {
            return Err(AppError::Conflict(format!(
                "variant {} is already example {}",
                id.0, existing.id.0
            )));
        }
        let generation = self
            .store
            .generation(brand.id, record.generation)
            .await?
            .ok_or(AppError::VariantNotFound(id.0))?;
        let channel = parse_channel(&generation.channel)?;
        let content: VariantContent = serde_json::from_str(&record.content_json)
            .map_err(|e| AppError::Task(format!("stored variant {}: {e}", id.0)))?;
        let text = published_text(channel, &content.fields).trim().to_owned();
        check_text(&text)?;
        let request_sector = serde_json::from_str::<serde_json::Value>(&generation.request_json)
            .ok()
            .and_then(|request| request.get("sector").cloned())
            .and_then(|sector| serde_json::from_value::<Sector>(sector).ok());
        self.insert_example(
            brand,
            NewExample {
                brand: brand.id,
                channel: channel.code().to_owned(),
                sector: sector.or(request_sector).map(sector_code),
                title: None,
                content_hash: ContentHash::of(text.as_bytes()),
                text,
                variant: Some(id),
                performance: None,
                created_by: by.to_owned(),
            },
        )
        .await
    }

    async fn insert_example(&self, brand: &Brand, example: NewExample) -> Result<Example> {
        if self.store.example_count(brand.id).await? >= MAX_EXAMPLES {
            return Err(AppError::Conflict(format!(
                "the examples library holds at most {MAX_EXAMPLES} examples; delete some first"
            )));
        }
        self.embed_examples(brand, &[(example.content_hash, example.text.clone())])
            .await?;
        match self.store.create_example(&example).await {
            Ok(record) => example_view(record),
            Err(StoreError::Conflict(_)) => Err(AppError::Conflict(
                "the examples library already holds this text".into(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// One of the brand's examples.
    pub async fn example(&self, brand: &Brand, id: ExampleId) -> Result<Example> {
        let record = self
            .store
            .example(brand.id, id)
            .await?
            .ok_or(AppError::ExampleNotFound(id.0))?;
        example_view(record)
    }

    /// The brand's examples, newest first.
    pub async fn examples(&self, brand: &Brand, listing: ExampleListing) -> Result<Vec<Example>> {
        let filter = ExampleFilter {
            channel: listing.channel.map(|c| c.code().to_owned()),
            sector: listing.sector.map(sector_code),
            before: listing.before,
            limit: listing.limit.clamp(1, 200),
        };
        self.store
            .examples(brand.id, &filter)
            .await?
            .into_iter()
            .map(example_view)
            .collect()
    }

    /// Replaces an example's tags and recorded performance.
    pub async fn update_example(
        &self,
        brand: &Brand,
        id: ExampleId,
        tags: ExampleTags,
    ) -> Result<Example> {
        let update = ExampleUpdate {
            brand: brand.id,
            id,
            channel: tags.channel.code().to_owned(),
            sector: tags.sector.map(sector_code),
            title: clean_title(tags.title)?,
            performance: tags.performance.map(to_store_totals).transpose()?,
        };
        let record = self
            .store
            .update_example(&update)
            .await?
            .ok_or(AppError::ExampleNotFound(id.0))?;
        example_view(record)
    }

    /// Removes an example from the library.
    pub async fn delete_example(&self, brand: &Brand, id: ExampleId) -> Result<()> {
        if !self.store.delete_example(brand.id, id).await? {
            return Err(AppError::ExampleNotFound(id.0));
        }
        Ok(())
    }

    /// The `k` examples a generation for `channel` (and `sector`) about `query` shows the
    /// model: the most similar, preferring the channel and sector, weighted by performance.
    pub(crate) async fn choose_examples(
        &self,
        brand: &Brand,
        channel: Channel,
        sector: Option<Sector>,
        query: &str,
        k: usize,
    ) -> Result<Vec<ExampleUse>> {
        if k == 0 {
            return Ok(Vec::new());
        }
        let library = self.library(brand).await?;
        if library.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<(ContentHash, String)> = library
            .iter()
            .map(|e| (e.content_hash, e.text.clone()))
            .collect();
        let vectors = self.embed_examples(brand, &texts).await?;
        let embedder = self.embedder.clone();
        let query = query.to_owned();
        let query_vector = blocking(move || {
            Ok(embedder
                .embed(&[query.as_str()])?
                .into_iter()
                .next()
                .unwrap_or_default())
        })
        .await?;
        let weights = performance_weights(
            &library
                .iter()
                .map(|e| e.performance().map(from_store_totals))
                .collect::<Vec<_>>(),
        );
        let candidates: Vec<ExampleCandidate> = library
            .iter()
            .zip(&weights)
            .map(|(example, weight)| ExampleCandidate {
                channel: parse_channel(&example.channel).unwrap_or(channel),
                sector: example.sector.as_deref().and_then(parse_sector),
                similarity: vectors
                    .get(&example.content_hash)
                    .map_or(0.0, |v| cosine(v, &query_vector)),
                performance_weight: *weight,
            })
            .collect();
        let chosen = choose_examples(&candidates, ExampleWanted { channel, sector }, k);
        Ok(chosen
            .into_iter()
            .map(|choice| {
                let (example, candidate) = (&library[choice.index], &candidates[choice.index]);
                ExampleUse {
                    id: example.id,
                    channel: candidate.channel,
                    sector: candidate.sector,
                    similarity: candidate.similarity,
                    performance_weight: candidate.performance_weight,
                    score: choice.score,
                    text: example.text.clone(),
                }
            })
            .collect())
    }

    /// Every example of the brand, newest first.
    pub(crate) async fn library(&self, brand: &Brand) -> Result<Vec<ExampleRecord>> {
        let all = ExampleFilter {
            limit: MAX_EXAMPLES as u32,
            ..Default::default()
        };
        Ok(self.store.examples(brand.id, &all).await?)
    }

    /// The embeddings of `texts` under the current model, embedding (and recording the
    /// tokens of) those the cache lacks.
    async fn embed_examples(
        &self,
        brand: &Brand,
        texts: &[(ContentHash, String)],
    ) -> Result<HashMap<ContentHash, Vec<f32>>> {
        let model = self.embedder.model_id().to_owned();
        let hashes: Vec<ContentHash> = texts.iter().map(|(hash, _)| *hash).collect();
        let mut cached = self.store.cached_embeddings(&model, &hashes).await?;
        let missing: Vec<(ContentHash, String)> = texts
            .iter()
            .filter(|(hash, _)| !cached.contains_key(hash))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(cached);
        }
        let tokens = missing
            .iter()
            .map(|(_, text)| self.token_counter().count(text) as u64)
            .sum();
        let embedded = self.embed_and_cache(missing).await?;
        self.record_embedding_usage(brand, tokens).await;
        cached.extend(embedded);
        Ok(cached)
    }
}

fn check_text(text: &str) -> Result<()> {
    if text.is_empty() {
        return Err(AppError::InvalidInput(
            "text: an example needs the words of the post".into(),
        ));
    }
    if text.chars().count() > MAX_EXAMPLE_CHARS {
        return Err(AppError::InvalidInput(format!(
            "text: an example has at most {MAX_EXAMPLE_CHARS} characters"
        )));
    }
    Ok(())
}

fn clean_title(title: Option<String>) -> Result<Option<String>> {
    let title = title.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if title
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_TITLE_CHARS)
    {
        return Err(AppError::InvalidInput(format!(
            "title: at most {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok(title)
}

fn to_store_totals(totals: PerformanceTotals) -> Result<ExampleTotals> {
    let values = [
        totals.views,
        totals.likes,
        totals.shares,
        totals.clicks,
        totals.conversions,
    ];
    if values.iter().any(|v| *v > MAX_TOTAL) {
        return Err(AppError::InvalidInput(format!(
            "performance: totals are at most {MAX_TOTAL}"
        )));
    }
    Ok(ExampleTotals {
        views: totals.views as i64,
        likes: totals.likes as i64,
        shares: totals.shares as i64,
        clicks: totals.clicks as i64,
        conversions: totals.conversions as i64,
    })
}

pub(super) fn from_store_totals(totals: ExampleTotals) -> PerformanceTotals {
    PerformanceTotals {
        views: totals.views.max(0) as u64,
        likes: totals.likes.max(0) as u64,
        shares: totals.shares.max(0) as u64,
        clicks: totals.clicks.max(0) as u64,
        conversions: totals.conversions.max(0) as u64,
    }
}

fn sector_code(sector: Sector) -> String {
    serde_json::to_value(sector)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_sector(code: &str) -> Option<Sector> {
    serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
}

fn parse_channel(code: &str) -> Result<Channel> {
    Channel::from_code(code)
        .ok_or_else(|| AppError::Task(format!("stored channel {code:?} is unknown")))
}

fn example_view(record: ExampleRecord) -> Result<Example> {
    let performance = record.performance().map(from_store_totals);
    Ok(Example {
        id: record.id,
        channel: parse_channel(&record.channel)?,
        sector: record.sector.as_deref().and_then(parse_sector),
        title: record.title,
        text: record.text,
        variant_id: record.variant,
        engagement_rate: performance
            .filter(|t| t.views > 0)
            .map(|t| t.engagements() as f64 / t.views as f64),
        performance,
        created_by: record.created_by,
        created_at_ms: record.created_at_ms,
        updated_at_ms: record.updated_at_ms,
    })
}
