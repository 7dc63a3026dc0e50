//! Builds the LLM router from settings: which providers exist (the local model when none
//! is configured), which chain of providers each route tries, retry and breaker policy,
//! prices, and where call records go. Also answers `brandpilot models ls` without loading
//! any model.
//!
//! [`LlmService`] is what features call: a routed call attributed to a workspace and brand,
//! served from the answer cache when it can be, recorded in the store either way.
//!
//! Only providers that some route uses are built, so a configured-but-unused local model is
//! never loaded. Keys come from the settings or, preferably, from the environment variable
//! they name; they are never logged.

use crate::llm_cache::{AnswerCache, CacheHit, CacheScope};
use crate::llm_calls::{StoreCallSink, call_scope};
use crate::settings::{
    KNOWN_ROUTES, LOCAL_PROVIDER, LlmSettings, ProviderKind, ProviderSettings, Settings,
};
use crate::{AppError, Brandpilot, Result};
use brandpilot_core::{BrandId, WorkspaceId};
use brandpilot_llm::accounting::{CallSink, PriceTable};
use brandpilot_llm::anthropic::{AnthropicConfig, AnthropicProvider};
use brandpilot_llm::openai::{OpenAiConfig, OpenAiProvider};
use brandpilot_llm::{
    ApiKey, BreakerConfig, ChatProvider, ChatRequest, ChatResponse, EventStream, RoutePolicy,
    Router, StreamCollector, StreamEvent,
};
use brandpilot_llm_local::{GeneratorSettings, LocalProvider, LocalProviderOptions, resolve_gguf};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

/// The providers in effect: the configured ones, or the local default model alone.
pub fn effective_providers(llm: &LlmSettings) -> BTreeMap<String, ProviderSettings> {
    if llm.providers.is_empty() {
        BTreeMap::from([(LOCAL_PROVIDER.to_owned(), ProviderSettings::default())])
    } else {
        llm.providers.clone()
    }
}

/// Every route's chain: the known routes plus any configured one, each with its providers
/// in the order they are tried.
pub fn route_chains(llm: &LlmSettings) -> BTreeMap<String, Vec<String>> {
    let providers = effective_providers(llm);
    let default_chain = if llm.default_chain.is_empty() {
        // Hosted and self-hosted servers first, local models as the last resort.
        let mut names: Vec<&String> = providers.keys().collect();
        names.sort_by_key(|name| (providers[*name].kind == ProviderKind::Local, *name));
        names.into_iter().cloned().collect()
    } else {
        llm.default_chain.clone()
    };
    let mut chains: BTreeMap<String, Vec<String>> = KNOWN_ROUTES
        .iter()
        .map(|route| ((*route).to_owned(), default_chain.clone()))
        .collect();
    for (route, chain) in &llm.routes {
        chains.insert(route.clone(), chain.clone());
    }
    chains
}

/// One provider as `models ls` shows it.
#[derive(Debug, Clone)]
pub struct ProviderDescription {
    pub name: String,
    pub kind: ProviderKind,
    pub model: String,
    /// Remote: the base URL. Local: the GGUF file, when found.
    pub location: Option<String>,
    /// Why the provider cannot work as configured (missing file or key), if it cannot.
    pub problem: Option<String>,
}

/// What is configured, checked without loading models or calling anyone.
pub fn describe_providers(settings: &Settings) -> Vec<ProviderDescription> {
    effective_providers(&settings.llm)
        .into_iter()
        .map(|(name, provider)| {
            let (location, problem) = match provider.kind {
                ProviderKind::Local => match resolve_gguf(&provider.model, &settings.models_dir) {
                    Ok(path) => (Some(path.display().to_string()), None),
                    Err(error) => (None, Some(error.to_string())),
                },
                ProviderKind::Openai | ProviderKind::Anthropic => {
                    let problem = match (provider.kind, api_key(&provider)) {
                        (ProviderKind::Anthropic, Ok(None)) => Some("no API key".to_owned()),
                        (_, Err(error)) => Some(error.to_string()),
                        _ => None,
                    };
                    (Some(base_url(&provider)), problem)
                }
            };
            ProviderDescription {
                name,
                kind: provider.kind,
                model: provider.model,
                location,
                problem,
            }
        })
        .collect()
}

