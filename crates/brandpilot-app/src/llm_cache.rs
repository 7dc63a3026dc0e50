//! The LLM answer cache: serves an earlier answer instead of calling a model again, when the
//! request is exactly the same (exact path) or when only the question is worded differently
//! and everything around it is the same (similarity path). Entries live in the store, per
//! workspace, brand and route, until their TTL runs out or newer ones push them out.
//!
//! What is cached, and what never is:
//! * only routes listed in `llm.cache.routes`, and nothing at all when the cache is disabled;
//! * never a request that offers tools, nor an answer that called tools, was cut short
//!   (`Length`), filtered, or ended any other way than `Stop`, nor an empty answer;
//! * never a creative route's request ([`CREATIVE_ROUTES`]) sampled above temperature 0 —
//!   a temperature left unset counts as above 0, the providers' default — because asking
//!   again there means wanting a new draft.
//!
//! The exact key is SHA-256 of a canonical JSON of the route and the whole request. The
//! similarity path embeds the **last user message only**, and an entry may serve a different
//! question only if the *context hash* — everything in the request but that message's text,
//! plus the embedder's identity — is equal, and the cosine of the two questions reaches
//! `similarity_threshold`. So an answer grounded in some retrieved passages is never served
//! with other passages: callers must put retrieved context in the system prompt or earlier
//! messages, never in the last user message, or the context hash cannot see it. The
//! similarity path is skipped when the threshold is 1.0 or more, when the request does not
//! end with a user message, and when that message is longer than the embedder reads.
//!
//! # Errors
//! [`AnswerCache::lookup`] and [`AnswerCache::store`] return errors (database, embedder,
//! a corrupt entry) so they can be logged where the request is known, but a cache error must
//! never fail the caller's LLM call: the caller logs it and proceeds as on a miss. An entry
//! that cannot be read is replaced by the next `store` of the same request.
//!
//! This module must never call a model itself, and never look outside the caller's scope.

