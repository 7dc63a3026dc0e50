//! Rate limits over HTTP: the request after the burst is 429 with `Retry-After` and the
//! `RateLimit-*` headers; keys and addresses have their own buckets; probes are exempt.

use crate::helpers::{JsonOk, assert_error, spawn_app_with};
use brandpilot_app::Scope;
use brandpilot_server::ExtraRoutes;

#[tokio::test]
async fn a_key_over_its_burst_is_429_with_retry_after_and_another_key_is_not() {
    let app = spawn_app_with(
        |s| {
            s.server.per_key_per_minute = 60;
            s.server.per_key_burst = 3;
            s.server.per_ip_per_minute = 0;
        },
        ExtraRoutes::new(),
    )
    .await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = app.get("/api/v1/brands").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        remaining.push(
            response.headers()["ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let limited = app.get("/api/v1/brands").send().await.unwrap();
    assert_eq!(limited.headers()["retry-after"], "1");
    assert_eq!(limited.headers()["ratelimit-remaining"], "0");
    assert_error(limited, 429, "rate_limited").await;

    let other = app.key_with(&[Scope::BrandsRead]).await;
    let response = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "another key has its own bucket");
    for _ in 0..10 {
        let probe = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(probe.status(), 200, "health probes are never limited");
    }
}

#[tokio::test]
async fn one_address_is_limited_whatever_keys_it_rotates_through() {
    let app = spawn_app_with(
        |s| {
            s.server.per_ip_per_minute = 60;
            s.server.per_ip_burst = 2;
        },
        ExtraRoutes::new(),
    )
    .await;
    for attempt in 0..2 {
        let response = app
            .client
            .get(app.url("/api/v1/brands"))
            .bearer_auth(format!("bpk_guess{attempt}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
    let response = app.get("/api/v1/brands").send().await.unwrap();
    assert_error(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket() {
    let app = spawn_app_with(
        |s| {
            s.server.per_ip_per_minute = 60;
            s.server.per_ip_burst = 1;
            s.server.trusted_proxies = vec!["127.0.0.1".into()];
        },
        ExtraRoutes::new(),
    )
    .await;
    let from = |client: &'static str| {
        app.get("/api/v1/brands")
            .header("x-forwarded-for", client)
            .send()
    };
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 200);
    assert_eq!(from("203.0.113.2").await.unwrap().status(), 200);
    assert_eq!(from("203.0.113.1").await.unwrap().status(), 429);
}

#[tokio::test]
async fn a_person_has_one_bucket_across_sessions_and_sign_in_is_limited_per_address() {
    let app = spawn_app_with(
        |s| {
            s.server.per_key_per_minute = 60;
            s.server.per_key_burst = 3;
            s.server.per_ip_per_minute = 0;
            s.server.sign_in_per_minute = 60;
            s.server.sign_in_burst = 4;
        },
        ExtraRoutes::new(),
    )
    .await;
    let first = app.sign_up("ada@example.com").await;
    let second = app.log_in_ok("ada@example.com").await;
    assert_ne!(first.access, second.access);
    // Two sessions, one person: three requests in all, then 429 whichever token is used.
    for token in [&first.access, &second.access, &first.access] {
        let response = app
            .client
            .get(app.url("/api/v1/brands"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let limited = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(&second.access)
        .send()
        .await
        .unwrap();
    assert_error(limited, 429, "rate_limited").await;
    // Another person is not held back by Ada.
    let bob = app.sign_up("bob@example.com").await;
    let response = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(&bob.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Four sign-in requests went out from this address (two sign-ups, one log-in, and
    // here a guess); the next guess is refused before the password is checked.
    let guess = app.log_in("ada@example.com", "guess one").await;
    assert_eq!(guess.status(), 401);
    let refused = app.log_in("ada@example.com", "guess two").await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    // Everything else from the address goes on.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// A workspace put on a plan gets the plan's rate tier (learnt when its key first
/// authenticates) and its credits; the other workspaces keep the server's default plan.
#[tokio::test]
async fn a_workspace_on_a_small_plan_gets_its_rate_tier_and_others_keep_theirs() {
    let app = spawn_app_with(
        |s| {
            s.server.per_ip_per_minute = 0;
            s.server.per_key_per_minute = 6_000;
            s.server.per_key_burst = 100;
            s.billing.plans.insert(
                "hobby".into(),
                brandpilot_app::settings::PlanSettings {
                    monthly_credits: Some(40),
                    requests_per_minute: Some(60),
                    burst: Some(3),
                },
            );
        },
        ExtraRoutes::new(),
    )
    .await;
    let (small, small_key) = app.other_workspace("small").await;
    let cli = brandpilot_app::Actor::Cli;
    let origin = brandpilot_app::RequestOrigin::default();
    let unknown = app
        .app
        .assign_plan(small, Some("gold"), &cli, &origin)
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("no plan \"gold\""),
        "{unknown}"
    );
    app.app
        .assign_plan(small, Some("hobby"), &cli, &origin)
        .await
        .unwrap();

    let as_small = || {
        app.client
            .get(app.url("/api/v1/brands"))
            .bearer_auth(&small_key)
    };
    // The first request is limited by the default tier; authenticating it teaches the
    // limiter the workspace's.
    let first = as_small().send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["ratelimit-limit"], "100");
    let mut limited = None;
    for attempt in 2..=8 {
        let response = as_small().send().await.unwrap();
        if response.status() == 429 {
            limited = Some((attempt, response));
            break;
        }
        assert_eq!(
            response.headers()["ratelimit-limit"],
            "3",
            "attempt {attempt}"
        );
    }
    let (attempt, response) = limited.expect("the hobby tier never limited the key");
    assert!(attempt <= 5, "limited only at attempt {attempt}");
    assert_error(response, 429, "rate_limited").await;

    // The default workspace's key is on the default tier.
    for _ in 0..10 {
        let response = app.get("/api/v1/brands").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "100");
    }
    let credits = app.get("/api/v1/credits").json_ok().await;
    assert_eq!(credits["plan"], "unlimited");
    assert!(credits["limit"].is_null(), "{credits}");
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let small_credits: serde_json::Value = credits_with(&app, &small_key).await;
    assert_eq!(small_credits["plan"], "hobby");
    assert_eq!(small_credits["limit"], 40);

    // The change is in the workspace's audit trail.
    let trail = app
        .app
        .accounts()
        .audit_trail(small, None, 10)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|entry| entry.entry.action == "workspace.plan"
                && entry.entry.detail["plan"] == "hobby"),
        "{trail:?}"
    );
}

async fn credits_with(app: &crate::helpers::TestApp, key: &str) -> serde_json::Value {
    let response = app
        .client
        .get(app.url("/api/v1/credits"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}
