//! Usage over HTTP: the workspace's LLM calls summed per day, model and brand, within a
//! period, never counting another workspace's calls.

use crate::helpers::{JsonOk, assert_error, spawn_app};
use brandpilot_core::{BrandId, WorkspaceId};
use brandpilot_store::{LlmCallOutcome, NewLlmCall};
use serde_json::Value;

const DAY: i64 = 86_400_000;
/// 2026-11-02T00:00:00Z.
const MONDAY: i64 = 1_793_577_600_000;

fn call(
    workspace: WorkspaceId,
    brand: Option<i64>,
    model: &str,
    at: i64,
    tokens: u32,
) -> NewLlmCall {
    NewLlmCall {
        workspace,
        brand: brand.map(BrandId),
        route: "answer".into(),
        provider: "local".into(),
        model: model.into(),
        prompt_tokens: tokens,
        completion_tokens: tokens / 10,
        tokens_estimated: false,
        cost_usd: Some(f64::from(tokens) / 1_000_000.0),
        latency_ms: 10,
        outcome: LlmCallOutcome::Success,
        fault: None,
        fallback_depth: 0,
        retries: 0,
        streamed: false,
        created_at_ms: at,
    }
}

/// A report row as (day, model, brand, calls, prompt tokens).
type Row<'a> = (Option<i64>, Option<&'a str>, Option<i64>, u64, u64);

