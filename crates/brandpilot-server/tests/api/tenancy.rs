//! The tenancy walk: every operation of the API, called by people and keys of another
//! workspace, by a viewer, by a narrow key, without credentials and with forged ones.
//!
//! Workspace A (Alice's) holds a brand (with Studio rules and an experiment), a source, a
//! finished job, members, a key and an invitation, every name in it carrying a canary.
//! Mallory owns workspace B. For each
//! operation: Mallory (signed in or with B's key) gets 404 for A's ids and never a byte of
//! A's data (no canary in any body); asking to act in A she is refused 403; a viewer of A
//! gets 403 exactly when the operation needs more than a viewer may do; a key holding only
//! `search` gets 403 for everything else; no credential is 401. The coverage guard makes
//! the walk cover the whole OpenAPI document, so a new operation without a case fails here.

use crate::helpers::{JsonOk, Person, TestApp, spawn_app, spawn_app_with};
use brandpilot_app::{Role, Scope};
use brandpilot_server::ExtraRoutes;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const CANARY: &str = "cnry-a-5f1e";
/// A customer of A's brand whose record the walk tries to reach.
const CUSTOMER: &str = "customer-of-a";

/// Operations that need no credential.
const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/api/v1/auth/signup",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    // The widget's: a page's origin and a visitor's session, not a workspace member;
    // their isolation is tested in widget.rs.
    "/api/v1/widget/config",
    "/api/v1/widget/sessions",
    "/api/v1/widget/chat",
    "/api/v1/widget/conversations/{conversation_id}",
];

/// What an operation's request carries.
enum Body {
    None,
    Json(Value),
    /// A one-file upload.
    Upload,
}

/// One operation of the API, as the walk calls it.
struct Case {
    method: &'static str,
    path: &'static str,
    body: fn(&Fixture) -> Body,
}

