use crate::helpers::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn healthz_answers_without_credentials_and_with_a_request_id() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"].len(), 24);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_the_store_and_the_indexes_and_turns_503_when_the_store_is_closed() {
    let app = spawn_app().await;
    let brand = app.create_brand("Ready").await;
    app.ingest(app.workspace, brand, &[("a", "Alpha beta gamma.")])
        .await;
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["store"], "ok");
    assert_eq!(body["index"], "ok");
    assert_eq!(body["indexed_chunks"], 1);

    app.app.store.close().await;
    let response = reqwest::get(app.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["store"], "unavailable");
}