fn rows(report: &Value) -> Vec<Row<'_>> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["day_ms"].as_i64(),
                row["model"].as_str(),
                row["brand_id"].as_i64(),
                row["calls"].as_u64().unwrap(),
                row["prompt_tokens"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn usage_sums_the_workspaces_calls_by_day_model_and_brand() {
    let app = spawn_app().await;
    let acme = app.create_brand("Acme").await;
    let zeta = app.create_brand("Zeta").await;
    let (other, _) = app.other_workspace("elsewhere").await;
    let ws = app.workspace;
    app.app
        .store
        .record_llm_calls(&[
            call(ws, Some(acme), "smollm2", MONDAY + 1_000, 100),
            call(ws, Some(acme), "smollm2", MONDAY + 2_000, 200),
            call(ws, Some(zeta), "gpt-4o-mini", MONDAY + 3_000, 50),
            call(ws, Some(acme), "smollm2", MONDAY + DAY + 5, 400),
            call(other, None, "smollm2", MONDAY + 10, 9_999),
        ])
        .await
        .unwrap();

    let total = app.get("/api/v1/usage").json_ok().await;
    assert_eq!(rows(&total), [(None, None, None, 4, 750)]);

    let by_day_and_model = app.get("/api/v1/usage?group_by=day,model").json_ok().await;
    let mut grouped = rows(&by_day_and_model);
    grouped.sort();
    assert_eq!(
        grouped,
        [
            (Some(MONDAY), Some("gpt-4o-mini"), None, 1, 50),
            (Some(MONDAY), Some("smollm2"), None, 2, 300),
            (Some(MONDAY + DAY), Some("smollm2"), None, 1, 400),
        ]
    );

    let tuesday_for_acme = app
        .get(&format!(
            "/api/v1/usage?group_by=brand&from={}&to={}&brand_id={acme}",
            MONDAY + DAY,
            MONDAY + 2 * DAY
        ))
        .json_ok()
        .await;
    assert_eq!(rows(&tuesday_for_acme), [(None, None, Some(acme), 1, 400)]);
    let cost = tuesday_for_acme["rows"][0]["cost_usd"].as_f64().unwrap();
    assert!((cost - 0.0004).abs() < 1e-12, "{cost}");

    for bad in ["group_by=week", "group_by=day,colour", "from=-5"] {
        let response = app
            .get(&format!("/api/v1/usage?{bad}"))
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
    // Another workspace's brand is not one of ours.
    let foreign = app
        .get("/api/v1/usage?brand_id=987654")
        .send()
        .await
        .unwrap();
    assert_error(foreign, 404, "not_found").await;
}

/// A workspace on a small plan: ingestion uses credits (its embeddings are counted); once
/// they are used up, more work is refused with 402 and `Retry-After` until the month turns,
/// while reading and searching go on.
#[tokio::test]
async fn work_beyond_the_months_credits_is_refused_with_402() {
    let app = crate::helpers::spawn_app_with(
        |s| {
            s.billing.plan = "starter".into();
            s.billing.tokens_per_credit = 10;
            s.billing.plans.insert(
                "starter".into(),
                brandpilot_app::settings::PlanSettings {
                    monthly_credits: Some(5),
                    ..Default::default()
                },
            );
        },
        brandpilot_server::ExtraRoutes::new(),
    )
    .await;
    let brand = app.create_brand("Acme").await;
    let fresh = app.get("/api/v1/credits").json_ok().await;
    assert_eq!(fresh["plan"], "starter");
    assert_eq!(
        (fresh["used"].as_u64(), fresh["limit"].as_u64()),
        (Some(0), Some(5))
    );

    let upload = |name: &'static str, text: String| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(text.into_bytes()).file_name(name),
        );
        app.client
            .post(app.url(&format!("/api/v1/brands/{brand}/uploads")))
            .bearer_auth(&app.key)
            .multipart(form)
    };
    // About 120 words: well over the 50 tokens the month allows, counted after the fact.
    let words: String = (0..120).map(|i| format!("word{i} ")).collect();
    let first = upload("policy.md", format!("# Policy\n\n{words}"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 202);
    let id = first.json::<Value>().await.unwrap()["job"]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(app.finished_job(id).await["status"], "succeeded");

    let spent = app.get("/api/v1/credits").json_ok().await;
    assert!(spent["used"].as_u64().unwrap() >= 5, "{spent}");
    let usage = app.get("/api/v1/usage?group_by=route").json_ok().await;
    assert!(
        usage["rows"][0]["prompt_tokens"].as_u64().unwrap() >= 50,
        "embeddings are counted: {usage}"
    );

    let refused = upload("more.md", "# More\n\nAnother page.".into())
        .send()
        .await
        .unwrap();
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let resets_in = (spent["resets_at_ms"].as_i64().unwrap()
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64)
        / 1000;
    assert!(
        retry_after > 0 && (retry_after as i64 - resets_in).abs() <= 5,
        "Retry-After {retry_after} s, month ends in {resets_in} s"
    );
    assert_error(refused, 402, "credits_exhausted").await;
    let by_url = app
        .post(
            &format!("/api/v1/brands/{brand}/sources/url"),
            &serde_json::json!({ "url": "https://example.com/" }),
        )
        .send()
        .await
        .unwrap();
    assert_error(by_url, 402, "credits_exhausted").await;
    // Reading and searching are not refused.
    let found = app
        .post(
            &format!("/api/v1/brands/{brand}/search"),
            &serde_json::json!({ "query": "word7" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
}

/// Searches that embed their query (vector, hybrid) count its tokens toward the brand's
/// usage, written as one `embed_query` record per brand when the tallies are flushed; a
/// BM25 search embeds nothing and counts nothing.
#[tokio::test]
async fn embedded_search_queries_are_counted_as_usage() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    app.ingest(
        app.workspace,
        brand,
        &[("refunds.md", "# Refunds\n\nDamaged parcels are refunded.")],
    )
    .await;
    let query = "are damaged parcels refunded";
    for mode in ["hybrid", "vector", "bm25"] {
        app.post(
            &format!("/api/v1/brands/{brand}/search"),
            &serde_json::json!({ "query": query, "mode": mode }),
        )
        .json_ok()
        .await;
    }
    app.app.flush_query_usage().await;

    let usage = app
        .get("/api/v1/usage?group_by=route,brand")
        .json_ok()
        .await;
    let query_rows: Vec<_> = usage["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["route"] == "embed_query")
        .collect();
    let tokens = app.app.token_counter().count(query) as u64;
    assert!(tokens >= 5, "{tokens}");
    assert_eq!(query_rows.len(), 1, "{usage}");
    assert_eq!(query_rows[0]["brand_id"], brand);
    assert_eq!(
        query_rows[0]["prompt_tokens"].as_u64(),
        Some(2 * tokens),
        "two searches embedded the query: {usage}"
    );
    // Nothing is left to write: a second flush adds no record.
    app.app.flush_query_usage().await;
    let again = app.get("/api/v1/usage?group_by=route").json_ok().await;
    let calls = again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["route"] == "embed_query")
        .and_then(|row| row["calls"].as_u64());
    assert_eq!(calls, Some(1), "{again}");
}
