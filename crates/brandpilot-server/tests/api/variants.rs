//! A variant after Studio wrote it, as a marketing team works with it: a key (the team's
//! tooling) sends it for review but cannot approve it; a person approves it; performance is
//! recorded only once it is approved; feedback is counted up; an edit is a new version,
//! judged again (a banned word and an unbacked figure fail it) and sends the variant back to
//! draft; a failing variant is approved only with a note saying why; and a reel edited by
//! hand gets its spoken duration recomputed.

use crate::generations::{app_with_model, brand_with_rules_as, reply};
use crate::helpers::{JsonOk, TestApp, assert_error};
use brandpilot_app::Scope;
use serde_json::{Value, json};

const PASSING_POST: &str = "Learn watercolour in twelve weeks of live lessons with Mara Lind. \
     Paper and paint are included. Book your seat before 20 February.";

fn variant_path(brand: i64, variant: i64, rest: &str) -> String {
    format!("/api/v1/brands/{brand}/studio/variants/{variant}{rest}")
}

fn send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&body)
}

async fn refused(request: reqwest::RequestBuilder, status: u16, code: &str) -> Value {
    assert_error(request.send().await.unwrap(), status, code).await
}

#[tokio::test]
async fn a_variant_goes_from_draft_to_approved_to_measured_and_an_edit_reopens_it() {
    let (app, model) = app_with_model(0).await;
    let ann = app.sign_up("ann@lind.example").await;
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&ann.access)
        .json_ok()
        .await;
    let workspace = brandpilot_core::WorkspaceId(me["workspaces"][0]["id"].as_i64().unwrap());
    let brand = brand_with_rules_as(&app, &ann.access, workspace).await;
    let key = app
        .app
        .admin()
        .create_api_key(
            workspace,
            "team tooling",
            &Scope::for_keys(),
            &brandpilot_app::Actor::Cli,
            &Default::default(),
        )
        .await
        .unwrap();
    let tool = key.secret.as_str();
    let tool_label = format!("key:{}", key.record.prefix);

    model.script([reply(json!({ "post": PASSING_POST, "sources": [1] }))]);
    let generation = send(
        &app,
        &ann.access,
        reqwest::Method::POST,
        &format!("/api/v1/brands/{brand}/studio/generations"),
        json!({
            "channel": "linkedin_post",
            "goal": "Fill the spring watercolour course",
            "offer": "Early booking until 20 February",
            "variants": 1,
        }),
    )
    .json_ok()
    .await;
    let variant = generation["variants"][0]["id"].as_i64().unwrap();
    assert_eq!(generation["variants"][0]["passed"], true, "{generation}");
    let post = |path: &str, token: &str, body: Value| {
        send(
            &app,
            token,
            reqwest::Method::POST,
            &variant_path(brand, variant, path),
            body,
        )
    };
    let put = |path: &str, token: &str, body: Value| {
        send(
            &app,
            token,
            reqwest::Method::PUT,
            &variant_path(brand, variant, path),
            body,
        )
    };
    let counts =
        json!({ "views": 2000, "likes": 100, "shares": 20, "clicks": 80, "conversions": 4 });

    // A draft has not been published: nothing to measure yet.
    refused(put("/performance", tool, counts.clone()), 409, "conflict").await;
    // Nothing is approved without passing through review.
    let early = post("/verdict", &ann.access, json!({ "verdict": "approved" }));
    let error = refused(early, 409, "conflict").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in_review"),
        "{error}"
    );

    let sent = post("/review", tool, json!({ "state": "in_review" }))
        .json_ok()
        .await;
    assert_eq!(sent["variant"]["review_state"], "in_review");
    // The team's key cannot vouch for what the brand publishes; a person can.
    let by_key = post("/verdict", tool, json!({ "verdict": "approved" }));
    refused(by_key, 403, "forbidden").await;
    let approved = post("/verdict", &ann.access, json!({ "verdict": "approved" }))
        .json_ok()
        .await;
    assert_eq!(approved["variant"]["review_state"], "approved");
    let history: Vec<(&str, &str, &str)> = approved["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
            )
        })
        .collect();
    let ann_label = format!("user:{}", ann.id);
    assert_eq!(
        history,
        [
            ("draft", "in_review", tool_label.as_str()),
            ("in_review", "approved", ann_label.as_str()),
        ]
    );
    let twice = post("/verdict", &ann.access, json!({ "verdict": "rejected" }));
    refused(twice, 409, "conflict").await;

    // Published: the platform's totals come in and replace the earlier ones.
    put("/performance", tool, json!({ "views": 500 }))
        .json_ok()
        .await;
    let measured = put("/performance", tool, counts).json_ok().await;
    let performance = &measured["performance"];
    assert_eq!(performance["views"], 2000);
    assert_eq!(performance["click_rate"], 0.04);
    assert_eq!(performance["conversion_rate"], 0.05);
    assert_eq!(performance["engagement_rate"], 0.1);
    assert_eq!(performance["recorded_by"], tool_label.as_str());

    // Feedback from people and tools is kept and counted.
    refused(post("/feedback", tool, json!({})), 400, "invalid_request").await;
    refused(
        post("/feedback", tool, json!({ "rating": 6 })),
        400,
        "invalid_request",
    )
    .await;
    post(
        "/feedback",
        &ann.access,
        json!({ "rating": 5, "thumb": "up", "comment": "Lovely hook" }),
    )
    .json_ok()
    .await;
    let rated = post("/feedback", tool, json!({ "rating": 2, "thumb": "down" }))
        .json_ok()
        .await;
    assert_eq!(
        rated["feedback_summary"],
        json!({ "count": 2, "average_rating": 3.5, "thumbs_up": 1, "thumbs_down": 1 })
    );
    assert_eq!(rated["feedback"][0]["comment"], "Lovely hook");
    assert_eq!(rated["feedback"][0]["author"], ann_label.as_str());

    // An edit is judged like a draft: the banned word and the figure nothing backs fail it,
    // and what was approved is no longer what it says.
    let edited = put(
        "",
        &ann.access,
        json!({ "fields": [
            { "field": "post", "text": "We guarantee 50% better paintings. Book your seat today. Places are limited." },
            { "field": "hashtags", "text": "#watercolour" },
        ] }),
    ).json_ok().await;
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["variant"]["review_state"], "draft");
    assert_eq!(edited["variant"]["passed"], false);
    assert_eq!(edited["variant"]["unbacked_figures"], json!(["50"]));
    let failing: Vec<&str> = edited["variant"]["report"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(failing.contains(&"banned_word"), "{failing:?}");
    let versions = edited["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["passed"], true);
    assert_eq!(versions[1]["created_by"], ann_label.as_str());
    assert!(
        versions[0]["fields"][0]["text"]
            .as_str()
            .unwrap()
            .contains("twelve weeks")
    );
    let last = edited["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["from"].as_str(),
            last["to"].as_str(),
            last["note"].as_str()
        ),
        (Some("approved"), Some("draft"), Some("edited"))
    );

    // A failing variant ships only when a person says why.
    post("/review", &ann.access, json!({ "state": "in_review" }))
        .json_ok()
        .await;
    let bare = post("/verdict", &ann.access, json!({ "verdict": "approved" }));
    let error = refused(bare, 409, "conflict").await;
    assert!(
        error["error"]["message"].as_str().unwrap().contains("note"),
        "{error}"
    );
    let overridden = post(
        "/verdict",
        &ann.access,
        json!({ "verdict": "approved", "note": "Legal cleared the claim for this campaign" }),
    )
    .json_ok()
    .await;
    assert_eq!(overridden["variant"]["review_state"], "approved");
    let last = overridden["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["note"], "Legal cleared the claim for this campaign");

    // What the API read back is what is stored.
    let read = app
        .client
        .get(app.url(&variant_path(brand, variant, "")))
        .bearer_auth(tool)
        .json_ok()
        .await;
    assert_eq!(read, overridden);
    let missing = app
        .client
        .get(app.url(&variant_path(brand, variant + 1000, "")))
        .bearer_auth(tool)
        .send()
        .await
        .unwrap();
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn a_reel_edited_by_hand_is_judged_and_its_spoken_duration_recomputed() {
    let (app, model) = app_with_model(0).await;
    let brand = brand_with_rules_as(&app, &app.key, app.workspace).await;
    let scene = |text: &str, voice: &str| json!({ "on_screen_text": text, "voice_over": voice, "visual": "Close-up" });
    model.script([reply(json!({
        "hook": "Ever wondered what twelve weeks of painting could do for you?",
        "scenes": [
            scene("Week one", "In the first week you learn to mix colours. You paint a simple sky. It feels calm and easy."),
            scene("Live lessons", "Mara Lind teaches every lesson live. She shows each brush stroke. You ask questions as you go."),
            scene("All included", "Paper and pigments are part of the course. You bring your time and your ideas. We bring the rest."),
        ],
        "thumbnail_text": "Paint in twelve weeks",
        "cta": "Book your seat for spring today.",
        "caption": "Twelve weeks of live watercolour lessons. Places are limited.",
        "hashtags": ["#watercolour"],
        "estimated_duration_seconds": 30,
        "sources": [1],
    }))]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/reels"),
            &json!({ "sector": "education", "hook_type": "question", "duration_seconds": 30,
                     "topic": "The spring watercolour course" }),
        )
        .json_ok()
        .await;
    let variant = generation["variants"][0]["id"].as_i64().unwrap();
    assert_eq!(generation["variants"][0]["passed"], true, "{generation}");

    // The person cuts the script to one short scene: 3 + 4 + 4 = 11 spoken words, far
    // under the 30 seconds' budget.
    let edited = send(
        &app,
        &app.key,
        reqwest::Method::PUT,
        &variant_path(brand, variant, ""),
        json!({ "fields": [
            { "field": "hook", "text": "Paint this spring?" },
            { "field": "on_screen_text", "text": "Twelve weeks" },
            { "field": "voice_over", "text": "Live lessons, every week." },
            { "field": "visual", "text": "Brush on paper" },
            { "field": "thumbnail_text", "text": "Paint in twelve weeks" },
            { "field": "cta", "text": "Book your seat today." },
            { "field": "caption", "text": "Live watercolour lessons. Places are limited." },
            { "field": "hashtags", "text": "#watercolour" },
        ] }),
    )
    .json_ok()
    .await;
    let script = &edited["variant"]["script"];
    assert_eq!(script["scenes"].as_array().unwrap().len(), 1);
    // 11 words at 150 a minute take 4.4 seconds.
    assert_eq!(script["estimated_duration_seconds"], 4.4);
    assert_eq!(edited["variant"]["passed"], false, "{edited}");
    assert_eq!(edited["version"], 2);
}
