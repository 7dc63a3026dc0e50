//! Client for OpenAI-compatible `POST {base_url}/v1/embeddings` endpoints (OpenAI, Ollama,
//! TEI, vLLM).
//!
//! Blocking on purpose (see the `Embedder` docs): call it from `spawn_blocking`, never from an
//! async worker. It must never log or put in an error the API key, and never guess at vectors
//! it did not receive: a response with the wrong count or length is an error.

use crate::{EmbedError, Embedder, Result, TokenCounter, l2_normalize};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A secret that prints as `***` in `Debug` and `Display`, so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; call only where it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Settings of an [`OpenAiEmbedder`].
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    /// Server root, e.g. `https://api.openai.com` or `http://localhost:11434`. A trailing
    /// `/v1` is accepted too, as OpenAI's SDKs spell it.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    pub model: String,
    /// Vector length; learned from the first response when `None`.
    pub dimensions: Option<usize>,
    /// Texts per request.
    pub batch_size: usize,
    /// Whole-request timeout, connection included.
    pub timeout: Duration,
    /// Content tokens the model reads (OpenAI's text-embedding-3: 8191).
    pub max_tokens: usize,
    /// Send `"encoding_format": "float"`. Some servers default to base64; a few old ones
    /// reject the field, hence the switch.
    pub send_encoding_format: bool,
    /// Longest wait before the one retry, whatever `Retry-After` asks for.
    pub max_retry_wait: Duration,
}

impl OpenAiConfig {
    /// Defaults: batches of 64, 30 s timeout, 512 tokens (what most local embedding servers
    /// read; raise it for OpenAI), float encoding requested, retry wait capped at 5 s.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            dimensions: None,
            batch_size: 64,
            timeout: Duration::from_secs(30),
            max_tokens: 512,
            send_encoding_format: true,
            max_retry_wait: Duration::from_secs(5),
        }
    }
}

/// Embeds through an OpenAI-compatible HTTP API.
///
/// Without a token counter it cannot tell whether a text is too long, so the provider
/// decides (OpenAI rejects with a 400, which becomes [`EmbedError::Rejected`]). Give it the
/// model's tokenizer with [`OpenAiEmbedder::with_token_counter`] to get
/// [`EmbedError::TooLong`] before any request is sent.
pub struct OpenAiEmbedder {
    config: OpenAiConfig,
    client: reqwest::blocking::Client,
    url: String,
    model_id: String,
    learned_dimensions: OnceLock<usize>,
    token_counter: Option<Arc<dyn TokenCounter>>,
}

impl fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What one attempt's failure allows.
enum AttemptError {
    /// Worth one more try after the wait the server asked for, if any.
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    Final(EmbedError),
}

