//! The website widget: its settings for the brand's team (`/brands/{id}/widget`, in the
//! OpenAPI document), and the public routes a page calls (`/widget.js` and
//! `/api/v1/widget/…`), which answer only pages on the brand's allowed origins.
//!
//! The public routes authenticate nobody: a page names the brand by the widget's public key
//! and the browser names the page by `Origin`. Each answer to an allowed origin carries that
//! origin in `Access-Control-Allow-Origin` (never `*`, never credentials); a refused one
//! carries none, so the browser does not hand it to the page either. A visitor starts a
//! session (a signed token, see `visitors.rs`) and sends it with each message; visitors are
//! limited per visitor, sessions per address, and a visitor sees only their own
//! conversation.

use crate::auth::Caller;
use crate::error::ErrorResponse;
use crate::extract::{ApiJson, ApiPath};
use crate::rate_limit::{LimitKey, Quota, client_ip};
use crate::visitors::Visitor;
use crate::{ApiError, ServerState};
use axum::Json;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use brandpilot_app::Scope;
use brandpilot_app::assistant::{EndUser, TurnInput};
use brandpilot_app::widget::{PageWidget, WidgetChange, WidgetConfig, WidgetTheme};
use brandpilot_assistant::language::{Language, phrases};
use brandpilot_core::{BrandId, ConversationId};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

/// The script pages embed.
const WIDGET_JS: &str = include_str!("../widget.js");

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThemeBody {
    /// `#rrggbb`.
    #[serde(default)]
    pub accent_color: Option<String>,
    #[serde(default)]
    pub accent_text_color: Option<String>,
    #[serde(default)]
    pub background_color: Option<String>,
    #[serde(default)]
    pub text_color: Option<String>,
    /// `right` (default) or `left`.
    #[serde(default)]
    pub position: Option<String>,
    /// The panel's heading (the brand's name when empty), at most 60 characters.
    #[serde(default)]
    pub title: Option<String>,
}

impl From<ThemeBody> for WidgetTheme {
    fn from(body: ThemeBody) -> Self {
        let defaults = WidgetTheme::default();
        Self {
            accent_color: body.accent_color.unwrap_or(defaults.accent_color),
            accent_text_color: body.accent_text_color.unwrap_or(defaults.accent_text_color),
            background_color: body.background_color.unwrap_or(defaults.background_color),
            text_color: body.text_color.unwrap_or(defaults.text_color),
            position: body.position.unwrap_or(defaults.position),
            title: body.title.unwrap_or(defaults.title),
        }
    }
}

