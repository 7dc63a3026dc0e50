//! API keys: missing, malformed, unknown and revoked keys are 401; a missing scope is 403;
//! another workspace's brands do not exist for a caller.

use crate::helpers::{assert_error, spawn_app};
use brandpilot_app::Scope;
use serde_json::json;

#[tokio::test]
async fn requests_without_a_valid_key_are_401_with_a_challenge() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/brands");
    let none = app.client.get(&url).send().await.unwrap();
    assert_eq!(
        none.headers()["www-authenticate"],
        "Bearer realm=\"brandpilot\""
    );
    assert_error(none, 401, "unauthenticated").await;

    for header in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer bpk_00000000_not-a-real-secret",
        "Bearer not-even-our-format",
    ] {
        let response = app
            .client
            .get(&url)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_error(response, 401, "unauthenticated").await;
    }
    // A key with one character changed is a different, unknown key.
    let mut altered = app.key.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    let response = app
        .client
        .get(&url)
        .bearer_auth(altered)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;
}

#[tokio::test]
async fn the_x_api_key_header_works_and_a_revoked_key_stops_working() {
    let app = spawn_app().await;
    let url = app.url("/api/v1/brands");
    let key = app.key_with(&[Scope::BrandsRead]).await;
    let response = app
        .client
        .get(&url)
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let id = app
        .app
        .admin()
        .list_api_keys(app.workspace)
        .await
        .unwrap()
        .into_iter()
        .find(|record| key.starts_with(&format!("bpk_{}_", record.prefix)))
        .unwrap()
        .id;
    app.app
        .admin()
        .revoke_api_key(
            app.workspace,
            id,
            &brandpilot_app::Actor::Cli,
            &Default::default(),
        )
        .await
        .unwrap();
    let response = app
        .client
        .get(&url)
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_key_without_the_scope_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    let read_only = app.key_with(&[Scope::BrandsRead, Scope::Search]).await;
    let response = app
        .client
        .post(app.url("/api/v1/brands"))
        .bearer_auth(&read_only)
        .json(&json!({ "name": "Sneaky" }))
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 403, "forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("brands:write")
    );
    let brands = app.app.list_brands(app.workspace).await.unwrap();
    assert!(brands.is_empty(), "{brands:?}");
}

#[tokio::test]
async fn another_workspaces_brand_does_not_exist_for_a_caller() {
    let app = spawn_app().await;
    let ours = app.create_brand("Ours cnry-a-5f1e").await;
    app.ingest(
        app.workspace,
        ours,
        &[(
            "Refunds cnry-a-5f1e",
            "Refunds take fourteen days cnry-a-5f1e.",
        )],
    )
    .await;
    let (_other, other_key) = app.other_workspace("other").await;

    let calls = [
        ("GET", format!("/api/v1/brands/{ours}"), None),
        ("GET", format!("/api/v1/brands/{ours}/sources"), None),
        (
            "POST",
            format!("/api/v1/brands/{ours}/search"),
            Some(json!({ "query": "refunds" })),
        ),
        ("DELETE", format!("/api/v1/brands/{ours}/sources/1"), None),
        ("DELETE", format!("/api/v1/brands/{ours}"), None),
    ];
    for (method, path, body) in calls {
        let mut request = app
            .client
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(&other_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let text = assert_error(response, 404, "not_found").await.to_string();
        assert!(!text.contains("cnry-a-5f1e"), "{method} {path}: {text}");
    }
    let listed = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!listed.contains("cnry-a-5f1e"), "{listed}");
    // Nothing was deleted by the foreign calls.
    let response = app
        .get(&format!("/api/v1/brands/{ours}/sources"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["sources"].as_array().unwrap().len(), 1);
}
