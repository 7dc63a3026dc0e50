//! Webhooks as a receiver meets them: a ticket the assistant opens, and each change to it,
//! arrive as signed POSTs (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
//! `webhook-signature`) that verify with the secret given once at creation; a receiver
//! that fails is tried again with the same event id; only owners manage webhooks, never
//! keys; URLs into the server's own network are refused.

use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use brandpilot_server::ExtraRoutes;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A webhook receiver on loopback: records every POST and answers with the next status of
/// `answers` (200 once they run out).
struct Receiver {
    url: String,
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
}

async fn receiver(answers: Vec<u16>) -> Receiver {
    let received = Arc::new(Mutex::new(Vec::new()));
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let log = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            let answers = answers.clone();
            async move {
                log.lock().unwrap().push(Received {
                    headers,
                    body: body.to_vec(),
                });
                let status = answers.lock().unwrap().next().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Receiver {
        url: format!("http://127.0.0.1:{port}/hook"),
        port,
        received,
    }
}

impl Receiver {
    /// Waits until `count` POSTs arrived (at most ten seconds).
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "fewer than {count} deliveries: {:?}",
            self.received.lock().unwrap()
        );
    }
}

/// Verifies a delivery as a receiver would: the signature over `id.timestamp.body` with the
/// secret's key, and a fresh timestamp. The body, parsed.
fn verified(delivery: &Received, secret: &str) -> Value {
    let header = |name: &str| delivery.headers[name].to_str().unwrap().to_owned();
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(&delivery.body);
    let signatures = header("webhook-signature");
    let valid = signatures.split(' ').any(|signature| {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = BASE64.decode(encoded) else {
            return false;
        };
        ring::hmac::verify(&key, &signed, &tag).is_ok()
    });
    assert!(valid, "the signature does not verify: {signatures}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sent: i64 = timestamp.parse().unwrap();
    assert!(
        (now - sent).abs() < 300,
        "a stale timestamp {sent} (now {now})"
    );
    assert_eq!(delivery.headers["content-type"], "application/json");
    serde_json::from_slice(&delivery.body).unwrap()
}

/// A server that may post to `port` on loopback (a receiver of the test's own).
async fn app_reaching(port: u16) -> TestApp {
    spawn_app_with(
        |settings| {
            settings.fetch.allow_networks = vec!["127.0.0.1/32".into()];
            settings.fetch.allowed_ports = vec![port];
        },
        ExtraRoutes::new(),
    )
    .await
}

async fn owner_with_brand(app: &TestApp) -> (Person, i64) {
    let owner = app.sign_up("owner@example.com").await;
    let brand = app
        .client
        .post(app.url("/api/v1/brands"))
        .bearer_auth(&owner.access)
        .json(&json!({ "name": "acme" }))
        .json_ok()
        .await["id"]
        .as_i64()
        .unwrap();
    (owner, brand)
}

async fn create_webhook(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/webhooks"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_handed_over_question_and_its_resolution_reach_the_webhook_signed() {
    // The receiver fails the first delivery: it must come again, with the same event id.
    let receiver = receiver(vec![503]).await;
    let app = app_reaching(receiver.port).await;
    let (owner, brand) = owner_with_brand(&app).await;
    let response = create_webhook(
        &app,
        &owner.access,
        json!({ "url": receiver.url, "events": ["ticket.opened", "ticket.updated"], "description": "help desk" }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        created["webhook"]["events"],
        json!(["ticket.opened", "ticket.updated"])
    );
    let listed = app
        .client
        .get(app.url("/api/v1/webhooks"))
        .bearer_auth(&owner.access)
        .json_ok()
        .await;
    assert_eq!(listed["webhooks"][0]["url"], receiver.url.as_str());
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is shown once"
    );

    let answer = app
        .client
        .post(app.url(&format!("/api/v1/brands/{brand}/chat")))
        .bearer_auth(&owner.access)
        .json(&json!({ "message": "I want to talk to a real person, please." }))
        .json_ok()
        .await;
    let ticket = answer["ticket_id"].as_i64().expect("a ticket");

    let deliveries = receiver.wait_for(2).await;
    let (failed, retried) = (&deliveries[0], &deliveries[1]);
    assert_eq!(failed.headers["webhook-id"], retried.headers["webhook-id"]);
    let event = verified(retried, &secret);
    assert_eq!(event["type"], "ticket.opened");
    assert_eq!(event["data"]["ticket"]["id"], ticket);
    assert_eq!(event["data"]["ticket"]["brand_id"], brand);
    assert_eq!(event["data"]["ticket"]["brand"], "acme");
    assert_eq!(event["data"]["ticket"]["status"], "open");
    assert_eq!(event["data"]["ticket"]["reason"], "asked_for_human");
    assert_eq!(
        event["data"]["ticket"]["question"],
        "I want to talk to a real person, please."
    );
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));

    // Resolving it is an update, a new event with an id of its own.
    app.client
        .patch(app.url(&format!("/api/v1/tickets/{ticket}")))
        .bearer_auth(&owner.access)
        .json(&json!({ "status": "resolved" }))
        .json_ok()
        .await;
    let deliveries = receiver.wait_for(3).await;
    let update = verified(&deliveries[2], &secret);
    assert_eq!(update["type"], "ticket.updated");
    assert_eq!(update["data"]["ticket"]["status"], "resolved");
    assert_ne!(
        deliveries[2].headers["webhook-id"],
        deliveries[1].headers["webhook-id"]
    );

    // A forged or replayed-with-another-body delivery does not verify with the secret.
    let mut forged = deliveries[2].clone();
    forged.body = br#"{"type":"ticket.updated","data":{}}"#.to_vec();
    let outcome = std::panic::catch_unwind(|| verified(&forged, &secret));
    assert!(outcome.is_err(), "a changed body must fail verification");

    // Once deleted, the webhook hears nothing more.
    let id = created["webhook"]["id"].as_i64().unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/webhooks/{id}")))
        .bearer_auth(&owner.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    app.client
        .patch(app.url(&format!("/api/v1/tickets/{ticket}")))
        .bearer_auth(&owner.access)
        .json(&json!({ "status": "open" }))
        .json_ok()
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_webhook_only_hears_the_events_it_asked_for() {
    let receiver = receiver(vec![]).await;
    let app = app_reaching(receiver.port).await;
    let (owner, brand) = owner_with_brand(&app).await;
    let created: Value = create_webhook(
        &app,
        &owner.access,
        json!({ "url": receiver.url, "events": ["ticket.updated"] }),
    )
    .await
    .json()
    .await
    .unwrap();
    let secret = created["secret"].as_str().unwrap();
    let answer = app
        .client
        .post(app.url(&format!("/api/v1/brands/{brand}/chat")))
        .bearer_auth(&owner.access)
        .json(&json!({ "message": "Can I speak to a human?" }))
        .json_ok()
        .await;
    let ticket = answer["ticket_id"].as_i64().unwrap();
    app.client
        .patch(app.url(&format!("/api/v1/tickets/{ticket}")))
        .bearer_auth(&owner.access)
        .json(&json!({ "assignee": owner.id }))
        .json_ok()
        .await;
    let deliveries = receiver.wait_for(1).await;
    let event = verified(&deliveries[0], secret);
    assert_eq!(
        event["type"], "ticket.updated",
        "the opening was not subscribed to"
    );
    assert_eq!(event["data"]["ticket"]["status"], "assigned");
    assert_eq!(event["data"]["ticket"]["assignee_id"], owner.id);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn only_owners_manage_webhooks_and_only_to_reachable_public_urls() {
    let receiver = receiver(vec![]).await;
    let app = spawn_app().await;
    let owner = app.sign_up("owner@example.com").await;
    // Loopback is the server's own network: refused unless the operator opened it.
    let response = create_webhook(
        &app,
        &owner.access,
        json!({ "url": receiver.url, "events": ["ticket.opened"] }),
    )
    .await;
    assert_error(response, 400, "url_refused").await;
    for url in [
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/",
    ] {
        let response = create_webhook(
            &app,
            &owner.access,
            json!({ "url": url, "events": ["ticket.opened"] }),
        )
        .await;
        assert_error(response, 400, "url_refused").await;
    }
    for (body, why) in [
        (
            json!({ "url": "https://hooks.example.com/x", "events": ["ticket.closed"] }),
            "an unknown event",
        ),
        (
            json!({ "url": "https://hooks.example.com/x", "events": [] }),
            "no event",
        ),
        (
            json!({ "url": "ftp://hooks.example.com/x", "events": ["ticket.opened"] }),
            "not http",
        ),
        (
            json!({ "url": "https://hooks.example.com/x", "events": ["ticket.opened"], "description": "x".repeat(201) }),
            "a long note",
        ),
    ] {
        let response = create_webhook(&app, &owner.access, body).await;
        assert_eq!(response.status(), 400, "{why}");
    }
    // API keys never manage webhooks, whatever else they hold.
    let response = app
        .client
        .get(app.url("/api/v1/webhooks"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    let response = app
        .client
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&owner.access)
        .json(&json!({ "name": "hooks", "scopes": ["webhooks:manage"] }))
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 400, "invalid_request").await;
    assert!(body.to_string().contains("webhooks:manage"), "{body}");
    assert!(receiver.received.lock().unwrap().is_empty());
}
