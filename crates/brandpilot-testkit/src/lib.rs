//! Test helpers shared by the crates' integration tests: in-process HTTP servers that speak
//! the real wire protocol of third-party services we cannot reach from tests, so that the
//! real client code is what gets tested. Never a dependency of shipped code.

pub mod anthropic_server;
mod chat_script;
pub mod embedding_server;
pub mod openai_chat_server;
pub mod transcription_server;

pub use chat_script::{BodySplit, ChatReply, RecordedRequest, TextReply};
