//! The router over real providers and fake servers: retries, Retry-After, fallback order,
//! timeouts, streams failing before and after their first delta, circuit breakers, the
//! concurrency limit, and the call records with their cost.

use crate::{drain, hello};
use brandpilot_core::{Fault, FaultKind};
use brandpilot_llm::accounting::{CallOutcome, MemorySink, ModelPrice, PriceTable};
use brandpilot_llm::anthropic::{AnthropicConfig, AnthropicProvider};
use brandpilot_llm::openai::{OpenAiConfig, OpenAiProvider};
use brandpilot_llm::{
    ApiKey, BreakerConfig, BreakerState, ChatProvider, Clock, LlmError, RoutePolicy, Router,
};
use brandpilot_testkit::anthropic_server::{AnthropicOptions, AnthropicServer};
use brandpilot_testkit::openai_chat_server::{
    ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use futures_util::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Time that moves only when the router sleeps or the test says so; sleeps are recorded.
struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
    sleeps: Mutex<Vec<Duration>>,
}

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
            sleeps: Mutex::new(Vec::new()),
        })
    }

    fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }

    fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.sleeps.lock().unwrap().push(duration);
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

fn fake() -> OpenAiChatServer {
    OpenAiChatServer::start(OpenAiChatOptions::default())
}

fn openai(server: &OpenAiChatServer, name: &str) -> Arc<dyn ChatProvider> {
    Arc::new(
        OpenAiProvider::new(OpenAiConfig {
            name: name.into(),
            base_url: server.base_url(),
            api_key: None,
            model: format!("{name}-model"),
            ..OpenAiConfig::default()
        })
        .unwrap(),
    )
}

fn policy() -> RoutePolicy {
    RoutePolicy {
        timeout: Duration::from_secs(5),
        max_retries: 0,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(4),
        retry_after_cap: Duration::from_secs(5),
        breaker: BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(60),
        },
    }
}

struct Setup {
    router: Router,
    sink: Arc<MemorySink>,
    clock: Arc<ManualClock>,
}

fn router(policy: RoutePolicy, providers: &[(&OpenAiChatServer, &str)], chain: &[&str]) -> Setup {
    let sink = Arc::new(MemorySink::default());
    let clock = ManualClock::new();
    let mut builder = Router::builder()
        .policy(policy)
        .sink(sink.clone())
        .clock(clock.clone());
    for (server, name) in providers {
        builder = builder.provider(openai(server, name), 4);
    }
    let router = builder
        .route("answer", chain.iter().copied())
        .build()
        .unwrap();
    Setup {
        router,
        sink,
        clock,
    }
}

#[tokio::test]
async fn acceptance_503s_fall_back_with_one_extra_call_and_the_breaker_opens() {
    let (first, second) = (fake(), fake());
    let setup = router(
        policy(),
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script(std::iter::repeat_n(ChatReply::Status(503), 10));
    for call in 1..=3 {
        let response = setup.router.complete("answer", &hello()).await.unwrap();
        assert_eq!(response.text, "ok");
        assert_eq!(
            first.requests().len(),
            call,
            "one call to the failing provider"
        );
        assert_eq!(second.requests().len(), call);
    }
    assert_eq!(
        setup.router.breaker_state("first"),
        Some(BreakerState::Open)
    );
    assert_eq!(
        setup.router.breaker_state("second"),
        Some(BreakerState::Closed)
    );
    // Open: the failing provider is not called at all any more.
    setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(first.requests().len(), 3);
    assert_eq!(second.requests().len(), 4);
    let records = setup.sink.records();
    assert_eq!(records.len(), 4);
    for record in &records {
        assert_eq!(record.provider, "second");
        assert_eq!(record.fallback_depth, 1);
        assert_eq!(record.outcome, CallOutcome::Success);
    }
    assert_eq!(
        records[0].retries, 1,
        "the fallback attempt counts as one retry"
    );
    assert_eq!(records[3].retries, 0, "an open breaker costs no attempt");
}

#[tokio::test]
async fn retry_after_is_honoured_on_the_same_provider() {
    let server = fake();
    let mut policy = policy();
    policy.max_retries = 2;
    // Real time here: the wait must really be at least what the server asked for.
    let sink = Arc::new(MemorySink::default());
    let router = Router::builder()
        .policy(policy.clone())
        .sink(sink.clone())
        .provider(openai(&server, "only"), 1)
        .route("answer", ["only"])
        .build()
        .unwrap();
    server.script([ChatReply::RateLimited {
        retry_after: Duration::from_millis(150),
    }]);
    let started = Instant::now();
    let response = router.complete("answer", &hello()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(response.text, "ok");
    assert_eq!(server.requests().len(), 2);
    assert_eq!(sink.records()[0].retries, 1);

    // With the manual clock, the recorded waits are the asked ones (plus no less).
    let setup = router_with(&server, policy);
    server.script([
        ChatReply::RateLimited {
            retry_after: Duration::from_secs(2),
        },
        ChatReply::RateLimited {
            retry_after: Duration::from_secs(3),
        },
    ]);
    setup.router.complete("answer", &hello()).await.unwrap();
    let sleeps = setup.clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] >= Duration::from_secs(2), "{sleeps:?}");
    assert!(sleeps[1] >= Duration::from_secs(3), "{sleeps:?}");
}