/// The router for these settings, sending one record per call to `sink`. Loads the local
/// models that routes use (blocking: call it off the async executor).
pub fn build_router(settings: &Settings, sink: Arc<dyn CallSink>) -> Result<Router> {
    let llm = &settings.llm;
    let providers = effective_providers(llm);
    let chains = route_chains(llm);
    let mut builder = Router::builder()
        .policy(RoutePolicy {
            timeout: Duration::from_secs(llm.timeout_secs.max(1)),
            max_retries: llm.max_retries,
            breaker: BreakerConfig {
                failure_threshold: llm.breaker_failures.max(1),
                cool_down: Duration::from_secs(llm.breaker_cool_down_secs),
            },
            ..RoutePolicy::default()
        })
        .sink(sink)
        .prices(
            llm.prices
                .iter()
                .fold(PriceTable::new(), |table, (model, price)| {
                    table.with(model.clone(), *price)
                }),
        );
    let used: std::collections::BTreeSet<&String> = chains.values().flatten().collect();
    for name in used {
        let provider = providers.get(name).ok_or_else(|| {
            AppError::Settings(format!(
                "an LLM route names provider {name:?}, which is not configured under \
                 [llm.providers]"
            ))
        })?;
        let (built, default_concurrency) = build_provider(settings, name, provider)?;
        let concurrency = match provider.max_concurrency {
            0 => default_concurrency,
            n => n,
        };
        builder = builder.provider(built, concurrency);
    }
    for (route, chain) in chains {
        builder = builder.route(route, chain);
    }
    Ok(builder.build()?)
}

fn build_provider(
    settings: &Settings,
    name: &str,
    provider: &ProviderSettings,
) -> Result<(Arc<dyn ChatProvider>, usize)> {
    match provider.kind {
        ProviderKind::Openai => {
            let config = OpenAiConfig {
                name: name.to_owned(),
                base_url: base_url(provider),
                api_key: api_key(provider)?,
                model: provider.model.clone(),
                max_completion_tokens: provider.max_completion_tokens,
            };
            Ok((Arc::new(OpenAiProvider::new(config)?), 8))
        }
        ProviderKind::Anthropic => {
            let key = api_key(provider)?.ok_or_else(|| {
                AppError::Settings(format!(
                    "LLM provider {name:?} (anthropic) needs api_key_env or api_key"
                ))
            })?;
            let config = AnthropicConfig {
                name: name.to_owned(),
                base_url: base_url(provider),
                api_key: key,
                model: provider.model.clone(),
            };
            Ok((Arc::new(AnthropicProvider::new(config)?), 8))
        }
        ProviderKind::Local => {
            let path = resolve_gguf(&provider.model, &settings.models_dir)
                .map_err(|error| AppError::Settings(format!("LLM provider {name:?}: {error}")))?;
            let mut options = LocalProviderOptions::new(name, provider.model.clone());
            options.generator = GeneratorSettings {
                threads: provider.threads,
                context_tokens: provider.context_tokens,
                ..GeneratorSettings::default()
            };
            // One generation at a time: the model has one context and all the cores.
            Ok((Arc::new(LocalProvider::load(&path, options)?), 1))
        }
    }
}

fn base_url(provider: &ProviderSettings) -> String {
    match (&provider.base_url, provider.kind) {
        (Some(url), _) => url.clone(),
        (None, ProviderKind::Anthropic) => "https://api.anthropic.com".into(),
        (None, _) => "https://api.openai.com/v1".into(),
    }
}

fn api_key(provider: &ProviderSettings) -> Result<Option<ApiKey>> {
    if let Some(key) = &provider.api_key {
        return Ok(Some(ApiKey::new(key.clone())));
    }
    match &provider.api_key_env {
        None => Ok(None),
        Some(variable) => match std::env::var(variable) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(ApiKey::new(key.trim().to_owned()))),
            _ => Err(AppError::Settings(format!(
                "environment variable {variable} (the API key for model {}) is not set",
                provider.model
            ))),
        },
    }
}

/// How capable the first model of `route` is, 1 (tiny) to 5: its `capability` setting, else
/// 1 for a local model and 3 for a hosted one.
pub fn route_capability(llm: &LlmSettings, route: &str) -> u8 {
    let chains = route_chains(llm);
    let providers = effective_providers(llm);
    chains
        .get(route)
        .and_then(|chain| chain.first())
        .and_then(|name| providers.get(name))
        .map_or(1, |provider| {
            provider.capability.unwrap_or(match provider.kind {
                ProviderKind::Local => 1,
                ProviderKind::Openai | ProviderKind::Anthropic => 3,
            })
        })
}

