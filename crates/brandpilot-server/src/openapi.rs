//! The OpenAPI 3.1 document, generated from the handlers' annotations, served at
//! `/api/v1/openapi.json`, with a docs page at `/api/v1/docs` that renders it and lets a
//! person try each operation with their key.
//!
//! Every operation states the scope it needs as the scope list of its `api_key` security
//! requirement (OpenAPI 3.1 allows role names there for non-OAuth schemes).

use crate::ServerState;
use crate::error::{ErrorDetail, ErrorResponse};
use crate::routes::{self, health};
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Brandpilot API",
        description = "Brands, their sources and search with citations. Authenticate with an \
            API key as `Authorization: Bearer <key>` (or `X-Api-Key: <key>`), or as a \
            signed-in person with the access token from `POST /api/v1/auth/login` as \
            `Authorization: Bearer <token>` (acting in the workspace named by `X-Workspace-Id`, \
            else your first). Each operation names the permission it needs: a key must hold \
            it as a scope; a person's role grants it (viewer: reading and search; editor: \
            also writing and making API keys; owner: also members and the audit trail). Every error has the body \
            `{\"error\":{\"code\",\"message\",\"request_id\"}}`.",
    ),
    modifiers(&ApiKeyScheme),
    components(schemas(ErrorResponse, ErrorDetail)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "accounts", description = "Sign-up, sign-in sessions and the audit trail"),
        (name = "workspaces", description = "Workspaces, their members, invitations and API keys"),
        (name = "brands", description = "Brands of the caller's workspace"),
        (name = "sources", description = "What a brand's knowledge base was built from"),
        (name = "search", description = "Passages with citations"),
        (name = "assistant", description = "The brand's assistant: profile, chat, conversations, feedback, customer records"),
        (name = "tickets", description = "Questions handed over to a person"),
        (name = "jobs", description = "Background work such as ingesting uploads"),
        (name = "studio", description = "Brand rules, validation and model-free repair of variants, SEO metadata, reel catalogs and A/B experiments"),
        (name = "widget", description = "What the website widget calls from a brand's pages: by the widget's public key, from an allowed Origin, as an anonymous visitor"),
    )
)]
struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // The widget's anonymous visitor session (`POST /api/v1/widget/sessions`).
        components.add_security_scheme(
            "visitor",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The routes and the document they produce.
/// The API's routes, the widget's public routes (kept apart: they answer the brand's
/// origins, not the server's CORS list) and the one document describing both.
pub(crate) fn routes_and_document(
    max_upload_bytes: usize,
) -> (Router<ServerState>, Router<ServerState>, Document) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .merge(routes::api(max_upload_bytes))
        .split_for_parts();
    let (widget, widget_document) = routes::widget::public_routes().split_for_parts();
    document.merge(widget_document);
    declare_shared_responses(&mut document);
    (router, widget, document)
}

/// Responses any authenticated operation can give, whatever its handler does: they come
/// from the layers around every handler (rate limit, panic guard, deadline), so they are
/// declared here once rather than on each handler.
fn declare_shared_responses(document: &mut Document) {
    let error = |description: &str| {
        utoipa::openapi::ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name(
                        "ErrorResponse",
                    )))
                    .build(),
            )
            .build()
    };
    let shared = [
        (
            "429",
            "Rate limited; see Retry-After and the RateLimit-* headers",
        ),
        (
            "500",
            "The server failed; the error was logged with the request id",
        ),
        (
            "503",
            "Busy, timed out or a dependency is unavailable; retry after Retry-After",
        ),
    ];
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            if operation.security.is_none() {
                continue;
            }
            for (status, description) in shared {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description).into());
            }
        }
    }
}

/// The document as the server serves it (tests compare it with the committed copy).
pub fn document() -> Document {
    routes_and_document(0).2
}

pub(crate) fn document_routes(document: Document) -> Router<ServerState> {
    let json: Arc<str> = document
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
        .into();
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_string(),
                    )
                }
            }),
        )
        .route("/api/v1/docs", get(docs_page))
}

async fn docs_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                 connect-src 'self'; frame-ancestors 'none'",
            ),
        ],
        DOCS_PAGE,
    )
}

const DOCS_PAGE: &str = include_str!("docs_page.html");
