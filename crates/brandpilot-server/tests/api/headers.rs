//! Security headers on every response, HSTS only behind TLS, and CORS for configured
//! origins only.

use crate::helpers::{spawn_app, spawn_app_with};
use brandpilot_server::ExtraRoutes;

#[tokio::test]
async fn every_response_carries_the_security_headers_and_no_hsts_by_default() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/v1/brands", "/api/v1/nothing"] {
        let response = app.get(path).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
    }
    let behind_tls = spawn_app_with(
        |s| s.server.tls_terminated_upstream = true,
        ExtraRoutes::new(),
    )
    .await;
    let response = behind_tls.get("/healthz").send().await.unwrap();
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=")
    );
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let app = spawn_app_with(
        |s| s.server.cors_origins = vec!["https://shop.example".into()],
        ExtraRoutes::new(),
    )
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/brands"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://shop.example").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert!(
        !allowed
            .headers()
            .contains_key("access-control-allow-credentials")
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(methods.contains("POST"), "{methods}");

    let refused = preflight("https://evil.example").await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );

    let simple = app
        .get("/api/v1/brands")
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), 200);
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let exposed = simple.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("x-request-id"), "{exposed}");

    // Without configured origins nothing is allowed cross-origin.
    let closed = spawn_app().await;
    let response = closed
        .get("/api/v1/brands")
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
}
