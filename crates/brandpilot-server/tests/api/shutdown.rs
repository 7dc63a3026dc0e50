//! Graceful shutdown: a request in flight when shutdown starts still gets its answer;
//! afterwards the port takes no new connections.

use crate::helpers::spawn_app_with;
use axum::routing::get;
use brandpilot_server::ExtraRoutes;
use std::sync::Arc;
use tokio::sync::Notify;

#[tokio::test]
async fn a_request_in_flight_finishes_and_new_connections_are_refused() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let extra = {
        let (entered, release) = (entered.clone(), release.clone());
        ExtraRoutes::new().route(
            "/test/wait",
            get(move || {
                let (entered, release) = (entered.clone(), release.clone());
                async move {
                    entered.notify_one();
                    release.notified().await;
                    "finished"
                }
            }),
        )
    };
    let mut app = spawn_app_with(|_| {}, extra).await;
    let in_flight = tokio::spawn(app.get("/test/wait").send());
    entered.notified().await;

    let shutdown = {
        let server = app.server.take().unwrap();
        app.shut_down_signal();
        server
    };
    // Shutdown waits for the request; it has not finished yet.
    tokio::task::yield_now().await;
    assert!(!shutdown.is_finished());
    release.notify_one();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "finished");
    shutdown.await.unwrap().unwrap();

    let refused = reqwest::Client::new().get(app.url("/healthz")).send().await;
    assert!(refused.is_err(), "the server still accepts connections");
}

/// An event stream of a job that is still waiting does not hold a shutdown open: the
/// stream ends and the server stops.
#[tokio::test]
async fn open_event_streams_end_when_the_server_shuts_down() {
    use brandpilot_store::{JobLane, NewJob};

    let mut app = crate::helpers::spawn_app().await;
    let waiting = app
        .app
        .store
        .enqueue_job(&NewJob {
            workspace: Some(app.workspace),
            lane: JobLane::Long,
            kind: "scheduled".into(),
            payload: serde_json::json!({}),
            idempotency_key: None,
            max_attempts: 1,
            run_at_ms: i64::MAX / 2,
        })
        .await
        .unwrap()
        .id();
    let events = app
        .get(&format!("/api/v1/jobs/{}/events", waiting.0))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let body = tokio::spawn(events.text());
    let server = app.server.take().unwrap();
    app.shut_down_signal();
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
    assert!(stopped.is_ok(), "an open event stream held the shutdown");
    let text = tokio::time::timeout(std::time::Duration::from_secs(10), body)
        .await
        .expect("the stream did not end")
        .unwrap()
        .unwrap();
    assert!(text.contains("event: progress"), "{text}");
    assert!(!text.contains("event: done"), "{text}");
}