#[derive(Deserialize)]
struct EmbeddingResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// Builds the client; sends nothing. Must not be called on an async worker thread.
    pub fn new(config: OpenAiConfig) -> Result<Self> {
        if config.batch_size == 0 {
            return Err(EmbedError::Config("batch_size must be at least 1".into()));
        }
        if config.model.trim().is_empty() {
            return Err(EmbedError::Config(
                "the embedding model name is empty".into(),
            ));
        }
        let root = config.base_url.trim_end_matches('/');
        let url = if root.ends_with("/v1") {
            format!("{root}/embeddings")
        } else {
            format!("{root}/v1/embeddings")
        };
        reqwest::Url::parse(&url)
            .map_err(|e| EmbedError::Config(format!("base_url {:?}: {e}", config.base_url)))?;
        let client = reqwest::blocking::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| EmbedError::Config(format!("HTTP client: {e}")))?;
        let model_id = format!("openai:{}", config.model);
        Ok(Self {
            config,
            client,
            url,
            model_id,
            learned_dimensions: OnceLock::new(),
            token_counter: None,
        })
    }

    /// Checks every text against `max_tokens` with `counter` before sending.
    pub fn with_token_counter(mut self, counter: Arc<dyn TokenCounter>) -> Self {
        self.token_counter = Some(counter);
        self
    }

    /// Embeds one short text to learn (or confirm) the vector length; call at start-up when
    /// `dimensions` was not configured.
    pub fn probe(&self) -> Result<usize> {
        self.embed(&["dimension probe"])?;
        Ok(self.dimensions())
    }

    fn expected_dimensions(&self) -> Option<usize> {
        self.config
            .dimensions
            .or_else(|| self.learned_dimensions.get().copied())
    }

    fn embed_batch(&self, batch: &[&str]) -> Result<Vec<Vec<f32>>> {
        let reason = match self.attempt(batch) {
            Ok(vectors) => return Ok(vectors),
            Err(AttemptError::Final(error)) => return Err(error),
            Err(AttemptError::Retryable {
                reason,
                retry_after,
            }) => {
                let wait = retry_after.unwrap_or(Duration::from_millis(500));
                let wait = wait.min(self.config.max_retry_wait);
                tracing::debug!(%reason, wait_ms = wait.as_millis() as u64, "retrying embedding request once");
                std::thread::sleep(wait);
                reason
            }
        };
        match self.attempt(batch) {
            Ok(vectors) => Ok(vectors),
            Err(AttemptError::Final(error)) => Err(error),
            Err(AttemptError::Retryable { reason: again, .. }) => Err(EmbedError::Unavailable(
                format!("{again} (after a retry; first attempt: {reason})"),
            )),
        }
    }

    fn attempt(&self, batch: &[&str]) -> std::result::Result<Vec<Vec<f32>>, AttemptError> {
        let mut body = serde_json::json!({ "model": self.config.model, "input": batch });
        if self.config.send_encoding_format {
            body["encoding_format"] = "float".into();
        }
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key.expose());
        }
        tracing::debug!(url = %self.url, texts = batch.len(), "embedding request");
        let response = request.send().map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            // try_: a hostile or broken header ("1e300", "-1") must not panic the client.
            .and_then(|secs| Duration::try_from_secs_f64(secs).ok());
        let bytes = response.bytes().map_err(|e| self.transport_error(e))?;

        if status.as_u16() == 429 || status.is_server_error() {
            return Err(AttemptError::Retryable {
                reason: format!("HTTP {}: {}", status.as_u16(), provider_message(&bytes)),
                retry_after,
            });
        }
        if status.is_client_error() {
            return Err(AttemptError::Final(EmbedError::Rejected {
                status: status.as_u16(),
                message: provider_message(&bytes),
            }));
        }
        if !status.is_success() {
            return Err(AttemptError::Final(EmbedError::Protocol(format!(
                "unexpected HTTP {}",
                status.as_u16()
            ))));
        }
        let parsed: EmbeddingResponse = serde_json::from_slice(&bytes).map_err(|e| {
            AttemptError::Final(EmbedError::Protocol(format!(
                "response is not an embedding list: {e}"
            )))
        })?;
        self.order_and_check(batch.len(), parsed)
            .map_err(AttemptError::Final)
    }

    fn transport_error(&self, error: reqwest::Error) -> AttemptError {
        // reqwest's message names the URL, never headers, so it cannot carry the key.
        let reason = if error.is_timeout() {
            format!(
                "no answer from {} within {:?}",
                self.url, self.config.timeout
            )
        } else if error.is_connect() {
            format!("cannot connect to {}: {error}", self.url)
        } else {
            format!("request to {} failed: {error}", self.url)
        };
        AttemptError::Retryable {
            reason,
            retry_after: None,
        }
    }

    /// Puts vectors in input order by their `index`, checks count and length, normalises.
    fn order_and_check(
        &self,
        expected_count: usize,
        response: EmbeddingResponse,
    ) -> Result<Vec<Vec<f32>>> {
        if response.data.len() != expected_count {
            return Err(EmbedError::Protocol(format!(
                "{} vectors for {expected_count} texts",
                response.data.len()
            )));
        }
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected_count];
        for item in response.data {
            let slot = slots.get_mut(item.index).ok_or_else(|| {
                EmbedError::Protocol(format!(
                    "index {} out of range for {expected_count} texts",
                    item.index
                ))
            })?;
            if slot.replace(item.embedding).is_some() {
                return Err(EmbedError::Protocol(format!(
                    "index {} appears twice",
                    item.index
                )));
            }
        }
        let mut vectors = Vec::with_capacity(expected_count);
        for mut vector in slots.into_iter().flatten() {
            if vector.is_empty() {
                return Err(EmbedError::Protocol("an empty vector".into()));
            }
            let expected = match self.expected_dimensions() {
                Some(expected) => expected,
                None => *self.learned_dimensions.get_or_init(|| vector.len()),
            };
            if vector.len() != expected {
                return Err(EmbedError::DimensionMismatch {
                    expected,
                    actual: vector.len(),
                });
            }
            l2_normalize(&mut vector);
            vectors.push(vector);
        }
        Ok(vectors)
    }
}

/// The provider's own explanation: OpenAI's `{"error": {"message"}}`, TEI's and Ollama's
/// `{"error": "..."}`, else the start of the body.
fn provider_message(body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let from_json = json.as_ref().and_then(|v| {
        let error = v.get("error")?;
        error
            .get("message")
            .and_then(|m| m.as_str())
            .or_else(|| error.as_str())
            .map(str::to_owned)
    });
    from_json.unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            "(empty body)".to_owned()
        } else {
            text.chars().take(300).collect()
        }
    })
}

impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    /// 0 until the first response when not configured; see [`OpenAiEmbedder::probe`].
    fn dimensions(&self) -> usize {
        self.expected_dimensions().unwrap_or(0)
    }

    fn max_tokens(&self) -> usize {
        self.config.max_tokens
    }

    fn is_semantic(&self) -> bool {
        true
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        if let Some(counter) = &self.token_counter {
            for (index, text) in texts.iter().enumerate() {
                let tokens = counter.count(text);
                if tokens > self.config.max_tokens {
                    return Err(EmbedError::TooLong {
                        index,
                        tokens,
                        max_tokens: self.config.max_tokens,
                        model: self.model_id.clone(),
                    });
                }
            }
        }
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size) {
            vectors.extend(self.embed_batch(batch)?);
        }
        Ok(vectors)
    }
}
