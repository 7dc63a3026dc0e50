//! The router: named routes (`answer`, `classify`, … — names come from configuration), each
//! an ordered chain of providers, and the policy that gets a call through them: a per-call
//! timeout, a concurrency limit and a circuit breaker per provider, retries with exponential
//! backoff and jitter that honour `Retry-After`, and fallback to the next provider on
//! transient errors. Every routed call produces one [`CallRecord`].
//!
//! It must never fall back on the caller's errors (a bad request fails the same everywhere),
//! and never fall back once part of a stream was delivered: text must not be duplicated.

use crate::accounting::{
    CallOutcome, CallRecord, CallSink, PriceTable, TokenCounter, TracingSink, estimate_tokens,
};
use crate::breaker::{Admission, BreakerConfig, BreakerState, CircuitBreaker, Clock, SystemClock};
use crate::error::{LlmError, Result};
use crate::provider::{ChatProvider, EventStream};
use crate::structured::StructuredResponse;
use crate::types::{ChatRequest, ChatResponse, ServedBy, StreamEvent, Usage};
use brandpilot_core::{Fault, FaultKind};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How calls are attempted, shared by all routes of a router.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutePolicy {
    /// Per attempt: the whole answer for `complete`; for `stream`, the first event and then
    /// each gap between events. Waiting for a concurrency slot is bounded by it too.
    pub timeout: Duration,
    /// Retries on the same provider after its first attempt, for transient errors.
    pub max_retries: u32,
    /// The first backoff; it doubles per retry up to `backoff_max`, with jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured; a provider asking for more is left for the next
    /// one in the chain instead of being waited for.
    pub retry_after_cap: Duration,
    pub breaker: BreakerConfig,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_retries: 2,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(30),
            breaker: BreakerConfig::default(),
        }
    }
}

struct Slot {
    provider: Arc<dyn ChatProvider>,
    permits: Arc<Semaphore>,
    breaker: CircuitBreaker,
}

struct Shared {
    policy: RoutePolicy,
    routes: HashMap<String, Vec<Arc<Slot>>>,
    slots: HashMap<String, Arc<Slot>>,
    prices: PriceTable,
    sink: Arc<dyn CallSink>,
    counter: Option<TokenCounter>,
    clock: Arc<dyn Clock>,
}

/// Routes calls to providers. Cheap to clone; clones share breakers and limits.
#[derive(Clone)]
pub struct Router {
    shared: Arc<Shared>,
}

/// A [`Router`] that stamps every call record it produces with a scope: who the call was
/// made for. Made by [`Router::scoped`]; cheap to clone, and it shares breakers, limits and
/// the sink with the router it came from.
#[derive(Clone)]
pub struct ScopedRouter {
    router: Router,
    scope: Arc<str>,
}

impl ScopedRouter {
    /// The scope this router's records carry.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// One complete answer through `route`, recorded under this router's scope.
    pub async fn complete(&self, route: &str, request: &ChatRequest) -> Result<ChatResponse> {
        self.router
            .complete_in_scope(Some(&self.scope), route, request)
            .await
    }

    /// A streamed answer through `route`, recorded under this router's scope; see
    /// [`Router::stream`].
    pub async fn stream(&self, route: &str, request: &ChatRequest) -> Result<EventStream> {
        self.router
            .stream_in_scope(Some(&self.scope), route, request)
            .await
    }

    /// One answer parsed and validated as JSON, recorded under this router's scope; see
    /// [`Router::complete_json`].
    pub async fn complete_json(
        &self,
        route: &str,
        request: &ChatRequest,
    ) -> Result<StructuredResponse> {
        self.router
            .complete_json_in_scope(Some(&self.scope), route, request)
            .await
    }
}

/// Assembles a [`Router`]; `build` checks that every route names known providers.
pub struct RouterBuilder {
    policy: RoutePolicy,
    providers: Vec<(Arc<dyn ChatProvider>, usize)>,
    routes: Vec<(String, Vec<String>)>,
    prices: PriceTable,
    sink: Arc<dyn CallSink>,
    counter: Option<TokenCounter>,
    clock: Arc<dyn Clock>,
}

