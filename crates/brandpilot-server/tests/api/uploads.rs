//! Uploading through the API: 202 with a job that ingests the files, then search finds
//! them; caps, formats, names and idempotency keys behave; jobs belong to their workspace.

use crate::helpers::{JsonOk, assert_error, spawn_app, spawn_app_with};
use brandpilot_server::ExtraRoutes;
use reqwest::multipart::{Form, Part};
use serde_json::json;

fn file(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

const REFUNDS: &[u8] = b"# Refunds\n\nDamaged parcels are refunded in full within fourteen days.";

#[tokio::test]
async fn an_upload_is_queued_ingested_and_then_found_by_search() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    let form = Form::new()
        .part("file", file("../../secret/refunds.md", REFUNDS))
        .part(
            "file",
            file(
                "notes.pdf",
                b"<html><body><p>Shipping takes two days.</p></body></html>",
            ),
        )
        .text("tags", "support, policy");
    let response = app
        .client
        .post(app.url(&format!("/api/v1/brands/{brand}/uploads")))
        .bearer_auth(&app.key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["job"]["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{id}"));
    assert_eq!(body["job"]["kind"], "ingest_uploads");

    let job = app.finished_job(id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        (
            job["progress_done"].as_u64(),
            job["progress_total"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(job["result"]["added"], 2, "{job}");

    let sources = app
        .get(&format!("/api/v1/brands/{brand}/sources"))
        .json_ok()
        .await;
    let origins: Vec<_> = sources["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["origin"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The path in the name is gone; the ".pdf" that is really HTML was sniffed as HTML.
    assert!(
        origins.contains(&("upload:refunds.md".into(), "markdown".into())),
        "{origins:?}"
    );
    assert!(
        origins.contains(&("upload:notes.pdf".into(), "html".into())),
        "{origins:?}"
    );

    let found = app
        .post(
            &format!("/api/v1/brands/{brand}/search"),
            &json!({ "query": "damaged parcel refund", "tags": ["policy"] }),
        )
        .json_ok()
        .await;
    assert_eq!(
        found["passages"][0]["source"]["origin"], "upload:refunds.md",
        "{found}"
    );

    // The finished attempt is counted for Prometheus (just after the store records it).
    let counted = "brandpilot_jobs_finished_total{lane=\"long\",kind=\"ingest_uploads\",outcome=\"succeeded\"} 1";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.lines().any(|line| line == counted) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {counted:?} in:\n{text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_idempotency_key_returns_the_first_job() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    let send = || {
        app.client
            .post(app.url(&format!("/api/v1/brands/{brand}/uploads")))
            .bearer_auth(&app.key)
            .header("idempotency-key", "upload-7")
            .multipart(Form::new().part("file", file("a.txt", b"Espresso.")))
            .send()
    };
    let first: serde_json::Value = send().await.unwrap().json().await.unwrap();
    let second: serde_json::Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first["job"]["id"], second["job"]["id"]);
}

#[tokio::test]
async fn caps_and_malformed_uploads_are_refused_with_the_error_body() {
    let app = spawn_app_with(
        |s| {
            s.extract.max_file_mb = 1;
            s.server.max_upload_files = 2;
        },
        ExtraRoutes::new(),
    )
    .await;
    let brand = app.create_brand("Acme").await;
    let url = app.url(&format!("/api/v1/brands/{brand}/uploads"));
    let post = |form: Form| {
        app.client
            .post(&url)
            .bearer_auth(&app.key)
            .multipart(form)
            .send()
    };

    let big = vec![b'a'; 1024 * 1024 + 1];
    let response = post(Form::new().part("file", file("big.txt", &big)))
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;

    let three = Form::new()
        .part("file", file("1.txt", b"one"))
        .part("file", file("2.txt", b"two"))
        .part("file", file("3.txt", b"three"));
    assert_error(post(three).await.unwrap(), 400, "invalid_request").await;

    let no_file = Form::new().text("tags", "a");
    assert_error(post(no_file).await.unwrap(), 400, "invalid_request").await;

    let json_body = app
        .client
        .post(&url)
        .bearer_auth(&app.key)
        .json(&json!({ "file": "x" }))
        .send()
        .await
        .unwrap();
    assert_error(json_body, 415, "unsupported_media_type").await;

    let bad_key = app
        .client
        .post(&url)
        .bearer_auth(&app.key)
        .header("idempotency-key", "has spaces")
        .multipart(Form::new().part("file", file("a.txt", b"a")))
        .send()
        .await
        .unwrap();
    assert_error(bad_key, 400, "invalid_request").await;
    // Nothing was queued by any of them.
    assert!(
        app.app
            .store
            .get_job(brandpilot_core::JobId(1))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn another_workspace_can_neither_upload_to_a_brand_nor_read_its_jobs() {
    let app = spawn_app().await;
    let brand = app.create_brand("Ours").await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/brands/{brand}/uploads")))
        .bearer_auth(&app.key)
        .multipart(Form::new().part("file", file("a.txt", b"Ours alone.")))
        .send()
        .await
        .unwrap();
    let id = response.json::<serde_json::Value>().await.unwrap()["job"]["id"]
        .as_i64()
        .unwrap();
    let (_, other_key) = app.other_workspace("other").await;
    let foreign = app
        .client
        .get(app.url(&format!("/api/v1/jobs/{id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_error(foreign, 404, "not_found").await;
    let foreign_upload = app
        .client
        .post(app.url(&format!("/api/v1/brands/{brand}/uploads")))
        .bearer_auth(&other_key)
        .multipart(Form::new().part("file", file("b.txt", b"Theirs.")))
        .send()
        .await
        .unwrap();
    assert_error(foreign_upload, 404, "not_found").await;
}

#[tokio::test]
async fn job_events_stream_progress_then_done() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/brands/{brand}/uploads")))
        .bearer_auth(&app.key)
        .multipart(
            Form::new()
                .part("file", file("a.md", REFUNDS))
                .part("file", file("b.txt", b"Orders ship the same day.")),
        )
        .send()
        .await
        .unwrap();
    let id = response.json::<serde_json::Value>().await.unwrap()["job"]["id"]
        .as_i64()
        .unwrap();
    let events = app
        .get(&format!("/api/v1/jobs/{id}/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(
        events.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    // The stream ends by itself after `done`.
    let text = tokio::time::timeout(std::time::Duration::from_secs(30), events.text())
        .await
        .expect("the event stream never ended")
        .unwrap();
    let names: Vec<_> = text
        .lines()
        .filter_map(|line| line.strip_prefix("event: "))
        .collect();
    assert_eq!(names.last(), Some(&"done"), "{text}");
    assert!(
        names[..names.len() - 1]
            .iter()
            .all(|name| *name == "progress"),
        "{text}"
    );
    let last_data = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("data: "))
        .unwrap();
    let job: serde_json::Value = serde_json::from_str(last_data).unwrap();
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["progress_done"], 2);

    let missing = app.get("/api/v1/jobs/424242/events").send().await.unwrap();
    assert_error(missing, 404, "not_found").await;
}
