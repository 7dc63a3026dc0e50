//! The local provider on the real SmolLM2-135M-Instruct and Gemma 3 270M GGUF files,
//! through the router as a route would use it. Properties only — never exact text: the
//! stream carries the text then usage, stop sequences and max tokens hold, a dropped stream
//! frees the model, schema answers are valid JSON, and tool requests are refused clearly.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use brandpilot_llm::accounting::{CallOutcome, MemorySink};
use brandpilot_llm::{
    ChatProvider, ChatRequest, FinishReason, LlmError, Message, Router, StreamEvent, ToolSpec,
};
use brandpilot_llm_local::{GeneratorSettings, LocalProvider, LocalProviderOptions, resolve_gguf};
use futures_util::StreamExt;

fn models_dir() -> PathBuf {
    std::env::var_os("BRANDPILOT_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

fn load(name: &str, short: &str) -> Arc<LocalProvider> {
    let path = resolve_gguf(short, &models_dir())
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup-models.sh first)"));
    let mut options = LocalProviderOptions::new(name, short);
    options.generator = GeneratorSettings {
        threads: 1,
        context_tokens: 2048,
        ..GeneratorSettings::default()
    };
    Arc::new(LocalProvider::load(&path, options).expect("model loads"))
}

fn smollm2() -> Arc<LocalProvider> {
    static MODEL: OnceLock<Arc<LocalProvider>> = OnceLock::new();
    Arc::clone(MODEL.get_or_init(|| load("local", "smollm2-135m-instruct")))
}

fn caption_request(max_tokens: u32) -> ChatRequest {
    let mut request = ChatRequest::new(vec![
        Message::system("You write short, upbeat social media copy for a coffee shop."),
        Message::user(
            "Write a one-sentence Instagram caption for a coffee shop's new oat-milk latte",
        ),
    ]);
    request.max_tokens = Some(max_tokens);
    request.seed = Some(7);
    request
}

#[tokio::test]
async fn a_routed_stream_delivers_text_then_usage_and_one_call_record() {
    let sink = Arc::new(MemorySink::default());
    let router = Router::builder()
        .provider(smollm2(), 1)
        .route("generate", ["local"])
        .sink(sink.clone())
        .build()
        .unwrap();
    let mut stream = router
        .stream("generate", &caption_request(48))
        .await
        .unwrap();
    let mut text = String::new();
    let mut deltas = 0;
    let mut done = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            StreamEvent::Delta(piece) => {
                assert!(done.is_none(), "no text after the final event");
                deltas += 1;
                text.push_str(&piece);
            }
            StreamEvent::Done {
                usage,
                finish_reason,
            } => done = Some((usage.unwrap(), finish_reason)),
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(stream);
    let (usage, _) = done.expect("a final event");
    assert!(!text.trim().is_empty());
    assert!(deltas > 1, "the answer is streamed in pieces");
    assert!(usage.prompt_tokens > 20);
    assert!(usage.completion_tokens >= 1 && usage.completion_tokens <= 48);
    let records = sink.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, CallOutcome::Success);
    assert!(
        !records[0].tokens_estimated,
        "the model's own counts are used"
    );
    assert_eq!(records[0].completion_tokens, usage.completion_tokens);
}

#[tokio::test]
async fn max_tokens_and_stop_sequences_hold() {
    let provider = smollm2();
    let short = provider.complete(&caption_request(3)).await.unwrap();
    assert_eq!(short.finish_reason, FinishReason::Length);
    assert_eq!(short.usage.unwrap().completion_tokens, 3);

    let mut request = caption_request(64);
    request.stop = vec!["a".into()];
    let stopped = provider.complete(&request).await.unwrap();
    assert!(!stopped.text.contains('a'), "{:?}", stopped.text);
    assert_eq!(stopped.finish_reason, FinishReason::Stop);
}

#[tokio::test]
async fn dropping_a_stream_frees_the_model_for_the_next_call() {
    let provider = smollm2();
    let mut request = caption_request(400);
    request
        .messages
        .push(Message::user("Now write a long essay about it."));
    let mut stream = provider.stream(&request).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert!(matches!(first, StreamEvent::Delta(_)));
    drop(stream);
    // The abandoned generation stops at its next token, so this one is served at once
    // rather than after 400 tokens (the router's timeout would catch a stuck worker).
    let next = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        provider.complete(&caption_request(8)),
    )
    .await
    .expect("the model is free again")
    .unwrap();
    assert!(!next.text.is_empty());
}

#[tokio::test]
async fn tool_requests_are_refused_as_the_callers_error() {
    let mut request = caption_request(8);
    request.tools = vec![ToolSpec {
        name: "lookup_order".into(),
        description: "Find an order".into(),
        parameters: serde_json::json!({"type": "object"}),
    }];
    let error = smollm2().complete(&request).await.unwrap_err();
    assert!(matches!(error, LlmError::InvalidRequest(_)), "{error}");
    assert!(error.to_string().contains("cannot call tools"));
}

#[tokio::test]
async fn a_prompt_over_the_context_window_is_the_callers_error() {
    let request = ChatRequest::new(vec![Message::user("latte ".repeat(4000))]);
    let error = smollm2().complete(&request).await.unwrap_err();
    assert!(matches!(error, LlmError::InvalidRequest(_)), "{error}");
}

#[tokio::test]
async fn a_base_model_without_a_template_answers_from_a_transcript() {
    let gemma = load("gemma", "gemma3-270m");
    assert!(!gemma.info().has_chat_template);
    let mut request = caption_request(40);
    request.temperature = Some(0.0);
    let answer = gemma.complete(&request).await.unwrap();
    assert!(!answer.text.trim().is_empty());
    assert!(
        !answer.text.contains("\nUser:"),
        "stops before the next turn"
    );
}

#[tokio::test]
async fn schema_answers_are_grammar_constrained_into_valid_json() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "caption": {"type": "string", "minLength": 5, "maxLength": 120},
            "hashtags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 20},
                "minItems": 1,
                "maxItems": 3
            },
            "tone": {"enum": ["playful", "calm", "bold"]}
        },
        "required": ["caption", "hashtags", "tone"],
        "additionalProperties": false
    });
    let router = Router::builder()
        .provider(smollm2(), 1)
        .route("generate", ["local"])
        .build()
        .unwrap();
    for seed in [1, 2, 3] {
        let mut request = caption_request(160);
        request.seed = Some(seed);
        request.temperature = Some(1.0);
        request.response_format = Some(brandpilot_llm::ResponseFormat::JsonSchema {
            name: "caption".into(),
            schema: schema.clone(),
        });
        let structured = router.complete_json("generate", &request).await.unwrap();
        assert_eq!(
            structured.attempts, 1,
            "valid on the first try: the grammar holds"
        );
        assert!(brandpilot_llm::schema::validate(&schema, &structured.value).is_empty());
    }
}
