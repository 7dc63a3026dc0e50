//! Batches over the API: briefs are checked before anything is queued (a bad one is named
//! by position), a batch is accepted at once and written on the job queue, its progress and
//! per-brief results are read back, a repeated Idempotency-Key returns the first batch, and
//! a brief whose model keeps failing is retried by the queue and marked failed, with the
//! reason, only on its last attempt.

use crate::generations::{app_with_model, brand_with_rules_as, reply};
use crate::helpers::{JsonOk, TestApp, assert_error};
use brandpilot_testkit::openai_chat_server::ChatReply;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const POST: &str = "Learn watercolour in twelve weeks of live lessons with Mara Lind. \
     Paper and paint are included. Book your seat before 20 February.";

async fn finished(app: &TestApp, id: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let batch = app
            .get(&format!("/api/v1/studio/batch/{id}"))
            .json_ok()
            .await;
        if batch["finished"] == true {
            return batch;
        }
        assert!(
            Instant::now() < deadline,
            "the batch never finished: {batch}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn brief(goal: &str) -> Value {
    json!({ "channel": "linkedin_post", "goal": goal, "offer": "Early booking until 20 February",
            "variants": 1 })
}

#[tokio::test]
async fn a_batch_is_written_brief_by_brief_and_a_repeated_key_returns_it() {
    let (app, model) = app_with_model(0).await;
    let brand = brand_with_rules_as(&app, &app.key, app.workspace).await;

    let bad = app
        .post(
            "/api/v1/studio/batch",
            &json!({ "brand_id": brand, "briefs": [brief("Fine"), brief(" ")] }),
        )
        .send()
        .await
        .unwrap();
    let error = assert_error(bad, 400, "invalid_request").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("briefs[1]"),
        "{error}"
    );
    let empty = app
        .post(
            "/api/v1/studio/batch",
            &json!({ "brand_id": brand, "briefs": [] }),
        )
        .send()
        .await
        .unwrap();
    assert_error(empty, 400, "invalid_request").await;

    model.script((0..3).map(|_| reply(json!({ "post": POST, "sources": [1] }))));
    let body = json!({ "brand_id": brand, "briefs": [brief("One"), brief("Two"), brief("Three")] });
    let accepted = app
        .post("/api/v1/studio/batch", &body)
        .header("Idempotency-Key", "spring-campaign")
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["total"], 3);
    let id = accepted["id"].as_i64().unwrap();

    let batch = finished(&app, id).await;
    assert_eq!(
        (batch["done"].as_u64(), batch["failed"].as_u64()),
        (Some(3), Some(0)),
        "{batch}"
    );
    let goals: Vec<&str> = batch["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["goal"].as_str().unwrap())
        .collect();
    assert_eq!(goals, ["One", "Two", "Three"]);
    for item in batch["items"].as_array().unwrap() {
        let generation = app
            .get(&format!(
                "/api/v1/brands/{brand}/studio/generations/{}",
                item["generation_id"]
            ))
            .json_ok()
            .await;
        assert_eq!(generation["request"]["goal"], item["goal"]);
        assert_eq!(generation["variants"][0]["passed"], true, "{generation}");
    }

    let again = app
        .post("/api/v1/studio/batch", &body)
        .header("Idempotency-Key", "spring-campaign")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id);
    assert_eq!(model.requests().len(), 3, "nothing was written twice");
}

#[tokio::test]
async fn briefs_whose_model_keeps_failing_are_retried_then_marked_failed_with_the_reason() {
    let (app, model) = app_with_model(0).await;
    let brand = brand_with_rules_as(&app, &app.key, app.workspace).await;
    model.script(std::iter::repeat_n(ChatReply::Status(503), 400));
    let accepted = app
        .post(
            "/api/v1/studio/batch",
            &json!({ "brand_id": brand, "briefs": [brief("Doomed"), brief("Also doomed")] }),
        )
        .json_ok()
        .await;
    let batch = finished(&app, accepted["id"].as_i64().unwrap()).await;
    assert_eq!(batch["failed"], 2, "{batch}");
    for item in batch["items"].as_array().unwrap() {
        assert!(item["error"].as_str().unwrap().contains("model"), "{batch}");
        assert!(item["generation_id"].is_null());
        let job = app
            .get(&format!("/api/v1/jobs/{}", item["job_id"]))
            .json_ok()
            .await;
        assert_eq!(job["status"], "dead", "{job}");
        assert_eq!(job["attempts"], job["max_attempts"], "{job}");
    }
    let generations = app
        .get(&format!("/api/v1/brands/{brand}/studio/generations"))
        .json_ok()
        .await;
    assert_eq!(generations["generations"], json!([]));
    assert!(
        model.requests().len() < 400,
        "the script outlasted the retries"
    );
}
