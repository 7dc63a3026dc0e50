//! One error body everywhere: our errors, axum's own rejections, panics and timeouts.

use crate::helpers::{assert_error, spawn_app, spawn_app_with};
use axum::routing::get;
use brandpilot_server::ExtraRoutes;
use std::time::Duration;

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here").send().await.unwrap();
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_that_keeps_allow() {
    let app = spawn_app().await;
    let response = app
        .client
        .put(app.url("/api/v1/brands"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_say_what_is_wrong() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/brands");
    let syntax = app
        .client
        .post(&url)
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_error(syntax, 400, "invalid_json").await;

    let no_type = app
        .client
        .post(&url)
        .bearer_auth(&app.key)
        .body("{\"name\": \"x\"}")
        .send()
        .await
        .unwrap();
    assert_error(no_type, 415, "unsupported_media_type").await;

    let wrong_type = app
        .post("/api/v1/brands", &serde_json::json!({ "name": 5 }))
        .send()
        .await
        .unwrap();
    let body = assert_error(wrong_type, 400, "invalid_request").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains("name"),
        "{body}"
    );

    let unknown_field = app
        .post(
            "/api/v1/brands",
            &serde_json::json!({ "name": "x", "colour": "red" }),
        )
        .send()
        .await
        .unwrap();
    let body = assert_error(unknown_field, 400, "invalid_request").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_json_413() {
    let app = spawn_app_with(|s| s.server.max_body_kb = 1, ExtraRoutes::new()).await;
    let brand = app.create_brand("Big").await;
    let response = app
        .post(
            &format!("/api/v1/brands/{brand}/search"),
            &serde_json::json!({ "query": "x".repeat(2048) }),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_panicking_handler_answers_500_without_the_panic_text() {
    let extra = ExtraRoutes::new().route(
        "/test/panic",
        get(|| async {
            panic!("secret detail: /etc/brandpilot.toml");
            #[allow(unreachable_code)]
            ""
        }),
    );
    let app = spawn_app_with(|_| {}, extra).await;
    let response = app.get("/test/panic").send().await.unwrap();
    let body = assert_error(response, 500, "internal_error").await;
    assert!(!body.to_string().contains("secret detail"), "{body}");
    // The server keeps serving.
    let response = app.get("/healthz").send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_request_over_the_deadline_is_stopped_with_503_timeout() {
    let extra = ExtraRoutes::new().route(
        "/test/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let app = spawn_app_with(|s| s.server.request_timeout_secs = 1, extra).await;
    let response = app.get("/test/slow").send().await.unwrap();
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 503, "timeout").await;
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_replaced_otherwise() {
    let app = spawn_app().await;
    let response = app
        .get("/api/v1/brands")
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42");

    let response = app
        .get("/api/v1/nothing")
        .header("x-request-id", "x".repeat(200))
        .send()
        .await
        .unwrap();
    let replaced = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(replaced.len(), 24);
    let body = assert_error(response, 404, "not_found").await;
    assert_eq!(body["error"]["request_id"], replaced.as_str());
}
