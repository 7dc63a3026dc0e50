//! The OpenAI-compatible provider against the fake chat server: text delivered intact
//! whatever the network splits, the request JSON it sends, and how each failure is classed.

use crate::{drain, hello};
use brandpilot_core::{Fault, FaultKind};
use brandpilot_llm::openai::{OpenAiConfig, OpenAiProvider};
use brandpilot_llm::{
    ApiKey, ChatProvider, FinishReason, LlmError, ResponseFormat, ToolSpec, Usage,
};
use brandpilot_testkit::openai_chat_server::{
    BodySplit, ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use serde_json::json;
use std::time::Duration;

const KEY: &str = "sk-test-very-secret";

fn server() -> OpenAiChatServer {
    OpenAiChatServer::start(OpenAiChatOptions {
        api_key: Some(KEY.to_owned()),
        ..OpenAiChatOptions::default()
    })
}

fn provider(server: &OpenAiChatServer, key: &str) -> OpenAiProvider {
    OpenAiProvider::new(OpenAiConfig {
        name: "openai".into(),
        base_url: server.base_url(),
        api_key: Some(ApiKey::new(key)),
        model: "gpt-test".into(),
        ..OpenAiConfig::default()
    })
    .unwrap()
}

const AWKWARD: &str = "Café ☕ au lait — 😀 naïve façade\r\nline two";

#[tokio::test]
async fn streamed_text_survives_every_split_point() {
    let server = server();
    let provider = provider(&server, KEY);
    // Learn the body length once, then cut it at every offset in turn (and in pairs with a
    // stride), with CRLF line endings and comments so cuts land inside `\r\n`, inside
    // multi-byte characters and inside comments.
    let reply = |split| {
        let mut reply = TextReply::new(AWKWARD);
        reply.crlf = true;
        reply.comments = true;
        reply.delta_chars = 2;
        reply.split = split;
        ChatReply::Text(reply)
    };
    server.script([reply(BodySplit::Whole)]);
    let (whole, _) = drain(provider.stream(&hello()).await.unwrap()).await;
    assert_eq!(whole, AWKWARD);
    // The parser's unit test tries every split point; over the wire a spread of cuts (each
    // three close together, so some land inside `\r\n` and inside characters) is enough.
    let body_len = 4000; // Longer than the body: offsets past its end are ignored.
    let mut splits: Vec<BodySplit> = (1..body_len)
        .step_by(23)
        .map(|at| BodySplit::At(vec![at, at + 1, at + 3]))
        .collect();
    splits.extend((1..=5).map(BodySplit::Every));
    for split in splits {
        server.script([reply(split.clone())]);
        let (text, result) = drain(provider.stream(&hello()).await.unwrap()).await;
        let response = result.unwrap_or_else(|error| panic!("{split:?}: {error}"));
        assert_eq!(text, AWKWARD, "{split:?}");
        assert_eq!(response.finish_reason, FinishReason::Stop);
        assert_eq!(
            response.usage,
            Some(Usage {
                prompt_tokens: 11,
                completion_tokens: 7
            })
        );
    }
}

#[tokio::test]
async fn request_json_and_headers_are_what_openai_expects() {
    let server = server();
    let provider = provider(&server, KEY);
    let mut request = hello();
    request.temperature = Some(0.5);
    request.top_p = Some(0.9);
    request.max_tokens = Some(64);
    request.response_format = Some(ResponseFormat::JsonSchema {
        name: "caption".into(),
        schema: json!({"type": "object", "properties": {"text": {"type": "string"}}}),
    });
    request.tools = vec![ToolSpec {
        name: "search".into(),
        description: "search the knowledge base".into(),
        parameters: json!({"type": "object"}),
    }];
    provider.complete(&request).await.unwrap();
    drain(provider.stream(&request).await.unwrap())
        .await
        .1
        .unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let plain = &requests[0];
    assert_eq!(plain.path, "/v1/chat/completions");
    assert_eq!(
        plain.header("authorization"),
        Some(&*format!("Bearer {KEY}"))
    );
    assert_eq!(plain.body["model"], "gpt-test");
    assert_eq!(plain.body["stream"], false);
    assert_eq!(
        plain.body["messages"][0],
        json!({"role": "system", "content": "You are brief."})
    );
    assert_eq!(plain.body["max_tokens"], 64);
    assert_eq!(plain.body["top_p"], json!(0.9f32));
    assert_eq!(
        plain.body["response_format"],
        // An open object with an optional property: OpenAI's strict mode would refuse it.
        json!({"type": "json_schema", "json_schema": {
            "name": "caption", "strict": false,
            "schema": {"type": "object", "properties": {"text": {"type": "string"}}}}})
    );
    assert_eq!(plain.body["tools"][0]["type"], "function");
    assert_eq!(plain.body["tools"][0]["function"]["name"], "search");
    let streamed = &requests[1];
    assert_eq!(streamed.body["stream"], true);
    assert_eq!(
        streamed.body["stream_options"],
        json!({"include_usage": true})
    );
}

#[tokio::test]
async fn no_key_sends_no_authorization_header() {
    let server = OpenAiChatServer::start(OpenAiChatOptions::default());
    let provider = OpenAiProvider::new(OpenAiConfig {
        name: "ollama".into(),
        base_url: format!("{}/", server.base_url()),
        api_key: None,
        model: "smollm2".into(),
        ..OpenAiConfig::default()
    })
    .unwrap();
    server.script([ChatReply::text("local answer")]);
    let response = provider.complete(&hello()).await.unwrap();
    assert_eq!(response.text, "local answer");
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn a_wrong_key_is_the_users_fault_and_never_appears_in_the_error() {
    let server = server();
    let wrong = "sk-wrong-key-0123456789";
    let provider = provider(&server, wrong);
    let error = provider.complete(&hello()).await.unwrap_err();
    assert_eq!(error.fault(), FaultKind::User);
    assert!(
        matches!(error, LlmError::Rejected { status: 401, .. }),
        "{error:?}"
    );
    // The fake echoes the key it refused, as some servers do; we must not pass it on.
    assert!(server.requests()[0].contains(wrong));
    for text in [
        error.to_string(),
        format!("{error:?}"),
        format!("{provider:?}"),
    ] {
        assert!(!text.contains(wrong), "key leaked: {text}");
    }
    let stream_error = provider.stream(&hello()).await.err().unwrap();
    assert!(!stream_error.to_string().contains(wrong));
}

#[tokio::test]
async fn streamed_and_plain_tool_calls() {
    let server = server();
    let provider = provider(&server, KEY);
    let call = || ChatReply::ToolCall {
        id: "call_1".into(),
        name: "search".into(),
        arguments: r#"{"query":"oat milk latte"}"#.into(),
    };
    server.script([call(), call()]);
    let plain = provider.complete(&hello()).await.unwrap();
    let (_, streamed) = drain(provider.stream(&hello()).await.unwrap()).await;
    let streamed = streamed.unwrap();
    for response in [plain, streamed] {
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        assert_eq!(response.tool_calls.len(), 1);
        assert_eq!(response.tool_calls[0].id, "call_1");
        assert_eq!(response.tool_calls[0].name, "search");
        assert_eq!(
            response.tool_calls[0].arguments,
            r#"{"query":"oat milk latte"}"#
        );
    }
}

#[tokio::test]
async fn a_malformed_event_is_transient_after_the_text_before_it() {
    let server = server();
    let provider = provider(&server, KEY);
    server.script([ChatReply::MalformedEvent {
        text_before: "partial".into(),
    }]);
    let (text, result) = drain(provider.stream(&hello()).await.unwrap()).await;
    assert_eq!(text, "partial");
    let error = result.unwrap_err();
    assert!(matches!(error, LlmError::Protocol { .. }), "{error:?}");
    assert_eq!(error.fault(), FaultKind::Transient);

    server.script([ChatReply::MalformedEvent {
        text_before: String::new(),
    }]);
    let error = provider.complete(&hello()).await.unwrap_err();
    assert_eq!(error.fault(), FaultKind::Transient);
}

#[tokio::test]
async fn a_stream_that_stops_midway_is_an_interruption() {
    let server = server();
    let provider = provider(&server, KEY);
    server.script([ChatReply::StopMidway {
        text_before: "half an ans".into(),
    }]);
    let (text, result) = drain(provider.stream(&hello()).await.unwrap()).await;
    assert_eq!(text, "half an ans");
    let error = result.unwrap_err();
    assert!(
        matches!(error, LlmError::StreamInterrupted { .. }),
        "{error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Transient);
}

#[tokio::test]
async fn an_error_object_in_the_stream_is_transient() {
    let server = server();
    let provider = provider(&server, KEY);
    server.script([ChatReply::ErrorEvent {
        text_before: "so far".into(),
    }]);
    let (text, result) = drain(provider.stream(&hello()).await.unwrap()).await;
    assert_eq!(text, "so far");
    assert_eq!(result.unwrap_err().fault(), FaultKind::Transient);
}

#[tokio::test]
async fn statuses_are_classified_and_retry_after_is_read() {
    let server = server();
    let provider = provider(&server, KEY);
    server.script([
        ChatReply::RateLimited {
            retry_after: Duration::from_millis(1500),
        },
        ChatReply::Status(500),
        ChatReply::Status(503),
        ChatReply::Status(400),
        ChatReply::Status(404),
        ChatReply::Status(422),
    ]);
    let rate_limited = provider.complete(&hello()).await.unwrap_err();
    assert_eq!(rate_limited.fault(), FaultKind::Transient);
    assert_eq!(
        rate_limited.retry_after(),
        Some(Duration::from_millis(1500))
    );
    for expected in [FaultKind::Transient, FaultKind::Transient] {
        assert_eq!(
            provider.complete(&hello()).await.unwrap_err().fault(),
            expected
        );
    }
    for _ in 0..3 {
        let error = provider.stream(&hello()).await.err().unwrap();
        assert_eq!(error.fault(), FaultKind::User, "{error}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    let server = server();
    let base_url = server.base_url();
    drop(server);
    let provider = OpenAiProvider::new(OpenAiConfig {
        name: "gone".into(),
        base_url,
        api_key: None,
        model: "m".into(),
        ..OpenAiConfig::default()
    })
    .unwrap();
    let error = provider.complete(&hello()).await.unwrap_err();
    assert!(matches!(error, LlmError::Connection { .. }), "{error:?}");
    assert_eq!(error.fault(), FaultKind::Transient);
}

#[test]
fn a_base_url_that_is_not_http_is_a_configuration_error() {
    let error = OpenAiProvider::new(OpenAiConfig {
        name: "broken".into(),
        base_url: "ftp://user:pw@example.com".into(),
        api_key: None,
        model: "m".into(),
        ..OpenAiConfig::default()
    })
    .unwrap_err();
    assert_eq!(error.fault(), FaultKind::User);
    assert!(!error.to_string().contains("pw"));
}

#[tokio::test]
async fn the_token_limit_goes_in_the_field_the_config_names() {
    let server = OpenAiChatServer::start(OpenAiChatOptions::default());
    let provider = |max_completion_tokens| {
        OpenAiProvider::new(OpenAiConfig {
            name: "openai".into(),
            base_url: server.base_url(),
            model: "o3-mini".into(),
            max_completion_tokens,
            ..OpenAiConfig::default()
        })
        .unwrap()
    };
    let (classic, reasoning) = (provider(false), provider(true));
    let mut limited = hello();
    limited.max_tokens = Some(64);
    classic.complete(&limited).await.unwrap();
    reasoning.complete(&limited).await.unwrap();
    drain(reasoning.stream(&limited).await.unwrap())
        .await
        .1
        .unwrap();
    reasoning.complete(&hello()).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].body["max_tokens"], 64);
    assert!(requests[0].body.get("max_completion_tokens").is_none());
    for request in &requests[1..3] {
        assert_eq!(request.body["max_completion_tokens"], 64);
        assert!(request.body.get("max_tokens").is_none(), "{}", request.body);
    }
    // No limit asked: neither field.
    assert!(requests[3].body.get("max_completion_tokens").is_none());
    assert!(requests[3].body.get("max_tokens").is_none());
}
