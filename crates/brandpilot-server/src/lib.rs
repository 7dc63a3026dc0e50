//! Brandpilot's HTTP API: versioned JSON routes under `/api/v1` over the app's use cases,
//! for the widget, the UI and other people's code.
//!
//! This crate knows HTTP and nothing else: it authenticates the caller (API keys with
//! scopes, in [`auth`]), scopes every lookup to the caller's workspace, turns the app's
//! errors into one error body ([`error`]), tags each request with an id ([`middleware`]),
//! and documents itself in an OpenAPI 3.1 document generated from the handlers
//! ([`openapi`]). Use cases live in `brandpilot-app`; this crate must not grow any.

pub mod auth;
pub mod error;
mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
mod routes;
pub mod tokens;
pub mod visitors;

pub use error::{ApiError, ErrorResponse};
pub use routes::brands::{BrandList, BrandView};
pub use routes::health::{Health, Readiness};
pub use routes::search::{PassageView, SearchResponse};
pub use routes::sources::{SourceList, SourceView};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use brandpilot_app::{Accounts, Admin, AppError, Brandpilot};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Routes mounted beside the API with the same layers (tests mount probes here).
pub type ExtraRoutes = Router<ServerState>;

/// What every handler can reach.
#[derive(Clone)]
pub struct ServerState {
    pub app: Arc<Brandpilot>,
    pub admin: Admin,
    pub accounts: Accounts,
    /// Signs and checks access tokens.
    pub tokens: Arc<tokens::AccessTokens>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[IpAddr]>,
    pub http: Arc<metrics::HttpMetrics>,
    /// Wakes this process's job workers after a job is queued (none: another process
    /// runs them, and they find the job when they next look).
    pub jobs: Option<brandpilot_jobs::Waker>,
    /// Cancelled when the server starts shutting down: long-lived responses (event
    /// streams) end, so the graceful shutdown is not held open by them.
    pub stopping: tokio_util::sync::CancellationToken,
    /// The LLM layer, built when a turn first needs a model.
    pub llm: Arc<brandpilot_app::llm::LazyLlm>,
    /// Signs and checks the widget's anonymous visitor sessions.
    pub visitors: Arc<visitors::VisitorTokens>,
    /// Per-visitor message limits and per-address session starts of the widget.
    pub widget_limits: Arc<rate_limit::RateLimiter>,
    /// Each credential's rate tier (its workspace plan's), learnt as it authenticates.
    pub rate_tiers: Arc<rate_limit::RateTiers>,
}

impl ServerState {
    /// Everything the handlers need; reads (or makes) the access-token key.
    pub async fn new(app: Arc<Brandpilot>) -> Result<Self, AppError> {
        let admin = app.admin();
        let accounts = app.accounts();
        let tokens = tokens::AccessTokens::new(
            &accounts.token_secret().await?,
            accounts.settings().access_token_secs,
        );
        let trusted_proxies = app
            .settings
            .server
            .trusted_proxies
            .iter()
            .filter_map(|address| address.parse().ok())
            .collect();
        let visitors = visitors::VisitorTokens::new(&app.widget_session_secret().await?);
        Ok(Self {
            app,
            admin,
            accounts,
            tokens: Arc::new(tokens),
            trusted_proxies,
            http: Arc::new(metrics::HttpMetrics::default()),
            jobs: None,
            stopping: tokio_util::sync::CancellationToken::new(),
            llm: Arc::default(),
            visitors: Arc::new(visitors),
            widget_limits: Arc::default(),
            rate_tiers: Arc::default(),
        })
    }

    /// The same, calling language models through `llm` (the job runner's, so one model is
    /// loaded for both).
    pub fn with_llm(mut self, llm: Arc<brandpilot_app::llm::LazyLlm>) -> Self {
        self.llm = llm;
        self
    }

    /// The same, waking `jobs` whenever a request queues work.
    pub fn with_jobs(mut self, jobs: brandpilot_jobs::Waker) -> Self {
        self.jobs = Some(jobs);
        self
    }
}

/// The whole service: API routes, health probes, the OpenAPI document and its docs page,
/// wrapped in the request-context, body-limit and panic layers. `extra` routes (tests mount
/// probes here) get the same layers.
pub fn build_router(state: ServerState, extra: Router<ServerState>) -> Router {
    let settings = &state.app.settings.server;
    let context = middleware::ContextConfig {
        timeout: Duration::from_secs(settings.request_timeout_secs.max(1)),
        generation_timeout: Duration::from_secs(settings.generation_timeout_secs.max(1)),
        hsts: settings.tls_terminated_upstream,
        metrics: state.http.clone(),
    };
    let cors = cors_layer(&settings.cors_origins);
    let limits = rate_limit::Limits {
        limiter: Arc::new(rate_limit::RateLimiter::default()),
        per_ip: rate_limit::Quota {
            per_minute: settings.per_ip_per_minute,
            burst: settings.per_ip_burst,
        },
        per_credential: rate_limit::Quota {
            per_minute: settings.per_key_per_minute,
            burst: settings.per_key_burst,
        },
        sign_in: rate_limit::Quota {
            per_minute: settings.sign_in_per_minute,
            burst: settings.sign_in_burst,
        },
        tiers: state.rate_tiers.clone(),
        trusted_proxies: state.trusted_proxies.clone(),
        tokens: state.tokens.clone(),
    };
    let body_limit = settings.max_body_kb.max(1) * 1024;
    let (routes, widget, document) =
        openapi::routes_and_document(settings.max_upload_mb.max(1) * 1024 * 1024);
    // The widget's public routes answer pages on each brand's own origins, so they keep
    // their own CORS rules instead of the server-wide list.
    let widget = widget
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(DefaultBodyLimit::max(body_limit));
    routes
        .merge(openapi::document_routes(document))
        .route("/metrics", axum::routing::get(metrics::metrics))
        .merge(extra)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(cors)
        .merge(widget)
        .layer(axum::middleware::from_fn_with_state(
            limits,
            rate_limit::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            context,
            middleware::request_context,
        ))
        .with_state(state)
}

/// Cross-origin access for the exact origins configured, none by default. Credentials are
/// never allowed: the API authenticates with keys in headers, not cookies.
fn cors_layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static(auth::WORKSPACE_HEADER),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// Serves until `shutdown` completes, then stops accepting connections and waits for the
/// requests in flight to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
