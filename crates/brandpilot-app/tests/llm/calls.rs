//! Call records from a real router end up as rows a usage report can trust: attributed to
//! the workspace and brand in the call's scope, with the provider's tokens, the price
//! table's cost, the outcome and whose fault a failure was, and the fallback depth.

use crate::{open_store, tenants};
use brandpilot_app::StoreCallSink;
use brandpilot_app::llm_calls::call_scope;
use brandpilot_core::FaultKind;
use brandpilot_llm::accounting::{CallOutcome, CallRecord, CallSink, ModelPrice, PriceTable};
use brandpilot_llm::openai::{OpenAiConfig, OpenAiProvider};
use brandpilot_llm::{BreakerConfig, ChatRequest, Message, RoutePolicy, Router};
use brandpilot_store::{LlmCallOutcome, NewLlmCall, UsageGroup, UsageQuery};
use brandpilot_testkit::openai_chat_server::{
    ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use std::sync::Arc;
use std::time::Duration;

fn provider(server: &OpenAiChatServer, name: &str) -> Arc<OpenAiProvider> {
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

fn question() -> ChatRequest {
    ChatRequest::new(vec![
        Message::system("You answer for the brand."),
        Message::user("When do refunds arrive?"),
    ])
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[tokio::test]
async fn routed_calls_are_recorded_for_their_workspace_and_brand_with_cost_and_fallbacks() {
    let (_dir, store) = open_store().await;
    let t = tenants(&store).await;
    let sink = Arc::new(StoreCallSink::new(store.clone(), t.default).unwrap());
    let (first, second) = (
        OpenAiChatServer::start(OpenAiChatOptions::default()),
        OpenAiChatServer::start(OpenAiChatOptions::default()),
    );
    let prices = PriceTable::new()
        .with(
            "first-model",
            ModelPrice {
                prompt_per_million_usd: 1.0,
                completion_per_million_usd: 2.0,
            },
        )
        .with(
            "second-model",
            ModelPrice {
                prompt_per_million_usd: 3.0,
                completion_per_million_usd: 5.0,
            },
        );
    let router = Router::builder()
        .policy(RoutePolicy {
            timeout: Duration::from_secs(10),
            max_retries: 0,
            breaker: BreakerConfig {
                failure_threshold: 100,
                cool_down: Duration::from_secs(60),
            },
            ..RoutePolicy::default()
        })
        .provider(provider(&first, "first"), 4)
        .provider(provider(&second, "second"), 4)
        .route("answer", ["first", "second"])
        .prices(prices)
        .sink(sink.clone())
        .build()
        .unwrap();
    let acme = router.scoped(call_scope(t.default, Some(t.acme)));

    // 1. The first provider answers, with the usage it reports.
    let mut reply = TextReply::new("In five days.");
    reply.usage = Some((1_000, 200));
    first.script([ChatReply::Text(reply)]);
    acme.complete("answer", &question()).await.unwrap();
    // 2. It fails with a 503: the second provider answers.
    first.script([ChatReply::Status(503)]);
    acme.complete("answer", &question()).await.unwrap();
    // 3. Both fail: no answer, a transient fault.
    first.script([ChatReply::Status(503)]);
    second.script([ChatReply::Status(503)]);
    acme.complete("answer", &question()).await.unwrap_err();
    // 4. The request is refused: the caller's fault, not retried elsewhere.
    first.script([ChatReply::Status(400)]);
    acme.complete("answer", &question()).await.unwrap_err();
    // 5. A stream the caller drops after its first event.
    let stream = acme.stream("answer", &question()).await.unwrap();
    drop(stream);
    sink.flush().await;

    let mut rows: Vec<NewLlmCall> = store
        .list_llm_calls(t.default, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.call)
        .collect();
    rows.reverse();
    assert_eq!(rows.len(), 5, "{rows:#?}");
    assert!(rows.iter().all(|row| row.workspace == t.default
        && row.brand == Some(t.acme)
        && row.route == "answer"));

    let answered = &rows[0];
    assert_eq!(
        (answered.provider.as_str(), answered.model.as_str()),
        ("first", "first-model")
    );
    assert_eq!(
        (answered.prompt_tokens, answered.completion_tokens),
        (1_000, 200)
    );
    assert!(!answered.tokens_estimated);
    // 1,000 × $1/M + 200 × $2/M.
    assert!(close(answered.cost_usd.unwrap(), 0.0014), "{answered:?}");
    assert_eq!(
        (answered.outcome, answered.fault),
        (LlmCallOutcome::Success, None)
    );
    assert_eq!((answered.fallback_depth, answered.retries), (0, 0));
    assert!(!answered.streamed);

    let failed_over = &rows[1];
    assert_eq!(failed_over.provider, "second");
    assert_eq!((failed_over.fallback_depth, failed_over.retries), (1, 1));
    assert_eq!(failed_over.outcome, LlmCallOutcome::Success);
    // The fake's default usage (11, 7) at the second model's price.
    assert!(close(
        failed_over.cost_usd.unwrap(),
        (11.0 * 3.0 + 7.0 * 5.0) / 1e6
    ));

    let exhausted = &rows[2];
    assert_eq!(
        (exhausted.outcome, exhausted.fault),
        (LlmCallOutcome::Failed, Some(FaultKind::Transient))
    );
    assert_eq!(
        (exhausted.provider.as_str(), exhausted.fallback_depth),
        ("second", 1)
    );
    assert_eq!(
        (exhausted.prompt_tokens, exhausted.completion_tokens),
        (0, 0)
    );

    let refused = &rows[3];
    assert_eq!(
        (refused.outcome, refused.fault),
        (LlmCallOutcome::Failed, Some(FaultKind::User))
    );
    assert_eq!(
        (refused.provider.as_str(), refused.fallback_depth),
        ("first", 0)
    );

    let cancelled = &rows[4];
    assert_eq!(
        (cancelled.outcome, cancelled.fault),
        (LlmCallOutcome::Cancelled, None)
    );
    assert!(cancelled.streamed);

    // The usage report adds the same rows up.
    let by_provider = store
        .llm_usage(
            t.default,
            &UsageQuery {
                group_by: vec![UsageGroup::Provider],
                ..UsageQuery::default()
            },
        )
        .await
        .unwrap();
    let summary: Vec<_> = by_provider
        .iter()
        .map(|row| (row.provider.clone().unwrap(), row.calls, row.failed))
        .collect();
    assert_eq!(
        summary,
        [("first".to_string(), 3, 1), ("second".to_string(), 2, 1)]
    );
}

#[tokio::test]
async fn scopes_decide_the_workspace_and_unscoped_calls_go_to_the_default_one() {
    let (_dir, store) = open_store().await;
    let t = tenants(&store).await;
    let sink = Arc::new(StoreCallSink::new(store.clone(), t.default).unwrap());
    let server = OpenAiChatServer::start(OpenAiChatOptions::default());
    let router = Router::builder()
        .provider(provider(&server, "only"), 4)
        .route("answer", ["only"])
        .sink(sink.clone())
        .build()
        .unwrap();

    router.complete("answer", &question()).await.unwrap();
    router
        .scoped(call_scope(t.other, Some(t.rival)))
        .complete("answer", &question())
        .await
        .unwrap();
    router
        .scoped(call_scope(t.other, None))
        .complete("answer", &question())
        .await
        .unwrap();
    // A scope that pairs a workspace with another workspace's brand keeps the workspace and
    // drops the brand; a label that is not a scope lands in the default workspace.
    router
        .scoped(call_scope(t.default, Some(t.rival)))
        .complete("answer", &question())
        .await
        .unwrap();
    router
        .scoped("not a scope")
        .complete("answer", &question())
        .await
        .unwrap();
    sink.flush().await;

    let brands = |workspace| {
        let store = store.clone();
        async move {
            let mut brands: Vec<_> = store
                .list_llm_calls(workspace, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row.call.brand)
                .collect();
            brands.sort();
            brands
        }
    };
    assert_eq!(brands(t.default).await, [None, None, None]);
    assert_eq!(brands(t.other).await, [None, Some(t.rival)]);
    assert_eq!(sink.dropped(), 0);
}

fn record(scope: Option<String>) -> CallRecord {
    CallRecord {
        scope,
        route: "classify".into(),
        provider: "groq".into(),
        model: "llama".into(),
        prompt_tokens: 5,
        completion_tokens: 1,
        tokens_estimated: true,
        cost_usd: None,
        latency: Duration::from_millis(42),
        outcome: CallOutcome::Interrupted(FaultKind::Transient),
        fallback_depth: 0,
        retries: 0,
        streamed: true,
    }
}

/// The test runtime has one thread, so the writer task cannot run until the test awaits:
/// recording five times in a row fills a queue of two and drops three, without blocking.
#[tokio::test]
async fn a_full_queue_drops_records_instead_of_blocking_the_call() {
    let (_dir, store) = open_store().await;
    let t = tenants(&store).await;
    let sink = StoreCallSink::with_capacity(store.clone(), t.default, 2).unwrap();
    for _ in 0..5 {
        sink.record(record(Some(call_scope(t.default, Some(t.zeta)))));
    }
    assert_eq!(sink.dropped(), 3);
    sink.flush().await;
    let rows = store.list_llm_calls(t.default, 100).await.unwrap();
    assert_eq!(rows.len(), 2);
    let call = &rows[0].call;
    assert_eq!(call.brand, Some(t.zeta));
    assert_eq!(call.latency_ms, 42);
    assert_eq!(
        (call.outcome, call.fault),
        (LlmCallOutcome::Interrupted, Some(FaultKind::Transient))
    );
    assert_eq!(call.cost_usd, None);

    // After the flush the queue has room again.
    sink.record(record(None));
    sink.flush().await;
    assert_eq!(store.list_llm_calls(t.default, 100).await.unwrap().len(), 3);
    assert_eq!(sink.dropped(), 3);
}

#[test]
fn a_sink_outside_a_runtime_is_an_error_not_a_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_dir, store) = runtime.block_on(open_store());
    let workspace = runtime.block_on(store.ensure_workspace("default")).unwrap();
    assert!(StoreCallSink::new(store, workspace).is_err());
}
