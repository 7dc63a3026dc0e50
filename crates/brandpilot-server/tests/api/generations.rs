//! Studio generation as a marketer meets it, against a fake OpenAI-compatible model on a
//! real socket (the real client, the real structured-output path): a brief becomes variants
//! grounded in the brand's own material; a draft that breaks a rule the repairs cannot mend
//! goes back to the model with the numbered problems and comes back passing; a figure that
//! nothing backs is sent back too; a variant still failing after the last pass is stored and
//! shown as failing; a reel script's duration follows its spoken words; and generation
//! needs `studio:write`.

use crate::helpers::{JsonOk, TestApp, assert_error, spawn_app_with};
use brandpilot_app::Scope;
use brandpilot_testkit::openai_chat_server::{
    ChatReply, OpenAiChatOptions, OpenAiChatServer, TextReply,
};
use serde_json::{Value, json};

pub(crate) const COURSE: &str = "# Spring watercolour course\n\n\
The spring watercolour course runs for twelve weeks, one evening lesson a week, \
starting on 3 March. Every lesson is taught live by Mara Lind, who has painted \
professionally since 2009. All paper and pigments are included in the course fee.\n";

pub(crate) async fn app_with_model(max_repair_passes: u32) -> (TestApp, OpenAiChatServer) {
    use brandpilot_app::settings::{ProviderKind, ProviderSettings};
    let server = OpenAiChatServer::start(OpenAiChatOptions::default());
    let base_url = server.base_url();
    let app = spawn_app_with(
        move |settings| {
            settings.llm.providers.insert(
                "hosted".into(),
                ProviderSettings {
                    kind: ProviderKind::Openai,
                    model: "writer-test-model".into(),
                    base_url: Some(base_url),
                    api_key: Some("sk-test".into()),
                    capability: Some(4),
                    ..ProviderSettings::default()
                },
            );
            settings.studio.max_repair_passes = max_repair_passes;
        },
        brandpilot_server::ExtraRoutes::new(),
    )
    .await;
    (app, server)
}

/// A brand with a course page and rules: "guarantee" banned (no replacement, so only a
/// model can rewrite it), a disclaimer the repairs append, and a required hashtag.
async fn brand_with_rules(app: &TestApp) -> i64 {
    brand_with_rules_as(app, &app.key, app.workspace).await
}

/// [`brand_with_rules`] in `workspace`, made by the holder of `token`.
pub(crate) async fn brand_with_rules_as(
    app: &TestApp,
    token: &str,
    workspace: brandpilot_core::WorkspaceId,
) -> i64 {
    let brand = app
        .client
        .post(app.url("/api/v1/brands"))
        .bearer_auth(token)
        .json(&json!({ "name": "Lind Studio" }))
        .json_ok()
        .await["id"]
        .as_i64()
        .unwrap();
    app.ingest(workspace, brand, &[("course.md", COURSE)]).await;
    app.client
        .put(app.url(&format!("/api/v1/brands/{brand}/studio/rules")))
        .bearer_auth(token)
        .json(&json!({
            "banned_words": ["guarantee"],
            "required_disclaimers": [{ "text": "Places are limited.", "channels": ["linkedin_post"] }],
            "hashtags": { "min": 1, "max": 3, "required": ["#watercolour"], "banned": [] },
            "emoji": { "mode": "none" },
            "cta_library": ["Book your seat"],
        }))
        .json_ok()
        .await;
    brand
}

pub(crate) fn reply(value: Value) -> ChatReply {
    ChatReply::Text(TextReply::new(value.to_string()))
}

fn brief(variants: usize) -> Value {
    json!({
        "channel": "linkedin_post",
        "goal": "Fill the spring watercolour course",
        "offer": "Early booking until 20 February",
        "variants": variants,
    })
}

