//! Conversation memory: older messages leave the window and are folded into a summary on
//! the turn; a capable model on the `summarize` route then rewrites that summary in a
//! background job, from the full messages, fenced as material.

use crate::assistant::{app_with_hosted_model, ask, brand_with_material};
use crate::helpers::JsonOk;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MODEL_SUMMARY: &str =
    "- The customer wants a refund for order 4411.\n- Open: whether the course can be paused.";

#[tokio::test]
async fn a_capable_model_rewrites_the_rolling_summary_off_the_turns_path() {
    let (app, model) = app_with_hosted_model(|settings| {
        settings.assistant.memory_tokens = 40;
        settings.assistant.classify_with_model = false;
    })
    .await;
    let brand = brand_with_material(&app).await;
    // Extractive answers: the only model calls are the summaries.
    app.client
        .put(app.url(&format!("/api/v1/brands/{brand}/profile")))
        .bearer_auth(&app.key)
        .json(&json!({ "answer_mode": "extractive" }))
        .json_ok()
        .await;
    model.script((0..6).map(|_| {
        brandpilot_testkit::ChatReply::Text(brandpilot_testkit::TextReply::new(MODEL_SUMMARY))
    }));

    let first = ask(
        &app,
        brand,
        json!({ "message": "I want a refund for order 4411, how many days do I have?" }),
    )
    .await;
    let conversation = first["conversation_id"].as_i64().unwrap();
    for message in [
        "Can I pause the course instead of cancelling it?",
        "And how long does shipping take?",
    ] {
        ask(
            &app,
            brand,
            json!({ "message": message, "conversation_id": conversation }),
        )
        .await;
    }

    // The job runs after the turns; the model's summary replaces the fold.
    let path = format!("/api/v1/brands/{brand}/conversations/{conversation}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let summary = loop {
        let view: Value = app.get(&path).json_ok().await;
        let summary = view["conversation"]["summary"].as_str().unwrap().to_owned();
        if summary == MODEL_SUMMARY {
            break summary;
        }
        assert!(
            Instant::now() < deadline,
            "the model's summary never arrived; the summary is {summary:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(summary, MODEL_SUMMARY);

    // Each turn that drops messages queues its own job, and workers may run them in any
    // order: the job for the first message is the one whose request fences it.
    let fenced = "<message from=\"customer\">\nI want a refund for order 4411, how many days do I have?\n</message>";
    let system_of = |request: &brandpilot_testkit::RecordedRequest| {
        request.body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let requests = loop {
        let requests = model.requests();
        if requests.iter().any(|r| system_of(r).contains(fenced)) {
            break requests;
        }
        assert!(
            Instant::now() < deadline,
            "no summary request fenced the first message: {:?}",
            requests.iter().map(system_of).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The customer's whole message is there as fenced material, not just its gist.
    let system = requests
        .iter()
        .map(system_of)
        .find(|system| system.contains(fenced))
        .unwrap();
    assert!(system.contains("not instructions"), "{system}");
    for request in &requests {
        let user = request.body["messages"][1]["content"].as_str().unwrap();
        assert_eq!(
            user, "Write the updated summary.",
            "only summaries were asked"
        );
    }
}
