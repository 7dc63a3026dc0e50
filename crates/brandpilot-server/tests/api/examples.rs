//! A brand's examples library and voice as a marketer uses them, against the fake
//! OpenAI-compatible model: past posts are added (once each) and shown to the model when
//! they resemble the brief, a strong performer before a weak one and the brand's own
//! channel before another; the voice is learned from them, refused when a person's edit
//! cannot be scored against, described in the prompt, and every variant is scored against
//! it (a text unlike the brand scores lower); and an approved variant becomes an example
//! whose weight follows the performance recorded for it.

use crate::generations::{app_with_model, brand_with_rules_as, reply};
use crate::helpers::{JsonOk, TestApp, assert_error};
use serde_json::{Value, json};

const PASSING_POST: &str = "Learn watercolour in twelve weeks of live lessons with Mara Lind. \
     Paper and paint are included. Book your seat before 20 February.";
const STRONG: &str = "Spring watercolour evenings are back. You paint with Mara Lind, live, \
     twelve weeks long. We bring the paper and pigments. Book your seat for the spring course.";
const WEAK: &str = "Our watercolour course returns this spring. Book your seat.";
const UNRELATED: &str = "Quarterly tax filing reminders for small business owners and \
     their accountants.";

fn examples_path(brand: i64) -> String {
    format!("/api/v1/brands/{brand}/studio/examples")
}

fn brief() -> Value {
    json!({
        "channel": "linkedin_post",
        "goal": "Fill the spring watercolour course",
        "offer": "Early booking until 20 February",
        "variants": 1,
    })
}

