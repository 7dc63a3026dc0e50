//! `/metrics`: Prometheus text with the HTTP histogram by route template (never raw ids),
//! the app's counters, and an optional bearer token.

use crate::helpers::{assert_error, spawn_app, spawn_app_with};
use brandpilot_server::ExtraRoutes;
use serde_json::json;

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_ingestion_and_searches() {
    let app = spawn_app().await;
    let brand = app.create_brand("Metered").await;
    app.ingest(
        app.workspace,
        brand,
        &[("a.txt", "Metered espresso."), ("b.txt", "Metered milk.")],
    )
    .await;
    for _ in 0..3 {
        let response = app
            .post(
                &format!("/api/v1/brands/{brand}/search"),
                &json!({ "query": "espresso" }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    app.get("/api/v1/brands/999999").send().await.unwrap();

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let search_count = text
        .lines()
        .find(|line| {
            line.starts_with("brandpilot_http_request_duration_seconds_count")
                && line.contains("route=\"/api/v1/brands/{brand_id}/search\"")
                && line.contains("status=\"200\"")
                && line.contains("method=\"POST\"")
        })
        .unwrap_or_else(|| panic!("no search histogram in:\n{text}"));
    assert!(search_count.ends_with(" 3"), "{search_count}");
    assert!(
        text.contains("route=\"/api/v1/brands/{brand_id}\",status=\"404\""),
        "{text}"
    );
    assert!(!text.contains("/999999"), "a raw id became a label");
    assert!(text.contains("brandpilot_ingest_chunks_total 2"), "{text}");
    assert!(
        text.contains("brandpilot_ingest_sources_total{outcome=\"added\"} 2"),
        "{text}"
    );
    assert!(text.contains("brandpilot_searches_total 3"), "{text}");
    assert!(text.contains("brandpilot_index_chunks 2"), "{text}");
    assert!(
        text.contains("brandpilot_jobs{lane=\"long\",status=\"queued\"}"),
        "{text}"
    );
    assert!(
        text.contains("brandpilot_job_oldest_wait_seconds{lane=\"fast\"} 0"),
        "{text}"
    );
}

#[tokio::test]
async fn a_metrics_token_keeps_the_scrape_private() {
    let app = spawn_app_with(
        |s| s.server.metrics_token = Some("scrape-secret".into()),
        ExtraRoutes::new(),
    )
    .await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_error(response, 401, "unauthenticated").await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