impl RouterBuilder {
    pub fn policy(mut self, policy: RoutePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Registers a provider under its `name()`, with at most `max_concurrency` calls (or
    /// open streams) at once.
    pub fn provider(mut self, provider: Arc<dyn ChatProvider>, max_concurrency: usize) -> Self {
        self.providers.push((provider, max_concurrency));
        self
    }

    /// A route: provider names in the order they are tried.
    pub fn route<I, S>(mut self, name: impl Into<String>, chain: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.routes
            .push((name.into(), chain.into_iter().map(Into::into).collect()));
        self
    }

    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    pub fn sink(mut self, sink: Arc<dyn CallSink>) -> Self {
        self.sink = sink;
        self
    }

    /// Counts tokens when a provider reports no usage; without one, records carry a
    /// characters/4 estimate marked `tokens_estimated`.
    pub fn token_counter(mut self, counter: TokenCounter) -> Self {
        self.counter = Some(counter);
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn build(self) -> Result<Router> {
        let mut slots: HashMap<String, Arc<Slot>> = HashMap::new();
        for (provider, max_concurrency) in self.providers {
            let name = provider.name().to_owned();
            if max_concurrency == 0 {
                return Err(LlmError::Config(format!(
                    "provider {name} has a concurrency limit of 0"
                )));
            }
            let slot = Arc::new(Slot {
                provider,
                permits: Arc::new(Semaphore::new(max_concurrency)),
                breaker: CircuitBreaker::new(self.policy.breaker),
            });
            if slots.insert(name.clone(), slot).is_some() {
                return Err(LlmError::Config(format!(
                    "two providers are named {name:?}"
                )));
            }
        }
        let mut routes = HashMap::new();
        for (route, chain) in self.routes {
            if chain.is_empty() {
                return Err(LlmError::Config(format!(
                    "route {route:?} has no providers"
                )));
            }
            let chain = chain
                .iter()
                .map(|name| {
                    slots.get(name).cloned().ok_or_else(|| {
                        LlmError::Config(format!(
                            "route {route:?} names provider {name:?}, which is not configured"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            routes.insert(route, chain);
        }
        Ok(Router {
            shared: Arc::new(Shared {
                policy: self.policy,
                routes,
                slots,
                prices: self.prices,
                sink: self.sink,
                counter: self.counter,
                clock: self.clock,
            }),
        })
    }
}

/// What a chain of attempts ended with, for the record.
struct ChainReport {
    slot: Option<Arc<Slot>>,
    depth: usize,
    retries: u32,
}

impl Router {
    pub fn builder() -> RouterBuilder {
        RouterBuilder {
            policy: RoutePolicy::default(),
            providers: Vec::new(),
            routes: Vec::new(),
            prices: PriceTable::default(),
            sink: Arc::new(TracingSink),
            counter: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The state of a provider's breaker, or `None` for an unknown provider.
    pub fn breaker_state(&self, provider: &str) -> Option<BreakerState> {
        let slot = self.shared.slots.get(provider)?;
        Some(slot.breaker.state(self.shared.clock.now()))
    }

    /// Each route with its chain of `(provider, model)`, for `brandpilot models ls`.
    pub fn routes(&self) -> Vec<(String, Vec<(String, String)>)> {
        let mut routes: Vec<_> = self
            .shared
            .routes
            .iter()
            .map(|(route, chain)| {
                let chain = chain
                    .iter()
                    .map(|slot| {
                        (
                            slot.provider.name().to_owned(),
                            slot.provider.model().to_owned(),
                        )
                    })
                    .collect();
                (route.clone(), chain)
            })
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        routes
    }

    /// A router whose call records carry `scope` (see [`CallRecord::scope`]); the calls
    /// themselves are routed exactly as through `self`.
    pub fn scoped(&self, scope: impl Into<String>) -> ScopedRouter {
        ScopedRouter {
            router: self.clone(),
            scope: Arc::from(scope.into()),
        }
    }

    /// One complete answer through `route`. Its record has no scope.
    pub async fn complete(&self, route: &str, request: &ChatRequest) -> Result<ChatResponse> {
        self.complete_in_scope(None, route, request).await
    }

    /// A streamed answer through `route`. Resolves once the first event arrived, so a
    /// provider failing before that is retried or replaced; a failure after it ends the
    /// stream with the error. Its record has no scope.
    pub async fn stream(&self, route: &str, request: &ChatRequest) -> Result<EventStream> {
        self.stream_in_scope(None, route, request).await
    }

    /// The one implementation of [`Router::complete`] and [`ScopedRouter::complete`].
    pub(crate) async fn complete_in_scope(
        &self,
        scope: Option<&Arc<str>>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<ChatResponse> {
        let started = Instant::now();
        let timeout = self.shared.policy.timeout;
        let (result, report) = self
            .run_chain(route, |slot, _permit| async move {
                let name = slot.provider.name().to_owned();
                match tokio::time::timeout(timeout, slot.provider.complete(request)).await {
                    Ok(result) => result,
                    Err(_) => Err(LlmError::Timeout {
                        provider: name,
                        timeout,
                    }),
                }
            })
            .await;
        let outcome = match &result {
            Ok(_) => CallOutcome::Success,
            Err(error) => CallOutcome::Failed(error.fault()),
        };
        let (usage, completion_text) = match &result {
            Ok(response) => (response.usage, Some(response.text.as_str())),
            Err(_) => (Some(Usage::default()), None),
        };
        let prompt_text = if usage.is_none() {
            request.prompt_text()
        } else {
            String::new()
        };
        let record = self.record(
            scope,
            route,
            &report,
            &prompt_text,
            usage,
            completion_text.unwrap_or(""),
            outcome,
            started,
            false,
        );
        let result = result.map(|mut response| {
            response.served_by = Some(ServedBy {
                provider: record.provider.clone(),
                model: record.model.clone(),
                usage: Usage {
                    prompt_tokens: record.prompt_tokens,
                    completion_tokens: record.completion_tokens,
                },
                cost_usd: record.cost_usd,
            });
            response
        });
        self.shared.sink.record(record);
        result
    }

    /// The one implementation of [`Router::stream`] and [`ScopedRouter::stream`].
    async fn stream_in_scope(
        &self,
        scope: Option<&Arc<str>>,
        route: &str,
        request: &ChatRequest,
    ) -> Result<EventStream> {
        let started = Instant::now();
        let timeout = self.shared.policy.timeout;
        let (result, report) = self
            .run_chain(route, |slot, permit| async move {
                let name = slot.provider.name().to_owned();
                let timed_out = || LlmError::Timeout {
                    provider: name.clone(),
                    timeout,
                };
                let mut stream = tokio::time::timeout(timeout, slot.provider.stream(request))
                    .await
                    .map_err(|_| timed_out())??;
                match tokio::time::timeout(timeout, stream.next()).await {
                    Err(_) => Err(timed_out()),
                    Ok(None) => Err(LlmError::StreamInterrupted { provider: name }),
                    Ok(Some(Err(error))) => Err(error),
                    Ok(Some(Ok(first))) => Ok((stream, first, permit)),
                }
            })
            .await;
        match result {
            Ok((stream, first, permit)) => {
                let Some(slot) = report.slot.clone() else {
                    return Err(LlmError::Internal(
                        "a stream opened without a provider".to_owned(),
                    ));
                };
                let delivery = Delivery {
                    router: self.clone(),
                    scope: scope.cloned(),
                    route: route.to_owned(),
                    slot,
                    depth: report.depth,
                    retries: report.retries,
                    started,
                    prompt_text: request.prompt_text(),
                    completion_text: String::new(),
                    _permit: permit,
                    finished: false,
                };
                Ok(delivery.into_stream(stream, first))
            }
            Err(error) => {
                let record = self.record(
                    scope,
                    route,
                    &report,
                    "",
                    Some(Usage::default()),
                    "",
                    CallOutcome::Failed(error.fault()),
                    started,
                    true,
                );
                self.shared.sink.record(record);
                Err(error)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        scope: Option<&Arc<str>>,
        route: &str,
        report: &ChainReport,
        prompt_text: &str,
        usage: Option<Usage>,
        completion_text: &str,
        outcome: CallOutcome,
        started: Instant,
        streamed: bool,
    ) -> CallRecord {
        let (provider, model) = match &report.slot {
            Some(slot) => (slot.provider.name(), slot.provider.model()),
            None => ("", ""),
        };
        let (usage, estimated) = match usage {
            Some(usage) => (usage, false),
            None => (
                Usage {
                    prompt_tokens: self.count(prompt_text),
                    completion_tokens: self.count(completion_text),
                },
                self.shared.counter.is_none(),
            ),
        };
        CallRecord {
            scope: scope.map(|scope| scope.to_string()),
            route: route.to_owned(),
            provider: provider.to_owned(),
            model: model.to_owned(),
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            tokens_estimated: estimated,
            cost_usd: self.shared.prices.cost(
                provider,
                model,
                usage.prompt_tokens,
                usage.completion_tokens,
            ),
            latency: started.elapsed(),
            outcome,
            fallback_depth: report.depth,
            retries: report.retries,
            streamed,
        }
    }

    fn count(&self, text: &str) -> u32 {
        match &self.shared.counter {
            Some(counter) => counter(text),
            None => estimate_tokens(text),
        }
    }

    /// The backoff before retry number `retry` (0-based): `base·2^retry` capped at the
    /// maximum, half of it fixed and half random ("equal jitter"), so clients that failed
    /// together do not retry together.
    fn backoff(&self, retry: u32) -> Duration {
        let policy = &self.shared.policy;
        let exponential = policy
            .backoff_base
            .saturating_mul(2u32.saturating_pow(retry.min(20)))
            .min(policy.backoff_max);
        let half = exponential / 2;
        let jitter_nanos = fastrand::u64(0..=half.as_nanos().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_nanos(jitter_nanos)
    }

    /// Tries the route's providers in order under the policy; `attempt` makes one call
    /// while holding a concurrency permit. Returns the first success or the final error.
    async fn run_chain<T, F, Fut>(&self, route: &str, mut attempt: F) -> (Result<T>, ChainReport)
    where
        F: FnMut(Arc<Slot>, OwnedSemaphorePermit) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut report = ChainReport {
            slot: None,
            depth: 0,
            retries: 0,
        };
        let Some(chain) = self.shared.routes.get(route) else {
            return (Err(LlmError::UnknownRoute(route.to_owned())), report);
        };
        let policy = &self.shared.policy;
        let clock = &self.shared.clock;
        let mut attempts = 0u32;
        let mut last_error: Option<LlmError> = None;
        for (depth, slot) in chain.iter().enumerate() {
            let name = slot.provider.name();
            let mut retry = 0u32;
            loop {
                let Some(admission) = slot.breaker.admit(clock.now()) else {
                    tracing::debug!(route, provider = name, "circuit open, skipping provider");
                    break;
                };
                let permit = match tokio::time::timeout(
                    policy.timeout,
                    slot.permits.clone().acquire_owned(),
                )
                .await
                {
                    Ok(Ok(permit)) => permit,
                    Ok(Err(_)) | Err(_) => {
                        // Not the provider's failure: the breaker learns nothing.
                        slot.breaker.abandon(admission);
                        last_error = Some(LlmError::Saturated {
                            provider: name.to_owned(),
                        });
                        break;
                    }
                };
                if attempts > 0 {
                    report.retries += 1;
                }
                attempts += 1;
                report.slot = Some(slot.clone());
                report.depth = depth;
                let guard = ProbeGuard {
                    breaker: &slot.breaker,
                    admission,
                    settled: false,
                };
                let result = attempt(slot.clone(), permit).await;
                let error = match result {
                    Ok(value) => {
                        guard.settle(|breaker| breaker.success());
                        return (Ok(value), report);
                    }
                    Err(error) => error,
                };
                match error.fault() {
                    // The provider answered: it is healthy, the request is not.
                    FaultKind::User => {
                        guard.settle(|breaker| breaker.success());
                        return (Err(error), report);
                    }
                    FaultKind::Bug => {
                        drop(guard);
                        return (Err(error), report);
                    }
                    FaultKind::Transient => {
                        guard.settle(|breaker| breaker.failure(clock.now()));
                    }
                }
                tracing::warn!(route, provider = name, retry, %error, "LLM call failed");
                let retry_after = error.retry_after();
                last_error = Some(error);
                if retry >= policy.max_retries {
                    break;
                }
                let wait = match retry_after {
                    Some(asked) if asked > policy.retry_after_cap => break,
                    Some(asked) => asked.max(self.backoff(retry)),
                    None => self.backoff(retry),
                };
                retry += 1;
                clock.sleep(wait).await;
            }
        }
        let error = match last_error {
            None => LlmError::AllProvidersOpen {
                route: route.to_owned(),
            },
            Some(last) => LlmError::Exhausted {
                route: route.to_owned(),
                attempts,
                last: Box::new(last),
            },
        };
        (Err(error), report)
    }
}

/// Gives a half-open probe back if its attempt ends without a verdict (the caller dropped
/// the future mid-call), so the breaker does not wait forever for a probe that is gone.
struct ProbeGuard<'a> {
    breaker: &'a CircuitBreaker,
    admission: Admission,
    settled: bool,
}

impl ProbeGuard<'_> {
    fn settle(mut self, verdict: impl FnOnce(&CircuitBreaker)) {
        self.settled = true;
        verdict(self.breaker);
    }
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker.abandon(self.admission);
        }
    }
}

/// A stream being delivered to the caller: it applies the gap timeout, tells the breaker
/// about failures after the first event, and makes the call's record when it ends — also
/// when the caller drops it early.
struct Delivery {
    router: Router,
    scope: Option<Arc<str>>,
    route: String,
    slot: Arc<Slot>,
    depth: usize,
    retries: u32,
    started: Instant,
    prompt_text: String,
    completion_text: String,
    _permit: OwnedSemaphorePermit,
    finished: bool,
}

impl Delivery {
    fn into_stream(self, inner: EventStream, first: StreamEvent) -> EventStream {
        let state = (self, inner, Some(first));
        futures_util::stream::unfold(state, |(mut delivery, mut inner, first)| async move {
            if delivery.finished {
                return None;
            }
            let timeout = delivery.router.shared.policy.timeout;
            let next = match first {
                Some(event) => Some(Ok(event)),
                None => match tokio::time::timeout(timeout, inner.next()).await {
                    Ok(next) => next,
                    Err(_) => Some(Err(LlmError::Timeout {
                        provider: delivery.slot.provider.name().to_owned(),
                        timeout,
                    })),
                },
            };
            let item = match next {
                Some(Ok(event)) => {
                    delivery.observe(&event);
                    Ok(event)
                }
                Some(Err(error)) => {
                    delivery.fail(&error);
                    Err(error)
                }
                None => {
                    let error = LlmError::StreamInterrupted {
                        provider: delivery.slot.provider.name().to_owned(),
                    };
                    delivery.fail(&error);
                    Err(error)
                }
            };
            Some((item, (delivery, inner, None)))
        })
        .boxed()
    }

    fn observe(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::Delta(text) => self.completion_text.push_str(text),
            StreamEvent::ToolCallDelta { arguments, .. } => {
                self.completion_text.push_str(arguments);
            }
            StreamEvent::ToolCallStart { name, .. } => self.completion_text.push_str(name),
            StreamEvent::Done { usage, .. } => self.finish(*usage, CallOutcome::Success),
        }
    }

    fn fail(&mut self, error: &LlmError) {
        let fault = error.fault();
        if fault == FaultKind::Transient {
            self.slot.breaker.failure(self.router.shared.clock.now());
        }
        tracing::warn!(route = %self.route, provider = self.slot.provider.name(), %error,
            "LLM stream failed after delivering part of the answer");
        self.finish(None, CallOutcome::Interrupted(fault));
    }

    fn finish(&mut self, usage: Option<Usage>, outcome: CallOutcome) {
        if self.finished {
            return;
        }
        self.finished = true;
        let report = ChainReport {
            slot: Some(self.slot.clone()),
            depth: self.depth,
            retries: self.retries,
        };
        let record = self.router.record(
            self.scope.as_ref(),
            &self.route,
            &report,
            &self.prompt_text,
            usage,
            &self.completion_text,
            outcome,
            self.started,
            true,
        );
        self.router.shared.sink.record(record);
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if !self.finished {
            self.finish(None, CallOutcome::Cancelled);
        }
    }
}
