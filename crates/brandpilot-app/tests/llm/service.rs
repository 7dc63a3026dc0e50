//! `LlmService` as the app builds it from settings: with nothing configured it answers
//! offline with the local SmolLM2 model, records each call for the brand it was made for,
//! and serves a repeated question from the cache without a new call; with two configured
//! OpenAI-compatible providers (fake servers over sockets) a failing first provider is
//! skipped for the second and its breaker opens after the configured failures.

use brandpilot_app::settings::{EmbedderKind, ProviderKind, ProviderSettings};
use brandpilot_app::{Brandpilot, Settings};
use brandpilot_extract::PdfRunner;
use brandpilot_llm::{BreakerState, ChatRequest, Message, StreamCollector};
use brandpilot_store::LlmCallOutcome;
use brandpilot_testkit::openai_chat_server::{
    ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use futures_util::StreamExt;
use std::path::PathBuf;

pub(crate) fn settings(dir: &tempfile::TempDir) -> Settings {
    let mut settings = Settings {
        data_dir: dir.path().join("data"),
        models_dir: std::env::var_os("BRANDPILOT_MODELS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models")),
        ..Settings::default()
    };
    // The cache's exact path is what these tests use; no embedding model needed.
    settings.embedder.kind = EmbedderKind::Hashing;
    settings
}

fn question(text: &str) -> ChatRequest {
    let mut request = ChatRequest::new(vec![
        Message::system("You answer customers of a coffee shop in one sentence."),
        Message::user(text),
    ]);
    // Cut answers are never cached: end at the first sentence, well before max_tokens.
    request.max_tokens = Some(96);
    request.stop = vec![".".into(), "\n".into()];
    request.temperature = Some(0.0);
    request
}

#[tokio::test]
async fn offline_answers_are_recorded_for_the_brand_and_repeats_come_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let app = Brandpilot::open(settings(&dir), PdfRunner::InProcess)
        .await
        .unwrap();
    let brand = app.brand("northwind", true).await.unwrap();
    let llm = app.llm().await.unwrap();

    let request = question("Do you sell oat milk?");
    let (first, hit) = llm
        .complete(Some(brand.id), "answer", &request)
        .await
        .unwrap();
    assert!(hit.is_none());
    assert!(!first.text.trim().is_empty());
    let (again, hit) = llm
        .complete(Some(brand.id), "answer", &request)
        .await
        .unwrap();
    assert!(hit.is_some_and(|hit| hit.exact));
    assert_eq!(again.text, first.text);

    // A streamed answer is cached once its stream ends.
    let streamed_request = question("Are you open on Sundays?");
    let (mut stream, hit) = llm
        .stream(Some(brand.id), "answer", &streamed_request)
        .await
        .unwrap();
    assert!(hit.is_none());
    let mut collector = StreamCollector::default();
    while let Some(event) = stream.next().await {
        collector.push(event.unwrap());
    }
    let streamed = collector.finish().unwrap();
    llm.flush().await;
    let (cached, hit) = llm
        .complete(Some(brand.id), "answer", &streamed_request)
        .await
        .unwrap();
    assert!(hit.is_some());
    assert_eq!(cached.text, streamed.text);

    llm.flush().await;
    let calls = app.store.list_llm_calls(app.workspace, 10).await.unwrap();
    assert_eq!(calls.len(), 2, "cache hits make no call");
    for stored in &calls {
        let call = &stored.call;
        assert_eq!(call.brand, Some(brand.id));
        assert_eq!(call.provider, "local");
        assert_eq!(call.model, "smollm2-135m-instruct");
        assert_eq!(call.outcome, LlmCallOutcome::Success);
        assert!(call.prompt_tokens > 10 && call.completion_tokens > 0);
        assert!(!call.tokens_estimated);
    }
    app.close().await;
}

#[tokio::test]
async fn a_failing_first_provider_falls_back_and_its_breaker_opens() {
    let failing = OpenAiChatServer::start(OpenAiChatOptions::default());
    failing.script((0..10).map(|_| ChatReply::Status(503)));
    let healthy = OpenAiChatServer::start(OpenAiChatOptions::default());
    healthy.script((0..10).map(|i| ChatReply::Text(TextReply::new(format!("answer {i}")))));

    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(&dir);
    for (name, server) in [("primary", &failing), ("secondary", &healthy)] {
        settings.llm.providers.insert(
            name.into(),
            ProviderSettings {
                kind: ProviderKind::Openai,
                model: format!("{name}-model"),
                base_url: Some(server.base_url()),
                ..ProviderSettings::default()
            },
        );
    }
    settings
        .llm
        .routes
        .insert("answer".into(), vec!["primary".into(), "secondary".into()]);
    settings.llm.max_retries = 0;
    settings.llm.breaker_failures = 2;
    settings.llm.cache.enabled = false;
    let app = Brandpilot::open(settings, PdfRunner::InProcess)
        .await
        .unwrap();
    let llm = app.llm().await.unwrap();

    for i in 0..3 {
        let (response, _) = llm
            .complete(None, "answer", &question(&format!("question {i}")))
            .await
            .unwrap();
        assert_eq!(response.text, format!("answer {i}"));
    }
    // Two calls tried the primary and failed over (one extra call each); then its breaker
    // opened and the third call went straight to the secondary.
    assert_eq!(failing.requests().len(), 2);
    assert_eq!(healthy.requests().len(), 3);
    assert_eq!(
        llm.router().breaker_state("primary"),
        Some(BreakerState::Open)
    );
    llm.flush().await;
    let calls = app.store.list_llm_calls(app.workspace, 10).await.unwrap();
    let mut depths: Vec<_> = calls.iter().map(|c| c.call.fallback_depth).collect();
    depths.sort_unstable();
    assert_eq!(
        depths,
        vec![1, 1, 1],
        "every answer came from the second provider"
    );
    assert!(calls.iter().all(|c| c.call.provider == "secondary"));
    app.close().await;
}