impl From<WidgetTheme> for ThemeBody {
    fn from(theme: WidgetTheme) -> Self {
        Self {
            accent_color: Some(theme.accent_color),
            accent_text_color: Some(theme.accent_text_color),
            background_color: Some(theme.background_color),
            text_color: Some(theme.text_color),
            position: Some(theme.position),
            title: Some(theme.title),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetBody {
    /// Whether the widget answers (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The web origins whose pages may use the widget, exactly: `https://shop.example`,
    /// `http://localhost:3000`. No paths, no wildcards; at most 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub allowed_origins: Vec<String>,
    #[serde(default, deserialize_with = "crate::extract::objects::optional")]
    pub theme: Option<ThemeBody>,
    /// Make a new public key: pages with the old one stop working.
    #[serde(default)]
    pub rotate_key: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetOut {
    /// Not a secret: it is in every page that embeds the widget.
    pub public_key: String,
    pub allowed_origins: Vec<String>,
    pub theme: ThemeBody,
    pub enabled: bool,
    /// What to paste into the brand's pages (with this server's address).
    pub snippet: String,
}

fn widget_out(config: WidgetConfig, headers: &HeaderMap) -> WidgetOut {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost:8080");
    WidgetOut {
        snippet: format!(
            "<script src=\"http://{host}/widget.js\" data-brandpilot-key=\"{}\" async></script>",
            config.public_key
        ),
        public_key: config.public_key,
        allowed_origins: config.allowed_origins,
        theme: config.theme.into(),
        enabled: config.enabled,
    }
}

/// The brand's website widget.
#[utoipa::path(get, path = "/api/v1/brands/{brand_id}/widget", tag = "assistant",
    security(("api_key" = ["brands:read"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    responses(
        (status = 200, body = WidgetOut),
        (status = 401, body = ErrorResponse), (status = 403, body = ErrorResponse),
        (status = 404, description = "No such brand, or it has no widget yet", body = ErrorResponse),
    ))]
pub(crate) async fn get_widget(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(brand_id): ApiPath<i64>,
) -> Result<Json<WidgetOut>, ApiError> {
    caller.require(Scope::BrandsRead)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    Ok(Json(widget_out(state.app.widget(&brand).await?, &headers)))
}

/// Creates or changes the brand's website widget: where it may run and how it looks. The
/// first save makes its public key.
#[utoipa::path(put, path = "/api/v1/brands/{brand_id}/widget", tag = "assistant",
    security(("api_key" = ["brands:write"])),
    params(("brand_id" = i64, Path, description = "The brand's id")),
    request_body = WidgetBody,
    responses(
        (status = 200, body = WidgetOut),
        (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
    ))]
pub(crate) async fn put_widget(
    State(state): State<ServerState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath(brand_id): ApiPath<i64>,
    ApiJson(body): ApiJson<WidgetBody>,
) -> Result<Json<WidgetOut>, ApiError> {
    caller.require(Scope::BrandsWrite)?;
    let brand = state
        .app
        .brand_by_id(caller.workspace, BrandId(brand_id))
        .await?;
    let change = WidgetChange {
        enabled: body.enabled.unwrap_or(true),
        allowed_origins: body.allowed_origins,
        theme: body.theme.map(Into::into).unwrap_or_default(),
        rotate_key: body.rotate_key,
    };
    let config = state.app.put_widget(&brand, change).await?;
    Ok(Json(widget_out(config, &headers)))
}

/// The routes pages call, with their part of the OpenAPI document: they sit outside the
/// server-wide CORS layer (each answers its brand's origins), and their preflights and the
/// script itself are not API operations.
pub(crate) fn public_routes() -> utoipa_axum::router::OpenApiRouter<ServerState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(config))
        .routes(routes!(start_session))
        .routes(routes!(chat))
        .routes(routes!(conversation))
        .route("/widget.js", get(script))
        .route("/api/v1/widget/config", axum::routing::options(preflight))
        .route("/api/v1/widget/sessions", axum::routing::options(preflight))
        .route("/api/v1/widget/chat", axum::routing::options(preflight))
        .route(
            "/api/v1/widget/conversations/{conversation_id}",
            axum::routing::options(preflight),
        )
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            // Pages on other origins load it with a script tag.
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// A preflight grants nothing by itself (each real request is checked against the brand's
/// origins), so it answers any origin that asks for what the widget sends.
async fn preflight(headers: HeaderMap) -> Response {
    let Some(origin) = headers.get(header::ORIGIN).cloned() else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    out.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    out.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    out.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    out.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// The answer, readable by the page at `origin` only.
fn for_origin(origin: &str, mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(origin) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-request-id"),
        );
    }
    response
}

/// The page's widget, or the refusal.
async fn page_widget(
    state: &ServerState,
    key: &str,
    headers: &HeaderMap,
) -> Result<PageWidget, ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    Ok(state.app.widget_for_page(key, origin).await?)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KeyQuery {
    /// The widget's public key (`bpw_…`), from the script tag.
    key: String,
}

/// What the widget shows before the first message.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageConfig {
    brand: String,
    title: String,
    greeting: String,
    theme: ThemeBody,
}

/// The page's widget settings: title, greeting and colours.
#[utoipa::path(get, path = "/api/v1/widget/config", tag = "widget",
    params(KeyQuery, OriginHeader),
    responses(
        (status = 200, description = "The widget's look", body = PageConfig),
        (status = 400, body = ErrorResponse),
        (status = 403, description = "The page's origin is not on the brand's list", body = ErrorResponse),
        (status = 404, description = "No widget has this key, or it is turned off", body = ErrorResponse),
        (status = 429, body = ErrorResponse),
    ))]
