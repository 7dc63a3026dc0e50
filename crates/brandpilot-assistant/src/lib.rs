//! The reasoning of a grounded chat turn that needs no IO: screening a message for prompt
//! injection, routing it to a specialist, making a follow-up standalone, choosing the
//! retrieved sentences that answer it (the extractive answer), verifying an answer's
//! citations, scoring confidence, reading sentiment and language, keeping memory within a
//! token budget, and building the prompts of a generative answer.
//!
//! Everything here is a pure function of its inputs, so every decision of a turn can be
//! tested exhaustively and replayed from its trace. The orchestration — retrieval, model
//! calls, storage, tickets — lives in `brandpilot-app`; this crate must never do IO or know
//! about stores, models or HTTP.

pub mod confidence;
pub mod evidence;
pub mod extractive;
pub mod language;
pub mod memory;
pub mod profile;
pub mod prompt;
pub mod rewrite;
pub mod route;
pub mod screen;
pub mod sentiment;
pub mod text;
pub mod trace;
pub mod verify;
