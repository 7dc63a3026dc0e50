//! Search over HTTP: passages with citations from the caller's brand only, and sources
//! listed with their status and removed for good.

use crate::helpers::{JsonOk, assert_error, spawn_app};
use serde_json::{Value, json};

const REFUNDS: &str = "# Refunds\n\nOpened bags cannot be returned.\n\n## Damaged parcels\n\nDamaged parcels are refunded in full within fourteen days.";

#[tokio::test]
async fn search_returns_cited_passages_of_the_brand() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    let other = app.create_brand("Other").await;
    app.ingest(
        app.workspace,
        brand,
        &[
            ("refunds.md", REFUNDS),
            ("shipping.txt", "Orders before eleven ship the same day."),
        ],
    )
    .await;
    app.ingest(
        app.workspace,
        other,
        &[("other.txt", "Damaged parcels are the courier's problem.")],
    )
    .await;

    let response = app
        .post(
            &format!("/api/v1/brands/{brand}/search"),
            &json!({ "query": "damaged parcel refund", "k": 3 }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["semantic"], false, "the hashing embedder is lexical");
    let passages = body["passages"].as_array().unwrap();
    assert!(!passages.is_empty() && passages.len() <= 3);
    let top = &passages[0];
    assert!(
        top["text"].as_str().unwrap().contains("refunded in full"),
        "{top}"
    );
    assert!(
        top["source"]["origin"]
            .as_str()
            .unwrap()
            .ends_with("refunds.md"),
        "{top}"
    );
    assert_eq!(top["source"]["kind"], "markdown");
    assert!(
        top["citation"]
            .as_str()
            .unwrap()
            .contains("Damaged parcels"),
        "{top}"
    );
    assert_eq!(top["locator"]["heading_path"][1], "Damaged parcels");
    for passage in passages {
        let origin = passage["source"]["origin"].as_str().unwrap();
        assert!(
            !origin.ends_with("other.txt"),
            "another brand's passage leaked"
        );
    }
    let scores: Vec<f64> = passages
        .iter()
        .map(|p| p["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[tokio::test]
async fn search_input_is_validated() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    let path = format!("/api/v1/brands/{brand}/search");
    for body in [
        json!({ "query": "   " }),
        json!({ "query": "x", "k": 0 }),
        json!({ "query": "x", "k": 51 }),
        json!({ "query": "q".repeat(2001) }),
        json!({ "query": "x", "mode": "psychic" }),
        json!({ "query": "x", "tags": vec!["t"; 21] }),
        json!({ "k": 3 }),
    ] {
        let response = app.post(&path, &body).send().await.unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
    for mode in ["hybrid", "bm25", "vector"] {
        let response = app
            .post(&path, &json!({ "query": "anything", "mode": mode }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{mode}");
    }
}

#[tokio::test]
async fn sources_are_listed_with_status_and_removed_from_search() {
    let app = spawn_app().await;
    let brand = app.create_brand("Acme").await;
    app.ingest(
        app.workspace,
        brand,
        &[
            ("refunds.md", REFUNDS),
            ("shipping.txt", "Orders before eleven ship the same day."),
        ],
    )
    .await;
    let body: Value = app
        .get(&format!("/api/v1/brands/{brand}/sources"))
        .json_ok()
        .await;
    let sources = body["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    let refunds = sources
        .iter()
        .find(|s| s["origin"].as_str().unwrap().ends_with("refunds.md"))
        .unwrap();
    assert_eq!(refunds["status"], "ready");
    assert!(refunds["chunk_count"].as_u64().unwrap() >= 1);
    let id = refunds["id"].as_i64().unwrap();

    let response = app
        .delete(&format!("/api/v1/brands/{brand}/sources/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .delete(&format!("/api/v1/brands/{brand}/sources/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let body: Value = app
        .post(
            &format!("/api/v1/brands/{brand}/search"),
            &json!({ "query": "damaged parcel refund" }),
        )
        .json_ok()
        .await;
    for passage in body["passages"].as_array().unwrap() {
        assert_ne!(
            passage["source"]["id"], id,
            "a removed source is still found"
        );
    }
}
