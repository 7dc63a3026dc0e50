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
pub mod middleware;
pub mod openapi;
mod routes;

pub use error::{ApiError, ErrorResponse};
pub use routes::brands::{BrandList, BrandView};
pub use routes::health::{Health, Readiness};
pub use routes::search::{PassageView, SearchResponse};
pub use routes::sources::{SourceList, SourceView};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use brandpilot_app::{Admin, Brandpilot};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;

/// Routes mounted beside the API with the same layers (tests mount probes here).
pub type ExtraRoutes = Router<ServerState>;

/// What every handler can reach.
#[derive(Clone)]
pub struct ServerState {
    pub app: Arc<Brandpilot>,
    pub admin: Admin,
}

impl ServerState {
    pub fn new(app: Arc<Brandpilot>) -> Self {
        let admin = app.admin();
        Self { app, admin }
    }
}

/// The whole service: API routes, health probes, the OpenAPI document and its docs page,
/// wrapped in the request-context, body-limit and panic layers. `extra` routes (tests mount
/// probes here) get the same layers.
pub fn build_router(state: ServerState, extra: Router<ServerState>) -> Router {
    let settings = &state.app.settings.server;
    let context = middleware::ContextConfig {
        timeout: Duration::from_secs(settings.request_timeout_secs.max(1)),
    };
    let body_limit = settings.max_body_kb.max(1) * 1024;
    let (routes, document) = openapi::routes_and_document();
    routes
        .merge(openapi::document_routes(document))
        .merge(extra)
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            context,
            middleware::request_context,
        ))
        .with_state(state)
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
