//! `complete_json` against the fake OpenAI server: valid answers pass in one call, a wrong
//! answer gets exactly one correction carrying the problems, a second wrong answer is a
//! permanent error that keeps the raw text, and a fenced answer is accepted.

use crate::hello;
use brandpilot_core::{Fault, FaultKind};
use brandpilot_llm::accounting::MemorySink;
use brandpilot_llm::openai::{OpenAiConfig, OpenAiProvider};
use brandpilot_llm::{ChatRequest, LlmError, ResponseFormat, Router};
use brandpilot_testkit::openai_chat_server::{
    ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use serde_json::json;
use std::sync::Arc;

struct Setup {
    server: OpenAiChatServer,
    router: Router,
    sink: Arc<MemorySink>,
}

fn setup() -> Setup {
    let server = OpenAiChatServer::start(OpenAiChatOptions::default());
    let provider = OpenAiProvider::new(OpenAiConfig {
        name: "only".into(),
        base_url: server.base_url(),
        api_key: None,
        model: "m".into(),
        ..OpenAiConfig::default()
    })
    .unwrap();
    let sink = Arc::new(MemorySink::default());
    let router = Router::builder()
        .sink(sink.clone())
        .provider(Arc::new(provider), 2)
        .route("generate", ["only"])
        .build()
        .unwrap();
    Setup {
        server,
        router,
        sink,
    }
}

fn caption_request() -> ChatRequest {
    let mut request = hello();
    request.response_format = Some(ResponseFormat::JsonSchema {
        name: "caption".into(),
        schema: json!({
            "type": "object",
            "properties": {
                "caption": { "type": "string", "maxLength": 40 },
                "tone": { "enum": ["warm", "bold"] },
            },
            "required": ["caption", "tone"],
            "additionalProperties": false,
        }),
    });
    request
}

const VALID: &str = r#"{"caption": "Oat milk, reimagined", "tone": "warm"}"#;

#[tokio::test]
async fn a_valid_first_answer_takes_one_call() {
    let setup = setup();
    setup.server.script([ChatReply::text(VALID)]);
    let structured = setup
        .router
        .complete_json("generate", &caption_request())
        .await
        .unwrap();
    assert_eq!(structured.attempts, 1);
    assert_eq!(
        structured.value,
        json!({ "caption": "Oat milk, reimagined", "tone": "warm" })
    );
    assert_eq!(structured.response.text, VALID);
    assert_eq!(setup.server.requests().len(), 1);
}

#[tokio::test]
async fn an_invalid_answer_is_corrected_once_with_its_problems_listed() {
    let setup = setup();
    let wrong = r#"{"caption": "Oat milk", "tone": "calm", "emoji": "☕"}"#;
    setup
        .server
        .script([ChatReply::text(wrong), ChatReply::text(VALID)]);
    let scoped = setup.router.scoped("workspace-1/brand-2");
    let structured = scoped
        .complete_json("generate", &caption_request())
        .await
        .unwrap();
    assert_eq!(structured.attempts, 2);
    assert_eq!(structured.value["tone"], "warm");

    let requests = setup.server.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1].body["messages"].as_array().unwrap();
    let original = hello().messages.len();
    assert_eq!(
        messages.len(),
        original + 2,
        "answer and correction appended"
    );
    assert_eq!(messages[original]["role"], "assistant");
    assert_eq!(messages[original]["content"], wrong);
    assert_eq!(messages[original + 1]["role"], "user");
    let correction = messages[original + 1]["content"].as_str().unwrap();
    // The wrong enum value and the extra property, each at its path.
    assert!(correction.contains("/tone"), "{correction}");
    assert!(correction.contains("\"calm\""), "{correction}");
    assert!(correction.contains("/emoji"), "{correction}");
    assert!(!correction.contains("/caption"), "{correction}");
    // The correction is part of the same scoped, recorded work: one record per call.
    let records = setup.sink.records();
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|record| record.scope.as_deref() == Some("workspace-1/brand-2"))
    );
}

#[tokio::test]
async fn two_invalid_answers_are_a_permanent_error_keeping_the_raw_text() {
    let setup = setup();
    let second = format!(
        "Sure! Here is the caption: {{\"caption\": \"{}\"}}",
        "long ".repeat(100)
    );
    setup
        .server
        .script([ChatReply::text("not json at all"), ChatReply::text(&second)]);
    let error = setup
        .router
        .complete_json("generate", &caption_request())
        .await
        .unwrap_err();
    assert_eq!(setup.server.requests().len(), 2);
    let correction = &setup.server.requests()[1].body["messages"];
    assert!(
        correction.to_string().contains("not valid JSON"),
        "{correction}"
    );
    assert_eq!(error.fault(), FaultKind::User);
    assert!(error.to_string().chars().count() < 600, "{error}");
    match error {
        LlmError::InvalidStructuredOutput { raw, problems } => {
            assert_eq!(raw, second);
            assert!(
                problems
                    .iter()
                    .any(|problem| problem.contains("not valid JSON")),
                "{problems:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_fenced_answer_is_accepted() {
    let setup = setup();
    let fenced = format!("\n```json\n{VALID}\n```\n");
    setup.server.script([ChatReply::text(&fenced)]);
    let structured = setup
        .router
        .complete_json("generate", &caption_request())
        .await
        .unwrap();
    assert_eq!(structured.attempts, 1);
    assert_eq!(structured.value["caption"], "Oat milk, reimagined");
    assert_eq!(structured.response.text, fenced);
    assert_eq!(setup.server.requests().len(), 1);
}

#[tokio::test]
async fn an_answer_cut_off_at_the_token_limit_is_explained_to_the_model() {
    let setup = setup();
    let mut cut = TextReply::new(r#"{"caption": "Oat milk, reim"#);
    cut.finish_reason = Some("length".into());
    setup
        .server
        .script([ChatReply::Text(cut), ChatReply::text(VALID)]);
    let structured = setup
        .router
        .complete_json("generate", &caption_request())
        .await
        .unwrap();
    assert_eq!(structured.attempts, 2);
    let correction = setup.server.requests()[1].body["messages"].to_string();
    assert!(correction.contains("token limit"), "{correction}");
}

#[tokio::test]
async fn a_request_without_a_usable_schema_fails_before_any_call() {
    let setup = setup();
    let no_format = hello();
    let mut unsupported = caption_request();
    unsupported.response_format = Some(ResponseFormat::JsonSchema {
        name: "caption".into(),
        schema: json!({ "type": "string", "format": "email" }),
    });
    for (request, mentions) in [(no_format, "response_format"), (unsupported, "`format`")] {
        let error = setup
            .router
            .complete_json("generate", &request)
            .await
            .unwrap_err();
        assert!(matches!(error, LlmError::InvalidRequest(_)), "{error:?}");
        assert_eq!(error.fault(), FaultKind::User);
        assert!(error.to_string().contains(mentions), "{error}");
    }
    assert!(setup.server.requests().is_empty());
}