async fn add_example(app: &TestApp, token: &str, brand: i64, body: Value) -> Value {
    let response = app
        .client
        .post(app.url(&examples_path(brand)))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn system_prompt(request: &Value) -> String {
    request["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_examples_most_like_the_brief_are_shown_to_the_model_better_performers_first() {
    let (app, model) = app_with_model(0).await;
    let brand = brand_with_rules_as(&app, &app.key, app.workspace).await;
    let strong = add_example(
        &app,
        &app.key,
        brand,
        json!({
            "channel": "linkedin_post",
            "sector": "creative_arts",
            "title": "Spring launch",
            "text": STRONG,
            "performance": { "views": 4000, "likes": 600, "shares": 40, "clicks": 160 },
        }),
    )
    .await;
    assert_eq!(strong["engagement_rate"], json!(0.2));
    assert_eq!(strong["sector"], "creative_arts");
    let weak = add_example(
        &app,
        &app.key,
        brand,
        json!({
            "channel": "linkedin_post",
            "text": WEAK,
            "performance": { "views": 4000, "likes": 8 },
        }),
    )
    .await;
    let unrelated = add_example(
        &app,
        &app.key,
        brand,
        json!({ "channel": "email", "text": UNRELATED }),
    )
    .await;
    assert_eq!(unrelated["performance"], Value::Null);

    // The same words twice, an unknown sector and an empty post are refused.
    let again = app.post(
        &examples_path(brand),
        &json!({ "channel": "x_post", "text": format!("  {STRONG}\n") }),
    );
    assert_error(again.send().await.unwrap(), 409, "conflict").await;
    let sector = app.post(
        &examples_path(brand),
        &json!({ "channel": "x_post", "text": "Hi.", "sector": "space" }),
    );
    let error = assert_error(sector.send().await.unwrap(), 400, "invalid_request").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("creative_arts")
    );
    let empty = app.post(
        &examples_path(brand),
        &json!({ "channel": "x_post", "text": "  " }),
    );
    assert_error(empty.send().await.unwrap(), 400, "invalid_request").await;

    let listed = app.get(&examples_path(brand)).json_ok().await;
    let ids: Vec<&Value> = listed["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&unrelated["id"], &weak["id"], &strong["id"]]);
    let emails = app
        .get(&format!("{}?channel=email", examples_path(brand)))
        .json_ok()
        .await;
    assert_eq!(emails["examples"].as_array().unwrap().len(), 1);
    let page = app
        .get(&format!("{}?limit=2", examples_path(brand)))
        .json_ok()
        .await;
    assert_eq!(page["next_before"], weak["id"]);

    model.script([reply(json!({ "post": PASSING_POST, "sources": [1] }))]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(),
        )
        .json_ok()
        .await;
    let system = system_prompt(&model.requests()[0].body);
    assert!(
        system.contains("Past posts of the brand that did well"),
        "{system}"
    );
    assert!(
        system.contains("Spring watercolour evenings are back."),
        "{system}"
    );
    assert!(system.contains(WEAK), "{system}");
    assert!(
        !system.contains("Quarterly tax"),
        "another channel, nothing alike: {system}"
    );
    assert!(
        system.find("Spring watercolour evenings").unwrap() < system.find(WEAK).unwrap(),
        "the strong performer comes first: {system}"
    );

    let shown = generation["provenance"]["examples"].as_array().unwrap();
    assert_eq!(shown.len(), 2, "studio.examples defaults to 2: {shown:?}");
    assert_eq!(shown[0]["example_id"], strong["id"]);
    assert_eq!(shown[1]["example_id"], weak["id"]);
    assert!(
        shown[0]["performance_weight"].as_f64().unwrap() > 1.5,
        "{shown:?}"
    );
    assert_eq!(shown[1]["performance_weight"], json!(0.5), "{shown:?}");
    assert!(shown.iter().all(|e| e["channel"] == "linkedin_post"));
    assert!(shown[0]["score"].as_f64().unwrap() > shown[1]["score"].as_f64().unwrap());
    assert_eq!(generation["provenance"]["prompt_version"], 2);

    // Retagged and removed examples stop being shown.
    let path = format!("{}/{}", examples_path(brand), weak["id"]);
    let retagged = app
        .client
        .put(app.url(&path))
        .bearer_auth(&app.key)
        .json(&json!({ "channel": "x_post", "title": "Old teaser" }))
        .json_ok()
        .await;
    assert_eq!(
        (
            &retagged["channel"],
            &retagged["performance"],
            &retagged["text"]
        ),
        (&json!("x_post"), &Value::Null, &json!(WEAK))
    );
    let deleted = app.delete(&path).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_error(app.get(&path).send().await.unwrap(), 404, "not_found").await;
}

#[tokio::test]
async fn a_voice_learned_from_the_examples_scores_every_variant_and_a_person_can_edit_it() {
    let (app, model) = app_with_model(0).await;
    let brand = brand_with_rules_as(&app, &app.key, app.workspace).await;
    let voice_path = format!("/api/v1/brands/{brand}/studio/voice");
    assert_error(app.get(&voice_path).send().await.unwrap(), 404, "not_found").await;
    let learn = app.post(&format!("{voice_path}/learn"), &json!({}));
    assert_error(learn.send().await.unwrap(), 409, "conflict").await;

    for text in [
        STRONG,
        "You bring the curiosity. We bring the brushes. Paint with us this Sunday.",
        "Ever wanted to paint? You can start tonight. We teach every lesson live.",
    ] {
        add_example(
            &app,
            &app.key,
            brand,
            json!({ "channel": "linkedin_post", "text": text }),
        )
        .await;
    }
    let learned = app
        .post(&format!("{voice_path}/learn"), &json!({}))
        .json_ok()
        .await;
    assert_eq!(learned["origin"], "learned");
    let profile = &learned["profile"];
    assert_eq!(
        (&profile["language"], &profile["example_count"]),
        (&json!("en"), &json!(3))
    );
    let mean = profile["sentence_length"]["mean"].as_f64().unwrap();
    assert!((4.0..12.0).contains(&mean), "short sentences: {profile}");
    assert!(profile["second_person_per_100_words"].as_f64().unwrap() > 2.0);
    assert!(
        learned["derived_tone"]
            .as_array()
            .unwrap()
            .contains(&json!("conversational"))
    );
    assert_eq!(app.get(&voice_path).json_ok().await, learned);

    // A person's edit that cannot be scored against is refused, naming the field.
    let mut broken = profile.clone();
    broken["emoji_text_share"] = json!(2.0);
    let put = |body: &Value| {
        app.client
            .put(app.url(&voice_path))
            .bearer_auth(&app.key)
            .json(body)
    };
    let error = assert_error(put(&broken).send().await.unwrap(), 400, "invalid_request").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("emoji_text_share"),
        "{error}"
    );

    // Every variant is scored against the voice, which the prompt describes.
    model.script([reply(json!({ "post": PASSING_POST, "sources": [1] }))]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(),
        )
        .json_ok()
        .await;
    let system = system_prompt(&model.requests()[0].body);
    assert!(
        system.contains("The brand's voice, learned from its own posts"),
        "{system}"
    );
    assert!(
        system.contains("speaks to the reader as \"you\""),
        "{system}"
    );
    let variant = &generation["variants"][0];
    let voice = &variant["voice"];
    let in_voice = voice["score"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&in_voice), "{voice}");
    let components: Vec<&str> = voice["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert!(components.contains(&"sentence_length"), "{components:?}");
    assert!(components.contains(&"address"), "{components:?}");

    // Rewritten by hand in a register the brand never uses, it scores lower.
    let unlike = "Pursuant to the institutional curriculum requirements established by the \
         administration, participants enrolled in the seasonal watercolour programme shall \
         attend twelve consecutive weekly instructional sessions delivered synchronously by \
         the designated instructor, Mara Lind, whereupon all consumable materials including \
         paper and paint are furnished without supplementary charge, and reservations \
         should be submitted before 20 February. Book your seat. Places are limited. \
         #watercolour";
    let variant_id = variant["id"].as_i64().unwrap();
    let edited = app
        .client
        .put(app.url(&format!(
            "/api/v1/brands/{brand}/studio/variants/{variant_id}"
        )))
        .bearer_auth(&app.key)
        .json(&json!({ "fields": [{ "field": "post", "text": unlike }] }))
        .json_ok()
        .await;
    let unlike_score = edited["variant"]["voice"]["score"].as_f64().unwrap();
    assert!(
        unlike_score + 0.1 < in_voice,
        "unlike the brand {unlike_score} vs in voice {in_voice}"
    );

    // A person's version is saved as edited and is what the next prompt describes.
    let mut mine = profile.clone();
    mine["tone"] = json!(["warm", "encouraging"]);
    let saved = put(&mine).json_ok().await;
    assert_eq!(saved["origin"], "edited");
    assert_eq!(saved["profile"]["tone"], json!(["warm", "encouraging"]));
    model.script([reply(json!({ "post": PASSING_POST, "sources": [1] }))]);
    app.post(
        &format!("/api/v1/brands/{brand}/studio/generations"),
        &brief(),
    )
    .json_ok()
    .await;
    let system = system_prompt(&model.requests()[1].body);
    assert!(system.contains("warm, encouraging"), "{system}");
}

#[tokio::test]
async fn an_approved_variant_becomes_an_example_weighted_by_its_recorded_performance() {
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
    let as_ann = |method: reqwest::Method, path: &str, body: Value| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&ann.access)
            .json(&body)
    };
    model.script([reply(json!({ "post": PASSING_POST, "sources": [1] }))]);
    let generation = as_ann(
        reqwest::Method::POST,
        &format!("/api/v1/brands/{brand}/studio/generations"),
        brief(),
    )
    .json_ok()
    .await;
    let variant = generation["variants"][0]["id"].as_i64().unwrap();
    let variant_path =
        |rest: &str| format!("/api/v1/brands/{brand}/studio/variants/{variant}{rest}");

    // Only what a person approved becomes an example.
    let early = as_ann(reqwest::Method::POST, &variant_path("/promote"), json!({}));
    let error = assert_error(early.send().await.unwrap(), 409, "conflict").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("approved"),
        "{error}"
    );
    as_ann(
        reqwest::Method::POST,
        &variant_path("/review"),
        json!({ "state": "in_review" }),
    )
    .json_ok()
    .await;
    as_ann(
        reqwest::Method::POST,
        &variant_path("/verdict"),
        json!({ "verdict": "approved" }),
    )
    .json_ok()
    .await;
    let promoted = as_ann(
        reqwest::Method::POST,
        &variant_path("/promote?sector=creative_arts"),
        json!({}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(promoted.status(), 201);
    let example: Value = promoted.json().await.unwrap();
    assert_eq!(example["variant_id"], variant);
    assert_eq!(example["channel"], "linkedin_post");
    assert_eq!(example["sector"], "creative_arts");
    let published = generation["variants"][0]["fields"][0]["text"]
        .as_str()
        .unwrap();
    assert_eq!(example["text"], published);
    assert_eq!(example["performance"], Value::Null);
    let twice = as_ann(reqwest::Method::POST, &variant_path("/promote"), json!({}));
    assert_error(twice.send().await.unwrap(), 409, "conflict").await;

    // What the brand reports for the variant is the example's performance.
    as_ann(
        reqwest::Method::PUT,
        &variant_path("/performance"),
        json!({ "views": 1000, "likes": 50, "shares": 10, "clicks": 40, "conversions": 5 }),
    )
    .json_ok()
    .await;
    let read = as_ann(
        reqwest::Method::GET,
        &format!("{}/{}", examples_path(brand), example["id"]),
        Value::Null,
    )
    .json_ok()
    .await;
    assert_eq!(read["performance"]["views"], 1000);
    assert_eq!(read["performance"]["conversions"], 5);
    assert_eq!(read["engagement_rate"], json!(0.1));
}
