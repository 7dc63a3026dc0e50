use crate::helpers::{JsonOk, assert_error, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn a_brand_is_created_read_listed_and_deleted() {
    let app = spawn_app().await;
    let id = app.create_brand("  Acme Coffee ").await;
    let brand: Value = app.get(&format!("/api/v1/brands/{id}")).json_ok().await;
    assert_eq!(brand, json!({ "id": id, "name": "Acme Coffee" }));
    app.create_brand("Zest").await;
    let list: Value = app.get("/api/v1/brands").json_ok().await;
    let names: Vec<_> = list["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Acme Coffee", "Zest"]);

    let response = app
        .delete(&format!("/api/v1/brands/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .get(&format!("/api/v1/brands/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
    let response = app
        .delete(&format!("/api/v1/brands/{id}"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn brand_names_are_validated_and_unique() {
    let app = spawn_app().await;
    app.create_brand("Acme").await;
    let duplicate = app
        .post("/api/v1/brands", &json!({ "name": "Acme" }))
        .send()
        .await
        .unwrap();
    assert_error(duplicate, 409, "conflict").await;
    for name in ["", "   ", &"n".repeat(101), "tab\there"] {
        let response = app
            .post("/api/v1/brands", &json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_error(response, 400, "invalid_request").await;
    }
    let response = app.get("/api/v1/brands/not-a-number").send().await.unwrap();
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn deleting_a_brand_removes_its_passages_from_search() {
    let app = spawn_app().await;
    let keep = app.create_brand("Keep").await;
    let gone = app.create_brand("Gone").await;
    app.ingest(
        app.workspace,
        keep,
        &[("keep", "Espresso beans roasted on Mondays.")],
    )
    .await;
    app.ingest(
        app.workspace,
        gone,
        &[("gone", "Espresso machines serviced yearly.")],
    )
    .await;
    let response = app
        .delete(&format!("/api/v1/brands/{gone}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.app.index_sizes().unwrap().0,
        1,
        "the deleted brand's chunk left the index"
    );
    let body: Value = app
        .post(
            &format!("/api/v1/brands/{keep}/search"),
            &json!({ "query": "espresso" }),
        )
        .json_ok()
        .await;
    assert_eq!(body["passages"].as_array().unwrap().len(), 1);
}
