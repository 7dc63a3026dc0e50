//! The website widget in a real browser: headless Chromium, driven over WebDriver by
//! chromedriver (Debian's packages, installed by `scripts/setup-system.sh`), opens a shop's
//! page served from a second local origin that embeds the widget with one script tag. On an
//! allowed origin the widget opens from the keyboard, streams a cited answer and closes with
//! Escape, giving focus back; on an origin the brand does not list it adds nothing.
//!
//! Without chromedriver the test says so and passes, unless `BRANDPILOT_REQUIRE_BROWSER` is
//! set, as the test command sets it: there, a missing browser is a failure.

use crate::assistant::brand_with_material;
use crate::helpers::*;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A chromedriver process and one Chromium session, ended on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    async fn start() -> Option<Browser> {
        let driver_path = std::env::var("BRANDPILOT_CHROMEDRIVER")
            .unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium =
            std::env::var("BRANDPILOT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        if !std::path::Path::new(&driver_path).exists() {
            assert!(
                std::env::var_os("BRANDPILOT_REQUIRE_BROWSER").is_none(),
                "no chromedriver at {driver_path}: run scripts/setup-system.sh"
            );
            eprintln!(
                "skipped: no chromedriver at {driver_path} (scripts/setup-system.sh installs it)"
            );
            return None;
        }
        let port = free_port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(response) = client.get(format!("{base}/status")).send().await
                && response.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let created: Value = client
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        Some(Browser {
            driver,
            base,
            session,
            client,
            _profile: profile,
        })
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.client.request(method.clone(), url);
        if method != reqwest::Method::GET {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(
            answer["value"]["error"].is_null(),
            "WebDriver {path}: {answer}"
        );
        answer["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    /// Runs `script` in the page (its `return` is the answer).
    async fn run(&self, script: &str) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// Waits until `script` returns something truthy (at most 15 s); that value.
    async fn wait_for(&self, script: &str, what: &str) -> Value {
        for _ in 0..150 {
            let value = self.run(script).await;
            if !(value.is_null() || value == json!(false) || value == json!("")) {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// The WebDriver element id of `selector` inside the widget's shadow root.
    async fn widget_element(&self, selector: &str) -> String {
        let host = self
            .command(
                reqwest::Method::POST,
                "/element",
                json!({ "using": "css selector", "value": "#brandpilot-widget" }),
            )
            .await;
        let host = element_id(&host);
        let shadow = self
            .command(
                reqwest::Method::GET,
                &format!("/element/{host}/shadow"),
                json!({}),
            )
            .await;
        let shadow = shadow["shadow-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap()
            .to_owned();
        let element = self
            .command(
                reqwest::Method::POST,
                &format!("/shadow/{shadow}/element"),
                json!({ "using": "css selector", "value": selector }),
            )
            .await;
        element_id(&element)
    }

    async fn click(&self, element: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            json!({}),
        )
        .await;
    }

    async fn type_into(&self, element: &str, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    async fn end(&self) {
        let _ = self
            .client
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

fn element_id(value: &Value) -> String {
    value["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .unwrap_or_else(|| panic!("not an element: {value}"))
        .to_owned()
}

/// A shop's page, on its own origin, that embeds the widget.
async fn shop_page(api: &str, key: &str) -> String {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop</title></head>\
         <body><h1>Our shop</h1><p>Courses on pricing.</p>\
         <script src=\"{api}/widget.js\" data-brandpilot-key=\"{key}\" async></script></body></html>"
    );
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, router).await });
    origin
}

/// The widget's shadow root, in page scripts.
const ROOT: &str = "document.querySelector('#brandpilot-widget').shadowRoot";

#[tokio::test]
async fn the_widget_answers_on_an_allowed_origin_and_stays_away_from_others() {
    let app = spawn_app().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let brand = brand_with_material(&app).await;
    // The widget's key first, then the two shops: one allowed, one not.
    let configured = app
        .client
        .put(app.url(&format!("/api/v1/brands/{brand}/widget")))
        .bearer_auth(&app.key)
        .json(&json!({ "allowed_origins": [], "theme": { "title": "Acme help" } }))
        .json_ok()
        .await;
    let key = configured["public_key"].as_str().unwrap().to_owned();
    let allowed = shop_page(&app.address, &key).await;
    let elsewhere = shop_page(&app.address, &key).await;
    app.client
        .put(app.url(&format!("/api/v1/brands/{brand}/widget")))
        .bearer_auth(&app.key)
        .json(&json!({ "allowed_origins": [allowed], "theme": { "title": "Acme help" } }))
        .json_ok()
        .await;

    browser.open(&format!("{allowed}/")).await;
    browser
        .wait_for(
            "return document.querySelector('#brandpilot-widget[data-ready]') !== null",
            "the widget on the allowed page",
        )
        .await;
    let launcher = browser.widget_element("#bp-launcher").await;
    assert_eq!(
        browser
            .run(&format!(
                "return {ROOT}.querySelector('#bp-launcher').getAttribute('aria-expanded')"
            ))
            .await,
        "false"
    );
    browser.click(&launcher).await;
    let state = browser
        .run(&format!(
            "const r = {ROOT}; return [r.querySelector('#bp-launcher').getAttribute('aria-expanded'), \
             r.querySelector('#bp-panel').hidden, r.activeElement && r.activeElement.id, \
             r.querySelector('#bp-title').textContent, r.querySelector('#bp-log').getAttribute('role')]"
        ))
        .await;
    assert_eq!(
        state,
        json!(["true", false, "bp-input", "Acme help", "log"])
    );

    // Typed and sent with Enter, as a keyboard user would.
    let input = browser.widget_element("#bp-input").await;
    browser
        .type_into(
            &input,
            "How many days do I have to ask for a refund?\u{E007}",
        )
        .await;
    let answer = browser
        .wait_for(
            &format!(
                "const done = {ROOT}.querySelector('.bp-assistant[data-done]'); \
                 return done && [done.querySelector('.bp-text').textContent, \
                 Array.from(done.querySelectorAll('.bp-citations li')).map(li => li.textContent)]"
            ),
            "the streamed answer",
        )
        .await;
    let text = answer[0].as_str().unwrap();
    assert!(text.contains("30 days"), "{answer}");
    assert!(
        text.contains("[1]"),
        "the answer carries its markers: {answer}"
    );
    let citations = answer[1].as_array().unwrap();
    assert!(
        citations
            .iter()
            .any(|c| c.as_str().unwrap().contains("Refund policy")),
        "{answer}"
    );
    // To look at it: BRANDPILOT_WIDGET_SCREENSHOT=/tmp/widget.png.
    if let Some(path) = std::env::var_os("BRANDPILOT_WIDGET_SCREENSHOT") {
        use base64::Engine;
        let png = browser
            .command(reqwest::Method::GET, "/screenshot", json!({}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }
    // The conversation is stored as this visitor's, and the team can read it.
    let stored = browser
        .run(&format!(
            "return JSON.parse(localStorage.getItem('brandpilot:{key}'))"
        ))
        .await;
    let conversation = stored["conversation_id"]
        .as_i64()
        .expect("a conversation id");
    let read = app
        .get(&format!(
            "/api/v1/brands/{brand}/conversations/{conversation}"
        ))
        .json_ok()
        .await;
    assert!(
        read["conversation"]["end_user"]
            .as_str()
            .unwrap()
            .starts_with("visitor:"),
        "{read}"
    );

    // Escape closes the panel and gives focus back to the launcher.
    browser.type_into(&input, "\u{E00C}").await;
    let state = browser
        .run(&format!(
            "const r = {ROOT}; return [r.querySelector('#bp-panel').hidden, r.activeElement && r.activeElement.id]"
        ))
        .await;
    assert_eq!(state, json!([true, "bp-launcher"]));

    // On an origin the brand does not list, the script loads and adds nothing.
    browser.open(&format!("{elsewhere}/")).await;
    browser
        .wait_for(
            "return window.__brandpilotWidgetLoaded === true",
            "the script on the other page",
        )
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let present = browser
        .run("return document.querySelector('#brandpilot-widget') !== null")
        .await;
    assert_eq!(
        present,
        json!(false),
        "the widget must not load on {elsewhere}"
    );
    browser.end().await;
}