use crate::settings::LlmCacheSettings;
use crate::{AppError, Result, blocking};
use brandpilot_core::ContentHash;
use brandpilot_embed::{Embedder, TokenCounter};
use brandpilot_llm::{ChatRequest, ChatResponse, FinishReason, Role, Usage};
use brandpilot_store::{NewCacheEntry, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

pub use brandpilot_store::CacheScope;

/// Routes whose answers are drafts: cached only when sampled at temperature 0.
pub const CREATIVE_ROUTES: [&str; 2] = ["generate", "rewrite"];

/// Similarity candidates compared per lookup, newest first: bounds the work of a lookup
/// whatever `max_entries` is (256 MiniLM vectors are 384 KiB and well under a millisecond).
const MAX_CANDIDATES: u32 = 256;

/// Question embeddings remembered between a lookup that missed and the `store` after the
/// model answered, so the same question is not embedded twice.
const EMBEDDING_MEMO: usize = 64;

/// Bumped whenever what goes into a key changes, so old entries simply stop matching.
const KEY_VERSION: u32 = 1;

/// Milliseconds since the Unix epoch; replaceable in tests.
pub type WallClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A cached answer served for a request.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheHit {
    /// The answer as the model gave it, with the usage of that original call (serving it
    /// costs nothing: no call record is made for a hit).
    pub response: ChatResponse,
    /// Cosine of the two questions; 1.0 for an exact hit.
    pub similarity: f32,
    /// The request was exactly the cached one.
    pub exact: bool,
}

/// The answer cache; see the module documentation. Cheap to share behind an `Arc`.
pub struct AnswerCache {
    settings: LlmCacheSettings,
    store: Store,
    embedder: Arc<dyn Embedder>,
    counter: Arc<dyn TokenCounter>,
    clock: WallClock,
    memo: Mutex<VecDeque<(ContentHash, Arc<Vec<f32>>)>>,
}

/// What is kept of an answer: only stopped, tool-free answers are cached, so the text and
/// the usage are all there is.
#[derive(Serialize, Deserialize)]
struct StoredAnswer {
    text: String,
    usage: Option<Usage>,
}

/// The parts of a request the cache looks at, computed once per call.
struct Keys<'a> {
    exact: ContentHash,
    /// The last user message and the hash of everything else, when the similarity path
    /// applies to this request.
    similar: Option<(&'a str, ContentHash)>,
}

impl AnswerCache {
    /// `embedder` and `counter` are the pair from [`crate::build_embedder`]: the counter must
    /// count the embedder's tokens, or over-long questions are not recognised.
    pub fn new(
        settings: LlmCacheSettings,
        store: Store,
        embedder: Arc<dyn Embedder>,
        counter: Arc<dyn TokenCounter>,
    ) -> Result<Self> {
        let threshold = settings.similarity_threshold;
        if threshold.is_nan() || threshold <= 0.0 {
            return Err(AppError::Settings(format!(
                "llm.cache.similarity_threshold is {threshold}: use a cosine in (0, 1], such as \
                 0.95 (1.0 keeps only exact matches); 0 or less would serve any cached answer \
                 for any question"
            )));
        }
        Ok(Self {
            settings,
            store,
            embedder,
            counter,
            clock: Arc::new(crate::llm_calls::now_ms),
            memo: Mutex::new(VecDeque::new()),
        })
    }

    /// Replaces the wall clock (tests of expiry).
    pub fn with_clock(mut self, clock: WallClock) -> Self {
        self.clock = clock;
        self
    }

    /// A cached answer for `request` on `route` in `scope`, or `None`. An error means the
    /// cache could not be consulted: log it and call the model.
    pub async fn lookup(
        &self,
        scope: &CacheScope,
        route: &str,
        request: &ChatRequest,
    ) -> Result<Option<CacheHit>> {
        if !self.accepts(route, request) {
            return Ok(None);
        }
        let keys = self.keys(route, request)?;
        let now = (self.clock)();
        if let Some(entry) = self
            .store
            .llm_cache_get(*scope, route, &keys.exact, now)
            .await?
        {
            return Ok(Some(CacheHit {
                response: decode(entry.id, &entry.response)?,
                similarity: 1.0,
                exact: true,
            }));
        }
        let Some((question, context)) = keys.similar else {
            return Ok(None);
        };
        let candidates = self
            .store
            .llm_cache_similar(*scope, route, &context, now, MAX_CANDIDATES)
            .await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let query = self.embed_question(question).await?;
        let best = candidates
            .iter()
            .map(|(id, vector)| (*id, cosine(&query, vector)))
            .filter(|(_, similarity)| *similarity >= self.settings.similarity_threshold)
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((id, similarity)) = best else {
            return Ok(None);
        };
        // The entry may have expired or been evicted since the candidates were read: a miss.
        let Some(entry) = self.store.llm_cache_entry(*scope, id, now).await? else {
            return Ok(None);
        };
        Ok(Some(CacheHit {
            response: decode(entry.id, &entry.response)?,
            similarity,
            exact: false,
        }))
    }

    /// Keeps `response` as the answer to `request` on `route` in `scope`, if the rules allow
    /// (see the module documentation), then evicts expired and surplus entries. An error
    /// means nothing may have been kept: log it and carry on.
    pub async fn store(
        &self,
        scope: &CacheScope,
        route: &str,
        request: &ChatRequest,
        response: &ChatResponse,
    ) -> Result<()> {
        let ttl_ms =
            i64::try_from(self.settings.ttl_secs.saturating_mul(1_000)).unwrap_or(i64::MAX);
        let max_entries = u32::try_from(self.settings.max_entries).unwrap_or(u32::MAX);
        if !self.accepts(route, request)
            || !cacheable_answer(response)
            || ttl_ms == 0
            || max_entries == 0
        {
            return Ok(());
        }
        let keys = self.keys(route, request)?;
        let (embedding, context) = match keys.similar {
            Some((question, context)) => match self.embed_question(question).await {
                Ok(vector) => (Some(vector.as_ref().clone()), context),
                Err(error) => {
                    // The exact path still works without the vector.
                    tracing::warn!(%error, "question not embedded; cached for exact matches only");
                    (None, context)
                }
            },
            None => (None, self.context_hash(route, request)?),
        };
        let answer = StoredAnswer {
            text: response.text.clone(),
            usage: response.usage,
        };
        let now = (self.clock)();
        let entry = NewCacheEntry {
            scope: *scope,
            route: route.to_owned(),
            key_hash: keys.exact,
            context_hash: context,
            embedding,
            response: serde_json::to_string(&answer).map_err(|error| {
                AppError::Task(format!("cannot serialise a cached answer: {error}"))
            })?,
            created_at_ms: now,
            expires_at_ms: now.saturating_add(ttl_ms),
        };
        if !self.store.llm_cache_put(&entry).await? {
            tracing::warn!(
                ?scope,
                "answer not cached: the scope's brand is not in its workspace"
            );
            return Ok(());
        }
        self.store
            .llm_cache_evict(*scope, route, max_entries, now)
            .await?;
        Ok(())
    }

    /// The rules that depend on the route and request only.
    fn accepts(&self, route: &str, request: &ChatRequest) -> bool {
        let settings = &self.settings;
        if !settings.enabled || !settings.routes.iter().any(|listed| listed == route) {
            return false;
        }
        if !request.tools.is_empty() {
            return false;
        }
        let sampled = request
            .temperature
            .is_none_or(|temperature| temperature > 0.0);
        !(CREATIVE_ROUTES.contains(&route) && sampled)
    }

    fn keys<'a>(&self, route: &str, request: &'a ChatRequest) -> Result<Keys<'a>> {
        let exact = hash_json(&serde_json::json!({
            "version": KEY_VERSION,
            "route": route,
            "request": request,
        }))?;
        let similar = match last_user_message(request) {
            Some(question) if self.similarity_applies(question) => {
                Some((question, self.context_hash(route, request)?))
            }
            _ => None,
        };
        Ok(Keys { exact, similar })
    }

    fn similarity_applies(&self, question: &str) -> bool {
        self.settings.similarity_threshold < 1.0
            && self.counter.count(question) <= self.embedder.max_tokens()
    }

    /// Everything in the request but the last user message's text, with the route and the
    /// embedder (vectors of two models are never compared).
    fn context_hash(&self, route: &str, request: &ChatRequest) -> Result<ContentHash> {
        let mut request = serde_json::to_value(request).map_err(key_error)?;
        if let Some(last) = request
            .get_mut("messages")
            .and_then(serde_json::Value::as_array_mut)
            .and_then(|messages| messages.last_mut())
            .and_then(serde_json::Value::as_object_mut)
        {
            last.insert("content".into(), serde_json::Value::Null);
        }
        hash_json(&serde_json::json!({
            "version": KEY_VERSION,
            "route": route,
            "embedder": self.embedder.model_id(),
            "request": request,
        }))
    }

    /// The question's embedding, from the memo or the embedder (on the blocking pool).
    async fn embed_question(&self, question: &str) -> Result<Arc<Vec<f32>>> {
        let key =
            ContentHash::of_parts(&[self.embedder.model_id().as_bytes(), question.as_bytes()]);
        if let Some(vector) = self
            .memo()
            .iter()
            .find(|(memo_key, _)| *memo_key == key)
            .map(|(_, vector)| vector.clone())
        {
            return Ok(vector);
        }
        let embedder = self.embedder.clone();
        let text = question.to_owned();
        let vector = blocking(move || {
            let mut vectors = embedder.embed(&[text.as_str()])?;
            vectors
                .pop()
                .ok_or_else(|| AppError::Task("the embedder returned no vector".into()))
        })
        .await?;
        let vector = Arc::new(vector);
        let mut memo = self.memo();
        if memo.len() >= EMBEDDING_MEMO {
            memo.pop_front();
        }
        memo.push_back((key, vector.clone()));
        Ok(vector)
    }

    fn memo(&self) -> std::sync::MutexGuard<'_, VecDeque<(ContentHash, Arc<Vec<f32>>)>> {
        self.memo.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Only whole, final, tool-free answers are worth serving again.
