//! The customer assistant: a grounded chat turn over a brand's knowledge base, the brand's
//! profile, conversations with memory, feedback, customer records and tickets.
//!
//! `turn.rs` runs one turn (screen → route → standalone query → retrieve → answer → verify
//! → confidence → escalate → store), each step recorded in the turn's trace; the decisions
//! themselves are pure functions in `brandpilot-assistant`. `records.rs` holds the rest:
//! profiles, conversations, feedback, customer records and tickets, each scoped to a brand
//! the caller has already resolved inside their workspace.

mod records;
mod turn;

pub use records::{ConversationView, MessageView, TicketChange};
pub use turn::{ChatTurn, Citation, EndUser, TurnEvent, TurnInput};