async fn config(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Query(query): Query<KeyQuery>,
) -> Result<Response, ApiError> {
    let page = page_widget(&state, &query.key, &headers).await?;
    let profile = state.app.brand_profile(&page.brand).await?;
    let greeting = if profile.greeting.trim().is_empty() {
        phrases(Language::En).greeting.to_owned()
    } else {
        profile.greeting
    };
    let title = if page.config.theme.title.is_empty() {
        page.brand.name.clone()
    } else {
        page.config.theme.title.clone()
    };
    let body = PageConfig {
        brand: page.brand.name.clone(),
        title,
        greeting,
        theme: page.config.theme.into(),
    };
    Ok(for_origin(&page.origin, Json(body).into_response()))
}

/// The page's origin, which must be on the brand's list (browsers send it).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct OriginHeader {
    /// `https://shop.example`: the page the widget runs on.
    #[serde(rename = "Origin")]
    #[param(rename = "Origin")]
    origin: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    /// The widget's public key.
    key: String,
}

/// An anonymous visitor's session: send `token` as `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    token: String,
    visitor_id: String,
    /// Unix seconds.
    expires_at: i64,
}

/// Starts an anonymous visitor's session (limited per client address).
#[utoipa::path(post, path = "/api/v1/widget/sessions", tag = "widget",
    params(OriginHeader),
    request_body = SessionBody,
    responses(
        (status = 201, description = "The visitor's session", body = SessionOut),
        (status = 400, body = ErrorResponse),
        (status = 403, description = "The page's origin is not on the brand's list", body = ErrorResponse),
        (status = 404, description = "No widget has this key, or it is turned off", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 429, body = ErrorResponse),
    ))]
async fn start_session(
    State(state): State<ServerState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SessionBody>,
) -> Result<Response, ApiError> {
    let page = page_widget(&state, &body.key, &headers).await?;
    let settings = &state.app.settings.widget;
    let ip = client_ip(peer.ip(), &headers, &state.trusted_proxies);
    let quota = Quota {
        per_minute: settings.sessions_per_ip_per_minute,
        burst: settings.sessions_per_ip_per_minute,
    };
    limited(&state, &LimitKey::WidgetSessions(ip), quota)?;
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|_| ApiError::internal())?;
    let visitor = Visitor {
        brand: page.brand.id.0,
        id: hex::encode(random),
        expires_at: now_secs() + i64::from(settings.session_days.max(1)) * 86_400,
    };
    let out = SessionOut {
        token: state.visitors.issue(&visitor),
        visitor_id: visitor.id,
        expires_at: visitor.expires_at,
    };
    Ok(for_origin(
        &page.origin,
        (StatusCode::CREATED, Json(out)).into_response(),
    ))
}

/// Refuses with 429 when `key`'s bucket is empty (quota 0: unlimited).
fn limited(state: &ServerState, key: &LimitKey, quota: Quota) -> Result<(), ApiError> {
    if quota.per_minute == 0 {
        return Ok(());
    }
    let decision = state.widget_limits.check(key, quota);
    if decision.allowed {
        return Ok(());
    }
    Err(ApiError {
        retry_after_secs: Some(decision.retry_after.as_secs().max(1)),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many messages; wait a moment before sending another",
        )
    })
}

/// The visitor session token a request presents. Checked before anything else: a request
/// without one is 401 whatever its origin or key (the widget always sends one).
fn visitor_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthenticated("start a visitor session first"))
}

/// The visitor a request's bearer token names, for this brand.
fn visitor_of(
    state: &ServerState,
    headers: &HeaderMap,
    brand: BrandId,
) -> Result<Visitor, ApiError> {
    let token = visitor_token(headers)?;
    state
        .visitors
        .check(token.trim(), brand, now_secs())
        .ok_or_else(|| {
            ApiError::unauthenticated("the visitor session is not valid here, or has expired")
        })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetChat {
    /// The widget's public key.
    key: String,
    /// The visitor's message.
    message: String,
    /// Continue this conversation of the visitor's (from an earlier answer).
    #[serde(default)]
    conversation_id: Option<i64>,
}

/// A visitor's message; the answer streams back as server-sent events, as
/// `POST /api/v1/brands/{brand_id}/chat` with `stream` sends them.
#[utoipa::path(post, path = "/api/v1/widget/chat", tag = "widget",
    security(("visitor" = [])),
    params(OriginHeader),
    request_body = WidgetChat,
    responses(
        (status = 200, description = "The answer's events", body = super::assistant::AnswerEvent,
            content_type = "text/event-stream"),
        (status = 400, body = ErrorResponse),
        (status = 401, description = "No visitor session, or not this brand's", body = ErrorResponse),
        (status = 403, description = "The page's origin is not on the brand's list", body = ErrorResponse),
        (status = 404, description = "No such widget, or not the visitor's conversation", body = ErrorResponse),
        (status = 413, body = ErrorResponse), (status = 415, body = ErrorResponse),
        (status = 429, description = "Too many messages from this visitor", body = ErrorResponse),
    ))]
