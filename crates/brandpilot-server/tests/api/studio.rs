//! Studio without a model, as a marketer meets it: rules that round-trip and refuse to
//! contradict themselves, a variant judged rule by rule with its banned word swapped by the
//! repair, SEO metadata that fits search results and draws on the brand's own documents,
//! and experiments whose statistics match hand-computed values, whose assignment is
//! deterministic, and whose bandit moves traffic towards the arm that converts.

use crate::helpers::{JsonOk, TestApp, assert_error, spawn_app, spawn_app_with};
use brandpilot_app::Scope;
use brandpilot_server::ExtraRoutes;
use serde_json::{Value, json};

fn close(actual: &Value, expected: f64, tolerance: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{actual} is not a number"));
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance} of {expected}"
    );
}

#[tokio::test]
async fn rules_round_trip_and_contradictory_rules_are_refused() {
    let app = spawn_app().await;
    let brand = app.create_brand("Clayworks").await;
    let path = format!("/api/v1/brands/{brand}/studio/rules");

    // Before saving, the defaults: up to five hashtags, a few emoji, grade 9 at most.
    let defaults = app.get(&path).json_ok().await;
    assert_eq!(defaults["hashtags"]["max"], 5);
    assert_eq!(defaults["emoji"], json!({ "mode": "few", "max": 3 }));
    assert_eq!(defaults["reading_level"]["max_grade"], 9.0);

    let rules = json!({
        "audience": "Adults new to pottery",
        "banned_words": ["cheap"],
        "banned_claims": ["risk free"],
        "substitutions": [{ "banned": "cheap", "replacement": "affordable" }],
        "required_disclaimers": [{ "text": "Prices include VAT.", "channels": ["email"] }],
        "hashtags": { "min": 1, "max": 3, "required": ["#clayworks"], "banned": ["#sale"] },
        "emoji": { "mode": "none" },
        "reading_level": { "max_grade": 8.0, "min_reading_ease": null },
        "cta_library": ["Book a taster class"],
    });
    let saved = app
        .client
        .put(app.url(&path))
        .bearer_auth(&app.key)
        .json(&rules)
        .json_ok()
        .await;
    assert_eq!(saved, rules);
    assert_eq!(app.get(&path).json_ok().await, rules);

    // A hashtag range upside down, a replacement that is itself banned, an unknown field:
    // each refused with what to fix, and the saved rules stay.
    for (body, says) in [
        (
            json!({ "hashtags": { "min": 6, "max": 2 } }),
            "min 6 is above max 2",
        ),
        (
            json!({
                "banned_words": ["cheap", "budget"],
                "substitutions": [{ "banned": "cheap", "replacement": "budget" }],
            }),
            "could never pass",
        ),
        (
            json!({ "hashtags": { "required": ["#clay"], "banned": ["clay"] } }),
            "both required and banned",
        ),
        (json!({ "banned_wrds": ["cheap"] }), "banned_wrds"),
        (json!({ "emoji": { "mode": "lots" } }), "lots"),
        // Nested rules written as arrays of their fields are not objects.
        (
            json!({ "reading_level": [null, null] }),
            "expected a JSON object",
        ),
        (
            json!({ "substitutions": [["cheap", "affordable"]] }),
            "expected a JSON object",
        ),
    ] {
        let response = app
            .client
            .put(app.url(&path))
            .bearer_auth(&app.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let error = assert_error(response, 400, "invalid_request").await;
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(app.get(&path).json_ok().await, rules);
}

#[tokio::test]
async fn a_banned_word_is_reported_and_swapped_by_the_repair() {
    let app = spawn_app().await;
    let brand = app.create_brand("Clayworks").await;
    app.client
        .put(app.url(&format!("/api/v1/brands/{brand}/studio/rules")))
        .bearer_auth(&app.key)
        .json(&json!({
            "banned_words": ["cheap", "guaranteed"],
            "substitutions": [{ "banned": "cheap", "replacement": "affordable" }],
            "cta_library": ["Book a taster class"],
        }))
        .json_ok()
        .await;
    let path = format!("/api/v1/brands/{brand}/studio/validate");
    let post = "Cheap pottery classes for beginners start on Monday. Book a taster class today.";

    let checked = app
        .post(
            &path,
            &json!({ "channel": "x_post", "fields": [{ "field": "post", "text": post }] }),
        )
        .json_ok()
        .await;
    let report = &checked["report"];
    assert_eq!(report["passed"], false, "{report}");
    let banned = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["rule"] == "banned_word")
        .unwrap();
    assert_eq!(banned["status"], "failed");
    let violation = &banned["violations"][0];
    assert_eq!(violation["found"], "Cheap");
    assert_eq!(violation["field"], json!({ "field": "post", "index": 0 }));
    assert_eq!(violation["span"], json!({ "start": 0, "end": 5 }));
    assert_eq!(violation["auto_repairable"], true);
    assert!(checked["repair"].is_null(), "no repair unless asked");

    let repaired = app
        .post(
            &path,
            &json!({
                "channel": "x_post",
                "fields": [{ "field": "post", "text": post }],
                "language": "en",
                "repair": true,
            }),
        )
        .json_ok()
        .await;
    let repair = &repaired["repair"];
    assert_eq!(
        repair["fields"],
        json!([{
            "field": "post",
            "text": "Affordable pottery classes for beginners start on Monday. Book a taster class today.",
        }])
    );
    assert_eq!(repair["actions"][0]["kind"], "replaced_word");
    assert_eq!(
        repair["actions"][0]["detail"],
        json!({ "from": "Cheap", "to": "Affordable" })
    );
    assert_eq!(repair["passed"], true, "{repair}");
    assert_eq!(repair["report"]["passed"], true);
    assert_eq!(repair["needs_model"], json!([]));

    // A banned word without a replacement is left for a model, and said so.
    let left = app
        .post(
            &path,
            &json!({
                "channel": "x_post",
                "fields": [{ "field": "post", "text": "Results guaranteed. Book a taster class today." }],
                "repair": true,
            }),
        )
        .json_ok()
        .await;
    assert_eq!(left["repair"]["passed"], false);
    let needs_model = &left["repair"]["needs_model"][0];
    assert_eq!(needs_model["rule"], "banned_word");
    assert_eq!(needs_model["found"], "guaranteed");
    assert_eq!(needs_model["auto_repairable"], false);

    // A channel or field that does not exist, or a language Studio cannot check, is a 400.
    for body in [
        json!({ "channel": "myspace", "fields": [] }),
        json!({ "channel": "x_post", "fields": [{ "field": "footer", "text": "x" }] }),
        json!({ "channel": "x_post", "fields": [], "language": "tlh" }),
    ] {
        let response = app.post(&path, &body).send().await.unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn seo_metadata_fits_search_results_and_draws_on_the_brands_documents() {
    let app = spawn_app().await;
    let brand = app.create_brand("Clayworks").await;
    app.ingest(
        app.workspace,
        brand,
        &[
            (
                "courses.md",
                "# Courses\n\nClayworks studio runs wheel throwing and hand building courses for \
                 adults. Every course is small, and the studio supplies clay, glazes and kiln \
                 firing.",
            ),
            (
                "about.md",
                "# About the studio\n\nClayworks is a community pottery studio. Members get \
                 open studio hours, kiln firing and a shelf for their work.",
            ),
        ],
    )
    .await;
    let seo = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/seo"),
            &json!({ "brief": {
                "topic": "Spring wheel throwing course for complete beginners in Leeds",
                "keywords": ["pottery course Leeds"],
                "headline": "Learn wheel throwing this spring: a six-week pottery course for complete beginners in Leeds",
                "summary": "Six Tuesday evenings at the wheel with a potter who teaches beginners every week. \
                    You will centre clay, throw cylinders and bowls, trim them and glaze your best three pieces, \
                    which we fire for you. All clay and tools are included.",
                "body": "Six Tuesday evenings at the wheel. You will centre clay and throw bowls. We fire your best pieces.",
            }}),
        )
        .json_ok()
        .await;
    let title = seo["title"].as_str().unwrap();
    let meta = seo["meta_description"].as_str().unwrap();
    assert!(title.chars().count() <= 60, "{title}");
    assert!(title.starts_with("Learn wheel throwing"), "{title}");
    assert!(meta.chars().count() <= 155, "{meta}");
    assert!(meta.starts_with("Six Tuesday evenings"), "{meta}");
    let slug = seo["slug"].as_str().unwrap();
    assert!(
        slug.len() <= 60
            && slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{slug}"
    );
    let keywords = seo["keywords"].as_array().unwrap();
    let source_of = |term: &str| {
        keywords
            .iter()
            .find(|k| k["term"] == term)
            .map(|k| k["source"].as_str().unwrap().to_owned())
    };
    let rank = |term: &str| keywords.iter().position(|k| k["term"] == term).unwrap();
    // Leeds is only in the brief; "course" is in the brand's documents too, and, said on
    // every course page, weighs less than what makes this piece specific.
    assert_eq!(source_of("leeds").as_deref(), Some("brief"), "{keywords:?}");
    assert_eq!(source_of("course").as_deref(), Some("both"), "{keywords:?}");
    assert_eq!(
        source_of("wheel throwing").as_deref(),
        Some("both"),
        "{keywords:?}"
    );
    assert!(rank("leeds") < rank("course"), "{keywords:?}");
    assert!(keywords.len() <= 10);
    assert!(seo["readability"]["reading_ease"].as_f64().unwrap() > 50.0);

    let response = app
        .post(
            &format!("/api/v1/brands/{brand}/studio/seo"),
            &json!({ "brief": { "topic": "   " } }),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_request").await;
}

/// An app that takes the hundreds of event reports of one test from one address, as a
/// website backend would send them.
async fn spawn_busy_app() -> TestApp {
    spawn_app_with(
        |settings| {
            settings.server.per_ip_burst = 100_000;
            settings.server.per_ip_per_minute = 100_000;
        },
        ExtraRoutes::new(),
    )
    .await
}

async fn report(app: &TestApp, brand: i64, experiment: i64, arm: &str, kind: &str, times: u32) {
    for _ in 0..times {
        app.post(
            &format!("/api/v1/brands/{brand}/experiments/{experiment}/events"),
            &json!({ "arm": arm, "kind": kind }),
        )
        .json_ok()
        .await;
    }
}

#[tokio::test]
async fn experiment_statistics_match_the_hand_computed_values_and_a_winner_is_declared() {
    let app = spawn_busy_app().await;
    let brand = app.create_brand("Clayworks").await;
    let created = app
        .post(
            &format!("/api/v1/brands/{brand}/experiments"),
            &json!({
                "name": "Spring subject line",
                "arms": [
                    { "name": "A", "variant": "Spring courses are open" },
                    { "name": "B", "variant": "Your first bowl, thrown this spring" },
                ],
                "min_sample": 200,
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        (
            &created["status"],
            &created["mode"],
            &created["significance"]
        ),
        (&json!("running"), &json!("ab"), &json!(0.05))
    );
    let path = format!("/api/v1/brands/{brand}/experiments/{id}");

    report(&app, brand, id, "A", "impression", 100).await;
    report(&app, brand, id, "B", "impression", 100).await;
    let early = app.get(&path).json_ok().await;
    assert_eq!(early["results"]["decision"]["status"], "need_more_data");

    report(&app, brand, id, "A", "impression", 100).await;
    report(&app, brand, id, "B", "impression", 100).await;
    report(&app, brand, id, "A", "conversion", 20).await;
    report(&app, brand, id, "B", "conversion", 40).await;

    // Control A 20/200, B 40/200. By hand: pooled p = 60/400 = 0.15, standard error
    // sqrt(0.15 × 0.85 × (1/200 + 1/200)) = 0.0357071, z = 0.1 / 0.0357071 = 2.8005602,
    // two-sided p = erfc(2.8005602 / √2) = 0.0051014. The 2×2 chi-square (no continuity
    // correction) is z² = 7.8431373 with the same p. P(B beats A) under Beta(21, 181) and
    // Beta(41, 161) posteriors, by numerical integration: 0.99744.
    let results = app.get(&path).json_ok().await["results"].clone();
    assert_eq!(results["control"], "A");
    close(&results["arms"][0]["conversion_rate"], 0.1, 1e-12);
    close(&results["arms"][1]["conversion_rate"], 0.2, 1e-12);
    assert!(
        results["arms"][0]["z"].is_null(),
        "the control is not tested"
    );
    close(&results["arms"][1]["z"], 2.800_560_2, 1e-6);
    close(&results["arms"][1]["p_value"], 0.005_101_4, 1e-6);
    close(&results["arms"][1]["absolute_lift"], 0.1, 1e-12);
    close(&results["arms"][1]["relative_lift"], 1.0, 1e-12);
    close(
        &results["arms"][1]["probability_beats_control"],
        0.997_44,
        1e-4,
    );
    close(&results["chi_square"]["statistic"], 7.843_137_3, 1e-6);
    assert_eq!(results["chi_square"]["degrees_of_freedom"], 1);
    close(&results["chi_square"]["p_value"], 0.005_101_4, 1e-6);
    assert_eq!(results["decision"]["status"], "winner");
    assert_eq!(results["decision"]["winner"], "B");

    // A conversion needs an impression of its arm; an unknown arm is named as such.
    let response = app
        .post(
            &format!("{path}/events"),
            &json!({ "arm": "C", "kind": "impression" }),
        )
        .send()
        .await
        .unwrap();
    let error = assert_error(response, 400, "invalid_request").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"C\"")
    );

    // Stopping declares B; everyone sees B from now on, and nothing more is counted.
    let stopped = app
        .post(&format!("{path}/stop"), &json!({}))
        .json_ok()
        .await;
    assert_eq!(stopped["experiment"]["status"], "stopped");
    assert_eq!(stopped["experiment"]["winner"], "B");
    for visitor in ["visitor-1", "visitor-2", "visitor-3"] {
        let assigned = app
            .post(&format!("{path}/assign"), &json!({ "visitor_id": visitor }))
            .json_ok()
            .await;
        assert_eq!(assigned["arm"], "B");
    }
    let response = app
        .post(
            &format!("{path}/events"),
            &json!({ "arm": "A", "kind": "impression" }),
        )
        .send()
        .await
        .unwrap();
    assert_error(response, 409, "conflict").await;
    let listed = app
        .get(&format!("/api/v1/brands/{brand}/experiments"))
        .json_ok()
        .await;
    assert_eq!(listed["experiments"][0]["arms"][1]["impressions"], 200);
    assert_eq!(listed["experiments"][0]["arms"][1]["conversions"], 40);
}

#[tokio::test]
async fn assignment_is_deterministic_and_a_website_key_can_only_assign_and_report() {
    let app = spawn_app().await;
    let brand = app.create_brand("Clayworks").await;
    let created = app
        .post(
            &format!("/api/v1/brands/{brand}/experiments"),
            &json!({
                "name": "Hero image",
                "arms": [{ "name": "control" }, { "name": "new" }],
                "weights": [1, 3],
            }),
        )
        .json_ok()
        .await;
    let id = created["id"].as_i64().unwrap();
    // The first experiment of a fresh database.
    assert_eq!(id, 1);
    let website = app.key_with(&[Scope::ExperimentsWrite]).await;
    let path = format!("/api/v1/brands/{brand}/experiments/{id}");

    // Computed independently with Python's hashlib: SHA-256 of the experiment id's length
    // (8 bytes little-endian), the id "1" and the visitor id; the first 8 bytes big-endian
    // mapped onto the total weight 4 as ⌊h × 4 / 2⁶⁴⌋ (0 → control, 1–3 → new).
    let expected = [
        ("visitor-1", "new"),
        ("visitor-2", "new"),
        ("visitor-3", "control"),
        ("visitor-4", "new"),
        ("visitor-5", "control"),
        ("visitor-6", "new"),
    ];
    for _ in 0..2 {
        for (visitor, arm) in expected {
            let assigned = app
                .client
                .post(app.url(&format!("{path}/assign")))
                .bearer_auth(&website)
                .json(&json!({ "visitor_id": visitor }))
                .json_ok()
                .await;
            assert_eq!(assigned["arm"], arm, "{visitor}");
        }
    }
    let counted = app
        .client
        .post(app.url(&format!("{path}/events")))
        .bearer_auth(&website)
        .json(&json!({ "visitor_id": "visitor-1", "arm": "new", "kind": "impression" }))
        .json_ok()
        .await;
    assert_eq!(counted["arms"][1]["impressions"], 1);
    // The website's key reads nothing and changes nothing else.
    let read = app
        .client
        .get(app.url(&path))
        .bearer_auth(&website)
        .send()
        .await
        .unwrap();
    assert_error(read, 403, "forbidden").await;
    let stop = app
        .client
        .post(app.url(&format!("{path}/stop")))
        .bearer_auth(&website)
        .send()
        .await
        .unwrap();
    assert_error(stop, 403, "forbidden").await;

    for body in [
        json!({ "name": "one arm", "arms": [{ "name": "only" }] }),
        json!({ "name": "twins", "arms": [{ "name": "A" }, { "name": "a" }] }),
        json!({ "name": "weights", "arms": [{ "name": "A" }, { "name": "B" }], "weights": [1] }),
        json!({ "name": "alpha", "arms": [{ "name": "A" }, { "name": "B" }], "significance": 0.9 }),
        json!({ "name": "mode", "arms": [{ "name": "A" }, { "name": "B" }], "mode": "roulette" }),
    ] {
        let response = app
            .post(&format!("/api/v1/brands/{brand}/experiments"), &body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_bandit_sends_most_visitors_to_the_arm_that_converts() {
    let app = spawn_busy_app().await;
    let brand = app.create_brand("Clayworks").await;
    let created = app
        .post(
            &format!("/api/v1/brands/{brand}/experiments"),
            &json!({
                "name": "Call to action",
                "arms": [{ "name": "weak" }, { "name": "strong" }],
                "mode": "bandit",
            }),
        )
        .json_ok()
        .await;
    let id = created["id"].as_i64().unwrap();
    report(&app, brand, id, "weak", "impression", 100).await;
    report(&app, brand, id, "strong", "impression", 100).await;
    report(&app, brand, id, "weak", "conversion", 5).await;
    report(&app, brand, id, "strong", "conversion", 30).await;

    let path = format!("/api/v1/brands/{brand}/experiments/{id}/assign");
    let mut strong = 0;
    for visitor in 0..100 {
        let assigned = app
            .post(
                &path,
                &json!({ "visitor_id": format!("visitor-{visitor}") }),
            )
            .json_ok()
            .await;
        if assigned["arm"] == "strong" {
            strong += 1;
        }
    }
    // With 5/100 against 30/100 the posterior probability that "strong" is better is
    // above 0.9999, so nearly every draw picks it.
    assert!(
        strong >= 95,
        "only {strong} of 100 visitors saw the stronger arm"
    );
    // The same state and visitor give the same draw.
    let first = app
        .post(&path, &json!({ "visitor_id": "repeat" }))
        .json_ok()
        .await;
    let again = app
        .post(&path, &json!({ "visitor_id": "repeat" }))
        .json_ok()
        .await;
    assert_eq!(first, again);
}

#[tokio::test]
async fn the_reel_catalogs_list_sectors_and_hook_types() {
    let app = spawn_app().await;
    let sectors = app.get("/api/v1/studio/sectors").json_ok().await;
    let sectors = sectors["sectors"].as_array().unwrap();
    assert_eq!(sectors.len(), 16);
    let health = sectors
        .iter()
        .find(|s| s["id"] == "health_fitness")
        .unwrap();
    assert!(health["caution"].is_string(), "{health}");
    let hooks = app.get("/api/v1/studio/hook-types").json_ok().await;
    let hooks = hooks["hook_types"].as_array().unwrap();
    assert_eq!(hooks.len(), 15);
    assert!(hooks.iter().any(|h| h["id"] == "pain_point"));
}
