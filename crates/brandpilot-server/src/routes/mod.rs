//! The API's routes, one module per resource. Each handler is registered through
//! `utoipa_axum::routes!`, so the router and the OpenAPI document come from one declaration
//! and cannot drift apart.

pub(crate) mod brands;
pub(crate) mod health;
pub(crate) mod search;
pub(crate) mod sources;

use crate::ServerState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn api() -> OpenApiRouter<ServerState> {
    OpenApiRouter::new()
        .routes(routes!(brands::list_brands, brands::create_brand))
        .routes(routes!(brands::get_brand, brands::delete_brand))
        .routes(routes!(sources::list_sources))
        .routes(routes!(sources::delete_source))
        .routes(routes!(search::search))
}
