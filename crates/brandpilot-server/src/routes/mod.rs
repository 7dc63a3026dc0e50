//! The API's routes, one module per resource. Each handler is registered through
//! `utoipa_axum::routes!`, so the router and the OpenAPI document come from one declaration
//! and cannot drift apart.

pub(crate) mod accounts;
pub(crate) mod assistant;
pub(crate) mod brands;
pub(crate) mod experiments;
pub(crate) mod health;
pub(crate) mod jobs;
pub(crate) mod keys;
pub(crate) mod members;
pub(crate) mod openai;
pub(crate) mod search;
pub(crate) mod sources;
pub(crate) mod studio;
pub(crate) mod tickets;
pub(crate) mod uploads;
pub(crate) mod usage;
pub(crate) mod webhooks;
pub(crate) mod widget;

use crate::ServerState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The routes that write with a model and may take minutes (with the local model on a
/// small machine): they get `server.generation_timeout_secs` instead of the usual timeout.
pub(crate) const GENERATION_ROUTES: [(&str, &str); 2] = [
    ("POST", "/api/v1/brands/{brand_id}/studio/generations"),
    ("POST", "/api/v1/brands/{brand_id}/studio/reels"),
];

/// The largest body `POST …/studio/validate` and `PUT …/studio/variants/{id}` read.
const VARIANT_BODY_BYTES: usize = 16 * 1024 * 1024;

pub(crate) fn api(max_upload_bytes: usize) -> OpenApiRouter<ServerState> {
    // Uploads may be far larger than the JSON body limit every other route keeps.
    let uploads = OpenApiRouter::new()
        .routes(routes!(uploads::upload))
        .layer(axum::extract::DefaultBodyLimit::max(max_upload_bytes));
    // A variant may be many long fields (up to 60 of 20,000 characters); the app checks
    // each, so a long one is told which field is too long instead of a bare 413.
    let variants = OpenApiRouter::new()
        .routes(routes!(studio::validate_variant))
        .routes(routes!(
            studio::variants::get_variant,
            studio::variants::edit_variant
        ))
        .layer(axum::extract::DefaultBodyLimit::max(VARIANT_BODY_BYTES));
    OpenApiRouter::new()
        .merge(uploads)
        .merge(variants)
        .routes(routes!(accounts::sign_up))
        .routes(routes!(accounts::log_in))
        .routes(routes!(accounts::refresh))
        .routes(routes!(accounts::log_out))
        .routes(routes!(accounts::me))
        .routes(routes!(accounts::audit_trail))
        .routes(routes!(members::create_workspace))
        .routes(routes!(members::list_members))
        .routes(routes!(members::change_role, members::remove_member))
        .routes(routes!(members::invite, members::list_invitations))
        .routes(routes!(members::revoke_invitation))
        .routes(routes!(members::accept_invitation))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(keys::revoke_key))
        .routes(routes!(usage::usage))
        .routes(routes!(usage::credits))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::job_events))
        .routes(routes!(brands::list_brands, brands::create_brand))
        .routes(routes!(brands::get_brand, brands::delete_brand))
        .routes(routes!(uploads::add_url))
        .routes(routes!(sources::list_sources))
        .routes(routes!(sources::delete_source))
        .routes(routes!(search::search))
        .routes(routes!(assistant::get_profile, assistant::put_profile))
        .routes(routes!(widget::get_widget, widget::put_widget))
        .routes(routes!(assistant::chat))
        .routes(routes!(assistant::list_conversations))
        .routes(routes!(assistant::get_conversation))
        .routes(routes!(assistant::rate_message))
        .routes(routes!(assistant::put_customer, assistant::delete_customer))
        .routes(routes!(tickets::list_tickets))
        .routes(routes!(tickets::get_ticket, tickets::change_ticket))
        .routes(routes!(tickets::reply_to_ticket))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(webhooks::delete_webhook))
        .routes(routes!(studio::get_rules, studio::put_rules))
        .routes(routes!(studio::list_sectors))
        .routes(routes!(studio::list_hook_types))
        .routes(routes!(studio::seo_metadata))
        .routes(routes!(
            studio::generations::list_generations,
            studio::generations::generate_copy
        ))
        .routes(routes!(studio::generations::get_generation))
        .routes(routes!(studio::generations::generate_reel))
        .routes(routes!(studio::batch::create_batch))
        .routes(routes!(studio::batch::get_batch))
        .routes(routes!(studio::variants::rate_variant))
        .routes(routes!(studio::variants::review_variant))
        .routes(routes!(studio::variants::give_verdict))
        .routes(routes!(studio::variants::record_performance))
        .routes(routes!(
            studio::examples::list_examples,
            studio::examples::add_example
        ))
        .routes(routes!(
            studio::examples::get_example,
            studio::examples::update_example,
            studio::examples::delete_example
        ))
        .routes(routes!(studio::examples::promote_variant))
        .routes(routes!(
            studio::examples::get_voice,
            studio::examples::put_voice
        ))
        .routes(routes!(studio::examples::learn_voice))
        .routes(routes!(
            experiments::list_experiments,
            experiments::create_experiment
        ))
        .routes(routes!(experiments::get_experiment))
        .routes(routes!(experiments::assign_arm))
        .routes(routes!(experiments::record_event))
        .routes(routes!(experiments::stop_experiment))
        .routes(routes!(openai::chat_completions))
        .routes(routes!(openai::list_models))
}
