//! Adding a page by URL: fetched in a job within the SSRF policy, ingested with the URL as
//! its origin; internal addresses are refused at once when the URL names one, and in the
//! job when a name or a redirect leads to one, without the address in any message.

use crate::helpers::{JsonOk, TestApp, assert_error, spawn_app, spawn_app_with};
use axum::response::{Html, Redirect};
use axum::routing::get;
use brandpilot_server::ExtraRoutes;
use serde_json::{Value, json};

/// A small site on loopback: a page, and a redirect to the cloud metadata address.
async fn site() -> u16 {
    let router = axum::Router::new()
        .route(
            "/returns",
            get(|| async {
                Html(
                    "<html><head><title>Returns policy</title></head><body><main>\
                     <h1>Returns</h1><p>Unopened bags are refunded within thirty days.</p>\
                     </main></body></html>",
                )
            }),
        )
        .route(
            "/sneaky",
            get(|| async { Redirect::temporary("http://169.254.169.254/latest/meta-data/") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    port
}

async fn add(app: &TestApp, brand: i64, url: &str) -> reqwest::Response {
    app.post(
        &format!("/api/v1/brands/{brand}/sources/url"),
        &json!({ "url": url, "tags": ["web"] }),
    )
    .send()
    .await
    .unwrap()
}

async fn queued(app: &TestApp, brand: i64, url: &str) -> Value {
    let response = add(app, brand, url).await;
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let id = response.json::<Value>().await.unwrap()["job"]["id"]
        .as_i64()
        .unwrap();
    app.finished_job(id).await
}

#[tokio::test]
async fn an_allowed_page_is_fetched_ingested_and_found() {
    let port = site().await;
    let app = spawn_app_with(
        |s| {
            s.fetch.allow_networks = vec!["127.0.0.1/32".into()];
            s.fetch.allowed_ports = vec![port];
        },
        ExtraRoutes::new(),
    )
    .await;
    let brand = app.create_brand("Web").await;
    let url = format!("http://127.0.0.1:{port}/returns");
    let job = queued(&app, brand, &url).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["kind"], "ingest_url");

    let sources = app
        .get(&format!("/api/v1/brands/{brand}/sources"))
        .json_ok()
        .await;
    let source = &sources["sources"][0];
    assert_eq!(source["origin"], url.as_str());
    assert_eq!(source["title"], "Returns policy");
    assert_eq!(source["kind"], "html");
    assert_eq!(source["tags"], json!(["web"]));
    let found = app
        .post(
            &format!("/api/v1/brands/{brand}/search"),
            &json!({ "query": "refund unopened bags" }),
        )
        .json_ok()
        .await;
    assert!(
        found["passages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("thirty days"),
        "{found}"
    );

    // Adding it again refreshes the same source instead of adding a second.
    let again = queued(&app, brand, &url).await;
    assert_eq!(again["status"], "succeeded", "{again}");
    let sources = app
        .get(&format!("/api/v1/brands/{brand}/sources"))
        .json_ok()
        .await;
    assert_eq!(sources["sources"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn internal_targets_are_refused_at_once_or_in_the_job_without_naming_them() {
    let port = site().await;
    let app = spawn_app().await;
    let brand = app.create_brand("Web").await;
    for url in [
        format!("http://127.0.0.1:{port}/returns"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::ffff:127.0.0.1]/".to_owned(),
        "file:///etc/passwd".to_owned(),
        format!("http://example.com:{port}/"),
        "not a url".to_owned(),
    ] {
        assert_error(add(&app, brand, &url).await, 400, "url_refused").await;
    }
    // A name is resolved in the job: localhost is loopback, so the job fails for good.
    let job = queued(&app, brand, "http://localhost/returns").await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("private, loopback or reserved"), "{error}");
    assert!(
        !error.contains("127.0.0.1") && !error.contains("::1"),
        "{error}"
    );

    // An opened site that redirects to the metadata address.
    let opened = spawn_app_with(
        |s| {
            s.fetch.allow_networks = vec!["127.0.0.1/32".into()];
            s.fetch.allowed_ports = vec![port, 80];
        },
        ExtraRoutes::new(),
    )
    .await;
    let brand = opened.create_brand("Web").await;
    let job = queued(&opened, brand, &format!("http://127.0.0.1:{port}/sneaky")).await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(!error.contains("169.254"), "{error}");
    let sources = opened
        .get(&format!("/api/v1/brands/{brand}/sources"))
        .json_ok()
        .await;
    assert!(sources["sources"].as_array().unwrap().is_empty());
}
