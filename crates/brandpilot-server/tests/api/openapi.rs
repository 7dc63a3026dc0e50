//! The OpenAPI document: 3.1, committed (so changes show in review), and true: every
//! operation names the scope it needs, and the server enforces exactly that scope.

use crate::helpers::spawn_app;
use brandpilot_app::Scope;
use serde_json::{Value, json};

const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/api/v1/auth/signup",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/widget/config",
    "/api/v1/widget/sessions",
];
/// The widget's operations for an anonymous visitor: their session token, no scope.
const VISITOR: &[&str] = &[
    "/api/v1/widget/chat",
    "/api/v1/widget/conversations/{conversation_id}",
];
/// Operations for a signed-in person only (their own account): secured, without a scope.
const SIGNED_IN: &[&str] = &[
    "/api/v1/me",
    "/api/v1/workspaces",
    "/api/v1/invitations/accept",
];

async fn document(app: &crate::helpers::TestApp) -> Value {
    let response = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Every (method, path, scopes) of the document.
fn operations(document: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let scopes = operation["security"]
                .as_array()
                .map(|requirements| {
                    requirements
                        .iter()
                        .flat_map(|r| r["api_key"].as_array().cloned().unwrap_or_default())
                        .map(|s| s.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            out.push((method.to_uppercase(), path.clone(), scopes));
        }
    }
    out
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_matches_the_committed_copy() {
    let app = spawn_app().await;
    let served = document(&app).await;
    assert!(
        served["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        served["openapi"]
    );
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let generated = brandpilot_server::openapi::document()
        .to_pretty_json()
        .unwrap()
        + "\n";
    if std::env::var_os("BRANDPILOT_UPDATE_OPENAPI").is_some() {
        std::fs::write(committed_path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `BRANDPILOT_UPDATE_OPENAPI=1 cargo test -p \
         brandpilot-server --test api openapi` and commit the result"
    );
    assert_eq!(serde_json::from_str::<Value>(&committed).unwrap(), served);
}

#[tokio::test]
async fn every_operation_is_public_or_names_exactly_one_known_scope() {
    let app = spawn_app().await;
    let document = document(&app).await;
    let operations = operations(&document);
    assert!(operations.len() >= 9, "{operations:?}");
    for (method, path, scopes) in operations {
        if PUBLIC.contains(&path.as_str()) {
            assert!(
                scopes.is_empty(),
                "{method} {path} is public but names {scopes:?}"
            );
            continue;
        }
        // `/v1/…` is the OpenAI-compatible face, where OpenAI clients expect it.
        assert!(
            path.starts_with("/api/v1/") || path.starts_with("/v1/"),
            "{path} is not versioned"
        );
        let operation = &document["paths"][&path][method.to_lowercase()];
        if VISITOR.contains(&path.as_str()) {
            assert_eq!(
                operation["security"],
                json!([{ "visitor": [] }]),
                "{method} {path}"
            );
            continue;
        }
        if SIGNED_IN.contains(&path.as_str()) {
            assert!(operation["security"].is_array(), "{method} {path}");
            assert!(scopes.is_empty(), "{method} {path}: {scopes:?}");
            continue;
        }
        assert_eq!(scopes.len(), 1, "{method} {path}: {scopes:?}");
        assert!(
            scopes[0].parse::<Scope>().is_ok(),
            "{method} {path}: {scopes:?}"
        );
        for status in ["401", "403", "429", "500", "503"] {
            let response = &document["paths"][&path][method.to_lowercase()]["responses"][status];
            assert!(
                response.is_object(),
                "{method} {path} does not document {status}"
            );
        }
    }
}

/// The server checks the scope the document names, and no other: a key with every scope
/// but that one is refused with 403; a key with only that one is not.
#[tokio::test]
async fn the_server_enforces_the_scope_each_operation_documents() {
    let app = spawn_app().await;
    let brand = app.create_brand("Scoped").await;
    app.ingest(
        app.workspace,
        brand,
        &[("notes.txt", "Scoped search works.")],
    )
    .await;
    let document = document(&app).await;
    for (method, path, scopes) in operations(&document) {
        let Some(scope) = scopes.first() else {
            continue;
        };
        let scope: Scope = scope.parse().unwrap();
        if !scope.key_may_hold() {
            // People-only: no key can hold it, so even a key with every scope is refused.
            let concrete = path
                .replace("{user_id}", "999999")
                .replace("{invitation_id}", "999999")
                .replace("{key_id}", "999999")
                .replace("{webhook_id}", "999999")
                .replace("{brand_id}", "999999")
                .replace("{variant_id}", "999999");
            let status = app
                .client
                .request(method.parse().unwrap(), app.url(&concrete))
                .bearer_auth(&app.key)
                .json(&match path.as_str() {
                    "/api/v1/invitations" => json!({ "email": "a@example.com", "role": "viewer" }),
                    "/api/v1/keys" => json!({ "name": "k" }),
                    "/api/v1/webhooks" => json!({
                        "url": "https://hooks.example.com/x",
                        "events": ["ticket.opened"],
                    }),
                    "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/verdict" => {
                        json!({ "verdict": "approved" })
                    }
                    _ => json!({ "role": "viewer" }),
                })
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, 403, "{method} {path} with a key");
            continue;
        }
        let everything_else: Vec<Scope> = Scope::for_keys()
            .into_iter()
            .filter(|s| *s != scope)
            .collect();
        let without = app.key_with(&everything_else).await;
        let only = app.key_with(&[scope]).await;
        // Ids that do not exist keep the calls harmless: a refusal must come before the
        // lookup (403), and an allowed call gets as far as the lookup (404) or succeeds.
        let concrete = path
            .replace("{brand_id}", &brand.to_string())
            .replace("{source_id}", "999999")
            .replace("{job_id}", "999999")
            .replace("{conversation_id}", "999999")
            .replace("{message_id}", "999999")
            .replace("{ticket_id}", "999999")
            .replace("{customer_id}", "nobody")
            .replace("{experiment_id}", "999999")
            .replace("{generation_id}", "999999")
            .replace("{variant_id}", "999999")
            .replace("{example_id}", "999999")
            .replace("{batch_id}", "999999");
        let body = ["POST", "PUT", "PATCH"]
            .contains(&method.as_str())
            .then(|| match path.as_str() {
                "/api/v1/brands" => json!({ "name": format!("new {method} {scope}") }),
                "/api/v1/brands/{brand_id}/sources/url" => json!({ "url": "http://example.com/" }),
                "/api/v1/brands/{brand_id}/chat" => json!({ "message": "scoped" }),
                "/api/v1/brands/{brand_id}/messages/{message_id}/feedback" => {
                    json!({ "rating": "up" })
                }
                "/api/v1/brands/{brand_id}/profile" => json!({ "voice": "scoped" }),
                "/api/v1/brands/{brand_id}/widget" => json!({ "allowed_origins": [] }),
                "/api/v1/brands/{brand_id}/customers/{customer_id}" => json!({ "plan": "x" }),
                "/api/v1/tickets/{ticket_id}" => json!({ "status": "open" }),
                "/api/v1/tickets/{ticket_id}/replies" => json!({ "text": "scoped" }),
                "/api/v1/webhooks" => {
                    json!({ "url": "https://hooks.example.com/x", "events": ["ticket.opened"] })
                }
                "/api/v1/brands/{brand_id}/studio/rules" => json!({ "banned_words": ["scoped"] }),
                "/api/v1/brands/{brand_id}/studio/validate" => json!({
                    "channel": "x_post",
                    "fields": [{ "field": "post", "text": "scoped" }],
                }),
                "/api/v1/brands/{brand_id}/studio/seo" => json!({ "brief": { "topic": "scoped" } }),
                "/api/v1/brands/{brand_id}/studio/generations" => {
                    json!({ "channel": "x_post", "goal": "scoped" })
                }
                "/api/v1/brands/{brand_id}/studio/reels" => json!({
                    "sector": "education", "hook_type": "question", "duration_seconds": 30,
                    "topic": "scoped",
                }),
                "/api/v1/studio/batch" => json!({
                    "brand_id": brand,
                    "briefs": [{ "channel": "x_post", "goal": "scoped" }],
                }),
                "/api/v1/brands/{brand_id}/studio/variants/{variant_id}" => {
                    json!({ "fields": [{ "field": "post", "text": "scoped" }] })
                }
                "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/feedback" => {
                    json!({ "rating": 5 })
                }
                "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/review" => {
                    json!({ "state": "in_review" })
                }
                "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/performance" => {
                    json!({ "views": 1 })
                }
                "/api/v1/brands/{brand_id}/studio/examples" => json!({
                    "channel": "x_post",
                    "text": format!("scoped {method} {scope}"),
                }),
                "/api/v1/brands/{brand_id}/studio/examples/{example_id}" => {
                    json!({ "channel": "email" })
                }
                "/api/v1/brands/{brand_id}/studio/voice" => json!({
                    "language": "en",
                    "sentence_length": { "mean": 12.0, "low": 6.0, "high": 20.0 },
                    "mean_word_length": 4.6,
                    "emoji_per_100_words": 0.0,
                    "emoji_text_share": 0.0,
                    "exclamation_rate": 0.1,
                    "question_rate": 0.1,
                    "second_person_per_100_words": 3.0,
                    "first_person_plural_per_100_words": 2.0,
                }),
                "/api/v1/brands/{brand_id}/experiments" => json!({
                    "name": format!("scoped {method} {scope}"),
                    "arms": [{ "name": "A" }, { "name": "B" }],
                }),
                "/api/v1/brands/{brand_id}/experiments/{experiment_id}/assign" => {
                    json!({ "visitor_id": "scoped" })
                }
                "/api/v1/brands/{brand_id}/experiments/{experiment_id}/events" => {
                    json!({ "arm": "A", "kind": "impression" })
                }
                "/v1/chat/completions" => json!({
                    "model": brand.to_string(),
                    "messages": [{ "role": "user", "content": "scoped" }],
                }),
                _ => json!({ "query": "scoped" }),
            });
        // (The upload route answers a JSON body with 415 after the scope check: enough
        // to tell an allowed call from a refused one.)
        for (key, allowed) in [(&without, false), (&only, true)] {
            let mut request = app
                .client
                .request(method.parse().unwrap(), app.url(&concrete))
                .bearer_auth(key);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let destructive = method == "DELETE" && allowed && !concrete.contains("999999");
            if destructive {
                continue; // deleting the brand would starve the other cases
            }
            let status = request.send().await.unwrap().status().as_u16();
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} with {scope}: {status}"
                );
            } else {
                assert_eq!(status, 403, "{method} {path} without {scope}");
            }
        }
    }
}

#[tokio::test]
async fn the_docs_page_loads_the_document() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/api/v1/docs")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("fetch(\"openapi.json\")"));
}