fn cacheable_answer(response: &ChatResponse) -> bool {
    response.finish_reason == FinishReason::Stop
        && response.tool_calls.is_empty()
        && !response.text.trim().is_empty()
}

/// The text of the last message when it is the user's.
fn last_user_message(request: &ChatRequest) -> Option<&str> {
    request
        .messages
        .last()
        .filter(|message| message.role == Role::User)
        .map(|message| message.content.as_str())
}

fn decode(id: i64, json: &str) -> Result<ChatResponse> {
    let answer: StoredAnswer = serde_json::from_str(json).map_err(|error| {
        AppError::Store(StoreError::Corrupt(format!("cached answer {id}: {error}")))
    })?;
    Ok(ChatResponse {
        text: answer.text,
        tool_calls: Vec::new(),
        usage: answer.usage,
        finish_reason: FinishReason::Stop,
        served_by: None,
    })
}

/// SHA-256 of the JSON text. serde_json writes struct fields in declaration order and map
/// keys sorted (no `preserve_order` in this build), so equal requests give equal bytes.
fn hash_json(value: &serde_json::Value) -> Result<ContentHash> {
    let bytes = serde_json::to_vec(value).map_err(key_error)?;
    Ok(ContentHash::of(&bytes))
}

fn key_error(error: serde_json::Error) -> AppError {
    AppError::Task(format!("cannot build a cache key: {error}"))
}

/// Cosine similarity; 0 for vectors of different lengths (another model) or zero length.
fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut norm_a, mut norm_b) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    dot / (norm_a.sqrt() * norm_b.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_is_one_for_parallel_and_zero_for_mismatched_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }
}