fn system_prompt(request: &Value) -> String {
    request["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn user_prompt(request: &Value) -> String {
    request["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_banned_word_goes_back_to_the_model_and_the_rewrite_passes_grounded_and_cited() {
    let (app, model) = app_with_model(2).await;
    let brand = brand_with_rules(&app).await;
    model.script([
        reply(json!({
            "post": "We guarantee you will love painting. Book your seat for the spring course.",
            "sources": [1],
        })),
        reply(json!({
            "post": "Learn watercolour in twelve weeks of live lessons with Mara Lind. Paper and \
                     paint are included. Book your seat before 20 February.",
            "sources": [1],
        })),
    ]);
    let path = format!("/api/v1/brands/{brand}/studio/generations");
    let response = app.post(&path, &brief(1)).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let generation: Value = response.json().await.unwrap();

    let requests = model.requests();
    assert_eq!(requests.len(), 2, "one draft and one rewrite");
    // The first call carries the rules, the channel's limits and the numbered facts, and
    // asks for JSON under a schema.
    let first = &requests[0].body;
    let system = system_prompt(first);
    assert!(
        system.contains("Never use these words: guarantee"),
        "{system}"
    );
    assert!(system.contains("at most 3000 characters"), "{system}");
    assert!(
        system.contains("[1] (Spring watercolour course)"),
        "{system}"
    );
    assert!(user_prompt(first).contains("Goal: Fill the spring watercolour course"));
    assert_eq!(first["response_format"]["type"], "json_schema");
    // The rewrite lists the banned word as a numbered problem and shows the mended draft.
    let rewrite = user_prompt(&requests[1].body);
    assert!(rewrite.contains("1. [banned_word]"), "{rewrite}");
    assert!(rewrite.contains("guarantee"), "{rewrite}");

    let variant = &generation["variants"][0];
    assert_eq!(variant["label"], "short_form");
    assert_eq!(variant["passed"], true, "{variant}");
    assert_eq!(variant["repair_passes"], 1);
    assert_eq!(variant["review_state"], "draft");
    let post = variant["fields"][0]["text"].as_str().unwrap();
    assert!(!post.to_lowercase().contains("guarantee"), "{post}");
    // What the model left out, the repairs added without it: the disclaimer and the tag.
    assert!(post.contains("Places are limited."), "{post}");
    assert!(post.contains("#watercolour"), "{post}");
    let kinds: Vec<&str> = variant["repairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"appended_disclaimer"), "{kinds:?}");
    assert!(kinds.contains(&"added_hashtag"), "{kinds:?}");
    // The citation stands: the copy uses the course page's words.
    assert_eq!(variant["citations"], json!([1]));
    let source = &generation["provenance"]["sources"][0];
    assert_eq!(source["number"], 1);
    assert_eq!(source["source_title"], "Spring watercolour course");
    assert!(source["text"].as_str().unwrap().contains("twelve weeks"));

    let provenance = &generation["provenance"];
    assert_eq!(provenance["model"], "writer-test-model");
    assert_eq!(provenance["provider"], "hosted");
    assert_eq!(provenance["prompt_template"], "studio.copy");
    assert_eq!(provenance["model_calls"], 2);
    assert_eq!(provenance["repair_passes"], 1);
    // The fake reports 11 prompt and 7 completion tokens per call.
    assert_eq!(provenance["prompt_tokens"], 22);
    assert_eq!(provenance["completion_tokens"], 14);
    assert_eq!(generation["passed"], 1);
    assert!(
        generation["created_by"]
            .as_str()
            .unwrap()
            .starts_with("key:")
    );

    // Stored as returned.
    let id = generation["id"].as_i64().unwrap();
    let stored = app.get(&format!("{path}/{id}")).json_ok().await;
    assert_eq!(stored, generation);
    let listed = app.get(&path).json_ok().await;
    assert_eq!(listed["generations"][0], generation);
}

#[tokio::test]
async fn three_angles_come_back_and_a_figure_nothing_backs_is_sent_back() {
    let (app, model) = app_with_model(1).await;
    let brand = brand_with_rules(&app).await;
    let good = |text: &str| {
        reply(json!({
            "post": format!("{text} Book your seat. Places are limited. #watercolour"),
            "sources": [1],
        }))
    };
    // Three first drafts (in whatever order the calls arrive, each gets one of these),
    // then the rewrite of the one that claimed a discount nobody offered.
    model.script([
        good("Twelve weeks of live lessons with Mara Lind, starting 3 March."),
        good("Save 50% on twelve weeks of watercolour with Mara Lind."),
        good("Paper and pigments included: all you bring is time, every evening for twelve weeks."),
        good("Early booking until 20 February for twelve weeks of painting with Mara Lind."),
    ]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(3),
        )
        .json_ok()
        .await;
    let labels: Vec<&str> = generation["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["short_form", "long_form", "cta_focused"]);
    let requests = model.requests();
    assert_eq!(requests.len(), 4, "three drafts and one rewrite");
    let rewrite = user_prompt(&requests[3].body);
    assert!(rewrite.contains("[grounded] \"50\""), "{rewrite}");
    // Each angle was asked for in its own words.
    let angles: Vec<bool> = ["short-form", "long-form", "CTA-focused"]
        .iter()
        .map(|angle| {
            requests[..3]
                .iter()
                .any(|r| system_prompt(&r.body).contains(&format!("Angle: {angle}")))
        })
        .collect();
    assert_eq!(angles, [true, true, true]);
    for variant in generation["variants"].as_array().unwrap() {
        assert_eq!(variant["passed"], true, "{variant}");
        assert_eq!(variant["unbacked_figures"], json!([]));
        let post = variant["fields"][0]["text"].as_str().unwrap();
        assert!(!post.contains("50%"), "{post}");
    }
    assert_eq!(generation["passed"], 3);
}

#[tokio::test]
async fn a_figure_the_model_keeps_inventing_costs_its_sentence_after_the_last_pass() {
    let (app, model) = app_with_model(1).await;
    let brand = brand_with_rules(&app).await;
    let inventive = json!({
        "post": "Join 3,000 happy painters this spring. Learn watercolour in twelve weeks of live \
                 lessons with Mara Lind. Book your seat. Places are limited. #watercolour",
        "sources": [1],
    });
    model.script([reply(inventive.clone()), reply(inventive)]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(1),
        )
        .json_ok()
        .await;
    let requests = model.requests();
    assert_eq!(requests.len(), 2, "the model got its one pass first");
    assert!(user_prompt(&requests[1].body).contains("[grounded] \"3,000\""));
    let variant = &generation["variants"][0];
    assert_eq!(variant["passed"], true, "{variant}");
    assert_eq!(variant["unbacked_figures"], json!([]));
    assert_eq!(
        variant["dropped_sentences"],
        json!(["Join 3,000 happy painters this spring."])
    );
    let post = variant["fields"][0]["text"].as_str().unwrap();
    assert!(
        post.starts_with("Learn watercolour in twelve weeks"),
        "{post}"
    );
    assert!(post.contains("#watercolour"), "{post}");
    assert_eq!(variant["citations"], json!([1]));
}

#[tokio::test]
async fn a_variant_still_failing_after_the_last_pass_is_returned_and_stored_as_failing() {
    let (app, model) = app_with_model(1).await;
    let brand = brand_with_rules(&app).await;
    let stubborn = json!({
        "post": "We guarantee results. Book your seat. Places are limited. #watercolour",
        "sources": [],
    });
    model.script([reply(stubborn.clone()), reply(stubborn)]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(1),
        )
        .json_ok()
        .await;
    assert_eq!(
        model.requests().len(),
        2,
        "one draft and the one pass allowed"
    );
    let variant = &generation["variants"][0];
    assert_eq!(variant["passed"], false);
    assert_eq!(variant["repair_passes"], 1);
    assert_eq!(generation["passed"], 0);
    let failed: Vec<&str> = variant["report"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["banned_word"]);
    // No citation survives when the model cites nothing.
    assert_eq!(variant["citations"], json!([]));
    let id = generation["id"].as_i64().unwrap();
    let stored = app
        .get(&format!("/api/v1/brands/{brand}/studio/generations/{id}"))
        .json_ok()
        .await;
    assert_eq!(stored["variants"][0]["passed"], false);
}

#[tokio::test]
async fn a_draft_the_model_cannot_write_as_json_fails_that_variant_not_the_generation() {
    let (app, model) = app_with_model(1).await;
    let brand = brand_with_rules(&app).await;
    let good = json!({
        "post": "Learn watercolour in twelve weeks of live lessons with Mara Lind. Book your seat. \
                 Places are limited. #watercolour",
        "sources": [1],
    });
    // One variant gets prose twice (the first answer and the correction), the other JSON.
    model.script([
        ChatReply::text("Here is a lovely post about painting!"),
        reply(good),
        ChatReply::text("Still prose, sorry."),
    ]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(2),
        )
        .json_ok()
        .await;
    let variants = generation["variants"].as_array().unwrap();
    let failed: Vec<&Value> = variants.iter().filter(|v| v["passed"] == false).collect();
    assert_eq!(failed.len(), 1, "{generation}");
    assert!(
        failed[0]["note"]
            .as_str()
            .unwrap()
            .starts_with("the model could not write a draft"),
        "{}",
        failed[0]
    );
    assert_eq!(failed[0]["fields"], json!([]));
    assert_eq!(generation["passed"], 1);
    assert_eq!(generation["provenance"]["model_calls"], 3);
}

#[tokio::test]
async fn a_reel_script_fits_its_duration_and_its_estimate_is_what_the_words_take() {
    let (app, model) = app_with_model(1).await;
    let brand = brand_with_rules(&app).await;
    // 30 seconds at 150 words a minute: 75 words, 64 to 86 allowed. Spoken: hook 11 +
    // voice-overs 19, 17 and 19 + CTA 6 = 72 words.
    let script = json!({
        "hook": "Ever wondered what twelve weeks of painting could do for you?",
        "scenes": [
            { "on_screen_text": "Week one", "voice_over": "In the first week you learn to mix colours. You paint a simple sky. It feels calm and easy.", "visual": "Close-up of a brush" },
            { "on_screen_text": "Live lessons", "voice_over": "Mara Lind teaches every lesson live. She shows each brush stroke. You ask questions as you go.", "visual": "Mara at the easel" },
            { "on_screen_text": "All included", "voice_over": "Paper and pigments are part of the course. You bring your time and your ideas. We bring the rest.", "visual": "Paints on a table" },
        ],
        "thumbnail_text": "Paint in twelve weeks",
        "cta": "Book your seat for spring today.",
        "caption": "Twelve weeks of live watercolour lessons. Places are limited.",
        "hashtags": ["watercolour"],
        "estimated_duration_seconds": 45,
        "sources": [1],
    });
    model.script([reply(script)]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/reels"),
            &json!({
                "sector": "education",
                "hook_type": "question",
                "duration_seconds": 30,
                "topic": "The spring watercolour course",
            }),
        )
        .json_ok()
        .await;
    assert_eq!(generation["kind"], "reel");
    assert_eq!(generation["channel"], "reel_script");
    let system = system_prompt(&model.requests()[0].body);
    assert!(system.contains("about 75 words (64 to 86)"), "{system}");
    let variant = &generation["variants"][0];
    assert_eq!(variant["label"], "script");
    let script = &variant["script"];
    assert_eq!(script["scenes"].as_array().unwrap().len(), 3);
    // 72 words at 150 a minute take 28.8 seconds; the model's 45 was corrected.
    assert_eq!(script["estimated_duration_seconds"], 28.8);
    // A tag written without # got one.
    assert_eq!(script["hashtags"], json!(["#watercolour"]));
    assert_eq!(variant["passed"], true, "{variant}");
    assert_eq!(generation["provenance"]["prompt_template"], "studio.reel");
}

#[tokio::test]
async fn generating_needs_studio_write_and_a_bad_brief_is_refused_before_any_call() {
    let (app, model) = app_with_model(1).await;
    let brand = brand_with_rules(&app).await;
    let path = format!("/api/v1/brands/{brand}/studio/generations");
    let reader = app.key_with(&[Scope::BrandsRead]).await;
    let response = app
        .client
        .post(app.url(&path))
        .bearer_auth(&reader)
        .json(&brief(1))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    // Reading generations needs only brands:read.
    let listed = app
        .client
        .get(app.url(&path))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);

    for (body, says) in [
        (
            json!({ "channel": "linkedin_post", "goal": " " }),
            "brief.goal",
        ),
        (
            json!({ "channel": "reel_script", "goal": "A reel" }),
            "brief.channel",
        ),
        (
            json!({ "channel": "linkedin_post", "goal": "x", "variants": 5 }),
            "brief.variants",
        ),
        (
            json!({ "channel": "linkedin_post", "goal": "x", "language": "xx" }),
            "unsupported language",
        ),
    ] {
        let response = app.post(&path, &body).send().await.unwrap();
        let error = assert_error(response, 400, "invalid_request").await;
        assert!(
            error["error"]["message"].as_str().unwrap().contains(says),
            "{error}"
        );
    }
    let response = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/reels"),
            &json!({ "sector": "astrology", "hook_type": "question", "duration_seconds": 30, "topic": "x" }),
        )
        .send()
        .await
        .unwrap();
    let error = assert_error(response, 400, "invalid_request").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("education")
    );
    let response = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/reels"),
            &json!({ "sector": "education", "hook_type": "question", "duration_seconds": 200, "topic": "x" }),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_request").await;
    assert!(model.requests().is_empty(), "nothing reached the model");
    let missing = app.get(&format!("{path}/999")).send().await.unwrap();
    assert_error(missing, 404, "not_found").await;
}

#[tokio::test]
async fn without_any_model_a_generation_is_a_503_that_says_so() {
    let app = crate::helpers::spawn_app().await;
    let brand = app.create_brand("No model").await;
    let response = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(1),
        )
        .send()
        .await
        .unwrap();
    let error = assert_error(response, 503, "model_unavailable").await;
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.contains("models pull"), "{message}");
    assert!(
        !message.contains("no-models"),
        "the server's paths stay in its log: {message}"
    );
}

#[tokio::test]
async fn a_draft_without_a_call_to_action_gets_the_brands_own_and_no_rewrite_is_asked() {
    let (app, model) = app_with_model(2).await;
    let brand = brand_with_rules(&app).await;
    model.script([reply(json!({
        "post": "Twelve weeks of live watercolour lessons with Mara Lind. Paper and paint are \
                 included.",
        "sources": [1],
    }))]);
    let generation = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/generations"),
            &brief(1),
        )
        .json_ok()
        .await;
    assert_eq!(model.requests().len(), 1, "the repairs needed no model");
    let variant = &generation["variants"][0];
    assert_eq!(variant["passed"], true, "{variant}");
    let post = variant["fields"][0]["text"].as_str().unwrap();
    assert!(
        post.contains("paint are included. Book your seat."),
        "{post}"
    );
    let added: Vec<&Value> = variant["repairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "added_cta")
        .collect();
    assert_eq!(added.len(), 1, "{variant}");
    assert_eq!(added[0]["detail"]["text"], "Book your seat");
}
