//! Shared workspaces over HTTP: invitations (good once, for their email), roles (a workspace
//! never loses its last owner), API keys made by people with at most their own permissions,
//! and new workspaces.

use crate::helpers::{JsonOk, Person, TestApp, assert_error, spawn_app};
use serde_json::{Value, json};

/// A request as `person`, acting in `workspace`.
fn acting(
    app: &TestApp,
    person: &Person,
    workspace: i64,
    method: reqwest::Method,
    path: &str,
) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .bearer_auth(&person.access)
        .header("X-Workspace-Id", workspace.to_string())
}

async fn own_workspace(app: &TestApp, person: &Person) -> i64 {
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&person.access)
        .json_ok()
        .await;
    me["workspaces"][0]["id"].as_i64().unwrap()
}

async fn invite(app: &TestApp, owner: &Person, workspace: i64, email: &str, role: &str) -> Value {
    let response = acting(
        app,
        owner,
        workspace,
        reqwest::Method::POST,
        "/api/v1/invitations",
    )
    .json(&json!({ "email": email, "role": role }))
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn accept(app: &TestApp, person: &Person, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/invitations/accept"))
        .bearer_auth(&person.access)
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_invited_person_joins_with_the_role_the_owner_chose() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    let home = own_workspace(&app, &ada).await;
    let invitation = invite(&app, &ada, home, "Bob@Example.com", "editor").await;
    let token = invitation["token"].as_str().unwrap();
    assert_eq!(invitation["invitation"]["email"], "bob@example.com");
    let pending = acting(
        &app,
        &ada,
        home,
        reqwest::Method::GET,
        "/api/v1/invitations",
    )
    .json_ok()
    .await;
    assert_eq!(pending["invitations"].as_array().unwrap().len(), 1);
    assert!(
        !pending.to_string().contains(token),
        "a listed invitation never shows its token"
    );

    // Someone else cannot use it; Bob can, once.
    let carol = app.sign_up("carol@example.com").await;
    assert_error(accept(&app, &carol, token).await, 403, "forbidden").await;
    let bob = app.sign_up("bob@example.com").await;
    let joined = accept(&app, &bob, token).await;
    assert_eq!(joined.status(), 200);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(joined["id"], home);
    assert_eq!(joined["role"], "editor");
    assert_error(accept(&app, &bob, token).await, 404, "not_found").await;
    assert_error(accept(&app, &bob, "bpi_nope").await, 404, "not_found").await;
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&bob.access)
        .json_ok()
        .await;
    let roles: Vec<(i64, &str)> = me["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_i64().unwrap(), w["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles.len(), 2);
    assert!(roles.contains(&(home, "editor")), "{roles:?}");

    // As an editor Bob writes, but manages no one.
    let created = acting(&app, &bob, home, reqwest::Method::POST, "/api/v1/brands")
        .json(&json!({ "name": "Bob's brand" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let members = acting(&app, &bob, home, reqwest::Method::GET, "/api/v1/members")
        .json_ok()
        .await;
    let listed: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [("ada@example.com", "owner"), ("bob@example.com", "editor")]
    );
    let refused = acting(
        &app,
        &bob,
        home,
        reqwest::Method::POST,
        "/api/v1/invitations",
    )
    .json(&json!({ "email": "eve@example.com", "role": "owner" }))
    .send()
    .await
    .unwrap();
    assert_error(refused, 403, "forbidden").await;

    // A revoked invitation cannot be used.
    let second = invite(&app, &ada, home, "carol@example.com", "viewer").await;
    let id = second["invitation"]["id"].as_i64().unwrap();
    let revoked = acting(
        &app,
        &ada,
        home,
        reqwest::Method::DELETE,
        &format!("/api/v1/invitations/{id}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_error(
        accept(&app, &carol, second["token"].as_str().unwrap()).await,
        404,
        "not_found",
    )
    .await;

    let trail = acting(&app, &ada, home, reqwest::Method::GET, "/api/v1/audit")
        .json_ok()
        .await;
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["invitation.create", "member.add", "invitation.revoke"] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn roles_change_but_a_workspace_keeps_an_owner() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    let home = own_workspace(&app, &ada).await;
    let bob = app.sign_up("bob@example.com").await;
    let token = invite(&app, &ada, home, "bob@example.com", "viewer").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    accept(&app, &bob, &token).await;
    let member = |id: i64| format!("/api/v1/members/{id}");

    // Ada cannot leave her workspace ownerless, by demotion or removal.
    let demote = acting(&app, &ada, home, reqwest::Method::PATCH, &member(ada.id))
        .json(&json!({ "role": "editor" }))
        .send()
        .await
        .unwrap();
    assert_error(demote, 409, "conflict").await;
    let leave = acting(&app, &ada, home, reqwest::Method::DELETE, &member(ada.id))
        .send()
        .await
        .unwrap();
    assert_error(leave, 409, "conflict").await;
    let bad_role = acting(&app, &ada, home, reqwest::Method::PATCH, &member(bob.id))
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_role.status(), 400);

    // Bob becomes owner; then Ada may step down, and Bob may remove her.
    for (id, role) in [(bob.id, "owner"), (ada.id, "viewer")] {
        let response = acting(&app, &ada, home, reqwest::Method::PATCH, &member(id))
            .json(&json!({ "role": role }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{id} → {role}");
    }
    // Ada is a viewer now: the same token no longer manages members.
    let refused = acting(&app, &ada, home, reqwest::Method::DELETE, &member(bob.id))
        .send()
        .await
        .unwrap();
    assert_error(refused, 403, "forbidden").await;
    let removed = acting(&app, &bob, home, reqwest::Method::DELETE, &member(ada.id))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    let gone = acting(&app, &ada, home, reqwest::Method::GET, "/api/v1/brands")
        .send()
        .await
        .unwrap();
    assert_error(gone, 403, "forbidden").await;
    let again = acting(&app, &bob, home, reqwest::Method::DELETE, &member(ada.id))
        .send()
        .await
        .unwrap();
    assert_error(again, 404, "not_found").await;
}

#[tokio::test]
async fn people_make_keys_with_at_most_their_own_permissions() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    let home = own_workspace(&app, &ada).await;
    let bob = app.sign_up("bob@example.com").await;
    let token = invite(&app, &ada, home, "bob@example.com", "editor").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    accept(&app, &bob, &token).await;

    // An editor's key by default: everything an editor may give a key, never more.
    let created = acting(&app, &bob, home, reqwest::Method::POST, "/api/v1/keys")
        .json(&json!({ "name": "bob's default" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let scopes: Vec<&str> = created["key"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(scopes.contains(&"brands:write"), "{scopes:?}");
    assert!(!scopes.contains(&"audit:read"), "{scopes:?}");
    // Scopes Bob does not hold are 403; one he holds but no key may is 400.
    for (scope, status, code) in [
        ("audit:read", 403, "forbidden"),
        ("members:manage", 403, "forbidden"),
        ("keys:manage", 400, "invalid_request"),
    ] {
        let refused = acting(&app, &bob, home, reqwest::Method::POST, "/api/v1/keys")
            .json(&json!({ "name": "too much", "scopes": [scope] }))
            .send()
            .await
            .unwrap();
        assert_error(refused, status, code).await;
    }
    // The owner holds audit:read, but still cannot give a key people-only scopes.
    let owner_key = acting(&app, &ada, home, reqwest::Method::POST, "/api/v1/keys")
        .json(&json!({ "name": "no", "scopes": ["keys:manage"] }))
        .send()
        .await
        .unwrap();
    assert_error(owner_key, 400, "invalid_request").await;

    // A narrow key does what it says and nothing else, in Ada's workspace.
    let narrow = acting(&app, &bob, home, reqwest::Method::POST, "/api/v1/keys")
        .json(&json!({ "name": "search only", "scopes": ["search", "brands:read"] }))
        .send()
        .await
        .unwrap();
    let narrow: Value = narrow.json().await.unwrap();
    let secret = narrow["secret"].as_str().unwrap();
    let brands = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_eq!(brands.status(), 200);
    let keys_with_key = app
        .client
        .get(app.url("/api/v1/keys"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_error(keys_with_key, 403, "forbidden").await;

    let listed = acting(&app, &ada, home, reqwest::Method::GET, "/api/v1/keys")
        .json_ok()
        .await;
    assert_eq!(listed["keys"].as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(secret),
        "a listed key never shows its secret"
    );
    let id = narrow["key"]["id"].as_i64().unwrap();
    let revoked = acting(
        &app,
        &ada,
        home,
        reqwest::Method::DELETE,
        &format!("/api/v1/keys/{id}"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(revoked.status(), 204);
    let after = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap();
    assert_error(after, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_person_makes_a_workspace_and_acts_in_it() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    let created = app
        .client
        .post(app.url("/api/v1/workspaces"))
        .bearer_auth(&ada.access)
        .json(&json!({ "name": "Agency" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["role"], "owner");
    let id = created["id"].as_i64().unwrap();
    let brand = acting(&app, &ada, id, reqwest::Method::POST, "/api/v1/brands")
        .json(&json!({ "name": "Client A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(brand.status(), 201);
    let own = app
        .client
        .get(app.url("/api/v1/brands"))
        .bearer_auth(&ada.access)
        .json_ok()
        .await;
    assert!(
        own["brands"].as_array().unwrap().is_empty(),
        "without the header Ada acts in her first workspace: {own}"
    );

    let duplicate = app
        .client
        .post(app.url("/api/v1/workspaces"))
        .bearer_auth(&ada.access)
        .json(&json!({ "name": "Agency" }))
        .send()
        .await
        .unwrap();
    assert_error(duplicate, 409, "conflict").await;
    let with_key = app
        .post("/api/v1/workspaces", &json!({ "name": "Keyed" }))
        .send()
        .await
        .unwrap();
    assert_error(with_key, 403, "forbidden").await;
}
