//! Accounts over HTTP: sign up, log in, refresh (each refresh token good once; a replay ends
//! the session), log out, `/me`, roles acting in a workspace, refused tokens, and the audit
//! trail those actions leave.

use crate::helpers::{JsonOk, PASSWORD, Person, TestApp, assert_error, spawn_app, spawn_app_with};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use brandpilot_core::{UserId, WorkspaceId};
use brandpilot_server::ExtraRoutes;
use brandpilot_server::tokens::{AccessTokens, now_secs};
use serde_json::{Value, json};

fn as_person(app: &TestApp, person: &Person, path: &str) -> reqwest::RequestBuilder {
    app.client.get(app.url(path)).bearer_auth(&person.access)
}

fn refresh_request(app: &TestApp, token: &str) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    refresh_request(app, token).send().await.unwrap()
}

#[tokio::test]
async fn sign_up_then_me_names_the_person_and_their_own_workspace() {
    let app = spawn_app().await;
    let ada = app.sign_up("Ada@Example.com").await;
    let me = as_person(&app, &ada, "/api/v1/me").json_ok().await;
    assert_eq!(me["user"]["id"], ada.id);
    assert_eq!(
        me["user"]["email"], "ada@example.com",
        "emails are kept in lower case"
    );
    assert_eq!(me["user"]["display_name"], "ada");
    let workspaces = me["workspaces"].as_array().unwrap();
    assert_eq!(workspaces.len(), 1);
    assert_eq!(workspaces[0]["role"], "owner");
    assert_eq!(workspaces[0]["name"], "ada's workspace");
    assert_ne!(
        workspaces[0]["id"], app.workspace.0,
        "a new account gets a workspace of its own"
    );

    // Acting in it: the owner creates and lists brands with the access token.
    let created = app
        .client
        .post(app.url("/api/v1/brands"))
        .bearer_auth(&ada.access)
        .json(&json!({ "name": "Ada's brand" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let listed = as_person(&app, &ada, "/api/v1/brands").json_ok().await;
    assert_eq!(listed["brands"][0]["name"], "Ada's brand");
    // ...and none of it is visible with the key of the server's default workspace.
    let default_view = app.get("/api/v1/brands").json_ok().await;
    assert!(default_view["brands"].as_array().unwrap().is_empty());

    // One account per address, whatever its case.
    let again = app
        .client
        .post(app.url("/api/v1/auth/signup"))
        .json(&json!({ "email": " ADA@example.com", "password": "another password" }))
        .send()
        .await
        .unwrap();
    assert_error(again, 409, "conflict").await;
}

#[tokio::test]
async fn bad_sign_ups_are_400_and_closed_sign_up_is_403() {
    let app = spawn_app().await;
    for body in [
        json!({ "email": "not-an-email", "password": PASSWORD }),
        json!({ "email": "ada@example.com", "password": "short" }),
        json!({ "email": "ada@example.com", "password": "x".repeat(257) }),
        json!({ "email": "ada@example.com", "password": PASSWORD, "display_name": " " }),
        json!({ "email": "ada@example.com", "password": PASSWORD, "role": "owner" }),
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/signup"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
    }
    let closed = spawn_app_with(|s| s.auth.allow_signup = false, ExtraRoutes::new()).await;
    let response = closed
        .client
        .post(closed.url("/api/v1/auth/signup"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_error(response, 403, "forbidden").await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.sign_up("ada@example.com").await;
    let wrong = assert_error(
        app.log_in("ada@example.com", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_error(
        app.log_in("nobody@example.com", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"]);
    let malformed = assert_error(
        app.log_in("not an email", PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(malformed["error"]["message"], unknown["error"]["message"]);

    let ada = app.log_in_ok("ADA@example.com").await;
    as_person(&app, &ada, "/api/v1/me").json_ok().await;
}

#[tokio::test]
async fn refreshing_rotates_and_replaying_a_spent_token_ends_the_session() {
    let app = spawn_app().await;
    let first = app.sign_up("ada@example.com").await;
    let second = refresh_request(&app, &first.refresh).json_ok().await;
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    let second_access = second["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(second["token_type"], "Bearer");
    assert!(second["expires_in"].as_i64().unwrap() > 0);
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&second_access)
        .json_ok()
        .await;
    assert_eq!(me["user"]["id"], first.id);

    // The first token again: a copy is in someone else's hands. Both die.
    assert_error(refresh(&app, &first.refresh).await, 401, "session_ended").await;
    assert_error(refresh(&app, &second_refresh).await, 401, "session_ended").await;

    // Another sign-in is another session, untouched by that one.
    let other = app.log_in_ok("ada@example.com").await;
    refresh_request(&app, &other.refresh).json_ok().await;

    // Garbage and keys are not refresh tokens.
    for token in ["", "bpr_nope", "bpk_abc_def", &"x".repeat(500)] {
        assert_error(refresh(&app, token).await, 401, "session_ended").await;
    }
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    for _ in 0..2 {
        let response = app
            .client
            .post(app.url("/api/v1/auth/logout"))
            .json(&json!({ "refresh_token": ada.refresh }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "logging out twice is fine");
    }
    assert_error(refresh(&app, &ada.refresh).await, 401, "session_ended").await;
    let garbage = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .json(&json!({ "refresh_token": "x".repeat(65) }))
        .send()
        .await
        .unwrap();
    assert_error(garbage, 400, "invalid_request").await;
}

#[tokio::test]
async fn expired_forged_and_foreign_tokens_are_401_and_a_key_is_not_a_person() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    let secret = app.app.accounts().token_secret().await.unwrap();

    let expired = AccessTokens::new(&secret, 60).issue(UserId(ada.id), now_secs() - 3_600);
    let forged = AccessTokens::new(b"some other key, long enough to sign", 900)
        .issue(UserId(ada.id), now_secs());
    let claims = json!({
        "iss": "brandpilot", "aud": "brandpilot-api", "sub": ada.id.to_string(),
        "iat": now_secs(), "exp": now_secs() + 900,
    });
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // The real token with its claims swapped for another user's.
    let parts: Vec<&str> = ada.access.split('.').collect();
    let mut other_user = claims.clone();
    other_user["sub"] = json!("1");
    let swapped = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(other_user.to_string()),
        parts[2]
    );

    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "token_expired").await;
    for token in [&forged, &unsigned, &swapped, &"e30.e30.e30".to_owned()] {
        for path in ["/api/v1/me", "/api/v1/brands"] {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_error(response, 401, "unauthenticated").await;
        }
    }

    // `/me` describes a person; the server's API key is not one.
    assert_error(
        app.get("/api/v1/me").send().await.unwrap(),
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_member_acts_in_a_workspace_with_their_role_and_nowhere_else() {
    let app = spawn_app().await;
    let brand = app.create_brand("Shared").await;
    let vic = app.sign_up("vic@example.com").await;
    let store = &app.app.store;
    store
        .put_membership(app.workspace, UserId(vic.id), "viewer")
        .await
        .unwrap();
    let in_default = |request: reqwest::RequestBuilder| {
        request
            .bearer_auth(&vic.access)
            .header("X-Workspace-Id", app.workspace.0.to_string())
    };

    // A viewer reads and searches...
    let listed = in_default(app.client.get(app.url("/api/v1/brands")))
        .json_ok()
        .await;
    assert_eq!(listed["brands"][0]["id"], brand);
    let search = in_default(
        app.client
            .post(app.url(&format!("/api/v1/brands/{brand}/search"))),
    )
    .json(&json!({ "query": "anything" }))
    .send()
    .await
    .unwrap();
    assert_eq!(search.status(), 200);
    // ...but cannot write or read the audit trail.
    let create = in_default(app.client.post(app.url("/api/v1/brands")))
        .json(&json!({ "name": "Nope" }))
        .send()
        .await
        .unwrap();
    let body = assert_error(create, 403, "forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("viewer"),
        "{body}"
    );
    let delete = in_default(
        app.client
            .delete(app.url(&format!("/api/v1/brands/{brand}"))),
    )
    .send()
    .await
    .unwrap();
    assert_error(delete, 403, "forbidden").await;
    let audit = in_default(app.client.get(app.url("/api/v1/audit")))
        .send()
        .await
        .unwrap();
    assert_error(audit, 403, "forbidden").await;

    // Promoted to editor, the same token may write at once (roles are read per request).
    store
        .put_membership(app.workspace, UserId(vic.id), "editor")
        .await
        .unwrap();
    let create = in_default(app.client.post(app.url("/api/v1/brands")))
        .json(&json!({ "name": "Vic's" }))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 201);

    // A workspace Vic is not in, one that does not exist, and a malformed header.
    let (other, _) = app.other_workspace("elsewhere").await;
    for (header, status) in [
        (other.0.to_string(), 403),
        (WorkspaceId(987_654).0.to_string(), 403),
        ("one".to_owned(), 400),
    ] {
        let response = app
            .client
            .get(app.url("/api/v1/brands"))
            .bearer_auth(&vic.access)
            .header("X-Workspace-Id", &header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{header}");
    }
    // Without the header Vic acts in their own workspace, which has no brands.
    let own = as_person(&app, &vic, "/api/v1/brands").json_ok().await;
    assert!(own["brands"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_audit_trail_records_sign_ins_failures_reuse_and_deletions() {
    let app = spawn_app().await;
    let ada = app.sign_up("ada@example.com").await;
    app.log_in("ada@example.com", "wrong password").await;
    let again = app.log_in_ok("ada@example.com").await;
    let second = refresh_request(&app, &again.refresh).json_ok().await;
    assert!(second["refresh_token"].is_string());
    refresh(&app, &again.refresh).await; // a replay
    let brand: Value = app
        .client
        .post(app.url("/api/v1/brands"))
        .bearer_auth(&ada.access)
        .json(&json!({ "name": "Doomed" }))
        .json_ok()
        .await;
    let id = brand["id"].as_i64().unwrap();
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/brands/{id}")))
        .bearer_auth(&ada.access)
        .header("x-request-id", "delete-doomed")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    let trail = as_person(&app, &ada, "/api/v1/audit").json_ok().await;
    let entries = trail["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "brand.delete",
            "refresh_token_reuse",
            "login",
            "login_failed",
            "signup"
        ],
        "{trail}"
    );
    let deletion = &entries[0];
    assert_eq!(deletion["actor"], format!("user:{}", ada.id));
    assert_eq!(deletion["target"], format!("brand:{id}"));
    assert_eq!(deletion["detail"]["name"], "Doomed");
    assert_eq!(deletion["request_id"], "delete-doomed");
    assert_eq!(deletion["ip"], "127.0.0.1");
    let failure = &entries[3];
    assert_eq!(failure["actor"], "anonymous");
    assert!(
        !failure.to_string().contains("wrong password"),
        "a failed login never stores what was typed: {failure}"
    );

    // Paging: older than the newest entry.
    let newest = entries[0]["id"].as_i64().unwrap();
    let page = as_person(
        &app,
        &ada,
        &format!("/api/v1/audit?before={newest}&limit=2"),
    )
    .json_ok()
    .await;
    let page_actions: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(page_actions, ["refresh_token_reuse", "login"]);
    let bad = as_person(&app, &ada, "/api/v1/audit?limit=0")
        .send()
        .await
        .unwrap();
    assert_error(bad, 400, "invalid_request").await;

    // The default workspace's trail (seen with its key) has none of Ada's entries.
    let default_trail = app.get("/api/v1/audit").json_ok().await;
    assert!(
        !default_trail.to_string().contains("brand.delete"),
        "{default_trail}"
    );
}
