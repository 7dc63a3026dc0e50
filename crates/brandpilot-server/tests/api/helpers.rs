//! `spawn_app()`: a server on a random loopback port over a fresh data directory, with a
//! key holding every scope, and typed helpers for the calls tests make.

use brandpilot_app::settings::EmbedderKind;
use brandpilot_app::{Brandpilot, Quiet, Scope, Settings};
use brandpilot_core::WorkspaceId;
use brandpilot_extract::PdfRunner;
use brandpilot_server::{ExtraRoutes, ServerState, build_router, serve};
use brandpilot_store::Brand;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// A key of `workspace` holding every scope.
    pub key: String,
    pub workspace: WorkspaceId,
    pub app: Arc<Brandpilot>,
    shutdown: Option<oneshot::Sender<()>>,
    pub server: Option<JoinHandle<std::io::Result<()>>>,
    _runner: brandpilot_jobs::Runner,
    _dir: tempfile::TempDir,
    /// The store's database: SQLite in the data directory, or a PostgreSQL schema when
    /// `BRANDPILOT_TEST_STORE=postgres` (the test command runs this suite on both).
    _database: Option<brandpilot_testkit::TestDatabase>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, ExtraRoutes::new()).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings), extra: ExtraRoutes) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings {
        data_dir: dir.path().join("data"),
        models_dir: dir.path().join("no-models"),
        ..Settings::default()
    };
    settings.embedder.kind = EmbedderKind::Hashing;
    let database = if brandpilot_testkit::on_postgres() {
        let database = brandpilot_testkit::TestDatabase::postgres().await;
        settings.store.url = Some(database.url().to_owned());
        Some(database)
    } else {
        None
    };
    // The cheapest argon2id cost: tests sign in often, and the cost is not what they test.
    settings.auth.password_memory_kib = 64;
    settings.auth.password_iterations = 1;
    configure(&mut settings);
    let app = Arc::new(
        Brandpilot::open(settings, PdfRunner::InProcess)
            .await
            .unwrap(),
    );
    let workspace = app.workspace;
    let key = app
        .admin()
        .create_api_key(
            workspace,
            "test key",
            &Scope::for_keys(),
            &brandpilot_app::Actor::Cli,
            &Default::default(),
        )
        .await
        .unwrap()
        .secret;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let jobs = brandpilot_app::uploads::AppJobs::new(app.clone());
    let llm = jobs.llm.clone();
    let runner = brandpilot_jobs::Runner::start(
        app.store.clone(),
        Arc::new(jobs),
        brandpilot_jobs::RunnerConfig {
            poll: std::time::Duration::from_millis(50),
            base_backoff: std::time::Duration::from_millis(200),
            ..brandpilot_jobs::RunnerConfig::default()
        },
    );
    let state = ServerState::new(app.clone())
        .await
        .unwrap()
        .with_llm(llm)
        .with_jobs(runner.waker());
    let stopping = state.stopping.clone();
    let router = build_router(state, extra);
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, async move {
        let _ = stopped.await;
        stopping.cancel();
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        key,
        workspace,
        app,
        shutdown: Some(shutdown),
        server: Some(server),
        _runner: runner,
        _dir: dir,
        _database: database,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.key)
    }

    pub fn post(&self, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url(path))
            .bearer_auth(&self.key)
            .json(body)
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.delete(self.url(path)).bearer_auth(&self.key)
    }

    /// A key of this app's workspace with exactly these scopes.
    pub async fn key_with(&self, scopes: &[Scope]) -> String {
        self.app
            .admin()
            .create_api_key(
                self.workspace,
                "narrow key",
                scopes,
                &brandpilot_app::Actor::Cli,
                &Default::default(),
            )
            .await
            .unwrap()
            .secret
    }

    /// A second workspace with its own all-scope key.
    pub async fn other_workspace(&self, name: &str) -> (WorkspaceId, String) {
        let workspace = self.app.admin().workspace_named(name).await.unwrap();
        let key = self
            .app
            .admin()
            .create_api_key(
                workspace,
                "other key",
                &Scope::for_keys(),
                &brandpilot_app::Actor::Cli,
                &Default::default(),
            )
            .await
            .unwrap()
            .secret;
        (workspace, key)
    }

    /// Creates a brand over HTTP and returns its id.
    pub async fn create_brand(&self, name: &str) -> i64 {
        let response = self
            .post("/api/v1/brands", &serde_json::json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Ingests files (name, content) into a brand through the app, as the command line
    /// does (the API's upload comes with the job queue).
    pub async fn ingest(
        &self,
        workspace: WorkspaceId,
        brand_id: i64,
        files: &[(&str, &str)],
    ) -> Brand {
        let brand = self
            .app
            .brand_by_id(workspace, brandpilot_core::BrandId(brand_id))
            .await
            .unwrap();
        let folder = self._dir.path().join(format!("files/{brand_id}"));
        let mut paths = Vec::new();
        for (name, text) in files {
            let path = folder.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
        let report = self
            .app
            .ingest_paths(&brand, &paths, &[], &Quiet)
            .await
            .unwrap();
        assert!(report.failed.is_empty(), "{report:?}");
        brand
    }

    /// Starts a graceful shutdown without waiting for it.
    pub fn shut_down_signal(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl TestApp {
    /// Polls a job until it has an outcome (at most 30 s) and returns it.
    pub async fn finished_job(&self, id: i64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let job = self.get(&format!("/api/v1/jobs/{id}")).json_ok().await;
            if !["queued", "running"].contains(&job["status"].as_str().unwrap()) {
                return job;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "job {id} never finished: {job}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// Sends a request that must succeed and returns its JSON body.
pub trait JsonOk {
    async fn json_ok(self) -> Value;
}

impl JsonOk for reqwest::RequestBuilder {
    async fn json_ok(self) -> Value {
        let response = self.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

/// Asserts an error response: status, code, and a request id matching the header.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "error bodies are JSON"
    );
    let header_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["request_id"], header_id.as_str());
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    body
}

/// A signed-in person: their tokens as `/auth/signup` or `/auth/login` gave them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub access: String,
    pub refresh: String,
}

impl Person {
    fn from_session(body: &Value) -> Self {
        Person {
            id: body["user"]["id"].as_i64().unwrap(),
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }
}

impl TestApp {
    /// Signs up `email` with a fixed password; panics unless the server answers 201.
    pub async fn sign_up(&self, email: &str) -> Person {
        let response = self
            .client
            .post(self.url("/api/v1/auth/signup"))
            .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        Person::from_session(&response.json().await.unwrap())
    }

    /// Signs in `email` with `password`; the response as it came.
    pub async fn log_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn log_in_ok(&self, email: &str) -> Person {
        let response = self.log_in(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        Person::from_session(&response.json().await.unwrap())
    }
}

/// The password [`TestApp::sign_up`] uses.
pub const PASSWORD: &str = "correct horse battery";