const WALK: &[Case] = &[
    Case {
        method: "GET",
        path: "/api/v1/me",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/workspaces",
        body: |f| Body::Json(json!({ "name": f.unique("workspace") })),
    },
    Case {
        method: "GET",
        path: "/api/v1/audit",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/members",
        body: |_| Body::None,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/members/{user_id}",
        body: |_| Body::Json(json!({ "role": "viewer" })),
    },
    Case {
        method: "DELETE",
        path: "/api/v1/members/{user_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/invitations",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/invitations",
        body: |f| {
            Body::Json(
                json!({ "email": format!("{}@example.com", f.unique("invitee")), "role": "viewer" }),
            )
        },
    },
    Case {
        method: "DELETE",
        path: "/api/v1/invitations/{invitation_id}",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/invitations/accept",
        body: |f| Body::Json(json!({ "token": f.invitation_token })),
    },
    Case {
        method: "GET",
        path: "/api/v1/keys",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/keys",
        body: |f| Body::Json(json!({ "name": f.unique("key") })),
    },
    Case {
        method: "DELETE",
        path: "/api/v1/keys/{key_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/usage",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/credits",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands",
        body: |f| Body::Json(json!({ "name": f.unique("brand") })),
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}",
        body: |_| Body::None,
    },
    Case {
        method: "DELETE",
        path: "/api/v1/brands/{brand_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/sources",
        body: |_| Body::None,
    },
    Case {
        method: "DELETE",
        path: "/api/v1/brands/{brand_id}/sources/{source_id}",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/search",
        body: |_| Body::Json(json!({ "query": CANARY })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/uploads",
        body: |_| Body::Upload,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/sources/url",
        body: |_| Body::Json(json!({ "url": "http://example.com/walk" })),
    },
    Case {
        method: "GET",
        path: "/api/v1/jobs/{job_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/jobs/{job_id}/events",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/profile",
        body: |_| Body::None,
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/profile",
        body: |_| Body::Json(json!({ "voice": "a walker" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/chat",
        body: |_| Body::Json(json!({ "message": "How do refunds work?" })),
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/conversations",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/conversations/{conversation_id}",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/messages/{message_id}/feedback",
        body: |_| Body::Json(json!({ "rating": "up" })),
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/customers/{customer_id}",
        body: |_| Body::Json(json!({ "plan": "walk" })),
    },
    Case {
        method: "DELETE",
        path: "/api/v1/brands/{brand_id}/customers/{customer_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/tickets",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/tickets/{ticket_id}",
        body: |_| Body::None,
    },
    Case {
        method: "PATCH",
        path: "/api/v1/tickets/{ticket_id}",
        body: |_| Body::Json(json!({ "status": "assigned" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/tickets/{ticket_id}/replies",
        body: |_| Body::Json(json!({ "text": "A walk reply" })),
    },
    Case {
        method: "POST",
        path: "/v1/chat/completions",
        // The brand by id: A's id names nothing in B.
        body: |f| {
            Body::Json(json!({
                "model": f.brand.to_string(),
                "messages": [{ "role": "user", "content": "How do refunds work?" }],
            }))
        },
    },
    Case {
        method: "GET",
        path: "/v1/models",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/widget",
        body: |_| Body::None,
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/widget",
        body: |_| Body::Json(json!({ "allowed_origins": ["https://walk.example"] })),
    },
    Case {
        method: "GET",
        path: "/api/v1/webhooks",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/webhooks",
        body: |_| {
            Body::Json(
                json!({ "url": "https://hooks.example.com/walk", "events": ["ticket.opened"] }),
            )
        },
    },
    Case {
        method: "DELETE",
        path: "/api/v1/webhooks/{webhook_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/rules",
        body: |_| Body::None,
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/studio/rules",
        body: |_| Body::Json(json!({ "banned_words": ["walk"] })),
    },
    Case {
        method: "GET",
        path: "/api/v1/studio/sectors",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/studio/hook-types",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/validate",
        body: |_| {
            Body::Json(json!({
                "channel": "x_post",
                "fields": [{ "field": "post", "text": "A cheap walk." }],
                "repair": true,
            }))
        },
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/seo",
        body: |_| Body::Json(json!({ "brief": { "topic": "Refunds for walkers" } })),
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/generations",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/generations/{generation_id}",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/generations",
        body: |_| Body::Json(json!({ "channel": "x_post", "goal": "A walk" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/reels",
        body: |_| {
            Body::Json(json!({
                "sector": "education", "hook_type": "question", "duration_seconds": 30,
                "topic": "A walk",
            }))
        },
    },
    Case {
        method: "POST",
        path: "/api/v1/studio/batch",
        body: |f| {
            Body::Json(json!({
                "brand_id": f.brand,
                "briefs": [{ "channel": "x_post", "goal": "A walk" }],
            }))
        },
    },
    Case {
        method: "GET",
        path: "/api/v1/studio/batch/{batch_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}",
        body: |_| Body::None,
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}",
        body: |_| Body::Json(json!({ "fields": [{ "field": "post", "text": "A walk." }] })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/feedback",
        body: |_| Body::Json(json!({ "rating": 1, "comment": "walk" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/review",
        body: |_| Body::Json(json!({ "state": "in_review" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/verdict",
        body: |_| Body::Json(json!({ "verdict": "approved", "note": "walk" })),
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/performance",
        body: |_| Body::Json(json!({ "views": 1 })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/variants/{variant_id}/promote",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/examples",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/examples",
        body: |f| Body::Json(json!({ "channel": "x_post", "text": f.unique("example") })),
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/examples/{example_id}",
        body: |_| Body::None,
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/studio/examples/{example_id}",
        body: |_| Body::Json(json!({ "channel": "email", "title": "walk" })),
    },
    Case {
        method: "DELETE",
        path: "/api/v1/brands/{brand_id}/studio/examples/{example_id}",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/studio/voice",
        body: |_| Body::None,
    },
    Case {
        method: "PUT",
        path: "/api/v1/brands/{brand_id}/studio/voice",
        body: |_| Body::Json(walk_voice("walk")),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/studio/voice/learn",
        body: |_| Body::None,
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/experiments",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/experiments",
        body: |f| {
            Body::Json(json!({
                "name": f.unique("experiment"),
                "arms": [{ "name": "A" }, { "name": "B" }],
            }))
        },
    },
    Case {
        method: "GET",
        path: "/api/v1/brands/{brand_id}/experiments/{experiment_id}",
        body: |_| Body::None,
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/experiments/{experiment_id}/assign",
        body: |_| Body::Json(json!({ "visitor_id": "walker" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/experiments/{experiment_id}/events",
        body: |_| Body::Json(json!({ "arm": CANARY, "kind": "impression" })),
    },
    Case {
        method: "POST",
        path: "/api/v1/brands/{brand_id}/experiments/{experiment_id}/stop",
        body: |_| Body::None,
    },
];

/// Workspace A's things, and the people and keys that call.
struct Fixture {
    alice: Person,
    vic: Person,
    mallory: Person,
    workspace_a: i64,
    brand: i64,
    source: i64,
    job: i64,
    conversation: i64,
    message: i64,
    ticket: i64,
    invitation: i64,
    invitation_token: String,
    key_a: i64,
    webhook: i64,
    experiment: i64,
    generation: i64,
    variant: i64,
    example: i64,
    batch: i64,
    narrow_key: String,
    mallory_key: String,
    counter: std::sync::atomic::AtomicU32,
}

impl Fixture {
    fn unique(&self, what: &str) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("walk-{what}-{n}")
    }

    fn concrete(&self, path: &str) -> String {
        path.replace("{brand_id}", &self.brand.to_string())
            .replace("{source_id}", &self.source.to_string())
            .replace("{job_id}", &self.job.to_string())
            .replace("{user_id}", &self.vic.id.to_string())
            .replace("{invitation_id}", &self.invitation.to_string())
            .replace("{key_id}", &self.key_a.to_string())
            .replace("{webhook_id}", &self.webhook.to_string())
            .replace("{experiment_id}", &self.experiment.to_string())
            .replace("{generation_id}", &self.generation.to_string())
            .replace("{variant_id}", &self.variant.to_string())
            .replace("{example_id}", &self.example.to_string())
            .replace("{batch_id}", &self.batch.to_string())
            .replace("{conversation_id}", &self.conversation.to_string())
            .replace("{message_id}", &self.message.to_string())
            .replace("{ticket_id}", &self.ticket.to_string())
            .replace("{customer_id}", CUSTOMER)
    }
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    MalloryInB,
    MalloryAskingForA,
    MalloryKey,
    VicInA,
    NarrowKeyOfA,
    Nobody,
    Forged,
}

async fn call(app: &TestApp, fixture: &Fixture, case: &Case, who: Who) -> (u16, String) {
    let method: Method = case.method.parse().unwrap();
    let mut request = app
        .client
        .request(method, app.url(&fixture.concrete(case.path)))
        .header("accept", "application/json, text/event-stream");
    request = match who {
        Who::MalloryInB => request.bearer_auth(&fixture.mallory.access),
        Who::MalloryAskingForA => request
            .bearer_auth(&fixture.mallory.access)
            .header("X-Workspace-Id", fixture.workspace_a.to_string()),
        Who::MalloryKey => request.bearer_auth(&fixture.mallory_key),
        Who::VicInA => request
            .bearer_auth(&fixture.vic.access)
            .header("X-Workspace-Id", fixture.workspace_a.to_string()),
        Who::NarrowKeyOfA => request.bearer_auth(&fixture.narrow_key),
        Who::Nobody => request,
        // Alice's real token with its signature cut: the server must not read the claims.
        Who::Forged => {
            let (signed, _) = fixture.alice.access.rsplit_once('.').unwrap();
            request.bearer_auth(format!("{signed}.AAAA"))
        }
    };
    request = match (case.body)(fixture) {
        Body::None => request,
        Body::Json(body) => request.json(&body),
        Body::Upload => request.multipart(Form::new().part(
            "file",
            Part::bytes(b"Walk upload.".to_vec()).file_name("walk.txt"),
        )),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    (status, body)
}

/// A hand-written voice profile whose tone label is `label`.
fn walk_voice(label: &str) -> Value {
    json!({
        "language": "en",
        "sentence_length": { "mean": 12.0, "low": 6.0, "high": 20.0 },
        "mean_word_length": 4.6,
        "emoji_per_100_words": 0.0,
        "emoji_text_share": 0.0,
        "exclamation_rate": 0.1,
        "question_rate": 0.1,
        "second_person_per_100_words": 3.0,
        "first_person_plural_per_100_words": 2.0,
        "tone": [label],
    })
}

/// The scope an operation names in the document (none for signed-in-only ones).
fn scope_of(document: &Value, case: &Case) -> Option<Scope> {
    document["paths"][case.path][case.method.to_lowercase()]["security"][0]["api_key"][0]
        .as_str()
        .map(|scope| scope.parse().unwrap())
}

async fn fixture(app: &TestApp) -> Fixture {
    let alice = app.sign_up(&format!("alice-{CANARY}@example.com")).await;
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&alice.access)
        .json_ok()
        .await;
    let workspace_a = me["workspaces"][0]["id"].as_i64().unwrap();
    let as_alice = |method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(&alice.access)
    };
    let brand = as_alice(Method::POST, "/api/v1/brands")
        .json(&json!({ "name": format!("{CANARY} brand") }))
        .json_ok()
        .await["id"]
        .as_i64()
        .unwrap();
    let upload = as_alice(Method::POST, &format!("/api/v1/brands/{brand}/uploads"))
        .multipart(
            Form::new().part(
                "file",
                Part::bytes(
                    format!("# {CANARY} policy\n\nRefunds within {CANARY} days.").into_bytes(),
                )
                .file_name(format!("{CANARY}.md")),
            ),
        )
        .json_ok()
        .await;
    let job = upload["job"]["id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let state = as_alice(Method::GET, &format!("/api/v1/jobs/{job}"))
            .json_ok()
            .await;
        if state["status"] == "succeeded" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{state}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sources = as_alice(Method::GET, &format!("/api/v1/brands/{brand}/sources"))
        .json_ok()
        .await;
    let source = sources["sources"][0]["id"].as_i64().unwrap();
    let turn = as_alice(Method::POST, &format!("/api/v1/brands/{brand}/chat"))
        .json(&json!({ "message": format!("I want a human about {CANARY}") }))
        .json_ok()
        .await;
    let saved = as_alice(
        Method::PUT,
        &format!("/api/v1/brands/{brand}/customers/{CUSTOMER}"),
    )
    .json(&json!({ "note": CANARY }))
    .send()
    .await
    .unwrap();
    assert_eq!(saved.status(), 204);

    let vic = app.sign_up(&format!("vic-{CANARY}@example.com")).await;
    let eddie = app.sign_up(&format!("eddie-{CANARY}@example.com")).await;
    for (person, role) in [(&vic, "viewer"), (&eddie, "editor")] {
        let email = if person.id == vic.id { "vic" } else { "eddie" };
        let invitation = as_alice(Method::POST, "/api/v1/invitations")
            .json(&json!({ "email": format!("{email}-{CANARY}@example.com"), "role": role }))
            .json_ok()
            .await;
        app.client
            .post(app.url("/api/v1/invitations/accept"))
            .bearer_auth(&person.access)
            .json(&json!({ "token": invitation["token"] }))
            .json_ok()
            .await;
    }
    let pending = as_alice(Method::POST, "/api/v1/invitations")
        .json(&json!({ "email": format!("pending-{CANARY}@example.com"), "role": "editor" }))
        .json_ok()
        .await;
    as_alice(Method::PUT, &format!("/api/v1/brands/{brand}/widget"))
        .json(&json!({ "allowed_origins": ["https://a.example"], "theme": { "title": CANARY } }))
        .json_ok()
        .await;
    let webhook = as_alice(Method::POST, "/api/v1/webhooks")
        .json(&json!({
            "url": "https://hooks.example.com/a",
            "events": ["ticket.opened"],
            "description": format!("{CANARY} desk"),
        }))
        .json_ok()
        .await;
    let experiment = as_alice(Method::POST, &format!("/api/v1/brands/{brand}/experiments"))
        .json(&json!({
            "name": format!("{CANARY} experiment"),
            "arms": [
                { "name": CANARY, "variant": format!("{CANARY} control copy") },
                { "name": "challenger", "variant": format!("{CANARY} new copy") },
            ],
        }))
        .json_ok()
        .await;
    as_alice(Method::PUT, &format!("/api/v1/brands/{brand}/studio/rules"))
        .json(&json!({ "banned_words": [CANARY] }))
        .json_ok()
        .await;
    let example = as_alice(
        Method::POST,
        &format!("/api/v1/brands/{brand}/studio/examples"),
    )
    .json(&json!({
        "channel": "linkedin_post",
        "title": CANARY,
        "text": format!("{CANARY} paints every Sunday with us."),
        "performance": { "views": 100, "likes": 9 },
    }))
    .send()
    .await
    .unwrap();
    assert_eq!(example.status(), 201);
    let example: Value = example.json().await.unwrap();
    as_alice(Method::PUT, &format!("/api/v1/brands/{brand}/studio/voice"))
        .json(&walk_voice(CANARY))
        .json_ok()
        .await;
    // A generation needs a model, which this walk has none of: stored as one would be.
    let generation = app
        .app
        .store
        .create_generation(&brandpilot_store::NewGeneration {
            brand: brandpilot_core::BrandId(brand),
            kind: "copy".into(),
            channel: "x_post".into(),
            request_json: json!({ "goal": CANARY }).to_string(),
            provenance_json: json!({
                "sources": [], "examples": [], "provider": null, "model": null,
                "prompt_template": "studio.copy", "prompt_version": 1, "model_calls": 1,
                "prompt_tokens": 1, "completion_tokens": 1, "cost_usd": null,
                "latency_ms": 1, "repair_passes": 0,
            })
            .to_string(),
            created_by: None,
            variants: vec![brandpilot_store::NewVariant {
                label: "short_form".into(),
                content_json: json!({
                    "fields": [{ "field": "post", "text": format!("{CANARY} post") }],
                    "citations": [], "unbacked_figures": [], "repair_passes": 0, "repairs": [],
                })
                .to_string(),
                report_json: serde_json::to_string(&brandpilot_studio::validate_variant(
                    &Default::default(),
                    brandpilot_studio::Channel::XPost,
                    &[brandpilot_studio::FieldText::new(
                        brandpilot_studio::Field::Post,
                        format!("{CANARY} post"),
                    )],
                    brandpilot_studio::language::Language::En,
                ))
                .unwrap(),
                passed: false,
            }],
        })
        .await
        .unwrap();
    // A batch stored as the API would (its jobs would need a model).
    let (batch, _) = app
        .app
        .store
        .create_batch(&brandpilot_store::NewBatch {
            brand: brandpilot_core::BrandId(brand),
            idempotency_key: None,
            created_by: None,
            requests: vec![
                json!({ "channel": "x_post", "goal": CANARY, "language": "en", "variants": 1 })
                    .to_string(),
            ],
        })
        .await
        .unwrap();
    let key = as_alice(Method::POST, "/api/v1/keys")
        .json(&json!({ "name": format!("{CANARY} key") }))
        .json_ok()
        .await;
    let narrow = as_alice(Method::POST, "/api/v1/keys")
        .json(&json!({ "name": format!("{CANARY} narrow"), "scopes": ["search"] }))
        .json_ok()
        .await;

    let mallory = app.sign_up("mallory@example.net").await;
    let mallory_key = app
        .client
        .post(app.url("/api/v1/keys"))
        .bearer_auth(&mallory.access)
        .json(&json!({ "name": "mallory's" }))
        .json_ok()
        .await;
    app.client
        .post(app.url("/api/v1/brands"))
        .bearer_auth(&mallory.access)
        .json(&json!({ "name": "Mallory's brand" }))
        .json_ok()
        .await;

    Fixture {
        alice,
        vic,
        mallory,
        workspace_a,
        brand,
        source,
        job,
        conversation: turn["conversation_id"].as_i64().unwrap(),
        message: turn["message_id"].as_i64().unwrap(),
        ticket: turn["ticket_id"].as_i64().unwrap(),
        invitation: pending["invitation"]["id"].as_i64().unwrap(),
        invitation_token: pending["token"].as_str().unwrap().to_owned(),
        key_a: key["key"]["id"].as_i64().unwrap(),
        webhook: webhook["webhook"]["id"].as_i64().unwrap(),
        experiment: experiment["id"].as_i64().unwrap(),
        generation: generation.id.0,
        variant: generation.variants[0].id.0,
        example: example["id"].as_i64().unwrap(),
        batch: batch.id,
        narrow_key: narrow["secret"].as_str().unwrap().to_owned(),
        mallory_key: mallory_key["secret"].as_str().unwrap().to_owned(),
        counter: Default::default(),
    }
}

#[tokio::test]
async fn the_walk_covers_every_operation_of_the_document() {
    let app = spawn_app().await;
    let document = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .json_ok()
        .await;
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if !PUBLIC.contains(&path.as_str()) {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let walked: BTreeSet<(String, String)> = WALK
        .iter()
        .map(|case| (case.method.to_owned(), case.path.to_owned()))
        .collect();
    assert_eq!(walked.len(), WALK.len(), "a case is listed twice");
    assert_eq!(
        walked, documented,
        "every authenticated operation needs a case in WALK (tests/api/tenancy.rs)"
    );
}

#[tokio::test]
async fn no_caller_outside_a_workspace_reaches_its_data() {
    // Every caller comes from 127.0.0.1: the walk's hundreds of calls are not abuse.
    let app = spawn_app_with(
        |settings| {
            settings.server.per_ip_burst = 100_000;
            settings.server.per_ip_per_minute = 100_000;
        },
        ExtraRoutes::new(),
    )
    .await;
    let fixture = fixture(&app).await;
    let document = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .json_ok()
        .await;

    for case in WALK {
        let what = format!("{} {}", case.method, case.path);
        let scope = scope_of(&document, case);
        // The completions endpoint and batches name A's brand in their body, not the path.
        let names_a_thing = case.path.contains('{')
            || case.path == "/v1/chat/completions"
            || case.path == "/api/v1/studio/batch";
        let signed_in_only = scope.is_none();

        for who in [Who::Nobody, Who::Forged] {
            let (status, body) = call(&app, &fixture, case, who).await;
            assert_eq!(status, 401, "{what} as {who:?}: {body}");
        }

        // Mallory, in her own workspace, signed in and with her key.
        for who in [Who::MalloryInB, Who::MalloryKey] {
            let (status, body) = call(&app, &fixture, case, who).await;
            assert!(!body.contains(CANARY), "{what} as {who:?} leaked A: {body}");
            let key_refused = who == Who::MalloryKey
                && (signed_in_only || scope.is_some_and(|s| !s.key_may_hold()));
            // (A's invitation names another email, so accepting it is refused too.)
            let expected: &[u16] = if key_refused || case.path == "/api/v1/invitations/accept" {
                &[403]
            } else if names_a_thing {
                &[404]
            } else {
                &[200, 201, 202, 204]
            };
            assert!(
                expected.contains(&status),
                "{what} as {who:?}: {status} {body}"
            );
        }

        // Mallory asking to act in A is not a member there.
        if !signed_in_only {
            let (status, body) = call(&app, &fixture, case, Who::MalloryAskingForA).await;
            assert_eq!(status, 403, "{what}: {body}");
            assert!(!body.contains(CANARY), "{what}: {body}");
        }

        // Vic, a viewer in A: refused exactly when a viewer may not.
        if let Some(scope) = scope {
            let (status, body) = call(&app, &fixture, case, Who::VicInA).await;
            if Role::Viewer.allows(scope) {
                assert!(
                    ![401, 403, 404].contains(&status) && status < 500,
                    "{what} as a viewer: {status} {body}"
                );
            } else {
                assert_eq!(status, 403, "{what} as a viewer: {body}");
            }
        }

        // A's key that holds only `search`.
        if let Some(scope) = scope {
            let (status, body) = call(&app, &fixture, case, Who::NarrowKeyOfA).await;
            if scope == Scope::Search {
                assert_eq!(status, 200, "{what} with a search key: {body}");
            } else {
                assert_eq!(status, 403, "{what} with a search key: {body}");
            }
        }
    }

    // Nothing of A changed: its brand, source, members, key and invitation are all there.
    let as_alice = |path: String| {
        app.client
            .get(app.url(&path))
            .bearer_auth(&fixture.alice.access)
    };
    let brand = as_alice(format!("/api/v1/brands/{}", fixture.brand))
        .json_ok()
        .await;
    assert!(brand["name"].as_str().unwrap().contains(CANARY));
    let sources = as_alice(format!("/api/v1/brands/{}/sources", fixture.brand))
        .json_ok()
        .await;
    assert_eq!(sources["sources"][0]["id"], fixture.source);
    let members = as_alice("/api/v1/members".into()).json_ok().await;
    let roles: Vec<&str> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "viewer", "editor"]);
    let keys = as_alice("/api/v1/keys".into()).json_ok().await;
    assert!(
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["revoked_at_ms"].is_null()),
        "{keys}"
    );
    let invitations = as_alice("/api/v1/invitations".into()).json_ok().await;
    assert_eq!(invitations["invitations"][0]["id"], fixture.invitation);
    let webhooks = as_alice("/api/v1/webhooks".into()).json_ok().await;
    assert_eq!(webhooks["webhooks"][0]["id"], fixture.webhook);
    let experiment = as_alice(format!(
        "/api/v1/brands/{}/experiments/{}",
        fixture.brand, fixture.experiment
    ))
    .json_ok()
    .await;
    assert_eq!(experiment["experiment"]["status"], "running");
    assert_eq!(experiment["experiment"]["arms"][0]["impressions"], 0);
    let rules = as_alice(format!("/api/v1/brands/{}/studio/rules", fixture.brand))
        .json_ok()
        .await;
    assert_eq!(rules["banned_words"], json!([CANARY]));
    let variant = as_alice(format!(
        "/api/v1/brands/{}/studio/variants/{}",
        fixture.brand, fixture.variant
    ))
    .json_ok()
    .await;
    assert_eq!(variant["version"], 1, "{variant}");
    let example = as_alice(format!(
        "/api/v1/brands/{}/studio/examples/{}",
        fixture.brand, fixture.example
    ))
    .json_ok()
    .await;
    assert_eq!(
        (&example["title"], &example["channel"]),
        (&json!(CANARY), &json!("linkedin_post"))
    );
    let voice = as_alice(format!("/api/v1/brands/{}/studio/voice", fixture.brand))
        .json_ok()
        .await;
    assert_eq!(voice["profile"]["tone"], json!([CANARY]), "{voice}");
    assert_eq!(variant["variant"]["review_state"], "draft");
    assert_eq!(variant["feedback"], json!([]));
    assert_eq!(variant["history"], json!([]));
}
