//! The customer assistant: a grounded chat turn over a brand's knowledge base, the brand's
//! profile, conversations with memory, feedback, customer records and tickets.
//!
//! `turn.rs` runs one turn (screen → route → standalone query → retrieve → answer → verify
//! → confidence → escalate → store), each step recorded in the turn's trace; the decisions
//! themselves are pure functions in `brandpilot-assistant`. `sources.rs` gathers the
//! evidence (searches, the customer's record); `draft.rs` makes the answer's text and relays
//! it to streaming callers. `records.rs` holds the rest:
//! profiles, conversations, feedback, customer records and tickets, each scoped to a brand
//! the caller has already resolved inside their workspace.

mod draft;
mod records;
mod sources;
pub(crate) mod summary;
mod turn;

pub use records::{ConversationRecordView, ConversationView, MessageView, TicketChange};
pub use turn::{ChatTurn, Citation, EndUser, TurnEvent, TurnInput};
