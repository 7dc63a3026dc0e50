//! Test helpers shared by the crates' integration tests: in-process HTTP servers that speak
//! the real wire protocol of third-party services we cannot reach from tests, so that the
//! real client code is what gets tested; a PostgreSQL server and fresh databases of both
//! store backends, with [`backend_tests!`] to run a test on each. Never a dependency of
//! shipped code, and never of the store itself (the macro is textual).

pub mod anthropic_server;
mod backends;
mod chat_script;
pub mod embedding_server;
pub mod openai_chat_server;
pub mod otlp_collector;
pub mod postgres;
pub mod transcription_server;

pub use backends::{TestDatabase, on_postgres};
pub use chat_script::{BodySplit, ChatReply, RecordedRequest, TextReply};