async fn chat(
    State(state): State<ServerState>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<WidgetChat>,
) -> Result<Response, ApiError> {
    visitor_token(&headers)?;
    let page = page_widget(&state, &body.key, &headers).await?;
    let origin = page.origin.clone();
    let outcome = async {
        let visitor = visitor_of(&state, &headers, page.brand.id)?;
        let settings = &state.app.settings.widget;
        let quota = Quota {
            per_minute: settings.visitor_per_minute,
            burst: settings.visitor_burst,
        };
        limited(
            &state,
            &LimitKey::Visitor(page.brand.id.0, visitor.id.clone()),
            quota,
        )?;
        let input = TurnInput {
            conversation: body.conversation_id.map(ConversationId),
            end_user: EndUser::Visitor(visitor.id),
            message: body.message,
            earlier_messages: Vec::new(),
        };
        super::assistant::answer(&state, page.brand, input, true, false).await
    }
    .await;
    // Refusals past the origin check are the page's to read (a 429 it should show).
    Ok(for_origin(
        &origin,
        outcome.unwrap_or_else(IntoResponse::into_response),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ConversationQuery {
    /// The widget's public key.
    key: String,
    /// Only messages after this one (for polling a person's reply).
    #[serde(default)]
    after: Option<i64>,
}

/// A visitor's conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConversation {
    conversation_id: i64,
    messages: Vec<super::assistant::MessageOut>,
}

/// The visitor's own conversation, or its messages after `after` (the widget polls it for
/// a person's reply).
#[utoipa::path(get, path = "/api/v1/widget/conversations/{conversation_id}", tag = "widget",
    security(("visitor" = [])),
    params(
        ("conversation_id" = i64, Path, description = "The conversation's id"),
        ConversationQuery, OriginHeader,
    ),
    responses(
        (status = 200, description = "The messages", body = WidgetConversation),
        (status = 400, body = ErrorResponse),
        (status = 401, description = "No visitor session, or not this brand's", body = ErrorResponse),
        (status = 403, description = "The page's origin is not on the brand's list", body = ErrorResponse),
        (status = 404, description = "No such widget, or not the visitor's conversation", body = ErrorResponse),
        (status = 429, body = ErrorResponse),
    ))]
async fn conversation(
    State(state): State<ServerState>,
    headers: HeaderMap,
    ApiPath(conversation_id): ApiPath<i64>,
    Query(query): Query<ConversationQuery>,
) -> Result<Response, ApiError> {
    visitor_token(&headers)?;
    let page = page_widget(&state, &query.key, &headers).await?;
    let origin = page.origin.clone();
    let outcome = async {
        let visitor = visitor_of(&state, &headers, page.brand.id)?;
        let end_user = EndUser::Visitor(visitor.id);
        let view = state
            .app
            .conversation(
                &page.brand,
                ConversationId(conversation_id),
                Some(&end_user),
                false,
            )
            .await?;
        let messages: Vec<super::assistant::MessageOut> = view
            .messages
            .into_iter()
            .filter(|m| query.after.is_none_or(|after| m.id.0 > after))
            .map(Into::into)
            .collect();
        Ok::<_, ApiError>(
            Json(WidgetConversation {
                conversation_id,
                messages,
            })
            .into_response(),
        )
    }
    .await;
    Ok(for_origin(
        &origin,
        outcome.unwrap_or_else(IntoResponse::into_response),
    ))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
