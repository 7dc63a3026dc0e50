//! The HTTP API as a client meets it, over real sockets: one test binary, one server per
//! test (random port, own data directory, the hashing embedder).

mod helpers;

mod accounts;
mod assistant;
mod auth;
mod batches;
mod brands;
mod browser;
mod errors;
mod examples;
mod generations;
mod headers;
mod health;
mod limits;
mod members;
mod memory;
mod metrics;
mod openapi;
mod search;
mod shutdown;
mod studio;
mod tenancy;
mod uploads;
mod usage;
mod variants;
mod web_sources;
mod webhooks;
mod widget;
