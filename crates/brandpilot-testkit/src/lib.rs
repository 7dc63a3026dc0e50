//! Test helpers shared by the crates' integration tests: in-process HTTP servers that speak
//! the real wire protocol of third-party services we cannot reach from tests, so that the
//! real client code is what gets tested. Never a dependency of shipped code.

pub mod embedding_server;
pub mod transcription_server;