fn router_with(server: &OpenAiChatServer, policy: RoutePolicy) -> Setup {
    router(policy, &[(server, "only")], &["only"])
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_falls_back_instead_of_waiting() {
    let (first, second) = (fake(), fake());
    let mut policy = policy();
    policy.max_retries = 3;
    policy.retry_after_cap = Duration::from_secs(1);
    let setup = router(
        policy,
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script([ChatReply::RateLimited {
        retry_after: Duration::from_secs(120),
    }]);
    setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(first.requests().len(), 1);
    assert_eq!(second.requests().len(), 1);
    assert!(setup.clock.sleeps().is_empty());
}

#[tokio::test]
async fn server_errors_are_retried_with_growing_backoff_then_fall_back() {
    let (first, second) = (fake(), fake());
    let mut policy = policy();
    policy.max_retries = 2;
    policy.backoff_base = Duration::from_millis(100);
    policy.backoff_max = Duration::from_secs(10);
    policy.breaker.failure_threshold = 10;
    let setup = router(
        policy,
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script(std::iter::repeat_n(ChatReply::Status(500), 3));
    let response = setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(response.text, "ok");
    assert_eq!(first.requests().len(), 3, "first attempt and two retries");
    assert_eq!(second.requests().len(), 1);
    let sleeps = setup.clock.sleeps();
    // Equal jitter: retry n waits between half and all of base·2^n.
    assert!(sleeps[0] >= Duration::from_millis(50) && sleeps[0] <= Duration::from_millis(100));
    assert!(sleeps[1] >= Duration::from_millis(100) && sleeps[1] <= Duration::from_millis(200));
    let record = &setup.sink.records()[0];
    assert_eq!((record.retries, record.fallback_depth), (3, 1));
}

#[tokio::test]
async fn a_hang_times_out_and_falls_back() {
    let (first, second) = (fake(), fake());
    let mut policy = policy();
    policy.timeout = Duration::from_millis(200);
    let setup = router(
        policy,
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script([ChatReply::Hang, ChatReply::Hang]);
    second.script([
        ChatReply::text("from second"),
        ChatReply::text("streamed second"),
    ]);
    let response = setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(response.text, "from second");
    let (text, result) = drain(setup.router.stream("answer", &hello()).await.unwrap()).await;
    result.unwrap();
    assert_eq!(text, "streamed second");
    assert_eq!(first.requests().len(), 2);
}

#[tokio::test]
async fn fallback_follows_the_route_order() {
    let (a, b, c) = (fake(), fake(), fake());
    let setup = router(
        policy(),
        &[(&a, "a"), (&b, "b"), (&c, "c")],
        &["c", "a", "b"],
    );
    c.script([ChatReply::Status(503)]);
    a.script([ChatReply::Status(502)]);
    b.script([ChatReply::text("from b")]);
    assert_eq!(
        setup
            .router
            .complete("answer", &hello())
            .await
            .unwrap()
            .text,
        "from b"
    );
    assert_eq!(
        (c.requests().len(), a.requests().len(), b.requests().len()),
        (1, 1, 1)
    );
    let record = &setup.sink.records()[0];
    assert_eq!((record.provider.as_str(), record.fallback_depth), ("b", 2));
}

#[tokio::test]
async fn an_answer_names_the_provider_that_served_it_after_fallback_and_its_cost() {
    let (a, b) = (fake(), fake());
    let sink = Arc::new(MemorySink::default());
    let prices = PriceTable::new().with(
        "b-model",
        ModelPrice {
            prompt_per_million_usd: 2.0,
            completion_per_million_usd: 10.0,
        },
    );
    let router = Router::builder()
        .policy(policy())
        .sink(sink.clone())
        .clock(ManualClock::new())
        .prices(prices)
        .provider(openai(&a, "a"), 4)
        .provider(openai(&b, "b"), 4)
        .route("answer", ["a", "b"])
        .build()
        .unwrap();
    a.script([ChatReply::Status(503)]);
    let mut reply = TextReply::new("from b");
    reply.usage = Some((1_000, 500));
    b.script([ChatReply::Text(reply)]);
    let response = router.complete("answer", &hello()).await.unwrap();
    let served = response
        .served_by
        .expect("a routed answer says who served it");
    assert_eq!(
        (served.provider.as_str(), served.model.as_str()),
        ("b", "b-model")
    );
    assert_eq!(
        (served.usage.prompt_tokens, served.usage.completion_tokens),
        (1_000, 500)
    );
    // 1,000 × $2/M + 500 × $10/M = $0.002 + $0.005.
    let cost = served.cost_usd.unwrap();
    assert!((cost - 0.007).abs() < 1e-12, "{cost}");
}

#[tokio::test]
async fn the_callers_errors_are_never_retried_nor_fallen_back() {
    for status in [400, 401, 403, 404, 422] {
        let (first, second) = (fake(), fake());
        let mut policy = policy();
        policy.max_retries = 3;
        let setup = router(
            policy,
            &[(&first, "first"), (&second, "second")],
            &["first", "second"],
        );
        first.script([ChatReply::Status(status)]);
        let error = setup.router.complete("answer", &hello()).await.unwrap_err();
        assert_eq!(error.fault(), FaultKind::User, "{status}");
        assert!(matches!(error, LlmError::Rejected { .. }), "{error:?}");
        assert_eq!(first.requests().len(), 1, "{status}");
        assert_eq!(second.requests().len(), 0, "{status}");
        assert_eq!(
            setup.sink.records()[0].outcome,
            CallOutcome::Failed(FaultKind::User)
        );
        assert_eq!(
            setup.router.breaker_state("first"),
            Some(BreakerState::Closed)
        );
    }
}

#[tokio::test]
async fn a_stream_failing_after_its_first_delta_is_not_fallen_back() {
    let (first, second) = (fake(), fake());
    let setup = router(
        policy(),
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script([ChatReply::StopMidway {
        text_before: "The first half".into(),
    }]);
    second.script([ChatReply::text("never seen")]);
    let (text, result) = drain(setup.router.stream("answer", &hello()).await.unwrap()).await;
    assert_eq!(text, "The first half");
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::StreamInterrupted { .. }),
        "{error:?}"
    );
    assert_eq!(
        second.requests().len(),
        0,
        "no duplicated text from a fallback"
    );
    let record = &setup.sink.records()[0];
    assert_eq!(
        record.outcome,
        CallOutcome::Interrupted(FaultKind::Transient)
    );
    assert!(record.tokens_estimated);
}

#[tokio::test]
async fn a_stream_failing_before_any_delta_falls_back() {
    let (first, second) = (fake(), fake());
    let setup = router(
        policy(),
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script([ChatReply::StopMidway {
        text_before: String::new(),
    }]);
    second.script([ChatReply::text("whole answer from second")]);
    let (text, result) = drain(setup.router.stream("answer", &hello()).await.unwrap()).await;
    result.unwrap();
    assert_eq!(text, "whole answer from second");
    assert_eq!(first.requests().len(), 1);
    let record = &setup.sink.records()[0];
    assert_eq!(
        (record.provider.as_str(), record.fallback_depth),
        ("second", 1)
    );
    assert!(record.streamed);
}

#[tokio::test]
async fn a_stream_going_silent_midway_times_out_without_fallback() {
    let (first, second) = (fake(), fake());
    let mut policy = policy();
    policy.timeout = Duration::from_millis(200);
    let setup = router(
        policy,
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script([ChatReply::HangMidway {
        text_before: "Begun".into(),
    }]);
    let (text, result) = drain(setup.router.stream("answer", &hello()).await.unwrap()).await;
    assert_eq!(text, "Begun");
    assert!(matches!(result, Err(LlmError::Timeout { .. })));
    assert_eq!(second.requests().len(), 0);
}

#[tokio::test]
async fn the_breaker_half_opens_after_the_cool_down_and_one_probe_decides() {
    let (first, second) = (fake(), fake());
    let mut policy = policy();
    policy.breaker = BreakerConfig {
        failure_threshold: 2,
        cool_down: Duration::from_secs(10),
    };
    let setup = router(
        policy,
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    first.script([ChatReply::Status(500), ChatReply::Status(500)]);
    for _ in 0..2 {
        setup.router.complete("answer", &hello()).await.unwrap();
    }
    assert_eq!(
        setup.router.breaker_state("first"),
        Some(BreakerState::Open)
    );
    setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(first.requests().len(), 2, "open: skipped");

    setup.clock.advance(Duration::from_secs(10));
    assert_eq!(
        setup.router.breaker_state("first"),
        Some(BreakerState::HalfOpen)
    );
    first.script([ChatReply::Status(503)]);
    setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(first.requests().len(), 3, "one probe");
    assert_eq!(
        setup.router.breaker_state("first"),
        Some(BreakerState::Open)
    );

    setup.clock.advance(Duration::from_secs(10));
    first.script([ChatReply::text("first is back")]);
    let response = setup.router.complete("answer", &hello()).await.unwrap();
    assert_eq!(response.text, "first is back");
    assert_eq!(
        setup.router.breaker_state("first"),
        Some(BreakerState::Closed)
    );
    assert_eq!(setup.sink.records().last().unwrap().fallback_depth, 0);
}

#[tokio::test]
async fn every_breaker_open_is_a_transient_error_without_a_call() {
    let server = fake();
    let mut policy = policy();
    policy.breaker.failure_threshold = 1;
    let setup = router_with(&server, policy);
    server.script([ChatReply::Status(503)]);
    let first = setup.router.complete("answer", &hello()).await.unwrap_err();
    assert!(
        matches!(first, LlmError::Exhausted { attempts: 1, .. }),
        "{first:?}"
    );
    let error = setup.router.complete("answer", &hello()).await.unwrap_err();
    assert!(
        matches!(error, LlmError::AllProvidersOpen { .. }),
        "{error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Transient);
    assert_eq!(server.requests().len(), 1);
    let unknown = setup.router.complete("nope", &hello()).await.unwrap_err();
    assert_eq!(unknown.fault(), FaultKind::User);
}

#[tokio::test]
async fn a_saturated_provider_is_passed_over_without_blame() {
    let (first, second) = (fake(), fake());
    let sink = Arc::new(MemorySink::default());
    let router = Router::builder()
        .policy(RoutePolicy {
            timeout: Duration::from_millis(200),
            ..policy()
        })
        .sink(sink)
        .provider(openai(&first, "first"), 1)
        .provider(openai(&second, "second"), 1)
        .route("answer", ["first", "second"])
        .build()
        .unwrap();
    first.script([ChatReply::HangMidway {
        text_before: "holding the only slot".into(),
    }]);
    // An open stream holds its provider's slot until it is dropped.
    let held = router.stream("answer", &hello()).await.unwrap();
    let response = router.complete("answer", &hello()).await.unwrap();
    assert_eq!(response.text, "ok");
    assert_eq!(first.requests().len(), 1);
    assert_eq!(router.breaker_state("first"), Some(BreakerState::Closed));
    drop(held);
    first.script([ChatReply::text("free again")]);
    assert_eq!(
        router.complete("answer", &hello()).await.unwrap().text,
        "free again"
    );
}

#[tokio::test]
async fn records_carry_tokens_and_cost_from_the_price_table() {
    let server = fake();
    let sink = Arc::new(MemorySink::default());
    let prices = PriceTable::new().with(
        "only-model",
        ModelPrice {
            prompt_per_million_usd: 2.0,
            completion_per_million_usd: 10.0,
        },
    );
    let router = Router::builder()
        .policy(policy())
        .sink(sink.clone())
        .prices(prices.clone())
        .provider(openai(&server, "only"), 2)
        .route("summarize", ["only"])
        .build()
        .unwrap();
    let mut no_usage = TextReply::new("abcdefgh");
    no_usage.usage = None;
    server.script([
        ChatReply::text("priced"),
        ChatReply::text("priced stream"),
        ChatReply::Text(no_usage),
    ]);
    router.complete("summarize", &hello()).await.unwrap();
    drain(router.stream("summarize", &hello()).await.unwrap())
        .await
        .1
        .unwrap();
    router.complete("summarize", &hello()).await.unwrap();
    let records = sink.records();
    for record in &records[..2] {
        assert_eq!(record.route, "summarize");
        assert_eq!(record.model, "only-model");
        assert_eq!((record.prompt_tokens, record.completion_tokens), (11, 7));
        assert!(!record.tokens_estimated);
        let cost = record.cost_usd.unwrap();
        assert!(
            (cost - (11.0 * 2.0 + 7.0 * 10.0) / 1e6).abs() < 1e-12,
            "{cost}"
        );
    }
    assert!(records[1].streamed);
    // No usage from the server: chars/4 of the prompt and answer, marked as an estimate.
    let estimated = &records[2];
    assert!(estimated.tokens_estimated);
    assert_eq!(estimated.completion_tokens, 2);
    assert_eq!(
        estimated.prompt_tokens,
        hello().prompt_text().chars().count().div_ceil(4) as u32
    );

    // A caller-supplied counter replaces the estimate and is not marked as one.
    let sink = Arc::new(MemorySink::default());
    let router = Router::builder()
        .policy(policy())
        .sink(sink.clone())
        .token_counter(Arc::new(|text: &str| {
            text.split_whitespace().count() as u32
        }))
        .provider(openai(&server, "only"), 2)
        .route("summarize", ["only"])
        .build()
        .unwrap();
    let mut no_usage = TextReply::new("three little words");
    no_usage.usage = None;
    server.script([ChatReply::Text(no_usage)]);
    router.complete("summarize", &hello()).await.unwrap();
    let record = &sink.records()[0];
    assert_eq!(record.completion_tokens, 3);
    assert!(!record.tokens_estimated);
}

#[tokio::test]
async fn a_chain_can_mix_protocols() {
    let openai_server = fake();
    let anthropic_server = AnthropicServer::start(AnthropicOptions::default());
    let anthropic: Arc<dyn ChatProvider> = Arc::new(
        AnthropicProvider::new(AnthropicConfig {
            name: "anthropic".into(),
            base_url: anthropic_server.base_url(),
            api_key: ApiKey::new("sk-ant"),
            model: "claude-test".into(),
        })
        .unwrap(),
    );
    let router = Router::builder()
        .policy(policy())
        .provider(openai(&openai_server, "openai"), 2)
        .provider(anthropic, 2)
        .route("generate", ["openai", "anthropic"])
        .build()
        .unwrap();
    openai_server.script([ChatReply::Status(503)]);
    anthropic_server.script([ChatReply::text("Oat milk, reimagined ☕")]);
    let (text, result) = drain(router.stream("generate", &hello()).await.unwrap()).await;
    result.unwrap();
    assert_eq!(text, "Oat milk, reimagined ☕");
    let routes = router.routes();
    assert_eq!(routes[0].0, "generate");
    assert_eq!(
        routes[0].1[1],
        ("anthropic".to_owned(), "claude-test".to_owned())
    );
}

#[test]
fn a_route_naming_an_unknown_provider_is_refused_at_build() {
    let error = Router::builder()
        .route("answer", ["missing"])
        .build()
        .err()
        .unwrap();
    assert_eq!(error.fault(), FaultKind::User);
    assert!(error.to_string().contains("missing"));
}

#[tokio::test]
async fn records_made_through_a_scoped_router_carry_its_scope_and_others_none() {
    let (first, second) = (fake(), fake());
    let setup = router(
        policy(),
        &[(&first, "first"), (&second, "second")],
        &["first", "second"],
    );
    let scoped = setup.router.scoped("workspace-1/brand-7");
    // A fallback, a stream, a failure and a cancelled stream: every way a record is made.
    first.script([ChatReply::Status(503)]);
    scoped.complete("answer", &hello()).await.unwrap();
    drain(scoped.stream("answer", &hello()).await.unwrap())
        .await
        .1
        .unwrap();
    scoped
        .complete("missing-route", &hello())
        .await
        .unwrap_err();
    drop(scoped.clone().stream("answer", &hello()).await.unwrap());
    setup.router.complete("answer", &hello()).await.unwrap();
    drain(setup.router.stream("answer", &hello()).await.unwrap())
        .await
        .1
        .unwrap();

    let records = setup.sink.records();
    assert_eq!(records.len(), 6);
    for record in &records[..4] {
        assert_eq!(record.scope.as_deref(), Some("workspace-1/brand-7"));
    }
    assert_eq!(records[3].outcome, CallOutcome::Cancelled);
    for record in &records[4..] {
        assert_eq!(record.scope, None);
    }
    assert_eq!(scoped.scope(), "workspace-1/brand-7");
}
