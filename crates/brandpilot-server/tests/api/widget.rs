//! The website widget's server side, as pages on other origins meet it: the brand's team
//! configures it (origins, theme, key); a page on an allowed origin gets the brand's
//! greeting, a visitor session and streamed, cited answers, each answer readable by that
//! origin only; other origins, unknown keys and turned-off widgets get nothing; a visitor
//! never reads another visitor's conversation; visitors are rate limited; a person's reply
//! to a ticket reaches the visitor's conversation.

use crate::assistant::{brand_with_material, parse_events};
use crate::helpers::*;
use brandpilot_server::ExtraRoutes;
use serde_json::{Value, json};

const SHOP: &str = "http://shop.example:8000";

async fn configure(app: &TestApp, brand: i64, body: Value) -> Value {
    app.client
        .put(app.url(&format!("/api/v1/brands/{brand}/widget")))
        .bearer_auth(&app.key)
        .json(&body)
        .json_ok()
        .await
}

async fn session(app: &TestApp, key: &str, origin: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/widget/sessions"))
        .header("origin", origin)
        .json(&json!({ "key": key }))
        .send()
        .await
        .unwrap()
}

async fn visitor_token(app: &TestApp, key: &str) -> String {
    let response = session(app, key, SHOP).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn widget_chat(app: &TestApp, key: &str, token: &str, body: Value) -> reqwest::Response {
    let mut body = body;
    body["key"] = json!(key);
    app.client
        .post(app.url("/api/v1/widget/chat"))
        .header("origin", SHOP)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_page_on_an_allowed_origin_gets_the_greeting_a_session_and_a_streamed_cited_answer() {
    let app = spawn_app().await;
    let brand = brand_with_material(&app).await;
    app.client
        .put(app.url(&format!("/api/v1/brands/{brand}/profile")))
        .bearer_auth(&app.key)
        .json(&json!({ "greeting": "Hi! Ask me about our courses." }))
        .json_ok()
        .await;
    let widget = configure(
        &app,
        brand,
        json!({ "allowed_origins": ["HTTP://Shop.Example:8000/"], "theme": { "accent_color": "#aa3300", "title": "Acme help" } }),
    )
    .await;
    assert_eq!(
        widget["allowed_origins"],
        json!([SHOP]),
        "stored in normal form"
    );
    let key = widget["public_key"].as_str().unwrap().to_owned();
    assert!(widget["snippet"].as_str().unwrap().contains(&key));

    let config = app
        .client
        .get(app.url(&format!("/api/v1/widget/config?key={key}")))
        .header("origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200);
    assert_eq!(config.headers()["access-control-allow-origin"], SHOP);
    let config: Value = config.json().await.unwrap();
    assert_eq!(config["greeting"], "Hi! Ask me about our courses.");
    assert_eq!(config["title"], "Acme help");
    assert_eq!(config["theme"]["accent_color"], "#aa3300");

    let token = visitor_token(&app, &key).await;
    let response = widget_chat(
        &app,
        &key,
        &token,
        json!({ "message": "How many days do I have to ask for a refund?" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], SHOP);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = parse_events(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"started"));
    assert_eq!(names.last(), Some(&"done"));
    let done = &events.last().unwrap().1;
    assert!(
        done["answer"].as_str().unwrap().contains("30 days"),
        "{done}"
    );
    assert_eq!(done["citations"][0]["title"], "Refund policy");

    // The conversation is the visitor's: they read it back, with its citations.
    let conversation = done["conversation_id"].as_i64().unwrap();
    let read = app
        .client
        .get(app.url(&format!(
            "/api/v1/widget/conversations/{conversation}?key={key}"
        )))
        .header("origin", SHOP)
        .bearer_auth(&token)
        .json_ok()
        .await;
    let roles: Vec<&str> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant"]);
    assert!(
        read["messages"][1]["trace"].is_null(),
        "visitors never see traces"
    );
    // And the team sees it as a visitor's.
    let listed = app
        .get(&format!("/api/v1/brands/{brand}/conversations"))
        .json_ok()
        .await;
    assert!(
        listed["conversations"][0]["end_user"]
            .as_str()
            .unwrap()
            .starts_with("visitor:")
    );
}

#[tokio::test]
async fn other_origins_unknown_keys_and_turned_off_widgets_get_nothing() {
    let app = spawn_app().await;
    let brand = brand_with_material(&app).await;
    let key = configure(&app, brand, json!({ "allowed_origins": [SHOP] })).await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    for origin in [
        "http://evil.example",
        "http://shop.example:8001",
        "https://shop.example:8000",
        "null",
    ] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/widget/config?key={key}")))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert!(
            !response
                .headers()
                .contains_key("access-control-allow-origin"),
            "{origin}"
        );
        assert_error(response, 403, "forbidden").await;
        assert_error(session(&app, &key, origin).await, 403, "forbidden").await;
    }
    // No Origin at all (a script outside a browser that does not pretend): refused too.
    let response = app
        .client
        .get(app.url(&format!("/api/v1/widget/config?key={key}")))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    assert_error(session(&app, "bpw_unknown", SHOP).await, 404, "not_found").await;
    // Not from a page, the key is not even looked up: unknown or not, 403.
    let response = app
        .client
        .get(app.url("/api/v1/widget/config?key=bpw_unknown"))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
    // A message without a visitor session is 401 before anything else is checked.
    let response = app
        .client
        .post(app.url("/api/v1/widget/chat"))
        .json(&json!({ "key": key, "message": "hello" }))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;

    // Turned off, the same key is unknown; rotated, the old key is.
    configure(
        &app,
        brand,
        json!({ "allowed_origins": [SHOP], "enabled": false }),
    )
    .await;
    assert_error(session(&app, &key, SHOP).await, 404, "not_found").await;
    let rotated = configure(
        &app,
        brand,
        json!({ "allowed_origins": [SHOP], "rotate_key": true }),
    )
    .await;
    assert_ne!(rotated["public_key"], key.as_str());
    assert_error(session(&app, &key, SHOP).await, 404, "not_found").await;
    assert_eq!(
        session(&app, rotated["public_key"].as_str().unwrap(), SHOP)
            .await
            .status(),
        201
    );

    // What the team may save is checked.
    for body in [
        json!({ "allowed_origins": ["https://*.shop.example"] }),
        json!({ "allowed_origins": ["https://shop.example/support"] }),
        json!({ "theme": { "accent_color": "red;} body {display:none" } }),
        json!({ "theme": { "position": "middle" } }),
        // A theme written as an array of its fields is not an object.
        json!({ "theme": [null, null] }),
    ] {
        let response = app
            .client
            .put(app.url(&format!("/api/v1/brands/{brand}/widget")))
            .bearer_auth(&app.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_visitor_reads_only_their_own_conversation_and_sessions_stay_with_their_brand() {
    let app = spawn_app().await;
    let brand = brand_with_material(&app).await;
    let other_brand = app.create_brand("Other").await;
    let key = configure(&app, brand, json!({ "allowed_origins": [SHOP] })).await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let other_key =
        configure(&app, other_brand, json!({ "allowed_origins": [SHOP] })).await["public_key"]
            .as_str()
            .unwrap()
            .to_owned();
    let alice = visitor_token(&app, &key).await;
    let bob = visitor_token(&app, &key).await;
    let response = widget_chat(
        &app,
        &key,
        &alice,
        json!({ "message": "Where is my order 4411?" }),
    )
    .await;
    let events = parse_events(&response.text().await.unwrap());
    let conversation = events[0].1["conversation_id"].as_i64().unwrap();

    // Bob can neither read Alice's conversation nor write into it.
    let response = app
        .client
        .get(app.url(&format!(
            "/api/v1/widget/conversations/{conversation}?key={key}"
        )))
        .header("origin", SHOP)
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    let body = assert_error(response, 404, "not_found").await;
    assert!(!body.to_string().contains("4411"));
    let response = widget_chat(
        &app,
        &key,
        &bob,
        json!({ "message": "Continue", "conversation_id": conversation }),
    )
    .await;
    assert_eq!(response.status(), 404);
    // Nor without a session, or with Alice's session at another brand's widget.
    let response = app
        .client
        .get(app.url(&format!(
            "/api/v1/widget/conversations/{conversation}?key={key}"
        )))
        .header("origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthenticated").await;
    let response = widget_chat(&app, &other_key, &alice, json!({ "message": "Hello" })).await;
    assert_error(response, 401, "unauthenticated").await;
    // A forged token (another visitor id under Alice's signature) names nobody.
    let (signed, signature) = alice.rsplit_once('.').unwrap();
    let forged = format!("{}x.{signature}", signed);
    let response = widget_chat(&app, &key, &forged, json!({ "message": "Hello" })).await;
    assert_error(response, 401, "unauthenticated").await;
}

#[tokio::test]
async fn visitors_are_limited_per_visitor_and_sessions_per_address() {
    let app = spawn_app_with(
        |settings| {
            settings.widget.visitor_per_minute = 2;
            settings.widget.visitor_burst = 2;
            settings.widget.sessions_per_ip_per_minute = 3;
        },
        ExtraRoutes::new(),
    )
    .await;
    let brand = brand_with_material(&app).await;
    let key = configure(&app, brand, json!({ "allowed_origins": [SHOP] })).await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = visitor_token(&app, &key).await;
    let second = visitor_token(&app, &key).await;
    for _ in 0..2 {
        let response = widget_chat(&app, &key, &first, json!({ "message": "Hello" })).await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap();
    }
    let response = widget_chat(&app, &key, &first, json!({ "message": "Hello" })).await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        SHOP,
        "the page may read why"
    );
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 429, "rate_limited").await;
    // Another visitor is not held back by the first.
    let response = widget_chat(&app, &key, &second, json!({ "message": "Hello" })).await;
    assert_eq!(response.status(), 200);
    // Three sessions a minute from one address: the fourth waits.
    visitor_token(&app, &key).await;
    assert_error(session(&app, &key, SHOP).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn a_persons_reply_to_a_ticket_reaches_the_visitor() {
    let app = spawn_app().await;
    let brand = brand_with_material(&app).await;
    let key = configure(&app, brand, json!({ "allowed_origins": [SHOP] })).await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = visitor_token(&app, &key).await;
    let response = widget_chat(
        &app,
        &key,
        &token,
        json!({ "message": "I need to talk to a human" }),
    )
    .await;
    let events = parse_events(&response.text().await.unwrap());
    let done = &events.last().unwrap().1;
    let ticket = done["ticket_id"].as_i64().expect("a ticket");
    let conversation = done["conversation_id"].as_i64().unwrap();
    let last = done["message_id"].as_i64().unwrap();
    app.post(
        &format!("/api/v1/tickets/{ticket}/replies"),
        &json!({ "text": "Hi, this is Sam from Acme. How can I help?" }),
    )
    .json_ok()
    .await;
    let newer = app
        .client
        .get(app.url(&format!(
            "/api/v1/widget/conversations/{conversation}?key={key}&after={last}"
        )))
        .header("origin", SHOP)
        .bearer_auth(&token)
        .json_ok()
        .await;
    assert_eq!(newer["messages"].as_array().unwrap().len(), 1, "{newer}");
    assert_eq!(newer["messages"][0]["role"], "agent");
    assert_eq!(
        newer["messages"][0]["content"],
        "Hi, this is Sam from Acme. How can I help?"
    );
}

#[tokio::test]
async fn the_script_loads_from_any_page_and_preflights_are_answered() {
    let app = spawn_app().await;
    let script = app.client.get(app.url("/widget.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        script.headers()["cross-origin-resource-policy"],
        "cross-origin"
    );
    assert!(script.text().await.unwrap().contains("data-brandpilot-key"));
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/widget/chat"))
        .header("origin", SHOP)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], SHOP);
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
}
