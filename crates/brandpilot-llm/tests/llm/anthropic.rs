//! The Anthropic provider against the fake Messages API: headers and body shape, the typed
//! stream events, JSON-schema output through a forced tool, and failure classes.

use crate::{drain, hello};
use brandpilot_core::{Fault, FaultKind};
use brandpilot_llm::anthropic::{AnthropicConfig, AnthropicProvider};
use brandpilot_llm::{
    ApiKey, ChatProvider, FinishReason, LlmError, Message, ResponseFormat, ToolCall, Usage,
};
use brandpilot_testkit::anthropic_server::{
    AnthropicOptions, AnthropicServer, BodySplit, ChatReply, TextReply,
};
use serde_json::json;
use std::time::Duration;

const KEY: &str = "sk-ant-test-secret";

fn setup() -> (AnthropicServer, AnthropicProvider) {
    let server = AnthropicServer::start(AnthropicOptions {
        api_key: Some(KEY.to_owned()),
    });
    let provider = AnthropicProvider::new(AnthropicConfig {
        name: "anthropic".into(),
        base_url: server.base_url(),
        api_key: ApiKey::new(KEY),
        model: "claude-test".into(),
    })
    .unwrap();
    (server, provider)
}

#[tokio::test]
async fn streamed_text_and_usage_survive_awkward_splits() {
    let (server, provider) = setup();
    let text = "Oat-milk latte ☕ — smooth, naïve 😀 and new";
    for split in [
        BodySplit::Whole,
        BodySplit::Every(1),
        BodySplit::Every(3),
        BodySplit::At(vec![5, 90, 91, 92, 300]),
    ] {
        let mut reply = TextReply::new(text);
        reply.crlf = true;
        reply.comments = true;
        reply.split = split.clone();
        server.script([ChatReply::Text(reply)]);
        let (delivered, result) = drain(provider.stream(&hello()).await.unwrap()).await;
        let response = result.unwrap_or_else(|error| panic!("{split:?}: {error}"));
        assert_eq!(delivered, text, "{split:?}");
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
async fn headers_system_field_and_plain_reply() {
    let (server, provider) = setup();
    server.script([ChatReply::text("Hello!")]);
    let response = provider.complete(&hello()).await.unwrap();
    assert_eq!(response.text, "Hello!");
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.body["system"], "You are brief.");
    assert_eq!(
        request.body["messages"],
        json!([{"role": "user", "content": "Say hello"}])
    );
    assert_eq!(request.body["max_tokens"], 1024);
}

#[tokio::test]
async fn json_schema_output_comes_from_a_forced_tool_call() {
    let (server, provider) = setup();
    let mut request = hello();
    request.response_format = Some(ResponseFormat::JsonSchema {
        name: "caption".into(),
        schema: json!({"type": "object", "properties": {"text": {"type": "string"}}}),
    });
    let answer = || ChatReply::ToolCall {
        id: "toolu_1".into(),
        name: "caption".into(),
        arguments: r#"{"text":"Oat milk, new"}"#.into(),
    };
    server.script([answer(), answer()]);
    let plain = provider.complete(&request).await.unwrap();
    let (streamed_text, streamed) = drain(provider.stream(&request).await.unwrap()).await;
    let streamed = streamed.unwrap();
    assert_eq!(streamed_text, r#"{"text":"Oat milk, new"}"#);
    for response in [plain, streamed] {
        let value: serde_json::Value = serde_json::from_str(&response.text).unwrap();
        assert_eq!(value, json!({"text": "Oat milk, new"}));
        assert!(response.tool_calls.is_empty());
        assert_eq!(response.finish_reason, FinishReason::Stop);
    }
    let sent = &server.requests()[0].body;
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "tool", "name": "caption"})
    );
    assert_eq!(
        sent["tools"][0]["input_schema"]["properties"]["text"]["type"],
        "string"
    );
}

#[tokio::test]
async fn tool_calls_and_tool_results_take_anthropics_shape() {
    let (server, provider) = setup();
    let call = || ChatReply::ToolCall {
        id: "toolu_9".into(),
        name: "search".into(),
        arguments: r#"{"query":"latte"}"#.into(),
    };
    server.script([call(), call()]);
    let plain = provider.complete(&hello()).await.unwrap();
    let (_, streamed) = drain(provider.stream(&hello()).await.unwrap()).await;
    for response in [plain, streamed.unwrap()] {
        assert_eq!(response.finish_reason, FinishReason::ToolCalls);
        assert_eq!(response.tool_calls[0].id, "toolu_9");
        let arguments: serde_json::Value =
            serde_json::from_str(&response.tool_calls[0].arguments).unwrap();
        assert_eq!(arguments, json!({"query": "latte"}));
    }
    let mut follow_up = hello();
    follow_up.messages.push(Message::assistant_tool_calls(
        "",
        vec![ToolCall {
            id: "toolu_9".into(),
            name: "search".into(),
            arguments: r#"{"query":"latte"}"#.into(),
        }],
    ));
    follow_up
        .messages
        .push(Message::tool_result("toolu_9", "3 results"));
    provider.complete(&follow_up).await.unwrap();
    let sent = &server.requests()[2].body;
    assert_eq!(sent["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(
        sent["messages"][2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "3 results"}]})
    );
}

#[tokio::test]
async fn overloaded_error_event_malformed_event_and_stop_midway_are_transient() {
    let (server, provider) = setup();
    let cases = [
        ChatReply::ErrorEvent {
            text_before: "Hel".into(),
        },
        ChatReply::MalformedEvent {
            text_before: "Hel".into(),
        },
        ChatReply::StopMidway {
            text_before: "Hel".into(),
        },
    ];
    for case in cases {
        server.script([case.clone()]);
        let (text, result) = drain(provider.stream(&hello()).await.unwrap()).await;
        assert_eq!(text, "Hel", "{case:?}");
        let error = result.unwrap_err();
        assert_eq!(error.fault(), FaultKind::Transient, "{case:?}: {error}");
    }
}

#[tokio::test]
async fn statuses_and_a_wrong_key() {
    let (server, provider) = setup();
    server.script([
        ChatReply::Status(529),
        ChatReply::RateLimited {
            retry_after: Duration::from_secs(2),
        },
        ChatReply::Status(400),
    ]);
    let overloaded = provider.complete(&hello()).await.unwrap_err();
    assert!(matches!(
        overloaded,
        LlmError::Unavailable {
            status: Some(529),
            ..
        }
    ));
    let limited = provider.complete(&hello()).await.unwrap_err();
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(
        provider.complete(&hello()).await.unwrap_err().fault(),
        FaultKind::User
    );

    let wrong = AnthropicProvider::new(AnthropicConfig {
        name: "anthropic".into(),
        base_url: server.base_url(),
        api_key: ApiKey::new("sk-ant-wrong"),
        model: "claude-test".into(),
    })
    .unwrap();
    let error = wrong.complete(&hello()).await.unwrap_err();
    assert!(
        matches!(error, LlmError::Rejected { status: 401, .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?} {wrong:?}").contains("sk-ant-wrong"));
}
