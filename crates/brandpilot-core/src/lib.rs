//! Domain types shared by every Brandpilot crate.
//!
//! This crate names the things the product talks about — workspaces, brands, sources, chunks
//! and their locators, search requests and the passages they return — and nothing else. It
//! must never do IO or depend on a storage, HTTP or model crate: every other crate depends on
//! it, so anything added here is compiled by all of them.

mod error;
mod hash;
mod ids;
mod locator;
mod search;
mod source;

pub use error::{Fault, FaultKind};
pub use hash::ContentHash;
pub use ids::{
    BrandId, ChunkId, ConversationId, ExampleId, ExperimentId, GenerationId, JobId, MessageId,
    SourceId, TicketId, UserId, VariantId, WebhookId, WorkspaceId,
};
pub use locator::ChunkLocator;
pub use search::{Passage, SearchFilter, SearchMode, SearchRequest};
pub use source::{SourceKind, SourceStatus, UnknownVariant};