/// An [`LlmService`] built on first use: a server that answers extractively never loads a
/// model. A failed build is not kept, so the next call tries again (after a model is
/// pulled, say).
#[derive(Default)]
pub struct LazyLlm(tokio::sync::OnceCell<Arc<LlmService>>);

impl LazyLlm {
    pub async fn get(&self, app: &Brandpilot) -> Result<Arc<LlmService>> {
        self.0
            .get_or_try_init(|| async { LlmService::open(app).await.map(Arc::new) })
            .await
            .cloned()
    }

    /// Waits for the answer-cache writes still in flight, if the service was ever built:
    /// call before closing the app, whose store they write to.
    pub async fn flush(&self) {
        if let Some(service) = self.0.get() {
            service.flush().await;
        }
    }
}

/// Routed LLM calls for one workspace, cached and recorded. Cheap to share behind an `Arc`.
pub struct LlmService {
    router: Router,
    sink: Arc<StoreCallSink>,
    cache: Option<Arc<AnswerCache>>,
    workspace: brandpilot_core::WorkspaceId,
    /// Cache writes of streamed answers, started when a stream ends; `flush` awaits them.
    pending_cache_writes: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl LlmService {
    /// Builds the router (off the executor: local models load from disk), the store sink and
    /// the cache for `app`'s workspace.
    pub async fn open(app: &Brandpilot) -> Result<Self> {
        let sink = Arc::new(
            StoreCallSink::new(app.store.clone(), app.workspace)?.with_metrics(app.metrics.clone()),
        );
        let settings = app.settings.clone();
        let router_sink: Arc<dyn CallSink> = sink.clone();
        let router = crate::blocking(move || build_router(&settings, router_sink)).await?;
        let cache = if app.settings.llm.cache.enabled {
            Some(Arc::new(AnswerCache::new(
                app.settings.llm.cache.clone(),
                app.store.clone(),
                Arc::clone(app.embedder()),
                Arc::clone(app.token_counter()),
            )?))
        } else {
            None
        };
        Ok(Self {
            router,
            sink,
            cache,
            workspace: app.workspace,
            pending_cache_writes: Arc::default(),
        })
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    fn scope(&self, workspace: WorkspaceId, brand: Option<BrandId>) -> CacheScope {
        CacheScope { workspace, brand }
    }

    async fn cached(
        &self,
        scope: &CacheScope,
        route: &str,
        request: &ChatRequest,
    ) -> Option<CacheHit> {
        let cache = self.cache.as_ref()?;
        match cache.lookup(scope, route, request).await {
            Ok(hit) => hit,
            Err(error) => {
                tracing::warn!(%error, route, "answer cache unavailable; calling the model");
                None
            }
        }
    }

    /// One complete answer through `route`, for `brand` (or the workspace alone). The
    /// second value is the cache hit that served it, if one did.
    pub async fn complete(
        &self,
        brand: Option<BrandId>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<(ChatResponse, Option<CacheHit>)> {
        self.complete_in(self.workspace, brand, route, request)
            .await
    }

    /// [`Self::complete`] for another workspace than the service's own (a server serves
    /// them all): the call is cached and recorded under `workspace`.
    pub async fn complete_in(
        &self,
        workspace: WorkspaceId,
        brand: Option<BrandId>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<(ChatResponse, Option<CacheHit>)> {
        let scope = self.scope(workspace, brand);
        if let Some(hit) = self.cached(&scope, route, request).await {
            return Ok((hit.response.clone(), Some(hit)));
        }
        let response = self
            .router
            .scoped(call_scope(workspace, brand))
            .complete(route, request)
            .await?;
        if let Some(cache) = &self.cache
            && let Err(error) = cache.store(&scope, route, request, &response).await
        {
            tracing::warn!(%error, route, "answer not cached");
        }
        Ok((response, None))
    }

    /// A JSON answer satisfying the request's schema, through `route`, recorded under
    /// `workspace` and `brand` (see [`Router::complete_json`]). Never cached: structured
    /// output is asked for when a person wants a fresh draft.
    pub async fn complete_json_in(
        &self,
        workspace: WorkspaceId,
        brand: Option<BrandId>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<brandpilot_llm::StructuredResponse> {
        Ok(self
            .router
            .scoped(call_scope(workspace, brand))
            .complete_json(route, request)
            .await?)
    }

    /// A streamed answer through `route`. A cache hit streams the cached text as one delta;
    /// a fresh answer is cached once its stream has ended normally.
    pub async fn stream(
        &self,
        brand: Option<BrandId>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<(EventStream, Option<CacheHit>)> {
        self.stream_in(self.workspace, brand, route, request).await
    }

    /// [`Self::stream`] for another workspace than the service's own.
    pub async fn stream_in(
        &self,
        workspace: WorkspaceId,
        brand: Option<BrandId>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<(EventStream, Option<CacheHit>)> {
        let scope = self.scope(workspace, brand);
        if let Some(hit) = self.cached(&scope, route, request).await {
            let events = vec![
                Ok(StreamEvent::Delta(hit.response.text.clone())),
                Ok(StreamEvent::Done {
                    usage: hit.response.usage,
                    finish_reason: hit.response.finish_reason.clone(),
                }),
            ];
            return Ok((futures_util::stream::iter(events).boxed(), Some(hit)));
        }
        let inner = self
            .router
            .scoped(call_scope(workspace, brand))
            .stream(route, request)
            .await?;
        let Some(cache) = self.cache.clone() else {
            return Ok((inner, None));
        };
        let (route, request) = (route.to_owned(), request.clone());
        let pending = Arc::clone(&self.pending_cache_writes);
        let mut collector = Some(StreamCollector::default());
        let events = inner.inspect(move |event| {
            let Ok(event) = event else {
                // A failed stream is never cached.
                collector = None;
                return;
            };
            let Some(collecting) = collector.as_mut() else {
                return;
            };
            collecting.push(event.clone());
            if matches!(event, StreamEvent::Done { .. })
                && let Some(response) = collector.take().and_then(StreamCollector::finish)
            {
                let (cache, route, request) = (Arc::clone(&cache), route.clone(), request.clone());
                let write = tokio::spawn(async move {
                    if let Err(error) = cache.store(&scope, &route, &request, &response).await {
                        tracing::warn!(%error, route, "answer not cached");
                    }
                });
                let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
                pending.retain(|task| !task.is_finished());
                pending.push(write);
            }
        });
        Ok((events.boxed(), None))
    }

    /// Waits until every call record made so far, and every cache write of a finished
    /// stream, is in the store.
    pub async fn flush(&self) {
        let writes: Vec<_> = self
            .pending_cache_writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for write in writes {
            let _ = write.await;
        }
        self.sink.flush().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_nothing_configured_every_route_uses_the_local_model() {
        let chains = route_chains(&LlmSettings::default());
        for route in KNOWN_ROUTES {
            assert_eq!(chains[route], vec![LOCAL_PROVIDER.to_owned()]);
        }
    }

    #[test]
    fn configured_routes_win_and_others_fall_back_to_remote_then_local() {
        let mut llm = LlmSettings::default();
        for (name, kind) in [
            ("zz-local", ProviderKind::Local),
            ("openai", ProviderKind::Openai),
            ("anthropic", ProviderKind::Anthropic),
        ] {
            llm.providers.insert(
                name.into(),
                ProviderSettings {
                    kind,
                    ..ProviderSettings::default()
                },
            );
        }
        llm.routes
            .insert("classify".into(), vec!["zz-local".into()]);
        let chains = route_chains(&llm);
        assert_eq!(chains["classify"], vec!["zz-local"]);
        assert_eq!(chains["answer"], vec!["anthropic", "openai", "zz-local"]);
    }

    #[test]
    fn a_route_naming_an_unknown_provider_is_a_settings_error() {
        let mut settings = Settings::default();
        settings.llm.providers.insert(
            "openai".into(),
            ProviderSettings {
                kind: ProviderKind::Openai,
                model: "gpt-4o-mini".into(),
                ..ProviderSettings::default()
            },
        );
        settings
            .llm
            .routes
            .insert("answer".into(), vec!["openia".into()]);
        let Err(error) = build_router(
            &settings,
            Arc::new(brandpilot_llm::accounting::MemorySink::default()),
        ) else {
            panic!("a route to an unknown provider must not build");
        };
        assert!(error.to_string().contains("\"openia\""), "{error}");
    }

    #[test]
    fn a_missing_key_variable_is_named_in_the_error() {
        let provider = ProviderSettings {
            kind: ProviderKind::Openai,
            model: "gpt-4o-mini".into(),
            api_key_env: Some("BRANDPILOT_TEST_SURELY_UNSET_KEY".into()),
            ..ProviderSettings::default()
        };
        let error = api_key(&provider).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("BRANDPILOT_TEST_SURELY_UNSET_KEY")
        );
    }
}
